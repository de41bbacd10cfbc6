//! The reference server's 43 tools (`reference_tools.txt`) and the one way `tools/list` is
//! measured. Shared by this crate's tests (`support::tools_list`) and the benchmark of
//! `opnsense-mcp` (`examples/bench`, which includes this file by path), so the size test and the
//! benchmark count the same bytes of the same tools by the same rules.

use serde_json::{Value, json};

/// One of the reference server's tools.
#[derive(Debug, Clone)]
pub struct ReferenceTool {
    /// Its name.
    pub name: &'static str,
    /// Whether it changes the firewall.
    pub mutating: bool,
    /// Its top-level argument names.
    pub args: Vec<&'static str>,
}

/// The reference server's 43 tools, in its order.
pub fn reference_tools() -> Vec<ReferenceTool> {
    include_str!("reference_tools.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next().unwrap_or_default();
            let mutating = match words.next() {
                Some("write") => true,
                Some("read") => false,
                other => panic!("reference_tools.txt, {name}: {other:?} is not `read` or `write`"),
            };
            ReferenceTool {
                name,
                mutating,
                args: words.collect(),
            }
        })
        .collect()
}

/// Whether `tool` (a tool object of `tools/list`) is one of `reference`'s.
pub fn is_reference(tool: &Value, reference: &[ReferenceTool]) -> bool {
    tool["name"]
        .as_str()
        .is_some_and(|n| reference.iter().any(|r| r.name == n))
}

/// Sizes of a set of tools, in bytes of compact JSON.
#[derive(Debug, Default)]
pub struct Sizes {
    /// How many tools.
    pub tools: usize,
    /// The `tools/list` result, as a client receives it: `{"tools": [...]}`.
    pub full: usize,
    /// What an LLM reads of each tool: name, description and input schema (clients hand output
    /// schemas and annotations to programs, not to the model).
    pub llm: usize,
    /// The descriptions (JSON strings).
    pub descriptions: usize,
    /// The input schemas.
    pub input: usize,
    /// The output schemas.
    pub output: usize,
    /// The annotations.
    pub annotations: usize,
}

fn bytes(v: &impl serde::Serialize) -> usize {
    serde_json::to_vec(v).map_or(0, |b| b.len())
}

impl Sizes {
    /// Measures `tools`, each a tool object as `tools/list` serves it.
    pub fn of(tools: &[&Value]) -> Self {
        let mut s = Self {
            tools: tools.len(),
            full: bytes(&json!({ "tools": tools })),
            ..Self::default()
        };
        let part = |t: &Value, key: &str| t.get(key).map_or(0, bytes);
        for t in tools {
            s.llm += bytes(&json!({
                "name": t["name"],
                "description": t["description"],
                "inputSchema": t["inputSchema"],
            }));
            s.descriptions += part(t, "description");
            s.input += part(t, "inputSchema");
            s.output += part(t, "outputSchema");
            s.annotations += part(t, "annotations");
        }
        s
    }
}

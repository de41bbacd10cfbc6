//! What `tools/list` costs, in bytes of compact JSON and in tokens (bytes / 4), for every tool
//! and for the reference server's 43: the whole result as a client receives it, and the part
//! an LLM reads of each tool (name, description, `inputSchema`; clients hand output schemas
//! and annotations to programs, not to the model). Printed for the README's Performance
//! section, and held to budgets (sizes are deterministic, so a budget is a fair assertion).

mod support;

use opnsense_mcp_tools::ToolOptions;
use serde_json::Value;
use support::listed;
use support::tools_list::{Sizes, is_reference, reference_tools};

fn kb(n: usize) -> String {
    #[allow(clippy::cast_precision_loss)] // sizes are far below 2^52
    let k = n as f64 / 1024.0;
    format!("{n} B = {k:.1} KB ({} tokens)", n / 4)
}

#[tokio::test]
async fn tools_list_size_is_printed_and_within_budget() {
    let with_schemas = ToolOptions {
        output_schemas: true,
        ..ToolOptions::default()
    };
    let names = reference_tools();
    let mut sizes = Vec::new();
    let mut all = Vec::new();
    for (label, options) in [
        ("default", ToolOptions::default()),
        ("output_schemas = true", with_schemas),
    ] {
        all = listed(options).await;
        let every: Vec<&Value> = all.iter().collect();
        let reference: Vec<&Value> = all.iter().filter(|t| is_reference(t, &names)).collect();
        assert_eq!(reference.len(), 43, "every reference tool is offered");
        let (e, r) = (Sizes::of(&every), Sizes::of(&reference));
        for (set, m) in [("every tool", &e), ("the 43 reference tools", &r)] {
            println!(
                "tools/list ({label}), {set} ({}): full {}; LLM-visible (name + description + \
                 inputSchema) {}; descriptions {}, inputSchema {}, outputSchema {}, annotations {}",
                m.tools,
                kb(m.full),
                kb(m.llm),
                kb(m.descriptions),
                kb(m.input),
                kb(m.output),
                kb(m.annotations),
            );
        }
        sizes.push((e, r));
    }
    let [(e, r), (e_schemas, r_schemas)] = <[_; 2]>::try_from(sizes).expect("two listings");
    assert_eq!(
        e.llm, e_schemas.llm,
        "output schemas change only themselves"
    );
    assert_eq!(r.output, 0, "no output schema by default");
    // Budgets: issue 13's targets, 32 KB for what an LLM reads of the reference tools and 64 KB
    // for the whole default listing of every tool, are met; the rest may not grow past today's
    // figures (a growth shows up here and in the snapshot).
    assert!(e.full <= 64 * 1024, "every tool, full: {}", e.full);
    assert!(
        r.llm <= LLM_REFERENCE,
        "reference tools, LLM-visible: {}",
        r.llm
    );
    assert!(e.llm <= LLM_EVERY, "every tool, LLM-visible: {}", e.llm);
    assert!(
        r.full <= FULL_REFERENCE,
        "reference tools, full: {}",
        r.full
    );
    assert!(
        r_schemas.full <= FULL_REFERENCE_SCHEMAS,
        "reference tools with output schemas, full: {}",
        r_schemas.full
    );
    assert!(
        e_schemas.full <= FULL_EVERY_SCHEMAS,
        "every tool with output schemas, full: {}",
        e_schemas.full
    );
    // No tool carries a field set to `null` at its top level (an unset one is left out).
    for t in &all {
        let nulls: Vec<&String> = t
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, x)| x.is_null())
                    .map(|(k, _)| k)
                    .collect()
            })
            .unwrap_or_default();
        assert!(nulls.is_empty(), "{}: {nulls:?} null", t["name"]);
    }
}

/// Name, description and input schema of the 43 reference tools, at most (bytes; 32,651
/// measured; issue 13's target is 32 KB).
const LLM_REFERENCE: usize = 32 * 1024;
/// Name, description and input schema of every tool, at most (bytes; 56,136 measured).
const LLM_EVERY: usize = 56_500;
/// The whole default `tools/list` result, 43 reference tools, at most (bytes; 37,559
/// measured).
const FULL_REFERENCE: usize = 38_000;
/// The whole `tools/list` result with output schemas, 43 reference tools, at most (bytes;
/// 63,407 measured).
const FULL_REFERENCE_SCHEMAS: usize = 64_000;
/// The whole `tools/list` result with output schemas, every tool, at most (bytes; 109,919
/// measured).
const FULL_EVERY_SCHEMAS: usize = 110_500;

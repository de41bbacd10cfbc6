//! Tidy: the layering and house rules of the workspace as tests (rust-analyzer style), run by
//! `cargo test -p xtask` and so by `cargo test --workspace`. Each failure names `file:line`
//! (or the manifest) and the rule.
//!
//! - Endpoint paths (`module/controller/action`) are written only in the SDK's `src`
//!   ([`endpoint_literals_live_in_the_sdk`]).
//! - `opnsense-api` depends on neither rmcp nor any crate of ours (dev-dependencies aside);
//!   `opnsense-sim` on no crate of ours; `opnsense-mcp-tools` never on `opnsense-sim`; and
//!   `opnsense-mcp` only behind its `simulator` feature, which the lean build leaves out
//!   ([`crate_layering`], [`the_simulator_is_behind_a_feature_of_the_binary`],
//!   [`the_lean_binary_has_no_simulator_in_its_tree`]).
//! - Every `.rs` file starts with a `//!` line ([`every_rust_file_starts_with_a_module_doc`]).
//! - No `unwrap()` / `expect(` in product code ([`no_unwrap_or_expect_in_product_code`]).
//!
//! cargo-deny (`deny.toml`, `bans.deny` with `wrappers`) holds the same layering for rmcp and
//! the simulator over the whole resolved graph, dev-dependencies included.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::endpoints;

/// The one place endpoint path literals belong: the SDK's sources.
const ENDPOINTS_HOME: &str = "crates/opnsense-api/src";

/// Source trees where endpoint literals are not product code: the simulator answers the
/// endpoints, and xtask inventories them. (Everything under `tests/`, `examples/` and
/// `#[cfg(test)]` items is exempt as test code.)
const ENDPOINT_EXEMPT: &[&str] = &[ENDPOINTS_HOME, "crates/opnsense-sim", "xtask"];

/// Product code for the `unwrap()`/`expect(` rule: the `src` of the shipped crates. The
/// simulator is not listed: it is test equipment, and it still takes its locks with
/// `.lock().expect(..)`.
const NO_PANIC_SOURCES: &[&str] = &[
    "crates/opnsense-api/src",
    "crates/opnsense-mcp-tools/src",
    "crates/opnsense-mcp/src",
];

/// The workspace root.
fn root() -> PathBuf {
    super::root()
}

/// Every `.rs` file under `dir`, skipping build output, VCS and dependency folders.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `path` relative to the workspace root, with `/` separators.
fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Test code by location: integration tests, examples, benches.
fn is_test_path(rel: &str) -> bool {
    rel.split('/')
        .any(|seg| matches!(seg, "tests" | "examples" | "benches"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fail_with(rule: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "tidy: {rule} ({} problem(s)):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

// ---- endpoint literals ------------------------------------------------------------------

/// Endpoint literals of one file that are product code (not in `#[cfg(test)]` items).
fn endpoint_problems(rel: &str, src: &str) -> Vec<String> {
    endpoints::scan(src)
        .into_iter()
        .filter(|l| !l.in_cfg_test)
        .map(|l| {
            format!(
                "{rel}:{}: endpoint literal \"{}\" outside {ENDPOINTS_HOME} (the SDK owns every path: add a request builder there)",
                l.line, l.text
            )
        })
        .collect()
}

#[test]
fn endpoint_literals_live_in_the_sdk() {
    let mut problems = Vec::new();
    for path in rust_files(&root()) {
        let rel = relative(&path);
        if is_test_path(&rel) || ENDPOINT_EXEMPT.iter().any(|e| rel.starts_with(e)) {
            continue;
        }
        problems.extend(endpoint_problems(&rel, &read(&path)));
    }
    fail_with("endpoint literals outside the SDK", &problems);
}

// ---- module docs ------------------------------------------------------------------------

fn module_doc_problem(rel: &str, src: &str) -> Option<String> {
    let first = src.lines().next().unwrap_or_default();
    (!first.starts_with("//!"))
        .then(|| format!("{rel}:1: the first line must be a `//!` module doc, found {first:?}"))
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let files = rust_files(&root());
    assert!(files.len() > 50, "only {} .rs files found", files.len());
    let problems: Vec<String> = files
        .iter()
        .filter_map(|p| module_doc_problem(&relative(p), &read(p)))
        .collect();
    fail_with("every .rs file starts with //!", &problems);
}

// ---- unwrap / expect --------------------------------------------------------------------

/// `src` with comments, string and char literals blanked (newlines kept, so byte offsets and
/// lines stay where they were): what is left is code.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && at(i + 1) == b'/' {
            let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
            blank(&mut out, i, end);
            i = end;
        } else if c == b'/' && at(i + 1) == b'*' {
            let j = endpoints::block_comment_end(b, i);
            blank(&mut out, i, j);
            i = j;
        } else if c == b'r'
            && (at(i + 1) == b'"' || at(i + 1) == b'#')
            && (i == 0
                || !is_ident(b[i - 1])
                || (b[i - 1] == b'b' && (i < 2 || !is_ident(b[i - 2]))))
        {
            let mut hashes = 0;
            while at(i + 1 + hashes) == b'#' {
                hashes += 1;
            }
            if at(i + 1 + hashes) != b'"' {
                i += 1;
                continue;
            }
            let mut j = i + 2 + hashes;
            while j < b.len() && !(b[j] == b'"' && (1..=hashes).all(|k| at(j + k) == b'#')) {
                j += 1;
            }
            let end = (j + 1 + hashes).min(b.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == b'\'' {
            // A char literal ('x', '\n', '"'), else a lifetime or label.
            let end = if at(i + 1) == b'\\' {
                // Skip the escaped character, so `'\''` ends at its last quote.
                src.get(i + 3..)
                    .and_then(|rest| rest.find('\''))
                    .map(|n| i + 3 + n + 1)
            } else {
                let len = src[i + 1..].chars().next().map_or(0, char::len_utf8);
                (at(i + 1 + len) == b'\'').then_some(i + 2 + len)
            };
            match end {
                Some(end) => {
                    blank(&mut out, i, end);
                    i = end;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Byte ranges of `#[cfg(test)]` items (or all of a `#![cfg(test)]` file), in code-only text.
fn cfg_test_ranges(code: &str) -> Vec<std::ops::Range<usize>> {
    let squeezed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if squeezed.contains("#![cfg(test)]") {
        return std::iter::once(0..code.len()).collect();
    }
    let b = code.as_bytes();
    let mut ranges = Vec::new();
    let mut from = 0;
    while let Some(found) = code[from..].find("#[cfg(test)]") {
        let start = from + found;
        let mut depth = 0usize;
        let mut end = b.len();
        for (k, &c) in b.iter().enumerate().skip(start + "#[cfg(test)]".len()) {
            match c {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' => depth = depth.saturating_sub(1),
                b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    end = k + 1;
                    break;
                }
                _ => {}
            }
        }
        ranges.push(start..end);
        from = end;
    }
    ranges
}

/// Each `.unwrap()` / `.expect(` (also `::unwrap)` paths) in product code of one file.
fn panic_problems(rel: &str, src: &str) -> Vec<String> {
    let code = code_only(src);
    let tests = cfg_test_ranges(&code);
    let b = code.as_bytes();
    let mut problems: Vec<(usize, String)> = Vec::new();
    for word in ["unwrap", "expect"] {
        let mut from = 0;
        while let Some(found) = code[from..].find(word) {
            let start = from + found;
            let end = start + word.len();
            from = end;
            let before_ok = start == 0 || !is_ident(b[start - 1]);
            let after_ok = b.get(end).is_none_or(|&c| !is_ident(c));
            if !(before_ok && after_ok) || tests.iter().any(|r| r.contains(&start)) {
                continue;
            }
            // A method call or a path to the method (`Option::unwrap`), not a definition.
            let prefix = code[..start].trim_end();
            let is_call = prefix.ends_with('.') || prefix.ends_with("::");
            if !is_call {
                continue;
            }
            let line = code[..start].matches('\n').count() + 1;
            problems.push((
                line,
                format!(
                    "{rel}:{line}: `{word}` in product code (return an error, or use `unwrap_or*`; tests may panic)"
                ),
            ));
        }
    }
    problems.sort();
    problems.into_iter().map(|(_, p)| p).collect()
}

#[test]
fn no_unwrap_or_expect_in_product_code() {
    let mut problems = Vec::new();
    let mut files = 0;
    for dir in NO_PANIC_SOURCES {
        for path in rust_files(&root().join(dir)) {
            files += 1;
            problems.extend(panic_problems(&relative(&path), &read(&path)));
        }
    }
    assert!(files > 20, "only {files} product files found");
    fail_with("no unwrap()/expect( in product code", &problems);
}

// ---- crate layering ---------------------------------------------------------------------

/// What `cargo <args>` prints at the workspace root (the test fails when it fails).
fn cargo_stdout(args: &[&str]) -> String {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("run cargo {}: {e}", args[0]));
    assert!(
        out.status.success(),
        "cargo {}: {}",
        args[0],
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn metadata() -> Value {
    let out = cargo_stdout(&["metadata", "--format-version", "1", "--no-deps"]);
    serde_json::from_str(&out).expect("cargo metadata JSON")
}

fn packages(meta: &Value) -> &[Value] {
    meta["packages"].as_array().map_or(&[], Vec::as_slice)
}

/// The manifest of `package`, relative to the root, for messages.
fn manifest_of(meta: &Value, package: &str) -> String {
    packages(meta)
        .iter()
        .find(|p| p["name"] == package)
        .and_then(|p| p["manifest_path"].as_str())
        .map_or_else(|| package.to_owned(), |m| relative(Path::new(m)))
}

/// `kind` of a dependency entry: `normal`, `dev` or `build`.
fn kind(dep: &Value) -> &str {
    dep["kind"].as_str().unwrap_or("normal")
}

/// Layering problems: (package, forbidden dependencies, whether dev-dependencies count, why).
fn layering_problems(meta: &Value) -> Vec<String> {
    let ours: Vec<&str> = packages(meta)
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    let rules: [(&str, Vec<&str>, bool, &str); 3] = [
        (
            "opnsense-api",
            ours.iter()
                .copied()
                .chain(["rmcp", "rmcp-macros"])
                .collect(),
            false,
            "the SDK knows nothing of MCP and of our other crates",
        ),
        (
            "opnsense-sim",
            ours.clone(),
            true,
            "the simulator depends on no crate of ours",
        ),
        (
            "opnsense-mcp-tools",
            vec!["opnsense-sim"],
            true,
            "the catalogue is tested against wiremock, never the simulator",
        ),
    ];
    let mut problems = Vec::new();
    for (package, forbidden, dev_counts, why) in &rules {
        let Some(p) = packages(meta).iter().find(|p| p["name"] == *package) else {
            problems.push(format!("package {package} not found"));
            continue;
        };
        for dep in p["dependencies"].as_array().into_iter().flatten() {
            let name = dep["name"].as_str().unwrap_or_default();
            let counted = *dev_counts || kind(dep) != "dev";
            if name != *package && counted && forbidden.contains(&name) {
                problems.push(format!(
                    "{}: {package} has a {} dependency on {name}: {why}",
                    manifest_of(meta, package),
                    kind(dep)
                ));
            }
        }
    }
    problems
}

#[test]
fn crate_layering() {
    fail_with("crate layering", &layering_problems(&metadata()));
}

/// The binary's `opnsense-sim` (normal) dependency is optional and enabled only by its
/// `simulator` feature, which is on by default.
fn simulator_gate_problems(meta: &Value) -> Vec<String> {
    let Some(p) = packages(meta).iter().find(|p| p["name"] == "opnsense-mcp") else {
        return vec!["package opnsense-mcp not found".into()];
    };
    let manifest = manifest_of(meta, "opnsense-mcp");
    let mut problems = Vec::new();
    for dep in p["dependencies"].as_array().into_iter().flatten() {
        if dep["name"] == "opnsense-sim" && kind(dep) != "dev" && dep["optional"] != true {
            problems.push(format!(
                "{manifest}: opnsense-sim is a non-optional {} dependency (it belongs behind the `simulator` feature)",
                kind(dep)
            ));
        }
    }
    let features = &p["features"];
    for (feature, enables) in features.as_object().into_iter().flatten() {
        let enables_sim = enables.as_array().into_iter().flatten().any(|e| {
            e.as_str()
                .is_some_and(|e| e == "dep:opnsense-sim" || e.starts_with("opnsense-sim/"))
        });
        if enables_sim && feature != "simulator" {
            problems.push(format!(
                "{manifest}: feature `{feature}` enables opnsense-sim (only `simulator` may)"
            ));
        }
    }
    let has = |feature: &str, item: &str| {
        features[feature]
            .as_array()
            .is_some_and(|v| v.iter().any(|e| e == item))
    };
    if !has("simulator", "dep:opnsense-sim") {
        problems.push(format!(
            "{manifest}: feature `simulator` must enable dep:opnsense-sim"
        ));
    }
    if !has("default", "simulator") {
        problems.push(format!(
            "{manifest}: `simulator` must be a default feature (`cargo run -p opnsense-mcp -- demo`)"
        ));
    }
    problems
}

#[test]
fn the_simulator_is_behind_a_feature_of_the_binary() {
    fail_with(
        "simulator feature gate",
        &simulator_gate_problems(&metadata()),
    );
}

/// Packages of `cargo tree -p opnsense-mcp --no-default-features -e normal` that the lean
/// binary must not contain.
const NOT_IN_THE_LEAN_BINARY: &[&str] = &["opnsense-sim", "rcgen"];

#[test]
fn the_lean_binary_has_no_simulator_in_its_tree() {
    let tree = cargo_stdout(&[
        "tree",
        "-p",
        "opnsense-mcp",
        "--no-default-features",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ]);
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        names.contains(&"opnsense-api"),
        "unexpected cargo tree output: {tree}"
    );
    let found: Vec<&&str> = NOT_IN_THE_LEAN_BINARY
        .iter()
        .filter(|n| names.contains(n))
        .collect();
    assert!(
        found.is_empty(),
        "tidy: crates/opnsense-mcp/Cargo.toml: the lean build (--no-default-features) still depends on {found:?}"
    );
}

// ---- the checkers catch what they are for -------------------------------------------------

#[test]
fn checkers_report_violations_with_file_and_line() {
    let src = "//! doc\nfn f() {\n    let p = \"firewall/filter/search_rule\";\n}\n#[cfg(test)]\nmod tests { const Q: &str = \"core/system/status\"; }\n";
    assert_eq!(
        endpoint_problems("crates/x/src/a.rs", src)
            .iter()
            .map(|p| p.split(' ').next().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["crates/x/src/a.rs:3:"]
    );

    assert!(module_doc_problem("a.rs", "//! ok\n").is_none());
    let p = module_doc_problem("crates/x/src/b.rs", "// plain\n//! late\n").expect("flagged");
    assert!(p.starts_with("crates/x/src/b.rs:1:"), "{p}");

    let src = r#"//! doc
fn a(x: Option<u8>) -> u8 {
    // x.unwrap() in a comment
    let s = "y.expect(\"in a string\")";
    let c = '"';
    x.unwrap_or(0);
    x.unwrap()
}
fn b(r: Result<u8, ()>) -> u8 { r
    .expect("why") }
fn c(v: Vec<Option<u8>>) { v.into_iter().map(Option::unwrap); }
fn expect(x: u8) {}
#[cfg(test)]
mod tests { fn t() { Some(1).unwrap(); } }
fn d<'a>(x: &'a str) -> Option<u8> { x.parse().ok().map(|n: u8| n).expect_none() }
"#;
    let got: Vec<String> = panic_problems("crates/x/src/c.rs", src)
        .iter()
        .map(|p| p.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        got,
        [
            "crates/x/src/c.rs:7: `unwrap`",
            "crates/x/src/c.rs:10: `expect`",
            "crates/x/src/c.rs:11: `unwrap`",
        ]
    );
    assert!(panic_problems("t.rs", "#![cfg(test)]\nfn f() { None::<u8>.unwrap(); }").is_empty());
    let raw = "fn f() { let s = r#\"a.unwrap()\"#; let b = br\"x.expect(\"; }";
    assert!(panic_problems("r.rs", raw).is_empty(), "{raw}");

    let meta = serde_json::json!({"packages": [
        {"name": "opnsense-api", "manifest_path": "/x/api/Cargo.toml", "dependencies": [
            {"name": "rmcp", "kind": null}, {"name": "opnsense-sim", "kind": "dev"}]},
        {"name": "opnsense-sim", "manifest_path": "/x/sim/Cargo.toml", "dependencies": [
            {"name": "opnsense-api", "kind": "dev"}]},
        {"name": "opnsense-mcp-tools", "manifest_path": "/x/tools/Cargo.toml", "dependencies": [
            {"name": "opnsense-sim", "kind": "dev"}]},
        {"name": "opnsense-mcp", "manifest_path": "/x/mcp/Cargo.toml", "dependencies": [
            {"name": "opnsense-sim", "kind": null, "optional": false}],
         "features": {"default": [], "demo": ["dep:opnsense-sim"]}}
    ]});
    let layering = layering_problems(&meta);
    assert_eq!(layering.len(), 3, "{layering:#?}");
    assert!(layering[0].contains("opnsense-api has a normal dependency on rmcp"));
    assert!(layering[1].contains("opnsense-sim has a dev dependency on opnsense-api"));
    assert!(layering[2].contains("opnsense-mcp-tools has a dev dependency on opnsense-sim"));
    let gate = simulator_gate_problems(&meta);
    assert_eq!(gate.len(), 4, "{gate:#?}");
}

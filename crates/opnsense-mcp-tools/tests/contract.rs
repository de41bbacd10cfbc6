//! The wire contract, table-driven: every tool of the catalogue has cases in
//! `contract/<area>.json` giving its arguments, the exact upstream requests (method, path,
//! body or no body and no Content-Type, in order), wiremock's answers and the tool result.
//! A case may pin the firmware the SDK client believes it talks to (`"firmware": "26.7.2"`),
//! take an answer from the SDK's fixtures (`"fixture": "routes/getroute.json"`), and require
//! a result field to be exactly part of OPNsense's answer (`"same_as_reply": {"/raw": "/rows"}`),
//! give the change engine protected flows (`"options": {"protect": ["192.168.1.50 -> 8443"]}`),
//! and make calls first on the same session (`"setup"`: the add an apply makes live, the apply
//! whose change `change_confirm` confirms), each with its own requests and expected result; a
//! string argument `"$setup[N]/pointer"` is the value at that pointer of setup call N's result
//! (`"$setup[0]/change_id"`). A case without `upstream` asserts that its call sends nothing at
//! all. Each case runs on a session of its own (a fresh change journal), and whatever change it
//! leaves pending is settled before the next.
//!
//! Fails when a tool has no case, a case names an unknown tool, a request differs, or any
//! request not in the case reaches wiremock (a catch-all answers 599 and every received
//! request is compared). Prints a per-tool table and a final `N passed, M failed` line.

mod support;

use std::collections::BTreeMap;

use support::{Session, load_contract, print_table, run_case, tool_names};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_honours_its_wire_contract() {
    let cases = load_contract();
    let tools = tool_names();
    // tool -> (cases, passed)
    let mut per_tool: BTreeMap<String, (usize, usize)> =
        tools.iter().map(|t| (t.clone(), (0, 0))).collect();
    let mut failures: Vec<String> = Vec::new();
    let (mut passed, mut failed) = (0usize, 0usize);

    for (file, case) in &cases {
        // A fresh session (and change journal) per case: a write one case stages must not show
        // up in another case's apply.
        let session = &Session::for_case(case).await;
        let problems = if per_tool.contains_key(&case.tool) {
            run_case(session, case).await
        } else {
            vec![format!("{} is not a tool of the catalogue", case.tool)]
        };
        let entry = per_tool.entry(case.tool.clone()).or_insert((0, 0));
        entry.0 += 1;
        if problems.is_empty() {
            entry.1 += 1;
            passed += 1;
        } else {
            failed += 1;
            failures.push(format!(
                "{file} / {} / {}:\n    {}",
                case.tool,
                case.name,
                problems.join("\n    ")
            ));
        }
    }

    let mut rows = Vec::new();
    for (tool, (n, ok)) in &per_tool {
        let status = if *n == 0 {
            failed += 1;
            failures.push(format!("{tool}: no contract case"));
            "FAIL (no case)".to_owned()
        } else if ok == n {
            "pass".to_owned()
        } else {
            format!("FAIL ({} of {n})", n - ok)
        };
        rows.push(vec![tool.clone(), n.to_string(), status]);
    }
    println!(
        "\nwire contract: {} cases over {} tools",
        cases.len(),
        tools.len()
    );
    print_table(&["tool", "cases", "result"], &rows);
    for f in &failures {
        println!("FAILED {f}");
    }
    println!("{passed} passed, {failed} failed");
    assert_eq!(failed, 0, "{failed} contract checks failed (see above)");
}

//! Every structured result a contract case gets (its setup calls' too) validates against its
//! tool's `outputSchema` as `tools/list` gives it (after slimming), with a JSON Schema 2020-12
//! validator, as a validating MCP client would check it. And the schemas still type results:
//! each result with a top-level scalar field is checked to be refused once that field holds an
//! array instead.

mod support;

use std::collections::BTreeMap;

use opnsense_mcp_tools::ToolOptions;
use serde_json::Value;
use support::{Session, load_contract, mount, resolve, structured};

/// The listed output schemas, by tool name, from a real client's `tools/list`.
async fn output_schemas() -> BTreeMap<String, jsonschema::Validator> {
    let s = Session::plain(ToolOptions {
        output_schemas: true,
        ..ToolOptions::default()
    })
    .await;
    let tools = s.client.list_all_tools().await.expect("tools/list");
    tools
        .iter()
        .map(|t| {
            let schema = Value::Object(
                t.output_schema
                    .as_deref()
                    .cloned()
                    .unwrap_or_else(|| panic!("{}: no outputSchema", t.name)),
            );
            let v = jsonschema::draft202012::new(&schema)
                .unwrap_or_else(|e| panic!("{}: outputSchema does not compile: {e}", t.name));
            (t.name.to_string(), v)
        })
        .collect()
}

/// Problems of one result against its tool's validator (none when it has no structured part).
fn check(v: &jsonschema::Validator, tool: &str, result: &Value, typed: &mut usize) -> Vec<String> {
    if result.is_null() {
        return Vec::new();
    }
    let mut problems: Vec<String> = v
        .iter_errors(result)
        .map(|e| format!("{tool}: {} at {}", e, e.instance_path()))
        .collect();
    // The schema must still give the types of top-level fields: a scalar replaced by an array
    // must be refused.
    if let Some((key, _)) = result.as_object().and_then(|m| {
        m.iter()
            .find(|(_, x)| x.is_string() || x.is_number() || x.is_boolean())
    }) {
        let mut wrong = result.clone();
        wrong[key.as_str()] = Value::Array(vec![]);
        if v.is_valid(&wrong) {
            problems.push(format!("{tool}: `{key}` as an array still validates"));
        } else {
            *typed += 1;
        }
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_contract_result_validates_against_the_listed_output_schema() {
    let validators = output_schemas().await;
    let cases = load_contract();
    let mut problems = Vec::new();
    let (mut checked, mut typed) = (0usize, 0usize);
    for (file, case) in &cases {
        let s = Session::for_case(case).await;
        let mut results = Vec::new();
        for step in case
            .setup
            .iter()
            .map(|st| (&st.tool, &st.arguments, &st.upstream))
            .chain(std::iter::once((
                &case.tool,
                &case.arguments,
                &case.upstream,
            )))
        {
            let (tool, arguments, upstream) = step;
            s.upstream.reset().await;
            mount(&s.upstream, upstream).await;
            let args = resolve(arguments, &results);
            let Ok(r) = s.call(tool, &args).await else {
                problems.push(format!("{file} / {}: {tool} did not answer", case.name));
                break;
            };
            let result = structured(&r);
            if let Some(v) = validators.get(tool.as_str()) {
                checked += usize::from(!result.is_null());
                for p in check(v, tool, &result, &mut typed) {
                    problems.push(format!("{file} / {}: {p}", case.name));
                }
            }
            results.push(result);
        }
        s.settle().await;
    }
    println!("{checked} structured results validated, {typed} checked for typed fields");
    assert!(checked > 100, "only {checked} structured results");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

//! The fleet layer without any firewall: the union of the targets' tools with `target`
//! injected (an enum of the targets offering each tool), the fleet's own tools, refusals that
//! name the target and why (read-only, `tools_deny`), unknown or mistyped targets, and the
//! construction errors. Nothing here reaches a network (the clients point at `.invalid`).

use opnsense_mcp_tools::fleet::{Fleet, TARGET_ARG};
use opnsense_mcp_tools::{InFlight, OpnsenseTools, ToolOptions};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, Tool};
use serde_json::{Value, json};

fn target(name: &str, options: ToolOptions, in_flight: &InFlight) -> OpnsenseTools {
    let client = opnsense_api::Client::builder(format!("https://{name}.invalid:8443"))
        .credentials("key", "fleet-test-secret")
        .build()
        .expect("client");
    OpnsenseTools::build_named(name, client, options, None, in_flight.clone())
}

fn fleet() -> Fleet {
    let in_flight = InFlight::default();
    Fleet::new(
        vec![
            target("office", ToolOptions::default(), &in_flight),
            target(
                "lab",
                ToolOptions {
                    read_only: true,
                    ..ToolOptions::default()
                },
                &in_flight,
            ),
            target(
                "branch",
                ToolOptions {
                    tools_deny: vec!["service_*".into()],
                    ..ToolOptions::default()
                },
                &in_flight,
            ),
        ],
        "office",
    )
    .expect("fleet")
}

fn schema(tools: &[Tool], name: &str) -> Value {
    let t = tools
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("{name} listed"));
    Value::Object((*t.input_schema).clone())
}

#[test]
fn the_union_lists_each_tool_once_with_the_targets_that_offer_it() {
    let f = fleet();
    let tools = f.tools();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    let all = names.len();
    names.dedup();
    assert_eq!(names.len(), all, "one entry per name");
    // The fleet's own tools are slimmed and annotated like every other (no `$schema`, one-line
    // descriptions, no output schema by default).
    for name in ["target_list", "fleet_status"] {
        let t = tools.iter().find(|t| t.name == name).expect(name);
        assert!(
            t.input_schema.get("$schema").is_none(),
            "{name}: {:?}",
            t.input_schema
        );
        assert!(
            t.description.as_deref().is_some_and(|d| !d.contains('\n')),
            "{name}: {:?}",
            t.description
        );
        assert!(t.output_schema.is_none(), "{name}");
        assert!(
            t.annotations
                .as_ref()
                .is_some_and(|a| a.read_only_hint == Some(true)),
            "{name}"
        );
    }
    assert_eq!(
        schema(&tools, "system_status")["properties"][TARGET_ARG]["enum"],
        json!(["branch", "lab", "office"])
    );
    assert_eq!(
        schema(&tools, "firewall_rule_add")["properties"][TARGET_ARG]["enum"],
        json!(["branch", "office"])
    );
    assert_eq!(
        schema(&tools, "service_restart")["properties"][TARGET_ARG]["enum"],
        json!(["office"])
    );
    for fleet_tool in ["target_list", "fleet_status"] {
        let s = schema(&tools, fleet_tool);
        assert!(
            s["properties"].get(TARGET_ARG).is_none(),
            "{fleet_tool}: {s}"
        );
    }
    // A single target: nothing to choose, so no tool lists `target`.
    let one = Fleet::single(target(
        "default",
        ToolOptions::default(),
        &InFlight::default(),
    ));
    for t in one.tools() {
        let s = schema(&one.tools(), &t.name);
        assert!(s["properties"].get(TARGET_ARG).is_none(), "{}: {s}", t.name);
    }
}

/// A single target still takes a call that names it, and refuses another name.
#[tokio::test]
async fn a_single_target_refuses_another_target_name() {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let one = Fleet::single(target(
        "default",
        ToolOptions::default(),
        &InFlight::default(),
    ));
    tokio::spawn(async move {
        if let Ok(running) = one.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = ().serve(client_io).await.expect("client");
    let (failed, text) = call(&client, "system_status", json!({"target": "office"})).await;
    assert!(
        failed && text.contains("no target `office`") && text.contains("default"),
        "{text}"
    );
    let _ = client.cancel().await;
}

#[test]
fn construction_errors_name_the_problem() {
    let in_flight = InFlight::default();
    let e = Fleet::new(
        vec![
            target("a", ToolOptions::default(), &in_flight),
            target("a", ToolOptions::default(), &in_flight),
        ],
        "a",
    )
    .expect_err("duplicate");
    assert!(e.contains("`a` is defined twice"), "{e}");
    let e = Fleet::new(vec![target("a", ToolOptions::default(), &in_flight)], "b")
        .expect_err("default");
    assert!(e.contains("`b`") && e.contains("targets (a)"), "{e}");
    assert!(Fleet::new(Vec::new(), "a").is_err());
}

async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    tool: &str,
    args: Value,
) -> (bool, String) {
    let Value::Object(args) = args else {
        panic!("object")
    };
    let r = client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await
        .expect("tools/call");
    let text = r
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n");
    (r.is_error == Some(true), text)
}

#[tokio::test]
async fn refusals_name_the_target_and_why() {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let f = fleet();
    tokio::spawn(async move {
        if let Ok(running) = f.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = ().serve(client_io).await.expect("client");
    let rule = json!({"action": "pass", "interface": ["lan"], "description": "x"});

    let (failed, text) = call(
        &client,
        "firewall_rule_add",
        json!({"target": "lab", "rule": rule}),
    )
    .await;
    assert!(
        failed && text.contains("`lab`") && text.contains("read-only"),
        "{text}"
    );
    assert!(
        text.contains("branch, office"),
        "names who offers it: {text}"
    );
    let (failed, text) = call(
        &client,
        "change_confirm",
        json!({"target": "lab", "change_id": "chg-0"}),
    )
    .await;
    assert!(failed && text.contains("read-only"), "{text}");
    let (failed, text) = call(
        &client,
        "service_restart",
        json!({"target": "branch", "service": "unbound"}),
    )
    .await;
    assert!(
        failed && text.contains("`branch`") && text.contains("tools_deny"),
        "{text}"
    );
    let (failed, text) = call(&client, "system_status", json!({"target": "nope"})).await;
    assert!(failed && text.contains("no target `nope`"), "{text}");
    let (failed, text) = call(&client, "system_status", json!({"target": 3})).await;
    assert!(failed && text.contains("invalid argument target"), "{text}");
    // target_list: names, hosts, read-only, never the secret or the key.
    let r = client
        .call_tool(CallToolRequestParams::new("target_list"))
        .await
        .expect("target_list");
    let v = r.structured_content.expect("structured");
    assert_eq!(v["default"], "office");
    assert_eq!(v["targets"][1]["name"], "lab");
    assert_eq!(v["targets"][1]["read_only"], true);
    assert_eq!(v["targets"][1]["host"], "lab.invalid:8443");
    assert!(!v.to_string().contains("fleet-test-secret"), "{v}");
    let _ = client.cancel().await;
}

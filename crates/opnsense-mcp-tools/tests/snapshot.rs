//! The catalogue as `tools/list` shows it, pinned by an insta snapshot: names, descriptions,
//! input and output schemas and annotations of every tool, in name order. A change to any of
//! them shows up as a snapshot diff to review (`cargo insta review`).

mod support;

use opnsense_mcp_tools::ToolOptions;
use serde_json::Value;
use support::Session;

/// The list a real client receives over MCP (not the router's own view), sorted by name.
#[tokio::test]
async fn tools_list_is_pinned() {
    let s = Session::plain(ToolOptions::default()).await;
    let mut tools = s.client.list_all_tools().await.expect("tools/list");
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    // Each tool exactly as it goes on the wire (a field the server leaves unset is absent, not
    // `null`).
    let listed: Vec<Value> = tools
        .iter()
        .map(|t| serde_json::to_value(t).expect("tool as JSON"))
        .collect();
    assert_eq!(listed.len(), support::tool_names().len());
    insta::assert_json_snapshot!("tools_list", listed);
}

/// Read-only mode offers exactly the tools annotated read-only.
#[tokio::test]
async fn read_only_list_is_pinned() {
    let tools = support::catalogue(ToolOptions {
        read_only: true,
        ..ToolOptions::default()
    })
    .tools();
    let names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    insta::assert_json_snapshot!("read_only_tool_names", names);
}

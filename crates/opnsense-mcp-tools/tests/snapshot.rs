//! The catalogue as `tools/list` shows it, pinned by an insta snapshot: names, descriptions,
//! input and output schemas (`output_schemas = true`) and annotations of every tool, in name
//! order. A change to any of them shows up as a snapshot diff to review (`cargo insta review`).
//! The default listing is the same without the output schemas.

mod support;

use opnsense_mcp_tools::ToolOptions;
use support::listed;

#[tokio::test]
async fn tools_list_is_pinned() {
    let listed = listed(ToolOptions {
        output_schemas: true,
        ..ToolOptions::default()
    })
    .await;
    assert_eq!(listed.len(), support::tool_names().len());
    insta::assert_json_snapshot!("tools_list", listed);
}

/// By default every tool is listed as pinned, only without its `outputSchema`.
#[tokio::test]
async fn the_default_list_leaves_out_only_the_output_schemas() {
    let mut with = listed(ToolOptions {
        output_schemas: true,
        ..ToolOptions::default()
    })
    .await;
    let without = listed(ToolOptions::default()).await;
    for t in &mut with {
        let had = t.as_object_mut().and_then(|m| m.remove("outputSchema"));
        assert!(had.is_some(), "{}: no outputSchema to leave out", t["name"]);
    }
    assert_eq!(with, without);
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

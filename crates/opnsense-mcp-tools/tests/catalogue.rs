//! The catalogue as a client sees it: names, typed schemas, annotations.

use opnsense_mcp_tools::{OpnsenseTools, ToolOptions};

fn tools(options: ToolOptions) -> OpnsenseTools {
    let client = opnsense_api::Client::builder("https://127.0.0.1:9")
        .credentials("k", "s")
        .build()
        .expect("client");
    OpnsenseTools::new(client, options)
}

#[test]
fn print_some() {
    let t = tools(ToolOptions::default());
    for tool in t.tools() {
        if tool.name == "firewall_rule_add" || tool.name == "firewall_rule_list" {
            println!("{}", serde_json::to_string_pretty(&tool).expect("json"));
        }
    }
}

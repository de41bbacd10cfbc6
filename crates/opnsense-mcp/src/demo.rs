//! `opnsense-mcp demo`: a tour of the server against the built-in simulator, for a new user
//! with no firewall. Also backs `serve --simulator`.

use opnsense_mcp_tools::{OpnsenseTools, ToolOptions};
use opnsense_sim::{SimConfig, Simulator};
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::Failure;
use crate::config::Config;

/// Starts the simulator on a random loopback port and points `config` at it.
pub async fn start_simulator(config: &mut Config) -> Result<Simulator, Failure> {
    let sim = Simulator::start(SimConfig::default())
        .await
        .map_err(|e| Failure::Other(format!("cannot start the simulator: {e}")))?;
    config.url = Some(sim.base_url());
    config.api_key = Some(sim.api_key().to_owned());
    config.api_secret = Some(sim.api_secret().to_owned());
    config.ca_file = Some(sim.ca_file().to_owned());
    config.verify_tls = true;
    Ok(sim)
}

/// The tour: each step is a tool call a person would make, printed with its compact result.
const TOUR: &[(&str, &str)] = &[
    (
        "Is the firewall healthy?",
        r#"{"tool":"system_status","args":{}}"#,
    ),
    (
        "What firmware is it running?",
        r#"{"tool":"system_firmware_status","args":{}}"#,
    ),
    (
        "The first rules, compact",
        r#"{"tool":"firewall_rule_list","args":{"row_count":5}}"#,
    ),
    (
        "Stage an alias for two web servers",
        r#"{"tool":"firewall_alias_add","args":{"alias":{"name":"demo_web","type":"host","content":["192.168.1.20","192.168.1.21"],"description":"Demo web servers"}}}"#,
    ),
    (
        "Make the alias live",
        r#"{"tool":"firewall_alias_apply","args":{}}"#,
    ),
    (
        "Stage a rule allowing HTTPS from the LAN to them",
        r#"{"tool":"firewall_rule_add","args":{"rule":{"action":"pass","interface":["lan"],"protocol":"TCP","source_net":"lan","destination_net":"demo_web","destination_port":"443","description":"Demo: HTTPS to web servers"}}}"#,
    ),
    (
        "A mistake is refused with the field named",
        r#"{"tool":"firewall_rule_add","args":{"rule":{"action":"pass","interface":["lan"],"protocol":"TCP","destination_net":"not-an-alias","destination_port":"443","description":"Demo: bad destination"}}}"#,
    ),
    (
        "Apply the staged rules",
        r#"{"tool":"firewall_rule_apply","args":{}}"#,
    ),
    (
        "The new rule is there",
        r#"{"tool":"firewall_rule_list","args":{"search_phrase":"Demo"}}"#,
    ),
];

/// Runs the tour and prints how to connect a real client.
pub async fn demo(mut config: Config) -> Result<(), Failure> {
    let sim = start_simulator(&mut config).await?;
    out(&format!(
        "opnsense-mcp demo: a simulated OPNsense {} is running at {} (CA certificate: {}).\n\
         Each step below is a real MCP tools/call through the opnsense-mcp server.\n",
        sim.version().product_version(),
        sim.base_url(),
        sim.ca_file().display()
    ));
    let tools = OpnsenseTools::new(config.client()?, ToolOptions::default());
    let (client, server) = crate::serve::in_memory_session(tools).await?;
    let listed = client
        .list_all_tools()
        .await
        .map_err(|e| Failure::Other(format!("tools/list failed: {e}")))?;
    out(&format!("tools/list: {} tools\n", listed.len()));
    let mut failures = 0;
    for (i, (title, step)) in TOUR.iter().enumerate() {
        let step: Value = serde_json::from_str(step).unwrap_or(Value::Null);
        let tool = step["tool"].as_str().unwrap_or_default().to_owned();
        let args = step["args"].as_object().cloned().unwrap_or_default();
        out(&format!(
            "{}. {title}\n   > {tool} {}",
            i + 1,
            Value::Object(args.clone())
        ));
        let result = client
            .call_tool(CallToolRequestParams::new(tool.clone()).with_arguments(args))
            .await
            .map_err(|e| Failure::Other(format!("{tool}: {e}")))?;
        let is_error = result.is_error == Some(true);
        let shown = match (&result.structured_content, is_error) {
            (Some(v), false) => summarise(v),
            _ => result
                .content
                .iter()
                .filter_map(|c| c.as_text().map(|t| t.text.clone()))
                .collect::<Vec<_>>()
                .join(" "),
        };
        let expected_error = title.starts_with("A mistake");
        if is_error != expected_error {
            failures += 1;
        }
        out(&format!(
            "   {} {}\n",
            if is_error { "✗ error:" } else { "✓" },
            indent(&shown)
        ));
    }
    let live_demo_rules = sim
        .live()
        .filter_rules()
        .iter()
        .filter(|r| {
            r["description"]
                .as_str()
                .is_some_and(|d| d.starts_with("Demo"))
        })
        .count();
    out(&format!(
        "Live filter rules with a Demo description after apply: {live_demo_rules}.\n\n\
         Try it with your own client (no firewall needed):\n\
         - Claude Desktop (claude_desktop_config.json):\n  \
           {{\"mcpServers\": {{\"opnsense\": {{\"command\": \"{bin}\", \"args\": [\"serve\", \"--simulator\"]}}}}}}\n\
         - MCP Inspector:\n  npx -y @modelcontextprotocol/inspector {bin} serve --simulator\n\
         - A real firewall: set OPNSENSE_URL, OPNSENSE_API_KEY, OPNSENSE_API_SECRET (and OPNSENSE_CA_FILE), then `{bin} check`.",
        bin = std::env::current_exe()
            .map_or_else(|_| "opnsense-mcp".to_owned(), |p| p.display().to_string())
    ));
    let _ = client.cancel().await;
    server.abort();
    sim.shutdown().await;
    if failures == 0 && live_demo_rules == 1 {
        Ok(())
    } else {
        Err(Failure::Other(format!(
            "the demo did not go as expected ({failures} steps differed, {live_demo_rules} live demo rules)"
        )))
    }
}

/// Keeps list answers short on screen: at most 5 rows.
fn summarise(v: &Value) -> String {
    let mut v = v.clone();
    if let Some(rows) = v.get_mut("rows").and_then(Value::as_array_mut) {
        let more = rows.len().saturating_sub(5);
        rows.truncate(5);
        if more > 0 {
            rows.push(json!(format!("... {more} more rows")));
        }
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

fn indent(s: &str) -> String {
    s.replace('\n', "\n     ")
}

fn out(s: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{s}");
}

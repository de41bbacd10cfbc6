//! `opnsense-mcp demo`: a tour of the server against the built-in simulator, for a new user
//! with no firewall. Also backs `serve --simulator`.

use opnsense_sim::{SimConfig, Simulator};
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

use crate::Failure;
use crate::config::{Config, StateStore};

/// A simulated firewall for this process, and the temporary directory of its change journal.
pub struct Simulated {
    /// The simulator.
    pub sim: Simulator,
    /// Removed on drop: the simulated firewall forgets its state at exit, so does its journal.
    _state: tempfile::TempDir,
}

/// Starts the simulator on a random loopback port and points `config` at it, with the change
/// journal in a temporary directory.
pub async fn start_simulator(config: &mut Config) -> Result<Simulated, Failure> {
    let sim = Simulator::start(SimConfig::default())
        .await
        .map_err(|e| Failure::Other(format!("cannot start the simulator: {e}")))?;
    let state = tempfile::Builder::new()
        .prefix("opnsense-mcp-sim-")
        .tempdir()
        .map_err(|e| Failure::Other(format!("cannot create a temporary state directory: {e}")))?;
    config.url = Some(sim.base_url());
    config.api_key = Some(sim.api_key().to_owned());
    config.api_secret = Some(sim.api_secret().to_owned());
    config.ca_file = Some(sim.ca_file().to_owned());
    config.verify_tls = true;
    config.state = StateStore::Dir(state.path().to_owned());
    Ok(Simulated { sim, _state: state })
}

/// One step of the tour.
enum Step {
    /// A tool call a person would make; `$change` in the arguments is the last change id seen.
    Call {
        title: &'static str,
        tool: &'static str,
        args: &'static str,
        /// The step shows a refusal: an error is what it expects.
        fails: bool,
    },
    /// Nothing for a while (an unconfirmed change runs out of time).
    Wait { title: &'static str, seconds: u64 },
}

const fn call(title: &'static str, tool: &'static str, args: &'static str) -> Step {
    Step::Call {
        title,
        tool,
        args,
        fails: false,
    }
}

/// The tour: reads, a dry run, a checked change kept with `change_confirm`, a refusal, and a
/// change left unconfirmed that reverts itself.
const TOUR: &[Step] = &[
    call("Is the firewall healthy?", "system_status", "{}"),
    call(
        "What firmware is it running?",
        "system_firmware_status",
        "{}",
    ),
    call(
        "The first rules, compact",
        "firewall_rule_list",
        r#"{"row_count":5}"#,
    ),
    call(
        "Preview an alias without writing anything (dry_run)",
        "firewall_alias_add",
        r#"{"dry_run":true,"alias":{"name":"demo_web","type":"host","content":["192.168.1.20","192.168.1.21"],"description":"Demo web servers"}}"#,
    ),
    call(
        "Stage the alias for two web servers",
        "firewall_alias_add",
        r#"{"alias":{"name":"demo_web","type":"host","content":["192.168.1.20","192.168.1.21"],"description":"Demo web servers"}}"#,
    ),
    call(
        "Make it live: checked, then pending until confirmed",
        "firewall_alias_apply",
        "{}",
    ),
    call("Keep it", "change_confirm", r#"{"change_id":"$change"}"#),
    call(
        "Stage a rule allowing HTTPS from the LAN to them",
        "firewall_rule_add",
        r#"{"rule":{"action":"pass","interface":["lan"],"protocol":"TCP","source_net":"lan","destination_net":"demo_web","destination_port":"443","description":"Demo: HTTPS to web servers"}}"#,
    ),
    Step::Call {
        title: "A mistake is refused with the field named",
        tool: "firewall_rule_add",
        args: r#"{"rule":{"action":"pass","interface":["lan"],"protocol":"TCP","destination_net":"not-an-alias","destination_port":"443","description":"Demo: bad destination"}}"#,
        fails: true,
    },
    call(
        "Apply the rule with 3 seconds to confirm it",
        "firewall_rule_apply",
        r#"{"confirm_timeout_s":3}"#,
    ),
    Step::Wait {
        title: "Do not confirm (as if the change had cut us off)",
        seconds: 4,
    },
    call(
        "It reverted itself",
        "change_get",
        r#"{"change_id":"$change"}"#,
    ),
    call(
        "The rule is gone, the alias stays",
        "firewall_rule_list",
        r#"{"search_phrase":"Demo"}"#,
    ),
    call("The change history", "change_list", "{}"),
];

/// Runs the tour and prints how to connect a real client.
pub async fn demo(mut config: Config) -> Result<(), Failure> {
    let simulated = start_simulator(&mut config).await?;
    let sim = &simulated.sim;
    out(&format!(
        "opnsense-mcp demo: a simulated OPNsense {} is running at {} (CA certificate: {}).\n\
         Each step below is a real MCP tools/call through the opnsense-mcp server.\n",
        sim.version().product_version(),
        sim.base_url(),
        sim.ca_file().display()
    ));
    let tools = crate::serve::build_tools(
        &config,
        config.client()?,
        opnsense_mcp_tools::InFlight::default(),
    )
    .await?;
    let (client, server) =
        crate::serve::in_memory_session(opnsense_mcp_tools::fleet::Fleet::single(tools.clone()))
            .await?;
    let listed = client
        .list_all_tools()
        .await
        .map_err(|e| Failure::Other(format!("tools/list failed: {e}")))?;
    out(&format!("tools/list: {} tools\n", listed.len()));
    let mut failures = Vec::new();
    let mut change = String::new();
    for (i, step) in TOUR.iter().enumerate() {
        let (title, tool, args, fails) = match step {
            Step::Wait { title, seconds } => {
                out(&format!("{}. {title}\n   ... waiting {seconds} s\n", i + 1));
                tokio::time::sleep(std::time::Duration::from_secs(*seconds)).await;
                continue;
            }
            Step::Call {
                title,
                tool,
                args,
                fails,
            } => (*title, *tool, *args, *fails),
        };
        let args: Value =
            serde_json::from_str(&args.replace("$change", &change)).unwrap_or(Value::Null);
        let args = args.as_object().cloned().unwrap_or_default();
        out(&format!(
            "{}. {title}\n   > {tool} {}",
            i + 1,
            Value::Object(args.clone())
        ));
        let result = client
            .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
            .await
            .map_err(|e| Failure::Other(format!("{tool}: {e}")))?;
        let is_error = result.is_error == Some(true);
        if let Some(id) = result
            .structured_content
            .as_ref()
            .and_then(|s| s["change_id"].as_str())
        {
            id.clone_into(&mut change);
        }
        let shown = match (&result.structured_content, is_error) {
            (Some(v), false) => summarise(v),
            _ => result
                .content
                .iter()
                .filter_map(|c| c.as_text().map(|t| t.text.clone()))
                .collect::<Vec<_>>()
                .join(" "),
        };
        if is_error != fails {
            failures.push(format!("step {} ({tool})", i + 1));
        }
        out(&format!(
            "   {} {}\n",
            if is_error { "✗ error:" } else { "✓" },
            indent(&shown)
        ));
    }
    let live = sim.live();
    let demo_rules = live
        .filter_rules()
        .iter()
        .filter(|r| {
            r["description"]
                .as_str()
                .is_some_and(|d| d.starts_with("Demo"))
        })
        .count();
    let demo_alias = live.aliases().iter().any(|a| a["name"] == "demo_web");
    out(&format!(
        "On the simulated firewall now: alias demo_web {}, {demo_rules} live rules with a Demo description.\n\n\
         Try it with your own client (no firewall needed):\n\
         - Claude Desktop (claude_desktop_config.json):\n  \
           {{\"mcpServers\": {{\"opnsense\": {{\"command\": \"{bin}\", \"args\": [\"serve\", \"--simulator\"]}}}}}}\n\
         - MCP Inspector:\n  npx -y @modelcontextprotocol/inspector {bin} serve --simulator\n\
         - A real firewall: set OPNSENSE_URL, OPNSENSE_API_KEY, OPNSENSE_API_SECRET (and OPNSENSE_CA_FILE), then `{bin} check`.",
        if demo_alias { "live" } else { "missing" },
        bin = std::env::current_exe()
            .map_or_else(|_| "opnsense-mcp".to_owned(), |p| p.display().to_string())
    ));
    let _ = client.cancel().await;
    server.abort();
    crate::serve::settle(&tools).await;
    drop(live);
    simulated.sim.shutdown().await;
    if failures.is_empty() && demo_rules == 0 && demo_alias {
        Ok(())
    } else {
        Err(Failure::Other(format!(
            "the demo did not go as expected (steps that differed: {failures:?}; {demo_rules} live demo rules; alias live: {demo_alias})"
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

//! The safe-change figures, against the simulator (they need its logic: staging, apply,
//! read-back, lockout, revert): apply to verified per domain, a forced lockout to reverted, and a
//! restart to the revert of a change left unconfirmed.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use opnsense_mcp_tools::{OpnsenseTools, ToolOptions};
use opnsense_sim::{SimConfig, Simulator};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

fn args(v: Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// A server over an in-memory pipe with a change engine on a temporary journal.
async fn session(
    sim: &Simulator,
    state: &std::path::Path,
) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    let client = opnsense_api::Client::builder(sim.base_url())
        .credentials(sim.api_key(), sim.api_secret())
        .ca_file(sim.ca_file())
        .build()
        .expect("client");
    let journal = opnsense_change::journal::Journal::open_in_dir(state, &sim.base_url())
        .await
        .expect("journal");
    let engine = opnsense_change::engine::Engine::new(
        client.clone(),
        journal,
        opnsense_change::engine::Settings::default(),
    );
    let tools = OpnsenseTools::build(
        client,
        ToolOptions::default(),
        Some(engine),
        opnsense_mcp_tools::InFlight::default(),
    );
    let (server_io, client_io) = tokio::io::duplex(1 << 22);
    tokio::spawn(async move {
        if let Ok(s) = tools.serve(server_io).await {
            let _ = s.waiting().await;
        }
    });
    ().serve(client_io).await.expect("mcp")
}

async fn tool(
    mcp: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    name: &'static str,
    a: Value,
) -> rmcp::model::CallToolResult {
    mcp.call_tool(CallToolRequestParams::new(name).with_arguments(args(a)))
        .await
        .expect("call")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The safe-change figures: how long an apply takes to be verified (pre-flight, apply,
/// read-back, new-connection probe) per domain, how long a lockout takes to be reverted, and
/// how long a restart takes to revert a change left unconfirmed.
pub async fn safe_changes(bin: &std::path::Path) -> Vec<(String, f64)> {
    let mut figures = Vec::new();
    let domains: [(&str, &str, &str, Value); 5] = [
        (
            "aliases",
            "firewall_alias_add",
            "firewall_alias_apply",
            json!({"alias": {"name": "bench_a", "type": "host", "content": ["10.9.0.1"]}}),
        ),
        (
            "filter rules",
            "firewall_rule_add",
            "firewall_rule_apply",
            json!({"rule": {"action": "pass", "interface": ["opt1"], "protocol": "TCP", "destination_port": "8080", "description": "bench"}}),
        ),
        (
            "port forwards",
            "firewall_nat_add",
            "firewall_nat_apply",
            json!({"rule": {"interface": ["wan"], "protocol": "tcp", "destination": {"network": "wanip", "port": "8443"}, "target": "192.168.1.10", "local_port": "443", "description": "bench"}}),
        ),
        (
            "routes",
            "route_add",
            "route_apply",
            json!({"route": {"network": "10.99.0.0/16", "gateway": "WAN_GW", "description": "bench"}}),
        ),
        (
            "host overrides",
            "dns_host_override_add",
            "dns_apply",
            json!({"host": {"hostname": "bench", "domain": "example.lan", "rr": "A", "server": "192.168.1.77"}}),
        ),
    ];
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    let state = tempfile::tempdir().expect("state dir");
    let mcp = session(&sim, state.path()).await;
    for (name, add, apply, record) in domains {
        let mut times = Vec::new();
        for _ in 0..10 {
            tool(&mcp, add, record.clone()).await;
            let t = Instant::now();
            let r = tool(&mcp, apply, json!({})).await;
            times.push(t.elapsed());
            let s = r.structured_content.unwrap_or(Value::Null);
            assert_eq!(s["status"], "pending", "{name}: {s}");
            tool(&mcp, "change_confirm", json!({"change_id": s["change_id"]})).await;
        }
        let m = median(times).as_secs_f64() * 1000.0;
        println!(
            "safe changes: {name} apply to verified (pre-flight, apply, read-back, probe; 10 runs): median {m:.1} ms"
        );
        figures.push((format!("{name}: apply to verified, median ms"), m));
    }
    let _ = mcp.cancel().await;
    sim.shutdown().await;

    // A forced lockout: the probe's new connection fails (blocked: after the connect timeout,
    // 10 s by default; rejected: at once), and the revert goes through the kept connection.
    let sim = Simulator::start(SimConfig {
        lockout: true,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let state = tempfile::tempdir().expect("state dir");
    let mcp = session(&sim, state.path()).await;
    for action in ["reject", "block"] {
        tool(&mcp, "firewall_rule_add", json!({"rule": {"action": action, "interface": ["lan"], "protocol": "TCP", "destination_net": "lanip", "sequence": 1, "description": "bench lockout"}})).await;
        let t = Instant::now();
        let r = tool(&mcp, "firewall_rule_apply", json!({"force": true})).await;
        let reverted = r.is_error == Some(true) && !sim.is_locked_out();
        let m = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "safe changes: forced lockout ({action}) apply to reverted: {m:.1} ms (reverted: {reverted})"
        );
        figures.push((
            format!("forced lockout ({action}): apply to reverted, ms"),
            m,
        ));
        // The rule is still staged: delete it for the next round.
        let listed = tool(
            &mcp,
            "firewall_rule_list",
            json!({"search_phrase": "bench lockout"}),
        )
        .await;
        if let Some(uuid) = listed
            .structured_content
            .as_ref()
            .and_then(|s| s["rows"][0]["uuid"].as_str())
        {
            tool(&mcp, "firewall_rule_delete", json!({"uuid": uuid})).await;
        }
    }
    let _ = mcp.cancel().await;
    sim.shutdown().await;

    // Restart: a server killed with a change due is started again; its start reverts it before
    // it serves a tool call.
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    let state = tempfile::tempdir().expect("state dir");
    let spawn = || {
        Command::new(bin)
            .arg("serve")
            .env("OPNSENSE_URL", sim.base_url())
            .env("OPNSENSE_API_KEY", sim.api_key())
            .env("OPNSENSE_API_SECRET", sim.api_secret())
            .env("OPNSENSE_CA_FILE", sim.ca_file())
            .env("OPNSENSE_STATE_DIR", state.path())
            .env("RUST_LOG", "off")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn")
    };
    let mut times = Vec::new();
    for i in 0..5 {
        let mut child = spawn();
        let mut stdin = child.stdin.take().expect("stdin");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        for (id, method, params) in [
            (
                1,
                "initialize",
                json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}),
            ),
            (0, "notifications/initialized", Value::Null),
            (
                2,
                "tools/call",
                json!({"name": "route_add", "arguments": {"route": {"network": format!("10.{}.0.0/16", 100 + i), "gateway": "WAN_GW"}}}),
            ),
            (
                3,
                "tools/call",
                json!({"name": "route_apply", "arguments": {"confirm_timeout_s": 1}}),
            ),
        ] {
            let msg = if id == 0 {
                json!({"jsonrpc": "2.0", "method": method})
            } else {
                json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
            };
            writeln!(stdin, "{msg}").expect("write");
            if id != 0 {
                line.clear();
                out.read_line(&mut line).expect("read");
            }
        }
        let live = sim.live().routes().len();
        let _ = child.kill();
        let _ = child.wait();
        std::thread::sleep(Duration::from_millis(1200));
        let t = Instant::now();
        let mut child = spawn();
        let mut stdin = child.stdin.take().expect("stdin");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        writeln!(stdin, "{}", json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}})).expect("write");
        line.clear();
        out.read_line(&mut line).expect("read");
        // Tool calls wait for the start's recovery: the first one answered means it is done.
        writeln!(
            stdin,
            "{}",
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
        )
        .expect("write");
        writeln!(stdin, "{}", json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "system_status", "arguments": {}}})).expect("write");
        line.clear();
        out.read_line(&mut line).expect("read");
        times.push(t.elapsed());
        assert_eq!(
            sim.live().routes().len(),
            live - 1,
            "the restart reverted the route"
        );
        drop(stdin);
        let _ = child.kill();
        let _ = child.wait();
    }
    let m = median(times).as_secs_f64() * 1000.0;
    println!(
        "safe changes: restart to reverted (spawn, journal, revert of a due change, first tool call answered; 5 runs): median {m:.1} ms"
    );
    figures.push(("restart to reverted, median ms".to_owned(), m));
    sim.shutdown().await;
    figures
}

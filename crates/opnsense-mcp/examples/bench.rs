//! Benchmarks that print figures (never assert them): catalogue size, compact vs raw list size
//! for 1,000 rules, cold start to first response, idle RSS, tool-call throughput, and the safe
//! changes (apply to verified per domain, lockout to reverted, restart to reverted), all
//! against the simulator on loopback. Run with `cargo xtask bench` (release build).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use opnsense_mcp_tools::{OpnsenseTools, ToolOptions};
use opnsense_sim::{SimConfig, Simulator};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};

fn binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/examples/bench -> target/<profile>/opnsense-mcp
    exe.parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("opnsense-mcp"))
        .expect("binary path")
}

fn args(v: Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

#[tokio::main]
async fn main() {
    let sim = Simulator::start(SimConfig {
        extra_rules: 1000,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");
    let client = opnsense_api::Client::builder(sim.base_url())
        .credentials(sim.api_key(), sim.api_secret())
        .ca_file(sim.ca_file())
        .build()
        .expect("client");
    let tools = OpnsenseTools::new(client, ToolOptions::default());
    let catalogue = serde_json::to_vec(&json!({ "tools": tools.tools() })).expect("json");
    println!(
        "tools/list: {} tools, {} bytes of JSON",
        tools.tools().len(),
        catalogue.len()
    );

    let (server_io, client_io) = tokio::io::duplex(1 << 22);
    tokio::spawn(async move {
        if let Ok(s) = tools.serve(server_io).await {
            let _ = s.waiting().await;
        }
    });
    let mcp = ().serve(client_io).await.expect("mcp");
    for raw in [false, true] {
        let r = mcp
            .call_tool(
                CallToolRequestParams::new("firewall_rule_list")
                    .with_arguments(args(json!({"row_count": 1000, "raw": raw}))),
            )
            .await
            .expect("call");
        let structured = serde_json::to_vec(&r.structured_content)
            .expect("json")
            .len();
        let text: usize = r
            .content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.len()))
            .sum();
        println!(
            "firewall_rule_list row_count=1000 raw={raw}: total {} rules, structuredContent {structured} bytes, text {text} bytes",
            r.structured_content
                .as_ref()
                .map_or(Value::Null, |v| v["total"].clone())
        );
    }
    let n = 200;
    let t = Instant::now();
    for _ in 0..n {
        mcp.call_tool(
            CallToolRequestParams::new("firewall_rule_list")
                .with_arguments(args(json!({"row_count": 100}))),
        )
        .await
        .expect("call");
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "throughput: {n} x firewall_rule_list(row_count=100) over 1,012 rules in {secs:.2} s = {:.0} calls/s ({:.2} ms/call)",
        f64::from(n) / secs,
        secs * 1000.0 / f64::from(n)
    );
    // The same path with a cheap upstream answer: what the server itself costs per call.
    let n = 1000;
    let t = Instant::now();
    for _ in 0..n {
        mcp.call_tool(CallToolRequestParams::new("system_status").with_arguments(args(json!({}))))
            .await
            .expect("call");
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "throughput: {n} x system_status (MCP in memory -> SDK -> HTTPS loopback -> simulator) in {secs:.2} s = {:.0} calls/s ({:.3} ms/call)",
        f64::from(n) / secs,
        secs * 1000.0 / f64::from(n)
    );
    let _ = mcp.cancel().await;

    // Cold start: spawn the binary over stdio, time until the initialize response.
    let bin = binary();
    let state = tempfile::tempdir().expect("state dir");
    let mut starts = Vec::new();
    let mut rss_kib = 0;
    for i in 0..10 {
        let t = Instant::now();
        let mut child = Command::new(&bin)
            .arg("serve")
            .env("OPNSENSE_URL", sim.base_url())
            .env("OPNSENSE_API_KEY", sim.api_key())
            .env("OPNSENSE_API_SECRET", sim.api_secret())
            .env("OPNSENSE_CA_FILE", sim.ca_file())
            .env("RUST_LOG", "off")
            .env("OPNSENSE_STATE_DIR", state.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let mut stdin = child.stdin.take().expect("stdin");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        writeln!(
            stdin,
            r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-11-25","capabilities":{{}},"clientInfo":{{"name":"bench","version":"0"}}}}}}"#
        )
        .expect("write");
        let mut line = String::new();
        out.read_line(&mut line).expect("read");
        starts.push(t.elapsed());
        if i == 9 {
            writeln!(
                stdin,
                r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
            )
            .expect("write");
            writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"tools/list"}}"#).expect("write");
            line.clear();
            out.read_line(&mut line).expect("read");
            std::thread::sleep(Duration::from_millis(500));
            let status =
                std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
            rss_kib = status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
        drop(stdin);
        let _ = child.kill();
        let _ = child.wait();
    }
    starts.sort();
    println!(
        "cold start (spawn + startup probe + initialize answered, stdio, 10 runs): min {:.1} ms, median {:.1} ms, max {:.1} ms",
        starts[0].as_secs_f64() * 1000.0,
        starts[5].as_secs_f64() * 1000.0,
        starts[9].as_secs_f64() * 1000.0
    );
    println!("idle RSS after initialize + tools/list (stdio): {rss_kib} KiB");
    let size = std::fs::metadata(&bin).map_or(0, |m| m.len());
    println!("binary size: {} KiB ({})", size / 1024, bin.display());
    sim.shutdown().await;
    safe_changes(&bin).await;
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
async fn safe_changes(bin: &std::path::Path) {
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
        println!(
            "safe changes: {name} apply to verified (pre-flight, apply, read-back, probe; 10 runs): median {:.1} ms",
            median(times).as_secs_f64() * 1000.0
        );
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
        println!(
            "safe changes: forced lockout ({action}) apply to reverted: {:.1} ms (reverted: {reverted})",
            t.elapsed().as_secs_f64() * 1000.0
        );
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
    // it answers initialize.
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
    println!(
        "safe changes: restart to reverted (spawn, journal, revert of a due change, initialize answered; 5 runs): median {:.1} ms",
        median(times).as_secs_f64() * 1000.0
    );
    sim.shutdown().await;
}

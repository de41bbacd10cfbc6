//! Benchmarks that print figures (never assert them): catalogue size, compact vs raw list size
//! for 1,000 rules, cold start to first response, idle RSS, and tool-call throughput, all
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
}

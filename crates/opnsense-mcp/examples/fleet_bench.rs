//! Benchmark (prints figures, asserts nothing): `fleet_status` over 100 simulated firewalls on
//! loopback, through a real MCP session to the fleet layer. The simulators run on their own
//! runtime (two threads) so the server's runtime only does the server's work. Figures: the
//! first call (new TLS connections to every firewall), warm calls, and a call with five
//! firewalls stalled (they accept and never answer) and a 2 s deadline.
//!
//! `cargo run --release -p opnsense-mcp --example fleet_bench [-- TARGETS]` (default 100).

use std::time::{Duration, Instant};

use opnsense_mcp_tools::fleet::Fleet;
use opnsense_mcp_tools::{InFlight, OpnsenseTools, ToolOptions};
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

fn rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn fleet_status(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    a: Value,
) -> (Duration, Value) {
    let started = Instant::now();
    let r = client
        .call_tool(CallToolRequestParams::new("fleet_status").with_arguments(args(a)))
        .await
        .expect("fleet_status");
    let took = started.elapsed();
    assert!(r.is_error != Some(true), "fleet_status failed: {r:?}");
    (took, r.structured_content.unwrap_or(Value::Null))
}

fn summary(label: &str, took: Duration, v: &Value) {
    let rows = v["rows"].as_array().cloned().unwrap_or_default();
    let mut per: Vec<u64> = rows
        .iter()
        .filter_map(|r| r["elapsed_ms"].as_u64())
        .collect();
    per.sort_unstable();
    let pct = |p: usize| per.get((per.len() * p / 100).min(per.len().saturating_sub(1)));
    println!(
        "{label}: {} ms wall for {} targets: ok {}, unreachable {}; per target p50 {:?} ms, p95 {:?} ms, max {:?} ms",
        took.as_millis(),
        v["asked"],
        v["ok"],
        v["unreachable"],
        pct(50),
        pct(95),
        per.last()
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let sims_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("simulator runtime");
    let started = Instant::now();
    let sims: Vec<Simulator> = sims_rt.block_on(async {
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(
                Simulator::start(SimConfig::default())
                    .await
                    .expect("simulator"),
            );
        }
        v
    });
    println!(
        "{n} simulators on 127.0.0.1 started in {} ms",
        started.elapsed().as_millis()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("server runtime");
    rt.block_on(async {
        let rss_before = rss_kib();
        let in_flight = InFlight::default();
        let targets: Vec<OpnsenseTools> = sims
            .iter()
            .enumerate()
            .map(|(i, sim)| {
                let client = opnsense_api::Client::builder(sim.base_url())
                    .credentials(sim.api_key(), sim.api_secret())
                    .ca_file(sim.ca_file())
                    .build()
                    .expect("client");
                OpnsenseTools::build_named(
                    &format!("fw-{i:03}"),
                    client,
                    ToolOptions {
                        read_only: true,
                        ..ToolOptions::default()
                    },
                    None,
                    in_flight.clone(),
                )
            })
            .collect();
        let fleet = Fleet::new(targets, "fw-000").expect("fleet");
        let (server_io, client_io) = tokio::io::duplex(1 << 22);
        let server = tokio::spawn(async move {
            if let Ok(running) = fleet.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        let client = ().serve(client_io).await.expect("client");
        let listed = client.list_all_tools().await.expect("tools/list");
        println!("tools/list: {} tools", listed.len());

        let (took, v) = fleet_status(&client, json!({})).await;
        summary("cold (new TLS connections)", took, &v);
        let bytes = v.to_string().len();
        let mut warm = Vec::new();
        for i in 0..5 {
            let (took, v) = fleet_status(&client, json!({})).await;
            if i == 0 {
                summary("warm", took, &v);
            }
            warm.push(took.as_millis());
        }
        warm.sort_unstable();
        println!("warm x5: {warm:?} ms; answer {bytes} bytes of JSON");

        for sim in sims.iter().take(5) {
            sim.faults().set_stall(true);
        }
        let (took, v) = fleet_status(&client, json!({"timeout_s": 2})).await;
        summary("5 stalled, timeout_s 2", took, &v);
        for sim in sims.iter().take(5) {
            sim.faults().set_stall(false);
        }
        if let (Some(before), Some(after)) = (rss_before, rss_kib()) {
            println!(
                "process RSS (simulators included): {before} KiB before the fleet, {after} KiB after"
            );
        }
        let _ = client.cancel().await;
        server.abort();
    });
    sims_rt.block_on(async {
        for sim in sims {
            sim.shutdown().await;
        }
    });
}

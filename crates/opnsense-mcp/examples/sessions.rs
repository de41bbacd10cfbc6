//! Stateful streamable HTTP under load (prints figures, never asserts them): the real binary
//! (`serve --transport http`, built next to this example) against the simulator on loopback,
//! holding N concurrent MCP sessions of rmcp's client (default 1,000), each of which makes a
//! call; the server's RSS idle, with every session open, and after the idle sessions expired;
//! the session over the cap refused; an expired session's call failing and a new session
//! opening again.
//!
//! `cargo build --release -p opnsense-mcp --example sessions --bin opnsense-mcp` then
//! `target/release/examples/sessions [SESSIONS] [IDLE_SECONDS]` (defaults 1000 and 20).

// Figures printed with one decimal: a float's precision is plenty.
#![allow(clippy::cast_precision_loss)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opnsense_sim::{SimConfig, Simulator};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

const TOKEN: &str = "sessions-bench-token-0123456789";
/// Sessions opened at once while ramping up.
const BATCH: usize = 50;

type Client = RunningService<RoleClient, ClientConfig>;

fn binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/examples/sessions -> target/<profile>/opnsense-mcp
    exe.parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("opnsense-mcp"))
        .expect("binary path")
}

/// Resident set size of a process in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn connect(url: &str) -> Result<Client, String> {
    let config = StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(TOKEN);
    let transport = StreamableHttpClientTransport::from_config(config);
    let info = ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("sessions-bench", "0"),
    );
    tokio::time::timeout(Duration::from_secs(60), info.serve(transport))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

async fn status_call(c: &Client) -> Result<(), String> {
    let r = tokio::time::timeout(
        Duration::from_secs(60),
        c.call_tool(CallToolRequestParams::new("system_status")),
    )
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    if r.is_error == Some(true) {
        return Err(format!("{r:?}"));
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let mut argv = std::env::args().skip(1);
    let sessions: usize = argv.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let idle: u64 = argv.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    let state = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(binary())
        .args(["serve", "--transport", "http", "--http-port", "0"])
        .env("OPNSENSE_URL", sim.base_url())
        .env("OPNSENSE_API_KEY", sim.api_key())
        .env("OPNSENSE_API_SECRET", sim.api_secret())
        .env("OPNSENSE_CA_FILE", sim.ca_file())
        .env("OPNSENSE_HTTP_TOKEN", TOKEN)
        .env("OPNSENSE_HTTP_MAX_SESSIONS", sessions.to_string())
        .env("OPNSENSE_HTTP_IDLE_TIMEOUT", idle.to_string())
        .env("OPNSENSE_READ_ONLY", "true")
        .env("XDG_CONFIG_HOME", state.path())
        .env("XDG_STATE_HOME", state.path())
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn opnsense-mcp (build it first: --bin opnsense-mcp)");
    let pid = child.id();
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut url = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(rest) = line.split("listening on ").nth(1) {
            url = rest.trim().to_owned();
            break;
        }
        line.clear();
    }
    assert!(!url.is_empty(), "the server did not start");
    // The audit lines go on being written: keep the pipe drained.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while stderr.read_line(&mut sink).unwrap_or(0) > 0 {
            sink.clear();
        }
    });

    // One session first, so the figures below are sessions, not the first call's warm-up.
    let warm = connect(&url).await.expect("first session");
    status_call(&warm).await.expect("first call");
    warm.cancel().await.ok();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = rss_kib(pid);
    println!("server RSS idle (after one session): {idle_rss} KiB");

    let started = Instant::now();
    let mut clients: Vec<Arc<Client>> = Vec::with_capacity(sessions);
    let mut failed = 0usize;
    while clients.len() + failed < sessions {
        let n = BATCH.min(sessions - clients.len() - failed);
        let mut batch = Vec::new();
        for _ in 0..n {
            let url = url.clone();
            batch.push(tokio::spawn(async move {
                let c = connect(&url).await?;
                status_call(&c).await?;
                Ok::<_, String>(c)
            }));
        }
        for t in batch {
            match t.await {
                Ok(Ok(c)) => clients.push(Arc::new(c)),
                Ok(Err(e)) => {
                    failed += 1;
                    if failed <= 3 {
                        eprintln!("a session failed: {e}");
                    }
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("a session task failed: {e}");
                }
            }
        }
    }
    let ramp = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let full_rss = rss_kib(pid);
    let open = clients.len();
    println!(
        "{open} sessions open (each made one system_status call), {failed} failed, in {:.1} s",
        ramp.as_secs_f64()
    );
    let per = (full_rss.saturating_sub(idle_rss)) as f64 / open.max(1) as f64;
    println!("server RSS with {open} sessions: {full_rss} KiB ({per:.1} KiB per session)");

    // Every session calls again at once: they all still work.
    let again = Instant::now();
    let tasks: Vec<_> = clients
        .iter()
        .map(|c| {
            let c = c.clone();
            tokio::spawn(async move { status_call(&c).await })
        })
        .collect();
    let mut ok = 0usize;
    for t in tasks {
        if matches!(t.await, Ok(Ok(()))) {
            ok += 1;
        }
    }
    println!(
        "a second call on every session at once: {ok}/{open} ok in {:.2} s ({:.0} calls/s)",
        again.elapsed().as_secs_f64(),
        ok as f64 / again.elapsed().as_secs_f64()
    );
    let peak_rss = rss_kib(pid);
    println!("server RSS after that burst: {peak_rss} KiB");

    // One more than the cap is refused.
    match connect(&url).await {
        Ok(_) => println!("session {} over the cap: ACCEPTED (unexpected)", open + 1),
        Err(e) => println!(
            "session {} over the cap: refused ({})",
            open + 1,
            e.chars().take(120).collect::<String>()
        ),
    }

    // Idle sessions expire: wait the idle timeout (and a margin), then an old session's call
    // fails and a new session opens.
    println!("waiting {idle} s + 5 s for the idle sessions to expire ...");
    tokio::time::sleep(Duration::from_secs(idle + 5)).await;
    let expired_rss = rss_kib(pid);
    match status_call(&clients[0]).await {
        Ok(()) => println!("a call on an idle session after the timeout: ok (not expired!)"),
        Err(e) => println!(
            "a call on an idle session after the timeout fails: {}",
            e.chars().take(120).collect::<String>()
        ),
    }
    match connect(&url).await {
        Ok(c) => {
            println!(
                "a new session after the expiry: {}",
                if status_call(&c).await.is_ok() {
                    "opens and calls"
                } else {
                    "opens, call fails"
                }
            );
            c.cancel().await.ok();
        }
        Err(e) => println!("a new session after the expiry: refused ({e})"),
    }
    println!("server RSS after the sessions expired: {expired_rss} KiB");
    drop(clients);
    let _ = child.kill();
    let _ = child.wait();
    sim.shutdown().await;
}

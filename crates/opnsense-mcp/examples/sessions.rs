//! Stateful streamable HTTP under load (prints figures, never asserts them): the real binary
//! (`serve --transport http`, built next to this example) against the simulator on loopback.
//! First, with the session cap at N (default 1,000) and a long idle timeout: N concurrent MCP
//! sessions of rmcp's client, each making a call; the server's RSS idle and with every session
//! open (total and per session); a second call on every session at once; session N+1 refused.
//! Then, on a server with a short idle timeout (IDLE seconds, default 30) and a cap of 100: 100
//! sessions opened, the 101st refused, and after the idle timeout a new one accepted again (the
//! idle sessions expired and freed their slots), with the RSS before and after.
//!
//! `cargo build --release -p opnsense-mcp --example sessions --bin opnsense-mcp` then
//! `target/release/examples/sessions [SESSIONS] [IDLE_SECONDS]` (SESSIONS 0: the expiry phase only).

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

/// A server on a free loopback port: the process, its URL.
fn start_server(
    sim: &Simulator,
    state: &std::path::Path,
    cap: usize,
    idle: u64,
) -> (std::process::Child, String) {
    let mut child = Command::new(binary())
        .args(["serve", "--transport", "http", "--http-port", "0"])
        .env("OPNSENSE_URL", sim.base_url())
        .env("OPNSENSE_API_KEY", sim.api_key())
        .env("OPNSENSE_API_SECRET", sim.api_secret())
        .env("OPNSENSE_CA_FILE", sim.ca_file())
        .env("OPNSENSE_HTTP_TOKEN", TOKEN)
        .env("OPNSENSE_HTTP_MAX_SESSIONS", cap.to_string())
        .env("OPNSENSE_HTTP_IDLE_TIMEOUT", idle.to_string())
        .env("OPNSENSE_READ_ONLY", "true")
        .env("XDG_CONFIG_HOME", state)
        .env("XDG_STATE_HOME", state)
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn opnsense-mcp (build it first: --bin opnsense-mcp)");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut url = String::new();
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(rest) = line.split("listening on ").nth(1) {
            rest.trim().clone_into(&mut url);
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
    (child, url)
}

/// Opens `n` sessions, `batch` at a time, each making one call; the open ones and the failures.
async fn open_sessions(url: &str, n: usize, batch: usize) -> (Vec<Arc<Client>>, usize) {
    let mut clients: Vec<Arc<Client>> = Vec::with_capacity(n);
    let mut failed = 0usize;
    while clients.len() + failed < n {
        let k = batch.min(n - clients.len() - failed);
        let mut batch = Vec::new();
        for _ in 0..k {
            let url = url.to_owned();
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
    (clients, failed)
}

/// Whether one more session is refused (the cap is reached).
async fn refused(url: &str) -> String {
    match connect(url).await {
        Ok(c) => {
            c.cancel().await.ok();
            "ACCEPTED".to_owned()
        }
        Err(e) => format!("refused ({})", e.chars().take(100).collect::<String>()),
    }
}

#[tokio::main]
async fn main() {
    let mut argv = std::env::args().skip(1);
    let sessions: usize = argv.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let idle: u64 = argv.next().and_then(|a| a.parse().ok()).unwrap_or(30);
    let sim = Simulator::start(SimConfig::default())
        .await
        .expect("simulator");
    let state = tempfile::tempdir().expect("temp dir");

    if sessions > 0 {
        hold(&sim, state.path(), sessions).await;
    }
    expire(&sim, state.path(), idle).await;
    sim.shutdown().await;
}

/// Phase 1: holds `sessions` sessions (idle timeout far beyond the ramp).
async fn hold(sim: &Simulator, state: &std::path::Path, sessions: usize) {
    let (mut child, url) = start_server(sim, state, sessions, 3600);
    let pid = child.id();
    // One session first, so the figures below are sessions, not the first call's warm-up.
    let warm = connect(&url).await.expect("first session");
    status_call(&warm).await.expect("first call");
    warm.cancel().await.ok();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = rss_kib(pid);
    println!("server RSS idle (after one session): {idle_rss} KiB");
    let started = Instant::now();
    let (clients, failed) = open_sessions(&url, sessions, BATCH).await;
    let ramp = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let full_rss = rss_kib(pid);
    let open = clients.len();
    println!(
        "{open} sessions open (each made one system_status call), {failed} failed, in {:.1} s",
        ramp.as_secs_f64()
    );
    let per = full_rss.saturating_sub(idle_rss) as f64 / open.max(1) as f64;
    println!("server RSS with {open} sessions: {full_rss} KiB ({per:.1} KiB per session)");
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
    println!("server RSS after that burst: {} KiB", rss_kib(pid));
    println!("session {} over the cap: {}", open + 1, refused(&url).await);
    for c in clients {
        if let Ok(c) = Arc::try_unwrap(c) {
            c.cancel().await.ok();
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "server RSS after every session closed: {} KiB",
        rss_kib(pid)
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// Phase 2: idle sessions expire and free their slots (`idle` must exceed the time to open
/// the 100 sessions, or the first ones expire before the cap is reached).
async fn expire(sim: &Simulator, state: &std::path::Path, idle: u64) {
    let cap = 100;
    let (mut child, url) = start_server(sim, state, cap, idle);
    let pid = child.id();
    // One at a time: the cap is reached exactly (concurrent opens near the cap can be refused
    // early, see the note on `OPNSENSE_HTTP_MAX_SESSIONS`).
    let (clients, _) = open_sessions(&url, cap, 1).await;
    println!(
        "expiry: {} sessions open at the cap of {cap}, RSS {} KiB; one more: {}",
        clients.len(),
        rss_kib(pid),
        refused(&url).await
    );
    println!("waiting {idle} s + 5 s for the idle sessions to expire ...");
    tokio::time::sleep(Duration::from_secs(idle + 5)).await;
    println!(
        "after the idle timeout: a new session is {} (RSS {} KiB)",
        if refused(&url).await == "ACCEPTED" {
            "accepted: the idle sessions expired"
        } else {
            "still refused"
        },
        rss_kib(pid)
    );
    drop(clients);
    let _ = child.kill();
    let _ = child.wait();
}

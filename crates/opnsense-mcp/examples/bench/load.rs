//! Load generators (compiled, multi-threaded, on the bench's own runtime): MCP sessions over
//! streamable HTTP calling one tool in a loop, and the floor, the same upstream request sent
//! straight to the static upstream at the same concurrency.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Run {
    pub calls: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    /// CPU the bench process (the load generator) used during the run.
    pub driver_cpu: Duration,
}

impl Run {
    pub fn per_sec(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let n = self.calls as f64;
        n / self.elapsed.as_secs_f64()
    }
}

fn http_client(ca_pem: Option<&[u8]>, pool: usize) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .pool_max_idle_per_host(pool)
        .http1_only()
        .tcp_nodelay(true);
    if let Some(pem) = ca_pem {
        b = b
            .tls_certs_only(reqwest::Certificate::from_pem_bundle(pem).expect("CA"))
            .https_only(true);
    }
    b.build().expect("client")
}

/// Runs `sessions` loops of `one` for `duration` (at most `max_calls` calls in all).
async fn drive<F, Fut>(sessions: usize, duration: Duration, max_calls: usize, one: F) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = ()> + Send,
{
    let budget = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(max_calls));
    let cpu0 = crate::proc::cpu_ns(std::process::id());
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for s in 0..sessions {
        let one = one.clone();
        let budget = budget.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline
                && budget
                    .fetch_update(
                        std::sync::atomic::Ordering::AcqRel,
                        std::sync::atomic::Ordering::Acquire,
                        |n| n.checked_sub(1),
                    )
                    .is_ok()
            {
                let t = Instant::now();
                one(s).await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("task"));
    }
    let elapsed = started.elapsed();
    let cpu1 = crate::proc::cpu_ns(std::process::id());
    Run {
        calls: latencies.len(),
        elapsed,
        latencies,
        driver_cpu: Duration::from_nanos(cpu1.saturating_sub(cpu0)),
    }
}

/// The floor: `GET core/system/status` straight to the upstream, `sessions` at a time.
pub async fn floor(
    upstream: &str,
    ca_pem: &[u8],
    sessions: usize,
    duration: Duration,
    max_calls: usize,
) -> Run {
    let client = http_client(Some(ca_pem), sessions);
    let url = format!("{upstream}/api/core/system/status");
    // Open the connections first, as the MCP sessions are opened before their runs.
    let warm: Vec<_> = (0..sessions)
        .map(|_| {
            let c = client.clone();
            let u = url.clone();
            tokio::spawn(async move { get(&c, &u).await })
        })
        .collect();
    for w in warm {
        w.await.expect("warm");
    }
    drive(sessions, duration, max_calls, move |_| {
        let c = client.clone();
        let u = url.clone();
        async move { get(&c, &u).await }
    })
    .await
}

async fn get(c: &reqwest::Client, url: &str) {
    let r = c
        .get(url)
        .basic_auth("bench-key", Some("bench-secret"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("upstream");
    assert!(r.status().is_success());
    let _ = r.bytes().await.expect("body");
}

/// MCP sessions over streamable HTTP.
pub struct Mcp {
    client: reqwest::Client,
    url: String,
    sessions: Vec<String>,
}

impl Mcp {
    /// Opens `n` sessions (initialize + initialized), `parallel` at a time.
    pub async fn open(url: &str, n: usize) -> Self {
        let client = http_client(None, n);
        let mut sessions = Vec::new();
        for chunk in (0..n).collect::<Vec<_>>().chunks(16) {
            let opened: Vec<_> = chunk
                .iter()
                .map(|_| {
                    let c = client.clone();
                    let u = url.to_owned();
                    tokio::spawn(async move { open_session(&c, &u).await })
                })
                .collect();
            for o in opened {
                sessions.push(o.await.expect("open"));
            }
        }
        Self {
            client,
            url: url.to_owned(),
            sessions,
        }
    }

    /// Every session calls `tool` with `args` in a loop.
    pub async fn run(&self, tool: &str, args: Value, duration: Duration, max_calls: usize) -> Run {
        let client = self.client.clone();
        let url = self.url.clone();
        let ids: std::sync::Arc<Vec<String>> = std::sync::Arc::new(self.sessions.clone());
        let body = std::sync::Arc::new(
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool, "arguments": args}})
                .to_string(),
        );
        drive(self.sessions.len(), duration, max_calls, move |s| {
            let c = client.clone();
            let u = url.clone();
            let ids = ids.clone();
            let body = body.clone();
            async move {
                let text = post(&c, &u, Some(&ids[s]), body.as_str().to_owned())
                    .await
                    .1;
                assert!(
                    text.contains("\"result\"") && !text.contains("\"isError\":true"),
                    "{}",
                    &text[..text.len().min(300)]
                );
            }
        })
        .await
    }

    /// Ends every session (`DELETE /mcp`).
    pub async fn close(self) {
        for id in &self.sessions {
            let _ = self
                .client
                .delete(&self.url)
                .header("mcp-session-id", id)
                .send()
                .await;
        }
    }
}

async fn post(
    c: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    body: String,
) -> (reqwest::header::HeaderMap, String) {
    let mut req = c
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(s) = session {
        req = req
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", "2025-11-25");
    }
    let r = req.body(body).send().await.expect("mcp post");
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.expect("mcp body");
    assert!(status.is_success(), "{status}: {text}");
    (headers, text)
}

async fn open_session(c: &reqwest::Client, url: &str) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}});
    let (headers, _) = post(c, url, None, init.to_string()).await;
    let id = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .expect("session id")
        .to_owned();
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    post(c, url, Some(&id), note.to_string()).await;
    id
}

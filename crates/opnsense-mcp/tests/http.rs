//! The Streamable HTTP transport of the real binary, against the simulator: bearer token,
//! an rmcp client session, Host/Origin checks, body limit, `/healthz`, the session cap,
//! graceful SIGTERM with a call in flight, and the refusal to bind off loopback without a token.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{BIN, Listening, SECRET};
use opnsense_sim::Simulator;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};
use tokio::process::Command;
use tokio::time::timeout;

const TOKEN: &str = "test-token-0123456789abcdef";
const WAIT: Duration = Duration::from_secs(20);

/// The binary serving HTTP on an ephemeral loopback port, plus its simulator.
struct Server {
    http: Listening,
    sim: Simulator,
    _home: tempfile::TempDir,
}

impl Server {
    async fn start(extra_env: &[(&str, &str)]) -> Self {
        let sim = Simulator::start(common::sim_config())
            .await
            .expect("simulator");
        let home = common::home();
        let mut c = Command::from(common::command(home.path()));
        c.envs(common::sim_env(&sim))
            .env("OPNSENSE_HTTP_TOKEN", TOKEN)
            .envs(extra_env.iter().copied())
            .args(["serve", "--transport", "http", "--http-port", "0"]);
        Self {
            http: Listening::spawn(c, WAIT).await,
            sim,
            _home: home,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http.addr)
    }

    fn stderr(&self) -> String {
        self.http.stderr()
    }

    /// Sends SIGTERM and returns the exit code (within the limit).
    async fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.http.child.id().expect("pid").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
        let Ok(status) = timeout(WAIT, self.http.child.wait()).await else {
            panic!("no exit after SIGTERM; stderr: {}", self.stderr())
        };
        let code = status.expect("wait").code();
        // The child is gone, so its stderr reaches EOF: the reader has taken every line once
        // it ends.
        let Ok(read) = timeout(WAIT, &mut self.http.reader).await else {
            panic!(
                "stderr did not close after the exit; stderr: {}",
                self.stderr()
            )
        };
        read.expect("stderr reader");
        let stderr = self.stderr();
        assert!(!stderr.contains(SECRET), "secret in stderr: {stderr}");
        (code, stderr)
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("reqwest client")
}

fn initialize_body() -> Value {
    common::initialize_request("2025-06-18", "http-test")
}

/// A raw MCP POST with the headers the transport requires.
fn mcp_post(server: &Server, token: Option<&str>) -> reqwest::RequestBuilder {
    let mut r = http()
        .post(server.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .header("Content-Type", "application/json");
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r
}

/// Sends an `initialize` request through `request`.
async fn initialize(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.json(&initialize_body()).send().await.expect("send")
}

async fn rmcp_client(server: &Server) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    server.http.rmcp_client(TOKEN, WAIT).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_guards_mcp_and_a_real_session_works() {
    let server = Server::start(&[]).await;

    // No token, wrong token, wrong scheme: 401 with a Bearer challenge.
    for token in [None, Some("wrong-token-0123456789abcdef")] {
        let resp = initialize(mcp_post(&server, token)).await;
        assert_eq!(resp.status(), 401);
        let challenge = common::header(&resp, "www-authenticate")
            .unwrap_or_default()
            .to_owned();
        assert!(challenge.starts_with("Bearer"), "{challenge:?}");
    }
    let resp = initialize(
        http()
            .post(server.url("/mcp"))
            .basic_auth("user", Some(TOKEN)),
    )
    .await;
    assert_eq!(resp.status(), 401);

    // The right token: a real rmcp session.
    let client = rmcp_client(&server).await;
    let info = client.peer_info().expect("server info");
    let name = info.server_info.as_ref().map(|i| i.name.as_str());
    assert_eq!(name, Some("opnsense-mcp"));
    common::list_tools_and_call_status(client, WAIT).await;

    let (code, stderr) = server.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("opnsense_api::audit"),
        "audit lines on stderr: {stderr}"
    );
}

/// A raw `initialize` that opens a session: its id and the answer's body.
async fn open_session(server: &Server) -> (String, String) {
    let resp = initialize(mcp_post(server, Some(TOKEN))).await;
    assert_eq!(resp.status(), 200);
    let session = common::header(&resp, "mcp-session-id")
        .expect("session id")
        .to_owned();
    (session, resp.text().await.expect("initialize answer"))
}

/// A raw MCP POST within `session`, returning the body (JSON or server-sent events).
async fn session_post(server: &Server, session: &str, body: &Value) -> (u16, String) {
    let resp = mcp_post(server, Some(TOKEN))
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", "2025-06-18")
        .json(body)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_audit_lines_name_the_tool_the_request_id_and_the_session() {
    let server = Server::start(&[]).await;
    let (session, init) = open_session(&server).await;
    assert!(init.contains("opnsense-mcp"), "{init}");
    let (status, _) = session_post(
        &server,
        &session,
        &json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
    )
    .await;
    assert_eq!(status, 202);
    let before = common::audit_lines(&server.stderr()).len();
    let (status, answer) = session_post(
        &server,
        &session,
        &json!({"jsonrpc":"2.0","id":"http-call-5","method":"tools/call",
            "params":{"name":"firewall_alias_list","arguments":{"row_count":2}}}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("structuredContent"), "{answer}");

    let (code, stderr) = server.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
    // The startup probe's lines belong to no call (the probe may still run after initialize
    // was answered); every other later line does.
    let calls: Vec<serde_json::Value> = common::audit_lines(&stderr)[before..]
        .iter()
        .filter(|a| a["span"]["phase"] != "startup")
        .cloned()
        .collect();
    assert!(!calls.is_empty(), "no audit line for the call: {stderr}");
    for a in &calls {
        let span = &a["span"];
        assert_eq!(span["name"], "tool", "{a}");
        assert_eq!(span["tool"], "firewall_alias_list", "{a}");
        assert_eq!(span["mcp_request_id"], "http-call-5", "{a}");
        assert_eq!(span["session"], session.as_str(), "{a}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_origin_body_limit_and_healthz() {
    let server = Server::start(&[]).await;

    // DNS rebinding: a foreign Host is refused even with the token.
    let resp = initialize(mcp_post(&server, Some(TOKEN)).header("Host", "evil.example")).await;
    assert!(
        resp.status() == 403 || resp.status() == 421,
        "{}",
        resp.status()
    );

    // A foreign browser Origin is refused; a loopback one is fine.
    let resp =
        initialize(mcp_post(&server, Some(TOKEN)).header("Origin", "http://evil.example")).await;
    assert_eq!(resp.status(), 403);
    let resp =
        initialize(mcp_post(&server, Some(TOKEN)).header("Origin", "http://localhost:5173")).await;
    assert_eq!(resp.status(), 200);

    // More than 1 MiB: 413.
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":9,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat((1 << 20) + 1024)
    );
    let resp = mcp_post(&server, Some(TOKEN))
        .body(big)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 413);

    // /healthz: no token, says nothing but ok.
    let resp = http()
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.expect("body"), "ok");

    let (code, stderr) = server.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_cap_answers_503() {
    let server = Server::start(&[("OPNSENSE_HTTP_MAX_SESSIONS", "2")]).await;
    let mut sessions = Vec::new();
    for _ in 0..2 {
        sessions.push(open_session(&server).await.0);
    }
    let resp = initialize(mcp_post(&server, Some(TOKEN))).await;
    assert_eq!(resp.status(), 503);

    // Closing a session frees its slot.
    let resp = http()
        .delete(server.url("/mcp"))
        .bearer_auth(TOKEN)
        .header("mcp-session-id", &sessions[0])
        .send()
        .await
        .expect("send");
    assert!(resp.status().is_success(), "{}", resp.status());
    let resp = initialize(mcp_post(&server, Some(TOKEN))).await;
    assert_eq!(resp.status(), 200);

    let (code, stderr) = server.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_expire_and_free_their_slot() {
    let server = Server::start(&[
        ("OPNSENSE_HTTP_MAX_SESSIONS", "1"),
        ("OPNSENSE_HTTP_IDLE_TIMEOUT", "1"),
    ])
    .await;
    let resp = initialize(mcp_post(&server, Some(TOKEN))).await;
    assert_eq!(resp.status(), 200);
    drop(resp);
    let resp = initialize(mcp_post(&server, Some(TOKEN))).await;
    assert_eq!(resp.status(), 503, "the only slot is taken");
    // The idle session expires and its slot becomes free again (bounded wait, no timing claim).
    timeout(WAIT, async {
        loop {
            let resp = initialize(mcp_post(&server, Some(TOKEN))).await;
            if resp.status() == 200 {
                break;
            }
            assert_eq!(resp.status(), 503);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("the idle session expired");
    let (code, stderr) = server.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_call_in_flight_finish_then_exits_0() {
    let server = Server::start(&[]).await;
    let client = rmcp_client(&server).await;
    // Every OPNsense answer now takes a while, so the call is surely in flight at SIGTERM.
    server.sim.faults().set_latency(Duration::from_millis(1500));
    let before = server.sim.request_count();
    let call = tokio::spawn(async move {
        let r = client
            .call_tool(CallToolRequestParams::new("system_status"))
            .await;
        let _ = client.cancel().await;
        r
    });
    timeout(WAIT, async {
        while server.sim.request_count() == before {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the call reached the simulator");
    let (code, stderr) = server.terminate().await;
    let result = timeout(WAIT, call)
        .await
        .expect("call finished in time")
        .expect("task")
        .expect("the call in flight was answered");
    assert_ne!(result.is_error, Some(true), "{result:?}");
    assert!(result.structured_content.is_some(), "{result:?}");
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_loopback_bind_without_token_exits_2_before_binding() {
    let home = tempfile::tempdir().expect("temp dir");
    let out = timeout(
        WAIT,
        Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("OPNSENSE_URL", "https://192.0.2.1")
            .env("OPNSENSE_API_KEY", "k")
            .env("OPNSENSE_API_SECRET", SECRET)
            .args([
                "serve",
                "--transport",
                "http",
                "--http-host",
                "0.0.0.0",
                "--http-port",
                "0",
            ])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("exits in time")
    .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("listening on"), "{stderr}");
    assert!(stderr.contains("OPNSENSE_HTTP_TOKEN"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_closed_mid_call_fails_only_its_own_calls() {
    let server = Server::start(&[]).await;
    let a = rmcp_client(&server).await;
    let b = rmcp_client(&server).await;
    // Every OPNsense answer takes a while, so both calls are in flight when A closes.
    server.sim.faults().set_latency(Duration::from_millis(1500));
    let before = server.sim.request_count();
    let (pa, pb) = (a.peer().clone(), b.peer().clone());
    let call_a = tokio::spawn(async move {
        pa.call_tool(CallToolRequestParams::new("system_status"))
            .await
    });
    let call_b = tokio::spawn(async move {
        pb.call_tool(CallToolRequestParams::new("system_status"))
            .await
    });
    timeout(WAIT, async {
        while server.sim.request_count() < before + 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("both calls reached the simulator");
    // A closes its session (DELETE) while its call is in flight.
    let _ = timeout(WAIT, a.cancel()).await.expect("A closes in time");
    let a_result = timeout(WAIT, call_a)
        .await
        .expect("A's call ends in time")
        .expect("task");
    assert!(
        a_result.as_ref().map_or(true, |r| r.is_error == Some(true)),
        "the closed session's call must fail: {a_result:?}"
    );
    let b_result = timeout(WAIT, call_b)
        .await
        .expect("B's call ends in time")
        .expect("task")
        .expect("B's call is answered");
    assert_ne!(b_result.is_error, Some(true), "{b_result:?}");
    assert!(b_result.structured_content.is_some(), "{b_result:?}");
    // B goes on working, and new sessions open.
    server.sim.faults().set_latency(Duration::ZERO);
    common::call_status(&b, WAIT, "B's next call").await;
    let c = rmcp_client(&server).await;
    common::call_status(&c, WAIT, "a new session's call").await;
    let _ = timeout(WAIT, b.cancel()).await;
    let _ = timeout(WAIT, c.cancel()).await;
    let (code, stderr) = server.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
}

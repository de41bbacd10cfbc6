//! Client tokens over HTTP (`OPNSENSE_HTTP_TOKENS_FILE`), with the real binary on 127.0.0.1:
//! tokens made by `opnsense-mcp token new`, a `read` token that sees and calls only read-only
//! tools, the client's name on every audit line of its calls, and failed authentication
//! throttled per source address (429 with Retry-After), logged without the token.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::{Listening, SECRET};
use opnsense_sim::Simulator;
use rmcp::model::CallToolRequestParams;
use serde_json::{Value, json};
use tokio::process::Command;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(30);

/// `opnsense-mcp token new`: the token and the tokens-file line it printed.
fn new_token(home: &std::path::Path, name: &str, scope: &str) -> (String, String) {
    let mut c = common::command(home);
    c.args(["token", "new", "--name", name, "--scope", scope]);
    let out = common::run(c);
    out.expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().filter(|l| !l.starts_with('#')).collect();
    let [token, line] = lines.as_slice() else {
        panic!("token and line expected: {out:#?}")
    };
    assert!(
        line.starts_with(&format!("{name} ")) && line.ends_with(&format!(" {scope}")),
        "{line}"
    );
    assert!(!line.contains(token), "the line holds only the hash");
    ((*token).to_owned(), (*line).to_owned())
}

struct Server {
    http: Listening,
    _sim: Simulator,
}

impl Server {
    async fn start(home: &std::path::Path, tokens_file: &std::path::Path) -> Self {
        let sim = Simulator::start(common::sim_config())
            .await
            .expect("simulator");
        let mut c = Command::from(common::command(home));
        c.envs(common::sim_env(&sim))
            .env("OPNSENSE_HTTP_TOKENS_FILE", tokens_file)
            .args(["serve", "--transport", "http", "--http-port", "0"]);
        Self {
            http: Listening::spawn(c, WAIT).await,
            _sim: sim,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/mcp", self.http.addr)
    }

    fn stderr(&self) -> String {
        self.http.stderr()
    }

    async fn client(&self, token: &str) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
        self.http.rmcp_client(token, WAIT).await
    }
}

fn tokens_file(home: &std::path::Path, lines: &[&str]) -> std::path::PathBuf {
    let path = home.join("tokens");
    std::fs::write(
        &path,
        format!("# name sha256 scope\n{}\n", lines.join("\n")),
    )
    .expect("write");
    path
}

async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    tool: &str,
    args: Value,
) -> rmcp::model::CallToolResult {
    let Value::Object(args) = args else {
        panic!("object")
    };
    timeout(
        WAIT,
        client.call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args)),
    )
    .await
    .expect("in time")
    .expect("tools/call")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_token_sees_and_calls_only_read_tools_and_audit_lines_name_the_client() {
    let home = tempfile::tempdir().expect("home");
    let (reader, reader_line) = new_token(home.path(), "reader", "read");
    let (admin, admin_line) = new_token(home.path(), "admin", "write");
    assert_ne!(reader, admin);
    let file = tokens_file(home.path(), &[&reader_line, &admin_line]);
    let stored = std::fs::read_to_string(&file).expect("read");
    assert!(!stored.contains(&reader) && !stored.contains(&admin));
    let server = Server::start(home.path(), &file).await;

    let client = server.client(&reader).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(tools.len() > 10, "{} tools", tools.len());
    for t in &tools {
        assert_eq!(
            t.annotations.as_ref().and_then(|a| a.read_only_hint),
            Some(true),
            "a read token lists {}",
            t.name
        );
    }
    assert!(!tools.iter().any(|t| t.name == "firewall_alias_add"));
    let refused = call(
        &client,
        "firewall_alias_add",
        json!({"dry_run": true, "alias": {"name": "x", "type": "host", "content": ["192.0.2.1"]}}),
    )
    .await;
    assert_eq!(refused.is_error, Some(true), "{refused:?}");
    let text = format!("{refused:?}");
    assert!(
        text.contains("read-only token") && text.contains("reader"),
        "{text}"
    );
    let status = call(&client, "system_status", json!({})).await;
    assert_ne!(status.is_error, Some(true), "{status:?}");
    let _ = timeout(WAIT, client.cancel()).await;

    let client = server.client(&admin).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(tools.iter().any(|t| t.name == "firewall_alias_add"));
    let planned = call(
        &client,
        "firewall_alias_add",
        json!({"dry_run": true, "alias": {"name": "x", "type": "host", "content": ["192.0.2.1"]}}),
    )
    .await;
    assert_ne!(planned.is_error, Some(true), "{planned:?}");
    let listed = call(&client, "firewall_alias_list", json!({})).await;
    assert_ne!(listed.is_error, Some(true), "{listed:?}");
    let _ = timeout(WAIT, client.cancel()).await;

    let stderr = server.stderr();
    let audited: Vec<Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["span"]["name"] == "tool")
        .collect();
    assert!(
        audited
            .iter()
            .any(|v| v["span"]["client"] == "reader" && v["span"]["tool"] == "system_status"),
        "{stderr}"
    );
    assert!(
        audited
            .iter()
            .any(|v| v["span"]["client"] == "admin" && v["span"]["tool"] == "firewall_alias_list"),
        "{stderr}"
    );
    assert!(
        audited
            .iter()
            .all(|v| v["span"]["client"] == "reader" || v["span"]["client"] == "admin"),
        "{stderr}"
    );
    for secret in [reader.as_str(), admin.as_str(), SECRET] {
        assert!(!stderr.contains(secret), "secret in stderr");
    }
    drop(server.http.child);
}

fn http_from(local: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WAIT)
        .local_address(local)
        .build()
        .expect("reqwest client")
}

async fn initialize(client: &reqwest::Client, server: &Server, token: &str) -> reqwest::Response {
    client
        .post(server.url())
        .header("Accept", "application/json, text/event-stream")
        .header("Content-Type", "application/json")
        .bearer_auth(token)
        .json(&common::initialize_request("2025-06-18", "tokens-test"))
        .send()
        .await
        .expect("send")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentication_is_throttled_per_address_and_logged_without_the_token() {
    let home = tempfile::tempdir().expect("home");
    let (good, line) = new_token(home.path(), "ops", "write");
    let file = tokens_file(home.path(), &[&line]);
    let server = Server::start(home.path(), &file).await;
    let first: IpAddr = "127.0.0.1".parse().expect("ip");
    let second: IpAddr = "127.0.0.2".parse().expect("ip");
    let from_first = http_from(first);
    const WRONG: &str = "wrong-token-5b3c9e1d77aa";
    for _ in 0..5 {
        assert_eq!(initialize(&from_first, &server, WRONG).await.status(), 401);
    }
    let throttled = initialize(&from_first, &server, WRONG).await;
    assert_eq!(throttled.status(), 429);
    let wait: u64 = common::header(&throttled, "retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    // The address is throttled whatever it sends now.
    assert_eq!(initialize(&from_first, &server, &good).await.status(), 429);
    // Another source address is not.
    let from_second = http_from(second);
    assert_eq!(initialize(&from_second, &server, &good).await.status(), 200);
    let stderr = server.stderr();
    assert!(
        stderr.contains("refused an HTTP request from 127.0.0.1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("too many failed authentications"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(WRONG) && !stderr.contains(&good),
        "{stderr}"
    );
    drop(server.http.child);
}

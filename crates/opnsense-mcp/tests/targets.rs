//! Several firewalls from one server: the real binary over stdio with `[targets.NAME]` tables
//! pointing at separate simulators. A read-only target refuses a write another target makes, a
//! change id of one target is unknown to another, `target_list` shows no credential, every
//! audit line names its target, `check` prints one line per target, and `fleet_status` answers
//! for the healthy firewalls while one that accepts connections but never answers is reported
//! as timed out.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opnsense_sim::{SimConfig, Simulator};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use common::{fleet_config, target_table};

const STEP: Duration = Duration::from_secs(60);

type Client = RunningService<RoleClient, ()>;

/// A simulator whose API secret is `secret`.
async fn sim(secret: &str) -> Simulator {
    Simulator::start(SimConfig {
        api_secret: secret.to_owned(),
        ..SimConfig::default()
    })
    .await
    .expect("simulator")
}

/// The binary over stdio with `config` as its config file; its stderr is collected.
async fn connect(home: &Path, config: &str, extra_args: &[&str]) -> (Client, Arc<Mutex<String>>) {
    let path = common::write_config(home, config);
    let mut cmd = tokio::process::Command::new(common::BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("RUST_LOG", "warn")
        .arg("--config")
        .arg(&path)
        .args(["serve", "--transport", "stdio"])
        .args(extra_args);
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the server");
    let log = Arc::new(Mutex::new(String::new()));
    if let Some(stderr) = stderr {
        let sink = log.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut l = sink.lock().expect("log");
                l.push_str(&line);
                l.push('\n');
            }
        });
    }
    let client = match tokio::time::timeout(STEP, ().serve(transport)).await {
        Ok(Ok(c)) => c,
        other => panic!(
            "initialize failed: {other:?}\nstderr:\n{}",
            log.lock().expect("log")
        ),
    };
    (client, log)
}

async fn call(client: &Client, tool: &str, args: Value) -> (bool, Value) {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    let r = tokio::time::timeout(
        STEP,
        client.call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args)),
    )
    .await
    .expect("call timed out")
    .expect("tools/call");
    let text: String = r
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n");
    let value = r.structured_content.clone().unwrap_or(Value::String(text));
    (r.is_error == Some(true), value)
}

fn alias(name: &str) -> Value {
    json!({"name": name, "type": "host", "content": ["192.0.2.10"], "description": "targets test"})
}

fn has_alias(sim: &Simulator, name: &str) -> bool {
    sim.staged().aliases().iter().any(|a| a["name"] == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_target_policy_journal_and_audit() {
    let office = sim("office-secret-5d1e0c").await;
    let branch = sim("branch-secret-8a4f27").await;
    let lab = sim("lab-secret-93bc60").await;
    let home = tempfile::tempdir().expect("home");
    let config = fleet_config(
        "office",
        &[
            target_table("office", &office, ""),
            target_table("branch", &branch, ""),
            target_table("lab", &lab, "read_only = true"),
        ],
    );
    let (client, log) = connect(home.path(), &config, &[]).await;

    // The union of the tools, `target` listing the targets that offer each.
    let tools = client.list_all_tools().await.expect("tools/list");
    let schema = |name: &str| {
        let t = tools
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name} listed"));
        Value::Object((*t.input_schema).clone())
    };
    assert_eq!(
        schema("system_status")["properties"]["target"]["enum"],
        json!(["branch", "lab", "office"])
    );
    assert_eq!(
        schema("firewall_alias_add")["properties"]["target"]["enum"],
        json!(["branch", "office"]),
        "the read-only target does not offer writes"
    );
    assert!(tools.iter().any(|t| t.name == "target_list"));
    assert!(tools.iter().any(|t| t.name == "fleet_status"));

    // The read-only target refuses the write, naming itself and why; nothing reaches it.
    let writes_before = lab.requests().iter().filter(|r| r.method == "POST").count();
    let (failed, refused) = call(
        &client,
        "firewall_alias_add",
        json!({"target": "lab", "alias": alias("lab_alias")}),
    )
    .await;
    assert!(failed, "{refused}");
    let refused = refused.to_string();
    assert!(
        refused.contains("`lab`") && refused.contains("read-only"),
        "{refused}"
    );
    assert!(!has_alias(&lab, "lab_alias"));
    assert_eq!(
        lab.requests().iter().filter(|r| r.method == "POST").count(),
        writes_before,
        "nothing was sent to the read-only target"
    );

    // Another target makes it (and the default target is office).
    let (failed, added) = call(
        &client,
        "firewall_alias_add",
        json!({"target": "branch", "alias": alias("branch_alias")}),
    )
    .await;
    assert!(!failed, "{added}");
    assert!(has_alias(&branch, "branch_alias"));
    assert!(!has_alias(&office, "branch_alias") && !has_alias(&lab, "branch_alias"));
    let (failed, added) = call(
        &client,
        "firewall_alias_add",
        json!({"alias": alias("office_alias")}),
    )
    .await;
    assert!(!failed, "{added}");
    assert!(has_alias(&office, "office_alias"), "no target: the default");
    assert!(!has_alias(&branch, "office_alias"));

    // A change id belongs to the target that made it.
    let (failed, applied) = call(
        &client,
        "firewall_alias_apply",
        json!({"target": "branch", "confirm_timeout_s": 600}),
    )
    .await;
    assert!(!failed, "{applied}");
    let change_id = applied["change_id"].as_str().expect("change id").to_owned();
    let (failed, other) = call(
        &client,
        "change_get",
        json!({"target": "office", "change_id": change_id}),
    )
    .await;
    assert!(failed, "office must not know branch's change: {other}");
    assert!(other.to_string().contains("not found"), "{other}");
    let (failed, confirmed) = call(
        &client,
        "change_confirm",
        json!({"target": "branch", "change_id": change_id}),
    )
    .await;
    assert!(!failed, "{confirmed}");
    // An unknown target is refused, naming the targets.
    let (failed, unknown) = call(&client, "system_status", json!({"target": "nope"})).await;
    assert!(failed);
    assert!(
        unknown.to_string().contains("branch, lab, office"),
        "{unknown}"
    );

    // target_list: the three, with hosts and read-only, and no credential at all.
    let (failed, list) = call(&client, "target_list", json!({})).await;
    assert!(!failed, "{list}");
    assert_eq!(list["default"], "office");
    let rows = list["targets"].as_array().expect("targets");
    assert_eq!(rows.len(), 3);
    for (row, sim, read_only) in [
        (&rows[0], &branch, false),
        (&rows[1], &lab, true),
        (&rows[2], &office, false),
    ] {
        assert_eq!(row["host"], format!("127.0.0.1:{}", sim.addr().port()));
        assert_eq!(row["read_only"], read_only, "{row}");
        assert_eq!(row["reachable"], true, "checked at startup: {row}");
    }
    let shown = list.to_string();
    for s in [&office, &branch, &lab] {
        assert!(!shown.contains(s.api_secret()), "secret in {shown}");
        assert!(!shown.contains(s.api_key()), "key in {shown}");
    }

    let _ = client.cancel().await;
    let log = log.lock().expect("log").clone();
    // Every audit line of a tool call names its target.
    let audited: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["span"]["name"] == "tool")
        .collect();
    assert!(!audited.is_empty(), "{log}");
    assert!(
        audited
            .iter()
            .all(|v| v["span"]["target"].is_string() && v["span"]["client"] == "-"),
        "{log}"
    );
    assert!(audited.iter().any(|v| v["span"]["target"] == "branch"
        && v["span"]["tool"] == "firewall_alias_add"
        && v["path"].as_str().is_some_and(|p| p.contains("alias"))));
    for s in [&office, &branch, &lab] {
        assert!(!log.contains(s.api_secret()), "secret in stderr");
    }
}

/// A loopback port that accepts connections and never answers (a hung firewall).
async fn silent_port() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (port, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_status_answers_for_the_healthy_and_times_out_the_silent() {
    let a = sim("fleet-a-secret-1c2d").await;
    let b = sim("fleet-b-secret-3e4f").await;
    let (port, silent) = silent_port().await;
    let home = tempfile::tempdir().expect("home");
    let hung = format!(
        "[targets.hung]\nurl = \"https://127.0.0.1:{port}\"\napi_key = \"k\"\napi_secret = \"hung-secret-77\"\nca_file = \"{}\"\n",
        a.ca_file().display()
    );
    let config = fleet_config(
        "a",
        &[target_table("a", &a, ""), target_table("b", &b, ""), hung],
    );
    let (client, log) = connect(home.path(), &config, &["--no-probe"]).await;
    let (failed, status) = call(&client, "fleet_status", json!({"timeout_s": 2})).await;
    assert!(!failed, "{status}");
    assert_eq!(status["asked"], 3, "{status}");
    assert_eq!(status["ok"], 2, "{status}");
    assert_eq!(status["unreachable"], 1, "{status}");
    let rows = status["rows"].as_array().expect("rows");
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["target"] == name)
            .unwrap_or_else(|| panic!("{name} in {status}"))
    };
    assert_eq!(row("hung")["outcome"], "timed_out", "{status}");
    for name in ["a", "b"] {
        let r = row(name);
        assert_eq!(r["outcome"], "ok", "{r}");
        assert_eq!(r["firmware"]["installed"], "26.1.10", "{r}");
        assert!(r["system"]["level"].is_string(), "{r}");
        assert!(r["gateways"]["total"].as_u64().is_some(), "{r}");
    }
    // A glob picks targets; one matching nothing is refused.
    let (failed, only_b) = call(&client, "fleet_status", json!({"targets": "b*"})).await;
    assert!(!failed, "{only_b}");
    assert_eq!(only_b["asked"], 1);
    let (failed, none) = call(&client, "fleet_status", json!({"targets": "zz*"})).await;
    assert!(
        failed && none.to_string().contains("matches no target"),
        "{none}"
    );
    // target_list now knows the hung one is unreachable.
    let (_, list) = call(&client, "target_list", json!({})).await;
    let hung = list["targets"]
        .as_array()
        .and_then(|t| t.iter().find(|r| r["name"] == "hung"))
        .cloned()
        .expect("hung listed");
    assert_eq!(hung["reachable"], false, "{list}");
    let _ = client.cancel().await;
    silent.abort();
    assert!(!log.lock().expect("log").contains("hung-secret-77"));
}

#[test]
fn check_prints_one_line_per_target() {
    let a = common::Sim::start(|_| {});
    let b = common::Sim::start(|c| c.api_secret = "check-b-secret-42".into());
    let home = tempfile::tempdir().expect("home");
    let path = common::write_config(
        home.path(),
        &fleet_config(
            "a",
            &[
                target_table("a", &a.sim, ""),
                target_table("b", &b.sim, "read_only = true"),
            ],
        ),
    );
    let mut c = common::command(home.path());
    c.arg("--config").arg(&path).arg("check");
    let out = common::run(c);
    out.expect_code(0).no_secret("check-b-secret-42");
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(lines.len(), 2, "{out:#?}");
    assert_eq!(lines[0]["target"], "a");
    assert_eq!(lines[0]["ok"], true);
    assert_eq!(lines[0]["firmware"], "26.1.10");
    assert!(
        lines[0]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&a.sim.base_url())),
        "{out:#?}"
    );
    assert_eq!(lines[1]["target"], "b");
    assert_eq!(lines[1]["ok"], true, "{out:#?}");

    // A wrong secret on one target: exit 3, its line says why, the other still checks.
    let wrong_b = format!(
        "[targets.b]\nurl = \"{}\"\napi_key = \"{}\"\napi_secret = \"wrong-secret-e1\"\nca_file = \"{}\"\n",
        b.sim.base_url(),
        b.sim.api_key(),
        b.sim.ca_file().display()
    );
    common::write_config(
        home.path(),
        &fleet_config("a", &[target_table("a", &a.sim, ""), wrong_b]),
    );
    let mut c = common::command(home.path());
    c.arg("--config").arg(&path).arg("check");
    let out = common::run(c);
    out.expect_code(3)
        .no_secret("wrong-secret-e1")
        .failure_mentions(&["1 target(s) failed", "b:"]);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(lines[0]["ok"], true, "{out:#?}");
    assert_eq!(lines[1]["ok"], false, "{out:#?}");
    assert!(
        lines[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("401")),
        "{out:#?}"
    );
    // Each audit line names its target.
    let audit: Vec<Value> = out
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    assert!(audit.len() >= 2, "{out:#?}");
    for line in &audit {
        let t = &line["span"]["target"];
        assert!(t == "a" || t == "b", "{line}");
    }
    assert!(
        audit
            .iter()
            .any(|l| l["span"]["target"] == "b" && l["status"] == 401)
    );
}

//! The MCP surface beyond tools, end to end: the real binary over stdio, rmcp's client with a
//! handler that records every notification, the simulator over HTTPS. Resources (list without
//! reads, read, templates, unknown records; two `[targets.NAME]` on two simulators: each
//! target's resources, read from its own firewall, an unknown target refused), prompts (list, get with typed arguments),
//! completions (interfaces, hosts from the ARP table, rule uuids by prefix and by description,
//! alias names, MACs), and the notifications: the TLS warning, `logging/setLevel` filtering,
//! resource updates for writes, applies and the timer's reverts, a failed revert as an error,
//! and progress of an apply.
// MCP logging is deprecated by SEP-2577 in rmcp, but part of protocol 2025-11-25.
#![allow(deprecated)]

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opnsense_sim::Simulator;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientCapabilities, ClientConfig, ClientRequest,
    GetPromptRequestParams, Implementation, LoggingLevel, LoggingMessageNotificationParam,
    ProgressNotificationParam, ReadResourceRequestParams, ResourceContents,
    ResourceUpdatedNotificationParam, ServerResult, SetLevelRequestParams, SubscribeRequestParams,
};
use rmcp::service::{NotificationContext, PeerRequestOptions, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::common::{fleet_config, target_table, write_config};
use crate::support::{STEP_TIMEOUT, listed_rows, server_command, server_env, start_simulator};

/// Every notification the server sent, in arrival order, as `{kind, ...}`.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Value>>>,
}

impl Recorder {
    fn push(&self, v: Value) {
        self.seen.lock().expect("lock").push(v);
    }

    /// Records a notification's parameters as a `kind` notification.
    fn record(&self, kind: &str, params: &impl serde::Serialize) {
        let mut v = serde_json::to_value(params).expect("json");
        v["kind"] = json!(kind);
        self.push(v);
    }

    fn all(&self) -> Vec<Value> {
        self.seen.lock().expect("lock").clone()
    }

    fn of(&self, kind: &str) -> Vec<Value> {
        self.all()
            .into_iter()
            .filter(|v| v["kind"] == kind)
            .collect()
    }

    /// Waits (at most [`STEP_TIMEOUT`]) until `enough` holds for the notifications so far.
    async fn wait(&self, what: &str, enough: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let waited = tokio::time::timeout(STEP_TIMEOUT, async {
            loop {
                let all = self.all();
                if enough(&all) {
                    return all;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        })
        .await;
        waited.unwrap_or_else(|_| panic!("waited for {what}; notifications: {:#?}", self.all()))
    }
}

impl ClientHandler for Recorder {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("opnsense-mcp-e2e-surface", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.record("progress", &params);
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.record("log", &params);
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.push(json!({"kind": "updated", "uri": params.uri}));
    }
}

type Session = RunningService<RoleClient, Recorder>;

/// The binary over stdio with `extra` environment, and what it sends besides answers.
async fn connect(sim: &Simulator, extra: &[(&str, String)]) -> (Session, Recorder) {
    let mut env = server_env(sim);
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let cmd = server_command(&["serve", "--transport", "stdio"], &env);
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn opnsense-mcp serve");
    let log = stderr.map(crate::support::Log::drain).unwrap_or_default();
    let recorder = Recorder::default();
    match tokio::time::timeout(STEP_TIMEOUT, recorder.clone().serve(transport)).await {
        Ok(Ok(client)) => (client, recorder),
        Ok(Err(e)) => panic!("initialize failed: {e}\nstderr:\n{}", log.text()),
        Err(e) => panic!("initialize: {e}\nstderr:\n{}", log.text()),
    }
}

async fn step<T, E: std::fmt::Display>(what: &str, f: impl Future<Output = Result<T, E>>) -> T {
    match tokio::time::timeout(STEP_TIMEOUT, f).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("{what}: {e}"),
        Err(elapsed) => panic!("{what}: {elapsed}"),
    }
}

/// A tool call's structured result (it must succeed).
async fn call(client: &Session, tool: &str, args: Value) -> Value {
    let Value::Object(args) = args else {
        panic!("arguments of {tool} must be an object")
    };
    let r = step(
        tool,
        client.call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args)),
    )
    .await;
    let r = serde_json::to_value(&r).expect("json");
    assert_ne!(r["isError"], json!(true), "{tool} failed: {r}");
    r["structuredContent"].clone()
}

/// A resource's text and MIME type.
async fn read(client: &Session, uri: &str) -> (String, String) {
    let r = step(
        uri,
        client.read_resource(ReadResourceRequestParams::new(uri)),
    )
    .await;
    assert_eq!(r.contents.len(), 1, "{uri}: one content");
    match &r.contents[0] {
        ResourceContents::TextResourceContents {
            uri: got,
            mime_type,
            text,
            ..
        } => {
            assert_eq!(got, uri);
            (text.clone(), mime_type.clone().unwrap_or_default())
        }
        other => panic!("{uri}: not text: {other:?}"),
    }
}

async fn read_json(client: &Session, uri: &str) -> Value {
    let (text, mime) = read(client, uri).await;
    assert_eq!(mime, "application/json", "{uri}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{uri} is not JSON ({e}): {text}"))
}

fn text(record: &Value, key: &str) -> String {
    record[key].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_prompts_and_completions_of_the_binary() {
    let sim = start_simulator().await;
    let (client, _) = connect(&sim, &[]).await;
    let staged = sim.staged();

    // resources/list: every resource, with its MIME type; no size (listing reads nothing).
    let listed = step("resources/list", client.list_all_resources()).await;
    let names: BTreeSet<&str> = listed.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["aliases", "config", "interfaces", "leases", "nat", "rules"])
    );
    for r in &listed {
        assert_eq!(r.uri, format!("opnsense://default/{}", r.name));
        let mime = r.mime_type.as_deref().unwrap_or_default();
        assert_eq!(
            mime,
            if r.name == "config" {
                "application/xml"
            } else {
                "application/json"
            },
            "{}",
            r.name
        );
        assert_eq!(r.size, None, "{}: listed without a read", r.name);
    }

    // The configuration is exactly what system_config_backup returns: redacted.
    let backup = step(
        "system_config_backup",
        client.call_tool(CallToolRequestParams::new("system_config_backup")),
    )
    .await;
    let backup = serde_json::to_value(&backup).expect("json");
    let backup_xml = backup["content"][1]["text"].as_str().expect("xml block");
    let (config, mime) = read(&client, "opnsense://default/config").await;
    assert_eq!(mime, "application/xml");
    assert_eq!(config, backup_xml);
    assert!(backup["structuredContent"]["redacted"] == json!(true));
    assert!(!config.contains(sim.api_secret()));

    // The rule set: every rule of the firewall.
    let (rules_text, _) = read(&client, "opnsense://default/rules").await;
    let rules: Value = serde_json::from_str(&rules_text).expect("json");
    let uuids: BTreeSet<String> = listed_rows(&rules)
        .iter()
        .map(|r| text(r, "uuid"))
        .collect();
    for r in staged.filter_rules() {
        assert!(
            uuids.contains(&text(r, "uuid")),
            "rule {r} is in the resource"
        );
    }
    assert_eq!(rules["total"].as_u64(), Some(uuids.len() as u64));
    for (uri, records, key) in [
        ("opnsense://default/aliases", staged.aliases(), "name"),
        ("opnsense://default/nat", staged.port_forwards(), "uuid"),
    ] {
        let v = read_json(&client, uri).await;
        let shown: BTreeSet<String> = listed_rows(&v).iter().map(|r| text(r, key)).collect();
        for r in records {
            assert!(
                shown.contains(&text(r, key)),
                "{uri} shows {}",
                text(r, key)
            );
        }
    }
    let interfaces = read_json(&client, "opnsense://default/interfaces").await;
    assert!(interfaces["total"].as_u64().is_some_and(|n| n > 0));
    let leases = read_json(&client, "opnsense://default/leases").await;
    assert!(leases["rows"].is_array());

    // Templates: one record of a target by uuid.
    let templates = step(
        "resources/templates/list",
        client.list_all_resource_templates(),
    )
    .await;
    let uris: BTreeSet<&str> = templates.iter().map(|t| t.uri_template.as_str()).collect();
    assert_eq!(
        uris,
        BTreeSet::from([
            "opnsense://{target}/aliases/{uuid}",
            "opnsense://{target}/nat/{uuid}",
            "opnsense://{target}/rules/{uuid}",
        ])
    );
    let rule = &staged.filter_rules()[0];
    let one = read_json(
        &client,
        &format!("opnsense://default/rules/{}", text(rule, "uuid")),
    )
    .await;
    assert_eq!(one["uuid"], rule["uuid"]);
    assert_eq!(one["item"]["description"], rule["description"]);
    let alias = &staged.aliases()[0];
    let one = read_json(
        &client,
        &format!("opnsense://default/aliases/{}", text(alias, "uuid")),
    )
    .await;
    assert_eq!(one["item"]["name"], alias["name"]);
    let forward = &staged.port_forwards()[0];
    let one = read_json(
        &client,
        &format!("opnsense://default/nat/{}", text(forward, "uuid")),
    )
    .await;
    assert_eq!(one["item"]["uuid"], forward["uuid"]);
    for missing in [
        "opnsense://default/rules/00000000-0000-4000-8000-000000000000",
        "opnsense://default/rules/not-a-uuid",
        "opnsense://default/secrets",
        "opnsense://elsewhere/rules",
    ] {
        let r = tokio::time::timeout(
            STEP_TIMEOUT,
            client.read_resource(ReadResourceRequestParams::new(missing)),
        )
        .await
        .expect("answered");
        assert!(r.is_err(), "{missing} must not read: {r:?}");
    }

    // Prompts: listed with their arguments; typed arguments are checked.
    let prompts = step("prompts/list", client.list_all_prompts()).await;
    let names: BTreeSet<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "audit_firewall",
            "block_device",
            "open_port",
            "review_pending_changes",
            "troubleshoot_connectivity",
        ])
    );
    let open_port = prompts
        .iter()
        .find(|p| p.name == "open_port")
        .expect("open_port");
    let required: BTreeSet<&str> = open_port
        .arguments
        .iter()
        .flatten()
        .filter(|a| a.required == Some(true))
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(
        required,
        BTreeSet::from(["internal_host", "port", "service"])
    );
    let args = |v: Value| v.as_object().cloned().expect("object");
    let got = step(
        "prompts/get open_port",
        client.get_prompt(
            GetPromptRequestParams::new("open_port").with_arguments(args(
                json!({"service": "web server", "port": "8443", "internal_host": "192.168.1.10"}),
            )),
        ),
    )
    .await;
    let body = serde_json::to_value(&got.messages)
        .expect("json")
        .to_string();
    for needle in [
        "firewall_nat_add",
        "dry_run",
        "firewall_nat_apply",
        "change_confirm",
        "8443",
    ] {
        assert!(body.contains(needle), "open_port mentions {needle}: {body}");
    }
    let refused = tokio::time::timeout(
        STEP_TIMEOUT,
        client.get_prompt(
            GetPromptRequestParams::new("open_port").with_arguments(args(
                json!({"service": "web", "port": "99999", "internal_host": "192.168.1.10"}),
            )),
        ),
    )
    .await
    .expect("answered");
    assert!(refused.is_err(), "port 99999 is refused: {refused:?}");

    // Completions.
    let interfaces = step(
        "complete interface",
        client.complete_prompt_simple("audit_firewall", "interface", ""),
    )
    .await;
    assert!(
        interfaces.iter().any(|i| i == "lan") && interfaces.iter().any(|i| i == "wan"),
        "{interfaces:?}"
    );
    let arp = call(&client, "interface_arp_table", json!({})).await;
    let neighbour = listed_rows(&arp).first().cloned().unwrap_or_default();
    let ip = text(&neighbour, "ip");
    assert!(!ip.is_empty(), "the simulator has ARP entries: {arp}");
    let hosts = step(
        "complete internal_host",
        client.complete_prompt_simple("open_port", "internal_host", &ip[..3]),
    )
    .await;
    assert!(hosts.contains(&ip), "{ip} in {hosts:?}");
    assert!(hosts.iter().all(|h| h.starts_with(&ip[..3])), "{hosts:?}");
    let devices = step(
        "complete device",
        client.complete_prompt_simple("block_device", "device", ""),
    )
    .await;
    assert!(devices.contains(&text(&neighbour, "mac")), "{devices:?}");
    let rule_uuid = text(rule, "uuid");
    let by_prefix = step(
        "complete rule uuid",
        client.complete_resource_simple("opnsense://default/rules/{uuid}", "uuid", &rule_uuid[..6]),
    )
    .await;
    assert!(by_prefix.contains(&rule_uuid), "{by_prefix:?}");
    let description = text(rule, "description");
    let word = description
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_owned();
    let by_description = step(
        "complete rule by description",
        client.complete_resource_simple("opnsense://default/rules/{uuid}", "uuid", &word),
    )
    .await;
    assert!(
        by_description.contains(&rule_uuid),
        "{word:?} finds {rule_uuid}: {by_description:?}"
    );
    let alias_name = text(alias, "name");
    let endpoints = step(
        "complete source",
        client.complete_prompt_simple("troubleshoot_connectivity", "source", &alias_name[..2]),
    )
    .await;
    assert!(endpoints.contains(&alias_name), "{endpoints:?}");
    let none = step(
        "complete port",
        client.complete_prompt_simple("open_port", "port", "8"),
    )
    .await;
    assert!(none.is_empty(), "a port is free text: {none:?}");

    let _ = client.cancel().await;
    sim.shutdown().await;
}

/// A simulator with its own seed (so its uuids are its own).
async fn seeded_simulator(seed: u64) -> Simulator {
    tokio::time::timeout(
        STEP_TIMEOUT,
        Simulator::start(opnsense_sim::SimConfig {
            seed,
            ..opnsense_sim::SimConfig::default()
        }),
    )
    .await
    .expect("simulator start timed out")
    .expect("simulator starts")
}

fn uuids(rows: &[Value]) -> BTreeSet<String> {
    rows.iter().map(|r| text(r, "uuid")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_target_has_its_own_resources() {
    let office = seeded_simulator(11).await;
    let branch = seeded_simulator(22).await;
    let home = tempfile::tempdir().expect("home");
    let config = write_config(
        home.path(),
        &fleet_config(
            "office",
            &[
                target_table("office", &office, ""),
                target_table("branch", &branch, "tools_deny = [\"firewall_rule_*\"]"),
            ],
        ),
    );
    let config = config.display().to_string();
    let cmd = server_command(
        &["--config", &config, "serve", "--transport", "stdio"],
        &[
            ("RUST_LOG".to_owned(), "warn".to_owned()),
            (
                "XDG_STATE_HOME".to_owned(),
                home.path().display().to_string(),
            ),
        ],
    );
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn opnsense-mcp serve");
    let log = stderr.map(crate::support::Log::drain).unwrap_or_default();
    let seen = Recorder::default();
    let client = match tokio::time::timeout(STEP_TIMEOUT, seen.clone().serve(transport)).await {
        Ok(Ok(client)) => client,
        Ok(Err(e)) => panic!("initialize failed: {e}\nstderr:\n{}", log.text()),
        Err(e) => panic!("initialize: {e}\nstderr:\n{}", log.text()),
    };

    // Both targets are listed, each as its policy offers (branch denies the rule tools).
    let listed = step("resources/list", client.list_all_resources()).await;
    let uris: BTreeSet<String> = listed.iter().map(|r| r.uri.clone()).collect();
    let mut expected = BTreeSet::new();
    for path in ["aliases", "config", "interfaces", "leases", "nat", "rules"] {
        expected.insert(format!("opnsense://office/{path}"));
        if path != "rules" {
            expected.insert(format!("opnsense://branch/{path}"));
        }
    }
    assert_eq!(uris, expected, "stderr:\n{}", log.text());

    // Each read comes from that target's firewall.
    let office_rules = uuids(&listed_rows(
        &read_json(&client, "opnsense://office/rules").await,
    ));
    let (office_state, branch_state) = (office.staged(), branch.staged());
    assert!(
        uuids(office_state.filter_rules()).is_subset(&office_rules),
        "office's rules resource shows office's rules"
    );
    assert!(
        uuids(branch_state.filter_rules()).is_disjoint(&office_rules),
        "and none of branch's"
    );
    let mut shown = Vec::new();
    for (target, state) in [("office", &office_state), ("branch", &branch_state)] {
        let v = read_json(&client, &format!("opnsense://{target}/aliases")).await;
        let got = uuids(&listed_rows(&v));
        for alias in state.aliases() {
            assert!(
                got.contains(&text(alias, "uuid")),
                "{target} shows its alias {alias}"
            );
        }
        shown.push(got);
    }
    assert_ne!(shown[0], shown[1], "each target shows its own aliases");
    let alias = branch_state
        .aliases()
        .iter()
        .find(|a| text(a, "uuid").len() == 36)
        .expect("branch has an alias with a uuid");
    let one = read_json(
        &client,
        &format!("opnsense://branch/aliases/{}", text(alias, "uuid")),
    )
    .await;
    assert_eq!(one["item"]["name"], alias["name"]);
    let completed = step(
        "complete a branch alias uuid",
        client.complete_resource_simple("opnsense://branch/aliases/{uuid}", "uuid", ""),
    )
    .await;
    assert!(completed.contains(&text(alias, "uuid")), "{completed:?}");

    // An unknown target is an error naming the targets; a resource branch's policy hides is
    // not there.
    for (uri, needle) in [
        ("opnsense://elsewhere/rules", "branch, office"),
        ("opnsense://branch/rules", "firewall_rule_list"),
    ] {
        let r = tokio::time::timeout(
            STEP_TIMEOUT,
            client.read_resource(ReadResourceRequestParams::new(uri)),
        )
        .await
        .expect("answered");
        let e = r.expect_err(uri).to_string();
        assert!(e.contains(needle), "{uri}: {e}");
    }

    // A subscription is per target: a write on branch updates branch's aliases, not office's.
    const OFFICE_ALIASES: &str = "opnsense://office/aliases";
    const BRANCH_ALIASES: &str = "opnsense://branch/aliases";
    for uri in [OFFICE_ALIASES, BRANCH_ALIASES] {
        step(
            "subscribe",
            client.subscribe(SubscribeRequestParams::new(uri)),
        )
        .await;
    }
    call(
        &client,
        "firewall_alias_add",
        json!({"target": "branch", "alias": {"name": "e2e_branch_only", "type": "host", "content": ["10.9.0.7"], "description": "e2e per target"}}),
    )
    .await;
    seen.wait("branch's update", |all| updates(all, BRANCH_ALIASES) >= 1)
        .await;
    assert_eq!(
        updates(&seen.all(), OFFICE_ALIASES),
        0,
        "office did not change: {:#?}",
        seen.of("updated")
    );
    assert!(
        branch
            .staged()
            .aliases()
            .iter()
            .any(|a| a["name"] == "e2e_branch_only")
    );
    assert!(
        !office
            .staged()
            .aliases()
            .iter()
            .any(|a| a["name"] == "e2e_branch_only")
    );

    let _ = client.cancel().await;
    office.shutdown().await;
    branch.shutdown().await;
}

/// Calls an apply tool with a progress token; answers its structured result and the token.
async fn apply_with_progress(client: &Session, tool: &str, args: Value) -> (Value, Value) {
    let Value::Object(args) = args else {
        panic!("object")
    };
    let request = ClientRequest::CallToolRequest(CallToolRequest::new(
        CallToolRequestParams::new(tool.to_owned()).with_arguments(args),
    ));
    let handle = step(
        tool,
        client.send_cancellable_request(request, PeerRequestOptions::no_options()),
    )
    .await;
    let token = serde_json::to_value(&handle.progress_token).expect("json");
    let answer = step(tool, handle.await_response()).await;
    let ServerResult::CallToolResult(result) = answer else {
        panic!("{tool}: not a tool result: {answer:?}")
    };
    let result = serde_json::to_value(&result).expect("json");
    assert_ne!(result["isError"], json!(true), "{tool} failed: {result}");
    (result["structuredContent"].clone(), token)
}

fn updates(all: &[Value], uri: &str) -> usize {
    all.iter()
        .filter(|v| v["kind"] == "updated" && v["uri"] == uri)
        .count()
}

fn logs_with(all: &[Value], needle: &str) -> Vec<Value> {
    all.iter()
        .filter(|v| v["kind"] == "log" && v["data"].as_str().is_some_and(|d| d.contains(needle)))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_hear_of_changes_at_the_level_they_chose_with_progress() {
    let sim = start_simulator().await;
    let state = tempfile::tempdir().expect("state dir");
    let (client, seen) = connect(
        &sim,
        &[
            ("OPNSENSE_VERIFY_TLS", "false".to_owned()),
            ("OPNSENSE_STATE_DIR", state.path().display().to_string()),
        ],
    )
    .await;
    const ALIASES: &str = "opnsense://default/aliases";
    const RULES: &str = "opnsense://default/rules";

    // Verification off: the session is warned (the default level lets warnings through).
    let all = seen
        .wait("the TLS warning", |all| {
            !logs_with(all, "TLS certificate verification").is_empty()
        })
        .await;
    assert_eq!(
        logs_with(&all, "TLS certificate verification")[0]["level"],
        "warning"
    );

    for uri in [ALIASES, RULES] {
        step(
            "subscribe",
            client.subscribe(SubscribeRequestParams::new(uri)),
        )
        .await;
    }
    let refused = tokio::time::timeout(
        STEP_TIMEOUT,
        client.subscribe(SubscribeRequestParams::new("opnsense://default/nothing")),
    )
    .await
    .expect("answered");
    assert!(
        refused.is_err(),
        "an unknown resource cannot be subscribed to"
    );

    // Level error: a revert's warning is not sent, its update is.
    step(
        "setLevel error",
        client.set_level(SetLevelRequestParams::new(LoggingLevel::Error)),
    )
    .await;
    let alias = |name: &str| json!({"alias": {"name": name, "type": "host", "content": ["10.9.0.1"], "description": "e2e surface"}});
    call(&client, "firewall_alias_add", alias("e2e_surface_a")).await;
    seen.wait("the update of the write", |all| updates(all, ALIASES) >= 1)
        .await;
    let (applied, token) = apply_with_progress(
        &client,
        "firewall_alias_apply",
        json!({"confirm_timeout_s": 1}),
    )
    .await;
    assert_eq!(applied["status"], "pending", "{applied}");
    let change_id = applied["change_id"].as_str().expect("change id").to_owned();
    // Progress: every step of the apply, in order, for this request's token.
    let all = seen
        .wait("five progress steps", |all| {
            all.iter()
                .filter(|v| v["kind"] == "progress" && v["progressToken"] == token)
                .count()
                >= 5
        })
        .await;
    let mut steps: Vec<(f64, f64)> = all
        .iter()
        .filter(|v| v["kind"] == "progress" && v["progressToken"] == token)
        .map(|v| {
            (
                v["progress"].as_f64().expect("progress"),
                v["total"].as_f64().expect("total"),
            )
        })
        .collect();
    // The server sends them in order on one stream; rmcp's client runs each notification's
    // handler in a task of its own, so they may reach `seen` out of order: compare as a set of
    // exactly these five steps.
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(
        steps,
        [(1.0, 5.0), (2.0, 5.0), (3.0, 5.0), (4.0, 5.0), (5.0, 5.0)]
    );
    // The apply, then the timer's revert, each change what the aliases show.
    let all = seen
        .wait("the updates of the apply and the revert", |all| {
            updates(all, ALIASES) >= 3
        })
        .await;
    let got = call(&client, "change_get", json!({"change_id": change_id})).await;
    assert_eq!(got["change"]["status"], "reverted", "{got}");
    assert!(
        logs_with(&all, "about to be reverted").is_empty(),
        "level error holds back warnings: {all:#?}"
    );

    // Level warning: the next revert's warning arrives.
    step(
        "setLevel warning",
        client.set_level(SetLevelRequestParams::new(LoggingLevel::Warning)),
    )
    .await;
    call(&client, "firewall_alias_add", alias("e2e_surface_b")).await;
    let (applied, _) = apply_with_progress(
        &client,
        "firewall_alias_apply",
        json!({"confirm_timeout_s": 1}),
    )
    .await;
    let second = applied["change_id"].as_str().expect("change id").to_owned();
    let all = seen
        .wait("the warning before the revert", |all| {
            !logs_with(all, &format!("change {second}")).is_empty() && updates(all, ALIASES) >= 6
        })
        .await;
    let about = logs_with(
        &all,
        &format!("change {second} (firewall.alias) is about to be reverted"),
    );
    assert_eq!(about.len(), 1, "{all:#?}");
    assert_eq!(about[0]["level"], "warning");
    assert!(
        logs_with(&all, "was reverted").is_empty(),
        "a notice is below warning: {all:#?}"
    );

    // A revert that fails is an error message.
    call(&client, "firewall_alias_add", alias("e2e_surface_c")).await;
    let (applied, _) = apply_with_progress(
        &client,
        "firewall_alias_apply",
        json!({"confirm_timeout_s": 3}),
    )
    .await;
    let third = applied["change_id"].as_str().expect("change id").to_owned();
    sim.faults().set_error_rate(1.0);
    let all = seen
        .wait("the failed revert", |all| {
            !logs_with(all, &format!("the revert of change {third}")).is_empty()
        })
        .await;
    sim.faults().set_error_rate(0.0);
    let failed = logs_with(&all, &format!("the revert of change {third}"));
    assert_eq!(failed[0]["level"], "error", "{failed:?}");

    // Nothing of this touched the rules.
    assert_eq!(updates(&seen.all(), RULES), 0, "{:#?}", seen.of("updated"));

    // The filter reload apply group: an outbound NAT apply makes a staged filter rule live, so
    // the rules' subscribers hear of the write and of the apply; the port forwards, of which
    // none was staged, are not touched.
    const NAT: &str = "opnsense://default/nat";
    step(
        "subscribe",
        client.subscribe(SubscribeRequestParams::new(NAT)),
    )
    .await;
    call(
        &client,
        "firewall_rule_add",
        json!({"rule": {"action": "pass", "interface": ["opt1"], "protocol": "TCP", "source_net": "10.9.0.0/24", "destination_port": "8080", "description": "e2e surface"}}),
    )
    .await;
    seen.wait("the update of the rule write", |all| {
        updates(all, RULES) >= 1
    })
    .await;
    call(
        &client,
        "firewall_snat_add",
        json!({"rule": {"interface": "wan", "source_net": "10.9.0.0/24", "target": "wanip", "description": "e2e surface"}}),
    )
    .await;
    let applied = call(
        &client,
        "firewall_snat_apply",
        json!({"confirm_timeout_s": 0}),
    )
    .await;
    assert_eq!(applied["status"], "confirmed", "{applied}");
    assert_eq!(
        applied["records"].as_array().map(Vec::len),
        Some(2),
        "the filter rule and the outbound NAT rule: {applied}"
    );
    seen.wait("the rules' update of the outbound NAT apply", |all| {
        updates(all, RULES) >= 2
    })
    .await;
    assert_eq!(updates(&seen.all(), NAT), 0, "{:#?}", seen.of("updated"));

    let _ = client.cancel().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_07_28_client_listens_for_resource_updates() {
    use rmcp::model::{ProtocolVersion, ServerNotification, SubscriptionFilter};

    let sim = start_simulator().await;
    let state = tempfile::tempdir().expect("state dir");
    let mut env = server_env(&sim);
    env.push((
        "OPNSENSE_STATE_DIR".to_owned(),
        state.path().display().to_string(),
    ));
    let cmd = server_command(&["serve", "--transport", "stdio"], &env);
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn opnsense-mcp serve");
    let log = stderr.map(crate::support::Log::drain).unwrap_or_default();
    let client = match tokio::time::timeout(
        STEP_TIMEOUT,
        rmcp::service::serve_client_with_lifecycle(
            Recorder::default(),
            transport,
            rmcp::ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        ),
    )
    .await
    {
        Ok(Ok(client)) => client,
        Ok(Err(e)) => panic!("discover failed: {e}\nstderr:\n{}", log.text()),
        Err(e) => panic!("discover: {e}\nstderr:\n{}", log.text()),
    };
    const ALIASES: &str = "opnsense://default/aliases";
    let mut subscription = step(
        "subscriptions/listen",
        client.listen(
            SubscriptionFilter::builder()
                .resource_subscription(ALIASES)
                .resource_subscription("opnsense://default/nothing")
                .build(),
        ),
    )
    .await;
    assert_eq!(
        subscription.acknowledged().resource_subscriptions,
        Some(vec![ALIASES.to_owned()]),
        "only this server's resources are accepted"
    );
    call(
        &client,
        "firewall_alias_add",
        json!({"alias": {"name": "e2e_listen", "type": "host", "content": ["10.9.0.9"], "description": "e2e listen"}}),
    )
    .await;
    let next = step("the update", subscription.next()).await;
    match next {
        Some(ServerNotification::ResourceUpdatedNotification(n)) => {
            assert_eq!(n.params.uri, ALIASES);
        }
        other => panic!("expected a resource update, got {other:?}"),
    }
    let _ = client.cancel().await;
    sim.shutdown().await;
}

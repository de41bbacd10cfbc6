//! Shared helpers of the end-to-end tests: the `opnsense-mcp` binary cargo built for this
//! test target, the opt-in switch for the tests that need Python or Node, start the simulator, spawn the server over stdio or streamable HTTP, call tools
//! through rmcp's own client with a timeout on every step, and check the tool catalogue and
//! call results in their wire (JSON) form so the same checks serve the rmcp, Python and
//! Inspector clients.
//!
//! Everything talks to 127.0.0.1 only: the simulator serves HTTPS with its own CA, which the
//! server trusts through `OPNSENSE_CA_FILE` (TLS verification stays on).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use opnsense_sim::{SimConfig, Simulator};
use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::{RoleClient, RunningService, ServiceExt};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, BufReader, Lines};
use tokio::process::{Child, Command};

/// Bound on one MCP request (tool call, list) or one server start.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// The bearer token the HTTP tests use (the server wants at least 16 characters).
pub const HTTP_TOKEN: &str = "e2e-token-0123456789abcdef";
/// Number of tools of the reference server; the catalogue must offer at least these.
pub const MIN_TOOLS: usize = 43;

/// A connected rmcp client.
pub type Client = RunningService<RoleClient, ClientConfig>;

pub use crate::common::BIN;

/// The `opnsense-mcp` binary cargo built for this test run (no search, no nested build).
pub fn opnsense_mcp_binary() -> &'static Path {
    Path::new(BIN)
}

/// Cargo's target directory (`<target>/debug/opnsense-mcp` is [`BIN`]): where the Python venv
/// and the skip log live.
pub fn target_dir() -> PathBuf {
    Path::new(BIN)
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
}

/// The variable that turns on the tests that need more than Rust (Python, Node, the network).
pub const OPT_IN: &str = "OPNSENSE_E2E";

/// Whether the tests that need Python, Node or the network run: `OPNSENSE_E2E=1` (what
/// `cargo xtask ci` sets). Otherwise the test says it was skipped and how to run it, and
/// records its name in `<target>/e2e-skipped.txt` (so `cargo xtask ci` can prove nothing was
/// skipped). Any other value than `1` or unset fails the test: a typo must not skip silently.
///
/// Call it from the test's own thread: the test harness names that thread after the test
/// (`scale::stateless_replicas_behind_nginx`), and the skip says that name.
pub fn external_clients_enabled(needs: &str) -> bool {
    let current = std::thread::current();
    let test = current.name().unwrap_or("an end-to-end test");
    match std::env::var(OPT_IN).as_deref() {
        Ok("1") => true,
        Err(std::env::VarError::NotPresent) => {
            // Straight to stderr, past the test harness's capture, so it shows without
            // `--nocapture`.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: it needs {needs}; run it with `{OPT_IN}=1 cargo test -p opnsense-mcp --test e2e` \
                 (`cargo xtask ci` always does)"
            );
            let log = target_dir().join("e2e-skipped.txt");
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
            {
                let _ = writeln!(f, "{test}");
            }
            false
        }
        Ok(other) => panic!("{OPT_IN} must be 1 or unset, got {other:?}"),
        Err(e) => panic!("{OPT_IN} is not valid text: {e}"),
    }
}

/// Starts the simulator on 127.0.0.1 with a random port and its own CA.
pub async fn start_simulator() -> Simulator {
    tokio::time::timeout(STEP_TIMEOUT, Simulator::start(SimConfig::default()))
        .await
        .expect("simulator start timed out")
        .expect("simulator starts")
}

/// The environment that points the server at the simulator (TLS verified against its CA).
pub fn server_env(sim: &Simulator) -> Vec<(String, String)> {
    let mut env = crate::common::sim_env(sim);
    env.push(("RUST_LOG".into(), "warn".into()));
    env
}

/// A directory for `XDG_CONFIG_HOME` so no user config file leaks into a test.
pub fn empty_config_home() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("e2e-config-")
            .tempdir()
            .expect("temporary directory")
    })
    .path()
}

/// A command for the server binary with a clean `OPNSENSE_*` environment plus `env`.
pub fn server_command(args: &[&str], env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(opnsense_mcp_binary());
    cmd.args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OPNSENSE_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("XDG_CONFIG_HOME", empty_config_home());
    // The change journal of a test never lands in the user's state directory.
    cmd.env("XDG_STATE_HOME", empty_config_home().join("state"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Collects a child's stderr in the background (so the pipe never fills up) for diagnostics.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<String>>);

impl Log {
    /// Drains `reader` into the log until EOF.
    pub fn drain(reader: impl AsyncRead + Unpin + Send + 'static) -> Self {
        let log = Self::default();
        let sink = log.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(reader).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                sink.push(&line);
            }
        });
        log
    }

    /// Adds one line.
    pub fn push(&self, line: &str) {
        let mut text = self.0.lock().expect("log lock");
        text.push_str(line);
        text.push('\n');
    }

    /// Reads `lines` into the log until `found` picks a value out of one (that value), or the
    /// stream ends first (`None`).
    pub async fn read_until<T, R: AsyncBufRead + Unpin>(
        &self,
        lines: &mut Lines<R>,
        mut found: impl FnMut(&str) -> Option<T>,
    ) -> Option<T> {
        while let Ok(Some(line)) = lines.next_line().await {
            self.push(&line);
            if let Some(value) = found(&line) {
                return Some(value);
            }
        }
        None
    }

    /// Everything collected so far.
    pub fn text(&self) -> String {
        self.0.lock().expect("log lock").clone()
    }
}

fn client_info() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("opnsense-mcp-e2e", env!("CARGO_PKG_VERSION")),
    )
}

/// The server over stdio, driven by rmcp's child-process transport. Returns the client and
/// the server's stderr.
pub async fn connect_stdio(sim: &Simulator) -> (Client, Log) {
    let cmd = server_command(&["serve", "--transport", "stdio"], &server_env(sim));
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn opnsense-mcp serve --transport stdio");
    let log = stderr.map(Log::drain).unwrap_or_default();
    let client = match tokio::time::timeout(STEP_TIMEOUT, client_info().serve(transport)).await {
        Ok(Ok(client)) => client,
        Ok(Err(e)) => panic!(
            "MCP initialize over stdio failed: {e}\nserver stderr:\n{}",
            log.text()
        ),
        Err(elapsed) => panic!(
            "MCP initialize over stdio: {elapsed}\nserver stderr:\n{}",
            log.text()
        ),
    };
    (client, log)
}

/// A running `opnsense-mcp serve --transport http` process.
pub struct HttpServer {
    /// The process (killed when dropped).
    pub child: Child,
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    /// The server's stderr.
    pub log: Log,
}

impl HttpServer {
    /// Starts the server on a free loopback port with [`HTTP_TOKEN`] and waits for its
    /// `listening on` line.
    pub async fn start(sim: &Simulator) -> Self {
        Self::start_with(sim, &[]).await
    }

    /// [`Self::start`] with more environment (`OPNSENSE_HTTP_STATELESS`, a state URL, ...).
    pub async fn start_with(sim: &Simulator, extra: &[(String, String)]) -> Self {
        let mut env = server_env(sim);
        env.push(("OPNSENSE_HTTP_TOKEN".into(), HTTP_TOKEN.into()));
        env.push(("OPNSENSE_HTTP_HOST".into(), "127.0.0.1".into()));
        env.extend(extra.iter().cloned());
        let mut child = server_command(&["serve", "--transport", "http", "--http-port", "0"], &env)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn opnsense-mcp serve --transport http");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Log::default();
        let mut lines = BufReader::new(stderr).lines();
        let wait_for_url = log.read_until(&mut lines, |line| {
            let rest = line.split("listening on ").nth(1)?;
            Some(rest.trim().to_owned())
        });
        let url = match tokio::time::timeout(STEP_TIMEOUT, wait_for_url).await {
            Ok(Some(url)) => url,
            Ok(None) => panic!(
                "the HTTP server exited before listening: {:?}\nstderr:\n{}",
                child.try_wait(),
                log.text()
            ),
            Err(elapsed) => panic!(
                "the HTTP server did not report its address ({elapsed}, {STEP_TIMEOUT:?})\nstderr:\n{}",
                log.text()
            ),
        };
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"),
            "unexpected listening address {url}"
        );
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.push(&line);
            }
        });
        Self { child, url, log }
    }

    /// Connects rmcp's streamable HTTP client with the bearer token.
    pub async fn connect(&self) -> Client {
        self.connect_to(&self.url).await
    }

    /// Connects rmcp's streamable HTTP client with the bearer token to `url` (a proxy in front
    /// of this server); failures show this server's stderr.
    pub async fn connect_to(&self, url: &str) -> Client {
        let config =
            StreamableHttpClientTransportConfig::with_uri(url.to_owned()).auth_header(HTTP_TOKEN);
        let transport = StreamableHttpClientTransport::from_config(config);
        match tokio::time::timeout(STEP_TIMEOUT, client_info().serve(transport)).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!(
                "MCP initialize over HTTP failed: {e}\nserver stderr:\n{}",
                self.log.text()
            ),
            Err(elapsed) => panic!(
                "MCP initialize over HTTP: {elapsed}\nserver stderr:\n{}",
                self.log.text()
            ),
        }
    }

    /// Stops the server (SIGKILL; the tests keep no state in it).
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(STEP_TIMEOUT, self.child.wait()).await;
    }
}

/// Closes a client session, bounded.
pub async fn close(client: Client) {
    let _ = tokio::time::timeout(STEP_TIMEOUT, client.cancel()).await;
}

/// `tools/list` (all pages) as wire JSON.
pub async fn list_tools(client: &Client) -> Vec<Value> {
    let tools = tokio::time::timeout(STEP_TIMEOUT, client.list_all_tools())
        .await
        .expect("tools/list timed out")
        .expect("tools/list succeeds");
    tools
        .iter()
        .map(|t| serde_json::to_value(t).expect("tool serialises"))
        .collect()
}

/// `tools/call` as wire JSON (`content`, `structuredContent`, `isError`).
pub async fn call(client: &Client, tool: &str, args: Value) -> Value {
    let Value::Object(args) = args else {
        panic!("arguments of {tool} must be a JSON object")
    };
    let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(args);
    let result = tokio::time::timeout(STEP_TIMEOUT, client.call_tool(params))
        .await
        .unwrap_or_else(|_| panic!("{tool} timed out"))
        .unwrap_or_else(|e| panic!("{tool} failed at the protocol level: {e}"));
    serde_json::to_value(&result).expect("result serialises")
}

/// Whether a wire call result is an error.
pub fn is_error(result: &Value) -> bool {
    result.get("isError").and_then(Value::as_bool) == Some(true)
}

/// The text blocks of a wire call result, joined.
pub fn text_of(result: &Value) -> String {
    result
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The structured content of a successful call, or a panic naming the tool and its text.
pub fn expect_ok<'a>(tool: &str, result: &'a Value) -> &'a Value {
    assert!(!is_error(result), "{tool} failed: {}", text_of(result));
    result
        .get("structuredContent")
        .filter(|v| v.is_object())
        .unwrap_or_else(|| panic!("{tool} returned no structured object: {result}"))
}

/// A list result's rows as objects, whichever form the page has: objects, or (a page of more
/// than ten rows) a table of `columns`, `common` and rows of values.
pub fn listed_rows(structured: &Value) -> Vec<Value> {
    let rows = structured["rows"].as_array().cloned().unwrap_or_default();
    let Some(columns) = structured["columns"].as_array() else {
        return rows;
    };
    rows.iter()
        .map(|row| {
            let mut obj = structured["common"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            for (c, v) in columns.iter().zip(row.as_array().into_iter().flatten()) {
                if let Some(c) = c.as_str()
                    && !v.is_null()
                {
                    obj.insert(c.to_owned(), v.clone());
                }
            }
            Value::Object(obj)
        })
        .collect()
}

/// The text of a failed call, or a panic when the call succeeded.
pub fn expect_error(tool: &str, result: &Value) -> String {
    assert!(
        is_error(result),
        "{tool} should have failed but returned {result}"
    );
    text_of(result)
}

/// A well-formed uuid no record has.
pub fn random_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
        return schema;
    };
    let Some(pointer) = reference.strip_prefix('#') else {
        return schema;
    };
    root.pointer(pointer).unwrap_or(schema)
}

/// Whether a property schema says what it holds.
fn is_typed(root: &Value, schema: &Value) -> bool {
    let schema = resolve(root, schema);
    if schema.get("type").is_some() || schema.get("enum").is_some() || schema.get("const").is_some()
    {
        return true;
    }
    ["anyOf", "oneOf", "allOf"].iter().any(|k| {
        schema
            .get(*k)
            .and_then(Value::as_array)
            .is_some_and(|alts| !alts.is_empty() && alts.iter().all(|a| is_typed(root, a)))
    })
}

/// Walks every schema node: no `additionalProperties: true`, every object either declares
/// its properties or types its values, every property typed.
fn check_schema_node(root: &Value, node: &Value, path: &str, problems: &mut Vec<String>) {
    let Value::Object(map) = node else { return };
    if map.get("additionalProperties") == Some(&Value::Bool(true)) {
        problems.push(format!("{path}: additionalProperties is true"));
    }
    let is_object = match map.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => false,
    };
    if is_object
        && !map.contains_key("properties")
        && !map
            .get("additionalProperties")
            .is_some_and(|a| a.is_object() || *a == Value::Bool(false))
    {
        problems.push(format!("{path}: object without properties"));
    }
    if let Some(Value::Object(props)) = map.get("properties") {
        for (name, prop) in props {
            if !is_typed(root, prop) {
                problems.push(format!("{path}.{name}: untyped property {prop}"));
            }
        }
    }
    for (key, child) in map {
        let child_path = format!("{path}/{key}");
        match child {
            Value::Object(_) => check_schema_node(root, child, &child_path, problems),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    check_schema_node(root, item, &format!("{child_path}/{i}"), problems);
                }
            }
            _ => {}
        }
    }
}

/// Checks a `tools/list` answer in wire form and returns the problems found (empty = good):
/// at least [`MIN_TOOLS`] tools, unique names, each with a description, an object
/// `inputSchema` with typed `properties` and no open objects, no `outputSchema` (the default;
/// `output_schemas = true` sends them), and annotations with `title`, `readOnlyHint` and
/// `openWorldHint: false`.
pub fn catalogue_problems(tools: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    if tools.len() < MIN_TOOLS {
        problems.push(format!(
            "only {} tools listed, expected at least {MIN_TOOLS}",
            tools.len()
        ));
    }
    let mut names = std::collections::BTreeSet::new();
    for tool in tools {
        let name = tool
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>");
        if !names.insert(name.to_owned()) {
            problems.push(format!("{name}: listed twice"));
        }
        if tool
            .get("description")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            problems.push(format!("{name}: no description"));
        }
        match tool.get("inputSchema") {
            Some(schema @ Value::Object(map)) => {
                if map.get("type").and_then(Value::as_str) != Some("object") {
                    problems.push(format!("{name}: inputSchema type is not object"));
                }
                // A tool without arguments may use the closed form the MCP spec recommends,
                // `{"type": "object", "additionalProperties": false}`.
                let closed = map.get("additionalProperties") == Some(&Value::Bool(false));
                if !map.get("properties").is_some_and(Value::is_object) && !closed {
                    problems.push(format!("{name}: inputSchema has no properties"));
                }
                check_schema_node(
                    schema,
                    schema,
                    &format!("{name}.inputSchema"),
                    &mut problems,
                );
            }
            _ => problems.push(format!("{name}: no inputSchema object")),
        }
        if let Some(schema) = tool.get("outputSchema") {
            problems.push(format!(
                "{name}: an outputSchema without output_schemas = true: {schema}"
            ));
        }
        let annotations = tool.get("annotations").cloned().unwrap_or(Value::Null);
        if annotations
            .get("title")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            problems.push(format!("{name}: annotations.title missing"));
        }
        if !annotations
            .get("readOnlyHint")
            .is_some_and(Value::is_boolean)
        {
            problems.push(format!("{name}: annotations.readOnlyHint missing"));
        }
        if annotations.get("openWorldHint") != Some(&Value::Bool(false)) {
            problems.push(format!("{name}: annotations.openWorldHint is not false"));
        }
    }
    for expected in [
        "system_status",
        "firewall_rule_list",
        "firewall_rule_get",
        "firewall_rule_add",
        "firewall_rule_update",
        "firewall_rule_delete",
        "firewall_rule_apply",
        "firewall_alias_add",
        "firewall_alias_apply",
        "dns_host_override_add",
        "dns_apply",
        "route_add",
        "route_apply",
        "service_status",
        "service_stop",
        "ids_ruleset_list",
    ] {
        if !names.contains(expected) {
            problems.push(format!("tool {expected} is not listed"));
        }
    }
    problems
}

/// Panics listing every catalogue problem.
pub fn assert_catalogue(client_name: &str, tools: &[Value]) {
    let problems = catalogue_problems(tools);
    assert!(
        problems.is_empty(),
        "{client_name}: tools/list has {} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Checks a `firewall_rule_list` structured result: a page with rows.
pub fn assert_rule_listing(client_name: &str, structured: &Value) {
    let rows = structured
        .get("rows")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{client_name}: firewall_rule_list has no rows: {structured}"));
    assert!(
        !rows.is_empty(),
        "{client_name}: firewall_rule_list returned no rows: {structured}"
    );
    assert!(
        structured.get("total").and_then(Value::as_u64).is_some(),
        "{client_name}: firewall_rule_list has no total: {structured}"
    );
}

/// Arguments of a filter rule whose destination is an alias that does not exist: OPNsense
/// (and the simulator) refuse it with a validation message on `rule.destination_net`.
pub fn invalid_rule_args() -> Value {
    json!({"rule": {
        "action": "pass",
        "interface": ["lan"],
        "protocol": "TCP",
        "destination_net": "not-an-alias",
        "destination_port": "443",
        "description": "e2e invalid destination"
    }})
}

/// Checks the message of a refused rule names the field.
pub fn assert_names_destination(client_name: &str, text: &str) {
    assert!(
        text.contains("rule.destination_net"),
        "{client_name}: the validation error should name rule.destination_net: {text}"
    );
}

/// Checks an unknown-uuid message says "not found".
pub fn assert_not_found(client_name: &str, text: &str) {
    assert!(
        text.to_lowercase().contains("not found"),
        "{client_name}: an unknown uuid should give a \"not found\" error: {text}"
    );
}

/// Finds a record by a string field in one area of a simulator snapshot.
pub fn find_by<'a>(records: &'a [Value], field: &str, value: &str) -> Option<&'a Value> {
    records
        .iter()
        .find(|r| r.get(field).and_then(Value::as_str) == Some(value))
}

/// The common scenario for the rmcp clients (stdio and HTTP): catalogue, a read, a staged
/// alias made live, an upstream validation failure and an unknown uuid. `tag` keeps record
/// names unique per run.
pub async fn rmcp_scenario(client_name: &str, client: &Client, sim: &Simulator, tag: &str) {
    let info = client.peer_info().expect("server info after initialize");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("opnsense-mcp"),
        "{client_name}: server name"
    );
    assert!(
        info.capabilities.tools.is_some(),
        "{client_name}: tools capability"
    );

    let tools = list_tools(client).await;
    assert_catalogue(client_name, &tools);

    let listed = call(client, "firewall_rule_list", json!({"row_count": 5})).await;
    let structured = expect_ok("firewall_rule_list", &listed);
    assert_rule_listing(client_name, structured);
    assert!(
        structured["returned"].as_u64().is_some_and(|n| n <= 5),
        "{client_name}: row_count=5 not honoured: {structured}"
    );

    let alias_name = format!("e2e_{tag}");
    let added = call(
        client,
        "firewall_alias_add",
        json!({"alias": {
            "name": alias_name,
            "type": "host",
            "content": ["10.9.8.7", "10.9.8.8"],
            "description": format!("e2e {client_name}")
        }}),
    )
    .await;
    let staged = expect_ok("firewall_alias_add", &added);
    let uuid = staged["uuid"].as_str().expect("staged uuid").to_owned();
    assert_eq!(
        staged["apply_with"], "firewall_alias_apply",
        "{client_name}"
    );
    assert!(
        sim.staged().find(&uuid).is_some(),
        "{client_name}: the alias is not staged in the simulator"
    );
    assert!(
        sim.live().find(&uuid).is_none(),
        "{client_name}: the alias is live before apply"
    );
    let applied = call(client, "firewall_alias_apply", json!({})).await;
    expect_ok("firewall_alias_apply", &applied);
    let live = sim.live();
    let record = live
        .find(&uuid)
        .unwrap_or_else(|| panic!("{client_name}: the alias is not live after apply"));
    assert_eq!(record["name"], alias_name.as_str(), "{client_name}");

    let refused = call(client, "firewall_rule_add", invalid_rule_args()).await;
    let text = expect_error("firewall_rule_add", &refused);
    assert_names_destination(client_name, &text);
    assert!(
        find_by(
            sim.staged().filter_rules(),
            "description",
            "e2e invalid destination"
        )
        .is_none(),
        "{client_name}: the refused rule was stored"
    );

    let missing = call(client, "firewall_rule_get", json!({"uuid": random_uuid()})).await;
    let text = expect_error("firewall_rule_get", &missing);
    assert_not_found(client_name, &text);
}

/// Runs an external command with a timeout; returns (exit code, stdout, stderr).
pub async fn run_bounded(mut cmd: Command, timeout: Duration, what: &str) -> (i32, String, String) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
        Ok(Err(e)) => panic!("{what} failed: {e}"),
        Err(elapsed) => panic!("{what} did not finish within {timeout:?} ({elapsed})"),
    }
}

/// Finds a program on `PATH`, or panics with a clear message (the test must fail, not skip).
pub fn require_program(program: &str, hint: &str) -> PathBuf {
    find_program(&[program]).unwrap_or_else(|| panic!("`{program}` is not on PATH: {hint}"))
}

/// The first of `candidates` (absolute paths, or names on `PATH`, `/usr/sbin` or `/sbin`)
/// that exists.
pub fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    candidates.iter().find_map(|c| {
        let p = Path::new(c);
        if p.is_absolute() {
            p.is_file().then(|| p.to_path_buf())
        } else {
            std::env::split_paths(&path)
                .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
                .map(|d| d.join(c))
                .find(|p| p.is_file())
        }
    })
}

/// Bound on installing a Debian package or a venv's pinned packages (a first run downloads).
pub const INSTALL_TIMEOUT: Duration = Duration::from_secs(900);

/// Finds a program, installing Debian's `package` with apt-get when it is missing (after
/// `apt-get update` when the first install fails: a fresh container has no package lists);
/// panics (the test fails, never skips) when neither works.
pub async fn program_or_install(candidates: &[&str], package: &str) -> PathBuf {
    if let Some(p) = find_program(candidates) {
        return p;
    }
    let install = || {
        let mut cmd = Command::new("apt-get");
        cmd.args(["install", "-y", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive");
        run_bounded(cmd, INSTALL_TIMEOUT, "apt-get install")
    };
    let (code, out, err) = install().await;
    if code != 0 {
        let mut update = Command::new("apt-get");
        update.arg("update");
        let _ = run_bounded(update, INSTALL_TIMEOUT, "apt-get update").await;
        let (code2, out2, err2) = install().await;
        assert_eq!(
            code2, 0,
            "apt-get install {package} failed:\n{out}\n{err}\n{out2}\n{err2}"
        );
    }
    find_program(candidates)
        .unwrap_or_else(|| panic!("{package} was installed but none of {candidates:?} exists"))
}

/// A venv under the target directory (`target/<name>/venv`) holding the pins of
/// `requirements`; made once and reused while that file is unchanged. Returns its `bin`
/// directory. `needs` says what the test needs when `python3` is missing.
pub async fn pinned_venv(name: &str, requirements: &Path, needs: &str) -> PathBuf {
    let python3 = require_program("python3", needs);
    let pins = std::fs::read_to_string(requirements)
        .unwrap_or_else(|e| panic!("read {}: {e}", requirements.display()));
    let venv = target_dir().join(name).join("venv");
    let marker = venv.join(".e2e-requirements");
    let bin = venv.join("bin");
    if bin.join("python").is_file()
        && std::fs::read_to_string(&marker).ok().as_deref() == Some(pins.as_str())
    {
        return bin;
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv).expect("remove the stale venv");
    }
    std::fs::create_dir_all(venv.parent().expect("parent")).expect("create the venv parent");
    let mut cmd = Command::new(&python3);
    cmd.args(["-m", "venv"]).arg(&venv);
    let (code, out, err) = run_bounded(cmd, INSTALL_TIMEOUT, "python3 -m venv").await;
    assert_eq!(code, 0, "python3 -m venv failed:\n{out}\n{err}");
    let mut cmd = Command::new(bin.join("python"));
    cmd.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "-q",
        "-r",
    ])
    .arg(requirements);
    let (code, out, err) = run_bounded(cmd, INSTALL_TIMEOUT, "pip install -r").await;
    assert_eq!(
        code,
        0,
        "pip install -r {} failed:\n{out}\n{err}",
        requirements.display()
    );
    std::fs::write(&marker, &pins).expect("write the venv marker");
    bin
}

pub use crate::common::free_port;

/// Parses the last line of `stdout` that is a JSON document (tools print logs before it).
pub fn last_json(stdout: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(stdout.trim()) {
        return Some(v);
    }
    stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
}

//! The one MCP test harness of the catalogue's tests: an rmcp client connected in memory to the
//! catalogue, whose SDK client talks to a wiremock upstream (plain HTTP, or HTTPS through a
//! switchable TLS front from `test-support`), with a change engine journaling into a temporary
//! directory of its own; the table-driven contract data (`contract/*.json`) and the checks that
//! judge a call; the fixture loader; the NoBody matcher and the nothing-sent check.
//!
//! Every session has its own mock server (never one from wiremock's pool) and its own journal.
//! An apply leaves its change pending, with a revert timer and a kept connection that is pinged
//! every 20 s; [`Session::settle`] reverts such changes at the end of a case (against a mock that
//! answers 599 to everything, so the revert writes nothing anywhere and leaves no baseline), so
//! no timer or ping of one case ever reaches another case's mock.
//!
//! A contract case is one tool call; `setup` lists calls made first on the same session (each
//! with its own `upstream` and `expect`), and a string argument `"$setup[N]/pointer"` is replaced
//! by the value at that JSON pointer of setup call N's structured result (the change id an apply
//! returned, for `change_confirm`).
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use opnsense_api::FirmwareVersion;
use opnsense_mcp_tools::{OpnsenseTools, ToolOptions};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde::Deserialize;
use serde_json::{Map, Value};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub use test_support::{Front, FrontMode, Pki};

pub mod tools_list;

/// `Basic base64("test-key:test-secret")`: every upstream request must carry it.
pub const AUTH: &str = "Basic dGVzdC1rZXk6dGVzdC1zZWNyZXQ=";

/// Upper bound for one tools/call, so a hung session fails the run instead of blocking it.
pub const CALL_LIMIT: Duration = Duration::from_secs(30);

/// The firmware the SDK client is told it talks to unless a case says otherwise (no version
/// lookup is ever sent).
pub const DEFAULT_FIRMWARE: FirmwareVersion = FirmwareVersion::new(26, 1, 10);

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

/// An MCP client connected in memory to the catalogue, whose SDK client talks to `upstream`.
pub struct Session {
    /// The OPNsense stand-in.
    pub upstream: MockServer,
    /// The MCP client.
    pub client: RunningService<RoleClient, ()>,
    /// The TLS front between the SDK client and `upstream` (HTTPS sessions only).
    pub front: Option<Front>,
    /// The change engine the catalogue writes through (`None`: a catalogue without one).
    pub engine: Option<opnsense_change::engine::Engine>,
    /// The change journal's directory (removed with the session).
    _state: Option<tempfile::TempDir>,
}

/// Connect and read timeouts of an HTTPS session.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP + TLS.
    pub connect: Duration,
    /// Each read of the response.
    pub read: Duration,
}

/// A change engine for `api` journaling into a new temporary directory (kept by the session),
/// with the default settings and the protected flows `protect` (`OPNSENSE_PROTECT` entries).
async fn engine(
    api: &opnsense_api::Client,
    protect: &[String],
) -> (opnsense_change::engine::Engine, tempfile::TempDir) {
    // In memory where the system has a tmpfs: a journal commit syncs to disk, and the tests
    // make thousands of them.
    let dir = tempfile::Builder::new()
        .prefix("opnsense-mcp-tools-journal-")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .expect("state dir");
    let journal = opnsense_change::journal::Journal::open_in_dir(dir.path(), api.api_base())
        .await
        .expect("journal");
    let settings = opnsense_change::engine::Settings {
        protect: protect
            .iter()
            .map(|p| opnsense_change::preflight::Protect::parse(p).expect("protect entry"))
            .collect(),
        ..opnsense_change::engine::Settings::default()
    };
    let engine = opnsense_change::engine::Engine::new(api.clone(), journal, settings);
    (engine, dir)
}

/// A catalogue over `api` (with a change engine when `with_engine`), served in memory to a new
/// MCP client.
async fn connect(
    api: opnsense_api::Client,
    options: ToolOptions,
    engine_with: Option<&[String]>,
) -> (
    RunningService<RoleClient, ()>,
    Option<opnsense_change::engine::Engine>,
    Option<tempfile::TempDir>,
) {
    let (server_io, client_io) = tokio::io::duplex(1 << 22);
    let (engine, state) = if let Some(protect) = engine_with {
        let (engine, state) = engine(&api, protect).await;
        (Some(engine), Some(state))
    } else {
        (None, None)
    };
    let server = OpnsenseTools::build(
        api,
        options,
        engine.clone(),
        opnsense_mcp_tools::InFlight::default(),
    );
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    (
        ().serve(client_io).await.expect("mcp client"),
        engine,
        state,
    )
}

/// A mock server of the session's own (wiremock's pooled servers are handed to the next test
/// that starts one, and with it whatever a timer of this session sends later).
async fn own_mock_server() -> MockServer {
    MockServer::builder().start().await
}

impl Session {
    /// Plain HTTP straight to wiremock, firmware [`DEFAULT_FIRMWARE`].
    pub async fn plain(options: ToolOptions) -> Self {
        Self::on(options, DEFAULT_FIRMWARE).await
    }

    /// Plain HTTP straight to wiremock; the SDK client is told the firewall runs `firmware`.
    pub async fn on(options: ToolOptions, firmware: FirmwareVersion) -> Self {
        Self::plain_with(options, firmware, Some(&[])).await
    }

    /// The session a contract case runs on: its options, firmware and protected flows.
    pub async fn for_case(case: &Case) -> Self {
        Self::plain_with(
            (&case.options).into(),
            case.firmware(),
            Some(&case.options.protect),
        )
        .await
    }

    /// Plain HTTP straight to wiremock, firmware [`DEFAULT_FIRMWARE`], and no change engine
    /// (as the binary runs in read-only mode).
    pub async fn without_engine(options: ToolOptions) -> Self {
        Self::plain_with(options, DEFAULT_FIRMWARE, None).await
    }

    async fn plain_with(
        options: ToolOptions,
        firmware: FirmwareVersion,
        engine_with: Option<&[String]>,
    ) -> Self {
        let upstream = own_mock_server().await;
        let api = opnsense_api::Client::builder(upstream.uri())
            .credentials("test-key", "test-secret")
            .allow_insecure_http(true)
            .firmware_version(firmware)
            .build()
            .expect("client");
        let (client, engine, state) = connect(api, options, engine_with).await;
        Self {
            upstream,
            client,
            front: None,
            engine,
            _state: state,
        }
    }

    /// Ends every change this session's engine left pending (reverted against a mock that
    /// answers 599 to every request, so nothing is written anywhere and no baseline is
    /// recorded), so none of its timers or kept connections outlives the case. The mock is left
    /// answering 599 to everything.
    pub async fn settle(&self) {
        self.upstream.reset().await;
        mount_catch_all(&self.upstream).await;
        if let Some(engine) = &self.engine {
            let _ = engine.shutdown().await;
        }
    }

    /// HTTPS through a [`Front`] (trusting `pki`'s CA) to wiremock.
    pub async fn tls(
        options: ToolOptions,
        firmware: FirmwareVersion,
        pki: &Arc<Pki>,
        timeouts: Timeouts,
    ) -> Self {
        let upstream = own_mock_server().await;
        let front = Front::start(Arc::clone(pki), *upstream.address());
        let api = opnsense_api::Client::builder(format!("https://{}", front.addr))
            .credentials("test-key", "test-secret")
            .ca_pem(pki.ca_pem.clone().into_bytes())
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.read)
            .firmware_version(firmware)
            .build()
            .expect("client");
        let (client, engine, state) = connect(api, options, Some(&[])).await;
        Self {
            upstream,
            client,
            front: Some(front),
            engine,
            _state: state,
        }
    }

    /// Calls a tool. `Err` for a protocol error, a dead session or a call over [`CALL_LIMIT`].
    pub async fn call(&self, tool: &str, args: &Value) -> Result<CallToolResult, String> {
        self.call_within(tool, args, CALL_LIMIT).await
    }

    /// [`Self::call`] with another time limit.
    pub async fn call_within(
        &self,
        tool: &str,
        args: &Value,
        limit: Duration,
    ) -> Result<CallToolResult, String> {
        let mut params = CallToolRequestParams::new(tool.to_owned());
        match args {
            Value::Object(m) => params = params.with_arguments(m.clone()),
            Value::Null => {}
            other => return Err(format!("arguments must be an object, got {other}")),
        }
        match tokio::time::timeout(limit, self.client.call_tool(params)).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(format!("protocol error: {e}")),
            Err(_) => Err(format!("no answer within {limit:?} (did the tool panic?)")),
        }
    }

    /// Requests wiremock received since the last reset.
    pub async fn received(&self) -> Vec<Request> {
        self.upstream.received_requests().await.unwrap_or_default()
    }

    /// True when the upstream received no request since the last reset.
    pub async fn nothing_sent(&self) -> bool {
        self.received().await.is_empty()
    }
}

/// The result's structured content (`Null` when there is none).
pub fn structured(r: &CallToolResult) -> Value {
    r.structured_content.clone().unwrap_or(Value::Null)
}

/// Reads `crates/opnsense-api/tests/fixtures/<name>` (OPNsense's answers, e.g.
/// `routes/getroute.json`) as JSON.
pub fn fixture(name: &str) -> Value {
    let file = format!(
        "{}/../opnsense-api/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Matches a request with no body and no Content-Type (OPNsense answers 400 to an empty JSON
/// body, so body-less POSTs must carry neither).
pub struct NoBody;

impl wiremock::Match for NoBody {
    fn matches(&self, r: &Request) -> bool {
        r.body.is_empty() && !r.headers.contains_key("content-type")
    }
}

/// The concatenated text blocks of a result.
pub fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// True when the result is an error result.
pub fn is_error(r: &CallToolResult) -> bool {
    r.is_error == Some(true)
}

/// At most `n` characters of `s`, on one line.
pub fn short(s: &str, n: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(n)
        .collect();
    if s.chars().count() > n {
        format!("{flat}…")
    } else {
        flat
    }
}

// ---------------------------------------------------------------------------------------------
// Contract data
// ---------------------------------------------------------------------------------------------

/// One data file: `contract/<area>.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractFile {
    /// The area (for the reader).
    pub area: String,
    /// Its cases.
    pub cases: Vec<Case>,
}

/// One call of one tool and everything it must do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The tool.
    pub tool: String,
    /// What the case shows.
    pub name: String,
    /// The tool arguments (an object).
    pub arguments: Value,
    /// Server options (default: all off).
    #[serde(default)]
    pub options: CaseOptions,
    /// The firmware the SDK client is told the firewall runs, e.g. `26.7.2` (default
    /// [`DEFAULT_FIRMWARE`]); version-dependent behaviour is pinned per case with it.
    #[serde(default)]
    pub firmware: Option<String>,
    /// Calls made first, in order, on the same session (each judged like a case): what the
    /// tool acts on (the apply whose change `change_confirm` confirms).
    #[serde(default)]
    pub setup: Vec<Step>,
    /// The upstream requests expected, in order, each with the answer wiremock gives.
    #[serde(default)]
    pub upstream: Vec<Exchange>,
    /// The tool result expected.
    pub expect: Expect,
}

/// A call made before a case's own call (see [`Case::setup`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The tool.
    pub tool: String,
    /// Its arguments (placeholders refer to earlier setup calls).
    pub arguments: Value,
    /// The upstream requests expected, in order.
    #[serde(default)]
    pub upstream: Vec<Exchange>,
    /// The result expected.
    pub expect: Expect,
}

/// `arguments` with every string `"$setup[N]/pointer"` replaced by the value at `pointer` of
/// `results[N]` (left as it is when there is no such value, so a mangled placeholder stays a
/// string the tool must cope with).
pub fn resolve(arguments: &Value, results: &[Value]) -> Value {
    match arguments {
        Value::String(s) => s
            .strip_prefix("$setup[")
            .and_then(|rest| rest.split_once(']'))
            .and_then(|(n, ptr)| results.get(n.parse::<usize>().ok()?)?.pointer(ptr))
            .cloned()
            .unwrap_or_else(|| arguments.clone()),
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, results)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), resolve(v, results)))
                .collect(),
        ),
        other => other.clone(),
    }
}

impl Case {
    /// The firmware the case runs against.
    pub fn firmware(&self) -> FirmwareVersion {
        self.firmware.as_deref().map_or(DEFAULT_FIRMWARE, |v| {
            FirmwareVersion::parse(v).unwrap_or_else(|| panic!("{}: bad firmware {v:?}", self.name))
        })
    }

    /// The session a case needs: its options and firmware.
    pub fn session_key(&self) -> (bool, bool, FirmwareVersion) {
        (
            self.options.allow_secrets,
            self.options.read_only,
            self.firmware(),
        )
    }

    /// The JSON of the first upstream answer, if any.
    pub fn first_reply(&self) -> Option<&Value> {
        self.upstream.first().and_then(|x| x.response.json.as_ref())
    }

    /// A successful call with the default options and firmware that reaches OPNsense (itself, or
    /// through its setup) and is not a dry run: the valid call the fault matrix, the fuzzer and
    /// the capture test start from.
    pub fn is_plain_success(&self) -> bool {
        !self.expect.is_error
            && (!self.upstream.is_empty() || !self.setup.is_empty())
            && !self.options.read_only
            && !self.options.allow_secrets
            && self.options.protect.is_empty()
            && self.firmware.is_none()
            && !self.is_dry_run()
    }

    /// Whether the case's call is a dry run (`dry_run: true`).
    pub fn is_dry_run(&self) -> bool {
        self.arguments.get("dry_run") == Some(&Value::Bool(true))
    }
}

/// [`ToolOptions`] and the change engine's settings as data.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseOptions {
    /// `allow_secrets`.
    #[serde(default)]
    pub allow_secrets: bool,
    /// `read_only`.
    #[serde(default)]
    pub read_only: bool,
    /// Flows the lockout pre-flight protects (`OPNSENSE_PROTECT` entries, e.g.
    /// `"192.168.1.50 -> 8443"`).
    #[serde(default)]
    pub protect: Vec<String>,
}

impl From<&CaseOptions> for ToolOptions {
    fn from(o: &CaseOptions) -> Self {
        ToolOptions {
            allow_secrets: o.allow_secrets,
            read_only: o.read_only,
            ..ToolOptions::default()
        }
    }
}

/// One expected request and its canned answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// `GET` or `POST`.
    pub method: String,
    /// Full path, e.g. `/api/firewall/filter/search_rule`, with the query string when the
    /// request must carry one (`/api/diagnostics/firewall/log?limit=50`); no other query string
    /// may be sent.
    pub path: String,
    /// The JSON body (then `Content-Type: application/json`); absent = no body and no
    /// Content-Type.
    #[serde(default)]
    pub body: Option<Value>,
    /// The answer.
    pub response: Reply,
}

impl Exchange {
    /// Whether it writes: a POST that is not a search (a search's body pages: `current`,
    /// `rowCount`; mutating tools search too, for the pre-flight and to record a grid's state).
    pub fn is_write(&self) -> bool {
        self.method.eq_ignore_ascii_case("POST")
            && !self
                .body
                .as_ref()
                .is_some_and(|b| b.get("rowCount").is_some() && b.get("current").is_some())
    }
}

/// A canned answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// HTTP status (default 200).
    #[serde(default = "ok")]
    pub status: u16,
    /// A JSON body.
    #[serde(default)]
    pub json: Option<Value>,
    /// A JSON body read from `crates/opnsense-api/tests/fixtures/<fixture>` (see [`fixture`]);
    /// [`load_contract`] turns it into `json`.
    #[serde(default)]
    pub fixture: Option<String>,
    /// A text body (sent as-is).
    #[serde(default)]
    pub text: Option<String>,
    /// Content-Type of a text body (default `text/plain`).
    #[serde(default)]
    pub content_type: Option<String>,
}

fn ok() -> u16 {
    200
}

/// Adds `Connection: close`: no connection outlives its exchange, so a [`Front`] mode switch
/// can never race with a pooled keep-alive connection.
pub fn closing(t: ResponseTemplate) -> ResponseTemplate {
    t.insert_header("connection", "close")
}

impl Reply {
    /// The wiremock template.
    pub fn template(&self) -> ResponseTemplate {
        let t = closing(ResponseTemplate::new(self.status));
        match (&self.json, &self.text) {
            (Some(j), _) => t.set_body_json(j.clone()),
            (None, Some(s)) => t.set_body_raw(
                s.clone().into_bytes(),
                self.content_type.as_deref().unwrap_or("text/plain"),
            ),
            (None, None) => t,
        }
    }
}

/// What the result must be.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `isError`.
    pub is_error: bool,
    /// The structured content, exactly.
    #[serde(default)]
    pub structured: Option<Value>,
    /// A subset of the structured content (objects: these keys; arrays: same length).
    #[serde(default)]
    pub subset: Option<Value>,
    /// JSON pointer -> exact value in the structured content.
    #[serde(default)]
    pub pointers: BTreeMap<String, Value>,
    /// JSON pointers that must not exist in the structured content.
    #[serde(default)]
    pub absent: Vec<String>,
    /// Substrings of the text content.
    #[serde(default)]
    pub text_contains: Vec<String>,
    /// Substrings the text content must not contain.
    #[serde(default)]
    pub text_excludes: Vec<String>,
    /// JSON pointer into the structured content -> JSON pointer into the first upstream
    /// answer: the two values must be equal (`raw` passed through as OPNsense sent it; `""`
    /// is the whole answer).
    #[serde(default)]
    pub same_as_reply: BTreeMap<String, String>,
}

/// Every case of every `contract/*.json`, with the file it came from.
pub fn load_contract() -> Vec<(String, Case)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contract");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let file: ContractFile = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not a contract file: {e}", f.display()));
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for mut case in file.cases {
            let exchanges = case
                .setup
                .iter_mut()
                .flat_map(|step| step.upstream.iter_mut())
                .chain(case.upstream.iter_mut());
            for x in exchanges {
                if let Some(f) = x.response.fixture.take() {
                    assert!(
                        x.response.json.is_none(),
                        "{name} / {}: json and fixture both given",
                        case.name
                    );
                    x.response.json = Some(fixture(&f));
                }
            }
            out.push((name.clone(), case));
        }
    }
    out
}

/// Answers every request with `tpl` (for [`Respond`] on a cloned template).
struct Fixed(ResponseTemplate);

impl Respond for Fixed {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.0.clone()
    }
}

/// Matches one expected request: method, path, no query, and the body (or its absence).
struct Expected(Exchange);

impl wiremock::Match for Expected {
    fn matches(&self, r: &Request) -> bool {
        request_diff(r, &self.0).is_empty()
    }
}

/// Mounts the case's exchanges (each answering once, in order of priority) and a catch-all
/// 599 with the lowest priority for anything unexpected.
pub async fn mount(server: &MockServer, exchanges: &[Exchange]) {
    mount_exchanges(server, exchanges).await;
    mount_catch_all(server).await;
}

/// Mounts exchanges, each answering once, in order of priority (no catch-all).
pub async fn mount_exchanges(server: &MockServer, exchanges: &[Exchange]) {
    for (i, x) in exchanges.iter().enumerate() {
        Mock::given(Expected(x.clone()))
            .respond_with(Fixed(x.response.template()))
            .up_to_n_times(1)
            .with_priority(u8::try_from(i + 1).unwrap_or(200).min(200))
            .mount(server)
            .await;
    }
}

/// The lowest-priority catch-all: 599 for anything not expected.
pub async fn mount_catch_all(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(closing(
            ResponseTemplate::new(599).set_body_string("unexpected request"),
        ))
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

/// `METHOD /path?query` of a received request.
pub fn describe(r: &Request) -> String {
    let q = r.url.query().map(|q| format!("?{q}")).unwrap_or_default();
    let body = if r.body.is_empty() {
        "no body".to_owned()
    } else {
        short(&String::from_utf8_lossy(&r.body), 160)
    };
    format!("{} {}{q} [{body}]", r.method, r.url.path())
}

/// How a received request differs from an expected one (empty = identical).
pub fn request_diff(r: &Request, x: &Exchange) -> Vec<String> {
    let mut d = Vec::new();
    if !r.method.as_str().eq_ignore_ascii_case(&x.method) {
        d.push(format!("method {} != {}", r.method, x.method));
    }
    let (want_path, want_query) = match x.path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (x.path.as_str(), None),
    };
    if r.url.path() != want_path {
        d.push(format!("path {} != {want_path}", r.url.path()));
    }
    match (r.url.query(), want_query) {
        (got, want) if got == want => {}
        (Some(q), None) => d.push(format!("unexpected query string ?{q}")),
        (got, want) => d.push(format!(
            "query string {} != ?{}",
            got.map_or_else(|| "(none)".to_owned(), |q| format!("?{q}")),
            want.unwrap_or_default()
        )),
    }
    if header(r, "authorization") != Some(AUTH) {
        d.push("missing or wrong Basic authorization".into());
    }
    let ctype = header(r, "content-type");
    match &x.body {
        None if wiremock::Match::matches(&NoBody, r) => {}
        None => {
            if !r.body.is_empty() {
                d.push(format!(
                    "expected no body, got {}",
                    short(&String::from_utf8_lossy(&r.body), 200)
                ));
            }
            if let Some(ct) = ctype {
                d.push(format!("expected no Content-Type, got {ct}"));
            }
        }
        Some(want) => {
            if !ctype.is_some_and(|c| c.starts_with("application/json")) {
                d.push(format!("Content-Type {ctype:?} is not application/json"));
            }
            match serde_json::from_slice::<Value>(&r.body) {
                Ok(got) if &got == want => {}
                Ok(got) => d.push(format!(
                    "body {} != expected {}",
                    short(&got.to_string(), 400),
                    short(&want.to_string(), 400)
                )),
                Err(e) => d.push(format!("body is not JSON ({e})")),
            }
        }
    }
    d
}

/// Compares every request received with the expected list, in order.
pub fn requests_diff(received: &[Request], expected: &[Exchange]) -> Vec<String> {
    let mut d = Vec::new();
    for (i, x) in expected.iter().enumerate() {
        match received.get(i) {
            None => d.push(format!(
                "request #{} missing: expected {} {}",
                i + 1,
                x.method,
                x.path
            )),
            Some(r) => {
                for problem in request_diff(r, x) {
                    d.push(format!("request #{}: {problem}", i + 1));
                }
            }
        }
    }
    for (i, r) in received.iter().enumerate().skip(expected.len()) {
        d.push(format!("unexpected request #{}: {}", i + 1, describe(r)));
    }
    d
}

/// `expected` is contained in `actual` (objects: these keys; arrays: same length, elementwise).
pub fn is_subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| is_subset(v, av))),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| is_subset(x, y))
        }
        (e, a) => e == a,
    }
}

/// How a result differs from what a case expects (empty = as expected); `reply` is the first
/// upstream answer (for [`Expect::same_as_reply`]).
pub fn result_diff(r: &CallToolResult, x: &Expect, reply: Option<&Value>) -> Vec<String> {
    let mut d = Vec::new();
    let t = text(r);
    if is_error(r) != x.is_error {
        d.push(format!(
            "isError {} != {} ({})",
            is_error(r),
            x.is_error,
            short(&t, 300)
        ));
    }
    let sc = r.structured_content.clone();
    let wants_structure = x.structured.is_some()
        || x.subset.is_some()
        || !x.pointers.is_empty()
        || !x.absent.is_empty()
        || !x.same_as_reply.is_empty();
    if wants_structure && sc.is_none() {
        d.push(format!("no structured content ({})", short(&t, 300)));
    }
    let sc = sc.unwrap_or(Value::Null);
    if let Some(want) = &x.structured
        && &sc != want
    {
        d.push(format!(
            "structured {} != expected {}",
            short(&sc.to_string(), 600),
            short(&want.to_string(), 600)
        ));
    }
    if let Some(want) = &x.subset
        && !is_subset(want, &sc)
    {
        d.push(format!(
            "structured {} does not contain {}",
            short(&sc.to_string(), 600),
            short(&want.to_string(), 600)
        ));
    }
    for (ptr, want) in &x.pointers {
        match sc.pointer(ptr) {
            Some(got) if got == want => {}
            Some(got) => d.push(format!("{ptr}: {got} != {want}")),
            None => d.push(format!("{ptr}: missing (want {want})")),
        }
    }
    for ptr in &x.absent {
        if let Some(got) = sc.pointer(ptr) {
            d.push(format!(
                "{ptr} must be absent, got {}",
                short(&got.to_string(), 100)
            ));
        }
    }
    for (ptr, reply_ptr) in &x.same_as_reply {
        let want = reply.and_then(|v| v.pointer(reply_ptr));
        match (sc.pointer(ptr), want) {
            (Some(got), Some(want)) if got == want => {}
            (got, want) => d.push(format!(
                "{ptr}: {} != upstream answer at {reply_ptr:?}: {}",
                got.map_or_else(|| "missing".to_owned(), |g| short(&g.to_string(), 300)),
                want.map_or_else(|| "missing".to_owned(), |w| short(&w.to_string(), 300)),
            )),
        }
    }
    for needle in &x.text_contains {
        if !t.contains(needle.as_str()) {
            d.push(format!("text lacks {needle:?}: {}", short(&t, 300)));
        }
    }
    for needle in &x.text_excludes {
        if t.contains(needle.as_str()) {
            d.push(format!("text contains {needle:?}: {}", short(&t, 300)));
        }
    }
    d
}

/// Makes a case's setup calls on `s`, each judged like a case: their structured results (for
/// [`resolve`]), or what went wrong.
pub async fn run_setup(s: &Session, case: &Case) -> Result<Vec<Value>, Vec<String>> {
    let mut results = Vec::new();
    for (i, step) in case.setup.iter().enumerate() {
        s.upstream.reset().await;
        mount(&s.upstream, &step.upstream).await;
        let reply = step.upstream.first().and_then(|x| x.response.json.as_ref());
        let args = resolve(&step.arguments, &results);
        let mut d = match s.call(&step.tool, &args).await {
            Ok(r) => {
                let d = result_diff(&r, &step.expect, reply);
                results.push(structured(&r));
                d
            }
            Err(e) => vec![e],
        };
        d.extend(requests_diff(&s.received().await, &step.upstream));
        if !d.is_empty() {
            return Err(d
                .into_iter()
                .map(|p| format!("setup #{} ({}): {p}", i + 1, step.tool))
                .collect());
        }
    }
    Ok(results)
}

/// Runs one case on a session: its setup, then its call (mounted, called, judged), then
/// [`Session::settle`].
pub async fn run_case(s: &Session, case: &Case) -> Vec<String> {
    let d = match run_setup(s, case).await {
        Ok(results) => {
            s.upstream.reset().await;
            mount(&s.upstream, &case.upstream).await;
            let args = resolve(&case.arguments, &results);
            let mut d = match s.call(&case.tool, &args).await {
                Ok(r) => result_diff(&r, &case.expect, case.first_reply()),
                Err(e) => vec![e],
            };
            d.extend(requests_diff(&s.received().await, &case.upstream));
            d
        }
        Err(d) => d,
    };
    s.settle().await;
    d
}

/// The names of every tool the catalogue offers (default options).
pub fn tool_names() -> Vec<String> {
    catalogue(ToolOptions::default())
        .tools()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect()
}

/// The tools a real client receives over MCP with `options` (not the router's own view), sorted
/// by name, each as it goes on the wire (a field the server leaves unset is absent, not `null`).
pub async fn listed(options: ToolOptions) -> Vec<Value> {
    let s = Session::plain(options).await;
    let mut tools = s.client.list_all_tools().await.expect("tools/list");
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    tools
        .iter()
        .map(|t| serde_json::to_value(t).expect("tool as JSON"))
        .collect()
}

/// A catalogue whose client points nowhere (for listing tools).
pub fn catalogue(options: ToolOptions) -> OpnsenseTools {
    let client = opnsense_api::Client::builder("https://127.0.0.1:9")
        .credentials("k", "s")
        .build()
        .expect("client");
    OpnsenseTools::new(client, options)
}

/// Prints rows as an aligned text table.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths.get(i).copied().unwrap_or(0)))
            .collect();
        println!("| {} |", parts.join(" | "));
    };
    line(header.iter().map(|h| (*h).to_owned()).collect());
    println!(
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    );
    for row in rows {
        line(row.clone());
    }
}

/// Keys of an object, or none.
pub fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// An empty JSON object.
pub fn obj() -> Map<String, Value> {
    Map::new()
}

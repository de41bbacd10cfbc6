//! Shared helpers for the wiremock endpoint tests: fixtures, a client pointed at the mock,
//! matchers for OPNsense's wire rules and one-line mounts for the usual expectations.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::needless_pass_by_value,
    clippy::unused_async
)]

use std::path::PathBuf;

use opnsense_api::models::unbound::{HostOverride, RecordType};
use opnsense_api::{Client, Error, FirmwareVersion, Method};
use serde_json::Value;
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

/// API key and secret the test clients use.
pub const KEY: &str = "test-key";
/// The secret: tests assert it never appears in errors or logs.
pub const SECRET: &str = "test-secret-9f8e7d";

/// The firmware the default test client assumes.
pub const V26_1_10: FirmwareVersion = FirmwareVersion::new(26, 1, 10);

/// `Authorization: Basic base64(KEY:SECRET)`.
pub fn basic_auth() -> impl Match {
    // base64("test-key:test-secret-9f8e7d")
    header(
        "authorization",
        "Basic dGVzdC1rZXk6dGVzdC1zZWNyZXQtOWY4ZTdk",
    )
}

/// Reads `tests/fixtures/<area>/<name>` as JSON.
pub fn fixture(area: &str, name: &str) -> Value {
    let text = fixture_text(area, name);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {area}/{name}: {e}"))
}

/// Reads `tests/fixtures/<area>/<name>` as text.
pub fn fixture_text(area: &str, name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", area, name]
        .iter()
        .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The NAS host override of the DNS fixtures (`getHostOverride.json`, the first row of
/// `searchHostOverride.json`), as the SDK reads it.
pub fn nas_override() -> HostOverride {
    HostOverride {
        enabled: Some(true),
        hostname: Some("nas".into()),
        domain: Some("example.lan".into()),
        rr: Some(RecordType::A),
        server: Some("192.168.1.50".into()),
        addptr: Some(true),
        description: Some("NAS".into()),
        ..HostOverride::default()
    }
}

/// The body `SearchQuery::all()` sends: the first page of every row, no phrase.
pub fn all_rows() -> Value {
    serde_json::json!({"current": 1, "rowCount": -1, "searchPhrase": ""})
}

/// A 200 answer with this JSON body, as OPNsense sends it.
pub fn json(body: Value) -> ResponseTemplate {
    status_json(200, body)
}

/// An answer with this status and JSON body.
pub fn status_json(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json; charset=UTF-8")
}

/// A client for the mock (plain HTTP is allowed for tests only), assuming firmware 26.1.10.
pub async fn client(server: &MockServer) -> Client {
    client_at(server, V26_1_10)
}

/// A client for the mock that assumes firmware `v`.
pub fn client_at(server: &MockServer, v: FirmwareVersion) -> Client {
    Client::builder(server.uri())
        .credentials(KEY, SECRET)
        .allow_insecure_http(true)
        .firmware_version(v)
        .build()
        .expect("client")
}

/// A client for the mock that does not know the firmware (it looks it up when it must).
pub fn client_unknown_version(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .credentials(KEY, SECRET)
        .allow_insecure_http(true)
        .build()
        .expect("client")
}

/// Matches a request that has no body and no Content-Type (OPNsense answers 400 to an empty
/// JSON body).
pub struct NoBody;

impl Match for NoBody {
    fn matches(&self, request: &Request) -> bool {
        request.body.is_empty() && !request.headers.contains_key("content-type")
    }
}

/// Matches a JSON body equal to `expected`, with a JSON Content-Type.
pub fn json_body(expected: Value) -> impl Match {
    JsonBody(expected)
}

struct JsonBody(Value);

impl Match for JsonBody {
    fn matches(&self, request: &Request) -> bool {
        let ct_ok = request
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        ct_ok && serde_json::from_slice::<Value>(&request.body).ok().as_ref() == Some(&self.0)
    }
}

/// `/api/<endpoint>`.
pub fn api(endpoint: &str) -> String {
    format!("/api/{endpoint}")
}

/// Expects `times` requests `verb /api/<endpoint>` with Basic auth, no body and no
/// Content-Type (every GET and every body-less POST), and answers `resp`.
pub async fn expect_bodyless(
    server: &MockServer,
    verb: &str,
    endpoint: &str,
    resp: ResponseTemplate,
    times: u64,
) {
    Mock::given(method(verb))
        .and(path(api(endpoint)))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(resp)
        .expect(times)
        .mount(server)
        .await;
}

/// Expects one `GET /api/<endpoint>` (Basic auth, no body) and answers 200 `body`.
pub async fn expect_get(server: &MockServer, endpoint: &str, body: Value) {
    expect_bodyless(server, "GET", endpoint, json(body), 1).await;
}

/// Expects one body-less `POST /api/<endpoint>` and answers 200 `body`.
pub async fn expect_post_nobody(server: &MockServer, endpoint: &str, body: Value) {
    expect_bodyless(server, "POST", endpoint, json(body), 1).await;
}

/// Expects `times` `POST /api/<endpoint>` with Basic auth and exactly this JSON body.
pub async fn expect_post_json(
    server: &MockServer,
    endpoint: &str,
    body: Value,
    resp: ResponseTemplate,
    times: u64,
) {
    Mock::given(method("POST"))
        .and(path(api(endpoint)))
        .and(basic_auth())
        .and(json_body(body))
        .respond_with(resp)
        .expect(times)
        .mount(server)
        .await;
}

/// Fails the test (when the server is dropped) if any request reaches `/api/<endpoint>`.
pub async fn expect_never(server: &MockServer, endpoint: &str) {
    Mock::given(path(api(endpoint)))
        .respond_with(json(serde_json::json!({"result": "saved"})))
        .expect(0)
        .mount(server)
        .await;
}

/// Fails the test (when the server is dropped) if any request arrives at all.
pub async fn expect_no_request(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(json(serde_json::json!({})))
        .expect(0)
        .mount(server)
        .await;
}

/// Asserts that the server received nothing.
pub async fn assert_nothing_received(server: &MockServer) {
    let got = server.received_requests().await.unwrap_or_default();
    assert!(got.is_empty(), "unexpected requests: {got:?}");
}

/// `validations` of a failed answer as the SDK reports them: every value a list of messages.
pub fn validations_of(answer: &Value) -> std::collections::BTreeMap<String, Vec<String>> {
    answer["validations"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let msgs = match v {
                        Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_str().expect("message").to_owned())
                            .collect(),
                        other => vec![other.as_str().expect("message").to_owned()],
                    };
                    (k.clone(), msgs)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A mock server with its expectations mounted, and a client for it: derefs to the [`Client`],
/// so a test reads `mocked.firewall().filter().revert(..)`. The expectations are checked when
/// it is dropped.
pub struct Mocked {
    /// The server (its expectations are verified on drop).
    pub server: MockServer,
    /// A client for it (firmware 26.1.10).
    pub client: Client,
}

impl std::ops::Deref for Mocked {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Mocked {
    /// A client (firmware 26.1.10) for `server`, whose expectations are mounted.
    pub fn on(server: MockServer) -> Self {
        let client = client_at(&server, V26_1_10);
        Self { server, client }
    }
}

/// A server that expects one `GET /api/<endpoint>` (Basic auth, no body) and answers 200
/// `answer`.
pub async fn mock_get(endpoint: &str, answer: Value) -> Mocked {
    let server = MockServer::start().await;
    expect_get(&server, endpoint, answer).await;
    Mocked::on(server)
}

/// A server that expects one body-less `POST /api/<endpoint>` and answers 200 `answer`.
pub async fn mock_post(endpoint: &str, answer: Value) -> Mocked {
    let server = MockServer::start().await;
    expect_post_nobody(&server, endpoint, answer).await;
    Mocked::on(server)
}

/// A server that expects one `POST /api/<endpoint>` with exactly this JSON body and answers 200
/// `answer`.
pub async fn mock_post_json(endpoint: &str, body: Value, answer: Value) -> Mocked {
    let server = MockServer::start().await;
    expect_post_json(&server, endpoint, body, json(answer), 1).await;
    Mocked::on(server)
}

/// Asserts that `err` is an [`Error::InvalidResponse`] of `path` (below `/api/`); `context`
/// (the answer, the case) starts the failure message.
#[track_caller]
pub fn assert_invalid_response(err: &Error, path: &str, context: impl std::fmt::Display) {
    assert!(
        matches!(err, Error::InvalidResponse { path: p, .. } if p == path),
        "{context}: {err:?}"
    );
}

/// Asserts that `err` is an [`Error::ActionFailed`] whose status is `status`.
#[track_caller]
pub fn assert_action_failed(err: &Error, status: &str) {
    assert!(
        matches!(err, Error::ActionFailed { status: s, .. } if s == status),
        "{err:?}"
    );
}

/// Asserts a built request's method, endpoint (below `/api/`) and JSON body.
#[track_caller]
pub fn assert_request(
    r: &opnsense_api::Request,
    method: Method,
    endpoint: &str,
    body: Option<Value>,
) {
    assert_eq!(
        (r.method, r.path.as_str(), r.body.as_ref()),
        (method, endpoint, body.as_ref()),
        "{endpoint}"
    );
}

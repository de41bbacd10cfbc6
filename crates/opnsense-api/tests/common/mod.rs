//! Shared helpers for the wiremock endpoint tests: fixtures, a client pointed at the mock,
//! and matchers for OPNsense's wire rules.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::needless_pass_by_value,
    clippy::unused_async
)]

use std::path::PathBuf;

use opnsense_api::Client;
use serde_json::Value;
use wiremock::matchers::header;
use wiremock::{Match, MockServer, Request, ResponseTemplate};

/// API key and secret the test clients use.
pub const KEY: &str = "test-key";
/// The secret: tests assert it never appears in errors or logs.
pub const SECRET: &str = "test-secret-9f8e7d";

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

/// A 200 answer with this JSON body, as OPNsense sends it.
pub fn json(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_string(), "application/json; charset=UTF-8")
}

/// A client for the mock (plain HTTP is allowed for tests only).
pub async fn client(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .credentials(KEY, SECRET)
        .allow_insecure_http(true)
        .firmware_version(opnsense_api::FirmwareVersion::new(26, 1, 10))
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

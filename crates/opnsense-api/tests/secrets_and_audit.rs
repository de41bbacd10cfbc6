//! The API secret never shows up anywhere (errors, Debug, logs), and every HTTP attempt leaves
//! exactly one audit event with the documented fields and no body content.
//!
//! Each test captures every event (all levels, all targets, `log` records too) emitted on its
//! own thread; `#[tokio::test]` runs the client, its connection tasks and the local test
//! servers on that thread.

mod common;
mod support;

use std::collections::HashSet;
use std::time::Duration;

use opnsense_api::api::firewall::ALIASES;
use opnsense_api::api::services::ServiceModule;
use opnsense_api::{Client, ClientBuilder, Error, FirmwareVersion, Request, Uuid};
use serde_json::{Map, Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::{KEY, SECRET};
use support::{
    Captured, Pki, chunked_response, drip_server, http_response, raw_server, silent_server,
    tls_front,
};

/// base64("test-key:test-secret-9f8e7d"), the Basic auth token.
const BASIC_TOKEN: &str = "dGVzdC1rZXk6dGVzdC1zZWNyZXQtOWY4ZTdk";
/// Distinctive strings that only ever travel in bodies.
const REQ_MARKER: &str = "REQ-BODY-MARKER-7d1a";
const RESP_MARKER: &str = "RESP-BODY-MARKER-3c9b";
const ERR_MARKER: &str = "ERR-BODY-MARKER-55e0";
const VALIDATION_MARKER: &str = "VALIDATION-MARKER-0f2c";

/// Fails if any credential fragment appears in `text`.
fn assert_no_credentials(what: &str, text: &str) {
    for needle in [SECRET, BASIC_TOKEN, KEY] {
        assert!(
            !text.contains(needle),
            "{what} contains {needle:?}:\n{text}"
        );
    }
}

fn assert_error_is_clean(err: &Error) {
    assert_no_credentials("error Display", &err.to_string());
    assert_no_credentials("error Debug", &format!("{err:?}"));
    assert_no_credentials("error alternate Debug", &format!("{err:#?}"));
    // And every cause a reporter would print after it.
    let mut src = std::error::Error::source(err);
    while let Some(s) = src {
        assert_no_credentials("error source", &format!("{s} {s:?}"));
        src = s.source();
    }
}

fn builder(url: &str) -> ClientBuilder {
    Client::builder(url)
        .credentials(KEY, SECRET)
        .firmware_version(FirmwareVersion::new(26, 1, 10))
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(5))
}

/// What a status read gets from a TLS server whose certificate is not trusted.
async fn untrusted_certificate_error() -> Error {
    let pki = Pki::new(&["127.0.0.1"]);
    let backend = MockServer::start().await;
    let front = tls_front(&pki, &backend);
    let untrusted = builder(&front.https_url()).build().expect("client");
    untrusted
        .send_json::<Value>(Request::get("core/system/status"))
        .await
        .expect_err("tls")
}

/// What a status read gets from a port where nothing listens.
async fn connection_refused_error() -> Error {
    let port = support::closed_port().await;
    let refused = builder(&format!("http://127.0.0.1:{port}"))
        .allow_insecure_http(true)
        .build()
        .expect("client");
    refused
        .send_json::<Value>(Request::get("core/system/status"))
        .await
        .expect_err("refused")
}

/// One expected audit event.
struct Expect {
    method: &'static str,
    path: &'static str,
    status: u64,
    outcome: &'static str,
}

impl Expect {
    /// `method path` answered `status` (0: no answer), with this outcome.
    const fn new(
        method: &'static str,
        path: &'static str,
        status: u64,
        outcome: &'static str,
    ) -> Self {
        Self {
            method,
            path,
            status,
            outcome,
        }
    }
}

fn check_audit(captured: &Captured, expected: &[Expect]) {
    let events = captured.audit_events();
    assert_eq!(
        events.len(),
        expected.len(),
        "one audit event per HTTP attempt:\n{}",
        captured.text()
    );
    let mut ids = HashSet::new();
    for (fields, want) in events.iter().zip(expected) {
        check_fields(fields);
        assert_eq!(fields["method"], want.method, "{fields:?}");
        assert_eq!(fields["path"], want.path, "{fields:?}");
        assert_eq!(fields["status"], want.status, "{fields:?}");
        assert_eq!(fields["outcome"], want.outcome, "{fields:?}");
        assert!(
            ids.insert(fields["req_id"].as_str().expect("req_id").to_owned()),
            "req_id must be unique: {fields:?}"
        );
    }
}

/// The documented fields, and nothing else but the message.
fn check_fields(fields: &Map<String, Value>) {
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "elapsed_ms",
            "message",
            "method",
            "outcome",
            "path",
            "req_id",
            "status",
            "ts"
        ],
        "{fields:?}"
    );
    let ts = fields["ts"].as_str().expect("ts is a string");
    humantime::parse_rfc3339(ts).unwrap_or_else(|e| panic!("ts {ts:?}: {e}"));
    let req_id = fields["req_id"].as_str().expect("req_id is a string");
    Uuid::parse(req_id).unwrap_or_else(|e| panic!("req_id {req_id:?}: {e}"));
    assert!(fields["elapsed_ms"].is_u64(), "{fields:?}");
    assert!(fields["status"].is_u64(), "{fields:?}");
    assert!(
        ["success", "error", "timeout", "rejected"]
            .contains(&fields["outcome"].as_str().unwrap_or("")),
        "{fields:?}"
    );
}

fn check_logs_are_clean(captured: &Captured) {
    let text = captured.text();
    assert!(!text.is_empty(), "nothing captured");
    assert_no_credentials("the log output", &text);
    for marker in [REQ_MARKER, RESP_MARKER, ERR_MARKER, VALIDATION_MARKER] {
        assert!(
            !text.contains(marker),
            "a body leaked into the logs ({marker}):\n{text}"
        );
    }
}

async fn mock_firewall() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/core/system/status"))
        .and(common::basic_auth())
        .respond_with(common::json(json!({
            "metadata": {"system": {"status": 2, "message": RESP_MARKER}}
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/add_item"))
        .respond_with(common::json(json!({
            "result": "failed",
            "validations": {"alias.name": VALIDATION_MARKER}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/core/firmware/status"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            r#"{"status":401,"message":"Authentication Failed"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/filter/apply"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(
            json!({"errorMessage": ERR_MARKER, "errorTitle": "An error occurred"}).to_string(),
            "application/json",
        ))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn secret_never_leaks_and_every_attempt_is_audited() {
    let (captured, _guard) = support::capture();
    let mut errors = Vec::new();

    // Success, application-level refusal, 401 and 500 against a plain-HTTP mock.
    let server = mock_firewall().await;
    let b = builder(&server.uri()).allow_insecure_http(true);
    assert_no_credentials("ClientBuilder Debug", &format!("{b:?} {b:#?}"));
    let client = b.build().expect("client");
    assert_no_credentials("Client Debug", &format!("{client:?} {client:#?}"));

    let status = client.system().status().await.expect("status");
    assert_eq!(status.metadata.system.level(), "OK");
    errors.push(
        client
            .grid(&ALIASES)
            .add_raw(json!({"name": "a", "type": "host", "description": REQ_MARKER}))
            .await
            .expect_err("validation"),
    );
    assert!(matches!(errors.last(), Some(Error::Validation { .. })));
    errors.push(
        client
            .send_json::<Value>(Request::get("core/firmware/status"))
            .await
            .expect_err("401"),
    );
    assert!(matches!(errors.last(), Some(Error::Unauthorized { .. })));
    errors.push(client.firewall().filter().apply().await.expect_err("500"));
    assert!(matches!(
        errors.last(),
        Some(Error::Http { status: 500, .. })
    ));

    // Read timeout.
    let silent = silent_server();
    let slow = builder(&silent.http_url())
        .allow_insecure_http(true)
        .connect_timeout(Duration::from_secs(1))
        .read_timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    errors.push(
        slow.send_json::<Value>(Request::get("core/system/status"))
            .await
            .expect_err("timeout"),
    );
    assert!(matches!(errors.last(), Some(Error::Timeout { .. })));

    // Untrusted certificate.
    errors.push(untrusted_certificate_error().await);
    assert!(matches!(errors.last(), Some(Error::Tls { .. })));

    // Connection refused.
    errors.push(connection_refused_error().await);
    assert!(matches!(errors.last(), Some(Error::Connect { .. })));

    for err in &errors {
        assert_error_is_clean(err);
    }
    check_logs_are_clean(&captured);
    check_audit(
        &captured,
        &[
            Expect::new("GET", "core/system/status", 200, "success"),
            Expect::new("POST", "firewall/alias/add_item", 200, "rejected"),
            Expect::new("GET", "core/firmware/status", 401, "rejected"),
            Expect::new("POST", "firewall/filter/apply", 500, "error"),
            Expect::new("GET", "core/system/status", 0, "timeout"),
            Expect::new("GET", "core/system/status", 0, "error"),
            Expect::new("GET", "core/system/status", 0, "error"),
        ],
    );
}

/// Calls that make several HTTP attempts (set = existence check + set; the lazy firmware
/// lookup) leave one event per attempt; a call refused locally leaves none.
#[tokio::test]
async fn one_audit_event_per_attempt() {
    let (captured, _guard) = support::capture();
    let id = "5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01";
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/firewall/alias/get_item/{id}")))
        .respond_with(common::json(
            json!({"alias": {"name": "a", "content": RESP_MARKER}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/alias/set_item/{id}")))
        .respond_with(common::json(json!({"result": "saved"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/core/firmware/status"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    // No version given: the client looks it up once.
    let client = Client::builder(server.uri())
        .credentials(KEY, SECRET)
        .allow_insecure_http(true)
        .build()
        .expect("client");

    let uuid = Uuid::parse(id).expect("uuid");
    client
        .grid(&ALIASES)
        .set_raw(&uuid, json!({"description": REQ_MARKER}))
        .await
        .expect("set");
    assert_eq!(client.firmware_version().await, None);
    assert_eq!(client.firmware_version().await, None);
    // Refused before sending: not an HTTP attempt.
    let err = client
        .grid(&ALIASES)
        .add_raw(json!("not an object"))
        .await
        .expect_err("local");
    assert!(err.is_local());

    check_logs_are_clean(&captured);
    check_audit(
        &captured,
        &[
            Expect::new(
                "GET",
                "firewall/alias/get_item/5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01",
                200,
                "success",
            ),
            Expect::new(
                "POST",
                "firewall/alias/set_item/5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01",
                200,
                "success",
            ),
            Expect::new("GET", "core/firmware/status", 403, "rejected"),
        ],
    );
}

/// Configuration errors echo the URL; credentials pasted into it must not come back out.
#[test]
fn config_errors_do_not_echo_credentials() {
    for url in [
        format!("https://{KEY}:{SECRET}@fw.example"),
        // Malformed URLs are echoed in the message: the credentials must be masked.
        format!("https://{KEY}:{SECRET}@"),
        format!("{KEY}:{SECRET}@fw.example"),
        format!("https://{KEY}:{SECRET}@fw.example:99999"),
        "http://fw.example".to_owned(),
        format!("https://fw.example/?key={SECRET}"),
    ] {
        let err = Client::builder(url.as_str())
            .credentials(KEY, SECRET)
            .build()
            .expect_err("refused");
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        assert_error_is_clean(&err);
    }
}

/// The error kinds added with the bounded reads and typed refusals (in use, service failed, too
/// large, deadline, 26.7's escaped envelope, transport causes) carry no credential, no body, and
/// are audited with the right outcome.
#[tokio::test]
async fn new_error_kinds_never_carry_the_secret_and_are_audited() {
    let (captured, _guard) = support::capture();
    let mut errors = Vec::new();
    let id = "c2e7b0a4-3f1d-4e8a-9b6c-7d5e4f3a2b10";

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/alias/del_item/{id}")))
        .respond_with(ResponseTemplate::new(500).set_body_raw(
            json!({"errorMessage": format!("Cannot delete alias a. Currently in use by {ERR_MARKER}"), "errorTitle": "Alias in use"}).to_string(),
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/kea/service/start"))
        .respond_with(common::json(json!({"response": "Error (1)\n"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/core/system/status"))
        .respond_with(
            ResponseTemplate::new(500).set_body_raw(
                json!({"errorMessage": format!("a &lt; b {ERR_MARKER}"), "errorLevel": "error"})
                    .to_string(),
                "application/json",
            ),
        )
        .mount(&server)
        .await;
    let c26_7 = builder(&server.uri())
        .allow_insecure_http(true)
        .firmware_version(FirmwareVersion::new(26, 7, 2))
        .build()
        .expect("client");
    errors.push(
        c26_7
            .firewall()
            .alias()
            .delete(&Uuid::parse(id).expect("uuid"))
            .await
            .expect_err("in use"),
    );
    assert!(matches!(errors.last(), Some(Error::InUse { .. })));
    errors.push(
        c26_7
            .service(ServiceModule::Kea)
            .start()
            .await
            .expect_err("service failed"),
    );
    assert!(matches!(errors.last(), Some(Error::ServiceFailed { .. })));
    errors.push(
        c26_7
            .send_json::<Value>(Request::get("core/system/status"))
            .await
            .expect_err("500"),
    );
    assert!(
        matches!(errors.last(), Some(Error::Http { message, .. }) if message.contains("a < b"))
    );

    // Too large: announced, and chunked.
    let big = format!(r#"{{"m":"{RESP_MARKER}{}"}}"#, "x".repeat(4096));
    let announced = {
        let big = big.clone();
        raw_server(move |_| http_response("200 OK", "application/json", big.as_bytes()))
    };
    let chunked = raw_server(move |_| chunked_response(big.as_bytes(), 512));
    for s in [&announced, &chunked] {
        let c = builder(&s.http_url())
            .allow_insecure_http(true)
            .max_response_bytes(1024)
            .build()
            .expect("client");
        errors.push(
            c.send_json::<Value>(Request::get("core/system/status"))
                .await
                .expect_err("too large"),
        );
        assert!(matches!(errors.last(), Some(Error::TooLarge { .. })));
    }

    // Deadline.
    let drip = drip_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n".to_vec(),
        vec![b' '; 40],
        Duration::from_millis(200),
    );
    let slow = builder(&drip.http_url())
        .allow_insecure_http(true)
        .read_timeout(Duration::from_secs(1))
        .call_timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    errors.push(
        slow.send_json::<Value>(Request::get("core/system/status"))
            .await
            .expect_err("deadline"),
    );
    assert!(matches!(errors.last(), Some(Error::Deadline { .. })));

    // Transport errors with their sources: refused, and an untrusted certificate.
    errors.push(connection_refused_error().await);
    assert!(matches!(
        errors.last(),
        Some(Error::Connect {
            source: Some(_),
            ..
        })
    ));
    errors.push(untrusted_certificate_error().await);
    assert!(matches!(
        errors.last(),
        Some(Error::Tls {
            source: Some(_),
            ..
        })
    ));

    for err in &errors {
        assert_error_is_clean(err);
        let all = format!("{err} {err:?}");
        assert!(!all.contains(RESP_MARKER), "a response body leaked: {all}");
    }
    check_logs_are_clean(&captured);
    let alias_del: &'static str = "firewall/alias/del_item/c2e7b0a4-3f1d-4e8a-9b6c-7d5e4f3a2b10";
    check_audit(
        &captured,
        &[
            // The attempt is the HTTP 500; the grid turns it into `InUse` after the audit
            // event was written, so it is audited as an error.
            Expect {
                method: "POST",
                path: alias_del,
                status: 500,
                outcome: "error",
            },
            Expect::new("POST", "kea/service/start", 200, "rejected"),
            Expect::new("GET", "core/system/status", 500, "error"),
            Expect::new("GET", "core/system/status", 200, "error"),
            Expect::new("GET", "core/system/status", 200, "error"),
            Expect::new("GET", "core/system/status", 0, "timeout"),
            Expect::new("GET", "core/system/status", 0, "error"),
            Expect::new("GET", "core/system/status", 0, "error"),
        ],
    );
}

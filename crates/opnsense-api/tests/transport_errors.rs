//! Every way the transport and OPNsense's answers can fail, against real servers on 127.0.0.1:
//! each must map to the right [`Error`] variant with a message that says what to do next.

mod common;
mod support;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use opnsense_api::api::firewall::ALIASES;
use opnsense_api::{
    Client, ClientBuilder, Error, FirmwareVersion, Method, Request, TimeoutPhase, Uuid,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::{KEY, SECRET};
use support::{chunked_response, drip_server, http_response, raw_server, silent_server};

/// A client builder for `url` (plain HTTP allowed, firmware 26.1.10) with these timeouts.
fn timed(url: &str, connect: Duration, read: Duration) -> ClientBuilder {
    Client::builder(url)
        .credentials(KEY, SECRET)
        .allow_insecure_http(true)
        .firmware_version(FirmwareVersion::new(26, 1, 10))
        .connect_timeout(connect)
        .read_timeout(read)
}

/// A plain-HTTP client for `url` with short timeouts.
fn client_for(url: &str) -> Client {
    timed(url, Duration::from_secs(5), Duration::from_secs(5))
        .build()
        .expect("client")
}

async fn get_status(client: &Client) -> opnsense_api::Result<Value> {
    client
        .send_json::<Value>(Request::get("core/system/status"))
        .await
}

/// Mounts `template` for `GET /api/core/system/status` and returns the call's error.
async fn status_error(template: ResponseTemplate) -> Error {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/core/system/status"))
        .respond_with(template)
        .mount(&server)
        .await;
    let client = common::client(&server).await;
    get_status(&client).await.expect_err("must fail")
}

#[tokio::test]
async fn connection_refused_is_connect() {
    let port = support::closed_port().await;
    let client = client_for(&format!("http://127.0.0.1:{port}"));
    let err = get_status(&client).await.expect_err("refused");
    let text = err.to_string();
    assert!(
        matches!(&err, Error::Connect { host, .. } if host == &format!("127.0.0.1:{port}")),
        "{err:?}"
    );
    assert!(text.contains("cannot connect"), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
    assert_eq!(err.http_status(), None);
}

#[tokio::test]
async fn server_that_never_answers_is_read_timeout() {
    let server = silent_server();
    // The head may take connect + read timeout (the client cannot tell when the connection came
    // up): keep both short.
    let client = timed(
        &server.http_url(),
        Duration::from_secs(1),
        Duration::from_millis(300),
    )
    .build()
    .expect("client");
    let err = get_status(&client).await.expect_err("timeout");
    match &err {
        Error::Timeout {
            phase,
            after,
            method,
            path,
        } => {
            assert_eq!(*phase, TimeoutPhase::Read);
            assert_eq!(*after, Duration::from_millis(300));
            assert_eq!(*method, Method::Get);
            assert_eq!(path, "core/system/status");
        }
        other => panic!("expected a read timeout, got {other:?}"),
    }
    assert!(err.to_string().starts_with("read timeout"), "{err}");
}

/// A TCP listener that accepts but never completes the TLS handshake: reqwest counts the
/// handshake in the connect phase, so this is a connect timeout without leaving 127.0.0.1. The
/// read timer must not run during the handshake: a connect timeout longer than the read timeout
/// is still reported as a connect timeout.
#[tokio::test]
async fn stalled_tls_handshake_is_connect_timeout() {
    for (row, connect, read) in [
        // Longer than the connect timeout: reqwest's read timer starts when the request is sent.
        (
            "read timeout longer",
            Duration::from_millis(300),
            Duration::from_secs(10),
        ),
        (
            "read timeout shorter",
            Duration::from_millis(600),
            Duration::from_millis(200),
        ),
    ] {
        let server = silent_server();
        let client = timed(&server.https_url(), connect, read)
            .build()
            .expect("client");
        let err = get_status(&client).await.expect_err(row);
        assert!(
            matches!(
                err,
                Error::Timeout {
                    phase: TimeoutPhase::Connect,
                    ..
                }
            ),
            "{row}: {err:?}"
        );
        assert!(
            err.to_string().starts_with("connect timeout"),
            "{row}: {err}"
        );
    }
}

/// Headers arrive, then the body stalls mid-way without the connection closing.
#[tokio::test]
async fn stalled_body_is_read_timeout() {
    let server = support::serve(support::bind(0), |mut stream| async move {
        if support::read_request(&mut stream).await.is_some() {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"rows\":[";
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.flush().await;
            // Hold the connection open, silent, until the server is dropped.
            std::future::pending::<()>().await;
        }
    });
    let client = timed(
        &server.http_url(),
        Duration::from_secs(1),
        Duration::from_millis(300),
    )
    .build()
    .expect("client");
    let err = get_status(&client).await.expect_err("timeout");
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: TimeoutPhase::Read,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn http_401_is_unauthorized_and_names_key_and_secret() {
    let err = status_error(ResponseTemplate::new(401).set_body_raw(
        r#"{"status":401,"message":"Authentication Failed"}"#,
        "application/json",
    ))
    .await;
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("API key and secret"), "{text}");
    assert_eq!(err.http_status(), Some(401));
}

#[tokio::test]
async fn http_403_is_forbidden_and_names_privilege() {
    let err = status_error(ResponseTemplate::new(403).set_body_raw(
        r#"{"status":403,"message":"Forbidden"}"#,
        "application/json",
    ))
    .await;
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
    assert!(err.to_string().contains("privilege"), "{err}");
    assert_eq!(err.http_status(), Some(403));
}

#[tokio::test]
async fn http_404_is_endpoint_not_found_and_names_version_and_plugin() {
    let err = status_error(ResponseTemplate::new(404).set_body_raw(
        r#"{"errorMessage":"Endpoint not found"}"#,
        "application/json",
    ))
    .await;
    assert!(
        matches!(&err, Error::EndpointNotFound { path, .. } if path == "core/system/status"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("version"), "{text}");
    assert!(text.contains("plugin"), "{text}");
    // The client knows its firmware version, so the message names it.
    assert!(text.contains("26.1.10"), "{text}");
}

#[tokio::test]
async fn http_500_carries_opnsense_error_envelope() {
    let err = status_error(ResponseTemplate::new(500).set_body_raw(
        r#"{"errorMessage":"Unexpected error, check log for details","errorTitle":"An error occurred"}"#,
        "application/json",
    ))
    .await;
    match &err {
        Error::Http {
            status, message, ..
        } => {
            assert_eq!(*status, 500);
            assert!(
                message.contains("Unexpected error, check log for details"),
                "{message}"
            );
            assert!(message.contains("An error occurred"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn http_502_html_has_a_short_excerpt() {
    let page = format!(
        "<html><head><title>502 Bad Gateway</title></head><body>{}</body></html>",
        "nginx ".repeat(200)
    );
    let err = status_error(ResponseTemplate::new(502).set_body_raw(page, "text/html")).await;
    match &err {
        Error::Http {
            status, message, ..
        } => {
            assert_eq!(*status, 502);
            assert!(message.contains("502 Bad Gateway"), "{message}");
            assert!(message.len() < 400, "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn html_with_200_is_invalid_response_mentioning_html() {
    let err = status_error(ResponseTemplate::new(200).set_body_raw(
        "<!DOCTYPE html><html><body>Login</body></html>",
        "text/html",
    ))
    .await;
    match &err {
        Error::InvalidResponse {
            reason, excerpt, ..
        } => {
            assert!(reason.contains("HTML"), "{reason}");
            assert!(excerpt.contains("<!DOCTYPE html>"), "{excerpt}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn plain_text_with_200_is_invalid_response_with_excerpt() {
    let err = status_error(ResponseTemplate::new(200).set_body_raw("not json", "text/plain")).await;
    match &err {
        Error::InvalidResponse {
            reason, excerpt, ..
        } => {
            assert!(reason.contains("not valid JSON"), "{reason}");
            assert_eq!(excerpt, "not json");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("\"not json\""), "{err}");
}

#[tokio::test]
async fn body_cut_before_content_length_is_invalid_response() {
    let server = raw_server(|_| {
        let mut out =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                .to_vec();
        out.extend_from_slice(br#"{"metadata":{"syste"#);
        out
    });
    let client = client_for(&server.http_url());
    let err = get_status(&client).await.expect_err("cut");
    match &err {
        Error::InvalidResponse { reason, path, .. } => {
            assert_eq!(path, "core/system/status");
            assert!(reason.contains("cut short"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn complete_but_truncated_json_is_invalid_response() {
    let server = raw_server(|_| {
        http_response(
            "200 OK",
            "application/json",
            br#"{"rows":[{"uuid":"a"},{"uu"#,
        )
    });
    let client = client_for(&server.http_url());
    let err = get_status(&client).await.expect_err("truncated");
    match &err {
        Error::InvalidResponse {
            reason, excerpt, ..
        } => {
            assert!(reason.contains("truncated"), "{reason}");
            assert!(excerpt.starts_with(r#"{"rows""#), "{excerpt}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_megabyte_error_page_gives_a_short_message() {
    let page = format!("<html><body>{}</body></html>", "x".repeat(1 << 20));
    for status in [200, 500] {
        let err =
            status_error(ResponseTemplate::new(status).set_body_raw(page.clone(), "text/html"))
                .await;
        let text = err.to_string();
        assert!(text.len() <= 600, "{} chars: {text}", text.len());
        assert!(format!("{err:?}").len() <= 800);
    }
}

#[tokio::test]
async fn failed_add_is_validation_with_every_field() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/add_item"))
        .respond_with(common::json(json!({
            "result": "failed",
            "validations": {
                "alias.name": "A name must be unique.",
                "alias.content": ["Entry \"x\" is not a valid hostname or IP address.", "Second message."]
            }
        })))
        .mount(&server)
        .await;
    let client = common::client(&server).await;
    let err = client
        .grid(&ALIASES)
        .add_raw(json!({"name": "dup", "type": "host", "content": "x"}))
        .await
        .expect_err("refused");
    match &err {
        Error::Validation { path, errors } => {
            assert_eq!(path, "firewall/alias/add_item");
            assert_eq!(errors["alias.name"], vec!["A name must be unique."]);
            assert_eq!(errors["alias.content"].len(), 2);
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("alias.name: A name must be unique."),
        "{text}"
    );
    assert!(text.contains("Second message."), "{text}");
}

#[tokio::test]
async fn get_of_unknown_uuid_is_not_found_naming_it() {
    let id = "0b0c6a52-4d7e-4b2b-9a43-1f0e7a3c9d99";
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/firewall/filter/get_rule/{id}")))
        .respond_with(common::json(json!([])))
        .mount(&server)
        .await;
    let client = common::client(&server).await;
    let err = client
        .firewall()
        .filter()
        .get(&Uuid::parse(id).expect("uuid"))
        .await
        .expect_err("not found");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains(id), "{err}");
}

#[tokio::test]
async fn apply_error_status_is_action_failed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/filter/apply"))
        .respond_with(common::json(json!({"status": "error"})))
        .mount(&server)
        .await;
    let client = common::client(&server).await;
    let err = client
        .firewall()
        .filter()
        .apply()
        .await
        .expect_err("failed");
    match &err {
        Error::ActionFailed { status, path, .. } => {
            assert_eq!(status, "error");
            assert_eq!(path, "firewall/filter/apply");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn http_url_is_refused_without_the_allow_flag() {
    let err = Client::builder("http://127.0.0.1:1")
        .credentials(KEY, SECRET)
        .build()
        .expect_err("refused");
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("https://"), "{err}");
    assert!(err.is_local());
}

#[tokio::test]
async fn redirect_is_http_error_about_the_url() {
    let err = status_error(
        ResponseTemplate::new(302).insert_header("location", "https://127.0.0.1/index.php"),
    )
    .await;
    match &err {
        Error::Http {
            status, message, ..
        } => {
            assert_eq!(*status, 302);
            assert!(message.contains("URL"), "{message}");
            assert!(message.contains("https://127.0.0.1/index.php"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn https_to_a_plain_http_port_is_a_tls_error() {
    // Like nginx on a plain-HTTP port: answers whatever arrives (here a ClientHello) with 400.
    let server = support::serve(support::bind(0), |mut stream| async move {
        let mut buf = [0u8; 1024];
        if matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {
            let resp = http_response("400 Bad Request", "text/html", b"<html>400</html>");
            let _ = stream.write_all(&resp).await;
        }
    });
    let client = Client::builder(server.https_url())
        .credentials(KEY, SECRET)
        .firmware_version(FirmwareVersion::new(26, 1, 10))
        .build()
        .expect("client");
    let err = get_status(&client).await.expect_err("not TLS");
    assert!(
        matches!(
            err,
            Error::Tls {
                source: Some(_),
                ..
            }
        ),
        "the TLS error keeps its source: {err:?}"
    );
    assert!(err.to_string().contains("check the port"), "{err}");
    let chain = source_chain(&err);
    assert!(!chain.is_empty());
    for s in &chain {
        assert!(!s.contains(SECRET) && !s.contains(KEY), "{s}");
    }
}

fn version_client(server: &MockServer) -> Client {
    // No firmware version given: the client must look it up.
    Client::builder(server.uri())
        .credentials(KEY, SECRET)
        .allow_insecure_http(true)
        .build()
        .expect("client")
}

#[tokio::test]
async fn firmware_version_403_is_none_and_cached() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/core/firmware/status"))
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&server)
        .await;
    let client = version_client(&server);
    assert_eq!(client.firmware_version().await, None);
    assert_eq!(client.firmware_version().await, None);
    assert_eq!(client.clone().firmware_version().await, None);
    server.verify().await;
}

#[tokio::test]
async fn firmware_version_500_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/core/firmware/status"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/core/firmware/status"))
        .respond_with(common::json(
            json!({"product": {"product_version": "26.1.10_2"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = version_client(&server);
    assert_eq!(client.firmware_version().await, None);
    let v = FirmwareVersion::new(26, 1, 10);
    assert_eq!(client.firmware_version().await, Some(v));
    // Now cached: no third request.
    assert_eq!(client.firmware_version().await, Some(v));
    server.verify().await;
}

#[tokio::test]
async fn firmware_version_timeout_is_none_and_retried() {
    let server = silent_server();
    let client = Client::builder(server.http_url())
        .credentials(KEY, SECRET)
        .allow_insecure_http(true)
        .connect_timeout(Duration::from_secs(1))
        .read_timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    assert_eq!(client.firmware_version().await, None);
    let port = server.addr.port();
    server.stop().await;
    // The same address now answers.
    let listener = support::bind(port);
    let _server =
        support::keep_alive_json_server(listener, r#"{"product":{"product_version":"26.7.2"}}"#);
    assert_eq!(
        client.firmware_version().await,
        Some(FirmwareVersion::new(26, 7, 2))
    );
}

/// The firewall goes away (connections closed, port refused) and comes back on the same port:
/// the failure is reported and the same client works again.
#[tokio::test]
async fn server_stopping_mid_test_leaves_client_usable() {
    const BODY: &str = r#"{"metadata":{"system":{"status":2}}}"#;
    let server = support::keep_alive_json_server(support::bind(0), BODY);
    let port = server.addr.port();
    let client = client_for(&server.http_url());
    assert_eq!(
        get_status(&client).await.expect("up")["metadata"]["system"]["status"],
        2
    );
    // Again, over the pooled keep-alive connection.
    get_status(&client).await.expect("still up");

    server.stop().await;
    let err = get_status(&client).await.expect_err("down");
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");

    let _server = support::keep_alive_json_server(support::bind(port), BODY);
    assert_eq!(
        get_status(&client).await.expect("back")["metadata"]["system"]["status"],
        2
    );
}

/// Every source of `err`, as text (the chain a caller's `{:#}` reporter would print).
fn source_chain(err: &Error) -> Vec<String> {
    let mut out = Vec::new();
    let mut src = std::error::Error::source(err);
    while let Some(s) = src {
        out.push(format!("{s} / {s:?}"));
        src = s.source();
    }
    out
}

#[tokio::test]
async fn connect_errors_keep_their_source() {
    let port = support::closed_port().await;
    let err = get_status(&client_for(&format!("http://127.0.0.1:{port}")))
        .await
        .expect_err("refused");
    assert!(
        matches!(
            err,
            Error::Connect {
                source: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    let chain = source_chain(&err);
    assert!(!chain.is_empty(), "no source");
    assert!(
        chain.iter().any(|s| s.to_lowercase().contains("refused")),
        "{chain:?}"
    );
    for s in &chain {
        assert!(!s.contains(SECRET) && !s.contains(KEY), "{s}");
    }
}

/// A client for `url` that accepts at most `limit` response bytes.
fn capped(url: &str, limit: u64) -> Client {
    timed(url, Duration::from_secs(5), Duration::from_secs(5))
        .max_response_bytes(limit)
        .build()
        .expect("client")
}

/// `{"rows":["xxx…"]}` of exactly `len` bytes.
fn json_of_len(len: usize) -> Vec<u8> {
    let pad = len.checked_sub(br#"{"rows":[""]}"#.len()).expect("len");
    format!(r#"{{"rows":["{}"]}}"#, "x".repeat(pad)).into_bytes()
}

#[tokio::test]
async fn a_content_length_over_the_cap_is_too_large() {
    let body = json_of_len(2000);
    let server = raw_server(move |_| http_response("200 OK", "application/json", &body));
    let err = get_status(&capped(&server.http_url(), 1000))
        .await
        .expect_err("too large");
    match &err {
        Error::TooLarge {
            method,
            path,
            limit,
            announced,
        } => {
            assert_eq!(*method, Method::Get);
            assert_eq!(path, "core/system/status");
            assert_eq!(*limit, 1000);
            assert_eq!(*announced, Some(2000));
        }
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("larger than 1000 bytes"), "{text}");
    assert!(text.contains("announced 2000"), "{text}");
    assert!(text.contains("max_response_bytes"), "{text}");
    assert_eq!(err.http_status(), None);
}

#[tokio::test]
async fn an_announced_huge_body_is_refused_without_reading_it() {
    // 10 GB announced, nothing sent: the client must not wait for the body (it would run into
    // the read timeout).
    let head =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n"
            .to_vec();
    let server = drip_server(head, b"{".to_vec(), Duration::from_secs(30));
    let err = get_status(&capped(&server.http_url(), 1 << 20))
        .await
        .expect_err("too large");
    assert!(
        matches!(
            err,
            Error::TooLarge {
                announced: Some(10_000_000_000),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_chunked_body_growing_past_the_cap_is_too_large() {
    let body = json_of_len(64 * 1024);
    let server = raw_server(move |_| chunked_response(&body, 1024));
    let err = get_status(&capped(&server.http_url(), 16 * 1024))
        .await
        .expect_err("too large");
    match &err {
        Error::TooLarge {
            limit, announced, ..
        } => {
            assert_eq!((*limit, *announced), (16 * 1024, None));
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("announced"), "{err}");
}

#[tokio::test]
async fn a_body_of_exactly_the_cap_is_read() {
    for (chunked, limit, ok) in [
        (false, 4096, true),
        (true, 4096, true),
        (true, 4095, false),
        (false, 4095, false),
    ] {
        let body = json_of_len(4096);
        let server = raw_server(move |_| {
            if chunked {
                chunked_response(&body, 1000)
            } else {
                http_response("200 OK", "application/json", &body)
            }
        });
        let r = get_status(&capped(&server.http_url(), limit)).await;
        match r {
            Ok(v) => {
                assert!(ok, "chunked={chunked} limit={limit}");
                assert_eq!(v["rows"][0].as_str().map(str::len), Some(4096 - 13));
            }
            Err(e) => {
                assert!(!ok, "chunked={chunked} limit={limit}: {e:?}");
                assert!(matches!(e, Error::TooLarge { .. }), "{e:?}");
            }
        }
    }
}

#[tokio::test]
async fn a_slow_drip_hits_the_call_deadline() {
    // One byte every 200 ms never trips the 1 s read timeout: only the overall deadline ends
    // the call, whether the head or the body drips.
    let body = json_of_len(50);
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    let mut whole = head.clone();
    whole.extend_from_slice(&body);
    for (what, first, drip) in [
        ("body", head.clone(), body.clone()),
        ("head", Vec::new(), whole),
    ] {
        let server = drip_server(first, drip, Duration::from_millis(200));
        let client = timed(
            &server.http_url(),
            Duration::from_secs(1),
            Duration::from_secs(1),
        )
        .call_timeout(Duration::from_secs(1))
        .build()
        .expect("client");
        // Bounded even if the deadline were not enforced (the drip lasts at most ~14 s).
        let err = tokio::time::timeout(Duration::from_secs(30), get_status(&client))
            .await
            .expect("the call must end")
            .expect_err("deadline");
        match &err {
            Error::Deadline {
                after,
                method,
                path,
            } => {
                assert_eq!(*after, Duration::from_secs(1), "{what}");
                assert_eq!(*method, Method::Get);
                assert_eq!(path, "core/system/status");
            }
            other => panic!("{what}: {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains("call_timeout"), "{text}");
        assert!(!text.contains(SECRET), "{text}");
    }
}

#[test]
fn zero_limits_are_configuration_errors() {
    let base = || Client::builder("https://127.0.0.1:1").credentials(KEY, SECRET);
    for (what, b) in [
        ("response size", base().max_response_bytes(0)),
        ("call timeout", base().call_timeout(Duration::ZERO)),
        ("read timeout", base().read_timeout(Duration::ZERO)),
        ("connect timeout", base().connect_timeout(Duration::ZERO)),
    ] {
        let err = b.build().expect_err(what);
        assert!(matches!(err, Error::Config(_)), "{what}: {err:?}");
        assert!(err.to_string().contains(what), "{err}");
    }
}

/// A 500 with a 26.7-style escaped envelope, read by a client assuming `version`.
async fn escaped_500(version: Option<FirmwareVersion>) -> String {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/core/system/status"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(
            r#"{"errorMessage":"a &lt; b &amp;&amp; c &gt; d","errorTitle":"X &amp; Y","errorLevel":"error"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let client = match version {
        Some(v) => common::client_at(&server, v),
        None => common::client_unknown_version(&server),
    };
    match get_status(&client).await.expect_err("500") {
        Error::Http {
            status: 500,
            message,
            ..
        } => message,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn escaped_error_envelopes_are_unescaped_on_26_7_only() {
    for v in [
        FirmwareVersion::new(26, 7, 0),
        FirmwareVersion::new(26, 7, 2),
    ] {
        assert_eq!(escaped_500(Some(v)).await, "X & Y: a < b && c > d", "{v}");
    }
    // 26.1 sends the text as it is: an "&lt;" there is literal.
    for v in [
        FirmwareVersion::new(26, 1, 10),
        FirmwareVersion::new(26, 1, 11),
    ] {
        assert_eq!(
            escaped_500(Some(v)).await,
            "X &amp; Y: a &lt; b &amp;&amp; c &gt; d",
            "{v}"
        );
    }
    // A firmware not known yet is treated as the newest.
    assert_eq!(escaped_500(None).await, "X & Y: a < b && c > d");
}

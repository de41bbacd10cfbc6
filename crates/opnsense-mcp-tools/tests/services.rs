//! service_* tools: wire requests and results.

mod common;

use common::{harness, is_error, structured, text};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn status_reads_the_state() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path("/api/unbound/service/status"))
        .and(common::NoBody)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::fixture("services", "service_status.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("service_status", json!({"module": "unbound"})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"module": "unbound", "status": "running"})
    );
}

#[tokio::test]
async fn status_raw_returns_opnsense_json() {
    let h = harness().await;
    let body = common::fixture("services", "service_status.json");
    Mock::given(method("GET"))
        .and(path("/api/kea/service/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call("service_status", json!({"module": "kea", "raw": true}))
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"module": "kea", "status": "running", "raw": body})
    );
}

#[tokio::test]
async fn start_stop_restart_are_bodyless_posts() {
    let h = harness().await;
    for (tool, module, action, file) in [
        ("service_start", "ids", "start", "service_start.json"),
        ("service_stop", "dnsmasq", "stop", "service_stop.json"),
        (
            "service_restart",
            "unbound",
            "restart",
            "service_restart.json",
        ),
    ] {
        Mock::given(method("POST"))
            .and(path(format!("/api/{module}/service/{action}")))
            .and(common::NoBody)
            .respond_with(
                ResponseTemplate::new(200).set_body_json(common::fixture("services", file)),
            )
            .expect(1)
            .mount(&h.upstream)
            .await;
        let r = h.call(tool, json!({"module": module})).await;
        assert!(!is_error(&r), "{tool}: {}", text(&r));
        assert_eq!(structured(&r), json!({"module": module, "status": "OK"}));
    }
}

#[tokio::test]
async fn refused_start_is_an_error() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/kea/service/start"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"response": []})))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("service_start", json!({"module": "kea"})).await;
    assert!(is_error(&r), "{}", text(&r));
    assert!(
        text(&r).contains("did not start kea") && text(&r).contains("[]"),
        "{}",
        text(&r)
    );
}

#[tokio::test]
async fn unknown_endpoint_is_an_error() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/ipsec/service/restart"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(common::fixture("services", "error_404.json")),
        )
        .mount(&h.upstream)
        .await;
    let r = h.call("service_restart", json!({"module": "ipsec"})).await;
    assert!(is_error(&r), "{}", text(&r));
}

#[tokio::test]
async fn bad_modules_are_refused_before_any_request() {
    let h = harness().await;
    for (tool, args, needle) in [
        ("service_status", json!({"module": "nginx"}), "nginx"),
        (
            "service_start",
            json!({"module": "../core/firmware"}),
            "unknown variant",
        ),
        (
            "service_stop",
            json!({"module": "Unbound"}),
            "unknown variant",
        ),
        (
            "service_restart",
            json!({"module": "unbound", "force": true}),
            "force",
        ),
        (
            "service_restart",
            json!({"module": "unbound", "raw": true}),
            "raw",
        ),
        ("service_stop", json!({}), "module"),
    ] {
        let r = h.call(tool, args).await;
        assert!(is_error(&r), "{tool}");
        assert!(text(&r).contains(needle), "{needle}: {}", text(&r));
    }
    assert!(
        h.upstream
            .received_requests()
            .await
            .expect("recorded")
            .is_empty()
    );
}

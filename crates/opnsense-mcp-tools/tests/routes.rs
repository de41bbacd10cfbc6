//! route_* tools: wire requests and results.

mod common;

use common::{Harness, harness, is_error, structured, text};
use opnsense_mcp_tools::{OpnsenseTools, ToolOptions};
use rmcp::ServiceExt;
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const UUID: &str = "5b1f0e6a-8c3d-4f3e-9a51-0d2c7e4b9a10";

/// A harness whose SDK client believes the firewall runs `version`.
async fn harness_on(version: opnsense_api::FirmwareVersion) -> Harness {
    let upstream = MockServer::start().await;
    let api = opnsense_api::Client::builder(upstream.uri())
        .credentials("test-key", "test-secret")
        .allow_insecure_http(true)
        .firmware_version(version)
        .build()
        .expect("client");
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let server = OpnsenseTools::new(api, ToolOptions::default());
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = ().serve(client_io).await.expect("mcp client");
    Harness { upstream, client }
}

#[tokio::test]
async fn list_is_compact_and_reads_either_flag() {
    let h = harness().await;
    let mut body = common::fixture("routes", "searchroute.json");
    body["rows"].as_array_mut().expect("rows").push(json!({
        "uuid": "6c2e1f7b-9d4e-4a4f-8b62-1e3d8f5c0b21", "network": "2001:db8::/48",
        "gateway": "Null6", "descr": "", "disabled": "1"
    }));
    body["total"] = json!(2);
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/searchroute"))
        .and(body_json(
            json!({"current": 1, "rowCount": 100, "searchPhrase": ""}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("route_list", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"total": 2, "returned": 2, "page": 1, "rows": [
            {"uuid": UUID, "network": "10.20.0.0/16", "gateway": "WAN_GW", "enabled": true,
             "description": "Branch office"},
            {"uuid": "6c2e1f7b-9d4e-4a4f-8b62-1e3d8f5c0b21", "network": "2001:db8::/48",
             "gateway": "Null6", "enabled": false}
        ]})
    );
}

#[tokio::test]
async fn list_raw_and_paging_arguments() {
    let h = harness().await;
    let body = common::fixture("routes", "searchroute.json");
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/searchroute"))
        .and(body_json(
            json!({"current": 2, "rowCount": 5, "searchPhrase": "branch"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "route_list",
            json!({"current": 2, "row_count": 5, "search_phrase": "branch", "raw": true}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let v = structured(&r);
    assert_eq!(v["raw"], body["rows"]);
    assert_eq!(v["rows"], json!([]));
}

#[tokio::test]
async fn add_sends_descr_and_enabled() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/addroute"))
        .and(body_json(json!({"route": {
            "network": "10.20.0.0/16", "gateway": "WAN_GW", "descr": "Branch office", "enabled": "1"
        }})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::fixture("routes", "addroute.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "route_add",
            json!({"route": {"network": "10.20.0.0/16", "gateway": "WAN_GW",
                             "description": "Branch office", "enabled": true}}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"result": "added", "uuid": UUID, "apply_with": "route_apply"})
    );
}

#[tokio::test]
async fn add_on_older_firmware_sends_disabled() {
    let h = harness_on(opnsense_api::FirmwareVersion::new(26, 1, 9)).await;
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/addroute"))
        .and(body_json(json!({"route": {
            "network": "10.20.0.0/16", "gateway": "WAN_GW", "disabled": "1"
        }})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::fixture("routes", "addroute.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "route_add",
            json!({"route": {"network": "10.20.0.0/16", "gateway": "WAN_GW", "enabled": false}}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
}

#[tokio::test]
async fn add_refuses_bad_input_before_any_request() {
    let h = harness().await;
    for (args, needle) in [
        (json!({"route": {"gateway": "WAN_GW"}}), "route.network"),
        (json!({"route": {"network": "10.0.0.0/8"}}), "route.gateway"),
        (
            json!({"route": {"network": "10.0.0.0", "gateway": "WAN_GW"}}),
            "route.network",
        ),
        (
            json!({"route": {"network": "10.0.0.0/33", "gateway": "WAN_GW"}}),
            "route.network",
        ),
        (
            json!({"route": {"network": "lan/24", "gateway": "WAN_GW"}}),
            "route.network",
        ),
        (
            json!({"route": {"network": "10.0.0.0/8", "gateway": "../x"}}),
            "route.gateway",
        ),
        (
            json!({"route": {"network": "10.0.0.0/8", "gateway": "WAN_GW", "description": "a\nb"}}),
            "route.description",
        ),
        (
            json!({"route": {"network": "10.0.0.0/8", "gateway": "WAN_GW", "disabled": true}}),
            "disabled",
        ),
        (
            json!({"route": {"network": "10.0.0.0/8", "gateway": "WAN_GW"}, "bogus": 1}),
            "bogus",
        ),
    ] {
        let r = h.call("route_add", args).await;
        assert!(is_error(&r));
        assert!(text(&r).contains(needle), "{needle}: {}", text(&r));
    }
    assert!(h.nothing_sent().await);
}

#[tokio::test]
async fn validation_failure_names_the_field() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/addroute"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::fixture("routes", "addroute_failed.json")),
        )
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "route_add",
            json!({"route": {"network": "2001:db8::/48", "gateway": "WAN_GW"}}),
        )
        .await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(
        t.contains("route.network") && t.contains("matching the gateways ip protocol"),
        "{t}"
    );
}

#[tokio::test]
async fn update_sends_only_the_given_fields() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/routes/routes/getroute/{UUID}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::fixture("routes", "getroute.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/routes/routes/setroute/{UUID}")))
        .and(body_json(
            json!({"route": {"descr": "Head office", "enabled": "0"}}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::fixture("routes", "setroute.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "route_update",
            json!({"uuid": UUID, "route": {"description": "Head office", "enabled": false}}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"result": "updated", "uuid": UUID, "apply_with": "route_apply"})
    );
}

#[tokio::test]
async fn update_of_unknown_uuid_is_not_found_and_sends_no_set() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/routes/routes/getroute/{UUID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&h.upstream)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/routes/routes/setroute/{UUID}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::fixture("routes", "setroute.json")),
        )
        .expect(0)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "route_update",
            json!({"uuid": UUID, "route": {"gateway": "Null4"}}),
        )
        .await;
    assert!(is_error(&r));
    assert!(
        text(&r).contains(UUID) && text(&r).contains("not found"),
        "{}",
        text(&r)
    );
}

#[tokio::test]
async fn update_refuses_bad_input_before_any_request() {
    let h = harness().await;
    for (args, needle) in [
        (json!({"uuid": UUID, "route": {}}), "names no field"),
        (
            json!({"uuid": "../../core/firmware", "route": {"enabled": true}}),
            "uuid",
        ),
        (
            json!({"uuid": UUID, "route": {"network": "10.0.0.1/x"}}),
            "route.network",
        ),
        (json!({"uuid": UUID, "route": {"descr": "x"}}), "descr"),
        (json!({"uuid": UUID}), "route"),
    ] {
        let r = h.call("route_update", args).await;
        assert!(is_error(&r));
        assert!(text(&r).contains(needle), "{needle}: {}", text(&r));
    }
    assert!(h.nothing_sent().await);
}

#[tokio::test]
async fn delete_is_a_bodyless_post() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/api/routes/routes/delroute/{UUID}")))
        .and(common::NoBody)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::fixture("routes", "delroute.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("route_delete", json!({"uuid": UUID})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"result": "deleted", "uuid": UUID, "apply_with": "route_apply"})
    );
}

#[tokio::test]
async fn delete_of_unknown_uuid_is_not_found() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/api/routes/routes/delroute/{UUID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": "not found"})))
        .mount(&h.upstream)
        .await;
    let r = h.call("route_delete", json!({"uuid": UUID})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains("not found"), "{}", text(&r));
}

#[tokio::test]
async fn apply_reconfigures() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/reconfigure"))
        .and(common::NoBody)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::fixture("routes", "reconfigure.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("route_apply", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"action": "static routes applied", "status": "ok"})
    );
}

#[tokio::test]
async fn apply_error_status_is_an_error() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/reconfigure"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "error reloading routes (boom)"})),
        )
        .mount(&h.upstream)
        .await;
    let r = h.call("route_apply", json!({})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains("error reloading routes"), "{}", text(&r));
    let r = h.call("route_apply", json!({"now": true})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains("now"), "{}", text(&r));
}

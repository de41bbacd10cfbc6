//! firewall_rule_* tools: wire requests and results.

mod common;

use common::{harness, is_error, structured, text};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, ResponseTemplate};

const UUID: &str = "5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01";

#[tokio::test]
async fn list_is_compact_and_paged() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/filter/search_rule"))
        .and(body_json(json!({"current": 1, "rowCount": 100, "searchPhrase": ""})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 150, "rowCount": 1, "current": 1,
            "rows": [{"uuid": UUID, "enabled": "1", "action": "pass", "%action": "Pass",
                      "interface": "lan", "direction": "in", "ipprotocol": "inet", "protocol": "TCP",
                      "source_net": "lan", "source_not": "0", "destination_net": "any",
                      "destination_port": "https", "description": "web", "sort_order": "x"}]
        })))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("firewall_rule_list", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let v = structured(&r);
    assert_eq!(v["total"], 150);
    assert_eq!(v["rows"][0]["action"], "pass");
    assert_eq!(v["rows"][0]["destination"], "any");
    assert_eq!(v["rows"][0]["destination_port"], "https");
    assert!(v["rows"][0].get("sort_order").is_none());
    assert!(v["next"].as_str().expect("next").contains("current = 2"));
}

#[tokio::test]
async fn add_sends_typed_body_and_reports_staged() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/filter/add_rule"))
        .and(body_json(json!({"rule": {
            "action": "block", "interface": "lan,opt1", "protocol": "TCP",
            "destination_port": "22", "enabled": "1", "description": "no ssh"
        }})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"result": "saved", "uuid": UUID})),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_rule_add",
            json!({"rule": {"action": "block", "interface": ["lan", "opt1"], "protocol": "TCP",
                            "destination_port": "22", "enabled": true, "description": "no ssh"}}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"result": "added", "uuid": UUID, "apply_with": "firewall_rule_apply"})
    );
}

#[tokio::test]
async fn add_refuses_bad_input_before_any_request() {
    let h = harness().await;
    for (args, needle) in [
        (
            json!({"rule": {"action": "permit", "interface": ["lan"], "description": "x"}}),
            "permit",
        ),
        (
            json!({"rule": {"action": "pass", "description": "x"}}),
            "rule.interface",
        ),
        (
            json!({"rule": {"action": "pass", "interface": ["lan"], "description": "x", "bogus": 1}}),
            "bogus",
        ),
        (
            json!({"rule": {"action": "pass", "interface": ["../x"], "description": "x"}}),
            "rule.interface",
        ),
        (
            json!({"rule": {"action": "pass", "interface": ["lan"], "description": "a\nb"}}),
            "rule.description",
        ),
    ] {
        let r = h.call("firewall_rule_add", args).await;
        assert!(is_error(&r));
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

#[tokio::test]
async fn validation_failure_names_the_field() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/filter/add_rule"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": "failed",
            "validations": {"rule.source_net": "nope is not a valid source IP address or alias."}
        })))
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_rule_add",
            json!({"rule": {"action": "pass", "interface": ["lan"], "source_net": "nope", "description": "x"}}),
        )
        .await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(
        t.contains("rule.source_net") && t.contains("not a valid source"),
        "{t}"
    );
}

#[tokio::test]
async fn update_of_unknown_uuid_is_not_found_and_sends_no_set() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/firewall/filter/get_rule/{UUID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&h.upstream)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/filter/set_rule/{UUID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": "saved"})))
        .expect(0)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_rule_update",
            json!({"uuid": UUID, "rule": {"enabled": false}}),
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
async fn apply_error_status_is_an_error() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/filter/apply"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "error"})))
        .mount(&h.upstream)
        .await;
    let r = h.call("firewall_rule_apply", json!({})).await;
    assert!(is_error(&r), "{}", text(&r));
}

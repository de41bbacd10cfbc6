//! ids_* tools: wire requests and results.

mod common;

use common::{harness, is_error, structured, text};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn rulesets_are_compact() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/ids/settings/listRulesets"))
        .and(body_json(
            json!({"current": 1, "rowCount": 100, "searchPhrase": ""}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::fixture("ids", "listRulesets.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("ids_ruleset_list", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"total": 2, "returned": 2, "page": 1, "rows": [
            {"filename": "botcc.rules", "description": "ET open/botcc", "enabled": true,
             "modified": "2026/01/15 3:05"},
            {"filename": "emerging-scan.rules", "description": "ET open/emerging-scan",
             "enabled": false}
        ]})
    );
}

#[tokio::test]
async fn rulesets_raw_and_paging() {
    let h = harness().await;
    let body = common::fixture("ids", "listRulesets.json");
    Mock::given(method("POST"))
        .and(path("/api/ids/settings/listRulesets"))
        .and(body_json(
            json!({"current": 1, "rowCount": 1, "searchPhrase": "emerging"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "ids_ruleset_list",
            json!({"row_count": 1, "search_phrase": "emerging", "raw": true}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let v = structured(&r);
    assert_eq!(v["raw"], body["rows"]);
    assert!(v["next"].as_str().expect("next").contains("current = 2"));
}

#[tokio::test]
async fn bad_arguments_are_refused_before_any_request() {
    let h = harness().await;
    for (args, needle) in [
        (json!({"enabled_only": true}), "enabled_only"),
        (json!({"row_count": -2}), "row_count"),
    ] {
        let r = h.call("ids_ruleset_list", args).await;
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

//! system_config_backup: XML as text, every secret kind redacted, secrets only when allowed.

mod common;

use common::{harness, harness_with, is_error, structured, text};
use opnsense_mcp_tools::ToolOptions;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const CONFIG: &str = include_str!("fixtures/config-all-secrets.xml");

async fn serve_config(h: &common::Harness) {
    Mock::given(method("GET"))
        .and(path("/api/core/backup/download/this"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(CONFIG.as_bytes().to_vec(), "application/octet-stream"),
        )
        .mount(&h.upstream)
        .await;
}

#[tokio::test]
async fn every_secret_kind_is_redacted_and_counted() {
    let h = harness().await;
    serve_config(&h).await;
    let r = h.call("system_config_backup", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let out = text(&r);
    // The XML is a text block of its own, not JSON-escaped.
    assert!(
        out.contains("<opnsense>") && out.contains("<hostname>fw</hostname>"),
        "{out}"
    );
    let leaked: Vec<&str> = out
        .split(['<', '>'])
        .filter(|s| s.contains("SECRET-"))
        .collect();
    assert!(leaked.is_empty(), "secrets left in the output: {leaked:?}");
    let secrets_in_fixture = CONFIG.matches("SECRET-").count();
    let summary = structured(&r);
    assert_eq!(summary["redacted"], true);
    assert_eq!(
        summary["redacted_elements"], secrets_in_fixture,
        "{summary}"
    );
    assert!(out.contains("[REDACTED]"));
    // Public material and ordinary fields survive.
    for kept in [
        "PUBLICKEY-OK",
        "WGPUBKEY-OK",
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tUFVCTElD",
        "dsl-user",
        "<pass>keep</pass>",
    ] {
        assert!(out.contains(kept), "{kept} was removed");
    }
}

#[tokio::test]
async fn include_secrets_is_refused_unless_allowed() {
    let h = harness().await;
    serve_config(&h).await;
    let r = h
        .call("system_config_backup", json!({"include_secrets": true}))
        .await;
    assert!(is_error(&r));
    assert!(text(&r).contains("OPNSENSE_ALLOW_SECRETS"), "{}", text(&r));
    assert!(
        h.upstream
            .received_requests()
            .await
            .expect("recorded")
            .is_empty()
    );

    let h = harness_with(ToolOptions {
        allow_secrets: true,
        read_only: false,
    })
    .await;
    serve_config(&h).await;
    let r = h
        .call("system_config_backup", json!({"include_secrets": true}))
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert!(text(&r).contains("SECRET-ldap-bind"));
    assert_eq!(structured(&r)["redacted"], false);
}

#[tokio::test]
async fn a_non_xml_answer_is_an_error() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path("/api/core/backup/download/this"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(b"[]".to_vec(), "application/json"))
        .mount(&h.upstream)
        .await;
    let r = h.call("system_config_backup", json!({})).await;
    assert!(is_error(&r), "{}", text(&r));
}

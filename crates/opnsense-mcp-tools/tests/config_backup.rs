//! system_config_backup beyond the wire contract: every kind of secret in a config.xml that
//! holds one of each (`fixtures/config-all-secrets.xml`) is redacted and counted, public
//! material next to it survives, and `include_secrets` returns it all when allowed. Kept in
//! Rust because the oracle is computed from the fixture (no secret marker may survive, the
//! count equals the markers in the file), which a contract case cannot express.

mod support;

use opnsense_mcp_tools::ToolOptions;
use serde_json::json;
use support::{Session, is_error, structured, text};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const CONFIG: &str = include_str!("fixtures/config-all-secrets.xml");

async fn serve_config(s: &Session) {
    Mock::given(method("GET"))
        .and(path("/api/core/backup/download/this"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(CONFIG.as_bytes().to_vec(), "application/octet-stream"),
        )
        .mount(&s.upstream)
        .await;
}

#[tokio::test]
async fn every_secret_kind_is_redacted_and_counted() {
    let s = Session::plain(ToolOptions::default()).await;
    serve_config(&s).await;
    let r = s
        .call("system_config_backup", &json!({}))
        .await
        .expect("call");
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
async fn include_secrets_returns_every_secret_when_allowed() {
    let s = Session::plain(ToolOptions {
        allow_secrets: true,
        ..ToolOptions::default()
    })
    .await;
    serve_config(&s).await;
    let r = s
        .call("system_config_backup", &json!({"include_secrets": true}))
        .await
        .expect("call");
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        text(&r).matches("SECRET-").count(),
        CONFIG.matches("SECRET-").count()
    );
    assert_eq!(structured(&r)["redacted"], false);
}

//! Routing, authentication, body rules, TLS and response encoding.

mod common;

use std::time::Duration;

use common::{Harness, client_for, send};
use opnsense_sim::{LimitedKey, SimConfig};
use serde_json::json;

#[tokio::test]
async fn action_spellings_and_unknown_endpoints() {
    let h = Harness::start().await;
    for path in [
        "firewall/filter/search_rule",
        "firewall/filter/searchRule",
        "firewall/filter/SEARCHRULE",
        "firewall//filter/search_rule/",
    ] {
        let (s, body) = h.post(path, json!({"rowCount": 1})).await;
        assert_eq!(s, 200, "{path}");
        assert_eq!(body["rowCount"], 1, "{path}");
    }
    let (s, body) = h.get("firewall/alias/get_alias_u_u_i_d/webservers").await;
    assert_eq!(s, 200);
    assert!(body["uuid"].is_string());
    let (s, same) = h.get("firewall/alias/getAliasUUID/webservers").await;
    assert_eq!((s, &same), (200, &body));

    for path in [
        "firewall/dnat/search_rule",
        "firewall/filter/no_such_action",
        "nope/x/y",
        "firewall/filter",
    ] {
        let (s, body) = h.get(path).await;
        assert_eq!(
            (s, body),
            (404, json!({"errorMessage": "Endpoint not found"})),
            "{path}"
        );
    }
    // 404 is decided before authentication.
    let (s, body) = send(h.http.get(h.url("firewall/dnat/search_rule"))).await;
    assert_eq!(
        (s, body),
        (404, json!({"errorMessage": "Endpoint not found"}))
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn authentication_and_acl() {
    let h = Harness::with(SimConfig {
        limited_key: Some(LimitedKey {
            key: "ro-key".into(),
            secret: "ro-secret".into(),
            allowed_prefixes: vec!["/api/core/system/".into()],
        }),
        ..SimConfig::default()
    })
    .await;
    let url = h.url("core/system/status");
    let resp = h.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(resp.text().await.unwrap(), "", "no header => empty body");

    let (s, body) = send(h.http.get(&url).basic_auth("sim-key", Some("wrong"))).await;
    assert_eq!(
        (s, body),
        (
            401,
            json!({"status": 401, "message": "Authentication Failed"})
        )
    );
    let (s, _) = send(
        h.http
            .get(&url)
            .header("Authorization", "Basic !!!notbase64"),
    )
    .await;
    assert_eq!(s, 401);
    // The scheme word is not checked.
    let token = "c2ltLWtleTpzaW0tc2VjcmV0"; // base64("sim-key:sim-secret")
    let (s, _) = send(
        h.http
            .get(&url)
            .header("Authorization", format!("Whatever {token}")),
    )
    .await;
    assert_eq!(s, 200);

    let (s, _) = send(h.http.get(&url).basic_auth("ro-key", Some("ro-secret"))).await;
    assert_eq!(s, 200);
    let (s, body) = send(
        h.http
            .post(h.url("firewall/filter/search_rule"))
            .basic_auth("ro-key", Some("ro-secret")),
    )
    .await;
    assert_eq!(
        (s, body),
        (403, json!({"status": 403, "message": "Forbidden"}))
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn empty_json_body_is_400_and_bodyless_post_is_fine() {
    let h = Harness::start().await;
    // A JSON content type with no body, on a POST and on a GET.
    for (method, path, content_type) in [
        (
            reqwest::Method::POST,
            "firewall/filter/apply",
            "application/json",
        ),
        (
            reqwest::Method::GET,
            "core/system/status",
            "application/json;charset=utf-8",
        ),
    ] {
        let request = h.request(method.clone(), path);
        let (s, body) = send(request.header("Content-Type", content_type)).await;
        assert_eq!(
            (s, body),
            (
                400,
                json!({"status": 400, "message": "Invalid JSON syntax"})
            ),
            "{method} {path} ({content_type})"
        );
    }
    let (s, body) = h.post_empty("firewall/filter/apply").await;
    assert_eq!((s, body), (200, json!({"status": "OK\n\n"})));
    // Unparsable JSON is treated as an empty POST.
    let (s, body) = send(
        h.request(reqwest::Method::POST, "firewall/filter/add_rule")
            .header("Content-Type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!((s, body), (200, json!({"result": "failed"})));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn responses_look_like_php() {
    let h = Harness::start().await;
    let resp = h
        .request(reqwest::Method::POST, "routes/routes/searchroute")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/json; charset=UTF-8"
    );
    let text = resp.text().await.unwrap();
    assert!(
        text.contains(r#""network":"10.20.0.0\/16""#),
        "slashes escaped: {text}"
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn tls_is_trusted_only_with_the_ca() {
    let a = Harness::start().await;
    let b = Harness::start().await;
    assert!(a.sim.ca_file().exists());
    assert_eq!(
        std::fs::read_to_string(a.sim.ca_file()).unwrap(),
        a.sim.ca_pem()
    );
    assert!(a.sim.base_url().starts_with("https://127.0.0.1:"));
    // Trusting B's CA while talking to A fails the handshake.
    let wrong = client_for(b.sim.ca_pem(), Duration::from_secs(5));
    let err = a
        .get_via(&wrong, "core/system/status")
        .send()
        .await
        .expect_err("untrusted certificate");
    assert!(err.is_connect() || err.is_request(), "{err:?}");
    // localhost is in the certificate too.
    let url = format!(
        "https://localhost:{}/api/core/system/status",
        a.sim.addr().port()
    );
    let (s, _) = send(a.http.get(url).basic_auth("sim-key", Some("sim-secret"))).await;
    assert_eq!(s, 200);
    a.sim.shutdown().await;
    b.sim.shutdown().await;
}

#[tokio::test]
async fn request_log_records_method_path_status() {
    let h = Harness::start().await;
    h.get("core/system/status").await;
    h.get("nope/x/y").await;
    let log = h.sim.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/api/core/system/status");
    assert_eq!(log[0].status, 200);
    assert_eq!(log[1].status, 404);
    assert_eq!(h.sim.request_count(), 2);
    h.sim.shutdown().await;
}

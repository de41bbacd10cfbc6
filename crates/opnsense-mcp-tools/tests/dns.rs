//! dns_* tools: wire requests and results.

mod common;

use common::{harness, is_error, structured, text};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, ResponseTemplate};

const UUID: &str = "3f2e1d0c-9b8a-4766-8554-433221100fed";

#[tokio::test]
async fn settings_are_compact_with_counts() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path("/api/unbound/settings/get"))
        .and(common::NoBody)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(common::fixture("dns", "settings_get.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("dns_settings_get", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"enabled": true, "port": "53", "dnssec": false, "dns64": false,
               "active_interfaces": [], "register_dhcp_leases": false,
               "register_dhcp_static": false, "forwarding": false, "dnsbl": false,
               "host_overrides": 1, "host_aliases": 0, "forwards": 0})
    );
}

#[tokio::test]
async fn settings_raw_returns_the_whole_model() {
    let h = harness().await;
    let body = common::fixture("dns", "settings_get.json");
    Mock::given(method("GET"))
        .and(path("/api/unbound/settings/get"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("dns_settings_get", json!({"raw": true})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["raw"], body);
}

#[tokio::test]
async fn host_overrides_are_compact() {
    let h = harness().await;
    let mut body = common::fixture("dns", "searchHostOverride.json");
    body["rows"].as_array_mut().expect("rows").push(json!({
        "uuid": "4a3f2e1d-0c9b-4877-9665-544332211000", "enabled": "0", "hostname": "",
        "domain": "example.lan", "rr": "MX", "mxprio": "10", "mx": "mail.example.lan",
        "server": "", "txtdata": "", "description": "", "aliases": "", "isAlias": false
    }));
    Mock::given(method("POST"))
        .and(path("/api/unbound/settings/searchHostOverride"))
        .and(body_json(
            json!({"current": 1, "rowCount": 100, "searchPhrase": ""}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("dns_host_override_list", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r)["rows"],
        json!([
            {"uuid": UUID, "enabled": true, "hostname": "nas", "domain": "example.lan",
             "rr": "A", "value": "192.168.1.50", "description": "NAS"},
            {"uuid": "4a3f2e1d-0c9b-4877-9665-544332211000", "enabled": false,
             "domain": "example.lan", "rr": "MX", "value": "10 mail.example.lan"}
        ])
    );
}

#[tokio::test]
async fn host_override_list_raw() {
    let h = harness().await;
    let body = common::fixture("dns", "searchHostOverride.json");
    Mock::given(method("POST"))
        .and(path("/api/unbound/settings/searchHostOverride"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
        .mount(&h.upstream)
        .await;
    let r = h.call("dns_host_override_list", json!({"raw": true})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["raw"], body["rows"]);
}

#[tokio::test]
async fn add_a_record() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/unbound/settings/addHostOverride"))
        .and(body_json(json!({"host": {
            "hostname": "nas", "domain": "example.lan", "rr": "A", "server": "192.168.1.50",
            "description": "NAS", "enabled": "1"
        }})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::fixture("dns", "addHostOverride.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "dns_host_override_add",
            json!({"host": {"hostname": "nas", "domain": "example.lan", "rr": "A",
                            "server": "192.168.1.50", "description": "NAS", "enabled": true}}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let v = structured(&r);
    assert_eq!(v["result"], "added");
    assert_eq!(v["apply_with"], "dns_apply");
    assert_eq!(
        v["uuid"],
        common::fixture("dns", "addHostOverride.json")["uuid"]
    );
}

#[tokio::test]
async fn add_mx_record_defaults_nothing() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/unbound/settings/addHostOverride"))
        .and(body_json(json!({"host": {
            "domain": "example.lan", "rr": "MX", "mx": "mail.example.lan", "mxprio": "10",
            "ttl": "3600"
        }})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::fixture("dns", "addHostOverride.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "dns_host_override_add",
            json!({"host": {"domain": "example.lan", "rr": "MX", "mx": "mail.example.lan",
                            "mxprio": 10, "ttl": 3600}}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
}

#[tokio::test]
async fn add_refuses_bad_input_before_any_request() {
    let h = harness().await;
    for (args, needle) in [
        (json!({"host": {"hostname": "nas"}}), "host.domain"),
        (json!({"host": {"domain": "example.lan"}}), "host.server"),
        (
            json!({"host": {"domain": "example.lan", "rr": "AAAA", "server": "192.168.1.5"}}),
            "host.server",
        ),
        (
            json!({"host": {"domain": "example.lan", "server": "nas.local"}}),
            "host.server",
        ),
        (
            json!({"host": {"domain": "example.lan", "rr": "MX", "mx": "mail.example.lan"}}),
            "host.mxprio",
        ),
        (
            json!({"host": {"domain": "example.lan", "rr": "MX", "mxprio": 10}}),
            "host.mx",
        ),
        (
            json!({"host": {"domain": "example.lan", "rr": "TXT"}}),
            "host.txtdata",
        ),
        (
            json!({"host": {"domain": "example.lan", "rr": "CNAME", "server": "1.2.3.4"}}),
            "CNAME",
        ),
        (
            json!({"host": {"host": "nas", "domain": "example.lan", "server": "1.2.3.4"}}),
            "unknown field `host`",
        ),
        (
            json!({"host": {"domain": "example.lan.", "server": "1.2.3.4"}}),
            "host.domain",
        ),
        (
            json!({"host": {"hostname": "a b", "domain": "example.lan", "server": "1.2.3.4"}}),
            "host.hostname",
        ),
        (
            json!({"host": {"domain": "example.lan", "server": "1.2.3.4", "ttl": -1}}),
            "-1",
        ),
    ] {
        let r = h.call("dns_host_override_add", args).await;
        assert!(is_error(&r));
        assert!(text(&r).contains(needle), "{needle}: {}", text(&r));
    }
    assert!(h.nothing_sent().await);
}

#[tokio::test]
async fn validation_failure_names_the_field() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/unbound/settings/addHostOverride"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::fixture("dns", "addHostOverride_failed.json")),
        )
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "dns_host_override_add",
            json!({"host": {"domain": "example.lan", "server": "192.168.1.50"}}),
        )
        .await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(
        t.contains("host.server") && t.contains("The field IP address is required"),
        "{t}"
    );
}

#[tokio::test]
async fn update_sends_only_the_given_fields() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/unbound/settings/getHostOverride/{UUID}"
        )))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::fixture("dns", "getHostOverride.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/unbound/settings/setHostOverride/{UUID}"
        )))
        .and(body_json(json!({"host": {"server": "192.168.1.60"}})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::fixture("dns", "setHostOverride.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "dns_host_override_update",
            json!({"uuid": UUID, "host": {"server": "192.168.1.60"}}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"result": "updated", "uuid": UUID, "apply_with": "dns_apply"})
    );
}

#[tokio::test]
async fn update_of_unknown_uuid_is_not_found_and_sends_no_set() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/api/unbound/settings/getHostOverride/{UUID}"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&h.upstream)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/unbound/settings/setHostOverride/{UUID}"
        )))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::fixture("dns", "setHostOverride.json")),
        )
        .expect(0)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "dns_host_override_update",
            json!({"uuid": UUID, "host": {"enabled": false}}),
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
async fn update_and_delete_refuse_bad_input_before_any_request() {
    let h = harness().await;
    for (tool, args, needle) in [
        (
            "dns_host_override_update",
            json!({"uuid": UUID, "host": {}}),
            "names no field",
        ),
        (
            "dns_host_override_update",
            json!({"uuid": "../../../core/firmware/status", "host": {"enabled": true}}),
            "uuid",
        ),
        (
            "dns_host_override_update",
            json!({"uuid": UUID, "host": {"rr": "SRV"}}),
            "SRV",
        ),
        ("dns_host_override_delete", json!({"uuid": "../x"}), "uuid"),
        (
            "dns_host_override_delete",
            json!({"uuid": UUID, "force": true}),
            "force",
        ),
    ] {
        let r = h.call(tool, args).await;
        assert!(is_error(&r), "{tool}");
        assert!(text(&r).contains(needle), "{needle}: {}", text(&r));
    }
    assert!(h.nothing_sent().await);
}

#[tokio::test]
async fn delete_is_a_bodyless_post() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/unbound/settings/delHostOverride/{UUID}"
        )))
        .and(common::NoBody)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::fixture("dns", "delHostOverride.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call("dns_host_override_delete", json!({"uuid": UUID}))
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"result": "deleted", "uuid": UUID, "apply_with": "dns_apply"})
    );
}

#[tokio::test]
async fn apply_reconfigures_unbound() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/unbound/service/reconfigure"))
        .and(common::NoBody)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::fixture("dns", "service_reconfigure.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("dns_apply", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"action": "DNS changes applied (Unbound restarted)", "status": "ok"})
    );
}

#[tokio::test]
async fn apply_failure_is_an_error() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/unbound/service/reconfigure"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "failed"})))
        .mount(&h.upstream)
        .await;
    let r = h.call("dns_apply", json!({})).await;
    assert!(is_error(&r), "{}", text(&r));
}

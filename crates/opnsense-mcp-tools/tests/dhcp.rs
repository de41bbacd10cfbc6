//! dhcp_* tools: wire requests and results.

mod common;

use common::{harness, is_error, structured, text};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn leases_are_compact() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/kea/leases4/search"))
        .and(body_json(
            json!({"current": 1, "rowCount": 100, "searchPhrase": ""}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::fixture("dhcp", "kea_leases4_search.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("dhcp_lease_list", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"total": 1, "returned": 1, "page": 1, "rows": [
            {"address": "192.168.1.100", "mac": "00:0d:b9:4a:12:34", "hostname": "nas",
             "interface": "lan", "expires": 1_767_229_200_i64, "reserved": true}
        ]})
    );
}

#[tokio::test]
async fn leases_filter_by_interface_and_ignore_inactive() {
    let h = harness().await;
    let body = common::fixture("dhcp", "kea_leases4_search.json");
    Mock::given(method("POST"))
        .and(path("/api/kea/leases4/search"))
        .and(body_json(json!({
            "current": 1, "rowCount": 10, "searchPhrase": "nas",
            "selected_interfaces": ["lan", "opt1"]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "dhcp_lease_list",
            json!({"row_count": 10, "search_phrase": "nas", "inactive": 1,
                   "interfaces": ["lan", "opt1"], "raw": true}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["raw"], body["rows"]);
}

#[tokio::test]
async fn lease_list_refuses_bad_input_before_any_request() {
    let h = harness().await;
    for (args, needle) in [
        (json!({"interfaces": ["../lan"]}), "interfaces"),
        (json!({"interfaces": "lan"}), "invalid type"),
        (
            json!({"selected_interfaces": ["lan"]}),
            "selected_interfaces",
        ),
        (json!({"row_count": 5000}), "row_count"),
        (
            json!({"inactive": "yes"}),
            "`inactive` as 0, 1, true or false",
        ),
    ] {
        let r = h.call("dhcp_lease_list", args).await;
        assert!(is_error(&r));
        assert!(text(&r).contains(needle), "{needle}: {}", text(&r));
    }
    assert!(h.nothing_sent().await);
}

#[tokio::test]
async fn settings_are_compact() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path("/api/kea/dhcpv4/get"))
        .and(common::NoBody)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(common::fixture("dhcp", "kea_dhcpv4_get.json")),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("dhcp_settings_get", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let v = structured(&r);
    assert_eq!(v["enabled"], true);
    assert_eq!(v["interfaces"], json!(["lan"]));
    assert_eq!(v["valid_lifetime"], 4000);
    assert_eq!(v["ha_enabled"], false);
    assert!(
        v["note"]
            .as_str()
            .expect("note")
            .contains("dhcp_static_list")
    );
    assert!(v.get("raw").is_none());
}

#[tokio::test]
async fn settings_raw_returns_opnsense_json() {
    let h = harness().await;
    let body = common::fixture("dhcp", "kea_dhcpv4_get.json");
    Mock::given(method("GET"))
        .and(path("/api/kea/dhcpv4/get"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
        .mount(&h.upstream)
        .await;
    let r = h.call("dhcp_settings_get", json!({"raw": true})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["raw"], body);
    let r = h.call("dhcp_settings_get", json!({"verbose": true})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains("verbose"), "{}", text(&r));
}

#[tokio::test]
async fn reservations_show_the_subnet_cidr() {
    let h = harness().await;
    let mut body = common::fixture("dhcp", "kea_dhcpv4_searchReservation.json");
    body["rows"].as_array_mut().expect("rows").push(json!({
        "uuid": "1d8c2b3f-4e5a-4b6c-9d0e-1f2a3b4c5d6e",
        "subnet": "9a8b7c6d-5e4f-4321-8765-43210fedcba9",
        "ip_address": "192.168.1.51", "hw_address": "00:0d:b9:4a:12:35",
        "hostname": "", "description": ""
    }));
    Mock::given(method("POST"))
        .and(path("/api/kea/dhcpv4/searchReservation"))
        .and(body_json(
            json!({"current": 1, "rowCount": 100, "searchPhrase": ""}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("dhcp_static_list", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r)["rows"],
        json!([
            {"uuid": "0c7b1a2e-3d4f-4a5b-8c9d-0e1f2a3b4c5d", "subnet": "192.168.1.0/24",
             "ip_address": "192.168.1.50", "hw_address": "00:0d:b9:4a:12:34",
             "hostname": "nas", "description": "NAS box"},
            {"uuid": "1d8c2b3f-4e5a-4b6c-9d0e-1f2a3b4c5d6e",
             "subnet": "9a8b7c6d-5e4f-4321-8765-43210fedcba9",
             "ip_address": "192.168.1.51", "hw_address": "00:0d:b9:4a:12:35"}
        ])
    );
}

#[tokio::test]
async fn reservations_raw_and_bad_paging() {
    let h = harness().await;
    let body = common::fixture("dhcp", "kea_dhcpv4_searchReservation.json");
    Mock::given(method("POST"))
        .and(path("/api/kea/dhcpv4/searchReservation"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("dhcp_static_list", json!({"current": 0})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains("current"), "{}", text(&r));
    let r = h.call("dhcp_static_list", json!({"raw": true})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["raw"], body["rows"]);
}

//! interface_* tools: wire requests and results.

mod common;

use common::{Harness, harness, is_error, structured, text};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

async fn serve_get(h: &Harness, endpoint: &str, body: Value, times: u64) {
    Mock::given(method("GET"))
        .and(path(format!("/api/diagnostics/interface/{endpoint}")))
        .and(common::NoBody)
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(times)
        .mount(&h.upstream)
        .await;
}

#[tokio::test]
async fn list_gives_device_and_description_rows() {
    let h = harness().await;
    serve_get(
        &h,
        "getInterfaceNames",
        common::fixture("interfaces", "getInterfaceNames.json"),
        1,
    )
    .await;
    let r = h.call("interface_list", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"total": 3, "rows": [
            {"device": "igb0", "description": "WAN"},
            {"device": "igb1", "description": "LAN"},
            {"device": "wg1", "description": "WireGuard"}
        ]})
    );
}

#[tokio::test]
async fn list_raw_and_empty_map() {
    let h = harness().await;
    serve_get(&h, "getInterfaceNames", json!([]), 1).await;
    let r = h.call("interface_list", json!({"raw": true})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r), json!({"total": 0, "rows": [], "raw": []}));
}

#[tokio::test]
async fn config_is_compact_with_descriptions() {
    let h = harness().await;
    serve_get(
        &h,
        "getInterfaceConfig",
        common::fixture("interfaces", "getInterfaceConfig.json"),
        1,
    )
    .await;
    serve_get(
        &h,
        "getInterfaceNames",
        common::fixture("interfaces", "getInterfaceNames.json"),
        1,
    )
    .await;
    let r = h.call("interface_config", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"total": 2, "rows": [
            {"device": "igb1", "description": "LAN", "status": "active", "up": true,
             "mac": "f4:90:ea:00:aa:01", "mtu": 1500, "media": "1000baseT <full-duplex>",
             "ipv4": ["192.168.1.1/24"],
             "ipv6": ["2001:db8:1::1/64", "fe80::f690:eaff:fe00:aa01/64"]},
            {"device": "lo0", "up": true, "mtu": 16384, "ipv4": ["127.0.0.1/8"], "ipv6": []}
        ]})
    );
}

#[tokio::test]
async fn config_raw_returns_opnsense_json_only() {
    let h = harness().await;
    let body = common::fixture("interfaces", "getInterfaceConfig.json");
    serve_get(&h, "getInterfaceConfig", body.clone(), 1).await;
    serve_get(&h, "getInterfaceNames", json!({}), 0).await;
    let r = h.call("interface_config", json!({"raw": true})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let v = structured(&r);
    assert_eq!(v["raw"], body);
    assert_eq!(v["total"], 2);
    assert_eq!(v["rows"], json!([]));
}

#[tokio::test]
async fn arp_rows_are_compact_and_paged_locally() {
    let h = harness().await;
    serve_get(
        &h,
        "getArp",
        common::fixture("interfaces", "getArp.json"),
        2,
    )
    .await;
    let r = h.call("interface_arp_table", json!({"row_count": 1})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"total": 2, "returned": 1, "page": 1,
               "rows": [{"ip": "192.168.1.10", "mac": "00:0d:b9:4a:12:34", "interface": "igb1",
                         "description": "LAN", "hostname": "nas", "manufacturer": "PC Engines GmbH"}],
               "next": "1 more rows: call again with current = 2"})
    );
    let r = h
        .call("interface_arp_table", json!({"current": 2, "row_count": 1}))
        .await;
    assert_eq!(
        structured(&r)["rows"],
        json!([{"ip": "192.168.1.1", "mac": "f4:90:ea:00:aa:01", "interface": "igb1",
                "description": "LAN", "manufacturer": "Deciso B.V.", "permanent": true}])
    );
}

#[tokio::test]
async fn arp_search_phrase_and_raw() {
    let h = harness().await;
    let body = common::fixture("interfaces", "getArp.json");
    serve_get(&h, "getArp", body.clone(), 1).await;
    let r = h
        .call(
            "interface_arp_table",
            json!({"search_phrase": "deciso", "raw": true}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let v = structured(&r);
    assert_eq!(v["total"], 1);
    assert_eq!(v["raw"], json!([body[1]]));
}

#[tokio::test]
async fn ndp_rows_are_compact() {
    let h = harness().await;
    serve_get(
        &h,
        "getNdp",
        common::fixture("interfaces", "getNdp.json"),
        1,
    )
    .await;
    let r = h.call("interface_ndp_table", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let v = structured(&r);
    assert_eq!(v["total"], 2);
    assert!(v.get("next").is_none());
    assert_eq!(
        v["rows"][0],
        json!({"ip": "fe80::20d:b9ff:fe4a:1234%igb1", "mac": "00:0d:b9:4a:12:34",
               "interface": "igb1", "description": "LAN", "manufacturer": "PC Engines GmbH"})
    );
}

#[tokio::test]
async fn bad_arguments_are_refused_before_any_request() {
    let h = harness().await;
    for (tool, args, needle) in [
        ("interface_list", json!({"bogus": 1}), "bogus"),
        ("interface_config", json!({"raw": "yes"}), "invalid type"),
        ("interface_arp_table", json!({"row_count": 0}), "row_count"),
        ("interface_ndp_table", json!({"current": 0}), "current"),
        (
            "interface_ndp_table",
            json!({"search_phrase": "a\nb"}),
            "search_phrase",
        ),
    ] {
        let r = h.call(tool, args).await;
        assert!(is_error(&r), "{tool}");
        assert!(text(&r).contains(needle), "{needle}: {}", text(&r));
    }
    assert!(h.nothing_sent().await);
}

#[tokio::test]
async fn unexpected_answer_is_an_error() {
    let h = harness().await;
    serve_get(&h, "getArp", json!({"status": "weird"}), 1).await;
    let r = h.call("interface_arp_table", json!({})).await;
    assert!(is_error(&r), "{}", text(&r));
}

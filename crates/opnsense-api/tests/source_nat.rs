//! `firewall/source_nat` (outbound NAT): what only this grid has. The generic grid behaviour is
//! in `grids.rs`; here: the outbound NAT mode (read only from 26.1.11 on, refused without a
//! request before), the automatic rows of the search, and the rule fields of each release.

mod common;

use common::{
    assert_invalid_response, assert_request, client_at, client_unknown_version, expect_get,
    expect_no_request, json,
};
use opnsense_api::api::source_nat::{SNAT_RULES, settings_request};
use opnsense_api::fields::decode_lenient;
use opnsense_api::models::source_nat::{SNatMode, SNatRule};
use opnsense_api::{Error, FirmwareVersion, Method};
use serde_json::{Value, json as j};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const V26_1_10: FirmwareVersion = FirmwareVersion::new(26, 1, 10);
const V26_1_11: FirmwareVersion = FirmwareVersion::new(26, 1, 11);
const V26_7_2: FirmwareVersion = FirmwareVersion::new(26, 7, 2);

fn mode_map(selected: &str) -> Value {
    let mut m = serde_json::Map::new();
    for (k, label) in [
        ("automatic", "Automatic Source NAT rule generation"),
        ("hybrid", "Hybrid Source NAT rule generation"),
        ("advanced", "Manual Source NAT rule generation"),
        ("disabled", "Disable Source NAT rule generation"),
    ] {
        m.insert(
            k.into(),
            j!({"value": label, "selected": i32::from(k == selected)}),
        );
    }
    Value::Object(m)
}

#[test]
fn the_settings_request_is_a_get() {
    assert_request(
        &settings_request(),
        Method::Get,
        "firewall/source_nat/get",
        None,
    );
}

/// 26.7.2 answers `general` only; 26.1.11 the whole model (its base `getAction`); both carry
/// `filter.general.snat_mode` as an option map.
#[tokio::test]
async fn the_mode_is_read_from_26_1_11_on() {
    for (v, answer, want) in [
        (
            V26_7_2,
            j!({"filter": {"general": {"snat_mode": mode_map("hybrid")}}}),
            SNatMode::Hybrid,
        ),
        (
            V26_1_11,
            j!({"filter": {"general": {"snat_mode": mode_map("advanced")}},
                "rules": {"rule": {}}, "snatrules": {"rule": {}}}),
            SNatMode::Advanced,
        ),
    ] {
        let server = MockServer::start().await;
        expect_get(&server, "firewall/source_nat/get", answer).await;
        let mode = client_at(&server, v)
            .source_nat()
            .mode()
            .await
            .expect("mode");
        assert_eq!(mode, want, "{v}");
    }
    assert!(SNatMode::Hybrid.loads_manual_rules() && SNatMode::Hybrid.adds_automatic_rules());
    assert!(SNatMode::Advanced.loads_manual_rules() && !SNatMode::Advanced.adds_automatic_rules());
    assert!(
        !SNatMode::Automatic.loads_manual_rules() && SNatMode::Automatic.adds_automatic_rules()
    );
    assert!(!SNatMode::Disabled.loads_manual_rules() && !SNatMode::Disabled.adds_automatic_rules());
}

#[tokio::test]
async fn before_26_1_11_the_mode_is_unsupported_and_nothing_is_sent() {
    let server = MockServer::start().await;
    expect_no_request(&server).await;
    let e = client_at(&server, V26_1_10)
        .source_nat()
        .mode()
        .await
        .expect_err("26.1.10 has no mode in the API");
    match &e {
        Error::Unsupported { version, hint, .. } => {
            assert_eq!(version, "26.1.10");
            assert!(hint.contains("26.1.11"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
}

/// An unknown firmware is asked for its version first, then treated as it answers.
#[tokio::test]
async fn an_unknown_firmware_is_asked_first() {
    let server = MockServer::start().await;
    expect_get(
        &server,
        "core/firmware/status",
        j!({"product": {"product_version": "26.1.9"}}),
    )
    .await;
    let e = client_unknown_version(&server)
        .source_nat()
        .mode()
        .await
        .expect_err("26.1.9");
    assert!(matches!(e, Error::Unsupported { .. }), "{e:?}");
}

#[tokio::test]
async fn an_answer_without_a_mode_is_invalid() {
    for answer in [j!({"filter": {"general": {}}}), j!([])] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/firewall/source_nat/get"))
            .respond_with(json(answer.clone()))
            .mount(&server)
            .await;
        let e = client_at(&server, V26_7_2)
            .source_nat()
            .mode()
            .await
            .expect_err("no mode");
        assert_invalid_response(&e, "firewall/source_nat/get", &answer);
    }
}

/// The automatic rows of 26.7's search (a real capture) read as rows, marked automatic; a
/// record is not.
#[test]
fn automatic_rows_are_told_apart_from_records() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/firewall__source_nat__search_rule/lib-opnsense-26.7.json"
    ))
    .expect("capture");
    let page: Value = serde_json::from_str(&text).expect("json");
    let rows = page["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    for row in rows {
        let r = decode_lenient::<SNatRule>(row).expect("row").value;
        assert!(r.is_automatic_row(), "{row}");
        assert_eq!(r.interface.as_deref(), Some("wan"));
        assert_eq!(r.target.as_deref(), Some("wanip"));
    }
    let record = SNatRule {
        uuid: Some("5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01".into()),
        ..SNatRule::default()
    };
    assert!(!record.is_automatic_row());
    // Named automatic_ without the flag (a release that drops it) still counts.
    let named = SNatRule {
        uuid: Some("automatic_wan".into()),
        ..SNatRule::default()
    };
    assert!(named.is_automatic_row());
}

/// Read-only fields are read but never sent, and the 26.7.2 field keeps its dash.
#[test]
fn volatile_fields_are_not_sent() {
    let r: SNatRule = serde_json::from_value(j!({
        "enabled": "1", "sort_order": "400000.0000100", "prio_group": "400000",
        "endpoint-independent": "1", "interface": {"wan": {"value": "WAN", "selected": 1}},
        "is_automatic": true
    }))
    .expect("rule");
    assert_eq!(r.sort_order.as_deref(), Some("400000.0000100"));
    let sent = serde_json::to_value(&r).expect("encode");
    assert_eq!(
        sent,
        j!({"enabled": "1", "endpoint-independent": "1", "interface": "wan"})
    );
    assert_eq!(SNAT_RULES.apply.path, "firewall/source_nat/apply");
}

//! `firewall/d_nat` (port forwards): what only destination NAT has. The generic grid behaviour is
//! in `grids.rs`; here: the two shapes (flat search rows with dotted keys, nested records), the
//! automatic rows OPNsense prepends, and the toggle whose argument means "disabled".

mod common;

use common::{all_rows, client, expect_post_nobody, fixture, mock_get, mock_post_json};
use opnsense_api::api::firewall::DNAT_RULES;
use opnsense_api::fields::CsvList;
use opnsense_api::models::firewall::{DNatRow, DNatRule, IpProtocol, NatProtocol};
use opnsense_api::{FirmwareVersion, SearchQuery, Uuid};
use serde_json::{Value, json};
use wiremock::MockServer;

const NAT: &str = "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7";
const WEB_CATEGORY: &str = "8b1a2c3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d";

fn fx(name: &str) -> Value {
    fixture("firewall", name)
}

fn nat_id() -> Uuid {
    Uuid::parse(NAT).expect("uuid")
}

#[tokio::test]
async fn search_reads_flat_rows_and_recognises_automatic_rows() {
    let opn = mock_post_json(
        "firewall/d_nat/search_rule",
        all_rows(),
        fx("d_nat_search.json"),
    )
    .await;
    let page = opn
        .firewall()
        .d_nat()
        .search(&SearchQuery::all())
        .await
        .expect("search");
    assert_eq!(page.total, 1, "pseudo rows are not counted");
    assert_eq!(page.rows.len(), 2);

    let lockout = &page.rows[0];
    assert!(lockout.is_automatic());
    assert_eq!(lockout.is_automatic, None, "26.1 does not flag them");
    assert_eq!(lockout.id(), None);
    assert_eq!(lockout.uuid, "lockout_0");
    assert_eq!(lockout.fields.nordr, Some(true));
    assert_eq!(lockout.destination_network.as_deref(), Some("lanip"));
    assert_eq!(lockout.fields.descr.as_deref(), Some("Anti-Lockout Rule"));
    assert_eq!(lockout.fields.sequence, None);

    let r = &page.rows[1];
    assert!(!r.is_automatic());
    assert_eq!(r.id(), Some(nat_id()));
    let f = &r.fields;
    assert_eq!(f.sequence, Some(100));
    assert_eq!(f.disabled, Some(false));
    assert_eq!(f.interface, Some(CsvList(vec!["wan".into()])));
    assert_eq!(f.ipprotocol, Some(IpProtocol::Inet));
    assert_eq!(f.protocol, Some(NatProtocol::Tcp));
    assert_eq!(r.source_network.as_deref(), Some("any"));
    assert_eq!(r.source_port, None);
    assert_eq!(r.source_not, Some(false));
    assert_eq!(r.destination_network.as_deref(), Some("wanip"));
    assert_eq!(r.destination_port.as_deref(), Some("443"));
    assert_eq!(f.target.as_deref(), Some("192.168.1.10"));
    assert_eq!(f.local_port.as_deref(), Some("443"));
    assert_eq!(f.poolopts, None);
    assert_eq!(f.natreflection, None);
    assert_eq!(f.pass, None);
    assert_eq!(f.category, Some(CsvList(vec!["Web".into()])));
    assert_eq!(f.categories, Some(CsvList(vec![WEB_CATEGORY.into()])));
    assert_eq!(f.descr.as_deref(), Some("HTTPS to web server"));
    assert_eq!(
        r.extra.get("%destination.network"),
        Some(&json!("WAN address"))
    );
    assert_eq!(r.extra.get("created.username"), Some(&json!("root")));
}

#[test]
fn automatic_rows_of_26_7_are_flagged() {
    // 26.7 names them automatic_pf_N and flags them; a flagged row is automatic even with a uuid.
    let row: DNatRow = serde_json::from_value(json!({
        "uuid": "automatic_pf_0", "is_automatic": true, "nordr": "1",
        "destination.network": "lanip", "descr": "Anti-Lockout Rule"
    }))
    .expect("row");
    assert!(row.is_automatic());
    assert_eq!(row.is_automatic, Some(true));
    assert_eq!(row.id(), None);
    let flagged: DNatRow =
        serde_json::from_value(json!({"uuid": NAT, "is_automatic": "1"})).expect("row");
    assert!(flagged.is_automatic());
    let user: DNatRow =
        serde_json::from_value(json!({"uuid": NAT, "is_automatic": false})).expect("row");
    assert!(!user.is_automatic());
    assert_eq!(user.id(), Some(nat_id()));
}

#[test]
fn search_row_converts_to_a_nested_rule() {
    let row: DNatRow =
        serde_json::from_value(fx("d_nat_search.json")["rows"][1].clone()).expect("row");
    let out = serde_json::to_value(row.to_rule()).expect("serialises");
    assert_eq!(
        out,
        json!({
            "sequence": "100",
            "disabled": "0",
            "nordr": "0",
            "interface": "wan",
            "ipprotocol": "inet",
            "protocol": "tcp",
            "source": {"network": "any", "not": "0"},
            "destination": {"network": "wanip", "port": "443", "not": "0"},
            "target": "192.168.1.10",
            "local-port": "443",
            "log": "0",
            "category": "Web",
            "descr": "HTTPS to web server",
            "nosync": "0"
        })
    );
    // A row without any endpoint field gets no endpoint objects.
    let bare: DNatRow = serde_json::from_value(json!({"uuid": NAT, "descr": "x"})).expect("row");
    let rule = bare.to_rule();
    assert!(rule.source.is_none() && rule.destination.is_none());
}

#[tokio::test]
async fn get_reads_nested_rule() {
    let opn = mock_get(
        &format!("firewall/d_nat/get_rule/{NAT}"),
        fx("d_nat_get_rule.json"),
    )
    .await;
    let r = opn.firewall().d_nat().get(&nat_id()).await.expect("get");
    let f = &r.fields;
    assert_eq!(f.sequence, Some(100));
    assert_eq!(f.disabled, Some(false));
    assert_eq!(f.nordr, Some(false));
    assert_eq!(f.interface, Some(CsvList(vec!["wan".into()])));
    assert_eq!(f.ipprotocol, Some(IpProtocol::Inet));
    assert_eq!(f.protocol, Some(NatProtocol::Tcp));
    let src = r.source.as_ref().expect("source");
    assert_eq!(src.network.as_deref(), Some("any"));
    assert_eq!((src.port.as_deref(), src.invert), (None, Some(false)));
    let dst = r.destination.as_ref().expect("destination");
    assert_eq!(dst.network.as_deref(), Some("wanip"));
    assert_eq!(dst.port.as_deref(), Some("443"));
    assert_eq!(f.target.as_deref(), Some("192.168.1.10"));
    assert_eq!(f.local_port.as_deref(), Some("443"));
    assert_eq!(f.poolopts, None);
    assert_eq!(f.log, Some(false));
    assert_eq!(f.category, Some(CsvList(vec!["Web".into()])));
    assert_eq!(f.categories, Some(CsvList(vec![WEB_CATEGORY.into()])));
    assert_eq!(f.descr.as_deref(), Some("HTTPS to web server"));
    assert_eq!(f.tag, None);
    assert_eq!(f.natreflection, None);
    assert_eq!(f.pass, None);
    let created = r.created.as_ref().expect("created");
    assert_eq!(created.username.as_deref(), Some("root"));
    assert_eq!(created.time.as_deref(), Some("1767361234.57"));
    assert!(r.updated.is_some());
}

#[test]
fn empty_endpoints_and_change_stamps_are_none() {
    // PHP renders an empty container as [] or "".
    let r: DNatRule = serde_json::from_value(json!({
        "source": [], "destination": "", "created": null, "updated": []
    }))
    .expect("parses");
    assert!(r.source.is_none() && r.destination.is_none());
    assert!(r.created.is_none() && r.updated.is_none());
}

#[tokio::test]
async fn toggle_argument_means_disabled() {
    let server = MockServer::start().await;
    // enable => "disabled = 0"
    expect_post_nobody(
        &server,
        &format!("firewall/d_nat/toggle_rule/{NAT}/0"),
        json!({"result": "Enabled"}),
    )
    .await;
    // disable => "disabled = 1"
    expect_post_nobody(
        &server,
        &format!("firewall/d_nat/toggle_rule/{NAT}/1"),
        fx("d_nat_toggle_rule.json"),
    )
    .await;
    // flip => no argument
    expect_post_nobody(
        &server,
        &format!("firewall/d_nat/toggle_rule/{NAT}"),
        fx("d_nat_toggle_rule.json"),
    )
    .await;
    let c = client(&server).await;
    let d = c.firewall().d_nat();
    let on = d.toggle(&nat_id(), Some(true)).await.expect("enable");
    assert_eq!((on.enabled, on.changed), (true, None));
    let off = d.toggle(&nat_id(), Some(false)).await.expect("disable");
    assert_eq!((off.enabled, off.changed), (false, None));
    let flipped = d.toggle(&nat_id(), None).await.expect("flip");
    assert!(!flipped.enabled);
}

#[test]
fn the_inverted_argument_does_not_depend_on_the_firmware() {
    for v in [
        None,
        Some(FirmwareVersion::new(26, 1, 9)),
        Some(FirmwareVersion::new(26, 7, 2)),
    ] {
        let on = DNAT_RULES
            .toggle_request(&nat_id(), Some(true), v)
            .expect("toggle");
        assert!(on.path.ends_with("/0"), "{v:?}: {}", on.path);
        // The disabled flag is sent as it is, never renamed.
        let body = DNAT_RULES.wrap(json!({"disabled": "1"}), v).expect("wrap");
        assert_eq!(body, json!({"rule": {"disabled": "1"}}), "{v:?}");
    }
}

#[test]
fn get_answer_round_trips_to_plain_strings_and_nested_endpoints() {
    let r: DNatRule =
        serde_json::from_value(fx("d_nat_get_rule.json")["rule"].clone()).expect("get");
    let out = serde_json::to_value(&r).expect("serialises");
    let o = out.as_object().expect("object");
    for (k, v) in o {
        match k.as_str() {
            "source" | "destination" => {
                for (kk, vv) in v.as_object().expect("nested object") {
                    assert!(vv.is_string(), "{k}.{kk} is not a plain string: {vv}");
                }
            }
            _ => assert!(v.is_string(), "{k} is not a plain string: {v}"),
        }
    }
    assert_eq!(o["interface"], "wan");
    assert_eq!(o["protocol"], "tcp");
    assert_eq!(o["ipprotocol"], "inet");
    assert_eq!(o["sequence"], "100");
    assert_eq!(o["category"], "Web");
    assert_eq!(o["destination"]["network"], "wanip");
    assert_eq!(o["destination"]["port"], "443");
    assert_eq!(o["destination"]["not"], "0");
    assert_eq!(o["local-port"], "443");
    // Read-only values are not sent back.
    for k in ["created", "updated", "categories"] {
        assert!(o.get(k).is_none(), "{k} must not be sent");
    }
    // Unselected option fields are empty, never option maps.
    for k in ["poolopts", "natreflection", "pass"] {
        assert!(o.get(k).is_none_or(|v| v == ""), "{k}: {:?}", o.get(k));
    }
}

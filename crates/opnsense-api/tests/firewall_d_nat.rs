//! `firewall/d_nat` (port forwards): one wiremock test per endpoint method, plus model round trips.

mod common;

use std::collections::BTreeMap;

use common::{NoBody, basic_auth, client, fixture, json, json_body};
use opnsense_api::fields::CsvList;
use opnsense_api::models::firewall::{
    DNatRow, DNatRule, IpProtocol, NatEndpoint, NatProtocol, NatReflection,
};
use opnsense_api::{Error, SearchQuery, Uuid};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const NAT: &str = "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7";
const WEB_CATEGORY: &str = "8b1a2c3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d";

fn fx(name: &str) -> Value {
    fixture("firewall", name)
}

fn nat_id() -> Uuid {
    Uuid::parse(NAT).expect("uuid")
}

async fn mount_get(server: &MockServer, body: Value) {
    Mock::given(method("GET"))
        .and(path(format!("/api/firewall/d_nat/get_rule/{NAT}")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(body))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_post_nobody(server: &MockServer, p: &str, body: Value) {
    Mock::given(method("POST"))
        .and(path(p))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(body))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn search_reads_flat_rows_and_recognises_lockout_rows() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/d_nat/search_rule"))
        .and(basic_auth())
        .and(json_body(
            json!({"current": 1, "rowCount": -1, "searchPhrase": ""}),
        ))
        .respond_with(json(fx("d_nat_search.json")))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .await
        .firewall()
        .d_nat()
        .search(&SearchQuery::all())
        .await
        .expect("search");
    assert_eq!(page.total, 1, "pseudo rows are not counted");
    assert_eq!(page.rows.len(), 2);

    let lockout = &page.rows[0];
    assert!(lockout.is_lockout_pseudo_rule());
    assert_eq!(lockout.id(), None);
    assert_eq!(lockout.uuid, "lockout_0");
    assert_eq!(lockout.nordr, Some(true));
    assert_eq!(lockout.destination_network.as_deref(), Some("lanip"));
    assert_eq!(lockout.descr.as_deref(), Some("Anti-Lockout Rule"));
    assert_eq!(lockout.sequence, None);

    let r = &page.rows[1];
    assert!(!r.is_lockout_pseudo_rule());
    assert_eq!(r.id(), Some(nat_id()));
    assert_eq!(r.sequence, Some(100));
    assert_eq!(r.disabled, Some(false));
    assert_eq!(r.interface, Some(CsvList(vec!["wan".into()])));
    assert_eq!(r.ipprotocol, Some(IpProtocol::Inet));
    assert_eq!(r.protocol, Some(NatProtocol::Tcp));
    assert_eq!(r.source_network.as_deref(), Some("any"));
    assert_eq!(r.source_port, None);
    assert_eq!(r.source_not, Some(false));
    assert_eq!(r.destination_network.as_deref(), Some("wanip"));
    assert_eq!(r.destination_port.as_deref(), Some("443"));
    assert_eq!(r.target.as_deref(), Some("192.168.1.10"));
    assert_eq!(r.local_port.as_deref(), Some("443"));
    assert_eq!(r.poolopts, None);
    assert_eq!(r.natreflection, None);
    assert_eq!(r.pass, None);
    assert_eq!(r.category, Some(CsvList(vec!["Web".into()])));
    assert_eq!(r.categories, Some(CsvList(vec![WEB_CATEGORY.into()])));
    assert_eq!(r.descr.as_deref(), Some("HTTPS to web server"));
    assert_eq!(
        r.extra.get("%destination.network"),
        Some(&json!("WAN address"))
    );
    assert_eq!(r.extra.get("created.username"), Some(&json!("root")));
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
}

#[tokio::test]
async fn get_reads_nested_rule() {
    let server = MockServer::start().await;
    mount_get(&server, fx("d_nat_get_rule.json")).await;
    let r = client(&server)
        .await
        .firewall()
        .d_nat()
        .get(&nat_id())
        .await
        .expect("get");
    assert_eq!(r.sequence, Some(100));
    assert_eq!(r.disabled, Some(false));
    assert_eq!(r.nordr, Some(false));
    assert_eq!(r.interface, Some(CsvList(vec!["wan".into()])));
    assert_eq!(r.ipprotocol, Some(IpProtocol::Inet));
    assert_eq!(r.protocol, Some(NatProtocol::Tcp));
    let src = r.source.as_ref().expect("source");
    assert_eq!(src.network.as_deref(), Some("any"));
    assert_eq!((src.port.as_deref(), src.invert), (None, Some(false)));
    let dst = r.destination.as_ref().expect("destination");
    assert_eq!(dst.network.as_deref(), Some("wanip"));
    assert_eq!(dst.port.as_deref(), Some("443"));
    assert_eq!(r.target.as_deref(), Some("192.168.1.10"));
    assert_eq!(r.local_port.as_deref(), Some("443"));
    assert_eq!(r.poolopts, None);
    assert_eq!(r.log, Some(false));
    assert_eq!(r.category, Some(CsvList(vec!["Web".into()])));
    assert_eq!(r.categories, Some(CsvList(vec![WEB_CATEGORY.into()])));
    assert_eq!(r.descr.as_deref(), Some("HTTPS to web server"));
    assert_eq!(r.tag, None);
    assert_eq!(r.natreflection, None);
    assert_eq!(r.pass, None);
    let created = r.created.as_ref().expect("created");
    assert_eq!(created.username.as_deref(), Some("root"));
    assert_eq!(created.time.as_deref(), Some("1767361234.57"));
    assert!(r.updated.is_some());
}

#[tokio::test]
async fn get_unknown_uuid_is_not_found() {
    let server = MockServer::start().await;
    mount_get(&server, fx("d_nat_get_rule_not_found.json")).await;
    let err = client(&server)
        .await
        .firewall()
        .d_nat()
        .get(&nat_id())
        .await
        .expect_err("not found");
    assert_eq!(err.to_string(), format!("NAT rule {NAT} not found"));
}

fn new_rule() -> DNatRule {
    DNatRule {
        interface: Some(CsvList(vec!["wan".into()])),
        protocol: Some(NatProtocol::Tcp),
        source: Some(NatEndpoint {
            network: Some("any".into()),
            ..NatEndpoint::default()
        }),
        destination: Some(NatEndpoint {
            network: Some("wanip".into()),
            port: Some("443".into()),
            ..NatEndpoint::default()
        }),
        target: Some("192.168.1.10".into()),
        local_port: Some("443".into()),
        descr: Some("HTTPS to web server".into()),
        ..DNatRule::default()
    }
}

fn new_rule_body() -> Value {
    json!({"rule": {
        "interface": "wan",
        "protocol": "tcp",
        "source": {"network": "any"},
        "destination": {"network": "wanip", "port": "443"},
        "target": "192.168.1.10",
        "local-port": "443",
        "descr": "HTTPS to web server"
    }})
}

#[tokio::test]
async fn add_sends_the_exact_nested_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/d_nat/add_rule"))
        .and(basic_auth())
        .and(json_body(new_rule_body()))
        .respond_with(json(fx("d_nat_add_rule_saved.json")))
        .expect(1)
        .mount(&server)
        .await;
    let saved = client(&server)
        .await
        .firewall()
        .d_nat()
        .add(&new_rule())
        .await
        .expect("saved");
    assert_eq!(saved.uuid.as_deref(), Some(NAT));
}

#[tokio::test]
async fn add_failed_reports_dotted_fields() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/d_nat/add_rule"))
        .and(basic_auth())
        .and(json_body(new_rule_body()))
        .respond_with(json(fx("d_nat_add_rule_failed.json")))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .firewall()
        .d_nat()
        .add(&new_rule())
        .await
        .expect_err("failed");
    match err {
        Error::Validation { errors, .. } => {
            let expected: BTreeMap<String, Vec<String>> = [
                ("rule.protocol", "Option [] not in list."),
                (
                    "rule.destination.port",
                    "Ports are only valid for TCP or UDP type rules.",
                ),
                (
                    "rule.target",
                    "192.168.1.300 is not a valid source IP address or alias.",
                ),
            ]
            .into_iter()
            .map(|(k, m)| (k.to_owned(), vec![m.to_owned()]))
            .collect();
            assert_eq!(errors, expected);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn set_checks_existence_then_sends_partial_nested_body() {
    let server = MockServer::start().await;
    mount_get(&server, fx("d_nat_get_rule.json")).await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/d_nat/set_rule/{NAT}")))
        .and(basic_auth())
        .and(json_body(json!({"rule": {
            "destination": {"port": "8443"},
            "natreflection": "purenat"
        }})))
        .respond_with(json(fx("d_nat_set_rule_saved.json")))
        .expect(1)
        .mount(&server)
        .await;
    let change = DNatRule {
        destination: Some(NatEndpoint {
            port: Some("8443".into()),
            ..NatEndpoint::default()
        }),
        natreflection: Some(NatReflection::Enable),
        ..DNatRule::default()
    };
    client(&server)
        .await
        .firewall()
        .d_nat()
        .set(&nat_id(), &change)
        .await
        .expect("saved");
}

#[tokio::test]
async fn set_unknown_uuid_is_not_found_and_sends_no_set() {
    let server = MockServer::start().await;
    mount_get(&server, fx("d_nat_get_rule_not_found.json")).await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/d_nat/set_rule/{NAT}")))
        .respond_with(json(fx("d_nat_set_rule_saved.json")))
        .expect(0)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .firewall()
        .d_nat()
        .set(&nat_id(), &new_rule())
        .await
        .expect_err("not found");
    assert!(
        matches!(
            err,
            Error::NotFound {
                kind: "NAT rule",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn delete_sends_no_body() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/d_nat/del_rule/{NAT}"),
        fx("d_nat_del_rule.json"),
    )
    .await;
    client(&server)
        .await
        .firewall()
        .d_nat()
        .delete(&nat_id())
        .await
        .expect("deleted");
}

#[tokio::test]
async fn toggle_argument_is_inverted() {
    let server = MockServer::start().await;
    // enable => "disabled = 0"
    mount_post_nobody(
        &server,
        &format!("/api/firewall/d_nat/toggle_rule/{NAT}/0"),
        json!({"result": "Enabled"}),
    )
    .await;
    // disable => "disabled = 1"
    mount_post_nobody(
        &server,
        &format!("/api/firewall/d_nat/toggle_rule/{NAT}/1"),
        fx("d_nat_toggle_rule.json"),
    )
    .await;
    // flip => no argument
    mount_post_nobody(
        &server,
        &format!("/api/firewall/d_nat/toggle_rule/{NAT}"),
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

#[tokio::test]
async fn toggle_failed_is_not_found() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/d_nat/toggle_rule/{NAT}"),
        fx("d_nat_toggle_rule_failed.json"),
    )
    .await;
    let err = client(&server)
        .await
        .firewall()
        .d_nat()
        .toggle(&nat_id(), None)
        .await
        .expect_err("failed");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn apply_accepts_configd_ok() {
    let server = MockServer::start().await;
    mount_post_nobody(&server, "/api/firewall/d_nat/apply", fx("d_nat_apply.json")).await;
    let st = client(&server)
        .await
        .firewall()
        .d_nat()
        .apply()
        .await
        .expect("applied");
    assert_eq!(st.status, "OK");
}

#[tokio::test]
async fn apply_empty_status_is_action_failed() {
    let server = MockServer::start().await;
    mount_post_nobody(&server, "/api/firewall/d_nat/apply", json!({"status": ""})).await;
    let err = client(&server)
        .await
        .firewall()
        .d_nat()
        .apply()
        .await
        .expect_err("failed");
    assert!(matches!(err, Error::ActionFailed { .. }), "{err:?}");
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

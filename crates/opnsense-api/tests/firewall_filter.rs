//! `firewall/filter`: one wiremock test per endpoint method, plus model round trips, version
//! gating and path safety.

mod common;

use std::collections::BTreeMap;

use common::{KEY, NoBody, SECRET, basic_auth, client, fixture, json, json_body};
use opnsense_api::fields::CsvList;
use opnsense_api::models::firewall::{
    Action, Direction, FilterRule, IpProtocol, Protocol, StatePolicy, StateType,
};
use opnsense_api::{Client, Error, FirmwareVersion, Revision, SearchQuery, SortDirection, Uuid};
use serde_json::{Value, json};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const RULE: &str = "5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01";
const REV: &str = "1767361234.57";

fn fx(name: &str) -> Value {
    fixture("firewall", name)
}

fn rule_id() -> Uuid {
    Uuid::parse(RULE).expect("uuid")
}

fn rev() -> Revision {
    Revision::parse(REV).expect("revision")
}

/// A mock answering one exact call; `NoBody` is checked for every body-less request.
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

async fn mount_get(server: &MockServer, p: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(p))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(body))
        .expect(1)
        .mount(server)
        .await;
}

/// Asserts every value of a serialised model is a plain string (no option maps, no arrays).
fn assert_plain_strings(v: &Value) {
    let obj = v.as_object().expect("an object");
    for (k, val) in obj {
        assert!(val.is_string(), "{k} is not a plain string: {val}");
    }
}

#[tokio::test]
async fn search_posts_paging_body_and_reads_rows() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/filter/search_rule"))
        .and(basic_auth())
        .and(json_body(
            json!({"current": 1, "rowCount": -1, "searchPhrase": ""}),
        ))
        .respond_with(json(fx("search_rule.json")))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .await
        .firewall()
        .filter()
        .search(&SearchQuery::all())
        .await
        .expect("search");
    assert_eq!((page.total, page.row_count, page.current), (2, 2, 1));
    assert_eq!(page.rows.len(), 2);
    let r = &page.rows[0];
    assert_eq!(r.uuid.as_deref(), Some(RULE));
    assert_eq!(r.id(), Some(rule_id()));
    assert!(!r.is_legacy());
    assert_eq!(r.enabled, Some(true));
    assert_eq!(r.action, Some(Action::Pass));
    assert_eq!(r.statetype, Some(StateType::Keep));
    assert_eq!(r.state_policy, None);
    assert_eq!(r.interface, Some(CsvList(vec!["lan".into()])));
    assert_eq!(r.direction, Some(Direction::In));
    assert_eq!(r.ipprotocol, Some(IpProtocol::Inet));
    assert_eq!(r.protocol, Some(Protocol::Tcp));
    assert_eq!(r.source_net.as_deref(), Some("lan"));
    assert_eq!(r.destination_net.as_deref(), Some("webservers"));
    assert_eq!(r.destination_port.as_deref(), Some("https"));
    assert_eq!(r.sequence, Some(100));
    assert_eq!(r.tcpflags_any, Some(false));
    assert_eq!(r.icmptype, None);
    assert_eq!(r.gateway, None);
    assert_eq!(
        r.categories,
        Some(CsvList(vec!["8b1a2c3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d".into()]))
    );
    assert_eq!(r.description.as_deref(), Some("Allow LAN to web servers"));
    // Display columns and helper columns are kept.
    assert_eq!(r.extra.get("%action"), Some(&json!("Pass")));
    assert_eq!(r.extra.get("sort_order"), Some(&json!("400000.0000100")));
    assert!(r.extra.get("alias_meta_destination_net").is_some());
    let r = &page.rows[1];
    assert_eq!(r.action, Some(Action::Block));
    assert_eq!(r.log, Some(true));
    assert_eq!(r.protocol, Some(Protocol::Any));
}

#[tokio::test]
async fn search_sends_page_phrase_and_sort() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/filter/search_rule"))
        .and(basic_auth())
        .and(json_body(json!({
            "current": 2, "rowCount": 25, "searchPhrase": "web servers",
            "sort": {"description": "desc"}
        })))
        .respond_with(json(
            json!({"total": 0, "rowCount": 0, "current": 2, "rows": []}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let q = SearchQuery::page(2, 25)
        .phrase("web servers")
        .sort_by("description", SortDirection::Desc);
    let page = client(&server)
        .await
        .firewall()
        .filter()
        .search(&q)
        .await
        .expect("search");
    assert!(page.rows.is_empty() && page.total == 0);
}

#[tokio::test]
async fn search_reads_legacy_and_automatic_rows() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/filter/search_rule"))
        .and(basic_auth())
        .respond_with(json(fx("search_rule_with_legacy.json")))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .await
        .firewall()
        .filter()
        .search(&SearchQuery::all())
        .await
        .expect("legacy rows must not fail the page");
    assert_eq!(page.rows.len(), 3);

    let lockout = &page.rows[0];
    assert!(lockout.is_legacy());
    assert_eq!(lockout.id(), None, "legacy labels are not usable ids");
    assert_eq!(lockout.quick, Some(true), "JSON true");
    assert_eq!(
        lockout.protocol,
        Some(Protocol::Other("tcp".into())),
        "legacy rows keep pf's lower-case spelling"
    );
    assert_eq!(lockout.destination_net.as_deref(), Some("(self)"));

    let mvc = &page.rows[1];
    assert!(!mvc.is_legacy());
    assert_eq!(mvc.id(), Some(rule_id()));
    assert_eq!(mvc.state_policy, Some(StatePolicy::IfBound));
    assert_eq!(mvc.protocol, Some(Protocol::Icmp));
    assert_eq!(
        mvc.icmptype,
        Some(CsvList(vec!["echoreq".into(), "unreach".into()]))
    );
    assert_eq!(mvc.gateway.as_deref(), Some("WAN_DHCP"));
    assert_eq!(mvc.max, Some(1000));
    assert_eq!(mvc.set_prio, Some(5));
    assert_eq!(mvc.tag.as_deref(), Some("lan_icmp"));
    assert_eq!(mvc.sched.as_deref(), Some("workhours"));

    let floating = &page.rows[2];
    assert!(floating.is_legacy());
    assert_eq!(floating.quick, Some(true), "legacy \"yes\"");
    assert_eq!(floating.log, None, "legacy empty");
    assert_eq!(floating.source_not, Some(true));
    assert_eq!(floating.direction, Some(Direction::Any));
    assert_eq!(floating.protocol, None);
}

#[tokio::test]
async fn get_reads_option_maps() {
    let server = MockServer::start().await;
    mount_get(
        &server,
        &format!("/api/firewall/filter/get_rule/{RULE}"),
        fx("get_rule.json"),
    )
    .await;
    let r = client(&server)
        .await
        .firewall()
        .filter()
        .get(&rule_id())
        .await
        .expect("get");
    assert_eq!(r.uuid, None, "get answers carry no uuid");
    assert_eq!(r.enabled, Some(true));
    assert_eq!(r.statetype, Some(StateType::Keep));
    assert_eq!(r.state_policy, None, "\"\" selected = default");
    assert_eq!(r.sequence, Some(100));
    assert_eq!(r.action, Some(Action::Pass));
    assert_eq!(r.quick, Some(true));
    assert_eq!(r.interfacenot, Some(false));
    assert_eq!(r.interface, Some(CsvList(vec!["lan".into()])));
    assert_eq!(r.direction, Some(Direction::In));
    assert_eq!(r.ipprotocol, Some(IpProtocol::Inet));
    assert_eq!(r.protocol, Some(Protocol::Tcp));
    assert_eq!(r.icmptype, None);
    assert_eq!(r.icmp6type, None);
    assert_eq!(r.source_net.as_deref(), Some("lan"));
    assert_eq!(r.source_not, Some(false));
    assert_eq!(r.source_port, None);
    assert_eq!(r.destination_net.as_deref(), Some("webservers"));
    assert_eq!(r.destination_port.as_deref(), Some("https"));
    assert_eq!(r.divert_to, None);
    assert_eq!(r.gateway, None);
    assert_eq!(r.replyto, None);
    assert_eq!(r.overload, None);
    assert_eq!(r.prio, None);
    assert_eq!(r.tcpflags1, None);
    assert_eq!(r.sched, None);
    assert_eq!(r.tos, None);
    assert_eq!(r.shaper1, None);
    assert_eq!(r.log, Some(false));
    assert_eq!(
        r.categories,
        Some(CsvList(vec!["8b1a2c3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d".into()]))
    );
    assert_eq!(r.description.as_deref(), Some("Allow LAN to web servers"));
    assert_eq!(r.extra.get("prio_group"), Some(&json!("400000")));
}

#[tokio::test]
async fn get_unknown_uuid_is_not_found() {
    let server = MockServer::start().await;
    mount_get(
        &server,
        &format!("/api/firewall/filter/get_rule/{RULE}"),
        fx("get_rule_not_found.json"),
    )
    .await;
    let err = client(&server)
        .await
        .firewall()
        .filter()
        .get(&rule_id())
        .await
        .expect_err("not found");
    match err {
        Error::NotFound { kind, id } => assert_eq!((kind, id.as_str()), ("firewall rule", RULE)),
        other => panic!("{other:?}"),
    }
}

fn new_rule() -> FilterRule {
    FilterRule {
        action: Some(Action::Pass),
        interface: Some(CsvList(vec!["lan".into(), "opt1".into()])),
        direction: Some(Direction::In),
        ipprotocol: Some(IpProtocol::Inet),
        protocol: Some(Protocol::Tcp),
        source_net: Some("lan".into()),
        destination_net: Some("webservers".into()),
        destination_port: Some("https".into()),
        state_policy: Some(StatePolicy::Floating),
        log: Some(true),
        sequence: Some(150),
        description: Some("Allow LAN to web servers".into()),
        ..FilterRule::default()
    }
}

fn new_rule_body() -> Value {
    json!({"rule": {
        "state-policy": "floating",
        "sequence": "150",
        "action": "pass",
        "interface": "lan,opt1",
        "direction": "in",
        "ipprotocol": "inet",
        "protocol": "TCP",
        "source_net": "lan",
        "destination_net": "webservers",
        "destination_port": "https",
        "log": "1",
        "description": "Allow LAN to web servers"
    }})
}

#[tokio::test]
async fn add_sends_wrapped_strings_and_returns_uuid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/filter/add_rule"))
        .and(basic_auth())
        .and(json_body(new_rule_body()))
        .respond_with(json(fx("add_rule_saved.json")))
        .expect(1)
        .mount(&server)
        .await;
    let saved = client(&server)
        .await
        .firewall()
        .filter()
        .add(&new_rule())
        .await
        .expect("saved");
    assert_eq!(saved.uuid.as_deref(), Some(RULE));
}

#[tokio::test]
async fn add_failed_reports_every_field_and_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/filter/add_rule"))
        .and(basic_auth())
        .and(json_body(new_rule_body()))
        .respond_with(json(fx("add_rule_failed.json")))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .firewall()
        .filter()
        .add(&new_rule())
        .await
        .expect_err("failed");
    let text = err.to_string();
    match err {
        Error::Validation { path, errors } => {
            assert_eq!(path, "firewall/filter/add_rule");
            let expected: BTreeMap<String, Vec<String>> = [
                (
                    "rule.source_net".to_owned(),
                    vec!["lan,any is not a valid source IP address or alias.".to_owned()],
                ),
                (
                    "rule.destination_port".to_owned(),
                    vec![
                        "Please specify a valid portnumber, name, alias or range.".to_owned(),
                        "Destination ports are only valid for tcp or udp type rules.".to_owned(),
                    ],
                ),
            ]
            .into_iter()
            .collect();
            assert_eq!(errors, expected);
        }
        other => panic!("{other:?}"),
    }
    assert!(text.contains("rule.destination_port"), "{text}");
}

#[tokio::test]
async fn set_checks_existence_then_sends_partial_body() {
    let server = MockServer::start().await;
    mount_get(
        &server,
        &format!("/api/firewall/filter/get_rule/{RULE}"),
        fx("get_rule.json"),
    )
    .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/filter/set_rule/{RULE}")))
        .and(basic_auth())
        .and(json_body(
            json!({"rule": {"enabled": "0", "description": "Paused"}}),
        ))
        .respond_with(json(fx("set_rule_saved.json")))
        .expect(1)
        .mount(&server)
        .await;
    let change = FilterRule {
        enabled: Some(false),
        description: Some("Paused".into()),
        ..FilterRule::default()
    };
    client(&server)
        .await
        .firewall()
        .filter()
        .set(&rule_id(), &change)
        .await
        .expect("saved");
}

#[tokio::test]
async fn set_unknown_uuid_is_not_found_and_sends_no_set() {
    let server = MockServer::start().await;
    mount_get(
        &server,
        &format!("/api/firewall/filter/get_rule/{RULE}"),
        fx("get_rule_not_found.json"),
    )
    .await;
    // OPNsense would create a rule with this uuid: the SDK must never send it.
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/filter/set_rule/{RULE}")))
        .respond_with(json(fx("set_rule_saved.json")))
        .expect(0)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .firewall()
        .filter()
        .set(&rule_id(), &new_rule())
        .await
        .expect_err("not found");
    assert!(
        matches!(
            err,
            Error::NotFound {
                kind: "firewall rule",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn set_failed_and_missing_wrapper_are_validation_errors() {
    for (fixture_name, expected) in [
        (
            "set_rule_failed.json",
            vec![
                ("rule.action", "Option [] not in list."),
                (
                    "rule.description",
                    "Description should be a string between 1 and 255 characters.",
                ),
            ],
        ),
        ("set_rule_no_wrapper.json", vec![]),
    ] {
        let server = MockServer::start().await;
        mount_get(
            &server,
            &format!("/api/firewall/filter/get_rule/{RULE}"),
            fx("get_rule.json"),
        )
        .await;
        Mock::given(method("POST"))
            .and(path(format!("/api/firewall/filter/set_rule/{RULE}")))
            .and(basic_auth())
            .and(json_body(json!({"rule": {"action": "drop"}})))
            .respond_with(json(fx(fixture_name)))
            .expect(1)
            .mount(&server)
            .await;
        let change = FilterRule {
            action: Some(Action::Other("drop".into())),
            ..FilterRule::default()
        };
        let err = client(&server)
            .await
            .firewall()
            .filter()
            .set(&rule_id(), &change)
            .await
            .expect_err(fixture_name);
        match err {
            Error::Validation { errors, .. } => {
                let got: Vec<(&str, &str)> = errors
                    .iter()
                    .flat_map(|(k, msgs)| msgs.iter().map(move |m| (k.as_str(), m.as_str())))
                    .collect();
                assert_eq!(got, expected, "{fixture_name}");
            }
            other => panic!("{fixture_name}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn delete_sends_no_body() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/filter/del_rule/{RULE}"),
        fx("del_rule.json"),
    )
    .await;
    client(&server)
        .await
        .firewall()
        .filter()
        .delete(&rule_id())
        .await
        .expect("deleted");
}

#[tokio::test]
async fn delete_unknown_is_not_found() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/filter/del_rule/{RULE}"),
        fx("del_rule_not_found.json"),
    )
    .await;
    let err = client(&server)
        .await
        .firewall()
        .filter()
        .delete(&rule_id())
        .await
        .expect_err("not found");
    assert_eq!(err.to_string(), format!("firewall rule {RULE} not found"));
}

#[tokio::test]
async fn toggle_flips_without_argument() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/filter/toggle_rule/{RULE}"),
        fx("toggle_rule.json"),
    )
    .await;
    let t = client(&server)
        .await
        .firewall()
        .filter()
        .toggle(&rule_id(), None)
        .await
        .expect("toggled");
    assert!(!t.enabled);
    assert_eq!(t.changed, Some(true));
}

#[tokio::test]
async fn toggle_forces_enabled_and_disabled() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/filter/toggle_rule/{RULE}/1"),
        fx("toggle_rule_unchanged.json"),
    )
    .await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/filter/toggle_rule/{RULE}/0"),
        fx("toggle_rule.json"),
    )
    .await;
    let c = client(&server).await;
    let on = c
        .firewall()
        .filter()
        .toggle(&rule_id(), Some(true))
        .await
        .expect("on");
    assert!(on.enabled);
    assert_eq!(on.changed, Some(false));
    let off = c
        .firewall()
        .filter()
        .toggle(&rule_id(), Some(false))
        .await
        .expect("off");
    assert!(!off.enabled);
    assert_eq!(off.changed, Some(true));
}

#[tokio::test]
async fn toggle_unknown_uuid_http_500_becomes_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/filter/toggle_rule/{RULE}")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(ResponseTemplate::new(500).set_body_json(fx("error_500_unexpected.json")))
        .expect(1)
        .mount(&server)
        .await;
    mount_get(
        &server,
        &format!("/api/firewall/filter/get_rule/{RULE}"),
        fx("get_rule_not_found.json"),
    )
    .await;
    let err = client(&server)
        .await
        .firewall()
        .filter()
        .toggle(&rule_id(), None)
        .await
        .expect_err("not found");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn apply_accepts_configd_ok() {
    let server = MockServer::start().await;
    mount_post_nobody(&server, "/api/firewall/filter/apply", fx("apply.json")).await;
    let st = client(&server)
        .await
        .firewall()
        .filter()
        .apply()
        .await
        .expect("applied");
    assert_eq!(st.status, "OK");
}

#[tokio::test]
async fn apply_empty_or_error_status_is_action_failed() {
    for body in [
        json!({"status": ""}),
        fx("apply_denied_or_get.json"),
        json!({"status": "Error (1)\n\n"}),
    ] {
        let server = MockServer::start().await;
        mount_post_nobody(&server, "/api/firewall/filter/apply", body.clone()).await;
        let err = client(&server)
            .await
            .firewall()
            .filter()
            .apply()
            .await
            .expect_err("failed");
        match err {
            Error::ActionFailed {
                action,
                path,
                status,
            } => {
                assert_eq!(action, "apply firewall rules");
                assert_eq!(path, "firewall/filter/apply");
                assert_eq!(status, body["status"].as_str().expect("str").trim());
            }
            other => panic!("{body}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn savepoint_returns_revision() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        "/api/firewall/filter/savepoint",
        fx("savepoint.json"),
    )
    .await;
    let sp = client(&server)
        .await
        .firewall()
        .filter()
        .savepoint()
        .await
        .expect("savepoint");
    assert_eq!(sp.status, "ok");
    assert_eq!(sp.revision, REV);
    assert_eq!(sp.retention.as_deref(), Some("100"));
    assert_eq!(sp.checked_revision().expect("valid"), rev());
}

#[tokio::test]
async fn savepoint_refused_is_action_failed() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        "/api/firewall/filter/savepoint",
        fx("apply_denied_or_get.json"),
    )
    .await;
    let err = client(&server)
        .await
        .firewall()
        .filter()
        .savepoint()
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, Error::ActionFailed { status, .. } if status == "error"),
        "{err:?}"
    );
}

#[tokio::test]
async fn apply_with_rollback_puts_revision_in_path() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/filter/apply/{REV}"),
        fx("apply_rollback.json"),
    )
    .await;
    let st = client(&server)
        .await
        .firewall()
        .filter()
        .apply_with_rollback(&rev())
        .await
        .expect("armed");
    assert_eq!(st.status, "OK");
}

#[tokio::test]
async fn cancel_rollback_blank_status_is_success() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/filter/cancelRollback/{REV}"),
        fx("cancel_rollback.json"),
    )
    .await;
    let st = client(&server)
        .await
        .firewall()
        .filter()
        .cancel_rollback(&rev())
        .await
        .expect("cancelled");
    assert_eq!(st.status, "");
}

#[tokio::test]
async fn cancel_rollback_not_pending_is_an_error() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/filter/cancelRollback/{REV}"),
        fx("cancel_rollback_not_pending.json"),
    )
    .await;
    let err = client(&server)
        .await
        .firewall()
        .filter()
        .cancel_rollback(&rev())
        .await
        .expect_err("nothing pending");
    assert!(
        matches!(&err, Error::ActionFailed { status, .. } if status.is_empty()),
        "{err:?}"
    );
    assert!(err.to_string().contains("no rollback pending"), "{err}");
}

#[tokio::test]
async fn cancel_rollback_refused_is_an_error() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/filter/cancelRollback/{REV}"),
        fx("apply_denied_or_get.json"),
    )
    .await;
    let err = client(&server)
        .await
        .firewall()
        .filter()
        .cancel_rollback(&rev())
        .await
        .expect_err("refused: \"error\" must not count as cancelled");
    assert!(
        matches!(&err, Error::ActionFailed { status, .. } if status == "error"),
        "{err:?}"
    );
}

#[tokio::test]
async fn revert_ok() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/filter/revert/{REV}"),
        fx("revert.json"),
    )
    .await;
    let st = client(&server)
        .await
        .firewall()
        .filter()
        .revert(&rev())
        .await
        .expect("reverted");
    assert_eq!(st.status, "ok");
}

#[tokio::test]
async fn revert_unknown_savepoint_is_an_error() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/filter/revert/{REV}"),
        fx("revert_unknown.json"),
    )
    .await;
    let err = client(&server)
        .await
        .firewall()
        .filter()
        .revert(&rev())
        .await
        .expect_err("unknown savepoint");
    assert!(
        matches!(&err, Error::ActionFailed { status, .. } if status == "unknown (or removed) savepoint"),
        "{err:?}"
    );
}

fn client_26_7(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .credentials(KEY, SECRET)
        .allow_insecure_http(true)
        .firmware_version(FirmwareVersion::new(26, 7, 2))
        .build()
        .expect("client")
}

#[tokio::test]
async fn rollback_endpoints_are_unsupported_on_26_7_and_send_nothing() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(json(fx("savepoint.json")))
        .expect(0)
        .mount(&server)
        .await;
    let c = client_26_7(&server);
    let f = c.firewall().filter();
    let results = [
        f.savepoint().await.map(|_| ()),
        f.apply_with_rollback(&rev()).await.map(|_| ()),
        f.cancel_rollback(&rev()).await.map(|_| ()),
        f.revert(&rev()).await.map(|_| ()),
    ];
    for r in results {
        match r {
            Err(Error::Unsupported { version, .. }) => assert_eq!(version, "26.7.2"),
            other => panic!("{other:?}"),
        }
    }
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn plain_apply_still_works_on_26_7() {
    let server = MockServer::start().await;
    mount_post_nobody(&server, "/api/firewall/filter/apply", fx("apply.json")).await;
    client_26_7(&server)
        .firewall()
        .filter()
        .apply()
        .await
        .expect("applied");
}

#[tokio::test]
async fn http_errors_map_to_typed_errors() {
    let cases: [(u16, &str); 4] = [
        (400, "error_400_invalid_json.json"),
        (401, "error_401_auth_failed.json"),
        (403, "error_403_forbidden.json"),
        (404, "error_404_endpoint_not_found.json"),
    ];
    for (status, name) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/firewall/filter/apply"))
            .respond_with(ResponseTemplate::new(status).set_body_json(fx(name)))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .await
            .firewall()
            .filter()
            .apply()
            .await
            .expect_err(name);
        assert_eq!(err.http_status(), Some(status), "{name}: {err:?}");
        match status {
            400 => assert!(err.to_string().contains("Invalid JSON syntax"), "{err}"),
            401 => assert!(matches!(err, Error::Unauthorized { .. })),
            403 => assert!(matches!(err, Error::Forbidden { .. })),
            _ => assert!(matches!(err, Error::EndpointNotFound { .. })),
        }
        assert!(!err.to_string().contains(SECRET));
    }
}

#[test]
fn get_answer_round_trips_to_plain_strings() {
    let v = fx("get_rule.json");
    let rule: FilterRule = serde_json::from_value(v["rule"].clone()).expect("parses");
    let out = serde_json::to_value(&rule).expect("serialises");
    assert_plain_strings(&out);
    let o = out.as_object().expect("object");
    for (k, want) in [
        ("enabled", "1"),
        ("statetype", "keep"),
        ("sequence", "100"),
        ("action", "pass"),
        ("interface", "lan"),
        ("direction", "in"),
        ("ipprotocol", "inet"),
        ("protocol", "TCP"),
        ("source_net", "lan"),
        ("destination_port", "https"),
        ("categories", "8b1a2c3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d"),
        ("description", "Allow LAN to web servers"),
    ] {
        assert_eq!(o.get(k).and_then(Value::as_str), Some(want), "{k}");
    }
    // Unselected single selects with a "" entry are not sent at all or sent empty.
    for k in [
        "state-policy",
        "gateway",
        "divert-to",
        "sched",
        "tos",
        "prio",
    ] {
        assert!(
            o.get(k).is_none_or(|v| v == ""),
            "{k} must not be an option map: {:?}",
            o.get(k)
        );
    }
    // And it reads back to the same model.
    let again: FilterRule = serde_json::from_value(out).expect("re-parses");
    assert_eq!(again, rule);
}

#[test]
fn search_row_and_get_answer_give_the_same_fields() {
    let row: FilterRule =
        serde_json::from_value(fx("search_rule.json")["rows"][0].clone()).expect("row");
    let got: FilterRule = serde_json::from_value(fx("get_rule.json")["rule"].clone()).expect("get");
    assert_eq!(row.action, got.action);
    assert_eq!(row.interface, got.interface);
    assert_eq!(row.protocol, got.protocol);
    assert_eq!(row.statetype, got.statetype);
    assert_eq!(row.state_policy, got.state_policy);
    assert_eq!(row.categories, got.categories);
    assert_eq!(row.sequence, got.sequence);
    assert_eq!(row.description, got.description);
}

#[tokio::test]
async fn unsafe_ids_cannot_be_built_and_nothing_is_sent() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(json(json!({})))
        .expect(0)
        .mount(&server)
        .await;
    for bad in [
        "../../../core/firmware/poweroff",
        "5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01/../x",
        "5b5c6a52-4d7e-4b2b-9a43%2f1f0e7a3c9d0",
        "5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d0?",
        "5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01?x=1",
        "5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01\n",
        "5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d0#",
        " 5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01",
        "",
    ] {
        let err = Uuid::parse(bad).expect_err(bad);
        assert!(err.is_local(), "{bad:?}: {err:?}");
        assert!(err.to_string().starts_with("invalid uuid"), "{err}");
    }
    for bad in ["../1", "1/2", "1767361234.57\n", "1.2.3", "1%2f2", "1?"] {
        Revision::parse(bad).expect_err(bad);
    }
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

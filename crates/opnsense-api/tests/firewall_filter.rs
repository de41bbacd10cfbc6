//! `firewall/filter`: what only filter rules have. The generic grid behaviour (paging body,
//! not found, validations, set safety, toggle, apply, no-body POSTs) is in `grids.rs`; here:
//! the rule model (search rows, legacy and automatic rows, option maps, round trips) and 26.1's
//! savepoint / timed rollback, refused on 26.7 without a request.

mod common;

use common::{
    all_rows, assert_action_failed, client, client_at, client_unknown_version, expect_bodyless,
    expect_no_request, expect_post_json, expect_post_nobody, fixture, json, mock_get, mock_post,
    status_json,
};
use opnsense_api::fields::CsvList;
use opnsense_api::models::firewall::{
    Action, Direction, FilterRule, IpProtocol, Protocol, RuleOrigin, StatePolicy, StateType,
};
use opnsense_api::{Client, Error, FirmwareVersion, Revision, SearchQuery, Uuid};
use serde_json::{Value, json};
use wiremock::MockServer;

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

async fn search(server: &MockServer, name: &str) -> Vec<FilterRule> {
    expect_post_json(
        server,
        "firewall/filter/search_rule",
        all_rows(),
        json(fx(name)),
        1,
    )
    .await;
    client(server)
        .await
        .firewall()
        .filter()
        .search(&SearchQuery::all())
        .await
        .expect("search")
        .rows
}

#[tokio::test]
async fn search_rows_read_every_field_and_keep_display_columns() {
    let server = MockServer::start().await;
    let rows = search(&server, "search_rule.json").await;
    assert_eq!(rows.len(), 2);
    let r = &rows[0];
    assert_eq!(r.uuid.as_deref(), Some(RULE));
    assert_eq!(r.id(), Some(rule_id()));
    assert_eq!(r.origin(), RuleOrigin::Api);
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
    let r = &rows[1];
    assert_eq!(r.action, Some(Action::Block));
    assert_eq!(r.log, Some(true));
    assert_eq!(r.protocol, Some(Protocol::Any));
}

#[tokio::test]
async fn search_reads_legacy_and_automatic_rows() {
    let server = MockServer::start().await;
    let rows = search(&server, "search_rule_with_legacy.json").await;
    assert_eq!(rows.len(), 3, "legacy rows must not fail the page");

    let lockout = &rows[0];
    assert!(lockout.is_legacy());
    assert_eq!(lockout.id(), None, "legacy labels are not usable ids");
    assert_eq!(lockout.quick, Some(true), "JSON true");
    assert_eq!(
        lockout.protocol,
        Some(Protocol::Other("tcp".into())),
        "legacy rows keep pf's lower-case spelling"
    );
    assert_eq!(lockout.destination_net.as_deref(), Some("(self)"));

    let mvc = &rows[1];
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

    let floating = &rows[2];
    assert!(floating.is_legacy());
    assert_eq!(floating.quick, Some(true), "legacy \"yes\"");
    assert_eq!(floating.log, None, "legacy empty");
    assert_eq!(floating.source_not, Some(true));
    assert_eq!(floating.direction, Some(Direction::Any));
    assert_eq!(floating.protocol, None);
}

#[test]
fn row_origin_flags_win_over_the_id() {
    let row = |v: Value| serde_json::from_value::<FilterRule>(v).expect("row");
    let automatic = row(json!({"uuid": RULE, "is_automatic": true, "legacy": true}));
    assert_eq!(automatic.origin(), RuleOrigin::Automatic);
    assert_eq!(automatic.id(), None, "an automatic row is never editable");
    let legacy = row(json!({"uuid": RULE, "legacy": "1"}));
    assert_eq!(legacy.origin(), RuleOrigin::Legacy);
    assert_eq!(legacy.id(), None);
    // A label that is not a uuid is never an API rule, whatever the flags say.
    assert_eq!(
        row(json!({"uuid": "lockout_0"})).origin(),
        RuleOrigin::Automatic
    );
    assert_eq!(row(json!({"uuid": RULE})).origin(), RuleOrigin::Api);
}

#[tokio::test]
async fn get_reads_option_maps() {
    let opn = mock_get(
        &format!("firewall/filter/get_rule/{RULE}"),
        fx("get_rule.json"),
    )
    .await;
    let r = opn.firewall().filter().get(&rule_id()).await.expect("get");
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

#[test]
fn get_answer_round_trips_to_plain_strings() {
    let v = fx("get_rule.json");
    let rule: FilterRule = serde_json::from_value(v["rule"].clone()).expect("parses");
    let out = serde_json::to_value(&rule).expect("serialises");
    let o = out.as_object().expect("object");
    for (k, val) in o {
        assert!(val.is_string(), "{k} is not a plain string: {val}");
    }
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
    // Read-only search flags are never sent.
    assert!(o.get("legacy").is_none() && o.get("is_automatic").is_none());
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

// ---------------------------------------------------------------------------------------------
// 26.1's savepoint and timed rollback.

#[tokio::test]
async fn savepoint_returns_revision() {
    let opn = mock_post("firewall/filter/savepoint", fx("savepoint.json")).await;
    let sp = opn
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
    let opn = mock_post("firewall/filter/savepoint", fx("apply_denied_or_get.json")).await;
    let err = opn
        .firewall()
        .filter()
        .savepoint()
        .await
        .expect_err("refused");
    assert_action_failed(&err, "error");
}

#[test]
fn a_savepoint_revision_that_is_not_path_safe_is_refused() {
    let sp: opnsense_api::models::firewall::Savepoint =
        serde_json::from_value(json!({"status": "ok", "revision": "../1"})).expect("parses");
    assert!(sp.checked_revision().expect_err("unsafe").is_local());
}

/// A rollback action of 26.1 that answers a status.
#[derive(Debug, Clone, Copy)]
enum Rollback {
    Apply,
    Cancel,
    Revert,
}

impl Rollback {
    fn endpoint(self) -> String {
        let action = match self {
            Self::Apply => "apply",
            Self::Cancel => "cancelRollback",
            Self::Revert => "revert",
        };
        format!("firewall/filter/{action}/{REV}")
    }

    /// What the error names as the action.
    fn action(self) -> &'static str {
        match self {
            Self::Apply => "apply firewall rules with rollback",
            Self::Cancel => "cancel rollback",
            Self::Revert => "revert firewall rules",
        }
    }

    async fn call(self, c: &Client) -> opnsense_api::Result<opnsense_api::ActionStatus> {
        let f = c.firewall().filter();
        match self {
            Self::Apply => f.apply_with_rollback(&rev()).await,
            Self::Cancel => f.cancel_rollback(&rev()).await,
            Self::Revert => f.revert(&rev()).await,
        }
    }
}

/// The revision goes in the path, the request has no body, and the configd status decides:
/// `Ok(status)`, or `Err(status)` for an `ActionFailed` carrying it (a cancel that failed says
/// whether no rollback was pending).
#[tokio::test]
async fn rollback_actions_read_the_configd_status() {
    use Rollback::{Apply, Cancel, Revert};
    let hint = "no rollback pending";
    let rows: [(Rollback, Value, Result<&str, &str>, bool); 8] = [
        (Apply, fx("apply_rollback.json"), Ok("OK"), false),
        (
            Apply,
            json!({"status": "Error (1)\n\n"}),
            Err("Error (1)"),
            false,
        ),
        // "\n\n": cancelled.
        (Cancel, fx("cancel_rollback.json"), Ok(""), false),
        // The recorded "" (a configd timeout) and what 26.1.11 answers when nothing is pending
        // (`rollback_cancel.php` exits 1: "Execute error").
        (
            Cancel,
            fx("cancel_rollback_not_pending.json"),
            Err(""),
            true,
        ),
        (
            Cancel,
            json!({"status": "Execute error\n\n"}),
            Err("Execute error"),
            true,
        ),
        // Refused: "error" must not count as cancelled, nor as nothing pending.
        (Cancel, fx("apply_denied_or_get.json"), Err("error"), false),
        (Revert, fx("revert.json"), Ok("ok"), false),
        (
            Revert,
            fx("revert_unknown.json"),
            Err("unknown (or removed) savepoint"),
            false,
        ),
    ];
    for (action, answer, want, pending_hint) in rows {
        let row = format!("{action:?} {answer}");
        let opn = mock_post(&action.endpoint(), answer).await;
        match (action.call(&opn).await, want) {
            (Ok(st), Ok(status)) => assert_eq!(st.status, status, "{row}"),
            (Err(err), Err(status)) => {
                assert!(
                    matches!(&err, Error::ActionFailed { action: a, status: s, .. }
                        if a.starts_with(action.action()) && s == status),
                    "{row}: {err:?}"
                );
                assert_eq!(err.to_string().contains(hint), pending_hint, "{row}: {err}");
            }
            (got, _) => panic!("{row}: {got:?}"),
        }
    }
}

async fn rollback_calls(c: &Client) -> [opnsense_api::Result<()>; 4] {
    let f = c.firewall().filter();
    [
        f.savepoint().await.map(|_| ()),
        f.apply_with_rollback(&rev()).await.map(|_| ()),
        f.cancel_rollback(&rev()).await.map(|_| ()),
        f.revert(&rev()).await.map(|_| ()),
    ]
}

#[tokio::test]
async fn rollback_endpoints_are_unsupported_on_26_7_and_send_nothing() {
    // 26.7.0 is the first release without them.
    for (v, shown) in [
        (FirmwareVersion::new(26, 7, 2), "26.7.2"),
        (FirmwareVersion::new(26, 7, 0), "26.7.0"),
    ] {
        let server = MockServer::start().await;
        expect_no_request(&server).await;
        for r in rollback_calls(&client_at(&server, v)).await {
            match r {
                Err(e @ Error::Unsupported { .. }) => {
                    let Error::Unsupported { version, hint, .. } = &e else {
                        unreachable!()
                    };
                    assert_eq!(version, shown);
                    assert!(hint.contains("snapshot"), "{hint}");
                    assert!(e.to_string().contains(shown), "{e}");
                }
                other => panic!("{v}: {other:?}"),
            }
        }
        common::assert_nothing_received(&server).await;
    }
}

async fn mount_savepoint(server: &MockServer) {
    expect_post_nobody(server, "firewall/filter/savepoint", fx("savepoint.json")).await;
}

#[tokio::test]
async fn rollback_endpoints_are_used_on_the_last_26_1_and_on_unknown_firmware() {
    let server = MockServer::start().await;
    mount_savepoint(&server).await;
    client_at(&server, FirmwareVersion::new(26, 1, 11))
        .firewall()
        .filter()
        .savepoint()
        .await
        .expect("26.1.11 still has savepoints");

    // An unknown firmware (no privilege for the firmware page) is not refused locally.
    let server = MockServer::start().await;
    mount_savepoint(&server).await;
    expect_bodyless(
        &server,
        "GET",
        "core/firmware/status",
        status_json(403, fx("error_403_forbidden.json")),
        1,
    )
    .await;
    client_unknown_version(&server)
        .firewall()
        .filter()
        .savepoint()
        .await
        .expect("unknown firmware: try it");
}

#[tokio::test]
async fn plain_apply_still_works_on_26_7() {
    let server = MockServer::start().await;
    expect_post_nobody(&server, "firewall/filter/apply", fx("apply.json")).await;
    client_at(&server, FirmwareVersion::new(26, 7, 2))
        .firewall()
        .filter()
        .apply()
        .await
        .expect("applied");
}

#[test]
fn unsafe_revisions_cannot_be_built() {
    for bad in ["../1", "1/2", "1767361234.57\n", "1.2.3", "1%2f2", "1?", ""] {
        assert!(Revision::parse(bad).expect_err(bad).is_local(), "{bad:?}");
    }
    assert_eq!(rev().as_str(), REV);
}

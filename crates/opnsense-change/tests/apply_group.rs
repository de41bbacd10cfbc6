//! The filter reload apply group against the simulator: `firewall/filter/apply`,
//! `firewall/d_nat/apply` and `firewall/source_nat/apply` all run configd `filter reload`
//! (opnsense/core `FilterBaseController.php` `applyAction`, 26.1.11 line 303, 26.7.2 line 302),
//! so an apply through any of the three makes the staged writes of all three live: the engine
//! holds them in one change, runs the lockout pre-flight for each (every entry by its own grid),
//! and reverts them all together.

use std::time::Duration;

use opnsense_api::Uuid;
use opnsense_api::api::firewall::{DNAT_RULES, FILTER_RULES};
use opnsense_api::api::source_nat::SNAT_RULES;
use opnsense_api::grid::ErasedGrid;
use opnsense_change::engine::{
    ApplyOptions, ChangeError, ChangeEvent, FILTER_RELOAD, RecordStatus, apply_group, apply_key,
    is_lockout_relevant,
};
use opnsense_change::journal::ChangeStatus;
use opnsense_sim::{Collection, SimConfig, Simulator, Version};
use serde_json::{Value, json};

mod rig;

use rig::{Rig, add};

/// A simulator with the lockout emulation on, and an engine talking to it.
async fn rig(version: Version) -> Rig {
    rig::start(SimConfig {
        version,
        lockout: true,
        ..SimConfig::default()
    })
    .await
}

/// A filter rule (wire form) blocking every new TCP connection to the firewall's LAN address:
/// this engine's own path to the simulator (127.0.0.1 is on `lan` there).
fn lockout_rule() -> Value {
    json!({"action": "block", "interface": "lan", "protocol": "TCP", "source_net": "any", "destination_net": "lanip", "sequence": "1", "description": "cuts the API off"})
}

/// A harmless filter rule (wire form).
fn harmless_rule() -> Value {
    json!({"action": "pass", "interface": "opt1", "protocol": "TCP", "source_net": "10.9.0.0/24", "destination_port": "8080", "description": "harmless"})
}

/// An outbound NAT rule (wire form).
fn snat_rule() -> Value {
    json!({"interface": "wan", "source_net": "10.9.0.0/24", "target": "wanip", "description": "outbound"})
}

/// A port forward (wire form).
fn port_forward() -> Value {
    json!({"interface": "wan", "protocol": "tcp", "destination": {"network": "wanip", "port": "8443"}, "target": "192.168.1.10", "local-port": "443", "descr": "forward"})
}

fn has(records: &[Value], uuid: &str) -> bool {
    records.iter().any(|r| r["uuid"] == uuid)
}

/// Asserts that none of `written` (a collection and a record's uuid) is left, staged or
/// live; `context` starts each failure's message.
fn assert_gone(sim: &Simulator, written: &[(Collection, &String)], context: &str) {
    for &(c, id) in written {
        assert!(!has(sim.staged().records(c), id), "{context} {c:?} staged");
        assert!(!has(sim.live().records(c), id), "{context} {c:?} live");
    }
}

/// Apply options for a dry run: what would be applied, nothing sent.
fn dry_run() -> ApplyOptions {
    ApplyOptions {
        dry_run: true,
        ..ApplyOptions::default()
    }
}

/// Apply options that apply past a pre-flight refusal.
fn forced() -> ApplyOptions {
    ApplyOptions {
        force: true,
        ..ApplyOptions::default()
    }
}

/// Apply options that confirm the change at once (no rollback window).
fn confirm_at_once() -> ApplyOptions {
    ApplyOptions {
        confirm_timeout: Some(Duration::ZERO),
        ..ApplyOptions::default()
    }
}

fn ids(group: &[&'static dyn ErasedGrid]) -> Vec<&'static str> {
    let mut ids: Vec<&str> = group.iter().map(|g| g.desc().id).collect();
    ids.sort_unstable();
    ids
}

#[test]
fn the_three_filter_reload_grids_are_one_group_whichever_is_applied() {
    let three = vec!["firewall.d_nat", "firewall.filter", "firewall.source_nat"];
    for grid in [
        &FILTER_RULES as &'static dyn ErasedGrid,
        &DNAT_RULES,
        &SNAT_RULES,
    ] {
        let group = apply_group(grid);
        assert_eq!(group[0].desc().id, grid.desc().id, "the applied grid first");
        assert_eq!(ids(&group), three, "{}", grid.desc().id);
        assert_eq!(apply_key(grid.desc()), FILTER_RELOAD);
        assert!(is_lockout_relevant(grid.desc()), "{}", grid.desc().id);
    }
    // Grids of their own keep their apply path as key and are no part of it.
    let aliases: &'static dyn ErasedGrid = &opnsense_api::api::firewall::ALIASES;
    assert_eq!(ids(&apply_group(aliases)), vec!["firewall.alias"]);
    assert_eq!(apply_key(aliases.desc()), aliases.desc().apply.path);
    assert!(!is_lockout_relevant(aliases.desc()));
    let routes: &'static dyn ErasedGrid = &opnsense_api::api::routes::ROUTES;
    assert!(!is_lockout_relevant(routes.desc()));
}

/// An outbound NAT apply makes a staged filter rule live: the pre-flight refuses it, naming
/// the filter rule, and nothing is applied or journaled as a change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbound_nat_apply_runs_the_preflight_on_staged_filter_rules() {
    for version in [Version::V26_1, Version::V26_7] {
        let r = rig(version).await;
        let rule = add(&r.engine, &FILTER_RULES, lockout_rule()).await;
        let snat = add(&r.engine, &SNAT_RULES, snat_rule()).await;

        let dry = r
            .engine
            .apply(&SNAT_RULES, dry_run())
            .await
            .expect("a dry run answers");
        assert!(
            dry.message.contains("REFUSED"),
            "{version:?}: {}",
            dry.message
        );
        let grids: Vec<&str> = dry.staged.iter().map(|s| s.grid.as_str()).collect();
        assert_eq!(
            grids,
            ["firewall.filter", "firewall.source_nat"],
            "{version:?}: both staged writes, in write order"
        );

        let refused = r
            .engine
            .apply(&SNAT_RULES, ApplyOptions::default())
            .await
            .expect_err("refused");
        let ChangeError::Refused { why, verdict } = &refused else {
            panic!("{version:?}: not a refusal: {refused}");
        };
        assert_eq!(
            verdict["refusal"]["rule"]["id"], rule,
            "{version:?}: names the filter rule: {why}"
        );
        assert!(!r.sim.is_locked_out(), "{version:?}: nothing was applied");
        assert!(!has(r.sim.live().records(Collection::FilterRules), &rule));
        assert!(!has(r.sim.live().records(Collection::SourceNat), &snat));
        assert!(
            r.engine.list(&[], 10).await.expect("changes").is_empty(),
            "{version:?}: a refused pre-flight journals no change"
        );
        r.sim.shutdown().await;
    }
}

/// Forced, the outbound NAT apply makes the filter rule live (the simulator does what
/// `filter reload` does), the probe over a new connection fails, and the one change reverts
/// both writes: the filter rule and the outbound NAT rule are gone, staged and live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_the_outbound_nat_apply_is_one_change_reverted_in_every_grid() {
    for version in [Version::V26_1, Version::V26_7] {
        let r = rig(version).await;
        let rule = add(&r.engine, &FILTER_RULES, lockout_rule()).await;
        let snat = add(&r.engine, &SNAT_RULES, snat_rule()).await;
        let outcome = r
            .engine
            .apply(&SNAT_RULES, forced())
            .await
            .expect("applied");
        let change = outcome.change.expect("a change");
        assert_eq!(
            change.status,
            ChangeStatus::Reverted,
            "{version:?}: {}",
            outcome.message
        );
        assert_eq!(change.detail["forced"], true);
        assert!(
            change.detail["probe"]
                .as_str()
                .is_some_and(|p| p.contains("fails")),
            "{version:?}: the probe saw the lockout: {}",
            change.detail
        );
        let grids: Vec<&str> = change.records.iter().map(|e| e.grid.as_str()).collect();
        assert_eq!(grids, ["firewall.filter", "firewall.source_nat"]);
        assert!(
            change
                .records
                .iter()
                .all(|e| e.status == RecordStatus::Reverted),
            "{version:?}: every write reverted"
        );
        assert!(!r.sim.is_locked_out(), "{version:?}: the lockout is lifted");
        let written = [
            (Collection::FilterRules, &rule),
            (Collection::SourceNat, &snat),
        ];
        assert_gone(&r.sim, &written, &format!("{version:?}"));
        r.sim.shutdown().await;
    }
}

/// A port forward apply with a harmless filter rule and an outbound NAT rule staged: one
/// pending change holding all three writes (all live on the simulator); the pre-flight takes
/// each by its own grid (certain, nothing refused); at shutdown the pending change is reverted
/// in all three grids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_forward_apply_holds_and_reverts_the_writes_of_all_three_grids() {
    let r = rig(Version::V26_7).await;
    let filter = add(&r.engine, &FILTER_RULES, harmless_rule()).await;
    let snat = add(&r.engine, &SNAT_RULES, snat_rule()).await;
    let forward = add(&r.engine, &DNAT_RULES, port_forward()).await;
    let outcome = r
        .engine
        .apply(&DNAT_RULES, ApplyOptions::default())
        .await
        .expect("applied");
    let change = outcome.change.expect("a change");
    assert_eq!(change.status, ChangeStatus::Pending, "{}", outcome.message);
    let preflight = outcome.preflight.expect("the pre-flight ran");
    assert!(preflight.get("refusal").is_none(), "{preflight}");
    let grids: Vec<&str> = change.records.iter().map(|e| e.grid.as_str()).collect();
    assert_eq!(
        grids,
        ["firewall.filter", "firewall.source_nat", "firewall.d_nat"]
    );
    let written = [
        (Collection::FilterRules, &filter),
        (Collection::SourceNat, &snat),
        (Collection::PortForwards, &forward),
    ];
    for (c, id) in written {
        assert!(has(r.sim.live().records(c), id), "{c:?} is live");
    }
    assert!(
        change
            .records
            .iter()
            .chain(&outcome.staged)
            .all(|e| e.status == RecordStatus::Applied),
        "the writes of a pending change read as applied, not staged: {:?}",
        change.records
    );
    // Nothing is left staged outside the change: a filter apply now has nothing to apply.
    let dry = r
        .engine
        .apply(&FILTER_RULES, dry_run())
        .await
        .expect("dry run");
    assert!(dry.staged.is_empty(), "{:?}", dry.staged);

    let reverted = r.engine.shutdown().await.expect("shutdown");
    assert_eq!(reverted.len(), 1);
    assert_eq!(
        reverted[0].status,
        ChangeStatus::Reverted,
        "{:?}",
        reverted[0].detail
    );
    assert_gone(&r.sim, &written, "after the revert:");
    r.sim.shutdown().await;
}

/// The pre-flight of a port forward apply takes a staged filter rule as a filter rule (before
/// the fix it read every entry as a port forward): the lockout rule is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_forward_apply_refuses_a_staged_filter_rule_that_cuts_the_api_off() {
    let r = rig(Version::V26_7).await;
    let rule = add(&r.engine, &FILTER_RULES, lockout_rule()).await;
    add(&r.engine, &DNAT_RULES, port_forward()).await;
    let refused = r
        .engine
        .apply(&DNAT_RULES, ApplyOptions::default())
        .await
        .expect_err("refused");
    let ChangeError::Refused { verdict, .. } = &refused else {
        panic!("not a refusal: {refused}");
    };
    assert_eq!(verdict["refusal"]["rule"]["id"], rule, "{verdict}");
    assert!(!r.sim.is_locked_out());
    // The uuid is a real one (the SDK's check), and still staged only.
    assert!(Uuid::parse(&rule).is_ok());
    assert!(has(r.sim.staged().records(Collection::FilterRules), &rule));
    r.sim.shutdown().await;
}

/// Every event the engine sends until now, in order.
fn drain(events: &mut tokio::sync::broadcast::Receiver<ChangeEvent>) -> Vec<ChangeEvent> {
    std::iter::from_fn(|| events.try_recv().ok()).collect()
}

/// The grids each event of the kind `is` picks names (`ChangeEvent::changed_grids`), in order.
fn grids_of(events: &[ChangeEvent], is: fn(&ChangeEvent) -> bool) -> Vec<Vec<&str>> {
    events
        .iter()
        .filter(|e| is(e))
        .map(ChangeEvent::changed_grids)
        .collect()
}

fn applied(e: &ChangeEvent) -> bool {
    matches!(e, ChangeEvent::Applied { .. })
}

/// The events of an apply and of its revert name every grid whose records they changed, not
/// only the grid applied: an outbound NAT apply with a staged filter rule makes the filter rule
/// live (and its revert puts it back), so observers of the filter rules (MCP `rules`
/// subscribers) must hear of both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbound_nat_apply_and_its_revert_name_the_filter_rules_they_changed() {
    let r = rig(Version::V26_7).await;
    let mut events = r.engine.events();
    add(&r.engine, &FILTER_RULES, harmless_rule()).await;
    add(&r.engine, &SNAT_RULES, snat_rule()).await;
    let outcome = r
        .engine
        .apply(&SNAT_RULES, ApplyOptions::default())
        .await
        .expect("applied");
    let change = outcome.change.expect("a change");
    assert_eq!(change.status, ChangeStatus::Pending, "{}", outcome.message);
    let both = ["firewall.source_nat", "firewall.filter"];
    let seen = drain(&mut events);
    assert_eq!(grids_of(&seen, applied), [both], "{seen:?}");
    assert_eq!(
        grids_of(&seen, |e| matches!(e, ChangeEvent::Written { .. })),
        [["firewall.filter"], ["firewall.source_nat"]],
        "a write names its own grid"
    );

    let reverted = r.engine.shutdown().await.expect("shutdown");
    assert_eq!(reverted.len(), 1);
    let seen = drain(&mut events);
    assert_eq!(
        grids_of(&seen, |e| matches!(e, ChangeEvent::Reverted { .. })),
        [both],
        "{seen:?}"
    );
    assert_eq!(
        grids_of(&seen, |e| matches!(e, ChangeEvent::Reverting { .. })),
        [Vec::<&str>::new()],
        "nothing changed yet"
    );
    r.sim.shutdown().await;
}

/// A filter apply names the port forwards it made live: one staged through the engine, and one
/// added elsewhere (straight to OPNsense) after the last change settled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_apply_names_the_port_forwards_it_made_live_ours_or_made_elsewhere() {
    let r = rig(Version::V26_7).await;
    let mut events = r.engine.events();
    add(&r.engine, &FILTER_RULES, harmless_rule()).await;
    add(&r.engine, &DNAT_RULES, port_forward()).await;
    let outcome = r
        .engine
        .apply(&FILTER_RULES, confirm_at_once())
        .await
        .expect("applied");
    assert_eq!(
        outcome.change.expect("a change").status,
        ChangeStatus::Confirmed,
        "{}",
        outcome.message
    );
    assert_eq!(
        grids_of(&drain(&mut events), applied),
        [["firewall.filter", "firewall.d_nat"]]
    );
    // Settled: the group's state is the baseline. A port forward added past this server, and
    // a filter rule through it.
    let mut elsewhere = port_forward();
    elsewhere["destination"]["port"] = json!("8444");
    elsewhere["descr"] = json!("made in the GUI");
    r.engine
        .client()
        .raw_grid(DNAT_RULES.desc())
        .add_raw(elsewhere)
        .await
        .expect("added elsewhere");
    let mut rule = harmless_rule();
    rule["destination_port"] = json!("8081");
    add(&r.engine, &FILTER_RULES, rule).await;
    let outcome = r
        .engine
        .apply(&FILTER_RULES, confirm_at_once())
        .await
        .expect("applied");
    assert_eq!(
        outcome.changed_elsewhere.as_ref().map(Vec::len),
        Some(1),
        "{:?}",
        outcome.changed_elsewhere
    );
    assert_eq!(
        grids_of(&drain(&mut events), applied),
        [["firewall.filter", "firewall.d_nat"]]
    );
    r.sim.shutdown().await;
}

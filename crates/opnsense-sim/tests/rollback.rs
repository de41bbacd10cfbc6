//! savepoint / apply/{rev} / cancelRollback / revert on stock 26.1, a "fixed" firmware,
//! and the 26.7 version knob.

mod common;

use std::time::Duration;

use common::{Harness, wait_until};
use opnsense_sim::{SimConfig, Version};
use serde_json::{Value, json};

fn fast(restores: bool) -> SimConfig {
    SimConfig {
        rollback_timeout: Duration::from_millis(300),
        rollback_restores: restores,
        ..SimConfig::default()
    }
}

/// A savepoint's revision: two decimals on stock 26.1 (`sprintf('%0.2f')`), four on the
/// simulated fixed firmware (the backup file's stamp).
async fn savepoint(h: &Harness, decimals: usize) -> String {
    let sp = h.post_ok("firewall/filter/savepoint", json!({})).await;
    assert_eq!(sp["status"], "ok");
    assert_eq!(sp["retention"], "100");
    let rev = sp["revision"].as_str().unwrap().to_owned();
    let (secs, frac) = rev.split_once('.').expect("fractional revision");
    assert!(secs.parse::<u64>().is_ok());
    assert_eq!(frac.len(), decimals, "{decimals} decimals: {rev}");
    rev
}

#[tokio::test]
async fn stock_timer_fires_but_restores_nothing() {
    let h = Harness::with(fast(false)).await;
    let rev = savepoint(&h, 2).await;
    let id = h.add_rule(json!({"description": "risky"})).await;
    h.post_expect(
        &format!("firewall/filter/apply/{rev}"),
        json!({"status": "OK\n\n"}),
    )
    .await;
    assert!(h.sim.rollback_pending());
    assert!(h.sim.live().find(&id).is_some());
    wait_until(|| !h.sim.rollback_pending()).await;
    // The defect: the timer found no backup under the 2-decimal name.
    assert!(h.sim.live().find(&id).is_some());
    assert!(h.sim.staged().find(&id).is_some());
    // Cancelling after expiry: "".
    h.post_expect(
        &format!("firewall/filter/cancelRollback/{rev}"),
        json!({"status": ""}),
    )
    .await;
    for area in ["filter", "d_nat"] {
        h.post_expect(
            &format!("firewall/{area}/revert/{rev}"),
            json!({"status": "unknown (or removed) savepoint"}),
        )
        .await;
    }
    h.sim.shutdown().await;
}

#[tokio::test]
async fn cancel_only_matches_the_pending_revision_and_one_timer_at_a_time() {
    let h = Harness::with(SimConfig {
        rollback_timeout: Duration::from_secs(30),
        ..SimConfig::default()
    })
    .await;
    let rev = savepoint(&h, 2).await;
    h.post_ok(&format!("firewall/filter/apply/{rev}"), json!({}))
        .await;
    // A second timer is not armed while one is pending.
    h.post_ok("firewall/filter/apply/1.00", json!({})).await;
    h.post_expect_each(&[
        (
            "firewall/filter/cancel_rollback/1.00".to_owned(),
            json!({"status": ""}),
        ),
        (
            format!("firewall/filter/cancelRollback/{rev}"),
            json!({"status": "\n\n"}),
        ),
    ])
    .await;
    assert!(!h.sim.rollback_pending());
    h.post_expect(
        &format!("firewall/filter/cancelRollback/{rev}"),
        json!({"status": ""}),
    )
    .await;
    // Non-POST answers "error".
    let (s, body) = h.get("firewall/filter/savepoint").await;
    assert_eq!((s, body), (200, json!({"status": "error"})));
    let (s, body) = h.get("firewall/filter/apply").await;
    assert_eq!((s, body), (200, json!({"status": "error"})));
    // Missing revision => 404.
    let (s, _) = h.post("firewall/filter/revert", json!({})).await;
    assert_eq!(s, 404);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn fixed_firmware_timer_and_revert_restore_filter_rules() {
    let h = Harness::with(fast(true)).await;
    let before: Vec<Value> = h.sim.live().filter_rules().to_vec();
    let rev = savepoint(&h, 4).await;
    let id = h.add_rule(json!({"description": "risky"})).await;
    h.post_ok(&format!("firewall/filter/apply/{rev}"), json!({}))
        .await;
    assert!(h.sim.live().find(&id).is_some());
    wait_until(|| !h.sim.rollback_pending()).await;
    assert_eq!(h.sim.live().filter_rules(), before.as_slice());
    assert!(h.sim.staged().find(&id).is_none());

    let id = h.add_rule(json!({"description": "again"})).await;
    h.post_ok("firewall/filter/apply", json!({})).await;
    h.post_expect(
        &format!("firewall/filter/revert/{rev}"),
        json!({"status": "ok"}),
    )
    .await;
    assert!(h.sim.live().find(&id).is_none());
    // d_nat cannot roll back: the backup exists => 500.
    let (s, _) = h
        .post(&format!("firewall/d_nat/revert/{rev}"), json!({}))
        .await;
    assert_eq!(s, 500);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn version_26_7_removes_rollback_actions() {
    let h = Harness::at(Version::V26_7).await;
    for path in [
        "firewall/filter/savepoint",
        "firewall/filter/cancelRollback/1.00",
        "firewall/filter/revert/1.00",
        "firewall/d_nat/savepoint",
    ] {
        let (s, body) = h.post(path, json!({})).await;
        assert_eq!(
            (s, body),
            (404, json!({"errorMessage": "Endpoint not found"})),
            "{path}"
        );
    }
    h.post_expect("firewall/filter/apply/123.45", json!({"status": "OK\n\n"}))
        .await;
    assert!(!h.sim.rollback_pending(), "26.7 apply takes no argument");
    let fw = h.get_ok("core/firmware/status").await;
    assert_eq!(fw["product"]["product_version"], "26.7.2");
    assert_eq!("26.7".parse::<Version>().unwrap(), Version::V26_7);
    h.sim.shutdown().await;
}

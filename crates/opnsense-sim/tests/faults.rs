//! Fault injection knobs and the lockout-after-apply simulation (behaviour only, no
//! timing assertions).

mod common;

use std::time::Duration;

use common::{Harness, client_for, send};
use opnsense_sim::SimConfig;
use serde_json::json;

#[tokio::test]
async fn error_rate_one_fails_everything_and_zero_nothing() {
    let h = Harness::with(SimConfig {
        error_rate: 1.0,
        ..SimConfig::default()
    })
    .await;
    for _ in 0..5 {
        let (s, body) = h.get("core/system/status").await;
        assert_eq!(s, 500);
        assert_eq!(
            body,
            json!({"errorMessage": "Unexpected error, check log for details"})
        );
    }
    h.sim.faults().set_error_rate(0.0);
    assert_eq!(h.get("core/system/status").await.0, 200);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn html_502_and_latency() {
    let h = Harness::start().await;
    h.sim.faults().set_html_502(true);
    let resp = h
        .request(reqwest::Method::GET, "core/system/status")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 502);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(
        resp.text().await.unwrap(),
        "<html><body><h1>502 Bad Gateway</h1></body></html>"
    );
    h.sim.faults().set_html_502(false);
    h.sim.faults().set_latency(Duration::from_millis(20));
    assert_eq!(h.sim.faults().settings().latency, Duration::from_millis(20));
    assert_eq!(
        h.get("core/system/status").await.0,
        200,
        "latency only delays"
    );
    h.sim.shutdown().await;
}

/// Asserts that a new client (300 ms timeout) asking for the system status gets no answer in
/// time; `why` names the cause in a failure.
async fn assert_a_new_client_times_out(h: &Harness, why: &str) {
    let impatient = client_for(h.sim.ca_pem(), Duration::from_millis(300));
    let err = h
        .get_via(&impatient, "core/system/status")
        .send()
        .await
        .expect_err(why);
    assert!(err.is_timeout(), "{why}: {err:?}");
}

#[tokio::test]
async fn stall_makes_the_client_time_out() {
    let h = Harness::start().await;
    h.sim.faults().set_stall(true);
    assert_a_new_client_times_out(&h, "stalled").await;
    assert!(h.sim.request_count() >= 1, "the request was received");
    h.sim.faults().set_stall(false);
    assert_eq!(h.get("core/system/status").await.0, 200);
    h.sim.shutdown().await;
}

/// Adds a LAN rule that blocks the GUI (TCP to `(self)` port 443); returns its uuid.
async fn add_lockout_rule(h: &Harness) -> String {
    h.add_rule(
        json!({"action": "block", "interface": "lan", "protocol": "TCP",
        "destination_net": "(self)", "destination_port": "443",
        "description": "Oops: block the GUI"}),
    )
    .await
}

#[tokio::test]
async fn lockout_after_apply_until_console_revert() {
    let h = Harness::lockout().await;
    add_lockout_rule(&h).await;
    assert!(!h.sim.is_locked_out(), "staged rules do not lock out");
    let r = h.post_ok("firewall/filter/apply", json!({})).await;
    assert_eq!(r["status"], "OK\n\n");
    assert!(h.sim.is_locked_out());

    assert_a_new_client_times_out(&h, "locked out").await;

    assert!(h.sim.console_revert());
    assert!(!h.sim.is_locked_out());
    let again = client_for(h.sim.ca_pem(), Duration::from_secs(5));
    let (s, _) = send(h.get_via(&again, "core/system/status")).await;
    assert_eq!(s, 200);
    assert!(
        h.sim
            .live()
            .filter_rules()
            .iter()
            .all(|r| r["description"] != "Oops: block the GUI")
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn lockout_lifted_by_fixed_rollback_timer() {
    let h = Harness::with(SimConfig {
        lockout: true,
        rollback_restores: true,
        rollback_timeout: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await;
    let rev = h.savepoint().await;
    add_lockout_rule(&h).await;
    h.post_ok(&format!("firewall/filter/apply/{rev}"), json!({}))
        .await;
    assert!(h.sim.is_locked_out());
    // The client waits out the lockout: the handshake completes once the timer reverted.
    let patient = client_for(h.sim.ca_pem(), Duration::from_secs(10));
    let (s, _) = send(h.get_via(&patient, "core/system/status")).await;
    assert_eq!(s, 200);
    assert!(!h.sim.is_locked_out());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn lockout_knob_off_or_other_interface_never_locks() {
    let h = Harness::start().await;
    add_lockout_rule(&h).await;
    h.post_ok("firewall/filter/apply", json!({})).await;
    assert!(!h.sim.is_locked_out(), "knob is opt-in");
    h.sim.faults().set_lockout(true);
    assert!(h.sim.is_locked_out(), "arming re-evaluates the live rules");
    h.sim.faults().set_lockout(false);
    assert!(!h.sim.is_locked_out());
    h.sim.shutdown().await;
}

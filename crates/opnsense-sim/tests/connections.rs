//! Connection-level behaviour: a lockout only stops new connections (established ones
//! keep their pf state), `block` leaves them unanswered and `reject` resets them, and
//! lighttpd's keep-alive limits (OPNsense `webgui.inc`: 15 keep-alive requests, 30 s idle).
//! No timing is asserted; waits are bounded polls of observable state.

mod common;

use std::error::Error as _;
use std::time::Duration;

use common::{Harness, OneConnection, client_for, wait_until};
use opnsense_sim::{LockoutAction, SimConfig, Simulator};
use serde_json::json;

/// A fresh client (new connection) that gives up connecting after a short while.
fn impatient_client(sim: &Simulator) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(sim.ca_pem().as_bytes()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .connect_timeout(Duration::from_millis(400))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// The innermost I/O error kind (rustls and hyper wrap the socket's error).
fn io_kind(err: &reqwest::Error) -> Option<std::io::ErrorKind> {
    let mut kind = None;
    let mut source = err.source();
    while let Some(e) = source {
        let mut io = e.downcast_ref::<std::io::Error>();
        while let Some(inner) = io {
            kind = Some(inner.kind());
            io = inner
                .get_ref()
                .and_then(|i| i.downcast_ref::<std::io::Error>());
        }
        source = e.source();
    }
    kind
}

#[tokio::test]
async fn a_lockout_spares_established_connections_and_lifts_through_them() {
    let h = Harness::lockout().await;
    let sim = &h.sim;
    let mut kept = OneConnection::open(sim).await.unwrap();
    kept.ok("core/system/status", None).await;
    assert_eq!(sim.accepted_connections(), 1);

    // Through the kept connection: a rule blocking the API, applied.
    let uuid = kept.block_the_api().await;
    assert_eq!(sim.lockout(), Some(LockoutAction::Block));

    // The established connection keeps being served ...
    for _ in 0..3 {
        kept.ok("firewall/filter/search_rule", None).await;
    }
    assert_eq!(
        sim.accepted_connections(),
        1,
        "no new connection was needed"
    );
    // ... a new one gets no TLS answer (pf drops its packets): the client times out.
    let err = get_err(sim, &impatient_client(sim)).await;
    assert!(err.is_timeout() && err.is_connect(), "{err:?}");

    // reject: new connections are reset.
    kept.set_action_and_apply(&uuid, "reject").await;
    assert_eq!(sim.lockout(), Some(LockoutAction::Reject));
    let err = get_err(sim, &impatient_client(sim)).await;
    assert!(err.is_connect() && !err.is_timeout(), "{err:?}");
    assert_eq!(
        io_kind(&err),
        Some(std::io::ErrorKind::ConnectionReset),
        "{err:?}"
    );

    // Reverting through the kept connection lifts the lockout for new connections.
    kept.ok(&format!("firewall/filter/del_rule/{uuid}"), Some(json!({})))
        .await;
    kept.ok("firewall/filter/apply", Some(json!({}))).await;
    assert_eq!(sim.lockout(), None);
    let (status, _) = common::send(
        impatient_client(sim)
            .get(h.url("core/system/status"))
            .basic_auth(sim.api_key(), Some(sim.api_secret())),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!kept.is_closed());
    h.sim.shutdown().await;
}

async fn get_err(sim: &Simulator, client: &reqwest::Client) -> reqwest::Error {
    client
        .get(format!("{}/api/core/system/status", sim.base_url()))
        .basic_auth(sim.api_key(), Some(sim.api_secret()))
        .send()
        .await
        .expect_err("locked out")
}

#[tokio::test]
async fn a_connection_waiting_out_a_block_lockout_is_served_when_it_lifts() {
    let h = Harness::lockout().await;
    let r = h
        .post_ok(
            "firewall/filter/add_rule",
            json!({"rule": {"action": "block", "interface": "lan", "destination_net": "lanip"}}),
        )
        .await;
    assert_eq!(r["result"], "saved");
    h.post_ok("firewall/filter/apply", json!({})).await;
    assert!(h.sim.is_locked_out());
    let patient = client_for(h.sim.ca_pem(), Duration::from_secs(10));
    let request = h.get_via(&patient, "core/system/status");
    let waiting = tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) });
    // Its TCP connection was accepted but gets no answer while the lockout lasts.
    let accepted = h.sim.accepted_connections();
    wait_until(|| h.sim.accepted_connections() > accepted).await;
    assert!(!waiting.is_finished());
    assert!(h.sim.console_revert());
    assert_eq!(waiting.await.unwrap().expect("answered"), 200);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn the_connection_closes_after_lighttpds_request_limit() {
    let defaults = SimConfig::default();
    assert_eq!(defaults.max_keep_alive_requests, 15);
    assert_eq!(defaults.max_keep_alive_idle, Duration::from_secs(30));
    let h = Harness::start().await;
    let mut conn = OneConnection::open(&h.sim).await.unwrap();
    // lighttpd: keep-alive ends once the request count exceeds 15: the 16th answer
    // carries `Connection: close` and the server closes the connection.
    for n in 1..=16 {
        let a = conn.call("core/system/status", None).await.unwrap();
        assert_eq!(a.status, 200);
        let expected = (n == 16).then_some("close");
        assert_eq!(a.connection.as_deref(), expected, "request {n}");
    }
    wait_until(|| conn.is_closed()).await;
    assert!(conn.call("core/system/status", None).await.is_err());
    assert_eq!(h.sim.accepted_connections(), 1);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn lowered_limits_close_busy_and_idle_connections() {
    let h = Harness::with(SimConfig {
        max_keep_alive_requests: 2,
        max_keep_alive_idle: Duration::from_millis(200),
        ..SimConfig::default()
    })
    .await;
    let sim = &h.sim;
    let mut busy = OneConnection::open(sim).await.unwrap();
    let mut closes = Vec::new();
    for _ in 0..3 {
        let a = busy.call("core/system/status", None).await.unwrap();
        closes.push(a.connection.is_some());
    }
    assert_eq!(closes, [false, false, true]);
    wait_until(|| busy.is_closed()).await;

    // An idle connection is closed by the server (no timing asserted: we wait for it).
    let mut idle = OneConnection::open(sim).await.unwrap();
    let a = idle.call("core/system/status", None).await.unwrap();
    assert_eq!(a.connection, None);
    wait_until(|| idle.is_closed() && sim.open_connections() == 0).await;
    assert_eq!(sim.accepted_connections(), 2);

    // max-keep-alive-idle = 0 disables keep-alive.
    let h0 = Harness::with(SimConfig {
        max_keep_alive_idle: Duration::ZERO,
        ..SimConfig::default()
    })
    .await;
    let mut once = OneConnection::open(&h0.sim).await.unwrap();
    let a = once.call("core/system/status", None).await.unwrap();
    assert_eq!(a.connection.as_deref(), Some("close"));
    wait_until(|| once.is_closed()).await;
    h0.sim.shutdown().await;
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_silent_new_connection_is_closed_after_the_read_idle_limit() {
    let h = Harness::with(SimConfig {
        max_read_idle: Duration::from_millis(200),
        ..SimConfig::default()
    })
    .await;
    let tcp = tokio::net::TcpStream::connect(h.sim.addr()).await.unwrap();
    wait_until(|| h.sim.accepted_connections() == 1).await;
    wait_until(|| h.sim.open_connections() == 0).await;
    drop(tcp);
    assert_eq!(h.get("core/system/status").await.0, 200);
    h.sim.shutdown().await;
}

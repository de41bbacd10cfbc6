//! Connection-level behaviour: a lockout only stops new connections (established ones
//! keep their pf state), `block` leaves them unanswered and `reject` resets them, and
//! lighttpd's keep-alive limits (OPNsense `webgui.inc`: 15 keep-alive requests, 30 s idle).
//! No timing is asserted; waits are bounded polls of observable state.

mod common;

use std::error::Error as _;
use std::time::Duration;

use common::{Harness, client_for};
use opnsense_sim::{LockoutAction, SimConfig, Simulator};
use serde_json::{Value, json};

/// A client that opens at most one connection and keeps it (HTTP/1.1 keep-alive).
fn keep_alive_client(sim: &Simulator) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(sim.ca_pem().as_bytes()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .http1_only()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

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

async fn call(
    sim: &Simulator,
    client: &reqwest::Client,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<(u16, Value, Option<String>), reqwest::Error> {
    let mut req = client
        .request(method, format!("{}/api/{path}", sim.base_url()))
        .basic_auth(sim.api_key(), Some(sim.api_secret()));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let connection = resp
        .headers()
        .get("connection")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.text().await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        connection,
    ))
}

async fn get(sim: &Simulator, client: &reqwest::Client, path: &str) -> u16 {
    call(sim, client, reqwest::Method::GET, path, None)
        .await
        .expect("answered")
        .0
}

async fn post(sim: &Simulator, client: &reqwest::Client, path: &str, body: Value) -> Value {
    let (status, body, _) = call(sim, client, reqwest::Method::POST, path, Some(body))
        .await
        .expect("answered");
    assert_eq!(status, 200, "{path}: {body}");
    body
}

async fn wait_until(mut cond: impl FnMut() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("condition not reached within 10 s");
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
    let h = Harness::with(SimConfig {
        lockout: true,
        ..SimConfig::default()
    })
    .await;
    let sim = &h.sim;
    let kept = keep_alive_client(sim);
    assert_eq!(get(sim, &kept, "core/system/status").await, 200);
    assert_eq!(sim.accepted_connections(), 1);

    // Through the kept connection: a rule blocking the API, applied.
    let added = post(
        sim,
        &kept,
        "firewall/filter/add_rule",
        json!({"rule": {"action": "block", "interface": "lan", "protocol": "TCP",
            "destination_net": "(self)", "destination_port": "443", "description": "bad"}}),
    )
    .await;
    let uuid = added["uuid"].as_str().unwrap().to_owned();
    post(sim, &kept, "firewall/filter/apply", json!({})).await;
    assert_eq!(sim.lockout(), Some(LockoutAction::Block));

    // The established connection keeps being served ...
    for _ in 0..3 {
        assert_eq!(get(sim, &kept, "firewall/filter/search_rule").await, 200);
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
    post(
        sim,
        &kept,
        &format!("firewall/filter/set_rule/{uuid}"),
        json!({"rule": {"action": "reject"}}),
    )
    .await;
    post(sim, &kept, "firewall/filter/apply", json!({})).await;
    assert_eq!(sim.lockout(), Some(LockoutAction::Reject));
    let err = get_err(sim, &impatient_client(sim)).await;
    assert!(err.is_connect() && !err.is_timeout(), "{err:?}");
    assert_eq!(
        io_kind(&err),
        Some(std::io::ErrorKind::ConnectionReset),
        "{err:?}"
    );

    // Reverting through the kept connection lifts the lockout for new connections.
    post(
        sim,
        &kept,
        &format!("firewall/filter/del_rule/{uuid}"),
        json!({}),
    )
    .await;
    post(sim, &kept, "firewall/filter/apply", json!({})).await;
    assert_eq!(sim.lockout(), None);
    assert_eq!(
        get(sim, &impatient_client(sim), "core/system/status").await,
        200
    );
    h.sim.shutdown().await;
}

async fn get_err(sim: &Simulator, client: &reqwest::Client) -> reqwest::Error {
    call(
        sim,
        client,
        reqwest::Method::GET,
        "core/system/status",
        None,
    )
    .await
    .expect_err("locked out")
}

#[tokio::test]
async fn a_connection_waiting_out_a_block_lockout_is_served_when_it_lifts() {
    let h = Harness::with(SimConfig {
        lockout: true,
        ..SimConfig::default()
    })
    .await;
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
    let url = h.url("core/system/status");
    let waiting = tokio::spawn(async move {
        patient
            .get(url)
            .basic_auth("sim-key", Some("sim-secret"))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
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
    let sim = &h.sim;
    let client = keep_alive_client(sim);
    // lighttpd: keep-alive ends once the request count exceeds 15: the 16th answer
    // carries `Connection: close`.
    for n in 1..=16 {
        let (status, _, connection) = call(
            sim,
            &client,
            reqwest::Method::GET,
            "core/system/status",
            None,
        )
        .await
        .unwrap();
        assert_eq!(status, 200);
        if n < 16 {
            assert_eq!(connection, None, "request {n}");
        } else {
            assert_eq!(connection.as_deref(), Some("close"), "request {n}");
        }
        assert_eq!(sim.accepted_connections(), 1, "request {n}");
    }
    get(sim, &client, "core/system/status").await;
    assert_eq!(
        sim.accepted_connections(),
        2,
        "the 17th needs a new connection"
    );
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
    let client = keep_alive_client(sim);
    let mut closes = Vec::new();
    for _ in 0..6 {
        let (_, _, connection) = call(
            sim,
            &client,
            reqwest::Method::GET,
            "core/system/status",
            None,
        )
        .await
        .unwrap();
        closes.push(connection.is_some());
    }
    assert_eq!(closes, [false, false, true, false, false, true]);
    assert_eq!(sim.accepted_connections(), 2);
    // An idle connection is closed by the server (no timing asserted: we wait for it).
    get(sim, &client, "core/system/status").await;
    assert_eq!(sim.accepted_connections(), 3);
    wait_until(|| sim.open_connections() == 0).await;
    get(sim, &client, "core/system/status").await;
    assert_eq!(sim.accepted_connections(), 4, "the idle one was gone");

    // max-keep-alive-idle = 0 disables keep-alive.
    let h0 = Harness::with(SimConfig {
        max_keep_alive_idle: Duration::ZERO,
        ..SimConfig::default()
    })
    .await;
    let client = keep_alive_client(&h0.sim);
    let (_, _, connection) = call(
        &h0.sim,
        &client,
        reqwest::Method::GET,
        "core/system/status",
        None,
    )
    .await
    .unwrap();
    assert_eq!(connection.as_deref(), Some("close"));
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

//! A lockout enforced by the kernel (`SimConfig::nft_lockout`) inside a network namespace
//! of the test's own: a connection opened before the lockout keeps getting answers, a new
//! one times out (`block`) or is refused (`reject`) without ever reaching the simulator,
//! and after the lockout lifts new connections work again.
//!
//! The test re-runs itself inside `ip netns exec <ns>` (a fresh namespace with only `lo`,
//! deleted afterwards), so everything stays on 127.0.0.1 of that namespace. It needs root,
//! `ip` and `nft` (`apt-get install -y nftables`); without them it is skipped with the
//! reason printed. `OPNSENSE_SIM_NETNS=0` skips it, `OPNSENSE_SIM_NETNS=1` makes missing
//! prerequisites a failure (for CI machines that must run it).

mod common;

use std::io::ErrorKind;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::OneConnection;
use opnsense_sim::netns::{Namespace, Rerun};
use opnsense_sim::{LockoutAction, NftLockout, SimConfig, Simulator};
use serde_json::json;

const TEST_NAME: &str = "nft_lockout_in_a_network_namespace";

#[test]
fn nft_lockout_in_a_network_namespace() {
    if Namespace::rerun_test(TEST_NAME, "opnsense-sim-test").expect("the run inside a namespace")
        == Rerun::Inside
    {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(in_namespace());
    }
}

/// A new connection through reqwest: 200 or the error.
async fn fresh_get(sim: &Simulator, connect_timeout: Duration) -> Result<u16, reqwest::Error> {
    let ca = reqwest::Certificate::from_pem(sim.ca_pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([ca])
        .connect_timeout(connect_timeout)
        .build()
        .unwrap();
    let resp = client
        .get(format!("{}/api/core/system/status", sim.base_url()))
        .basic_auth(sim.api_key(), Some(sim.api_secret()))
        .send()
        .await?;
    Ok(resp.status().as_u16())
}

/// `nft list table <name>`: the table's text, or `None` when it does not exist.
fn nft_list(table: &str) -> Option<String> {
    let mut args = vec!["list", "table"];
    args.extend(table.split(' '));
    let out = Command::new("nft").args(&args).output().unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A plain TCP connect with a timeout: what the kernel answers a new connection.
fn tcp_connect(sim: &Simulator) -> (Result<(), ErrorKind>, Duration) {
    let t = Instant::now();
    let r = TcpStream::connect_timeout(&sim.addr(), Duration::from_secs(1))
        .map(drop)
        .map_err(|e| e.kind());
    (r, t.elapsed())
}

async fn in_namespace() {
    let sim = Simulator::start(SimConfig {
        lockout: true,
        nft_lockout: Some(NftLockout::default()),
        ..SimConfig::default()
    })
    .await
    .expect("simulator with its nftables table");
    let table = sim.nft_table().expect("table name");
    assert_eq!(table, format!("inet opnsense_sim_{}", sim.addr().port()));
    let listed = nft_list(&table).expect("table loaded at start");
    assert!(
        listed.contains("ct state established,related accept"),
        "{listed}"
    );
    assert!(!listed.contains("ct state new"), "{listed}");

    // One connection, opened before the lockout and kept.
    let mut kept = OneConnection::open(&sim).await.unwrap();
    kept.ok("core/system/status", None).await;
    assert_eq!(sim.accepted_connections(), 1);

    let uuid = kept.block_the_api().await;
    assert_eq!(sim.lockout(), Some(LockoutAction::Block));
    assert!(nft_list(&table).unwrap().contains(" drop"));

    // block: the established connection is served; a new one gets no SYN-ACK.
    for _ in 0..3 {
        kept.ok("firewall/filter/search_rule", None).await;
    }
    let (r, took) = tcp_connect(&sim);
    assert_eq!(r, Err(ErrorKind::TimedOut));
    println!("block: new TCP connection failed after {took:?} (connect timeout 1 s)");
    let t = Instant::now();
    let err = fresh_get(&sim, Duration::from_secs(1))
        .await
        .expect_err("blocked");
    assert!(err.is_connect() && err.is_timeout(), "{err:?}");
    println!(
        "block: reqwest (connect_timeout 1 s) failed after {:?}",
        t.elapsed()
    );
    kept.ok("core/system/status", None).await;
    assert_eq!(
        sim.accepted_connections(),
        1,
        "the kernel dropped the new connections before they reached the simulator"
    );

    // reject: new connections are refused (TCP RST to the SYN).
    kept.set_action_and_apply(&uuid, "reject").await;
    assert_eq!(sim.lockout(), Some(LockoutAction::Reject));
    assert!(nft_list(&table).unwrap().contains("reject with tcp reset"));
    let (r, took) = tcp_connect(&sim);
    assert_eq!(r, Err(ErrorKind::ConnectionRefused));
    println!("reject: new TCP connection refused after {took:?}");
    let err = fresh_get(&sim, Duration::from_secs(1))
        .await
        .expect_err("rejected");
    assert!(err.is_connect() && !err.is_timeout(), "{err:?}");
    assert_eq!(sim.accepted_connections(), 1);

    // Lifted through the kept connection: new connections work again.
    kept.ok(&format!("firewall/filter/del_rule/{uuid}"), Some(json!({})))
        .await;
    kept.ok("firewall/filter/apply", Some(json!({}))).await;
    assert_eq!(sim.lockout(), None);
    assert!(!nft_list(&table).unwrap().contains("ct state new"));
    let (r, _) = tcp_connect(&sim);
    assert_eq!(r, Ok(()));
    assert_eq!(fresh_get(&sim, Duration::from_secs(1)).await.unwrap(), 200);
    assert!(!kept.is_closed());

    sim.shutdown().await;
    assert_eq!(nft_list(&table), None, "the table is deleted at shutdown");
}

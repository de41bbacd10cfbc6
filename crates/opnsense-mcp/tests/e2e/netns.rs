//! The lockout for real: the server binary and the simulator run in a network namespace of
//! their own, and a filter apply that blocks the API makes the simulator load an nftables rule
//! that drops (or resets) new connections to it while conntrack keeps established ones, as pf
//! does. A forced apply of such a rule is caught by the server's probe over a new connection
//! and reverted through the connection it kept open, on `block` and on `reject`.
//!
//! The test re-runs itself inside `ip netns exec <ns>` (a fresh namespace with only `lo`, on
//! 127.0.0.1, deleted afterwards). It needs root, `ip` and `nft`; without them it is skipped,
//! saying why. `OPNSENSE_SIM_NETNS=0` skips it, `=1` makes missing prerequisites a failure.

use opnsense_sim::netns::{Namespace, Rerun};
use opnsense_sim::{Collection, NftLockout, SimConfig, Simulator, Version};

use crate::changes::{Server, forced_apply_is_reverted, lockout_rule_with, uuid_of};
use crate::support::call;

const TEST: &str = "netns::a_kernel_lockout_is_reverted_through_the_kept_connection";

#[test]
fn a_kernel_lockout_is_reverted_through_the_kept_connection() {
    if Namespace::rerun_test(TEST, "opnsense-mcp-e2e").expect("the run inside a namespace")
        == Rerun::Inside
    {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(in_namespace());
    }
}

async fn in_namespace() {
    for action in ["block", "reject"] {
        let sim = Simulator::start(SimConfig {
            version: Version::V26_7,
            lockout: true,
            nft_lockout: Some(NftLockout::default()),
            ..SimConfig::default()
        })
        .await
        .expect("simulator with its nftables table");
        assert!(sim.nft_table().is_some(), "the table is loaded");
        let state_dir = tempfile::tempdir().expect("state dir");
        let server = Server::start(&sim, state_dir.path()).await;
        let client = &server.client;
        let live_before = sim.live().records(Collection::FilterRules).to_vec();
        let added = call(client, "firewall_rule_add", lockout_rule_with(action)).await;
        uuid_of("firewall_rule_add", &added);
        let accepted_before = sim.accepted_connections();
        let through_kept = "the connection kept open across the apply";
        let elapsed =
            forced_apply_is_reverted(client, &sim, &live_before, through_kept, action).await;
        println!(
            "{action}: forced lockout apply to reverted in {elapsed:?}; {} new connections reached the simulator meanwhile",
            sim.accepted_connections() - accepted_before
        );
        server.stop().await;
        sim.shutdown().await;
    }
}

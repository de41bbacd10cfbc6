//! The SDK and the simulator read the one `data/protocols` (FreeBSD's `/etc/protocols`) the
//! same way: the protocols the SDK accepts (`PROTOCOL_NAMES`, `any`, `TCP/UDP`) are exactly the
//! options the simulator's `ProtocolField` offers, upper-case on filter rules and lower-case on
//! port forwards.

use std::collections::BTreeSet;

use opnsense_api::models::firewall::{PROTOCOL_NAMES, ProtocolCase, normalise_protocol};
use opnsense_api::{Client, Request};
use serde_json::Value;

use crate::support::start_simulator;

/// The option keys of `protocol` in a `get_rule` answer (`rule` wrapper).
async fn offered(client: &Client, get_rule: &'static str) -> BTreeSet<String> {
    let answer: Value = client
        .send_json(Request::get(get_rule))
        .await
        .unwrap_or_else(|e| panic!("{get_rule}: {e}"));
    answer["rule"]["protocol"]
        .as_object()
        .unwrap_or_else(|| panic!("{get_rule}: no protocol option map in {answer}"))
        .keys()
        .filter(|key| !key.is_empty())
        .cloned()
        .collect()
}

#[tokio::test]
async fn sdk_and_simulator_read_the_same_protocols() {
    let sim = start_simulator().await;
    let client = Client::builder(sim.base_url())
        .credentials(sim.api_key(), sim.api_secret())
        .ca_file(sim.ca_file())
        .build()
        .expect("client");
    let accepted = |case: ProtocolCase| -> BTreeSet<String> {
        PROTOCOL_NAMES
            .iter()
            .chain(&["TCP/UDP"])
            .filter_map(|p| normalise_protocol(p, case))
            .collect()
    };

    let mut filter = accepted(ProtocolCase::Upper);
    filter.insert("any".to_owned());
    assert_eq!(offered(&client, "firewall/filter/get_rule").await, filter);
    assert_eq!(
        offered(&client, "firewall/d_nat/get_rule").await,
        accepted(ProtocolCase::Lower)
    );
}

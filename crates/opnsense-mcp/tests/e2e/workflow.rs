//! Issue 5's end-to-end workflow through the MCP server over stdio against the simulator:
//! every change is checked where it lands, in the simulator's staged and live configuration.

use crate::support::{
    Client, call, close, connect_stdio, expect_error, expect_ok, listed_rows, random_uuid,
    start_simulator,
};
use opnsense_sim::Simulator;
use serde_json::{Value, json};

async fn setup() -> (Simulator, Client) {
    let sim = start_simulator().await;
    let (client, _log) = connect_stdio(&sim).await;
    (sim, client)
}

async fn teardown(sim: Simulator, client: Client) {
    close(client).await;
    sim.shutdown().await;
}

fn field<'a>(record: &'a Value, name: &str) -> &'a str {
    record.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn listed_uuids(structured: &Value) -> Vec<String> {
    listed_rows(structured)
        .iter()
        .filter_map(|r| r["uuid"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_lifecycle_with_alias() {
    let (sim, client) = setup().await;

    // 1. List the rules.
    let before = call(&client, "firewall_rule_list", json!({"row_count": -1})).await;
    let before = expect_ok("firewall_rule_list", &before).clone();
    let total_before = before["total"].as_u64().expect("total");
    // OPNsense lists the automatic (plugin generated) rules next to the MVC ones.
    assert_eq!(
        usize::try_from(total_before).expect("fits"),
        sim.staged().filter_rules().len() + sim.automatic_filter_rules().len(),
        "the listing total should match the simulator's rules: {before}"
    );

    // 2. An alias, applied.
    let added = call(
        &client,
        "firewall_alias_add",
        json!({"alias": {
            "name": "e2e_web_servers",
            "type": "host",
            "content": ["10.0.20.10", "10.0.20.11"],
            "description": "e2e workflow web servers"
        }}),
    )
    .await;
    let alias_uuid = expect_ok("firewall_alias_add", &added)["uuid"]
        .as_str()
        .expect("alias uuid")
        .to_owned();
    expect_ok(
        "firewall_alias_apply",
        &call(&client, "firewall_alias_apply", json!({})).await,
    );
    assert!(sim.live().find(&alias_uuid).is_some(), "alias is live");

    // 3. A rule using it.
    let added = call(
        &client,
        "firewall_rule_add",
        json!({"rule": {
            "action": "pass",
            "interface": ["lan"],
            "protocol": "TCP",
            "destination_net": "e2e_web_servers",
            "destination_port": "443",
            "description": "e2e workflow allow https"
        }}),
    )
    .await;
    let staged = expect_ok("firewall_rule_add", &added).clone();
    assert_eq!(staged["apply_with"], "firewall_rule_apply");
    let rule_uuid = staged["uuid"].as_str().expect("rule uuid").to_owned();

    // 4. Listed and staged, not live.
    let listed = call(
        &client,
        "firewall_rule_list",
        json!({"search_phrase": "e2e workflow"}),
    )
    .await;
    let listed = expect_ok("firewall_rule_list", &listed);
    assert!(
        listed_uuids(listed).contains(&rule_uuid),
        "the new rule should be listed: {listed}"
    );
    let staged_rule = sim.staged().find(&rule_uuid).cloned().expect("rule staged");
    assert_eq!(field(&staged_rule, "destination_net"), "e2e_web_servers");
    assert!(
        sim.live().find(&rule_uuid).is_none(),
        "the rule must not be live before apply"
    );
    let got = call(&client, "firewall_rule_get", json!({"uuid": rule_uuid})).await;
    let got = expect_ok("firewall_rule_get", &got);
    assert_eq!(got["item"]["description"], "e2e workflow allow https");
    assert_eq!(got["item"]["destination"], "e2e_web_servers");

    // 5. Apply: live.
    expect_ok(
        "firewall_rule_apply",
        &call(&client, "firewall_rule_apply", json!({})).await,
    );
    let live_rule = sim.live().find(&rule_uuid).cloned().expect("rule live");
    assert_eq!(field(&live_rule, "description"), "e2e workflow allow https");

    // 6. Update only the description: staged changes, the other fields stay, live waits.
    let updated = call(
        &client,
        "firewall_rule_update",
        json!({"uuid": rule_uuid, "rule": {"description": "e2e workflow allow https (renamed)"}}),
    )
    .await;
    expect_ok("firewall_rule_update", &updated);
    let staged_rule = sim.staged().find(&rule_uuid).cloned().expect("rule staged");
    assert_eq!(
        field(&staged_rule, "description"),
        "e2e workflow allow https (renamed)"
    );
    for name in [
        "action",
        "interface",
        "protocol",
        "destination_net",
        "destination_port",
        "enabled",
        "direction",
        "ipprotocol",
        "source_net",
    ] {
        assert_eq!(
            staged_rule.get(name),
            live_rule.get(name),
            "updating the description changed {name}"
        );
    }
    assert_eq!(
        field(
            &sim.live().find(&rule_uuid).cloned().expect("live"),
            "description"
        ),
        "e2e workflow allow https",
        "the update must not be live before apply"
    );
    expect_ok(
        "firewall_rule_apply",
        &call(&client, "firewall_rule_apply", json!({})).await,
    );
    assert_eq!(
        field(
            &sim.live().find(&rule_uuid).cloned().expect("live"),
            "description"
        ),
        "e2e workflow allow https (renamed)"
    );

    // 7. Delete, apply: gone.
    expect_ok(
        "firewall_rule_delete",
        &call(&client, "firewall_rule_delete", json!({"uuid": rule_uuid})).await,
    );
    assert!(
        sim.staged().find(&rule_uuid).is_none(),
        "deleted from staged"
    );
    assert!(
        sim.live().find(&rule_uuid).is_some(),
        "the delete must not be live before apply"
    );
    expect_ok(
        "firewall_rule_apply",
        &call(&client, "firewall_rule_apply", json!({})).await,
    );
    assert!(sim.live().find(&rule_uuid).is_none(), "gone from live");
    let after = call(&client, "firewall_rule_list", json!({"row_count": -1})).await;
    assert_eq!(
        expect_ok("firewall_rule_list", &after)["total"].as_u64(),
        Some(total_before),
        "the rule count is back to where it started"
    );
    let gone = call(&client, "firewall_rule_get", json!({"uuid": rule_uuid})).await;
    let text = expect_error("firewall_rule_get", &gone);
    assert!(text.to_lowercase().contains("not found"), "{text}");

    teardown(sim, client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_of_an_unknown_uuid_creates_nothing() {
    let (sim, client) = setup().await;
    let uuid = random_uuid();
    let staged_before = sim.staged().filter_rules().len();
    let result = call(
        &client,
        "firewall_rule_update",
        json!({"uuid": uuid, "rule": {"description": "e2e must not exist"}}),
    )
    .await;
    let text = expect_error("firewall_rule_update", &result);
    assert!(
        text.to_lowercase().contains("not found"),
        "an unknown uuid should be reported as not found: {text}"
    );
    let staged = sim.staged();
    assert!(
        staged.find(&uuid).is_none(),
        "a record was created for {uuid}"
    );
    assert_eq!(
        staged.filter_rules().len(),
        staged_before,
        "rule count changed"
    );
    assert!(
        crate::support::find_by(staged.filter_rules(), "description", "e2e must not exist")
            .is_none(),
        "a rule was created under another uuid"
    );
    let upserts: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("set_rule") && r.path.contains(&uuid))
        .collect();
    assert!(
        upserts.is_empty(),
        "the server sent set_rule for an unknown uuid (OPNsense would upsert): {upserts:?}"
    );
    teardown(sim, client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_host_override_then_apply() {
    let (sim, client) = setup().await;
    let added = call(
        &client,
        "dns_host_override_add",
        json!({"host": {
            "hostname": "e2e-nas",
            "domain": "example.lan",
            "rr": "A",
            "server": "10.0.30.40",
            "description": "e2e override"
        }}),
    )
    .await;
    let staged = expect_ok("dns_host_override_add", &added).clone();
    assert_eq!(staged["apply_with"], "dns_apply");
    let uuid = staged["uuid"].as_str().expect("uuid").to_owned();
    let record = sim.staged().find(&uuid).cloned().expect("override staged");
    assert_eq!(field(&record, "hostname"), "e2e-nas");
    assert_eq!(field(&record, "server"), "10.0.30.40");
    assert!(sim.live().find(&uuid).is_none(), "live before dns_apply");
    expect_ok("dns_apply", &call(&client, "dns_apply", json!({})).await);
    let live = sim.live();
    let record = live.find(&uuid).expect("override live after dns_apply");
    assert_eq!(field(record, "domain"), "example.lan");
    teardown(sim, client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_then_apply() {
    let (sim, client) = setup().await;
    let added = call(
        &client,
        "route_add",
        json!({"route": {
            "network": "10.77.0.0/16",
            "gateway": "Null4",
            "description": "e2e route"
        }}),
    )
    .await;
    let staged = expect_ok("route_add", &added).clone();
    assert_eq!(staged["apply_with"], "route_apply");
    let uuid = staged["uuid"].as_str().expect("uuid").to_owned();
    let record = sim.staged().find(&uuid).cloned().expect("route staged");
    assert_eq!(field(&record, "network"), "10.77.0.0/16");
    assert!(sim.live().find(&uuid).is_none(), "live before route_apply");
    expect_ok(
        "route_apply",
        &call(&client, "route_apply", json!({})).await,
    );
    let live = sim.live();
    let record = live.find(&uuid).expect("route live after route_apply");
    assert_eq!(field(record, "gateway"), "Null4");
    let listed = call(&client, "route_list", json!({})).await;
    assert!(
        listed_uuids(expect_ok("route_list", &listed)).contains(&uuid),
        "route_list shows the new route"
    );
    teardown(sim, client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_stop_then_status() {
    let (sim, client) = setup().await;
    let status = call(&client, "service_status", json!({"module": "unbound"})).await;
    assert_eq!(expect_ok("service_status", &status)["status"], "running");
    let stopped = call(&client, "service_stop", json!({"module": "unbound"})).await;
    expect_ok("service_stop", &stopped);
    let status = call(&client, "service_status", json!({"module": "unbound"})).await;
    assert_eq!(
        expect_ok("service_status", &status)["status"],
        "stopped",
        "unbound should be reported stopped after service_stop"
    );
    let started = call(&client, "service_start", json!({"module": "unbound"})).await;
    expect_ok("service_start", &started);
    let status = call(&client, "service_status", json!({"module": "unbound"})).await;
    assert_eq!(expect_ok("service_status", &status)["status"], "running");
    teardown(sim, client).await;
}

//! Issue 12's troubleshooting reads through the real server over stdio against the simulator,
//! on 26.1 and 26.7: the SDK decodes what the simulator answers, and the tools' compact rows
//! name what the simulator holds (the live rules behind log entries and states, the down
//! gateway, the static routes in the kernel table, the WireGuard peer, the IPsec tunnel once
//! the service is started).

use crate::support::{Client, call, close, connect_stdio, expect_error, expect_ok, listed_rows};
use opnsense_sim::{SimConfig, Simulator, Version};
use serde_json::{Value, json};

const VERSIONS: [Version; 2] = [Version::V26_1, Version::V26_7];

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The rows as objects (a page of more than ten rows is a table); leaked, tests only.
fn rows(v: &Value) -> &'static Vec<Value> {
    assert!(v["rows"].is_array(), "rows: {v}");
    Box::leak(Box::new(listed_rows(v)))
}

/// (uuid, description) of the simulator's live filter rules.
fn live_rules(sim: &Simulator) -> Vec<(String, String)> {
    sim.live()
        .filter_rules()
        .iter()
        .map(|r| (s(r, "uuid").to_owned(), s(r, "description").to_owned()))
        .collect()
}

async fn log_and_states(sim: &Simulator, client: &Client, v: Version) {
    let rules = live_rules(sim);
    let log = call(client, "firewall_log", json!({"limit": 12})).await;
    let log = expect_ok("firewall_log", &log);
    assert_eq!(log["returned"], 12, "{v:?}: {log}");
    let mut user = 0;
    for row in rows(log) {
        let rule = &row["rule"];
        match s(rule, "origin") {
            "user" => {
                let uuid = s(rule, "uuid");
                let (_, descr) = rules
                    .iter()
                    .find(|(u, _)| u == uuid)
                    .unwrap_or_else(|| panic!("{v:?}: {uuid} is no live rule"));
                assert_eq!(s(rule, "description"), descr);
                user += 1;
            }
            "automatic" | "nat" => assert!(rule.get("uuid").is_none()),
            other => panic!("{v:?}: origin {other} in {row}"),
        }
        assert!(row["time"].is_string() && row["interface"].is_string());
    }
    assert!(user > 0, "{v:?}: no entry of a user rule: {log}");

    // Filters: the WAN's blocks, by description, and a rule by its uuid.
    let blocks = call(
        client,
        "firewall_log",
        json!({"interface": "WAN", "action": "block"}),
    )
    .await;
    let blocks = expect_ok("firewall_log", &blocks);
    assert!(blocks["returned"].as_u64() > Some(0), "{blocks}");
    assert!(rows(blocks).iter().all(|r| s(r, "action") == "block"
        && s(r, "interface") == "igb0"
        && s(r, "interface_name") == "WAN"));
    let (bogons, _) = rules
        .iter()
        .find(|(_, d)| d == "Block bogon networks")
        .expect("seeded rule");
    let by_rule = call(client, "firewall_log", json!({"rule": bogons, "raw": true})).await;
    let by_rule = expect_ok("firewall_log", &by_rule);
    let raw = by_rule["raw"].as_array().expect("raw");
    assert!(!raw.is_empty() && raw.iter().all(|e| s(e, "rid") == bogons));

    // States: one end at the web server on 443, each naming its rule.
    let states = call(
        client,
        "firewall_states",
        json!({"address": "10.0.10.25", "port": 443}),
    )
    .await;
    let states = expect_ok("firewall_states", &states);
    assert_eq!(states["total"], 3, "{v:?}: {states}");
    for st in rows(states) {
        let ends = [
            (s(st, "source"), st["source_port"].as_u64()),
            (s(st, "destination"), st["destination_port"].as_u64()),
        ];
        assert!(ends.contains(&("10.0.10.25", Some(443))), "{st}");
    }
    let named = rows(states)
        .iter()
        .find(|st| st["rule"]["origin"] == "user")
        .expect("a state of a user rule");
    assert!(
        rules
            .iter()
            .any(|(u, d)| u == s(&named["rule"], "uuid") && d == s(&named["rule"], "description"))
    );
    let paged = call(client, "firewall_states", json!({"row_count": 5})).await;
    let paged = expect_ok("firewall_states", &paged);
    assert_eq!(
        (paged["total"].as_u64(), paged["returned"].as_u64()),
        (Some(8), Some(5))
    );
    assert!(paged["next"].is_string());
    let refused = call(client, "firewall_states", json!({"address": "10.0.0.0/40"})).await;
    assert!(expect_error("firewall_states", &refused).contains("invalid argument address"));
}

async fn gateways_and_routes(sim: &Simulator, client: &Client, v: Version) {
    let gw = call(client, "gateway_status", json!({})).await;
    let gw = expect_ok("gateway_status", &gw);
    assert_eq!(
        (gw["total"].as_u64(), gw["down"].as_u64()),
        (Some(3), Some(1)),
        "{v:?}: {gw}"
    );
    let find = |name: &str| {
        rows(gw)
            .iter()
            .find(|g| g["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(find("WAN_GW")["delay_ms"], 0.9);
    assert_eq!(find("WAN_DHCP")["loss_percent"], 100.0);
    assert_eq!(find("WAN_GWv6")["monitored"], false);

    let table = call(client, "route_table", json!({"row_count": -1})).await;
    let table = expect_ok("route_table", &table);
    for route in sim.live().routes() {
        let on = s(route, "enabled") == "1";
        let listed = rows(table)
            .iter()
            .any(|r| s(r, "destination") == s(route, "network"));
        assert_eq!(listed, on, "{v:?}: {route}");
    }
    let v6 = call(client, "route_table", json!({"family": "ipv6"})).await;
    let v6 = expect_ok("route_table", &v6);
    assert!(rows(v6).iter().all(|r| r["family"] == "ipv6"));
    assert!(rows(v6).iter().any(|r| r["destination"] == "default"));
}

async fn vpn(client: &Client, v: Version) {
    let all = call(client, "vpn_status", json!({})).await;
    let all = expect_ok("vpn_status", &all);
    let wg = &all["wireguard"];
    assert_eq!(
        (wg["available"].as_bool(), wg["configured"].as_bool()),
        (Some(true), Some(true)),
        "{v:?}: {all}"
    );
    let peer = &wg["peers"][0];
    assert_eq!((s(peer, "name"), s(peer, "status")), ("laptop", "online"));
    assert_eq!(peer["handshake_age_s"], 45);
    assert!(peer["rx_bytes"].as_u64() > Some(0));
    assert_eq!(all["openvpn"]["configured"], false);
    assert!(all["openvpn"]["why"].is_string());
    assert_eq!(all["ipsec"]["configured"], false);

    let started = call(client, "service_start", json!({"module": "ipsec"})).await;
    expect_ok("service_start", &started);
    let ipsec = call(client, "vpn_status", json!({"kind": "ipsec"})).await;
    let ipsec = expect_ok("vpn_status", &ipsec);
    assert!(ipsec.get("wireguard").is_none());
    let tunnel = &ipsec["ipsec"]["tunnels"][0];
    assert_eq!(tunnel["connected"], true, "{v:?}: {ipsec}");
    assert_eq!(tunnel["children"][0]["state"], "INSTALLED");
    assert_eq!(tunnel["children"][0]["remote"], "10.20.0.0/16");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn troubleshooting_reads_on_26_1_and_26_7() {
    for v in VERSIONS {
        let sim = Simulator::start(SimConfig {
            version: v,
            ..SimConfig::default()
        })
        .await
        .expect("simulator starts");
        let (client, _log) = connect_stdio(&sim).await;
        log_and_states(&sim, &client, v).await;
        gateways_and_routes(&sim, &client, v).await;
        vpn(&client, v).await;
        close(client).await;
        sim.shutdown().await;
    }
}

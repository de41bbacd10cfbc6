//! Rows shaped like OPNsense 26.x search answers (see the real captures in
//! crates/opnsense-api/tests/corpus/), shared by the evaluator, pre-flight and audit tests,
//! and the captures themselves.
#![allow(dead_code, unreachable_pub)]

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use opnsense_change::pf::{InterfaceInfo, Network};
use serde_json::{Value, json};

/// `fields` laid over `defaults` (both JSON objects).
pub fn overlay(mut defaults: Value, fields: Value) -> Value {
    let Value::Object(fields) = fields else {
        panic!("fields must be an object")
    };
    defaults
        .as_object_mut()
        .expect("defaults are an object")
        .extend(fields);
    defaults
}

/// An MVC filter row: `fields` over `defaults`, with `sort_order`/`prio_group` as
/// FilterRuleField.php computes them (200000 floating, 400000 one interface; "%d.0%06d").
pub fn mvc_over(defaults: Value, sequence: u64, fields: Value) -> Value {
    let mut row = overlay(defaults, fields);
    let obj = row.as_object_mut().unwrap();
    let ifs = obj["interface"].as_str().unwrap_or("").to_owned();
    let floating = ifs.split(',').filter(|s| !s.is_empty()).count() != 1
        || obj["interfacenot"].as_str() == Some("1");
    let prio = if floating { 200_000 } else { 400_000 };
    obj.insert("prio_group".into(), json!(prio.to_string()));
    obj.insert("sort_order".into(), json!(format!("{prio}.0{sequence:06}")));
    row
}

/// An MVC search row with every field OPNsense 26.1 sends, defaults as the model stores them.
pub fn mvc(uuid: &str, sequence: u64, fields: Value) -> Value {
    mvc_over(
        json!({
            "uuid": uuid, "enabled": "1", "statetype": "keep", "%statetype": "keep state",
            "state-policy": "", "sequence": sequence.to_string(), "action": "pass", "%action": "Pass",
            "quick": "1", "interfacenot": "0", "interface": "lan", "%interface": "LAN",
            "direction": "in", "%direction": "In", "ipprotocol": "inet", "%ipprotocol": "IPv4",
            "protocol": "any", "icmptype": "", "icmp6type": "", "source_net": "any", "source_not": "0",
            "source_port": "", "destination_net": "any", "destination_not": "0",
            "destination_port": "", "divert-to": "", "gateway": "", "replyto": "",
            "disablereplyto": "0", "log": "0", "allowopts": "0", "nosync": "0", "nopfsync": "0",
            "statetimeout": "", "udp-first": "", "udp-multiple": "", "udp-single": "",
            "max-src-nodes": "", "max-src-states": "", "max-src-conn": "", "max": "",
            "max-src-conn-rate": "", "max-src-conn-rates": "", "overload": "", "adaptivestart": "",
            "adaptiveend": "", "prio": "", "set-prio": "", "set-prio-low": "", "tag": "", "tagged": "",
            "tcpflags1": "", "tcpflags2": "", "tcpflags_any": "0", "categories": "", "sched": "",
            "tos": "", "shaper1": "", "shaper2": "", "description": "", "category_colors": []
        }),
        sequence,
        fields,
    )
}

/// OPNsense's default deny row as `list_non_mvc_rules` lists it (26.7 capture).
pub fn default_deny() -> Value {
    json!({
        "log": true, "disablereplyto": 1, "ipprotocol": "inet46", "quick": false, "#priority": 1,
        "enabled": "1", "action": "block", "replyto": "",
        "description": "Default deny / state violation rule", "source_net": "", "source_port": "",
        "destination_net": "", "destination_port": "", "ref": "",
        "uuid": "02f4bab031b57d1e30553ce08e0ec131", "direction": "in", "%direction": "In",
        "%action": "Block", "%ipprotocol": "", "protocol": "", "%protocol": "",
        "sort_order": "000001.1000001", "legacy": true, "is_automatic": true, "category_colors": []
    })
}

/// OPNsense's anti-lockout row (filter.lib.inc:585-602: priority 5, on the primary interface,
/// shown with its description "LAN"), as `list_non_mvc_rules` would list it.
pub fn anti_lockout(port: u16, seq: u32) -> Value {
    json!({
        "direction": "in", "interface": "LAN", "statetype": "keep", "protocol": "tcp",
        "source_net": "", "source_port": "", "destination_net": "(self)",
        "destination_port": port.to_string(), "description": "anti-lockout rule",
        "ref": "system_advanced_firewall.php#noantilockout", "log": true, "disablereplyto": 1,
        "#priority": 5, "enabled": "1", "action": "pass", "replyto": "",
        "uuid": format!("5f0c1e2d3b4a59687766554433221{seq:03}"), "%direction": "In",
        "%action": "Pass", "ipprotocol": "", "%ipprotocol": "", "%protocol": "TCP",
        "sort_order": format!("000005.1{seq:06}"), "legacy": true, "is_automatic": true,
        "category_colors": []
    })
}

/// Decodes search rows.
pub fn decode<T: serde::de::DeserializeOwned>(rows: &[Value]) -> Vec<T> {
    rows.iter()
        .map(|r| serde_json::from_value(r.clone()).expect("row decodes"))
        .collect()
}

/// An IP address literal.
pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The test box: `lan` (`igb1`, `LAN`, at `lan`'s addresses), `wan` (`igb0`, `WAN`,
/// 203.0.113.2/24) and `opt1` (`igb2`, `DMZ`, 10.10.0.1/24); not yet complete.
pub fn lan_wan_dmz(lan: &[&str]) -> Network {
    Network::new()
        .with(
            InterfaceInfo::new("lan", lan)
                .device("igb1")
                .description("LAN"),
        )
        .with(
            InterfaceInfo::new("wan", &["203.0.113.2/24"])
                .device("igb0")
                .description("WAN"),
        )
        .with(
            InterfaceInfo::new("opt1", &["10.10.0.1/24"])
                .device("igb2")
                .description("DMZ"),
        )
}

/// Asserts that one of `lines` (an evaluation's notes or blind spots) contains `needle`.
#[track_caller]
pub fn assert_mentions(lines: &[String], needle: &str) {
    assert!(
        lines.iter().any(|l| l.contains(needle)),
        "none mentions {needle:?}: {lines:#?}"
    );
}

/// The SDK's test directory (`crates/opnsense-api/tests`): its captures and fixtures.
pub fn api_tests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../opnsense-api/tests")
}

/// The JSON captures of `corpus/<dir>` (sorted), then the SDK's firewall `fixtures`.
pub fn corpus_files(dir: &str, fixtures: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(api_tests().join("corpus").join(dir))
        .expect("corpus directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v.extend(
        fixtures
            .iter()
            .map(|f| api_tests().join("fixtures/firewall").join(f)),
    );
    assert!(!v.is_empty());
    v
}

/// The `rows` of the search answer saved at `path`.
pub fn corpus_rows(path: &Path) -> Vec<Value> {
    let body: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    body["rows"].as_array().expect("rows").clone()
}

//! `interfaces/overview/interfacesInfo` (OverviewController at 26.1.10 and 26.7.2), the
//! management address on the management interface, and the lockout check using exactly
//! that flow.

mod common;

use std::net::Ipv4Addr;

use common::{Harness, rows};
use opnsense_sim::{LockoutAction, SimConfig, Version};
use serde_json::{Value, json};

fn row<'a>(info: &'a Value, device: &str) -> &'a Value {
    info["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["device"] == device)
        .unwrap_or_else(|| panic!("no row for {device}"))
}

/// What a client does to learn the interface its connection arrives on: the assigned
/// interface whose IPv4 networks hold the address it connects to.
fn arriving_interface(info: &Value, addr: Ipv4Addr) -> Vec<String> {
    info["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["identifier"] != "")
        .filter(|r| {
            r["ipv4"].as_array().is_some_and(|list| {
                list.iter().any(|e| {
                    let (ip, bits) = e["ipaddr"].as_str().unwrap().split_once('/').unwrap();
                    let (ip, bits): (Ipv4Addr, u32) = (ip.parse().unwrap(), bits.parse().unwrap());
                    let mask = if bits == 0 {
                        0
                    } else {
                        u32::MAX << (32 - bits)
                    };
                    u32::from(ip) & mask == u32::from(addr) & mask
                })
            })
        })
        .map(|r| r["identifier"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn interfaces_info_rows() {
    let h = Harness::start().await;
    let info = h.get_ok("interfaces/overview/interfacesInfo").await;
    let devices: Vec<&str> = rows(&info)
        .iter()
        .map(|r| r["device"].as_str().unwrap())
        .collect();
    assert_eq!(devices.len(), 6, "pfsync0 is skipped: {devices:?}");
    assert!(!devices.contains(&"pfsync0"));
    assert_eq!(info["total"], 6);
    assert_eq!(info["current"], 1);

    let lan = row(&info, "igb1");
    assert_eq!(lan["identifier"], "lan");
    assert_eq!(lan["description"], "LAN");
    assert_eq!(lan["status"], "up");
    assert_eq!(lan["enabled"], true);
    assert_eq!(lan["link_type"], "static");
    assert_eq!(lan["addr4"], "192.168.1.1/24");
    assert_eq!(lan["addr6"], "2001:db8:1::1/64");
    assert_eq!(
        lan["ipv4"],
        json!([{"ipaddr": "192.168.1.1/24"}, {"ipaddr": "127.0.0.1/8"}]),
        "the management address is an extra address of lan"
    );
    assert_eq!(lan["ipv6"][0], json!({"ipaddr": "2001:db8:1::1/64"}));
    assert_eq!(lan["config"]["identifier"], "lan");
    assert_eq!(lan["config"]["if"], "igb1");
    assert_eq!(lan["vlan_tag"], Value::Null);
    assert_eq!(lan["gateways"], json!([]));
    assert!(
        lan["routes"]
            .as_array()
            .unwrap()
            .contains(&json!("127.0.0.0/8"))
    );
    assert!(lan.get("link_typev6").is_none(), "26.7 only");
    assert!(lan.get("statistics").is_none(), "details only");

    let wan = row(&info, "igb0");
    assert_eq!(wan["gateways"], json!(["203.0.113.1", "2001:db8:ffff::1"]));
    assert!(
        wan["routes"]
            .as_array()
            .unwrap()
            .contains(&json!("default"))
    );
    assert!(
        wan["routes"]
            .as_array()
            .unwrap()
            .contains(&json!("10.20.0.0/16")),
        "static routes via WAN gateways"
    );

    let lo = row(&info, "lo0");
    assert_eq!(lo["identifier"], "");
    assert_eq!(lo["description"], "Unassigned Interface");
    assert_eq!(lo["ipv4"], json!([]), "lan owns 127.0.0.0/8");
    assert!(lo.get("config").is_none());

    assert_eq!(arriving_interface(&info, Ipv4Addr::LOCALHOST), ["lan"]);
    assert_eq!(
        arriving_interface(&info, Ipv4Addr::new(10, 0, 10, 7)),
        ["opt1"]
    );

    let detailed = h.get_ok("interfaces/overview/interfacesInfo/1").await;
    assert!(row(&detailed, "igb1")["statistics"].is_object());
    let searched = h
        .post_ok(
            "interfaces/overview/interfacesInfo",
            json!({"searchPhrase": "DMZ"}),
        )
        .await;
    assert_eq!(searched["rows"].as_array().unwrap().len(), 1);
    assert_eq!(searched["rows"][0]["identifier"], "opt1");

    let cfg = h.get_ok("diagnostics/interface/getInterfaceConfig").await;
    assert_eq!(
        cfg["igb1"]["ipv4"][1],
        json!({"ipaddr": "127.0.0.1", "subnetbits": 8, "tunnel": false})
    );
    assert_eq!(cfg["lo0"]["ipv4"], json!([]));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn version_26_7_adds_link_typev6() {
    let h = Harness::at(Version::V26_7).await;
    let info = h.get_ok("interfaces/overview/interfacesInfo").await;
    assert_eq!(row(&info, "igb1")["link_typev6"], "static");
    assert_eq!(row(&info, "igb2")["link_typev6"], "none");
    h.sim.shutdown().await;
}

async fn lockout_with(h: &Harness, rule: Value) -> Option<LockoutAction> {
    let added = h
        .post_ok("firewall/filter/add_rule", json!({ "rule": rule }))
        .await;
    assert_eq!(added["result"], "saved", "{added}");
    h.post_ok("firewall/filter/apply", json!({})).await;
    let verdict = h.sim.lockout();
    let uuid = added["uuid"].as_str().unwrap();
    h.post_ok(&format!("firewall/filter/del_rule/{uuid}"), json!({}))
        .await;
    h.post_ok("firewall/filter/apply", json!({})).await;
    assert_eq!(h.sim.lockout(), None);
    verdict
}

#[tokio::test]
async fn the_lockout_evaluates_the_management_address_flow() {
    let h = Harness::with(SimConfig {
        lockout: true,
        management_address: "10.99.0.1/32".into(),
        ..SimConfig::default()
    })
    .await;
    let info = h.get_ok("interfaces/overview/interfacesInfo").await;
    assert_eq!(
        row(&info, "igb1")["ipv4"][1],
        json!({"ipaddr": "10.99.0.1/32"})
    );
    assert_eq!(
        row(&info, "lo0")["ipv4"],
        json!([{"ipaddr": "127.0.0.1", "subnetbits": 8, "tunnel": false}]),
        "unassigned: raw ifconfig entries"
    );
    let block = |dst: &str| json!({"action": "block", "interface": "lan", "protocol": "TCP", "destination_net": dst});
    assert_eq!(lockout_with(&h, block("127.0.0.0/8")).await, None);
    assert_eq!(
        lockout_with(&h, block("10.99.0.1")).await,
        Some(LockoutAction::Block)
    );
    assert_eq!(
        lockout_with(
            &h,
            json!({"action": "reject", "interface": "lan", "protocol": "TCP",
                "source_net": "10.99.0.0/24", "destination_net": "any", "destination_port": "https"})
        )
        .await,
        Some(LockoutAction::Reject)
    );
    assert_eq!(
        lockout_with(
            &h,
            json!({"action": "block", "interface": "lan", "protocol": "TCP",
                "source_net": "192.168.1.0/24", "destination_net": "any"})
        )
        .await,
        None,
        "another source"
    );
    assert_eq!(
        lockout_with(
            &h,
            json!({"action": "block", "interface": "wan", "protocol": "TCP", "destination_net": "any"})
        )
        .await,
        None,
        "another interface"
    );
    // An invalid management address is refused at start.
    assert!(
        opnsense_sim::Simulator::start(SimConfig {
            management_address: "not-an-ip".into(),
            ..SimConfig::default()
        })
        .await
        .is_err()
    );
    h.sim.shutdown().await;
}

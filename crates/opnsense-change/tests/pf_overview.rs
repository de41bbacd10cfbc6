//! `Network::from_overview` on `interfaces/overview/interfacesInfo` answers. No capture of that
//! endpoint is in the corpus; the shapes follow `OverviewController::parseIfInfo` at 26.1.11 and
//! 26.7.2 (rows with `identifier`, `device`, `description`, `enabled`, `ipv4`/`ipv6` lists of
//! `{"ipaddr": "a/bits"}`, `addr4`/`addr6`, `gateways`; unassigned devices with ifconfig's raw
//! `ipaddr` + `subnetbits`), plus the loose shapes PHP produces.

use std::net::IpAddr;

use opnsense_change::pf::{ArrivalBasis, Network};
use serde_json::json;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn reads_a_search_answer() {
    let answer = json!({
        "total": 4, "rowCount": 4, "current": 1,
        "rows": [
            {
                "device": "igb1", "identifier": "lan", "description": "LAN", "enabled": true,
                "status": "up", "link_type": "static", "addr4": "192.168.1.1/24", "addr6": "",
                "ipv4": [{"ipaddr": "192.168.1.1/24"}, {"ipaddr": "192.168.1.254/24", "vhid": "1", "status": "MASTER"}],
                "ipv6": [{"ipaddr": "fe80::1%igb1/64"}],
                "gateways": [], "vlan_tag": null, "routes": ["192.168.1.0/24"],
                "config": {"if": "igb1", "descr": "LAN", "enable": "1", "ipaddr": "192.168.1.1", "subnet": "24"}
            },
            {
                "device": "igb0", "identifier": "wan", "description": "WAN", "enabled": true,
                "addr4": "203.0.113.2/24", "ipv4": [{"ipaddr": "203.0.113.2/24"}],
                "gateways": ["WAN_GW"]
            },
            {
                "device": "igb2", "identifier": "opt1", "description": "", "enabled": false,
                "addr4": "10.10.0.1/24"
            },
            {
                "device": "lo0", "identifier": "", "description": "Unassigned Interface",
                "ipv4": [{"ipaddr": "127.0.0.1", "subnetbits": 8}],
                "ipv6": [{"ipaddr": "::1", "subnetbits": "128"}]
            }
        ]
    });
    let n = Network::from_overview(&answer);
    assert!(n.is_complete());
    let lan = n.interface("lan").unwrap();
    assert_eq!(lan.device.as_deref(), Some("igb1"));
    assert_eq!(
        lan.addresses.len(),
        3,
        "CARP VIP and link-local included: {:?}",
        lan.addresses
    );
    assert_eq!(lan.has_gateway, Some(false));
    assert_eq!(n.interface("wan").unwrap().has_gateway, Some(true));
    // An interface without a description is shown by its upper-cased key.
    let opt1 = n.interface("opt1").unwrap();
    assert!(!opt1.enabled);
    assert_eq!(opt1.shown_name(), "OPT1");
    assert_eq!(
        opt1.addresses.len(),
        1,
        "addr4 used when the lists are absent"
    );
    // (self) holds assigned and unassigned addresses; others are not the firewall's.
    assert_eq!(n.is_firewall_address(ip("192.168.1.254")), Some(true));
    assert_eq!(n.is_firewall_address(ip("127.0.0.1")), Some(true));
    assert_eq!(n.is_firewall_address(ip("192.168.1.2")), Some(false));
    // Arrival: by subnet; a disabled interface is no arrival interface.
    assert_eq!(
        n.arrival_interface(ip("192.168.1.50"), ip("192.168.1.1"))
            .0
            .as_deref(),
        Some("lan")
    );
    assert_eq!(
        n.arrival_interface(ip("10.10.0.9"), ip("203.0.113.2")),
        (Some("wan".to_owned()), ArrivalBasis::DestinationOwner)
    );
    assert_eq!(n.primary_interface(), Some("lan"));
}

#[test]
fn tolerates_loose_php_shapes() {
    // Rows as an object map, lists as object maps, numbers as strings, "1" for true.
    let answer = json!({
        "rows": {
            "0": {
                "identifier": "opt2", "device": "vlan0.10", "enabled": "1",
                "ipv4": {"0": {"ipaddr": "10.20.0.1", "subnetbits": "24"}},
                "gateways": {}
            },
            "1": {"identifier": "wan", "config": {"if": "igb0", "descr": "Uplink", "enable": 1}, "addr4": "198.51.100.2/30"},
            "2": "not a row",
            "3": {"identifier": "opt10", "ipv4": [{"ipaddr": "not an address"}, "10.30.0.1/24"]}
        }
    });
    let n = Network::from_overview(&answer);
    let opt2 = n.interface("opt2").unwrap();
    assert!(opt2.enabled);
    assert_eq!(opt2.addresses[0].to_string(), "10.20.0.1/24");
    assert_eq!(opt2.has_gateway, Some(false));
    let wan = n.interface("wan").unwrap();
    assert_eq!(wan.device.as_deref(), Some("igb0"));
    assert_eq!(wan.shown_name(), "Uplink");
    assert_eq!(n.interface("opt10").unwrap().addresses.len(), 1);
    // No lan: the primary interface is the first optN in natural order.
    assert_eq!(n.primary_interface(), Some("opt2"));
    // The rows alone (an array) read the same; garbage reads as nothing.
    let n = Network::from_overview(&json!([{"identifier": "lan", "addr4": "192.168.7.1/24"}]));
    assert!(n.interface("lan").is_some());
    let n = Network::from_overview(&json!("nope"));
    assert!(!n.is_complete());
    assert_eq!(n.interfaces().count(), 0);
}

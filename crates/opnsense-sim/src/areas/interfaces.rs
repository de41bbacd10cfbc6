//! `diagnostics/interface`: interface names, ifconfig details, ARP and NDP tables.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::IFACES;
use crate::reply::{Reply, Req};
use crate::server::{Route, Shared};
use crate::state::SimState;

/// Endpoints of `diagnostics/interface`.
pub(crate) fn route(action: &str) -> Option<Route> {
    match action {
        "getinterfacenames" => Route::new(names),
        "getinterfaceconfig" => Route::new(config),
        "getarp" => Route::new(arp),
        "getndp" => Route::new(ndp),
        _ => None,
    }
}

/// Device => description, sorted by description.
fn names(_: &Arc<Shared>, _: &mut SimState, _: &Req) -> Reply {
    let mut v: Vec<_> = IFACES.iter().collect();
    v.sort_by_key(|i| i.descr.to_lowercase());
    let map: Map<String, Value> = v
        .into_iter()
        .map(|i| (i.device.to_owned(), Value::String(i.descr.to_owned())))
        .collect();
    Reply::ok(Value::Object(map))
}

fn config(_: &Arc<Shared>, _: &mut SimState, _: &Req) -> Reply {
    let mut map = Map::new();
    for i in IFACES {
        let mut ipv6 = Vec::new();
        if let Some((addr, bits)) = i.ipv6 {
            ipv6.push(json!({"autoconf": false, "deprecated": false, "detached": false, "ipaddr": addr,
                "link-local": false, "pltime": "0", "tentative": false, "tunnel": false, "vltime": "0",
                "subnetbits": bits}));
        }
        let tail = i.mac.replace(':', "");
        ipv6.push(
            json!({"autoconf": false, "deprecated": false, "detached": false,
            "ipaddr": format!("fe80::f690:eaff:fe00:{}", &tail[8..]),
            "link-local": true, "pltime": "0", "tentative": false, "tunnel": false, "vltime": "0",
            "subnetbits": 64}),
        );
        map.insert(
            i.device.into(),
            json!({
                "flags": ["up", "broadcast", "running", "simplex", "multicast"],
                "capabilities": ["rxcsum", "txcsum", "vlan_mtu", "vlan_hwtagging"],
                "options": ["rxcsum", "txcsum", "vlan_mtu", "vlan_hwtagging"],
                "macaddr": i.mac,
                "ipv4": [{"ipaddr": i.ipv4, "subnetbits": i.bits, "tunnel": false}],
                "ipv6": ipv6,
                "supported_media": ["autoselect", "1000baseT full-duplex", "100baseTX full-duplex"],
                "is_physical": true,
                "device": i.device,
                "mtu": "1500",
                "macaddr_hw": i.mac,
                "media": "1000baseT <full-duplex>",
                "media_raw": "Ethernet autoselect (1000baseT <full-duplex>)",
                "status": "active",
                "nd6": {"flags": ["performnud", "auto_linklocal"]}
            }),
        );
    }
    map.insert("lo0".into(), json!({
        "flags": ["up", "loopback", "running", "multicast"], "capabilities": [],
        "options": ["rxcsum", "txcsum", "linkstate"], "macaddr": "00:00:00:00:00:00",
        "ipv4": [{"ipaddr": "127.0.0.1", "subnetbits": 8, "tunnel": false}],
        "ipv6": [{"autoconf": false, "deprecated": false, "detached": false, "ipaddr": "::1",
            "link-local": false, "pltime": "0", "tentative": false, "tunnel": false, "vltime": "0", "subnetbits": 128}],
        "supported_media": [], "is_physical": false, "device": "lo0", "mtu": "16384", "groups": ["lo"],
        "nd6": {"flags": ["performnud", "auto_linklocal"]}
    }));
    for dev in ["enc0", "pflog0", "pfsync0"] {
        map.insert(dev.into(), json!({
            "flags": ["up", "running"], "capabilities": [], "options": [], "macaddr": "00:00:00:00:00:00",
            "ipv4": [], "ipv6": [], "supported_media": [], "is_physical": false, "device": dev,
            "mtu": "1500", "groups": [dev.trim_end_matches('0')]
        }));
    }
    Reply::ok(Value::Object(map))
}

fn descr_of(device: &str) -> &'static str {
    IFACES
        .iter()
        .find(|i| i.device == device)
        .map_or("", |i| i.descr)
}

fn arp(_: &Arc<Shared>, st: &mut SimState, _: &Req) -> Reply {
    let mut rows = vec![
        json!({"mac": "f4:90:ea:00:aa:01", "ip": "192.168.1.1", "intf": "igb1",
        "expired": false, "expires": -1, "permanent": true, "type": "ethernet",
        "manufacturer": "Deciso B.V.", "hostname": "", "intf_description": "LAN"}),
    ];
    for (n, l) in st.leases.iter().take(8).enumerate() {
        let dev = l.get("if").and_then(Value::as_str).unwrap_or("igb1");
        rows.push(json!({"mac": l["hwaddr"], "ip": l["address"], "intf": dev, "expired": false,
            "expires": 1200 - 7 * i64::try_from(n).unwrap_or(0), "permanent": false, "type": "ethernet",
            "manufacturer": l["mac_info"], "hostname": l["hostname"], "intf_description": descr_of(dev)}));
    }
    rows.push(
        json!({"mac": "f4:90:ea:00:ff:01", "ip": "203.0.113.1", "intf": "igb0", "expired": false,
        "expires": 1100, "permanent": false, "type": "ethernet", "manufacturer": "", "hostname": "",
        "intf_description": "WAN"}),
    );
    Reply::ok(Value::Array(rows))
}

fn ndp(_: &Arc<Shared>, st: &mut SimState, _: &Req) -> Reply {
    let mut rows = vec![
        json!({"mac": "f4:90:ea:00:aa:01", "ip": "fe80::f690:eaff:fe00:aa01%igb1", "intf": "igb1",
            "manufacturer": "Deciso B.V.", "intf_description": "LAN"}),
        json!({"mac": "f4:90:ea:00:aa:01", "ip": "2001:db8:1::1", "intf": "igb1",
            "manufacturer": "Deciso B.V.", "intf_description": "LAN"}),
    ];
    for (n, l) in st.leases.iter().take(3).enumerate() {
        rows.push(
            json!({"mac": l["hwaddr"], "ip": format!("2001:db8:1::{:x}", 0x100 + n),
            "intf": "igb1", "manufacturer": l["mac_info"], "intf_description": "LAN"}),
        );
    }
    Reply::ok(Value::Array(rows))
}

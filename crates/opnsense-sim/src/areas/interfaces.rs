//! `diagnostics/interface` (interface names, ifconfig details, ARP and NDP tables) and
//! `interfaces/overview/interfacesInfo`.

use std::net::Ipv4Addr;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::IFACES;
use crate::Version;
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::{Route, Shared};
use crate::state::{Collection, SimState};
use crate::validate;

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

/// `interface list ifconfig` (configd): every device keyed by name. The management
/// address is an extra (alias) IPv4 address of the management interface; `lo0` gives up
/// its addresses inside the management network, so exactly one interface owns it.
pub(crate) fn ifconfig(shared: &Shared) -> Map<String, Value> {
    let flow = &shared.flow;
    let mgmt_entry =
        json!({"ipaddr": flow.address.to_string(), "subnetbits": flow.prefix, "tunnel": false});
    let mut map = Map::new();
    for i in IFACES {
        let mut ipv4 = vec![json!({"ipaddr": i.ipv4, "subnetbits": i.bits, "tunnel": false})];
        if i.key == flow.interface {
            ipv4.push(mgmt_entry.clone());
        }
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
                "ipv4": ipv4,
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
    let loopback = Ipv4Addr::LOCALHOST;
    let lo_v4: Vec<Value> = if validate::v4_in_subnet(loopback, flow.network(), flow.prefix) {
        Vec::new()
    } else {
        vec![json!({"ipaddr": "127.0.0.1", "subnetbits": 8, "tunnel": false})]
    };
    map.insert("lo0".into(), json!({
        "flags": ["up", "loopback", "running", "multicast"], "capabilities": [],
        "options": ["rxcsum", "txcsum", "linkstate"], "macaddr": "00:00:00:00:00:00",
        "ipv4": lo_v4,
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
    map
}

fn config(shared: &Arc<Shared>, _: &mut SimState, _: &Req) -> Reply {
    Reply::ok(Value::Object(ifconfig(shared)))
}

/// Endpoints of `interfaces/overview`.
pub(crate) fn overview_route(action: &str) -> Option<Route> {
    match action {
        "interfacesinfo" => Route::new(interfaces_info),
        _ => None,
    }
}

/// `interface routes list -n json`: the destinations routed out of each device.
fn routes_by_device(shared: &Shared, st: &SimState) -> Map<String, Value> {
    let mut routes: Vec<(String, String)> = vec![
        ("default".into(), "igb0".into()),
        ("default".into(), "igb0".into()),
    ];
    for i in IFACES {
        let net = validate::v4_network(i.ipv4, i.bits);
        routes.push((format!("{net}/{}", i.bits), i.device.into()));
        if let Some((v6, bits)) = i.ipv6 {
            routes.push((format!("{}/{bits}", v6_prefix(v6, bits)), i.device.into()));
        }
        if i.key == shared.flow.interface {
            routes.push((
                format!("{}/{}", shared.flow.network(), shared.flow.prefix),
                i.device.into(),
            ));
        }
    }
    for r in &st.live[Collection::Routes] {
        if r.get("disabled") == "1" || r.get("enabled") == "0" {
            continue;
        }
        let device = match r.get("gateway") {
            "Null4" | "Null6" => "lo0",
            _ => "igb0",
        };
        routes.push((r.get("network").to_owned(), device.to_owned()));
    }
    let mut by_device = Map::new();
    for (destination, device) in routes {
        if let Value::Array(list) = by_device
            .entry(device)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            list.push(Value::String(destination));
        }
    }
    by_device
}

/// The /64 (or other) prefix of an IPv6 address, as netstat prints it.
fn v6_prefix(addr: &str, bits: u8) -> String {
    let Ok(ip) = addr.parse::<std::net::Ipv6Addr>() else {
        return addr.to_owned();
    };
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(bits))
    };
    std::net::Ipv6Addr::from(u128::from(ip) & mask).to_string()
}

/// The config properties `parseIfInfo()` copies into `config` (all strings).
fn config_props(i: &super::Iface) -> Map<String, Value> {
    let mut props = Map::new();
    for (k, v) in [
        ("if", i.device.to_owned()),
        ("descr", i.descr.to_owned()),
        ("enable", "1".to_owned()),
        ("ipaddr", i.ipv4.to_owned()),
        ("subnet", i.bits.to_string()),
    ] {
        props.insert(k.into(), Value::String(v));
    }
    if let Some((v6, bits)) = i.ipv6 {
        props.insert("ipaddrv6".into(), Value::String(v6.to_owned()));
        props.insert("subnetv6".into(), Value::String(bits.to_string()));
    }
    props.insert("identifier".into(), Value::String(i.key.to_owned()));
    props
}

/// `OverviewController::interfacesInfoAction($details = false)` (26.1.10; 26.7.2 adds
/// `link_typev6`): `parseIfInfo()` rows through `searchRecordsetBase()`. Assigned
/// interfaces get their config, identifier, description, link type, primary addresses,
/// `ipv4`/`ipv6` as `[{"ipaddr": "a/b"}]` and gateways; unassigned devices keep the raw
/// ifconfig address lists; `pfsync0` is skipped.
fn interfaces_info(shared: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let detailed = req.param(0).is_some_and(|d| !validate::php_empty(d));
    let mut ifinfo = ifconfig(shared);
    let routes = routes_by_device(shared, st);
    let mut rows = Vec::new();
    for (device, details) in &mut ifinfo {
        if device == "pfsync0" {
            continue;
        }
        let Value::Object(tmp) = details else {
            continue;
        };
        if detailed {
            tmp.insert("statistics".into(), statistics(device));
        }
        if let Some(list) = routes.get(device.as_str()) {
            tmp.insert("routes".into(), list.clone());
        }
        let iface = IFACES.iter().find(|i| i.device == device);
        if let Some(i) = iface {
            tmp.insert("config".into(), Value::Object(config_props(i)));
        }
        let up = tmp
            .get("flags")
            .and_then(Value::as_array)
            .is_some_and(|f| f.iter().any(|x| x == "up"));
        let ifstatus = tmp
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let status = if !ifstatus.is_empty() && !matches!(ifstatus.as_str(), "active" | "running") {
            ifstatus
        } else if up {
            "up".to_owned()
        } else {
            "down".to_owned()
        };
        tmp.insert("status".into(), Value::String(status));
        let Some(i) = iface else {
            tmp.insert("identifier".into(), json!(""));
            tmp.insert("description".into(), json!("Unassigned Interface"));
            rows.push(tmp.clone());
            continue;
        };
        tmp.insert("identifier".into(), json!(i.key));
        tmp.insert("description".into(), json!(i.descr));
        tmp.insert("enabled".into(), json!(true));
        tmp.insert("link_type".into(), json!("static"));
        if req.version >= Version::V26_7 {
            let v6 = if i.ipv6.is_some() { "static" } else { "none" };
            tmp.insert("link_typev6".into(), json!(v6));
        }
        tmp.insert("addr4".into(), json!(format!("{}/{}", i.ipv4, i.bits)));
        let addr6 = i.ipv6.map_or_else(String::new, |(a, b)| format!("{a}/{b}"));
        tmp.insert("addr6".into(), json!(addr6));
        for proto in ["ipv4", "ipv6"] {
            let entries: Vec<Value> = tmp
                .remove(proto)
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|ip| {
                    let addr = ip.get("ipaddr")?.as_str()?;
                    let bits = ip.get("subnetbits")?;
                    (!addr.is_empty()).then(|| json!({"ipaddr": format!("{addr}/{bits}")}))
                })
                .collect();
            if !entries.is_empty() {
                tmp.insert(proto.into(), Value::Array(entries));
            }
        }
        tmp.insert("vlan_tag".into(), Value::Null);
        let gateways: Vec<&str> = if i.key == "wan" {
            vec!["203.0.113.1", "2001:db8:ffff::1"]
        } else {
            Vec::new()
        };
        tmp.insert("gateways".into(), json!(gateways));
        rows.push(tmp.clone());
    }
    let params = SearchParams::recordset(req);
    Reply::ok(search::recordset(rows, &params, ""))
}

/// `interface list stats` of one device (illustrative counters).
fn statistics(device: &str) -> Value {
    json!({
        "driver": device.trim_end_matches(char::is_numeric),
        "index": 1,
        "promiscuous listeners": 0,
        "send queue length": 0,
        "send queue max length": 50,
        "send queue drops": 0,
        "type": "Ethernet",
        "address length": 6,
        "header length": 14,
        "link state": 2,
        "vhid": 0,
        "datalen": 152,
        "mtu": 1500,
        "metric": 0,
        "line rate": "1000000000 bit/s",
        "packets received": 1_234_567,
        "input errors": 0,
        "packets transmitted": 987_654,
        "output errors": 0,
        "collisions": 0,
        "bytes received": 1_402_221_118,
        "bytes transmitted": 312_773_004,
        "multicasts received": 1024,
        "multicasts transmitted": 12,
        "input queue drops": 0,
        "packets for unknown protocol": 0,
        "HW offload capabilities": "0x0",
        "uptime at attach or stat reset": 86_400
    })
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

//! Troubleshooting reads: `diagnostics/firewall/log`, `diagnostics/firewall/query_states`,
//! `routes/gateway/status`, `diagnostics/interface/get_routes`. Seeded, plausible data in
//! OPNsense's exact shapes (opnsense/core 26.1.11 and 26.7.2, identical for these):
//!
//! - the log: `FirewallController.php:47-59` (GET only, else `null`: an empty body; `limit`
//!   default 1000, `digest` stops at that line) and `scripts/filter/read_log.py` (field layouts
//!   `:48-58`, metadata `:100-159`; an RFC 5424 timestamp keeps only what precedes `+`). The
//!   entries reference the live filter rules (`rid` = their uuid, `label` = their description),
//!   plus the default deny rule (a computed hash) and a port forward (`rid` 0, `rdr rule`);
//! - the states: `FirewallController.php:162-218` (POST only, else an empty page) and
//!   `scripts/filter/lib/states.py:115-248` (address/network clauses with an optional port, other
//!   words as text, `ruleid` against the label);
//! - gateways: `scripts/routes/gateway_status.php:38-79` and `dpinger.inc:311-380` (`%0.1f ms`,
//!   `%0.1f %%`, `~` when not monitored); WAN_GW is online, WAN_DHCP is down, WAN_GWv6 is not
//!   monitored;
//! - routes: `scripts/routes/show_routes.py` over `netstat -rWn` (FreeBSD 14 columns, lower
//!   case) with `intf_description` and `id` (`InterfaceController.php:160-180`), from the
//!   interfaces, the gateways and the live static routes.

use std::net::IpAddr;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{GATEWAYS, IFACES, iface, unix_now};
use crate::reply::{Reply, Req};
use crate::server::{Route, Shared};
use crate::state::{Collection, Record, SimState};
use crate::validate::{parse_cidr, parse_ip};

/// Endpoints of `diagnostics/firewall`.
pub(crate) fn firewall_route(action: &str) -> Option<Route> {
    match action {
        "log" => Route::new(log),
        "querystates" => Route::new(query_states),
        _ => None,
    }
}

/// `routes/gateway/status`.
pub(crate) fn gateway_route(action: &str) -> Option<Route> {
    match action {
        "status" => Route::new(gateway_status),
        _ => None,
    }
}

/// `diagnostics/interface/get_routes` (the rest of the controller is in `interfaces.rs`).
pub(crate) fn is_routes_action(action: &str) -> bool {
    action == "getroutes"
}

/// `diagnostics/interface/get_routes`.
pub(crate) fn routes_route() -> Option<Route> {
    Route::new(routes)
}

/// The label OPNsense computes for its default deny rule (`Util::calcRuleHash`); fixed here.
pub(crate) const DEFAULT_DENY_RID: &str = "02f4bab031b57d1e30553ce08e0ec131";

/// 32 hex digits derived from `s` (stands in for the md5 `__digest__` of a log line).
fn digest(s: &str) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x8422_2325_cbf2_9ce4;
    for byte in s.bytes() {
        a = (a ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        b = (b ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3 ^ 0x5bd1);
    }
    format!("{a:016x}{b:016x}")
}

/// `YYYY-MM-DDTHH:MM:SS` (UTC) of a Unix time: what `read_log.py` keeps of an RFC 5424
/// timestamp with a `+00:00` offset.
fn timestamp(secs: i64) -> String {
    super::utc_datetime(secs, 'T')
}

/// A request value as PHP's string cast sees it (lists joined with spaces).
fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "1" } else { "" }.to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(" "),
        Value::Object(_) => v.to_string(),
    }
}

/// One packet worth a log line.
#[derive(Clone, Copy)]
struct Packet<'a> {
    rid: &'a str,
    label: &'a str,
    device: &'a str,
    action: &'a str,
    dir: &'a str,
    proto: &'a str,
    src: &'a str,
    dst: &'a str,
    sport: u16,
    dport: u16,
}

const FIELDS_GENERAL: &[&str] = &[
    "rulenr",
    "subrulenr",
    "anchorname",
    "rid",
    "interface",
    "reason",
    "action",
    "dir",
    "ipversion",
];
const FIELDS_V4: &[&str] = &[
    "tos",
    "ecn",
    "ttl",
    "id",
    "offset",
    "ipflags",
    "protonum",
    "protoname",
    "length",
    "src",
    "dst",
];
const FIELDS_V6: &[&str] = &[
    "class",
    "flow",
    "hoplimit",
    "protoname",
    "protonum",
    "length",
    "src",
    "dst",
];
const FIELDS_UDP: &[&str] = &["srcport", "dstport", "datalen"];
const FIELDS_TCP: &[&str] = &[
    "srcport", "dstport", "datalen", "tcpflags", "seq", "ack", "urp", "tcpopts",
];

/// A log entry as `read_log.py` builds it (every key of the layout, in order).
fn entry(n: usize, rulenr: usize, p: &Packet<'_>, when: i64) -> Value {
    let v6 = p.src.contains(':');
    let (protonum, l4): (&str, &[&str]) = match p.proto {
        "tcp" => ("6", FIELDS_TCP),
        "udp" => ("17", FIELDS_UDP),
        "icmp" => ("1", &[]),
        _ => ("58", &[]),
    };
    let mut values: Map<String, Value> = Map::new();
    let mut spec: Vec<&str> = FIELDS_GENERAL.to_vec();
    spec.extend_from_slice(if v6 { FIELDS_V6 } else { FIELDS_V4 });
    spec.extend_from_slice(l4);
    let length = if p.proto == "tcp" { "60" } else { "76" };
    for key in &spec {
        let v = match *key {
            "rulenr" => rulenr.to_string(),
            "rid" => p.rid.to_owned(),
            "interface" => p.device.to_owned(),
            "reason" => "match".to_owned(),
            "action" => p.action.to_owned(),
            "dir" => p.dir.to_owned(),
            "ipversion" => if v6 { "6" } else { "4" }.to_owned(),
            "tos" => "0x0".to_owned(),
            "class" => "0x00".to_owned(),
            "flow" => "0x00000".to_owned(),
            "ttl" | "hoplimit" => "64".to_owned(),
            "id" => (10_000 + n * 37).to_string(),
            "offset" => "0".to_owned(),
            "ipflags" => "DF".to_owned(),
            "protonum" => protonum.to_owned(),
            "protoname" => p.proto.to_owned(),
            "length" => length.to_owned(),
            "src" => p.src.to_owned(),
            "dst" => p.dst.to_owned(),
            "srcport" => p.sport.to_string(),
            "dstport" => p.dport.to_string(),
            "datalen" => if p.proto == "tcp" { "0" } else { "48" }.to_owned(),
            "tcpflags" => "S".to_owned(),
            "seq" => (1_000_000_007_u64 * (n as u64 + 1) % 4_294_967_291).to_string(),
            "urp" => "64240".to_owned(),
            "tcpopts" => "mss;sackOK;TS;nop;wscale".to_owned(),
            _ => String::new(),
        };
        values.insert((*key).to_owned(), Value::String(v));
    }
    // Not `when`: the log's times follow the clock, and a line must keep its digest from one
    // read to the next (a `digest` read a second later still finds it).
    let line = format!("{n} {} {} {}", p.rid, p.src, p.dst);
    values.insert("__timestamp__".into(), Value::String(timestamp(when)));
    values.insert("__host__".into(), json!("OPNsense.localdomain"));
    values.insert("__digest__".into(), Value::String(digest(&line)));
    values.insert("__spec__".into(), json!(spec));
    values.insert("label".into(), Value::String(p.label.to_owned()));
    Value::Object(values)
}

/// The device of an interface key (`lan` => `igb1`); floating rules log on WAN.
fn device_of(key: &str) -> &'static str {
    iface(key).map_or("igb0", |i| i.device)
}

/// The packets each enabled live rule accounts for (newest first), then the automatic ones.
fn packets(rules: &[Record]) -> Vec<(String, String, Packet<'static>)> {
    let mut out = Vec::new();
    for r in rules.iter().filter(|r| r.get("enabled") != "0") {
        let key = r.list("interface").first().copied().unwrap_or("wan");
        let device = device_of(key);
        let action = if r.get("action").is_empty() {
            "pass"
        } else {
            r.get("action")
        };
        let action: &'static str = match action {
            "pass" => "pass",
            _ => "block",
        };
        let tcp = matches!(r.get("protocol"), "TCP" | "any" | "");
        let (proto, dport) = match r.get("destination_port") {
            "https" => ("tcp", 443),
            "ssh" => ("tcp", 22),
            "domain" => ("udp", 53),
            "ntp" => ("udp", 123),
            "web_ports" => ("tcp", 80),
            p => (
                if tcp { "tcp" } else { "udp" },
                p.parse::<u16>().unwrap_or(443),
            ),
        };
        let (src, dst): (&'static str, &'static str) = match key {
            "lan" if r.get("ipprotocol") == "inet6" => ("2001:db8:1::10", "2001:db8:ffff::80"),
            "lan" => ("192.168.1.10", "10.0.10.25"),
            "opt1" if action == "block" => ("10.0.10.25", "192.168.1.10"),
            "opt1" => ("10.0.10.25", "10.0.10.1"),
            _ if action == "block" => ("192.0.2.66", "203.0.113.2"),
            _ => ("198.51.100.7", "203.0.113.2"),
        };
        let proto = if r.get("protocol") == "ICMP" {
            "icmp"
        } else {
            proto
        };
        out.push((
            r.uuid.clone(),
            r.get("description").to_owned(),
            Packet {
                rid: "",
                label: "",
                device,
                action,
                dir: if r.get("direction") == "out" {
                    "out"
                } else {
                    "in"
                },
                proto,
                src,
                dst,
                sport: 51_000,
                dport,
            },
        ));
    }
    out.push((
        DEFAULT_DENY_RID.to_owned(),
        "Default deny / state violation rule".to_owned(),
        Packet {
            rid: "",
            label: "",
            device: "igb0",
            action: "block",
            dir: "in",
            proto: "tcp",
            src: "198.51.100.200",
            dst: "203.0.113.2",
            sport: 40_112,
            dport: 23,
        },
    ));
    out.push((
        "0".to_owned(),
        "rdr rule".to_owned(),
        Packet {
            rid: "",
            label: "",
            device: "igb0",
            action: "rdr",
            dir: "in",
            proto: "tcp",
            src: "198.51.100.7",
            dst: "203.0.113.2",
            sport: 52_000,
            dport: 443,
        },
    ));
    out
}

/// Lines in the simulated log.
const LOG_LINES: usize = 60;

/// The whole simulated log, newest first.
fn log_entries(st: &SimState) -> Vec<Value> {
    let rules = &st.live[Collection::FilterRules];
    let sources = packets(rules);
    if sources.is_empty() {
        return Vec::new();
    }
    // Whole seconds: the log's clock.
    #[allow(clippy::cast_possible_truncation)]
    let now = unix_now() as i64;
    (0..LOG_LINES)
        .map(|n| {
            let (rid, label, p) = &sources[n % sources.len()];
            let p = Packet {
                rid: rid.as_str(),
                label: label.as_str(),
                sport: p.sport.wrapping_add(u16::try_from(n).unwrap_or(0)),
                ..*p
            };
            entry(
                n,
                40 + n % sources.len(),
                &p,
                now - 7 * i64::try_from(n).unwrap_or(0),
            )
        })
        .collect()
}

fn log(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_get {
        // The controller returns null: HTTP 200 with an empty body.
        return Reply::Raw {
            status: 200,
            content_type: "text/html; charset=UTF-8",
            headers: Vec::new(),
            body: Vec::new(),
        };
    }
    let text = |name: &str| {
        req.get_any(name)
            .map(|v| text(&v))
            .filter(|s| !s.is_empty() && s != "0")
    };
    let limit = text("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(1000);
    let digest = text("digest");
    let mut out = Vec::new();
    for e in log_entries(st) {
        let last = digest
            .as_deref()
            .is_some_and(|d| e.get("__digest__").and_then(Value::as_str) == Some(d));
        out.push(e);
        if out.len() >= limit || last {
            break;
        }
    }
    Reply::ok(Value::Array(out))
}

/// One seeded state: (iface, proto, src, sport, dst, dport, direction, state, rule index).
type StateSeed = (
    &'static str,
    &'static str,
    &'static str,
    u16,
    &'static str,
    u16,
    &'static str,
    &'static str,
    Option<&'static str>,
);

/// The states the simulated box tracks; the last field names the rule (by description).
const STATES: &[StateSeed] = &[
    (
        "all",
        "tcp",
        "192.168.1.10",
        51_514,
        "10.0.10.25",
        443,
        "in",
        "ESTABLISHED:ESTABLISHED",
        Some("Allow LAN to web servers"),
    ),
    (
        "all",
        "tcp",
        "192.168.1.10",
        51_514,
        "10.0.10.25",
        443,
        "out",
        "ESTABLISHED:ESTABLISHED",
        None,
    ),
    (
        "all",
        "tcp",
        "192.168.1.20",
        50_022,
        "192.168.1.1",
        22,
        "in",
        "ESTABLISHED:ESTABLISHED",
        Some("Admin SSH to firewall"),
    ),
    (
        "all",
        "udp",
        "10.0.10.25",
        33_533,
        "10.0.10.1",
        53,
        "in",
        "MULTIPLE:SINGLE",
        Some("Allow DMZ DNS to firewall"),
    ),
    (
        "all",
        "tcp",
        "198.51.100.7",
        52_000,
        "10.0.10.25",
        443,
        "in",
        "ESTABLISHED:ESTABLISHED",
        Some("Allow HTTPS to web servers"),
    ),
    (
        "all",
        "udp",
        "203.0.113.2",
        123,
        "192.0.2.123",
        123,
        "out",
        "MULTIPLE:MULTIPLE",
        Some("Allow NTP out (floating)"),
    ),
    (
        "all",
        "tcp",
        "2001:db8:1::10",
        49_200,
        "2001:db8:ffff::80",
        443,
        "in",
        "FIN_WAIT_2:FIN_WAIT_2",
        Some("Default allow LAN IPv6 to any rule"),
    ),
    (
        "all",
        "icmp",
        "198.51.100.9",
        0,
        "203.0.113.2",
        0,
        "in",
        "0:0",
        Some("Allow ping to WAN address"),
    ),
];

/// A state row as `query_states()` builds it, plus `interface` (`FirewallController.php:202`).
fn state_row(n: usize, s: &StateSeed, rules: &[Record]) -> Value {
    let (iface_, proto, src, sport, dst, dport, dir, state, rule) = *s;
    let rule = rule.and_then(|d| {
        rules
            .iter()
            .position(|r| r.get("description") == d && r.get("enabled") != "0")
            .map(|i| (i, &rules[i]))
    });
    let v6 = src.contains(':');
    let port = |p: u16| {
        if proto == "icmp" {
            Value::String(format!("{}", 20_000 + n))
        } else {
            Value::String(p.to_string())
        }
    };
    let (label, descr, rulenr) = match rule {
        Some((i, r)) => (r.uuid.clone(), r.get("description").to_owned(), 60 + i),
        None => (
            "0ba5c7fa9c6ee16f16eae087ee5bdb03".to_owned(),
            "let out anything from firewall host itself".to_owned(),
            239,
        ),
    };
    let pkts = 10 + 17 * n as u64;
    json!({
        "label": label,
        "descr": descr,
        "nat_addr": null,
        "nat_port": null,
        "gateway": null,
        "iface": iface_,
        "proto": proto,
        "ipproto": if v6 { "ipv6" } else { "ipv4" },
        "flags": [],
        "direction": dir,
        "dst_addr": dst,
        "dst_port": port(dport),
        "src_addr": src,
        "src_port": port(sport),
        "state": state,
        "age": format!("00:{:02}:{:02}", 3 + n, (n * 13) % 60),
        "expires": "23:59:55",
        "pkts": [pkts, pkts - 3],
        "bytes": [pkts * 90, (pkts - 3) * 1200],
        "rule": rulenr.to_string(),
        "id": format!("{:08x}00000000/5f3c1a2b", 0x6a00_0000_u32 + u32::try_from(n).unwrap_or(0)),
        "interface": iface_,
    })
}

/// Whether `addr` lies in `net/bits` (both families).
fn in_net(addr: &str, net: IpAddr, bits: u8) -> bool {
    let Some(ip) = parse_ip(addr) else {
        return false;
    };
    let mask = |width: u8| -> u128 {
        if bits == 0 {
            0
        } else {
            (u128::MAX << (128 - u32::from(bits))) >> (128 - u32::from(width))
        }
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let m = mask(32);
            u128::from(u32::from(n)) & m == u128::from(u32::from(a)) & m
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let m = mask(128);
            u128::from(n) & m == u128::from(a) & m
        }
        _ => false,
    }
}

/// One word of `searchPhrase` as `split_filter_clauses()` reads it.
enum Clause {
    Net(IpAddr, u8, Option<String>),
    Text(String),
}

fn clause(word: &str) -> Clause {
    let (addr, port) = if let Some(rest) = word.strip_prefix('[')
        && rest.matches(']').count() == 1
    {
        let (a, after) = rest.split_once(']').unwrap_or((rest, ""));
        let port = (after.matches(':').count() == 1)
            .then(|| after.split_once(':').map(|(_, p)| p.to_owned()))
            .flatten();
        (a.to_owned(), port)
    } else if word.matches(':').count() == 1 {
        let (a, p) = word.split_once(':').unwrap_or((word, ""));
        (a.to_owned(), Some(p.to_owned()))
    } else {
        (word.to_owned(), None)
    };
    let net = parse_ip(&addr)
        .map(|ip| (ip, if ip.is_ipv4() { 32 } else { 128 }))
        .or_else(|| parse_cidr(&addr));
    match net {
        Some((ip, bits)) => Clause::Net(ip, bits, port),
        None => Clause::Text(word.to_owned()),
    }
}

fn state_matches(row: &Value, clauses: &[Clause]) -> bool {
    let s = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or("");
    clauses.iter().all(|c| match c {
        Clause::Net(net, bits, port) => [
            ("src_addr", "src_port"),
            ("dst_addr", "dst_port"),
            ("nat_addr", "nat_port"),
        ]
        .iter()
        .any(|(a, p)| in_net(s(a), *net, *bits) && port.as_deref().is_none_or(|want| s(p) == want)),
        Clause::Text(t) => {
            let line: Vec<String> = row
                .as_object()
                .map(|m| m.values().filter(|v| !v.is_null()).map(text).collect())
                .unwrap_or_default();
            line.join(" ").contains(t.as_str())
        }
    })
}

fn query_states(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"rows": [], "rowCount": 0, "total": 0, "current": 0}));
    }
    let int = |name: &str, default: i64| {
        req.body
            .get(name)
            .map(text)
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or(default)
    };
    let per_page = int("rowCount", 9999);
    let current = int("current", 1);
    let phrase = req.body.get("searchPhrase").map(text).unwrap_or_default();
    let rule = req.body.get("ruleid").map(text).unwrap_or_default();
    let clauses: Vec<Clause> = phrase.split_whitespace().map(clause).collect();
    let rules = &st.live[Collection::FilterRules];
    let mut rows: Vec<Value> = STATES
        .iter()
        .enumerate()
        .map(|(n, s)| state_row(n, s, rules))
        .filter(|r| {
            rule.is_empty()
                || r.get("label")
                    .and_then(Value::as_str)
                    .is_some_and(|l| l.to_lowercase().contains(&rule))
        })
        .filter(|r| state_matches(r, &clauses))
        .collect();
    let total = rows.len();
    let offset = usize::try_from(
        current
            .saturating_sub(1)
            .max(0)
            .saturating_mul(per_page.max(0)),
    )
    .unwrap_or(usize::MAX);
    rows = rows.into_iter().skip(offset).collect();
    if let Ok(n) = usize::try_from(per_page) {
        rows.truncate(n);
    }
    Reply::ok(json!({
        "rows": rows,
        "rowCount": rows.len(),
        "total": total,
        "current": current,
    }))
}

fn gateway_status(_: &Arc<Shared>, _: &mut SimState, _: &Req) -> Reply {
    let mut items = Vec::new();
    for g in GATEWAYS.iter().filter(|g| !g.name.starts_with("Null")) {
        let item = match g.name {
            "WAN_GW" => json!({"name": g.name, "address": g.address, "status": "none",
                "loss": "0.0 %", "delay": "0.9 ms", "stddev": "0.2 ms", "monitor": g.address,
                "status_translated": "Online"}),
            "WAN_DHCP" => json!({"name": g.name, "address": g.address, "status": "down",
                "loss": "100.0 %", "delay": "0.0 ms", "stddev": "0.0 ms", "monitor": g.address,
                "status_translated": "Offline"}),
            _ => json!({"name": g.name, "address": g.address, "status": "none",
                "status_translated": "Online", "loss": "~", "stddev": "~", "delay": "~",
                "monitor": "~"}),
        };
        items.push(item);
    }
    Reply::ok(json!({"items": items, "status": "ok"}))
}

/// The description of a device (`InterfaceController::getInterfaceNames`), or empty.
fn descr(device: &str) -> &'static str {
    IFACES
        .iter()
        .find(|i| i.device == device)
        .map_or("", |i| i.descr)
}

fn route_row(
    proto: &str,
    destination: &str,
    gateway: &str,
    flags: &str,
    mtu: &str,
    netif: &str,
) -> Value {
    json!({
        "proto": proto,
        "destination": destination,
        "gateway": gateway,
        "flags": flags,
        "nhop#": "0",
        "mtu": mtu,
        "netif": netif,
        "expire": "",
        "intf_description": descr(netif),
        "id": format!("{destination},{gateway}"),
    })
}

/// The network address of `addr/bits` (IPv4 only; IPv6 prefixes here are /64 of `::1` hosts).
fn network_of(addr: &str, bits: u8) -> String {
    match parse_ip(addr) {
        Some(IpAddr::V4(a)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            format!("{}/{bits}", std::net::Ipv4Addr::from(u32::from(a) & mask))
        }
        Some(IpAddr::V6(a)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            format!("{}/{bits}", std::net::Ipv6Addr::from(u128::from(a) & mask))
        }
        None => addr.to_owned(),
    }
}

fn routes(_: &Arc<Shared>, st: &mut SimState, _: &Req) -> Reply {
    let mut v4 = vec![route_row(
        "ipv4",
        "default",
        "203.0.113.1",
        "UGS",
        "1500",
        "igb0",
    )];
    let mut v6 = vec![route_row(
        "ipv6",
        "default",
        "2001:db8:ffff::1",
        "UGS",
        "1500",
        "igb0",
    )];
    v4.push(route_row(
        "ipv4",
        "127.0.0.1",
        "link#4",
        "UH",
        "16384",
        "lo0",
    ));
    v6.push(route_row("ipv6", "::1", "link#4", "UHS", "16384", "lo0"));
    for (n, i) in IFACES.iter().enumerate() {
        let link = format!("link#{}", n + 1);
        v4.push(route_row(
            "ipv4",
            &network_of(i.ipv4, i.bits),
            &link,
            "U",
            "1500",
            i.device,
        ));
        v4.push(route_row("ipv4", i.ipv4, &link, "UHS", "16384", "lo0"));
        if let Some((addr, bits)) = i.ipv6 {
            v6.push(route_row(
                "ipv6",
                &network_of(addr, bits),
                &link,
                "U",
                "1500",
                i.device,
            ));
            v6.push(route_row("ipv6", addr, &link, "UHS", "16384", "lo0"));
        }
        v6.push(route_row(
            "ipv6",
            &format!("fe80::%{}/64", i.device),
            &link,
            "U",
            "1500",
            i.device,
        ));
    }
    for r in &st.live[Collection::Routes] {
        let enabled =
            r.get("enabled") == "1" || (r.get("enabled").is_empty() && r.get("disabled") != "1");
        let Some(gw) = super::gateway(r.get("gateway")) else {
            continue;
        };
        if !enabled {
            continue;
        }
        let (netif, flags) = match gw.name {
            "Null4" | "Null6" => ("lo0", "UGSB"),
            _ => ("igb0", "UGS"),
        };
        let row = route_row(
            if r.get("network").contains(':') {
                "ipv6"
            } else {
                "ipv4"
            },
            r.get("network"),
            gw.address,
            flags,
            "1500",
            netif,
        );
        if r.get("network").contains(':') {
            v6.push(row);
        } else {
            v4.push(row);
        }
    }
    v4.extend(v6);
    Reply::ok(Value::Array(v4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_civil_utc() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00");
        assert_eq!(timestamp(1_782_651_147), "2026-06-28T12:52:27");
        assert_eq!(timestamp(951_782_400), "2000-02-29T00:00:00");
    }

    #[test]
    fn state_clauses_read_like_opnsense() {
        assert!(matches!(clause("10.0.0.0/24:443"), Clause::Net(_, 24, Some(p)) if p == "443"));
        assert!(matches!(clause("[2001:db8::/32]:443"), Clause::Net(_, 32, Some(p)) if p == "443"));
        assert!(matches!(clause("2001:db8::1"), Clause::Net(_, 128, None)));
        assert!(matches!(clause("[10.0.0.1]é:80"), Clause::Net(_, 32, Some(p)) if p == "80"));
        assert!(matches!(clause("ESTABLISHED"), Clause::Text(_)));
        assert!(in_net("10.0.0.9", "10.0.0.0".parse().expect("ip"), 24));
        assert!(!in_net("10.0.1.9", "10.0.0.0".parse().expect("ip"), 24));
        assert!(!in_net("2001:db8::1", "0.0.0.0".parse().expect("ip"), 0));
    }
}

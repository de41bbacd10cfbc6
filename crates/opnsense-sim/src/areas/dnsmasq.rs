//! `dnsmasq/*`: the hosts grid (DHCP reservations and DNS host overrides, applied by
//! `dnsmasq/service/reconfigure`), the leases search and the model `settings/get` with its
//! DHCP ranges. Shapes and rules from opnsense/core 26.1.11 / 26.7.2 (no difference from
//! 26.1.9 on for these): `controllers/OPNsense/Dnsmasq/Api/SettingsController.php`,
//! `LeasesController.php`, `models/OPNsense/Dnsmasq/Dnsmasq.xml` (hosts lines 104-146,
//! dhcp_ranges 194-271) and `Dnsmasq.php::performValidation()` (hosts lines 59-159).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{IFACES, interface_options};
use crate::crud::{Actions, AreaSpec};
use crate::fields::{
    self, FieldSpec, Input, Opt, int, keys_as_opts, masked, opt_boolean, opts, rendered, select,
    text,
};
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::{Route, Shared};
use crate::state::{Collection, Config, Record, SimState, split_list};
use crate::validate::{self, Validations};

/// The uuid of the seeded DHCP range (ranges are not writable in the simulator).
pub(crate) const RANGE_UUID: &str = "6a1f3c2e-9d4b-4e7a-8c5f-2b1d0e9f8a7c";

fn no_options(_: &Config) -> Vec<Opt> {
    Vec::new()
}

/// An `AsList` field in a `get`: `{entry: {value: entry, selected: 1}}` for every entry of
/// the comma-separated value, an empty value included (`BaseSetField::getNodeData()`).
fn as_list(value: &str) -> Value {
    let mut map = Map::new();
    for entry in value.split(',') {
        map.insert(entry.into(), json!({"value": entry, "selected": 1}));
    }
    Value::Object(map)
}

fn render_ip(_: &Config, r: &Record) -> Value {
    as_list(r.get("ip"))
}
fn render_cnames(_: &Config, r: &Record) -> Value {
    as_list(r.get("cnames"))
}
fn render_hwaddr(_: &Config, r: &Record) -> Value {
    as_list(r.get("hwaddr"))
}
fn render_aliases(_: &Config, r: &Record) -> Value {
    as_list(r.get("aliases"))
}

/// `client_id` mask `/^(?:\*|(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+))$/`.
fn is_client_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    s == "*" || (parts.len() >= 2 && parts.iter().all(|p| validate::is_hex_pair(p)))
}

/// Host fields in model order (`Dnsmasq.xml` lines 104-146).
pub(crate) static HOST_FIELDS: &[FieldSpec] = &[
    text("host").input(Input::Trim),
    text("domain").input(Input::Trim),
    opt_boolean("local"),
    rendered("ip", render_ip),
    rendered("cnames", render_cnames),
    masked("client_id", is_client_id)
        .msg("Value must be a colon-separated hexadecimal sequence (e.g., 01:02:f3) or \"*\"."),
    rendered("hwaddr", render_hwaddr),
    int("lease_time", i64::MIN, i64::MAX),
    opt_boolean("ignore"),
    select("set_tag", no_options, Some("None")),
    text("descr"),
    text("comments"),
    rendered("aliases", render_aliases),
];

/// Dnsmasq's HostnameField message (`FieldTypes/HostnameField.php`).
const HOSTNAME_MSG: &str = "Labels must be 1–63 characters, start with a letter or digit, and may contain only letters, digits, '-' or '_'. ";

/// `/^(?![_-])[A-Za-z0-9_-]{1,63}$/`.
fn is_label(l: &str) -> bool {
    (1..=63).contains(&l.len())
        && !l.starts_with(['_', '-'])
        && l.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Dnsmasq's HostnameField callback for one value: `None` when valid, else its message.
fn hostname_error(item: &str, is_domain: bool, wildcard: bool) -> Option<&'static str> {
    if item.is_empty() {
        return None;
    }
    if item == "*" {
        return (!wildcard).then_some("Wildcards are not allowed.");
    }
    if is_domain && item.len() > 255 {
        return Some("All labels combined may not exceed 255 characters.");
    }
    let ok = if is_domain {
        item.split('.').all(is_label)
    } else {
        is_label(item)
    };
    (!ok).then_some(HOSTNAME_MSG)
}

/// The first error over the entries of an `AsList` HostnameField.
fn list_hostname_error(value: &str, is_domain: bool) -> Option<&'static str> {
    value
        .split(',')
        .find_map(|item| hostname_error(item, is_domain, false))
}

fn is_dhcp(r: &Record) -> bool {
    !validate::php_empty(r.get("hwaddr")) || !validate::php_empty(r.get("client_id"))
}

/// How often `value` stands in `own` (this host's list) and in the `field` lists of `others`.
fn times_listed<'r>(
    value: &str,
    own: &[&str],
    others: impl Iterator<Item = &'r Record>,
    field: &str,
) -> usize {
    others
        .flat_map(|o| split_list(o.get(field)))
        .filter(|x| *x == value)
        .count()
        + own.iter().filter(|x| **x == value).count()
}

/// Field validators of `Dnsmasq.xml` and the host part of `Dnsmasq::performValidation()`.
fn validate_host(cfg: &Config, rec: &Record, _: &Req, v: &mut Validations) {
    let host = rec.get("host");
    if let Some(msg) = hostname_error(host, false, true) {
        v.add("host", msg);
    }
    if let Some(msg) = hostname_error(rec.get("domain"), true, false) {
        v.add("domain", msg);
    }
    // NetworkField, AsList, no netmask: every entry an address (`any` is the wildcard).
    let ip = rec.get("ip");
    if !ip.is_empty()
        && ip
            .split(',')
            .any(|a| a != "any" && !validate::is_network_value(a, false, false))
    {
        v.add("ip", validate::NETWORK);
    }
    if let Some(msg) = list_hostname_error(rec.get("cnames"), true) {
        v.add("cnames", msg);
    }
    let hwaddr = rec.get("hwaddr");
    if !hwaddr.is_empty() && hwaddr.split(',').any(|m| !validate::is_mac(m)) {
        v.add("hwaddr", "Invalid MAC address.");
    }
    if let Some(msg) = list_hostname_error(rec.get("aliases"), true) {
        v.add("aliases", msg);
    }

    // performValidation(): the other hosts as stored plus this one.
    let others: Vec<&Record> = cfg[Collection::DnsmasqHosts]
        .iter()
        .filter(|r| r.uuid != rec.uuid)
        .collect();
    let ips = split_list(ip);
    if is_dhcp(rec) {
        let mut v4 = 0;
        for a in &ips {
            if !a.contains(':') {
                v4 += 1;
            }
            if a.starts_with("::") {
                continue;
            }
            let dhcp_hosts = others.iter().copied().filter(|o| is_dhcp(o));
            if times_listed(a, &ips, dhcp_hosts, "ip") > 1 {
                v.add(
                    "ip",
                    format!("'{a}' is already used in another DHCP host entry."),
                );
            }
        }
        if v4 > 1 {
            v.add(
                "ip",
                "For IPv4 dhcp reservations, only a single address is allowed.",
            );
        }
        if validate::php_empty(host) && ips.is_empty() {
            let msg = "At least a hostname or IP address must be provided for DHCP reservations.";
            v.add("host", msg);
            v.add("ip", msg);
        }
        if host == "*" {
            v.add(
                "host",
                "Wildcard entries are not allowed for DHCP reservations.",
            );
        }
    } else if validate::php_empty(host) || ips.is_empty() {
        let msg = "Both hostname and IP address are required for host overrides.";
        v.add("host", msg);
        v.add("ip", msg);
    }
    let fqdn = |r: &Record| {
        let (h, d) = (r.get("host"), r.get("domain"));
        if h.is_empty() {
            None
        } else if d.is_empty() {
            Some(h.to_owned())
        } else {
            Some(format!("{h}.{d}"))
        }
    };
    let fqdns: Vec<String> = others
        .iter()
        .copied()
        .chain(std::iter::once(rec))
        .filter_map(fqdn)
        .collect();
    let cnames = split_list(rec.get("cnames"));
    for c in &cnames {
        if times_listed(c, &cnames, others.iter().copied(), "cnames") > 1 {
            v.add(
                "cnames",
                format!("CNAME '{c}' is already in use by a host override."),
            );
        }
        if fqdns.iter().any(|f| f == c) {
            v.add(
                "cnames",
                format!(
                    "CNAME '{c}' overlaps with a host and domain combination in a host override."
                ),
            );
        }
    }
}

/// The host area for the generic engine (`searchBase('hosts')`: default sort is the first
/// column, `host`).
pub(crate) static HOSTS: AreaSpec = AreaSpec {
    collection: Collection::DnsmasqHosts,
    wrapper: "host",
    fields: HOST_FIELDS,
    default_sort: "host",
    validate: validate_host,
    ..AreaSpec::DEFAULT
};

const HOST_ACTIONS: Actions = Actions {
    search: Some("searchhost"),
    get: Some("gethost"),
    add: Some("addhost"),
    set: Some("sethost"),
    del: Some("delhost"),
    toggle: None,
};

/// Endpoints of `dnsmasq/settings` and `dnsmasq/leases` (`dnsmasq/service` is served by the
/// generic service area).
pub(crate) fn route(controller: &str, action: &str) -> Option<Route> {
    match (controller, action) {
        ("Leases", "search") => Route::new(search_leases),
        ("Settings", "get") => Route::new(get_model),
        ("Settings", _) => HOSTS.crud(action, &HOST_ACTIONS),
        _ => None,
    }
}

/// `leases/search`: recordset over dnsmasq's lease file, `is_reserved` from the hosts of the
/// configuration, optional `selected_interfaces` and `selected_protocol`, sorted by address.
fn search_leases(shared: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let params = SearchParams::recordset(req);
    let selected: Vec<String> = match req.body.get("selected_interfaces") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let protocol = req
        .body
        .get("selected_protocol")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut client_ids: Vec<String> = Vec::new();
    let mut macs: Vec<String> = Vec::new();
    for h in &st.staged[Collection::DnsmasqHosts] {
        let id = h.get("client_id");
        if !id.is_empty() && id.contains(':') {
            client_ids.push(id.to_lowercase());
        }
        macs.extend(split_list(h.get("hwaddr")).iter().map(|m| m.to_lowercase()));
    }
    let leases: &[Value] = if shared.config.dhcp.dnsmasq {
        &st.dnsmasq_leases
    } else {
        &[]
    };
    let mut interfaces = Map::new();
    let mut rows: Vec<Map<String, Value>> = Vec::new();
    for lease in leases {
        let Some(mut row) = lease.as_object().cloned() else {
            continue;
        };
        let dev = row.get("if").and_then(Value::as_str).unwrap_or_default();
        let iface = IFACES.iter().find(|i| i.device == dev);
        row.insert(
            "if_descr".into(),
            Value::from(iface.map_or("", |i| i.descr)),
        );
        row.insert("if_name".into(), Value::from(iface.map_or("", |i| i.key)));
        if let Some(i) = iface {
            interfaces.insert(i.key.into(), Value::from(i.descr));
        }
        let text = |k: &str| {
            row.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_lowercase()
        };
        let mut reserved = Vec::new();
        if !text("client_id").is_empty() && client_ids.contains(&text("client_id")) {
            reserved.push(Value::from("client_id"));
        }
        if !text("hwaddr").is_empty() && macs.contains(&text("hwaddr")) {
            reserved.push(Value::from("hwaddr"));
        }
        // `interface list macdb`: the vendor of the MAC's OUI (a few known to the simulator).
        let oui: String = text("hwaddr").replace(':', "").chars().take(6).collect();
        let vendor = MAC_VENDORS
            .iter()
            .find(|(o, _)| *o == oui)
            .map_or("", |(_, v)| v);
        let name = text("if_name");
        let address = text("address");
        row.insert("mac_info".into(), Value::from(vendor));
        row.insert("is_reserved".into(), Value::Array(reserved));
        let iface_ok = selected.is_empty() || selected.contains(&name);
        let proto_ok = match protocol.as_str() {
            "" => true,
            "ipv4" => address.parse::<std::net::Ipv4Addr>().is_ok(),
            _ => address.parse::<std::net::Ipv6Addr>().is_ok(),
        };
        if iface_ok && proto_ok {
            rows.push(row);
        }
    }
    let mut answer = search::recordset(rows, &params, "address");
    answer["interfaces"] = if interfaces.is_empty() {
        json!([])
    } else {
        Value::Object(interfaces)
    };
    Reply::ok(answer)
}

/// OUI prefixes (lower-case hex) and vendors the simulated MAC database knows.
const MAC_VENDORS: &[(&str, &str)] = &[
    ("000db9", "PC Engines GmbH"),
    ("001ba9", "Brother Industries, Ltd."),
];

fn domain_type_options(_: &Config) -> Vec<Opt> {
    opts(&[("interface", "Interface"), ("range", "Range")])
}

fn mode_options(_: &Config) -> Vec<Opt> {
    opts(&[("static", "static")])
}

fn ra_mode_options(_: &Config) -> Vec<Opt> {
    keys_as_opts(&[
        "ra-only",
        "slaac",
        "ra-names",
        "ra-stateless",
        "ra-advrouter",
        "off-link",
    ])
}

fn ra_priority_options(_: &Config) -> Vec<Opt> {
    opts(&[("high", "High"), ("low", "Low")])
}

fn add_mac_options(_: &Config) -> Vec<Opt> {
    opts(&[
        ("standard", "standard"),
        ("base64", "base64"),
        ("text", "text"),
    ])
}

/// The seeded DHCP range (LAN, 192.168.1.200-192.168.1.249) as `getNodes()` renders it.
fn range(cfg: &Config) -> Value {
    let ifaces = interface_options(cfg);
    json!({
        "interface": fields::option_map(&ifaces, "lan", false, Some("Any")),
        "set_tag": fields::option_map(&[], "", false, Some("None")),
        "start_addr": "192.168.1.200",
        "end_addr": "192.168.1.249",
        "subnet_mask": "",
        "constructor": fields::option_map(&ifaces, "", false, Some("None")),
        "mode": fields::option_map(&mode_options(cfg), "", true, None),
        "prefix_len": "",
        "lease_time": "86400",
        "domain_type": fields::option_map(&domain_type_options(cfg), "range", false, None),
        "domain": "",
        "nosync": "0",
        "ra_mode": fields::option_map(&ra_mode_options(cfg), "", true, None),
        "ra_priority": fields::option_map(&ra_priority_options(cfg), "", false, Some("Normal")),
        "ra_mtu": "",
        "ra_interval": "",
        "ra_router_lifetime": "",
        "description": "LAN"
    })
}

/// `settings/get`: the whole model for GET (`[]` otherwise), `enable` as the simulated
/// firewall runs Dnsmasq, `dhcp.%domain` the system domain (`getAction()` line 76).
fn get_model(shared: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_get {
        return Reply::empty_list();
    }
    let cfg = &st.staged;
    let specs = HOSTS.specs(req.version);
    let mut hosts = Map::new();
    for h in &cfg[Collection::DnsmasqHosts] {
        hosts.insert(h.uuid.clone(), fields::render_get(&specs, cfg, h));
    }
    let ifaces = interface_options(cfg);
    let enable = if shared.config.dhcp.dnsmasq { "1" } else { "0" };
    let mut ranges = Map::new();
    ranges.insert(RANGE_UUID.into(), range(cfg));
    let list = |m: Map<String, Value>| {
        if m.is_empty() {
            json!([])
        } else {
            Value::Object(m)
        }
    };
    Reply::ok(json!({"dnsmasq": {
        "enable": enable, "regdhcp": "0", "regdhcpstatic": "0", "dhcpfirst": "0",
        "strict_order": "0", "domain_needed": "0", "no_private_reverse": "0", "no_resolv": "0",
        "log_queries": "0", "no_hosts": "0", "strictbind": "0", "dnssec": "0",
        "regdhcpdomain": "",
        "interface": fields::option_map(&ifaces, "", true, None),
        "port": "53053", "dns_port": "53053", "dns_forward_max": "", "cache_size": "",
        "local_ttl": "",
        "add_mac": fields::option_map(&add_mac_options(cfg), "", false, Some("None")),
        "add_subnet": "0", "strip_subnet": "0",
        "dhcp": {
            "no_interface": fields::option_map(&ifaces, "", true, None),
            "fqdn": "1", "domain": "", "local": "1", "lease_max": "", "authoritative": "0",
            "default_fw_rules": "1", "reply_delay": "", "enable_ra": "0", "host_ping": "1",
            "nosync": "0", "log_dhcp": "0", "log_quiet": "0",
            "%domain": "example.lan"
        },
        "no_ident": "1",
        "hosts": list(hosts),
        "domainoverrides": [],
        "dhcp_tags": [],
        "dhcp_ranges": list(ranges),
        "dhcp_options": [],
        "dhcp_boot": []
    }}))
}

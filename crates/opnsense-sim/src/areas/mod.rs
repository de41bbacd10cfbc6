//! Endpoint handlers per OPNsense area, plus the static facts of the simulated box
//! (interfaces, gateways) they share.

pub(crate) mod alias;
pub(crate) mod automatic;
pub(crate) mod diagnostics;
pub(crate) mod dnat;
pub(crate) mod dnsmasq;
pub(crate) mod filter;
pub(crate) mod ids;
pub(crate) mod interfaces;
pub(crate) mod kea;
pub(crate) mod names;
pub(crate) mod routes;
pub(crate) mod services;
pub(crate) mod snat;
pub(crate) mod system;
pub(crate) mod unbound;
pub(crate) mod vpn;

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::fields::Opt;
use crate::reply::Req;
use crate::state::{Config, split_list};
use crate::validate::{self, Family};

/// A configured interface of the simulated firewall.
pub(crate) struct Iface {
    pub key: &'static str,
    pub device: &'static str,
    pub descr: &'static str,
    pub ipv4: &'static str,
    pub bits: u8,
    pub ipv6: Option<(&'static str, u8)>,
    pub mac: &'static str,
}

/// Interfaces in config order (documentation address ranges only).
pub(crate) const IFACES: &[Iface] = &[
    Iface {
        key: "wan",
        device: "igb0",
        descr: "WAN",
        ipv4: "203.0.113.2",
        bits: 24,
        ipv6: Some(("2001:db8:ffff::2", 64)),
        mac: "f4:90:ea:00:aa:00",
    },
    Iface {
        key: "lan",
        device: "igb1",
        descr: "LAN",
        ipv4: "192.168.1.1",
        bits: 24,
        ipv6: Some(("2001:db8:1::1", 64)),
        mac: "f4:90:ea:00:aa:01",
    },
    Iface {
        key: "opt1",
        device: "igb2",
        descr: "DMZ",
        ipv4: "10.0.10.1",
        bits: 24,
        ipv6: None,
        mac: "f4:90:ea:00:aa:02",
    },
];

/// Interface by config key.
pub(crate) fn iface(key: &str) -> Option<&'static Iface> {
    IFACES.iter().find(|i| i.key == key)
}

/// InterfaceField options: config keys sorted, labelled by description.
pub(crate) fn interface_options(_: &Config) -> Vec<Opt> {
    let mut v: Vec<Opt> = IFACES.iter().map(|i| Opt::new(i.key, i.descr)).collect();
    v.sort_by(|a, b| a.key.cmp(&b.key));
    v
}

/// A gateway (configd `interface gateways list`).
pub(crate) struct Gateway {
    pub name: &'static str,
    pub address: &'static str,
    pub family: Family,
}

/// Gateways known to the simulator, sorted by name.
pub(crate) const GATEWAYS: &[Gateway] = &[
    Gateway {
        name: "Null4",
        address: "127.0.0.1",
        family: Family::V4,
    },
    Gateway {
        name: "Null6",
        address: "::1",
        family: Family::V6,
    },
    Gateway {
        name: "WAN_DHCP",
        address: "198.51.100.1",
        family: Family::V4,
    },
    Gateway {
        name: "WAN_GW",
        address: "203.0.113.1",
        family: Family::V4,
    },
    Gateway {
        name: "WAN_GWv6",
        address: "2001:db8:ffff::1",
        family: Family::V6,
    },
];

/// Gateway by name.
pub(crate) fn gateway(name: &str) -> Option<&'static Gateway> {
    GATEWAYS.iter().find(|g| g.name == name)
}

/// Category options keyed by uuid (filter `categories`).
pub(crate) fn category_uuid_options(cfg: &Config) -> Vec<Opt> {
    cfg.categories
        .iter()
        .map(|c| Opt::new(c.uuid.clone(), c.name.clone()))
        .collect()
}

/// Category options keyed by name (d_nat `category`).
pub(crate) fn category_name_options(cfg: &Config) -> Vec<Opt> {
    cfg.categories
        .iter()
        .map(|c| Opt::new(c.name.clone(), c.name.clone()))
        .collect()
}

/// Options with no entries (schedules, shapers, divert sockets: none configured).
pub(crate) fn no_options(_: &Config) -> Vec<Opt> {
    Vec::new()
}

/// `category_colors` column for a list of category uuids.
pub(crate) fn category_colors(cfg: &Config, uuids: &[&str]) -> Value {
    Value::Array(
        cfg.categories
            .iter()
            .filter(|c| uuids.contains(&c.uuid.as_str()))
            .map(|c| json!({"color": c.color, "name": c.name, "uuid": c.uuid}))
            .collect(),
    )
}

/// Names of the built-in aliases (`bogons`, `__lan_network` ...), with descriptions.
pub(crate) fn builtin_aliases() -> Vec<(String, &'static str, String)> {
    let mut v = vec![
        (
            "bogons".to_owned(),
            "external",
            "bogon networks (internal)".to_owned(),
        ),
        (
            "bogonsv6".to_owned(),
            "external",
            "bogon networks IPv6 (internal)".to_owned(),
        ),
        (
            "sshlockout".to_owned(),
            "external",
            "abuse lockout table (internal)".to_owned(),
        ),
        (
            "virusprot".to_owned(),
            "external",
            "overload table for rate limiting (internal)".to_owned(),
        ),
    ];
    for i in IFACES {
        v.push((
            format!("__{}_network", i.key),
            "internal",
            format!("{} net", i.descr),
        ));
    }
    v
}

/// A non-port alias (user-defined or built-in) with this name exists.
pub(crate) fn is_network_alias(cfg: &Config, name: &str) -> bool {
    cfg.alias_by_name(name)
        .is_some_and(|a| a.get("type") != "port")
        || builtin_aliases().iter().any(|(n, _, _)| n == name)
}

/// A port alias with this name exists.
pub(crate) fn is_port_alias(cfg: &Config, name: &str) -> bool {
    cfg.alias_by_name(name)
        .is_some_and(|a| a.get("type") == "port")
}

/// Named network keywords of NetworkAliasField: `any`, `(self)`, `<if>`, `<if>ip`.
pub(crate) fn is_network_keyword(item: &str) -> bool {
    item == "any"
        || item == "(self)"
        || iface(item).is_some()
        || item.strip_suffix("ip").is_some_and(|k| iface(k).is_some())
}

/// Display text of a network item (`lan` => `LAN net`, `wanip` => `WAN address`).
pub(crate) fn network_display(item: &str, long: bool) -> String {
    if item == "(self)" {
        return "This Firewall".into();
    }
    if let Some(i) = iface(item) {
        return format!("{} {}", i.descr, if long { "network" } else { "net" });
    }
    if let Some(i) = item.strip_suffix("ip").and_then(iface) {
        return format!("{} address", i.descr);
    }
    item.to_owned()
}

/// `alias_meta_<field>` column: one entry per item of a network or port field.
pub(crate) fn alias_meta(cfg: &Config, value: &str) -> Value {
    Value::Array(
        split_list(value)
            .into_iter()
            .map(|item| match cfg.alias_by_name(item) {
                Some(a) => json!({
                    "summary": a.get("content").split('\n').collect::<Vec<_>>().join(", "),
                    "description": a.get("description"),
                    "value": item,
                    "%value": item,
                    "isAlias": true,
                }),
                None => json!({
                    "value": item,
                    "%value": network_display(item, true),
                    "isAlias": false,
                    "description": "",
                }),
            })
            .collect(),
    )
}

/// `alias_meta_<field>` columns for those of `fields` that are non-empty in a search row.
pub(crate) fn add_alias_meta(cfg: &Config, row: &mut Map<String, Value>, fields: &[&str]) {
    for field in fields {
        if let Some(value) = row.get(*field).and_then(Value::as_str)
            && !value.is_empty()
        {
            let meta = alias_meta(cfg, value);
            row.insert(format!("alias_meta_{field}"), meta);
        }
    }
}

/// The category uuids a search asks for (`(array)$this->request->get('category')`).
pub(crate) fn categories_param(req: &Req) -> Vec<String> {
    match req.get_any("category") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s],
        _ => Vec::new(),
    }
}

/// Whether a search row is in one of the `wanted` categories (any row when none is wanted).
pub(crate) fn in_categories(row: &Map<String, Value>, wanted: &[String]) -> bool {
    wanted.is_empty()
        || row
            .get("categories")
            .and_then(Value::as_str)
            .is_some_and(|c| split_list(c).iter().any(|x| wanted.iter().any(|w| w == x)))
}

/// Literal address family check result of one network value.
pub(crate) enum NetCheck {
    /// Named items only (keywords, interfaces, aliases).
    Named,
    /// One literal address or network of this family.
    Literal(Family),
    /// Not acceptable.
    Invalid,
}

/// NetworkAliasField: `any`/`(self)`/`<if>`/`<if>ip`/non-port alias names (a comma list
/// when `multiple`), or the whole value as one literal IP/CIDR. (Filter.php refuses `any`
/// combined with other items separately.)
pub(crate) fn check_network(cfg: &Config, value: &str, multiple: bool) -> NetCheck {
    if let Some(f) = validate::literal_family(value) {
        return NetCheck::Literal(f);
    }
    let items: Vec<&str> = value.split(',').collect();
    if !multiple && items.len() > 1 {
        return NetCheck::Invalid;
    }
    let named_ok = items
        .iter()
        .all(|i| is_network_keyword(i) || is_network_alias(cfg, i));
    if named_ok {
        NetCheck::Named
    } else {
        NetCheck::Invalid
    }
}

/// The field checks `Filter::performValidation()` makes of a filter or outbound NAT rule before
/// its own: NetworkAliasField on each of `nets` (a comma list when `multiple`) and PortField
/// (port aliases allowed) on the source and destination ports, with OPNsense's messages.
pub(crate) fn check_rule_fields(
    cfg: &Config,
    rec: &crate::state::Record,
    v: &mut validate::Validations,
    nets: &[&str],
    multiple: bool,
) {
    for field in nets {
        let value = rec.get(field);
        if !value.is_empty() && matches!(check_network(cfg, value, multiple), NetCheck::Invalid) {
            v.add(
                field,
                format!("{value} is not a valid source IP address or alias."),
            );
        }
    }
    for field in ["source_port", "destination_port"] {
        let value = rec.get(field);
        if !value.is_empty() && !validate::is_rule_port(value, |a| is_port_alias(cfg, a), true) {
            v.add(field, PORT_MSG);
        }
    }
}

/// `PortField`'s message for a value it refuses.
pub(crate) const PORT_MSG: &str = "Please specify a valid portnumber, name, alias or range.";

/// Unix time with two decimals, as OPNsense writes `revision/time`.
pub(crate) fn now_2dec() -> String {
    format!("{:.2}", unix_now())
}

/// Unix time as f64 seconds.
pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `YYYY-MM-DD<separator>HH:MM:SS` (UTC, proleptic Gregorian) of a Unix time: `T` for RFC 3339
/// as `read_log.py` keeps it, a space for PHP's `Y-m-d H:i:s` (the firewall's zone is UTC).
pub(crate) fn utc_datetime(secs: i64, separator: char) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let month = u8::from(t.month());
    format!(
        "{:04}-{month:02}-{:02}{separator}{:02}:{:02}:{:02}",
        t.year(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Escapes XML text.
pub(crate) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_datetime_of_known_instants() {
        for (secs, sep, expected) in [
            (0, 'T', "1970-01-01T00:00:00"),
            (-1, ' ', "1969-12-31 23:59:59"),
            (951_782_400, ' ', "2000-02-29 00:00:00"),
            (1_700_000_000, 'T', "2023-11-14T22:13:20"),
        ] {
            assert_eq!(super::utc_datetime(secs, sep), expected, "{secs}");
        }
    }
}

//! OPNsense field validators and their exact messages, shared by the areas.

use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Map, Value};

/// `A value is required.`
pub(crate) const REQUIRED: &str = "A value is required.";
/// BooleanField message.
pub(crate) const BOOLEAN: &str = "Value should be a boolean (0,1).";
/// IntegerField message.
pub(crate) const INTEGER: &str = "Invalid integer value.";
/// DescriptionField message.
pub(crate) const DESCRIPTION: &str = "Description should be a string between 1 and 255 characters.";

/// Collected validation messages, keyed `<wrapper>.<field path>` in insertion order.
#[derive(Debug, Default)]
pub(crate) struct Validations {
    prefix: String,
    items: Vec<(String, Vec<String>)>,
}

impl Validations {
    /// Messages will be keyed `<prefix>.<field>`.
    pub fn new(prefix: &str) -> Validations {
        Validations {
            prefix: prefix.to_owned(),
            items: Vec::new(),
        }
    }

    /// Adds a message for `field` (dotted path without the wrapper).
    pub fn add(&mut self, field: &str, msg: impl Into<String>) {
        let key = format!("{}.{field}", self.prefix);
        let msg = msg.into();
        if let Some((_, msgs)) = self.items.iter_mut().find(|(k, _)| *k == key) {
            if !msgs.contains(&msg) {
                msgs.push(msg);
            }
        } else {
            self.items.push((key, vec![msg]));
        }
    }

    /// No messages at all.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// `{"key":"msg"}` or `{"key":["msg1","msg2"]}`.
    pub fn into_json(self) -> Value {
        let mut map = Map::new();
        for (k, mut msgs) in self.items {
            let v = if msgs.len() == 1 {
                Value::String(msgs.remove(0))
            } else {
                Value::Array(msgs.into_iter().map(Value::String).collect())
            };
            map.insert(k, v);
        }
        Value::Object(map)
    }
}

/// IP family of a literal address or network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    V4,
    V6,
}

impl Family {
    /// Family of an address.
    pub fn of(ip: IpAddr) -> Family {
        if ip.is_ipv4() { Family::V4 } else { Family::V6 }
    }
}

/// Parses `a.b.c.d` or an IPv6 literal.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

/// Parses `addr/bits` with a mandatory mask.
pub(crate) fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = s.split_once('/')?;
    let ip = parse_ip(addr)?;
    let bits: u8 = bits.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

/// Family of an IP or CIDR literal.
pub(crate) fn literal_family(s: &str) -> Option<Family> {
    parse_ip(s)
        .or_else(|| parse_cidr(s).map(|(ip, _)| ip))
        .map(Family::of)
}

/// Whether an IPv4 address lies in `net/bits`.
pub(crate) fn v4_in_subnet(ip: Ipv4Addr, net: Ipv4Addr, bits: u8) -> bool {
    if bits == 0 {
        return true;
    }
    let mask = u32::MAX << (32 - u32::from(bits));
    (u32::from(ip) & mask) == (u32::from(net) & mask)
}

/// Well-known service names OPNsense's PortField accepts.
pub(crate) const WELL_KNOWN_PORTS: &[&str] = &[
    "aol",
    "auth",
    "bgp",
    "bittorrent",
    "cvsup",
    "dns",
    "domain",
    "fingerd",
    "ftp",
    "http",
    "https",
    "icq",
    "imap",
    "imaps",
    "ipsec-msft",
    "isakmp",
    "l2f",
    "ldap",
    "ms-streaming",
    "afs3-fileserver",
    "microsoft-ds",
    "ms-wbt-server",
    "wins",
    "msnp",
    "nntp",
    "ntp",
    "netbios-dgm",
    "netbios-ns",
    "netbios-ssn",
    "openvpn",
    "pop3",
    "pop3s",
    "pptp",
    "radius",
    "radius-acct",
    "avt-profile-1",
    "sip",
    "smtp",
    "igmpv3lite",
    "urd",
    "snmp",
    "snmptrap",
    "ssh",
    "nat-stun-port",
    "submission",
    "teredo",
    "telnet",
    "tftp",
    "rfb",
];

/// Whether `s` is a port number 1..=65535.
pub(crate) fn is_port_number(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p))
}

/// Filter/d_nat PortField: number, `any`, well-known name, `lo-hi` range or a port alias.
pub(crate) fn is_rule_port(s: &str, port_alias: impl Fn(&str) -> bool, ranges: bool) -> bool {
    if is_port_number(s) || s == "any" || WELL_KNOWN_PORTS.contains(&s) || port_alias(s) {
        return true;
    }
    if ranges && let Some((lo, hi)) = s.split_once('-') {
        return is_port_number(lo)
            && is_port_number(hi)
            && lo.parse::<u32>().ok() < hi.parse::<u32>().ok();
    }
    false
}

/// A DNS label sequence (`example.lan`), case-insensitive.
pub(crate) fn is_domain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_label)
}

/// One DNS label.
pub(crate) fn is_label(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !l.starts_with('-')
        && !l.ends_with('-')
}

/// A MAC address `aa:bb:cc:dd:ee:ff` (also `-` separated).
pub(crate) fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    parts.len() == 6 && parts.iter().all(|p| is_hex_pair(p))
}

/// Two hex digits.
pub(crate) fn is_hex_pair(p: &str) -> bool {
    p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A DescriptionField value: empty, or 1..255 characters without control characters.
pub(crate) fn is_description(s: &str) -> bool {
    s.is_empty() || (s.chars().count() <= 255 && !s.chars().any(char::is_control))
}

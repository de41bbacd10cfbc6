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
/// TextField default message (a `<Mask>` without its own message).
pub(crate) const TEXT: &str = "Text does not validate.";
/// NetworkField default message.
pub(crate) const NETWORK: &str = "Please specify a valid network segment or IP address.";

/// The TextField character rules of 26.7 (`AllowSpaces`, `AllowNewlines`,
/// `AllowSpecial`): DescriptionField forbids newlines and `\0\v\f`, StrictTextField also
/// spaces and tabs. Only the first broken rule is reported, as the callback returns early.
pub(crate) fn text_rules(value: &str, no_spaces: bool, v: &mut Validations, field: &str) {
    if no_spaces && value.contains([' ', '\t']) {
        v.add(field, "Text may not contain spaces or tabs.");
    } else if value.contains(['\n', '\r']) {
        v.add(field, "Text may not contain newlines.");
    } else if value.contains(['\0', '\u{b}', '\u{c}']) {
        v.add(field, "Text may not contain special control characters.");
    }
}

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

/// The network address of `addr/bits` (`192.168.1.1/24` => `192.168.1.0`).
pub(crate) fn v4_network(addr: &str, bits: u8) -> Ipv4Addr {
    let ip: Ipv4Addr = addr.parse().unwrap_or(Ipv4Addr::UNSPECIFIED);
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(bits.min(32)))
    };
    Ipv4Addr::from(u32::from(ip) & mask)
}

/// Whether an IPv4 address lies in `net/bits`.
pub(crate) fn v4_in_subnet(ip: Ipv4Addr, net: Ipv4Addr, bits: u8) -> bool {
    if bits == 0 {
        return true;
    }
    let mask = u32::MAX << (32 - u32::from(bits));
    (u32::from(ip) & mask) == (u32::from(net) & mask)
}

/// Well-known service names OPNsense's PortField accepts: the keys of
/// `PortField::$wellknownservices` (26.1.10 and 26.7.2). The option list is built from
/// `['any'] + array_keys(...)`, a PHP array union that drops the first key
/// (`afs3-fileserver`), so that name is not accepted.
pub(crate) const WELL_KNOWN_PORTS: &[&str] = &[
    "aol",
    "auth",
    "avt-profile-1",
    "cvsup",
    "domain",
    "ftp",
    "hbci",
    "http",
    "https",
    "igmpv3lite",
    "imap",
    "imaps",
    "ipsec-msft",
    "ipsec-nat-t",
    "isakmp",
    "l2f",
    "ldap",
    "microsoft-ds",
    "ms-streaming",
    "ms-wbt-server",
    "msnp",
    "nat-stun-port",
    "netbios-dgm",
    "netbios-ns",
    "netbios-ssn",
    "nntp",
    "ntp",
    "openvpn",
    "pop3",
    "pop3s",
    "pptp",
    "radius",
    "radius-acct",
    "rfb",
    "sip",
    "smtp",
    "snmp",
    "snmptrap",
    "ssh",
    "submission",
    "telnet",
    "teredo",
    "tftp",
    "urd",
    "wins",
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

/// PHP `filter_var($s, FILTER_VALIDATE_DOMAIN[, FILTER_FLAG_HOSTNAME])`
/// (`ext/filter/logical_filters.c` `_php_filter_validate_domain`): one trailing dot is
/// ignored, at most 253 bytes, labels 1..63 bytes. With `hostname`, labels consist of
/// letters, digits and `-` and start and end with a letter or digit; without it any byte
/// is allowed.
pub(crate) fn php_valid_domain(s: &str, hostname: bool) -> bool {
    let body = s.strip_suffix('.').unwrap_or(s);
    if body.is_empty() || body.len() > 253 {
        return false;
    }
    body.split('.').all(|label| {
        let b = label.as_bytes();
        !b.is_empty()
            && b.len() <= 63
            && (!hostname
                || (b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
                    && b[0].is_ascii_alphanumeric()
                    && b[b.len() - 1].is_ascii_alphanumeric()))
    })
}

/// HostnameField (`OPNsense\Base\FieldTypes\HostnameField`) for one value.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Hostname {
    /// `IpAllowed` (default Y).
    pub ip_allowed: bool,
    /// `HostWildcardAllowed`: a lone `*`.
    pub host_wildcard: bool,
    /// `IsDNSName`: no FILTER_FLAG_HOSTNAME (underscores and other bytes allowed).
    pub dns_name: bool,
}

impl Hostname {
    /// A HostnameField that sets none of these options (IP addresses allowed, strict labels).
    pub const DEFAULTS: Self = Self {
        ip_allowed: true,
        host_wildcard: false,
        dns_name: false,
    };

    /// Adds the refusal `[value] is not a valid IP address or hostname.` for `field` when a
    /// non-empty `value` is not accepted (the message of the fields that set none of their own).
    pub fn check(self, v: &mut Validations, field: &str, value: &str) {
        if !value.is_empty() && !self.accepts(value) {
            v.add(
                field,
                format!("[{value}] is not a valid IP address or hostname."),
            );
        }
    }

    /// The callback of `HostnameField::getValidators()` for a single (non-list) value.
    pub fn accepts(self, value: &str) -> bool {
        let is_ip = parse_ip(value).is_some();
        if self.host_wildcard && value == "*" {
            return true;
        }
        if self.ip_allowed && is_ip {
            return true;
        }
        php_valid_domain(value, !self.dns_name)
            && !is_ip
            && !value.contains(|c: char| c.is_whitespace() || c == '/' || c == '*')
    }
}

/// The Unbound host-override `domain` mask of Unbound.xml (26.1 and 26.7):
/// `/^(?:(?:[a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*(?:[a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])$/i`
/// (labels of letters, digits and inner dashes; no `_`, no length limits).
pub(crate) fn is_mask_domain(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
        })
}

/// NetworkField (`isValidInput` for one value): an address, or `address/bits` when a mask
/// is allowed, of the given family. The wildcard `any` is accepted before this runs.
pub(crate) fn is_network_value(value: &str, mask_allowed: bool, v4_only: bool) -> bool {
    let (addr, bits) = match value.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (value, None),
    };
    let Some(ip) = parse_ip(addr) else {
        return false;
    };
    if v4_only && !ip.is_ipv4() {
        return false;
    }
    match bits {
        None => true,
        Some(bits) => {
            let max = if addr.contains(':') { 128 } else { 32 };
            mask_allowed
                && !bits.is_empty()
                && bits.bytes().all(|b| b.is_ascii_digit())
                && bits.parse::<u32>().is_ok_and(|n| n <= max)
        }
    }
}

/// PHP `empty()` of a field value: `""` and `"0"`.
pub(crate) fn php_empty(s: &str) -> bool {
    s.is_empty() || s == "0"
}

/// PHP `FILTER_VALIDATE_MAC`: six hex pairs separated by `:` or `-` (one separator
/// throughout), or three groups of four hex digits separated by `.`.
pub(crate) fn is_mac(s: &str) -> bool {
    let pairs = |sep: char| {
        let parts: Vec<&str> = s.split(sep).collect();
        parts.len() == 6 && parts.iter().all(|p| is_hex_pair(p))
    };
    let dotted = {
        let parts: Vec<&str> = s.split('.').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| p.len() == 4 && p.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    pairs(':') || pairs('-') || dotted
}

/// Two hex digits.
pub(crate) fn is_hex_pair(p: &str) -> bool {
    p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A DescriptionField value: empty, or `preg_match('/^(.){1,255}$/')`: 1..255 *bytes*
/// (no `u` flag) without a newline, where `$` also matches before one final `\n`.
pub(crate) fn is_description(s: &str) -> bool {
    let body = s.strip_suffix('\n').unwrap_or(s);
    s.is_empty() || (!body.is_empty() && body.len() <= 255 && !body.contains('\n'))
}

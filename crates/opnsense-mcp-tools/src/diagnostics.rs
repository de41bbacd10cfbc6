//! Troubleshooting reads: the filter log, the pf state table, gateway status and the kernel
//! routing table. All read-only. Where each endpoint comes from in opnsense/core is written down
//! in `opnsense_api::api::diagnostics`.
//!
//! Every filter is checked here, naming the argument, before anything is sent; none of them
//! reaches a request path (the filter log takes only a number in its query, the state table
//! reads its filter from the POST body).

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::params::Parameters;
use opnsense_api::api::diagnostics::{
    firewall_log_request, gateway_status_request, routes_request, states_request,
};
use opnsense_api::api::interfaces::{InterfaceNames, names_request};
use opnsense_api::fields::{Lenient, decode_lenient};
use opnsense_api::models::diagnostics::{
    FilterLogEntry, GatewayStatus, KernelRoute, PfState, is_rule_hash,
};
use opnsense_api::models::firewall::PROTOCOL_NAMES;
use opnsense_api::{SearchPage, Uuid};
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::OpnsenseTools;
use crate::common::{
    Compact, ListParams, Listing, RawParams, RawValue, Rows, excerpt, is_key, single_line,
};
use crate::error::ToolError;

/// Default number of log entries returned.
pub const LOG_DEFAULT: u32 = 50;
/// Most log entries one call returns.
pub const LOG_MAX: u32 = 1000;
/// Log lines read from OPNsense when a filter is given (the matches are picked from these).
pub const LOG_SCAN: u32 = 5000;

// ---------------------------------------------------------------------------------------------
// Filters, checked before anything is sent
// ---------------------------------------------------------------------------------------------

/// An address or a network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    len: u8,
}

impl Net {
    /// Checks `s` (`192.168.1.10`, `10.0.0.0/24`, `2001:db8::/48`), naming `field` when refused.
    pub fn parse(field: &str, s: &str) -> Result<Self, ToolError> {
        let bad = || {
            ToolError::invalid(
                field,
                format!(
                    "{:?} is not an IP address or a network in CIDR form (e.g. 192.168.1.10, 10.0.0.0/24, 2001:db8::/48)",
                    excerpt(s)
                ),
            )
        };
        if s.len() > 64 {
            return Err(bad());
        }
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) if (1..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_digit()) => {
                l.parse::<u8>().ok().filter(|n| *n <= max).ok_or_else(bad)?
            }
            Some(_) => return Err(bad()),
        };
        Ok(Self { addr, len })
    }

    /// Whether `ip` is inside (never across families).
    pub fn contains(&self, ip: IpAddr) -> bool {
        // The top `bits` of a `width`-bit number.
        let mask = |bits: u8, width: u8| -> u128 {
            if bits == 0 {
                0
            } else {
                (u128::MAX << (128 - u32::from(bits))) >> (128 - u32::from(width))
            }
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let m = mask(self.len, 32);
                u128::from(u32::from(n)) & m == u128::from(u32::from(a)) & m
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let m = mask(self.len, 128);
                u128::from(n) & m == u128::from(a) & m
            }
            _ => false,
        }
    }

    /// Whether the text `s` is an address inside.
    fn contains_text(&self, s: Option<&str>) -> bool {
        s.and_then(|s| s.parse::<IpAddr>().ok())
            .is_some_and(|ip| self.contains(ip))
    }

    fn is_v6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// As OPNsense's state search reads it: `addr` for a host, `addr/len` for a network.
    fn phrase(&self) -> String {
        let max = if self.is_v6() { 128 } else { 32 };
        if self.len == max {
            self.addr.to_string()
        } else {
            format!("{}/{}", self.addr, self.len)
        }
    }
}

/// Checks a port argument: 1 to 65535.
fn port(field: &str, v: Option<i64>) -> Result<Option<u16>, ToolError> {
    v.map(|n| {
        u16::try_from(n)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| ToolError::invalid(field, format!("{n} is not a port (1 to 65535)")))
    })
    .transpose()
}

/// Checks an interface argument: a device (`igb1`) or a description (`LAN`).
fn interface(field: &str, v: Option<String>) -> Result<Option<String>, ToolError> {
    match v {
        Some(s) if !is_key(&s) => Err(ToolError::invalid(
            field,
            format!(
                "{:?} is not an interface: give its device (igb1, vtnet0_vlan10) or its description (LAN, WAN, DMZ)",
                excerpt(&s)
            ),
        )),
        other => Ok(other),
    }
}

/// Checks a protocol argument against the IANA names OPNsense knows; lower case.
fn protocol(field: &str, v: Option<String>) -> Result<Option<String>, ToolError> {
    let Some(s) = v else { return Ok(None) };
    let upper = s.to_ascii_uppercase();
    if PROTOCOL_NAMES.contains(&upper.as_str()) {
        Ok(Some(upper.to_ascii_lowercase()))
    } else {
        Err(ToolError::invalid(
            field,
            format!(
                "{:?} is not a protocol OPNsense knows: use an IANA protocol name such as TCP, UDP, ICMP, IPV6-ICMP, GRE, ESP, CARP (any case)",
                excerpt(&s)
            ),
        ))
    }
}

/// A rule argument: a rule's id (uuid or OPNsense's 32-digit hash), or words of its description.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RuleFilter {
    Id(String),
    Text(String),
}

impl RuleFilter {
    fn parse(field: &str, v: Option<String>) -> Result<Option<Self>, ToolError> {
        let Some(s) = single_line(field, v, 128)? else {
            return Ok(None);
        };
        let t = s.trim();
        if t.is_empty() {
            return Err(ToolError::invalid(field, "must not be empty"));
        }
        Ok(Some(if Uuid::parse(t).is_ok() || is_rule_hash(t) {
            Self::Id(t.to_ascii_lowercase())
        } else {
            Self::Text(t.to_lowercase())
        }))
    }

    fn matches(&self, id: &str, description: &str) -> bool {
        match self {
            Self::Id(want) => id.eq_ignore_ascii_case(want),
            Self::Text(words) => description.to_lowercase().contains(words.as_str()),
        }
    }
}

/// The rule that matched a log entry or made a state.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RuleRef {
    /// The rule's id as pf logged it: a filter rule's uuid, the 32-digit hash OPNsense gives the
    /// rules it generates (and those of the classic GUI), or `0` (NAT).
    pub id: String,
    /// The filter rule's uuid, when it is a rule of Firewall > Rules (see `firewall_rule_get`).
    pub uuid: Option<String>,
    /// Its description in the loaded ruleset (`Default deny / state violation rule`, ...).
    pub description: Option<String>,
    /// `user` (a rule of Firewall > Rules), `automatic` (generated by OPNsense or a plugin, or
    /// made in the classic GUI), `nat` (a NAT rule), `unknown`.
    pub origin: &'static str,
}

impl RuleRef {
    fn new(id: &str, description: &str, action: &str) -> Self {
        let probe = FilterLogEntry {
            rid: id.to_owned(),
            action: action.to_owned(),
            ..FilterLogEntry::default()
        };
        let origin = probe.rule_origin();
        Self {
            id: id.to_owned(),
            uuid: probe.rule_uuid().map(|u| u.to_string()),
            description: non_empty(description),
            origin: origin.as_str(),
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A list answer as a list of rows; PHP renders a list with holes as an object and nothing
/// when configd failed.
fn rows_of(v: Value, what: &str) -> Result<Vec<Value>, ToolError> {
    match v {
        Value::Array(rows) => Ok(rows),
        Value::Object(map) if map.values().all(Value::is_object) => {
            Ok(map.into_iter().map(|(_, row)| row).collect())
        }
        Value::Null => Ok(Vec::new()),
        _ => Err(ToolError::message(format!(
            "OPNsense returned an unexpected answer: expected a list of {what}"
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// firewall_log
// ---------------------------------------------------------------------------------------------

/// An action of a filter-log entry (`reject` matches the `block` entries).
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code, reason = "only its schema is used")]
enum LogAction {
    Pass,
    Block,
    Reject,
    Rdr,
    Nat,
    Binat,
}

/// Arguments of `firewall_log`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirewallLogParams {
    /// Entries, newest first: 1 to 1000 (default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<i64>,
    /// Only this interface: device (`igb1`) or description (`LAN`, any case).
    #[serde(default)]
    pub interface: Option<String>,
    /// Only this action (`reject` rules log as `block`, so both match those).
    #[serde(default)]
    #[schemars(with = "Option<LogAction>")]
    pub action: Option<String>,
    /// Only sources at this address or in this CIDR (`10.0.0.5`, `10.0.0.0/24`).
    #[serde(default)]
    pub source: Option<String>,
    /// Only destinations at this address or in this CIDR.
    #[serde(default)]
    pub destination: Option<String>,
    /// Only this source or destination port.
    #[serde(default)]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i64>,
    /// Only this IANA protocol (`TCP`, `UDP`, `ICMP`, `IPV6-ICMP`), any case.
    #[serde(default)]
    pub protocol: Option<String>,
    /// Only this rule: its uuid, the 32-digit id of a generated rule, or words of its
    /// description (`default deny`).
    #[serde(default)]
    pub rule: Option<String>,
    /// OPNsense's entries (filtered the same way) instead of compact ones.
    #[serde(default)]
    pub raw: bool,
}

/// The checked filters of `firewall_log`.
#[derive(Debug, Clone, Default)]
struct LogFilter {
    interface: Option<String>,
    action: Option<String>,
    source: Option<Net>,
    destination: Option<Net>,
    port: Option<u16>,
    protocol: Option<String>,
    rule: Option<RuleFilter>,
}

impl LogFilter {
    fn check(p: &FirewallLogParams) -> Result<(u32, bool, Self), ToolError> {
        let limit = match p.limit {
            None => LOG_DEFAULT,
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|n| (1..=LOG_MAX).contains(n))
                .ok_or_else(|| {
                    ToolError::invalid("limit", format!("{n} is out of range: use 1 to {LOG_MAX}"))
                })?,
        };
        let action = match p.action.as_deref() {
            None => None,
            Some(a @ ("pass" | "block" | "rdr" | "nat" | "binat")) => Some(a.to_owned()),
            Some("reject") => Some("block".to_owned()),
            Some(other) => {
                return Err(ToolError::invalid(
                    "action",
                    format!(
                        "{:?} is not a log action: use pass, block, reject, rdr, nat or binat",
                        excerpt(other)
                    ),
                ));
            }
        };
        let net = |field: &str, v: &Option<String>| {
            v.as_deref().map(|s| Net::parse(field, s)).transpose()
        };
        let f = Self {
            interface: interface("interface", p.interface.clone())?,
            action,
            source: net("source", &p.source)?,
            destination: net("destination", &p.destination)?,
            port: port("port", p.port)?,
            protocol: protocol("protocol", p.protocol.clone())?,
            rule: RuleFilter::parse("rule", p.rule.clone())?,
        };
        Ok((limit, p.action.as_deref() == Some("reject"), f))
    }

    fn is_empty(&self) -> bool {
        self.interface.is_none()
            && self.action.is_none()
            && self.source.is_none()
            && self.destination.is_none()
            && self.port.is_none()
            && self.protocol.is_none()
            && self.rule.is_none()
    }

    fn matches(&self, e: &FilterLogEntry, names: &BTreeMap<String, String>) -> bool {
        let port_is = |p: &Option<String>, want: u16| {
            p.as_deref()
                .and_then(|s| s.trim().parse::<u16>().ok())
                .is_some_and(|n| n == want)
        };
        self.interface.as_ref().is_none_or(|want| {
            e.interface == *want
                || names
                    .get(&e.interface)
                    .is_some_and(|d| d.eq_ignore_ascii_case(want))
        }) && self.action.as_ref().is_none_or(|a| e.action == *a)
            && self
                .source
                .as_ref()
                .is_none_or(|n| n.contains_text(e.src.as_deref()))
            && self
                .destination
                .as_ref()
                .is_none_or(|n| n.contains_text(e.dst.as_deref()))
            && self
                .port
                .is_none_or(|p| port_is(&e.srcport, p) || port_is(&e.dstport, p))
            && self.protocol.as_ref().is_none_or(|want| {
                e.protoname
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case(want))
            })
            && self
                .rule
                .as_ref()
                .is_none_or(|r| r.matches(&e.rid, &e.label))
    }
}

/// One filter-log entry in compact form.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LogEntryView {
    /// When it was logged (as syslog wrote it, with the firewall's offset).
    pub time: String,
    /// `pass`, `block` (also rejected packets), `rdr`, `nat`, `binat`.
    pub action: String,
    /// Device the packet was seen on (`igb1`).
    pub interface: String,
    /// That interface's description (`LAN`), when assigned.
    pub interface_name: Option<String>,
    /// `in` or `out`.
    pub direction: String,
    /// Protocol (`tcp`, `udp`, `icmp`, ...).
    pub protocol: Option<String>,
    /// Source address.
    pub source: Option<String>,
    /// Source port (TCP and UDP).
    pub source_port: Option<u16>,
    /// Destination address.
    pub destination: Option<String>,
    /// Destination port (TCP and UDP).
    pub destination_port: Option<u16>,
    /// TCP flags (`S`, `SA`, ...).
    pub tcp_flags: Option<String>,
    /// Why pf logged it, when not a plain rule match (`state-mismatch`, ...).
    pub reason: Option<String>,
    /// The rule that matched.
    pub rule: RuleRef,
}

impl LogEntryView {
    fn new(e: FilterLogEntry, names: &BTreeMap<String, String>) -> Self {
        let port = |p: Option<String>| p.and_then(|s| s.trim().parse::<u16>().ok());
        Self {
            rule: RuleRef::new(&e.rid, &e.label, &e.action),
            time: e.timestamp,
            interface_name: names.get(&e.interface).cloned(),
            interface: e.interface,
            action: e.action,
            direction: e.dir,
            protocol: e.protoname,
            source: e.src,
            source_port: port(e.srcport),
            destination: e.dst,
            destination_port: port(e.dstport),
            tcp_flags: e.tcpflags.filter(|f| !f.is_empty()),
            reason: Some(e.reason).filter(|r| !r.is_empty() && r != "match"),
        }
    }
}

/// The newest filter-log entries that match.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FirewallLog {
    /// Entries in this answer (`rows`, or `raw`), newest first.
    pub returned: usize,
    /// Log lines OPNsense read to find them (its newest lines).
    pub scanned: usize,
    /// The entries in compact form (empty with `raw: true`).
    pub rows: Vec<Compact<LogEntryView>>,
    /// Entries OPNsense sent that are not log records at all, as sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Option<Vec<RawValue>>")]
    pub undecoded: Vec<Value>,
    /// What to know about the answer (older matches, reject).
    pub note: Option<String>,
    /// OPNsense's entries as sent (only with `raw: true`), filtered the same way.
    #[schemars(with = "Option<Vec<crate::common::RawObject>>")]
    pub raw: Option<Vec<Value>>,
}

/// What to say about a log answer: `reject` read as `block`; a filtered search that found fewer
/// than `limit` in all the `scanned` lines it asked for (older matches may exist).
fn log_note(
    reject: bool,
    filtered: bool,
    returned: usize,
    limit: u32,
    scanned: usize,
    asked: u32,
) -> Option<String> {
    let mut notes = Vec::new();
    if reject {
        notes.push("pf logs the packets of reject rules with action block: these are the block entries, of block and reject rules alike.".to_owned());
    }
    if filtered && returned < limit as usize && scanned >= asked as usize {
        notes.push(format!("Only the newest {scanned} log lines were searched; older matching entries may exist (Firewall > Log Files > Live View, or the log files on the firewall)."));
    }
    (!notes.is_empty()).then(|| notes.join(" "))
}

// ---------------------------------------------------------------------------------------------
// firewall_states
// ---------------------------------------------------------------------------------------------

/// Arguments of `firewall_states`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirewallStatesParams {
    /// Only states with an end (source, destination or NAT address) at this address or in
    /// this CIDR (`192.168.1.10`, `10.0.0.0/24`).
    #[serde(default)]
    pub address: Option<String>,
    /// Only states with an end on this port (the `address` end, if given); without `address`
    /// only IPv4 states (`address: "::/0"` for IPv6).
    #[serde(default)]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i64>,
    /// Only states of this rule: its uuid or the 32-digit id of a generated rule.
    #[serde(default)]
    pub rule: Option<String>,
    /// Page, from 1 (default 1).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub current: Option<u32>,
    /// States per page, 1 to 1000, or -1 for 1000; default 100.
    #[serde(default)]
    #[schemars(range(min = -1, max = 1000))]
    pub row_count: Option<i64>,
    /// OPNsense's rows instead of compact ones.
    #[serde(default)]
    pub raw: bool,
}

/// One pf state in compact form.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StateView {
    /// State id (`<id>/<creator>`).
    pub id: String,
    /// Interface (its description, `all` for floating states).
    pub interface: String,
    /// Protocol (`tcp`, `udp`, `icmp`, ...).
    pub protocol: String,
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// `in` or `out`.
    pub direction: String,
    /// Source address.
    pub source: String,
    /// Source port, when the protocol has ports.
    pub source_port: Option<u16>,
    /// Destination address.
    pub destination: String,
    /// Destination port, when the protocol has ports.
    pub destination_port: Option<u16>,
    /// The translated address (and port), when NAT applies.
    pub nat: Option<String>,
    /// pf's state of both ends (`ESTABLISHED:ESTABLISHED`, `MULTIPLE:SINGLE`, ...).
    pub state: String,
    /// Age (`hh:mm:ss`).
    pub age: Option<String>,
    /// Time to expiry (`hh:mm:ss`).
    pub expires: Option<String>,
    /// Packets (out, in).
    pub packets: Vec<u64>,
    /// Bytes (out, in).
    pub bytes: Vec<u64>,
    /// The rule that created it, when pf names one.
    pub rule: Option<RuleRef>,
}

impl From<PfState> for StateView {
    fn from(s: PfState) -> Self {
        let port = |p: Option<String>| {
            p.and_then(|s| s.trim().parse::<u16>().ok())
                .filter(|p| *p != 0)
        };
        let nat = s.nat_addr.map(|a| match &s.nat_port {
            Some(p) if a.contains(':') => format!("[{a}]:{p}"),
            Some(p) => format!("{a}:{p}"),
            None => a,
        });
        Self {
            rule: (!s.label.is_empty()).then(|| RuleRef::new(&s.label, &s.descr, "pass")),
            interface: s.interface.unwrap_or(s.iface),
            id: s.id,
            protocol: s.proto,
            family: s.ipproto,
            direction: s.direction,
            source: s.src_addr,
            source_port: port(s.src_port),
            destination: s.dst_addr,
            destination_port: port(s.dst_port),
            nat,
            state: s.state,
            age: s.age,
            expires: s.expires,
            packets: s.pkts,
            bytes: s.bytes,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// gateway_status
// ---------------------------------------------------------------------------------------------

/// One gateway in compact form.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GatewayView {
    /// Gateway name (`WAN_GW`).
    pub name: String,
    /// Its address (absent while a dynamic gateway has none).
    pub address: Option<String>,
    /// OPNsense's status word: `none` (online), `down`, `force_down`, `delay`, `loss`,
    /// `delay+loss`, or another (pending).
    pub status: String,
    /// The status in the GUI's words (`Online`, `Offline`, `Latency`, `Packetloss`, ...).
    pub status_text: Option<String>,
    /// Marked down (`down`, or forced down by the administrator).
    pub down: bool,
    /// dpinger measures it (false: not monitored, no delay or loss known).
    pub monitored: bool,
    /// The address dpinger probes.
    pub monitor: Option<String>,
    /// Average round-trip time, milliseconds.
    pub delay_ms: Option<f64>,
    /// Round-trip standard deviation, milliseconds.
    pub stddev_ms: Option<f64>,
    /// Packet loss, percent.
    pub loss_percent: Option<f64>,
}

impl From<GatewayStatus> for GatewayView {
    fn from(g: GatewayStatus) -> Self {
        Self {
            address: g.known_address().map(str::to_owned),
            monitor: g.known_monitor().map(str::to_owned),
            down: g.is_down(),
            monitored: g.is_monitored(),
            delay_ms: g.delay_ms(),
            stddev_ms: g.stddev_ms(),
            loss_percent: g.loss_percent(),
            status_text: g.status_translated,
            status: g.status,
            name: g.name,
        }
    }
}

/// Every gateway's status.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GatewayList {
    /// Gateways listed.
    pub total: usize,
    /// Gateways marked down.
    pub down: usize,
    /// OPNsense's `status`: `ok`, or `failed` when it had no gateway status to give.
    pub status: String,
    /// The gateways in compact form (empty with `raw: true`).
    pub rows: Vec<Compact<GatewayView>>,
    /// Entries OPNsense sent that are not gateways at all, as sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Option<Vec<RawValue>>")]
    pub undecoded: Vec<Value>,
    /// What an empty or failed answer means.
    pub note: Option<String>,
    /// OPNsense's full answer (only with `raw: true`).
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub raw: Option<Value>,
}

// ---------------------------------------------------------------------------------------------
// route_table
// ---------------------------------------------------------------------------------------------

/// An address family of the routing table.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code, reason = "only its schema is used")]
enum RouteFamily {
    Ipv4,
    Ipv6,
}

/// Arguments of `route_table`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteTableParams {
    /// Only `ipv4` or `ipv6` (default both).
    #[serde(default)]
    #[schemars(with = "Option<RouteFamily>")]
    pub family: Option<String>,
    /// Page, from 1 (default 1).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub current: Option<u32>,
    /// Routes per page, 1 to 1000, or -1 for all (at most 1000); default 100.
    #[serde(default)]
    #[schemars(range(min = -1, max = 1000))]
    pub row_count: Option<i64>,
    /// Words every route must contain (case-insensitive, any column).
    #[serde(default)]
    pub search_phrase: Option<String>,
    /// OPNsense's rows instead of compact ones.
    #[serde(default)]
    pub raw: bool,
}

/// One kernel route in compact form.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KernelRouteView {
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// Destination (`default`, `10.0.0.0/24`, a host).
    pub destination: String,
    /// Next hop (an address, `link#N` for a connected network, a MAC for a neighbour).
    pub gateway: String,
    /// Route flags (`U` up, `G` gateway, `H` host, `S` static, `B` blackhole, `R` reject).
    pub flags: String,
    /// Device (`igb0`).
    pub interface: String,
    /// That interface's description (`WAN`), when assigned.
    pub interface_name: Option<String>,
    /// MTU.
    pub mtu: Option<u32>,
    /// Expiry, for routes that expire.
    pub expire: Option<String>,
}

impl From<KernelRoute> for KernelRouteView {
    fn from(r: KernelRoute) -> Self {
        Self {
            family: r.proto,
            destination: r.destination,
            gateway: r.gateway,
            flags: r.flags,
            interface: r.netif,
            interface_name: non_empty(&r.intf_description),
            mtu: r.mtu.and_then(|m| m.trim().parse().ok()),
            expire: r.expire.filter(|e| !e.trim().is_empty()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tools
// ---------------------------------------------------------------------------------------------

/// Decodes rows leniently (a field of an unexpected shape is kept in `unparsed`); rows that are
/// not records at all go to the second list.
fn compact<M: serde::de::DeserializeOwned, T>(
    rows: Vec<Value>,
    view: impl Fn(M) -> T,
) -> (Vec<Compact<T>>, Vec<Value>) {
    let mut out = Vec::new();
    let mut undecoded = Vec::new();
    for row in rows {
        match decode_lenient::<M>(&row) {
            Ok(Lenient { value, unparsed }) => out.push(Compact {
                origin: None,
                view: view(value),
                unparsed,
            }),
            Err(_) => undecoded.push(row),
        }
    }
    (out, undecoded)
}

#[tool_router(router = diagnostics_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// The newest filter-log entries, newest first (default 50, at most 1000), each naming the
    /// rule that matched (its description, and its uuid when it is a rule of Firewall > Rules).
    /// Filters: `interface` (device or description), `action` (pass/block/reject/rdr/nat/binat),
    /// `source`/`destination` (address or CIDR), `port`, `protocol`, `rule` (uuid, id or
    /// description words). With a filter the newest 5000 lines are searched.
    #[tool(annotations(title = "Firewall log"))]
    async fn firewall_log(
        &self,
        Parameters(p): Parameters<FirewallLogParams>,
    ) -> Result<Json<FirewallLog>, ToolError> {
        let (limit, reject, filter) = LogFilter::check(&p)?;
        let ask = if filter.is_empty() { limit } else { LOG_SCAN };
        let lines = rows_of(
            self.client().send_json(firewall_log_request(ask)).await?,
            "log entries",
        )?;
        let names = if !p.raw || filter.interface.is_some() {
            let InterfaceNames(names) = self.client().send_json(names_request()).await?;
            names
        } else {
            BTreeMap::new()
        };
        let scanned = lines.len();
        let (mut picked, mut undecoded) = (Vec::new(), Vec::new());
        for line in lines {
            if picked.len() >= limit as usize {
                break;
            }
            match decode_lenient::<FilterLogEntry>(&line) {
                Ok(Lenient { value, unparsed }) if filter.matches(&value, &names) => {
                    picked.push((line, value, unparsed));
                }
                Ok(_) => {}
                Err(_) => undecoded.push(line),
            }
        }
        let returned = picked.len();
        let note = log_note(reject, !filter.is_empty(), returned, limit, scanned, ask);
        let (rows, raw) = if p.raw {
            (
                Vec::new(),
                Some(picked.into_iter().map(|(l, _, _)| l).collect()),
            )
        } else {
            let rows = picked
                .into_iter()
                .map(|(_, value, unparsed)| Compact {
                    origin: None,
                    view: LogEntryView::new(value, &names),
                    unparsed,
                })
                .collect();
            (rows, None)
        };
        Ok(Json(FirewallLog {
            returned,
            scanned,
            rows,
            undecoded,
            note,
            raw,
        }))
    }

    /// The pf state table (the connections the firewall tracks), paged (default 100 a page):
    /// interface, protocol, both ends with their ports, NAT, pf state, age, packets and bytes,
    /// and the rule that created each state. Search by `address` (IP or CIDR), `port`, `rule`.
    #[tool(annotations(title = "Firewall states"))]
    async fn firewall_states(
        &self,
        Parameters(p): Parameters<FirewallStatesParams>,
    ) -> Result<Json<Listing<StateView>>, ToolError> {
        let address = p
            .address
            .as_deref()
            .map(|s| Net::parse("address", s))
            .transpose()?;
        let port = port("port", p.port)?;
        let rule = match RuleFilter::parse("rule", p.rule.clone())? {
            Some(RuleFilter::Id(id)) => Some(id),
            Some(RuleFilter::Text(_)) => {
                return Err(ToolError::invalid(
                    "rule",
                    "give the rule's uuid (as firewall_rule_list shows it) or its 32-digit id",
                ));
            }
            None => None,
        };
        let paging = ListParams {
            current: p.current,
            row_count: p.row_count,
            search_phrase: None,
            raw: p.raw,
        };
        let mut note = None;
        let phrase = match (address, port) {
            (None, None) => String::new(),
            (Some(n), None) => n.phrase(),
            (Some(n), Some(port)) if n.is_v6() => format!("[{}]:{port}", n.phrase()),
            (Some(n), Some(port)) => format!("{}:{port}", n.phrase()),
            (None, Some(port)) => {
                note = Some(format!(
                    "Only IPv4 states were searched for port {port}; give address \"::/0\" for the IPv6 ones."
                ));
                format!("0.0.0.0/0:{port}")
            }
        };
        let mut q = paging.query()?.phrase(phrase);
        if let Some(id) = rule {
            q = q.filter("ruleid", id);
        }
        let page: SearchPage<Value> = self.client().send_json(states_request(&q)).await?;
        let mut listing =
            Listing::from_page(&q, p.raw, page, &Rows::<PfState, _>::all(StateView::from));
        if listing.note.is_none() {
            listing.note = note;
        }
        Ok(Json(listing))
    }

    /// Every gateway with its status (online, down, latency, loss), round-trip delay and
    /// standard deviation in ms, packet loss in %, and whether dpinger monitors it.
    #[tool(annotations(title = "Gateway status"))]
    pub(crate) async fn gateway_status(
        &self,
        Parameters(p): Parameters<RawParams>,
    ) -> Result<Json<GatewayList>, ToolError> {
        let v: Value = self.client().send_json(gateway_status_request()).await?;
        let (Some(items), Some(status)) = (
            v.get("items"),
            v.get("status").map(opnsense_api::fields::selected_string),
        ) else {
            return Err(ToolError::message(
                "OPNsense returned an unexpected answer: expected {\"items\": [...], \"status\": ...}",
            ));
        };
        let items = rows_of(items.clone(), "gateways")?;
        let (rows, undecoded) = compact::<GatewayStatus, _>(items, GatewayView::from);
        let note = (status != "ok" || rows.is_empty()).then(|| {
            format!(
                "OPNsense answered status {status:?} with {} gateway(s): it says failed whenever it has no gateway status at all, i.e. no gateway is configured (System > Gateways) or the status could not be read.",
                rows.len()
            )
        });
        Ok(Json(GatewayList {
            total: rows.len() + undecoded.len(),
            down: rows.iter().filter(|r| r.view.down).count(),
            status,
            rows: if p.raw { Vec::new() } else { rows },
            undecoded,
            note,
            raw: p.raw.then_some(v),
        }))
    }

    /// The kernel routing table as the firewall uses it now (both IPv4 and IPv6; not the
    /// configured static routes, see `route_list`): destination, gateway, flags, interface, MTU.
    /// Paged; `family` and `search_phrase` filter it.
    #[tool(annotations(title = "Kernel routing table"))]
    async fn route_table(
        &self,
        Parameters(p): Parameters<RouteTableParams>,
    ) -> Result<Json<Listing<KernelRouteView>>, ToolError> {
        let family = match p.family.as_deref() {
            None => None,
            Some(f @ ("ipv4" | "ipv6")) => Some(f.to_owned()),
            Some(other) => {
                return Err(ToolError::invalid(
                    "family",
                    format!(
                        "{:?} is not an address family: use ipv4 or ipv6",
                        excerpt(other)
                    ),
                ));
            }
        };
        let q = ListParams {
            current: p.current,
            row_count: p.row_count,
            search_phrase: p.search_phrase.clone(),
            raw: p.raw,
        }
        .query()?;
        let all = rows_of(self.client().send_json(routes_request()).await?, "routes")?;
        let all: Vec<Value> = all
            .into_iter()
            .filter(|r| {
                family
                    .as_deref()
                    .is_none_or(|f| r.get("proto").and_then(Value::as_str) == Some(f))
            })
            .collect();
        Ok(Json(Listing::from_all(
            &q,
            p.raw,
            all,
            &Rows::<KernelRoute, _>::all(KernelRouteView::from),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_contain_their_addresses_only() {
        let n = Net::parse("f", "10.0.0.0/24").expect("net");
        assert!(n.contains("10.0.0.255".parse().expect("ip")));
        assert!(!n.contains("10.0.1.0".parse().expect("ip")));
        assert!(!n.contains("::ffff:10.0.0.1".parse().expect("ip")));
        let h = Net::parse("f", "2001:db8::1").expect("host");
        assert!(h.contains("2001:db8::1".parse().expect("ip")));
        assert!(!h.contains("2001:db8::2".parse().expect("ip")));
        let all = Net::parse("f", "::/0").expect("all");
        assert!(all.contains("fe80::1".parse().expect("ip")));
        assert_eq!(n.phrase(), "10.0.0.0/24");
        assert_eq!(h.phrase(), "2001:db8::1");
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/+1",
            "x",
            "10.0.0.0/24/1",
            "",
        ] {
            let e = Net::parse("source", bad).expect_err(bad);
            assert!(e.text().contains("invalid argument source"), "{e}");
        }
    }

    #[test]
    fn a_filtered_search_that_read_every_line_it_asked_for_says_so() {
        assert_eq!(log_note(false, false, 50, 50, 50, 50), None);
        assert_eq!(log_note(false, true, 3, 50, 120, LOG_SCAN), None);
        let older = log_note(false, true, 3, 50, 5000, LOG_SCAN).expect("note");
        assert!(
            older.starts_with("Only the newest 5000 log lines"),
            "{older}"
        );
        assert_eq!(log_note(false, true, 50, 50, 5000, LOG_SCAN), None);
        let both = log_note(true, true, 0, 10, 5000, LOG_SCAN).expect("note");
        assert!(
            both.contains("reject rules") && both.contains("older matching"),
            "{both}"
        );
    }

    #[test]
    fn rule_filters_tell_ids_from_words() {
        let id = RuleFilter::parse("rule", Some("A3592386-D8F3-48B3-B066-90216F687D9A".into()))
            .expect("ok")
            .expect("some");
        assert!(id.matches("a3592386-d8f3-48b3-b066-90216f687d9a", ""));
        let hash = RuleFilter::parse("rule", Some("ecd3a310894625657c6591b80daa956a".into()))
            .expect("ok")
            .expect("some");
        assert_eq!(
            hash,
            RuleFilter::Id("ecd3a310894625657c6591b80daa956a".into())
        );
        let words = RuleFilter::parse("rule", Some("Default deny".into()))
            .expect("ok")
            .expect("some");
        assert!(words.matches("x", "Default deny / state violation rule"));
        assert!(RuleFilter::parse("rule", Some(" ".into())).is_err());
        assert!(RuleFilter::parse("rule", Some("a\nb".into())).is_err());
    }
}

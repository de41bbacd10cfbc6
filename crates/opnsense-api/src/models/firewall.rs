//! Firewall models: filter rules (`firewall/filter`), aliases (`firewall/alias`) and destination
//! NAT rules (`firewall/d_nat`), as in OPNsense 26.1's Filter.xml, Alias.xml and DNat.xml.
//!
//! The same struct reads a `get` answer (option maps) and a search row (raw strings plus `%field`
//! display columns, kept in `extra`), and serialises to exactly what add/set accept: plain
//! strings, `"0"`/`"1"`, comma lists, newline-joined alias content and nested d_nat endpoints.
//! Read-only (volatile) fields are read but never sent.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserializer;

use crate::fields::{CsvList, Extra, LineList, map_or_empty, num_string, opt, opt_object};
use crate::path::{Revision, Uuid};

crate::wire_enum! {
    /// What a filter rule does with matching packets.
    pub enum Action {
        /// Allow.
        Pass = "pass",
        /// Drop silently.
        Block = "block",
        /// Drop and answer with a TCP RST / ICMP unreachable.
        Reject = "reject",
    }
}

crate::wire_enum! {
    /// Traffic direction a filter rule matches, seen from the interface.
    pub enum Direction {
        /// Entering the firewall on the interface (the usual choice).
        In = "in",
        /// Leaving the firewall on the interface.
        Out = "out",
        /// Both directions.
        Any = "any",
    }
}

crate::wire_enum! {
    /// Address family of a filter or NAT rule.
    pub enum IpProtocol {
        /// IPv4.
        Inet = "inet",
        /// IPv6.
        Inet6 = "inet6",
        /// IPv4 and IPv6.
        Inet46 = "inet46",
    }
}

crate::wire_enum! {
    /// Layer-4 protocol of a filter rule (OPNsense spells these upper-case, except `any`; any other
    /// /etc/protocols name, upper-cased, is accepted too and kept as [`Protocol::Other`]).
    pub enum Protocol {
        /// Any protocol.
        Any = "any",
        /// TCP.
        Tcp = "TCP",
        /// UDP.
        Udp = "UDP",
        /// TCP or UDP.
        TcpUdp = "TCP/UDP",
        /// ICMP (IPv4).
        Icmp = "ICMP",
        /// ICMPv6.
        Ipv6Icmp = "IPV6-ICMP",
        /// IPsec ESP.
        Esp = "ESP",
        /// IPsec AH.
        Ah = "AH",
        /// GRE.
        Gre = "GRE",
        /// IGMP.
        Igmp = "IGMP",
        /// PIM.
        Pim = "PIM",
        /// OSPF.
        Ospf = "OSPF",
        /// SCTP.
        Sctp = "SCTP",
        /// CARP.
        Carp = "CARP",
    }
}

/// The protocol table of FreeBSD's `/etc/protocols` (freebsd-src `lib/libc/net/protocols` at
/// 9110719c82d3, comment text left out), the one copy the simulator reads too.
const ETC_PROTOCOLS: &str = include_str!("../../../../data/protocols");

/// The IPv6 extension headers `ProtocolField` leaves out: pf skips them, so cannot police them.
const IPV6_EXTENSION_HEADERS: &[&str] = &[
    "IPV6-ROUTE",
    "IPV6-FRAG",
    "IPV6-OPTS",
    "IPV6-NONXT",
    "MOBILITY-HEADER",
];

/// Every protocol OPNsense's `ProtocolField` offers besides `any` and `TCP/UDP`, upper-cased,
/// in `/etc/protocols` order: the names of FreeBSD's `/etc/protocols` with a protocol number
/// above 0 and at least four parts on their line (name, number, alias and comment), less the
/// IPv6 extension headers pf cannot police (`ProtocolField::actionPostLoadingEvent`,
/// opnsense/core 26.1.11 and 26.7.2). Read from `data/protocols` at first use.
pub static PROTOCOL_NAMES: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| protocol_field_names(ETC_PROTOCOLS));

/// `ProtocolField`'s reading of an `/etc/protocols` text (each name upper-cased once and kept
/// for the life of the process).
fn protocol_field_names(etc_protocols: &str) -> Vec<&'static str> {
    etc_protocols
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let number: u32 = parts.get(1)?.parse().ok()?;
            (parts.len() >= 4 && number > 0).then(|| parts[0].to_ascii_uppercase())
        })
        .filter(|name| !IPV6_EXTENSION_HEADERS.contains(&name.as_str()))
        .map(|name| &*name.leak())
        .collect()
}

/// How a model spells protocols: filter rules upper-case, destination NAT lower-case (the
/// field's `ChangeCase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolCase {
    /// `TCP`, `TCP/UDP` (filter rules).
    Upper,
    /// `tcp`, `tcp/udp` (destination NAT).
    Lower,
}

/// A protocol as OPNsense stores it after `ProtocolField::setValue`: `any` (any case) becomes
/// `any`; `TCP/UDP` and every name of [`PROTOCOL_NAMES`] are accepted in any case and spelled in
/// `case`. `None` for anything OPNsense would refuse.
pub fn normalise_protocol(s: &str, case: ProtocolCase) -> Option<String> {
    let upper = s.to_ascii_uppercase();
    if upper == "ANY" {
        return Some("any".to_owned());
    }
    if upper != "TCP/UDP" && !PROTOCOL_NAMES.contains(&upper.as_str()) {
        return None;
    }
    Some(match case {
        ProtocolCase::Upper => upper,
        ProtocolCase::Lower => upper.to_ascii_lowercase(),
    })
}

crate::wire_enum! {
    /// State tracking of a filter rule.
    pub enum StateType {
        /// Keep state (default).
        Keep = "keep",
        /// Sloppy state.
        Sloppy = "sloppy",
        /// Modulate state.
        Modulate = "modulate",
        /// SYN proxy.
        Synproxy = "synproxy",
        /// No state.
        None = "none",
    }
}

crate::wire_enum! {
    /// State binding of a filter rule (unset = the system default).
    pub enum StatePolicy {
        /// Bind states to the interface that created them.
        IfBound = "if-bound",
        /// States may match on any interface.
        Floating = "floating",
    }
}

wire_model! {
    /// A filter rule (`rules.rule`, wrapper `rule`). Only the fields a caller sets are sent.
    ///
    /// Search rows also include legacy and automatic rules (see [`FilterRule::origin`]); their
    /// booleans may be spelled `yes`/`true` or be JSON booleans, which [`opt_bool`](crate::fields::opt_bool) reads.
    pub struct FilterRule {
        /// Record id (search rows only; legacy and automatic rows carry a rule label here).
        pub uuid: Option<String>,
        /// Rule active (default on).
        pub enabled: Option<bool>,
        /// State tracking (default keep).
        #[serde(deserialize_with = "opt")]
        pub statetype: Option<StateType>,
        /// State binding (`None` = the system default).
        #[serde(rename = "state-policy", deserialize_with = "opt")]
        pub state_policy: Option<StatePolicy>,
        /// Evaluation order (1 to 999999; default: after the last rule).
        #[serde(serialize_with = "num_string")]
        pub sequence: Option<u64>,
        /// Pass, block or reject (default pass).
        #[serde(deserialize_with = "opt")]
        pub action: Option<Action>,
        /// Stop evaluating at the first match (default on).
        pub quick: Option<bool>,
        /// Invert the interface match (single interface only).
        pub interfacenot: Option<bool>,
        /// Interface keys (`lan`, `wan`, `opt1`, groups); empty = floating rule.
        pub interface: Option<CsvList>,
        /// Direction (default in).
        #[serde(deserialize_with = "opt")]
        pub direction: Option<Direction>,
        /// Address family (default inet).
        #[serde(deserialize_with = "opt")]
        pub ipprotocol: Option<IpProtocol>,
        /// Protocol (default any).
        #[serde(deserialize_with = "opt")]
        pub protocol: Option<Protocol>,
        /// ICMP types (`echoreq`, `unreach`, ...; protocol `ICMP` only).
        pub icmptype: Option<CsvList>,
        /// ICMPv6 types as numbers (`128` echo request, ...; protocol `IPV6-ICMP` only).
        pub icmp6type: Option<CsvList>,
        /// Source: `any`, an alias, an interface network (`lan`), `lanip`, `(self)`, an address or CIDR (comma list of named items).
        pub source_net: Option<String>,
        /// Invert the source match.
        pub source_not: Option<bool>,
        /// Source port, range (`1000-2000`), service name or port alias (TCP/UDP only).
        pub source_port: Option<String>,
        /// Destination, same forms as the source.
        pub destination_net: Option<String>,
        /// Invert the destination match.
        pub destination_not: Option<bool>,
        /// Destination port, range, service name or port alias (TCP/UDP only).
        pub destination_port: Option<String>,
        /// Divert socket id (pass rules only).
        #[serde(rename = "divert-to")]
        pub divert_to: Option<String>,
        /// Gateway or gateway group name for policy routing (e.g. `WAN_DHCP`); excludes `replyto`.
        pub gateway: Option<String>,
        /// Reply-to gateway name; excludes `gateway`.
        pub replyto: Option<String>,
        /// Disable the automatic reply-to of WAN rules.
        pub disablereplyto: Option<bool>,
        /// Log matching packets.
        pub log: Option<bool>,
        /// Allow packets with IP options.
        pub allowopts: Option<bool>,
        /// Do not sync this rule to the HA peer.
        pub nosync: Option<bool>,
        /// Do not sync the states of this rule via pfsync.
        pub nopfsync: Option<bool>,
        /// State timeout in seconds (TCP only).
        #[serde(serialize_with = "num_string")]
        pub statetimeout: Option<u64>,
        /// UDP first-packet state timeout in seconds.
        #[serde(rename = "udp-first", serialize_with = "num_string")]
        pub udp_first: Option<u64>,
        /// UDP multiple-packet state timeout in seconds.
        #[serde(rename = "udp-multiple", serialize_with = "num_string")]
        pub udp_multiple: Option<u64>,
        /// UDP single-packet state timeout in seconds.
        #[serde(rename = "udp-single", serialize_with = "num_string")]
        pub udp_single: Option<u64>,
        /// Maximum source hosts with states.
        #[serde(rename = "max-src-nodes", serialize_with = "num_string")]
        pub max_src_nodes: Option<u64>,
        /// Maximum states per source host.
        #[serde(rename = "max-src-states", serialize_with = "num_string")]
        pub max_src_states: Option<u64>,
        /// Maximum established TCP connections per source host (TCP only).
        #[serde(rename = "max-src-conn", serialize_with = "num_string")]
        pub max_src_conn: Option<u64>,
        /// Maximum states of this rule.
        #[serde(serialize_with = "num_string")]
        pub max: Option<u64>,
        /// New TCP connections allowed per `max_src_conn_rates` seconds (TCP only; set both).
        #[serde(rename = "max-src-conn-rate", serialize_with = "num_string")]
        pub max_src_conn_rate: Option<u64>,
        /// Interval in seconds for `max_src_conn_rate` (TCP only; set both).
        #[serde(rename = "max-src-conn-rates", serialize_with = "num_string")]
        pub max_src_conn_rates: Option<u64>,
        /// Uuid of the alias offending hosts are added to (TCP only).
        pub overload: Option<String>,
        /// State count where adaptive timeout scaling starts (0 with `adaptiveend` 0 disables it).
        #[serde(serialize_with = "num_string")]
        pub adaptivestart: Option<u64>,
        /// State count where adaptive timeouts reach zero.
        #[serde(serialize_with = "num_string")]
        pub adaptiveend: Option<u64>,
        /// Match packets with this priority (0 to 7; `None` = any).
        #[serde(serialize_with = "num_string")]
        pub prio: Option<u64>,
        /// Set this priority on matching packets (0 to 7; `None` = keep).
        #[serde(rename = "set-prio", serialize_with = "num_string")]
        pub set_prio: Option<u64>,
        /// Priority for low-latency packets and ACKs (needs `set_prio`).
        #[serde(rename = "set-prio-low", serialize_with = "num_string")]
        pub set_prio_low: Option<u64>,
        /// Tag matching packets (letters, digits and `.,_-`).
        pub tag: Option<String>,
        /// Match packets tagged by another rule.
        pub tagged: Option<String>,
        /// TCP flags that must be set (`syn`, `ack`, ...; needs `tcpflags2`).
        pub tcpflags1: Option<CsvList>,
        /// TCP flags out of which `tcpflags1` are checked.
        pub tcpflags2: Option<CsvList>,
        /// Match any TCP flags (excludes `tcpflags1`/`tcpflags2`).
        pub tcpflags_any: Option<bool>,
        /// Category uuids.
        pub categories: Option<CsvList>,
        /// Schedule name (from the legacy schedules).
        pub sched: Option<String>,
        /// Match this TOS / DSCP value (`lowdelay`, `ef`, `af11`, `cs1`, `0x10`, ...).
        pub tos: Option<String>,
        /// Traffic shaper pipe or queue uuid (forward direction).
        pub shaper1: Option<String>,
        /// Traffic shaper pipe or queue uuid (reverse direction; needs `shaper1`).
        pub shaper2: Option<String>,
        /// Description (1 to 255 characters, no newlines).
        pub description: Option<String>,
        /// Search rows only: a rule that is not an MVC (API) record: made in the classic GUI, or
        /// generated by OPNsense or a plugin (`filter list non_mvc_rules`). Read-only, never sent.
        #[serde(skip_serializing)]
        pub legacy: Option<bool>,
        /// Search rows only: a rule OPNsense or a plugin generated (no `updated` stamp). Read-only,
        /// never sent.
        #[serde(skip_serializing)]
        pub is_automatic: Option<bool>,
    }
    /// Everything else (`%action` display text, `sort_order`, `prio_group`, `alias_meta_*`, ...).
    extra, searched as FilterRuleRow
}

/// What kind of row a filter-rule search returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleOrigin {
    /// An MVC rule: editable through the API (get/set/delete with its uuid).
    Api,
    /// A rule made in the classic GUI (interface rules not migrated to the MVC model): active,
    /// but not editable through the API.
    Legacy,
    /// A rule OPNsense or a plugin generates (anti-lockout, IPv6 housekeeping, VPN, ...).
    Automatic,
}

impl FilterRule {
    /// Where the row comes from. A row whose id is not a uuid is never an API rule.
    pub fn origin(&self) -> RuleOrigin {
        let uuid_ok = self.uuid.as_deref().is_some_and(|u| Uuid::parse(u).is_ok());
        if self.is_automatic == Some(true) {
            RuleOrigin::Automatic
        } else if self.legacy == Some(true) {
            RuleOrigin::Legacy
        } else if uuid_ok {
            RuleOrigin::Api
        } else {
            RuleOrigin::Automatic
        }
    }

    /// Legacy or automatic rules appear in search results but cannot be edited through the API.
    pub fn is_legacy(&self) -> bool {
        self.origin() != RuleOrigin::Api
    }

    /// The rule's uuid when it is an API-managed (MVC) rule, i.e. usable with get/set/delete.
    pub fn id(&self) -> Option<Uuid> {
        match self.origin() {
            RuleOrigin::Api => self.uuid.as_deref().and_then(|u| Uuid::parse(u).ok()),
            _ => None,
        }
    }
}

crate::wire_enum! {
    /// Alias type.
    pub enum AliasType {
        /// Hosts: IPs, ranges, FQDNs, other aliases.
        Host = "host",
        /// Networks in CIDR form.
        Network = "network",
        /// Ports and port ranges (`8000:8100`).
        Port = "port",
        /// A URL whose content is a list of IPs.
        Url = "url",
        /// A URL table of IPs refreshed periodically.
        Urltable = "urltable",
        /// A URL returning JSON.
        Urljson = "urljson",
        /// Countries (ISO codes).
        Geoip = "geoip",
        /// A group of network aliases.
        Networkgroup = "networkgroup",
        /// MAC addresses.
        Mac = "mac",
        /// BGP AS numbers.
        Asn = "asn",
        /// Dynamic IPv6 host suffixes.
        Dynipv6host = "dynipv6host",
        /// OpenVPN group.
        Authgroup = "authgroup",
        /// Internal (automatic).
        Internal = "internal",
        /// External (managed outside OPNsense).
        External = "external",
    }
}

crate::wire_enum! {
    /// How a URL alias authenticates to its source.
    pub enum AliasAuthType {
        /// HTTP Basic (`username` + `password`).
        Basic = "Basic",
        /// Bearer token (`password`).
        Bearer = "Bearer",
        /// A custom header (`username` = key, `password` = value).
        Header = "Header",
    }
}

wire_model! {
    /// An alias (`aliases.alias`, wrapper `alias`).
    pub struct Alias {
        /// Record id (search rows; built-in aliases use their name here).
        pub uuid: Option<String>,
        /// Alias active (default on).
        pub enabled: Option<bool>,
        /// Name: starts with a letter or `_`, under 32 letters/digits/underscores, unique, not a reserved word.
        pub name: Option<String>,
        /// Type. Required when adding (the model default is not a valid type).
        #[serde(rename = "type", deserialize_with = "opt")]
        pub alias_type: Option<AliasType>,
        /// JSON path expression selecting the addresses of a `urljson` alias.
        pub path_expression: Option<String>,
        /// Address families of geoip/asn aliases (`IPv4`, `IPv6`).
        pub proto: Option<CsvList>,
        /// Interface key a `dynipv6host` alias tracks (required for that type).
        pub interface: Option<String>,
        /// Collect pf table counters.
        pub counters: Option<bool>,
        /// Refresh interval in days for URL tables (fractions allowed, e.g. `0.5`).
        pub updatefreq: Option<String>,
        /// Entries (sent newline-separated; a comma is part of an entry).
        #[serde(deserialize_with = "crate::fields::opt_lines")]
        pub content: Option<LineList>,
        /// URL authentication secret or token (sent as given; beware of logging the model).
        pub password: Option<String>,
        /// URL authentication user or header key.
        pub username: Option<String>,
        /// URL authentication type.
        #[serde(deserialize_with = "opt")]
        pub authtype: Option<AliasAuthType>,
        /// Expiry of external table entries in seconds (60 to 999999999).
        #[serde(serialize_with = "num_string")]
        pub expire: Option<u64>,
        /// Category uuids.
        pub categories: Option<CsvList>,
        /// Description.
        pub description: Option<String>,
        /// Entries currently loaded in the pf table (read-only, never sent).
        #[serde(skip_serializing)]
        pub current_items: Option<u64>,
        /// When the table was last loaded (read-only, never sent).
        #[serde(skip_serializing)]
        pub last_updated: Option<String>,
    }
    /// Everything else (`%type`, pf statistics, `categories_uuid`, ...).
    extra, searched as AliasRow
}

impl Alias {
    /// Built-in aliases (`bogons`, `__lan_network`, ...) have a name, not a uuid, as id and
    /// cannot be changed.
    pub fn is_builtin(&self) -> bool {
        self.uuid
            .as_deref()
            .is_some_and(|u| Uuid::parse(u).is_err())
    }
}

wire_model! {
    /// `firewall/alias/get`: the whole alias model.
    pub struct AliasModel {
        /// GeoIP settings.
        #[serde(deserialize_with = "opt_object")]
        pub geoip: Option<AliasGeoIp>,
        /// `aliases.alias`: uuid (or built-in name) -> alias, with option maps flattened (`[]` when
        /// there are none).
        #[serde(deserialize_with = "alias_map_container")]
        pub aliases: AliasMap,
        /// Everything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// `geoip` of the alias model.
    pub struct AliasGeoIp {
        /// Download URL of the GeoIP database (empty = not configured).
        pub url: Option<String>,
        /// Everything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// `{"alias": {"<uuid>": {...}}}`.
    pub struct AliasMap {
        /// The aliases by id; each alias's `uuid` is filled in from its key.
        #[serde(deserialize_with = "alias_map")]
        pub alias: BTreeMap<String, Alias>,
    }
}

/// The `aliases` container; `[]` (PHP's empty array) or anything not an object is empty.
fn alias_map_container<'de, D: Deserializer<'de>>(d: D) -> Result<AliasMap, D::Error> {
    Ok(opt_object::<D, AliasMap>(d)?.unwrap_or_default())
}

/// The alias map (`[]` when empty), each alias's `uuid` filled in from its key.
fn alias_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Alias>, D::Error> {
    let mut map: BTreeMap<String, Alias> = map_or_empty(d)?;
    for (k, a) in &mut map {
        if a.uuid.is_none() {
            a.uuid = Some(k.clone());
        }
    }
    Ok(map)
}

crate::wire_enum! {
    /// Protocol of a port forward (OPNsense spells these lower-case; "any" is `None`, the literal
    /// `any` is refused; other /etc/protocols names are kept as [`NatProtocol::Other`]).
    pub enum NatProtocol {
        /// TCP.
        Tcp = "tcp",
        /// UDP.
        Udp = "udp",
        /// TCP or UDP.
        TcpUdp = "tcp/udp",
        /// ICMP.
        Icmp = "icmp",
        /// IPsec ESP.
        Esp = "esp",
        /// IPsec AH.
        Ah = "ah",
        /// GRE.
        Gre = "gre",
        /// IGMP.
        Igmp = "igmp",
        /// PIM.
        Pim = "pim",
        /// OSPF.
        Ospf = "ospf",
    }
}

crate::wire_enum! {
    /// Address pool option of a port forward whose target is an alias (`None` = default).
    pub enum PoolOpts {
        /// Round robin.
        RoundRobin = "round-robin",
        /// Round robin with sticky address.
        RoundRobinSticky = "round-robin sticky-address",
        /// Random.
        Random = "random",
        /// Random with sticky address.
        RandomSticky = "random sticky-address",
        /// Source hash.
        SourceHash = "source-hash",
        /// Bitmask.
        Bitmask = "bitmask",
    }
}

crate::wire_enum! {
    /// NAT reflection of a port forward (`None` = system default).
    pub enum NatReflection {
        /// Enable (pure NAT).
        Enable = "purenat",
        /// Disable.
        Disable = "disable",
    }
}

crate::wire_enum! {
    /// Filter rule association of a port forward (`None` = manual: add a pass rule yourself).
    pub enum NatPass {
        /// Pass matching traffic (no separate filter rule).
        Pass = "pass",
        /// Register an automatic filter rule.
        RegisterRule = "rule",
    }
}

wire_model! {
    /// One side of a port forward match (`source` / `destination`).
    ///
    /// The read-only `address` OPNsense mirrors from legacy configurations stays in `extra`
    /// (sending it back is harmless: the field is volatile).
    pub struct NatEndpoint {
        /// `any`, `(self)`, an interface (`wan`), `wanip`, an alias, an address or CIDR.
        pub network: Option<String>,
        /// Port, range (`8000-8100`), service name or port alias (TCP/UDP only).
        pub port: Option<String>,
        /// Invert the match.
        #[serde(rename = "not")]
        pub invert: Option<bool>,
        /// Everything else (`address`).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// `created` / `updated` of a port forward.
    pub struct NatChange {
        /// API or GUI user.
        pub username: Option<String>,
        /// Unix time with fraction, as text (`"1767361234.57"`).
        pub time: Option<String>,
        /// e.g. `/api.php made changes`.
        pub description: Option<String>,
        /// Everything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// The fields a port forward has in both shapes (get/set and search rows).
    pub struct DNatFields {
        /// Evaluation order (1 to 999999; default: after the last rule; absent on automatic rows).
        #[serde(serialize_with = "num_string")]
        pub sequence: Option<u64>,
        /// Rule inactive (note: inverted compared to filter rules).
        pub disabled: Option<bool>,
        /// "No redirect": exclude matching traffic from redirection.
        pub nordr: Option<bool>,
        /// Interface keys the rule listens on (`wan`).
        pub interface: Option<CsvList>,
        /// Address family (`None` = any).
        #[serde(deserialize_with = "opt")]
        pub ipprotocol: Option<IpProtocol>,
        /// Protocol (`None` = any; `any` itself is not accepted).
        #[serde(deserialize_with = "opt")]
        pub protocol: Option<NatProtocol>,
        /// Redirect target: internal address or alias.
        pub target: Option<String>,
        /// Redirect target port (start port when the destination is a range).
        #[serde(rename = "local-port")]
        pub local_port: Option<String>,
        /// Pool option when the target is an alias with several addresses (`None` = default).
        #[serde(deserialize_with = "opt")]
        pub poolopts: Option<PoolOpts>,
        /// Log matching packets.
        pub log: Option<bool>,
        /// Category **names** (not uuids, unlike filter rules; `Automatically generated rules` on
        /// automatic rows).
        pub category: Option<CsvList>,
        /// Category uuids derived from `category` (read-only, never sent).
        #[serde(skip_serializing)]
        pub categories: Option<CsvList>,
        /// Description.
        pub descr: Option<String>,
        /// Tag matching packets.
        pub tag: Option<String>,
        /// Match packets tagged by another rule.
        pub tagged: Option<String>,
        /// Do not sync this rule to the HA peer.
        pub nosync: Option<bool>,
        /// NAT reflection (`None` = system default).
        #[serde(deserialize_with = "opt")]
        pub natreflection: Option<NatReflection>,
        /// Filter rule association (`None` = manual: add a pass rule yourself).
        #[serde(deserialize_with = "opt")]
        pub pass: Option<NatPass>,
    }
}

wire_model! {
    /// A destination NAT (port forward) rule as `get_rule` returns it and `add_rule`/`set_rule`
    /// take it: nested `source`/`destination`, `descr`, inverted `disabled`, `local-port`.
    pub struct DNatRule {
        /// The fields both shapes share.
        #[serde(flatten)]
        pub fields: DNatFields,
        /// Source match.
        #[serde(deserialize_with = "opt_object")]
        pub source: Option<NatEndpoint>,
        /// Destination match (usually `wanip` and the public port).
        #[serde(deserialize_with = "opt_object")]
        pub destination: Option<NatEndpoint>,
        /// Who created the rule and when (read-only, never sent).
        #[serde(deserialize_with = "opt_object", skip_serializing)]
        pub created: Option<NatChange>,
        /// Who changed the rule last and when (read-only, set by OPNsense on every add/set).
        #[serde(deserialize_with = "opt_object", skip_serializing)]
        pub updated: Option<NatChange>,
        /// Everything else (`associated-rule-id`, ...).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// A destination NAT row as `search_rule` returns it: flat, with dotted keys
    /// (`source.network`, `destination.port`).
    pub struct DNatRow {
        /// Record id; for OPNsense's automatic rows a label instead (`lockout_<n>` on 26.1,
        /// `automatic_pf_<n>` on 26.7).
        pub uuid: String,
        /// 26.7: `true` on OPNsense's automatic rows.
        pub is_automatic: Option<bool>,
        /// The fields both shapes share.
        #[serde(flatten)]
        pub fields: DNatFields,
        /// Source network.
        #[serde(rename = "source.network")]
        pub source_network: Option<String>,
        /// Source port.
        #[serde(rename = "source.port")]
        pub source_port: Option<String>,
        /// Invert the source match.
        #[serde(rename = "source.not")]
        pub source_not: Option<bool>,
        /// Destination network.
        #[serde(rename = "destination.network")]
        pub destination_network: Option<String>,
        /// Destination port.
        #[serde(rename = "destination.port")]
        pub destination_port: Option<String>,
        /// Invert the destination match.
        #[serde(rename = "destination.not")]
        pub destination_not: Option<bool>,
        /// Everything else (`%` display columns, `created.time`, `alias_meta_*`, ...).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

/// Port-forward rows have two flattened parts (the shared fields and `extra`): read as they are.
impl crate::grid::SearchRow for DNatRow {
    type Row = Self;
}

impl DNatRow {
    /// OPNsense's automatic rows (anti-lockout and friends): not user records, their ids cannot
    /// be used with get/set/delete.
    pub fn is_automatic(&self) -> bool {
        self.is_automatic == Some(true) || self.id().is_none()
    }

    /// The row's uuid, unless it is an automatic row (or otherwise not a uuid).
    pub fn id(&self) -> Option<Uuid> {
        Uuid::parse(&self.uuid).ok()
    }

    /// The row as a [`DNatRule`] (nested endpoints), e.g. to change a field and `set` it back.
    /// Display columns and read-only values are left out.
    pub fn to_rule(&self) -> DNatRule {
        let endpoint = |network: &Option<String>, port: &Option<String>, invert: Option<bool>| {
            (network.is_some() || port.is_some() || invert.is_some()).then(|| NatEndpoint {
                network: network.clone(),
                port: port.clone(),
                invert,
                extra: Extra::default(),
            })
        };
        DNatRule {
            fields: self.fields.clone(),
            source: endpoint(&self.source_network, &self.source_port, self.source_not),
            destination: endpoint(
                &self.destination_network,
                &self.destination_port,
                self.destination_not,
            ),
            created: None,
            updated: None,
            extra: Extra::default(),
        }
    }
}

wire_model! {
    /// `firewall/filter/savepoint`.
    pub struct Savepoint {
        /// `ok`.
        pub status: String,
        /// The revision to pass to apply/cancelRollback/revert (see [`Savepoint::checked_revision`]).
        pub revision: String,
        /// How many backups are kept.
        pub retention: Option<String>,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

impl Savepoint {
    /// The revision as a path-safe [`Revision`].
    pub fn checked_revision(&self) -> crate::Result<Revision> {
        Revision::parse(&self.revision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reading of `data/protocols` holds what OPNsense 26.1's `ProtocolField` lists: 131
    /// names in file order, without `ip` (number 0), the lines without a comment (`FIRE`,
    /// `SSCOPMCE`, `IPLT`) and the IPv6 extension headers, with the name (not the alias)
    /// upper-cased.
    #[test]
    fn protocol_names_follow_protocol_field() {
        assert_eq!(PROTOCOL_NAMES.len(), 131);
        assert_eq!(PROTOCOL_NAMES[..3], ["ICMP", "IGMP", "GGP"]);
        assert_eq!(PROTOCOL_NAMES.last(), Some(&"DIVERT"));
        for kept in [
            "TCP",
            "UDP",
            "IPENCAP",
            "IPV6",
            "IPV6-ICMP",
            "OSPF",
            "CARP",
            "PFSYNC",
        ] {
            assert!(PROTOCOL_NAMES.contains(&kept), "{kept}");
        }
        for left_out in [
            "IP",
            "HOPOPT",
            "FIRE",
            "SSCOPMCE",
            "IPLT",
            "IPV6-ROUTE",
            "IPV6-FRAG",
            "IPV6-OPTS",
            "IPV6-NONXT",
            "MOBILITY-HEADER",
            "IP-ENCAP",
            "OSPFIGP",
            "VRRP",
            "ICMP6",
        ] {
            assert!(!PROTOCOL_NAMES.contains(&left_out), "{left_out}");
        }
    }
}

//! Firewall models: filter rules (`firewall/filter`), aliases (`firewall/alias`) and destination
//! NAT rules (`firewall/d_nat`), as in OPNsense 26.1's Filter.xml, Alias.xml and DNat.xml.
//!
//! The same struct reads a `get` answer (option maps) and a search row (raw strings plus `%field`
//! display columns, kept in `extra`), and serialises to exactly what add/set accept: plain
//! strings, `"0"`/`"1"`, comma lists, newline-joined alias content and nested d_nat endpoints.
//! Read-only (volatile) fields are read but never sent.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::ser::Serializer;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::fields::{CsvList, Extra, LineList, opt, opt_bool, selected_string};
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

/// A filter rule (`rules.rule`, wrapper `rule`). Only the fields a caller sets are sent.
///
/// Search rows also include legacy and automatic rules (see [`FilterRule::is_legacy`]); their
/// booleans may be spelled `yes`/`true`, so booleans here are read leniently.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FilterRule {
    /// Record id (search rows only; legacy and automatic rows carry a rule label here).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub uuid: Option<String>,
    /// Rule active (default on).
    #[serde(
        default,
        with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enabled: Option<bool>,
    /// State tracking (default keep).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub statetype: Option<StateType>,
    /// State binding (`None` = the system default).
    #[serde(
        rename = "state-policy",
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub state_policy: Option<StatePolicy>,
    /// Evaluation order (1 to 999999; default: after the last rule).
    #[serde(
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub sequence: Option<u64>,
    /// Pass, block or reject (default pass).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub action: Option<Action>,
    /// Stop evaluating at the first match (default on).
    #[serde(
        default,
        with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub quick: Option<bool>,
    /// Invert the interface match (single interface only).
    #[serde(
        default,
        with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub interfacenot: Option<bool>,
    /// Interface keys (`lan`, `wan`, `opt1`, groups); empty = floating rule.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub interface: Option<CsvList>,
    /// Direction (default in).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub direction: Option<Direction>,
    /// Address family (default inet).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ipprotocol: Option<IpProtocol>,
    /// Protocol (default any).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub protocol: Option<Protocol>,
    /// ICMP types (`echoreq`, `unreach`, ...; protocol `ICMP` only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub icmptype: Option<CsvList>,
    /// ICMPv6 types as numbers (`128` echo request, ...; protocol `IPV6-ICMP` only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub icmp6type: Option<CsvList>,
    /// Source: `any`, an alias, an interface network (`lan`), `lanip`, `(self)`, an address or CIDR (comma list of named items).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_net: Option<String>,
    /// Invert the source match.
    #[serde(
        default,
        with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_not: Option<bool>,
    /// Source port, range (`1000-2000`), service name or port alias (TCP/UDP only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_port: Option<String>,
    /// Destination, same forms as the source.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_net: Option<String>,
    /// Invert the destination match.
    #[serde(
        default,
        with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_not: Option<bool>,
    /// Destination port, range, service name or port alias (TCP/UDP only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_port: Option<String>,
    /// Divert socket id (pass rules only).
    #[serde(
        rename = "divert-to",
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub divert_to: Option<String>,
    /// Gateway or gateway group name for policy routing (e.g. `WAN_DHCP`); excludes `replyto`.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub gateway: Option<String>,
    /// Reply-to gateway name; excludes `gateway`.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub replyto: Option<String>,
    /// Disable the automatic reply-to of WAN rules.
    #[serde(
        default,
        with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub disablereplyto: Option<bool>,
    /// Log matching packets.
    #[serde(
        default,
        with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub log: Option<bool>,
    /// Allow packets with IP options.
    #[serde(
        default,
        with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub allowopts: Option<bool>,
    /// Do not sync this rule to the HA peer.
    #[serde(
        default,
        with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub nosync: Option<bool>,
    /// Do not sync the states of this rule via pfsync.
    #[serde(
        default,
        with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub nopfsync: Option<bool>,
    /// State timeout in seconds (TCP only).
    #[serde(
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub statetimeout: Option<u64>,
    /// UDP first-packet state timeout in seconds.
    #[serde(
        rename = "udp-first",
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub udp_first: Option<u64>,
    /// UDP multiple-packet state timeout in seconds.
    #[serde(
        rename = "udp-multiple",
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub udp_multiple: Option<u64>,
    /// UDP single-packet state timeout in seconds.
    #[serde(
        rename = "udp-single",
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub udp_single: Option<u64>,
    /// Maximum source hosts with states.
    #[serde(
        rename = "max-src-nodes",
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_src_nodes: Option<u64>,
    /// Maximum states per source host.
    #[serde(
        rename = "max-src-states",
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_src_states: Option<u64>,
    /// Maximum established TCP connections per source host (TCP only).
    #[serde(
        rename = "max-src-conn",
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_src_conn: Option<u64>,
    /// Maximum states of this rule.
    #[serde(
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub max: Option<u64>,
    /// New TCP connections allowed per `max_src_conn_rates` seconds (TCP only; set both).
    #[serde(
        rename = "max-src-conn-rate",
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_src_conn_rate: Option<u64>,
    /// Interval in seconds for `max_src_conn_rate` (TCP only; set both).
    #[serde(
        rename = "max-src-conn-rates",
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_src_conn_rates: Option<u64>,
    /// Uuid of the alias offending hosts are added to (TCP only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub overload: Option<String>,
    /// State count where adaptive timeout scaling starts (0 with `adaptiveend` 0 disables it).
    #[serde(
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub adaptivestart: Option<u64>,
    /// State count where adaptive timeouts reach zero.
    #[serde(
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub adaptiveend: Option<u64>,
    /// Match packets with this priority (0 to 7; `None` = any).
    #[serde(
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub prio: Option<u64>,
    /// Set this priority on matching packets (0 to 7; `None` = keep).
    #[serde(
        rename = "set-prio",
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub set_prio: Option<u64>,
    /// Priority for low-latency packets and ACKs (needs `set_prio`).
    #[serde(
        rename = "set-prio-low",
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub set_prio_low: Option<u64>,
    /// Tag matching packets (letters, digits and `.,_-`).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tag: Option<String>,
    /// Match packets tagged by another rule.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tagged: Option<String>,
    /// TCP flags that must be set (`syn`, `ack`, ...; needs `tcpflags2`).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tcpflags1: Option<CsvList>,
    /// TCP flags out of which `tcpflags1` are checked.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tcpflags2: Option<CsvList>,
    /// Match any TCP flags (excludes `tcpflags1`/`tcpflags2`).
    #[serde(
        default,
        with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub tcpflags_any: Option<bool>,
    /// Category uuids.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub categories: Option<CsvList>,
    /// Schedule name (from the legacy schedules).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub sched: Option<String>,
    /// Match this TOS / DSCP value (`lowdelay`, `ef`, `af11`, `cs1`, `0x10`, ...).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tos: Option<String>,
    /// Traffic shaper pipe or queue uuid (forward direction).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub shaper1: Option<String>,
    /// Traffic shaper pipe or queue uuid (reverse direction; needs `shaper1`).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub shaper2: Option<String>,
    /// Description (1 to 255 characters, no newlines).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Everything else (`%action` display text, `sort_order`, `prio_group`, `alias_meta_*`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl FilterRule {
    /// Legacy or automatic rules appear in search results but cannot be edited through the API.
    pub fn is_legacy(&self) -> bool {
        self.extra
            .get("legacy")
            .is_some_and(|v| !matches!(v, Value::Bool(false) | Value::Null))
    }

    /// The rule's uuid when it is an API-managed (MVC) rule, i.e. usable with get/set/delete.
    pub fn id(&self) -> Option<Uuid> {
        if self.is_legacy() {
            return None;
        }
        self.uuid.as_deref().and_then(|u| Uuid::parse(u).ok())
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

/// An alias (`aliases.alias`, wrapper `alias`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Alias {
    /// Record id (search rows; built-in aliases use their name here).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub uuid: Option<String>,
    /// Alias active (default on).
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Name: starts with a letter or `_`, under 32 letters/digits/underscores, unique, not a reserved word.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// Type. Required when adding (the model default is not a valid type).
    #[serde(
        rename = "type",
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub alias_type: Option<AliasType>,
    /// JSON path expression selecting the addresses of a `urljson` alias.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub path_expression: Option<String>,
    /// Address families of geoip/asn aliases (`IPv4`, `IPv6`).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub proto: Option<CsvList>,
    /// Interface key a `dynipv6host` alias tracks (required for that type).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub interface: Option<String>,
    /// Collect pf table counters.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub counters: Option<bool>,
    /// Refresh interval in days for URL tables (fractions allowed, e.g. `0.5`).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub updatefreq: Option<String>,
    /// Entries (sent newline-separated; a comma is part of an entry).
    #[serde(
        default,
        deserialize_with = "crate::fields::opt_lines",
        skip_serializing_if = "Option::is_none"
    )]
    pub content: Option<LineList>,
    /// URL authentication secret or token (sent as given; beware of logging the model).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub password: Option<String>,
    /// URL authentication user or header key.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub username: Option<String>,
    /// URL authentication type.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub authtype: Option<AliasAuthType>,
    /// Expiry of external table entries in seconds (60 to 999999999).
    #[serde(
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub expire: Option<u64>,
    /// Category uuids.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub categories: Option<CsvList>,
    /// Description.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Entries currently loaded in the pf table (read-only, never sent).
    #[serde(default, deserialize_with = "opt", skip_serializing)]
    pub current_items: Option<u64>,
    /// When the table was last loaded (read-only, never sent).
    #[serde(default, deserialize_with = "opt", skip_serializing)]
    pub last_updated: Option<String>,
    /// Everything else (`%type`, pf statistics, `categories_uuid`, ...).
    #[serde(flatten)]
    pub extra: Extra,
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

/// `firewall/alias/get`: the whole alias model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AliasModel {
    /// GeoIP settings.
    #[serde(
        default,
        deserialize_with = "opt_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub geoip: Option<AliasGeoIp>,
    /// `aliases.alias`: uuid (or built-in name) -> alias, with option maps flattened.
    #[serde(default)]
    pub aliases: AliasMap,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `geoip` of the alias model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AliasGeoIp {
    /// Download URL of the GeoIP database (empty = not configured).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub url: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `{"alias": {"<uuid>": {...}}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AliasMap {
    /// The aliases by id; each alias's `uuid` is filled in from its key.
    #[serde(default, deserialize_with = "map_or_empty")]
    pub alias: BTreeMap<String, Alias>,
}

fn map_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Alias>, D::Error> {
    match Value::deserialize(d)? {
        Value::Object(m) => m
            .into_iter()
            .map(|(k, v)| {
                serde_json::from_value::<Alias>(v).map(|mut a| {
                    if a.uuid.is_none() {
                        a.uuid = Some(k.clone());
                    }
                    (k, a)
                })
            })
            .collect::<Result<_, _>>()
            .map_err(serde::de::Error::custom),
        _ => Ok(BTreeMap::new()),
    }
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

/// One side of a port forward match (`source` / `destination`).
///
/// The read-only `address` OPNsense mirrors from legacy configurations stays in `extra`
/// (sending it back is harmless: the field is volatile).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NatEndpoint {
    /// `any`, `(self)`, an interface (`wan`), `wanip`, an alias, an address or CIDR.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub network: Option<String>,
    /// Port, range (`8000-8100`), service name or port alias (TCP/UDP only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub port: Option<String>,
    /// Invert the match.
    #[serde(
        rename = "not",
        default,
        with = "opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub invert: Option<bool>,
    /// Everything else (`address`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `created` / `updated` of a port forward.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NatChange {
    /// API or GUI user.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub username: Option<String>,
    /// Unix time with fraction, as text (`"1767361234.57"`).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub time: Option<String>,
    /// e.g. `/api.php made changes`.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A destination NAT (port forward) rule as `get_rule` returns it and `add_rule`/`set_rule`
/// take it: nested `source`/`destination`, `descr`, inverted `disabled`, `local-port`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DNatRule {
    /// Evaluation order (1 to 999999; default: after the last rule).
    #[serde(
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub sequence: Option<u64>,
    /// Rule inactive (note: inverted compared to filter rules).
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// "No redirect": exclude matching traffic from redirection.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub nordr: Option<bool>,
    /// Interface keys the rule listens on (`wan`).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub interface: Option<CsvList>,
    /// Address family (`None` = any).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ipprotocol: Option<IpProtocol>,
    /// Protocol (`None` = any; `any` itself is not accepted).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub protocol: Option<NatProtocol>,
    /// Source match.
    #[serde(
        default,
        deserialize_with = "opt_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub source: Option<NatEndpoint>,
    /// Destination match (usually `wanip` and the public port).
    #[serde(
        default,
        deserialize_with = "opt_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination: Option<NatEndpoint>,
    /// Redirect target: internal address or alias.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub target: Option<String>,
    /// Redirect target port (start port when the destination is a range).
    #[serde(
        rename = "local-port",
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub local_port: Option<String>,
    /// Pool option when the target is an alias with several addresses (`None` = default).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub poolopts: Option<PoolOpts>,
    /// Log matching packets.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub log: Option<bool>,
    /// Category **names** (not uuids, unlike filter rules).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub category: Option<CsvList>,
    /// Category uuids derived from `category` (read-only, never sent).
    #[serde(default, deserialize_with = "opt", skip_serializing)]
    pub categories: Option<CsvList>,
    /// Description.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub descr: Option<String>,
    /// Tag matching packets.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tag: Option<String>,
    /// Match packets tagged by another rule.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tagged: Option<String>,
    /// Do not sync this rule to the HA peer.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub nosync: Option<bool>,
    /// NAT reflection (`None` = system default).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub natreflection: Option<NatReflection>,
    /// Filter rule association (`None` = manual: add a pass rule yourself).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub pass: Option<NatPass>,
    /// Who created the rule and when (read-only, never sent).
    #[serde(default, deserialize_with = "opt_object", skip_serializing)]
    pub created: Option<NatChange>,
    /// Who changed the rule last and when (read-only, set by OPNsense on every add/set).
    #[serde(default, deserialize_with = "opt_object", skip_serializing)]
    pub updated: Option<NatChange>,
    /// Everything else (`associated-rule-id`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A destination NAT row as `search_rule` returns it: flat, with dotted keys
/// (`source.network`, `destination.port`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DNatRow {
    /// Record id, or `lockout_<n>` for OPNsense's anti-lockout pseudo rules.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub uuid: String,
    /// Evaluation order (absent on anti-lockout rows).
    #[serde(
        default,
        deserialize_with = "opt",
        serialize_with = "num_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub sequence: Option<u64>,
    /// Rule inactive.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// "No redirect".
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub nordr: Option<bool>,
    /// Interface keys.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub interface: Option<CsvList>,
    /// Address family (`None` = any).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ipprotocol: Option<IpProtocol>,
    /// Protocol (`None` = any).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub protocol: Option<NatProtocol>,
    /// Source network.
    #[serde(
        rename = "source.network",
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_network: Option<String>,
    /// Source port.
    #[serde(
        rename = "source.port",
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_port: Option<String>,
    /// Invert the source match.
    #[serde(
        rename = "source.not",
        default,
        with = "opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_not: Option<bool>,
    /// Destination network.
    #[serde(
        rename = "destination.network",
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_network: Option<String>,
    /// Destination port.
    #[serde(
        rename = "destination.port",
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_port: Option<String>,
    /// Invert the destination match.
    #[serde(
        rename = "destination.not",
        default,
        with = "opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_not: Option<bool>,
    /// Redirect target.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub target: Option<String>,
    /// Redirect target port.
    #[serde(
        rename = "local-port",
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub local_port: Option<String>,
    /// Pool option.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub poolopts: Option<PoolOpts>,
    /// Log matching packets.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub log: Option<bool>,
    /// Category names (`Automatically generated rules` on anti-lockout rows).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub category: Option<CsvList>,
    /// Category uuids.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub categories: Option<CsvList>,
    /// Description.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub descr: Option<String>,
    /// Tag matching packets.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tag: Option<String>,
    /// Match packets tagged by another rule.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tagged: Option<String>,
    /// Do not sync this rule to the HA peer.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub nosync: Option<bool>,
    /// NAT reflection.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub natreflection: Option<NatReflection>,
    /// Filter rule association.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub pass: Option<NatPass>,
    /// Everything else (`%` display columns, `created.time`, `alias_meta_*`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl DNatRow {
    /// The anti-lockout rows OPNsense prepends: not real rules, their ids cannot be used.
    pub fn is_lockout_pseudo_rule(&self) -> bool {
        self.uuid.starts_with("lockout_")
    }

    /// The row's uuid, unless it is an anti-lockout pseudo rule (or otherwise not a uuid).
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
            sequence: self.sequence,
            disabled: self.disabled,
            nordr: self.nordr,
            interface: self.interface.clone(),
            ipprotocol: self.ipprotocol.clone(),
            protocol: self.protocol.clone(),
            source: endpoint(&self.source_network, &self.source_port, self.source_not),
            destination: endpoint(
                &self.destination_network,
                &self.destination_port,
                self.destination_not,
            ),
            target: self.target.clone(),
            local_port: self.local_port.clone(),
            poolopts: self.poolopts.clone(),
            log: self.log,
            category: self.category.clone(),
            categories: self.categories.clone(),
            descr: self.descr.clone(),
            tag: self.tag.clone(),
            tagged: self.tagged.clone(),
            nosync: self.nosync,
            natreflection: self.natreflection.clone(),
            pass: self.pass.clone(),
            created: None,
            updated: None,
            extra: Extra::default(),
        }
    }
}

/// `firewall/filter/savepoint`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Savepoint {
    /// `ok`.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub status: String,
    /// The revision to pass to apply/cancelRollback/revert (see [`Savepoint::checked_revision`]).
    #[serde(default, deserialize_with = "string_or_empty")]
    pub revision: String,
    /// How many backups are kept.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub retention: Option<String>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Savepoint {
    /// The revision as a path-safe [`Revision`].
    pub fn checked_revision(&self) -> crate::Result<Revision> {
        Revision::parse(&self.revision)
    }
}

// ---- wire helpers specific to these models -------------------------------------------------

/// `serialize_with` for integer fields: OPNsense stores every value as a string.
#[allow(clippy::ref_option, clippy::trivially_copy_pass_by_ref)]
fn num_string<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(n) => s.serialize_str(&n.to_string()),
        None => s.serialize_none(),
    }
}

/// A string field read as text; numbers are rendered, anything else is empty.
fn string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(selected_string(&Value::deserialize(d)?))
}

/// A nested object (`source`, `created`, ...); anything that is not an object is `None`.
fn opt_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Value::deserialize(d)? {
        v @ Value::Object(_) => serde_json::from_value(v)
            .map(Some)
            .map_err(serde::de::Error::custom),
        _ => Ok(None),
    }
}

/// Booleans of filter rules: `"0"`/`"1"` for API rules, but legacy and automatic rows in
/// search results may say `yes`, `true` or a JSON boolean.
mod lenient_bool {
    use serde::{Deserialize, Deserializer, Serializer};
    use serde_json::Value;

    use crate::fields::selected_string;

    /// Writes `"1"` / `"0"` (callers skip `None`).
    #[allow(clippy::ref_option, clippy::trivially_copy_pass_by_ref)]
    pub fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        crate::fields::opt_bool::serialize(v, s)
    }

    /// Reads `"0"`/`"1"`, `yes`/`no`, `true`/`false`, `on`/`off` (any case) and JSON booleans;
    /// empty means `None`; any other text counts as set (as PHP's `!empty()` would).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        let v = Value::deserialize(d)?;
        let s = selected_string(&v);
        let t = s.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "" => None,
            "0" | "no" | "false" | "off" => Some(false),
            _ => Some(true),
        })
    }
}

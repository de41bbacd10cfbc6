//! Firewall models: filter rules (`firewall/filter`), aliases (`firewall/alias`) and destination
//! NAT rules (`firewall/d_nat`), as in OPNsense 26.1's Filter.xml, Alias.xml and DNat.xml.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::{CsvList, Extra, LineList, opt, opt_bool};

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
    /// Address family of a filter rule.
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
    /// Layer-4 protocol of a filter rule (OPNsense spells these upper-case, except `any`).
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

/// A filter rule (`rules.rule`, wrapper `rule`). Only the fields a caller sets are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FilterRule {
    /// Record id (search rows only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub uuid: Option<String>,
    /// Rule active (default on).
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Pass, block or reject (default pass).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub action: Option<Action>,
    /// Stop evaluating at the first match (default on).
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub quick: Option<bool>,
    /// Interface keys (`lan`, `wan`, `opt1`, groups); empty = floating rule.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub interface: Option<CsvList>,
    /// Invert the interface match.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub interfacenot: Option<bool>,
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
    /// Source: `any`, an alias, an interface network (`lan`), `lanip`, `(self)`, an address or CIDR.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub source_net: Option<String>,
    /// Invert the source match.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
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
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub destination_not: Option<bool>,
    /// Destination port, range, service name or port alias (TCP/UDP only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub destination_port: Option<String>,
    /// Gateway name for policy routing.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub gateway: Option<String>,
    /// Log matching packets.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub log: Option<bool>,
    /// State tracking (default keep).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub statetype: Option<StateType>,
    /// Evaluation order (1 to 999999; default: after the last rule).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub sequence: Option<u64>,
    /// Category uuids.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub categories: Option<CsvList>,
    /// Description (1 to 255 characters, no newlines).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Everything else (`%action` display text, `sort_order`, advanced options, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl FilterRule {
    /// Legacy or automatic rules appear in search results but cannot be edited through the API.
    pub fn is_legacy(&self) -> bool {
        self.extra.get("legacy").is_some()
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
    /// Name: starts with a letter or `_`, under 32 letters/digits/underscores, unique.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// Type. Required when adding.
    #[serde(
        rename = "type",
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub alias_type: Option<AliasType>,
    /// Entries (sent newline-separated).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub content: Option<LineList>,
    /// Address families for geoip/asn aliases (`IPv4`, `IPv6`).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub proto: Option<CsvList>,
    /// Refresh interval in days for URL tables.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub updatefreq: Option<String>,
    /// Collect pf table counters.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub counters: Option<bool>,
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
    /// Everything else (`%type`, counters, `password` of URL aliases, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Alias {
    /// Built-in aliases (`bogons`, `__lan_network`, ...) have a name, not a uuid, as id and
    /// cannot be changed.
    pub fn is_builtin(&self) -> bool {
        self.uuid
            .as_deref()
            .is_some_and(|u| crate::path::Uuid::parse(u).is_err())
    }
}

/// `firewall/alias/get`: the whole alias model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AliasModel {
    /// `aliases.alias`: uuid (or built-in name) -> alias, with option maps flattened.
    #[serde(default)]
    pub aliases: AliasMap,
    /// Everything else (`geoip.url`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `{"alias": {"<uuid>": {...}}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AliasMap {
    /// The aliases by id.
    #[serde(default, deserialize_with = "map_or_empty")]
    pub alias: BTreeMap<String, Alias>,
}

fn map_or_empty<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Alias>, D::Error> {
    match Value::deserialize(d)? {
        Value::Object(m) => m
            .into_iter()
            .map(|(k, v)| serde_json::from_value(v).map(|a| (k, a)))
            .collect::<Result<_, _>>()
            .map_err(serde::de::Error::custom),
        _ => Ok(BTreeMap::new()),
    }
}

crate::wire_enum! {
    /// Protocol of a port forward (OPNsense spells these lower-case; "any" is an empty value).
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
    }
}

/// One side of a port forward match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NatEndpoint {
    /// `any`, `(self)`, an interface (`wan`), `wanip`, an alias, an address or CIDR.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub network: Option<String>,
    /// Port, range (`8000-8100`), service name or port alias.
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
    /// Everything else (`address`, read-only).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A destination NAT (port forward) rule as `get_rule` returns it and `add_rule`/`set_rule`
/// take it: nested `source`/`destination`, `descr`, inverted `disabled`, `local-port`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DNatRule {
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
    /// Address family (`inet`, `inet6`, `inet46`; empty = any).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ipprotocol: Option<IpProtocol>,
    /// Protocol (empty = any).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub protocol: Option<NatProtocol>,
    /// Source match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<NatEndpoint>,
    /// Destination match (usually `wanip` and the public port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<NatEndpoint>,
    /// Redirect target: internal address or alias.
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
    /// Log matching packets.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub log: Option<bool>,
    /// Evaluation order (1 to 999999).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub sequence: Option<u64>,
    /// Description.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub descr: Option<String>,
    /// Everything else (`natreflection`, `pass`, `created`, `updated`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A destination NAT row as `search_rule` returns it: flat, with dotted keys
/// (`source.network`, `destination.port`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DNatRow {
    /// Record id, or `lockout_<n>` for OPNsense's anti-lockout pseudo rules.
    #[serde(default)]
    pub uuid: String,
    /// `"1"` when disabled.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Interface keys.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub interface: Option<CsvList>,
    /// Protocol (empty = any).
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
    /// Description.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub descr: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl DNatRow {
    /// The anti-lockout rows OPNsense prepends: not real rules, their ids cannot be used.
    pub fn is_lockout_pseudo_rule(&self) -> bool {
        self.uuid.starts_with("lockout_")
    }
}

/// `firewall/filter/savepoint`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Savepoint {
    /// `ok`.
    #[serde(default)]
    pub status: String,
    /// The revision to pass to apply/cancelRollback/revert.
    #[serde(default)]
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

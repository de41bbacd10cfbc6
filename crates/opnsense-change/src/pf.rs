//! Evaluates OPNsense filter rules and port forwards against one flow, the way pf does (pure, no I/O).
//!
//! The model follows what opnsense/core generates at tags 26.1.11 and 26.7.2 (line numbers are
//! given as `26.1.11 / 26.7.2` where they differ). Everything here was read from that source:
//!
//! **Where the rules come from.** `firewall/filter/search_rule`
//! (`FilterController::searchRuleAction`, FilterController.php:85-218) merges the MVC rules with
//! `configctl filter list non_mvc_rules` (line 190): `list_non_mvc_rules.php` bootstraps the same
//! plugin system `filter_configure_sync` uses, runs every plugin's `*_firewall` hook except
//! `pf_firewall` (which registers the MVC rules) and the legacy GUI rules
//! (`filter_core_rules_user`), and lists every *enabled* rule (line 67) with
//! `label` as `uuid`, `#ref` as `ref`, `from`/`to` as `source_net`/`destination_net`, brackets
//! trimmed off the networks except for `(self)` (line 101: `<sshlockout>` becomes `sshlockout`,
//! `(igb1)` becomes `igb1`), `legacy: true` and `is_automatic` (line 121).
//! For those rows the controller replaces interface keys by their **descriptions**
//! (FilterController.php:56-59, 155-165: `lan` becomes `LAN`), so [`Network`] resolves both.
//!
//! **Evaluation order.** pf evaluates rules in the order `filter_configure_sync` writes them:
//! `Plugin::outputFilterRules` sorts the registered rules by priority (`ksort`, Plugin.php:354)
//! and keeps registration order inside a priority (filter.inc:408-409 / 410-411, after the
//! `antispoof` lines, which are non-quick blocks and never decide a verdict). The search's
//! `sort_order` encodes exactly that: `"%d.0%06d"` of (priority, sequence) for MVC rules
//! (FilterRuleField.php:186 / 199, registered in `sequence` order by `pf_firewall`, pf.inc:170-174)
//! and `"%06d.1%06d"` of (priority, registration counter) for the others
//! (list_non_mvc_rules.php:119). MVC priorities (`getPriority`, FilterRuleField.php:123-157 /
//! 123-170): 200000 for a rule on no interface, several interfaces or an inverted interface
//! ("floating"), 300000 + the group's sequence for an interface group, 400000 for a single
//! interface, and on 26.7.2 600000 for a rule none of whose interfaces exists (not applied).
//! System rules use small priorities: the default deny (priority 1, **not quick**,
//! filter.lib.inc:223-228), sshlockout/virusprot blocks (1), bogon and private-network blocks (5),
//! the anti-lockout pass (5, quick, on the primary interface to `(self)`, filter.lib.inc:585-602 /
//! 586-603), and port forwards' associated rules at 500000 (filter.lib.inc:645-673). So the
//! anti-lockout rule precedes every user rule, floating ones included.
//!
//! **pf semantics.** The last matching rule decides, unless a matching rule is `quick`, which
//! decides at once. When nothing matches, pf passes the packet; OPNsense always installs its
//! default deny (it is registered unconditionally), so a [`Verdict::NoMatch`] means the rows
//! given did not include OPNsense's automatic rows. A rule is `quick` when it says so; a row
//! without `quick` (legacy and automatic rows) is quick unless it is a legacy floating rule
//! (FilterRule.php:195-198 / 200-203). `reject` is `block return` (FilterRule.php:81-83).
//! Missing `direction` is `in`, `any` is both (FilterRule.php:44).
//!
//! **Expansion.** `Rule::reader` (Rule.php:267-317) expands a rule into the cartesian product of
//! its interfaces, sources, destinations and address families (`inet46` is inet and inet6); a
//! packet matches the rule when it matches one expansion. An inverted interface (`on ! igb1`,
//! Rule.php:390-401) and an inverted address (`!`, Rule.php:99-101) are inverted *per expansion*,
//! so a multi-valued inverted field is the union of the inversions (OPNsense's model refuses to
//! save such MVC rules, Filter.php:109-132, but legacy rows can carry them).
//!
//! **Addresses** (`Rule::loadAliasMap`/`mapAddressInfo`, Rule.php:48-133): `any`; `(self)` (every
//! address of the firewall); an interface key (`lan`: the networks of the interface's addresses,
//! plus `fe80::/10` in IPv6 filter rules, line 90-93); `<key>ip` (`lanip`: the interface's
//! addresses, only for `wan`, `lan` and `optN`, line 56-58); an alias (a pf table; port aliases
//! are not addresses); an IP address or CIDR. Anything else disables the rule (line 94-97). A
//! rule on an interface that is not enabled is disabled too (Rule.php:310-314 / 310-317).
//!
//! **Ports** (Rule.php:103-131): `-` is read as `:` (a range), `a:any`/`any:b` open a range, `any`
//! is no port; a number or range; a port alias (an empty one disables the rule, line 115-121; a
//! disabled one matches nothing, filter.inc:613-619 and filter.lib.inc:147-170); a well-known
//! service name from `PortField::$wellknownservices` (PortField.php:42-89, see [`service_port`]);
//! otherwise the rule is disabled.
//!
//! **Port forwards** (`firewall/d_nat`): pf applies `rdr` rules before filtering, first match wins.
//! OPNsense writes its anti-lockout `no rdr` rules (priority 300: on the primary interface, tcp,
//! to `<if>ip`, each protected port, filter.inc:243-254 / 245-256) before the user's port
//! forwards (priority 600, `sequence` order, filter.inc:256-258 / 258-260); the d_nat search shows
//! them as rows `lockout_N` (DNatController.php:86-109 / 119-142) or, on later 26.7 releases,
//! `automatic_pf_N`. `ForwardRule` (ForwardRule.php:98-181) applies the same address mapping;
//! ports only count for tcp/udp (`Rule::legacyMoveAddressFields`, Rule.php:372-378); with NAT
//! reflection (the rule's `natreflection`, or the system default "enable" unless
//! `disablenatreflection`, Plugin.php:60-62) the redirect is also installed on every interface
//! without a gateway (ForwardRule.php:78-90, 149-162).
//!
//! **Unknowns.** Whatever cannot be decided from the given rows, interfaces and aliases (an URL or
//! GeoIP alias, a schedule, a tag, an unknown arrival interface, ...) makes the rule's match
//! *maybe*. The evaluator then follows every possible world: [`Evaluation::certain`] is true only
//! when all of them give the same verdict, and [`Evaluation::blind_spots`] says why not.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use opnsense_api::models::firewall::{
    Action, Alias, AliasType, DNatRow, Direction, FilterRule, IpProtocol, NatPass, NatReflection,
    RuleOrigin,
};
use serde::Serialize;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Flows
// ---------------------------------------------------------------------------------------------

/// Layer-4 protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum L4 {
    /// TCP (a new connection: the initial SYN).
    Tcp,
    /// UDP.
    Udp,
    /// ICMP of the flow's address family (ICMPv6 for an IPv6 flow).
    Icmp,
    /// Any other IP protocol, by number.
    Other(u8),
}

impl L4 {
    /// The IP protocol number (`Icmp` is 1 for IPv4 and 58 for IPv6).
    pub fn number(self, v6: bool) -> u8 {
        match self {
            Self::Tcp => 6,
            Self::Udp => 17,
            Self::Icmp => {
                if v6 {
                    58
                } else {
                    1
                }
            }
            Self::Other(n) => n,
        }
    }
}

impl fmt::Display for L4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp => f.write_str("tcp"),
            Self::Udp => f.write_str("udp"),
            Self::Icmp => f.write_str("icmp"),
            Self::Other(n) => write!(f, "proto {n}"),
        }
    }
}

/// One packet (the first of a new connection) arriving at the firewall, evaluated inbound on
/// the interface it arrives on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// The config key of the interface the packet arrives on (`lan`, `opt1`), `None` = unknown.
    pub interface: Option<String>,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Protocol.
    pub proto: L4,
    /// Destination port (TCP/UDP), `None` = unknown.
    pub dst_port: Option<u16>,
    /// Source port (TCP/UDP), `None` = unknown (rules with a source port then match *maybe*).
    pub src_port: Option<u16>,
}

impl Flow {
    /// A new TCP connection from `src` to `dst:port`, arrival interface unknown.
    pub fn tcp(src: IpAddr, dst: IpAddr, port: u16) -> Self {
        Self {
            interface: None,
            src,
            dst,
            proto: L4::Tcp,
            dst_port: Some(port),
            src_port: None,
        }
    }

    /// The same flow arriving on `interface`.
    pub fn on(mut self, interface: impl Into<String>) -> Self {
        self.interface = Some(interface.into());
        self
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.src, self.dst)?;
        if let Some(p) = self.dst_port {
            write!(f, ":{p}")?;
        }
        write!(f, "/{}", self.proto)?;
        match &self.interface {
            Some(i) => write!(f, " on {i}"),
            None => f.write_str(" (arrival interface unknown)"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------

/// The interface names of a rule's `interface` field (none: a floating rule).
pub(crate) fn interface_names(list: Option<&opnsense_api::fields::CsvList>) -> Vec<String> {
    list.map(|l| l.0.clone()).unwrap_or_default()
}

/// An address as a number (an IPv4 address in the low 32 bits).
pub(crate) fn ip_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// Whether an address is IPv6, and the address as a number.
fn bits_of(ip: IpAddr) -> (bool, u128) {
    (ip.is_ipv6(), ip_bits(ip))
}

/// The address of family `v6` whose number is `bits`.
pub(crate) fn ip_of(v6: bool, bits: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(bits))
    } else {
        // A v4 range never holds more than 32 bits.
        IpAddr::V4(Ipv4Addr::from(u32::try_from(bits).unwrap_or(u32::MAX)))
    }
}

fn width(v6: bool) -> u8 {
    if v6 { 128 } else { 32 }
}

/// The highest address number of family `v6`.
pub(crate) fn full(v6: bool) -> u128 {
    if v6 { u128::MAX } else { u128::from(u32::MAX) }
}

/// The host bits of a prefix of length `len`.
fn host_mask(v6: bool, len: u8) -> u128 {
    let w = width(v6);
    if len >= w { 0 } else { full(v6) >> len }
}

/// An address with a prefix length: an interface address (`10.0.0.1/24`) or a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct IpNet {
    /// The address (host bits kept).
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl IpNet {
    /// `addr/prefix`; `None` when the prefix is longer than the address.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Self> {
        (prefix <= width(addr.is_ipv6())).then_some(Self { addr, prefix })
    }

    /// A single address (`/32`, `/128`).
    pub fn host(addr: IpAddr) -> Self {
        Self {
            addr,
            prefix: width(addr.is_ipv6()),
        }
    }

    /// Reads `a.b.c.d`, `a.b.c.d/n`, `x::y`, `x::y/n` (an IPv6 `%scope` is ignored).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let a = a.split('%').next().unwrap_or(a);
        let addr: IpAddr = a.parse().ok()?;
        match p {
            None => Some(Self::host(addr)),
            Some(p) => Self::new(addr, p.trim().parse().ok()?),
        }
    }

    /// True for an IPv6 network.
    pub fn is_ipv6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// The addresses of the network.
    pub fn range(&self) -> IpRange {
        let (v6, bits) = bits_of(self.addr);
        let hm = host_mask(v6, self.prefix);
        IpRange {
            v6,
            lo: bits & !hm & full(v6),
            hi: bits | hm,
        }
    }

    /// True when `ip` is in the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.range().contains(ip)
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct IpRange {
    v6: bool,
    lo: u128,
    hi: u128,
}

impl IpRange {
    /// The range `first..=last`; `None` when the families differ or `first > last`.
    pub fn new(first: IpAddr, last: IpAddr) -> Option<Self> {
        let (v6a, lo) = bits_of(first);
        let (v6b, hi) = bits_of(last);
        (v6a == v6b && lo <= hi).then_some(Self { v6: v6a, lo, hi })
    }

    /// Every address of one family (`0.0.0.0/0` or `::/0`).
    pub fn all(v6: bool) -> Self {
        Self {
            v6,
            lo: 0,
            hi: full(v6),
        }
    }

    /// The first address.
    pub fn first(&self) -> IpAddr {
        ip_of(self.v6, self.lo)
    }

    /// The last address.
    pub fn last(&self) -> IpAddr {
        ip_of(self.v6, self.hi)
    }

    /// True for IPv6.
    pub fn is_ipv6(&self) -> bool {
        self.v6
    }

    /// True when `ip` is in the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (v6, b) = bits_of(ip);
        v6 == self.v6 && self.lo <= b && b <= self.hi
    }

    /// The range as CIDR blocks (at most 2 × the address width of them).
    pub fn to_nets(&self) -> Vec<IpNet> {
        let mut out = Vec::new();
        let mut lo = self.lo;
        let w = width(self.v6);
        loop {
            // The largest aligned block starting at `lo` that fits in `lo..=hi`.
            let mut len = w;
            while len > 0 {
                let hm = host_mask(self.v6, len - 1);
                if lo & hm != 0 || lo.saturating_add(hm) > self.hi {
                    break;
                }
                len -= 1;
            }
            out.push(IpNet {
                addr: ip_of(self.v6, lo),
                prefix: len,
            });
            let end = lo | host_mask(self.v6, len);
            if end >= self.hi {
                break;
            }
            lo = end + 1;
        }
        out
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nets = self.to_nets();
        if let [one] = nets.as_slice() {
            if one.prefix == width(self.v6) {
                write!(f, "{}", one.addr)
            } else {
                write!(f, "{one}")
            }
        } else {
            write!(f, "{}-{}", self.first(), self.last())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Network context
// ---------------------------------------------------------------------------------------------

/// One assigned interface of the firewall.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InterfaceInfo {
    /// Config key (`lan`, `wan`, `opt1`).
    pub key: String,
    /// Device (`igb1`, `vlan0.10`).
    pub device: Option<String>,
    /// Description (`LAN`); OPNsense uses the upper-cased key when there is none.
    pub description: Option<String>,
    /// Enabled in the configuration (rules on a disabled interface are not loaded).
    pub enabled: bool,
    /// The interface's addresses with their prefix lengths (VIPs included).
    pub addresses: Vec<IpNet>,
    /// Whether the interface has a gateway (`None` = unknown); used for NAT reflection.
    pub has_gateway: Option<bool>,
}

impl InterfaceInfo {
    /// An enabled interface with the given addresses.
    pub fn new(key: impl Into<String>, addresses: &[&str]) -> Self {
        Self {
            key: key.into(),
            device: None,
            description: None,
            enabled: true,
            addresses: addresses.iter().filter_map(|a| IpNet::parse(a)).collect(),
            has_gateway: None,
        }
    }

    /// The same, with a device name.
    pub fn device(mut self, device: impl Into<String>) -> Self {
        self.device = Some(device.into());
        self
    }

    /// The same, with a description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The description OPNsense shows (the upper-cased key when none is set).
    pub fn shown_name(&self) -> String {
        self.description
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| self.key.to_ascii_uppercase())
    }

    fn in_network(&self, ip: IpAddr) -> bool {
        self.addresses.iter().any(|n| n.contains(ip))
    }

    fn owns(&self, ip: IpAddr) -> bool {
        self.addresses.iter().any(|n| n.addr == ip)
    }
}

/// What the evaluator knows about the firewall's interfaces: keys, devices, descriptions,
/// addresses, interface groups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Network {
    interfaces: BTreeMap<String, InterfaceInfo>,
    /// Addresses of devices that are not assigned (part of `(self)`).
    other_addresses: Vec<IpNet>,
    groups: BTreeMap<String, Vec<String>>,
    complete: bool,
}

/// Where the arrival interface of a flow came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ArrivalBasis {
    /// Given by the caller.
    Given,
    /// The interface whose subnet contains the source address.
    SourceSubnet,
    /// The interface that owns the destination (firewall) address: an assumption (the packet
    /// may be routed in through another interface).
    DestinationOwner,
    /// Could not be derived.
    Unknown,
}

impl Network {
    /// An empty context (nothing known: every interface or `(self)` test is *maybe*).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) an interface.
    pub fn add_interface(&mut self, info: InterfaceInfo) -> &mut Self {
        self.interfaces.insert(info.key.clone(), info);
        self
    }

    /// The same, builder style.
    pub fn with(mut self, info: InterfaceInfo) -> Self {
        self.add_interface(info);
        self
    }

    /// Declares an interface group (`firewall/group`) and its member interface keys.
    pub fn add_group(&mut self, name: impl Into<String>, members: &[&str]) -> &mut Self {
        self.groups.insert(
            name.into(),
            members.iter().map(|m| (*m).to_owned()).collect(),
        );
        self
    }

    /// Adds an address of the firewall that no assigned interface carries (part of `(self)`).
    pub fn add_firewall_address(&mut self, addr: IpNet) -> &mut Self {
        if !self.is_known_address(addr.addr) {
            self.other_addresses.push(addr);
        }
        self
    }

    /// Declares that every interface and address of the firewall is known, so an address no
    /// interface carries is not the firewall's and an unknown interface key does not exist.
    pub fn set_complete(&mut self, complete: bool) -> &mut Self {
        self.complete = complete;
        self
    }

    /// True when [`Network::set_complete`] was set (as [`Network::from_overview`] does).
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// The interface with this key.
    pub fn interface(&self, key: &str) -> Option<&InterfaceInfo> {
        self.interfaces.get(key)
    }

    /// Every interface, by key.
    pub fn interfaces(&self) -> impl Iterator<Item = &InterfaceInfo> {
        self.interfaces.values()
    }

    /// The members of an interface group, when known.
    pub fn group(&self, name: &str) -> Option<&[String]> {
        self.groups.get(name).map(Vec::as_slice)
    }

    fn is_known_address(&self, ip: IpAddr) -> bool {
        self.interfaces.values().any(|i| i.owns(ip))
            || self.other_addresses.iter().any(|n| n.addr == ip)
    }

    /// Whether `ip` is an address of the firewall (`(self)`): `None` when not known and the
    /// context is not complete.
    pub fn is_firewall_address(&self, ip: IpAddr) -> Option<bool> {
        if self.is_known_address(ip) {
            Some(true)
        } else if self.complete {
            Some(false)
        } else {
            None
        }
    }

    /// Every address of the firewall that is known.
    pub fn firewall_addresses(&self) -> Vec<IpNet> {
        let mut v: Vec<IpNet> = self
            .interfaces
            .values()
            .flat_map(|i| i.addresses.iter().copied())
            .chain(self.other_addresses.iter().copied())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The enabled interface whose subnet contains `ip` (the most specific one).
    pub fn interface_for_source(&self, ip: IpAddr) -> Option<&str> {
        self.interfaces
            .values()
            .filter(|i| i.enabled)
            .flat_map(|i| i.addresses.iter().map(move |n| (i, n)))
            .filter(|(_, n)| n.contains(ip) && n.prefix < width(ip.is_ipv6()))
            .max_by_key(|(_, n)| n.prefix)
            .map(|(i, _)| i.key.as_str())
    }

    /// The interface that carries the address `ip`.
    pub fn interface_owning(&self, ip: IpAddr) -> Option<&str> {
        self.interfaces
            .values()
            .find(|i| i.owns(ip))
            .map(|i| i.key.as_str())
    }

    /// The arrival interface of a packet from `src` to the firewall address `dst`: the interface
    /// whose subnet contains `src`, else the interface that owns `dst`, else unknown.
    pub fn arrival_interface(&self, src: IpAddr, dst: IpAddr) -> (Option<String>, ArrivalBasis) {
        if let Some(k) = self.interface_for_source(src) {
            (Some(k.to_owned()), ArrivalBasis::SourceSubnet)
        } else if let Some(k) = self.interface_owning(dst) {
            (Some(k.to_owned()), ArrivalBasis::DestinationOwner)
        } else {
            (None, ArrivalBasis::Unknown)
        }
    }

    /// The interface OPNsense puts its anti-lockout rule on: `lan`, else the first `optN` in
    /// natural order, else `wan` (`get_primary_interface_from_list`, util.inc:768-786, used by
    /// `filter_core_get_antilockout`; `Util::getAntiLockout` for the d_nat rows, Util.php:671-686).
    pub fn primary_interface(&self) -> Option<&str> {
        if self.interfaces.contains_key("lan") {
            return Some("lan");
        }
        let opt = self
            .interfaces
            .keys()
            .filter_map(|k| {
                k.strip_prefix("opt")
                    .and_then(|n| {
                        n.parse::<u64>()
                            .ok()
                            .filter(|_| n.bytes().all(|b| b.is_ascii_digit()))
                    })
                    .map(|n| (n, k.as_str()))
            })
            .min();
        if let Some((_, k)) = opt {
            return Some(k);
        }
        self.interfaces.contains_key("wan").then_some("wan")
    }

    /// Builds the context from `interfaces/overview/interfacesInfo`
    /// (`OverviewController::interfacesInfoAction`, OverviewController.php:248-255 / 246-253): a
    /// search answer `{"rows": [...]}` (or the rows alone, as an array or a PHP object map), each
    /// row with `identifier` (the config key; empty for unassigned devices), `device`,
    /// `description`, `enabled`, `ipv4`/`ipv6` lists of `{"ipaddr": "a/bits"}` (line 204-206;
    /// unassigned devices keep ifconfig's `ipaddr` + `subnetbits`), `addr4`/`addr6` (the primary
    /// addresses, used when the lists are absent) and `gateways`. Unknown or odd shapes are skipped.
    /// The result is marked complete when at least one row was read.
    pub fn from_overview(value: &Value) -> Self {
        let mut net = Self::new();
        let rows: Vec<&Value> = match value.get("rows").unwrap_or(value) {
            Value::Array(a) => a.iter().collect(),
            Value::Object(m) => m.values().collect(),
            _ => Vec::new(),
        };
        let mut read = 0usize;
        for row in rows {
            if !row.is_object() {
                continue;
            }
            read += 1;
            let key = text(row.get("identifier"))
                .or_else(|| row.get("config").and_then(|c| text(c.get("identifier"))));
            let device = text(row.get("device"))
                .or_else(|| row.get("config").and_then(|c| text(c.get("if"))));
            let mut addresses = Vec::new();
            for fam in ["ipv4", "ipv6"] {
                addresses.extend(overview_addresses(row.get(fam)));
            }
            if addresses.is_empty() {
                for fam in ["addr4", "addr6"] {
                    if let Some(n) = text(row.get(fam)).and_then(|s| IpNet::parse(&s)) {
                        addresses.push(n);
                    }
                }
            }
            match key {
                Some(key) => {
                    let description = text(row.get("description"))
                        .or_else(|| row.get("config").and_then(|c| text(c.get("descr"))));
                    let enabled = row
                        .get("enabled")
                        .or_else(|| row.get("config").and_then(|c| c.get("enable")))
                        .is_none_or(truthy);
                    let has_gateway = match row.get("gateways") {
                        Some(Value::Array(a)) => Some(!a.is_empty()),
                        Some(Value::Object(m)) => Some(!m.is_empty()),
                        Some(Value::String(s)) => Some(!s.is_empty()),
                        _ => None,
                    };
                    net.add_interface(InterfaceInfo {
                        key,
                        device,
                        description,
                        enabled,
                        addresses,
                        has_gateway,
                    });
                }
                None => net.other_addresses.extend(addresses),
            }
        }
        net.complete = read > 0;
        net
    }

    /// Resolves an interface name as a rule row spells it: a key for API rows; for legacy and
    /// automatic rows the search shows descriptions instead (FilterController.php:155-165), so a
    /// description (or the upper-cased key) is read too.
    pub(crate) fn resolve_interface(&self, name: &str, origin: RuleOrigin) -> IfName {
        if self.groups.contains_key(name) {
            return IfName::Group(name.to_owned());
        }
        if origin != RuleOrigin::Api {
            let by_descr: Vec<&InterfaceInfo> = self
                .interfaces
                .values()
                .filter(|i| i.shown_name() == name)
                .collect();
            match by_descr.as_slice() {
                [one] => return IfName::Key(one.key.clone()),
                [] => {}
                _ => {
                    return IfName::Unknown(format!(
                        "interface description {name:?} is shared by several interfaces"
                    ));
                }
            }
        }
        if self.interfaces.contains_key(name) {
            return IfName::Key(name.to_owned());
        }
        if origin != RuleOrigin::Api
            && let Some(i) = self
                .interfaces
                .values()
                .find(|i| i.device.as_deref() == Some(name) || i.key.eq_ignore_ascii_case(name))
        {
            return IfName::Key(i.key.clone());
        }
        IfName::NotFound(name.to_owned())
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64().is_some_and(|n| n != 0),
        Value::String(s) => matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        ),
        _ => false,
    }
}

fn overview_addresses(v: Option<&Value>) -> Vec<IpNet> {
    let items: Vec<&Value> = match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Object(m)) if m.contains_key("ipaddr") => vec![v.unwrap_or(&Value::Null)],
        Some(Value::Object(m)) => m.values().collect(),
        Some(s @ Value::String(_)) => vec![s],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|item| match item {
            Value::String(s) => IpNet::parse(s),
            Value::Object(_) => {
                let a = text(item.get("ipaddr"))?;
                match text(item.get("subnetbits")) {
                    Some(bits) if !a.contains('/') => IpNet::parse(&format!("{a}/{bits}")),
                    _ => IpNet::parse(&a),
                }
            }
            _ => None,
        })
        .collect()
}

#[derive(Debug, Clone)]
pub(crate) enum IfName {
    Key(String),
    Group(String),
    /// Not an interface or group this context knows.
    NotFound(String),
    Unknown(String),
}

// ---------------------------------------------------------------------------------------------
// Aliases
// ---------------------------------------------------------------------------------------------

/// One alias as the evaluator needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AliasDef {
    /// Name.
    pub name: String,
    /// Type (`None` = unknown).
    #[serde(skip)]
    pub kind: Option<AliasType>,
    /// Enabled.
    pub enabled: bool,
    /// Entries (addresses, ranges, `!` exclusions, nested alias names, ports, ...).
    pub content: Vec<String>,
}

/// The aliases rules may refer to, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Aliases {
    map: BTreeMap<String, AliasDef>,
    complete: bool,
}

/// pf tables that OPNsense fills at run time with offenders (failed logins, connection-rate
/// overloads): assumed not to hold the flow's source; the assumption is noted.
const OFFENDER_TABLES: &[&str] = &["sshlockout", "virusprot"];

impl Aliases {
    /// No aliases known (every alias name is *maybe*).
    pub fn new() -> Self {
        Self::default()
    }

    /// From the rows of `firewall/alias/search_item` (pass every row, all pages: the set is then
    /// taken as complete, so a name that is not among them is not an alias).
    pub fn from_rows(rows: &[Alias]) -> Self {
        let mut a = Self::new();
        for row in rows {
            if let Some(name) = row.name.clone().filter(|n| !n.is_empty()) {
                a.insert(AliasDef {
                    name,
                    kind: row.alias_type.clone(),
                    enabled: row.enabled != Some(false),
                    content: row
                        .content
                        .as_ref()
                        .map(|c| c.0.clone())
                        .unwrap_or_default(),
                });
            }
        }
        a.complete = true;
        a
    }

    /// Adds (or replaces) an alias.
    pub fn insert(&mut self, def: AliasDef) -> &mut Self {
        self.map.insert(def.name.clone(), def);
        self
    }

    /// Adds an alias from its type and entries (enabled), builder style.
    pub fn with(mut self, name: &str, kind: AliasType, content: &[&str]) -> Self {
        self.insert(AliasDef {
            name: name.to_owned(),
            kind: Some(kind),
            enabled: true,
            content: content.iter().map(|c| (*c).to_owned()).collect(),
        });
        self
    }

    /// Declares the set complete (see [`Aliases::from_rows`]).
    pub fn set_complete(&mut self, complete: bool) -> &mut Self {
        self.complete = complete;
        self
    }

    /// The alias with this name.
    pub fn get(&self, name: &str) -> Option<&AliasDef> {
        self.map.get(name)
    }
}

// ---------------------------------------------------------------------------------------------
// Three-valued matching
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Maybe(Vec<String>),
}

impl Tri {
    fn of(b: bool) -> Self {
        if b { Self::Yes } else { Self::No }
    }

    fn maybe(reason: impl Into<String>) -> Self {
        Self::Maybe(vec![reason.into()])
    }

    fn not(self) -> Self {
        match self {
            Self::Yes => Self::No,
            Self::No => Self::Yes,
            m @ Self::Maybe(_) => m,
        }
    }

    /// Conjunction, evaluated lazily left to right (a `No` stops).
    fn and(self, next: impl FnOnce() -> Tri) -> Tri {
        match self {
            Self::No => Self::No,
            Self::Yes => next(),
            Self::Maybe(mut r) => match next() {
                Self::No => Self::No,
                Self::Yes => Self::Maybe(r),
                Self::Maybe(r2) => {
                    for x in r2 {
                        push_unique(&mut r, x);
                    }
                    Self::Maybe(r)
                }
            },
        }
    }

    /// Disjunction of many.
    fn any(items: impl IntoIterator<Item = Tri>) -> Tri {
        let mut reasons = Vec::new();
        let mut maybe = false;
        for t in items {
            match t {
                Self::Yes => return Self::Yes,
                Self::No => {}
                Self::Maybe(r) => {
                    maybe = true;
                    for x in r {
                        push_unique(&mut reasons, x);
                    }
                }
            }
        }
        if maybe {
            Self::Maybe(reasons)
        } else {
            Self::No
        }
    }
}

/// Everything the evaluator looks things up in.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Interfaces and firewall addresses.
    pub network: &'a Network,
    /// Aliases.
    pub aliases: &'a Aliases,
    /// The system's NAT reflection default (`true` unless System > Settings > Advanced
    /// `disablenatreflection`), `None` = unknown.
    pub nat_reflection_default: Option<bool>,
}

impl<'a> Context<'a> {
    /// A context with the NAT reflection default unknown.
    pub fn new(network: &'a Network, aliases: &'a Aliases) -> Self {
        Self {
            network,
            aliases,
            nat_reflection_default: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Address terms
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub(crate) enum Target {
    Any,
    SelfAddrs,
    IfNet(String),
    IfAddr(String),
    DevNet(String),
    DevAddr(String),
    Net(IpNet),
    Range(IpRange),
    Alias(String),
    OffenderTable(String),
    /// An alias resolved to its pf table (see [`compile`]).
    Table(Table),
    Unknown(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Term {
    pub(crate) neg: bool,
    pub(crate) target: Target,
    /// An interface network in a filter rule: its IPv6 expansion of an explicit `inet6`/`inet46`
    /// rule also holds `fe80::/10` (Rule.php:90-93).
    pub(crate) ll6: bool,
}

/// A parsed address field: its terms, or the reason OPNsense disables the rule.
pub(crate) type AddrField = Result<Vec<Term>, String>;

fn is_if_ip_name(key: &str) -> bool {
    key == "wan"
        || key == "lan"
        || key
            .strip_prefix("opt")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses `source_net`/`destination_net` (a comma list). `filter_rule`: interface networks get
/// the `fe80::/10` sibling of filter rules (see [`Term::ll6`]).
fn parse_addr_field(
    ctx: &Context<'_>,
    raw: Option<&str>,
    neg: bool,
    origin: RuleOrigin,
    filter_rule: bool,
) -> AddrField {
    let any = || Term {
        neg: false,
        target: Target::Any,
        ll6: false,
    };
    let raw = raw.map(str::trim).unwrap_or_default();
    let mut terms = Vec::new();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let target = parse_addr_entry(ctx, entry, origin)?;
        let ll6 = filter_rule && matches!(target, Target::IfNet(_));
        // `any` is never inverted (Rule.php:99).
        let n = neg && !matches!(target, Target::Any);
        terms.push(Term {
            neg: n,
            target,
            ll6,
        });
    }
    if terms.is_empty() {
        terms.push(any());
    }
    Ok(terms)
}

/// Resolves the alias terms of a parsed field to their tables, once.
fn resolve_terms(ctx: &Context<'_>, field: AddrField) -> AddrField {
    field.map(|terms| {
        terms
            .into_iter()
            .map(|t| match t.target {
                Target::Alias(name) => {
                    let mut table = Table::default();
                    resolve_alias(ctx, &name, &mut BTreeSet::new(), &mut table);
                    Term {
                        target: Target::Table(table),
                        ..t
                    }
                }
                _ => t,
            })
            .collect()
    })
}

/// A row's address and port fields, parsed and resolved once per rule set.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub(crate) src: AddrField,
    pub(crate) dst: AddrField,
    pub(crate) sport: Result<Ports, String>,
    pub(crate) dport: Result<Ports, String>,
}

#[allow(clippy::too_many_arguments)]
fn compile(
    ctx: &Context<'_>,
    src: (Option<&str>, bool),
    dst: (Option<&str>, bool),
    ports: (Option<&str>, Option<&str>),
    origin: RuleOrigin,
    filter_rule: bool,
) -> Compiled {
    Compiled {
        src: resolve_terms(
            ctx,
            parse_addr_field(ctx, src.0, src.1, origin, filter_rule),
        ),
        dst: resolve_terms(
            ctx,
            parse_addr_field(ctx, dst.0, dst.1, origin, filter_rule),
        ),
        sport: parse_ports(ctx, ports.0),
        dport: parse_ports(ctx, ports.1),
    }
}

fn parse_addr_entry(ctx: &Context<'_>, entry: &str, origin: RuleOrigin) -> Result<Target, String> {
    if entry.eq_ignore_ascii_case("any") {
        return Ok(Target::Any);
    }
    if entry == "(self)" || entry == "self" {
        return Ok(Target::SelfAddrs);
    }
    // Automatic rows keep pf syntax minus the brackets: `igb1` for `(igb1)`, `igb1:network`.
    let bare = entry.trim_matches(|c| matches!(c, '(' | ')' | '<' | '>' | '{' | '}'));
    if let Some(n) = IpNet::parse(bare) {
        return Ok(Target::Net(n));
    }
    if let Some((a, b)) = bare.split_once('-')
        && let (Ok(a), Ok(b)) = (a.trim().parse::<IpAddr>(), b.trim().parse::<IpAddr>())
        && let Some(r) = IpRange::new(a, b)
    {
        return Ok(Target::Range(r));
    }
    let net = ctx.network;
    if let Some(i) = net.interface(bare) {
        if !i.enabled {
            return Err(format!(
                "interface {bare:?} is disabled, so OPNsense cannot map the address and disables the rule (Rule.php:94-97)"
            ));
        }
        return Ok(Target::IfNet(bare.to_owned()));
    }
    if let Some(key) = bare.strip_suffix("ip")
        && is_if_ip_name(key)
        && let Some(i) = net.interface(key)
    {
        if !i.enabled {
            return Err(format!(
                "interface {key:?} is disabled, so OPNsense cannot map {bare:?} and disables the rule (Rule.php:94-97)"
            ));
        }
        return Ok(Target::IfAddr(key.to_owned()));
    }
    if let Some(def) = ctx.aliases.get(bare) {
        if def.kind == Some(AliasType::Port) {
            return Err(format!(
                "{bare:?} is a port alias, which OPNsense does not map as an address, so it disables the rule (Rule.php:61-65, 94-97)"
            ));
        }
        if OFFENDER_TABLES.contains(&bare) {
            return Ok(Target::OffenderTable(bare.to_owned()));
        }
        return Ok(Target::Alias(bare.to_owned()));
    }
    if OFFENDER_TABLES.contains(&bare) {
        return Ok(Target::OffenderTable(bare.to_owned()));
    }
    if origin != RuleOrigin::Api {
        if let Some(dev) = bare.strip_suffix(":network") {
            return Ok(Target::DevNet(dev.to_owned()));
        }
        if net.interfaces().any(|i| i.device.as_deref() == Some(bare)) {
            return Ok(Target::DevAddr(bare.to_owned()));
        }
        if let Some(i) = net.interfaces().find(|i| i.shown_name() == bare) {
            return Ok(Target::IfNet(i.key.clone()));
        }
    }
    if ctx.aliases.complete && net.is_complete() && origin == RuleOrigin::Api {
        return Err(format!(
            "{bare:?} is neither an address, an interface nor an alias, so OPNsense disables the rule (Rule.php:94-97)"
        ));
    }
    Ok(Target::Unknown(format!(
        "{bare:?} is not an address, interface or alias this analysis knows"
    )))
}

/// An alias resolved to a pf table: entries (with `!` exclusions) and what could not be resolved.
#[derive(Debug, Default, Clone)]
pub(crate) struct Table {
    pub(crate) entries: Vec<(IpNet, bool)>,
    pub(crate) unknown: Vec<String>,
    /// An entry that could not be resolved was an exclusion (`!`), so the resolved entries may
    /// hold more than the table does (read by the audit; the evaluator does not use it).
    pub(crate) unknown_negated: bool,
}

fn resolve_alias(ctx: &Context<'_>, name: &str, seen: &mut BTreeSet<String>, table: &mut Table) {
    if !seen.insert(name.to_owned()) {
        return;
    }
    let Some(def) = ctx.aliases.get(name) else {
        table
            .unknown
            .push(format!("alias {name:?} is not among the aliases given"));
        return;
    };
    if !def.enabled {
        table.unknown.push(format!(
            "alias {name:?} is disabled (what its pf table then holds is not in the configuration)"
        ));
        return;
    }
    match &def.kind {
        Some(AliasType::Host | AliasType::Network | AliasType::Networkgroup) => {
            for raw in &def.content {
                let raw = raw.trim();
                if raw.is_empty() {
                    continue;
                }
                let (neg, e) = match raw.strip_prefix('!') {
                    Some(r) => (true, r.trim()),
                    None => (false, raw),
                };
                if let Some(n) = IpNet::parse(e) {
                    table.entries.push((n, neg));
                } else if let Some(r) = e
                    .split_once('-')
                    .and_then(|(a, b)| IpRange::new(a.trim().parse().ok()?, b.trim().parse().ok()?))
                {
                    table
                        .entries
                        .extend(r.to_nets().into_iter().map(|n| (n, neg)));
                } else if ctx.aliases.get(e).is_some() {
                    table.unknown_negated |= neg;
                    resolve_alias(ctx, e, seen, table);
                } else if e.contains('/') {
                    table.unknown_negated |= neg;
                    table.unknown.push(format!(
                        "alias {name:?} holds {e:?} (a wildcard mask or an unreadable network)"
                    ));
                } else {
                    table.unknown_negated |= neg;
                    table.unknown.push(format!(
                        "alias {name:?} holds {e:?}, a host name resolved by DNS at run time"
                    ));
                }
            }
        }
        Some(AliasType::Internal) => {
            // `__<key>_network` (InterfaceNetworkAliases): the networks of an interface.
            let key = name
                .strip_prefix("__")
                .and_then(|n| n.strip_suffix("_network"));
            match key.and_then(|k| ctx.network.interface(k)) {
                Some(i) => table
                    .entries
                    .extend(i.addresses.iter().map(|n| (network_of(*n), false))),
                None => table.unknown.push(format!(
                    "alias {name:?} is an internal alias filled at run time"
                )),
            }
        }
        Some(AliasType::Port) => table
            .unknown
            .push(format!("alias {name:?} is a port alias used as an address")),
        Some(kind) => table.unknown.push(format!(
            "alias {name:?} is of type {}, whose content is only known at run time",
            kind.as_str()
        )),
        None => table
            .unknown
            .push(format!("alias {name:?} has no known type")),
    }
}

fn network_of(n: IpNet) -> IpNet {
    let r = n.range();
    IpNet {
        addr: r.first(),
        prefix: n.prefix,
    }
}

fn table_contains(table: &Table, ip: IpAddr) -> Tri {
    // pf tables: the most specific entry containing the address decides (`!` = excluded).
    let best = table
        .entries
        .iter()
        .filter(|(n, _)| n.contains(ip))
        .max_by_key(|(n, neg)| (n.prefix, *neg));
    match best {
        Some((_, false)) => Tri::Yes,
        _ if !table.unknown.is_empty() => Tri::Maybe(table.unknown.clone()),
        _ => Tri::No,
    }
}

fn term_contains(ctx: &Context<'_>, target: &Target, ip: IpAddr, notes: &mut Vec<String>) -> Tri {
    let net = ctx.network;
    match target {
        Target::Any => Tri::Yes,
        Target::SelfAddrs => match net.is_firewall_address(ip) {
            Some(b) => Tri::of(b),
            None => Tri::maybe(format!(
                "whether {ip} is an address of the firewall ((self)) is not known"
            )),
        },
        Target::IfNet(k) => match net.interface(k) {
            Some(i) => Tri::of(i.in_network(ip)),
            None => Tri::maybe(format!("the network of interface {k:?} is not known")),
        },
        Target::IfAddr(k) => match net.interface(k) {
            Some(i) => Tri::of(i.owns(ip)),
            None => Tri::maybe(format!("the address of interface {k:?} is not known")),
        },
        Target::DevNet(d) | Target::DevAddr(d) => {
            match net
                .interfaces()
                .find(|i| i.device.as_deref() == Some(d.as_str()))
            {
                Some(i) if matches!(target, Target::DevNet(_)) => Tri::of(i.in_network(ip)),
                Some(i) => Tri::of(i.owns(ip)),
                None => Tri::maybe(format!("device {d:?} is not known")),
            }
        }
        Target::Net(n) => Tri::of(n.contains(ip)),
        Target::Range(r) => Tri::of(r.contains(ip)),
        Target::Alias(name) => {
            let mut t = Table::default();
            resolve_alias(ctx, name, &mut BTreeSet::new(), &mut t);
            table_contains(&t, ip)
        }
        Target::Table(t) => table_contains(t, ip),
        Target::OffenderTable(name) => {
            let note = format!(
                "assumed {ip} is not in the run-time table <{name}> (addresses locked out after failed logins or connection-rate overloads)"
            );
            push_unique(notes, note);
            Tri::No
        }
        Target::Unknown(r) => Tri::maybe(r.clone()),
    }
}

fn family_matches(target: &Target, v6: bool) -> bool {
    match target {
        Target::Net(n) => n.is_ipv6() == v6,
        Target::Range(r) => r.is_ipv6() == v6,
        _ => true,
    }
}

/// Whether `ip` matches one expansion of the field. `ll6`: the IPv6 expansion of an explicit
/// `inet6`/`inet46` filter rule, where interface networks bring `fe80::/10` along.
fn field_contains(
    ctx: &Context<'_>,
    terms: &[Term],
    ip: IpAddr,
    ll6: bool,
    notes: &mut Vec<String>,
) -> Tri {
    let v6 = ip.is_ipv6();
    let link_local = IpNet {
        addr: IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0)),
        prefix: 10,
    };
    Tri::any(terms.iter().map(|t| {
        if !family_matches(&t.target, v6) {
            return Tri::No;
        }
        let m = term_contains(ctx, &t.target, ip, notes);
        let m = if t.neg { m.not() } else { m };
        // The sibling is not inverted: `{!(igb1:network),fe80::/10}` (Rule.php:90-100).
        if ll6 && v6 && t.ll6 && link_local.contains(ip) {
            Tri::Yes
        } else {
            m
        }
    }))
}

fn term_ranges(ctx: &Context<'_>, target: &Target, out: &mut Vec<IpRange>) {
    let net = ctx.network;
    match target {
        Target::Any | Target::Unknown(_) | Target::OffenderTable(_) => {}
        Target::SelfAddrs => out.extend(
            net.firewall_addresses()
                .into_iter()
                .map(|n| IpNet::host(n.addr).range()),
        ),
        Target::IfNet(k) | Target::IfAddr(k) => {
            if let Some(i) = net.interface(k) {
                for n in &i.addresses {
                    out.push(n.range());
                    out.push(IpNet::host(n.addr).range());
                }
            }
        }
        Target::DevNet(d) | Target::DevAddr(d) => {
            for i in net
                .interfaces()
                .filter(|i| i.device.as_deref() == Some(d.as_str()))
            {
                for n in &i.addresses {
                    out.push(n.range());
                    out.push(IpNet::host(n.addr).range());
                }
            }
        }
        Target::Net(n) => out.push(n.range()),
        Target::Range(r) => out.push(*r),
        Target::Alias(name) => {
            let mut t = Table::default();
            resolve_alias(ctx, name, &mut BTreeSet::new(), &mut t);
            out.extend(t.entries.iter().map(|(n, _)| n.range()));
        }
        Target::Table(t) => out.extend(t.entries.iter().map(|(n, _)| n.range())),
    }
}

// ---------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------

/// The well-known service names OPNsense maps to ports in rules (`PortField::$wellknownservices`,
/// PortField.php:42-89 at 26.1.11 and 26.7.2). pf itself also reads `/etc/services`
/// (`Util::getservbyname`, Util.php:342-358); names outside this table are treated as unknown.
pub fn service_port(name: &str) -> Option<u16> {
    const SERVICES: &[(&str, u16)] = &[
        ("afs3-fileserver", 7000),
        ("aol", 5190),
        ("auth", 113),
        ("avt-profile-1", 5004),
        ("cvsup", 5999),
        ("domain", 53),
        ("ftp", 21),
        ("hbci", 3000),
        ("http", 80),
        ("https", 443),
        ("igmpv3lite", 465),
        ("imap", 143),
        ("imaps", 993),
        ("ipsec-msft", 10000),
        ("ipsec-nat-t", 4500),
        ("isakmp", 500),
        ("l2f", 1701),
        ("ldap", 389),
        ("microsoft-ds", 445),
        ("ms-streaming", 1755),
        ("ms-wbt-server", 3389),
        ("msnp", 1863),
        ("nat-stun-port", 3478),
        ("netbios-dgm", 138),
        ("netbios-ns", 137),
        ("netbios-ssn", 139),
        ("nntp", 119),
        ("ntp", 123),
        ("openvpn", 1194),
        ("pop3", 110),
        ("pop3s", 995),
        ("pptp", 1723),
        ("radius", 1812),
        ("radius-acct", 1813),
        ("rfb", 5900),
        ("sip", 5060),
        ("smtp", 25),
        ("snmp", 161),
        ("snmptrap", 162),
        ("ssh", 22),
        ("submission", 587),
        ("telnet", 23),
        ("teredo", 3544),
        ("tftp", 69),
        ("urd", 465),
        ("wins", 1512),
    ];
    SERVICES.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

#[derive(Debug, Clone)]
pub(crate) enum Ports {
    Any,
    Ranges(Vec<(u16, u16)>),
    /// Some ranges are known, the rest is not (`why`).
    Partial(Vec<(u16, u16)>, String),
}

fn port_number(s: &str) -> Option<u16> {
    let s = s.trim();
    if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
        s.parse::<u16>().ok().filter(|p| *p > 0)
    } else {
        service_port(s)
    }
}

/// `443`, `https`, `8000:8100`, `8000-8100`, `80:any`.
fn port_range(s: &str) -> Option<(u16, u16)> {
    let s = s.trim().replace('-', ":");
    match s.split_once(':') {
        None => port_number(&s).map(|p| (p, p)),
        Some((a, b)) => {
            let a = if a.trim() == "any" {
                Some(1)
            } else {
                port_number(a)
            }?;
            let b = if b.trim() == "any" {
                Some(65535)
            } else {
                port_number(b)
            }?;
            Some((a.min(b), a.max(b)))
        }
    }
}

/// Parses a rule's port field; `Err` = OPNsense disables the rule.
fn parse_ports(ctx: &Context<'_>, raw: Option<&str>) -> Result<Ports, String> {
    let raw = raw.map(str::trim).unwrap_or_default();
    if raw.is_empty() || raw == "any" {
        return Ok(Ports::Any);
    }
    let mut ranges = Vec::new();
    let mut unknown = Vec::new();
    // Automatic rows may carry a pf list (`{ 80 443 }` trimmed to `80 443`).
    for item in raw
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if let Some(r) = port_range(item) {
            ranges.push(r);
            continue;
        }
        match ctx.aliases.get(item) {
            Some(def) => {
                if def.kind == Some(AliasType::Port) && def.content.iter().all(|c| c.trim().is_empty()) {
                    return Err(format!(
                        "port alias {item:?} is empty, so OPNsense disables the rule (Rule.php:115-121)"
                    ));
                }
                resolve_port_alias(ctx, item, &mut BTreeSet::new(), &mut ranges, &mut unknown);
            }
            None if ctx.aliases.complete => {
                return Err(format!(
                    "port {item:?} is neither a number, a range, a well-known service nor an alias, so OPNsense disables the rule (Rule.php:122-129)"
                ));
            }
            None => unknown.push(format!(
                "port {item:?} is not a number, range or well-known service, nor an alias this analysis knows"
            )),
        }
    }
    if unknown.is_empty() {
        Ok(Ports::Ranges(ranges))
    } else {
        // Known ranges plus something unknown: a match on the known part is certain.
        Ok(Ports::Partial(ranges, unknown.join("; ")))
    }
}

fn resolve_port_alias(
    ctx: &Context<'_>,
    name: &str,
    seen: &mut BTreeSet<String>,
    ranges: &mut Vec<(u16, u16)>,
    unknown: &mut Vec<String>,
) {
    if !seen.insert(name.to_owned()) {
        return;
    }
    let Some(def) = ctx.aliases.get(name) else {
        unknown.push(format!("port alias {name:?} is not known"));
        return;
    };
    if def.kind != Some(AliasType::Port) {
        unknown.push(format!(
            "alias {name:?} is used as a port but is not a port alias"
        ));
        return;
    }
    if !def.enabled {
        // A disabled port alias contributes no port: the macro becomes `{ 0 <> 65535 }`, which
        // matches nothing (filter.inc:613-619, filter.lib.inc:153).
        return;
    }
    for c in def
        .content
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
    {
        if let Some(r) = port_range(c) {
            ranges.push(r);
        } else if ctx.aliases.get(c).is_some() {
            resolve_port_alias(ctx, c, seen, ranges, unknown);
        } else {
            unknown.push(format!("port alias {name:?} holds {c:?}"));
        }
    }
}

fn ports_contain(ports: &Ports, port: Option<u16>, what: &str) -> Tri {
    match ports {
        Ports::Any => Tri::Yes,
        Ports::Ranges(r) => match port {
            Some(p) => Tri::of(r.iter().any(|(a, b)| *a <= p && p <= *b)),
            None => Tri::maybe(format!("the flow's {what} port is not known")),
        },
        Ports::Partial(r, why) => {
            if port.is_some_and(|p| r.iter().any(|(a, b)| *a <= p && p <= *b)) {
                Tri::Yes
            } else {
                Tri::maybe(why.clone())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Protocols
// ---------------------------------------------------------------------------------------------

/// IP protocol numbers of the names OPNsense's protocol lists use most (IANA numbers, as in
/// FreeBSD's /etc/protocols).
pub(crate) fn protocol_number(name: &str) -> Option<u8> {
    const NUMBERS: &[(&str, u8)] = &[
        ("ICMP", 1),
        ("IGMP", 2),
        ("GGP", 3),
        ("IPENCAP", 4),
        ("TCP", 6),
        ("EGP", 8),
        ("IGP", 9),
        ("PUP", 12),
        ("UDP", 17),
        ("RDP", 27),
        ("IPV6", 41),
        ("RSVP", 46),
        ("GRE", 47),
        ("ESP", 50),
        ("AH", 51),
        ("IPV6-ICMP", 58),
        ("EIGRP", 88),
        ("OSPF", 89),
        ("IPIP", 94),
        ("ETHERIP", 97),
        ("ENCAP", 98),
        ("PIM", 103),
        ("IPCOMP", 108),
        ("VRRP", 112),
        ("CARP", 112),
        ("L2TP", 115),
        ("ISIS", 124),
        ("SCTP", 132),
        ("UDPLITE", 136),
        ("MPLS-IN-IP", 137),
        ("PFSYNC", 240),
        ("DIVERT", 254),
    ];
    NUMBERS.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

/// The rule's protocol (upper-cased; `None` = any) against the flow's.
/// `icmp_v6_ok`: the rule's family is `inet6`/`inet46`, where OPNsense turns `icmp` into
/// `ipv6-icmp` (FilterRule.php:274-276 / 284-286).
fn proto_matches(rule: Option<&str>, flow: L4, v6: bool, icmp_v6_ok: bool) -> Tri {
    let Some(p) = rule
        .map(str::to_ascii_uppercase)
        .filter(|p| !p.is_empty() && p != "ANY")
    else {
        return Tri::Yes;
    };
    match p.as_str() {
        "TCP" => Tri::of(flow == L4::Tcp),
        "UDP" => Tri::of(flow == L4::Udp),
        "TCP/UDP" => Tri::of(matches!(flow, L4::Tcp | L4::Udp)),
        "ICMP" => Tri::of(flow == L4::Icmp && (!v6 || icmp_v6_ok)),
        "IPV6-ICMP" | "ICMP6" => Tri::of(flow == L4::Icmp && v6),
        other => match (flow, protocol_number(other)) {
            (L4::Other(n), Some(m)) => Tri::of(n == m),
            (L4::Other(_), None) => Tri::maybe(format!(
                "protocol {other:?} has no number this analysis knows"
            )),
            // A named protocol other than tcp/udp/icmp never is one of them.
            _ => Tri::No,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Rule references and ordering
// ---------------------------------------------------------------------------------------------

/// A rule, as results name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// The uuid (API rules) or OPNsense's label (legacy and automatic rows, `lockout_0`, ...).
    pub id: String,
    /// Description.
    pub description: Option<String>,
    /// API, legacy or automatic (for NAT rows: API or automatic).
    #[serde(serialize_with = "ser_origin")]
    pub origin: RuleOrigin,
    /// Index of the row in the slice the caller passed (`usize::MAX` for a row the evaluator
    /// added itself, e.g. an assumed anti-lockout rule).
    pub index: usize,
    /// The row's evaluation key (`sort_order` as given or computed).
    pub sort_order: String,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn ser_origin<S: serde::Serializer>(o: &RuleOrigin, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match o {
        RuleOrigin::Api => "api",
        RuleOrigin::Legacy => "legacy",
        RuleOrigin::Automatic => "automatic",
    })
}

impl fmt::Display for RuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.origin {
            RuleOrigin::Api => "rule",
            RuleOrigin::Legacy => "legacy rule",
            RuleOrigin::Automatic => "automatic rule",
        };
        match self.description.as_deref().filter(|d| !d.is_empty()) {
            Some(d) => write!(f, "{kind} {:?} ({})", d, self.id),
            None => write!(f, "{kind} {}", self.id),
        }
    }
}

/// An evaluation key: (priority, class, sequence) as `sort_order` spells them.
pub(crate) type OrderKey = (u64, u64, u64);

fn parse_sort_order(s: &str) -> Option<OrderKey> {
    let (p, rest) = s.trim().split_once('.')?;
    let prio = p.parse().ok()?;
    let mut chars = rest.chars();
    let class = u64::from(chars.next()?.to_digit(10)?);
    let seq = chars.as_str();
    let seq = if seq.is_empty() { 0 } else { seq.parse().ok()? };
    Some((prio, class, seq))
}

pub(crate) fn extra_str(rule: &FilterRule, key: &str) -> Option<String> {
    match rule.extra.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(true) => Some("1".to_owned()),
        _ => None,
    }
}

pub(crate) fn extra_true(rule: &FilterRule, key: &str) -> bool {
    rule.extra.get(key).is_some_and(truthy)
}

/// The MVC priority of a rule without `sort_order` (FilterRuleField.php:123-157).
fn mvc_priority(network: &Network, rule: &FilterRule) -> u64 {
    if let Some(p) = extra_str(rule, "prio_group").and_then(|p| p.parse().ok()) {
        return p;
    }
    let ifs = interface_names(rule.interface.as_ref());
    if ifs.len() != 1 || rule.interfacenot == Some(true) {
        200_000
    } else if network.group(&ifs[0]).is_some() {
        300_000
    } else {
        400_000
    }
}

/// The evaluation key of one filter row: `sort_order` parsed; for a row without one, the key
/// OPNsense would give an MVC rule (priority from its interfaces, then `sequence`), or, for a
/// non-API row, `prev` (the key of the row before it, so it keeps its place).
pub(crate) fn row_key(network: &Network, r: &FilterRule, prev: OrderKey) -> OrderKey {
    extra_str(r, "sort_order")
        .and_then(|s| parse_sort_order(&s))
        .unwrap_or_else(|| {
            if r.origin() == RuleOrigin::Api {
                (mvc_priority(network, r), 0, r.sequence.unwrap_or(0))
            } else {
                prev
            }
        })
}

fn row_keys(network: &Network, rows: &[FilterRule]) -> Vec<OrderKey> {
    let mut keys = Vec::with_capacity(rows.len());
    let mut prev: OrderKey = (0, 0, 0);
    for r in rows {
        prev = row_key(network, r, prev);
        keys.push(prev);
    }
    keys
}

/// The evaluation order of filter rows, as indices into `rows`: by `sort_order` (parsed, so
/// `000005.1000012` sorts before `200000.0000100`), stable; a row without one gets the key OPNsense would give an MVC rule (priority from its interfaces, then `sequence`), a non-API row the key of the row before it.
pub fn evaluation_order(network: &Network, rows: &[FilterRule]) -> Vec<usize> {
    let keys = row_keys(network, rows);
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|i| keys[*i]);
    order
}

fn sort_order_text(key: OrderKey) -> String {
    format!("{}.{}{:06}", key.0, key.1, key.2)
}

// ---------------------------------------------------------------------------------------------
// Filter rule matching
// ---------------------------------------------------------------------------------------------

/// What a filter evaluation decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Verdict {
    /// Passed.
    Pass,
    /// Dropped silently.
    Block,
    /// Dropped with a TCP RST / ICMP unreachable.
    Reject,
    /// No rule matched (pf then passes; OPNsense's own default deny was not among the rows).
    NoMatch,
}

impl Verdict {
    /// True for `Block` and `Reject`.
    pub fn is_blocked(self) -> bool {
        matches!(self, Self::Block | Self::Reject)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pass => "pass",
            Self::Block => "block",
            Self::Reject => "reject",
            Self::NoMatch => "no rule matched",
        })
    }
}

/// A filter row plus what the evaluator adds to it.
#[derive(Debug, Clone)]
pub(crate) struct Row<'r> {
    pub rule: &'r FilterRule,
    /// Index in the caller's slice (`usize::MAX` for added rows).
    pub index: usize,
    /// An extra condition the evaluator cannot decide (an assumed rule).
    pub condition: Option<String>,
    pub key: OrderKey,
    /// The parsed fields; valid for one [`Context`] (a row list is built per context).
    compiled: OnceCell<Compiled>,
}

impl<'r> Row<'r> {
    pub(crate) fn new(
        rule: &'r FilterRule,
        index: usize,
        condition: Option<String>,
        key: OrderKey,
    ) -> Self {
        Self {
            rule,
            index,
            condition,
            key,
            compiled: OnceCell::new(),
        }
    }

    pub(crate) fn compiled(&self, ctx: &Context<'_>) -> &Compiled {
        self.compiled.get_or_init(|| {
            let r = self.rule;
            compile(
                ctx,
                (r.source_net.as_deref(), r.source_not == Some(true)),
                (
                    r.destination_net.as_deref(),
                    r.destination_not == Some(true),
                ),
                (r.source_port.as_deref(), r.destination_port.as_deref()),
                r.origin(),
                true,
            )
        })
    }
}

pub(crate) fn rows_in_order<'r>(network: &Network, rows: &'r [FilterRule]) -> Vec<Row<'r>> {
    let keys = row_keys(network, rows);
    evaluation_order(network, rows)
        .into_iter()
        .map(|i| Row::new(&rows[i], i, None, keys[i]))
        .collect()
}

/// Puts rows in evaluation order (stable).
pub(crate) fn sort_rows(rows: &mut [Row<'_>]) {
    rows.sort_by_key(|r| r.key);
}

fn rule_ref(row: &Row<'_>) -> RuleRef {
    let r = row.rule;
    RuleRef {
        id: r
            .uuid
            .clone()
            .unwrap_or_else(|| format!("row {}", row.index)),
        description: r.description.clone().filter(|d| !d.is_empty()),
        origin: r.origin(),
        index: row.index,
        sort_order: extra_str(r, "sort_order").unwrap_or_else(|| sort_order_text(row.key)),
    }
}

/// How a matching row acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Effect {
    pub(crate) verdict: Verdict,
    pub(crate) quick: bool,
}

pub(crate) fn effect_of(rule: &FilterRule) -> (Effect, Option<String>) {
    let (verdict, note) = match &rule.action {
        None | Some(Action::Pass) => (Verdict::Pass, None),
        Some(Action::Block) => (Verdict::Block, None),
        Some(Action::Reject) => (Verdict::Reject, None),
        Some(Action::Other(a)) => (
            Verdict::Block,
            Some(format!("action {a:?} is not known; taken as block")),
        ),
    };
    // Quick unless the row says otherwise; legacy floating rules default to not quick
    // (FilterRule.php:195-198 / 200-203).
    let quick = rule.quick.unwrap_or_else(|| {
        !(rule.origin() != RuleOrigin::Api
            && rule.extra.get("floating").is_some_and(|v| !v.is_null()))
    });
    (Effect { verdict, quick }, note)
}

/// A rule's interfaces against the flow's. An interface name the context does not know: when
/// the row's priority says it is an interface group (300000 + group sequence,
/// FilterRuleField.php:137-152; filter.lib.inc:704-705 for legacy rows), its members are unknown
/// unless declared; a single-interface rule (400000) or a rule OPNsense does not apply (600000,
/// 26.7.2) on an interface that is not in a complete context cannot see the packet.
fn interface_matches(ctx: &Context<'_>, row: &Row<'_>, flow: &Flow) -> Tri {
    let rule = row.rule;
    let names = interface_names(rule.interface.as_ref());
    if names.is_empty() {
        return Tri::Yes;
    }
    let inverted = rule.interfacenot == Some(true);
    let origin = rule.origin();
    let prio = row.key.0;
    Tri::any(names.iter().map(|name| {
        let on = match ctx.network.resolve_interface(name, origin) {
            IfName::Key(k) => {
                if ctx.network.interface(&k).is_some_and(|i| !i.enabled) {
                    // Rules on an interface that is not enabled are not loaded (Rule.php:310-314).
                    return Tri::No;
                }
                match &flow.interface {
                    Some(f) => Tri::of(*f == k),
                    None => Tri::maybe("the interface the packet arrives on is not known"),
                }
            }
            IfName::Group(g) => match &flow.interface {
                Some(f) => Tri::of(
                    ctx.network
                        .group(&g)
                        .is_some_and(|m| m.iter().any(|x| x == f)),
                ),
                None => Tri::maybe("the interface the packet arrives on is not known"),
            },
            IfName::NotFound(n) => {
                let single = (400_000..500_000).contains(&prio) || prio >= 600_000;
                if (300_000..400_000).contains(&prio) {
                    Tri::maybe(format!(
                        "{n:?} is an interface group whose members this analysis was not told"
                    ))
                } else if single && ctx.network.is_complete() {
                    // Not a group and not an interface of the firewall: never the arrival one.
                    return Tri::No;
                } else {
                    not_found(&n, flow)
                }
            }
            IfName::Unknown(r) => Tri::maybe(r),
        };
        if inverted { on.not() } else { on }
    }))
}

fn not_found(name: &str, flow: &Flow) -> Tri {
    if flow.interface.as_deref() == Some(name) {
        Tri::Yes
    } else {
        Tri::maybe(format!(
            "interface {name:?} is not in the interface list (an interface group, or an interface this analysis was not told about)"
        ))
    }
}

fn family_of(rule_family: Option<&IpProtocol>, v6: bool) -> Tri {
    match rule_family {
        None | Some(IpProtocol::Inet46) => Tri::Yes,
        Some(IpProtocol::Inet) => Tri::of(!v6),
        Some(IpProtocol::Inet6) => Tri::of(v6),
        Some(IpProtocol::Other(o)) => Tri::maybe(format!("address family {o:?} is not known")),
    }
}

/// Whether the rule's TCP flags let the first packet of a new connection (a SYN) match.
pub(crate) fn matches_syn(rule: &FilterRule) -> bool {
    let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    tcp_flags_match(rule, &Flow::tcp(any, any, 1)) == Tri::Yes
}

/// TCP flags of a SYN against the rule's `flags` (default `S/SA` for stateful rules matches).
fn tcp_flags_match(rule: &FilterRule, flow: &Flow) -> Tri {
    if flow.proto != L4::Tcp || rule.tcpflags_any == Some(true) {
        return Tri::Yes;
    }
    let letters = |l: Option<&opnsense_api::fields::CsvList>| -> Option<Vec<char>> {
        let l = l?;
        if l.0.is_empty() {
            return None;
        }
        Some(
            l.0.iter()
                .filter_map(|f| {
                    let f = f.trim().to_ascii_uppercase();
                    // CWR is written W (FilterRule.php:208-211).
                    if f.starts_with('C') {
                        Some('W')
                    } else {
                        f.chars().next()
                    }
                })
                .collect(),
        )
    };
    let Some(mask) = letters(rule.tcpflags2.as_ref()) else {
        return Tri::Yes;
    };
    let set = letters(rule.tcpflags1.as_ref()).unwrap_or_default();
    // A SYN has only S set: matches when every set flag is S and S is either in the set or
    // outside the mask.
    let syn_in_mask = mask.contains(&'S');
    let ok = set.iter().all(|c| *c == 'S') && (set.contains(&'S') || !syn_in_mask);
    Tri::of(ok)
}

/// Whether `row` matches `flow`, and notes (assumptions) made on the way.
fn row_matches(ctx: &Context<'_>, row: &Row<'_>, flow: &Flow, notes: &mut Vec<String>) -> Tri {
    let rule = row.rule;
    let v6 = flow.dst.is_ipv6();
    if flow.src.is_ipv6() != v6 {
        return Tri::No;
    }
    let fam = rule.ipprotocol.as_ref();
    let ll6 = v6 && matches!(fam, Some(IpProtocol::Inet6 | IpProtocol::Inet46));
    let icmp_v6_ok = matches!(fam, Some(IpProtocol::Inet6 | IpProtocol::Inet46));
    let c = row.compiled(ctx);
    let fields = (&c.src, &c.dst, &c.sport, &c.dport);
    let (src, dst, sp, dp) = match fields {
        (Ok(s), Ok(d), Ok(sp), Ok(dp)) => (s, d, sp, dp),
        (Err(why), _, _, _) | (_, Err(why), _, _) | (_, _, Err(why), _) | (_, _, _, Err(why)) => {
            let n = format!("{} does not apply: {why}", rule_ref(row));
            push_unique(notes, n);
            return Tri::No;
        }
    };
    let dir = match &rule.direction {
        None | Some(Direction::In | Direction::Any) => Tri::Yes,
        Some(Direction::Out) => Tri::No,
        Some(Direction::Other(d)) => Tri::maybe(format!("direction {d:?} is not known")),
    };
    let proto_name = rule.protocol.as_ref().map(|p| p.as_str().to_owned());
    dir.and(|| family_of(fam, v6))
        .and(|| proto_matches(proto_name.as_deref(), flow.proto, v6, icmp_v6_ok))
        .and(|| interface_matches(ctx, row, flow))
        .and(|| field_contains(ctx, src, flow.src, ll6, notes))
        .and(|| field_contains(ctx, dst, flow.dst, ll6, notes))
        .and(|| {
            let constrained = !matches!(sp, Ports::Any) || !matches!(dp, Ports::Any);
            if constrained && !matches!(flow.proto, L4::Tcp | L4::Udp) {
                return Tri::No;
            }
            ports_contain(sp, flow.src_port, "source")
                .and(|| ports_contain(dp, flow.dst_port, "destination"))
        })
        .and(|| tcp_flags_match(rule, flow))
        .and(|| icmp_types(rule, flow))
        .and(|| runtime_conditions(rule, row))
}

fn icmp_types(rule: &FilterRule, flow: &Flow) -> Tri {
    if flow.proto != L4::Icmp {
        return Tri::Yes;
    }
    let v6 = flow.dst.is_ipv6();
    let listed = if v6 {
        rule.icmp6type.as_ref().is_some_and(|l| !l.0.is_empty())
            || extra_str(rule, "icmp6-type").is_some()
    } else {
        rule.icmptype.as_ref().is_some_and(|l| !l.0.is_empty())
            || extra_str(rule, "icmp-type").is_some()
    };
    if listed {
        Tri::maybe("the rule matches only some ICMP types; the flow has none")
    } else {
        Tri::Yes
    }
}

/// Conditions only known at run time.
fn runtime_conditions(rule: &FilterRule, row: &Row<'_>) -> Tri {
    let mut reasons = Vec::new();
    if let Some(c) = &row.condition {
        reasons.push(c.clone());
    }
    if let Some(s) = rule.sched.as_deref().filter(|s| !s.is_empty()) {
        reasons.push(format!(
            "the rule follows schedule {s:?} and is only loaded inside its time window (filter.inc:259-285 / 262-288)"
        ));
    }
    if let Some(t) = rule.tagged.as_deref().filter(|s| !s.is_empty()) {
        reasons.push(format!(
            "the rule matches only packets tagged {t:?} by another rule"
        ));
    }
    if let Some(os) = extra_str(rule, "os") {
        reasons.push(format!("the rule matches only the operating system {os:?}"));
    }
    if extra_true(rule, "disabled") {
        return Tri::No;
    }
    if reasons.is_empty() {
        Tri::Yes
    } else {
        Tri::Maybe(reasons)
    }
}

// ---------------------------------------------------------------------------------------------
// Filter evaluation
// ---------------------------------------------------------------------------------------------

/// Appends `item` unless `v` already holds it (reasons, notes and outcomes are kept in the order
/// first seen, each once).
pub(crate) fn push_unique<T: PartialEq>(v: &mut Vec<T>, item: T) {
    if !v.contains(&item) {
        v.push(item);
    }
}

/// Adds what a rule's match depended on (`reasons`) to the blind spots, each as `rule: reason`.
fn add_blind_spots(blind: &mut Vec<String>, rule: &RuleRef, reasons: Vec<String>) {
    for why in reasons {
        push_unique(blind, format!("{rule}: {why}"));
    }
}

/// One possible result of an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Verdict in this world.
    pub verdict: Verdict,
    /// The deciding rule (`None` = no rule matched).
    pub deciding: Option<RuleRef>,
}

/// The result of evaluating one flow against a rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    /// The verdict when every undecidable condition is taken as "does not match" (the verdict of
    /// the rules whose match is certain). See `certain` and `outcomes`.
    pub verdict: Verdict,
    /// The rule that decides `verdict` (`None` = no rule matched).
    pub deciding: Option<RuleRef>,
    /// True when every possible world gives the same verdict.
    pub certain: bool,
    /// What the verdict depends on that the evaluator could not see (empty when nothing could
    /// change it).
    pub blind_spots: Vec<String>,
    /// Premises the evaluator adopted (run-time tables assumed not to hold the flow, rules that
    /// OPNsense would not load, ...). They do not make the verdict uncertain.
    pub notes: Vec<String>,
    /// Rules that certainly match, in evaluation order, up to the one where pf stops.
    pub matched: Vec<RuleRef>,
    /// Rules that may match (their match depends on a blind spot), up to the same point.
    pub maybe_matched: Vec<RuleRef>,
    /// Every distinct possible result (one when `certain` and the deciding rule is fixed).
    pub outcomes: Vec<Outcome>,
    /// Set when the deciding rule passes the packet but sends it elsewhere: a gateway
    /// (`route-to`, FilterRule.php:95-102) or `divert-to`. For a packet to the firewall itself
    /// that means it may not be delivered locally.
    pub reroute: Option<String>,
}

impl Evaluation {
    /// The possible verdicts, deduplicated.
    pub fn verdicts(&self) -> BTreeSet<Verdict> {
        self.outcomes.iter().map(|o| o.verdict).collect()
    }
}

/// Evaluates `flow` against filter search rows (in any order: they are put in evaluation order).
pub fn evaluate(ctx: &Context<'_>, rules: &[FilterRule], flow: &Flow) -> Evaluation {
    let rows = rows_in_order(ctx.network, rules);
    evaluate_rows(ctx, &rows, flow)
}

pub(crate) fn evaluate_rows(ctx: &Context<'_>, rows: &[Row<'_>], flow: &Flow) -> Evaluation {
    #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    struct World {
        decided: Option<usize>,
        done: bool,
    }
    let mut worlds: BTreeSet<World> = BTreeSet::new();
    worlds.insert(World {
        decided: None,
        done: false,
    });
    // The baseline world: only certain matches count.
    let mut base = World {
        decided: None,
        done: false,
    };
    let mut effects: Vec<Effect> = Vec::with_capacity(rows.len());
    let mut notes: Vec<String> = Vec::new();
    let mut blind: Vec<String> = Vec::new();
    let mut matched = Vec::new();
    let mut maybe_matched = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let (effect, note) = effect_of(row.rule);
        effects.push(effect);
        if worlds.iter().all(|w| w.done) {
            break;
        }
        if row.rule.enabled == Some(false) {
            continue;
        }
        let m = row_matches(ctx, row, flow, &mut notes);
        if let Some(n) = note
            && m != Tri::No
        {
            notes.push(format!("{}: {n}", rule_ref(row)));
        }
        match m {
            Tri::No => {}
            Tri::Yes => {
                if !base.done {
                    matched.push(rule_ref(row));
                    base = World {
                        decided: Some(i),
                        done: effect.quick,
                    };
                }
                worlds = worlds
                    .into_iter()
                    .map(|w| {
                        if w.done {
                            w
                        } else {
                            World {
                                decided: Some(i),
                                done: effect.quick,
                            }
                        }
                    })
                    .collect();
            }
            Tri::Maybe(reasons) => {
                let live = worlds.iter().any(|w| !w.done);
                if !live {
                    continue;
                }
                let r = rule_ref(row);
                if !base.done {
                    maybe_matched.push(r.clone());
                }
                add_blind_spots(&mut blind, &r, reasons);
                let mut next = BTreeSet::new();
                for w in worlds {
                    next.insert(w);
                    if !w.done {
                        next.insert(World {
                            decided: Some(i),
                            done: effect.quick,
                        });
                    }
                }
                worlds = next;
            }
        }
    }
    let outcome = |decided: Option<usize>| Outcome {
        verdict: decided.map_or(Verdict::NoMatch, |i| effects[i].verdict),
        deciding: decided.map(|i| rule_ref(&rows[i])),
    };
    let mut outcomes: Vec<Outcome> = Vec::new();
    for w in &worlds {
        let o = outcome(w.decided);
        push_unique(&mut outcomes, o);
    }
    let base_o = outcome(base.decided);
    let verdicts: BTreeSet<Verdict> = outcomes.iter().map(|o| o.verdict).collect();
    let certain = verdicts.len() <= 1;
    if certain {
        // Nothing seen could change the verdict: what was unknown did not matter.
        blind.clear();
    }
    if base_o.verdict == Verdict::NoMatch
        && !rows.iter().any(|r| r.rule.origin() != RuleOrigin::Api)
    {
        notes.push(
            "no rule matched and the rows hold none of OPNsense's automatic rules: pf passes an unmatched packet, but OPNsense always installs its \"Default deny / state violation rule\" (filter.lib.inc:223-228), which would block it".to_owned(),
        );
    }
    let reroute = base.decided.and_then(|i| {
        let r = rows[i].rule;
        if effects[i].verdict != Verdict::Pass {
            return None;
        }
        let gw = r.gateway.as_deref().filter(|g| !g.is_empty());
        let divert = extra_str(r, "divert-to");
        match (gw, divert) {
            (Some(g), _) => Some(format!(
                "{} policy-routes the packet to gateway {g:?} (route-to)",
                rule_ref(&rows[i])
            )),
            (None, Some(d)) => Some(format!(
                "{} diverts the packet to {d:?} (divert-to)",
                rule_ref(&rows[i])
            )),
            (None, None) => None,
        }
    });
    Evaluation {
        verdict: base_o.verdict,
        deciding: base_o.deciding,
        certain,
        blind_spots: blind,
        notes,
        matched,
        maybe_matched,
        outcomes,
        reroute,
    }
}

/// Every address range of `range` inside which no rule, interface or alias of the context
/// distinguishes one source address from another: evaluating one address of each piece covers
/// the whole range. Used to evaluate a protected source network exactly.
pub fn source_pieces(
    ctx: &Context<'_>,
    filter: &[FilterRule],
    nat: &[DNatRow],
    range: IpRange,
) -> Vec<IpRange> {
    let mut bounds: Vec<IpRange> = Vec::new();
    for i in ctx.network.interfaces() {
        for n in &i.addresses {
            bounds.push(n.range());
            bounds.push(IpNet::host(n.addr).range());
        }
    }
    bounds.extend(
        ctx.network
            .firewall_addresses()
            .iter()
            .map(|n| IpNet::host(n.addr).range()),
    );
    bounds.push(
        IpNet {
            addr: IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0)),
            prefix: 10,
        }
        .range(),
    );
    let mut fields: Vec<(Option<&str>, RuleOrigin)> = Vec::new();
    // Only source fields tell sources apart (destinations and interfaces come from the network).
    for r in filter {
        fields.push((r.source_net.as_deref(), r.origin()));
    }
    for r in nat {
        let o = if r.is_automatic() {
            RuleOrigin::Automatic
        } else {
            RuleOrigin::Api
        };
        fields.push((r.source_network.as_deref(), o));
    }
    for (raw, origin) in fields {
        if let Ok(terms) = parse_addr_field(ctx, raw, false, origin, true) {
            for t in terms {
                term_ranges(ctx, &t.target, &mut bounds);
            }
        }
    }
    // Cut points: every range start and every address after a range end.
    let mut cuts: BTreeSet<u128> = BTreeSet::new();
    cuts.insert(range.lo);
    for b in bounds.iter().filter(|b| b.v6 == range.v6) {
        if b.lo > range.lo && b.lo <= range.hi {
            cuts.insert(b.lo);
        }
        if let Some(after) = b.hi.checked_add(1)
            && after > range.lo
            && after <= range.hi
        {
            cuts.insert(after);
        }
    }
    let cuts: Vec<u128> = cuts.into_iter().collect();
    cuts.iter()
        .enumerate()
        .map(|(i, lo)| IpRange {
            v6: range.v6,
            lo: *lo,
            hi: cuts.get(i + 1).map_or(range.hi, |n| n - 1),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Port forwards (rdr)
// ---------------------------------------------------------------------------------------------

/// What the port forwards do with a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum NatAction {
    /// No port forward matched: the packet keeps its destination.
    Untouched,
    /// A `no rdr` rule matched first (e.g. OPNsense's anti-lockout): the destination is kept.
    Excluded,
    /// Redirected to another destination.
    Redirected {
        /// The rule's target (address or alias).
        target: String,
        /// The target port, when the rule sets one.
        port: Option<String>,
        /// `rdr pass`: the filter rules are skipped for the redirected packet.
        pass: bool,
    },
}

/// One possible NAT result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NatOutcome {
    /// What happens.
    pub action: NatAction,
    /// The deciding rule.
    pub rule: Option<RuleRef>,
}

/// The result of running a flow through the port forwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NatEvaluation {
    /// What happens when every undecidable condition is taken as "does not match".
    pub action: NatAction,
    /// The deciding rule.
    pub rule: Option<RuleRef>,
    /// True when every possible world agrees on whether the flow is redirected.
    pub certain: bool,
    /// Why not.
    pub blind_spots: Vec<String>,
    /// Premises adopted.
    pub notes: Vec<String>,
    /// Every distinct possible result.
    pub outcomes: Vec<NatOutcome>,
}

impl NatEvaluation {
    /// True when the flow is (in the baseline world) sent elsewhere.
    pub fn redirected(&self) -> bool {
        matches!(self.action, NatAction::Redirected { .. })
    }
}

pub(crate) struct NatRow<'r> {
    pub rule: &'r DNatRow,
    pub index: usize,
    pub condition: Option<String>,
    pub key: OrderKey,
    compiled: OnceCell<Compiled>,
}

impl<'r> NatRow<'r> {
    pub(crate) fn new(
        rule: &'r DNatRow,
        index: usize,
        condition: Option<String>,
        key: OrderKey,
    ) -> Self {
        Self {
            rule,
            index,
            condition,
            key,
            compiled: OnceCell::new(),
        }
    }

    pub(crate) fn compiled(&self, ctx: &Context<'_>) -> &Compiled {
        self.compiled.get_or_init(|| {
            let r = self.rule;
            let origin = if r.is_automatic() {
                RuleOrigin::Automatic
            } else {
                RuleOrigin::Api
            };
            compile(
                ctx,
                (r.source_network.as_deref(), r.source_not == Some(true)),
                (
                    r.destination_network.as_deref(),
                    r.destination_not == Some(true),
                ),
                (r.source_port.as_deref(), r.destination_port.as_deref()),
                origin,
                false,
            )
        })
    }
}

fn nat_ref(row: &NatRow<'_>) -> RuleRef {
    let r = row.rule;
    RuleRef {
        id: if r.uuid.is_empty() {
            format!("row {}", row.index)
        } else {
            r.uuid.clone()
        },
        description: r.fields.descr.clone().filter(|d| !d.is_empty()),
        origin: if r.is_automatic() {
            RuleOrigin::Automatic
        } else {
            RuleOrigin::Api
        },
        index: row.index,
        sort_order: r
            .extra
            .get("sort_order")
            .and_then(Value::as_str)
            .map_or_else(|| sort_order_text(row.key), str::to_owned),
    }
}

/// The evaluation key of a d_nat row: `sort_order` when present (anti-lockout rows 100000.*,
/// port forwards 400000.*), else anti-lockout rows first, then `sequence`.
pub(crate) fn nat_key(r: &DNatRow, index: usize) -> OrderKey {
    r.extra
        .get("sort_order")
        .and_then(Value::as_str)
        .and_then(parse_sort_order)
        .unwrap_or(if r.is_automatic() {
            // Anti-lockout `no rdr` rules come first (priority 300 < 600).
            (100_000, 0, u64::try_from(index).unwrap_or(0))
        } else {
            (400_000, 0, r.fields.sequence.unwrap_or(0))
        })
}

pub(crate) fn nat_rows_in_order(rows: &[DNatRow]) -> Vec<NatRow<'_>> {
    let mut v: Vec<NatRow<'_>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| NatRow::new(r, i, None, nat_key(r, i)))
        .collect();
    v.sort_by_key(|r| r.key);
    v
}

/// Runs `flow` through destination NAT rows (in any order: they are put in evaluation order).
pub fn evaluate_nat(ctx: &Context<'_>, rows: &[DNatRow], flow: &Flow) -> NatEvaluation {
    let rows = nat_rows_in_order(rows);
    evaluate_nat_rows(ctx, &rows, flow)
}

fn nat_matches(ctx: &Context<'_>, row: &NatRow<'_>, flow: &Flow, notes: &mut Vec<String>) -> Tri {
    let r = row.rule;
    let f = &r.fields;
    let v6 = flow.dst.is_ipv6();
    if f.disabled == Some(true) {
        return Tri::No;
    }
    let proto = f.protocol.as_ref().map(|p| p.as_str().to_ascii_uppercase());
    let port_proto = matches!(proto.as_deref(), Some("TCP" | "UDP" | "TCP/UDP"));
    let parsed = row.compiled(ctx);
    let (src, dst) = match (&parsed.src, &parsed.dst) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(why), _) | (_, Err(why)) => {
            notes.push(format!("{} does not apply: {why}", nat_ref(row)));
            return Tri::No;
        }
    };
    // Ports only count for tcp/udp (Rule.php:372-378).
    let any = Ports::Any;
    let (sp, dp) = if port_proto {
        match (&parsed.sport, &parsed.dport) {
            (Ok(s), Ok(d)) => (s, d),
            (Err(why), _) | (_, Err(why)) => {
                notes.push(format!("{} does not apply: {why}", nat_ref(row)));
                return Tri::No;
            }
        }
    } else {
        (&any, &any)
    };
    if !f.nordr.unwrap_or(false) && f.target.as_deref().is_none_or(str::is_empty) {
        notes.push(format!(
            "{} does not apply: it has no target (ForwardRule.php:107-111)",
            nat_ref(row)
        ));
        return Tri::No;
    }
    family_of(f.ipprotocol.as_ref(), v6)
        .and(|| proto_matches(proto.as_deref(), flow.proto, v6, true))
        .and(|| nat_interface(ctx, r, flow))
        .and(|| field_contains(ctx, src, flow.src, false, notes))
        .and(|| field_contains(ctx, dst, flow.dst, false, notes))
        .and(|| {
            ports_contain(sp, flow.src_port, "source")
                .and(|| ports_contain(dp, flow.dst_port, "destination"))
        })
        .and(|| match f.tagged.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => Tri::maybe(format!(
                "the port forward matches only packets tagged {t:?}"
            )),
            None => Tri::Yes,
        })
        .and(|| match &row.condition {
            Some(c) => Tri::maybe(c.clone()),
            None => Tri::Yes,
        })
}

fn nat_interface(ctx: &Context<'_>, r: &DNatRow, flow: &Flow) -> Tri {
    let names = interface_names(r.fields.interface.as_ref());
    let origin = if r.is_automatic() {
        RuleOrigin::Automatic
    } else {
        RuleOrigin::Api
    };
    let direct = if names.is_empty() {
        Tri::Yes
    } else {
        Tri::any(names.iter().map(|n| {
            match ctx.network.resolve_interface(n, origin) {
                IfName::Key(k) => match &flow.interface {
                    Some(f) => Tri::of(*f == k),
                    None => Tri::maybe("the interface the packet arrives on is not known"),
                },
                IfName::Group(g) => match &flow.interface {
                    Some(f) => Tri::of(
                        ctx.network
                            .group(&g)
                            .is_some_and(|m| m.iter().any(|x| x == f)),
                    ),
                    None => Tri::maybe("the interface the packet arrives on is not known"),
                },
                IfName::NotFound(n) => not_found(&n, flow),
                IfName::Unknown(why) => Tri::maybe(why),
            }
        }))
    };
    if direct != Tri::No || r.fields.nordr == Some(true) {
        return direct;
    }
    // NAT reflection: the redirect is also installed on interfaces without a gateway.
    let reflect = match &r.fields.natreflection {
        Some(NatReflection::Enable) => Some(true),
        Some(NatReflection::Disable) => Some(false),
        Some(NatReflection::Other(o)) => Some(o == "enable"),
        None => ctx.nat_reflection_default,
    };
    let on_reflection_if = match flow
        .interface
        .as_deref()
        .and_then(|k| ctx.network.interface(k))
    {
        Some(i) if i.addresses.is_empty() => Tri::No,
        Some(i) => match i.has_gateway {
            Some(g) => Tri::of(!g),
            None => Tri::maybe(format!(
                "whether interface {:?} has a gateway (NAT reflection applies only without one) is not known",
                i.key
            )),
        },
        None => Tri::maybe("the interface the packet arrives on is not known"),
    };
    match reflect {
        Some(false) => Tri::No,
        Some(true) => on_reflection_if,
        None => on_reflection_if.and(|| {
            Tri::maybe("the rule follows the system's NAT reflection default, which this analysis was not told")
        }),
    }
}

pub(crate) fn evaluate_nat_rows(
    ctx: &Context<'_>,
    rows: &[NatRow<'_>],
    flow: &Flow,
) -> NatEvaluation {
    let action_of = |row: &NatRow<'_>| -> NatAction {
        let f = &row.rule.fields;
        if f.nordr == Some(true) {
            NatAction::Excluded
        } else {
            NatAction::Redirected {
                target: f.target.clone().unwrap_or_default(),
                port: f.local_port.clone().filter(|p| !p.is_empty()),
                pass: f.pass == Some(NatPass::Pass),
            }
        }
    };
    let mut notes = Vec::new();
    let mut blind = Vec::new();
    let mut outcomes: Vec<NatOutcome> = Vec::new();
    let mut base: Option<usize> = None;
    let mut open = true; // some world still undecided
    for (i, row) in rows.iter().enumerate() {
        match nat_matches(ctx, row, flow, &mut notes) {
            Tri::No => {}
            Tri::Yes => {
                let o = NatOutcome {
                    action: action_of(row),
                    rule: Some(nat_ref(row)),
                };
                push_unique(&mut outcomes, o);
                if base.is_none() {
                    base = Some(i);
                }
                open = false;
                break;
            }
            Tri::Maybe(reasons) => {
                let r = nat_ref(row);
                add_blind_spots(&mut blind, &r, reasons);
                let o = NatOutcome {
                    action: action_of(row),
                    rule: Some(r),
                };
                push_unique(&mut outcomes, o);
            }
        }
    }
    if open {
        outcomes.push(NatOutcome {
            action: NatAction::Untouched,
            rule: None,
        });
    }
    let redirect_kinds: BTreeSet<bool> = outcomes
        .iter()
        .map(|o| matches!(o.action, NatAction::Redirected { .. }))
        .collect();
    let certain = redirect_kinds.len() <= 1;
    if certain {
        blind.clear();
    }
    let (action, rule) = match base {
        Some(i) => (action_of(&rows[i]), Some(nat_ref(&rows[i]))),
        None => (NatAction::Untouched, None),
    };
    NatEvaluation {
        action,
        rule,
        certain,
        blind_spots: blind,
        notes,
        outcomes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_decompose_into_cidrs() {
        let r = IpRange::new("10.0.0.1".parse().unwrap(), "10.0.0.6".parse().unwrap()).unwrap();
        let nets: Vec<String> = r.to_nets().iter().map(ToString::to_string).collect();
        assert_eq!(
            nets,
            ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]
        );
        assert_eq!(IpRange::all(false).to_nets().len(), 1);
        assert_eq!(IpRange::all(true).to_string(), "::/0");
    }

    #[test]
    fn sort_order_parses_both_spellings() {
        assert_eq!(parse_sort_order("400000.0000100"), Some((400_000, 0, 100)));
        assert_eq!(parse_sort_order("000005.1000012"), Some((5, 1, 12)));
        assert!(parse_sort_order("400000.0000100") > parse_sort_order("200000.1000002"));
        assert!(parse_sort_order("x").is_none());
    }

    #[test]
    fn port_ranges_read_every_spelling() {
        assert_eq!(port_range("443"), Some((443, 443)));
        assert_eq!(port_range("https"), Some((443, 443)));
        assert_eq!(port_range("8000-8100"), Some((8000, 8100)));
        assert_eq!(port_range("8000:8100"), Some((8000, 8100)));
        assert_eq!(port_range("1024:any"), Some((1024, 65535)));
        assert_eq!(port_range("nonsense"), None);
        assert_eq!(port_range("0"), None);
    }
}

//! A security audit of the filter rules, port forwards and aliases (pure, no I/O): findings with a
//! severity, a stable check id, the records involved, why it matters and how to fix it, plus what
//! the audit could not see.
//!
//! It reuses the [`crate::pf`] model of OPNsense's rule order and matching, whose header cites the
//! evaluation facts (priorities, `quick`, last match, aliases, addresses, ports). The facts the
//! checks add were read from opnsense/core at tags 26.1.11 and 26.7.2 (`26.1.11 / 26.7.2` where
//! the lines differ):
//!
//! - **Anti-lockout.** `filter_core_get_antilockout` (filter.lib.inc:89-137 / 90-138) returns
//!   nothing when `system/webgui/noantilockout` is set (line 93 / 94); otherwise the primary
//!   interface (`lan`, else the first `optN`, else `wan`) and the protected ports: the web GUI port
//!   (`system/webgui/port`, default 443 for https and 80 for http), 80 when the GUI is https and
//!   `disablehttpredirect` is not set (line 119 / 120), and the SSH port (`system/ssh/port`,
//!   default 22) when `system/ssh/enabled` is set (line 123 / 124). A quick pass to `(self)` is
//!   registered per port at priority 5 (line 585-602 / 586-603), and `Util::getAntiLockout`
//!   (Util.php:671-710) gives the same ports, which the d_nat search prepends as `lockout_<n>` rows
//!   (DNatController.php:86-109 / 119-142). So the anti-lockout rows name the management ports.
//! - **Port forwards and filter rules.** pf rewrites the destination (`rdr`) before filtering, so
//!   the filter sees the translated target and port on the arrival interface. A forward's `pass`
//!   (DNat.xml:103-109): `pass` makes it `rdr pass` (ForwardRule.php:103-104 / 105-106), which
//!   skips the filter rules; `rule` registers an automatic pass rule to the target at priority
//!   500000 (filter.lib.inc:644-672 / 645-673), which the filter search lists like every other
//!   automatic rule and which an earlier quick block still beats; empty ("Manual") needs a user
//!   rule. A forward without a target or with an unmappable field is not loaded
//!   (ForwardRule.php:107-111, Rule.php:94-97).
//! - **Interfaces with a gateway.** The interface overview lists each interface's gateways
//!   (OverviewController.php:237-240 / 235-238); `wan` counts as facing the internet even when it
//!   has none.
//! - **Alias references.** OPNsense's own "in use" test (`Alias::whereUsed`, Alias.php:190-210 /
//!   193-213) looks at the filter and NAT rules (legacy and MVC, outbound and one-to-one NAT,
//!   scrub rules: `getAliasSource`, Alias.php:104-141 / 104-144) and at the content of every other
//!   alias except geoip and urltable ones; `firewall/alias/del_item` refuses an alias in use
//!   (AliasController.php:209-227). The filter search lists only *enabled* legacy rules
//!   (list_non_mvc_rules.php:67), so a disabled classic-GUI rule, outbound/one-to-one NAT and
//!   scrub rules are only seen when config.xml could be read ([`AuditInput::alias_references`]).
//! - **Logging.** A rule logs its matches only with `log` set (FilterRule.php:45).
//! - **Rows OPNsense does not load.** An address or port it cannot map disables the rule
//!   (Rule.php:94-97, 115-129, the evaluator's reasons); a rule on a disabled interface is not
//!   loaded (Rule.php:310-314); on 26.7.2 a rule none of whose interfaces is configured gets
//!   priority 600000 and is not applied (FilterRuleField.php:123-138). Interface keys are mapped
//!   from the *configured* interfaces (Rule.php:48-97), while the overview lists only interfaces
//!   whose device exists (OverviewController.php:140-149), so a name that is neither an alias nor
//!   in the overview proves nothing unless config.xml's `interfaces` lacks it too.
//! - **The default deny** (priority 1, not quick, filter.lib.inc:223-228) blocks what no rule
//!   passes, so a flow no row decides is taken as blocked.
//!
//! **Shadowing** is decided by exact set containment, not by sampling: a rule is a product of its
//! interface set (floating = every interface, groups by members, inversion per expansion as
//! [`crate::pf`] reads it), directions, address families, and per family its source and
//! destination address sets (aliases resolved into pf tables, `!` exclusions and `not` included)
//! and its protocol/port classes; TCP flags and ICMP types count as pf sees the first packet of a
//! new connection (states decide the rest). Rule B never decides a packet when an earlier quick
//! rule A contains it (A matches every packet B would), or when B is not quick and any later rule
//! contains it (the later match overrides B). Where a set is not known exactly (run-time aliases,
//! host names, schedules, tags, an interface group whose members are not known) the pair is
//! decided only if the known bounds already decide it; otherwise nothing is reported and the rule
//! is counted in the blind spots. A rule with a gateway is taken as loaded (OPNsense can skip it
//! while the gateway is down, System > Settings > General). Interface addresses are those of the
//! overview when the audit runs (a DHCP address may change).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use opnsense_api::models::firewall::{
    Alias, AliasType, DNatRow, Direction, FilterRule, IpProtocol, NatPass, NatProtocol, RuleOrigin,
};
use serde::Serialize;

use crate::pf::{
    self, Aliases, Context, Flow, IfName, IpNet, IpRange, L4, NatAction, NatRow, Network, Ports,
    Row, RuleRef, Target, Term, Verdict, full, interface_names, ip_bits, ip_of, push_unique,
};
use crate::preflight::{is_antilockout_filter_row, is_antilockout_nat_row};

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// How serious a finding is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing (housekeeping).
    #[default]
    Info,
    /// A weakness or clutter with little direct exposure.
    Low,
    /// A rule set that does not do what it says, or a partial exposure.
    Medium,
    /// The firewall or the network behind it is exposed.
    High,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Self; 4] = [Self::High, Self::Medium, Self::Low, Self::Info];

    /// The id (`high`, `medium`, `low`, `info`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
            Self::Info => "info",
        }
    }

    /// Reads an id.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One check of the audit, by its stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// A pass rule from WAN (or another interface with a gateway) to any destination and port.
    WanPassAny,
    /// The web GUI or SSH port reachable from WAN.
    WanManagementAccess,
    /// A port forward whose translated traffic no filter rule passes.
    NatWithoutRule,
    /// A rule that never decides a packet because another rule matches all of it first.
    ShadowedRule,
    /// The anti-lockout rule is off and no rule lets the LAN reach the web GUI.
    AntilockoutDisabled,
    /// An alias no rule, port forward or other alias refers to.
    UnusedAlias,
    /// A block or reject rule that does not log.
    BlockWithoutLog,
    /// A rule or port forward without a description.
    RuleWithoutDescription,
    /// A rule or port forward OPNsense does not load (a field it cannot map).
    RuleNotLoaded,
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Self; 9] = [
        Self::WanPassAny,
        Self::WanManagementAccess,
        Self::NatWithoutRule,
        Self::ShadowedRule,
        Self::AntilockoutDisabled,
        Self::UnusedAlias,
        Self::BlockWithoutLog,
        Self::RuleWithoutDescription,
        Self::RuleNotLoaded,
    ];

    /// The stable id.
    pub fn id(self) -> &'static str {
        match self {
            Self::WanPassAny => "wan_pass_any",
            Self::WanManagementAccess => "wan_management_access",
            Self::NatWithoutRule => "nat_without_rule",
            Self::ShadowedRule => "shadowed_rule",
            Self::AntilockoutDisabled => "antilockout_disabled",
            Self::UnusedAlias => "unused_alias",
            Self::BlockWithoutLog => "block_without_log",
            Self::RuleWithoutDescription => "rule_without_description",
            Self::RuleNotLoaded => "rule_not_loaded",
        }
    }

    /// Reads an id.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.id() == s)
    }

    /// Whether the check reads config.xml (settings, alias references, configured interfaces)
    /// to be exact.
    pub fn uses_settings(self) -> bool {
        matches!(
            self,
            Self::WanManagementAccess
                | Self::AntilockoutDisabled
                | Self::UnusedAlias
                | Self::RuleNotLoaded
        )
    }
}

/// What the audit knows of the system settings (from config.xml); `None` = not known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// The web GUI speaks https (`system/webgui/protocol`).
    pub webgui_https: Option<bool>,
    /// The web GUI port (`system/webgui/port`; `None` = the protocol's default).
    pub webgui_port: Option<u16>,
    /// Port 80 redirects to the https GUI (no `system/webgui/disablehttpredirect`).
    pub http_redirect: Option<bool>,
    /// SSH is enabled (`system/ssh/enabled`).
    pub ssh_enabled: Option<bool>,
    /// The SSH port (`system/ssh/port`; `None` = 22).
    pub ssh_port: Option<u16>,
    /// The anti-lockout rule is on (no `system/webgui/noantilockout`).
    pub antilockout: Option<bool>,
    /// The system's NAT reflection default (no `system/disablenatreflection`).
    pub nat_reflection: Option<bool>,
}

/// Everything the audit reads.
#[derive(Debug, Clone, Default)]
pub struct AuditInput {
    /// Every row of `firewall/filter/search_rule` (legacy and automatic rows included).
    pub filter_rules: Vec<FilterRule>,
    /// Every row of `firewall/d_nat/search_rule` (anti-lockout rows included).
    pub nat_rules: Vec<DNatRow>,
    /// Every row of `firewall/alias/search_item`.
    pub aliases: Vec<Alias>,
    /// The interfaces (from the overview; empty = not known).
    pub network: Network,
    /// The system settings, when config.xml could be read.
    pub settings: Option<Settings>,
    /// Alias names config.xml refers to outside the alias definitions and descriptions (outbound
    /// and one-to-one NAT, scrub rules, disabled classic-GUI rules, plugins); `None` = not read.
    pub alias_references: Option<BTreeSet<String>>,
    /// The interface keys config.xml configures (`opnsense.interfaces.*`, groups and VPN
    /// interfaces included); `None` = not read.
    pub config_interfaces: Option<BTreeSet<String>>,
    /// What could not be read (reported as blind spots).
    pub unread: Vec<String>,
    /// Only these checks (`None` = all).
    pub checks: Option<BTreeSet<Check>>,
    /// Only findings at least this severe.
    pub min_severity: Severity,
}

/// What kind of record a finding names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A filter rule row.
    FilterRule,
    /// A port forward (d_nat) row.
    PortForward,
    /// An alias.
    Alias,
}

/// A record a finding names: an API record by uuid, or a legacy/automatic row by OPNsense's
/// label.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    /// Kind.
    #[serde(rename = "type")]
    pub kind: RecordKind,
    /// The uuid of an API record (usable with the get/update/delete tools).
    pub uuid: Option<String>,
    /// OPNsense's label of a legacy or automatic row (not editable through the API).
    pub label: Option<String>,
    /// An alias's name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// `legacy` or `automatic` (absent for API records).
    pub origin: Option<&'static str>,
}

impl Record {
    /// The uuid or label.
    pub fn id(&self) -> Option<&str> {
        self.uuid.as_deref().or(self.label.as_deref())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// The check that found it.
    pub check: Check,
    /// The records involved (the one to fix first).
    pub records: Vec<Record>,
    /// What is wrong and why it matters, in plain language.
    pub explanation: String,
    /// How to fix it, naming the tool and arguments where one exists.
    pub fix: String,
}

/// Findings counted by severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// High.
    pub high: usize,
    /// Medium.
    pub medium: usize,
    /// Low.
    pub low: usize,
    /// Info.
    pub info: usize,
    /// All.
    pub total: usize,
}

/// One management port the audit checked, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagementPort {
    /// TCP port.
    pub port: u16,
    /// `web GUI`, `web GUI http redirect`, `SSH` or `management` (from the anti-lockout rows).
    pub service: &'static str,
    /// `settings` (config.xml), `anti-lockout rows` or `assumed`.
    pub source: &'static str,
}

/// The audit's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// Counts by severity (after the filters).
    pub summary: Summary,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// What the audit could not see or decide.
    pub blind_spots: Vec<String>,
    /// The checks that ran.
    pub checks: Vec<Check>,
    /// The management ports checked (web GUI, SSH).
    pub management_ports: Vec<ManagementPort>,
    /// `on`, `off` or `unknown`.
    pub antilockout: &'static str,
}

// ---------------------------------------------------------------------------------------------
// Address and port sets
// ---------------------------------------------------------------------------------------------

const PORT_MAX: u128 = 65_535;

fn span(r: &IpRange) -> (u128, u128) {
    (ip_bits(r.first()), ip_bits(r.last()))
}

/// A set of integers in `0..=max` as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Set {
    max: u128,
    r: Vec<(u128, u128)>,
}

impl Set {
    fn empty(max: u128) -> Self {
        Self { max, r: Vec::new() }
    }

    fn full(max: u128) -> Self {
        Self {
            max,
            r: vec![(0, max)],
        }
    }

    fn of(max: u128, mut v: Vec<(u128, u128)>) -> Self {
        v.retain(|(a, b)| a <= b && *a <= max);
        for x in &mut v {
            x.1 = x.1.min(max);
        }
        v.sort_unstable();
        let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            if let Some(last) = out.last_mut()
                && last.1.checked_add(1).is_none_or(|next| a <= next)
            {
                last.1 = last.1.max(b);
                continue;
            }
            out.push((a, b));
        }
        Self { max, r: out }
    }

    fn union(&self, o: &Self) -> Self {
        let mut v = self.r.clone();
        v.extend(o.r.iter().copied());
        Self::of(self.max, v)
    }

    fn intersect(&self, o: &Self) -> Self {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < self.r.len() && j < o.r.len() {
            let (a1, b1) = self.r[i];
            let (a2, b2) = o.r[j];
            let lo = a1.max(a2);
            let hi = b1.min(b2);
            if lo <= hi {
                out.push((lo, hi));
            }
            if b1 < b2 {
                i += 1;
            } else {
                j += 1;
            }
        }
        Self {
            max: self.max,
            r: out,
        }
    }

    fn complement(&self) -> Self {
        let mut out = Vec::new();
        let mut next: Option<u128> = Some(0);
        for (a, b) in &self.r {
            if let Some(n) = next
                && n < *a
            {
                out.push((n, a - 1));
            }
            next = b.checked_add(1);
        }
        if let Some(n) = next
            && n <= self.max
        {
            out.push((n, self.max));
        }
        Self {
            max: self.max,
            r: out,
        }
    }

    fn minus(&self, o: &Self) -> Self {
        self.intersect(&o.complement())
    }

    fn is_empty(&self) -> bool {
        self.r.is_empty()
    }

    /// Each range of `self` must lie inside one range of `o` (both are merged).
    fn is_subset(&self, o: &Self) -> bool {
        self.r.iter().all(|(a, b)| {
            let k = o.r.partition_point(|(s, _)| s <= a);
            k > 0 && o.r[k - 1].1 >= *b
        })
    }

    fn contains(&self, x: u128) -> bool {
        let k = self.r.partition_point(|(s, _)| *s <= x);
        k > 0 && self.r[k - 1].1 >= x
    }

    fn size(&self) -> u128 {
        self.r.iter().fold(0u128, |acc, (a, b)| {
            acc.saturating_add((b - a).saturating_add(1))
        })
    }

    fn first(&self) -> Option<u128> {
        self.r.first().map(|(a, _)| *a)
    }

    fn describe(&self, v6: bool, limit: usize) -> String {
        let mut parts: Vec<String> = self
            .r
            .iter()
            .take(limit)
            .map(|(a, b)| {
                IpRange::new(ip_of(v6, *a), ip_of(v6, *b))
                    .map_or_else(String::new, |r| r.to_string())
            })
            .collect();
        if self.r.len() > limit {
            parts.push(format!("and {} more ranges", self.r.len() - limit));
        }
        parts.join(", ")
    }
}

/// What a field certainly matches (`under`) and what it may match (`over`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bounds {
    under: Set,
    over: Set,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sel {
    Under,
    Over,
}

impl Bounds {
    fn exact(s: Set) -> Self {
        Self {
            under: s.clone(),
            over: s,
        }
    }

    fn unknown(max: u128) -> Self {
        Self {
            under: Set::empty(max),
            over: Set::full(max),
        }
    }

    fn not(&self) -> Self {
        Self {
            under: self.over.complement(),
            over: self.under.complement(),
        }
    }

    fn union(&self, o: &Self) -> Self {
        Self {
            under: self.under.union(&o.under),
            over: self.over.union(&o.over),
        }
    }

    fn get(&self, sel: Sel) -> &Set {
        match sel {
            Sel::Under => &self.under,
            Sel::Over => &self.over,
        }
    }
}

/// The public unicast space of a family (what "from anywhere" means): IPv4 without the
/// private, shared, loopback, link-local, documentation, benchmark, multicast and reserved
/// blocks; IPv6 2000::/3 without the documentation prefix.
fn public_space(v6: bool) -> Set {
    let nets: &[&str] = if v6 {
        &["2001:db8::/32"]
    } else {
        &[
            "0.0.0.0/8",
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.0.0.0/24",
            "192.0.2.0/24",
            "192.168.0.0/16",
            "198.18.0.0/15",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "224.0.0.0/3",
        ]
    };
    let excluded = Set::of(
        full(v6),
        nets.iter()
            .filter_map(|n| IpNet::parse(n))
            .map(|n| span(&n.range()))
            .collect(),
    );
    let base = if v6 {
        IpNet::parse("2000::/3").map_or_else(
            || Set::full(u128::MAX),
            |n| Set::of(u128::MAX, vec![span(&n.range())]),
        )
    } else {
        Set::full(full(false))
    };
    base.minus(&excluded)
}

/// True when `s` holds at least half of the public space of the family.
fn covers_public(s: &Set, v6: bool) -> bool {
    let public = public_space(v6);
    s.intersect(&public).size() >= public.size() / 2
}

fn link_local() -> Set {
    Set::of(
        u128::MAX,
        vec![(
            0xfe80_u128 << 112,
            (0xfe80_u128 << 112) | ((1u128 << 118) - 1),
        )],
    )
}

// ---------------------------------------------------------------------------------------------
// Rule shapes
// ---------------------------------------------------------------------------------------------

const TCP: &str = "TCP";
const UDP: &str = "UDP";
const ICMP: &str = "ICMP";
const ICMP6: &str = "ICMP6";

fn is_port_class(c: &str) -> bool {
    c == TCP || c == UDP
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Protos {
    All,
    Set(BTreeSet<String>),
}

impl Protos {
    fn has(&self, c: &str) -> bool {
        match self {
            Self::All => true,
            Self::Set(s) => s.contains(c),
        }
    }
}

/// One address family of a rule.
#[derive(Debug, Clone)]
struct FamShape {
    src: Bounds,
    dst: Bounds,
    protos: Protos,
    /// Ports are constrained (then only TCP and UDP classes remain in `protos`).
    constrained: bool,
    sport: Bounds,
    dport: Bounds,
    /// A TCP SYN matches the rule's flags.
    syn: bool,
    /// ICMP types (`None` = every type).
    icmp: Option<BTreeSet<String>>,
}

impl FamShape {
    fn class_empty(&self, c: &str, sel: Sel) -> bool {
        if is_port_class(c) {
            (self.constrained && (self.sport.get(sel).is_empty() || self.dport.get(sel).is_empty()))
                || (c == TCP && !self.syn)
        } else {
            self.constrained
        }
    }

    fn is_empty(&self, sel: Sel) -> bool {
        if self.src.get(sel).is_empty() || self.dst.get(sel).is_empty() {
            return true;
        }
        match &self.protos {
            Protos::All => false,
            Protos::Set(s) => s.iter().all(|c| self.class_empty(c, sel)),
        }
    }
}

fn icmp_within(l: Option<&BTreeSet<String>>, e: Option<&BTreeSet<String>>) -> bool {
    match (l, e) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(l), Some(e)) => l.is_subset(e),
    }
}

/// Whether `l` (read as `ls`) lies within `e` (read as `es`).
fn fam_within(l: &FamShape, ls: Sel, e: &FamShape, es: Sel) -> bool {
    if l.is_empty(ls) {
        return true;
    }
    if !l.src.get(ls).is_subset(e.src.get(es)) || !l.dst.get(ls).is_subset(e.dst.get(es)) {
        return false;
    }
    match &l.protos {
        Protos::All => {
            e.protos == Protos::All
                && !e.constrained
                && (e.syn || !l.syn)
                && icmp_within(l.icmp.as_ref(), e.icmp.as_ref())
        }
        Protos::Set(classes) => classes.iter().all(|c| {
            if l.class_empty(c, ls) {
                return true;
            }
            if !e.protos.has(c) {
                return false;
            }
            if is_port_class(c) {
                l.sport.get(ls).is_subset(e.sport.get(es))
                    && l.dport.get(ls).is_subset(e.dport.get(es))
                    && (c != TCP || e.syn)
            } else {
                !e.constrained
                    && (!(c == ICMP || c == ICMP6) || icmp_within(l.icmp.as_ref(), e.icmp.as_ref()))
            }
        }),
    }
}

/// An interface as the audit compares them: a config key, or a name whose members are not known
/// (an interface group, an interface outside the overview).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Sym {
    Key(String),
    Opaque(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum IfSpec {
    All,
    Only(BTreeSet<Sym>),
    AllBut(BTreeSet<Sym>),
    Unknown(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri3 {
    Yes,
    No,
    Unknown,
}

impl Tri3 {
    fn and(self, o: Self) -> Self {
        match (self, o) {
            (Self::No, _) | (_, Self::No) => Self::No,
            (Self::Yes, Self::Yes) => Self::Yes,
            _ => Self::Unknown,
        }
    }
}

fn has_opaque(s: &BTreeSet<Sym>) -> bool {
    s.iter().any(|x| matches!(x, Sym::Opaque(_)))
}

/// Whether the interfaces of `l` lie within those of `e`.
fn if_within(l: &IfSpec, e: &IfSpec) -> Tri3 {
    match (l, e) {
        (_, IfSpec::All) => Tri3::Yes,
        (IfSpec::Unknown(_), _) | (_, IfSpec::Unknown(_)) => Tri3::Unknown,
        (IfSpec::Only(a), _) if a.is_empty() => Tri3::Yes,
        (IfSpec::All, IfSpec::AllBut(x)) => {
            if x.is_empty() {
                Tri3::Yes
            } else if x.iter().any(|s| matches!(s, Sym::Key(_))) {
                Tri3::No
            } else {
                Tri3::Unknown
            }
        }
        (IfSpec::All | IfSpec::AllBut(_), IfSpec::Only(_)) => Tri3::No,
        (IfSpec::Only(a), IfSpec::Only(b)) => {
            if a.is_subset(b) {
                Tri3::Yes
            } else if has_opaque(b) || has_opaque(a) {
                Tri3::Unknown
            } else {
                Tri3::No
            }
        }
        (IfSpec::Only(a), IfSpec::AllBut(x)) => {
            if a.intersection(x).next().is_some() {
                Tri3::No
            } else if has_opaque(a) || has_opaque(x) {
                Tri3::Unknown
            } else {
                Tri3::Yes
            }
        }
        (IfSpec::AllBut(x), IfSpec::AllBut(y)) => {
            if y.is_subset(x) {
                Tri3::Yes
            } else if has_opaque(x) || has_opaque(y) {
                Tri3::Unknown
            } else {
                Tri3::No
            }
        }
    }
}

/// Whether the rule may see packets arriving on interface `key`.
fn if_may_include(spec: &IfSpec, key: &str) -> bool {
    let k = Sym::Key(key.to_owned());
    match spec {
        IfSpec::All | IfSpec::Unknown(_) => true,
        IfSpec::Only(s) => s.contains(&k) || has_opaque(s),
        IfSpec::AllBut(s) => !s.contains(&k),
    }
}

/// Whether the rule certainly sees packets arriving on interface `key`.
fn if_surely_includes(spec: &IfSpec, key: &str) -> bool {
    let k = Sym::Key(key.to_owned());
    match spec {
        IfSpec::All => true,
        IfSpec::Unknown(_) => false,
        IfSpec::Only(s) => s.contains(&k) || s.contains(&Sym::Opaque(key.to_owned())),
        IfSpec::AllBut(s) => !s.contains(&k) && !has_opaque(s),
    }
}

/// A filter row as sets.
#[derive(Debug, Clone)]
struct RuleShape {
    ifaces: IfSpec,
    /// Bit 1 = in, bit 2 = out; `None` = not known.
    dirs: Option<u8>,
    /// By family (`[IPv4, IPv6]`); `None` = the rule does not match that family.
    fams: [Option<FamShape>; 2],
    /// False when the address family is not known (then `under` has none).
    fam_exact: bool,
    /// Conditions known only at run time (schedule, tag, OS, TOS).
    conds: BTreeSet<String>,
    /// Why some set is not known exactly.
    vague: Vec<String>,
}

impl RuleShape {
    fn fam(&self, v6: bool, sel: Sel) -> Option<&FamShape> {
        if sel == Sel::Under && !self.fam_exact {
            return None;
        }
        self.fams[usize::from(v6)].as_ref()
    }

    fn matches_something(&self) -> bool {
        if matches!(&self.ifaces, IfSpec::Only(s) if s.is_empty()) || self.dirs == Some(0) {
            return false;
        }
        [false, true].into_iter().any(|v6| {
            self.fam(v6, Sel::Over)
                .is_some_and(|f| !f.is_empty(Sel::Over))
        })
    }
}

/// Whether every packet `l` matches is matched by `e`.
#[allow(clippy::many_single_char_names)]
fn covers(l: &RuleShape, e: &RuleShape) -> Tri3 {
    let mut t = if_within(&l.ifaces, &e.ifaces);
    if t == Tri3::No {
        return t;
    }
    t = t.and(match (l.dirs, e.dirs) {
        (Some(a), Some(b)) => {
            if a & !b == 0 {
                Tri3::Yes
            } else {
                Tri3::No
            }
        }
        (_, Some(3)) => Tri3::Yes,
        _ => Tri3::Unknown,
    });
    if t == Tri3::No {
        return t;
    }
    if !e.conds.is_subset(&l.conds) {
        t = t.and(Tri3::Unknown);
    }
    for v6 in [false, true] {
        let Some(lo) = l.fam(v6, Sel::Over) else {
            continue;
        };
        if lo.is_empty(Sel::Over) {
            continue;
        }
        let yes = e
            .fam(v6, Sel::Under)
            .is_some_and(|eu| fam_within(lo, Sel::Over, eu, Sel::Under));
        let ft = if yes {
            Tri3::Yes
        } else {
            let no = match l.fam(v6, Sel::Under) {
                Some(lu) if !lu.is_empty(Sel::Under) => e
                    .fam(v6, Sel::Over)
                    .is_none_or(|eo| !fam_within(lu, Sel::Under, eo, Sel::Over)),
                _ => false,
            };
            if no { Tri3::No } else { Tri3::Unknown }
        };
        t = t.and(ft);
        if t == Tri3::No {
            return t;
        }
    }
    t
}

/// The addresses of one term in one family.
fn target_bounds(ctx: &Context<'_>, t: &Target, v6: bool, vague: &mut Vec<String>) -> Bounds {
    let max = full(v6);
    let net = ctx.network;
    let of_nets = |nets: &mut dyn Iterator<Item = IpNet>| {
        Set::of(
            max,
            nets.filter(|n| n.is_ipv6() == v6)
                .map(|n| span(&n.range()))
                .collect(),
        )
    };
    match t {
        Target::Any => Bounds::exact(Set::full(max)),
        Target::SelfAddrs => {
            let hosts = of_nets(
                &mut net
                    .firewall_addresses()
                    .into_iter()
                    .map(|n| IpNet::host(n.addr)),
            );
            if net.is_complete() {
                Bounds::exact(hosts)
            } else {
                push_unique(
                    vague,
                    "the firewall's own addresses ((self)) are not all known".to_owned(),
                );
                Bounds {
                    under: hosts,
                    over: Set::full(max),
                }
            }
        }
        Target::IfNet(k) | Target::IfAddr(k) => {
            let Some(i) = net.interface(k) else {
                push_unique(
                    vague,
                    format!("the addresses of interface {k:?} are not known"),
                );
                return Bounds::unknown(max);
            };
            let hosts = matches!(t, Target::IfAddr(_));
            Bounds::exact(of_nets(
                &mut i
                    .addresses
                    .iter()
                    .map(|n| if hosts { IpNet::host(n.addr) } else { *n }),
            ))
        }
        Target::DevNet(d) | Target::DevAddr(d) => {
            let ifs: Vec<_> = net
                .interfaces()
                .filter(|i| i.device.as_deref() == Some(d.as_str()))
                .collect();
            if ifs.is_empty() {
                push_unique(vague, format!("device {d:?} is not known"));
                return Bounds::unknown(max);
            }
            let hosts = matches!(t, Target::DevAddr(_));
            Bounds::exact(of_nets(&mut ifs.iter().flat_map(|i| {
                i.addresses
                    .iter()
                    .map(move |n| if hosts { IpNet::host(n.addr) } else { *n })
            })))
        }
        Target::Net(n) => Bounds::exact(of_nets(&mut std::iter::once(*n))),
        Target::Range(r) => {
            if r.is_ipv6() == v6 {
                Bounds::exact(Set::of(max, vec![span(r)]))
            } else {
                Bounds::exact(Set::empty(max))
            }
        }
        Target::Table(table) => {
            let known = table_set(&table.entries, v6);
            if table.unknown.is_empty() {
                Bounds::exact(known)
            } else {
                for why in &table.unknown {
                    push_unique(vague, why.clone());
                }
                Bounds {
                    under: if table.unknown_negated {
                        Set::empty(max)
                    } else {
                        known
                    },
                    over: Set::full(max),
                }
            }
        }
        Target::OffenderTable(name) => {
            push_unique(
                vague,
                format!(
                    "<{name}> is a run-time table (addresses locked out after failed logins or connection-rate overloads)"
                ),
            );
            Bounds::unknown(max)
        }
        Target::Alias(name) => {
            push_unique(vague, format!("alias {name:?} was not resolved"));
            Bounds::unknown(max)
        }
        Target::Unknown(why) => {
            push_unique(vague, why.clone());
            Bounds::unknown(max)
        }
    }
}

/// A pf table's addresses: the most specific entry holding an address decides, `!` excludes
/// (the evaluator's `table_contains`).
fn table_set(entries: &[(IpNet, bool)], v6: bool) -> Set {
    let max = full(v6);
    let es: Vec<((u128, u128), u8, bool)> = entries
        .iter()
        .filter(|(n, _)| n.is_ipv6() == v6)
        .map(|(n, neg)| (span(&n.range()), n.prefix, *neg))
        .collect();
    if !es.iter().any(|e| e.2) {
        return Set::of(max, es.iter().map(|e| e.0).collect());
    }
    let mut cuts: BTreeSet<u128> = BTreeSet::new();
    for ((lo, hi), _, _) in &es {
        cuts.insert(*lo);
        if let Some(n) = hi.checked_add(1) {
            cuts.insert(n);
        }
    }
    let cuts: Vec<u128> = cuts.into_iter().collect();
    let mut out = Vec::new();
    for (i, lo) in cuts.iter().enumerate() {
        let hi = cuts.get(i + 1).map_or(max, |n| n - 1);
        let best = es
            .iter()
            .filter(|((a, b), _, _)| a <= lo && lo <= b)
            .max_by_key(|(_, prefix, neg)| (*prefix, *neg));
        if let Some((_, _, false)) = best {
            out.push((*lo, hi));
        }
    }
    Set::of(max, out)
}

/// A parsed address field in one family. `rule_ll6`: an `inet6`/`inet46` filter rule, whose
/// interface networks bring `fe80::/10` along (Rule.php:90-93).
fn field_bounds(
    ctx: &Context<'_>,
    terms: &[Term],
    v6: bool,
    rule_ll6: bool,
    vague: &mut Vec<String>,
) -> Bounds {
    let max = full(v6);
    let mut acc = Bounds::exact(Set::empty(max));
    for t in terms {
        let other_family = match &t.target {
            Target::Net(n) => n.is_ipv6() != v6,
            Target::Range(r) => r.is_ipv6() != v6,
            _ => false,
        };
        if other_family {
            continue;
        }
        let mut b = target_bounds(ctx, &t.target, v6, vague);
        if t.neg {
            b = b.not();
        }
        if rule_ll6 && v6 && t.ll6 {
            b = b.union(&Bounds::exact(link_local()));
        }
        acc = acc.union(&b);
    }
    acc
}

fn port_bounds(p: &Ports, vague: &mut Vec<String>) -> (Bounds, bool) {
    match p {
        Ports::Any => (Bounds::exact(Set::full(PORT_MAX)), false),
        Ports::Ranges(r) => (
            Bounds::exact(Set::of(
                PORT_MAX,
                r.iter()
                    .map(|(a, b)| (u128::from(*a), u128::from(*b)))
                    .collect(),
            )),
            true,
        ),
        Ports::Partial(r, why) => {
            push_unique(vague, why.clone());
            (
                Bounds {
                    under: Set::of(
                        PORT_MAX,
                        r.iter()
                            .map(|(a, b)| (u128::from(*a), u128::from(*b)))
                            .collect(),
                    ),
                    over: Set::full(PORT_MAX),
                },
                true,
            )
        }
    }
}

fn protos_of(rule: &FilterRule, v6: bool) -> Protos {
    let icmp_v6_ok = matches!(
        rule.ipprotocol,
        Some(IpProtocol::Inet6 | IpProtocol::Inet46)
    );
    let Some(p) = rule
        .protocol
        .as_ref()
        .map(|p| p.as_str().trim().to_ascii_uppercase())
        .filter(|p| !p.is_empty() && p != "ANY")
    else {
        return Protos::All;
    };
    let set = |v: &[&str]| Protos::Set(v.iter().map(|s| (*s).to_owned()).collect());
    match p.as_str() {
        "TCP" => set(&[TCP]),
        "UDP" => set(&[UDP]),
        "TCP/UDP" => set(&[TCP, UDP]),
        "ICMP" if !v6 => set(&[ICMP]),
        "ICMP" if icmp_v6_ok => set(&[ICMP6]),
        "IPV6-ICMP" | "ICMP6" if v6 => set(&[ICMP6]),
        "ICMP" | "IPV6-ICMP" | "ICMP6" => set(&[]),
        other => set(&[other]),
    }
}

fn icmp_types(rule: &FilterRule, v6: bool) -> Option<BTreeSet<String>> {
    let (list, key) = if v6 {
        (rule.icmp6type.as_ref(), "icmp6-type")
    } else {
        (rule.icmptype.as_ref(), "icmp-type")
    };
    let mut out: BTreeSet<String> = list
        .map(|l| l.0.iter().map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default();
    if let Some(s) = pf::extra_str(rule, key) {
        out.extend(s.split(',').map(|x| x.trim().to_owned()));
    }
    out.retain(|s| !s.is_empty());
    (!out.is_empty()).then_some(out)
}

fn if_spec(net: &Network, row: &Row<'_>) -> IfSpec {
    let rule = row.rule;
    let names = interface_names(rule.interface.as_ref());
    if names.is_empty() {
        return IfSpec::All;
    }
    let origin = rule.origin();
    let prio = row.key.0;
    let mut sets: Vec<BTreeSet<Sym>> = Vec::new();
    for name in &names {
        let s: Option<BTreeSet<Sym>> = match net.resolve_interface(name, origin) {
            IfName::Key(k) => {
                if net.interface(&k).is_some_and(|i| !i.enabled) {
                    None
                } else {
                    Some(BTreeSet::from([Sym::Key(k)]))
                }
            }
            IfName::Group(g) => Some(
                net.group(&g)
                    .unwrap_or_default()
                    .iter()
                    .map(|m| Sym::Key(m.clone()))
                    .collect(),
            ),
            // An interface the overview does not show may be configured with its device absent
            // (a stopped VPN): only OPNsense's own verdict (26.7.2: priority 600000 when none
            // of the rule's interfaces is configured) says it is not applied.
            IfName::NotFound(n) => {
                if prio >= 600_000 {
                    None
                } else {
                    Some(BTreeSet::from([Sym::Opaque(n)]))
                }
            }
            IfName::Unknown(why) => return IfSpec::Unknown(why),
        };
        sets.extend(s);
    }
    if rule.interfacenot == Some(true) {
        let mut it = sets.into_iter();
        match it.next() {
            None => IfSpec::Only(BTreeSet::new()),
            Some(first) => {
                IfSpec::AllBut(it.fold(first, |acc, s| acc.intersection(&s).cloned().collect()))
            }
        }
    } else {
        IfSpec::Only(sets.into_iter().flatten().collect())
    }
}

/// Why OPNsense does not load the row, if it does not.
fn not_loaded(ctx: &Context<'_>, row: &Row<'_>, ifaces: &IfSpec) -> Option<String> {
    let c = row.compiled(ctx);
    for (what, r) in [("source", &c.src), ("destination", &c.dst)] {
        if let Err(why) = r {
            return Some(format!("its {what}: {why}"));
        }
    }
    for (what, r) in [("source port", &c.sport), ("destination port", &c.dport)] {
        if let Err(why) = r {
            return Some(format!("its {what}: {why}"));
        }
    }
    let names = row
        .rule
        .interface
        .as_ref()
        .map(|i| i.0.join(", "))
        .unwrap_or_default();
    if matches!(ifaces, IfSpec::Only(s) if s.is_empty()) && !names.is_empty() {
        return Some(if row.key.0 >= 600_000 {
            format!(
                "none of its interfaces ({names}) is configured, so OPNsense gives it priority 600000 and pf never sees it (FilterRuleField.php:123-138 at 26.7.2)"
            )
        } else {
            format!(
                "its interfaces ({names}) are disabled, and rules on a disabled interface are not loaded (Rule.php:310-314)"
            )
        });
    }
    None
}

fn shape_of(ctx: &Context<'_>, row: &Row<'_>, ifaces: IfSpec) -> RuleShape {
    let rule = row.rule;
    let mut vague = Vec::new();
    if let IfSpec::Unknown(why) = &ifaces {
        vague.push(why.clone());
    }
    // (When no interface is known at all, the audit says so once.)
    if let IfSpec::Only(s) | IfSpec::AllBut(s) = &ifaces
        && ctx.network.interfaces().next().is_some()
    {
        for x in s {
            if let Sym::Opaque(n) = x {
                push_unique(
                    &mut vague,
                    format!(
                        "interface {n:?} is not in the overview (an interface group whose members are not known, or an interface whose device is absent)"
                    ),
                );
            }
        }
    }
    let dirs = match &rule.direction {
        None | Some(Direction::In) => Some(1),
        Some(Direction::Out) => Some(2),
        Some(Direction::Any) => Some(3),
        Some(Direction::Other(d)) => {
            vague.push(format!("direction {d:?} is not known"));
            None
        }
    };
    let (want, fam_exact) = match &rule.ipprotocol {
        None | Some(IpProtocol::Inet46) => ([true, true], true),
        Some(IpProtocol::Inet) => ([true, false], true),
        Some(IpProtocol::Inet6) => ([false, true], true),
        Some(IpProtocol::Other(o)) => {
            vague.push(format!("address family {o:?} is not known"));
            ([true, true], false)
        }
    };
    let rule_ll6 = matches!(
        rule.ipprotocol,
        Some(IpProtocol::Inet6 | IpProtocol::Inet46)
    );
    let c = row.compiled(ctx);
    let syn = pf::matches_syn(rule);
    let mut fams: [Option<FamShape>; 2] = [None, None];
    if let (Ok(src), Ok(dst), Ok(sp), Ok(dp)) = (&c.src, &c.dst, &c.sport, &c.dport) {
        let (sport, sc) = port_bounds(sp, &mut vague);
        let (dport, dc) = port_bounds(dp, &mut vague);
        let constrained = sc || dc;
        for v6 in [false, true] {
            if !want[usize::from(v6)] {
                continue;
            }
            let mut protos = protos_of(rule, v6);
            if constrained {
                protos = Protos::Set(
                    [TCP, UDP]
                        .into_iter()
                        .filter(|c| protos.has(c))
                        .map(str::to_owned)
                        .collect(),
                );
            }
            fams[usize::from(v6)] = Some(FamShape {
                src: field_bounds(ctx, src, v6, rule_ll6, &mut vague),
                dst: field_bounds(ctx, dst, v6, rule_ll6, &mut vague),
                protos,
                constrained,
                sport: sport.clone(),
                dport: dport.clone(),
                syn,
                icmp: icmp_types(rule, v6),
            });
        }
    }
    let mut conds = BTreeSet::new();
    if let Some(s) = rule.sched.as_deref().filter(|s| !s.is_empty()) {
        conds.insert(format!("schedule {s:?}"));
    }
    if let Some(t) = rule.tagged.as_deref().filter(|s| !s.is_empty()) {
        conds.insert(format!("packets tagged {t:?}"));
    }
    if let Some(os) = pf::extra_str(rule, "os") {
        conds.insert(format!("operating system {os:?}"));
    }
    if let Some(tos) = rule.tos.as_deref().filter(|s| !s.is_empty()) {
        conds.insert(format!("TOS {tos:?}"));
    }
    for c in &conds {
        push_unique(&mut vague, format!("the rule applies only to {c}"));
    }
    RuleShape {
        ifaces,
        dirs,
        fams,
        fam_exact,
        conds,
        vague,
    }
}

/// A filter row with what the audit derives from it.
struct RuleInfo<'r> {
    row: Row<'r>,
    /// Enabled, loaded and able to match something.
    active: bool,
    /// Why OPNsense does not load it.
    not_loaded: Option<String>,
    /// Verdict and quick (`None` = an action the model does not know).
    effect: Option<(Verdict, bool)>,
    shape: RuleShape,
}

fn rule_infos<'r>(ctx: &Context<'_>, rules: &'r [FilterRule]) -> Vec<RuleInfo<'r>> {
    pf::rows_in_order(ctx.network, rules)
        .into_iter()
        .map(|row| {
            let rule = row.rule;
            let ifaces = if_spec(ctx.network, &row);
            let not_loaded = not_loaded(ctx, &row, &ifaces);
            let shape = shape_of(ctx, &row, ifaces);
            let enabled = rule.enabled != Some(false) && !pf::extra_true(rule, "disabled");
            let (effect, note) = pf::effect_of(rule);
            RuleInfo {
                active: enabled && not_loaded.is_none() && shape.matches_something(),
                not_loaded: if enabled { not_loaded } else { None },
                effect: note.is_none().then_some((effect.verdict, effect.quick)),
                shape,
                row,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Records and wording
// ---------------------------------------------------------------------------------------------

fn origin_name(o: RuleOrigin) -> Option<&'static str> {
    match o {
        RuleOrigin::Api => None,
        RuleOrigin::Legacy => Some("legacy"),
        RuleOrigin::Automatic => Some("automatic"),
    }
}

fn nonempty(s: Option<&String>) -> Option<String> {
    s.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty())
}

fn filter_record(rule: &FilterRule) -> Record {
    let origin = rule.origin();
    let id = rule.uuid.clone();
    Record {
        kind: RecordKind::FilterRule,
        uuid: if origin == RuleOrigin::Api {
            id.clone()
        } else {
            None
        },
        label: if origin == RuleOrigin::Api { None } else { id },
        name: None,
        description: nonempty(rule.description.as_ref()),
        origin: origin_name(origin),
    }
}

fn nat_record(r: &DNatRow) -> Record {
    let auto = r.is_automatic();
    Record {
        kind: RecordKind::PortForward,
        uuid: (!auto).then(|| r.uuid.clone()),
        label: auto.then(|| r.uuid.clone()),
        name: None,
        description: nonempty(r.fields.descr.as_ref()),
        origin: auto.then_some("automatic"),
    }
}

fn alias_record(a: &Alias) -> Record {
    Record {
        kind: RecordKind::Alias,
        uuid: a.uuid.clone(),
        label: None,
        name: a.name.clone(),
        description: nonempty(a.description.as_ref()),
        origin: None,
    }
}

/// How a rule is named in an explanation.
fn rule_name(rule: &FilterRule) -> String {
    let id = rule.uuid.as_deref().unwrap_or("?");
    let kind = match rule.origin() {
        RuleOrigin::Api => "rule",
        RuleOrigin::Legacy => "classic-GUI rule",
        RuleOrigin::Automatic => "automatic rule",
    };
    match nonempty(rule.description.as_ref()) {
        Some(d) => format!("{kind} {d:?} ({id})"),
        None => format!("{kind} {id}"),
    }
}

fn nat_name(r: &DNatRow) -> String {
    match nonempty(r.fields.descr.as_ref()) {
        Some(d) => format!("port forward {d:?} ({})", r.uuid),
        None => format!("port forward {}", r.uuid),
    }
}

fn interfaces_text(rule: &FilterRule) -> String {
    match rule.interface.as_ref().filter(|i| !i.0.is_empty()) {
        Some(i) => i.0.join(", "),
        None => "floating".to_owned(),
    }
}

/// How to change a filter row: the update tool for API rules, the classic GUI for legacy rows,
/// the generating setting for automatic ones.
fn rule_fix(rule: &FilterRule, args: &str, what: &str) -> String {
    match rule.origin() {
        RuleOrigin::Api => format!(
            "{what}: firewall_rule_update {{uuid: \"{}\", rule: {args}}}, then firewall_rule_apply.",
            rule.uuid.as_deref().unwrap_or_default()
        ),
        RuleOrigin::Legacy => format!(
            "{what} in the classic GUI (Firewall > Rules > {}): this rule was made there and the API cannot edit it; or re-create it with firewall_rule_add and delete the old one there.",
            interfaces_text(rule)
        ),
        RuleOrigin::Automatic => {
            let origin = pf::extra_str(rule, "ref")
                .or_else(|| pf::extra_str(rule, "#ref"))
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            format!(
                "This rule is generated by OPNsense or a plugin{origin}: change the setting that creates it."
            )
        }
    }
}

fn record_of_ref(input: &AuditInput, r: &RuleRef, nat: bool) -> Option<Record> {
    if nat {
        input.nat_rules.get(r.index).map(nat_record)
    } else {
        input.filter_rules.get(r.index).map(filter_record)
    }
}

// ---------------------------------------------------------------------------------------------
// Reachability (with the evaluator)
// ---------------------------------------------------------------------------------------------

/// What [`Run::gui_reach`] found.
#[derive(Default)]
struct GuiReach {
    /// Some source certainly gets through.
    pass: bool,
    /// The interface had an address to test.
    tried: bool,
    undecided: Vec<String>,
    blocked_by: Vec<RuleRef>,
}

/// Which sources of a flow template certainly get through, and which cannot be decided.
struct Reach {
    pass: Set,
    uncertain: Set,
    passed_by: Vec<RuleRef>,
    blocked_by: Vec<RuleRef>,
    why: Vec<String>,
}

fn push_ref(v: &mut Vec<RuleRef>, r: Option<RuleRef>) {
    if let Some(r) = r
        && !v.iter().any(|x| x.id == r.id && x.index == r.index)
    {
        v.push(r);
    }
}

/// Whether the rule may match the flow template (a sound over-approximation, used to leave out
/// rows that cannot matter before evaluating).
fn may_match(info: &RuleInfo<'_>, t: &Flow) -> bool {
    if !info.active {
        return false;
    }
    let s = &info.shape;
    if s.dirs.is_some_and(|d| d & 1 == 0) {
        return false;
    }
    if let Some(i) = &t.interface
        && !if_may_include(&s.ifaces, i)
    {
        return false;
    }
    let v6 = t.dst.is_ipv6();
    let Some(f) = s.fam(v6, Sel::Over) else {
        return false;
    };
    if !f.dst.over.contains(ip_bits(t.dst)) {
        return false;
    }
    let class = match t.proto {
        L4::Tcp => TCP.to_owned(),
        L4::Udp => UDP.to_owned(),
        L4::Icmp => (if v6 { ICMP6 } else { ICMP }).to_owned(),
        L4::Other(_) => return true,
    };
    if !f.protos.has(&class) {
        return false;
    }
    if is_port_class(&class) {
        if class == TCP && !f.syn {
            return false;
        }
        t.dst_port
            .is_none_or(|p| f.dport.over.contains(u128::from(p)))
    } else {
        !f.constrained
    }
}

fn reach(
    ctx: &Context<'_>,
    infos: &[RuleInfo<'_>],
    nat: Option<(&[NatRow<'_>], &[DNatRow])>,
    template: &Flow,
    sources: &Set,
) -> Reach {
    let v6 = template.dst.is_ipv6();
    let max = full(v6);
    let rows: Vec<Row<'_>> = infos
        .iter()
        .filter(|i| may_match(i, template))
        .map(|i| i.row.clone())
        .collect();
    let rules: Vec<FilterRule> = rows.iter().map(|r| r.rule.clone()).collect();
    let nat_rules: &[DNatRow] = nat.map_or(&[], |(_, r)| r);
    let mut out = Reach {
        pass: Set::empty(max),
        uncertain: Set::empty(max),
        passed_by: Vec::new(),
        blocked_by: Vec::new(),
        why: Vec::new(),
    };
    for piece in pf::source_pieces(ctx, &rules, nat_rules, IpRange::all(v6)) {
        let (lo, hi) = span(&piece);
        let part = Set::of(max, vec![(lo, hi)]).intersect(sources);
        let Some(rep) = part.first() else {
            continue;
        };
        let flow = Flow {
            src: ip_of(v6, rep),
            ..template.clone()
        };
        if let Some((nat_rows, _)) = nat
            && !nat_rows.is_empty()
        {
            let n = pf::evaluate_nat_rows(ctx, nat_rows, &flow);
            if !n.certain {
                out.uncertain = out.uncertain.union(&part);
                for b in n.blind_spots {
                    push_unique(&mut out.why, b);
                }
                continue;
            }
            if matches!(n.action, NatAction::Redirected { .. }) {
                // Sent elsewhere by a port forward: it does not reach this destination.
                continue;
            }
        }
        let e = pf::evaluate_rows(ctx, &rows, &flow);
        if !e.certain {
            out.uncertain = out.uncertain.union(&part);
            for b in e.blind_spots {
                push_unique(&mut out.why, b);
            }
        } else if e.verdict == Verdict::Pass {
            out.pass = out.pass.union(&part);
            push_ref(&mut out.passed_by, e.deciding);
        } else {
            push_ref(&mut out.blocked_by, e.deciding);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Anti-lockout and management ports
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AntiLockout {
    On,
    Off,
    Unknown,
}

fn antilockout(input: &AuditInput) -> AntiLockout {
    if let Some(on) = input.settings.as_ref().and_then(|s| s.antilockout) {
        return if on {
            AntiLockout::On
        } else {
            AntiLockout::Off
        };
    }
    if input.filter_rules.iter().any(is_antilockout_filter_row)
        || input.nat_rules.iter().any(is_antilockout_nat_row)
    {
        return AntiLockout::On;
    }
    // The filter search lists OPNsense's automatic rules, the anti-lockout pass among them when
    // it is on (filter.lib.inc:585-602).
    if input
        .filter_rules
        .iter()
        .any(|r| r.origin() == RuleOrigin::Automatic)
    {
        AntiLockout::Off
    } else {
        AntiLockout::Unknown
    }
}

fn lockout_row_ports(input: &AuditInput) -> Vec<u16> {
    let mut ports: BTreeSet<u16> = BTreeSet::new();
    for p in input
        .filter_rules
        .iter()
        .filter(|r| is_antilockout_filter_row(r))
        .filter_map(|r| r.destination_port.as_deref())
        .chain(
            input
                .nat_rules
                .iter()
                .filter(|r| is_antilockout_nat_row(r))
                .filter_map(|r| r.destination_port.as_deref()),
        )
    {
        ports.extend(p.trim().parse::<u16>().ok());
    }
    ports.into_iter().collect()
}

/// The web GUI and SSH ports: from the settings, else from the anti-lockout rows, else assumed.
fn management_ports(input: &AuditInput) -> Vec<ManagementPort> {
    if let Some(s) = &input.settings
        && let Some(https) = s.webgui_https
    {
        let gui = s.webgui_port.unwrap_or(if https { 443 } else { 80 });
        let mut v = vec![ManagementPort {
            port: gui,
            service: "web GUI",
            source: "settings",
        }];
        if https && s.http_redirect != Some(false) && gui != 80 {
            v.push(ManagementPort {
                port: 80,
                service: "web GUI http redirect",
                source: "settings",
            });
        }
        if s.ssh_enabled == Some(true) {
            v.push(ManagementPort {
                port: s.ssh_port.unwrap_or(22),
                service: "SSH",
                source: "settings",
            });
        }
        return v;
    }
    let rows = lockout_row_ports(input);
    if !rows.is_empty() {
        return rows
            .into_iter()
            .map(|port| ManagementPort {
                port,
                service: "management",
                source: "anti-lockout rows",
            })
            .collect();
    }
    vec![
        ManagementPort {
            port: 443,
            service: "web GUI",
            source: "assumed",
        },
        ManagementPort {
            port: 22,
            service: "SSH",
            source: "assumed",
        },
    ]
}

/// The web GUI port (for the LAN check), and whether it was assumed.
fn gui_port(input: &AuditInput) -> (u16, bool) {
    match input.settings.as_ref() {
        Some(s) if s.webgui_https.is_some() => (
            s.webgui_port.unwrap_or(if s.webgui_https == Some(true) {
                443
            } else {
                80
            }),
            false,
        ),
        _ => (443, true),
    }
}

// ---------------------------------------------------------------------------------------------
// The audit
// ---------------------------------------------------------------------------------------------

struct Run<'a, 'r> {
    input: &'a AuditInput,
    ctx: Context<'a>,
    infos: Vec<RuleInfo<'r>>,
    findings: Vec<Finding>,
    blind: Vec<String>,
    has_automatic: bool,
    /// Index into `infos` -> (index of the covering rule, it comes later).
    shadowed: BTreeMap<usize, (usize, bool)>,
}

/// Runs the audit.
pub fn audit(input: &AuditInput) -> Audit {
    let aliases = Aliases::from_rows(&input.aliases);
    let mut ctx = Context::new(&input.network, &aliases);
    ctx.nat_reflection_default = input.settings.as_ref().and_then(|s| s.nat_reflection);
    let wanted = |c: Check| input.checks.as_ref().is_none_or(|s| s.contains(&c));
    let checks: Vec<Check> = Check::ALL.into_iter().filter(|c| wanted(*c)).collect();
    let mut run = Run {
        input,
        ctx,
        infos: rule_infos(&ctx, &input.filter_rules),
        findings: Vec::new(),
        blind: input.unread.clone(),
        has_automatic: input
            .filter_rules
            .iter()
            .any(|r| r.origin() == RuleOrigin::Automatic),
        shadowed: BTreeMap::new(),
    };
    if !run.has_automatic && !input.filter_rules.is_empty() {
        run.blind.push("the filter rows hold none of OPNsense's automatic rules (default deny, anti-lockout, bogon blocks): a packet no rule matches is taken as blocked by the default deny (filter.lib.inc:223-228)".to_owned());
    }
    if input.network.interfaces().next().is_none() {
        run.blind.push("the interfaces are not known: interface networks, the firewall's own addresses and which interfaces have a gateway could not be resolved".to_owned());
    }
    let ports = management_ports(input);
    let lockout = antilockout(input);
    if wanted(Check::ShadowedRule) || wanted(Check::WanPassAny) {
        run.find_shadows(wanted(Check::ShadowedRule));
    }
    if wanted(Check::WanPassAny) {
        run.wan_pass_any();
    }
    if wanted(Check::WanManagementAccess) {
        run.wan_management(&ports);
    }
    if wanted(Check::NatWithoutRule) {
        run.nat_without_rule();
    }
    if wanted(Check::AntilockoutDisabled) {
        run.antilockout_disabled(lockout);
    }
    if wanted(Check::UnusedAlias) {
        run.unused_aliases();
    }
    if wanted(Check::BlockWithoutLog) {
        run.block_without_log();
    }
    if wanted(Check::RuleWithoutDescription) {
        run.without_description();
    }
    if wanted(Check::RuleNotLoaded) {
        run.not_loaded();
    }
    if checks.iter().any(|c| {
        matches!(
            c,
            Check::WanManagementAccess | Check::NatWithoutRule | Check::AntilockoutDisabled
        )
    }) {
        run.blind.push("one-to-one NAT and NPt (applied before port forwards) and the listen interfaces of the web GUI and SSH are not read: a port that pf passes may have no listener".to_owned());
    }
    let mut findings: Vec<Finding> = run
        .findings
        .into_iter()
        .filter(|f| f.severity >= input.min_severity)
        .collect();
    // `Check` orders as `Check::ALL`; the sort is stable within a check.
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.check.cmp(&b.check)));
    let mut summary = Summary::default();
    for f in &findings {
        match f.severity {
            Severity::High => summary.high += 1,
            Severity::Medium => summary.medium += 1,
            Severity::Low => summary.low += 1,
            Severity::Info => summary.info += 1,
        }
        summary.total += 1;
    }
    let mut blind = Vec::new();
    for b in run.blind {
        push_unique(&mut blind, b);
    }
    Audit {
        summary,
        findings,
        blind_spots: blind,
        checks,
        management_ports: ports,
        antilockout: match lockout {
            AntiLockout::On => "on",
            AntiLockout::Off => "off",
            AntiLockout::Unknown => "unknown",
        },
    }
}

impl Run<'_, '_> {
    fn find_shadows(&mut self, report: bool) {
        let mut undecided: Vec<(usize, Vec<String>)> = Vec::new();
        for li in 0..self.infos.len() {
            let l = &self.infos[li];
            if !l.active || l.row.rule.origin() == RuleOrigin::Automatic {
                continue;
            }
            let mut found: Option<(usize, bool)> = None;
            let mut why: Vec<String> = Vec::new();
            let mut consider = |ei: usize, later: bool, found: &mut Option<(usize, bool)>| {
                let e = &self.infos[ei];
                if !e.active || e.effect.is_none() {
                    return false;
                }
                match covers(&l.shape, &e.shape) {
                    Tri3::Yes => {
                        *found = Some((ei, later));
                        true
                    }
                    Tri3::Unknown => {
                        for w in l.shape.vague.iter().chain(&e.shape.vague) {
                            push_unique(&mut why, w.clone());
                        }
                        if l.shape.vague.is_empty() && e.shape.vague.is_empty() {
                            push_unique(&mut why, "a condition known only at run time".to_owned());
                        }
                        false
                    }
                    Tri3::No => false,
                }
            };
            for ei in 0..li {
                if self.infos[ei].effect.is_some_and(|(_, quick)| quick)
                    && consider(ei, false, &mut found)
                {
                    break;
                }
            }
            if found.is_none() && l.effect.is_some_and(|(_, quick)| !quick) {
                for ei in li + 1..self.infos.len() {
                    if consider(ei, true, &mut found) {
                        break;
                    }
                }
            }
            match found {
                Some(f) => {
                    self.shadowed.insert(li, f);
                }
                None if !why.is_empty() => undecided.push((li, why)),
                None => {}
            }
        }
        if !report {
            return;
        }
        let shadowed: Vec<(usize, (usize, bool))> =
            self.shadowed.iter().map(|(k, v)| (*k, *v)).collect();
        for (li, (ei, later)) in shadowed {
            let l = self.infos[li].row.rule;
            let e = self.infos[ei].row.rule;
            let lv = self.infos[li].effect.map(|(v, _)| v);
            let ev = self.infos[ei].effect.map(|(v, _)| v);
            let blocks = |v: Option<Verdict>| v.is_some_and(Verdict::is_blocked);
            let differ = blocks(lv) != blocks(ev);
            // A rule doing what the anti-lockout rule does is a deliberate backup of it.
            let backup = !differ && is_antilockout_filter_row(e);
            let severity = if differ {
                Severity::Medium
            } else if backup {
                Severity::Info
            } else {
                Severity::Low
            };
            let how = if later {
                format!(
                    "{} is not quick, and the later {} matches every packet it matches, so the later rule always overrides it",
                    rule_name(l),
                    rule_name(e)
                )
            } else {
                format!(
                    "the earlier quick {} matches every packet {} matches, so pf decides at the earlier rule and never reaches this one",
                    rule_name(e),
                    rule_name(l)
                )
            };
            let consequence = if differ {
                format!(
                    "; this rule means to {} that traffic, but it is {}",
                    lv.map_or_else(|| "act on".to_owned(), |v| v.to_string()),
                    if blocks(ev) { "blocked" } else { "passed" }
                )
            } else if backup {
                "; it is redundant while the anti-lockout rule is on".to_owned()
            } else {
                "; it is redundant".to_owned()
            };
            let same_group = self.infos[ei].row.key.0 == self.infos[li].row.key.0;
            let fix = if backup {
                "Nothing to do while the anti-lockout rule is on; keep this rule if you mean to turn the anti-lockout rule off (it then takes over).".to_owned()
            } else if !differ {
                rule_fix(l, "{enabled: false}", "Remove it (or disable it)")
            } else if later {
                rule_fix(
                    l,
                    "{quick: true}",
                    "Make it quick so it decides at once (or narrow the later rule)",
                )
            } else if same_group {
                rule_fix(
                    l,
                    "{sequence: <a number below the covering rule's>}",
                    "Move it before the covering rule (or narrow the covering rule)",
                )
            } else {
                format!(
                    "It cannot be moved before {}: that rule belongs to an earlier priority group (automatic, floating and group rules come before interface rules). Narrow the covering rule, or put this one in the same group. {}",
                    rule_name(e),
                    rule_fix(
                        e,
                        "{...narrower source/destination/port...}",
                        "To narrow the covering rule"
                    )
                )
            };
            self.findings.push(Finding {
                severity,
                check: Check::ShadowedRule,
                records: vec![filter_record(l), filter_record(e)],
                explanation: format!("It never decides a packet: {how}{consequence}."),
                fix,
            });
        }
        if !undecided.is_empty() {
            let mut reasons: Vec<String> = Vec::new();
            for (_, w) in &undecided {
                for x in w {
                    push_unique(&mut reasons, x.clone());
                }
            }
            let names: Vec<String> = undecided
                .iter()
                .take(5)
                .map(|(li, _)| rule_name(self.infos[*li].row.rule))
                .collect();
            let shown = reasons.len().min(5);
            self.blind.push(format!(
                "shadowing: for {} rule(s) ({}{}) whether an earlier rule covers them could not be decided: {}{}",
                undecided.len(),
                names.join(", "),
                if undecided.len() > 5 { ", ..." } else { "" },
                reasons[..shown].join("; "),
                if reasons.len() > shown {
                    format!("; and {} more reasons", reasons.len() - shown)
                } else {
                    String::new()
                }
            ));
        }
    }

    /// Interfaces facing the internet: `wan` and every interface with a gateway.
    fn wan_like(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .input
            .network
            .interfaces()
            .filter(|i| i.enabled && (i.key == "wan" || i.has_gateway == Some(true)))
            .map(|i| i.key.clone())
            .collect();
        if self.input.network.interface("wan").is_none() {
            v.insert(0, "wan".to_owned());
        }
        v
    }

    fn wan_pass_any(&mut self) {
        let wans = self.wan_like();
        let mut found = Vec::new();
        let mut undecided = Vec::new();
        for (i, info) in self.infos.iter().enumerate() {
            if !info.active || info.effect.map(|(v, _)| v) != Some(Verdict::Pass) {
                continue;
            }
            let s = &info.shape;
            if s.dirs.is_none_or(|d| d & 1 == 0) {
                continue;
            }
            let on: Vec<&String> = wans
                .iter()
                .filter(|w| if_surely_includes(&s.ifaces, w))
                .collect();
            let mut worst: Option<(bool, bool)> = None; // (from anywhere, v6)
            for v6 in [false, true] {
                let Some(f) = s.fam(v6, Sel::Under) else {
                    continue;
                };
                let any_dst = public_space(v6).is_subset(&f.dst.under);
                let all_ports = Set::of(PORT_MAX, vec![(1, PORT_MAX)]);
                let any_port = (f.protos == Protos::All && !f.constrained)
                    || ((f.protos.has(TCP) || f.protos.has(UDP))
                        && all_ports.is_subset(&f.dport.under)
                        && all_ports.is_subset(&f.sport.under));
                if !any_dst || !any_port || f.src.under.is_empty() {
                    continue;
                }
                let anywhere = covers_public(&f.src.under, v6);
                if worst.is_none_or(|(a, _)| anywhere && !a) {
                    worst = Some((anywhere, v6));
                }
            }
            if worst.is_some() && on.is_empty() {
                if let IfSpec::Only(x) | IfSpec::AllBut(x) = &s.ifaces
                    && has_opaque(x)
                {
                    undecided.push(rule_name(info.row.rule));
                }
                continue;
            }
            if let Some((anywhere, v6)) = worst {
                found.push((
                    i,
                    on.iter().map(|s| (*s).clone()).collect::<Vec<_>>(),
                    anywhere,
                    v6,
                ));
            }
        }
        if !undecided.is_empty() {
            self.blind.push(format!(
                "wan_pass_any: {} pass any-to-any on an interface group or an interface this audit was not told about; whether that includes WAN is not known",
                undecided.join(", ")
            ));
        }
        for (i, on, anywhere, v6) in found {
            let rule = self.infos[i].row.rule;
            let mut severity = if anywhere {
                Severity::High
            } else {
                Severity::Medium
            };
            let mut records = vec![filter_record(rule)];
            let mut note = String::new();
            if let Some((ei, _)) = self.shadowed.get(&i) {
                severity = Severity::Low;
                let e = self.infos[*ei].row.rule;
                records.push(filter_record(e));
                note = format!(
                    " It currently has no effect because {} covers it (see shadowed_rule), but it opens everything as soon as that rule changes.",
                    rule_name(e)
                );
            }
            let from = if anywhere {
                "from any source"
            } else {
                "from the sources it names"
            };
            self.findings.push(Finding {
                severity,
                check: Check::WanPassAny,
                records,
                explanation: format!(
                    "{} passes {} traffic arriving on {} {from} to any destination on any port: the firewall's own services and every host behind it that the traffic can reach (port forwards, routed networks) are open.{note}",
                    rule_name(rule),
                    if v6 { "IPv6" } else { "IPv4" },
                    on.join(", "),
                ),
                fix: rule_fix(
                    rule,
                    "{destination_net: \"<host or alias>\", destination_port: \"<port>\", protocol: \"TCP\"}",
                    "Limit it to the destinations and ports that must be reachable (or disable it with rule: {enabled: false})",
                ),
            });
        }
    }

    fn wan_management(&mut self, ports: &[ManagementPort]) {
        let wans = self.wan_like();
        if ports.iter().any(|p| p.source == "assumed") {
            self.blind.push("the web GUI and SSH ports are not known (config.xml was not read and no anti-lockout row names them): 443 and 22 were assumed".to_owned());
        }
        let input = self.input;
        let nat_rows = pf::nat_rows_in_order(&input.nat_rules);
        let mut findings = Vec::new();
        let mut blind = Vec::new();
        for w in &wans {
            let Some(i) = self.input.network.interface(w) else {
                blind.push(format!(
                    "management access from {w}: the interface's addresses are not known, so it was not evaluated"
                ));
                continue;
            };
            let addrs: Vec<IpAddr> = i
                .addresses
                .iter()
                .map(|n| n.addr)
                .filter(|a| !(a.is_ipv6() && link_local().contains(ip_bits(*a))))
                .collect();
            if addrs.is_empty() {
                blind.push(format!(
                    "management access from {w}: the interface has no address in the overview (DHCP or PPPoE down?), so it was not evaluated"
                ));
                continue;
            }
            for p in ports {
                for a in &addrs {
                    let v6 = a.is_ipv6();
                    let t = Flow::tcp(*a, *a, p.port).on(w.clone());
                    let r = reach(
                        &self.ctx,
                        &self.infos,
                        Some((nat_rows.as_slice(), input.nat_rules.as_slice())),
                        &t,
                        &Set::full(full(v6)),
                    );
                    if !r.uncertain.is_empty() {
                        blind.push(format!(
                            "{} port {} on {w} ({a}) from {}: not decided ({})",
                            p.service,
                            p.port,
                            r.uncertain.describe(v6, 3),
                            r.why.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
                        ));
                    }
                    if r.pass.is_empty() {
                        continue;
                    }
                    let anywhere = covers_public(&r.pass, v6);
                    findings.push((w.clone(), *a, p.clone(), anywhere, r));
                }
            }
        }
        self.blind.extend(blind);
        for (w, a, p, anywhere, r) in findings {
            let v6 = a.is_ipv6();
            let records: Vec<Record> = r
                .passed_by
                .iter()
                .filter_map(|x| record_of_ref(self.input, x, false))
                .collect();
            let by: Vec<String> = r
                .passed_by
                .iter()
                .filter_map(|x| self.input.filter_rules.get(x.index).map(rule_name))
                .collect();
            let from = if anywhere {
                "from anywhere on the internet".to_owned()
            } else {
                format!("from {}", r.pass.describe(v6, 5))
            };
            let assumed = if p.source == "assumed" {
                " (port assumed)"
            } else {
                ""
            };
            let fix = match r
                .passed_by
                .first()
                .and_then(|x| self.input.filter_rules.get(x.index))
            {
                Some(rule) => rule_fix(
                    rule,
                    "{source_net: \"<your admin address or alias>\"}",
                    "Allow only your administration addresses (or a VPN) to reach it",
                ),
                None => "Restrict the rules that pass it, and reach the GUI through a VPN instead."
                    .to_owned(),
            };
            self.findings.push(Finding {
                severity: if anywhere {
                    Severity::High
                } else {
                    Severity::Low
                },
                check: Check::WanManagementAccess,
                records,
                explanation: format!(
                    "The {} port {}{assumed} on {w} ({a}) is reachable {from}, passed by {}: anyone there can try to log in to the firewall itself.",
                    p.service,
                    p.port,
                    if by.is_empty() {
                        "the rules".to_owned()
                    } else {
                        by.join(", ")
                    }
                ),
                fix,
            });
        }
    }

    fn nat_without_rule(&mut self) {
        let aliases = self.ctx.aliases;
        for (ni, r) in self.input.nat_rules.iter().enumerate() {
            let f = &r.fields;
            if r.is_automatic() || f.disabled == Some(true) || f.nordr == Some(true) {
                continue;
            }
            match &f.pass {
                Some(NatPass::Pass) => continue,
                Some(NatPass::RegisterRule) if !self.has_automatic => {
                    self.blind.push(format!(
                        "{}: its automatic filter rule is not among the filter rows, so it was taken to pass",
                        nat_name(r)
                    ));
                    continue;
                }
                _ => {}
            }
            if nat_not_loaded(&self.ctx, r, ni).is_some() {
                continue; // rule_not_loaded reports it
            }
            let Some(target) = f.target.as_deref().filter(|t| !t.trim().is_empty()) else {
                continue;
            };
            let dst = match first_address(aliases, target.trim(), &mut BTreeSet::new()) {
                Ok(a) => a,
                Err(why) => {
                    self.blind
                        .push(format!("{}: its target {why}", nat_name(r)));
                    continue;
                }
            };
            let port = f
                .local_port
                .as_deref()
                .filter(|p| !p.trim().is_empty())
                .or(r
                    .destination_port
                    .as_deref()
                    .filter(|p| !p.trim().is_empty()))
                .and_then(|p| first_port(aliases, p.trim(), &mut BTreeSet::new()));
            let protos: Vec<L4> = match &f.protocol {
                None | Some(NatProtocol::TcpUdp) => vec![L4::Tcp, L4::Udp],
                Some(NatProtocol::Tcp) => vec![L4::Tcp],
                Some(NatProtocol::Udp) => vec![L4::Udp],
                Some(NatProtocol::Icmp) => vec![L4::Icmp],
                Some(other) => {
                    let Some(n) = pf::protocol_number(&other.as_str().to_ascii_uppercase()) else {
                        self.blind.push(format!(
                            "{}: protocol {:?} has no number this analysis knows",
                            nat_name(r),
                            other.as_str()
                        ));
                        continue;
                    };
                    vec![L4::Other(n)]
                }
            };
            let ifaces = interface_names(f.interface.as_ref());
            let v6 = dst.is_ipv6();
            let nat_row = NatRow::new(r, ni, None, (0, 0, 0));
            let sources = match &nat_row.compiled(&self.ctx).src {
                Ok(terms) => field_bounds(&self.ctx, terms, v6, false, &mut Vec::new()).over,
                Err(_) => continue,
            };
            let mut passed = false;
            let mut uncertain = Vec::new();
            let mut blocked_by: Vec<RuleRef> = Vec::new();
            for i in &ifaces {
                for proto in &protos {
                    let t = Flow {
                        interface: Some(i.clone()),
                        src: dst,
                        dst,
                        proto: *proto,
                        dst_port: if matches!(proto, L4::Tcp | L4::Udp) {
                            port
                        } else {
                            None
                        },
                        src_port: None,
                    };
                    let res = reach(&self.ctx, &self.infos, None, &t, &sources);
                    if !res.pass.is_empty() {
                        passed = true;
                    }
                    if !res.uncertain.is_empty() {
                        uncertain.extend(res.why);
                    }
                    for b in res.blocked_by {
                        push_ref(&mut blocked_by, Some(b));
                    }
                }
            }
            if passed {
                continue;
            }
            if !uncertain.is_empty() || ifaces.is_empty() {
                self.blind.push(format!(
                    "{}: whether a filter rule passes its traffic could not be decided ({})",
                    nat_name(r),
                    uncertain.into_iter().take(2).collect::<Vec<_>>().join("; ")
                ));
                continue;
            }
            let mut records = vec![nat_record(r)];
            let user_block: Vec<&FilterRule> = blocked_by
                .iter()
                .filter_map(|b| self.input.filter_rules.get(b.index))
                .filter(|b| b.origin() != RuleOrigin::Automatic)
                .collect();
            records.extend(user_block.iter().map(|b| filter_record(b)));
            let port_text = port.map(|p| format!(":{p}")).unwrap_or_default();
            let uuid = &r.uuid;
            let (why, fix) = if let Some(b) = user_block.first() {
                (
                    format!("{} blocks it first", rule_name(b)),
                    format!(
                        "Pass the forwarded traffic before {}: firewall_rule_add {{rule: {{action: \"pass\", interface: [\"{}\"], protocol: \"TCP\", destination_net: \"{target}\", destination_port: \"<port>\", sequence: <before the blocking rule>, description: \"...\"}}}}, then firewall_rule_apply.",
                        rule_name(b),
                        ifaces.first().map_or("wan", String::as_str)
                    ),
                )
            } else {
                (
                    "no rule passes it, so OPNsense's default deny blocks it".to_owned(),
                    format!(
                        "Let OPNsense register the matching pass rule: firewall_nat_update {{uuid: \"{uuid}\", rule: {{pass: \"rule\"}}}}, then firewall_nat_apply (or add a pass rule to {target}{port_text} with firewall_rule_add)."
                    ),
                )
            };
            self.findings.push(Finding {
                severity: Severity::Medium,
                check: Check::NatWithoutRule,
                records,
                explanation: format!(
                    "{} redirects traffic on {} to {target} ({dst}{port_text}), but pf filters the redirected packet and {why}: the forward does not work. Its filter rule association is manual{}.",
                    nat_name(r),
                    ifaces.join(", "),
                    if matches!(f.pass, Some(NatPass::RegisterRule)) {
                        " (or its registered rule comes too late)"
                    } else {
                        ""
                    }
                ),
                fix,
            });
        }
    }

    /// Whether some host of interface `key`'s networks reaches the web GUI on `port` there.
    fn gui_reach(&self, key: &str, port: u16) -> GuiReach {
        let input = self.input;
        let net = &input.network;
        let nat_rows = pf::nat_rows_in_order(&input.nat_rules);
        let mut out = GuiReach::default();
        let Some(info) = net.interface(key) else {
            return out;
        };
        for a in info
            .addresses
            .iter()
            .filter(|n| !(n.is_ipv6() && link_local().contains(ip_bits(n.addr))))
        {
            let v6 = a.is_ipv6();
            let max = full(v6);
            let firewall = Set::of(
                max,
                net.firewall_addresses()
                    .iter()
                    .filter(|n| n.is_ipv6() == v6)
                    .map(|n| (ip_bits(n.addr), ip_bits(n.addr)))
                    .collect(),
            );
            let sources = Set::of(max, vec![span(&a.range())]).minus(&firewall);
            if sources.is_empty() {
                continue;
            }
            out.tried = true;
            let t = Flow::tcp(a.addr, a.addr, port).on(key.to_owned());
            let r = reach(
                &self.ctx,
                &self.infos,
                Some((nat_rows.as_slice(), input.nat_rules.as_slice())),
                &t,
                &sources,
            );
            out.pass |= !r.pass.is_empty();
            if !r.uncertain.is_empty() {
                out.undecided.extend(r.why);
            }
            for b in r.blocked_by {
                push_ref(&mut out.blocked_by, Some(b));
            }
        }
        out
    }

    fn antilockout_disabled(&mut self, state: AntiLockout) {
        match state {
            AntiLockout::On => return,
            AntiLockout::Unknown => {
                self.blind.push("whether the anti-lockout rule is on is not known (config.xml was not read and the filter rows hold no automatic rules)".to_owned());
                return;
            }
            AntiLockout::Off => {}
        }
        let net = &self.input.network;
        let Some(primary) = net.primary_interface().map(str::to_owned) else {
            self.blind.push("the anti-lockout rule is off, but the interfaces are not known: whether the LAN can reach the web GUI was not evaluated".to_owned());
            return;
        };
        let name = net.interface(&primary).map_or_else(
            || primary.to_ascii_uppercase(),
            pf::InterfaceInfo::shown_name,
        );
        let (port, assumed) = gui_port(self.input);
        let lan = self.gui_reach(&primary, port);
        if lan.pass {
            return;
        }
        if !lan.tried {
            self.blind.push(format!("the anti-lockout rule is off and {name} ({primary}) has no address in the overview: whether it can reach the web GUI was not evaluated"));
            return;
        }
        if !lan.undecided.is_empty() {
            self.blind.push(format!(
                "the anti-lockout rule is off; whether {name} can reach the web GUI could not be decided ({})",
                lan.undecided.into_iter().take(3).collect::<Vec<_>>().join("; ")
            ));
            return;
        }
        // Another internal interface (a management network) may be where the GUI is reached.
        let wans = self.wan_like();
        let others: Vec<String> = net
            .interfaces()
            .filter(|i| i.enabled && i.key != primary && !wans.contains(&i.key))
            .map(|i| i.key.clone())
            .filter(|k| self.gui_reach(k, port).pass)
            .collect();
        let records: Vec<Record> = lan
            .blocked_by
            .iter()
            .filter_map(|b| record_of_ref(self.input, b, false))
            .filter(|r| r.origin != Some("automatic"))
            .collect();
        let assumed = if assumed { " (port assumed)" } else { "" };
        let fix = format!(
            "Add a pass rule for your administration hosts: firewall_rule_add {{rule: {{action: \"pass\", interface: [\"{primary}\"], protocol: \"TCP\", source_net: \"{primary}\", destination_net: \"(self)\", destination_port: \"{port}\", description: \"Allow LAN to the web GUI\"}}}}, then firewall_rule_apply; or turn the anti-lockout rule back on in the GUI (System > Settings > Administration)."
        );
        let (severity, explanation) = if others.is_empty() {
            (
                Severity::High,
                format!(
                    "The anti-lockout rule is off and no filter rule lets {name} ({primary}) or any other internal interface reach the web GUI on port {port}{assumed}: the GUI is blocked from the inside, and one more mistake locks everyone out."
                ),
            )
        } else {
            (
                Severity::Low,
                format!(
                    "The anti-lockout rule is off and {name} ({primary}) cannot reach the web GUI on port {port}{assumed}; only {} can. Fine if that is your management network, but nothing protects that access from a rule change.",
                    others.join(", ")
                ),
            )
        };
        self.findings.push(Finding {
            severity,
            check: Check::AntilockoutDisabled,
            records,
            explanation,
            fix,
        });
    }

    fn unused_aliases(&mut self) {
        let mut used: BTreeSet<String> = BTreeSet::new();
        let mut add = |s: Option<&str>| {
            for tok in s
                .unwrap_or_default()
                .split([',', ' ', '\n', '\t'])
                .map(|t| {
                    t.trim()
                        .trim_start_matches('!')
                        .trim_matches(|c| matches!(c, '<' | '>' | '(' | ')' | '{' | '}'))
                })
                .filter(|t| !t.is_empty())
            {
                used.insert(tok.to_owned());
            }
        };
        for r in &self.input.filter_rules {
            add(r.source_net.as_deref());
            add(r.destination_net.as_deref());
            add(r.source_port.as_deref());
            add(r.destination_port.as_deref());
        }
        for r in &self.input.nat_rules {
            add(r.source_network.as_deref());
            add(r.source_port.as_deref());
            add(r.destination_network.as_deref());
            add(r.destination_port.as_deref());
            add(r.fields.target.as_deref());
            add(r.fields.local_port.as_deref());
        }
        for a in &self.input.aliases {
            if matches!(a.alias_type, Some(AliasType::Geoip | AliasType::Urltable)) {
                continue;
            }
            for c in a
                .content
                .as_ref()
                .map(|c| c.0.as_slice())
                .unwrap_or_default()
            {
                add(Some(c));
            }
        }
        if let Some(refs) = &self.input.alias_references {
            used.extend(refs.iter().cloned());
        } else {
            self.blind.push("unused aliases: config.xml could not be read, so references from outbound and one-to-one NAT, scrub rules, disabled classic-GUI rules (the filter search lists enabled ones only) and plugins were not seen; firewall_alias_delete refuses an alias that is still in use".to_owned());
        }
        let unused: Vec<&Alias> = self
            .input
            .aliases
            .iter()
            .filter(|a| !a.is_builtin())
            .filter(|a| {
                !matches!(
                    a.alias_type,
                    Some(AliasType::Internal | AliasType::External)
                )
            })
            .filter(|a| a.name.as_deref().is_some_and(|n| !used.contains(n)))
            .collect();
        if unused.is_empty() {
            return;
        }
        let names: Vec<&str> = unused.iter().filter_map(|a| a.name.as_deref()).collect();
        let first = unused[0].uuid.clone().unwrap_or_default();
        self.findings.push(Finding {
            severity: Severity::Low,
            check: Check::UnusedAlias,
            records: unused.iter().map(|a| alias_record(a)).collect(),
            explanation: format!(
                "{} alias(es) are referenced by no filter rule, port forward or other alias: {}. Unused aliases are clutter, and one may be the half of a rule that was never written.",
                names.len(),
                names.join(", ")
            ),
            fix: format!(
                "Delete each one that is not needed: firewall_alias_delete {{uuid: \"{first}\"}} (and so on), then firewall_alias_apply; OPNsense refuses to delete an alias still in use and says where."
            ),
        });
    }

    fn block_without_log(&mut self) {
        let rules: Vec<&FilterRule> = self
            .infos
            .iter()
            .filter(|i| i.active && i.row.rule.origin() != RuleOrigin::Automatic)
            .filter(|i| i.effect.is_some_and(|(v, _)| v.is_blocked()))
            .map(|i| i.row.rule)
            .filter(|r| r.log != Some(true))
            .collect();
        if rules.is_empty() {
            return;
        }
        let first = rules
            .iter()
            .find(|r| r.origin() == RuleOrigin::Api)
            .copied()
            .unwrap_or(rules[0]);
        self.findings.push(Finding {
            severity: Severity::Low,
            check: Check::BlockWithoutLog,
            records: rules.iter().map(|r| filter_record(r)).collect(),
            explanation: format!(
                "{} block/reject rule(s) do not log: what they drop leaves no trace in the firewall log, so attacks and misconfigurations they stop go unseen.",
                rules.len()
            ),
            fix: rule_fix(first, "{log: true}", "Turn logging on for each"),
        });
    }

    fn without_description(&mut self) {
        let rules: Vec<&FilterRule> = self
            .infos
            .iter()
            .map(|i| i.row.rule)
            .filter(|r| r.origin() != RuleOrigin::Automatic)
            .filter(|r| nonempty(r.description.as_ref()).is_none())
            .collect();
        let nats: Vec<&DNatRow> = self
            .input
            .nat_rules
            .iter()
            .filter(|r| !r.is_automatic() && nonempty(r.fields.descr.as_ref()).is_none())
            .collect();
        if rules.is_empty() && nats.is_empty() {
            return;
        }
        let mut records: Vec<Record> = rules.iter().map(|r| filter_record(r)).collect();
        records.extend(nats.iter().map(|r| nat_record(r)));
        let mut fix = Vec::new();
        if let Some(r) = rules
            .iter()
            .find(|r| r.origin() == RuleOrigin::Api)
            .or(rules.first())
        {
            fix.push(rule_fix(
                r,
                "{description: \"<what it is for>\"}",
                "Describe each rule",
            ));
        }
        if let Some(n) = nats.first() {
            fix.push(format!(
                "Describe each port forward: firewall_nat_update {{uuid: \"{}\", rule: {{description: \"<what it is for>\"}}}}, then firewall_nat_apply.",
                n.uuid
            ));
        }
        self.findings.push(Finding {
            severity: Severity::Info,
            check: Check::RuleWithoutDescription,
            records,
            explanation: format!(
                "{} rule(s) and {} port forward(s) have no description: a reviewer (or an AI) cannot tell what they are for or whether they are still needed.",
                rules.len(),
                nats.len()
            ),
            fix: fix.join(" "),
        });
    }

    /// Address entries that are no address, alias or interface of the overview. OPNsense maps
    /// every *configured* interface (Rule.php:48-97), and an interface whose device is absent
    /// is not in the overview, so such a name proves the row unloadable only when config.xml's
    /// interface list does not hold it either; otherwise the doubt is returned.
    fn unmapped_doubt(&self, fields: &[Option<&str>]) -> Option<String> {
        let net = &self.input.network;
        let names: Vec<String> = fields
            .iter()
            .flat_map(|f| f.unwrap_or_default().split(','))
            .map(|e| {
                e.trim()
                    .trim_matches(|c| matches!(c, '(' | ')' | '<' | '>' | '{' | '}'))
                    .to_owned()
            })
            .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("any") && e != "self")
            .filter(|e| IpNet::parse(e).is_none() && !e.contains('-'))
            .filter(|e| self.ctx.aliases.get(e).is_none())
            .filter(|e| {
                net.interface(e).is_none()
                    && e.strip_suffix("ip")
                        .is_none_or(|k| net.interface(k).is_none())
            })
            .collect();
        if names.is_empty() {
            return None;
        }
        let configured = |n: &str| {
            self.input.config_interfaces.as_ref().is_none_or(|keys| {
                keys.contains(n) || n.strip_suffix("ip").is_some_and(|k| keys.contains(k))
            })
        };
        let doubtful: Vec<&String> = names.iter().filter(|n| configured(n)).collect();
        if doubtful.is_empty() {
            return None;
        }
        let list: Vec<&str> = doubtful.iter().map(|s| s.as_str()).collect();
        Some(format!(
            "it refers to {}, which is no alias and no interface of the overview; if it is an interface whose device is absent, OPNsense still loads the rule, otherwise it does not{}",
            list.join(", "),
            if self.input.config_interfaces.is_none() {
                " (config.xml, which lists the configured interfaces, was not read)"
            } else {
                ""
            }
        ))
    }

    fn not_loaded(&mut self) {
        let mut found = Vec::new();
        for info in &self.infos {
            let rule = info.row.rule;
            if rule.origin() == RuleOrigin::Automatic {
                continue;
            }
            if let Some(why) = &info.not_loaded {
                let fields = [rule.source_net.as_deref(), rule.destination_net.as_deref()];
                if let Some(doubt) = self.unmapped_doubt(&fields) {
                    self.blind.push(format!("{}: {doubt}", rule_name(rule)));
                    continue;
                }
                found.push(Finding {
                    severity: Severity::Medium,
                    check: Check::RuleNotLoaded,
                    records: vec![filter_record(rule)],
                    explanation: format!(
                        "OPNsense does not load {}: {why}. It looks active but does nothing.",
                        rule_name(rule)
                    ),
                    fix: rule_fix(
                        rule,
                        "{source_net: \"...\", destination_net: \"...\"}",
                        "Correct the field (or create the missing alias with firewall_alias_add)",
                    ),
                });
            }
        }
        for (ni, r) in self.input.nat_rules.iter().enumerate() {
            let f = &r.fields;
            if r.is_automatic() || f.disabled == Some(true) {
                continue;
            }
            if let Some(why) = nat_not_loaded(&self.ctx, r, ni) {
                let fields = [
                    r.source_network.as_deref(),
                    r.destination_network.as_deref(),
                ];
                if let Some(doubt) = self.unmapped_doubt(&fields) {
                    self.blind.push(format!("{}: {doubt}", nat_name(r)));
                    continue;
                }
                found.push(Finding {
                    severity: Severity::Medium,
                    check: Check::RuleNotLoaded,
                    records: vec![nat_record(r)],
                    explanation: format!(
                        "OPNsense does not load {}: {why}. It looks active but forwards nothing.",
                        nat_name(r)
                    ),
                    fix: format!(
                        "Correct it: firewall_nat_update {{uuid: \"{}\", rule: {{...}}}} with the field fixed, then firewall_nat_apply.",
                        r.uuid
                    ),
                });
            }
        }
        self.findings.extend(found);
    }
}

/// Why OPNsense does not load a port forward, if it does not: an unmappable address or port
/// (ports only count for tcp/udp, Rule.php:372-378), or no target.
fn nat_not_loaded(ctx: &Context<'_>, r: &DNatRow, index: usize) -> Option<String> {
    let f = &r.fields;
    let row = NatRow::new(r, index, None, (0, 0, 0));
    let c = row.compiled(ctx);
    let port_proto = matches!(
        f.protocol,
        Some(NatProtocol::Tcp | NatProtocol::Udp | NatProtocol::TcpUdp)
    );
    if let (Err(w), _) | (_, Err(w)) = (&c.src, &c.dst) {
        return Some(w.clone());
    }
    if port_proto && let (Err(w), _) | (_, Err(w)) = (&c.sport, &c.dport) {
        return Some(w.clone());
    }
    (f.nordr != Some(true) && f.target.as_deref().is_none_or(|t| t.trim().is_empty()))
        .then(|| "it has no target (ForwardRule.php:107-111)".to_owned())
}

/// The first address a port forward's target stands for: an address, a range's first address, or
/// a host/network alias's first entry.
fn first_address(
    aliases: &Aliases,
    target: &str,
    seen: &mut BTreeSet<String>,
) -> Result<IpAddr, String> {
    let t = target.trim().trim_start_matches('!');
    if let Some(n) = IpNet::parse(t) {
        return Ok(n.addr);
    }
    if let Some((a, _)) = t.split_once('-')
        && let Ok(a) = a.trim().parse::<IpAddr>()
    {
        return Ok(a);
    }
    let Some(def) = aliases.get(t) else {
        return Err(format!("{t:?} is not an address or a known alias"));
    };
    if !seen.insert(t.to_owned()) {
        return Err(format!("alias {t:?} refers to itself"));
    }
    if !matches!(
        def.kind,
        Some(AliasType::Host | AliasType::Network | AliasType::Networkgroup)
    ) {
        return Err(format!(
            "alias {t:?} is not a host or network alias, so its addresses are only known at run time"
        ));
    }
    let mut last = format!("alias {t:?} holds no address");
    for c in def
        .content
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty() && !c.starts_with('!'))
    {
        match first_address(aliases, c, seen) {
            Ok(a) => return Ok(a),
            Err(e) => last = format!("alias {t:?} holds {c:?}: {e}"),
        }
    }
    Err(last)
}

/// The first port a port field stands for: a number, a range's start, a service name, or a port
/// alias's first entry.
fn first_port(aliases: &Aliases, s: &str, seen: &mut BTreeSet<String>) -> Option<u16> {
    let s = s.trim();
    let head = s.split([':', '-']).next().unwrap_or(s).trim();
    if let Ok(p) = head.parse::<u16>() {
        return (p > 0).then_some(p);
    }
    if let Some(p) = pf::service_port(head) {
        return Some(p);
    }
    let def = aliases.get(s)?;
    if def.kind != Some(AliasType::Port) || !seen.insert(s.to_owned()) {
        return None;
    }
    def.content
        .iter()
        .find_map(|c| first_port(aliases, c, seen))
}

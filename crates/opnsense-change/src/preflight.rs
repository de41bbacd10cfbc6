//! The lockout pre-flight: would the staged rules cut this server (or a protected flow) off?
//!
//! Before filter rules or port forwards are applied, [`preflight`] evaluates, with the
//! [`crate::pf`] model, two rule sets for every flow that must survive:
//!
//! - **after**: the staged rows (what `search_rule` shows before `apply`);
//! - **before**: the same rows with every changed rule put back to its before-state (rows the
//!   change added removed, rows it removed or changed restored).
//!
//! The flows are this server's own path to the API (its local address to the firewall's address
//! and API port, TCP, arriving on the interface whose subnet holds the server's address, else on
//! the interface owning the firewall address) and each `OPNSENSE_PROTECT` entry ([`Protect`]).
//! A protected source network is evaluated exactly: it is cut into the pieces no rule, alias or
//! interface tells apart ([`crate::pf::source_pieces`]) and one address of
//! each piece is evaluated.
//!
//! A flow first goes through the port forwards (pf applies `rdr` before filtering): a forward that
//! catches it sends it elsewhere, which cuts it off as surely as a block. OPNsense's anti-lockout
//! `no rdr` rows take part (they win over user port forwards on the primary interface, to that
//! interface's address, on the protected ports). Then the filter rules decide.
//!
//! # Policy
//!
//! - **Refuse** when a flow is *certainly* cut off after the apply (blocked, rejected, no rule
//!   matching — OPNsense's default deny then blocks it —, or redirected by a port forward) and it
//!   is not certainly cut off before. The refusal names the deciding rule (the block rule or the
//!   port forward; when nothing matches any more, the changed or removed rule that passed it
//!   before) and says why.
//! - **Warn, do not refuse**, when the verdict after the apply is uncertain: the result lists the
//!   blind spots. A safety tool must not cry wolf on what it cannot see, and must not be silent.
//! - A flow already certainly cut off before the apply is reported, not refused (the change does
//!   not make it worse). For this server's own path that is a contradiction (it reaches the API
//!   now), so the result says the analysis misses something on that path.
//!
//! # What the analysis cannot see
//!
//! - **Rules outside the search.** Plugins that write their own pf anchors or rules outside the
//!   plugin registry (`anchorToText`, filter.inc:404-410 / 406-412), the `antispoof` lines (non-quick blocks:
//!   they never decide), `set skip` interfaces other than lo0, and rules loaded by hand with
//!   `pfctl`. One-to-one NAT (`firewall/one_to_one`, applied before port forwards at priority
//!   500), NPt and outbound NAT are not read.
//! - **Rules generated at run time.** Schedules (a scheduled rule is loaded only inside its time
//!   window), gateway groups that are down (`skip_rules_gw_down`), URL/URL table/GeoIP/ASN/external
//!   alias content, host names in aliases (DNS), dynamic IPv6 host aliases, MAC and OpenVPN group
//!   aliases, interface group members not declared in the [`crate::pf::Network`], and
//!   the run-time tables `sshlockout` and `virusprot` (assumed not to hold the flow's source:
//!   noted, not a blind spot).
//! - **Routing.** Which interface a packet really arrives on (derived, or assumed from the
//!   destination's interface), asymmetric return paths, `reply-to`, `route-to` (a pass rule with a
//!   gateway sends the packet to that gateway instead of the firewall itself), `divert-to`.
//! - **pf options and state.** Existing states (an established connection survives a rule change
//!   until its state expires or is killed), `state-policy`, `max-src-*`/`max-pkt-rate` limits,
//!   `tagged` matching, `os` fingerprints, ICMP types, TCP flags beyond the first SYN, scrubbing,
//!   pfsync/CARP failover, `pf` disabled altogether (`disablefilter`).
//! - **Other changes.** Alias content changes in the same apply; the web GUI's own listening
//!   addresses and ports; anything between this server and the firewall (other firewalls, NAT in
//!   front of the firewall: the API address is taken as an address of the firewall itself).

use std::collections::BTreeSet;
use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::str::FromStr;

use opnsense_api::fields::CsvList;
use opnsense_api::models::firewall::{
    Action, DNatFields, DNatRow, Direction, FilterRule, NatProtocol, Protocol, RuleOrigin,
};
use serde::Serialize;
use serde_json::Value;

use crate::pf::{
    self, Aliases, ArrivalBasis, Context, Evaluation, Flow, IpNet, IpRange, L4, NatAction,
    NatEvaluation, Network, RuleRef, Verdict,
};

// ---------------------------------------------------------------------------------------------
// Protected flows
// ---------------------------------------------------------------------------------------------

/// The syntax of one `OPNSENSE_PROTECT` entry, for error messages.
pub const PROTECT_SYNTAX: &str = "<source> -> [<firewall address>:]<port>[/tcp|/udp], where <source> is any, an address or a CIDR and <port> a number or a service name (https, ssh, ...), e.g. \"10.0.0.5 -> 443/tcp\", \"10.0.0.0/24 -> 22\" or \"any -> [fd00::1]:443\"";

/// Where a protected flow comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ProtectSource {
    /// Every address (of the destination's family).
    Any,
    /// An address or a network.
    Net(IpNet),
}

/// One protected flow: a source that must keep reaching the firewall on a port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Protect {
    /// The entry as written (trimmed).
    pub raw: String,
    /// Source.
    pub source: ProtectSource,
    /// The firewall address to reach; `None` = the address of the interface facing the source
    /// (the interface whose subnet holds it), else the API address.
    pub destination: Option<IpAddr>,
    /// Destination port.
    pub port: u16,
    /// `Tcp` (default) or `Udp`.
    pub proto: L4,
}

/// A malformed `OPNSENSE_PROTECT` entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OPNSENSE_PROTECT entry {entry:?}: {reason}; expected {PROTECT_SYNTAX}")]
pub struct ProtectError {
    /// The entry.
    pub entry: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Protect {
    /// Parses one entry (see [`PROTECT_SYNTAX`]).
    pub fn parse(entry: &str) -> Result<Self, ProtectError> {
        let raw = entry.trim().to_owned();
        let err = |reason: String| ProtectError {
            entry: raw.clone(),
            reason,
        };
        if raw.is_empty() {
            return Err(err("the entry is empty".to_owned()));
        }
        let Some((src, dst)) = raw.split_once("->") else {
            return Err(err(
                "there is no \"->\" between the source and the port".to_owned()
            ));
        };
        let (src, dst) = (src.trim(), dst.trim());
        if dst.contains("->") {
            return Err(err("there is more than one \"->\"".to_owned()));
        }
        let source = if src.eq_ignore_ascii_case("any") {
            ProtectSource::Any
        } else if src.is_empty() {
            return Err(err(
                "the source is missing (write any for every source)".to_owned()
            ));
        } else {
            match IpNet::parse(src) {
                Some(n) => ProtectSource::Net(n),
                None => {
                    return Err(err(format!(
                        "the source {src:?} is not any, an IP address or a CIDR network"
                    )));
                }
            }
        };
        if dst.is_empty() {
            return Err(err("the port is missing after \"->\"".to_owned()));
        }
        let (target, proto) = match dst.rsplit_once('/') {
            Some((t, p)) => {
                let proto = match p.trim().to_ascii_lowercase().as_str() {
                    "tcp" => L4::Tcp,
                    "udp" => L4::Udp,
                    other => {
                        return Err(err(format!("the protocol {other:?} is not tcp or udp")));
                    }
                };
                (t.trim(), proto)
            }
            None => (dst, L4::Tcp),
        };
        let (destination, port) = split_destination(target).map_err(err)?;
        let port = match pf::service_port(port) {
            Some(p) => p,
            None => match port.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => {
                    return Err(err(format!(
                        "the port {port:?} is not a number from 1 to 65535 or a known service name"
                    )));
                }
            },
        };
        if let (ProtectSource::Net(n), Some(d)) = (&source, destination)
            && n.is_ipv6() != d.is_ipv6()
        {
            return Err(err(format!(
                "the source {n} and the destination {d} are of different address families"
            )));
        }
        Ok(Self {
            raw: raw.clone(),
            source,
            destination,
            port,
            proto,
        })
    }

    /// Parses the comma-separated `OPNSENSE_PROTECT` value (empty entries are skipped).
    pub fn parse_list(s: &str) -> Result<Vec<Self>, ProtectError> {
        s.split(',')
            .filter(|e| !e.trim().is_empty())
            .map(Self::parse)
            .collect()
    }
}

impl FromStr for Protect {
    type Err = ProtectError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Protect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// `443`, `https`, `10.0.0.1:443`, `[fd00::1]:443`.
fn split_destination(t: &str) -> Result<(Option<IpAddr>, &str), String> {
    if let Some(rest) = t.strip_prefix('[') {
        let Some((addr, port)) = rest.split_once("]:") else {
            return Err(format!(
                "{t:?}: an IPv6 destination is written [address]:port"
            ));
        };
        let a: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("the destination {addr:?} is not an IP address"))?;
        return Ok((Some(a), port.trim()));
    }
    match t.rsplit_once(':') {
        Some((addr, port)) if !addr.contains(':') => {
            let a: IpAddr = addr
                .trim()
                .parse()
                .map_err(|_| format!("the destination {addr:?} is not an IP address"))?;
            Ok((Some(a), port.trim()))
        }
        Some(_) => Err(format!(
            "{t:?}: an IPv6 destination is written [address]:port"
        )),
        None => Ok((None, t)),
    }
}

// ---------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------

/// This server's path to the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiPath {
    /// The server's local address on the connection to the firewall.
    pub local: IpAddr,
    /// The firewall address the server connects to.
    pub firewall: IpAddr,
    /// The API (web GUI) port.
    pub port: u16,
    /// The interface the server's packets arrive on, when known; derived otherwise.
    pub interface: Option<String>,
}

/// A rule the change adds, changes or removes.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleChange<T> {
    /// The rule's uuid.
    pub id: String,
    /// Its state before the change (`None`: the change adds it).
    pub before: Option<T>,
}

/// The rules as they are, then each changed rule as it was before the change.
fn with_before_states<T: Clone>(rules: &[T], changes: &[RuleChange<T>]) -> Vec<T> {
    rules
        .iter()
        .cloned()
        .chain(changes.iter().filter_map(|c| c.before.clone()))
        .collect()
}

/// Everything the pre-flight looks at.
#[derive(Debug, Clone, Default)]
pub struct PreflightInput {
    /// Interfaces and addresses (see [`Network::from_overview`]).
    pub network: Network,
    /// Aliases (see [`Aliases::from_rows`]).
    pub aliases: Aliases,
    /// This server's path; `None` = only the protected flows are checked.
    pub api: Option<ApiPath>,
    /// The protected flows (`OPNSENSE_PROTECT`).
    pub protect: Vec<Protect>,
    /// The staged `firewall/filter/search_rule` rows (all pages).
    pub filter_rules: Vec<FilterRule>,
    /// The staged `firewall/d_nat/search_rule` rows (all pages).
    pub nat_rules: Vec<DNatRow>,
    /// The filter rules the change touches, with their before-state.
    pub filter_changes: Vec<RuleChange<FilterRule>>,
    /// The port forwards the change touches, with their before-state.
    pub nat_changes: Vec<RuleChange<DNatRow>>,
    /// Whether OPNsense's anti-lockout rule is on (System > Settings > Administration, not
    /// `noantilockout`); `None` = not known. The search rows tell when they hold OPNsense's
    /// automatic rows.
    pub antilockout: Option<bool>,
    /// The system's NAT reflection default (`true` unless `disablenatreflection`); `None` = not
    /// known.
    pub nat_reflection_default: Option<bool>,
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

/// Whether a flow reaches its destination through one rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Reach {
    /// Certainly passes.
    Reaches,
    /// Certainly blocked, rejected, unmatched or redirected.
    CutOff,
    /// Depends on what the analysis cannot see.
    Unsure,
}

/// A flow through one rule set: port forwards, then filter rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathEvaluation {
    /// Port forwards.
    pub nat: NatEvaluation,
    /// Filter rules (the flow as it arrives, i.e. when no port forward redirects it).
    pub filter: Evaluation,
    /// The outcome.
    pub reach: Reach,
    /// Why, in one sentence.
    pub why: String,
    /// The rule that decides (`None` = nothing matched, or not decidable).
    pub rule: Option<RuleRef>,
}

/// What the change does to a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FlowStatus {
    /// Reaches its destination after the apply.
    Kept,
    /// Certainly cut off after the apply, and not certainly cut off before: refused.
    CutOff,
    /// Uncertain after the apply: a warning.
    Uncertain,
    /// Already certainly cut off before the apply (the change does not make it worse).
    AlreadyCut,
}

/// The verdict for one flow (or one part of a protected source network).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowVerdict {
    /// `api` for this server's path, else the `OPNSENSE_PROTECT` entry.
    pub name: String,
    /// The sources this verdict covers (`10.0.0.5`, `10.0.0.0/25, 10.0.0.200-10.0.0.255`).
    pub sources: String,
    /// The flow evaluated (one address of the sources).
    pub flow: Flow,
    /// Where its arrival interface came from.
    pub arrival: ArrivalBasis,
    /// Through the current rules.
    pub before: PathEvaluation,
    /// Through the staged rules.
    pub after: PathEvaluation,
    /// The conclusion.
    pub status: FlowStatus,
}

/// Why an apply is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The flow (`api` or the protected entry, with the sources concerned).
    pub flow: String,
    /// The rule to blame.
    pub rule: Option<RuleRef>,
    /// Why.
    pub why: String,
}

/// The pre-flight result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preflight {
    /// One verdict per flow (this server's path first).
    pub verdicts: Vec<FlowVerdict>,
    /// Set when the apply must not go ahead.
    pub refusal: Option<Refusal>,
    /// What the verdicts depend on that the analysis could not see, plus its assumptions.
    pub blind_spots: Vec<String>,
    /// One paragraph for a human.
    pub summary: String,
}

impl Preflight {
    /// True when the apply must not go ahead.
    pub fn refused(&self) -> bool {
        self.refusal.is_some()
    }

    /// The flows whose verdict after the apply is uncertain.
    pub fn uncertain(&self) -> impl Iterator<Item = &FlowVerdict> {
        self.verdicts
            .iter()
            .filter(|v| v.status == FlowStatus::Uncertain)
    }
}

// ---------------------------------------------------------------------------------------------
// Anti-lockout
// ---------------------------------------------------------------------------------------------

/// Rows the pre-flight adds, each with the condition under which it exists (`None` = certain).
type Assumed<T> = Vec<(T, Option<String>)>;

/// The changes of one apply: filter rules and port forwards.
type Changes<'r> = (&'r [RuleChange<FilterRule>], &'r [RuleChange<DNatRow>]);

/// An automatic or legacy filter row that is OPNsense's anti-lockout rule (its `ref` ends in
/// `#noantilockout`, or it carries the rule's description).
pub(crate) fn is_antilockout_filter_row(r: &FilterRule) -> bool {
    r.origin() != RuleOrigin::Api
        && (crate::pf::extra_str(r, "ref").is_some_and(|s| s.ends_with("#noantilockout"))
            || r.description
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case("anti-lockout rule")))
}

/// An automatic no-redirect port forward that is the anti-lockout rule's NAT half.
pub(crate) fn is_antilockout_nat_row(r: &DNatRow) -> bool {
    r.is_automatic()
        && r.fields.nordr == Some(true)
        && (r.uuid.starts_with("lockout_")
            || r.uuid.starts_with("automatic_pf_")
            || r.extra
                .get("ref")
                .and_then(Value::as_str)
                .is_some_and(|s| s.ends_with("#noantilockout")))
}

/// What is known of the anti-lockout rule.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AntiLockout {
    On {
        interface: Option<String>,
        ports: Vec<u16>,
    },
    Off,
    Unknown,
}

fn antilockout_state(input: &PreflightInput, blind: &mut Vec<String>) -> AntiLockout {
    let filter_rows: Vec<&FilterRule> = input
        .filter_rules
        .iter()
        .filter(|r| is_antilockout_filter_row(r))
        .collect();
    let nat_rows: Vec<&DNatRow> = input
        .nat_rules
        .iter()
        .filter(|r| is_antilockout_nat_row(r))
        .collect();
    let has_automatic = input
        .filter_rules
        .iter()
        .any(|r| r.origin() != RuleOrigin::Api);
    let mut ports: BTreeSet<u16> = BTreeSet::new();
    let mut interface: Option<String> = None;
    for r in &filter_rows {
        ports.extend(
            r.destination_port
                .as_deref()
                .and_then(|p| p.trim().parse::<u16>().ok()),
        );
        if let Some(i) = r.interface.as_ref().and_then(|i| i.0.first()) {
            // Legacy rows carry descriptions: map back to the key.
            let key = input
                .network
                .interfaces()
                .find(|x| x.shown_name() == *i || x.key == *i)
                .map_or_else(|| i.clone(), |x| x.key.clone());
            interface = Some(key);
        }
    }
    for r in &nat_rows {
        ports.extend(
            r.destination_port
                .as_deref()
                .and_then(|p| p.trim().parse::<u16>().ok()),
        );
        if interface.is_none() {
            interface = r
                .fields
                .interface
                .as_ref()
                .and_then(|i| i.0.first().cloned());
        }
    }
    if !filter_rows.is_empty() || !nat_rows.is_empty() {
        if input.antilockout == Some(false) {
            blind.push("the anti-lockout rule was said to be off, but the search rows hold it: the rows were trusted".to_owned());
        }
        return AntiLockout::On {
            interface,
            ports: ports.into_iter().collect(),
        };
    }
    if has_automatic {
        if input.antilockout == Some(true) {
            blind.push("the anti-lockout rule was said to be on, but the search rows (which hold OPNsense's automatic rules) do not show it: the rows were trusted".to_owned());
        }
        return AntiLockout::Off;
    }
    match input.antilockout {
        Some(true) => AntiLockout::On {
            interface: None,
            ports: Vec::new(),
        },
        Some(false) => AntiLockout::Off,
        None => AntiLockout::Unknown,
    }
}

/// The anti-lockout rows OPNsense would add that the given rows lack (filter.lib.inc:585-602,
/// filter.inc:243-254): a quick pass at priority 5 and a `no rdr` before the port forwards.
fn assumed_antilockout(
    input: &PreflightInput,
    state: &AntiLockout,
    api_port: Option<u16>,
) -> (Assumed<FilterRule>, Assumed<DNatRow>) {
    let (interface, mut ports, condition) = match state {
        AntiLockout::Off => return (Vec::new(), Vec::new()),
        AntiLockout::On { interface, ports } => (interface.clone(), ports.clone(), None),
        AntiLockout::Unknown => (
            None,
            Vec::new(),
            Some("whether OPNsense's anti-lockout rule is on (System > Settings > Administration) is not known".to_owned()),
        ),
    };
    let Some(interface) =
        interface.or_else(|| input.network.primary_interface().map(str::to_owned))
    else {
        return (Vec::new(), Vec::new());
    };
    if ports.is_empty() {
        ports.extend(api_port);
    }
    let have_filter = input.filter_rules.iter().any(is_antilockout_filter_row);
    let have_nat = input.nat_rules.iter().any(is_antilockout_nat_row);
    let mut filter = Vec::new();
    let mut nat = Vec::new();
    for (n, port) in ports.iter().enumerate() {
        if !have_filter {
            let mut r = FilterRule {
                uuid: Some(format!("assumed-anti-lockout-{port}")),
                enabled: Some(true),
                action: Some(Action::Pass),
                interface: Some(CsvList(vec![interface.clone()])),
                direction: Some(Direction::In),
                protocol: Some(Protocol::Tcp),
                destination_net: Some("(self)".to_owned()),
                destination_port: Some(port.to_string()),
                description: Some("anti-lockout rule (assumed)".to_owned()),
                legacy: Some(true),
                is_automatic: Some(true),
                ..FilterRule::default()
            };
            r.extra.0.insert(
                "sort_order".to_owned(),
                Value::String(format!("000005.1{n:06}")),
            );
            filter.push((r, condition.clone()));
        }
        if !have_nat {
            let mut r = DNatRow {
                uuid: format!("assumed_lockout_{n}"),
                is_automatic: Some(true),
                fields: DNatFields {
                    nordr: Some(true),
                    interface: Some(CsvList(vec![interface.clone()])),
                    protocol: Some(NatProtocol::Tcp),
                    descr: Some("Anti-Lockout Rule (assumed)".to_owned()),
                    ..DNatFields::default()
                },
                destination_network: Some(format!("{interface}ip")),
                destination_port: Some(port.to_string()),
                ..DNatRow::default()
            };
            r.extra.0.insert(
                "sort_order".to_owned(),
                Value::String(format!("100000.0{n:06}")),
            );
            nat.push((r, condition.clone()));
        }
    }
    (filter, nat)
}

// ---------------------------------------------------------------------------------------------
// Evaluation of one path
// ---------------------------------------------------------------------------------------------

/// One rule set, ready to evaluate.
struct RuleSet<'r> {
    filter: Vec<pf::Row<'r>>,
    nat: Vec<pf::NatRow<'r>>,
}

fn build_set<'r>(
    network: &Network,
    staged_filter: &'r [FilterRule],
    staged_nat: &'r [DNatRow],
    changes: Option<Changes<'r>>,
    extra_filter: &'r [(FilterRule, Option<String>)],
    extra_nat: &'r [(DNatRow, Option<String>)],
) -> RuleSet<'r> {
    let (fc, nc) = changes.unwrap_or((&[], &[]));
    let changed_f: BTreeSet<&str> = fc.iter().map(|c| c.id.as_str()).collect();
    let changed_n: BTreeSet<&str> = nc.iter().map(|c| c.id.as_str()).collect();
    let mut filter = Vec::new();
    let mut prev = (0, 0, 0);
    for (i, r) in staged_filter.iter().enumerate() {
        prev = pf::row_key(network, r, prev);
        if r.uuid.as_deref().is_some_and(|u| changed_f.contains(u)) {
            continue;
        }
        filter.push(pf::Row::new(r, i, None, prev));
    }
    for c in fc {
        if let Some(b) = &c.before {
            filter.push(pf::Row::new(
                b,
                usize::MAX,
                None,
                pf::row_key(network, b, (0, 0, 0)),
            ));
        }
    }
    for (r, cond) in extra_filter {
        filter.push(pf::Row::new(
            r,
            usize::MAX,
            cond.clone(),
            pf::row_key(network, r, (0, 0, 0)),
        ));
    }
    pf::sort_rows(&mut filter);
    let mut nat = Vec::new();
    for (i, r) in staged_nat.iter().enumerate() {
        if changed_n.contains(r.uuid.as_str()) {
            continue;
        }
        nat.push(pf::NatRow::new(r, i, None, pf::nat_key(r, i)));
    }
    for c in nc {
        if let Some(b) = &c.before {
            nat.push(pf::NatRow::new(
                b,
                usize::MAX,
                None,
                pf::nat_key(b, usize::MAX),
            ));
        }
    }
    for (r, cond) in extra_nat {
        nat.push(pf::NatRow::new(
            r,
            usize::MAX,
            cond.clone(),
            pf::nat_key(r, 0),
        ));
    }
    nat.sort_by_key(|r| r.key);
    RuleSet { filter, nat }
}

fn evaluate_path(ctx: &Context<'_>, set: &RuleSet<'_>, flow: &Flow) -> PathEvaluation {
    let nat = pf::evaluate_nat_rows(ctx, &set.nat, flow);
    let filter = pf::evaluate_rows(ctx, &set.filter, flow);
    if is_loopback(flow.dst) && !on_a_filtered_interface(ctx.network, flow.dst) {
        return PathEvaluation {
            nat,
            filter,
            reach: Reach::Reaches,
            why: "loopback traffic is not filtered (set skip on lo0, filter.inc:394 / 396)"
                .to_owned(),
            rule: None,
        };
    }
    let verdicts = filter.verdicts();
    let all_pass = verdicts.iter().all(|v| *v == Verdict::Pass);
    let all_blocked = verdicts.iter().all(|v| *v != Verdict::Pass);
    let nat_redirects: BTreeSet<bool> = nat
        .outcomes
        .iter()
        .map(|o| matches!(o.action, NatAction::Redirected { .. }))
        .collect();
    let (reach, why, rule) = if nat_redirects == BTreeSet::from([true]) {
        let (target, port) = match &nat.action {
            NatAction::Redirected { target, port, .. } => (target.clone(), port.clone()),
            _ => (String::new(), None),
        };
        let to = match port {
            Some(p) => format!("{target} port {p}"),
            None => target,
        };
        (
            Reach::CutOff,
            format!(
                "the port forward {} redirects it to {to}, away from the firewall",
                nat.rule
                    .as_ref()
                    .map_or_else(|| "?".to_owned(), ToString::to_string)
            ),
            nat.rule.clone(),
        )
    } else if nat_redirects.contains(&true) {
        (
            Reach::Unsure,
            "a port forward may redirect it, depending on what the analysis cannot see".to_owned(),
            nat.outcomes
                .iter()
                .find(|o| matches!(o.action, NatAction::Redirected { .. }))
                .and_then(|o| o.rule.clone()),
        )
    } else if all_pass
        && filter.reroute.is_some()
        && ctx.network.is_firewall_address(flow.dst) != Some(false)
    {
        (
            Reach::Unsure,
            format!(
                "{}: a packet for the firewall itself may then leave towards the gateway instead of being delivered",
                filter.reroute.clone().unwrap_or_default()
            ),
            filter.deciding.clone(),
        )
    } else if all_pass {
        (
            Reach::Reaches,
            match &filter.deciding {
                Some(r) => format!("passed by {r}"),
                None => "passed".to_owned(),
            },
            filter.deciding.clone(),
        )
    } else if all_blocked {
        let why = match (filter.verdict, &filter.deciding) {
            (Verdict::NoMatch, _) => {
                "no rule matches it, so OPNsense's default deny blocks it".to_owned()
            }
            (v, Some(r)) => format!(
                "{} by {r}",
                if v == Verdict::Reject {
                    "rejected"
                } else {
                    "blocked"
                }
            ),
            (_, None) => "blocked".to_owned(),
        };
        (Reach::CutOff, why, filter.deciding.clone())
    } else {
        (
            Reach::Unsure,
            format!(
                "the verdict is one of {} depending on what the analysis cannot see",
                verdicts
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            filter.deciding.clone(),
        )
    };
    PathEvaluation {
        nat,
        filter,
        reach,
        why,
        rule,
    }
}

/// A loopback address the interface list puts on an interface other than a loopback device
/// (a test bed that gives the LAN 127.0.0.1): its traffic is filtered like that interface's.
/// On a real firewall 127.0.0.1 belongs to `lo0`, which pf skips.
fn on_a_filtered_interface(network: &Network, ip: IpAddr) -> bool {
    network
        .interface_owning(ip)
        .and_then(|key| network.interface(key))
        .is_some_and(|i| {
            i.device
                .as_deref()
                .is_some_and(|d| !d.is_empty() && !d.starts_with("lo"))
        })
}

fn is_loopback(ip: IpAddr) -> bool {
    ip.is_loopback()
}

fn status_of(before: &PathEvaluation, after: &PathEvaluation) -> FlowStatus {
    match (before.reach, after.reach) {
        (_, Reach::Reaches) => FlowStatus::Kept,
        (Reach::CutOff, Reach::CutOff) => FlowStatus::AlreadyCut,
        (_, Reach::CutOff) => FlowStatus::CutOff,
        (_, Reach::Unsure) => FlowStatus::Uncertain,
    }
}

// ---------------------------------------------------------------------------------------------
// The pre-flight
// ---------------------------------------------------------------------------------------------

/// How many pieces of a protected source network are evaluated at most.
const MAX_PIECES: usize = 4096;

/// Decides whether the staged filter rules and port forwards may be applied (see the module
/// documentation for the policy and what the analysis cannot see).
pub fn preflight(input: &PreflightInput) -> Preflight {
    let mut blind: Vec<String> = Vec::new();
    let mut network = input.network.clone();
    if let Some(api) = &input.api
        && network.is_firewall_address(api.firewall) != Some(true)
    {
        network.add_firewall_address(IpNet::host(api.firewall));
        blind.push(format!(
                "the API address {} is taken as an address of the firewall itself (no device in front of it translates it)",
                api.firewall
            ));
    }
    let ctx = Context {
        network: &network,
        aliases: &input.aliases,
        nat_reflection_default: input.nat_reflection_default,
    };
    let state = antilockout_state(input, &mut blind);
    if state == AntiLockout::Unknown {
        blind.push("whether OPNsense's anti-lockout rule is on is not known, and the rows do not hold OPNsense's automatic rules: both cases were evaluated".to_owned());
    }
    if !input
        .filter_rules
        .iter()
        .any(|r| r.origin() != RuleOrigin::Api)
    {
        blind.push("the filter rows hold none of OPNsense's automatic rules (default deny, anti-lockout, bogons, ...): an unmatched flow is taken as blocked by the default deny".to_owned());
    }
    let (extra_filter, extra_nat) =
        assumed_antilockout(input, &state, input.api.as_ref().map(|a| a.port));
    let after = build_set(
        &network,
        &input.filter_rules,
        &input.nat_rules,
        None,
        &extra_filter,
        &extra_nat,
    );
    let before = build_set(
        &network,
        &input.filter_rules,
        &input.nat_rules,
        Some((&input.filter_changes, &input.nat_changes)),
        &extra_filter,
        &extra_nat,
    );
    let changed: BTreeSet<&str> = input
        .filter_changes
        .iter()
        .map(|c| c.id.as_str())
        .chain(input.nat_changes.iter().map(|c| c.id.as_str()))
        .collect();

    let mut verdicts = Vec::new();
    if let Some(api) = &input.api {
        let (interface, arrival) = match &api.interface {
            Some(i) => (Some(i.clone()), ArrivalBasis::Given),
            None => network.arrival_interface(api.local, api.firewall),
        };
        note_arrival(
            &mut blind,
            "this server",
            api.local,
            interface.as_deref(),
            arrival,
        );
        let flow = Flow {
            interface,
            src: api.local,
            dst: api.firewall,
            proto: L4::Tcp,
            dst_port: Some(api.port),
            src_port: None,
        };
        let b = evaluate_path(&ctx, &before, &flow);
        let a = evaluate_path(&ctx, &after, &flow);
        let mut status = status_of(&b, &a);
        if b.reach == Reach::CutOff {
            blind.push(format!(
                "the analysis finds this server's path cut off already ({}), yet the server reaches the API: it misses something on that path (arrival interface, a state, a rule outside the search)",
                b.why
            ));
            if status == FlowStatus::AlreadyCut {
                status = FlowStatus::Uncertain;
            }
        }
        verdicts.push(FlowVerdict {
            name: "api".to_owned(),
            sources: api.local.to_string(),
            flow,
            arrival,
            before: b,
            after: a,
            status,
        });
    }

    let pieces_input = with_before_states(&input.filter_rules, &input.filter_changes);
    let nat_input = with_before_states(&input.nat_rules, &input.nat_changes);
    for p in &input.protect {
        verdicts.extend(protect_verdicts(
            &ctx,
            input,
            p,
            &before,
            &after,
            &pieces_input,
            &nat_input,
            &mut blind,
        ));
    }

    let refusal = verdicts
        .iter()
        .find(|v| v.status == FlowStatus::CutOff)
        .map(|v| refusal_for(v, &changed));
    for v in verdicts
        .iter()
        .filter(|v| v.status == FlowStatus::Uncertain)
    {
        let why = format!("{} ({}): {}", v.name, v.sources, v.after.why);
        if !blind.contains(&why) {
            blind.push(why);
        }
        for s in v
            .after
            .filter
            .blind_spots
            .iter()
            .chain(&v.after.nat.blind_spots)
        {
            let s = format!("{} ({}): {s}", v.name, v.sources);
            if !blind.contains(&s) {
                blind.push(s);
            }
        }
    }
    let summary = summarise(&verdicts, refusal.as_ref());
    Preflight {
        verdicts,
        refusal,
        blind_spots: blind,
        summary,
    }
}

fn note_arrival(
    blind: &mut Vec<String>,
    who: &str,
    src: IpAddr,
    interface: Option<&str>,
    basis: ArrivalBasis,
) {
    let s = match (basis, interface) {
        (ArrivalBasis::DestinationOwner, Some(i)) => format!(
            "{who} ({src}) is on no interface's subnet: its packets are assumed to arrive on {i}, the interface that owns the firewall address"
        ),
        (ArrivalBasis::Unknown, _) => format!(
            "the interface {who}'s packets ({src}) arrive on is not known: interface-bound rules match it only maybe"
        ),
        _ => return,
    };
    if !blind.contains(&s) {
        blind.push(s);
    }
}

#[allow(clippy::too_many_arguments)]
fn protect_verdicts(
    ctx: &Context<'_>,
    input: &PreflightInput,
    p: &Protect,
    before: &RuleSet<'_>,
    after: &RuleSet<'_>,
    filter_all: &[FilterRule],
    nat_all: &[DNatRow],
    blind: &mut Vec<String>,
) -> Vec<FlowVerdict> {
    let network = ctx.network;
    let v6 = match (p.destination, &p.source) {
        (Some(d), _) => d.is_ipv6(),
        (None, ProtectSource::Net(n)) => n.is_ipv6(),
        (None, ProtectSource::Any) => input.api.as_ref().is_some_and(|a| a.firewall.is_ipv6()),
    };
    let range = match &p.source {
        ProtectSource::Any => IpRange::all(v6),
        ProtectSource::Net(n) => n.range(),
    };
    let mut pieces = pf::source_pieces(ctx, filter_all, nat_all, range);
    if pieces.len() > MAX_PIECES {
        blind.push(format!(
            "{}: the source splits into {} parts; only the first {MAX_PIECES} were evaluated",
            p.raw,
            pieces.len()
        ));
        pieces.truncate(MAX_PIECES);
    }
    // Group pieces with the same conclusion.
    let mut groups: Vec<(FlowVerdict, Vec<IpRange>)> = Vec::new();
    // Pieces whose arrival interface is assumed or unknown, by (interface, basis).
    type ArrivalKey = (Option<String>, ArrivalBasis);
    let mut off_subnet: Vec<(ArrivalKey, Vec<IpRange>)> = Vec::new();
    for piece in pieces {
        let src = piece.first();
        let dst = if let Some(d) = p.destination {
            d
        } else {
            let facing = network
                .interface_for_source(src)
                .and_then(|k| network.interface(k))
                .and_then(|i| i.addresses.iter().find(|a| a.is_ipv6() == v6))
                .map(|a| a.addr);
            if let Some(d) = facing.or_else(|| {
                input
                    .api
                    .as_ref()
                    .map(|a| a.firewall)
                    .filter(|f| f.is_ipv6() == v6)
            }) {
                d
            } else {
                let s = format!(
                    "{}: no firewall address of the source's family to reach from {piece} (give one: \"{} -> <address>:{}\")",
                    p.raw,
                    match &p.source {
                        ProtectSource::Any => "any".to_owned(),
                        ProtectSource::Net(n) => n.to_string(),
                    },
                    p.port
                );
                if !blind.contains(&s) {
                    blind.push(s);
                }
                continue;
            }
        };
        let (interface, arrival) = network.arrival_interface(src, dst);
        if arrival != ArrivalBasis::SourceSubnet {
            let k = (interface.clone(), arrival);
            match off_subnet.iter_mut().find(|(x, _)| *x == k) {
                Some((_, v)) => v.push(piece),
                None => off_subnet.push((k, vec![piece])),
            }
        }
        let flow = Flow {
            interface,
            src,
            dst,
            proto: p.proto,
            dst_port: Some(p.port),
            src_port: None,
        };
        let b = evaluate_path(ctx, before, &flow);
        let a = evaluate_path(ctx, after, &flow);
        let status = status_of(&b, &a);
        let same = groups.iter_mut().find(|(g, _)| {
            g.status == status
                && g.after.reach == a.reach
                && g.after.rule.as_ref().map(|r| &r.id) == a.rule.as_ref().map(|r| &r.id)
                && g.before.rule.as_ref().map(|r| &r.id) == b.rule.as_ref().map(|r| &r.id)
                && g.flow.interface == flow.interface
                && g.flow.dst == flow.dst
        });
        match same {
            Some((_, ranges)) => ranges.push(piece),
            None => groups.push((
                FlowVerdict {
                    name: p.raw.clone(),
                    sources: String::new(),
                    flow,
                    arrival,
                    before: b,
                    after: a,
                    status,
                },
                vec![piece],
            )),
        }
    }
    for ((interface, basis), ranges) in off_subnet {
        let who = format!("{} sources {}", p.raw, describe_ranges(&ranges));
        let s = match (basis, interface) {
            (ArrivalBasis::DestinationOwner, Some(i)) => format!(
                "{who} are on no interface's subnet: their packets are assumed to arrive on {i}, the interface that owns the firewall address"
            ),
            _ => format!(
                "the interface the packets of {who} arrive on is not known: interface-bound rules match them only maybe"
            ),
        };
        if !blind.contains(&s) {
            blind.push(s);
        }
    }
    groups
        .into_iter()
        .map(|(mut v, ranges)| {
            v.sources = describe_ranges(&ranges);
            v
        })
        .collect()
}

fn describe_ranges(ranges: &[IpRange]) -> String {
    // Merge adjacent pieces first.
    let mut merged: Vec<IpRange> = Vec::new();
    for r in ranges {
        if let Some(last) = merged.last_mut()
            && let Some(m) = IpRange::new(last.first(), r.last())
        {
            let adjacent = next_addr(last.last()) == Some(r.first());
            if adjacent {
                *last = m;
                continue;
            }
        }
        merged.push(*r);
    }
    const SHOWN: usize = 8;
    let mut parts: Vec<String> = merged.iter().take(SHOWN).map(ToString::to_string).collect();
    if merged.len() > SHOWN {
        parts.push(format!("and {} more ranges", merged.len() - SHOWN));
    }
    parts.join(", ")
}

fn next_addr(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(a) => u32::from(a).checked_add(1).map(|n| IpAddr::V4(n.into())),
        IpAddr::V6(a) => u128::from(a).checked_add(1).map(|n| IpAddr::V6(n.into())),
    }
}

fn refusal_for(v: &FlowVerdict, changed: &BTreeSet<&str>) -> Refusal {
    let who = if v.name == "api" {
        format!("this server's path to the API ({})", v.flow)
    } else {
        format!(
            "the protected flow {} (sources {}; {})",
            v.name, v.sources, v.flow
        )
    };
    let before_rule = v.before.rule.as_ref();
    // The rule that let the flow through before, when this change removes or changes it.
    let removed_pass =
        before_rule.filter(|r| changed.contains(r.id.as_str()) && v.before.reach == Reach::Reaches);
    let today = match (v.before.reach, before_rule) {
        (Reach::Reaches, Some(r)) => format!("today it is passed by {r}"),
        (Reach::Reaches, None) => "today it passes".to_owned(),
        _ => "today its verdict is uncertain".to_owned(),
    };
    let mut why = format!("the apply would cut off {who}: {}; {today}", v.after.why);
    // When the flow now falls through to OPNsense's catch-all default deny (or matches nothing),
    // the rule to blame is the pass rule the change took away.
    let falls_through = v.after.rule.as_ref().is_none_or(is_default_deny);
    let rule = match removed_pass {
        Some(before) if falls_through => {
            why.push_str(
                ", and this change removes or changes that rule, the only one that let it through",
            );
            Some(before.clone())
        }
        Some(before) => {
            if v.after.rule.as_ref().is_some_and(|a| a.id != before.id) {
                let _ = write!(why, " (this change also removes or changes {before})");
            }
            v.after.rule.clone()
        }
        None => v.after.rule.clone(),
    };
    Refusal {
        flow: if v.name == "api" {
            "api".to_owned()
        } else {
            format!("{} ({})", v.name, v.sources)
        },
        rule,
        why,
    }
}

fn is_default_deny(r: &RuleRef) -> bool {
    r.origin != RuleOrigin::Api
        && r.description
            .as_deref()
            .is_some_and(|d| d.starts_with("Default deny"))
}

fn summarise(verdicts: &[FlowVerdict], refusal: Option<&Refusal>) -> String {
    let count = |s: FlowStatus| verdicts.iter().filter(|v| v.status == s).count();
    let (kept, cut, unsure, already) = (
        count(FlowStatus::Kept),
        count(FlowStatus::CutOff),
        count(FlowStatus::Uncertain),
        count(FlowStatus::AlreadyCut),
    );
    let mut s = match refusal {
        Some(r) => format!("Refused: {}.", r.why),
        None if verdicts.is_empty() => {
            "Nothing to check: no API path and no protected flow were given.".to_owned()
        }
        None if unsure > 0 => format!(
            "Not refused, but {unsure} flow(s) may be cut off depending on what the analysis cannot see (see blind spots)."
        ),
        None => "Safe: every checked flow keeps its path.".to_owned(),
    };
    let _ = write!(
        s,
        " Checked {} flow(s): {kept} kept, {cut} cut off, {unsure} uncertain, {already} already cut off before the change.",
        verdicts.len()
    );
    s
}

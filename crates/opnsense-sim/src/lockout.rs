//! The management flow and which live filter rule locks it out.
//!
//! The simulated administrator reaches the API with one flow: IPv4 TCP, inbound on the
//! management interface ([`crate::SimConfig::management_interface`], `lan`), from the
//! management address to the management address, destination port 443 (the web GUI port of
//! the simulated `config.xml`, whatever port the simulator really listens on). A live rule
//! locks that flow out when it is enabled, `block` or `reject`, and matches the flow:
//!
//! - interface: empty (floating), or listing the management interface (with
//!   `interfacenot`: not listing it);
//! - direction `in` or `any`; `ipprotocol` `inet` or `inet46`; protocol `any`, `TCP` or
//!   `TCP/UDP`;
//! - source and destination (each inverted by `*_not`): `any`, `(self)`, `<mgmt>ip`,
//!   `<mgmt>` (the management network), a literal IPv4 address or CIDR containing the
//!   management address, or a host/network alias whose literal entries (or nested aliases)
//!   contain it;
//! - destination port empty, `any`, `443`, `https`, or a range `a:b` / `a-b` holding 443;
//!   the source port empty or `any`.
//!
//! Pass rules (and OPNsense's automatic anti-lockout rule) are ignored: any matching
//! block/reject rule locks the API out, as the simulator always did. The verdict comes
//! from the first matching rule in pf order (floating before interface rules, then by
//! sequence): `block` drops new connections, `reject` answers them with a TCP reset.
//! Connections established before the lockout keep working (pf keeps their state).

use std::net::Ipv4Addr;

use crate::LockoutAction;
use crate::state::{Collection, Config, Record, split_list};
use crate::validate;

/// The web GUI / API port of the simulated firewall (`system/webgui` has no `port`).
pub(crate) const API_PORT: u16 = 443;

/// The flow the lockout check evaluates rules against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MgmtFlow {
    /// Management interface key (`lan`).
    pub interface: String,
    /// Management address (host part of [`crate::SimConfig::management_address`]).
    pub address: Ipv4Addr,
    /// Prefix length of the management network.
    pub prefix: u8,
}

impl MgmtFlow {
    /// Parses `SimConfig::management_address` (`127.0.0.1/8`; a bare address means /32).
    pub fn new(interface: &str, address: &str) -> Result<MgmtFlow, String> {
        let (addr, prefix) = match address.split_once('/') {
            Some((a, p)) => (a, p.parse::<u8>().ok().filter(|p| *p <= 32)),
            None => (address, Some(32)),
        };
        let addr: Ipv4Addr = addr
            .trim()
            .parse()
            .map_err(|_| format!("management_address {address:?} is not an IPv4 address"))?;
        let prefix =
            prefix.ok_or_else(|| format!("management_address {address:?}: bad prefix length"))?;
        Ok(MgmtFlow {
            interface: interface.to_owned(),
            address: addr,
            prefix,
        })
    }

    /// The management network (address with the host bits cleared).
    pub fn network(&self) -> Ipv4Addr {
        let mask = if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix))
        };
        Ipv4Addr::from(u32::from(self.address) & mask)
    }

    /// Whether `net/bits` contains the management address.
    fn in_net(&self, net: Ipv4Addr, bits: u8) -> bool {
        validate::v4_in_subnet(self.address, net, bits)
    }
}

/// Whether one network item (`any`, `(self)`, `lan`, `lanip`, a literal, an alias name)
/// covers the management address.
fn item_matches(flow: &MgmtFlow, live: &Config, item: &str, depth: u8) -> bool {
    let mgmt = flow.interface.as_str();
    if item == "any" || item == "(self)" {
        return true;
    }
    if item == mgmt {
        // The management network: the interface's networks, the management one included.
        return true;
    }
    if item.strip_suffix("ip") == Some(mgmt) {
        return true;
    }
    if let Some((net, bits)) = validate::parse_cidr(item) {
        return match net {
            std::net::IpAddr::V4(v4) => flow.in_net(v4, bits),
            std::net::IpAddr::V6(_) => false,
        };
    }
    if let Some(ip) = validate::parse_ip(item) {
        return ip == std::net::IpAddr::V4(flow.address);
    }
    if depth == 0 {
        return false;
    }
    live.alias_by_name(item).is_some_and(|alias| {
        alias.get("enabled") != "0"
            && matches!(alias.get("type"), "host" | "network")
            && alias
                .get("content")
                .split(['\n', ','])
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .any(|e| item_matches(flow, live, e, depth - 1))
    })
}

/// A source/destination side: any of its items matches, inverted by `not`.
fn side_matches(flow: &MgmtFlow, live: &Config, value: &str, not: bool) -> bool {
    let items = split_list(value);
    let hit = items.is_empty() || items.iter().any(|i| item_matches(flow, live, i, 4));
    hit != not
}

/// Whether a destination port value holds the API port.
fn port_matches(value: &str) -> bool {
    let value = value.trim();
    if matches!(value, "" | "any" | "https") || value == API_PORT.to_string() {
        return true;
    }
    let Some((lo, hi)) = value.split_once([':', '-']) else {
        return false;
    };
    match (lo.trim().parse::<u16>(), hi.trim().parse::<u16>()) {
        (Ok(lo), Ok(hi)) => (lo..=hi).contains(&API_PORT),
        _ => false,
    }
}

/// Whether `rule` (a live filter rule) blocks or rejects the management flow.
fn rule_matches(flow: &MgmtFlow, live: &Config, r: &Record) -> bool {
    let interfaces = r.list("interface");
    let listed = interfaces.contains(&flow.interface.as_str());
    let on_interface = if r.get("interfacenot") == "1" {
        !listed
    } else {
        interfaces.is_empty() || listed
    };
    r.get("enabled") == "1"
        && matches!(r.get("action"), "block" | "reject")
        && on_interface
        && matches!(r.get("direction"), "in" | "any")
        && matches!(r.get("ipprotocol"), "inet" | "inet46" | "")
        && matches!(r.get("protocol"), "any" | "TCP" | "TCP/UDP")
        && side_matches(flow, live, r.get("source_net"), r.get("source_not") == "1")
        && matches!(r.get("source_port").trim(), "" | "any")
        && side_matches(
            flow,
            live,
            r.get("destination_net"),
            r.get("destination_not") == "1",
        )
        && port_matches(r.get("destination_port"))
}

/// pf evaluation order of MVC rules: `prio_group` (floating 200000 before interface
/// rules 400000), then `sequence`.
fn pf_order(r: &Record) -> (u64, u64) {
    (
        r.get("prio_group").parse().unwrap_or(400_000),
        r.get("sequence").parse().unwrap_or(u64::MAX),
    )
}

/// The verdict the live rules give the management flow: `None` when no enabled
/// block/reject rule matches it, else the action of the first matching rule in pf order.
pub(crate) fn verdict(live: &Config, flow: &MgmtFlow) -> Option<LockoutAction> {
    let mut matching: Vec<&Record> = live[Collection::FilterRules]
        .iter()
        .filter(|r| rule_matches(flow, live, r))
        .collect();
    matching.sort_by_key(|r| pf_order(r));
    matching.first().map(|r| {
        if r.get("action") == "reject" {
            LockoutAction::Reject
        } else {
            LockoutAction::Block
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(fields: &[(&str, &str)]) -> Record {
        let mut r = Record::new("r");
        for (k, v) in [
            ("enabled", "1"),
            ("action", "block"),
            ("interface", "lan"),
            ("direction", "in"),
            ("ipprotocol", "inet"),
            ("protocol", "TCP"),
            ("source_net", "any"),
            ("destination_net", "(self)"),
            ("destination_port", "443"),
            ("sequence", "100"),
            ("prio_group", "400000"),
        ] {
            r.set(k, v);
        }
        for (k, v) in fields {
            r.set(k, *v);
        }
        r
    }

    fn verdict_of(rules: Vec<Record>) -> Option<LockoutAction> {
        let mut cfg = Config::default();
        let mut alias = Record::new("a");
        alias.set("name", "fw_hosts");
        alias.set("type", "host");
        alias.set("enabled", "1");
        alias.set("content", "10.9.9.9\n127.0.0.0/8");
        cfg[Collection::Aliases].push(alias);
        cfg[Collection::FilterRules] = rules;
        verdict(&cfg, &MgmtFlow::new("lan", "127.0.0.1/8").unwrap())
    }

    #[test]
    fn management_address_parsing() {
        let f = MgmtFlow::new("lan", "127.0.0.1/8").unwrap();
        assert_eq!((f.address, f.prefix), (Ipv4Addr::LOCALHOST, 8));
        assert_eq!(f.network(), Ipv4Addr::new(127, 0, 0, 0));
        assert_eq!(MgmtFlow::new("lan", "10.0.0.1").unwrap().prefix, 32);
        assert!(MgmtFlow::new("lan", "::1/128").is_err());
        assert!(MgmtFlow::new("lan", "127.0.0.1/33").is_err());
    }

    #[test]
    fn block_and_reject_rules_give_their_verdict() {
        assert_eq!(verdict_of(vec![rule(&[])]), Some(LockoutAction::Block));
        assert_eq!(
            verdict_of(vec![rule(&[("action", "reject")])]),
            Some(LockoutAction::Reject)
        );
        assert_eq!(verdict_of(vec![rule(&[("action", "pass")])]), None);
        assert_eq!(verdict_of(vec![rule(&[("enabled", "0")])]), None);
    }

    #[test]
    fn the_first_rule_in_pf_order_decides() {
        let late_block = rule(&[("sequence", "300")]);
        let early_reject = rule(&[("action", "reject"), ("sequence", "200")]);
        assert_eq!(
            verdict_of(vec![late_block.clone(), early_reject.clone()]),
            Some(LockoutAction::Reject)
        );
        let floating_block = rule(&[("interface", ""), ("prio_group", "200000")]);
        let mut early = early_reject;
        early.set("sequence", "1");
        assert_eq!(
            verdict_of(vec![early, floating_block]),
            Some(LockoutAction::Block),
            "floating rules come first"
        );
    }

    #[test]
    fn flow_fields_decide_the_match() {
        let hits: &[&[(&str, &str)]] = &[
            &[("interface", "")],
            &[("interface", "wan,lan")],
            &[("interface", "wan"), ("interfacenot", "1")],
            &[("direction", "any")],
            &[("ipprotocol", "inet46")],
            &[("protocol", "any")],
            &[("protocol", "TCP/UDP")],
            &[("destination_net", "any")],
            &[("destination_net", "lanip")],
            &[("destination_net", "lan")],
            &[("destination_net", "127.0.0.1")],
            &[("destination_net", "127.0.0.0/8")],
            &[("destination_net", "fw_hosts")],
            &[("destination_net", "10.0.0.0/8"), ("destination_not", "1")],
            &[("destination_port", "")],
            &[("destination_port", "https")],
            &[("destination_port", "400:500")],
            &[("source_net", "lan")],
            &[("source_net", "127.0.0.0/8")],
            &[("source_net", "10.1.1.1"), ("source_not", "1")],
        ];
        for fields in hits {
            assert!(verdict_of(vec![rule(fields)]).is_some(), "{fields:?}");
        }
        let misses: &[&[(&str, &str)]] = &[
            &[("interface", "wan")],
            &[("interface", "lan"), ("interfacenot", "1")],
            &[("direction", "out")],
            &[("ipprotocol", "inet6")],
            &[("protocol", "UDP")],
            &[("destination_net", "wanip")],
            &[("destination_net", "10.0.0.0/8")],
            &[("destination_net", "(self)"), ("destination_not", "1")],
            &[("destination_port", "80")],
            &[("destination_port", "8000:9000")],
            &[("source_net", "10.1.1.1")],
            &[("source_net", "any"), ("source_not", "1")],
            &[("source_port", "1234")],
        ];
        for fields in misses {
            assert!(verdict_of(vec![rule(fields)]).is_none(), "{fields:?}");
        }
    }
}

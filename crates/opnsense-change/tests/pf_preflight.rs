//! The lockout pre-flight: refusals, warnings, port forwards, protected flows, `OPNSENSE_PROTECT`
//! parsing.

#![recursion_limit = "256"]

mod common;

use common::{anti_lockout, assert_mentions, decode, default_deny, ip, lan_wan_dmz, mvc, overlay};

use opnsense_api::models::firewall::{AliasType, DNatRow, FilterRule, RuleOrigin};
use opnsense_change::pf::{Aliases, ArrivalBasis, IpNet, L4, NatAction, Network};
use opnsense_change::preflight::{
    ApiPath, FlowStatus, PreflightInput, Protect, ProtectSource, Reach, RuleChange, preflight,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Fixtures (rows shaped like OPNsense 26.x search answers)
// ---------------------------------------------------------------------------------------------

/// A d_nat search row for a user port forward (26.1 shape).
fn port_forward(uuid: &str, sequence: u64, fields: Value) -> Value {
    let mut row = overlay(
        json!({
            "uuid": uuid, "sequence": sequence.to_string(), "disabled": "0", "nordr": "0",
            "interface": "wan", "%interface": "WAN", "ipprotocol": "inet", "%ipprotocol": "IPv4",
            "protocol": "tcp", "%protocol": "TCP", "source.network": "any", "source.port": "",
            "source.not": "0", "destination.network": "wanip", "destination.port": "443",
            "destination.not": "0", "target": "192.168.1.50", "local-port": "443", "poolopts": "",
            "log": "0", "category": "", "categories": "", "descr": "", "tag": "", "tagged": "",
            "nosync": "0", "natreflection": "", "pass": "", "category_colors": []
        }),
        fields,
    );
    let obj = row.as_object_mut().unwrap();
    obj.insert("sort_order".into(), json!(format!("400000.0{sequence:06}")));
    obj.insert("prio_group".into(), json!("400000"));
    row
}

/// OPNsense's anti-lockout `no rdr` row as the 26.1 d_nat search shows it
/// (DNatController.php:86-109).
fn lockout_nat(idx: u32, port: u16) -> Value {
    json!({
        "uuid": format!("lockout_{idx}"), "ipprotocol": "", "protocol": "tcp", "%protocol": "TCP",
        "disabled": "0", "nordr": "1", "interface": "lan", "%interface": "LAN",
        "destination.network": "lanip", "destination.port": port.to_string(),
        "descr": "Anti-Lockout Rule", "is_automatic": true,
        "sort_order": format!("100000.0{idx:06}"), "prio_group": "100000"
    })
}

fn filter(rows: &[Value]) -> Vec<FilterRule> {
    decode(rows)
}

fn nat(rows: &[Value]) -> Vec<DNatRow> {
    decode(rows)
}

fn one(row: Value) -> FilterRule {
    serde_json::from_value(row).expect("filter row decodes")
}

fn network() -> Network {
    let mut n = lan_wan_dmz(&["192.168.1.1/24"]);
    for i in ["lan", "opt1"] {
        let mut x = n.interface(i).unwrap().clone();
        x.has_gateway = Some(false);
        n.add_interface(x);
    }
    let mut w = n.interface("wan").unwrap().clone();
    w.has_gateway = Some(true);
    n.add_interface(w);
    n.set_complete(true);
    n
}

fn api() -> ApiPath {
    ApiPath {
        local: ip("192.168.1.10"),
        firewall: ip("192.168.1.1"),
        port: 443,
        interface: None,
    }
}

fn input(rows: &[Value]) -> PreflightInput {
    PreflightInput {
        network: network(),
        aliases: Aliases::new(),
        api: Some(api()),
        filter_rules: filter(rows),
        ..PreflightInput::default()
    }
}

const U1: &str = "11111111-1111-4111-8111-111111111111";
const U2: &str = "22222222-2222-4222-8222-222222222222";
const U3: &str = "33333333-3333-4333-8333-333333333333";
const F1: &str = "44444444-4444-4444-8444-444444444444";

fn allow_lan() -> Value {
    mvc(U1, 100, json!({"description": "allow LAN"}))
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

#[test]
fn a_new_block_rule_on_the_api_path_is_refused_naming_it() {
    // Anti-lockout off: the automatic rows are there, the anti-lockout row is not.
    let block = mvc(
        U2,
        1,
        json!({"action": "block", "protocol": "TCP", "destination_net": "(self)", "destination_port": "443", "description": "lock down GUI"}),
    );
    let mut i = input(&[default_deny(), allow_lan(), block]);
    i.filter_changes = vec![RuleChange {
        id: U2.into(),
        before: None,
    }];
    let p = preflight(&i);
    let r = p.refusal.as_ref().expect("refused");
    assert_eq!(r.flow, "api");
    assert_eq!(r.rule.as_ref().map(|r| r.id.as_str()), Some(U2));
    assert!(
        r.why.contains("blocked by") && r.why.contains("lock down GUI"),
        "{}",
        r.why
    );
    assert!(
        r.why.contains("allow LAN"),
        "names what passes it today: {}",
        r.why
    );
    let v = &p.verdicts[0];
    assert_eq!(v.status, FlowStatus::CutOff);
    assert_eq!(v.arrival, ArrivalBasis::SourceSubnet);
    assert_eq!(v.flow.interface.as_deref(), Some("lan"));
    assert_eq!(v.before.reach, Reach::Reaches);
    assert!(p.summary.starts_with("Refused"), "{}", p.summary);
}

#[test]
fn the_anti_lockout_rule_keeps_the_path_despite_a_floating_block() {
    let block = mvc(
        U2,
        1,
        json!({"interface": "", "action": "block", "description": "floating block all"}),
    );
    let mut i = input(&[default_deny(), anti_lockout(443, 12), allow_lan(), block]);
    i.filter_changes = vec![RuleChange {
        id: U2.into(),
        before: None,
    }];
    let p = preflight(&i);
    assert!(p.refusal.is_none(), "{:?}", p.refusal);
    let v = &p.verdicts[0];
    assert_eq!(v.status, FlowStatus::Kept);
    assert_eq!(
        v.after.rule.as_ref().and_then(|r| r.description.as_deref()),
        Some("anti-lockout rule")
    );
    // But a protected SSH flow is not covered by it (port 22 is not a lockout port here).
    let mut i = i.clone();
    i.protect = Protect::parse_list("192.168.1.0/24 -> 22/tcp").unwrap();
    let p = preflight(&i);
    let r = p.refusal.as_ref().expect("refused for the ssh flow");
    assert!(r.flow.starts_with("192.168.1.0/24 -> 22/tcp"), "{}", r.flow);
    assert_eq!(r.rule.as_ref().map(|r| r.id.as_str()), Some(U2));
}

#[test]
fn removing_the_only_pass_rule_is_refused_naming_the_removed_rule() {
    let other = mvc(
        U3,
        200,
        json!({"interface": "wan", "description": "allow WAN web"}),
    );
    let mut i = input(&[default_deny(), other]);
    i.filter_changes = vec![RuleChange {
        id: U1.into(),
        before: Some(one(allow_lan())),
    }];
    let p = preflight(&i);
    let r = p.refusal.as_ref().expect("refused");
    assert_eq!(r.rule.as_ref().map(|r| r.id.as_str()), Some(U1), "{r:?}");
    assert!(r.why.contains("only one that let it through"), "{}", r.why);
    let v = &p.verdicts[0];
    assert_eq!(v.before.rule.as_ref().map(|r| r.id.as_str()), Some(U1));
    assert_eq!(
        v.after.rule.as_ref().map(|r| r.origin),
        Some(RuleOrigin::Automatic)
    );
}

#[test]
fn changing_a_rule_is_evaluated_against_its_before_state() {
    // The change narrows "allow LAN" to the DMZ: before it passed, after it does not.
    let narrowed = mvc(
        U1,
        100,
        json!({"description": "allow LAN", "destination_net": "opt1"}),
    );
    let mut i = input(&[default_deny(), narrowed]);
    i.filter_changes = vec![RuleChange {
        id: U1.into(),
        before: Some(one(allow_lan())),
    }];
    assert!(preflight(&i).refused());
    // Without the change record the same rows are simply "already cut" (contradiction noted).
    let mut i2 = i.clone();
    i2.filter_changes.clear();
    let p = preflight(&i2);
    assert!(!p.refused());
    assert_eq!(p.verdicts[0].status, FlowStatus::Uncertain);
    assert_mentions(&p.blind_spots, "misses something");
}

#[test]
fn a_port_forward_of_443_on_the_arrival_interface_is_refused() {
    let fwd = port_forward(
        F1,
        10,
        json!({"interface": "lan", "destination.network": "lanip", "descr": "GUI to web server"}),
    );
    let mut i = input(&[default_deny(), allow_lan()]);
    i.nat_rules = nat(std::slice::from_ref(&fwd));
    i.nat_changes = vec![RuleChange {
        id: F1.into(),
        before: None,
    }];
    let p = preflight(&i);
    let r = p.refusal.as_ref().expect("refused");
    assert_eq!(r.rule.as_ref().map(|r| r.id.as_str()), Some(F1));
    assert!(
        r.why.contains("192.168.1.50") && r.why.contains("redirects"),
        "{}",
        r.why
    );
    assert!(p.verdicts[0].after.nat.redirected());
    // OPNsense's anti-lockout `no rdr` (priority 300) precedes user port forwards (600).
    let mut i = i.clone();
    i.filter_rules = filter(&[default_deny(), anti_lockout(443, 12), allow_lan()]);
    i.nat_rules = nat(&[fwd, lockout_nat(0, 443)]);
    let p = preflight(&i);
    assert!(p.refusal.is_none(), "{:?}", p.refusal);
    assert_eq!(p.verdicts[0].after.nat.action, NatAction::Excluded);
    assert_eq!(
        p.verdicts[0].after.nat.rule.as_ref().map(|r| r.id.as_str()),
        Some("lockout_0")
    );
}

#[test]
fn the_2675_anti_lockout_nat_rows_work_the_same() {
    // 26.7.5 spells them automatic_pf_N with is_automatic and a ref (the corpus capture).
    let row = json!({
        "uuid": "automatic_pf_2", "ipprotocol": "", "protocol": "tcp", "disabled": "0", "nordr": "1",
        "interface": "lan", "source.network": "", "source.port": "", "source.not": "0",
        "destination.network": "lanip", "destination.port": "443", "destination.not": "0",
        "target": "", "local-port": "",
        "descr": "Anti-lockout; prevent redirects for protected ports to this interface address",
        "is_automatic": true, "ref": "system_advanced_firewall.php#noantilockout",
        "sort_order": "100000.0000002", "prio_group": "100000"
    });
    let fwd = port_forward(
        F1,
        10,
        json!({"interface": "lan", "destination.network": "(self)"}),
    );
    let mut i = input(&[default_deny(), allow_lan()]);
    i.nat_rules = nat(&[fwd, row]);
    let p = preflight(&i);
    assert!(p.refusal.is_none(), "{:?}", p.refusal);
    assert_eq!(p.verdicts[0].after.nat.action, NatAction::Excluded);
}

#[test]
fn a_port_forward_on_another_interface_does_not_touch_the_path() {
    let fwd = port_forward(F1, 10, json!({"natreflection": "disable"}));
    let mut i = input(&[default_deny(), allow_lan()]);
    i.nat_rules = nat(&[fwd]);
    let p = preflight(&i);
    assert!(!p.refused());
    assert_eq!(p.verdicts[0].after.nat.action, NatAction::Untouched);
    assert_eq!(p.verdicts[0].status, FlowStatus::Kept);
}

#[test]
fn nat_reflection_brings_a_wan_forward_to_the_lan() {
    // Reaching the firewall's WAN address from the LAN: a WAN forward with reflection on is also
    // installed on interfaces without a gateway (ForwardRule.php:149-162).
    let fwd = port_forward(F1, 10, json!({"natreflection": "purenat"}));
    let mut i = input(&[
        default_deny(),
        mvc(U1, 100, json!({"destination_net": "(self)"})),
    ]);
    i.api = Some(ApiPath {
        firewall: ip("203.0.113.2"),
        ..api()
    });
    i.nat_rules = nat(std::slice::from_ref(&fwd));
    i.nat_changes = vec![RuleChange {
        id: F1.into(),
        before: None,
    }];
    assert!(preflight(&i).refused());
    // With the system default, which the caller does not know: a warning.
    let mut i = i.clone();
    i.nat_rules = nat(&[port_forward(F1, 10, json!({}))]);
    let p = preflight(&i);
    assert!(!p.refused());
    assert_eq!(p.verdicts[0].status, FlowStatus::Uncertain);
    assert_mentions(&p.blind_spots, "reflection");
    i.nat_reflection_default = Some(false);
    assert_eq!(preflight(&i).verdicts[0].status, FlowStatus::Kept);
}

// ---------------------------------------------------------------------------------------------
// Warnings
// ---------------------------------------------------------------------------------------------

#[test]
fn uncertainty_after_the_apply_warns_and_lists_the_blind_spots() {
    let changed = mvc(
        U1,
        100,
        json!({"description": "allow LAN", "source_net": "trusted_hosts"}),
    );
    let mut i = input(&[default_deny(), changed]);
    i.aliases = Aliases::new().with(
        "trusted_hosts",
        AliasType::Urltable,
        &["https://example.invalid/hosts"],
    );
    i.filter_changes = vec![RuleChange {
        id: U1.into(),
        before: Some(one(allow_lan())),
    }];
    let p = preflight(&i);
    assert!(p.refusal.is_none());
    let v = &p.verdicts[0];
    assert_eq!(v.status, FlowStatus::Uncertain);
    assert_eq!(v.after.reach, Reach::Unsure);
    assert!(p.uncertain().count() == 1);
    assert_mentions(&p.blind_spots, "trusted_hosts");
    assert!(p.summary.starts_with("Not refused"), "{}", p.summary);
}

#[test]
fn anti_lockout_state_unknown_without_automatic_rows_is_evaluated_both_ways() {
    // Only MVC rows (no automatic rows): a new block on LAN above the pass.
    let block = mvc(U2, 1, json!({"action": "block"}));
    let mut i = input(&[block, allow_lan()]);
    i.filter_changes = vec![RuleChange {
        id: U2.into(),
        before: None,
    }];
    i.antilockout = None;
    let p = preflight(&i);
    assert!(!p.refused(), "{:?}", p.refusal);
    assert_eq!(p.verdicts[0].status, FlowStatus::Uncertain);
    assert_mentions(&p.blind_spots, "anti-lockout");
    // Known on: OPNsense's anti-lockout pass (priority 5) is assumed on the primary interface.
    i.antilockout = Some(true);
    let p = preflight(&i);
    assert_eq!(p.verdicts[0].status, FlowStatus::Kept);
    assert!(
        p.verdicts[0]
            .after
            .rule
            .as_ref()
            .is_some_and(|r| r.id.starts_with("assumed-anti-lockout"))
    );
    // Known off: refused.
    i.antilockout = Some(false);
    assert!(preflight(&i).refused());
}

// ---------------------------------------------------------------------------------------------
// Protected flows
// ---------------------------------------------------------------------------------------------

#[test]
fn a_protected_subnet_is_split_exactly_and_only_the_cut_part_is_named() {
    let block = mvc(
        U2,
        1,
        json!({"action": "block", "protocol": "TCP", "source_net": "192.168.1.128/25", "destination_port": "22"}),
    );
    let mut i = input(&[default_deny(), anti_lockout(443, 12), allow_lan(), block]);
    i.protect = Protect::parse_list("192.168.1.0/24 -> 22/tcp").unwrap();
    i.filter_changes = vec![RuleChange {
        id: U2.into(),
        before: None,
    }];
    let p = preflight(&i);
    let r = p.refusal.as_ref().expect("refused");
    assert_eq!(r.flow, "192.168.1.0/24 -> 22/tcp (192.168.1.128/25)");
    let entry: Vec<_> = p.verdicts.iter().filter(|v| v.name != "api").collect();
    let kept: Vec<_> = entry
        .iter()
        .filter(|v| v.status == FlowStatus::Kept)
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].sources, "192.168.1.0/25");
    assert_eq!(
        kept[0].flow.dst,
        ip("192.168.1.1"),
        "the address of the interface facing the source"
    );
    assert_eq!(
        p.verdicts[0].status,
        FlowStatus::Kept,
        "the API path itself is fine"
    );
}

#[test]
fn protecting_any_source_finds_the_cut_range() {
    // A WAN rule lets a partner network reach the GUI on the WAN address; the change removes it.
    let partner = mvc(
        U3,
        10,
        json!({"interface": "wan", "protocol": "TCP", "source_net": "198.51.100.0/24", "destination_net": "wanip", "destination_port": "443"}),
    );
    let mut i = input(&[default_deny(), allow_lan()]);
    i.protect = Protect::parse_list("any -> 203.0.113.2:443/tcp").unwrap();
    i.filter_changes = vec![RuleChange {
        id: U3.into(),
        before: Some(one(partner)),
    }];
    let p = preflight(&i);
    let r = p.refusal.as_ref().expect("refused");
    assert_eq!(r.flow, "any -> 203.0.113.2:443/tcp (198.51.100.0/24)");
    assert_eq!(r.rule.as_ref().map(|r| r.id.as_str()), Some(U3));
    // Sources outside every subnet are assumed to arrive where the firewall address lives.
    assert_mentions(&p.blind_spots, "assumed to arrive on wan");
    // The rest of the Internet was cut before and still is: reported, not refused.
    assert!(
        p.verdicts
            .iter()
            .any(|v| v.status == FlowStatus::AlreadyCut)
    );
}

#[test]
fn arrival_interface_derivation() {
    let n = network();
    assert_eq!(
        n.arrival_interface(ip("192.168.1.10"), ip("192.168.1.1")),
        (Some("lan".into()), ArrivalBasis::SourceSubnet)
    );
    assert_eq!(
        n.arrival_interface(ip("10.99.0.5"), ip("192.168.1.1")),
        (Some("lan".into()), ArrivalBasis::DestinationOwner)
    );
    assert_eq!(
        Network::new().arrival_interface(ip("10.99.0.5"), ip("192.168.1.1")),
        (None, ArrivalBasis::Unknown)
    );
    // The API path of a routed server: assumption noted.
    let mut i = input(&[default_deny(), allow_lan()]);
    i.api = Some(ApiPath {
        local: ip("10.99.0.5"),
        ..api()
    });
    let p = preflight(&i);
    assert_eq!(p.verdicts[0].arrival, ArrivalBasis::DestinationOwner);
    assert_mentions(&p.blind_spots, "assumed to arrive on lan");
    assert_eq!(p.verdicts[0].status, FlowStatus::Kept);
    assert!(p.summary.starts_with("Safe"), "{}", p.summary);
}

// ---------------------------------------------------------------------------------------------
// OPNSENSE_PROTECT parsing
// ---------------------------------------------------------------------------------------------

#[test]
fn protect_entries_parse() {
    let p = Protect::parse("10.0.0.5 -> 443/tcp").unwrap();
    assert_eq!(
        p.source,
        ProtectSource::Net(IpNet::parse("10.0.0.5/32").unwrap())
    );
    assert_eq!((p.port, p.proto, p.destination), (443, L4::Tcp, None));
    let p = Protect::parse(" 10.0.0.0/24->22 ").unwrap();
    assert_eq!(p.raw, "10.0.0.0/24->22");
    assert_eq!((p.port, p.proto), (22, L4::Tcp));
    let p = Protect::parse("any -> 443/tcp").unwrap();
    assert_eq!(p.source, ProtectSource::Any);
    let p = Protect::parse("any -> [fd00::1]:https/TCP").unwrap();
    assert_eq!((p.destination, p.port), (Some(ip("fd00::1")), 443));
    let p = Protect::parse("10.0.0.0/8 -> 10.0.0.1:ssh/udp").unwrap();
    assert_eq!(
        (p.destination, p.port, p.proto),
        (Some(ip("10.0.0.1")), 22, L4::Udp)
    );
    let list = Protect::parse_list("10.0.0.5 -> 443/tcp, 10.0.0.0/24 -> 22,,").unwrap();
    assert_eq!(list.len(), 2);
    assert!(Protect::parse_list("  ").unwrap().is_empty());
    let parsed: Protect = "any -> 80".parse().unwrap();
    assert_eq!(parsed.to_string(), "any -> 80");
}

#[test]
fn protect_errors_name_the_entry_and_the_syntax() {
    for (entry, needle) in [
        ("10.0.0.5 443/tcp", "no \"->\""),
        ("10.0.0.5 -> 443 -> 22", "more than one"),
        (" -> 443", "source is missing"),
        ("lan -> 443", "not any, an IP address or a CIDR"),
        ("10.0.0.0/33 -> 443", "not any, an IP address or a CIDR"),
        ("10.0.0.5 -> ", "port is missing"),
        ("10.0.0.5 -> 0", "not a number from 1 to 65535"),
        ("10.0.0.5 -> 70000", "not a number from 1 to 65535"),
        ("10.0.0.5 -> gopher", "known service name"),
        ("10.0.0.5 -> 443/icmp", "not tcp or udp"),
        ("any -> fd00::1:443", "[address]:port"),
        ("any -> [fd00::1]443", "[address]:port"),
        ("any -> 10.0.0.x:443", "not an IP address"),
        ("fd00::/64 -> 10.0.0.1:443", "different address families"),
    ] {
        let e = Protect::parse(entry).expect_err(entry);
        let msg = e.to_string();
        assert!(msg.contains(needle), "{entry}: {msg}");
        assert!(
            msg.contains(&format!("{:?}", entry.trim())),
            "names the entry: {msg}"
        );
        assert!(
            msg.contains("expected <source> -> "),
            "states the syntax: {msg}"
        );
    }
    let e = Protect::parse_list("10.0.0.5 -> 443, nonsense").unwrap_err();
    assert_eq!(e.entry, "nonsense");
}

#[test]
fn a_policy_routing_pass_rule_on_the_path_is_a_warning() {
    // Policy routing catches traffic for the firewall itself too (route-to the gateway).
    let pbr = mvc(
        U2,
        1,
        json!({"gateway": "WAN2_DHCP", "description": "LAN via WAN2"}),
    );
    let mut i = input(&[default_deny(), pbr, allow_lan()]);
    i.filter_changes = vec![RuleChange {
        id: U2.into(),
        before: None,
    }];
    let p = preflight(&i);
    assert!(!p.refused());
    let v = &p.verdicts[0];
    assert_eq!(v.status, FlowStatus::Uncertain);
    assert!(
        v.after
            .filter
            .reroute
            .as_deref()
            .is_some_and(|r| r.contains("WAN2_DHCP"))
    );
    assert_mentions(&p.blind_spots, "route-to");
}

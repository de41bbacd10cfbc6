//! The firewall audit, check by check: for each one a small rule set (OPNsense 26.x search rows)
//! that triggers it and a near miss that must not; the filters (`checks`, `min_severity`), the
//! summary, and the rule that every finding names records of the input.

#![recursion_limit = "256"]
#![allow(clippy::many_single_char_names)]

mod common;

use common::{assert_mentions, decode, lan_wan_dmz, mvc_over, overlay};
use std::collections::BTreeSet;

use opnsense_api::models::firewall::{Alias, DNatRow, FilterRule};
use opnsense_change::audit::{
    Audit, AuditInput, Check, Finding, RecordKind, Settings, Severity, audit,
};
use opnsense_change::pf::{InterfaceInfo, Network};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Fixtures (rows shaped like the search answers, see pf_rules.rs and the corpus)
// ---------------------------------------------------------------------------------------------

/// An MVC filter row with OPNsense 26.1's defaults and its `sort_order`/`prio_group`
/// (FilterRuleField.php: 200000 floating, 400000 one interface).
fn mvc(uuid: &str, sequence: u64, fields: Value) -> Value {
    mvc_over(
        json!({
            "uuid": uuid, "enabled": "1", "statetype": "keep", "sequence": sequence.to_string(),
            "action": "pass", "quick": "1", "interfacenot": "0", "interface": "lan",
            "direction": "in", "ipprotocol": "inet", "protocol": "any", "icmptype": "",
            "icmp6type": "", "source_net": "any", "source_not": "0", "source_port": "",
            "destination_net": "any", "destination_not": "0", "destination_port": "", "gateway": "",
            "log": "0", "tagged": "", "tcpflags1": "", "tcpflags2": "", "tcpflags_any": "0",
            "sched": "", "tos": "", "description": "a rule"
        }),
        sequence,
        fields,
    )
}

/// OPNsense's default deny (26.7 capture).
fn default_deny() -> Value {
    json!({
        "log": true, "ipprotocol": "inet46", "quick": false, "enabled": "1", "action": "block",
        "description": "Default deny / state violation rule",
        "uuid": "02f4bab031b57d1e30553ce08e0ec131", "direction": "in",
        "sort_order": "000001.1000001", "legacy": true, "is_automatic": true
    })
}

/// OPNsense's anti-lockout pass on the LAN (filter.lib.inc:585-602).
fn anti_lockout(port: u16, seq: u32) -> Value {
    json!({
        "direction": "in", "interface": "LAN", "statetype": "keep", "protocol": "tcp",
        "destination_net": "(self)", "destination_port": port.to_string(),
        "description": "anti-lockout rule", "ref": "system_advanced_firewall.php#noantilockout",
        "log": true, "enabled": "1", "action": "pass",
        "uuid": format!("5f0c1e2d3b4a59687766554433221{seq:03}"), "ipprotocol": "",
        "sort_order": format!("000005.1{seq:06}"), "legacy": true, "is_automatic": true
    })
}

/// A port forward as `firewall/d_nat/search_rule` lists it.
fn forward(uuid: &str, sequence: u64, fields: Value) -> Value {
    overlay(
        json!({
            "uuid": uuid, "sequence": sequence.to_string(), "disabled": "0", "nordr": "0",
            "interface": "wan", "ipprotocol": "inet", "protocol": "tcp",
            "source.network": "any", "destination.network": "wanip", "destination.port": "8080",
            "target": "192.168.1.10", "local-port": "80", "descr": "web server", "pass": ""
        }),
        fields,
    )
}

/// The anti-lockout `no rdr` row of the d_nat search (DNatController.php:86-109).
fn lockout_nat(idx: u32, port: u16) -> Value {
    json!({
        "uuid": format!("lockout_{idx}"), "protocol": "tcp", "nordr": "1", "interface": "lan",
        "destination.network": "lanip", "destination.port": port.to_string(),
        "descr": "Anti-Lockout Rule", "is_automatic": true,
        "sort_order": format!("100000.0{idx:06}")
    })
}

fn alias(uuid: &str, name: &str, kind: &str, content: &[&str]) -> Value {
    json!({
        "uuid": uuid, "enabled": "1", "name": name, "type": kind,
        "content": content.join("\n"), "description": format!("{name} alias")
    })
}

fn network() -> Network {
    let mut n = lan_wan_dmz(&["192.168.1.1/24"]);
    let mut wan = n.interface("wan").unwrap().clone();
    wan.has_gateway = Some(true);
    n = n.with(wan).with(InterfaceInfo {
        has_gateway: Some(true),
        ..InterfaceInfo::new("opt2", &["198.18.5.2/30"])
            .device("igb3")
            .description("WAN2")
    });
    n.set_complete(true);
    n
}

/// The settings of a typical install: https GUI on 443 without the port 80 redirect, SSH off,
/// anti-lockout on.
fn settings() -> Settings {
    Settings {
        webgui_https: Some(true),
        webgui_port: None,
        http_redirect: Some(false),
        ssh_enabled: Some(false),
        ssh_port: None,
        antilockout: Some(true),
        nat_reflection: Some(false),
    }
}

fn input(filter: &[Value], nat: &[Value], aliases: &[Value]) -> AuditInput {
    AuditInput {
        filter_rules: decode::<FilterRule>(filter),
        nat_rules: decode::<DNatRow>(nat),
        aliases: decode::<Alias>(aliases),
        network: network(),
        settings: Some(settings()),
        alias_references: Some(BTreeSet::new()),
        config_interfaces: Some(
            ["lan", "wan", "opt1", "opt2"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        ),
        ..AuditInput::default()
    }
}

/// Runs the audit and checks that every record a finding names is a row of the input.
fn run(input: &AuditInput) -> Audit {
    let a = audit(input);
    assert_records_exist(input, &a);
    a
}

fn assert_records_exist(input: &AuditInput, a: &Audit) {
    let filter: BTreeSet<&str> = input
        .filter_rules
        .iter()
        .filter_map(|r| r.uuid.as_deref())
        .collect();
    let nat: BTreeSet<&str> = input.nat_rules.iter().map(|r| r.uuid.as_str()).collect();
    let aliases: BTreeSet<&str> = input
        .aliases
        .iter()
        .filter_map(|r| r.uuid.as_deref())
        .collect();
    for f in &a.findings {
        for r in &f.records {
            let id = r
                .id()
                .unwrap_or_else(|| panic!("a record without id in {f:?}"));
            let known = match r.kind {
                RecordKind::FilterRule => filter.contains(id),
                RecordKind::PortForward => nat.contains(id),
                RecordKind::Alias => aliases.contains(id),
            };
            assert!(known, "{id} is not in the input ({f:?})");
        }
        assert!(!f.explanation.is_empty() && !f.fix.is_empty(), "{f:?}");
    }
}

fn of(a: &Audit, c: Check) -> Vec<&Finding> {
    a.findings.iter().filter(|f| f.check == c).collect()
}

fn ids(f: &Finding) -> Vec<&str> {
    f.records.iter().filter_map(|r| r.id()).collect()
}

#[allow(clippy::unnecessary_wraps)]
fn only(c: Check) -> Option<BTreeSet<Check>> {
    Some(BTreeSet::from([c]))
}

const U1: &str = "11111111-1111-4111-8111-111111111111";
const U2: &str = "22222222-2222-4222-8222-222222222222";
const U3: &str = "33333333-3333-4333-8333-333333333333";
const N1: &str = "aaaaaaaa-1111-4111-8111-111111111111";
const A1: &str = "bbbbbbbb-1111-4111-8111-111111111111";
const A2: &str = "bbbbbbbb-2222-4222-8222-222222222222";

// ---------------------------------------------------------------------------------------------
// Ids, filters, summary
// ---------------------------------------------------------------------------------------------

#[test]
fn check_and_severity_ids_round_trip() {
    for c in Check::ALL {
        assert_eq!(Check::parse(c.id()), Some(c));
        assert_eq!(serde_json::to_value(c).unwrap(), json!(c.id()));
    }
    for s in Severity::ALL {
        assert_eq!(Severity::parse(s.as_str()), Some(s));
    }
    assert!(Check::parse("nonsense").is_none());
    assert!(Severity::High > Severity::Medium && Severity::Low > Severity::Info);
}

#[test]
fn filters_and_summary() {
    let rows = [
        default_deny(),
        mvc(U1, 1, json!({"interface": "wan", "description": ""})),
        mvc(
            U2,
            2,
            json!({"action": "block", "source_net": "10.0.0.0/8"}),
        ),
    ];
    let mut i = input(&rows, &[], &[]);
    let all = run(&i);
    let count = |s: Severity| all.findings.iter().filter(|f| f.severity == s).count();
    assert_eq!(all.summary.high, count(Severity::High));
    assert_eq!(all.summary.low, count(Severity::Low));
    assert_eq!(all.summary.info, count(Severity::Info));
    assert_eq!(all.summary.total, all.findings.len());
    assert!(all.summary.high >= 1 && all.summary.info >= 1, "{all:#?}");
    // Most severe first.
    assert!(
        all.findings
            .windows(2)
            .all(|w| w[0].severity >= w[1].severity)
    );

    i.min_severity = Severity::Medium;
    let serious = run(&i);
    assert!(!serious.findings.is_empty());
    assert!(
        serious
            .findings
            .iter()
            .all(|f| f.severity >= Severity::Medium)
    );

    i.min_severity = Severity::Info;
    i.checks = only(Check::RuleWithoutDescription);
    let one = run(&i);
    assert_eq!(one.checks, vec![Check::RuleWithoutDescription]);
    assert!(
        one.findings
            .iter()
            .all(|f| f.check == Check::RuleWithoutDescription)
    );
    assert_eq!(one.findings.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 1. wan_pass_any
// ---------------------------------------------------------------------------------------------

#[test]
fn a_pass_any_rule_on_wan_is_high() {
    let rows = [default_deny(), mvc(U1, 1, json!({"interface": "wan"}))];
    let a = run(&input(&rows, &[], &[]));
    let f = of(&a, Check::WanPassAny);
    assert_eq!(f.len(), 1, "{a:#?}");
    assert_eq!(f[0].severity, Severity::High);
    assert_eq!(ids(f[0]), [U1]);
    assert!(f[0].fix.contains("firewall_rule_update") && f[0].fix.contains(U1));
}

#[test]
fn a_pass_any_rule_on_another_gateway_interface_or_floating_counts_too() {
    let gw = [default_deny(), mvc(U1, 1, json!({"interface": "opt2"}))];
    assert_eq!(of(&run(&input(&gw, &[], &[])), Check::WanPassAny).len(), 1);
    let floating = [default_deny(), mvc(U1, 1, json!({"interface": ""}))];
    assert_eq!(
        of(&run(&input(&floating, &[], &[])), Check::WanPassAny).len(),
        1
    );
}

#[test]
fn wan_pass_any_near_misses() {
    // To one host and port, on the LAN, outbound, from a few sources.
    let rows = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"interface": "wan", "protocol": "TCP", "destination_net": "192.168.1.10", "destination_port": "443"}),
        ),
        mvc(U2, 2, json!({"interface": "lan"})),
        mvc(U3, 3, json!({"interface": "wan", "direction": "out"})),
    ];
    let a = run(&input(&rows, &[], &[]));
    assert!(of(&a, Check::WanPassAny).is_empty(), "{a:#?}");
    // Any destination from one network: reported, but medium.
    let some = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"interface": "wan", "source_net": "198.51.100.0/24"}),
        ),
    ];
    let f = run(&input(&some, &[], &[]));
    assert_eq!(of(&f, Check::WanPassAny)[0].severity, Severity::Medium);
}

#[test]
fn a_shadowed_pass_any_rule_on_wan_is_low() {
    let rows = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"interface": "wan", "action": "block", "log": "1"}),
        ),
        mvc(U2, 2, json!({"interface": "wan"})),
    ];
    let a = run(&input(&rows, &[], &[]));
    let f = of(&a, Check::WanPassAny);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Low);
    assert_eq!(ids(f[0]), [U2, U1]);
}

// ---------------------------------------------------------------------------------------------
// 2. wan_management_access
// ---------------------------------------------------------------------------------------------

#[test]
fn the_gui_open_to_the_internet_is_high() {
    let rows = [
        default_deny(),
        anti_lockout(443, 1),
        mvc(
            U1,
            1,
            json!({"interface": "wan", "protocol": "TCP", "destination_net": "(self)", "destination_port": "443"}),
        ),
    ];
    let a = run(&input(&rows, &[], &[]));
    let f = of(&a, Check::WanManagementAccess);
    assert_eq!(f.len(), 1, "{a:#?}");
    assert_eq!(f[0].severity, Severity::High);
    assert_eq!(ids(f[0]), [U1]);
    assert!(f[0].explanation.contains("443"), "{}", f[0].explanation);
}

#[test]
fn management_near_misses() {
    // SSH is off, so port 22 is not management; 443 only to a LAN host; GUI from one network.
    let rows = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"interface": "wan", "protocol": "TCP", "destination_net": "(self)", "destination_port": "22"}),
        ),
        mvc(
            U2,
            2,
            json!({"interface": "wan", "protocol": "TCP", "destination_net": "192.168.1.10", "destination_port": "443"}),
        ),
    ];
    let a = run(&input(&rows, &[], &[]));
    assert!(of(&a, Check::WanManagementAccess).is_empty(), "{a:#?}");
    assert!(
        a.management_ports
            .iter()
            .all(|p| p.port != 22 && p.source == "settings")
    );
    // With SSH on, the same rule is found.
    let mut i = input(&rows, &[], &[]);
    i.settings.as_mut().unwrap().ssh_enabled = Some(true);
    assert_eq!(of(&run(&i), Check::WanManagementAccess).len(), 1);
    // From one admin network only: low.
    let admin = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"interface": "wan", "protocol": "TCP", "source_net": "198.51.100.0/24", "destination_net": "(self)", "destination_port": "443"}),
        ),
    ];
    let f = run(&input(&admin, &[], &[]));
    let f = of(&f, Check::WanManagementAccess);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Low);
    assert!(
        f[0].explanation.contains("198.51.100.0/24"),
        "{}",
        f[0].explanation
    );
}

#[test]
fn a_port_forward_in_front_of_the_gui_port_keeps_it_unreachable() {
    let rows = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"interface": "wan", "protocol": "TCP", "destination_net": "(self)", "destination_port": "443"}),
        ),
    ];
    let nat = [forward(
        N1,
        1,
        json!({"destination.port": "443", "local-port": "443", "pass": "pass"}),
    )];
    let a = run(&input(&rows, &nat, &[]));
    assert!(of(&a, Check::WanManagementAccess).is_empty(), "{a:#?}");
}

#[test]
fn management_ports_come_from_the_anti_lockout_rows_without_settings() {
    let rows = [
        default_deny(),
        anti_lockout(8443, 1),
        anti_lockout(22222, 2),
    ];
    let nat = [lockout_nat(0, 8443), lockout_nat(1, 22222)];
    let mut i = input(&rows, &nat, &[]);
    i.settings = None;
    let a = run(&i);
    let ports: Vec<u16> = a.management_ports.iter().map(|p| p.port).collect();
    assert_eq!(ports, [8443, 22222]);
    assert_eq!(a.antilockout, "on");
    // Without settings nor anti-lockout rows: 443 and 22, assumed, said so.
    let mut bare = input(&[default_deny()], &[], &[]);
    bare.settings = None;
    let b = run(&bare);
    assert!(b.management_ports.iter().all(|p| p.source == "assumed"));
    assert!(
        b.blind_spots.iter().any(|s| s.contains("assumed")),
        "{b:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. nat_without_rule
// ---------------------------------------------------------------------------------------------

#[test]
fn a_manual_port_forward_without_a_pass_rule_is_found() {
    let nat = [forward(N1, 1, json!({}))];
    let a = run(&input(&[default_deny()], &nat, &[]));
    let f = of(&a, Check::NatWithoutRule);
    assert_eq!(f.len(), 1, "{a:#?}");
    assert_eq!(f[0].severity, Severity::Medium);
    assert_eq!(ids(f[0]), [N1]);
    assert!(f[0].fix.contains("firewall_nat_update") && f[0].fix.contains("\"rule\""));
}

#[test]
fn port_forward_near_misses() {
    // A user rule to the translated target and port.
    let rows = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"interface": "wan", "protocol": "TCP", "destination_net": "192.168.1.10", "destination_port": "80"}),
        ),
    ];
    let nat = [forward(N1, 1, json!({}))];
    assert!(of(&run(&input(&rows, &nat, &[])), Check::NatWithoutRule).is_empty());
    // A rule to the public port (before translation) does not pass it.
    let wrong = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"interface": "wan", "protocol": "TCP", "destination_net": "192.168.1.10", "destination_port": "8080"}),
        ),
    ];
    assert_eq!(
        of(&run(&input(&wrong, &nat, &[])), Check::NatWithoutRule).len(),
        1
    );
    // rdr pass needs no filter rule.
    let pass = [forward(N1, 1, json!({"pass": "pass"}))];
    assert!(
        of(
            &run(&input(&[default_deny()], &pass, &[])),
            Check::NatWithoutRule
        )
        .is_empty()
    );
    // Target and port through aliases.
    let aliased = [forward(
        N1,
        1,
        json!({"target": "web_hosts", "local-port": "web_ports"}),
    )];
    let aliases = [
        alias(A1, "web_hosts", "host", &["192.168.1.10"]),
        alias(A2, "web_ports", "port", &["80", "443"]),
    ];
    let rows = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"interface": "wan", "protocol": "TCP", "destination_net": "web_hosts", "destination_port": "web_ports"}),
        ),
    ];
    assert!(
        of(
            &run(&input(&rows, &aliased, &aliases)),
            Check::NatWithoutRule
        )
        .is_empty()
    );
}

#[test]
fn a_registered_rule_passes_unless_an_earlier_block_wins() {
    // The automatic rule OPNsense registers for pass = rule (filter.lib.inc:644-672), as the
    // filter search lists it (interface by description).
    let associated = json!({
        "uuid": "9d1c0a3b2e4f5a6b7c8d9e0f1a2b3c4d", "legacy": true, "is_automatic": true,
        "enabled": "1", "action": "pass", "interface": "WAN", "direction": "in",
        "ipprotocol": "inet", "protocol": "tcp", "source_net": "any",
        "destination_net": "192.168.1.10", "destination_port": "80", "description": "web server",
        "sort_order": "500000.1000001"
    });
    let nat = [forward(N1, 1, json!({"pass": "rule"}))];
    let ok = [default_deny(), associated.clone()];
    assert!(of(&run(&input(&ok, &nat, &[])), Check::NatWithoutRule).is_empty());
    let blocked = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"interface": "wan", "action": "block", "source_net": "any", "log": "1"}),
        ),
        associated,
    ];
    let a = run(&input(&blocked, &nat, &[]));
    let f = of(&a, Check::NatWithoutRule);
    assert_eq!(f.len(), 1, "{a:#?}");
    assert_eq!(ids(f[0]), [N1, U1]);
}

// ---------------------------------------------------------------------------------------------
// 4. shadowed_rule
// ---------------------------------------------------------------------------------------------

fn shadowed(rows: &[Value], aliases: &[Value]) -> Vec<Vec<String>> {
    let mut i = input(rows, &[], aliases);
    i.checks = only(Check::ShadowedRule);
    let a = run(&i);
    of(&a, Check::ShadowedRule)
        .iter()
        .map(|f| ids(f).into_iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn a_block_after_a_broader_pass_is_shadowed() {
    let rows = [
        mvc(U1, 1, json!({})),
        mvc(
            U2,
            2,
            json!({"action": "block", "source_net": "192.168.1.0/24", "protocol": "TCP", "destination_port": "22"}),
        ),
    ];
    let mut i = input(&rows, &[], &[]);
    i.checks = only(Check::ShadowedRule);
    let a = run(&i);
    let f = of(&a, Check::ShadowedRule);
    assert_eq!(f.len(), 1, "{a:#?}");
    assert_eq!(ids(f[0]), [U2, U1]);
    assert_eq!(f[0].severity, Severity::Medium);
    assert!(f[0].fix.contains("sequence"), "{}", f[0].fix);
}

#[test]
fn shadowing_near_misses() {
    let block = json!({"action": "block", "source_net": "192.168.1.0/24", "protocol": "TCP", "destination_port": "22"});
    // The narrower rule first.
    assert!(shadowed(&[mvc(U2, 1, block.clone()), mvc(U1, 2, json!({}))], &[]).is_empty());
    // Another interface.
    let mut other = block.clone();
    other["interface"] = json!("opt1");
    assert!(shadowed(&[mvc(U1, 1, json!({})), mvc(U2, 2, other)], &[]).is_empty());
    // The broader rule is not quick (the later one overrides it).
    assert!(
        shadowed(
            &[mvc(U1, 1, json!({"quick": "0"})), mvc(U2, 2, block.clone())],
            &[]
        )
        .is_empty()
    );
    // IPv4 only does not cover IPv4+IPv6 from any source...
    let both = json!({"action": "block", "ipprotocol": "inet46", "protocol": "TCP", "destination_port": "22"});
    assert!(shadowed(&[mvc(U1, 1, json!({})), mvc(U2, 2, both)], &[]).is_empty());
    // ...but an IPv4+IPv6 rule whose source is an IPv4 network has no IPv6 expansion
    // (Rule::reader drops it), so it is covered.
    let mut v4_source = block;
    v4_source["ipprotocol"] = json!("inet46");
    assert_eq!(
        shadowed(&[mvc(U1, 1, json!({})), mvc(U2, 2, v4_source)], &[]),
        [[U2, U1]]
    );
}

#[test]
fn floating_rules_come_before_interface_rules() {
    let rows = [
        mvc(
            U2,
            1,
            json!({"interface": "lan", "destination_net": "10.10.0.0/24"}),
        ),
        mvc(U1, 900, json!({"interface": ""})),
    ];
    assert_eq!(shadowed(&rows, &[]), [[U2, U1]]);
}

#[test]
fn aliases_exclusions_and_negation_are_exact() {
    let aliases = [
        alias(A1, "private10", "network", &["10.0.0.0/8"]),
        alias(
            A2,
            "private10_but",
            "network",
            &["10.0.0.0/8", "!10.1.0.0/16"],
        ),
    ];
    let narrow = json!({"destination_net": "10.1.2.0/24", "description": "narrow"});
    assert_eq!(
        shadowed(
            &[
                mvc(U1, 1, json!({"destination_net": "private10"})),
                mvc(U2, 2, narrow.clone())
            ],
            &aliases
        ),
        [[U2, U1]]
    );
    assert!(
        shadowed(
            &[
                mvc(U1, 1, json!({"destination_net": "private10_but"})),
                mvc(U2, 2, narrow.clone())
            ],
            &aliases
        )
        .is_empty()
    );
    // `not 192.168.1.0/24` covers 8.8.8.8 but not 192.168.1.5.
    let not_lan = json!({"destination_net": "192.168.1.0/24", "destination_not": "1"});
    assert_eq!(
        shadowed(
            &[
                mvc(U1, 1, not_lan.clone()),
                mvc(U2, 2, json!({"destination_net": "8.8.8.8"}))
            ],
            &[]
        ),
        [[U2, U1]]
    );
    assert!(
        shadowed(
            &[
                mvc(U1, 1, not_lan),
                mvc(U2, 2, json!({"destination_net": "192.168.1.5"}))
            ],
            &[]
        )
        .is_empty()
    );
}

#[test]
fn ports_and_protocols_are_exact() {
    let range = json!({"protocol": "TCP", "destination_port": "1000-2000"});
    assert_eq!(
        shadowed(
            &[
                mvc(U1, 1, range.clone()),
                mvc(
                    U2,
                    2,
                    json!({"protocol": "TCP", "destination_port": "1500"})
                )
            ],
            &[]
        ),
        [[U2, U1]]
    );
    // TCP/UDP is not within TCP.
    assert!(
        shadowed(
            &[
                mvc(U1, 1, range.clone()),
                mvc(
                    U2,
                    2,
                    json!({"protocol": "TCP/UDP", "destination_port": "1500"})
                )
            ],
            &[]
        )
        .is_empty()
    );
    // A port outside the range.
    assert!(
        shadowed(
            &[
                mvc(U1, 1, range),
                mvc(
                    U2,
                    2,
                    json!({"protocol": "TCP", "destination_port": "2001"})
                )
            ],
            &[]
        )
        .is_empty()
    );
}

#[test]
fn a_non_quick_rule_overridden_by_a_later_one_is_shadowed() {
    let rows = [
        mvc(U1, 1, json!({"quick": "0", "destination_net": "10.10.0.5"})),
        mvc(U2, 2, json!({"action": "block", "log": "1"})),
    ];
    assert_eq!(shadowed(&rows, &[]), [[U1, U2]]);
}

#[test]
fn run_time_content_is_a_blind_spot_not_a_finding() {
    let aliases = [json!({
        "uuid": A1, "enabled": "1", "name": "feed", "type": "urltable",
        "content": "https://example.com/list.txt", "description": "a feed"
    })];
    // The earlier rule's destination is only known at run time: undecided.
    let rows = [
        mvc(U1, 1, json!({"destination_net": "feed"})),
        mvc(U2, 2, json!({"destination_net": "10.1.2.3"})),
    ];
    let mut i = input(&rows, &[], &aliases);
    i.checks = only(Check::ShadowedRule);
    let a = run(&i);
    assert!(of(&a, Check::ShadowedRule).is_empty(), "{a:#?}");
    assert!(
        a.blind_spots
            .iter()
            .any(|b| b.starts_with("shadowing") && b.contains("feed")),
        "{:#?}",
        a.blind_spots
    );
    // A later rule with run-time content inside an earlier `any` is still decided.
    let rows = [
        mvc(U1, 1, json!({})),
        mvc(U2, 2, json!({"destination_net": "feed"})),
    ];
    assert_eq!(shadowed(&rows, &aliases), [[U2, U1]]);
    // A schedule on the earlier rule: it is not always loaded.
    let rows = [
        mvc(U1, 1, json!({"sched": "office_hours"})),
        mvc(U2, 2, json!({"destination_net": "10.1.2.3"})),
    ];
    let mut i = input(&rows, &[], &[]);
    i.checks = only(Check::ShadowedRule);
    let a = run(&i);
    assert!(of(&a, Check::ShadowedRule).is_empty());
    assert_mentions(&a.blind_spots, "office_hours");
}

#[test]
fn the_anti_lockout_rule_shadows_a_lan_block_of_the_gui() {
    let rows = [
        default_deny(),
        anti_lockout(443, 1),
        mvc(
            U1,
            1,
            json!({"action": "block", "protocol": "TCP", "destination_net": "(self)", "destination_port": "443", "log": "1"}),
        ),
    ];
    let got = shadowed(&rows, &[]);
    assert_eq!(
        got,
        [[U1.to_owned(), "5f0c1e2d3b4a59687766554433221001".to_owned()]]
    );
}

// ---------------------------------------------------------------------------------------------
// 5. antilockout_disabled
// ---------------------------------------------------------------------------------------------

#[test]
fn anti_lockout_off_without_a_lan_rule_to_the_gui_is_high() {
    let mut i = input(&[default_deny()], &[], &[]);
    i.settings.as_mut().unwrap().antilockout = Some(false);
    let a = run(&i);
    let f = of(&a, Check::AntilockoutDisabled);
    assert_eq!(f.len(), 1, "{a:#?}");
    assert_eq!(f[0].severity, Severity::High);
    assert!(f[0].fix.contains("firewall_rule_add"));
    // Without settings, the missing anti-lockout row among the automatic rows says it is off.
    let mut rows_only = input(&[default_deny()], &[], &[]);
    rows_only.settings = None;
    let b = run(&rows_only);
    assert_eq!(b.antilockout, "off");
    assert_eq!(of(&b, Check::AntilockoutDisabled).len(), 1);
}

#[test]
fn anti_lockout_near_misses() {
    // On.
    let on = run(&input(&[default_deny(), anti_lockout(443, 1)], &[], &[]));
    assert!(of(&on, Check::AntilockoutDisabled).is_empty());
    // Off, but one admin host may reach the GUI.
    let rows = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"protocol": "TCP", "source_net": "192.168.1.10", "destination_net": "(self)", "destination_port": "443"}),
        ),
    ];
    let mut i = input(&rows, &[], &[]);
    i.settings.as_mut().unwrap().antilockout = Some(false);
    assert!(of(&run(&i), Check::AntilockoutDisabled).is_empty());
}

// ---------------------------------------------------------------------------------------------
// 6. unused_alias
// ---------------------------------------------------------------------------------------------

#[test]
fn an_alias_nothing_refers_to_is_unused() {
    let aliases = [
        alias(A1, "old_servers", "host", &["10.0.0.5"]),
        json!({"uuid": "bogons", "enabled": "1", "name": "bogons", "type": "external"}),
        json!({"uuid": "__lan_network", "enabled": "1", "name": "__lan_network", "type": "internal"}),
    ];
    let a = run(&input(&[default_deny()], &[], &aliases));
    let f = of(&a, Check::UnusedAlias);
    assert_eq!(f.len(), 1);
    assert_eq!(ids(f[0]), [A1], "built-in aliases are not reported");
    assert!(f[0].fix.contains("firewall_alias_delete") && f[0].fix.contains(A1));
}

#[test]
fn aliases_used_anywhere_are_not_unused() {
    let aliases = [
        alias(A1, "inner", "host", &["10.0.0.5"]),
        alias(A2, "outer", "host", &["inner", "10.0.0.6"]),
        alias(
            "cccccccc-1111-4111-8111-111111111111",
            "web",
            "host",
            &["192.168.1.10"],
        ),
        alias(
            "dddddddd-1111-4111-8111-111111111111",
            "in_outbound_nat",
            "host",
            &["10.0.0.9"],
        ),
    ];
    let rows = [default_deny(), mvc(U1, 1, json!({"source_net": "outer"}))];
    let nat = [forward(N1, 1, json!({"target": "web", "pass": "pass"}))];
    let mut i = input(&rows, &nat, &aliases);
    i.alias_references = Some(BTreeSet::from(["in_outbound_nat".to_owned()]));
    let a = run(&i);
    assert!(of(&a, Check::UnusedAlias).is_empty(), "{a:#?}");
    // Without config.xml, the blind spot says what was not seen.
    i.alias_references = None;
    let b = run(&i);
    assert_eq!(of(&b, Check::UnusedAlias).len(), 1);
    assert_mentions(&b.blind_spots, "outbound");
}

// ---------------------------------------------------------------------------------------------
// 7. block_without_log, 8. rule_without_description
// ---------------------------------------------------------------------------------------------

#[test]
fn block_rules_without_logging_are_found() {
    let rows = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"action": "block", "destination_net": "10.0.0.1"}),
        ),
        mvc(
            U2,
            2,
            json!({"action": "reject", "destination_net": "10.0.0.2", "log": "1"}),
        ),
        mvc(
            U3,
            3,
            json!({"action": "pass", "destination_net": "10.0.0.3"}),
        ),
    ];
    let a = run(&input(&rows, &[], &[]));
    let f = of(&a, Check::BlockWithoutLog);
    assert_eq!(f.len(), 1);
    assert_eq!(
        ids(f[0]),
        [U1],
        "logging, pass and automatic rules are not reported"
    );
    assert!(f[0].fix.contains("{log: true}") && f[0].fix.contains(U1));
}

#[test]
fn rules_and_forwards_without_description_are_found() {
    let rows = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"description": "", "destination_net": "10.0.0.1"}),
        ),
        mvc(
            U2,
            2,
            json!({"description": "documented", "destination_net": "10.0.0.2"}),
        ),
    ];
    let nat = [
        forward(N1, 1, json!({"descr": "", "pass": "pass"})),
        lockout_nat(0, 443),
    ];
    let a = run(&input(&rows, &nat, &[]));
    let f = of(&a, Check::RuleWithoutDescription);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Info);
    assert_eq!(ids(f[0]), [U1, N1]);
    assert!(f[0].fix.contains("firewall_nat_update"));
}

// ---------------------------------------------------------------------------------------------
// 9. rule_not_loaded (added)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_rule_with_an_unknown_alias_is_not_loaded() {
    let rows = [
        default_deny(),
        mvc(U1, 1, json!({"destination_net": "ghost"})),
        mvc(U2, 2, json!({"destination_net": "known"})),
    ];
    let aliases = [alias(A1, "known", "host", &["10.0.0.1"])];
    let nat = [forward(N1, 1, json!({"target": "", "pass": "pass"}))];
    let a = run(&input(&rows, &nat, &aliases));
    let f = of(&a, Check::RuleNotLoaded);
    let got: Vec<Vec<&str>> = f.iter().map(|f| ids(f)).collect();
    assert_eq!(got, [vec![U1], vec![N1]], "{a:#?}");
    assert!(f[0].explanation.contains("ghost"));
    // Without config.xml's interface list, "ghost" may be an interface whose device is absent:
    // a blind spot, not a finding.
    let mut i = input(&rows, &nat, &aliases);
    i.config_interfaces = None;
    let b = run(&i);
    let got: Vec<Vec<&str>> = of(&b, Check::RuleNotLoaded)
        .iter()
        .map(|f| ids(f))
        .collect();
    assert_eq!(got, [vec![N1]], "{b:#?}");
    assert_mentions(&b.blind_spots, "ghost");
    // A configured interface (its device absent from the overview) is no finding either.
    let mut j = input(&rows, &nat, &aliases);
    j.config_interfaces
        .as_mut()
        .unwrap()
        .insert("ghost".to_owned());
    assert_eq!(of(&run(&j), Check::RuleNotLoaded).len(), 1);
}

#[test]
fn a_rule_on_an_interface_opnsense_does_not_apply_is_not_loaded() {
    // 26.7.2 gives a rule none of whose interfaces is configured priority 600000.
    let mut gone = mvc(U1, 1, json!({"interface": "opt9"}));
    gone["sort_order"] = json!("600000.0000001");
    gone["prio_group"] = json!("600000");
    let a = run(&input(&[default_deny(), gone], &[], &[]));
    let f = of(&a, Check::RuleNotLoaded);
    assert_eq!(f.len(), 1, "{a:#?}");
    assert!(f[0].explanation.contains("600000"));
    // On 26.1 (priority 400000) an interface missing from the overview is not proof.
    let b = run(&input(
        &[default_deny(), mvc(U1, 1, json!({"interface": "opt9"}))],
        &[],
        &[],
    ));
    assert!(of(&b, Check::RuleNotLoaded).is_empty(), "{b:#?}");
}

#[test]
fn a_rule_on_a_disabled_interface_is_not_loaded() {
    let rows = [default_deny(), mvc(U1, 1, json!({"interface": "opt3"}))];
    let mut i = input(&rows, &[], &[]);
    i.network.add_interface(InterfaceInfo {
        enabled: false,
        ..InterfaceInfo::new("opt3", &["10.30.0.1/24"])
    });
    let a = run(&i);
    assert_eq!(of(&a, Check::RuleNotLoaded).len(), 1, "{a:#?}");
    // Enabled: loaded.
    let mut j = input(&rows, &[], &[]);
    j.network
        .add_interface(InterfaceInfo::new("opt3", &["10.30.0.1/24"]));
    assert!(of(&run(&j), Check::RuleNotLoaded).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Real captures (crates/opnsense-api/tests/corpus, see its README for provenance)
// ---------------------------------------------------------------------------------------------

fn corpus(dir: &str, fixtures: &[&str]) -> Vec<(String, Vec<Value>)> {
    common::corpus_files(dir, fixtures)
        .into_iter()
        .map(|p| {
            let rows = common::corpus_rows(&p);
            (p.file_name().unwrap().to_string_lossy().into_owned(), rows)
        })
        .collect()
}

/// A network for the interface names a capture uses: each gets a /24, `wan` and `opt13` (the
/// 26.1.9 firewall's uplink) a gateway.
fn network_for(rules: &[FilterRule], nat: &[DNatRow]) -> Network {
    let names: BTreeSet<String> = rules
        .iter()
        .filter_map(|r| r.interface.as_ref())
        .chain(nat.iter().filter_map(|r| r.fields.interface.as_ref()))
        .flat_map(|i| i.0.iter().cloned())
        .chain(["lan".to_owned(), "wan".to_owned()])
        .collect();
    let mut n = Network::new();
    for (i, name) in names.iter().enumerate() {
        let addr = if name == "wan" {
            "203.0.113.2/24".to_owned()
        } else {
            format!("10.{}.0.1/24", i + 1)
        };
        n.add_interface(InterfaceInfo {
            has_gateway: Some(name == "wan" || name == "opt13"),
            ..InterfaceInfo::new(name.clone(), &[addr.as_str()])
        });
    }
    n.set_complete(true);
    n
}

#[test]
fn every_real_capture_audits_without_panic_and_names_only_its_records() {
    let filters = corpus(
        "firewall__filter__search_rule",
        &["search_rule.json", "search_rule_with_legacy.json"],
    );
    let nats = corpus("firewall__d_nat__search_rule", &["d_nat_search.json"]);
    let aliases = corpus("firewall__alias__search_item", &["alias_search_item.json"]);
    let mut audits = 0;
    let mut findings = 0;
    let mut slowest = (std::time::Duration::ZERO, String::new());
    for (fname, f) in &filters {
        for (nname, n) in &nats {
            for (aname, a) in &aliases {
                let rules: Vec<FilterRule> = decode(f);
                let nat: Vec<DNatRow> = decode(n);
                for (net, settings) in [
                    (Network::new(), None),
                    (network_for(&rules, &nat), Some(settings())),
                ] {
                    let input = AuditInput {
                        filter_rules: rules.clone(),
                        nat_rules: nat.clone(),
                        aliases: decode(a),
                        network: net,
                        settings,
                        ..AuditInput::default()
                    };
                    let t = std::time::Instant::now();
                    let result = run(&input);
                    let took = t.elapsed();
                    if took > slowest.0 {
                        slowest = (took, format!("{fname} + {nname} + {aname}"));
                    }
                    assert_eq!(result.summary.total, result.findings.len());
                    findings += result.findings.len();
                    audits += 1;
                }
            }
        }
    }
    assert!(audits >= 60, "{audits}");
    assert!(findings > 0);
    println!(
        "{audits} audits of real captures, {findings} findings; slowest {:?} ({})",
        slowest.0, slowest.1
    );
}

/// How long a large rule set takes (printed, not asserted): 600 rules over four interfaces,
/// 120 aliases, 60 port forwards.
#[test]
fn a_large_rule_set_is_audited_and_its_time_printed() {
    let mut aliases = Vec::new();
    for i in 0..120u32 {
        let content: Vec<String> = (0..8).map(|j| format!("10.{}.{j}.0/24", i % 200)).collect();
        let refs: Vec<&str> = content.iter().map(String::as_str).collect();
        aliases.push(alias(
            &format!("bbbbbbbb-0000-4000-8000-{i:012}"),
            &format!("net_{i}"),
            "network",
            &refs,
        ));
    }
    let ifs = ["lan", "wan", "opt1", "opt2"];
    let mut rows = vec![default_deny(), anti_lockout(443, 1)];
    for i in 0..600u64 {
        let action = if i % 3 == 0 { "block" } else { "pass" };
        rows.push(mvc(
            &format!("11111111-0000-4000-8000-{i:012}"),
            i + 1,
            json!({
                "interface": ifs[usize::try_from(i % 4).unwrap()],
                "action": action,
                "protocol": if i % 2 == 0 { "TCP" } else { "UDP" },
                "source_net": if i % 5 == 0 { "any".to_owned() } else { format!("net_{}", i % 120) },
                "destination_net": format!("10.{}.{}.{}", i % 200, i % 7, i % 250),
                "destination_port": (1000 + i % 50).to_string(),
                "log": if i % 4 == 0 { "1" } else { "0" },
            }),
        ));
    }
    let nat: Vec<Value> = (0..60u64)
        .map(|i| {
            forward(
                &format!("aaaaaaaa-0000-4000-8000-{i:012}"),
                i + 1,
                json!({"destination.port": (8000 + i).to_string(), "target": format!("10.{}.0.10", i % 200), "local-port": (1000 + i % 50).to_string()}),
            )
        })
        .collect();
    let i = input(&rows, &nat, &aliases);
    let t = std::time::Instant::now();
    let a = run(&i);
    println!(
        "audit of {} rules, {} port forwards, {} aliases: {:?}, {} findings {:?}, {} blind spots",
        i.filter_rules.len(),
        i.nat_rules.len(),
        i.aliases.len(),
        t.elapsed(),
        a.summary.total,
        a.summary,
        a.blind_spots.len()
    );
    assert_eq!(a.summary.total, a.findings.len());
}

#[test]
fn without_the_overview_wan_is_still_wan_and_groups_are_a_blind_spot() {
    let rows = [default_deny(), mvc(U1, 1, json!({"interface": "wan"}))];
    let mut i = input(&rows, &[], &[]);
    i.network = Network::new();
    let a = run(&i);
    assert_eq!(of(&a, Check::WanPassAny).len(), 1, "{a:#?}");
    assert_mentions(&a.blind_spots, "interfaces are not known");
    // A group rule (priority 300000): its members are not known.
    let mut group = mvc(U2, 2, json!({"interface": "internet"}));
    group["sort_order"] = json!("300000.0000002");
    group["prio_group"] = json!("300000");
    let b = run(&input(&[default_deny(), group], &[], &[]));
    assert!(of(&b, Check::WanPassAny).is_empty());
    assert!(
        b.blind_spots
            .iter()
            .any(|s| s.starts_with("wan_pass_any") && s.contains(U2)),
        "{:#?}",
        b.blind_spots
    );
}

#[test]
fn anti_lockout_off_with_the_gui_reached_from_a_management_network_is_low() {
    let rows = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"interface": "opt1", "protocol": "TCP", "source_net": "opt1", "destination_net": "(self)", "destination_port": "443"}),
        ),
    ];
    let mut i = input(&rows, &[], &[]);
    i.settings.as_mut().unwrap().antilockout = Some(false);
    let a = run(&i);
    let f = of(&a, Check::AntilockoutDisabled);
    assert_eq!(f.len(), 1, "{a:#?}");
    assert_eq!(f[0].severity, Severity::Low);
    assert!(f[0].explanation.contains("opt1"), "{}", f[0].explanation);
}

#[test]
fn a_lan_pass_to_the_gui_behind_the_anti_lockout_rule_is_info() {
    let rows = [
        default_deny(),
        anti_lockout(443, 1),
        mvc(
            U1,
            1,
            json!({"protocol": "TCP", "source_net": "lan", "destination_net": "(self)", "destination_port": "443"}),
        ),
    ];
    let mut i = input(&rows, &[], &[]);
    i.checks = only(Check::ShadowedRule);
    let a = run(&i);
    let f = of(&a, Check::ShadowedRule);
    assert_eq!(f.len(), 1, "{a:#?}");
    assert_eq!(f[0].severity, Severity::Info);
    assert!(f[0].fix.contains("anti-lockout"));
}

//! The pf evaluator, rule by rule, on small rule sets written as OPNsense 26.x search rows.

#![recursion_limit = "256"]

mod common;

use common::{anti_lockout, assert_mentions, decode, default_deny, ip, lan_wan_dmz, mvc};

use opnsense_api::models::firewall::{AliasType, FilterRule, RuleOrigin};
use opnsense_change::pf::{self, Aliases, Context, Evaluation, Flow, L4, Network, Verdict};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Fixtures: rows shaped like `firewall/filter/search_rule` answers (see the real captures in
// crates/opnsense-api/tests/corpus/firewall__filter__search_rule/).
// ---------------------------------------------------------------------------------------------

fn rules(rows: &[Value]) -> Vec<FilterRule> {
    decode(rows)
}

fn network() -> Network {
    let mut n = lan_wan_dmz(&["192.168.1.1/24", "fd00:1::1/64"]);
    n.set_complete(true);
    n
}

fn eval(net: &Network, aliases: &Aliases, rows: &[Value], flow: &Flow) -> Evaluation {
    pf::evaluate(&Context::new(net, aliases), &rules(rows), flow)
}

fn deciding(e: &Evaluation) -> Option<&str> {
    e.deciding.as_ref().map(|r| r.id.as_str())
}

const U1: &str = "11111111-1111-4111-8111-111111111111";
const U2: &str = "22222222-2222-4222-8222-222222222222";
const U3: &str = "33333333-3333-4333-8333-333333333333";

fn lan_https() -> Flow {
    Flow::tcp(ip("192.168.1.10"), ip("192.168.1.1"), 443).on("lan")
}

// ---------------------------------------------------------------------------------------------
// Order and pf semantics
// ---------------------------------------------------------------------------------------------

#[test]
fn floating_rules_are_evaluated_before_interface_rules_whatever_the_row_order() {
    let rows = [
        // Interface rule with a low sequence, listed first...
        mvc(U1, 1, json!({"description": "allow LAN"})),
        // ...and a floating block (no interface) with a high sequence.
        mvc(
            U2,
            900,
            json!({"interface": "", "action": "block", "description": "floating block"}),
        ),
    ];
    let e = eval(&network(), &Aliases::new(), &rows, &lan_https());
    assert_eq!(e.verdict, Verdict::Block);
    assert_eq!(deciding(&e), Some(U2));
    assert!(e.certain);
    // A multi-interface rule is floating too (priority 200000).
    let rows = [
        mvc(U1, 1, json!({"description": "allow LAN"})),
        mvc(U2, 900, json!({"interface": "lan,wan", "action": "block"})),
    ];
    assert_eq!(
        deciding(&eval(&network(), &Aliases::new(), &rows, &lan_https())),
        Some(U2)
    );
}

#[test]
fn quick_match_wins_at_once_and_without_quick_the_last_match_wins() {
    let floating = |uuid, seq, action: &str, quick: &str| {
        mvc(
            uuid,
            seq,
            json!({"interface": "", "action": action, "quick": quick}),
        )
    };
    let net = network();
    let a = Aliases::new();
    // Non-quick: last match wins (pass after block).
    let rows = [floating(U1, 1, "block", "0"), floating(U2, 2, "pass", "0")];
    let e = eval(&net, &a, &rows, &lan_https());
    assert_eq!((e.verdict, deciding(&e)), (Verdict::Pass, Some(U2)));
    assert_eq!(e.matched.len(), 2);
    // Non-quick block then a later non-quick pass on the interface: the interface rule is last.
    let rows = [
        floating(U1, 1, "pass", "0"),
        floating(U2, 2, "block", "0"),
        mvc(U3, 3, json!({"quick": "0"})),
    ];
    let e = eval(&net, &a, &rows, &lan_https());
    assert_eq!((e.verdict, deciding(&e)), (Verdict::Pass, Some(U3)));
    // A quick block stops evaluation: the later pass does not count.
    let rows = [floating(U1, 1, "block", "1"), floating(U2, 2, "pass", "0")];
    let e = eval(&net, &a, &rows, &lan_https());
    assert_eq!((e.verdict, deciding(&e)), (Verdict::Block, Some(U1)));
    assert_eq!(e.matched.len(), 1, "pf stops at the quick rule");
    // Reject is its own verdict.
    let rows = [floating(U1, 1, "reject", "1")];
    assert_eq!(eval(&net, &a, &rows, &lan_https()).verdict, Verdict::Reject);
}

#[test]
fn disabled_rules_are_skipped() {
    let rows = [
        mvc(U1, 1, json!({"action": "block", "enabled": "0"})),
        mvc(U2, 2, json!({})),
    ];
    let e = eval(&network(), &Aliases::new(), &rows, &lan_https());
    assert_eq!((e.verdict, deciding(&e)), (Verdict::Pass, Some(U2)));
}

#[test]
fn no_match_is_reported_with_what_opnsense_would_do() {
    let rows = [mvc(U1, 1, json!({"interface": "wan"}))];
    let e = eval(&network(), &Aliases::new(), &rows, &lan_https());
    assert_eq!(e.verdict, Verdict::NoMatch);
    assert!(e.deciding.is_none());
    assert!(e.certain);
    assert_mentions(&e.notes, "Default deny");
    // With OPNsense's automatic default deny row present it is a block by that row.
    let rows = [default_deny(), mvc(U1, 1, json!({"interface": "wan"}))];
    let e = eval(&network(), &Aliases::new(), &rows, &lan_https());
    assert_eq!(e.verdict, Verdict::Block);
    assert_eq!(deciding(&e), Some("02f4bab031b57d1e30553ce08e0ec131"));
    assert_eq!(e.deciding.as_ref().unwrap().origin, RuleOrigin::Automatic);
}

// ---------------------------------------------------------------------------------------------
// Interfaces and direction
// ---------------------------------------------------------------------------------------------

#[test]
fn interface_match_inversion_and_direction() {
    let net = network();
    let a = Aliases::new();
    let from_wan = Flow::tcp(ip("198.51.100.7"), ip("203.0.113.2"), 443).on("wan");
    let rows = [mvc(U1, 1, json!({"action": "block", "interfacenot": "1"}))];
    // Inverted: everything except LAN.
    assert_eq!(eval(&net, &a, &rows, &from_wan).verdict, Verdict::Block);
    assert_eq!(
        eval(&net, &a, &rows, &lan_https()).verdict,
        Verdict::NoMatch
    );
    // Direction out never matches an arriving packet; any does.
    let rows = [mvc(U1, 1, json!({"direction": "out"}))];
    assert_eq!(
        eval(&net, &a, &rows, &lan_https()).verdict,
        Verdict::NoMatch
    );
    let rows = [mvc(U1, 1, json!({"direction": "any"}))];
    assert_eq!(eval(&net, &a, &rows, &lan_https()).verdict, Verdict::Pass);
}

#[test]
fn unknown_arrival_interface_makes_interface_rules_uncertain_but_not_floating_ones() {
    let net = network();
    let a = Aliases::new();
    let mut flow = lan_https();
    flow.interface = None;
    let rows = [default_deny(), mvc(U1, 1, json!({}))];
    let e = eval(&net, &a, &rows, &flow);
    assert!(!e.certain);
    assert_eq!(
        e.verdict,
        Verdict::Block,
        "baseline: uncertain rules taken as not matching"
    );
    assert_eq!(e.verdicts().len(), 2);
    assert_mentions(&e.blind_spots, "arrives on is not known");
    let rows = [default_deny(), mvc(U1, 1, json!({"interface": ""}))];
    let e = eval(&net, &a, &rows, &flow);
    assert!(e.certain);
    assert_eq!(e.verdict, Verdict::Pass);
    assert!(e.blind_spots.is_empty());
}

#[test]
fn legacy_rows_name_interfaces_by_description() {
    let legacy = json!({
        "interface": "DMZ", "quick": true, "direction": "in", "ipprotocol": "inet",
        "protocol": "tcp", "action": "block", "description": "legacy DMZ block",
        "source_net": "any", "destination_net": "any", "destination_port": "",
        "uuid": "8d3f6a1c2e4b5a6978f0e1d2c3b4a596", "enabled": "1",
        "sort_order": "400000.1000002", "legacy": true, "is_automatic": false, "updated": "x"
    });
    let flow = Flow::tcp(ip("10.10.0.9"), ip("10.10.0.1"), 22).on("opt1");
    let e = eval(&network(), &Aliases::new(), &[legacy], &flow);
    assert_eq!(e.verdict, Verdict::Block);
    assert_eq!(e.deciding.as_ref().unwrap().origin, RuleOrigin::Legacy);
}

// ---------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------

#[test]
fn self_interface_address_and_interface_network() {
    let net = network();
    let a = Aliases::new();
    let to = |dst: &str| Flow::tcp(ip("192.168.1.10"), ip(dst), 443).on("lan");
    let rows = [mvc(U1, 1, json!({"destination_net": "(self)"}))];
    assert_eq!(
        eval(&net, &a, &rows, &to("203.0.113.2")).verdict,
        Verdict::Pass,
        "(self) holds every firewall address"
    );
    assert_eq!(
        eval(&net, &a, &rows, &to("192.168.1.50")).verdict,
        Verdict::NoMatch
    );
    let rows = [mvc(U1, 1, json!({"destination_net": "lanip"}))];
    assert_eq!(
        eval(&net, &a, &rows, &to("192.168.1.1")).verdict,
        Verdict::Pass
    );
    assert_eq!(
        eval(&net, &a, &rows, &to("203.0.113.2")).verdict,
        Verdict::NoMatch
    );
    let rows = [mvc(U1, 1, json!({"destination_net": "lan"}))];
    assert_eq!(
        eval(&net, &a, &rows, &to("192.168.1.77")).verdict,
        Verdict::Pass
    );
    assert_eq!(
        eval(&net, &a, &rows, &to("10.10.0.1")).verdict,
        Verdict::NoMatch
    );
    // A comma list and an address literal.
    let rows = [mvc(
        U1,
        1,
        json!({"destination_net": "10.10.0.0/24,192.168.1.1"}),
    )];
    assert_eq!(
        eval(&net, &a, &rows, &to("192.168.1.1")).verdict,
        Verdict::Pass
    );
    // An unknown name in an API rule: OPNsense cannot map it and disables the rule, which is
    // certain only when the aliases are known to be complete.
    let rows = [mvc(U1, 1, json!({"destination_net": "no_such_alias"}))];
    let e = eval(&net, &a, &rows, &to("192.168.1.1"));
    assert!(!e.certain);
    let mut complete = Aliases::new();
    complete.set_complete(true);
    let e = eval(&net, &complete, &rows, &to("192.168.1.1"));
    assert!(e.certain);
    assert_eq!(e.verdict, Verdict::NoMatch);
    assert_mentions(&e.notes, "disables the rule");
}

#[test]
fn inverted_source_and_destination() {
    let net = network();
    let a = Aliases::new();
    let rows = [mvc(
        U1,
        1,
        json!({"interface": "", "action": "block", "source_net": "lan", "source_not": "1"}),
    )];
    let from_wan = Flow::tcp(ip("198.51.100.7"), ip("203.0.113.2"), 443).on("wan");
    assert_eq!(eval(&net, &a, &rows, &from_wan).verdict, Verdict::Block);
    assert_eq!(
        eval(&net, &a, &rows, &lan_https()).verdict,
        Verdict::NoMatch
    );
    let rows = [mvc(
        U1,
        1,
        json!({"destination_net": "lanip", "destination_not": "1", "action": "block"}),
    )];
    assert_eq!(
        eval(&net, &a, &rows, &lan_https()).verdict,
        Verdict::NoMatch
    );
    let to_dmz = Flow::tcp(ip("192.168.1.10"), ip("10.10.0.5"), 443).on("lan");
    assert_eq!(eval(&net, &a, &rows, &to_dmz).verdict, Verdict::Block);
}

#[test]
fn host_and_nested_network_aliases_resolve_like_pf_tables() {
    let aliases = Aliases::new()
        .with(
            "admins",
            AliasType::Host,
            &["192.168.1.10", "192.168.1.20-192.168.1.29", "!192.168.1.25"],
        )
        .with(
            "net_lan",
            AliasType::Network,
            &["192.168.1.0/24", "!192.168.1.128/25"],
        )
        .with("net_dmz", AliasType::Network, &["10.10.0.0/24"])
        .with("internal", AliasType::Networkgroup, &["net_lan", "net_dmz"]);
    let net = network();
    let from = |src: &str| Flow::tcp(ip(src), ip("192.168.1.1"), 443).on("lan");
    let rows = [mvc(U1, 1, json!({"source_net": "admins"}))];
    assert_eq!(
        eval(&net, &aliases, &rows, &from("192.168.1.10")).verdict,
        Verdict::Pass
    );
    assert_eq!(
        eval(&net, &aliases, &rows, &from("192.168.1.22")).verdict,
        Verdict::Pass,
        "range"
    );
    assert_eq!(
        eval(&net, &aliases, &rows, &from("192.168.1.25")).verdict,
        Verdict::NoMatch,
        "! exclusion"
    );
    assert_eq!(
        eval(&net, &aliases, &rows, &from("192.168.1.30")).verdict,
        Verdict::NoMatch
    );
    let rows = [mvc(
        U1,
        1,
        json!({"source_net": "internal", "interface": ""}),
    )];
    assert_eq!(
        eval(&net, &aliases, &rows, &from("192.168.1.5")).verdict,
        Verdict::Pass
    );
    assert_eq!(
        eval(&net, &aliases, &rows, &from("192.168.1.200")).verdict,
        Verdict::NoMatch,
        "excluded half"
    );
    let e = eval(&net, &aliases, &rows, &from("10.10.0.8"));
    assert!(e.certain);
    assert_eq!(e.verdict, Verdict::Pass);
}

#[test]
fn an_unresolvable_url_alias_makes_the_verdict_uncertain() {
    let aliases = Aliases::new().with(
        "blocklist",
        AliasType::Urltable,
        &["https://example.invalid/list.txt"],
    );
    let net = network();
    let rows = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"action": "block", "source_net": "blocklist", "description": "block list"}),
        ),
        mvc(U2, 2, json!({"description": "allow LAN"})),
    ];
    let e = eval(&net, &aliases, &rows, &lan_https());
    assert!(!e.certain);
    assert_eq!(e.verdict, Verdict::Pass, "baseline");
    assert_eq!(e.verdicts().len(), 2);
    assert_eq!(e.maybe_matched.len(), 1);
    assert!(
        e.blind_spots
            .iter()
            .any(|b| b.contains("blocklist") && b.contains("urltable")),
        "{:?}",
        e.blind_spots
    );
    // The same unknown alias after a certain quick pass cannot change anything.
    let rows = [
        mvc(U2, 1, json!({"description": "allow LAN"})),
        mvc(U1, 2, json!({"action": "block", "source_net": "blocklist"})),
    ];
    let e = eval(&net, &aliases, &rows, &lan_https());
    assert!(e.certain);
    assert!(e.blind_spots.is_empty());
}

#[test]
fn offender_tables_are_assumed_empty_and_noted() {
    // OPNsense's sshlockout row: from <sshlockout> (trimmed to `sshlockout`) to (self) port 443.
    let sshlockout = json!({
        "protocol": "tcp", "source_net": "sshlockout", "destination_net": "(self)",
        "description": "sshlockout", "direction": "in", "destination_port": "443",
        "ref": "system_advanced_firewall.php#no_sshlockout", "log": true, "disablereplyto": 1,
        "#priority": 1, "enabled": "1", "action": "block", "uuid": "9a8b7c6d5e4f30211203948576afbecd",
        "sort_order": "000001.1000007", "legacy": true, "is_automatic": true
    });
    let rows = [default_deny(), sshlockout, mvc(U1, 1, json!({}))];
    let e = eval(&network(), &Aliases::new(), &rows, &lan_https());
    assert!(e.certain);
    assert_eq!(e.verdict, Verdict::Pass);
    assert_mentions(&e.notes, "<sshlockout>");
}

// ---------------------------------------------------------------------------------------------
// Ports, protocols, families
// ---------------------------------------------------------------------------------------------

#[test]
fn port_numbers_ranges_names_and_aliases() {
    let aliases = Aliases::new()
        .with("web", AliasType::Port, &["80", "8000:8100", "more_web"])
        .with("more_web", AliasType::Port, &["8443"])
        .with("empty_ports", AliasType::Port, &[]);
    let net = network();
    let to = |port: u16| Flow::tcp(ip("192.168.1.10"), ip("192.168.1.1"), port).on("lan");
    for (spec, hit, miss) in [
        ("443", 443, 444),
        ("https", 443, 80),
        ("ssh", 22, 23),
        ("8000-8100", 8050, 8101),
        ("8000:8100", 8000, 7999),
        ("1024:any", 60000, 1023),
        ("web", 8443, 8444),
        ("web", 8100, 81),
    ] {
        let rows = [mvc(
            U1,
            1,
            json!({"protocol": "TCP", "destination_port": spec}),
        )];
        assert_eq!(
            eval(&net, &aliases, &rows, &to(hit)).verdict,
            Verdict::Pass,
            "{spec} {hit}"
        );
        assert_eq!(
            eval(&net, &aliases, &rows, &to(miss)).verdict,
            Verdict::NoMatch,
            "{spec} {miss}"
        );
    }
    // An empty port alias disables the rule (Rule.php:115-121).
    let rows = [mvc(
        U1,
        1,
        json!({"protocol": "TCP", "destination_port": "empty_ports"}),
    )];
    let e = eval(&net, &aliases, &rows, &to(443));
    assert!(e.certain && e.verdict == Verdict::NoMatch);
    // An unknown service name is uncertain.
    let rows = [
        default_deny(),
        mvc(
            U1,
            1,
            json!({"protocol": "TCP", "destination_port": "gopher"}),
        ),
    ];
    assert!(!eval(&net, &aliases, &rows, &to(70)).certain);
    // An unknown flow port against a port rule is uncertain.
    let mut f = to(443);
    f.dst_port = None;
    let rows = [
        default_deny(),
        mvc(U1, 1, json!({"protocol": "TCP", "destination_port": "443"})),
    ];
    assert!(!eval(&net, &aliases, &rows, &f).certain);
}

#[test]
fn tcp_udp_and_other_protocols() {
    let net = network();
    let a = Aliases::new();
    let udp = Flow {
        proto: L4::Udp,
        ..Flow::tcp(ip("192.168.1.10"), ip("192.168.1.1"), 53).on("lan")
    };
    let tcp = Flow::tcp(ip("192.168.1.10"), ip("192.168.1.1"), 53).on("lan");
    let rows = [mvc(
        U1,
        1,
        json!({"protocol": "UDP", "destination_port": "53"}),
    )];
    assert_eq!(eval(&net, &a, &rows, &udp).verdict, Verdict::Pass);
    assert_eq!(eval(&net, &a, &rows, &tcp).verdict, Verdict::NoMatch);
    let rows = [mvc(
        U1,
        1,
        json!({"protocol": "TCP/UDP", "destination_port": "domain"}),
    )];
    assert_eq!(eval(&net, &a, &rows, &udp).verdict, Verdict::Pass);
    assert_eq!(eval(&net, &a, &rows, &tcp).verdict, Verdict::Pass);
    let gre = Flow {
        proto: L4::Other(47),
        dst_port: None,
        ..tcp.clone()
    };
    let rows = [mvc(U1, 1, json!({"protocol": "GRE"}))];
    assert_eq!(eval(&net, &a, &rows, &gre).verdict, Verdict::Pass);
    assert_eq!(eval(&net, &a, &rows, &tcp).verdict, Verdict::NoMatch);
}

#[test]
fn ipv6_flows_and_address_families() {
    let net = network();
    let a = Aliases::new();
    let v6 = Flow::tcp(ip("fd00:1::10"), ip("fd00:1::1"), 443).on("lan");
    let rows = [mvc(U1, 1, json!({"ipprotocol": "inet"}))];
    assert_eq!(
        eval(&net, &a, &rows, &v6).verdict,
        Verdict::NoMatch,
        "inet does not match IPv6"
    );
    let rows = [mvc(U1, 1, json!({"ipprotocol": "inet46"}))];
    assert_eq!(eval(&net, &a, &rows, &v6).verdict, Verdict::Pass);
    let rows = [mvc(
        U1,
        1,
        json!({"ipprotocol": "inet6", "source_net": "lan", "destination_net": "(self)"}),
    )];
    assert_eq!(eval(&net, &a, &rows, &v6).verdict, Verdict::Pass);
    // In IPv6 filter rules an interface network includes fe80::/10 (Rule.php:90-93).
    let ll = Flow::tcp(ip("fe80::1234"), ip("fd00:1::1"), 443).on("lan");
    assert_eq!(eval(&net, &a, &rows, &ll).verdict, Verdict::Pass);
    // ICMP on an inet6 rule is ICMPv6 (FilterRule.php:274-276).
    let ping6 = Flow {
        proto: L4::Icmp,
        dst_port: None,
        ..v6.clone()
    };
    let rows = [mvc(
        U1,
        1,
        json!({"ipprotocol": "inet6", "protocol": "ICMP"}),
    )];
    assert_eq!(eval(&net, &a, &rows, &ping6).verdict, Verdict::Pass);
}

#[test]
fn schedules_and_tags_are_blind_spots() {
    let rows = [
        default_deny(),
        mvc(U1, 1, json!({"sched": "office_hours"})),
        mvc(U2, 2, json!({"tagged": "VPN", "interface": "wan"})),
    ];
    let e = eval(&network(), &Aliases::new(), &rows, &lan_https());
    assert!(!e.certain);
    assert_mentions(&e.blind_spots, "office_hours");
}

// ---------------------------------------------------------------------------------------------
// OPNsense's automatic rows
// ---------------------------------------------------------------------------------------------

#[test]
fn the_anti_lockout_row_wins_over_a_floating_block() {
    // filter.lib.inc registers the anti-lockout pass at priority 5; floating MVC rules have
    // priority 200000 (FilterRuleField.php:131): pf reaches the quick anti-lockout rule first.
    let rows = [
        mvc(
            U1,
            1,
            json!({"interface": "", "action": "block", "description": "floating block all"}),
        ),
        default_deny(),
        anti_lockout(443, 12),
    ];
    let e = eval(&network(), &Aliases::new(), &rows, &lan_https());
    assert_eq!(e.verdict, Verdict::Pass);
    assert!(e.certain);
    let d = e.deciding.as_ref().unwrap();
    assert_eq!(d.origin, RuleOrigin::Automatic);
    assert_eq!(d.description.as_deref(), Some("anti-lockout rule"));
    // It only covers the primary interface and its own port.
    let from_wan = Flow::tcp(ip("198.51.100.7"), ip("203.0.113.2"), 443).on("wan");
    assert_eq!(
        eval(&network(), &Aliases::new(), &rows, &from_wan).verdict,
        Verdict::Block
    );
    let ssh = Flow::tcp(ip("192.168.1.10"), ip("192.168.1.1"), 22).on("lan");
    assert_eq!(
        eval(&network(), &Aliases::new(), &rows, &ssh).verdict,
        Verdict::Block
    );
}

#[test]
fn evaluation_order_follows_sort_order() {
    let rows = rules(&[
        mvc(U1, 5, json!({})),
        anti_lockout(443, 3),
        mvc(U2, 1, json!({"interface": ""})),
        default_deny(),
    ]);
    let order = pf::evaluation_order(&network(), &rows);
    assert_eq!(order, vec![3, 1, 2, 0]);
}

#[test]
fn interface_group_rules_need_the_group_members() {
    // A rule on an interface group has priority 300000 + the group's sequence.
    let mut group_rule = mvc(U1, 10, json!({"interface": "trusted", "action": "block"}));
    group_rule["prio_group"] = json!("300000");
    group_rule["sort_order"] = json!("300000.0000010");
    let rows = [default_deny(), group_rule, mvc(U2, 20, json!({}))];
    let e = eval(&network(), &Aliases::new(), &rows, &lan_https());
    assert!(!e.certain, "members unknown");
    assert_mentions(&e.blind_spots, "\"trusted\" is an interface group");
    let mut net = network();
    net.add_group("trusted", &["lan", "opt1"]);
    let e = eval(&net, &Aliases::new(), &rows, &lan_https());
    assert!(e.certain);
    assert_eq!((e.verdict, deciding(&e)), (Verdict::Block, Some(U1)));
    // A single-interface rule (400000) on an interface the complete context does not have
    // cannot see the packet.
    let rows = [
        default_deny(),
        mvc(U1, 10, json!({"interface": "opt9", "action": "block"})),
        mvc(U2, 20, json!({})),
    ];
    let e = eval(&network(), &Aliases::new(), &rows, &lan_https());
    assert!(e.certain);
    assert_eq!(deciding(&e), Some(U2));
}

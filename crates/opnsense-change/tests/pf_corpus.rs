//! The evaluator over real OPNsense captures (crates/opnsense-api/tests/corpus, see its README for
//! provenance) and the SDK's fixtures: every row decodes, no flow panics, and the verdict is
//! deterministic (the same whatever the order the rows are given in, since every row carries
//! its `sort_order`).
#![recursion_limit = "256"]

use std::collections::BTreeSet;
use std::net::IpAddr;

mod common;

use common::{api_tests, assert_mentions, corpus_files, corpus_rows};
use opnsense_api::models::firewall::{DNatRow, FilterRule};
use opnsense_change::pf::{
    self, Aliases, Context, Evaluation, Flow, InterfaceInfo, L4, NatAction, NatEvaluation, Network,
    Verdict,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Interfaces named by the rows (keys or, for legacy rows, descriptions), without addresses.
fn network_of(names: &BTreeSet<String>) -> Network {
    let mut n = Network::new();
    for name in names {
        n.add_interface(InterfaceInfo::new(name.clone(), &[]));
    }
    n
}

fn flows(interfaces: &BTreeSet<String>) -> Vec<Flow> {
    let mut base = vec![
        Flow::tcp(ip("10.1.2.50"), ip("10.1.2.1"), 443),
        Flow {
            proto: L4::Udp,
            ..Flow::tcp(ip("10.1.2.50"), ip("8.8.8.8"), 53)
        },
        Flow {
            proto: L4::Udp,
            ..Flow::tcp(ip("198.51.100.9"), ip("203.0.113.2"), 51820)
        },
        Flow {
            proto: L4::Icmp,
            dst_port: None,
            ..Flow::tcp(ip("fe80::1"), ip("ff02::1"), 0)
        },
        Flow::tcp(ip("fd01:2::50"), ip("fd01:2::1"), 22),
    ];
    let mut out = base.clone();
    for i in interfaces {
        out.extend(base.iter().cloned().map(|f| f.on(i.clone())));
    }
    base.clear();
    out
}

/// The parts of an evaluation that must not depend on the input order of the rows.
fn essence(
    e: &Evaluation,
) -> (
    Verdict,
    Option<String>,
    bool,
    BTreeSet<Verdict>,
    BTreeSet<String>,
) {
    (
        e.verdict,
        e.deciding.as_ref().map(|r| r.id.clone()),
        e.certain,
        e.verdicts(),
        e.blind_spots.iter().cloned().collect(),
    )
}

fn nat_essence(e: &NatEvaluation) -> (NatAction, Option<String>, bool) {
    (
        e.action.clone(),
        e.rule.as_ref().map(|r| r.id.clone()),
        e.certain,
    )
}

#[test]
fn every_real_filter_capture_evaluates_deterministically() {
    let aliases = Aliases::new();
    let mut evaluated = 0;
    for path in corpus_files(
        "firewall__filter__search_rule",
        &["search_rule.json", "search_rule_with_legacy.json"],
    ) {
        let raw = corpus_rows(&path);
        let decoded: Vec<FilterRule> = raw
            .iter()
            .map(|r| {
                serde_json::from_value(r.clone())
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            })
            .collect();
        let names: BTreeSet<String> = decoded
            .iter()
            .filter_map(|r| r.interface.as_ref())
            .flat_map(|i| i.0.iter().cloned())
            .collect();
        let net = network_of(&names);
        let ctx = Context::new(&net, &aliases);
        let mut reversed = decoded.clone();
        reversed.reverse();
        for flow in flows(&names) {
            let a = pf::evaluate(&ctx, &decoded, &flow);
            let b = pf::evaluate(&ctx, &decoded, &flow);
            let c = pf::evaluate(&ctx, &reversed, &flow);
            assert_eq!(a, b, "{}: {flow}", path.display());
            assert_eq!(essence(&a), essence(&c), "{}: {flow}", path.display());
            assert_eq!(a.certain, a.verdicts().len() == 1);
            assert!(
                a.certain || !a.blind_spots.is_empty(),
                "uncertain without a reason"
            );
            evaluated += 1;
        }
    }
    assert!(evaluated > 50);
}

#[test]
fn the_26_7_automatic_rows_block_by_default_and_doubt_icmp6_types() {
    for file in ["lib-opnsense-26.7.json", "lib-opnsense-26.7.5.json"] {
        let path = api_tests()
            .join("corpus/firewall__filter__search_rule")
            .join(file);
        let decoded: Vec<FilterRule> = corpus_rows(&path)
            .into_iter()
            .map(|r| serde_json::from_value(r).unwrap())
            .collect();
        let net = Network::new();
        let aliases = Aliases::new();
        let ctx = Context::new(&net, &aliases);
        // TCP: only the default deny (non-quick, every interface) matches.
        let e = pf::evaluate(
            &ctx,
            &decoded,
            &Flow::tcp(ip("10.1.2.50"), ip("10.1.2.1"), 443),
        );
        assert!(e.certain);
        assert_eq!(e.verdict, Verdict::Block);
        assert_eq!(
            e.deciding.as_ref().and_then(|r| r.description.as_deref()),
            Some("Default deny / state violation rule")
        );
        // ICMPv6 of an unknown type: the RFC 4890 pass rules list types, so it depends.
        let icmp6 = Flow {
            proto: L4::Icmp,
            dst_port: None,
            ..Flow::tcp(ip("fe80::1"), ip("fe80::2"), 0)
        };
        let e = pf::evaluate(&ctx, &decoded, &icmp6);
        assert!(!e.certain, "{file}");
        assert_eq!(
            e.verdicts(),
            BTreeSet::from([Verdict::Pass, Verdict::Block])
        );
        assert_mentions(&e.blind_spots, "ICMP types");
    }
}

#[test]
fn the_26_1_9_capture_depends_on_aliases_it_does_not_carry() {
    let path = api_tests().join("corpus/firewall__filter__search_rule/lib-opnsense-26.1.9.json");
    let decoded: Vec<FilterRule> = corpus_rows(&path)
        .into_iter()
        .map(|r| serde_json::from_value(r).unwrap())
        .collect();
    let net = Network::new().with(InterfaceInfo::new("opt3", &["10.1.2.1/24"]));
    let aliases = Aliases::new();
    let ctx = Context::new(&net, &aliases);
    let dns = Flow {
        proto: L4::Udp,
        ..Flow::tcp(ip("10.1.2.50"), ip("8.8.8.8"), 53).on("opt3")
    };
    let e = pf::evaluate(&ctx, &decoded, &dns);
    assert!(!e.certain);
    assert_mentions(&e.blind_spots, "grp_net4_internal");
    // With the aliases resolved the first rule (quick block of DNS to non-firewall addresses)
    // decides for certain.
    let aliases = Aliases::new()
        .with(
            "grp_net4_internal",
            opnsense_api::models::firewall::AliasType::Networkgroup,
            &["net4_dmz"],
        )
        .with(
            "net4_dmz",
            opnsense_api::models::firewall::AliasType::Network,
            &["10.1.2.0/24"],
        )
        .with(
            "host4_fw_gateways",
            opnsense_api::models::firewall::AliasType::Host,
            &["10.1.1.1", "10.1.2.1"],
        )
        .with(
            "port_dns",
            opnsense_api::models::firewall::AliasType::Port,
            &["53"],
        );
    let ctx = Context::new(&net, &aliases);
    let e = pf::evaluate(&ctx, &decoded, &dns);
    assert!(e.certain, "{:?}", e.blind_spots);
    assert_eq!(e.verdict, Verdict::Block);
    assert_eq!(
        e.deciding.as_ref().map(|r| r.id.as_str()),
        Some("cfdc2cf0-7e05-461a-8e51-4e549833cd9d")
    );
    // DNS to the firewall itself is not caught by that rule (destination inverted).
    let to_fw = Flow {
        dst: ip("10.1.2.1"),
        ..dns
    };
    let e = pf::evaluate(&ctx, &decoded, &to_fw);
    assert_ne!(
        e.deciding.as_ref().map(|r| r.id.as_str()),
        Some("cfdc2cf0-7e05-461a-8e51-4e549833cd9d")
    );
}

#[test]
fn every_real_d_nat_capture_evaluates_deterministically() {
    let aliases = Aliases::new();
    let mut evaluated = 0;
    for path in corpus_files("firewall__d_nat__search_rule", &["d_nat_search.json"]) {
        let decoded: Vec<DNatRow> = corpus_rows(&path)
            .into_iter()
            .map(|r| {
                serde_json::from_value(r).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            })
            .collect();
        let names: BTreeSet<String> = decoded
            .iter()
            .filter_map(|r| r.fields.interface.as_ref())
            .flat_map(|i| i.0.iter().cloned())
            .collect();
        let mut net = network_of(&names);
        net.add_interface(InterfaceInfo::new("lan", &["10.0.0.1/24"]));
        let ctx = Context::new(&net, &aliases);
        let mut reversed = decoded.clone();
        reversed.reverse();
        let mut all = flows(&names);
        all.push(Flow::tcp(ip("10.0.0.5"), ip("10.0.0.1"), 443).on("lan"));
        for flow in all {
            let a = pf::evaluate_nat(&ctx, &decoded, &flow);
            assert_eq!(a, pf::evaluate_nat(&ctx, &decoded, &flow));
            assert_eq!(
                nat_essence(&a),
                nat_essence(&pf::evaluate_nat(&ctx, &reversed, &flow)),
                "{}: {flow}",
                path.display()
            );
            evaluated += 1;
        }
        // The anti-lockout `no rdr` rows protect the GUI on the LAN address, first.
        let gui = Flow::tcp(ip("10.0.0.5"), ip("10.0.0.1"), 443).on("lan");
        let e = pf::evaluate_nat(&ctx, &decoded, &gui);
        assert!(e.certain, "{}", path.display());
        assert_eq!(e.action, NatAction::Excluded, "{}", path.display());
    }
    assert!(evaluated > 20);
}

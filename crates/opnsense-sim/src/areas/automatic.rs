//! The automatic (plugin generated) filter rules of the simulated box, as
//! `configctl filter list non_mvc_rules` (`src/opnsense/scripts/filter/list_non_mvc_rules.php`)
//! prints them, and as `FilterController::searchRuleAction()` merges them into the rule
//! search at 26.1.10 and 26.7.2 (26.1.9: only with `show_all`).
//!
//! The rules are a subset of what `filter_core_rules_system()` (`src/etc/inc/filter.lib.inc`)
//! registers for this configuration: IPv6 allowed, WAN with "block private" and "block
//! bogons", HTTPS web GUI with the HTTP redirect (anti-lockout ports 80 and 443 on LAN),
//! SSH off, gateways on WAN. Their ids stand in for the md5 `Util::calcRuleHash()`
//! computes (32 hex digits, derived from the rule's content, but not the same digest).

use serde_json::{Map, Value, json};

use super::iface;

/// `filter_core_bootstrap()` defaults merged into system rules (`array_merge`).
enum Defaults {
    /// `$filter_rule_defaults['pass']` (`log` on: `nologdefaultpass` unset).
    Pass,
    /// `$filter_rule_defaults['block']`.
    Block,
}

/// One registered rule: priority and the `registerFilterRule()` configuration.
struct System {
    prio: u32,
    defaults: Defaults,
    conf: Value,
}

fn system_rules() -> Vec<System> {
    let rfc4890 = |types: &str, extra: Value| {
        let mut conf = json!({
            "ipprotocol": "inet6", "protocol": "ipv6-icmp", "icmp6-type": types,
            "statetype": "keep", "descr": "IPv6 RFC4890 requirements (ICMP)"
        });
        if let (Value::Object(c), Value::Object(e)) = (&mut conf, extra) {
            c.extend(e);
        }
        conf["#ref"] = json!("system_advanced_firewall.php#no_ipv6_rfc4890_req");
        System {
            prio: 1,
            defaults: Defaults::Pass,
            conf,
        }
    };
    let mut rules = vec![
        System {
            prio: 1,
            defaults: Defaults::Block,
            conf: json!({"ipprotocol": "inet46", "descr": "Default deny / state violation rule", "quick": false}),
        },
        rfc4890("1,2,3,4,135,136", json!({})),
        rfc4890(
            "128,129,133,134,135,136",
            json!({"from": "(self)", "to": "fe80::/10,ff02::/16", "direction": "out"}),
        ),
        rfc4890(
            "128,133,134,135,136",
            json!({"from": "fe80::/10", "to": "fe80::/10,ff02::/16", "direction": "in"}),
        ),
        rfc4890(
            "128,133,134,135,136",
            json!({"from": "ff02::/16", "to": "fe80::/10", "direction": "in"}),
        ),
        rfc4890(
            "128,133,134,135,136",
            json!({"from": "::", "to": "ff02::/16", "direction": "in"}),
        ),
    ];
    for target in ["from_port", "to_port"] {
        let mut conf = json!({"ipprotocol": "inet46", "protocol": "tcp/udp"});
        conf[target] = json!("0");
        conf["descr"] = json!("block all targeting port 0");
        conf["#ref"] = json!("system_advanced_firewall.php#no_port0_block");
        rules.push(System {
            prio: 1,
            defaults: Defaults::Block,
            conf,
        });
    }
    for port in ["22", "443"] {
        let conf = json!({"protocol": "tcp", "from": "<sshlockout>", "to": "(self)", "descr": "sshlockout",
                          "direction": "in", "to_port": port,
                          "#ref": "system_advanced_firewall.php#no_sshlockout"});
        rules.push(System {
            prio: 1,
            defaults: Defaults::Block,
            conf,
        });
    }
    rules.push(System {
        prio: 1,
        defaults: Defaults::Block,
        conf: json!({"from": "<virusprot>", "descr": "virusprot overload table",
                     "#ref": "system_advanced_firewall.php#no_virusprot"}),
    });
    let wan = iface("wan").map_or("WAN", |i| i.descr);
    for conf in [
        json!({"from": "<bogons>", "direction": "in", "interface": "wan", "ipprotocol": "inet",
               "descr": format!("Block bogon IPv4 networks from {wan}"),
               "#ref": "interfaces.php?if=wan#blockbogons", "disabled": false}),
        json!({"from": "<bogonsv6>", "direction": "in", "interface": "wan", "ipprotocol": "inet6",
               "disabled": false, "#ref": "interfaces.php?if=wan#blockbogons",
               "descr": format!("Block bogon IPv6 networks from {wan}")}),
        json!({"direction": "in", "interface": "wan", "ipprotocol": "inet",
               "#ref": "interfaces.php?if=wan#blockpriv",
               "descr": format!("Block private networks from {wan}"),
               "from": "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,127.0.0.0/8,100.64.0.0/10,169.254.0.0/16",
               "disabled": false}),
        json!({"direction": "in", "interface": "wan", "ipprotocol": "inet6",
               "#ref": "interfaces.php?if=wan#blockpriv",
               "descr": format!("Block private networks from {wan}"),
               "from": "fd00::/8,fe80::/10,::/128", "disabled": false}),
    ] {
        rules.push(System {
            prio: 5,
            defaults: Defaults::Block,
            conf,
        });
    }
    rules.push(System {
        prio: 5,
        defaults: Defaults::Pass,
        conf: json!({"direction": "out", "statetype": "keep", "allowopts": true, "quick": false,
                     "descr": "let out anything from firewall host itself"}),
    });
    for port in ["80", "443"] {
        rules.push(System {
            prio: 5,
            defaults: Defaults::Pass,
            conf: json!({"direction": "in", "interface": "lan", "statetype": "keep", "protocol": "tcp",
                         "to": "(self)", "to_port": port, "descr": "anti-lockout rule",
                         "#ref": "system_advanced_firewall.php#noantilockout"}),
        });
    }
    for gateway in ["WAN_GW", "WAN_GWv6"] {
        rules.push(System {
            prio: 10_000,
            defaults: Defaults::Pass,
            conf: json!({"from": "(igb0)", "direction": "out", "gateway": gateway,
                         "destination": {"network": "wan", "not": true}, "statetype": "keep",
                         "allowopts": true, "quick": false,
                         "#ref": "system_advanced_firewall.php#pf_disable_force_gw",
                         "descr": "let out anything from firewall host itself (force gw)"}),
        });
    }
    rules
}

/// A stable 32-hex-digit id from the rule's JSON (two FNV-1a 64 passes).
fn rule_hash(conf: &Map<String, Value>) -> String {
    let text = Value::Object(conf.clone()).to_string();
    let fnv = |seed: u64| {
        text.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
        })
    };
    format!(
        "{:016x}{:016x}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x8422_2325_cbf2_9ce4)
    )
}

/// `array_merge($defaults, $conf)` plus the label and priority `registerFilterRule()` adds.
fn registered(rule: &System) -> Map<String, Value> {
    let mut merged = Map::new();
    let (kind, log) = match rule.defaults {
        Defaults::Pass => ("pass", true),
        Defaults::Block => ("block", true),
    };
    merged.insert("type".into(), json!(kind));
    merged.insert("log".into(), json!(log));
    merged.insert("disablereplyto".into(), json!(1));
    if let Value::Object(conf) = &rule.conf {
        for (k, v) in conf {
            merged.insert(k.clone(), v.clone());
        }
    }
    let mut hashed = merged.clone();
    hashed.remove("descr");
    hashed.sort_keys();
    merged.insert("label".into(), json!(rule_hash(&hashed)));
    merged.insert("#priority".into(), json!(rule.prio));
    merged
}

/// The rows `list_non_mvc_rules.php` prints (before the controller translates them).
pub(crate) fn non_mvc_rules() -> Vec<Map<String, Value>> {
    let mut rules = system_rules();
    rules.sort_by_key(|r| r.prio);
    let mapping = [
        ("type", "action"),
        ("reply-to", "replyto"),
        ("descr", "description"),
        ("from", "source_net"),
        ("from_port", "source_port"),
        ("to", "destination_net"),
        ("to_port", "destination_port"),
        ("#ref", "ref"),
        ("label", "uuid"),
    ];
    let mut out = Vec::new();
    for rule in &rules {
        let mut row = registered(rule);
        if row.get("disabled").is_some_and(|d| d == &json!(true)) {
            continue;
        }
        row.insert("enabled".into(), json!("1"));
        for (src, dst) in mapping {
            let value = row.shift_remove(src).unwrap_or_else(|| json!(""));
            row.insert(dst.into(), value);
        }
        for field in ["source", "destination"] {
            if let Some(Value::Object(spec)) = row.shift_remove(field) {
                let not = spec.get("not").is_some_and(|n| n == &json!(true));
                row.insert(format!("{field}_not"), json!(if not { "1" } else { "0" }));
                let net = spec
                    .get("network")
                    .or_else(|| spec.get("address"))
                    .cloned()
                    .unwrap_or_else(|| json!(""));
                row.insert(format!("{field}_net"), net);
                row.insert(
                    format!("{field}_port"),
                    spec.get("port").cloned().unwrap_or_else(|| json!("")),
                );
            }
        }
        for field in [
            "source_net",
            "destination_net",
            "source_port",
            "destination_port",
        ] {
            if let Some(Value::String(v)) = row.get_mut(field)
                && !v.is_empty()
                && v != "(self)"
            {
                *v = v.trim_matches(['(', ')', '<', '>', '{', '}']).to_owned();
            }
        }
        for (field, upper) in [
            ("direction", false),
            ("action", false),
            ("ipprotocol", false),
            ("protocol", true),
        ] {
            let default = match field {
                "direction" => "in",
                "action" => "pass",
                _ => "",
            };
            let value = row
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_owned();
            row.insert(field.into(), json!(value));
            let shown = if upper { value.to_uppercase() } else { value };
            row.insert(format!("%{field}"), json!(shown));
        }
        let prio = rule.prio;
        row.insert(
            "sort_order".into(),
            json!(format!("{prio:06}.1{:06}", out.len() + 1)),
        );
        row.insert("legacy".into(), json!(true));
        row.insert("is_automatic".into(), json!(true));
        out.push(row);
    }
    out
}

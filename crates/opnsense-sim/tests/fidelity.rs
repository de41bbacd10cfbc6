//! One test per fidelity fix against opnsense/core 26.1.10 / 26.7.2 (the file and line
//! behind each expectation is named in the test).

mod common;

use common::{Harness, rows};
use opnsense_sim::{ServiceFailure, SimConfig, Version};
use serde_json::{Value, json};

const UNKNOWN: &str = "00000000-0000-4000-8000-000000000000";

async fn start(version: Version, development: bool) -> Harness {
    Harness::with(SimConfig {
        version,
        development_mode: development,
        ..SimConfig::default()
    })
    .await
}

/// AliasController::getItemAction: `array_keys($response['alias']['content'])` on `[]`
/// is a TypeError up to 26.1.10; 26.1.11/26.7 added `?? []` (5ed48c2d25).
#[tokio::test]
async fn alias_get_item_of_unknown_uuid_per_release() {
    let h = start(Version::V26_7, false).await;
    let (s, body) = h.get(&format!("firewall/alias/get_item/{UNKNOWN}")).await;
    assert_eq!(s, 200);
    let alias = body["alias"].as_object().unwrap();
    assert_eq!(alias.keys().collect::<Vec<_>>(), ["content"], "{body}");
    let content = alias["content"].as_object().unwrap();
    assert_eq!(
        content["webservers"],
        json!({"selected": 0, "value": "webservers", "description": "Web servers"})
    );
    assert_eq!(content["bogons"]["selected"], 0);
    assert!(content.values().all(|e| e["selected"] == 0));
    // A known alias: current entries selected, every alias name listed with description.
    let id = h
        .first_uuid("firewall/alias/search_item", |r| {
            r["name"] == "internal_nets"
        })
        .await;
    let got = h.get_ok(&format!("firewall/alias/get_item/{id}")).await;
    assert_eq!(
        got["alias"]["content"]["rfc1918"],
        json!({"value": "rfc1918", "selected": 1, "description": "Private networks"})
    );
    h.sim.shutdown().await;

    for development in [false, true] {
        let h = start(Version::V26_1, development).await;
        let (s, body) = h.get(&format!("firewall/alias/get_item/{UNKNOWN}")).await;
        assert_eq!(s, 500, "{body}");
        if development {
            assert_eq!(body["errorMessage"], "Undefined array key \"alias\"");
        } else {
            assert_eq!(
                body,
                json!({"errorMessage": "Unexpected error, check log for details"})
            );
        }
        h.sim.shutdown().await;
    }
}

/// toggleBase reads `$result['changed']` when no uuid was found: a warning, so production
/// answers `{"result":"failed"}` and development 500 (php.ini error_reporting).
#[tokio::test]
async fn toggle_of_unknown_uuid_production_and_development() {
    let h = start(Version::V26_1, false).await;
    for path in [
        "firewall/filter/toggle_rule",
        "firewall/alias/toggle_item",
        "routes/routes/toggleroute",
        "unbound/settings/toggleHostOverride",
    ] {
        let (s, body) = h.post(&format!("{path}/{UNKNOWN}"), json!({})).await;
        assert_eq!((s, body), (200, json!({"result": "failed"})), "{path}");
    }
    h.sim.shutdown().await;

    let h = start(Version::V26_7, true).await;
    let (s, body) = h
        .post(&format!("firewall/filter/toggle_rule/{UNKNOWN}"), json!({}))
        .await;
    assert_eq!(s, 500);
    assert_eq!(body["errorMessage"], "Undefined array key \"changed\"");
    assert!(body["errorTrace"].is_string());
    // DNatController::addRuleAction reads $_POST['rule'] first.
    let (s, body) = h
        .post("firewall/d_nat/add_rule", json!({"descr": "no wrapper"}))
        .await;
    assert_eq!(s, 500);
    assert_eq!(body["errorMessage"], "Undefined array key \"rule\"");
    // d_nat has its own toggle: failed in both modes.
    let (s, body) = h
        .post(&format!("firewall/d_nat/toggle_rule/{UNKNOWN}"), json!({}))
        .await;
    assert_eq!((s, body), (200, json!({"result": "failed"})));
    h.sim.shutdown().await;
}

/// toggleBase details: an explicit value other than 0/1, and a list whose last item is
/// unchanged is not saved at all.
#[tokio::test]
async fn toggle_base_explicit_values_and_lists() {
    let h = Harness::start().await;
    let id = h
        .first_uuid("unbound/settings/searchHostOverride", |r| {
            r["hostname"] == "nas"
        })
        .await;
    let other = h
        .first_uuid("unbound/settings/searchHostOverride", |r| {
            r["hostname"] == "printer"
        })
        .await;
    let r = h
        .post_ok(
            &format!("unbound/settings/toggleHostOverride/{id}/2"),
            json!({}),
        )
        .await;
    assert_eq!(r, json!({"result": "failed", "changed": false}));
    h.post_ok(
        &format!("unbound/settings/toggleHostOverride/{id}/0"),
        json!({}),
    )
    .await;
    // nas goes 0 -> 1 (changed), printer stays 1 (unchanged, last): nothing is saved.
    let r = h
        .post_ok(
            &format!("unbound/settings/toggleHostOverride/{id},{other}/1"),
            json!({}),
        )
        .await;
    assert_eq!(r, json!({"result": "Enabled", "changed": false}));
    assert_eq!(h.sim.staged().find(&id).unwrap()["enabled"], "0");
    // d_nat: a comma list is one unknown node reference.
    let all = h.post_ok("firewall/d_nat/search_rule", json!({})).await;
    let ids: Vec<&str> = rows(&all)
        .iter()
        .filter_map(|r| r["uuid"].as_str())
        .filter(|u| !u.starts_with("lockout_"))
        .collect();
    let r = h
        .post_ok(
            &format!("firewall/d_nat/toggle_rule/{},{}", ids[0], ids[1]),
            json!({}),
        )
        .await;
    assert_eq!(r, json!({"result": "failed"}));
    h.sim.shutdown().await;
}

/// Filter.php: the inverted-source message is keyed on `source_not`, the interface one on
/// `interfacenot`; the destination one stays on `destination_net`.
#[tokio::test]
async fn filter_inversion_message_keys() {
    let h = Harness::start().await;
    let r = h
        .post_ok(
            "firewall/filter/add_rule",
            json!({"rule": {"source_net": "lan,opt1", "source_not": "1",
                "destination_net": "lan,opt1", "destination_not": "1",
                "interface": "lan,opt1", "interfacenot": "1"}}),
        )
        .await;
    assert_eq!(
        r["validations"],
        json!({
            "rule.source_not": "Inverting sources is only allowed for single targets to avoid mis-interpretations",
            "rule.destination_net": "Inverting destinations is only allowed for single targets to avoid mis-interpretations",
            "rule.interfacenot": "Inverting interfaces is only allowed for single targets to avoid mis-interpretations"
        })
    );
    h.sim.shutdown().await;
}

/// Filter.php:133 `!in_array($rule->protocol, ['TCP', 'TCP/UDP'])`.
#[tokio::test]
async fn tcp_only_options_allowed_for_tcp_udp() {
    let h = Harness::start().await;
    let rule = |proto: &str| json!({"rule": {"protocol": proto, "statetimeout": "60", "max-src-conn": "10"}});
    let r = h.post_ok("firewall/filter/add_rule", rule("TCP/UDP")).await;
    assert_eq!(r["result"], "saved", "{r}");
    let r = h.post_ok("firewall/filter/add_rule", rule("udp")).await;
    assert_eq!(
        r["validations"]["rule.statetimeout"],
        "Invalid option for other than TCP protocol choices."
    );
    h.sim.shutdown().await;
}

/// Filter.xml `gateway` is a JsonKeyValueStoreField: membership only, no family check.
#[tokio::test]
async fn filter_gateway_has_no_family_check() {
    let h = Harness::start().await;
    for (ipprotocol, gateway) in [("inet6", "WAN_GW"), ("inet46", "WAN_GWv6")] {
        let r = h
            .post_ok(
                "firewall/filter/add_rule",
                json!({"rule": {"ipprotocol": ipprotocol, "gateway": gateway}}),
            )
            .await;
        assert_eq!(r["result"], "saved", "{ipprotocol} via {gateway}: {r}");
    }
    assert_eq!(
        h.refused(
            "firewall/filter/add_rule",
            json!({"rule": {"gateway": "NOPE"}})
        )
        .await["rule.gateway"],
        "Specify a valid gateway from the list matching the networks ip protocol."
    );
    h.sim.shutdown().await;
}

/// KeaDhcpv4.php performValidation: `Util::isIPInCIDR()` is false for an empty or
/// invalid address; KeaDhcpv4.xml `client_id` UniqueConstraint with `subnet`.
#[tokio::test]
async fn kea_reservation_address_and_client_id_checks() {
    let h = Harness::start().await;
    let subnets = h.post_ok("kea/dhcpv4/searchSubnet", json!({})).await;
    let subnet = subnets["rows"][0]["uuid"].as_str().unwrap().to_owned();
    let add = |body: Value| h.post_ok("kea/dhcpv4/addReservation", body);
    let r =
        add(json!({"reservation": {"subnet": subnet, "hw_address": "00:11:22:33:44:66"}})).await;
    assert_eq!(
        r["validations"],
        json!({"reservation.ip_address": "Address not in specified subnet"})
    );
    let r = add(
        json!({"reservation": {"subnet": subnet, "ip_address": "192.168.1.300",
        "hw_address": "00:11:22:33:44:66"}}),
    )
    .await;
    assert_eq!(
        r["validations"]["reservation.ip_address"],
        json!([
            "Please specify a valid network segment or IP address.",
            "Address not in specified subnet"
        ])
    );
    let ok = add(
        json!({"reservation": {"subnet": subnet, "ip_address": "192.168.1.90",
        "client_id": "01:aa:bb"}}),
    )
    .await;
    assert_eq!(ok["result"], "saved", "{ok}");
    let r = add(
        json!({"reservation": {"subnet": subnet, "ip_address": "192.168.1.91",
        "client_id": "01:aa:bb"}}),
    )
    .await;
    assert_eq!(
        r["validations"],
        json!({"reservation.client_id": "Duplicate entry exists."})
    );
    h.sim.shutdown().await;
}

/// Unbound.xml host overrides: HostnameField (multi-label, `IsDNSName`), the domain mask
/// without `_`, NetworkField `server` with a netmask until 26.7 (`NetMaskAllowed=N`).
#[tokio::test]
async fn unbound_host_override_fields_per_release() {
    for version in [Version::V26_1, Version::V26_7] {
        let h = start(version, false).await;
        let add =
            |host: Value| h.post_ok("unbound/settings/addHostOverride", json!({"host": host}));
        let r = add(
            json!({"hostname": "www.int", "domain": "example.lan", "rr": "AAAA",
            "server": "192.168.1.9"}),
        )
        .await;
        assert_eq!(r["result"], "saved", "{version:?}: {r}");
        let r =
            add(json!({"hostname": "x", "domain": "my_domain.lan", "server": "192.168.1.9"})).await;
        assert_eq!(
            r["validations"],
            json!({"host.domain": "A valid domain must be specified."})
        );
        let r =
            add(json!({"hostname": "x.", "domain": "example.lan", "server": "192.168.1.9"})).await;
        assert_eq!(
            r["validations"],
            json!({"host.hostname": "A valid hostname must be specified."})
        );
        let r =
            add(json!({"hostname": "net", "domain": "example.lan", "server": "10.1.0.0/16"})).await;
        if version >= Version::V26_7 {
            assert_eq!(
                r["validations"],
                json!({"host.server": "Please specify a valid network segment or IP address."})
            );
        } else {
            assert_eq!(r["result"], "saved", "{r}");
        }
        // SetIfConstraint uses isEmpty(): "0" counts as empty.
        let r = add(
            json!({"domain": "example.lan", "rr": "MX", "mxprio": "0", "mx": "mail.example.lan"}),
        )
        .await;
        assert_eq!(
            r["validations"],
            json!({"host.mxprio": "The field MX Priority is required."})
        );
        h.sim.shutdown().await;
    }
}

/// Mk/version.mk CORE_NICKNAME: 26.1.x "Witty Woodpecker", 26.7.2 "Xenial Xenops".
#[tokio::test]
async fn firmware_nickname_per_release() {
    for (version, nickname, product) in [
        (Version::V26_1, "Witty Woodpecker", "26.1.10"),
        (Version::V26_7, "Xenial Xenops", "26.7.2"),
        (Version::V26_1_9, "Witty Woodpecker", "26.1.9"),
    ] {
        let h = start(version, false).await;
        let status = h.get_ok("core/firmware/status").await;
        assert_eq!(status["product"]["product_nickname"], nickname);
        assert_eq!(status["product"]["product_version"], product);
        h.sim.shutdown().await;
    }
}

/// DNatSequenceField: with no rule the template takes 101 while loading, so the first
/// rule gets 201; then max + 100.
#[tokio::test]
async fn dnat_first_sequence_is_201() {
    let h = Harness::start().await;
    let all = h.post_ok("firewall/d_nat/search_rule", json!({})).await;
    for row in all["rows"].as_array().unwrap() {
        let id = row["uuid"].as_str().unwrap();
        if !id.starts_with("lockout_") {
            h.post_ok(&format!("firewall/d_nat/del_rule/{id}"), json!({}))
                .await;
        }
    }
    let template = h.get_ok("firewall/d_nat/get_rule").await;
    assert_eq!(template["rule"]["sequence"], "201");
    assert_eq!(
        template["rule"]["disabled"], "",
        "BooleanField without default"
    );
    let add = || {
        h.post_ok(
            "firewall/d_nat/add_rule",
            json!({"rule": {"interface": "wan", "protocol": "tcp", "target": "192.168.1.5"}}),
        )
    };
    let first = add().await;
    let second = add().await;
    let seq =
        |r: &Value| h.sim.staged().find(r["uuid"].as_str().unwrap()).unwrap()["sequence"].clone();
    assert_eq!(seq(&first), "201");
    assert_eq!(seq(&second), "301");
    h.sim.shutdown().await;
}

/// AliasNameField: the `$reservedwords` list is compared case-sensitively and every
/// failing check is reported.
#[tokio::test]
async fn alias_reserved_names() {
    let h = Harness::start().await;
    let add = |name: &str| {
        h.post_ok(
            "firewall/alias/add_item",
            json!({"alias": {"name": name, "type": "host", "content": "10.0.0.1"}}),
        )
    };
    let reserved = "The name cannot be the internally reserved keyword \"%s\".";
    let service = "Reserved protocol or service names may not be used";
    // `route` is a pf keyword and an /etc/services alias of port 520.
    let r = add("route").await;
    assert_eq!(r["validations"]["alias.name"], json!([reserved, service]));
    // `rdr` and `label` are reserved, `tcp` and `TCP` protocol names.
    assert_eq!(add("rdr").await["validations"]["alias.name"], reserved);
    assert_eq!(add("TCP").await["validations"]["alias.name"], service);
    // Case-sensitive: `Rdr` is allowed.
    assert_eq!(add("Rdr").await["result"], "saved");
    let r = add("_").await;
    assert_eq!(
        r["validations"]["alias.name"],
        "The name must start with a letter or single underscore, be less than 32 characters and only consist of alphanumeric characters or underscores."
    );
    h.sim.shutdown().await;
}

/// DNat.php: "No RDR" messages exist from 26.7 on.
#[tokio::test]
async fn dnat_no_rdr_checks_per_release() {
    for version in [Version::V26_1, Version::V26_7] {
        let h = start(version, false).await;
        let r = h
            .post_ok(
                "firewall/d_nat/add_rule",
                json!({"rule": {"interface": "wan", "protocol": "tcp", "nordr": "1",
                    "target": "192.168.1.5", "local-port": "443"}}),
            )
            .await;
        if version >= Version::V26_7 {
            assert_eq!(
                r["validations"],
                json!({
                    "rule.target": "Target must be empty when No RDR is set.",
                    "rule.local-port": "Port must be empty when No RDR is set."
                })
            );
        } else {
            assert_eq!(r["result"], "saved", "{r}");
        }
        h.sim.shutdown().await;
    }
}

/// DNatController::searchRuleAction at 26.7: anti-lockout rows keep `lockout_N`, gain
/// `is_automatic`, `sort_order` and `prio_group`, lose `category`; rules get sort_order.
#[tokio::test]
async fn dnat_search_rows_at_26_7() {
    let h = start(Version::V26_7, false).await;
    let all = h.post_ok("firewall/d_nat/search_rule", json!({})).await;
    let rows = all["rows"].as_array().unwrap();
    assert_eq!(rows[0]["uuid"], "lockout_1");
    assert_eq!(rows[0]["is_automatic"], true);
    assert_eq!(rows[0]["sort_order"], "100000.0000001");
    assert_eq!(rows[1]["sort_order"], "100000.0000000");
    assert_eq!(rows[0]["prio_group"], "100000");
    assert!(rows[0].get("category").is_none());
    assert_eq!(rows[2]["prio_group"], "400000");
    assert_eq!(rows[2]["sort_order"], "400000.0000201");
    h.sim.shutdown().await;
}

/// api.php 26.7.2: `errorLevel` for UserException, JSON text passed through
/// htmlspecialchars(ENT_NOQUOTES); 26.1.10 sends neither.
#[tokio::test]
async fn error_envelope_per_release() {
    for version in [Version::V26_1, Version::V26_7] {
        let h = start(version, false).await;
        let r = h
            .post_ok(
                "firewall/d_nat/add_rule",
                json!({"rule": {"interface": "wan", "protocol": "tcp", "target": "webservers",
                    "descr": "Web & fwd <prod>"}}),
            )
            .await;
        assert_eq!(r["result"], "saved", "{r}");
        let id = h
            .first_uuid("firewall/alias/search_item", |r| r["name"] == "webservers")
            .await;
        let resp = h
            .request(
                reqwest::Method::POST,
                &format!("firewall/alias/del_item/{id}"),
            )
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 500);
        let text = resp.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["errorTitle"], "Alias in use");
        // Filter rules have no `descr`, so whereUsed() shows no text for them; the
        // port forward's description is escaped by delItemAction (both releases) and the
        // whole envelope once more by api.php at 26.7.
        assert!(
            text.contains("[OPNsense.Firewall.Filter.rules.rule.0/destination_net] "),
            "{text}"
        );
        if version >= Version::V26_7 {
            assert_eq!(body["errorLevel"], "error");
            assert!(
                text.contains("Web &amp;amp; fwd &amp;lt;prod&amp;gt;"),
                "{text}"
            );
        } else {
            assert!(body.get("errorLevel").is_none());
            assert!(text.contains("Web &amp; fwd &lt;prod&gt;"), "{text}");
        }
        h.sim.shutdown().await;
    }
}

/// ApiMutableServiceControllerBase start/stop/restart: `{"response": trim(configd)}`;
/// configd answers `Error (N)` for a failing rc script or `Action not allowed or missing`.
#[tokio::test]
async fn service_control_failures() {
    let h = Harness::start().await;
    assert_eq!(
        h.post_ok("unbound/service/restart", json!({})).await,
        json!({"response": "OK"})
    );
    h.sim
        .faults()
        .set_service_failure("unbound", Some(ServiceFailure::ExitStatus(1)));
    h.post_ok("unbound/service/stop", json!({})).await;
    assert_eq!(
        h.post_ok("unbound/service/start", json!({})).await,
        json!({"response": "Error (1)"})
    );
    assert_eq!(
        h.post_ok("unbound/service/reconfigure", json!({})).await,
        json!({"status": "ok"}),
        "reconfigure ignores the start result"
    );
    assert_eq!(
        h.get_ok("unbound/service/status").await["status"],
        "running",
        "stop failed too, so it kept running"
    );
    h.sim
        .faults()
        .set_service_failure("kea", Some(ServiceFailure::NotAllowed));
    assert_eq!(
        h.post_ok("kea/service/restart", json!({})).await,
        json!({"response": "Action not allowed or missing"})
    );
    h.sim.faults().set_service_failure("kea", None);
    assert_eq!(
        h.post_ok("kea/service/restart", json!({})).await,
        json!({"response": "OK"})
    );
    h.sim.shutdown().await;
}

/// RoutesController at 26.1.9: `disabled` field, `togglerouteAction($uuid, $disabled)`
/// without `changed`; 26.1.10 `enabled` + toggleBase.
#[tokio::test]
async fn route_toggle_before_and_after_26_1_10() {
    let h = start(Version::V26_1_9, false).await;
    let id = h
        .first_uuid("routes/routes/searchroute", |r| {
            r["descr"] == "Branch office"
        })
        .await;
    let row = h.post_ok("routes/routes/searchroute", json!({})).await["rows"][0].clone();
    assert_eq!(row["disabled"], "0");
    assert!(row.get("enabled").is_none());
    h.post_expect(
        &format!("routes/routes/toggleroute/{id}/1"),
        json!({"result": "Disabled"}),
    )
    .await;
    assert_eq!(h.sim.staged().find(&id).unwrap()["disabled"], "1");
    h.sim.shutdown().await;

    let h = start(Version::V26_1, false).await;
    let id = h
        .first_uuid("routes/routes/searchroute", |r| {
            r["descr"] == "Branch office"
        })
        .await;
    h.post_expect(
        &format!("routes/routes/toggleroute/{id}/1"),
        json!({"result": "Enabled", "changed": false}),
    )
    .await;
    h.sim.shutdown().await;
}

/// RoutesController::setrouteAction reads `$_POST['route']['network']` before setBase:
/// without it development firewalls answer 500 and nothing is saved.
#[tokio::test]
async fn setroute_without_network_in_development_mode() {
    for development in [false, true] {
        let h = start(Version::V26_1, development).await;
        let id = h
            .first_uuid("routes/routes/searchroute", |r| {
                r["descr"] == "Branch office"
            })
            .await;
        let (s, body) = h
            .post(
                &format!("routes/routes/setroute/{id}"),
                json!({"route": {"descr": "renamed"}}),
            )
            .await;
        let descr = h.sim.staged().find(&id).unwrap()["descr"].clone();
        if development {
            assert_eq!(s, 500);
            assert_eq!(body["errorMessage"], "Undefined array key \"network\"");
            assert_eq!(descr, "Branch office");
        } else {
            assert_eq!((s, body), (200, json!({"result": "saved"})));
            assert_eq!(descr, "renamed");
        }
        h.sim.shutdown().await;
    }
}

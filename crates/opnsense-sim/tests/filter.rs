//! firewall/filter: search, get, add/set/del/toggle, validation, staged vs live.

mod common;

use common::{Harness, rows, uuids};
use opnsense_sim::{SimConfig, Version};
use serde_json::{Value, json};

/// The MVC (editable) rows of a search answer, without the automatic ones.
fn mvc_rows(answer: &Value) -> Vec<Value> {
    rows(answer)
        .iter()
        .filter(|r| r.get("legacy").is_none())
        .cloned()
        .collect()
}

#[tokio::test]
async fn search_defaults_paging_phrase_and_sort() {
    let h = Harness::start().await;
    let automatic = h.sim.automatic_filter_rules().len();
    assert!(automatic >= 10, "{automatic}");
    // Recordset search: default rowCount 9999, response key order total,rowCount,current,rows.
    let all = h.post_ok("firewall/filter/search_rule", json!({})).await;
    assert_eq!(all["total"], 12 + automatic);
    assert_eq!(all["rowCount"], 12 + automatic);
    assert_eq!(all["current"], 1);
    let keys: Vec<&String> = all.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["total", "rowCount", "current", "rows"]);
    // Default sort: sort_order. Automatic rules of priority 1 and 5 come first.
    let first = &all["rows"][0];
    assert_eq!(first["legacy"], true);
    assert_eq!(first["is_automatic"], true);
    assert_eq!(first["description"], "Default deny / state violation rule");
    assert_eq!(first["sort_order"], "000001.1000001");
    let id = first["uuid"].as_str().unwrap();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    let mvc = mvc_rows(&all);
    assert_eq!(mvc.len(), 12);
    // Floating MVC rules (prio group 200000) before interface rules.
    assert_eq!(mvc[0]["interface"], "");
    assert_eq!(mvc[0]["prio_group"], "200000");
    let row = &mvc[1];
    assert_eq!(row["%action"], "Pass");
    assert_eq!(row["%interface"], "LAN");
    assert!(
        row.get("%protocol").is_none(),
        "display only where it differs"
    );
    assert_eq!(row["sort_order"], "400000.0000100");

    let page = h
        .post_ok(
            "firewall/filter/search_rule",
            json!({"current": 2, "rowCount": 5}),
        )
        .await;
    assert_eq!(page["total"], 12 + automatic);
    assert_eq!(page["rowCount"], 5);
    assert_eq!(page["current"], 2);
    assert_eq!(uuids(&page), uuids(&all)[5..10].to_vec());

    // Paging from the query string is ignored by searchRecordsetBase.
    let q = h
        .post_ok("firewall/filter/search_rule?rowCount=2", json!({}))
        .await;
    assert_eq!(q["rowCount"], 12 + automatic);

    let found = h
        .post_ok(
            "firewall/filter/search_rule",
            json!({"searchPhrase": "dmz BLOCK"}),
        )
        .await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["rows"][0]["description"], "Block DMZ to LAN");

    let sorted = h
        .post_ok(
            "firewall/filter/search_rule",
            json!({"rowCount": -1, "sort": {"description": "desc"}}),
        )
        .await;
    let descrs: Vec<&str> = rows(&sorted)
        .iter()
        .map(|r| r["description"].as_str().unwrap())
        .collect();
    let mut expected = descrs.clone();
    expected.sort_by_key(|d| std::cmp::Reverse(d.to_lowercase()));
    assert_eq!(descrs, expected);

    // An interface view holds its own rules and the floating rules without interface;
    // automatic rules are filtered on their raw interface, then shown by description.
    let lan_only = h
        .post_ok("firewall/filter/search_rule", json!({"interface": "lan"}))
        .await;
    let mvc = mvc_rows(&lan_only);
    assert!(
        mvc.iter()
            .all(|r| r["interface"] == "lan" || r["interface"] == "")
    );
    assert!(
        mvc.iter().any(|r| r["interface"] == ""),
        "floating rule shown"
    );
    let rows = lan_only["rows"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["description"] == "anti-lockout rule" && r["interface"] == "LAN")
    );
    assert!(!rows.iter().any(|r| r["interface"] == "WAN"));
    // The floating view: rules not bound to exactly one interface.
    let floating = h
        .post_ok("firewall/filter/search_rule", json!({"interface": ""}))
        .await;
    assert_eq!(mvc_rows(&floating).len(), 1);
    h.sim.shutdown().await;
}

/// 26.1.9 lists the automatic rules only with `show_all` (FilterController at 26.1.9).
#[tokio::test]
async fn automatic_rules_need_show_all_before_26_1_10() {
    let h = Harness::at(Version::V26_1_9).await;
    let automatic = h.sim.automatic_filter_rules().len();
    let plain = h.post_ok("firewall/filter/search_rule", json!({})).await;
    assert_eq!(plain["total"], 12);
    let all = h
        .post_ok("firewall/filter/search_rule", json!({"show_all": "1"}))
        .await;
    assert_eq!(all["total"], 12 + automatic);
    assert_eq!(
        all["rows"][0]["categories"], "Automatically generated rules",
        "26.1.9 files automatic rules under their own category"
    );
    // The 26.1.9 interface view holds exact single-interface matches only; floating rules
    // join it with show_all.
    let lan = h
        .post_ok("firewall/filter/search_rule", json!({"interface": "lan"}))
        .await;
    assert!(mvc_rows(&lan).iter().all(|r| r["interface"] == "lan"));
    let lan_all = h
        .post_ok(
            "firewall/filter/search_rule",
            json!({"interface": "lan", "show_all": "1"}),
        )
        .await;
    assert!(mvc_rows(&lan_all).iter().any(|r| r["interface"] == ""));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn get_rule_renders_option_maps_and_unknown_is_empty_list() {
    let h = Harness::start().await;
    let all = h.post_ok("firewall/filter/search_rule", json!({})).await;
    let uuid = mvc_rows(&all)[1]["uuid"].as_str().unwrap().to_owned();
    let rule = h.get_ok(&format!("firewall/filter/get_rule/{uuid}")).await;
    let r = &rule["rule"];
    assert_eq!(r["enabled"], "1");
    assert_eq!(r["action"]["pass"], json!({"value": "Pass", "selected": 1}));
    assert_eq!(r["action"]["block"]["selected"], 0);
    assert_eq!(
        r["interface"]["lan"],
        json!({"value": "LAN", "selected": 1})
    );
    assert_eq!(r["interface"]["opt1"]["value"], "DMZ");
    assert!(
        r["interface"].get("").is_none(),
        "multi select has no blank entry"
    );
    assert_eq!(
        r["state-policy"][""],
        json!({"value": "default", "selected": 1})
    );
    assert_eq!(r["icmptype"]["echoreq"]["optgroup"], "Common");
    assert!(r["source_net"].is_string());
    assert_eq!(r["direction"]["any"]["value"], "Both");

    let (status, unknown) = h
        .get("firewall/filter/get_rule/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(status, 200);
    assert_eq!(unknown, json!([]));

    // Without uuid: a template with defaults and sequence = max + 100.
    let template = h.get_ok("firewall/filter/get_rule").await;
    assert_eq!(template["rule"]["sequence"], "1300");
    assert_eq!(template["rule"]["protocol"]["any"]["selected"], 1);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn add_is_staged_until_apply() {
    let h = Harness::start().await;
    let uuid = h
        .add_rule(
            json!({"interface": "opt1", "protocol": "tcp", "source_net": "opt1",
            "destination_net": "webservers", "destination_port": "443",
            "description": "DMZ to web", "unknown_key": "ignored", "log": null}),
        )
        .await;
    assert!(uuid::Uuid::parse_str(&uuid).is_ok_and(|u| u.get_version_num() == 4));

    let staged = h.sim.staged();
    let rec = staged.find(&uuid).expect("staged");
    assert_eq!(rec["protocol"], "TCP", "protocol input is upper-cased");
    assert!(h.sim.live().find(&uuid).is_none(), "not live before apply");

    h.post_expect("firewall/filter/apply", json!({"status": "OK\n\n"}))
        .await;
    assert!(h.sim.live().find(&uuid).is_some());

    // set is partial; toggle flips; del removes.
    let set = h
        .post_ok(
            &format!("firewall/filter/set_rule/{uuid}"),
            json!({"rule": {"description": "renamed"}}),
        )
        .await;
    assert_eq!(set, json!({"result": "saved"}));
    assert_eq!(
        h.sim.staged().find(&uuid).unwrap()["destination_port"],
        "443"
    );
    assert_eq!(
        h.sim.live().find(&uuid).unwrap()["description"],
        "DMZ to web"
    );

    h.post_expect(
        &format!("firewall/filter/toggle_rule/{uuid}"),
        json!({"result": "Disabled", "changed": true}),
    )
    .await;
    h.post_expect(
        &format!("firewall/filter/toggle_rule/{uuid}/0"),
        json!({"result": "Disabled", "changed": false}),
    )
    .await;
    h.sim.shutdown().await;
}

#[tokio::test]
async fn set_upserts_unknown_valid_uuid_and_rejects_invalid() {
    let h = Harness::start().await;
    let id = "11111111-2222-4333-8444-555555555555";
    let r = h
        .post_ok(
            &format!("firewall/filter/set_rule/{id}"),
            json!({"rule": {"description": "upsert"}}),
        )
        .await;
    assert_eq!(r, json!({"result": "saved"}));
    assert_eq!(h.sim.staged().find(id).unwrap()["description"], "upsert");
    let r = h
        .post_ok(
            "firewall/filter/set_rule/not-a-uuid",
            json!({"rule": {"description": "x"}}),
        )
        .await;
    assert_eq!(r, json!({"result": "failed"}));
    // Missing wrapper and non-POST.
    let r = h
        .post_ok(
            &format!("firewall/filter/set_rule/{id}"),
            json!({"description": "x"}),
        )
        .await;
    assert_eq!(r, json!({"result": "failed"}));
    let (s, r) = h.get("firewall/filter/add_rule").await;
    assert_eq!((s, r), (200, json!({"result": "failed"})));
    // A wrapper that is not an object sets nothing (isset() on a string offset is false):
    // the defaults are validated and saved.
    let r = h
        .post_ok("firewall/filter/add_rule", json!({"rule": "x"}))
        .await;
    assert_eq!(r["result"], "saved", "{r}");
    // 26.1: an array for a leaf is cast to "Array" with a warning, which production
    // firewalls ignore.
    let r = h
        .post_ok(
            "firewall/filter/add_rule",
            json!({"rule": {"interface": ["lan", "opt1"]}}),
        )
        .await;
    assert_eq!(
        r,
        json!({"result": "failed", "validations": {"rule.interface": "Option [Array] not in list."}})
    );
    // NetworkField::setValue() calls strtolower(): a TypeError, HTTP 500.
    let (s, r) = h
        .post(
            "routes/routes/addroute",
            json!({"route": {"network": ["10.0.0.0/8"], "gateway": "WAN_GW"}}),
        )
        .await;
    assert_eq!(s, 500);
    assert_eq!(
        r,
        json!({"errorMessage": "Unexpected error, check log for details"})
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn arrays_for_leaves_per_release_and_deployment() {
    for (version, development, expected) in
        [(Version::V26_7, false, 500), (Version::V26_1, true, 500)]
    {
        let h = Harness::with(SimConfig {
            version,
            development_mode: development,
            ..SimConfig::default()
        })
        .await;
        let (s, r) = h
            .post(
                "firewall/filter/add_rule",
                json!({"rule": {"interface": ["lan", "opt1"]}}),
            )
            .await;
        assert_eq!(s, expected, "{version:?}: {r}");
        if development {
            assert_eq!(r["errorMessage"], "Array to string conversion");
            assert!(r["errorTrace"].is_string());
        } else {
            assert_eq!(
                r,
                json!({"errorMessage": "Unexpected error, check log for details"})
            );
        }
        h.sim.shutdown().await;
    }
}

#[tokio::test]
async fn validation_messages_are_exact() {
    let h = Harness::start().await;
    let r = h
        .post_ok(
            "firewall/filter/add_rule",
            json!({"rule": {"source_net": "lan,any", "destination_port": "99999", "protocol": "any"}}),
        )
        .await;
    // NetworkAliasField accepts both items; Filter.php refuses the combination.
    assert_eq!(
        r,
        json!({"result": "failed", "validations": {
            "rule.destination_port": [
                "Please specify a valid portnumber, name, alias or range.",
                "Destination ports are only valid for tcp or udp type rules."
            ],
            "rule.source_net": "Any can not be combined with other aliases"
        }})
    );
    assert_eq!(
        h.refused(
            "firewall/filter/add_rule",
            json!({"rule": {"source_net": "lan,nope"}})
        )
        .await["rule.source_net"],
        "lan,nope is not a valid source IP address or alias."
    );
    let r = h
        .post_ok(
            "firewall/filter/add_rule",
            json!({"rule": {"action": "allow", "direction": "sideways", "interface": "lan,bogus",
                "enabled": "yes", "description": "x".repeat(256), "source_net": "2001:db8::1",
                "ipprotocol": "inet", "sequence": "0"}}),
        )
        .await;
    let v = &r["validations"];
    assert_eq!(v["rule.action"], "Option [] not in list.");
    assert_eq!(v["rule.direction"], "Option [] not in list.");
    assert_eq!(v["rule.interface"], "Option [bogus] not in list.");
    assert_eq!(v["rule.enabled"], "Value should be a boolean (0,1).");
    assert_eq!(
        v["rule.description"],
        "Description should be a string between 1 and 255 characters."
    );
    assert_eq!(
        v["rule.source_net"],
        "Source address type should match selected TCP/IP protocol version."
    );
    assert_eq!(
        v["rule.sequence"],
        "Sequence shall be between 1 and 999999."
    );

    let r = h
        .post_ok(
            "firewall/filter/add_rule",
            json!({"rule": {"source_net": "", "icmptype": "echoreq", "protocol": "TCP"}}),
        )
        .await;
    assert_eq!(r["validations"]["rule.source_net"], "A value is required.");
    assert_eq!(
        r["validations"]["rule.icmptype"],
        "Option only applies to ICMP packets"
    );

    // Valid literal CIDR, alias names, interface address keywords.
    for net in [
        "10.0.0.0/8",
        "webservers",
        "lanip",
        "(self)",
        "lan,opt1",
        "internal_nets",
    ] {
        let r = h
            .post_ok(
                "firewall/filter/add_rule",
                json!({"rule": {"destination_net": net}}),
            )
            .await;
        assert_eq!(r["result"], "saved", "{net}: {r}");
    }
    h.sim.shutdown().await;
}

#[tokio::test]
async fn delete_comma_list_reports_last_uuid() {
    let h = Harness::start().await;
    let all = h.post_ok("firewall/filter/search_rule", json!({})).await;
    let ids: Vec<String> = mvc_rows(&all)
        .iter()
        .map(|r| r["uuid"].as_str().unwrap().to_owned())
        .collect();
    let missing = "99999999-9999-4999-8999-999999999999";
    let r = h
        .post_ok(
            &format!("firewall/filter/del_rule/{},{}", ids[0], ids[1]),
            json!({}),
        )
        .await;
    assert_eq!(r, json!({"result": "deleted"}));
    let r = h
        .post_ok(
            &format!("firewall/filter/del_rule/{},{missing}", ids[2]),
            json!({}),
        )
        .await;
    assert_eq!(r, json!({"result": "not found"}));
    assert_eq!(
        h.sim.staged().filter_rules().len(),
        9,
        "earlier deletions are kept"
    );
    assert_eq!(h.sim.live().filter_rules().len(), 12);
    // Without uuid: 404 (missing required parameter).
    let (s, r) = h.post("firewall/filter/del_rule", json!({})).await;
    assert_eq!((s, r), (404, json!({"errorMessage": "Endpoint not found"})));
    // Toggle of a list requires an explicit 0/1.
    let (s, r) = h
        .post(
            &format!("firewall/filter/toggle_rule/{},{}", ids[3], ids[4]),
            json!({}),
        )
        .await;
    assert_eq!(s, 500);
    assert_eq!(r["errorTitle"], "Toggle");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn bulk_rules_for_benchmarks() {
    let h = Harness::with(opnsense_sim::SimConfig {
        extra_rules: 1000,
        ..Default::default()
    })
    .await;
    let all = h
        .post_ok("firewall/filter/search_rule", json!({"rowCount": 50}))
        .await;
    assert_eq!(all["total"], 1012 + h.sim.automatic_filter_rules().len());
    assert_eq!(all["rowCount"], 50);
    assert_eq!(h.sim.live().filter_rules().len(), 1012);
    let first: Vec<Value> = h.sim.live().filter_rules().to_vec();
    assert!(
        first
            .iter()
            .all(|r| uuid::Uuid::parse_str(r["uuid"].as_str().unwrap()).is_ok())
    );
    h.sim.shutdown().await;
}

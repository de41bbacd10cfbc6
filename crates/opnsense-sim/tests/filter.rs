//! firewall/filter: search, get, add/set/del/toggle, validation, staged vs live.

mod common;

use common::{Harness, uuids};
use serde_json::{Value, json};

#[tokio::test]
async fn search_defaults_paging_phrase_and_sort() {
    let h = Harness::start().await;
    // Recordset search: default rowCount 9999, response key order total,rowCount,current,rows.
    let all = h.post_ok("firewall/filter/search_rule", json!({})).await;
    assert_eq!(all["total"], 12);
    assert_eq!(all["rowCount"], 12);
    assert_eq!(all["current"], 1);
    let keys: Vec<&String> = all.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["total", "rowCount", "current", "rows"]);
    // Default sort: sort_order (floating rules first, prio group 200000).
    assert_eq!(all["rows"][0]["interface"], "");
    assert_eq!(all["rows"][0]["prio_group"], "200000");
    let row = &all["rows"][1];
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
    assert_eq!(page["total"], 12);
    assert_eq!(page["rowCount"], 5);
    assert_eq!(page["current"], 2);
    assert_eq!(uuids(&page), uuids(&all)[5..10].to_vec());

    // Paging from the query string is ignored by searchRecordsetBase.
    let q = h
        .post_ok("firewall/filter/search_rule?rowCount=2", json!({}))
        .await;
    assert_eq!(q["rowCount"], 12);

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
    let descrs: Vec<&str> = sorted["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["description"].as_str().unwrap())
        .collect();
    let mut expected = descrs.clone();
    expected.sort_by_key(|d| std::cmp::Reverse(d.to_lowercase()));
    assert_eq!(descrs, expected);

    let lan_only = h
        .post_ok("firewall/filter/search_rule", json!({"interface": "lan"}))
        .await;
    assert!(
        lan_only["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["interface"] == "lan")
    );
    h.sim.shutdown().await;
}

#[tokio::test]
async fn get_rule_renders_option_maps_and_unknown_is_empty_list() {
    let h = Harness::start().await;
    let all = h.post_ok("firewall/filter/search_rule", json!({})).await;
    let uuid = all["rows"][1]["uuid"].as_str().unwrap().to_owned();
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
    let added = h
        .post_ok(
            "firewall/filter/add_rule",
            json!({"rule": {"interface": "opt1", "protocol": "tcp", "source_net": "opt1",
                "destination_net": "webservers", "destination_port": "443",
                "description": "DMZ to web", "unknown_key": "ignored", "log": null}}),
        )
        .await;
    assert_eq!(added["result"], "saved");
    let uuid = added["uuid"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&uuid).is_ok_and(|u| u.get_version_num() == 4));

    let staged = h.sim.staged();
    let rec = staged.find(&uuid).expect("staged");
    assert_eq!(rec["protocol"], "TCP", "protocol input is upper-cased");
    assert!(h.sim.live().find(&uuid).is_none(), "not live before apply");

    let applied = h.post_ok("firewall/filter/apply", json!({})).await;
    assert_eq!(applied, json!({"status": "OK\n\n"}));
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

    let t = h
        .post_ok(&format!("firewall/filter/toggle_rule/{uuid}"), json!({}))
        .await;
    assert_eq!(t, json!({"result": "Disabled", "changed": true}));
    let t = h
        .post_ok(&format!("firewall/filter/toggle_rule/{uuid}/0"), json!({}))
        .await;
    assert_eq!(t, json!({"result": "Disabled", "changed": false}));
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
    // An array for a leaf is a PHP warning => 500.
    let (s, r) = h
        .post(
            "firewall/filter/add_rule",
            json!({"rule": {"interface": ["lan", "opt1"]}}),
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
async fn validation_messages_are_exact() {
    let h = Harness::start().await;
    let r = h
        .post_ok(
            "firewall/filter/add_rule",
            json!({"rule": {"source_net": "lan,any", "destination_port": "99999", "protocol": "any"}}),
        )
        .await;
    assert_eq!(
        r,
        json!({"result": "failed", "validations": {
            "rule.source_net": "lan,any is not a valid source IP address or alias.",
            "rule.destination_port": [
                "Please specify a valid portnumber, name, alias or range.",
                "Destination ports are only valid for tcp or udp type rules."
            ]
        }})
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
    let ids = uuids(&all);
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
        h.sim.staged().filter_rules.len(),
        9,
        "earlier deletions are kept"
    );
    assert_eq!(h.sim.live().filter_rules.len(), 12);
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
    assert_eq!(all["total"], 1012);
    assert_eq!(all["rowCount"], 50);
    assert_eq!(h.sim.live().filter_rules.len(), 1012);
    let first: Vec<Value> = h.sim.live().filter_rules;
    assert!(
        first
            .iter()
            .all(|r| uuid::Uuid::parse_str(r["uuid"].as_str().unwrap()).is_ok())
    );
    h.sim.shutdown().await;
}

//! firewall/alias and firewall/d_nat.

mod common;

use common::{Harness, uuids};
use serde_json::json;

#[tokio::test]
async fn alias_lookup_search_and_get() {
    let h = Harness::start().await;
    let (s, body) = h.get("firewall/alias/getAliasUUID/no_such_alias").await;
    assert_eq!((s, body), (200, json!([])));
    let id = h.get_ok("firewall/alias/getAliasUUID/webservers").await["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = h.get_ok(&format!("firewall/alias/get_item/{id}")).await;
    let a = &item["alias"];
    assert_eq!(
        a["type"]["host"],
        json!({"value": "Host(s)", "selected": 1})
    );
    assert_eq!(
        a["content"]["192.168.1.10"],
        json!({"value": "192.168.1.10", "selected": 1})
    );
    assert_eq!(a["content"]["web_ports"]["selected"], 0);
    assert_eq!(
        a["content"]["bogons"]["description"],
        "bogon networks (internal)"
    );
    assert_eq!(a["interface"][""], json!({"value": "None", "selected": 1}));
    // Unknown uuid crashes the 26.1 controller.
    let (s, body) = h
        .get("firewall/alias/get_item/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(s, 500);
    assert_eq!(
        body["errorMessage"],
        "Unexpected error, check log for details"
    );

    // Model grid: rowCount default -1, built-ins with non-uuid ids, default sort name.
    let all = h.get_ok("firewall/alias/search_item").await;
    let ids = uuids(&all);
    assert!(ids.contains(&"bogons".to_owned()));
    assert!(ids.contains(&"__lan_network".to_owned()));
    let keys: Vec<&String> = all.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["rows", "rowCount", "total", "current"]);
    assert_eq!(all["total"], all["rowCount"]);
    let page = h
        .get_ok("firewall/alias/search_item?rowCount=2&current=2&searchPhrase=")
        .await;
    assert_eq!(page["rowCount"], 2);
    assert_eq!(page["current"], 2);
    let hosts = h
        .post_ok("firewall/alias/search_item", json!({"type": ["host"]}))
        .await;
    assert_eq!(hosts["total"], 2);
    let ports = h
        .post_ok(
            "firewall/alias/search_item",
            json!({"searchPhrase": "Port(s)"}),
        )
        .await;
    assert_eq!(ports["rows"][0]["name"], "web_ports");
    assert_eq!(ports["rows"][0]["%type"], "Port(s)");

    let model = h.get_ok("firewall/alias/get").await;
    assert!(model["alias"]["aliases"]["alias"]["bogons"].is_object());
    assert!(model["alias"]["aliases"]["alias"][&id].is_object());
    let (_, post) = h.post("firewall/alias/get", json!({})).await;
    assert_eq!(post, json!([]));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn alias_validation_and_reconfigure() {
    let h = Harness::start().await;
    let r = h
        .post_ok(
            "firewall/alias/add_item",
            json!({"alias": {"name": "webservers", "type": "host",
                "content": "10.0.0.300\n10.0.0.1,10.0.0.2"}}),
        )
        .await;
    assert_eq!(
        r,
        json!({"result": "failed", "validations": {
            "alias.name": "An alias with this name already exists.",
            "alias.content": [
                "Entry \"10.0.0.300\" is not a valid hostname, IP address or range.",
                "Entry \"10.0.0.1,10.0.0.2\" is not a valid hostname, IP address or range."
            ]
        }})
    );
    assert_eq!(
        h.refused(
            "firewall/alias/add_item",
            json!({"alias": {"name": "ok_name"}})
        )
        .await["alias.type"],
        "Option [] not in list."
    );
    let r = h
        .post_ok(
            "firewall/alias/add_item",
            json!({"alias": {"name": "1bad", "type": "port", "content": "80-90"}}),
        )
        .await;
    assert!(
        r["validations"]["alias.name"]
            .as_str()
            .unwrap()
            .starts_with("The name must start")
    );
    assert_eq!(
        r["validations"]["alias.content"],
        "Entry \"80-90\" is not a valid port number."
    );
    assert_eq!(
        h.refused(
            "firewall/alias/add_item",
            json!({"alias": {"name": "pass", "type": "host"}})
        )
        .await["alias.name"],
        "The name cannot be the internally reserved keyword \"%s\"."
    );
    assert_eq!(
        h.refused(
            "firewall/alias/add_item",
            json!({"alias": {"name": "net1", "type": "network", "content": "10.1.0.0/16\nfoo"}})
        )
        .await["alias.content"],
        "Entry \"foo\" is not a network."
    );

    let id = h
        .saved(
            "firewall/alias/add_item",
            json!({"alias": {"name": "new_hosts", "type": "host", "content": "192.168.1.30\nnas.example.lan", "description": "New"}}),
        )
        .await;
    assert!(h.sim.live().find(&id).is_none());
    let (s, body) = h.get("firewall/alias/reconfigure").await;
    assert_eq!((s, body), (200, json!({"status": "failed"})));
    assert_eq!(
        h.post_ok("firewall/alias/reconfigure", json!({})).await,
        json!({"status": "ok"})
    );
    assert!(h.sim.live().find(&id).is_some());
    h.post_expect(
        &format!("firewall/alias/toggle_item/{id}"),
        json!({"result": "Disabled", "changed": true}),
    )
    .await;
    h.sim.shutdown().await;
}

#[tokio::test]
async fn alias_in_use_is_refused_and_rename_propagates() {
    let h = Harness::start().await;
    let id = h.get_ok("firewall/alias/getAliasUUID/webservers").await["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, body) = h
        .post(&format!("firewall/alias/del_item/{id}"), json!({}))
        .await;
    assert_eq!(s, 500);
    assert_eq!(body["errorTitle"], "Alias in use");
    let msg = body["errorMessage"].as_str().unwrap();
    assert!(
        msg.starts_with("Cannot delete alias webservers. Currently in use by \n[OPNsense.Firewall.Filter.rules.rule.0/destination_net]"),
        "{msg}"
    );
    assert!(h.sim.staged().find(&id).is_some());

    // Rename rewrites the references, so the rules still validate.
    let r = h
        .post_ok(
            &format!("firewall/alias/set_item/{id}"),
            json!({"alias": {"name": "web_farm"}}),
        )
        .await;
    assert_eq!(r, json!({"result": "saved"}));
    assert!(
        h.sim
            .staged()
            .filter_rules()
            .iter()
            .any(|r| r["destination_net"] == "web_farm")
    );

    let (_, r) = h
        .post(
            "firewall/alias/del_item/00000000-0000-4000-8000-000000000000",
            json!({}),
        )
        .await;
    assert_eq!(r, json!({"result": "not found"}));
    let unused = h.get_ok("firewall/alias/getAliasUUID/dmz_net").await["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = h
        .post(&format!("firewall/alias/del_item/{unused}"), json!({}))
        .await;
    assert_eq!(s, 500, "dmz_net is nested in internal_nets");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn dnat_search_has_lockout_rows_and_nested_get() {
    let h = Harness::start().await;
    let all = h.post_ok("firewall/d_nat/search_rule", json!({})).await;
    assert_eq!(all["total"], 2);
    assert_eq!(all["rowCount"], 2);
    let rows = all["rows"].as_array().unwrap();
    // Util::getAntiLockout(): LAN, ports 80 (HTTP redirect) and 443, each row unshifted.
    assert_eq!(rows.len(), 4, "pseudo rows prepended, not counted");
    assert_eq!(rows[0]["uuid"], "lockout_1");
    assert_eq!(rows[0]["destination.port"], "443");
    assert_eq!(rows[1]["uuid"], "lockout_0");
    assert_eq!(rows[1]["destination.port"], "80");
    assert_eq!(rows[0]["descr"], "Anti-Lockout Rule");
    assert_eq!(rows[0]["category"], "Automatically generated rules");
    assert!(rows[0].get("is_automatic").is_none(), "26.7 only");
    assert_eq!(rows[2]["destination.network"], "wanip");
    assert_eq!(rows[2]["%destination.network"], "WAN address");
    assert_eq!(rows[2]["%protocol"], "TCP");
    assert_eq!(rows[2]["created.description"], "/api.php made changes");
    assert!(rows[2].get("sort_order").is_none(), "26.7 only");
    let paged = h
        .post_ok(
            "firewall/d_nat/searchRule",
            json!({"rowCount": 1, "current": 2}),
        )
        .await;
    assert_eq!(paged["rows"].as_array().unwrap().len(), 3);
    assert_eq!(paged["rows"][0]["uuid"], "lockout_1");

    let id = rows[2]["uuid"].as_str().unwrap();
    let rule = h.get_ok(&format!("firewall/d_nat/get_rule/{id}")).await;
    assert_eq!(rule["rule"]["source"]["network"], "any");
    assert_eq!(rule["rule"]["destination"]["port"], "443");
    assert_eq!(
        rule["rule"]["protocol"]["tcp"],
        json!({"value": "TCP", "selected": 1})
    );
    assert_eq!(rule["rule"]["protocol"][""]["value"], "any");
    assert_eq!(rule["rule"]["category"]["Web"]["selected"], 1);
    let (_, unknown) = h
        .get("firewall/d_nat/get_rule/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(unknown, json!([]));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn dnat_crud_validation_toggle_and_apply() {
    let h = Harness::start().await;
    let r = h
        .post_ok(
            "firewall/d_nat/add_rule",
            json!({"rule": {"interface": "wan", "protocol": "any",
                "destination": {"network": "wanip", "port": "8443"}, "target": "192.168.1.300"}}),
        )
        .await;
    assert_eq!(
        r,
        json!({"result": "failed", "validations": {
            "rule.protocol": "Option [] not in list.",
            "rule.destination.port": "Ports are only valid for TCP or UDP type rules.",
            "rule.target": "192.168.1.300 is not a valid source IP address or alias."
        }})
    );
    // A scalar for a container is a PHP error.
    let (s, _) = h
        .post(
            "firewall/d_nat/add_rule",
            json!({"rule": {"source": "any"}}),
        )
        .await;
    assert_eq!(s, 500);
    let id = h
        .saved(
            "firewall/d_nat/add_rule",
            json!({"rule": {"interface": "wan", "ipprotocol": "inet", "protocol": "tcp",
                "source": {"network": "any"}, "destination": {"network": "wanip", "port": "8443"},
                "target": "192.168.1.11", "local-port": "443", "descr": "Alt HTTPS",
                "created": {"username": "mallory"}}}),
        )
        .await;
    let staged = h.sim.staged();
    let rec = staged.find(&id).unwrap();
    assert_eq!(rec["created"]["username"], "root", "created is server-set");
    // DNatSequenceField: max (301 for the second seeded rule) + 100.
    assert_eq!(rec["sequence"], "401");
    assert!(h.sim.live().find(&id).is_none());

    // Inverted toggle: the parameter means "disabled"; no `changed` key.
    h.post_expect_each(&[
        (
            format!("firewall/d_nat/toggle_rule/{id}/1"),
            json!({"result": "Disabled"}),
        ),
        (
            format!("firewall/d_nat/toggle_rule/{id}"),
            json!({"result": "Enabled"}),
        ),
    ])
    .await;
    let t = h
        .post_ok(
            "firewall/d_nat/toggle_rule/00000000-0000-4000-8000-000000000000",
            json!({}),
        )
        .await;
    assert_eq!(t, json!({"result": "failed"}));

    assert_eq!(
        h.post_ok("firewall/d_nat/apply", json!({})).await,
        json!({"status": "OK\n\n"})
    );
    assert!(h.sim.live().find(&id).is_some());
    h.post_expect(
        &format!("firewall/d_nat/del_rule/{id}"),
        json!({"result": "deleted"}),
    )
    .await;
    h.sim.shutdown().await;
}

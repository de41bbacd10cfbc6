//! firewall_nat_* tools (destination NAT / port forwards): wire requests and results.

mod common;

use common::{harness, is_error, structured, text};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, ResponseTemplate};

const UUID: &str = "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7";

fn lockout_row() -> Value {
    json!({
        "uuid": "lockout_0", "ipprotocol": "", "protocol": "tcp", "%protocol": "TCP",
        "disabled": "0", "nordr": "1", "interface": "lan", "%interface": "LAN",
        "destination.network": "lanip", "destination.port": "443",
        "alias_meta_destination.port": [{"value": "443", "%value": "443", "isAlias": false, "description": ""}],
        "descr": "Anti-Lockout Rule", "category": "Automatically generated rules"
    })
}

fn forward_row() -> Value {
    json!({
        "uuid": UUID, "sequence": "100", "disabled": "1", "nordr": "0",
        "interface": "wan,opt1", "%interface": "WAN, DMZ", "ipprotocol": "inet", "%ipprotocol": "IPv4",
        "protocol": "tcp", "%protocol": "TCP",
        "source.network": "10.9.0.0/16", "source.address": "", "source.port": "", "source.not": "1",
        "destination.network": "wanip", "%destination.network": "WAN address",
        "destination.address": "", "destination.port": "443", "destination.not": "0",
        "target": "192.168.1.10", "local-port": "8443", "poolopts": "", "log": "1",
        "category": "", "categories": "", "descr": "HTTPS to web server", "tag": "", "tagged": "",
        "nosync": "0", "natreflection": "", "pass": "", "associated-rule-id": "",
        "created.time": "1767361234.57", "updated.username": "root",
        "category_colors": [],
        "alias_meta_target": [{"value": "192.168.1.10", "%value": "192.168.1.10", "isAlias": false, "description": ""}]
    })
}

fn any_forward_row() -> Value {
    json!({
        "uuid": "4e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b8", "disabled": "0", "interface": "wan",
        "ipprotocol": "", "protocol": "", "source.network": "", "source.not": "0",
        "destination.network": "wanip", "destination.port": "", "destination.not": "0",
        "target": "192.168.1.20", "local-port": "", "log": "0", "descr": ""
    })
}

#[tokio::test]
async fn list_is_compact_and_leaves_out_lockout_rows() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/d_nat/search_rule"))
        .and(body_json(
            json!({"current": 1, "rowCount": 100, "searchPhrase": ""}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 2, "rowCount": 2, "current": 1,
            "rows": [lockout_row(), forward_row(), any_forward_row()]
        })))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("firewall_nat_list", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let v = structured(&r);
    assert_eq!(v["total"], 2);
    assert_eq!(v["returned"], 2);
    assert!(v.get("next").is_none());
    assert_eq!(
        v["rows"][0],
        json!({
            "uuid": UUID, "enabled": false, "interface": "wan,opt1", "protocol": "tcp",
            "source": "!10.9.0.0/16", "destination": "wanip", "destination_port": "443",
            "target": "192.168.1.10", "local_port": "8443",
            "description": "HTTPS to web server", "log": true
        })
    );
    assert_eq!(
        v["rows"][1],
        json!({
            "uuid": "4e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b8", "enabled": true, "interface": "wan",
            "protocol": "any", "source": "any", "destination": "wanip", "target": "192.168.1.20"
        })
    );
    assert!(!v.to_string().contains("lockout_0"));
}

#[tokio::test]
async fn list_raw_returns_opnsense_rows_unchanged() {
    let h = harness().await;
    let rows = json!([lockout_row(), forward_row()]);
    Mock::given(method("POST"))
        .and(path("/api/firewall/d_nat/search_rule"))
        .and(body_json(
            json!({"current": 1, "rowCount": 1000, "searchPhrase": "https"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 1, "rowCount": 1, "current": 1, "rows": rows
        })))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_nat_list",
            json!({"raw": true, "row_count": -1, "search_phrase": "https"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let v = structured(&r);
    assert_eq!(v["raw"], rows);
    assert_eq!(v["rows"], json!([]));
}

#[tokio::test]
async fn list_refuses_bad_paging_before_any_request() {
    let h = harness().await;
    for (args, needle) in [
        (json!({"row_count": 5000}), "row_count"),
        (json!({"current": 0}), "current"),
        (json!({"search_phrase": "a\nb"}), "search_phrase"),
        (json!({"rowCount": 5}), "rowCount"),
    ] {
        let r = h.call("firewall_nat_list", args.clone()).await;
        assert!(is_error(&r), "{args}");
        assert!(text(&r).contains(needle), "{needle}: {}", text(&r));
    }
    h.assert_nothing_sent().await;
}

#[tokio::test]
async fn add_sends_opnsense_names_nested_and_reports_staged() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/d_nat/add_rule"))
        .and(body_json(json!({"rule": {
            "disabled": "0", "interface": "wan", "ipprotocol": "inet", "protocol": "tcp",
            "source": {"network": "203.0.113.0/24", "not": "1"},
            "destination": {"network": "wanip", "port": "443"},
            "target": "192.168.1.10", "local-port": "8443", "log": "1",
            "pass": "pass", "descr": "HTTPS to web server"
        }})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"result": "saved", "uuid": UUID})),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_nat_add",
            json!({"rule": {
                "enabled": true, "interface": ["wan"], "ipprotocol": "inet", "protocol": "tcp",
                "source": {"network": "203.0.113.0/24", "not": true},
                "destination": {"network": "wanip", "port": "443"},
                "target": "192.168.1.10", "local_port": "8443", "log": true, "pass": "pass",
                "description": "HTTPS to web server"
            }}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"result": "added", "uuid": UUID, "apply_with": "firewall_nat_apply"})
    );
}

#[tokio::test]
async fn add_sends_any_as_opnsense_empty_value() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/d_nat/add_rule"))
        .and(body_json(json!({"rule": {
            "interface": "wan,opt1", "ipprotocol": "", "protocol": "",
            "destination": {"network": "wanip"}, "target": "192.168.1.20", "local-port": "any",
            "pass": ""
        }})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"result": "saved", "uuid": UUID})),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_nat_add",
            json!({"rule": {
                "interface": ["wan", "opt1"], "ipprotocol": "any", "protocol": "any",
                "destination": {"network": "wanip"}, "target": "192.168.1.20",
                "local_port": "any", "pass": "manual"
            }}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["uuid"], UUID);
}

#[tokio::test]
async fn add_refuses_bad_input_before_any_request() {
    let h = harness().await;
    let ok = json!({
        "interface": ["wan"], "protocol": "tcp", "destination": {"network": "wanip", "port": "443"},
        "target": "192.168.1.10", "local_port": "443"
    });
    let with = |key: &str, value: Value| {
        let mut rule = ok.clone();
        rule[key] = value;
        json!({ "rule": rule })
    };
    let without = |key: &str| {
        let mut rule = ok.clone();
        rule.as_object_mut().expect("object").remove(key);
        json!({ "rule": rule })
    };
    for (args, needle) in [
        (with("protocol", json!("TCP")), "TCP"),
        (with("protocol", json!("tcp/udp ")), "tcp/udp"),
        (with("ipprotocol", json!("ipv4")), "ipv4"),
        (with("pass", json!("always")), "always"),
        (with("bogus", json!(1)), "bogus"),
        (with("local-port", json!("443")), "local-port"),
        (with("descr", json!("x")), "descr"),
        (with("disabled", json!(true)), "disabled"),
        (
            with("destination", json!({"network": "wanip", "address": "x"})),
            "address",
        ),
        (with("destination", json!({})), "rule.destination"),
        (with("interface", json!(["../wan"])), "rule.interface"),
        (with("interface", json!([])), "rule.interface"),
        (with("description", json!("a\nb")), "rule.description"),
        (with("target", json!("192.168.1.10\n")), "rule.target"),
        (
            with("source", json!({"port": "80\r\n"})),
            "rule.source.port",
        ),
        (without("local_port"), "rule.local_port"),
        (without("protocol"), "rule.protocol"),
        (without("target"), "rule.target"),
        (without("interface"), "rule.interface"),
        (without("destination"), "rule.destination"),
        (json!({"rule": ok.clone(), "apply": true}), "apply"),
    ] {
        let r = h.call("firewall_nat_add", args.clone()).await;
        assert!(is_error(&r), "{args}");
        assert!(text(&r).contains(needle), "{needle}: {}", text(&r));
    }
    h.assert_nothing_sent().await;
}

#[tokio::test]
async fn validation_failure_names_the_fields() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/d_nat/add_rule"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": "failed",
            "validations": {
                "rule.destination.port": "Ports are only valid for TCP or UDP type rules.",
                "rule.target": "192.168.1.300 is not a valid source IP address or alias."
            }
        })))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_nat_add",
            json!({"rule": {"interface": ["wan"], "protocol": "icmp",
                            "destination": {"network": "wanip", "port": "443"},
                            "target": "192.168.1.300", "local_port": "443"}}),
        )
        .await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(
        t.contains("rule.target") && t.contains("192.168.1.300 is not a valid"),
        "{t}"
    );
    assert!(
        t.contains("rule.destination.port") && t.contains("only valid for TCP or UDP"),
        "{t}"
    );
}

#[tokio::test]
async fn update_checks_existence_then_sets_only_given_fields() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/firewall/d_nat/get_rule/{UUID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"rule": {
            "disabled": "0", "interface": {"wan": {"value": "WAN", "selected": 1}},
            "source": {"network": "any", "address": "", "port": "", "not": "0"},
            "destination": {"network": "wanip", "address": "", "port": "443", "not": "0"},
            "target": "192.168.1.10", "local-port": "443", "descr": "HTTPS"
        }})))
        .expect(1)
        .mount(&h.upstream)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/d_nat/set_rule/{UUID}")))
        .and(body_json(json!({"rule": {
            "disabled": "1", "protocol": "tcp/udp", "destination": {"port": "8443"}
        }})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": "saved"})))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_nat_update",
            json!({"uuid": UUID, "rule": {"enabled": false, "protocol": "tcp/udp",
                                          "destination": {"port": "8443"}}}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"result": "updated", "uuid": UUID, "apply_with": "firewall_nat_apply"})
    );
}

#[tokio::test]
async fn update_of_unknown_uuid_is_not_found_and_sends_no_set() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/firewall/d_nat/get_rule/{UUID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&h.upstream)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/d_nat/set_rule/{UUID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": "saved"})))
        .expect(0)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_nat_update",
            json!({"uuid": UUID, "rule": {"target": "192.168.1.11"}}),
        )
        .await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(t.contains(UUID) && t.contains("not found"), "{t}");
}

#[tokio::test]
async fn update_refuses_bad_input_before_any_request() {
    let h = harness().await;
    for (args, needle) in [
        (json!({"uuid": UUID, "rule": {}}), "names no field"),
        (
            json!({"uuid": "lockout_0", "rule": {"enabled": true}}),
            "uuid",
        ),
        (
            json!({"uuid": "../../../api/core/firmware/poweroff", "rule": {"enabled": true}}),
            "uuid",
        ),
        (
            json!({"uuid": format!("{UUID}\n"), "rule": {"enabled": true}}),
            "uuid",
        ),
        (json!({"uuid": UUID, "rule": {"protocol": "sctp"}}), "sctp"),
        (
            json!({"uuid": UUID, "rule": {"source": {"net": "any"}}}),
            "net",
        ),
        (
            json!({"uuid": UUID, "rule": {"interface": ["wan opt1"]}}),
            "rule.interface",
        ),
    ] {
        let r = h.call("firewall_nat_update", args.clone()).await;
        assert!(is_error(&r), "{args}");
        assert!(text(&r).contains(needle), "{needle}: {}", text(&r));
    }
    h.assert_nothing_sent().await;
}

#[tokio::test]
async fn delete_posts_without_body() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/d_nat/del_rule/{UUID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": "deleted"})))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("firewall_nat_delete", json!({"uuid": UUID})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"result": "deleted", "uuid": UUID, "apply_with": "firewall_nat_apply"})
    );
    h.assert_bodyless_post(&format!("/api/firewall/d_nat/del_rule/{UUID}"))
        .await;
}

#[tokio::test]
async fn delete_of_unknown_uuid_is_not_found() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/d_nat/del_rule/{UUID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": "not found"})))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("firewall_nat_delete", json!({"uuid": UUID})).await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(t.contains(UUID) && t.contains("not found"), "{t}");
}

#[tokio::test]
async fn delete_refuses_lockout_ids_and_path_traversal() {
    let h = harness().await;
    for uuid in [
        "lockout_0",
        "../apply",
        "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7,x",
    ] {
        let r = h.call("firewall_nat_delete", json!({"uuid": uuid})).await;
        assert!(is_error(&r), "{uuid}");
        assert!(text(&r).contains("uuid"), "{}", text(&r));
    }
    h.assert_nothing_sent().await;
}

#[tokio::test]
async fn apply_posts_without_body() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/d_nat/apply"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "OK\n\n"})))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("firewall_nat_apply", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"action": "port forwards applied", "status": "OK"})
    );
    h.assert_bodyless_post("/api/firewall/d_nat/apply").await;
}

#[tokio::test]
async fn apply_error_status_is_an_error() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/d_nat/apply"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "Error (1)\n"})))
        .mount(&h.upstream)
        .await;
    let r = h.call("firewall_nat_apply", json!({})).await;
    assert!(is_error(&r), "{}", text(&r));
}

#[tokio::test]
async fn tools_are_listed_with_annotations_and_typed_schemas() {
    let h = harness().await;
    let tools = h.client.list_all_tools().await.expect("tools");
    let find = |name: &str| {
        tools
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    for (name, read_only, destructive) in [
        ("firewall_nat_list", true, None),
        ("firewall_nat_add", false, Some(false)),
        ("firewall_nat_update", false, Some(false)),
        ("firewall_nat_delete", false, Some(true)),
        ("firewall_nat_apply", false, Some(true)),
    ] {
        let t = find(name);
        let a = t.annotations.as_ref().expect("annotations");
        assert_eq!(a.read_only_hint, Some(read_only), "{name}");
        assert_eq!(a.destructive_hint, destructive, "{name}");
        assert_eq!(a.open_world_hint, Some(false), "{name}");
        assert!(t.output_schema.is_some(), "{name}");
    }
    let add = serde_json::to_value(&*find("firewall_nat_add").input_schema).expect("schema");
    let text = add.to_string();
    assert!(
        text.contains(r#""enum":["any","tcp","udp","tcp/udp""#),
        "protocol enum: {text}"
    );
    assert!(
        text.contains(r#""required":["interface","protocol","destination","target","local_port"]"#),
        "{text}"
    );
    let update = serde_json::to_value(&*find("firewall_nat_update").input_schema).expect("schema");
    assert!(
        update.to_string().contains("additionalProperties"),
        "{update}"
    );
}

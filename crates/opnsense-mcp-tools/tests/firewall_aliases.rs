//! firewall_alias_* tools: wire requests and results.

mod common;

use common::{harness, is_error, structured, text};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, ResponseTemplate};

const UUID: &str = "c2e7b0a4-3f1d-4e8a-9b6c-7d5e4f3a2b10";

fn alias_row(uuid: &str, name: &str, kind: &str, content: &str) -> Value {
    json!({
        "uuid": uuid, "enabled": "1", "name": name, "type": kind, "%type": "Host(s)",
        "path_expression": "", "proto": "", "interface": "", "counters": "0", "updatefreq": "",
        "content": content, "password": "", "username": "", "authtype": "", "expire": "",
        "categories": "", "current_items": "", "last_updated": "", "description": "",
        "categories_uuid": []
    })
}

#[tokio::test]
async fn list_uses_search_item_and_is_compact() {
    let h = harness().await;
    let many: Vec<String> = (1..=25).map(|i| format!("10.0.0.{i}")).collect();
    let mut bogons = alias_row("bogons", "bogons", "external", "");
    bogons["description"] = json!("bogon networks (internal)");
    let mut web = alias_row(UUID, "webservers", "host", &many.join("\n"));
    web["description"] = json!("Web servers");
    web["enabled"] = json!("0");
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/search_item"))
        .and(body_json(
            json!({"current": 2, "rowCount": 2, "searchPhrase": "web"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 5, "rowCount": 2, "current": 2, "rows": [bogons, web]
        })))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_alias_list",
            json!({"current": 2, "row_count": 2, "search_phrase": "web"}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    let v = structured(&r);
    assert_eq!(v["total"], 5);
    assert_eq!(v["returned"], 2);
    assert_eq!(
        v["rows"][0],
        json!({"uuid": "bogons", "name": "bogons", "type": "external", "enabled": true,
               "content": [], "description": "bogon networks (internal)", "builtin": true})
    );
    let row = &v["rows"][1];
    assert_eq!(row["uuid"], UUID);
    assert_eq!(row["type"], "host");
    assert_eq!(row["enabled"], false);
    assert_eq!(row["content"].as_array().expect("content").len(), 20);
    assert_eq!(row["content"][0], "10.0.0.1");
    assert_eq!(row["content"][19], "10.0.0.20");
    assert_eq!(row["content_more"], 5);
    assert!(row.get("builtin").is_none());
    assert!(row.get("counters").is_none() && row.get("%type").is_none());
    assert!(v["next"].as_str().expect("next").contains("current = 3"));
}

#[tokio::test]
async fn list_raw_returns_opnsense_rows_unchanged() {
    let h = harness().await;
    let rows = json!([alias_row(
        UUID,
        "webservers",
        "host",
        "192.168.1.10\n192.168.1.11"
    )]);
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/search_item"))
        .and(body_json(
            json!({"current": 1, "rowCount": 100, "searchPhrase": ""}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 1, "rowCount": 1, "current": 1, "rows": rows
        })))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("firewall_alias_list", json!({"raw": true})).await;
    assert!(!is_error(&r), "{}", text(&r));
    let v = structured(&r);
    assert_eq!(v["raw"], rows);
    assert_eq!(v["rows"], json!([]));
    assert_eq!(v["returned"], 1);
}

#[tokio::test]
async fn get_uuid_returns_name_and_uuid() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path("/api/firewall/alias/getAliasUUID/webservers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"uuid": UUID})))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call("firewall_alias_get_uuid", json!({"name": "webservers"}))
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r), json!({"name": "webservers", "uuid": UUID}));
}

#[tokio::test]
async fn get_uuid_of_unknown_name_is_not_found() {
    let h = harness().await;
    Mock::given(method("GET"))
        .and(path("/api/firewall/alias/getAliasUUID/nosuch"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call("firewall_alias_get_uuid", json!({"name": "nosuch"}))
        .await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(t.contains("nosuch") && t.contains("not found"), "{t}");
}

#[tokio::test]
async fn get_uuid_refuses_bad_names_before_any_request() {
    let h = harness().await;
    for (args, needle) in [
        (json!({"name": "../etc/passwd"}), "name"),
        (json!({"name": "web%2f.."}), "name"),
        (json!({"name": "web\n"}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "a".repeat(33)}), "name"),
        (json!({"name": "web", "bogus": 1}), "bogus"),
        (json!({}), "name"),
    ] {
        let r = h.call("firewall_alias_get_uuid", args.clone()).await;
        assert!(is_error(&r), "{args}");
        assert!(text(&r).contains(needle), "{needle}: {}", text(&r));
    }
    h.assert_nothing_sent().await;
}

#[tokio::test]
async fn add_sends_newline_separated_content_and_reports_staged() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/add_item"))
        .and(body_json(json!({"alias": {
            "name": "webservers", "type": "host", "enabled": "1",
            "content": "192.168.1.10\n192.168.1.11\nweb.example.com",
            "description": "Web servers", "counters": "1"
        }})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"result": "saved", "uuid": UUID})),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_alias_add",
            json!({"alias": {"name": "webservers", "type": "host", "enabled": true,
                             "content": ["192.168.1.10", "192.168.1.11", "web.example.com"],
                             "description": "Web servers", "counters": true}}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"result": "added", "uuid": UUID, "apply_with": "firewall_alias_apply"})
    );
}

#[tokio::test]
async fn add_sends_proto_and_updatefreq_as_opnsense_text() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/add_item"))
        .and(body_json(json!({"alias": {
            "name": "blocklist", "type": "urltable", "proto": "IPv4,IPv6",
            "content": "https://example.com/list.txt", "updatefreq": "0.5"
        }})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"result": "saved", "uuid": UUID})),
        )
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_alias_add",
            json!({"alias": {"name": "blocklist", "type": "urltable", "proto": ["IPv4", "IPv6"],
                             "content": ["https://example.com/list.txt"], "updatefreq": 0.5}}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(structured(&r)["uuid"], UUID);
}

#[tokio::test]
async fn add_refuses_bad_input_before_any_request() {
    let h = harness().await;
    for (args, needle) in [
        (json!({"alias": {"name": "x", "type": "hosts"}}), "hosts"),
        (json!({"alias": {"name": "x"}}), "alias.type"),
        (json!({"alias": {"type": "host"}}), "alias.name"),
        (
            json!({"alias": {"name": "x", "type": "host", "bogus": 1}}),
            "bogus",
        ),
        (
            json!({"alias": {"name": "x", "type": "host"}, "extra": true}),
            "extra",
        ),
        (
            json!({"alias": {"name": "../x", "type": "host"}}),
            "alias.name",
        ),
        (
            json!({"alias": {"name": "_", "type": "host"}}),
            "alias.name",
        ),
        (
            json!({"alias": {"name": "x", "type": "host", "content": ["10.0.0.1\n10.0.0.2"]}}),
            "alias.content[0]",
        ),
        (
            json!({"alias": {"name": "x", "type": "host", "content": ["10.0.0.1", " "]}}),
            "alias.content[1]",
        ),
        (
            json!({"alias": {"name": "x", "type": "host", "content": "10.0.0.1"}}),
            "alias.content must be a JSON list",
        ),
        (
            json!({"alias": {"name": "x", "type": "geoip", "proto": ["IPv5"]}}),
            "IPv5",
        ),
        (
            json!({"alias": {"name": "x", "type": "urltable", "updatefreq": -1}}),
            "alias.updatefreq",
        ),
        (
            json!({"alias": {"name": "x", "type": "dynipv6host", "interface": "wan/../x"}}),
            "alias.interface",
        ),
        (
            json!({"alias": {"name": "x", "type": "host", "description": "a\nb"}}),
            "alias.description",
        ),
    ] {
        let r = h.call("firewall_alias_add", args.clone()).await;
        assert!(is_error(&r), "{args}");
        assert!(text(&r).contains(needle), "{needle}: {}", text(&r));
    }
    h.assert_nothing_sent().await;
}

#[tokio::test]
async fn validation_failure_names_the_fields() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/add_item"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": "failed",
            "validations": {
                "alias.name": "An alias with this name already exists.",
                "alias.content": ["Entry \"10.0.0.300\" is not a valid hostname, IP address or range."]
            }
        })))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_alias_add",
            json!({"alias": {"name": "webservers", "type": "host", "content": ["10.0.0.300"]}}),
        )
        .await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(
        t.contains("alias.name") && t.contains("already exists"),
        "{t}"
    );
    assert!(
        t.contains("alias.content") && t.contains("10.0.0.300"),
        "{t}"
    );
}

#[tokio::test]
async fn update_checks_existence_then_sets_only_given_fields() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/search_item"))
        .and(body_json(
            json!({"current": 1, "rowCount": -1, "searchPhrase": UUID}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 1, "rowCount": 1, "current": 1,
            "rows": [alias_row(UUID, "webservers", "host", "192.168.1.10")]
        })))
        .expect(1)
        .mount(&h.upstream)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/alias/set_item/{UUID}")))
        .and(body_json(
            json!({"alias": {"content": "192.168.1.10\n192.168.1.12", "enabled": "0"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": "saved"})))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_alias_update",
            json!({"uuid": UUID.to_uppercase(),
                   "alias": {"content": ["192.168.1.10", "192.168.1.12"], "enabled": false}}),
        )
        .await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"result": "updated", "uuid": UUID, "apply_with": "firewall_alias_apply"})
    );
}

#[tokio::test]
async fn update_of_unknown_uuid_is_not_found_and_sends_no_set() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/search_item"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "total": 0, "rowCount": 0, "current": 1, "rows": []
        })))
        .mount(&h.upstream)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/alias/set_item/{UUID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": "saved"})))
        .expect(0)
        .mount(&h.upstream)
        .await;
    let r = h
        .call(
            "firewall_alias_update",
            json!({"uuid": UUID, "alias": {"description": "x"}}),
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
        (json!({"uuid": UUID, "alias": {}}), "names no field"),
        (
            json!({"uuid": "../../etc", "alias": {"enabled": true}}),
            "uuid",
        ),
        (
            json!({"uuid": format!("{UUID}/../x"), "alias": {"enabled": true}}),
            "uuid",
        ),
        (json!({"uuid": UUID, "alias": {"type": "bogus"}}), "bogus"),
        (
            json!({"uuid": UUID, "alias": {"enabled": true, "uuid": UUID}}),
            "uuid",
        ),
        (json!({"uuid": UUID}), "alias"),
    ] {
        let r = h.call("firewall_alias_update", args.clone()).await;
        assert!(is_error(&r), "{args}");
        assert!(text(&r).contains(needle), "{needle}: {}", text(&r));
    }
    h.assert_nothing_sent().await;
}

#[tokio::test]
async fn delete_posts_without_body() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/alias/del_item/{UUID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": "deleted"})))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("firewall_alias_delete", json!({"uuid": UUID})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"result": "deleted", "uuid": UUID, "apply_with": "firewall_alias_apply"})
    );
    h.assert_bodyless_post(&format!("/api/firewall/alias/del_item/{UUID}"))
        .await;
}

#[tokio::test]
async fn delete_of_alias_in_use_is_an_error_with_opnsense_text() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/alias/del_item/{UUID}")))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "errorMessage": "Cannot delete alias webservers. Currently in use by \n[OPNsense.Firewall.Filter.rules.rule.0/destination_net] ",
            "errorTitle": "Alias in use"
        })))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("firewall_alias_delete", json!({"uuid": UUID})).await;
    assert!(is_error(&r));
    let t = text(&r);
    assert!(t.contains("Alias in use"), "{t}");
    assert!(
        t.contains("Cannot delete alias webservers. Currently in use by"),
        "{t}"
    );
    assert!(t.contains("rules.rule.0/destination_net"), "{t}");
    assert!(t.contains("Nothing was changed"), "{t}");
}

#[tokio::test]
async fn delete_of_unknown_uuid_is_not_found() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/alias/del_item/{UUID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"result": "not found"})))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("firewall_alias_delete", json!({"uuid": UUID})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains("not found"), "{}", text(&r));
}

#[tokio::test]
async fn delete_refuses_path_traversal_and_builtin_names() {
    let h = harness().await;
    for uuid in ["../../core/firmware/poweroff", "bogons", "", "%2e%2e"] {
        let r = h.call("firewall_alias_delete", json!({"uuid": uuid})).await;
        assert!(is_error(&r), "{uuid}");
        assert!(text(&r).contains("uuid"), "{}", text(&r));
    }
    h.assert_nothing_sent().await;
}

#[tokio::test]
async fn apply_reconfigures_without_body() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/reconfigure"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "ok"})))
        .expect(1)
        .mount(&h.upstream)
        .await;
    let r = h.call("firewall_alias_apply", json!({})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(
        structured(&r),
        json!({"action": "firewall aliases applied", "status": "ok"})
    );
    h.assert_bodyless_post("/api/firewall/alias/reconfigure")
        .await;
}

#[tokio::test]
async fn apply_failure_is_an_error() {
    let h = harness().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/reconfigure"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "failed"})))
        .mount(&h.upstream)
        .await;
    let r = h.call("firewall_alias_apply", json!({})).await;
    assert!(is_error(&r), "{}", text(&r));
    let r = h.call("firewall_alias_apply", json!({"now": true})).await;
    assert!(is_error(&r) && text(&r).contains("now"), "{}", text(&r));
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
        ("firewall_alias_list", true, None),
        ("firewall_alias_get_uuid", true, None),
        ("firewall_alias_add", false, Some(false)),
        ("firewall_alias_update", false, Some(false)),
        ("firewall_alias_delete", false, Some(true)),
        ("firewall_alias_apply", false, Some(true)),
    ] {
        let t = find(name);
        let a = t.annotations.as_ref().expect("annotations");
        assert_eq!(a.read_only_hint, Some(read_only), "{name}");
        assert_eq!(a.destructive_hint, destructive, "{name}");
        assert_eq!(a.open_world_hint, Some(false), "{name}");
        assert!(t.output_schema.is_some(), "{name}");
    }
    let add = serde_json::to_value(&*find("firewall_alias_add").input_schema).expect("schema");
    let text = add.to_string();
    assert!(text.contains("\"urltable\""), "type enum: {text}");
    assert!(text.contains("\"required\":[\"name\",\"type\"]"), "{text}");
}

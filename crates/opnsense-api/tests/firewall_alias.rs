//! `firewall/alias`: one wiremock test per endpoint method, plus model round trips.

mod common;

use std::collections::BTreeMap;

use common::{NoBody, basic_auth, client, fixture, json, json_body};
use opnsense_api::fields::{CsvList, LineList};
use opnsense_api::models::firewall::{Alias, AliasAuthType, AliasModel, AliasType};
use opnsense_api::{AliasName, Error, SearchQuery, Uuid};
use serde_json::{Value, json};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const WEBSERVERS: &str = "c2e7b0a4-3f1d-4e8a-9b6c-7d5e4f3a2b10";
/// A well-formed uuid that is not in the search fixture.
const UNKNOWN: &str = "0b7e0b9c-3c2a-4c9e-9d39-5f6d2f1f4a10";
const WEB_CATEGORY: &str = "8b1a2c3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d";

fn fx(name: &str) -> Value {
    fixture("firewall", name)
}

fn uuid(s: &str) -> Uuid {
    Uuid::parse(s).expect("uuid")
}

fn search_body(phrase: &str) -> Value {
    json!({"current": 1, "rowCount": -1, "searchPhrase": phrase})
}

async fn mount_search(server: &MockServer, phrase: &str) {
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/search_item"))
        .and(basic_auth())
        .and(json_body(search_body(phrase)))
        .respond_with(json(fx("alias_search_item.json")))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_get(server: &MockServer, p: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(p))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(body))
        .expect(1)
        .mount(server)
        .await;
}

async fn mount_post_nobody(server: &MockServer, p: &str, resp: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(p))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(resp)
        .expect(1)
        .mount(server)
        .await;
}

fn lines(items: &[&str]) -> LineList {
    LineList(items.iter().map(|s| (*s).to_owned()).collect())
}

#[tokio::test]
async fn model_reads_the_whole_alias_tree() {
    let server = MockServer::start().await;
    mount_get(&server, "/api/firewall/alias/get", fx("alias_get.json")).await;
    let m: AliasModel = client(&server)
        .await
        .firewall()
        .alias()
        .model()
        .await
        .expect("model");
    assert_eq!(m.geoip.as_ref().and_then(|g| g.url.as_deref()), None);
    let ids: Vec<&str> = m.aliases.alias.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        ["a1b2c3d4-e5f6-4789-8abc-def012345678", "bogons", WEBSERVERS]
    );
    let web = &m.aliases.alias[WEBSERVERS];
    assert_eq!(web.uuid.as_deref(), Some(WEBSERVERS), "filled from the key");
    assert!(!web.is_builtin());
    assert_eq!(web.name.as_deref(), Some("webservers"));
    assert_eq!(web.alias_type, Some(AliasType::Host));
    assert_eq!(web.content, Some(lines(&["192.168.1.10", "192.168.1.11"])));
    assert_eq!(web.interface, None);
    assert_eq!(web.authtype, None);
    let bogons = &m.aliases.alias["bogons"];
    assert!(bogons.is_builtin());
    assert_eq!(bogons.alias_type, Some(AliasType::External));
}

#[tokio::test]
async fn model_refuses_an_answer_without_alias() {
    let server = MockServer::start().await;
    mount_get(&server, "/api/firewall/alias/get", json!([])).await;
    let err = client(&server)
        .await
        .firewall()
        .alias()
        .model()
        .await
        .expect_err("[]");
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
}

#[tokio::test]
async fn search_reads_rows_including_builtins() {
    let server = MockServer::start().await;
    mount_search(&server, "").await;
    let page = client(&server)
        .await
        .firewall()
        .alias()
        .search(&SearchQuery::all())
        .await
        .expect("search");
    assert_eq!((page.total, page.row_count, page.current), (3, 3, 1));
    let [bogons, ports, web] = &page.rows[..] else {
        panic!("3 rows expected")
    };
    assert!(bogons.is_builtin());
    assert_eq!(bogons.uuid.as_deref(), Some("bogons"));
    assert_eq!(bogons.content, None);
    assert_eq!(ports.alias_type, Some(AliasType::Port));
    assert_eq!(ports.content, Some(lines(&["80", "443", "8000:8100"])));
    assert!(!web.is_builtin());
    assert_eq!(web.enabled, Some(true));
    assert_eq!(web.counters, Some(false));
    assert_eq!(web.content, Some(lines(&["192.168.1.10", "192.168.1.11"])));
    assert_eq!(web.categories, Some(CsvList(vec![WEB_CATEGORY.into()])));
    assert_eq!(web.current_items, Some(2));
    assert_eq!(web.last_updated.as_deref(), Some("2026-01-02T10:20:30"));
    assert_eq!(web.description.as_deref(), Some("Web servers"));
    assert_eq!(web.extra.get("%type"), Some(&json!("Host(s)")));
    assert_eq!(
        web.extra.get("categories_uuid"),
        Some(&json!([WEB_CATEGORY]))
    );
}

#[tokio::test]
async fn get_item_reads_option_maps() {
    let server = MockServer::start().await;
    mount_get(
        &server,
        &format!("/api/firewall/alias/get_item/{WEBSERVERS}"),
        fx("alias_get_item.json"),
    )
    .await;
    let a = client(&server)
        .await
        .firewall()
        .alias()
        .get(&uuid(WEBSERVERS))
        .await
        .expect("get");
    assert_eq!(a.enabled, Some(true));
    assert_eq!(a.name.as_deref(), Some("webservers"));
    assert_eq!(a.alias_type, Some(AliasType::Host));
    // Only the selected keys: the other alias names offered in the map are not content.
    assert_eq!(a.content, Some(lines(&["192.168.1.10", "192.168.1.11"])));
    assert_eq!(a.proto, None);
    assert_eq!(a.interface, None);
    assert_eq!(a.authtype, None);
    assert_eq!(a.path_expression, None);
    assert_eq!(a.expire, None);
    assert_eq!(a.counters, Some(false));
    assert_eq!(a.categories, Some(CsvList(vec![WEB_CATEGORY.into()])));
    assert_eq!(a.current_items, Some(2));
    assert_eq!(a.description.as_deref(), Some("Web servers"));
}

#[tokio::test]
async fn get_item_unknown_uuid_http_500_is_confirmed_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/firewall/alias/get_item/{UNKNOWN}")))
        .and(basic_auth())
        .respond_with(ResponseTemplate::new(500).set_body_json(fx("error_500_unexpected.json")))
        .expect(1)
        .mount(&server)
        .await;
    mount_search(&server, UNKNOWN).await;
    let err = client(&server)
        .await
        .firewall()
        .alias()
        .get(&uuid(UNKNOWN))
        .await
        .expect_err("not found");
    match err {
        Error::NotFound { kind, id } => assert_eq!((kind, id.as_str()), ("alias", UNKNOWN)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn get_item_http_500_for_an_existing_alias_stays_an_http_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/firewall/alias/get_item/{WEBSERVERS}")))
        .and(basic_auth())
        .respond_with(ResponseTemplate::new(500).set_body_json(fx("error_500_unexpected.json")))
        .expect(1)
        .mount(&server)
        .await;
    mount_search(&server, WEBSERVERS).await;
    let err = client(&server)
        .await
        .firewall()
        .alias()
        .get(&uuid(WEBSERVERS))
        .await
        .expect_err("500");
    assert_eq!(err.http_status(), Some(500), "{err:?}");
    assert!(err.to_string().contains("Unexpected error"), "{err}");
}

#[tokio::test]
async fn uuid_of_finds_a_name() {
    let server = MockServer::start().await;
    mount_get(
        &server,
        "/api/firewall/alias/getAliasUUID/webservers",
        fx("alias_get_uuid.json"),
    )
    .await;
    let name = AliasName::parse("webservers").expect("name");
    let id = client(&server)
        .await
        .firewall()
        .alias()
        .uuid_of(&name)
        .await
        .expect("found");
    assert_eq!(id, WEBSERVERS);
}

#[tokio::test]
async fn uuid_of_empty_list_is_not_found() {
    let server = MockServer::start().await;
    mount_get(
        &server,
        "/api/firewall/alias/getAliasUUID/nosuch",
        fx("alias_get_uuid_not_found.json"),
    )
    .await;
    let name = AliasName::parse("nosuch").expect("name");
    let err = client(&server)
        .await
        .firewall()
        .alias()
        .uuid_of(&name)
        .await
        .expect_err("not found");
    assert_eq!(err.to_string(), "alias nosuch not found");
}

#[test]
fn unsafe_alias_names_cannot_be_built() {
    for bad in ["../x", "a/b", "a%2fb", "a?b", "web\n", "a b", ""] {
        AliasName::parse(bad).expect_err(bad);
    }
}

fn new_alias() -> Alias {
    Alias {
        enabled: Some(true),
        name: Some("webservers".into()),
        alias_type: Some(AliasType::Host),
        content: Some(lines(&["192.168.1.10", "192.168.1.11"])),
        description: Some("Web servers".into()),
        ..Alias::default()
    }
}

fn new_alias_body() -> Value {
    json!({"alias": {
        "enabled": "1",
        "name": "webservers",
        "type": "host",
        "content": "192.168.1.10\n192.168.1.11",
        "description": "Web servers"
    }})
}

#[tokio::test]
async fn add_sends_newline_joined_content() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/add_item"))
        .and(basic_auth())
        .and(json_body(new_alias_body()))
        .respond_with(json(fx("alias_add_item_saved.json")))
        .expect(1)
        .mount(&server)
        .await;
    let saved = client(&server)
        .await
        .firewall()
        .alias()
        .add(&new_alias())
        .await
        .expect("saved");
    assert_eq!(saved.uuid.as_deref(), Some(WEBSERVERS));
}

#[tokio::test]
async fn add_failed_reports_every_field_and_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/firewall/alias/add_item"))
        .and(basic_auth())
        .and(json_body(new_alias_body()))
        .respond_with(json(fx("alias_add_item_failed.json")))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .firewall()
        .alias()
        .add(&new_alias())
        .await
        .expect_err("failed");
    match err {
        Error::Validation { path, errors } => {
            assert_eq!(path, "firewall/alias/add_item");
            let expected: BTreeMap<String, Vec<String>> = [
                (
                    "alias.name".to_owned(),
                    vec!["An alias with this name already exists.".to_owned()],
                ),
                (
                    "alias.content".to_owned(),
                    vec![
                        "Entry \"10.0.0.300\" is not a valid hostname, IP address or range."
                            .to_owned(),
                        "Entry \"10.0.0.1,10.0.0.2\" is not a valid hostname, IP address or range."
                            .to_owned(),
                    ],
                ),
            ]
            .into_iter()
            .collect();
            assert_eq!(errors, expected);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn set_checks_existence_by_search_then_sets() {
    let server = MockServer::start().await;
    mount_search(&server, WEBSERVERS).await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/alias/set_item/{WEBSERVERS}")))
        .and(basic_auth())
        .and(json_body(json!({"alias": {"content": "192.168.1.12"}})))
        .respond_with(json(fx("alias_set_item_saved.json")))
        .expect(1)
        .mount(&server)
        .await;
    let change = Alias {
        content: Some(lines(&["192.168.1.12"])),
        ..Alias::default()
    };
    client(&server)
        .await
        .firewall()
        .alias()
        .set(&uuid(WEBSERVERS), &change)
        .await
        .expect("saved");
}

#[tokio::test]
async fn set_unknown_uuid_is_not_found_and_sends_no_set() {
    let server = MockServer::start().await;
    mount_search(&server, UNKNOWN).await;
    Mock::given(method("POST"))
        .and(path(format!("/api/firewall/alias/set_item/{UNKNOWN}")))
        .respond_with(json(fx("alias_set_item_saved.json")))
        .expect(0)
        .mount(&server)
        .await;
    let err = client(&server)
        .await
        .firewall()
        .alias()
        .set(&uuid(UNKNOWN), &new_alias())
        .await
        .expect_err("not found");
    assert!(
        matches!(err, Error::NotFound { kind: "alias", .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn delete_sends_no_body() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/alias/del_item/{WEBSERVERS}"),
        json(fx("alias_del_item.json")),
    )
    .await;
    client(&server)
        .await
        .firewall()
        .alias()
        .delete(&uuid(WEBSERVERS))
        .await
        .expect("deleted");
}

#[tokio::test]
async fn delete_unknown_is_not_found() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/alias/del_item/{UNKNOWN}"),
        json(fx("alias_del_item_not_found.json")),
    )
    .await;
    let err = client(&server)
        .await
        .firewall()
        .alias()
        .delete(&uuid(UNKNOWN))
        .await
        .expect_err("not found");
    assert!(
        matches!(err, Error::NotFound { kind: "alias", .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn delete_in_use_is_http_error_with_opnsense_message() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/alias/del_item/{WEBSERVERS}"),
        ResponseTemplate::new(500).set_body_json(fx("alias_del_item_in_use.json")),
    )
    .await;
    let err = client(&server)
        .await
        .firewall()
        .alias()
        .delete(&uuid(WEBSERVERS))
        .await
        .expect_err("in use");
    match &err {
        Error::Http {
            status,
            method,
            path,
            message,
        } => {
            assert_eq!(*status, 500);
            assert_eq!(*method, "POST");
            assert_eq!(path, &format!("firewall/alias/del_item/{WEBSERVERS}"));
            assert!(message.contains("Alias in use"), "{message}");
            assert!(
                message.contains("Cannot delete alias webservers. Currently in use by"),
                "{message}"
            );
            assert!(
                message.contains("OPNsense.Firewall.Filter.rules.rule.0/destination_net"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn toggle_flips_and_forces() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/alias/toggle_item/{WEBSERVERS}"),
        json(fx("alias_toggle_item.json")),
    )
    .await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/alias/toggle_item/{WEBSERVERS}/1"),
        json(json!({"result": "Enabled", "changed": true})),
    )
    .await;
    let c = client(&server).await;
    let t = c
        .firewall()
        .alias()
        .toggle(&uuid(WEBSERVERS), None)
        .await
        .expect("flip");
    assert_eq!((t.enabled, t.changed), (false, Some(true)));
    let t = c
        .firewall()
        .alias()
        .toggle(&uuid(WEBSERVERS), Some(true))
        .await
        .expect("on");
    assert_eq!((t.enabled, t.changed), (true, Some(true)));
}

#[tokio::test]
async fn toggle_unknown_uuid_http_500_becomes_not_found() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        &format!("/api/firewall/alias/toggle_item/{UNKNOWN}/0"),
        ResponseTemplate::new(500).set_body_json(fx("error_500_unexpected.json")),
    )
    .await;
    mount_search(&server, UNKNOWN).await;
    let err = client(&server)
        .await
        .firewall()
        .alias()
        .toggle(&uuid(UNKNOWN), Some(false))
        .await
        .expect_err("not found");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn reconfigure_ok() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        "/api/firewall/alias/reconfigure",
        json(fx("alias_reconfigure.json")),
    )
    .await;
    let st = client(&server)
        .await
        .firewall()
        .alias()
        .reconfigure()
        .await
        .expect("ok");
    assert_eq!(st.status, "ok");
}

#[tokio::test]
async fn reconfigure_failed_is_action_failed() {
    let server = MockServer::start().await;
    mount_post_nobody(
        &server,
        "/api/firewall/alias/reconfigure",
        json(fx("alias_reconfigure_get.json")),
    )
    .await;
    let err = client(&server)
        .await
        .firewall()
        .alias()
        .reconfigure()
        .await
        .expect_err("failed");
    match err {
        Error::ActionFailed { action, status, .. } => {
            assert_eq!((action, status.as_str()), ("apply aliases", "failed"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unsafe_uuid_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(json(json!({})))
        .expect(0)
        .mount(&server)
        .await;
    for bad in [
        "c2e7b0a4-3f1d-4e8a-9b6c-7d5e4f3a2b1/",
        "../c2e7b0a4-3f1d-4e8a-9b6c-7d5e4f3a2b10",
        "c2e7b0a4-3f1d-4e8a-9b6c%2f7d5e4f3a2b1",
        "c2e7b0a4-3f1d-4e8a-9b6c-7d5e4f3a2b10\n",
    ] {
        assert!(Uuid::parse(bad).expect_err(bad).is_local());
    }
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[test]
fn get_item_round_trips_to_plain_strings() {
    let a: Alias = serde_json::from_value(fx("alias_get_item.json")["alias"].clone()).expect("get");
    let out = serde_json::to_value(&a).expect("serialises");
    let o = out.as_object().expect("object");
    for (k, v) in o {
        assert!(v.is_string(), "{k} is not a plain string: {v}");
    }
    assert_eq!(o["content"], "192.168.1.10\n192.168.1.11");
    assert_eq!(o["type"], "host");
    assert_eq!(o["enabled"], "1");
    assert_eq!(o["categories"], WEB_CATEGORY);
    assert!(o.get("interface").is_none_or(|v| v == ""));
    assert!(o.get("authtype").is_none_or(|v| v == ""));
    // Volatile statistics are read, never sent.
    assert!(o.get("current_items").is_none() && o.get("last_updated").is_none());
    let again: Alias = serde_json::from_value(out).expect("re-parses");
    assert_eq!(again.content, a.content);
    assert_eq!(again.alias_type, a.alias_type);
}

#[test]
fn url_content_keeps_commas_inside_entries() {
    let a: Alias =
        serde_json::from_value(fx("alias_get_item_urltable.json")["alias"].clone()).expect("get");
    assert_eq!(a.alias_type, Some(AliasType::Urltable));
    assert_eq!(a.updatefreq.as_deref(), Some("0.5"));
    assert_eq!(a.authtype, Some(AliasAuthType::Basic));
    assert_eq!(a.username.as_deref(), Some("feeduser"));
    assert_eq!(a.categories, None);
    assert_eq!(
        a.content,
        Some(lines(&[
            "https://lists.example.net/drop.txt?fmt=plain,v4",
            "https://lists.example.net/edrop.txt"
        ]))
    );
    let out = serde_json::to_value(&a).expect("serialises");
    assert_eq!(
        out["content"],
        "https://lists.example.net/drop.txt?fmt=plain,v4\nhttps://lists.example.net/edrop.txt"
    );
    assert_eq!(out["authtype"], "Basic");
}

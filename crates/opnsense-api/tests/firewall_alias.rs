//! `firewall/alias`: what only aliases have. The generic grid behaviour is in `grids.rs`; here:
//! the alias model (content as lines or option maps, built-in aliases, the whole model), the
//! `get_item` template OPNsense answers for an unknown uuid, the in-use refusal of a delete and
//! the lookup by name.

mod common;

use common::{
    assert_invalid_response, assert_request, client, expect_bodyless, expect_get, expect_never,
    expect_post_json, fixture, json, mock_get, status_json,
};
use opnsense_api::fields::{CsvList, LineList};
use opnsense_api::models::firewall::{Alias, AliasAuthType, AliasModel, AliasType};
use opnsense_api::{AliasName, Error, Method, SearchQuery, Uuid};
use serde_json::{Value, json};
use wiremock::MockServer;

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

fn lines(items: &[&str]) -> LineList {
    LineList(items.iter().map(|s| (*s).to_owned()).collect())
}

/// What `get_item` answers (HTTP 200) for an unknown uuid: the defaults template, with only
/// `content` filled in (every alias name offered, none selected). AliasController.php:168-181.
fn unknown_template() -> Value {
    json!({"alias": {"content": {
        "bogons": {"value": "bogons", "selected": 0, "description": "bogon networks"},
        "webservers": {"value": "webservers", "selected": 0, "description": "Web servers"}
    }}})
}

async fn mount_search(server: &MockServer, phrase: &str) {
    expect_post_json(
        server,
        "firewall/alias/search_item",
        json!({"current": 1, "rowCount": -1, "searchPhrase": phrase}),
        json(fx("alias_search_item.json")),
        1,
    )
    .await;
}

#[tokio::test]
async fn model_reads_the_whole_alias_tree() {
    let opn = mock_get("firewall/alias/get", fx("alias_get.json")).await;
    let m: AliasModel = opn.firewall().alias().model().await.expect("model");
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
    for answer in [json!([]), json!({"alias": []}), json!({"geoip": {}})] {
        let opn = mock_get("firewall/alias/get", answer.clone()).await;
        let err = opn
            .firewall()
            .alias()
            .model()
            .await
            .expect_err("no alias object");
        assert_invalid_response(&err, "firewall/alias/get", &answer);
    }
}

#[tokio::test]
async fn an_empty_alias_map_is_an_empty_model() {
    let server = MockServer::start().await;
    // PHP renders the empty map as [].
    expect_get(
        &server,
        "firewall/alias/get",
        json!({"alias": {"geoip": {"url": ""}, "aliases": {"alias": []}}}),
    )
    .await;
    let m = client(&server)
        .await
        .firewall()
        .alias()
        .model()
        .await
        .expect("model");
    assert!(m.aliases.alias.is_empty());
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
    let opn = mock_get(
        &format!("firewall/alias/get_item/{WEBSERVERS}"),
        fx("alias_get_item.json"),
    )
    .await;
    let a = opn
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
async fn get_item_template_for_an_unknown_uuid_is_not_found() {
    let server = MockServer::start().await;
    expect_bodyless(
        &server,
        "GET",
        &format!("firewall/alias/get_item/{UNKNOWN}"),
        json(unknown_template()),
        3,
    )
    .await;
    let c = client(&server).await;
    let grid = c.firewall().alias();
    for e in [
        grid.get(&uuid(UNKNOWN))
            .await
            .map(|_| ())
            .expect_err("typed"),
        grid.get_raw(&uuid(UNKNOWN))
            .await
            .map(|_| ())
            .expect_err("raw"),
    ] {
        match e {
            Error::NotFound { kind, id } => assert_eq!((kind, id.as_str()), ("alias", UNKNOWN)),
            other => panic!("the template is not an alias: {other:?}"),
        }
    }
    assert!(!grid.exists(&uuid(UNKNOWN)).await.expect("exists"));
}

#[tokio::test]
async fn set_of_an_unknown_uuid_answered_with_the_template_sends_no_set() {
    let server = MockServer::start().await;
    expect_get(
        &server,
        &format!("firewall/alias/get_item/{UNKNOWN}"),
        unknown_template(),
    )
    .await;
    expect_never(&server, &format!("firewall/alias/set_item/{UNKNOWN}")).await;
    let change = Alias {
        content: Some(lines(&["192.168.1.12"])),
        ..Alias::default()
    };
    let e = client(&server)
        .await
        .firewall()
        .alias()
        .set(&uuid(UNKNOWN), &change)
        .await
        .expect_err("not found");
    assert!(matches!(e, Error::NotFound { kind: "alias", .. }), "{e:?}");
}

/// Older firmware answered HTTP 500 for an unknown uuid: a search confirms. Not found when the
/// search lacks the id, and the HTTP error stays when the alias exists.
#[tokio::test]
async fn get_item_http_500_is_confirmed_by_a_search() {
    for (id, exists) in [(UNKNOWN, false), (WEBSERVERS, true)] {
        let server = MockServer::start().await;
        expect_bodyless(
            &server,
            "GET",
            &format!("firewall/alias/get_item/{id}"),
            status_json(500, fx("error_500_unexpected.json")),
            1,
        )
        .await;
        mount_search(&server, id).await;
        let err = client(&server)
            .await
            .firewall()
            .alias()
            .get(&uuid(id))
            .await
            .expect_err(id);
        if exists {
            assert_eq!(err.http_status(), Some(500), "{id}: {err:?}");
            assert!(err.to_string().contains("Unexpected error"), "{id}: {err}");
        } else {
            match err {
                Error::NotFound { kind, id: got } => {
                    assert_eq!((kind, got.as_str()), ("alias", id));
                }
                other => panic!("{id}: {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn toggle_unknown_uuid_http_500_becomes_not_found() {
    let server = MockServer::start().await;
    expect_bodyless(
        &server,
        "POST",
        &format!("firewall/alias/toggle_item/{UNKNOWN}/0"),
        status_json(500, fx("error_500_unexpected.json")),
        1,
    )
    .await;
    // The confirming get answers the template.
    expect_get(
        &server,
        &format!("firewall/alias/get_item/{UNKNOWN}"),
        unknown_template(),
    )
    .await;
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
async fn delete_in_use_is_in_use_with_opnsense_message() {
    let server = MockServer::start().await;
    expect_bodyless(
        &server,
        "POST",
        &format!("firewall/alias/del_item/{WEBSERVERS}"),
        status_json(500, fx("alias_del_item_in_use.json")),
        1,
    )
    .await;
    let err = client(&server)
        .await
        .firewall()
        .alias()
        .delete(&uuid(WEBSERVERS))
        .await
        .expect_err("in use");
    let text = err.to_string();
    match &err {
        Error::InUse { kind, id, detail } => {
            assert_eq!((*kind, id.as_str()), ("alias", WEBSERVERS));
            assert!(detail.contains("Alias in use"), "{detail}");
            assert!(
                detail.contains("Cannot delete alias webservers. Currently in use by"),
                "{detail}"
            );
            assert!(
                detail.contains("OPNsense.Firewall.Filter.rules.rule.0/destination_net"),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        text.starts_with(&format!(
            "cannot delete alias {WEBSERVERS}: it is still in use"
        )),
        "{text}"
    );
    assert_eq!(
        err.http_status(),
        None,
        "a typed refusal, not an HTTP error"
    );
}

#[tokio::test]
async fn uuid_of_finds_a_name() {
    let server = MockServer::start().await;
    expect_get(
        &server,
        "firewall/alias/getAliasUUID/webservers",
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
    assert_eq!(id, uuid(WEBSERVERS));
}

#[tokio::test]
async fn uuid_of_no_exact_match_is_not_found() {
    for answer in [
        fx("alias_get_uuid_not_found.json"),
        json!({"uuid": ""}),
        json!({"uuid": null}),
    ] {
        let server = MockServer::start().await;
        expect_get(
            &server,
            "firewall/alias/getAliasUUID/nosuch",
            answer.clone(),
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
        assert_eq!(err.to_string(), "alias nosuch not found", "{answer}");
    }
}

#[tokio::test]
async fn uuid_of_an_answer_that_is_not_a_uuid_is_invalid() {
    for answer in [
        json!({"uuid": "../../core"}),
        json!({"result": "failed"}),
        json!("x"),
    ] {
        let opn = mock_get("firewall/alias/getAliasUUID/webservers", answer.clone()).await;
        let err = opn
            .firewall()
            .alias()
            .uuid_of(&AliasName::parse("webservers").expect("name"))
            .await
            .expect_err("invalid");
        assert_invalid_response(&err, "firewall/alias/getAliasUUID/webservers", &answer);
    }
}

#[test]
fn unsafe_alias_names_cannot_be_built() {
    for bad in ["../x", "a/b", "a%2fb", "a?b", "web\n", "a b", ""] {
        assert!(AliasName::parse(bad).expect_err(bad).is_local(), "{bad:?}");
    }
    assert_request(
        &opnsense_api::api::firewall::alias_uuid_request(
            &AliasName::parse("web_servers").expect("name"),
        ),
        Method::Get,
        "firewall/alias/getAliasUUID/web_servers",
        None,
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

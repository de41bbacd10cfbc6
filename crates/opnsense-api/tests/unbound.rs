//! `unbound/*` (Unbound DNS host overrides) against wiremock.

mod common;

use common::{NoBody, basic_auth, client, fixture, json, json_body};
use opnsense_api::api::unbound::{HOST_OVERRIDE, reconfigure_request, settings_request};
use opnsense_api::models::unbound::{HostOverride, RecordType};
use opnsense_api::{Error, Method, SearchQuery, Uuid};
use serde_json::json as j;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const ID: &str = "3f2e1d0c-9b8a-4766-8554-433221100fed";

fn id() -> Uuid {
    Uuid::parse(ID).expect("uuid")
}

fn host_path(action: &str) -> String {
    format!("/api/unbound/settings/{action}/{ID}")
}

#[test]
fn request_builders() {
    let r = settings_request();
    assert_eq!(
        (r.method, r.path.as_str(), r.body),
        (Method::Get, "unbound/settings/get", None)
    );
    let r = HOST_OVERRIDE.search_request(&SearchQuery::all(), serde_json::Map::new());
    assert_eq!(
        (r.method, r.path.as_str(), r.body),
        (
            Method::Post,
            "unbound/settings/searchHostOverride",
            Some(j!({"current": 1, "rowCount": -1, "searchPhrase": ""}))
        )
    );
    let r = HOST_OVERRIDE
        .add_request(&HostOverride {
            hostname: Some("nas".into()),
            rr: Some(RecordType::Aaaa),
            ..HostOverride::default()
        })
        .expect("add");
    assert_eq!(
        (r.method, r.path.as_str(), r.body),
        (
            Method::Post,
            "unbound/settings/addHostOverride",
            Some(j!({"host": {"hostname": "nas", "rr": "AAAA"}}))
        )
    );
    let r = HOST_OVERRIDE.toggle_request(&id(), Some(true));
    assert_eq!(
        (r.method, r.path, r.body),
        (
            Method::Post,
            format!("unbound/settings/toggleHostOverride/{ID}/1"),
            None
        )
    );
    let r = HOST_OVERRIDE.del_request(&id());
    assert_eq!(r.path, format!("unbound/settings/delHostOverride/{ID}"));
    let r = reconfigure_request();
    assert_eq!(
        (r.method, r.path.as_str(), r.body),
        (Method::Post, "unbound/service/reconfigure", None)
    );
}

fn expected_nas() -> HostOverride {
    HostOverride {
        enabled: Some(true),
        hostname: Some("nas".into()),
        domain: Some("example.lan".into()),
        rr: Some(RecordType::A),
        server: Some("192.168.1.50".into()),
        addptr: Some(true),
        description: Some("NAS".into()),
        ..HostOverride::default()
    }
}

#[tokio::test]
async fn settings() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/unbound/settings/get"))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("dns", "settings_get.json")))
        .expect(1)
        .mount(&server)
        .await;
    let s = client(&server)
        .await
        .unbound()
        .settings()
        .await
        .expect("settings");
    assert_eq!(s.unbound.pointer("/general/enabled"), Some(&j!("1")));
    assert!(
        s.unbound
            .pointer(&format!("/hosts/host/{ID}/hostname"))
            .is_some()
    );
}

#[tokio::test]
async fn search_host_overrides() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/unbound/settings/searchHostOverride"))
        .and(basic_auth())
        .and(json_body(
            j!({"current": 1, "rowCount": -1, "searchPhrase": ""}),
        ))
        .respond_with(json(fixture("dns", "searchHostOverride.json")))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .await
        .unbound()
        .search_host_overrides(&SearchQuery::all())
        .await
        .expect("search");
    assert_eq!(page.total, 1);
    let mut row = page.rows[0].clone();
    assert_eq!(row.uuid.as_deref(), Some(ID));
    assert_eq!(row.is_alias, Some(false));
    assert_eq!(
        row.extra.get("%rr").and_then(|v| v.as_str()),
        Some("A (IPv4 address)")
    );
    assert_eq!(row.fqdn().as_deref(), Some("nas.example.lan"));
    row.uuid = None;
    row.is_alias = None;
    row.extra = opnsense_api::fields::Extra::default();
    assert_eq!(row, expected_nas());
}

#[test]
fn search_row_with_alias_children() {
    let row: HostOverride = serde_json::from_value(j!({
        "uuid": ID, "enabled": "1", "hostname": "nas", "domain": "example.lan", "rr": "MX", "mxprio": "10",
        "mx": "mail.example.lan", "ttl": "300", "aliases": "files.example.lan,*.nas.example.lan", "isAlias": false,
        "_children": [{"uuid": "11111111-2222-4333-8444-555555555555", "isAlias": true, "enabled": "1",
                       "hostname": "files", "domain": "example.lan", "description": ""}]
    }))
    .expect("parses");
    assert_eq!(row.rr, Some(RecordType::Mx));
    assert_eq!(row.mxprio.as_deref(), Some("10"));
    assert_eq!(row.ttl.as_deref(), Some("300"));
    assert_eq!(
        row.aliases.as_ref().map(|a| a.0.clone()),
        Some(vec![
            "files.example.lan".to_owned(),
            "*.nas.example.lan".to_owned()
        ])
    );
    assert_eq!(row.children.len(), 1);
    assert_eq!(row.children[0].is_alias, Some(true));
    assert_eq!(row.children[0].hostname.as_deref(), Some("files"));
    // An unknown record type is kept, not an error.
    let odd: HostOverride = serde_json::from_value(j!({"rr": "SRV"})).expect("parses");
    assert_eq!(odd.rr, Some(RecordType::Other("SRV".into())));
}

#[tokio::test]
async fn get_host_override() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(host_path("getHostOverride")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("dns", "getHostOverride.json")))
        .expect(1)
        .mount(&server)
        .await;
    let h = client(&server)
        .await
        .unbound()
        .get_host_override(&id())
        .await
        .expect("get");
    assert_eq!(h, expected_nas());
}

#[tokio::test]
async fn get_host_override_unknown_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(host_path("getHostOverride")))
        .and(basic_auth())
        .respond_with(json(j!([])))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server)
        .await
        .unbound()
        .get_host_override(&id())
        .await
        .expect_err("nf");
    assert!(
        matches!(
            e,
            Error::NotFound {
                kind: "DNS host override",
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn add_host_override() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/unbound/settings/addHostOverride"))
        .and(basic_auth())
        .and(json_body(j!({"host": {
            "enabled": "1", "hostname": "nas", "domain": "example.lan", "rr": "A",
            "server": "192.168.1.50", "addptr": "1", "description": "NAS"
        }})))
        .respond_with(json(fixture("dns", "addHostOverride.json")))
        .expect(1)
        .mount(&server)
        .await;
    let saved = client(&server)
        .await
        .unbound()
        .add_host_override(&expected_nas())
        .await
        .expect("add");
    assert_eq!(saved.uuid.as_deref(), Some(ID));
}

#[tokio::test]
async fn add_host_override_failed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/unbound/settings/addHostOverride"))
        .and(basic_auth())
        .and(json_body(j!({"host": {"hostname": "nas", "rr": "A"}})))
        .respond_with(json(fixture("dns", "addHostOverride_failed.json")))
        .expect(1)
        .mount(&server)
        .await;
    let incomplete = HostOverride {
        hostname: Some("nas".into()),
        rr: Some(RecordType::A),
        ..HostOverride::default()
    };
    let e = client(&server)
        .await
        .unbound()
        .add_host_override(&incomplete)
        .await
        .expect_err("failed");
    let Error::Validation { path, errors } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(path, "unbound/settings/addHostOverride");
    assert_eq!(errors.len(), 2);
    assert_eq!(errors["host.server"], ["The field IP address is required."]);
    assert_eq!(errors["host.domain"], ["A value is required."]);
}

#[tokio::test]
async fn set_host_override_checks_existence_first() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(host_path("getHostOverride")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("dns", "getHostOverride.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(host_path("setHostOverride")))
        .and(basic_auth())
        .and(json_body(
            j!({"host": {"server": "192.168.1.51", "ttl": "600"}}),
        ))
        .respond_with(json(fixture("dns", "setHostOverride.json")))
        .expect(1)
        .mount(&server)
        .await;
    let change = HostOverride {
        server: Some("192.168.1.51".into()),
        ttl: Some("600".into()),
        ..HostOverride::default()
    };
    client(&server)
        .await
        .unbound()
        .set_host_override(&id(), &change)
        .await
        .expect("set");
}

#[tokio::test]
async fn set_host_override_unknown_sends_no_set() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(host_path("getHostOverride")))
        .respond_with(json(j!([])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(host_path("setHostOverride")))
        .respond_with(json(fixture("dns", "setHostOverride.json")))
        .expect(0)
        .mount(&server)
        .await;
    let e = client(&server)
        .await
        .unbound()
        .set_host_override(&id(), &expected_nas())
        .await
        .expect_err("nf");
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
}

#[tokio::test]
async fn delete_host_override() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(host_path("delHostOverride")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("dns", "delHostOverride.json")))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .await
        .unbound()
        .delete_host_override(&id())
        .await
        .expect("deleted");
}

#[tokio::test]
async fn toggle_host_override() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(host_path("toggleHostOverride")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(j!({"result": "Enabled", "changed": false})))
        .expect(1)
        .mount(&server)
        .await;
    let t = client(&server)
        .await
        .unbound()
        .toggle_host_override(&id(), None)
        .await
        .expect("toggle");
    assert!(t.enabled);
    assert_eq!(t.changed, Some(false));
}

#[tokio::test]
async fn reconfigure() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/unbound/service/reconfigure"))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("dns", "service_reconfigure.json")))
        .expect(1)
        .mount(&server)
        .await;
    let s = client(&server)
        .await
        .unbound()
        .reconfigure()
        .await
        .expect("ok");
    assert_eq!(s.status, "ok");
}

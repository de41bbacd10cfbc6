//! `routes/routes/*` (static routes) against wiremock.

mod common;

use common::{KEY, NoBody, SECRET, basic_auth, client, fixture, json, json_body};
use opnsense_api::api::routes::{ROUTE, reconfigure_request};
use opnsense_api::models::routes::Route;
use opnsense_api::{Client, Error, FirmwareVersion, Method, SearchQuery, Uuid};
use serde_json::json as j;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const ID: &str = "5b1f0e6a-8c3d-4f3e-9a51-0d2c7e4b9a10";

fn id() -> Uuid {
    Uuid::parse(ID).expect("uuid")
}

fn route_path(action: &str) -> String {
    format!("/api/routes/routes/{action}/{ID}")
}

#[test]
fn request_builders() {
    let r = ROUTE.search_request(&SearchQuery::all(), serde_json::Map::new());
    assert_eq!(
        (r.method, r.path.as_str(), r.body),
        (
            Method::Post,
            "routes/routes/searchroute",
            Some(j!({"current": 1, "rowCount": -1, "searchPhrase": ""}))
        )
    );
    let r = ROUTE.get_request(&id());
    assert_eq!(
        (r.method, r.path, r.body),
        (Method::Get, format!("routes/routes/getroute/{ID}"), None)
    );
    let route = Route {
        network: Some("10.0.0.0/24".into()),
        gateway: Some("WAN_GW".into()),
        ..Route::default()
    };
    let r = ROUTE.add_request(&route).expect("add");
    assert_eq!(
        (r.method, r.path.as_str(), r.body),
        (
            Method::Post,
            "routes/routes/addroute",
            Some(j!({"route": {"network": "10.0.0.0/24", "gateway": "WAN_GW"}}))
        )
    );
    let r = ROUTE.set_request(&id(), &route).expect("set");
    assert_eq!(
        (r.method, r.path),
        (Method::Post, format!("routes/routes/setroute/{ID}"))
    );
    let r = ROUTE.del_request(&id());
    assert_eq!(
        (r.method, r.path, r.body),
        (Method::Post, format!("routes/routes/delroute/{ID}"), None)
    );
    let r = ROUTE.toggle_request(&id(), Some(false));
    assert_eq!(
        (r.method, r.path, r.body),
        (
            Method::Post,
            format!("routes/routes/toggleroute/{ID}/0"),
            None
        )
    );
    let r = ROUTE.toggle_request(&id(), None);
    assert_eq!(r.path, format!("routes/routes/toggleroute/{ID}"));
    let r = reconfigure_request();
    assert_eq!(
        (r.method, r.path.as_str(), r.body),
        (Method::Post, "routes/routes/reconfigure", None)
    );
}

#[test]
fn enabled_and_disabled_both_read_and_adapt_to_firmware() {
    let new: Route =
        serde_json::from_value(j!({"network": "10.0.0.0/8", "enabled": "0"})).expect("new");
    assert!(!new.is_enabled());
    let old: Route =
        serde_json::from_value(j!({"network": "10.0.0.0/8", "disabled": "1"})).expect("old");
    assert_eq!(old.disabled, Some(true));
    assert!(!old.is_enabled());
    assert!(Route::default().is_enabled());

    let v10 = Some(FirmwareVersion::new(26, 1, 10));
    let v9 = Some(FirmwareVersion::new(26, 1, 9));
    let a = old.for_firmware(v10);
    assert_eq!((a.enabled, a.disabled), (Some(false), None));
    let a = old.for_firmware(None);
    assert_eq!((a.enabled, a.disabled), (Some(false), None));
    let b = new.for_firmware(v9);
    assert_eq!((b.enabled, b.disabled), (None, Some(true)));
    let c = Route::default().for_firmware(v9);
    assert_eq!((c.enabled, c.disabled), (None, None));
}

#[tokio::test]
async fn search() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/searchroute"))
        .and(basic_auth())
        .and(json_body(
            j!({"current": 1, "rowCount": -1, "searchPhrase": ""}),
        ))
        .respond_with(json(fixture("routes", "searchroute.json")))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .await
        .routes()
        .search(&SearchQuery::all())
        .await
        .expect("search");
    assert_eq!((page.total, page.row_count, page.current), (1, 1, 1));
    let r = &page.rows[0];
    assert_eq!(r.uuid.as_deref(), Some(ID));
    assert_eq!(r.network.as_deref(), Some("10.20.0.0/16"));
    assert_eq!(r.gateway.as_deref(), Some("WAN_GW"));
    assert_eq!(r.descr.as_deref(), Some("Branch office"));
    assert_eq!(r.enabled, Some(true));
    assert_eq!(r.disabled, None);
    assert_eq!(
        r.extra.get("%gateway").and_then(|v| v.as_str()),
        Some("WAN_GW - 203.0.113.1")
    );
}

#[tokio::test]
async fn get_reads_the_option_map() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(route_path("getroute")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("routes", "getroute.json")))
        .expect(1)
        .mount(&server)
        .await;
    let r = client(&server)
        .await
        .routes()
        .get(&id())
        .await
        .expect("get");
    assert_eq!(
        r,
        Route {
            network: Some("10.20.0.0/16".into()),
            gateway: Some("WAN_GW".into()),
            descr: Some("Branch office".into()),
            enabled: Some(true),
            ..Route::default()
        }
    );
}

#[tokio::test]
async fn get_unknown_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(route_path("getroute")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(j!([])))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server)
        .await
        .routes()
        .get(&id())
        .await
        .expect_err("nf");
    assert!(
        matches!(&e, Error::NotFound { kind: "static route", id } if id == ID),
        "{e:?}"
    );
}

#[tokio::test]
async fn add() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/addroute"))
        .and(basic_auth())
        .and(json_body(j!({"route": {
            "network": "10.20.0.0/16", "gateway": "WAN_GW", "descr": "Branch office", "enabled": "1"
        }})))
        .respond_with(json(fixture("routes", "addroute.json")))
        .expect(1)
        .mount(&server)
        .await;
    let route = Route {
        network: Some("10.20.0.0/16".into()),
        gateway: Some("WAN_GW".into()),
        descr: Some("Branch office".into()),
        enabled: Some(true),
        ..Route::default()
    };
    let saved = client(&server)
        .await
        .routes()
        .add(&route)
        .await
        .expect("add");
    assert_eq!(saved.uuid.as_deref(), Some(ID));
}

#[tokio::test]
async fn add_translates_disabled_for_new_firmware() {
    let server = MockServer::start().await;
    // 26.1.10 ignores `disabled`: the client must send `enabled: "0"` instead.
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/addroute"))
        .and(basic_auth())
        .and(json_body(
            j!({"route": {"network": "10.20.0.0/16", "gateway": "Null4", "enabled": "0"}}),
        ))
        .respond_with(json(fixture("routes", "addroute.json")))
        .expect(1)
        .mount(&server)
        .await;
    let route = Route {
        network: Some("10.20.0.0/16".into()),
        gateway: Some("Null4".into()),
        disabled: Some(true),
        ..Route::default()
    };
    client(&server)
        .await
        .routes()
        .add(&route)
        .await
        .expect("add");
}

#[tokio::test]
async fn add_sends_disabled_to_old_firmware() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/addroute"))
        .and(basic_auth())
        .and(json_body(
            j!({"route": {"network": "10.20.0.0/16", "gateway": "Null4", "disabled": "1"}}),
        ))
        .respond_with(json(fixture("routes", "addroute.json")))
        .expect(1)
        .mount(&server)
        .await;
    let old = Client::builder(server.uri())
        .credentials(KEY, SECRET)
        .allow_insecure_http(true)
        .firmware_version(FirmwareVersion::new(26, 1, 9))
        .build()
        .expect("client");
    let route = Route {
        network: Some("10.20.0.0/16".into()),
        gateway: Some("Null4".into()),
        enabled: Some(false),
        ..Route::default()
    };
    old.routes().add(&route).await.expect("add");
}

#[tokio::test]
async fn add_failed_lists_every_field() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/addroute"))
        .and(basic_auth())
        .and(json_body(j!({"route": {"network": "bogus"}})))
        .respond_with(json(fixture("routes", "addroute_failed.json")))
        .expect(1)
        .mount(&server)
        .await;
    let route = Route {
        network: Some("bogus".into()),
        ..Route::default()
    };
    let e = client(&server)
        .await
        .routes()
        .add(&route)
        .await
        .expect_err("failed");
    let Error::Validation { path, errors } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(path, "routes/routes/addroute");
    assert_eq!(errors.len(), 2);
    assert_eq!(
        errors["route.network"],
        ["Specify a valid network matching the gateways ip protocol."]
    );
    assert_eq!(errors["route.gateway"], ["A value is required."]);
    let text = e.to_string();
    assert!(
        text.contains("route.gateway: A value is required."),
        "{text}"
    );
}

#[tokio::test]
async fn set_checks_existence_first() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(route_path("getroute")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("routes", "getroute.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(route_path("setroute")))
        .and(basic_auth())
        .and(json_body(j!({"route": {"descr": "HQ"}})))
        .respond_with(json(fixture("routes", "setroute.json")))
        .expect(1)
        .mount(&server)
        .await;
    let change = Route {
        descr: Some("HQ".into()),
        ..Route::default()
    };
    client(&server)
        .await
        .routes()
        .set(&id(), &change)
        .await
        .expect("set");
}

#[tokio::test]
async fn set_unknown_is_not_found_and_sends_no_set() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(route_path("getroute")))
        .and(basic_auth())
        .respond_with(json(j!([])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(route_path("setroute")))
        .respond_with(json(fixture("routes", "setroute.json")))
        .expect(0)
        .mount(&server)
        .await;
    let change = Route {
        descr: Some("HQ".into()),
        ..Route::default()
    };
    let e = client(&server)
        .await
        .routes()
        .set(&id(), &change)
        .await
        .expect_err("nf");
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
}

#[tokio::test]
async fn delete() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route_path("delroute")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("routes", "delroute.json")))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .await
        .routes()
        .delete(&id())
        .await
        .expect("deleted");
}

#[tokio::test]
async fn delete_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route_path("delroute")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(j!({"result": "not found"})))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server)
        .await
        .routes()
        .delete(&id())
        .await
        .expect_err("nf");
    assert!(
        matches!(&e, Error::NotFound { kind: "static route", id } if id == ID),
        "{e:?}"
    );
}

#[tokio::test]
async fn toggle() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{}/0", route_path("toggleroute"))))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("routes", "toggleroute.json")))
        .expect(1)
        .mount(&server)
        .await;
    let t = client(&server)
        .await
        .routes()
        .toggle(&id(), Some(false))
        .await
        .expect("toggle");
    assert!(!t.enabled);
    assert_eq!(t.changed, Some(true));
}

#[tokio::test]
async fn reconfigure_ok() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/reconfigure"))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("routes", "reconfigure.json")))
        .expect(1)
        .mount(&server)
        .await;
    let s = client(&server)
        .await
        .routes()
        .reconfigure()
        .await
        .expect("ok");
    assert_eq!(s.status, "ok");
}

#[tokio::test]
async fn reconfigure_failed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/routes/routes/reconfigure"))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(
            j!({"status": "error reloading routes (Execute error)"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server)
        .await
        .routes()
        .reconfigure()
        .await
        .expect_err("failed");
    assert!(
        matches!(&e, Error::ActionFailed { status, path, .. }
            if status == "error reloading routes (Execute error)" && path == "routes/routes/reconfigure"),
        "{e:?}"
    );
}

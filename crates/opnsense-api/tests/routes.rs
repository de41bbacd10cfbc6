//! `routes/routes/*` (static routes): what only routes have. The generic grid behaviour is in
//! `grids.rs`; here: the on/off flag that is `disabled` before 26.1.10 and `enabled` from it (in
//! add/set bodies and in the toggle argument, on both sides of the boundary and with the firmware
//! looked up), and the `network` every `set` must carry (fidelity audit, serious #1: without it
//! OPNsense deletes and re-adds the route on the next apply).

mod common;

use common::{
    all_rows, client, client_at, client_unknown_version, expect_bodyless, expect_get,
    expect_post_json, expect_post_nobody, fixture, json, mock_get, mock_post_json, status_json,
};
use opnsense_api::api::routes::ROUTES;
use opnsense_api::models::routes::Route;
use opnsense_api::{Client, FirmwareVersion, Method, SearchQuery, Uuid};
use serde_json::{Value, json as j};
use wiremock::MockServer;

const ID: &str = "5b1f0e6a-8c3d-4f3e-9a51-0d2c7e4b9a10";
/// The last release with `disabled`, and the first with `enabled`.
const V9: FirmwareVersion = FirmwareVersion::new(26, 1, 9);
const V10: FirmwareVersion = FirmwareVersion::new(26, 1, 10);

fn id() -> Uuid {
    Uuid::parse(ID).expect("uuid")
}

fn fx(name: &str) -> Value {
    fixture("routes", name)
}

fn at(action: &str) -> String {
    format!("routes/routes/{action}/{ID}")
}

#[test]
fn enabled_and_disabled_both_read() {
    let new: Route =
        serde_json::from_value(j!({"network": "10.0.0.0/8", "enabled": "0"})).expect("new");
    assert!(!new.is_enabled());
    let old: Route =
        serde_json::from_value(j!({"network": "10.0.0.0/8", "disabled": "1"})).expect("old");
    assert_eq!(old.disabled, Some(true));
    assert!(!old.is_enabled());
    let old_on: Route = serde_json::from_value(j!({"disabled": "0"})).expect("old");
    assert!(old_on.is_enabled());
    // `enabled` wins when both are present.
    let both: Route = serde_json::from_value(j!({"enabled": "1", "disabled": "1"})).expect("both");
    assert!(both.is_enabled());
    assert!(Route::default().is_enabled());
}

#[test]
fn write_bodies_name_the_flag_for_the_firmware() {
    let body = |b: Value, v| ROUTES.add_request(b, v).expect("add").body.expect("body");
    // Before 26.1.10: `disabled`, inverted.
    assert_eq!(
        body(j!({"network": "n", "enabled": "0"}), Some(V9)),
        j!({"route": {"network": "n", "disabled": "1"}})
    );
    assert_eq!(
        body(j!({"enabled": "1"}), Some(V9)),
        j!({"route": {"disabled": "0"}})
    );
    assert_eq!(
        body(j!({"disabled": "1"}), Some(V9)),
        j!({"route": {"disabled": "1"}})
    );
    // From 26.1.10, and for an unknown firmware (= the newest): `enabled`.
    for v in [Some(V10), Some(FirmwareVersion::new(26, 7, 2)), None] {
        assert_eq!(
            body(j!({"disabled": "1"}), v),
            j!({"route": {"enabled": "0"}}),
            "{v:?}"
        );
        assert_eq!(
            body(j!({"enabled": "0"}), v),
            j!({"route": {"enabled": "0"}}),
            "{v:?}"
        );
    }
    // Given both ways, the caller's spelling for this firmware wins and the other is dropped.
    assert_eq!(
        body(j!({"enabled": "1", "disabled": "1"}), Some(V10)),
        j!({"route": {"enabled": "1"}})
    );
    // No flag: nothing added.
    assert_eq!(
        body(j!({"descr": "x"}), Some(V9)),
        j!({"route": {"descr": "x"}})
    );
    // The set body follows the same rule.
    let r = ROUTES
        .set_request(&id(), j!({"enabled": "0"}), Some(V9))
        .expect("set");
    assert_eq!(
        (r.method, r.path, r.body),
        (
            Method::Post,
            format!("routes/routes/setroute/{ID}"),
            Some(j!({"route": {"disabled": "1"}}))
        )
    );
}

#[test]
fn the_toggle_argument_changed_meaning_at_26_1_10() {
    let path = |on, v| ROUTES.toggle_request(&id(), on, v).expect("toggle").path;
    let base = format!("routes/routes/toggleroute/{ID}");
    // 26.1.9: the argument is "disabled".
    assert_eq!(path(Some(true), Some(V9)), format!("{base}/0"));
    assert_eq!(path(Some(false), Some(V9)), format!("{base}/1"));
    // 26.1.10 and unknown: the argument is "enabled".
    for v in [Some(V10), None] {
        assert_eq!(path(Some(true), v), format!("{base}/1"), "{v:?}");
        assert_eq!(path(Some(false), v), format!("{base}/0"), "{v:?}");
    }
    // A flip has no argument on either side.
    assert_eq!(path(None, Some(V9)), base);
    assert_eq!(path(None, Some(V10)), base);
}

#[tokio::test]
async fn search_reads_rows_and_display_columns() {
    let opn = mock_post_json(
        "routes/routes/searchroute",
        all_rows(),
        fx("searchroute.json"),
    )
    .await;
    let page = opn
        .routes()
        .search(&SearchQuery::all())
        .await
        .expect("search");
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
async fn get_reads_the_gateway_option_map() {
    let opn = mock_get(&at("getroute"), fx("getroute.json")).await;
    let r = opn.routes().get(&id()).await.expect("get");
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

fn null_route(flag: Route) -> Route {
    Route {
        network: Some("10.20.0.0/16".into()),
        gateway: Some("Null4".into()),
        ..flag
    }
}

async fn expect_add(server: &MockServer, body: Value) {
    expect_post_json(
        server,
        "routes/routes/addroute",
        j!({"route": body}),
        json(fx("addroute.json")),
        1,
    )
    .await;
}

/// Whichever flag the caller sets, the add sends the one the firmware reads.
#[tokio::test]
async fn add_sends_the_flag_the_firmware_reads() {
    for (v, route, wire) in [
        // 26.1.10 ignores `disabled`: the client must send `enabled: "0"` instead.
        (
            V10,
            Route {
                disabled: Some(true),
                ..Route::default()
            },
            j!({"network": "10.20.0.0/16", "gateway": "Null4", "enabled": "0"}),
        ),
        (
            V9,
            Route {
                enabled: Some(false),
                ..Route::default()
            },
            j!({"network": "10.20.0.0/16", "gateway": "Null4", "disabled": "1"}),
        ),
    ] {
        let server = MockServer::start().await;
        expect_add(&server, wire.clone()).await;
        client_at(&server, v)
            .routes()
            .add(&null_route(route))
            .await
            .unwrap_or_else(|e| panic!("{v}: the add must send {wire}: {e:?}"));
    }
}

#[tokio::test]
async fn add_looks_the_firmware_up_when_it_is_not_known() {
    // 26.1.9 found: `disabled`; no privilege for the firmware page: the newest (`enabled`).
    for (status, answer, body) in [
        (
            200,
            j!({"product": {"product_version": "26.1.9"}}),
            j!({"network": "10.20.0.0/16", "gateway": "Null4", "disabled": "1"}),
        ),
        (
            403,
            fixture("firewall", "error_403_forbidden.json"),
            j!({"network": "10.20.0.0/16", "gateway": "Null4", "enabled": "0"}),
        ),
    ] {
        let server = MockServer::start().await;
        expect_bodyless(
            &server,
            "GET",
            "core/firmware/status",
            status_json(status, answer),
            1,
        )
        .await;
        expect_add(&server, body).await;
        let c = client_unknown_version(&server);
        let route = null_route(Route {
            enabled: Some(false),
            ..Route::default()
        });
        c.routes().add(&route).await.expect("add");
    }
}

async fn set_with(c: &Client, server: &MockServer, change: Route, sent: Value) {
    expect_get(server, &at("getroute"), fx("getroute.json")).await;
    expect_post_json(
        server,
        &at("setroute"),
        j!({"route": sent}),
        json(fx("setroute.json")),
        1,
    )
    .await;
    c.routes().set(&id(), &change).await.expect("set");
}

#[tokio::test]
async fn set_always_carries_the_current_network() {
    // Only the description, only the flag, or the gateway: the stored network goes along.
    for (v, change, sent) in [
        (
            V10,
            Route {
                descr: Some("HQ".into()),
                ..Route::default()
            },
            j!({"descr": "HQ", "network": "10.20.0.0/16"}),
        ),
        (
            V10,
            Route {
                enabled: Some(false),
                ..Route::default()
            },
            j!({"enabled": "0", "network": "10.20.0.0/16"}),
        ),
        (
            V9,
            Route {
                enabled: Some(false),
                gateway: Some("WAN_DHCP".into()),
                ..Route::default()
            },
            j!({"gateway": "WAN_DHCP", "disabled": "1", "network": "10.20.0.0/16"}),
        ),
    ] {
        let server = MockServer::start().await;
        set_with(&client_at(&server, v), &server, change, sent).await;
    }
}

#[tokio::test]
async fn set_keeps_the_callers_network() {
    let server = MockServer::start().await;
    let change = Route {
        network: Some("10.30.0.0/16".into()),
        ..Route::default()
    };
    set_with(
        &client(&server).await,
        &server,
        change,
        j!({"network": "10.30.0.0/16"}),
    )
    .await;
}

#[tokio::test]
async fn set_raw_adds_the_network_too() {
    let server = MockServer::start().await;
    expect_get(&server, &at("getroute"), fx("getroute.json")).await;
    expect_post_json(
        &server,
        &at("setroute"),
        j!({"route": {"gateway": "Null4", "network": "10.20.0.0/16"}}),
        json(fx("setroute.json")),
        1,
    )
    .await;
    let before = client(&server)
        .await
        .routes()
        .set_raw(&id(), j!({"gateway": "Null4"}))
        .await
        .expect("set");
    assert_eq!(before["network"], "10.20.0.0/16");
}

#[tokio::test]
async fn toggle_sends_the_argument_the_firmware_expects() {
    for (v, on, off) in [(V9, "0", "1"), (V10, "1", "0")] {
        let server = MockServer::start().await;
        expect_post_nobody(
            &server,
            &format!("{}/{on}", at("toggleroute")),
            j!({"result": "Enabled"}),
        )
        .await;
        expect_post_nobody(
            &server,
            &format!("{}/{off}", at("toggleroute")),
            fx("toggleroute.json"),
        )
        .await;
        let c = client_at(&server, v);
        let t = c.routes().toggle(&id(), Some(true)).await.expect("on");
        assert!(t.enabled, "{v}");
        let t = c.routes().toggle(&id(), Some(false)).await.expect("off");
        assert_eq!((t.enabled, t.changed), (false, Some(true)), "{v}");
    }
}

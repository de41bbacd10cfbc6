//! The troubleshooting and VPN reads (`api::diagnostics`, `api::vpn`): their requests built
//! without a client, and their answers read from wiremock, including bodies captured from real
//! firewalls (`tests/corpus/`, provenance in its README).

mod common;

use std::path::PathBuf;

use common::{basic_auth, client, expect_get, expect_post_json, json, mock_get};
use opnsense_api::api::diagnostics::{
    LOG_REQUEST_MAX, firewall_log_request, gateway_status_request, routes_request, states_request,
};
use opnsense_api::api::vpn::{
    ipsec_phase1_request, ipsec_phase2_request, openvpn_sessions_request, wireguard_show_request,
};
use opnsense_api::models::diagnostics::{RuleOrigin, measurement};
use opnsense_api::{Method, SearchQuery};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};

/// A body from `tests/corpus/<dir>/<file>`.
fn capture(dir: &str, file: &str) -> Value {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "corpus", dir, file]
        .iter()
        .collect();
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

mod request_builders {
    use super::*;

    #[test]
    fn log_asks_for_a_bounded_number_of_lines_in_the_query() {
        let r = firewall_log_request(50);
        assert_eq!(
            (r.method, r.path.as_str(), r.body.as_ref()),
            (Method::Get, "diagnostics/firewall/log?limit=50", None)
        );
        assert_eq!(
            firewall_log_request(0).path,
            "diagnostics/firewall/log?limit=1"
        );
        assert_eq!(
            firewall_log_request(u32::MAX).path,
            format!("diagnostics/firewall/log?limit={LOG_REQUEST_MAX}")
        );
    }

    #[test]
    fn states_send_the_search_in_the_body() {
        let q = SearchQuery::page(2, 25)
            .phrase("10.0.0.0/24:443")
            .filter("ruleid", "a3592386-d8f3-48b3-b066-90216f687d9a");
        let r = states_request(&q);
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.path, "diagnostics/firewall/query_states");
        assert_eq!(
            r.body,
            Some(
                json!({"current": 2, "rowCount": 25, "searchPhrase": "10.0.0.0/24:443",
                "ruleid": "a3592386-d8f3-48b3-b066-90216f687d9a"})
            )
        );
    }

    #[test]
    fn the_other_reads_are_bodyless_gets() {
        for (r, p) in [
            (gateway_status_request(), "routes/gateway/status"),
            (routes_request(), "diagnostics/interface/get_routes"),
            (wireguard_show_request(), "wireguard/service/show"),
            (
                openvpn_sessions_request(),
                "openvpn/service/search_sessions",
            ),
            (ipsec_phase1_request(), "ipsec/sessions/search_phase1"),
        ] {
            assert_eq!((r.method, r.path.as_str(), r.body), (Method::Get, p, None));
        }
    }

    #[test]
    fn phase2_names_the_connection_in_the_body_never_the_path() {
        let r = ipsec_phase2_request("../../core/firmware/poweroff");
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.path, "ipsec/sessions/search_phase2");
        assert_eq!(
            r.body,
            Some(
                json!({"id": "../../core/firmware/poweroff", "current": 1, "rowCount": -1, "searchPhrase": ""})
            )
        );
    }
}

#[tokio::test]
async fn the_captured_log_decodes_and_names_each_rule() {
    let server = MockServer::start().await;
    let body = capture("diagnostics__firewall__log", "coreyhines-opnsense-mcp.json");
    Mock::given(method("GET"))
        .and(path("/api/diagnostics/firewall/log"))
        .and(query_param("limit", "8"))
        .and(basic_auth())
        .respond_with(json(body.clone()))
        .expect(1)
        .mount(&server)
        .await;
    let lines = client(&server)
        .await
        .diagnostics()
        .firewall_log(8)
        .await
        .expect("log");
    assert_eq!(lines.len(), body.as_array().expect("list").len());
    let first = &lines[0];
    assert_eq!(first.rid, "ecd3a310894625657c6591b80daa956a");
    assert_eq!(first.rule_origin(), RuleOrigin::Automatic);
    assert_eq!(first.label, "Default deny / state violation rule");
    assert_eq!(first.action, "block");
    assert_eq!(first.interface, "ax1");
    assert_eq!(first.dstport.as_deref(), Some("2001"));
    assert_eq!(first.timestamp, "2026-06-28T12:52:27-05:00");
    // Fields the model does not name are kept.
    assert_eq!(first.extra.get("ttl"), Some(&json!("53")));
    assert!(first.extra.get("__spec__").is_some_and(Value::is_array));
    let rdr = &lines[1];
    assert_eq!((rdr.rid.as_str(), rdr.action.as_str()), ("0", "rdr"));
    assert_eq!(rdr.rule_origin(), RuleOrigin::Nat);
    assert_eq!(rdr.label, "rdr rule");
}

#[tokio::test]
async fn a_user_rule_is_named_by_its_uuid() {
    let server = MockServer::start().await;
    let line = json!([{"rulenr": "60", "rid": "A3592386-D8F3-48B3-B066-90216F687D9A",
        "interface": "igb1", "reason": "match", "action": "pass", "dir": "in", "ipversion": "4",
        "protoname": "tcp", "src": "192.168.1.10", "dst": "10.0.10.25", "srcport": "51000",
        "dstport": "443", "label": "Allow LAN to web servers", "__timestamp__": "2026-06-28T10:00:00",
        "__digest__": "x"}]);
    Mock::given(method("GET"))
        .and(path("/api/diagnostics/firewall/log"))
        .respond_with(json(line))
        .mount(&server)
        .await;
    let lines = client(&server)
        .await
        .diagnostics()
        .firewall_log(5)
        .await
        .expect("log");
    assert_eq!(lines[0].rule_origin(), RuleOrigin::User);
    assert_eq!(
        lines[0].rule_uuid().map(|u| u.to_string()).as_deref(),
        Some("a3592386-d8f3-48b3-b066-90216f687d9a")
    );
}

#[tokio::test]
async fn the_captured_state_page_decodes() {
    let server = MockServer::start().await;
    let body = capture(
        "diagnostics__firewall__query_states",
        "coreyhines-opnsense-mcp.json",
    );
    let q = SearchQuery::page(1, 10);
    expect_post_json(
        &server,
        "diagnostics/firewall/query_states",
        Value::Object(q.to_body()),
        json(body.clone()),
        1,
    )
    .await;
    let page = client(&server)
        .await
        .diagnostics()
        .states(&q)
        .await
        .expect("states");
    assert_eq!(page.total, body["total"].as_u64().expect("total"));
    assert_eq!(
        page.rows.len(),
        body["rows"].as_array().expect("rows").len()
    );
    let s = &page.rows[1];
    assert_eq!(s.label, "a3592386-d8f3-48b3-b066-90216f687d9a");
    assert_eq!(s.descr, "Default allow LAN to any rule");
    assert_eq!(s.ipproto, "ipv6");
    assert_eq!(s.dst_port.as_deref(), Some("443"));
    assert_eq!(s.pkts, vec![879, 1505]);
    assert_eq!(s.flags, vec!["random-id"]);
    assert!(s.nat_addr.is_none());
}

#[tokio::test]
async fn captured_gateway_status_at_26_1_and_26_7() {
    for file in ["lib-opnsense-26.1.5.json", "lib-opnsense-26.7.json"] {
        let server = MockServer::start().await;
        let body = capture("routes__gateway__status", file);
        expect_get(&server, "routes/gateway/status", body.clone()).await;
        let list = client(&server)
            .await
            .diagnostics()
            .gateways()
            .await
            .expect(file);
        assert_eq!(list.status, "ok", "{file}");
        assert_eq!(
            list.items.len(),
            body["items"].as_array().expect("items").len()
        );
        let g = &list.items[0];
        assert!(!g.is_down(), "{file}");
        if file.contains("26.1") {
            assert!(g.is_monitored());
            assert_eq!(g.delay_ms(), Some(1.1));
            assert_eq!(g.stddev_ms(), Some(0.2));
            assert_eq!(g.loss_percent(), Some(0.0));
            assert_eq!(g.known_monitor(), Some("10.6.224.1"));
        } else {
            // `~`: not monitored.
            assert!(!g.is_monitored());
            assert_eq!((g.delay_ms(), g.known_monitor()), (None, None));
            assert_eq!(list.items[1].known_address(), None);
        }
    }
}

#[tokio::test]
async fn gateway_failure_and_down_shapes() {
    let opn = mock_get(
        "routes/gateway/status",
        json!({"items": [], "status": "failed"}),
    )
    .await;
    let list = opn.diagnostics().gateways().await.expect("read");
    assert_eq!((list.status.as_str(), list.items.len()), ("failed", 0));
    let down: opnsense_api::models::diagnostics::GatewayStatus = serde_json::from_value(
        json!({"name": "WAN_DHCP", "address": "198.51.100.1", "status": "down",
               "loss": "100.0 %", "delay": "0.0 ms", "stddev": "0.0 ms", "monitor": "198.51.100.1",
               "status_translated": "Offline", "ipprotocol": "inet"}),
    )
    .expect("gateway");
    assert!(down.is_down() && down.is_monitored());
    assert_eq!(down.loss_percent(), Some(100.0));
    assert_eq!(down.extra.get("ipprotocol"), Some(&json!("inet")));
    assert_eq!(measurement("~"), None);
    assert_eq!(measurement("12.5 ms"), Some(12.5));
}

#[tokio::test]
async fn kernel_routes_decode_with_netstat_columns_kept() {
    let server = MockServer::start().await;
    let rows = json!([
        {"proto": "ipv4", "destination": "default", "gateway": "203.0.113.1", "flags": "UGS",
         "nhop#": "3", "mtu": "1500", "netif": "igb0", "expire": "", "intf_description": "WAN",
         "id": "default,203.0.113.1"},
        {"proto": "ipv6", "destination": "::1", "gateway": "link#4", "flags": "UHS",
         "nhop#": "1", "mtu": "16384", "netif": "lo0", "expire": "", "intf_description": "",
         "id": "::1,link#4"}
    ]);
    expect_get(&server, "diagnostics/interface/get_routes", rows).await;
    let routes = client(&server)
        .await
        .diagnostics()
        .routes()
        .await
        .expect("routes");
    assert_eq!(routes.len(), 2);
    assert_eq!(routes[0].netif, "igb0");
    assert_eq!(routes[0].mtu.as_deref(), Some("1500"));
    assert_eq!(routes[0].extra.get("nhop#"), Some(&json!("3")));
    assert_eq!(routes[1].proto, "ipv6");
    assert!(routes[1].expire.is_none());
}

#[tokio::test]
async fn captured_wireguard_and_openvpn_pages_decode() {
    let server = MockServer::start().await;
    let wg = capture("wireguard__service__show", "lib-opnsense-25.1.12.json");
    let ovpn = capture(
        "openvpn__service__search_sessions",
        "lib-opnsense-26.7.json",
    );
    expect_get(&server, "wireguard/service/show", wg).await;
    expect_get(&server, "openvpn/service/search_sessions", ovpn).await;
    let c = client(&server).await;
    let page = c.vpn().wireguard().await.expect("wireguard");
    assert_eq!(page.total, 1);
    let r = &page.rows[0];
    assert!(r.is_interface() && !r.is_peer());
    assert_eq!(r.device, "wg0");
    assert_eq!(r.listen_port.as_deref(), Some("51820"));
    assert_eq!(r.peer_status.as_deref(), Some("offline"));
    assert_eq!(r.latest_handshake_age, None);
    assert_eq!(r.extra.get("fwmark"), Some(&json!("off")));
    let sessions = c.vpn().openvpn_sessions().await.expect("openvpn");
    assert_eq!((sessions.total, sessions.rows.len()), (0, 0));
}

#[tokio::test]
async fn wireguard_peers_and_openvpn_sessions_read_their_counters() {
    let peer: opnsense_api::models::vpn::WireguardRecord = serde_json::from_value(json!({
        "if": "wg0", "type": "peer", "public-key": "k=", "endpoint": "198.51.100.44:51820",
        "allowed-ips": "10.10.10.2/32", "latest-handshake": 1_782_651_102_i64,
        "transfer-rx": 1_843_200, "transfer-tx": 9_216_000, "persistent-keepalive": "off",
        "name": "laptop", "latest-handshake-age": 45,
        "latest-handshake-epoch": "2026-06-28 12:51:42", "peer-status": "online", "ifname": "wg-home"
    }))
    .expect("peer");
    assert!(peer.is_peer());
    assert_eq!(
        (
            peer.latest_handshake_age,
            peer.transfer_rx,
            peer.transfer_tx
        ),
        (Some(45), Some(1_843_200), Some(9_216_000))
    );
    // A server's client, and an enabled instance that is not running (its other keys null).
    let client_row: opnsense_api::models::vpn::OpenVpnSession = serde_json::from_value(json!({
        "socket": "/var/etc/openvpn/instance-x.sock", "status": "ok", "common_name": "alice",
        "real_address": "198.51.100.9:51234", "virtual_address": "10.8.0.2",
        "bytes_received": "12345", "bytes_sent": "67890", "connected_since": "2026-06-28 10:00:00",
        "username": "UNDEF", "type": "server", "id": "9f1c_198.51.100.9:51234",
        "description": "road warriors", "is_client": true, "service_id": null, "timestamp": null
    }))
    .expect("session");
    assert_eq!(client_row.is_client, Some(true));
    assert_eq!(client_row.bytes_received, Some(12_345));
    assert!(!client_row.is_stopped_instance());
    assert_eq!(
        client_row.extra.get("socket"),
        Some(&json!("/var/etc/openvpn/instance-x.sock"))
    );
    let stopped: opnsense_api::models::vpn::OpenVpnSession = serde_json::from_value(json!({
        "id": "9f1c", "service_id": "openvpn/9f1c", "type": "server", "description": "road warriors",
        "status": null, "common_name": null, "bytes_received": null, "is_client": null
    }))
    .expect("stopped");
    assert!(stopped.is_stopped_instance());
}

#[tokio::test]
async fn ipsec_phase1_then_phase2_by_name() {
    let server = MockServer::start().await;
    let name = "5d0f2f6a-3c1b-4e7a-9b55-2a7c9e4d1f01";
    expect_get(
        &server,
        "ipsec/sessions/search_phase1",
        json!({"total": 1, "rowCount": 1, "current": 1, "rows": [{
            "local-addrs": "203.0.113.2", "remote-addrs": "198.51.100.50", "local-id": "",
            "remote-id": "", "version": "IKEv2", "routed": true, "local-class": "pubkey",
            "remote-class": "pubkey", "ikeid": name, "phase1desc": "branch office", "name": name,
            "connected": true, "install-time": "1260", "bytes-in": 5_242_880, "bytes-out": 1_048_576,
            "packets-in": 4096, "packets-out": 2048}]}),
    )
    .await;
    expect_post_json(
        &server,
        "ipsec/sessions/search_phase2",
        json!({"id": name, "current": 1, "rowCount": -1, "searchPhrase": ""}),
        json(json!({"total": 1, "rowCount": 1, "current": 1, "rows": [{
            "name": "8a41c7e2-6b0d-4f3e-a1c9-7e5b3d2f9a02", "reqid": "1", "state": "INSTALLED",
            "mode": "TUNNEL", "protocol": "ESP", "bytes-in": "5242880", "bytes-out": "1048576",
            "install-time": "1260", "rekey-time": "2340", "local-ts": "192.168.1.0/24",
            "remote-ts": "10.20.0.0/16", "remote-host": "198.51.100.50", "ikeid": name,
            "phase2desc": "branch office LAN", "spi-in": "c1d2e3f4"}]})),
        1,
    )
    .await;
    let c = client(&server).await;
    let p1 = c.vpn().ipsec_phase1().await.expect("phase 1");
    let t = &p1.rows[0];
    assert_eq!(t.connected, Some(true));
    assert_eq!((t.bytes_in, t.install_time), (Some(5_242_880), Some(1260)));
    assert_eq!(t.extra.get("local-class"), Some(&json!("pubkey")));
    let p2 = c.vpn().ipsec_phase2(&t.name).await.expect("phase 2");
    let child = &p2.rows[0];
    assert_eq!(child.state.as_deref(), Some("INSTALLED"));
    assert_eq!(
        (child.bytes_in, child.rekey_time),
        (Some(5_242_880), Some(2340))
    );
    assert_eq!(child.local_ts.as_deref(), Some("192.168.1.0/24"));
    assert_eq!(child.extra.get("spi-in"), Some(&json!("c1d2e3f4")));
}

#[tokio::test]
async fn ipsec_not_running_is_an_empty_page() {
    // `list_status.py` prints `ipsec not active`: json_decode gives null, no rows.
    let opn = mock_get(
        "ipsec/sessions/search_phase1",
        json!({"total": 0, "rowCount": 0, "current": 1, "rows": []}),
    )
    .await;
    let p1 = opn.vpn().ipsec_phase1().await.expect("read");
    assert!(p1.rows.is_empty());
}

//! `kea/*` (Kea DHCPv4) against wiremock.

mod common;

use common::{NoBody, basic_auth, client, fixture, json, json_body};
use opnsense_api::api::kea::{RESERVATION, SUBNET, leases_request, reconfigure_request};
use opnsense_api::fields::CsvList;
use opnsense_api::models::kea::{Allocator, OptionData, Reservation, SocketType};
use opnsense_api::{Error, Method, SearchQuery, Uuid};
use serde_json::json as j;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const RES_ID: &str = "0c7b1a2e-3d4f-4a5b-8c9d-0e1f2a3b4c5d";
const SUBNET_ID: &str = "9a8b7c6d-5e4f-4321-8765-43210fedcba9";

fn res_id() -> Uuid {
    Uuid::parse(RES_ID).expect("uuid")
}

fn all() -> serde_json::Value {
    j!({"current": 1, "rowCount": -1, "searchPhrase": ""})
}

#[test]
fn request_builders() {
    let r = leases_request(&SearchQuery::all(), &[]);
    assert_eq!(
        (r.method, r.path.as_str(), r.body),
        (Method::Post, "kea/leases4/search", Some(all()))
    );
    let r = leases_request(&SearchQuery::page(2, 10), &["lan".into(), "opt1".into()]);
    assert_eq!(
        r.body,
        Some(
            j!({"current": 2, "rowCount": 10, "searchPhrase": "", "selected_interfaces": ["lan", "opt1"]})
        )
    );
    let r = RESERVATION.search_request(&SearchQuery::all(), serde_json::Map::new());
    assert_eq!(
        (r.method, r.path.as_str(), r.body),
        (Method::Post, "kea/dhcpv4/searchReservation", Some(all()))
    );
    let r = RESERVATION.get_request(&res_id());
    assert_eq!(
        (r.method, r.path),
        (Method::Get, format!("kea/dhcpv4/getReservation/{RES_ID}"))
    );
    let r = RESERVATION
        .add_request(&Reservation {
            hostname: Some("nas".into()),
            ..Reservation::default()
        })
        .expect("add");
    assert_eq!(
        (r.path.as_str(), r.body),
        (
            "kea/dhcpv4/addReservation",
            Some(j!({"reservation": {"hostname": "nas"}}))
        )
    );
    let r = RESERVATION.del_request(&res_id());
    assert_eq!(
        (r.method, r.path, r.body),
        (
            Method::Post,
            format!("kea/dhcpv4/delReservation/{RES_ID}"),
            None
        )
    );
    let r = SUBNET.search_request(&SearchQuery::all(), serde_json::Map::new());
    assert_eq!(r.path, "kea/dhcpv4/searchSubnet");
    assert_eq!(SUBNET.wrapper, "subnet4");
    let r = reconfigure_request();
    assert_eq!(
        (r.method, r.path.as_str(), r.body),
        (Method::Post, "kea/service/reconfigure", None)
    );
}

#[tokio::test]
async fn leases_all_interfaces() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/kea/leases4/search"))
        .and(basic_auth())
        .and(json_body(all()))
        .respond_with(json(fixture("dhcp", "kea_leases4_search.json")))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .await
        .kea()
        .leases(&SearchQuery::all(), &[])
        .await
        .expect("leases");
    assert_eq!(page.total, 1);
    let l = &page.rows[0];
    assert_eq!(l.address, "192.168.1.100");
    assert_eq!(l.hwaddr, "00:0d:b9:4a:12:34");
    assert_eq!(l.hostname, "nas");
    assert_eq!(l.client_id, "01:00:0d:b9:4a:12:34");
    assert_eq!(l.expire, Some(1_767_229_200));
    assert_eq!(l.valid_lifetime, Some(4000));
    assert_eq!(l.state, Some(0));
    assert_eq!(l.if_device.as_deref(), Some("igb1"));
    assert_eq!(l.if_name.as_deref(), Some("lan"));
    assert_eq!(l.if_descr.as_deref(), Some("LAN"));
    assert_eq!(l.is_reserved, ["hwaddr"]);
    assert!(l.is_reserved());
    assert_eq!(l.mac_info.as_deref(), Some("PC Engines GmbH"));
    assert_eq!(page.extra.get("interfaces"), Some(&j!({"lan": "LAN"})));
}

#[tokio::test]
async fn leases_for_selected_interfaces() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/kea/leases4/search"))
        .and(basic_auth())
        .and(json_body(j!({
            "current": 1, "rowCount": -1, "searchPhrase": "nas", "selected_interfaces": ["lan"]
        })))
        .respond_with(json(fixture("dhcp", "kea_leases4_search.json")))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .await
        .kea()
        .leases(&SearchQuery::all().phrase("nas"), &["lan".to_owned()])
        .await
        .expect("leases");
    assert_eq!(page.rows.len(), 1);
}

#[test]
fn lease_without_reservation_or_device() {
    let l: opnsense_api::models::kea::Lease = serde_json::from_value(j!({
        "address": "192.168.1.101", "hwaddr": "aa:bb:cc:dd:ee:ff", "expire": 1, "valid_lifetime": 4000,
        "state": 2, "if": null, "is_reserved": []
    }))
    .expect("parses");
    assert!(!l.is_reserved());
    assert_eq!(l.if_device, None);
    assert_eq!(l.state, Some(2));
}

#[tokio::test]
async fn settings() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/kea/dhcpv4/get"))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("dhcp", "kea_dhcpv4_get.json")))
        .expect(1)
        .mount(&server)
        .await;
    let s = client(&server)
        .await
        .kea()
        .settings()
        .await
        .expect("settings");
    let general = s.general().expect("general");
    assert_eq!(general.enabled, Some(true));
    assert_eq!(general.manual_config, Some(false));
    assert_eq!(general.interfaces, Some(CsvList(vec!["lan".into()])));
    assert_eq!(general.valid_lifetime, Some(4000));
    assert_eq!(general.fwrules, Some(true));
    assert_eq!(general.dhcp_socket_type, Some(SocketType::Raw));
    assert_eq!(general.compatibility, None);
    let ha = s.ha().expect("ha");
    assert_eq!(ha.enabled, Some(false));
    assert_eq!(ha.this_server_name, None);
    assert_eq!(ha.max_unacked_clients, Some(2));
    assert_eq!(
        ha.extra.get("%this_server_name").and_then(|v| v.as_str()),
        Some("OPNsense")
    );
    let sections = s.sections().expect("sections");
    assert_eq!(sections.general, Some(general));
    assert_eq!(sections.ha, Some(ha));
    assert!(sections.lexpire.is_some());
}

#[tokio::test]
async fn search_subnets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/kea/dhcpv4/searchSubnet"))
        .and(basic_auth())
        .and(json_body(all()))
        .respond_with(json(fixture("dhcp", "kea_dhcpv4_searchSubnet.json")))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .await
        .kea()
        .search_subnets(&SearchQuery::all())
        .await
        .expect("subnets");
    let s = &page.rows[0];
    assert_eq!(s.uuid.as_deref(), Some(SUBNET_ID));
    assert_eq!(s.subnet.as_deref(), Some("192.168.1.0/24"));
    assert_eq!(
        s.pools.as_ref().map(|p| p.0.clone()),
        Some(vec!["192.168.1.100-192.168.1.199".to_owned()])
    );
    assert_eq!(s.valid_lifetime, None);
    assert_eq!(s.option_data_autocollect, Some(true));
    assert_eq!(s.match_client_id, Some(true));
    assert_eq!(s.allocator, None);
    assert_eq!(s.description.as_deref(), Some("LAN"));
    // `option_data.*` columns of the row are folded into `option_data`.
    let od = s.option_data.as_ref().expect("option data");
    assert_eq!(od.routers, Some(CsvList(vec!["192.168.1.1".into()])));
    assert_eq!(
        od.domain_name_servers,
        Some(CsvList(vec!["192.168.1.1".into()]))
    );
    assert_eq!(od.ntp_servers, Some(CsvList(vec!["192.168.1.1".into()])));
    assert_eq!(od.domain_name, None);
    assert!(s.extra.get("option_data.routers").is_none());
}

#[tokio::test]
async fn get_subnet() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/kea/dhcpv4/getSubnet/{SUBNET_ID}")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(j!({"subnet4": {
            "subnet": "10.0.0.0/24", "pools": "10.0.0.10-10.0.0.20\n10.0.0.128/25",
            "allocator": {"": {"value": "Default", "selected": 0}, "iterative": {"value": "Iterative", "selected": 0}, "random": {"value": "Random", "selected": 1}},
            "option_data": {"routers": "10.0.0.1", "domain_search": "a.example,b.example"},
            "match-client-id": "0", "valid_lifetime": "7200"
        }})))
        .expect(1)
        .mount(&server)
        .await;
    let s = client(&server)
        .await
        .kea()
        .get_subnet(&Uuid::parse(SUBNET_ID).expect("uuid"))
        .await
        .expect("subnet");
    assert_eq!(s.allocator, Some(Allocator::Random));
    assert_eq!(
        s.pools.expect("pools").0,
        ["10.0.0.10-10.0.0.20", "10.0.0.128/25"]
    );
    assert_eq!(s.match_client_id, Some(false));
    assert_eq!(s.valid_lifetime, Some(7200));
    let od = s.option_data.expect("od");
    assert_eq!(
        od.domain_search,
        Some(CsvList(vec!["a.example".into(), "b.example".into()]))
    );
}

fn expected_reservation_fields(r: &Reservation) {
    assert_eq!(r.subnet.as_deref(), Some(SUBNET_ID));
    assert_eq!(r.ip_address.as_deref(), Some("192.168.1.50"));
    assert_eq!(r.hw_address.as_deref(), Some("00:0d:b9:4a:12:34"));
    assert_eq!(r.client_id, None);
    assert_eq!(r.hostname.as_deref(), Some("nas"));
    assert_eq!(r.description.as_deref(), Some("NAS box"));
    assert_eq!(r.next_server, None);
    assert_eq!(r.option, None);
    assert_eq!(
        r.option_data.clone().unwrap_or_default(),
        OptionData::default()
    );
}

#[tokio::test]
async fn search_reservations() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/kea/dhcpv4/searchReservation"))
        .and(basic_auth())
        .and(json_body(all()))
        .respond_with(json(fixture("dhcp", "kea_dhcpv4_searchReservation.json")))
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .await
        .kea()
        .search_reservations(&SearchQuery::all())
        .await
        .expect("search");
    let r = &page.rows[0];
    assert_eq!(r.uuid.as_deref(), Some(RES_ID));
    expected_reservation_fields(r);
    assert_eq!(r.subnet_cidr(), Some("192.168.1.0/24"));
}

#[tokio::test]
async fn get_reservation() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/kea/dhcpv4/getReservation/{RES_ID}")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("dhcp", "kea_dhcpv4_getReservation.json")))
        .expect(1)
        .mount(&server)
        .await;
    let r = client(&server)
        .await
        .kea()
        .get_reservation(&res_id())
        .await
        .expect("get");
    // The subnet option map is keyed by the subnet uuid: the selected key is read.
    expected_reservation_fields(&r);
    assert_eq!(r.uuid, None);
}

#[tokio::test]
async fn get_reservation_unknown_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/kea/dhcpv4/getReservation/{RES_ID}")))
        .and(basic_auth())
        .respond_with(json(j!([])))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server)
        .await
        .kea()
        .get_reservation(&res_id())
        .await
        .expect_err("nf");
    assert!(
        matches!(
            e,
            Error::NotFound {
                kind: "DHCP reservation",
                ..
            }
        ),
        "{e:?}"
    );
}

fn new_reservation() -> Reservation {
    Reservation {
        subnet: Some(SUBNET_ID.into()),
        ip_address: Some("192.168.1.50".into()),
        hw_address: Some("00:0d:b9:4a:12:34".into()),
        hostname: Some("nas".into()),
        ..Reservation::default()
    }
}

#[tokio::test]
async fn add_reservation() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/kea/dhcpv4/addReservation"))
        .and(basic_auth())
        .and(json_body(j!({"reservation": {
            "subnet": SUBNET_ID, "ip_address": "192.168.1.50", "hw_address": "00:0d:b9:4a:12:34", "hostname": "nas"
        }})))
        .respond_with(json(fixture("dhcp", "kea_dhcpv4_addReservation.json")))
        .expect(1)
        .mount(&server)
        .await;
    let saved = client(&server)
        .await
        .kea()
        .add_reservation(&new_reservation())
        .await
        .expect("saved");
    assert_eq!(saved.uuid.as_deref(), Some(RES_ID));
}

#[tokio::test]
async fn add_reservation_failed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/kea/dhcpv4/addReservation"))
        .and(basic_auth())
        .respond_with(json(fixture(
            "dhcp",
            "kea_dhcpv4_addReservation_failed.json",
        )))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server)
        .await
        .kea()
        .add_reservation(&new_reservation())
        .await
        .expect_err("failed");
    let Error::Validation { path, errors } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(path, "kea/dhcpv4/addReservation");
    assert_eq!(errors.len(), 2);
    assert_eq!(
        errors["reservation.ip_address"],
        ["Address not in specified subnet"]
    );
    assert_eq!(
        errors["reservation.hw_address"],
        ["Either a client ID or a MAC address should be specified."]
    );
}

#[tokio::test]
async fn set_reservation_checks_existence_first() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/kea/dhcpv4/getReservation/{RES_ID}")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("dhcp", "kea_dhcpv4_getReservation.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/kea/dhcpv4/setReservation/{RES_ID}")))
        .and(basic_auth())
        .and(json_body(
            j!({"reservation": {"description": "NAS (rack 2)"}}),
        ))
        .respond_with(json(fixture("dhcp", "kea_dhcpv4_setReservation.json")))
        .expect(1)
        .mount(&server)
        .await;
    let change = Reservation {
        description: Some("NAS (rack 2)".into()),
        ..Reservation::default()
    };
    client(&server)
        .await
        .kea()
        .set_reservation(&res_id(), &change)
        .await
        .expect("set");
}

#[tokio::test]
async fn set_reservation_unknown_sends_no_set() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/kea/dhcpv4/getReservation/{RES_ID}")))
        .respond_with(json(j!([])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/api/kea/dhcpv4/setReservation/{RES_ID}")))
        .respond_with(json(fixture("dhcp", "kea_dhcpv4_setReservation.json")))
        .expect(0)
        .mount(&server)
        .await;
    let e = client(&server)
        .await
        .kea()
        .set_reservation(&res_id(), &Reservation::default())
        .await
        .expect_err("nf");
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
}

#[tokio::test]
async fn delete_reservation() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/api/kea/dhcpv4/delReservation/{RES_ID}")))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("dhcp", "kea_dhcpv4_delReservation.json")))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .await
        .kea()
        .delete_reservation(&res_id())
        .await
        .expect("deleted");
}

#[tokio::test]
async fn reconfigure() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/kea/service/reconfigure"))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(fixture("dhcp", "kea_service_reconfigure.json")))
        .expect(1)
        .mount(&server)
        .await;
    let s = client(&server).await.kea().reconfigure().await.expect("ok");
    assert_eq!(s.status, "ok");
}

#[tokio::test]
async fn reconfigure_failed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/kea/service/reconfigure"))
        .and(basic_auth())
        .and(NoBody)
        .respond_with(json(j!({"status": "failed"})))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server)
        .await
        .kea()
        .reconfigure()
        .await
        .expect_err("failed");
    assert!(
        matches!(&e, Error::ActionFailed { status, .. } if status == "failed"),
        "{e:?}"
    );
}

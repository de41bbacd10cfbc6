//! `kea/*` (Kea DHCPv4): what only Kea has. The reservation and subnet grids' generic behaviour
//! is in `grids.rs`; here: leases (with the interface filter), the settings sections, and the
//! `option_data` container that search rows flatten and gets nest.

mod common;

use common::{all_rows, assert_request, fixture, mock_get, mock_post_json};
use opnsense_api::api::kea::{leases_request, settings_request};
use opnsense_api::fields::CsvList;
use opnsense_api::models::kea::{Allocator, Lease, OptionData, Reservation, SocketType};
use opnsense_api::{Method, SearchQuery, Uuid};
use serde_json::json as j;

const RES_ID: &str = "0c7b1a2e-3d4f-4a5b-8c9d-0e1f2a3b4c5d";
const SUBNET_ID: &str = "9a8b7c6d-5e4f-4321-8765-43210fedcba9";

#[test]
fn request_builders() {
    assert_request(
        &leases_request(&SearchQuery::all(), &[]),
        Method::Post,
        "kea/leases4/search",
        Some(all_rows()),
    );
    let r = leases_request(&SearchQuery::page(2, 10), &["lan".into(), "opt1".into()]);
    assert_eq!(
        r.body,
        Some(
            j!({"current": 2, "rowCount": 10, "searchPhrase": "", "selected_interfaces": ["lan", "opt1"]})
        )
    );
    assert_request(&settings_request(), Method::Get, "kea/dhcpv4/get", None);
}

#[tokio::test]
async fn leases_all_interfaces() {
    let opn = mock_post_json(
        "kea/leases4/search",
        all_rows(),
        fixture("dhcp", "kea_leases4_search.json"),
    )
    .await;
    let page = opn
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
    let opn = mock_post_json(
        "kea/leases4/search",
        j!({"current": 1, "rowCount": -1, "searchPhrase": "nas", "selected_interfaces": ["lan"]}),
        fixture("dhcp", "kea_leases4_search.json"),
    )
    .await;
    let page = opn
        .kea()
        .leases(&SearchQuery::all().phrase("nas"), &["lan".to_owned()])
        .await
        .expect("leases");
    assert_eq!(page.rows.len(), 1);
}

#[tokio::test]
async fn leases_of_a_stopped_kea_are_an_empty_page() {
    let opn = mock_post_json(
        "kea/leases4/search",
        all_rows(),
        j!({"total": 0, "rowCount": 0, "current": 1, "rows": [], "interfaces": []}),
    )
    .await;
    let page = opn
        .kea()
        .leases(&SearchQuery::all(), &[])
        .await
        .expect("leases");
    assert!(page.rows.is_empty());
}

#[test]
fn lease_without_reservation_or_device() {
    let l: Lease = serde_json::from_value(j!({
        "address": "192.168.1.101", "hwaddr": "aa:bb:cc:dd:ee:ff", "expire": 1, "valid_lifetime": 4000,
        "state": 2, "if": null, "is_reserved": []
    }))
    .expect("parses");
    assert!(!l.is_reserved());
    assert_eq!(l.if_device, None);
    assert_eq!(l.state, Some(2));
    // Numbers as strings, and a reservation flag given as one string.
    let l: Lease =
        serde_json::from_value(j!({"expire": "5", "state": "1", "is_reserved": "client_id"}))
            .expect("parses");
    assert_eq!((l.expire, l.state), (Some(5), Some(1)));
    assert_eq!(l.is_reserved, ["client_id"]);
}

#[tokio::test]
async fn settings() {
    let opn = mock_get("kea/dhcpv4/get", fixture("dhcp", "kea_dhcpv4_get.json")).await;
    let s = opn.kea().settings().await.expect("settings");
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
async fn settings_of_a_post_are_refused() {
    // `get` answers `[]` to anything but a GET: that is not a settings object.
    let opn = mock_get("kea/dhcpv4/get", j!([])).await;
    let e = opn.kea().settings().await.expect_err("not settings");
    assert!(
        matches!(e, opnsense_api::Error::InvalidResponse { .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn subnet_rows_fold_option_data_columns() {
    let opn = mock_post_json(
        "kea/dhcpv4/searchSubnet",
        all_rows(),
        fixture("dhcp", "kea_dhcpv4_searchSubnet.json"),
    )
    .await;
    let page = opn
        .kea()
        .subnets()
        .search(&SearchQuery::all())
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
async fn subnet_get_reads_option_maps_and_nested_option_data() {
    let opn = mock_get(&format!("kea/dhcpv4/getSubnet/{SUBNET_ID}"), j!({"subnet4": {
            "subnet": "10.0.0.0/24", "pools": "10.0.0.10-10.0.0.20\n10.0.0.128/25",
            "allocator": {"": {"value": "Default", "selected": 0}, "iterative": {"value": "Iterative", "selected": 0}, "random": {"value": "Random", "selected": 1}},
            "option_data": {"routers": "10.0.0.1", "domain_search": "a.example,b.example"},
            "match-client-id": "0", "valid_lifetime": "7200"
        }})).await;
    let s = opn
        .kea()
        .subnets()
        .get(&Uuid::parse(SUBNET_ID).expect("uuid"))
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
async fn reservation_rows_read_every_field() {
    let opn = mock_post_json(
        "kea/dhcpv4/searchReservation",
        all_rows(),
        fixture("dhcp", "kea_dhcpv4_searchReservation.json"),
    )
    .await;
    let page = opn
        .kea()
        .reservations()
        .search(&SearchQuery::all())
        .await
        .expect("search");
    let r = &page.rows[0];
    assert_eq!(r.uuid.as_deref(), Some(RES_ID));
    expected_reservation_fields(r);
    assert_eq!(r.subnet_cidr(), Some("192.168.1.0/24"));
}

#[tokio::test]
async fn reservation_get_reads_the_subnet_option_map() {
    let opn = mock_get(
        &format!("kea/dhcpv4/getReservation/{RES_ID}"),
        fixture("dhcp", "kea_dhcpv4_getReservation.json"),
    )
    .await;
    let r = opn
        .kea()
        .reservations()
        .get(&Uuid::parse(RES_ID).expect("uuid"))
        .await
        .expect("get");
    // The subnet option map is keyed by the subnet uuid: the selected key is read.
    expected_reservation_fields(&r);
    assert_eq!(r.uuid, None);
}

#[test]
fn reservations_serialise_option_data_nested() {
    let r = Reservation {
        hostname: Some("nas".into()),
        option_data: Some(OptionData {
            routers: Some(CsvList(vec!["192.168.1.1".into()])),
            ..OptionData::default()
        }),
        ..Reservation::default()
    };
    assert_eq!(
        serde_json::to_value(&r).expect("serialises"),
        j!({"hostname": "nas", "option_data": {"routers": "192.168.1.1"}})
    );
}

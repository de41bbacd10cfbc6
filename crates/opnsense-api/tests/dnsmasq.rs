//! `dnsmasq/*` (Dnsmasq DNS/DHCP): what only Dnsmasq has. The host grid's generic behaviour is in
//! `grids.rs`; here: leases (with the interface filter), the model `get` and what it says about
//! DHCP being served, and the hosts that are DHCP reservations.
//!
//! `dnsmasq_leases_search.json` and `dnsmasq_settings_searchHost.json` are the reference's
//! recorded answers (`shared/opnsense-reference/responses/dhcp`); `dnsmasq_settings_get.json` and
//! `dnsmasq_settings_getHost.json` are written from opnsense/core 26.1.11's
//! `Dnsmasq/Api/SettingsController.php` (`getAction`, `getBase`) and `Dnsmasq.xml` (list fields
//! as `BaseSetField::getNodeData()` renders them, empty lists as PHP's `[]`).

mod common;

use common::{
    all_rows, assert_request, client, expect_get, expect_post_json, fixture, json, mock_get,
    mock_post_json,
};
use opnsense_api::api::dnsmasq::{leases_request, settings_request};
use opnsense_api::fields::CsvList;
use opnsense_api::models::dnsmasq::{DnsmasqSettings, Host};
use opnsense_api::models::kea::KeaSettings;
use opnsense_api::{Method, SearchQuery, Uuid};
use serde_json::json as j;
use wiremock::MockServer;

const HOST_ID: &str = "7d6e5f4a-3b2c-4d1e-9f0a-1b2c3d4e5f60";

#[test]
fn request_builders() {
    assert_request(
        &leases_request(&SearchQuery::all(), &[]),
        Method::Post,
        "dnsmasq/leases/search",
        Some(all_rows()),
    );
    let r = leases_request(&SearchQuery::page(2, 10), &["lan".into()]);
    assert_eq!(
        r.body,
        Some(
            j!({"current": 2, "rowCount": 10, "searchPhrase": "", "selected_interfaces": ["lan"]})
        )
    );
    assert_request(
        &settings_request(),
        Method::Get,
        "dnsmasq/settings/get",
        None,
    );
}

#[tokio::test]
async fn leases_read_into_the_lease_model() {
    let opn = mock_post_json(
        "dnsmasq/leases/search",
        j!({"current": 1, "rowCount": -1, "searchPhrase": "", "selected_interfaces": ["lan"]}),
        fixture("dhcp", "dnsmasq_leases_search.json"),
    )
    .await;
    let page = opn
        .dnsmasq()
        .leases(&SearchQuery::all(), &["lan".into()])
        .await
        .expect("leases");
    assert_eq!(page.total, 1);
    let l = &page.rows[0];
    assert_eq!(l.address, "192.168.1.100");
    assert_eq!(l.hwaddr, "00:0d:b9:4a:12:34");
    assert_eq!(l.client_id, "01:00:0d:b9:4a:12:34");
    assert_eq!(l.expire, Some(1_767_229_200));
    assert_eq!(l.valid_lifetime, None, "dnsmasq rows have no lifetime");
    assert_eq!(l.if_name.as_deref(), Some("lan"));
    assert!(l.is_reserved());
    assert_eq!(l.extra.get("iaid"), Some(&j!("")));
    assert_eq!(page.extra.get("interfaces"), Some(&j!({"lan": "LAN"})));
}

#[tokio::test]
async fn settings_say_dhcp_is_served_with_a_range() {
    let opn = mock_get(
        "dnsmasq/settings/get",
        fixture("dhcp", "dnsmasq_settings_get.json"),
    )
    .await;
    let s = opn.dnsmasq().settings().await.expect("settings");
    assert!(s.enabled());
    assert_eq!(s.dhcp_ranges().len(), 1);
    assert!(s.serves_dhcp());
    assert_eq!(s.dhcp_interfaces(), ["lan"]);
    assert_eq!(s.dhcp_domain().as_deref(), Some("lan.example"));
    assert_eq!(s.hosts().len(), 2);
}

fn settings(f: impl FnOnce(&mut serde_json::Value)) -> DnsmasqSettings {
    let mut v = fixture("dhcp", "dnsmasq_settings_get.json");
    f(&mut v["dnsmasq"]);
    serde_json::from_value(v).expect("settings")
}

#[test]
fn dhcp_needs_the_switch_and_a_range() {
    let off = settings(|d| d["enable"] = j!("0"));
    assert!(!off.enabled() && !off.serves_dhcp());
    // Dnsmasq as a DNS server only: PHP renders the empty list as `[]`.
    let dns_only = settings(|d| d["dhcp_ranges"] = j!([]));
    assert!(dns_only.enabled() && !dns_only.serves_dhcp());
    assert!(dns_only.dhcp_interfaces().is_empty());
    let dns_only = settings(|d| d["dhcp_ranges"] = j!({}));
    assert!(!dns_only.serves_dhcp());
}

#[test]
fn dhcp_interfaces_follow_get_dhcp_interfaces() {
    // Selected interfaces win over the ranges'; `no_interface` is taken out.
    let s = settings(|d| {
        d["interface"]["opt1"]["selected"] = j!(1);
        d["interface"]["wan"]["selected"] = j!(1);
        d["dhcp"]["no_interface"]["wan"]["selected"] = j!(1);
    });
    assert_eq!(s.dhcp_interfaces(), ["opt1"]);
    // A range on any interface: the empty key.
    let any = settings(|d| {
        let r = d["dhcp_ranges"]
            .as_object_mut()
            .and_then(|m| m.values_mut().next())
            .expect("a range");
        r["interface"] =
            j!({"": {"value": "Any", "selected": 1}, "lan": {"value": "LAN", "selected": 0}});
    });
    assert_eq!(any.dhcp_interfaces(), [""]);
    // The system domain stands in for an empty DHCP domain; a set one wins.
    let own = settings(|d| d["dhcp"]["domain"] = j!("dhcp.example"));
    assert_eq!(own.dhcp_domain().as_deref(), Some("dhcp.example"));
}

#[test]
fn kea_serves_dhcp_only_enabled_with_an_interface() {
    let kea = |enabled: &str, lan: u8| -> KeaSettings {
        serde_json::from_value(j!({"dhcpv4": {"general": {
            "enabled": enabled,
            "interfaces": {"lan": {"value": "LAN", "selected": lan}, "wan": {"value": "WAN", "selected": 0}}
        }}}))
        .expect("kea")
    };
    assert!(kea("1", 1).serves_dhcp());
    assert!(
        !kea("1", 0).serves_dhcp(),
        "no interface: isEnabled() is false"
    );
    assert!(!kea("0", 1).serves_dhcp());
    let odd: KeaSettings = serde_json::from_value(j!({"dhcpv4": []})).expect("kea");
    assert!(!odd.serves_dhcp());
}

#[tokio::test]
async fn host_rows_and_gets_read_every_field() {
    let server = MockServer::start().await;
    expect_post_json(
        &server,
        "dnsmasq/settings/searchHost",
        all_rows(),
        json(fixture("dhcp", "dnsmasq_settings_searchHost.json")),
        1,
    )
    .await;
    expect_get(
        &server,
        &format!("dnsmasq/settings/getHost/{HOST_ID}"),
        fixture("dhcp", "dnsmasq_settings_getHost.json"),
    )
    .await;
    let c = client(&server).await;
    let page = c
        .dnsmasq()
        .hosts()
        .search(&SearchQuery::all())
        .await
        .expect("search");
    let row = &page.rows[0];
    assert_eq!(row.uuid.as_deref(), Some(HOST_ID));
    assert_eq!(row.host.as_deref(), Some("nas"));
    assert_eq!(row.ip, Some(CsvList(vec!["192.168.1.50".into()])));
    assert_eq!(row.hwaddr, Some(CsvList(vec!["00:0d:b9:4a:12:34".into()])));
    assert_eq!(row.client_id, None);
    assert_eq!((row.local, row.ignore), (Some(false), Some(false)));
    assert!(row.is_dhcp());
    let got = c
        .dnsmasq()
        .hosts()
        .get(&Uuid::parse(HOST_ID).expect("uuid"))
        .await
        .expect("get");
    // AsList fields arrive as option maps; an empty list as `{"": ...}`.
    assert_eq!(got.ip, Some(CsvList(vec!["192.168.1.210".into()])));
    assert_eq!(got.hwaddr, Some(CsvList(vec!["00:0d:b9:4a:12:35".into()])));
    assert_eq!(got.cnames, None);
    assert_eq!(got.set_tag, None);
    assert_eq!(got.descr.as_deref(), Some("Second NAS"));
}

#[test]
fn a_host_without_mac_or_client_id_is_a_dns_override() {
    let dns: Host = serde_json::from_value(
        j!({"host": "wiki", "ip": "192.168.1.20", "hwaddr": "", "client_id": ""}),
    )
    .expect("host");
    assert!(!dns.is_dhcp());
    let by_id: Host =
        serde_json::from_value(j!({"host": "voip", "client_id": "01:02:f3"})).expect("host");
    assert!(by_id.is_dhcp());
    // Written back: lists comma-joined, booleans as "0"/"1", unset fields left out.
    let h = Host {
        host: Some("nas2".into()),
        ip: Some(CsvList(vec!["192.168.1.210".into()])),
        hwaddr: Some(CsvList(vec!["00:0d:b9:4a:12:35".into()])),
        local: Some(true),
        ..Host::default()
    };
    assert_eq!(
        serde_json::to_value(&h).expect("json"),
        j!({"host": "nas2", "ip": "192.168.1.210", "hwaddr": "00:0d:b9:4a:12:35", "local": "1"})
    );
}

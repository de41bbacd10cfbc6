//! `unbound/*` (Unbound DNS): what only Unbound has. The host-override grid's generic behaviour is
//! in `grids.rs`; here: the resolver settings, the host-override model (the `hostname` field, the
//! fqdn, 26.1.6's alias rows in `_children`) and unknown record types.

mod common;

use common::{
    all_rows, assert_request, client, fixture, json, mock_get, mock_post_json, nas_override,
};
use opnsense_api::api::unbound::settings_request;
use opnsense_api::models::unbound::{HostOverride, RecordType};
use opnsense_api::{Error, Method, SearchQuery, Uuid};
use serde_json::json as j;
use wiremock::MockServer;

const ID: &str = "3f2e1d0c-9b8a-4766-8554-433221100fed";

#[test]
fn settings_request_is_a_get() {
    assert_request(
        &settings_request(),
        Method::Get,
        "unbound/settings/get",
        None,
    );
}

#[tokio::test]
async fn settings() {
    let opn = mock_get("unbound/settings/get", fixture("dns", "settings_get.json")).await;
    let s = opn.unbound().settings().await.expect("settings");
    assert_eq!(s.unbound.pointer("/general/enabled"), Some(&j!("1")));
    assert!(
        s.unbound
            .pointer(&format!("/hosts/host/{ID}/hostname"))
            .is_some()
    );
}

#[tokio::test]
async fn settings_without_the_model_are_refused() {
    // A POST to `get` answers `[]`; an error envelope has no `unbound` either.
    for answer in [j!([]), j!({"result": "failed"})] {
        let opn = mock_get("unbound/settings/get", answer.clone()).await;
        let e = opn.unbound().settings().await.expect_err("no model");
        assert!(
            matches!(e, Error::InvalidResponse { .. }),
            "{answer}: {e:?}"
        );
    }
}

#[tokio::test]
async fn search_rows_read_every_field() {
    let opn = mock_post_json(
        "unbound/settings/searchHostOverride",
        all_rows(),
        fixture("dns", "searchHostOverride.json"),
    )
    .await;
    let page = opn
        .unbound()
        .host_overrides()
        .search(&SearchQuery::all())
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
    assert_eq!(row, nas_override());
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
    // Children are read, never sent back.
    let out = serde_json::to_value(HostOverride {
        children: Vec::new(),
        ..row
    })
    .expect("serialises");
    assert!(out.get("_children").is_none(), "{out}");
    // Record types are sent in OPNsense's upper-case spelling.
    let aaaa = HostOverride {
        hostname: Some("nas".into()),
        rr: Some(RecordType::Aaaa),
        ..HostOverride::default()
    };
    assert_eq!(
        serde_json::to_value(&aaaa).expect("serialises"),
        j!({"hostname": "nas", "rr": "AAAA"})
    );
    // An unknown record type is kept, not an error.
    let odd: HostOverride = serde_json::from_value(j!({"rr": "SRV"})).expect("parses");
    assert_eq!(odd.rr, Some(RecordType::Other("SRV".into())));
    // `_children` that is not a list (absent, null, PHP's {}) is none.
    for empty in [j!({}), j!({"_children": null}), j!({"_children": {}})] {
        let h: HostOverride = serde_json::from_value(empty.clone()).expect("parses");
        assert!(h.children.is_empty(), "{empty}");
    }
}

#[test]
fn fqdn_of_an_override_for_the_domain_itself() {
    let h = HostOverride {
        domain: Some("example.lan".into()),
        ..HostOverride::default()
    };
    assert_eq!(h.fqdn().as_deref(), Some("example.lan"));
    assert_eq!(HostOverride::default().fqdn(), None);
}

#[tokio::test]
async fn get_reads_the_record_type_option_map() {
    let opn = mock_get(
        &format!("unbound/settings/getHostOverride/{ID}"),
        fixture("dns", "getHostOverride.json"),
    )
    .await;
    let h = opn
        .unbound()
        .host_overrides()
        .get(&Uuid::parse(ID).expect("uuid"))
        .await
        .expect("get");
    assert_eq!(h, nas_override());
}

/// `getForward` answers any `dots.dot` item: a DNS-over-TLS entry is not a forward, so the
/// forward grid reads it as not found, and a `set` (which would turn it into a forward) is never
/// sent.
#[tokio::test]
async fn a_dns_over_tls_entry_is_not_a_forward() {
    use opnsense_api::api::unbound::FORWARDS;
    use opnsense_api::models::unbound::{Forward, ForwardType};
    let server = MockServer::start().await;
    let dot = j!({"dot": {"enabled": "1",
        "type": {"dot": {"value": "DNS over TLS", "selected": 1},
                 "forward": {"value": "Forward", "selected": 0}},
        "domain": "", "server": "9.9.9.9", "port": "853", "verify": "dns.quad9.net",
        "forward_tcp_upstream": "0", "forward_first": "0", "description": "Quad9"}});
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(format!(
            "/api/unbound/settings/getForward/{ID}"
        )))
        .respond_with(json(dot))
        .expect(2)
        .mount(&server)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(json(j!({"result": "saved"})))
        .expect(0)
        .mount(&server)
        .await;
    let c = client(&server).await;
    let grid = c.grid(&FORWARDS);
    let id = Uuid::parse(ID).expect("uuid");
    let e = grid.get_raw(&id).await.expect_err("not a forward");
    assert!(
        matches!(&e, Error::NotFound { kind, .. } if *kind == "DNS query forward"),
        "{e:?}"
    );
    let e = grid
        .set(
            &id,
            &Forward {
                server: Some("9.9.9.10".into()),
                ..Forward::default()
            },
        )
        .await
        .expect_err("no set");
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    // A forward reads, its type is never sent back.
    let opn = mock_get(
        &format!("unbound/settings/getForward/{ID}"),
        j!({"dot": {"enabled": "1", "type": {"dot": {"value": "DNS over TLS", "selected": 0},
            "forward": {"value": "Forward", "selected": 1}}, "domain": "corp.example.com",
            "server": "10.0.10.53"}}),
    )
    .await;
    let f: Forward = opn.unbound().forwards().get(&id).await.expect("forward");
    assert_eq!(f.forward_type, Some(ForwardType::Forward));
    let sent = serde_json::to_value(&f).expect("encode");
    assert!(sent.get("type").is_none(), "{sent}");
    assert_eq!(sent["domain"], "corp.example.com");
}

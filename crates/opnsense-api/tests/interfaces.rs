//! `diagnostics/interface/*` against wiremock.

mod common;

use common::{Mocked, fixture, mock_get};

/// A server expecting one `GET diagnostics/interface/<action>`, answering `body`.
async fn serve(action: &str, body: serde_json::Value) -> Mocked {
    mock_get(&format!("diagnostics/interface/{action}"), body).await
}

#[tokio::test]
async fn interface_names() {
    let opn = serve(
        "getInterfaceNames",
        fixture("interfaces", "getInterfaceNames.json"),
    )
    .await;
    let names = opn.interfaces().names().await.expect("names");
    let expected: Vec<(&str, &str)> = vec![("igb0", "WAN"), ("igb1", "LAN"), ("wg1", "WireGuard")];
    assert_eq!(
        names
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        expected
    );
}

#[tokio::test]
async fn interface_names_empty_list_is_empty_map() {
    let opn = serve("getInterfaceNames", serde_json::json!([])).await;
    let names = opn.interfaces().names().await.expect("names");
    assert!(names.is_empty());
}

#[tokio::test]
async fn interface_config() {
    let opn = serve(
        "getInterfaceConfig",
        fixture("interfaces", "getInterfaceConfig.json"),
    )
    .await;
    let cfg = opn.interfaces().config().await.expect("config");
    assert_eq!(cfg.keys().collect::<Vec<_>>(), ["igb1", "lo0"]);
    let igb1 = &cfg["igb1"];
    assert_eq!(igb1.device, "igb1");
    assert!(igb1.is_up());
    assert_eq!(igb1.macaddr, "f4:90:ea:00:aa:01");
    assert_eq!(igb1.mtu, Some(1500));
    assert_eq!(igb1.status.as_deref(), Some("active"));
    assert_eq!(igb1.media.as_deref(), Some("1000baseT <full-duplex>"));
    assert_eq!(igb1.is_physical, Some(true));
    assert!(igb1.capabilities.contains(&"vlan_mtu".to_owned()));
    assert_eq!(igb1.supported_media.len(), 3);
    assert_eq!(igb1.ipv4.len(), 1);
    assert_eq!(igb1.ipv4[0].ipaddr, "192.168.1.1");
    assert_eq!(igb1.ipv4[0].subnetbits, Some(24));
    assert_eq!(igb1.ipv4[0].tunnel, Some(false));
    assert_eq!(igb1.ipv6.len(), 2);
    assert_eq!(igb1.ipv6[0].link_local, Some(false));
    assert_eq!(igb1.ipv6[1].ipaddr, "fe80::f690:eaff:fe00:aa01");
    assert_eq!(igb1.ipv6[1].link_local, Some(true));
    assert_eq!(igb1.ipv6[1].subnetbits, Some(64));
    assert!(igb1.extra.get("nd6").is_some());
    let lo0 = &cfg["lo0"];
    assert_eq!(lo0.mtu, Some(16384));
    assert_eq!(lo0.groups, ["lo"]);
    assert_eq!(lo0.is_physical, Some(false));
    assert!(lo0.status.is_none() && lo0.ipv6.is_empty());
}

#[tokio::test]
async fn interface_config_empty_list_is_empty_map() {
    let opn = serve("getInterfaceConfig", serde_json::json!([])).await;
    let cfg = opn.interfaces().config().await.expect("config");
    assert!(cfg.is_empty());
}

#[tokio::test]
async fn arp_table() {
    let opn = serve("getArp", fixture("interfaces", "getArp.json")).await;
    let arp = opn.interfaces().arp().await.expect("arp");
    assert_eq!(arp.len(), 2);
    let nas = &arp[0];
    assert_eq!(
        (
            nas.ip.as_str(),
            nas.mac.as_str(),
            nas.intf.as_str(),
            nas.intf_description.as_str()
        ),
        ("192.168.1.10", "00:0d:b9:4a:12:34", "igb1", "LAN")
    );
    assert_eq!(nas.hostname, "nas");
    assert_eq!(nas.manufacturer, "PC Engines GmbH");
    assert_eq!(nas.expires, Some(1187));
    assert_eq!(nas.expired, Some(false));
    assert_eq!(nas.permanent, Some(false));
    assert_eq!(nas.link_type.as_deref(), Some("ethernet"));
    let own = &arp[1];
    assert_eq!(own.expires, Some(-1));
    assert_eq!(own.permanent, Some(true));
    assert_eq!(own.hostname, "");
}

#[tokio::test]
async fn ndp_table() {
    let opn = serve("getNdp", fixture("interfaces", "getNdp.json")).await;
    let ndp = opn.interfaces().ndp().await.expect("ndp");
    assert_eq!(ndp.len(), 2);
    assert_eq!(ndp[0].ip, "fe80::20d:b9ff:fe4a:1234%igb1");
    assert_eq!(ndp[0].mac, "00:0d:b9:4a:12:34");
    assert_eq!(ndp[0].intf, "igb1");
    assert_eq!(ndp[0].intf_description, "LAN");
    assert_eq!(ndp[1].ip, "2001:db8:1::10");
    assert_eq!(ndp[1].manufacturer, "PC Engines GmbH");
    assert!(ndp[1].extra.is_empty());
}

#[test]
fn php_renderings_of_empty_and_boolean_values_read() {
    use opnsense_api::models::interfaces::{ArpEntry, InterfaceDetails, NdpEntry};
    // PHP renders an empty list as {} when it was built as a map, booleans as "0"/"1" or 0/1,
    // and unknown text as null.
    let d: InterfaceDetails = serde_json::from_value(serde_json::json!({
        "device": null, "flags": {}, "capabilities": {}, "options": "", "macaddr": null,
        "supported_media": {}, "is_physical": "1", "groups": null, "ipv4": {},
        "ipv6": {"0": {"ipaddr": null, "link-local": 1}}, "vlan": []
    }))
    .expect("parses");
    assert_eq!((d.device.as_str(), d.macaddr.as_str()), ("", ""));
    assert!(d.flags.is_empty() && d.capabilities.is_empty() && d.options.is_empty());
    assert!(d.supported_media.is_empty() && d.groups.is_empty() && d.ipv4.is_empty());
    assert_eq!(d.is_physical, Some(true));
    assert_eq!(d.ipv6.len(), 1);
    assert_eq!(d.ipv6[0].link_local, Some(true));
    assert!(d.vlan.is_none());
    // The booleans are still sent as JSON booleans.
    assert_eq!(serde_json::to_value(&d).expect("ser")["is_physical"], true);
    let a: ArpEntry = serde_json::from_value(serde_json::json!({
        "ip": "192.168.1.10", "mac": null, "intf": null, "intf_description": null,
        "manufacturer": null, "hostname": null, "expires": "-1", "expired": "0", "permanent": 1
    }))
    .expect("parses");
    assert_eq!(
        (a.expires, a.expired, a.permanent),
        (Some(-1), Some(false), Some(true))
    );
    assert_eq!((a.mac.as_str(), a.hostname.as_str()), ("", ""));
    let n: NdpEntry = serde_json::from_value(serde_json::json!({
        "ip": "fe80::1%igb1", "mac": null, "intf": null, "intf_description": null, "manufacturer": null
    }))
    .expect("parses");
    assert_eq!(n.manufacturer, "");
}

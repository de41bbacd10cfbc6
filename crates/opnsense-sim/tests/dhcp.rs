//! The two DHCP servers: which one runs ([`DhcpBackends`]), Dnsmasq's hosts with OPNsense's
//! messages (`Dnsmasq.xml`, `Dnsmasq.php` at 26.1.11 / 26.7.2), its leases, its reconfigure, and
//! Kea's reservation rules next to it.

mod common;

use common::{Harness, rows};
use opnsense_sim::{DhcpBackends, SimConfig, Version};
use serde_json::{Value, json};

async fn with(dhcp: DhcpBackends) -> Harness {
    Harness::with(SimConfig {
        dhcp,
        ..SimConfig::default()
    })
    .await
}

async fn switches(h: &Harness) -> (Value, Value, Value) {
    let kea = h.get_ok("kea/dhcpv4/get").await;
    let dnsmasq = h.get_ok("dnsmasq/settings/get").await;
    (
        kea["dhcpv4"]["general"]["enabled"].clone(),
        kea["dhcpv4"]["general"]["interfaces"]["lan"]["selected"].clone(),
        dnsmasq["dnsmasq"]["enable"].clone(),
    )
}

#[tokio::test]
async fn the_config_picks_the_servers_that_run() {
    let cases = [
        (DhcpBackends::default(), ("1", 1, "0"), (true, false)),
        (DhcpBackends::DNSMASQ, ("0", 0, "1"), (false, true)),
        (DhcpBackends::BOTH, ("1", 1, "1"), (true, true)),
        (DhcpBackends::NONE, ("0", 0, "0"), (false, false)),
    ];
    for (dhcp, (kea, lan, dnsmasq), (kea_leases, dnsmasq_leases)) in cases {
        let h = with(dhcp).await;
        assert_eq!(
            switches(&h).await,
            (json!(kea), json!(lan), json!(dnsmasq)),
            "{dhcp:?}"
        );
        let k = h.post_ok("kea/leases4/search", json!({})).await;
        let d = h.post_ok("dnsmasq/leases/search", json!({})).await;
        assert_eq!(k["total"].as_u64().unwrap() > 0, kea_leases, "{dhcp:?}");
        assert_eq!(d["total"].as_u64().unwrap() > 0, dnsmasq_leases, "{dhcp:?}");
        let status = h.get_ok("dnsmasq/service/status").await;
        let want = if dnsmasq_leases {
            "running"
        } else {
            "disabled"
        };
        assert_eq!(status["status"], want, "{dhcp:?}");
        // The reservations are configured either way.
        assert_eq!(
            h.post_ok("dnsmasq/settings/searchHost", json!({})).await["total"],
            3
        );
        h.sim.shutdown().await;
    }
}

#[tokio::test]
async fn settings_get_is_the_whole_model_with_its_dhcp_range() {
    let h = with(DhcpBackends::DNSMASQ).await;
    let m = &h.get_ok("dnsmasq/settings/get").await["dnsmasq"];
    let ranges = m["dhcp_ranges"].as_object().expect("a range");
    assert_eq!(ranges.len(), 1);
    let range = ranges.values().next().unwrap();
    assert_eq!(range["interface"]["lan"]["selected"], 1);
    assert_eq!(range["start_addr"], "192.168.1.200");
    assert_eq!(m["dhcp"]["%domain"], "example.lan");
    assert_eq!(m["hosts"].as_object().map(serde_json::Map::len), Some(3));
    assert_eq!(m["dhcp_tags"], json!([]), "an empty list is PHP's []");
    // A model get answers only GET.
    assert_eq!(
        h.post_ok("dnsmasq/settings/get", json!({})).await,
        json!([])
    );
}

#[tokio::test]
async fn leases_are_marked_reserved_by_mac_or_client_id_and_filtered() {
    let h = with(DhcpBackends::DNSMASQ).await;
    let all = h.post_ok("dnsmasq/leases/search", json!({})).await;
    assert_eq!(all["total"], 4);
    assert_eq!(all["interfaces"], json!({"lan": "LAN"}));
    let by = |ip: &str| {
        rows(&all)
            .iter()
            .find(|r| r["address"] == ip)
            .cloned()
            .unwrap()
    };
    assert_eq!(by("192.168.1.210")["is_reserved"], json!(["hwaddr"]));
    assert_eq!(by("192.168.1.211")["is_reserved"], json!(["client_id"]));
    assert_eq!(by("192.168.1.230")["is_reserved"], json!([]));
    assert_eq!(by("192.168.1.210")["if_name"], "lan");
    assert_eq!(by("192.168.1.210")["mac_info"], "PC Engines GmbH");
    let none = h
        .post_ok(
            "dnsmasq/leases/search",
            json!({"selected_interfaces": ["opt1"]}),
        )
        .await;
    assert_eq!(none["total"], 0);
    let v6 = h
        .post_ok(
            "dnsmasq/leases/search",
            json!({"selected_protocol": "ipv6"}),
        )
        .await;
    assert_eq!(v6["total"], 0);
}

async fn add(h: &Harness, host: Value) -> Value {
    h.post_ok("dnsmasq/settings/addHost", json!({"host": host}))
        .await
}

#[tokio::test]
async fn host_rules_and_messages_are_opnsense_s() {
    for version in [Version::V26_1_9, Version::V26_1, Version::V26_7] {
        let h = Harness::with(SimConfig {
            version,
            dhcp: DhcpBackends::DNSMASQ,
            ..SimConfig::default()
        })
        .await;
        // The seeded reservation nas2 holds 192.168.1.210.
        let r = add(
            &h,
            json!({"host": "dup", "ip": "192.168.1.210", "hwaddr": "00:11:22:33:44:99"}),
        )
        .await;
        assert_eq!(
            r,
            json!({"result": "failed", "validations": {
                "host.ip": "'192.168.1.210' is already used in another DHCP host entry."
            }}),
            "{version:?}"
        );
        // A DNS override may share the address.
        let r = add(&h, json!({"host": "alias", "ip": "192.168.1.210"})).await;
        assert_eq!(r["result"], "saved", "{version:?}: {r}");
        let r = add(
            &h,
            json!({"ip": "192.168.1.240,192.168.1.241", "hwaddr": "00:11:22:33:44:98"}),
        )
        .await;
        assert_eq!(
            r["validations"]["host.ip"],
            "For IPv4 dhcp reservations, only a single address is allowed."
        );
        let r = add(&h, json!({"hwaddr": "00:11:22:33:44:97"})).await;
        let msg = "At least a hostname or IP address must be provided for DHCP reservations.";
        assert_eq!(r["validations"]["host.host"], msg);
        assert_eq!(r["validations"]["host.ip"], msg);
        let r = add(
            &h,
            json!({"host": "*", "ip": "192.168.1.242", "hwaddr": "00:11:22:33:44:96"}),
        )
        .await;
        assert_eq!(
            r["validations"]["host.host"],
            "Wildcard entries are not allowed for DHCP reservations."
        );
        let r = add(&h, json!({"host": "lonely"})).await;
        let msg = "Both hostname and IP address are required for host overrides.";
        assert_eq!(r["validations"]["host.ip"], msg);
        let r = add(
            &h,
            json!({"host": "bad.name", "ip": "192.168.1.243", "hwaddr": "00:11:22:33:44", "client_id": "zz"}),
        )
        .await;
        let v = &r["validations"];
        assert_eq!(
            v["host.host"],
            "Labels must be 1–63 characters, start with a letter or digit, and may contain only letters, digits, '-' or '_'. "
        );
        assert_eq!(v["host.hwaddr"], "Invalid MAC address.");
        assert_eq!(
            v["host.client_id"],
            "Value must be a colon-separated hexadecimal sequence (e.g., 01:02:f3) or \"*\"."
        );
        let r = add(
            &h,
            json!({"host": "x", "ip": "300.1.1.1", "hwaddr": "00:11:22:33:44:95"}),
        )
        .await;
        assert_eq!(
            r["validations"]["host.ip"],
            "Please specify a valid network segment or IP address."
        );
        h.sim.shutdown().await;
    }
}

/// The uuid of the seeded host whose `host` is `name`.
fn host_uuid(h: &Harness, name: &str) -> String {
    h.sim
        .staged()
        .dnsmasq_hosts()
        .iter()
        .find(|r| r["host"] == name)
        .and_then(|r| r["uuid"].as_str())
        .expect("seeded host")
        .to_owned()
}

/// OPNsense keeps DHCP reservations and DNS host entries in one `hosts` list and tells them
/// apart only by MAC address / client id (`Dnsmasq.php` line 95): a DNS entry answers `getHost`
/// like a reservation, and a `setHost` clearing a reservation's MAC is saved, leaving a DNS
/// entry (which is why `dhcp_static_update` refuses it). An unknown uuid answers `[]`
/// (`getBase()`).
#[tokio::test]
async fn a_dns_host_entry_is_a_host_without_mac_or_client_id_in_the_same_list() {
    let h = with(DhcpBackends::DNSMASQ).await;
    let wiki = host_uuid(&h, "wiki");
    let got = h.get_ok(&format!("dnsmasq/settings/getHost/{wiki}")).await;
    assert_eq!(got["host"]["host"], "wiki");
    assert_eq!(got["host"]["client_id"], "");
    assert_eq!(
        got["host"]["hwaddr"],
        json!({"": {"value": "", "selected": 1}})
    );
    assert_eq!(
        h.get_ok("dnsmasq/settings/getHost/00000000-0000-4000-8000-000000000000")
            .await,
        json!([])
    );
    let nas2 = host_uuid(&h, "nas2");
    // Clearing the MAC and the host name: a DNS entry needs both name and address.
    let r = h
        .post_ok(
            &format!("dnsmasq/settings/setHost/{nas2}"),
            json!({"host": {"hwaddr": "", "host": ""}}),
        )
        .await;
    assert_eq!(
        r["validations"]["host.host"],
        "Both hostname and IP address are required for host overrides."
    );
    // Clearing the MAC alone is saved: nas2 is now a DNS entry.
    let r = h
        .post_ok(
            &format!("dnsmasq/settings/setHost/{nas2}"),
            json!({"host": {"hwaddr": ""}}),
        )
        .await;
    assert_eq!(r["result"], "saved", "{r}");
    let rows = h
        .post_ok(
            "dnsmasq/settings/searchHost",
            json!({"searchPhrase": "nas2"}),
        )
        .await;
    assert_eq!(rows["total"], 1);
    assert_eq!(rows["rows"][0]["hwaddr"], "");
    assert_eq!(rows["rows"][0]["client_id"], "");
    assert_eq!(
        h.sim.staged().dnsmasq_hosts().len(),
        3,
        "still in the one list"
    );
}

#[tokio::test]
async fn reconfigure_makes_the_hosts_live() {
    let h = with(DhcpBackends::DNSMASQ).await;
    let r = add(
        &h,
        json!({"host": "cam", "ip": "192.168.1.244", "hwaddr": "00:11:22:33:44:94"}),
    )
    .await;
    let uuid = r["uuid"].as_str().expect("saved").to_owned();
    assert!(h.sim.staged().find(&uuid).is_some());
    assert!(h.sim.live().find(&uuid).is_none(), "staged only");
    let got = h.get_ok(&format!("dnsmasq/settings/getHost/{uuid}")).await;
    assert_eq!(
        got["host"]["ip"],
        json!({"192.168.1.244": {"value": "192.168.1.244", "selected": 1}})
    );
    assert_eq!(
        h.post_ok("dnsmasq/service/reconfigure", json!({})).await,
        json!({"status": "ok"})
    );
    assert!(h.sim.live().find(&uuid).is_some());
    assert_eq!(h.sim.live().dnsmasq_hosts().len(), 4);
    h.post_expect(
        &format!("dnsmasq/settings/delHost/{uuid}"),
        json!({"result": "deleted"}),
    )
    .await;
    assert_eq!(
        h.get_ok(&format!("dnsmasq/settings/getHost/{uuid}")).await,
        json!([])
    );
}

#[tokio::test]
async fn kea_reservation_rules_are_opnsense_s() {
    let h = Harness::start().await;
    let subnet = h.post_ok("kea/dhcpv4/searchSubnet", json!({})).await["rows"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let add = |r: Value| {
        let h = &h;
        async move {
            h.post_ok("kea/dhcpv4/addReservation", json!({"reservation": r}))
                .await
        }
    };
    let r =
        add(json!({"subnet": subnet, "ip_address": "10.9.9.9", "hw_address": "00:11:22:33:44:90"}))
            .await;
    assert_eq!(
        r["validations"]["reservation.ip_address"],
        "Address not in specified subnet"
    );
    let r = add(json!({"subnet": subnet, "hw_address": "00:11:22:33:44:91"})).await;
    assert_eq!(
        r["validations"]["reservation.ip_address"], "Address not in specified subnet",
        "an empty address is not in the subnet either"
    );
    let r = add(
        json!({"subnet": subnet, "ip_address": "192.168.1.50", "hw_address": "00:11:22:33:44:92"}),
    )
    .await;
    assert_eq!(
        r["validations"]["reservation.ip_address"],
        "Duplicate entry exists."
    );
    let r = add(json!({"subnet": subnet, "ip_address": "192.168.1.90", "hw_address": "00:11:22:33:44:93", "client_id": "01:02"})).await;
    assert_eq!(
        r["validations"]["reservation.hw_address"],
        "Either a client ID or a MAC address should be specified, but not both"
    );
    let r = add(
        json!({"subnet": subnet, "ip_address": "192.168.1.91", "hw_address": "00:0D:B9:4A:12:34"}),
    )
    .await;
    assert_eq!(
        r["validations"]["reservation.hw_address"], "Duplicate entry exists.",
        "MAC addresses are unique per subnet, case-insensitive"
    );
    let r = add(json!({"subnet": "9a8b7c6d-5e4f-4321-8765-43210fedcba9", "ip_address": "192.168.1.92", "hw_address": "00:11:22:33:44:94"})).await;
    assert_eq!(
        r["validations"]["reservation.subnet"],
        "Related subnet not found."
    );
}

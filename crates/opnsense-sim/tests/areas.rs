//! Routes, Unbound, Kea, IDS, services, system and interface diagnostics.

mod common;

use common::{Harness, rows, uuids};
use opnsense_sim::SimConfig;
use serde_json::json;

#[tokio::test]
async fn routes_crud_validation_and_reconfigure() {
    let h = Harness::start().await;
    let all = h.post_ok("routes/routes/searchroute", json!({})).await;
    assert_eq!(all["total"], 3);
    let row = &all["rows"][0];
    assert_eq!(row["gateway"], "WAN_GW");
    assert_eq!(row["%gateway"], "WAN_GW - 203.0.113.1");
    assert_eq!(row["enabled"], "1");
    assert!(row.get("disabled").is_none(), "26.1.10+ uses enabled");

    let id = row["uuid"].as_str().unwrap();
    let got = h.get_ok(&format!("routes/routes/getroute/{id}")).await;
    assert_eq!(
        got["route"]["gateway"]["WAN_GW"],
        json!({"value": "WAN_GW - 203.0.113.1", "selected": 1})
    );
    assert!(got["route"]["gateway"].get("").is_none());

    let r = h
        .post_ok(
            "routes/routes/addroute",
            json!({"route": {"network": "10.30.0.0", "gateway": ""}}),
        )
        .await;
    assert_eq!(
        r,
        json!({"result": "failed", "validations": {
            "route.network": "Specify a valid network matching the gateways ip protocol.",
            "route.gateway": "A value is required."
        }})
    );
    // Another family's gateway, and no such gateway.
    for (network, gateway) in [("2001:db8:5::/48", "WAN_GW"), ("10.30.0.0/16", "NOPE")] {
        let route = json!({"route": {"network": network, "gateway": gateway}});
        assert_eq!(
            h.refused("routes/routes/addroute", route).await["route.gateway"],
            "Specify a valid gateway from the list matching the networks ip protocol.",
            "{network} via {gateway}"
        );
    }
    let new = h
        .saved(
            "routes/routes/addroute",
            json!({"route": {"network": "10.30.0.0/16", "gateway": "WAN_DHCP", "descr": "New site", "disabled": "1"}}),
        )
        .await;
    assert_eq!(
        h.sim.staged().find(&new).unwrap()["enabled"],
        "1",
        "`disabled` is ignored"
    );
    h.post_expect(
        &format!("routes/routes/toggleroute/{new}"),
        json!({"result": "Disabled", "changed": true}),
    )
    .await;
    assert!(h.sim.live().find(&new).is_none());
    assert_eq!(
        h.post_ok("routes/routes/reconfigure", json!({})).await,
        json!({"status": "ok"})
    );
    assert_eq!(h.sim.live().find(&new).unwrap()["enabled"], "0");
    let (_, r) = h.get(&format!("routes/routes/delroute/{new}")).await;
    assert_eq!(r, json!({"result": "failed"}));
    h.post_expect(
        &format!("routes/routes/delroute/{new}"),
        json!({"result": "deleted"}),
    )
    .await;
    h.sim.shutdown().await;
}

#[tokio::test]
async fn unbound_host_overrides() {
    let h = Harness::start().await;
    let all = h.get_ok("unbound/settings/searchHostOverride").await;
    assert_eq!(all["total"], 5);
    assert_eq!(all["rows"][0]["isAlias"], false);
    let a = rows(&all).iter().find(|r| r["hostname"] == "nas").unwrap();
    assert_eq!(a["%rr"], "A (IPv4 address)");

    let r = h
        .post_ok(
            "unbound/settings/addHostOverride",
            json!({"host": {"hostname": "x", "rr": "A"}}),
        )
        .await;
    assert_eq!(
        r["validations"]["host.server"],
        "The field IP address is required."
    );
    assert_eq!(r["validations"]["host.domain"], "A value is required.");
    let r = h
        .post_ok(
            "unbound/settings/addHostOverride",
            json!({"host": {"hostname": "bad host", "domain": "example.lan", "rr": "AAAA", "server": "192.168.1.5"}}),
        )
        .await;
    assert_eq!(
        r["validations"]["host.hostname"],
        "A valid hostname must be specified."
    );
    // NetworkField checks no address family against `rr`.
    assert!(r["validations"].get("host.server").is_none(), "{r}");
    assert_eq!(
        h.refused(
            "unbound/settings/addHostOverride",
            json!({"host": {"domain": "example.lan", "rr": "CNAME"}})
        )
        .await["host.rr"],
        "Option [] not in list."
    );

    let r = h
        .post_ok(
            "unbound/settings/addHostOverride",
            json!({"host": {"hostname": "git", "domain": "example.lan", "rr": "A", "server": "192.168.1.40", "description": "Git"}}),
        )
        .await;
    let id = r["uuid"].as_str().unwrap().to_owned();
    let got = h
        .get_ok(&format!("unbound/settings/getHostOverride/{id}"))
        .await;
    assert_eq!(
        got["host"]["rr"]["A"],
        json!({"value": "A (IPv4 address)", "selected": 1})
    );
    assert_eq!(got["host"]["aliases"], json!({}));
    assert!(h.sim.live().find(&id).is_none());
    assert_eq!(
        h.post_ok("unbound/service/reconfigure", json!({})).await,
        json!({"status": "ok"})
    );
    assert!(h.sim.live().find(&id).is_some());
    let t = h
        .post_ok(
            &format!("unbound/settings/toggleHostOverride/{id}/0"),
            json!({}),
        )
        .await;
    assert_eq!(t, json!({"result": "Disabled", "changed": true}));

    let model = h.get_ok("unbound/settings/get").await;
    assert!(model["unbound"]["hosts"]["host"][&id].is_object());
    let (_, post) = h.post("unbound/settings/get", json!({})).await;
    assert_eq!(post, json!([]));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn kea_reservations_leases_and_settings() {
    let h = Harness::with(SimConfig {
        extra_leases: 10_000,
        ..SimConfig::default()
    })
    .await;
    let subnets = h.post_ok("kea/dhcpv4/searchSubnet", json!({})).await;
    assert_eq!(subnets["rows"][0]["subnet"], "192.168.1.0/24");
    let subnet = subnets["rows"][0]["uuid"].as_str().unwrap().to_owned();

    let res = h.get_ok("kea/dhcpv4/searchReservation").await;
    assert_eq!(res["total"], 3);
    assert_eq!(res["rows"][0]["%subnet"], "192.168.1.0/24");
    assert!(res["rows"][0].get("option_data.routers").is_some());

    let r = h
        .post_ok(
            "kea/dhcpv4/addReservation",
            json!({"reservation": {"subnet": subnet, "ip_address": "10.9.9.9"}}),
        )
        .await;
    assert_eq!(
        r,
        json!({"result": "failed", "validations": {
            "reservation.ip_address": "Address not in specified subnet",
            "reservation.hw_address": "Either a client ID or a MAC address should be specified."
        }})
    );
    let r = h
        .post_ok(
            "kea/dhcpv4/addReservation",
            json!({"reservation": {"subnet": "00000000-0000-4000-8000-000000000000",
                "ip_address": "192.168.1.50", "hw_address": "zz:zz", "client_id": "01:02"}}),
        )
        .await;
    let v = &r["validations"];
    assert_eq!(v["reservation.subnet"], "Related subnet not found.");
    // An unknown subnet makes Util::isIPInCIDR() false as well.
    assert_eq!(
        v["reservation.ip_address"],
        json!(["Duplicate entry exists.", "Address not in specified subnet"])
    );
    assert_eq!(
        v["reservation.hw_address"],
        // Field validators run before KeaDhcpv4::performValidation().
        json!([
            "Invalid MAC address.",
            "Either a client ID or a MAC address should be specified, but not both"
        ])
    );
    let id = h
        .saved(
            "kea/dhcpv4/addReservation",
            json!({"reservation": {"subnet": subnet, "ip_address": "192.168.1.80",
                "hw_address": "00:11:22:33:44:55", "hostname": "tv", "description": "Living room TV"}}),
        )
        .await;
    let got = h.get_ok(&format!("kea/dhcpv4/getReservation/{id}")).await;
    assert_eq!(
        got["reservation"]["subnet"][&subnet],
        json!({"value": "192.168.1.0/24", "selected": 1})
    );
    assert_eq!(got["reservation"]["option_data"]["routers"], "");
    assert!(h.sim.live().find(&id).is_none());
    h.post_ok("kea/service/reconfigure", json!({})).await;
    assert!(h.sim.live().find(&id).is_some());

    let leases = h
        .post_ok("kea/leases4/search", json!({"rowCount": 10, "current": 3}))
        .await;
    assert_eq!(leases["total"], 10_020);
    assert_eq!(leases["rowCount"], 10);
    assert_eq!(leases["interfaces"], json!({"lan": "LAN"}));
    let nas = h
        .post_ok("kea/leases4/search", json!({"searchPhrase": "nas"}))
        .await;
    assert_eq!(nas["rows"][0]["is_reserved"], json!(["hwaddr"]));
    assert_eq!(nas["rows"][0]["prefix_len"], 128);
    let none = h
        .post_ok(
            "kea/leases4/search",
            json!({"selected_interfaces": ["opt1"]}),
        )
        .await;
    assert_eq!(none["total"], 0);

    let settings = h.get_ok("kea/dhcpv4/get").await;
    let keys: Vec<&String> = settings["dhcpv4"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["general", "lexpire", "ha"]);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn ids_rulesets_get_all_post_pages() {
    let h = Harness::start().await;
    let all = h.get_ok("ids/settings/listRulesets").await;
    assert_eq!(all["total"], 11);
    assert_eq!(all["rowCount"], 11);
    assert_eq!(
        all["rows"][0]["description"],
        "abuse.ch/SSL Fingerprint Blacklist"
    );
    let page = h
        .post_ok(
            "ids/settings/listRulesets",
            json!({"current": 1, "rowCount": 3, "searchPhrase": "emerging-", "sort": {"description": "desc"}}),
        )
        .await;
    assert_eq!(page["total"], 4);
    assert_eq!(page["rowCount"], 3);
    assert_eq!(page["rows"][0]["filename"], "emerging-web_server.rules");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn services_reflect_start_and_stop() {
    let h = Harness::start().await;
    let s = h.get_ok("unbound/service/status").await;
    assert_eq!(s["status"], "running");
    assert_eq!(s["widget"]["caption_restart"], "Restart");
    assert_eq!(h.get_ok("ipsec/service/status").await["status"], "disabled");
    assert_eq!(h.get_ok("monit/service/status").await["status"], "stopped");
    assert_eq!(
        h.post_ok("unbound/service/stop", json!({})).await,
        json!({"response": "OK"})
    );
    assert_eq!(
        h.get_ok("unbound/service/status").await["status"],
        "stopped"
    );
    assert_eq!(
        h.get_ok("unbound/service/start").await,
        json!({"response": []})
    );
    assert_eq!(
        h.post_ok("unbound/service/start", json!({})).await,
        json!({"response": "OK"})
    );
    assert_eq!(
        h.get_ok("unbound/service/status").await["status"],
        "running"
    );
    assert_eq!(
        h.post_ok("wireguard/service/reconfigure", json!({})).await,
        json!({"result": "ok"})
    );
    assert_eq!(
        h.get_ok("syslog/service/reconfigure").await,
        json!({"status": "failed"})
    );
    let (s, _) = h.get("haproxy/service/status").await;
    assert_eq!(s, 404);
    let search = h.get_ok("core/service/search").await;
    assert!(rows(&search).iter().any(|r| r["name"] == "unbound"));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn system_firmware_and_backup() {
    let h = Harness::start().await;
    let st = h.get_ok("core/system/status").await;
    assert_eq!(st["metadata"]["system"]["status"], 2);
    assert!(st.get("subsystems").is_none());

    let fw = h.get_ok("core/firmware/status").await;
    assert_eq!(fw["status"], "none");
    assert_eq!(fw["product"]["product_version"], "26.1.10");
    assert_eq!(fw["product"]["product_check"], serde_json::Value::Null);
    let check = h.post_ok("core/firmware/check", json!({})).await;
    assert_eq!(check["status"], "ok");
    assert!(check["msg_uuid"].is_string());
    assert_eq!(
        h.get_ok("core/firmware/check").await,
        json!({"status": "failure"})
    );
    let fw = h.get_ok("core/firmware/status").await;
    assert_eq!(fw["product_version"], "26.1.10");
    assert_eq!(
        fw["status_msg"],
        "There are no updates available on the selected mirror."
    );

    let resp = h
        .request(reqwest::Method::GET, "core/backup/download/this")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=config-")
    );
    let xml = resp.text().await.unwrap();
    assert!(xml.starts_with("<?xml"));
    for needle in [
        "<password>$2y$",
        "<apikeys>",
        "<prv>",
        "<otp_seed>",
        "webservers",
        "Block DMZ to LAN",
        "10.20.0.0/16",
    ] {
        assert!(xml.contains(needle), "{needle}");
    }
    h.sim.shutdown().await;
}

#[tokio::test]
async fn interface_diagnostics() {
    let h = Harness::start().await;
    let names = h.get_ok("diagnostics/interface/getInterfaceNames").await;
    assert_eq!(names, json!({"igb2": "DMZ", "igb1": "LAN", "igb0": "WAN"}));
    let cfg = h.get_ok("diagnostics/interface/getInterfaceConfig").await;
    assert_eq!(
        cfg["igb1"]["ipv4"][0],
        json!({"ipaddr": "192.168.1.1", "subnetbits": 24, "tunnel": false})
    );
    assert_eq!(cfg["igb1"]["mtu"], "1500");
    assert!(cfg["lo0"].is_object());
    let arp = h.get_ok("diagnostics/interface/getArp").await;
    assert!(arp.as_array().unwrap().len() > 3);
    assert_eq!(arp[0]["intf_description"], "LAN");
    assert!(arp[0]["expires"].is_i64());
    let ndp = h.get_ok("diagnostics/interface/getNdp").await;
    assert!(ndp[0]["ip"].as_str().unwrap().contains("%igb1"));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn seeds_are_deterministic() {
    let a = Harness::with(SimConfig {
        seed: 7,
        ..SimConfig::default()
    })
    .await;
    let b = Harness::with(SimConfig {
        seed: 7,
        ..SimConfig::default()
    })
    .await;
    let c = Harness::with(SimConfig {
        seed: 8,
        ..SimConfig::default()
    })
    .await;
    let ua = uuids(&a.post_ok("firewall/filter/search_rule", json!({})).await);
    let ub = uuids(&b.post_ok("firewall/filter/search_rule", json!({})).await);
    let uc = uuids(&c.post_ok("firewall/filter/search_rule", json!({})).await);
    assert_eq!(ua, ub);
    assert_ne!(ua, uc);
    assert_eq!(a.sim.staged(), a.sim.live(), "everything applied at start");
    for h in [a, b, c] {
        h.sim.shutdown().await;
    }
}

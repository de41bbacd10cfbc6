//! The troubleshooting and VPN reads on 26.1 and 26.7: the filter log (read_log.py's layouts,
//! entries naming the live rules, `limit` and `digest`), the state table (paging and OPNsense's
//! search clauses), gateway status, the kernel routing table and the VPN pages, each in the
//! shape the SDK's models read (`opnsense_api::models::{diagnostics, vpn}`).

mod common;

use common::{Harness, rows};
use opnsense_sim::{SimConfig, Version};
use serde_json::{Value, json};

const VERSIONS: [Version; 2] = [Version::V26_1, Version::V26_7];

async fn on(version: Version) -> Harness {
    Harness::with(SimConfig {
        version,
        ..SimConfig::default()
    })
    .await
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// (uuid, description) of every enabled live filter rule.
fn live_rules(h: &Harness) -> Vec<(String, String)> {
    h.sim
        .live()
        .filter_rules()
        .iter()
        .filter(|r| s(r, "enabled") != "0")
        .map(|r| (s(r, "uuid").to_owned(), s(r, "description").to_owned()))
        .collect()
}

#[tokio::test]
async fn log_entries_follow_read_log_and_name_the_live_rules() {
    for v in VERSIONS {
        let h = on(v).await;
        let rules = live_rules(&h);
        let log = h.get_ok("diagnostics/firewall/log?limit=20").await;
        let lines = log.as_array().expect("a list");
        assert_eq!(lines.len(), 20, "{v:?}");
        let mut by_user_rule = 0;
        for e in lines {
            let spec: Vec<&str> = e["__spec__"]
                .as_array()
                .expect("__spec__")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            for key in spec
                .iter()
                .chain(&["__timestamp__", "__host__", "__digest__", "label"])
            {
                assert!(e[*key].is_string(), "{v:?}: {key} missing in {e}");
            }
            assert_eq!(s(e, "reason"), "match");
            let (rid, label) = (s(e, "rid"), s(e, "label"));
            if let Some((_, descr)) = rules.iter().find(|(u, _)| u == rid) {
                assert_eq!(label, descr, "{v:?}: label of {rid}");
                by_user_rule += 1;
            } else if rid == "0" {
                assert_eq!((s(e, "action"), label), ("rdr", "rdr rule"));
            } else {
                assert_eq!(
                    rid.len(),
                    32,
                    "{v:?}: {rid} is neither a rule uuid, a hash nor 0"
                );
                assert_eq!(label, "Default deny / state violation rule");
            }
            // TCP and UDP carry ports; TCP its flags.
            match s(e, "protoname") {
                "tcp" => assert!(e["tcpflags"].is_string() && e["dstport"].is_string()),
                "udp" => assert!(e["dstport"].is_string() && e.get("tcpflags").is_none()),
                _ => assert!(e.get("dstport").is_none()),
            }
        }
        assert!(by_user_rule > 0, "{v:?}: no entry names a live rule");
        // Newest first.
        let times: Vec<&str> = lines.iter().map(|e| s(e, "__timestamp__")).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
        // Without `limit` OPNsense reads up to 1000 lines (the simulated log has fewer).
        let all = h.get_ok("diagnostics/firewall/log").await;
        assert!(all.as_array().expect("list").len() > 20);
        // `digest` stops at that line, which is included.
        let third = s(&lines[2], "__digest__");
        let upto = h
            .get_ok(&format!("diagnostics/firewall/log?digest={third}"))
            .await;
        assert_eq!(upto.as_array().expect("list").len(), 3);
        // Not a GET: the controller returns null, HTTP 200 with an empty body.
        let (status, body) = h.post_empty("diagnostics/firewall/log").await;
        assert_eq!((status, body), (200, Value::Null));
    }
}

/// POSTs `body` (paging, phrase, rule) to `diagnostics/firewall/query_states`; HTTP 200
/// expected.
async fn query_states(h: &Harness, body: Value) -> Value {
    h.post_ok("diagnostics/firewall/query_states", body).await
}

#[tokio::test]
async fn states_are_paged_and_searched_like_opnsense() {
    for v in VERSIONS {
        let h = on(v).await;
        let rules = live_rules(&h);
        let page = query_states(&h, json!({"current": 1, "rowCount": 3, "searchPhrase": ""})).await;
        assert_eq!(
            (page["total"].as_u64(), page["rowCount"].as_u64()),
            (Some(8), Some(3))
        );
        for row in page["rows"].as_array().expect("rows") {
            for key in [
                "id",
                "iface",
                "proto",
                "ipproto",
                "direction",
                "src_addr",
                "src_port",
                "dst_addr",
                "dst_port",
                "state",
                "age",
                "expires",
                "rule",
                "label",
                "descr",
                "interface",
            ] {
                assert!(row[key].is_string(), "{v:?}: {key} in {row}");
            }
            assert_eq!(row["pkts"].as_array().map(Vec::len), Some(2));
            assert!(row["flags"].is_array() && row["nat_addr"].is_null());
        }
        let first = &page["rows"][0];
        assert!(
            rules
                .iter()
                .any(|(u, d)| u == s(first, "label") && d == s(first, "descr")),
            "{first}"
        );
        let search = |phrase: &str| {
            query_states(
                &h,
                json!({"current": 1, "rowCount": 100, "searchPhrase": phrase}),
            )
        };
        // An address with a port must be one end of the state on that port.
        let web = search("10.0.10.25:443").await;
        assert_eq!(web["total"], 3, "{web}");
        assert!(web["rows"].as_array().expect("rows").iter().all(|r| {
            (s(r, "dst_addr") == "10.0.10.25" && s(r, "dst_port") == "443")
                || (s(r, "src_addr") == "10.0.10.25" && s(r, "src_port") == "443")
        }));
        assert_eq!(search("[2001:db8::/32]:443").await["total"], 1);
        assert_eq!(search("0.0.0.0/0:53").await["total"], 1);
        assert_eq!(search("192.168.1.0/24").await["total"], 3);
        assert_eq!(
            search("ESTABLISHED:ESTABLISHED 192.168.1.20").await["total"],
            1
        );
        // ruleid: the state's rule label.
        let ssh = rules
            .iter()
            .find(|(_, d)| d == "Admin SSH to firewall")
            .expect("seeded rule");
        let by_rule = query_states(
            &h,
            json!({"current": 1, "rowCount": 100, "searchPhrase": "", "ruleid": ssh.0}),
        )
        .await;
        assert_eq!(by_rule["total"], 1);
        assert_eq!(by_rule["rows"][0]["dst_port"], "22");
        // Page 2 of 3-row pages.
        let p2 = query_states(&h, json!({"current": 3, "rowCount": 3, "searchPhrase": ""})).await;
        assert_eq!(
            (p2["rowCount"].as_u64(), p2["current"].as_u64()),
            (Some(2), Some(3))
        );
        // Not a POST: the empty answer.
        assert_eq!(
            h.get_ok("diagnostics/firewall/query_states").await,
            json!({"rows": [], "rowCount": 0, "total": 0, "current": 0})
        );
    }
}

#[tokio::test]
async fn gateways_one_online_one_down_one_not_monitored() {
    for v in VERSIONS {
        let h = on(v).await;
        let st = h.get_ok("routes/gateway/status").await;
        assert_eq!(st["status"], "ok");
        let items = st["items"].as_array().expect("a list");
        assert_eq!(items.len(), 3);
        for g in items {
            for key in [
                "name",
                "address",
                "status",
                "status_translated",
                "loss",
                "delay",
                "stddev",
                "monitor",
            ] {
                assert!(g[key].is_string(), "{v:?}: {key} in {g}");
            }
        }
        let by = |name: &str| items.iter().find(|g| g["name"] == name).expect(name);
        assert_eq!(by("WAN_GW")["status"], "none");
        assert_eq!(by("WAN_GW")["delay"], "0.9 ms");
        assert_eq!(by("WAN_DHCP")["status"], "down");
        assert_eq!(by("WAN_DHCP")["loss"], "100.0 %");
        assert_eq!(by("WAN_GWv6")["delay"], "~");
        assert_eq!(by("WAN_GWv6")["monitor"], "~");
    }
}

#[tokio::test]
async fn the_kernel_table_has_both_families_and_the_live_static_routes() {
    for v in VERSIONS {
        let h = on(v).await;
        let rows = h.get_ok("diagnostics/interface/get_routes").await;
        let rows = rows.as_array().expect("a list");
        for r in rows {
            for key in [
                "proto",
                "destination",
                "gateway",
                "flags",
                "mtu",
                "netif",
                "expire",
                "intf_description",
                "id",
            ] {
                assert!(r[key].is_string(), "{v:?}: {key} in {r}");
            }
            assert_eq!(
                s(r, "id"),
                format!("{},{}", s(r, "destination"), s(r, "gateway"))
            );
        }
        for family in ["ipv4", "ipv6"] {
            assert!(
                rows.iter()
                    .any(|r| s(r, "proto") == family && s(r, "destination") == "default"),
                "{v:?}: no {family} default route"
            );
        }
        let wan = rows
            .iter()
            .find(|r| s(r, "netif") == "igb0" && s(r, "flags") == "U")
            .expect("WAN network");
        assert_eq!(s(wan, "intf_description"), "WAN");
        for route in h.sim.live().routes() {
            let on = s(route, "enabled") == "1" || s(route, "disabled") == "0";
            let listed = rows
                .iter()
                .any(|r| s(r, "destination") == s(route, "network"));
            assert_eq!(listed, on, "{v:?}: static route {route}");
        }
    }
}

#[tokio::test]
async fn vpn_pages_follow_the_services() {
    for v in VERSIONS {
        let h = on(v).await;
        // WireGuard runs (seeded): its interface and one peer that shook hands recently.
        let wg = h.get_ok("wireguard/service/show").await;
        assert_eq!(wg["total"], 2, "{v:?}: {wg}");
        let peer = rows(&wg)
            .iter()
            .find(|r| r["type"] == "peer")
            .expect("a peer");
        assert_eq!(peer["peer-status"], "online");
        assert_eq!(peer["latest-handshake-age"], 45);
        assert!(peer["transfer-rx"].is_u64() && peer["latest-handshake"].is_i64());
        assert!(peer.get("preshared-key").is_none() && peer.get("private-key").is_none());
        // Paging and the search phrase come from the POST body.
        let one = h
            .post_ok(
                "wireguard/service/show",
                json!({"rowCount": 1, "current": 2}),
            )
            .await;
        assert_eq!(
            (one["total"].as_u64(), one["rowCount"].as_u64()),
            (Some(2), Some(1))
        );
        let (status, _) = h.post_empty("wireguard/service/stop").await;
        assert_eq!(status, 200);
        assert_eq!(h.get_ok("wireguard/service/show").await["total"], 0);
        // No OpenVPN instance.
        assert_eq!(
            h.get_ok("openvpn/service/search_sessions").await,
            json!({"total": 0, "rowCount": 0, "current": 1, "rows": []})
        );
        // IPsec is stopped (strongSwan not running: no rows), then started.
        assert_eq!(h.get_ok("ipsec/sessions/search_phase1").await["total"], 0);
        let (status, _) = h.post_empty("ipsec/service/start").await;
        assert_eq!(status, 200);
        let p1 = h.get_ok("ipsec/sessions/search_phase1").await;
        assert_eq!(p1["total"], 1);
        let tunnel = &p1["rows"][0];
        assert_eq!(tunnel["connected"], true);
        assert!(tunnel["bytes-in"].is_u64() && tunnel.get("sas").is_none());
        let name = s(tunnel, "name").to_owned();
        let p2 = h
            .post_ok("ipsec/sessions/search_phase2", json!({"id": name}))
            .await;
        assert_eq!(p2["total"], 1);
        assert_eq!(p2["rows"][0]["state"], "INSTALLED");
        assert_eq!(
            h.post_ok("ipsec/sessions/search_phase2", json!({"id": "other"}))
                .await["total"],
            0
        );
    }
}

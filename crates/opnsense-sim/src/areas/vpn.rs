//! VPN status: `wireguard/service/show`, `openvpn/service/search_sessions`,
//! `ipsec/sessions/search_phase1` and `search_phase2`, in OPNsense's exact shapes (opnsense/core
//! 26.1.11 and 26.7.2, identical for these; all three VPNs are in core at both).
//!
//! - WireGuard (`Wireguard/Api/ServiceController.php:69-127`, `scripts/wireguard/wg_show.py`):
//!   while the `wireguard` service runs, one instance `wg-home` on `wg0` with one peer `laptop`
//!   that shook hands 45 seconds ago; stopped, `wg show` lists nothing.
//! - OpenVPN (`OpenVPN/Api/ServiceController.php:72-134`): no instance is configured, so no rows.
//! - IPsec (`IPsec/Api/SessionsController.php:51-159`, `scripts/ipsec/list_status.py`): the
//!   `ipsec` service is seeded stopped (`ipsec not active`: no rows); once started, one
//!   connection `branch office` with one installed child SA. Phase 2 is read with the phase-1
//!   name in the POST body (`id`).
//!
//! Every answer is a `searchRecordsetBase` page (`Base/ApiControllerBase.php:85-181`): paging and
//! the search phrase come from the POST body only.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::reply::{Reply, Req};
use crate::server::{Route, Shared};
use crate::state::SimState;

/// `wireguard/service/show`.
pub(crate) fn wireguard_route(action: &str) -> Option<Route> {
    match action {
        "show" => Route::new(wireguard_show),
        _ => None,
    }
}

/// `openvpn/service/search_sessions`.
pub(crate) fn openvpn_route(action: &str) -> Option<Route> {
    match action {
        "searchsessions" => Route::new(openvpn_sessions),
        _ => None,
    }
}

/// `ipsec/sessions/*`.
pub(crate) fn ipsec_route(action: &str) -> Option<Route> {
    match action {
        "searchphase1" => Route::new(ipsec_phase1),
        "searchphase2" => Route::new(ipsec_phase2),
        _ => None,
    }
}

/// The seeded IPsec connection's uuid (its swanctl name).
pub(crate) const IPSEC_CONNECTION: &str = "5d0f2f6a-3c1b-4e7a-9b55-2a7c9e4d1f01";
/// The seeded IPsec child's uuid (its child SA name).
pub(crate) const IPSEC_CHILD: &str = "8a41c7e2-6b0d-4f3e-a1c9-7e5b3d2f9a02";

fn unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

fn running(st: &SimState, module: &str) -> bool {
    st.services.get(module).is_some_and(|s| s.running)
}

/// `searchRecordsetBase($records)`: `rowCount` (default 9999, -1 all), `current`,
/// `searchPhrase` (every word somewhere in the row, case-insensitive), from the POST body.
fn recordset(records: Vec<Value>, req: &Req) -> Reply {
    let int = |name: &str, default: i64| {
        req.body
            .get(name)
            .and_then(|v| match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .unwrap_or(default)
    };
    let total_records = i64::try_from(records.len()).unwrap_or(i64::MAX);
    let per_page = match int("rowCount", 9999) {
        -1 => total_records,
        n => n,
    };
    let current = int("current", 1);
    let phrase = req
        .body
        .get("searchPhrase")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let words: Vec<&str> = phrase.split_whitespace().collect();
    let matching: Vec<Value> = records
        .into_iter()
        .filter(|r| {
            let text = r.to_string().to_lowercase();
            words.iter().all(|w| text.contains(w))
        })
        .collect();
    let total = matching.len();
    let offset =
        usize::try_from(current.saturating_sub(1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let rows: Vec<Value> = matching
        .into_iter()
        .skip(offset)
        .take(usize::try_from(per_page).unwrap_or(0))
        .collect();
    Reply::ok(json!({
        "total": total,
        "rowCount": rows.len(),
        "current": current,
        "rows": rows,
    }))
}

/// `Y-m-d H:i:s` of a Unix time (the firewall's zone is UTC).
fn php_date(secs: i64) -> String {
    super::utc_datetime(secs, ' ')
}

fn wireguard_show(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !running(st, "wireguard") {
        return recordset(Vec::new(), req);
    }
    let handshake = unix() - 45;
    let records = vec![
        json!({
            "if": "wg0", "type": "interface",
            "public-key": "n8Jm4Lq9bS3dV0pX7yW2zA5cE1fG6hK8lM0nO2pQ4rE=",
            "listen-port": "51820", "fwmark": "off", "endpoint": "51820", "status": "up",
            "name": "wg-home", "latest-handshake-age": null, "latest-handshake-epoch": null,
            "peer-status": "offline", "ifname": "wg-home"
        }),
        json!({
            "if": "wg0", "type": "peer",
            "public-key": "Zx3Vb7Nm1Qw5Er9Ty2Ui6Op0As4Df8Gh1Jk5Lz9Xc3=",
            "endpoint": "198.51.100.44:51820", "allowed-ips": "10.10.10.2/32",
            "latest-handshake": handshake, "transfer-rx": 1_843_200, "transfer-tx": 9_216_000,
            "persistent-keepalive": "off", "name": "laptop", "latest-handshake-age": 45,
            "latest-handshake-epoch": php_date(handshake), "peer-status": "online",
            "ifname": "wg-home"
        }),
    ];
    recordset(records, req)
}

fn openvpn_sessions(_: &Arc<Shared>, _: &mut SimState, req: &Req) -> Reply {
    recordset(Vec::new(), req)
}

fn ipsec_phase1(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !running(st, "ipsec") {
        return recordset(Vec::new(), req);
    }
    let records = vec![json!({
        "local-addrs": "203.0.113.2", "remote-addrs": "198.51.100.50",
        "local-id": "203.0.113.2", "remote-id": "198.51.100.50", "version": "IKEv2",
        "routed": true, "local-class": "pubkey", "remote-class": "pubkey",
        "ikeid": IPSEC_CONNECTION, "phase1desc": "branch office", "name": IPSEC_CONNECTION,
        "connected": true, "install-time": "1260",
        "bytes-in": 5_242_880, "bytes-out": 1_048_576, "packets-in": 4_096, "packets-out": 2_048
    })];
    recordset(records, req)
}

fn ipsec_phase2(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let id = req.body.get("id").and_then(Value::as_str).unwrap_or("");
    if !running(st, "ipsec") || id != IPSEC_CONNECTION {
        return recordset(Vec::new(), req);
    }
    let records = vec![json!({
        "name": IPSEC_CHILD, "uniqueid": "3", "reqid": "1", "state": "INSTALLED",
        "mode": "TUNNEL", "protocol": "ESP", "encap": "no", "spi-in": "c1d2e3f4",
        "spi-out": "a9b8c7d6", "encr-alg": "AES_GCM_16", "encr-keysize": "256",
        "dh-group": "ECP_256", "bytes-in": "5242880", "packets-in": "4096", "use-in": "2",
        "bytes-out": "1048576", "packets-out": "2048", "use-out": "2", "rekey-time": "2340",
        "life-time": "2700", "install-time": "1260", "local-ts": "192.168.1.0/24",
        "remote-ts": "10.20.0.0/16", "remote-host": "198.51.100.50",
        "ikeid": IPSEC_CONNECTION, "phase2desc": "branch office LAN"
    })];
    recordset(records, req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_dates() {
        assert_eq!(php_date(1_782_651_147), "2026-06-28 12:52:27");
    }
}

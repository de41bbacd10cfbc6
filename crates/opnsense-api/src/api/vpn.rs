//! VPN status: WireGuard peers, OpenVPN sessions, IPsec phase 1 and phase 2. All read-only.
//!
//! Where each endpoint comes from (opnsense/core; the same at 26.1.11 and 26.7.2, all three are
//! in core at both tags, no plugin needed):
//!
//! - `GET wireguard/service/show`: `Wireguard/Api/ServiceController.php:69-127` -> configd
//!   `wireguard show` (`service/conf/actions.d/actions_wireguard.conf:46-50` at 26.1.11,
//!   `:47-51` at 26.7.2) ->
//!   `scripts/wireguard/wg_show.py` (`wg show all dump`); answered as a bootgrid page
//!   (`searchRecordsetBase`, `Base/ApiControllerBase.php:85-181`: GET reads no paging, so every
//!   record comes back). No WireGuard instance running: no records.
//! - `GET openvpn/service/search_sessions`: `OpenVPN/Api/ServiceController.php:72-134` ->
//!   configd `openvpn connections client,server` (`actions_openvpn.conf:1-5`) ->
//!   `scripts/openvpn/ovpn_status.py`; a bootgrid page of every session. No instance enabled:
//!   no rows.
//! - `GET ipsec/sessions/search_phase1`: `IPsec/Api/SessionsController.php:51-106` -> configd
//!   `ipsec list status` (`actions_ipsec.conf:1-5`) -> `scripts/ipsec/list_status.py`, which
//!   prints `ipsec not active` (not JSON: no rows) when strongSwan is not running.
//! - `POST ipsec/sessions/search_phase2` with `{"id": <phase-1 name>}`:
//!   `SessionsController.php:112-159` (reads `id` with `getPost`, so the name goes in the body,
//!   never in the path).

use serde_json::json;

use crate::client::Client;
use crate::error::Result;
use crate::models::vpn::{IpsecPhase1, IpsecPhase2, OpenVpnSession, WireguardRecord};
use crate::request::{Request, SearchPage};

/// `GET wireguard/service/show`: every WireGuard interface and peer.
pub fn wireguard_show_request() -> Request {
    Request::get("wireguard/service/show")
}

/// `GET openvpn/service/search_sessions`: every OpenVPN session and enabled instance.
pub fn openvpn_sessions_request() -> Request {
    Request::get("openvpn/service/search_sessions")
}

/// `GET ipsec/sessions/search_phase1`: every IKE connection.
pub fn ipsec_phase1_request() -> Request {
    Request::get("ipsec/sessions/search_phase1")
}

/// `POST ipsec/sessions/search_phase2`: the child SAs of the phase-1 connection `name` (as
/// [`IpsecPhase1::name`] gives it; sent in the body), every row (`searchRecordsetBase` reads
/// the usual search fields; these are its defaults, sent as the GUI's grid does).
pub fn ipsec_phase2_request(name: &str) -> Request {
    Request::post("ipsec/sessions/search_phase2")
        .json(json!({ "id": name, "current": 1, "rowCount": -1, "searchPhrase": "" }))
}

/// Handler for the VPN status reads.
#[derive(Debug, Clone, Copy)]
pub struct VpnHandler<'c> {
    client: &'c Client,
}

impl<'c> VpnHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Every WireGuard interface and peer.
    pub async fn wireguard(&self) -> Result<SearchPage<WireguardRecord>> {
        self.client.send_json(wireguard_show_request()).await
    }

    /// Every OpenVPN session (and enabled instance that is not running).
    pub async fn openvpn_sessions(&self) -> Result<SearchPage<OpenVpnSession>> {
        self.client.send_json(openvpn_sessions_request()).await
    }

    /// Every IPsec phase-1 connection.
    pub async fn ipsec_phase1(&self) -> Result<SearchPage<IpsecPhase1>> {
        self.client.send_json(ipsec_phase1_request()).await
    }

    /// The phase-2 SAs of one phase-1 connection.
    pub async fn ipsec_phase2(&self, name: &str) -> Result<SearchPage<IpsecPhase2>> {
        self.client.send_json(ipsec_phase2_request(name)).await
    }
}

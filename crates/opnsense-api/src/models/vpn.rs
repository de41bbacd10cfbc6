//! VPN status reads: WireGuard (`wg show all dump`), OpenVPN sessions, IPsec phase 1 and 2.
//! All read-only.
//!
//! Shapes (opnsense/core, identical at 26.1.11 and 26.7.2):
//! - WireGuard: `src/opnsense/scripts/wireguard/wg_show.py:41-67` (records; private and
//!   pre-shared keys are never included) and `Wireguard/Api/ServiceController.php:89-118`
//!   (`name`, `latest-handshake-age`, `latest-handshake-epoch`, `peer-status`, `ifname`);
//! - OpenVPN: `src/opnsense/scripts/openvpn/ovpn_status.py:56-120` (the management socket's
//!   `status 3` and `state`) and `OpenVPN/Api/ServiceController.php:72-134` (one row per
//!   connected client, per client instance, and per enabled instance that is not running);
//! - IPsec: `src/opnsense/scripts/ipsec/list_status.py:40-92` (vici `list-conns`/`list-sas`) and
//!   `IPsec/Api/SessionsController.php:51-159` (phase 1 aggregated per connection, phase 2 per
//!   child SA).

use crate::fields::{Extra, opt_bool};

wire_model! {
    /// One record of `wireguard/service/show`: an interface (`type: interface`) or a peer of one
    /// (`type: peer`).
    pub struct WireguardRecord {
        /// The WireGuard device (`wg0`).
        #[serde(rename = "if")]
        pub device: String,
        /// `interface` or `peer`.
        #[serde(rename = "type")]
        pub kind: String,
        /// The public key of the interface or peer.
        #[serde(rename = "public-key")]
        pub public_key: Option<String>,
        /// The instance's (interface) or peer's name in OPNsense, or empty.
        pub name: String,
        /// The instance name the device belongs to.
        pub ifname: Option<String>,
        /// Peer: its `address:port`, or `(none)`; interface: the listen port.
        pub endpoint: Option<String>,
        /// Peer: allowed IPs, comma-separated.
        #[serde(rename = "allowed-ips")]
        pub allowed_ips: Option<String>,
        /// Peer: Unix time of the last handshake (`0`: never).
        #[serde(rename = "latest-handshake")]
        pub latest_handshake: Option<i64>,
        /// Peer: seconds since the last handshake (`null`: never).
        #[serde(rename = "latest-handshake-age")]
        pub latest_handshake_age: Option<i64>,
        /// Peer: the last handshake as `Y-m-d H:i:s` in the firewall's time zone.
        #[serde(rename = "latest-handshake-epoch")]
        pub latest_handshake_epoch: Option<String>,
        /// Peer: bytes received.
        #[serde(rename = "transfer-rx")]
        pub transfer_rx: Option<u64>,
        /// Peer: bytes sent.
        #[serde(rename = "transfer-tx")]
        pub transfer_tx: Option<u64>,
        /// Peer: keepalive interval, or `off`.
        #[serde(rename = "persistent-keepalive")]
        pub persistent_keepalive: Option<String>,
        /// `online` (handshake within 300 s), `stale`, `offline` (never, or an interface).
        #[serde(rename = "peer-status")]
        pub peer_status: Option<String>,
        /// Interface: `up` or `down`.
        pub status: Option<String>,
        /// Interface: the UDP port it listens on.
        #[serde(rename = "listen-port")]
        pub listen_port: Option<String>,
        /// Anything else (`fwmark`, ...).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

impl WireguardRecord {
    /// A peer record.
    pub fn is_peer(&self) -> bool {
        self.kind == "peer"
    }

    /// An interface record.
    pub fn is_interface(&self) -> bool {
        self.kind == "interface"
    }
}

wire_model! {
    /// One row of `openvpn/service/search_sessions`: a connected client of a server instance
    /// (`is_client: true`), a client instance's own connection, or an enabled instance that is not
    /// running (only `id`, `service_id`, `type`, `description`). Rows share every key; absent ones
    /// are `null`.
    pub struct OpenVpnSession {
        /// Instance uuid (or legacy vpnid), with `_<real address>` for a server's client.
        pub id: String,
        /// `server` or `client` (the instance's role).
        #[serde(rename = "type")]
        pub role: String,
        /// The instance's description.
        pub description: String,
        /// Server: `ok` when the management socket answered; client: its state (`connected`,
        /// `reconnecting`, `wait`, ...), or `failed`; absent for an instance that is not running.
        pub status: Option<String>,
        /// A server's connected client.
        #[serde(deserialize_with = "opt_bool::deserialize")]
        #[serde_with(skip_apply)]
        pub is_client: Option<bool>,
        /// The client's certificate common name.
        pub common_name: Option<String>,
        /// The client's login, when the server authenticates users.
        pub username: Option<String>,
        /// The far end's `address:port`.
        pub real_address: Option<String>,
        /// The tunnel address.
        pub virtual_address: Option<String>,
        /// The tunnel IPv6 address.
        pub virtual_ipv6_address: Option<String>,
        /// Bytes received.
        pub bytes_received: Option<u64>,
        /// Bytes sent.
        pub bytes_sent: Option<u64>,
        /// Connected since (`Y-m-d H:i:s`, or OpenVPN's own text for a server's clients).
        pub connected_since: Option<String>,
        /// `openvpn/<id>` for an instance that is not running.
        pub service_id: Option<String>,
        /// Anything else (`socket`, `timestamp`, `client_id`, `peer_id`, `data_channel_cipher`, ...).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

impl OpenVpnSession {
    /// An enabled instance with no management socket: not running.
    pub fn is_stopped_instance(&self) -> bool {
        self.service_id.is_some() && self.status.is_none()
    }
}

wire_model! {
    /// One phase-1 (IKE) connection of `ipsec/sessions/search_phase1`, with the byte and packet
    /// counts of its child SAs summed.
    pub struct IpsecPhase1 {
        /// The swanctl connection name (the key phase 2 is asked with).
        pub name: String,
        /// The connection's uuid (or legacy ikeid).
        pub ikeid: String,
        /// Its description, if configured.
        pub phase1desc: Option<String>,
        /// At least one IKE SA is up.
        #[serde(deserialize_with = "opt_bool::deserialize")]
        #[serde_with(skip_apply)]
        pub connected: Option<bool>,
        /// IKE version (`IKEv2`, ...).
        pub version: Option<String>,
        /// Local addresses.
        #[serde(rename = "local-addrs")]
        pub local_addrs: Option<String>,
        /// Remote addresses.
        #[serde(rename = "remote-addrs")]
        pub remote_addrs: Option<String>,
        /// Local identity.
        #[serde(rename = "local-id")]
        pub local_id: Option<String>,
        /// Remote identity.
        #[serde(rename = "remote-id")]
        pub remote_id: Option<String>,
        /// A configured connection (false: an SA without configuration).
        #[serde(deserialize_with = "opt_bool::deserialize")]
        #[serde_with(skip_apply)]
        pub routed: Option<bool>,
        /// Seconds the newest child SA has been installed.
        #[serde(rename = "install-time")]
        pub install_time: Option<u64>,
        /// Bytes in over all child SAs.
        #[serde(rename = "bytes-in")]
        pub bytes_in: Option<u64>,
        /// Bytes out over all child SAs.
        #[serde(rename = "bytes-out")]
        pub bytes_out: Option<u64>,
        /// Packets in over all child SAs.
        #[serde(rename = "packets-in")]
        pub packets_in: Option<u64>,
        /// Packets out over all child SAs.
        #[serde(rename = "packets-out")]
        pub packets_out: Option<u64>,
        /// Anything else (`local-class`, `remote-class`, ...).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// One phase-2 (child) SA of `ipsec/sessions/search_phase2` (vici `list-sas`; lists such as the
    /// traffic selectors are joined with ` , `).
    pub struct IpsecPhase2 {
        /// Child SA name (the child's uuid, or legacy `reqid` based).
        pub name: String,
        /// Its description, if configured.
        pub phase2desc: Option<String>,
        /// `INSTALLED`, `REKEYING`, ...
        pub state: Option<String>,
        /// `TUNNEL`, `TRANSPORT`.
        pub mode: Option<String>,
        /// `ESP` or `AH`.
        pub protocol: Option<String>,
        /// The peer's address.
        #[serde(rename = "remote-host")]
        pub remote_host: Option<String>,
        /// Local traffic selectors.
        #[serde(rename = "local-ts")]
        pub local_ts: Option<String>,
        /// Remote traffic selectors.
        #[serde(rename = "remote-ts")]
        pub remote_ts: Option<String>,
        /// Bytes in.
        #[serde(rename = "bytes-in")]
        pub bytes_in: Option<u64>,
        /// Bytes out.
        #[serde(rename = "bytes-out")]
        pub bytes_out: Option<u64>,
        /// Seconds since it was installed.
        #[serde(rename = "install-time")]
        pub install_time: Option<u64>,
        /// Seconds until it is rekeyed.
        #[serde(rename = "rekey-time")]
        pub rekey_time: Option<u64>,
        /// Anything else (`spi-in`, `encr-alg`, `reqid`, `ikeid`, ...).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

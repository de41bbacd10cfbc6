//! VPN status in one read-only tool: WireGuard peers, OpenVPN sessions, IPsec phase 1 and 2.
//! Where each endpoint comes from in opnsense/core is written down in `opnsense_api::api::vpn`.
//!
//! Each kind is read on its own: one that fails (the endpoint absent, HTTP 404; the API user
//! without the privilege, 403; any other failure) is listed with `available: false` and why,
//! and does not hide the others. Only when no requested kind could be read at all is the call
//! an error (the firewall is unreachable, or refuses every one of them).

use std::collections::BTreeMap;

use crate::params::Parameters;
use opnsense_api::api::vpn::{
    ipsec_phase1_request, ipsec_phase2_request, openvpn_sessions_request, wireguard_show_request,
};
use opnsense_api::fields::{Lenient, decode_lenient};
use opnsense_api::models::vpn::{IpsecPhase1, IpsecPhase2, OpenVpnSession, WireguardRecord};
use opnsense_api::{Client, SearchPage};
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::OpnsenseTools;
use crate::common::{Compact, RawValue, excerpt};
use crate::error::ToolError;

/// Most phase-1 connections whose phase 2 is read in one call.
pub const IPSEC_PHASE2_MAX: usize = 32;

/// A VPN kind, or `all` of them.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code, reason = "only its schema is used")]
enum VpnKind {
    Wireguard,
    Openvpn,
    Ipsec,
    All,
}

/// Arguments of `vpn_status`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VpnStatusParams {
    /// `wireguard`, `openvpn`, `ipsec` or `all` (default).
    #[serde(default)]
    #[schemars(with = "Option<VpnKind>")]
    pub kind: Option<String>,
    /// OPNsense's answers (`raw` in each kind) instead of compact rows.
    #[serde(default)]
    pub raw: bool,
}

/// Whether a kind could be read, and whether anything is set up (by default: neither).
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Availability {
    /// OPNsense answered for this kind (false: the endpoint is missing, refused or failed; see
    /// `why`).
    pub available: bool,
    /// Something of this kind is set up and loaded (false: see `why`).
    pub configured: bool,
    /// Why it is not available or not configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl Availability {
    fn failed(why: String) -> Self {
        Self {
            available: false,
            configured: false,
            why: Some(why),
        }
    }

    fn read(configured: bool, otherwise: &str) -> Self {
        Self {
            available: true,
            configured,
            why: (!configured).then(|| otherwise.to_owned()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// WireGuard
// ---------------------------------------------------------------------------------------------

/// A WireGuard interface (instance).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WireguardInterfaceView {
    /// Device (`wg0`).
    pub device: String,
    /// Instance name in OPNsense.
    pub name: Option<String>,
    /// `up` or `down`.
    pub status: Option<String>,
    /// UDP port it listens on.
    pub listen_port: Option<String>,
    /// Its public key.
    pub public_key: Option<String>,
}

/// A WireGuard peer.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WireguardPeerView {
    /// Device of the instance it belongs to (`wg0`).
    pub device: String,
    /// That instance's name.
    pub instance: Option<String>,
    /// Peer name in OPNsense.
    pub name: Option<String>,
    /// Its public key.
    pub public_key: Option<String>,
    /// Its current `address:port` (absent until it has connected).
    pub endpoint: Option<String>,
    /// Allowed IPs.
    pub allowed_ips: Option<String>,
    /// `online` (handshake within 300 s), `stale` (older) or `offline` (never).
    pub status: Option<String>,
    /// Seconds since the last handshake (absent: never).
    pub handshake_age_s: Option<i64>,
    /// The last handshake, in the firewall's time zone.
    pub latest_handshake: Option<String>,
    /// Bytes received from the peer.
    pub rx_bytes: Option<u64>,
    /// Bytes sent to the peer.
    pub tx_bytes: Option<u64>,
}

fn some(s: String) -> Option<String> {
    Some(s).filter(|s| !s.trim().is_empty())
}

impl From<WireguardRecord> for WireguardInterfaceView {
    fn from(r: WireguardRecord) -> Self {
        Self {
            name: some(r.name).or(r.ifname),
            device: r.device,
            status: r.status,
            listen_port: r.listen_port,
            public_key: r.public_key,
        }
    }
}

impl From<WireguardRecord> for WireguardPeerView {
    fn from(r: WireguardRecord) -> Self {
        Self {
            device: r.device,
            instance: r.ifname,
            name: some(r.name),
            public_key: r.public_key,
            endpoint: r.endpoint.filter(|e| e != "(none)"),
            allowed_ips: r.allowed_ips,
            status: r.peer_status,
            handshake_age_s: r.latest_handshake_age,
            latest_handshake: r.latest_handshake_epoch,
            rx_bytes: r.transfer_rx,
            tx_bytes: r.transfer_tx,
        }
    }
}

/// WireGuard: its interfaces and peers.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct WireguardStatus {
    /// Whether it could be read and is configured.
    #[serde(flatten)]
    pub availability: Availability,
    /// The running instances.
    pub interfaces: Vec<Compact<WireguardInterfaceView>>,
    /// Their peers.
    pub peers: Vec<Compact<WireguardPeerView>>,
    /// Records OPNsense sent that could not be read, as sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Option<Vec<RawValue>>")]
    pub undecoded: Vec<Value>,
    /// OPNsense's answer as sent (only with `raw: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub raw: Option<Value>,
}

async fn wireguard(c: &Client, raw: bool) -> Result<WireguardStatus, opnsense_api::Error> {
    let (page, v) = c
        .send_json_with_raw::<SearchPage<Value>>(wireguard_show_request())
        .await?;
    let (mut interfaces, mut peers, mut undecoded) = (Vec::new(), Vec::new(), Vec::new());
    for row in page.rows {
        match decode_lenient::<WireguardRecord>(&row) {
            Ok(Lenient { value, unparsed }) if value.is_peer() => peers.push(Compact {
                origin: None,
                view: WireguardPeerView::from(value),
                unparsed,
            }),
            Ok(Lenient { value, unparsed }) if value.is_interface() => interfaces.push(Compact {
                origin: None,
                view: WireguardInterfaceView::from(value),
                unparsed,
            }),
            _ => undecoded.push(row),
        }
    }
    let availability = Availability::read(
        !interfaces.is_empty(),
        "no WireGuard instance is running (none is configured under VPN > WireGuard, or the service is stopped)",
    );
    Ok(if raw {
        WireguardStatus {
            availability,
            raw: Some(v),
            ..WireguardStatus::default()
        }
    } else {
        WireguardStatus {
            availability,
            interfaces,
            peers,
            undecoded,
            raw: None,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// OpenVPN
// ---------------------------------------------------------------------------------------------

/// An OpenVPN session: a client connected to a server instance, a client instance's own
/// connection, or an enabled instance that is not running.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OpenVpnSessionView {
    /// Instance id (uuid), with `_<address:port>` for a server's client.
    pub id: String,
    /// `server` or `client` (the instance's role).
    pub role: String,
    /// The instance's description.
    pub description: Option<String>,
    /// The instance is running (false: enabled but not started).
    pub running: bool,
    /// `ok` (server), the client's state (`connected`, `reconnecting`, ...) or `failed`.
    pub status: Option<String>,
    /// The connected client's certificate common name.
    pub common_name: Option<String>,
    /// Its login, when the server authenticates users.
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
    /// Connected since.
    pub connected_since: Option<String>,
}

impl From<OpenVpnSession> for OpenVpnSessionView {
    fn from(s: OpenVpnSession) -> Self {
        Self {
            running: !s.is_stopped_instance(),
            id: s.id,
            role: s.role,
            description: some(s.description),
            status: s.status,
            common_name: s.common_name,
            username: s.username.filter(|u| u != "UNDEF"),
            real_address: s.real_address,
            virtual_address: s.virtual_address,
            virtual_ipv6_address: s.virtual_ipv6_address,
            bytes_received: s.bytes_received,
            bytes_sent: s.bytes_sent,
            connected_since: s.connected_since,
        }
    }
}

/// OpenVPN: its sessions.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct OpenVpnStatus {
    /// Whether it could be read and is configured.
    #[serde(flatten)]
    pub availability: Availability,
    /// One row per connected client, client instance, and enabled instance not running.
    pub sessions: Vec<Compact<OpenVpnSessionView>>,
    /// Rows OPNsense sent that could not be read, as sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Option<Vec<RawValue>>")]
    pub undecoded: Vec<Value>,
    /// OPNsense's answer as sent (only with `raw: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub raw: Option<Value>,
}

async fn openvpn(c: &Client, raw: bool) -> Result<OpenVpnStatus, opnsense_api::Error> {
    let (page, v) = c
        .send_json_with_raw::<SearchPage<Value>>(openvpn_sessions_request())
        .await?;
    let availability = Availability::read(
        !page.rows.is_empty(),
        "no OpenVPN instance is enabled (VPN > OpenVPN > Instances)",
    );
    if raw {
        return Ok(OpenVpnStatus {
            availability,
            raw: Some(v),
            ..OpenVpnStatus::default()
        });
    }
    let (sessions, undecoded) = compact::<OpenVpnSession, _>(page.rows, OpenVpnSessionView::from);
    Ok(OpenVpnStatus {
        availability,
        sessions,
        undecoded,
        raw: None,
    })
}

// ---------------------------------------------------------------------------------------------
// IPsec
// ---------------------------------------------------------------------------------------------

/// An IPsec child SA (phase 2).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct IpsecChildView {
    /// Child SA name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// `INSTALLED`, `REKEYING`, ...
    pub state: Option<String>,
    /// `TUNNEL` or `TRANSPORT`.
    pub mode: Option<String>,
    /// `ESP` or `AH`.
    pub protocol: Option<String>,
    /// Local networks.
    pub local: Option<String>,
    /// Remote networks.
    pub remote: Option<String>,
    /// Bytes in.
    pub bytes_in: Option<u64>,
    /// Bytes out.
    pub bytes_out: Option<u64>,
    /// Seconds since it was installed.
    pub installed_s: Option<u64>,
    /// Seconds until it is rekeyed.
    pub rekey_in_s: Option<u64>,
}

impl From<IpsecPhase2> for IpsecChildView {
    fn from(c: IpsecPhase2) -> Self {
        Self {
            name: c.name,
            description: c.phase2desc.filter(|d| !d.trim().is_empty()),
            state: c.state,
            mode: c.mode,
            protocol: c.protocol,
            local: c.local_ts,
            remote: c.remote_ts,
            bytes_in: c.bytes_in,
            bytes_out: c.bytes_out,
            installed_s: c.install_time,
            rekey_in_s: c.rekey_time,
        }
    }
}

/// An IPsec connection (phase 1) with its child SAs.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct IpsecTunnelView {
    /// Connection name (swanctl).
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// An IKE SA is up.
    pub connected: bool,
    /// IKE version.
    pub version: Option<String>,
    /// Local addresses.
    pub local: Option<String>,
    /// Remote addresses.
    pub remote: Option<String>,
    /// Local identity.
    pub local_id: Option<String>,
    /// Remote identity.
    pub remote_id: Option<String>,
    /// Bytes in, over its child SAs.
    pub bytes_in: Option<u64>,
    /// Bytes out, over its child SAs.
    pub bytes_out: Option<u64>,
    /// Its child SAs (phase 2), read for connected tunnels.
    pub children: Vec<Compact<IpsecChildView>>,
    /// Why its child SAs could not be read.
    pub children_error: Option<String>,
}

impl From<IpsecPhase1> for IpsecTunnelView {
    fn from(p: IpsecPhase1) -> Self {
        Self {
            connected: p.connected.unwrap_or(false),
            name: p.name,
            description: p.phase1desc.filter(|d| !d.trim().is_empty()),
            version: p.version,
            local: p.local_addrs,
            remote: p.remote_addrs,
            local_id: p.local_id,
            remote_id: p.remote_id,
            bytes_in: p.bytes_in,
            bytes_out: p.bytes_out,
            children: Vec::new(),
            children_error: None,
        }
    }
}

/// IPsec: its connections and child SAs.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct IpsecStatus {
    /// Whether it could be read and is configured.
    #[serde(flatten)]
    pub availability: Availability,
    /// One row per phase-1 connection, with its child SAs.
    pub tunnels: Vec<Compact<IpsecTunnelView>>,
    /// Rows OPNsense sent that could not be read, as sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Option<Vec<RawValue>>")]
    pub undecoded: Vec<Value>,
    /// When not every connected tunnel's child SAs were read.
    pub note: Option<String>,
    /// OPNsense's phase-1 answer as sent (only with `raw: true`).
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub raw: Option<Value>,
    /// OPNsense's phase-2 answers as sent, by connection name (only with `raw: true`).
    #[schemars(with = "Option<BTreeMap<String, crate::common::RawObject>>")]
    pub raw_phase2: Option<BTreeMap<String, Value>>,
}

async fn ipsec(c: &Client, raw: bool) -> Result<IpsecStatus, opnsense_api::Error> {
    let (page, v) = c
        .send_json_with_raw::<SearchPage<Value>>(ipsec_phase1_request())
        .await?;
    let availability = Availability::read(
        !page.rows.is_empty(),
        "no IPsec connection is loaded (none is configured under VPN > IPsec, or strongSwan is not running)",
    );
    let (mut tunnels, undecoded) = compact::<IpsecPhase1, _>(page.rows, IpsecTunnelView::from);
    let mut raw_phase2 = BTreeMap::new();
    let connected = tunnels.iter().filter(|t| t.view.connected).count();
    for t in tunnels
        .iter_mut()
        .filter(|t| t.view.connected)
        .take(IPSEC_PHASE2_MAX)
    {
        match c
            .send_json_with_raw::<SearchPage<Value>>(ipsec_phase2_request(&t.view.name))
            .await
        {
            Ok((children, answer)) => {
                raw_phase2.insert(t.view.name.clone(), answer);
                let (rows, bad) = compact::<IpsecPhase2, _>(children.rows, IpsecChildView::from);
                t.view.children = rows;
                if !bad.is_empty() {
                    t.view.children_error =
                        Some(format!("{} child SA row(s) could not be read", bad.len()));
                }
            }
            Err(e) => t.view.children_error = Some(ToolError::from(e).text().to_owned()),
        }
    }
    let note = (connected > IPSEC_PHASE2_MAX).then(|| {
        format!(
            "{connected} connected tunnels: the child SAs of the first {IPSEC_PHASE2_MAX} were read."
        )
    });
    Ok(if raw {
        IpsecStatus {
            availability,
            note,
            raw: Some(v),
            raw_phase2: Some(raw_phase2),
            ..IpsecStatus::default()
        }
    } else {
        IpsecStatus {
            availability,
            tunnels,
            undecoded,
            note,
            raw: None,
            raw_phase2: None,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The tool
// ---------------------------------------------------------------------------------------------

/// Decodes rows leniently; rows that are not records at all go to the second list.
fn compact<M: serde::de::DeserializeOwned, T>(
    rows: Vec<Value>,
    view: impl Fn(M) -> T,
) -> (Vec<Compact<T>>, Vec<Value>) {
    let mut out = Vec::new();
    let mut undecoded = Vec::new();
    for row in rows {
        match decode_lenient::<M>(&row) {
            Ok(Lenient { value, unparsed }) => out.push(Compact {
                origin: None,
                view: view(value),
                unparsed,
            }),
            Err(_) => undecoded.push(row),
        }
    }
    (out, undecoded)
}

/// The status of each kind asked for.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VpnStatus {
    /// WireGuard (when asked for).
    pub wireguard: Option<WireguardStatus>,
    /// OpenVPN (when asked for).
    pub openvpn: Option<OpenVpnStatus>,
    /// IPsec (when asked for).
    pub ipsec: Option<IpsecStatus>,
}

/// A section of [`VpnStatus`], which can also stand for a read that failed: empty, saying why.
trait Section {
    fn failed(availability: Availability) -> Self;
}

macro_rules! sections {
    ($($section:ty),+) => {
        $(impl Section for $section {
            fn failed(availability: Availability) -> Self {
                Self {
                    availability,
                    ..Self::default()
                }
            }
        })+
    };
}

sections!(WireguardStatus, OpenVpnStatus, IpsecStatus);

/// A section as read or, when the read failed, one that says why; `failures` gets `name: why`
/// for the answer when no section could be read.
fn section<S: Section>(
    read: Result<S, opnsense_api::Error>,
    name: &str,
    failures: &mut Vec<String>,
) -> S {
    read.unwrap_or_else(|e| {
        let text = ToolError::from(e).text().to_owned();
        failures.push(format!("{name}: {text}"));
        S::failed(Availability::failed(text))
    })
}

#[tool_router(router = vpn_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// VPN status: WireGuard interfaces and peers (status, handshake age, bytes in and out),
    /// OpenVPN sessions (client, addresses, bytes, since), IPsec tunnels (phase 1) with their
    /// child SAs (phase 2). `kind` picks one (`wireguard`, `openvpn`, `ipsec`; default all).
    /// A VPN that is not set up says `configured: false`, one that cannot be read says
    /// `available: false`, each with `why`.
    #[tool(annotations(title = "VPN status"))]
    async fn vpn_status(
        &self,
        Parameters(p): Parameters<VpnStatusParams>,
    ) -> Result<Json<VpnStatus>, ToolError> {
        let (wg, ovpn, ips) = match p.kind.as_deref() {
            None | Some("all") => (true, true, true),
            Some("wireguard") => (true, false, false),
            Some("openvpn") => (false, true, false),
            Some("ipsec") => (false, false, true),
            Some(other) => {
                return Err(ToolError::invalid(
                    "kind",
                    format!(
                        "{:?} is not a VPN kind: use wireguard, openvpn, ipsec or all",
                        excerpt(other)
                    ),
                ));
            }
        };
        let c = self.client();
        let mut failures = Vec::new();
        let mut status = VpnStatus {
            wireguard: None,
            openvpn: None,
            ipsec: None,
        };
        if wg {
            status.wireguard = Some(section(
                wireguard(c, p.raw).await,
                "WireGuard",
                &mut failures,
            ));
        }
        if ovpn {
            status.openvpn = Some(section(openvpn(c, p.raw).await, "OpenVPN", &mut failures));
        }
        if ips {
            status.ipsec = Some(section(ipsec(c, p.raw).await, "IPsec", &mut failures));
        }
        let asked = usize::from(wg) + usize::from(ovpn) + usize::from(ips);
        if failures.len() == asked {
            return Err(ToolError::message(format!(
                "No VPN status could be read. {}",
                failures.join(" ")
            )));
        }
        Ok(Json(status))
    }
}

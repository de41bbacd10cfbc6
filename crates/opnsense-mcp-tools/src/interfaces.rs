//! Interface diagnostics: interface names, addresses and link state, ARP and NDP tables.
//! All read-only.

use std::collections::BTreeMap;

use crate::params::Parameters;
use opnsense_api::api::interfaces::{
    InterfaceConfig, InterfaceNames, arp_request, config_request, names_request, ndp_request,
};
use opnsense_api::models::interfaces::{ArpEntry, InterfaceDetails, IpAddress, NdpEntry};
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::OpnsenseTools;
use crate::common::{ListParams, Listing, RawParams, Rows, is_false};
use crate::error::ToolError;

/// The assigned interfaces.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InterfaceList {
    /// Number of assigned interfaces.
    pub total: usize,
    /// One row per assigned interface, sorted by device name.
    pub rows: Vec<InterfaceName>,
    /// OPNsense's full answer (only with `raw: true`): an object, or `[]` for none (PHP's
    /// empty map).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawValue>")]
    pub raw: Option<Value>,
}

/// An assigned interface.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InterfaceName {
    /// Operating-system device (`igb1`, `vtnet0`, `wg1`).
    pub device: String,
    /// Its description in OPNsense (`LAN`, `WAN`, `OPT1`, or the name given to it).
    pub description: String,
}

/// Addresses and link state of every device.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InterfaceConfigs {
    /// Number of devices.
    pub total: usize,
    /// One row per device (assigned or not), sorted by device name.
    pub rows: Vec<InterfaceView>,
    /// OPNsense's full answer (only with `raw: true`; `rows` is then empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub raw: Option<Value>,
}

/// One device in compact form.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InterfaceView {
    /// Operating-system device (`igb1`).
    pub device: String,
    /// Its description in OPNsense (`LAN`); absent for devices not assigned to an interface
    /// (`lo0`, `enc0`, `pflog0`, ...).
    pub description: Option<String>,
    /// Link status (`active`, `no carrier`, ...), when the device reports one.
    pub status: Option<String>,
    /// Administratively up.
    pub up: bool,
    /// MAC address (absent when the device has none).
    pub mac: Option<String>,
    /// MTU in bytes.
    pub mtu: Option<u64>,
    /// Media (`1000baseT <full-duplex>`), when known.
    pub media: Option<String>,
    /// IPv4 addresses as `a.b.c.d/nn`.
    pub ipv4: Vec<String>,
    /// IPv6 addresses as `addr/nn` (link-local ones last).
    pub ipv6: Vec<String>,
}

impl InterfaceView {
    fn new(d: InterfaceDetails, names: &BTreeMap<String, String>) -> Self {
        let up = d.is_up();
        let cidr = |a: &IpAddress| match a.subnetbits {
            Some(bits) => format!("{}/{bits}", a.ipaddr),
            None => a.ipaddr.clone(),
        };
        let mac = Some(d.macaddr).filter(|m| !m.is_empty() && m != "00:00:00:00:00:00");
        Self {
            description: names.get(&d.device).cloned(),
            device: d.device,
            status: d.status,
            up,
            mac,
            mtu: d.mtu,
            media: d.media,
            ipv4: d.ipv4.iter().map(cidr).collect(),
            ipv6: d.ipv6.iter().map(cidr).collect(),
        }
    }
}

/// An ARP or NDP entry in compact form.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NeighbourView {
    /// IP address (IPv6 link-local ones carry `%device`).
    pub ip: String,
    /// MAC address.
    pub mac: String,
    /// Device the neighbour was seen on (`igb1`).
    pub interface: String,
    /// The interface's description (`LAN`), when assigned.
    pub description: Option<String>,
    /// Host name, when known (ARP only).
    pub hostname: Option<String>,
    /// Vendor from the MAC address, when known.
    pub manufacturer: Option<String>,
    /// A permanent (static) entry, such as the firewall's own address (ARP only).
    #[serde(skip_serializing_if = "is_false")]
    pub permanent: bool,
}

fn non_empty(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

impl From<ArpEntry> for NeighbourView {
    fn from(e: ArpEntry) -> Self {
        Self {
            ip: e.ip,
            mac: e.mac,
            interface: e.intf,
            description: non_empty(e.intf_description),
            hostname: non_empty(e.hostname),
            manufacturer: non_empty(e.manufacturer),
            permanent: e.permanent.unwrap_or(false),
        }
    }
}

impl From<NdpEntry> for NeighbourView {
    fn from(e: NdpEntry) -> Self {
        Self {
            ip: e.ip,
            mac: e.mac,
            interface: e.intf,
            description: non_empty(e.intf_description),
            hostname: None,
            manufacturer: non_empty(e.manufacturer),
            permanent: false,
        }
    }
}

/// The neighbour endpoints answer a JSON array.
fn rows_of(v: Value) -> Result<Vec<Value>, ToolError> {
    match v {
        Value::Array(rows) => Ok(rows),
        // PHP sends a list with non-sequential keys as an object (of entries), and nothing when
        // configd fails.
        Value::Object(map) if map.values().all(Value::is_object) => {
            Ok(map.into_iter().map(|(_, row)| row).collect())
        }
        Value::Null => Ok(Vec::new()),
        _ => Err(ToolError::message(
            "OPNsense returned an unexpected answer: expected a list of entries",
        )),
    }
}

#[tool_router(router = interfaces_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// List the assigned network interfaces: device name (`igb1`) and description (`LAN`,
    /// `WAN`, `OPT1`, ...).
    #[tool(annotations(title = "List interfaces"))]
    pub(crate) async fn interface_list(
        &self,
        Parameters(p): Parameters<RawParams>,
    ) -> Result<Json<InterfaceList>, ToolError> {
        let (InterfaceNames(names), v) = self
            .client()
            .send_json_with_raw::<InterfaceNames>(names_request())
            .await?;
        Ok(Json(InterfaceList {
            total: names.len(),
            rows: names
                .into_iter()
                .map(|(device, description)| InterfaceName {
                    device,
                    description,
                })
                .collect(),
            raw: p.raw.then_some(v),
        }))
    }

    /// Addresses and link state of every network device (assigned or not): description,
    /// status, up, MAC, MTU, media, IPv4 and IPv6 addresses in CIDR form. `raw: true` gives
    /// OPNsense's full per-device details (flags, capabilities, VLAN, CARP, ...).
    #[tool(annotations(title = "Interface configuration"))]
    pub(crate) async fn interface_config(
        &self,
        Parameters(p): Parameters<RawParams>,
    ) -> Result<Json<InterfaceConfigs>, ToolError> {
        if p.raw {
            let v: Value = self.client().send_json(config_request()).await?;
            let total = v.as_object().map_or(0, serde_json::Map::len);
            return Ok(Json(InterfaceConfigs {
                total,
                rows: Vec::new(),
                raw: Some(v),
            }));
        }
        let InterfaceConfig(devices) = self.client().send_json(config_request()).await?;
        let names: BTreeMap<String, String> = self.client().interfaces().names().await?;
        let rows: Vec<InterfaceView> = devices
            .into_iter()
            .map(|(device, mut d)| {
                if d.device.is_empty() {
                    d.device = device;
                }
                InterfaceView::new(d, &names)
            })
            .collect();
        Ok(Json(InterfaceConfigs {
            total: rows.len(),
            rows,
            raw: None,
        }))
    }

    /// The ARP table (IPv4 neighbours): IP, MAC, interface, host name and vendor when known.
    /// Paged; `search_phrase` matches any column.
    #[tool(annotations(title = "ARP table"))]
    pub(crate) async fn interface_arp_table(
        &self,
        Parameters(p): Parameters<ListParams>,
    ) -> Result<Json<Listing<NeighbourView>>, ToolError> {
        let q = p.query()?;
        let all = rows_of(self.client().send_json(arp_request()).await?)?;
        Ok(Json(Listing::from_all(
            &q,
            p.raw,
            all,
            &Rows::<ArpEntry, _>::all(NeighbourView::from),
        )))
    }

    /// The NDP table (IPv6 neighbours, the IPv6 counterpart of ARP): IP, MAC, interface,
    /// vendor. Paged; `search_phrase` matches any column.
    #[tool(annotations(title = "NDP table"))]
    async fn interface_ndp_table(
        &self,
        Parameters(p): Parameters<ListParams>,
    ) -> Result<Json<Listing<NeighbourView>>, ToolError> {
        let q = p.query()?;
        let all = rows_of(self.client().send_json(ndp_request()).await?)?;
        Ok(Json(Listing::from_all(
            &q,
            p.raw,
            all,
            &Rows::<NdpEntry, _>::all(NeighbourView::from),
        )))
    }
}

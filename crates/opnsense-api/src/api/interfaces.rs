//! `diagnostics/interface`: interface names, configuration/status, ARP and NDP tables.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::client::Client;
use crate::error::Result;
use crate::fields::{list_or_empty, map_or_empty};
use crate::models::interfaces::{ArpEntry, InterfaceDetails, NdpEntry};
use crate::request::Request;

/// Handler for interface diagnostics.
#[derive(Debug, Clone, Copy)]
pub struct InterfacesHandler<'c> {
    client: &'c Client,
}

/// `GET diagnostics/interface/getInterfaceNames`: device (`igb1`) -> description (`LAN`).
pub fn names_request() -> Request {
    Request::get("diagnostics/interface/getInterfaceNames")
}

/// `GET diagnostics/interface/getInterfaceConfig`: every device's addresses, flags, media, MTU.
pub fn config_request() -> Request {
    Request::get("diagnostics/interface/getInterfaceConfig")
}

/// `GET interfaces/overview/interfacesInfo`: every interface with its config key, device,
/// addresses and status (the overview page's table).
pub fn overview_request() -> Request {
    Request::get("interfaces/overview/interfacesInfo")
}

/// `GET diagnostics/interface/getArp`: the IPv4 neighbour table.
pub fn arp_request() -> Request {
    Request::get("diagnostics/interface/getArp")
}

/// `GET diagnostics/interface/getNdp`: the IPv6 neighbour table.
pub fn ndp_request() -> Request {
    Request::get("diagnostics/interface/getNdp")
}

/// Device -> description (`[]` when there are none).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct InterfaceNames(#[serde(deserialize_with = "map_or_empty")] pub BTreeMap<String, String>);

/// Device -> details (`[]` when there are none).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct InterfaceConfig(
    #[serde(deserialize_with = "map_or_empty")] pub BTreeMap<String, InterfaceDetails>,
);

/// A neighbour table (a list; PHP may send `{}` or nothing when configd fails).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Neighbours<T: serde::de::DeserializeOwned>(
    #[serde(deserialize_with = "list_or_empty")] pub Vec<T>,
);

impl<'c> InterfacesHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Device (`igb1`) -> description (`LAN`).
    pub async fn names(&self) -> Result<BTreeMap<String, String>> {
        let names: InterfaceNames = self.client.send_json(names_request()).await?;
        Ok(names.0)
    }

    /// Every device's addresses, flags, media, MTU.
    pub async fn config(&self) -> Result<BTreeMap<String, InterfaceDetails>> {
        let config: InterfaceConfig = self.client.send_json(config_request()).await?;
        Ok(config.0)
    }

    /// The IPv4 neighbour table.
    pub async fn arp(&self) -> Result<Vec<ArpEntry>> {
        let rows: Neighbours<ArpEntry> = self.client.send_json(arp_request()).await?;
        Ok(rows.0)
    }

    /// The IPv6 neighbour table.
    pub async fn ndp(&self) -> Result<Vec<NdpEntry>> {
        let rows: Neighbours<NdpEntry> = self.client.send_json(ndp_request()).await?;
        Ok(rows.0)
    }
}

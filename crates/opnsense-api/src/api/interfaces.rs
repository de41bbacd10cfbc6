//! `diagnostics/interface`: interface names, configuration/status, ARP and NDP tables.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::client::Client;
use crate::error::Result;
use crate::models::interfaces::{ArpEntry, InterfaceDetails, NdpEntry};
use crate::outcome;
use crate::request::Request;

/// Handler for interface diagnostics.
#[derive(Debug, Clone, Copy)]
pub struct InterfacesHandler<'c> {
    client: &'c Client,
}

/// OPNsense renders an empty PHP map as `[]`.
fn map_or_empty<T: serde::de::DeserializeOwned>(
    path: &str,
    v: Value,
) -> Result<BTreeMap<String, T>> {
    match v {
        Value::Array(a) if a.is_empty() => Ok(BTreeMap::new()),
        other => outcome::decode(path, other),
    }
}

impl<'c> InterfacesHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `GET diagnostics/interface/getInterfaceNames`: device (`igb1`) -> description (`LAN`).
    pub async fn names(&self) -> Result<BTreeMap<String, String>> {
        self.client
            .execute(
                Request::get("diagnostics/interface/getInterfaceNames"),
                map_or_empty,
            )
            .await
    }

    /// `GET diagnostics/interface/getInterfaceConfig`: every device's addresses, flags, media, MTU.
    pub async fn config(&self) -> Result<BTreeMap<String, InterfaceDetails>> {
        self.client
            .execute(
                Request::get("diagnostics/interface/getInterfaceConfig"),
                map_or_empty,
            )
            .await
    }

    /// `GET diagnostics/interface/getArp`: the IPv4 neighbour table.
    pub async fn arp(&self) -> Result<Vec<ArpEntry>> {
        self.client
            .send_json(Request::get("diagnostics/interface/getArp"))
            .await
    }

    /// `GET diagnostics/interface/getNdp`: the IPv6 neighbour table.
    pub async fn ndp(&self) -> Result<Vec<NdpEntry>> {
        self.client
            .send_json(Request::get("diagnostics/interface/getNdp"))
            .await
    }
}

//! `diagnostics/interface`: interface names, configuration/status, ARP and NDP tables.

use std::collections::BTreeMap;

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

/// `GET`: device (`igb1`) -> description (`LAN`).
pub const NAMES: &str = "diagnostics/interface/getInterfaceNames";
/// `GET`: every device's addresses, flags, media, MTU.
pub const CONFIG: &str = "diagnostics/interface/getInterfaceConfig";
/// `GET`: the IPv4 neighbour table.
pub const ARP: &str = "diagnostics/interface/getArp";
/// `GET`: the IPv6 neighbour table.
pub const NDP: &str = "diagnostics/interface/getNdp";

impl<'c> InterfacesHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `GET diagnostics/interface/getInterfaceNames`: device (`igb1`) -> description (`LAN`).
    pub async fn names(&self) -> Result<BTreeMap<String, String>> {
        self.client
            .execute(Request::get(NAMES), outcome::map_or_empty)
            .await
    }

    /// `GET diagnostics/interface/getInterfaceConfig`: every device's addresses, flags, media, MTU.
    pub async fn config(&self) -> Result<BTreeMap<String, InterfaceDetails>> {
        self.client
            .execute(Request::get(CONFIG), outcome::map_or_empty)
            .await
    }

    /// `GET diagnostics/interface/getArp`: the IPv4 neighbour table.
    pub async fn arp(&self) -> Result<Vec<ArpEntry>> {
        self.client.send_json(Request::get(ARP)).await
    }

    /// `GET diagnostics/interface/getNdp`: the IPv6 neighbour table.
    pub async fn ndp(&self) -> Result<Vec<NdpEntry>> {
        self.client.send_json(Request::get(NDP)).await
    }
}

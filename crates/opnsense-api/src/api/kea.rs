//! `kea/*`: Kea DHCPv4 leases and settings, and the [`RESERVATIONS`] and [`SUBNETS`] grids
//! (no toggle: OPNsense has none for them). Apply with the grids' apply (`kea/service/reconfigure`).

use crate::client::Client;
use crate::error::Result;
use crate::grid::{Apply, Grid, GridDesc, GridSpec, Lookup, OnOff};
use crate::models::kea::{KeaSettings, Lease, Reservation, Subnet};
use crate::request::{Request, SearchPage, SearchQuery};

/// `kea/service/reconfigure`: regenerates Kea's configuration and restarts it.
pub const RECONFIGURE: Apply =
    Apply::reconfigure("kea/service/reconfigure", "apply Kea DHCP changes");

/// The DHCPv4 reservation grid (fixed addresses).
pub static RESERVATIONS: GridSpec<Reservation> = GridSpec::new(GridDesc {
    id: "kea.reservation",
    kind: "DHCP reservation",
    wrapper: "reservation",
    search: "kea/dhcpv4/searchReservation",
    get: "kea/dhcpv4/getReservation",
    add: "kea/dhcpv4/addReservation",
    set: "kea/dhcpv4/setReservation",
    del: "kea/dhcpv4/delReservation",
    toggle: None,
    on_off: OnOff::None,
    apply: RECONFIGURE,
    lookup: Lookup::Get,
    set_keeps: &[],
    secret_fields: &[],
});

/// The DHCPv4 subnet grid.
pub static SUBNETS: GridSpec<Subnet> = GridSpec::new(GridDesc {
    id: "kea.subnet",
    kind: "DHCP subnet",
    wrapper: "subnet4",
    search: "kea/dhcpv4/searchSubnet",
    get: "kea/dhcpv4/getSubnet",
    add: "kea/dhcpv4/addSubnet",
    set: "kea/dhcpv4/setSubnet",
    del: "kea/dhcpv4/delSubnet",
    toggle: None,
    on_off: OnOff::None,
    apply: RECONFIGURE,
    lookup: Lookup::Get,
    set_keeps: &[],
    secret_fields: &[],
});

/// Builds the lease search: paging plus the optional interface filter (config ids such as `lan`,
/// sent as `selected_interfaces`; an empty slice means every interface).
pub fn leases_request(q: &SearchQuery, interfaces: &[String]) -> Request {
    super::lease_search("kea/leases4/search", q, interfaces)
}

/// `GET kea/dhcpv4/get`: general, lease-expiry and HA settings.
pub fn settings_request() -> Request {
    Request::get("kea/dhcpv4/get")
}

/// Handler for Kea DHCPv4.
#[derive(Debug, Clone, Copy)]
pub struct KeaHandler<'c> {
    client: &'c Client,
}

impl<'c> KeaHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `POST kea/leases4/search`: leases from the running Kea daemon (none when it is stopped).
    /// The page's `extra` holds `interfaces` (config id -> description).
    pub async fn leases(
        &self,
        q: &SearchQuery,
        interfaces: &[String],
    ) -> Result<SearchPage<Lease>> {
        self.client.send_json(leases_request(q, interfaces)).await
    }

    /// `GET kea/dhcpv4/get`: general, lease-expiry and HA settings (not subnets or reservations).
    pub async fn settings(&self) -> Result<KeaSettings> {
        self.client.send_json(settings_request()).await
    }

    /// Reservations.
    pub fn reservations(&self) -> Grid<'c, Reservation> {
        self.client.grid(&RESERVATIONS)
    }

    /// Subnets.
    pub fn subnets(&self) -> Grid<'c, Subnet> {
        self.client.grid(&SUBNETS)
    }
}

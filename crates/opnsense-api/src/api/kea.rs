//! `kea/*`: Kea DHCPv4 leases, settings, subnets and reservations. Apply with
//! [`KeaHandler::reconfigure`].

use serde_json::{Map, Value};

use super::Resource;
use crate::client::Client;
use crate::error::Result;
use crate::models::kea::{KeaSettings, Lease, Reservation, Subnet};
use crate::outcome::{self, ActionStatus, Saved};
use crate::path::Uuid;
use crate::request::{Request, SearchPage, SearchQuery};

/// The reservation grid. OPNsense has no toggle action for it: `toggle` is never called.
pub const RESERVATION: Resource = Resource {
    kind: "DHCP reservation",
    wrapper: "reservation",
    search: "kea/dhcpv4/searchReservation",
    get: "kea/dhcpv4/getReservation",
    add: "kea/dhcpv4/addReservation",
    set: "kea/dhcpv4/setReservation",
    del: "kea/dhcpv4/delReservation",
    toggle: "kea/dhcpv4/toggleReservation",
    toggle_inverted: false,
};

/// The subnet grid. OPNsense has no toggle action for it: `toggle` is never called.
pub const SUBNET: Resource = Resource {
    kind: "DHCP subnet",
    wrapper: "subnet4",
    search: "kea/dhcpv4/searchSubnet",
    get: "kea/dhcpv4/getSubnet",
    add: "kea/dhcpv4/addSubnet",
    set: "kea/dhcpv4/setSubnet",
    del: "kea/dhcpv4/delSubnet",
    toggle: "kea/dhcpv4/toggleSubnet",
    toggle_inverted: false,
};

/// Handler for Kea DHCPv4.
#[derive(Debug, Clone, Copy)]
pub struct KeaHandler<'c> {
    client: &'c Client,
}

/// Builds the lease search: paging plus the optional interface filter (config ids such as `lan`,
/// sent as `selected_interfaces`; an empty slice means every interface).
pub fn leases_request(q: &SearchQuery, interfaces: &[String]) -> Request {
    let mut body = q.to_body();
    if !interfaces.is_empty() {
        body.insert(
            "selected_interfaces".into(),
            Value::from(interfaces.to_vec()),
        );
    }
    Request::post("kea/leases4/search").json(Value::Object(body))
}

/// `POST kea/service/reconfigure` without a body.
pub fn reconfigure_request() -> Request {
    Request::post("kea/service/reconfigure")
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
        self.client.send_json(Request::get("kea/dhcpv4/get")).await
    }

    /// `POST kea/dhcpv4/searchSubnet`.
    pub async fn search_subnets(&self, q: &SearchQuery) -> Result<SearchPage<Subnet>> {
        self.client.search_resource(&SUBNET, q, Map::new()).await
    }

    /// `GET kea/dhcpv4/getSubnet/{uuid}`.
    pub async fn get_subnet(&self, id: &Uuid) -> Result<Subnet> {
        self.client.get_resource(&SUBNET, id).await
    }

    /// `POST kea/dhcpv4/searchReservation`.
    pub async fn search_reservations(&self, q: &SearchQuery) -> Result<SearchPage<Reservation>> {
        self.client
            .search_resource(&RESERVATION, q, Map::new())
            .await
    }

    /// `GET kea/dhcpv4/getReservation/{uuid}`.
    pub async fn get_reservation(&self, id: &Uuid) -> Result<Reservation> {
        self.client.get_resource(&RESERVATION, id).await
    }

    /// `POST kea/dhcpv4/addReservation` (staged).
    pub async fn add_reservation(&self, r: &Reservation) -> Result<Saved> {
        self.client.add_resource(&RESERVATION, r).await
    }

    /// `POST kea/dhcpv4/setReservation/{uuid}` (staged; unknown uuid = not found).
    pub async fn set_reservation(&self, id: &Uuid, r: &Reservation) -> Result<()> {
        self.client.set_resource(&RESERVATION, id, r).await
    }

    /// `POST kea/dhcpv4/delReservation/{uuid}` (staged).
    pub async fn delete_reservation(&self, id: &Uuid) -> Result<()> {
        self.client.delete_resource(&RESERVATION, id).await
    }

    /// `POST kea/service/reconfigure`: applies staged DHCP changes (anything but `ok` is
    /// [`crate::Error::ActionFailed`]).
    pub async fn reconfigure(&self) -> Result<ActionStatus> {
        self.client
            .action(
                reconfigure_request(),
                "apply Kea DHCP changes",
                "status",
                outcome::status_is_ok,
            )
            .await
    }
}

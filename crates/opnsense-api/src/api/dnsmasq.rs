//! `dnsmasq/*`: Dnsmasq's settings, its DHCP leases and the [`HOSTS`] grid (DHCP reservations
//! and DNS host overrides in one list; no toggle: OPNsense has none). Apply with the grid's
//! apply (`dnsmasq/service/reconfigure`).
//!
//! Sources (opnsense/core, identical at 26.1.11 and 26.7.2):
//! `src/opnsense/mvc/app/controllers/OPNsense/Dnsmasq/Api/SettingsController.php` (`getAction`
//! line 76, `searchHostAction` 86, `getHostAction` 91, `setHostAction` 96, `addHostAction` 101,
//! `delHostAction` 106; wrapper `host`, safe delete on, line 38),
//! `.../Dnsmasq/Api/LeasesController.php` (`searchAction` line 39: a recordset over
//! `dnsmasq list leases`, filtered by `selected_interfaces`, default sort `address`),
//! `.../Dnsmasq/Api/ServiceController.php` (`ApiMutableServiceControllerBase`, enabled by
//! `enable`, line 42).

use crate::client::Client;
use crate::error::Result;
use crate::grid::{Apply, Grid, GridDesc, GridSpec, Lookup, OnOff};
use crate::models::dnsmasq::{DnsmasqSettings, Host, Lease};
use crate::request::{Request, SearchPage, SearchQuery};

/// `dnsmasq/service/reconfigure`: regenerates dnsmasq's configuration and restarts it.
pub const RECONFIGURE: Apply =
    Apply::reconfigure("dnsmasq/service/reconfigure", "apply Dnsmasq changes");

/// The host grid (wrapper `host`): DHCP reservations (with a MAC address or client id) and DNS
/// host overrides.
pub static HOSTS: GridSpec<Host> = GridSpec::new(GridDesc {
    id: "dnsmasq.host",
    kind: "Dnsmasq host",
    wrapper: "host",
    search: "dnsmasq/settings/searchHost",
    get: "dnsmasq/settings/getHost",
    add: "dnsmasq/settings/addHost",
    set: "dnsmasq/settings/setHost",
    del: "dnsmasq/settings/delHost",
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
    super::lease_search("dnsmasq/leases/search", q, interfaces)
}

/// `GET dnsmasq/settings/get`: the whole model (a POST answers `[]`).
pub fn settings_request() -> Request {
    Request::get("dnsmasq/settings/get")
}

/// Handler for Dnsmasq.
#[derive(Debug, Clone, Copy)]
pub struct DnsmasqHandler<'c> {
    client: &'c Client,
}

impl<'c> DnsmasqHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `POST dnsmasq/leases/search`: the leases in dnsmasq's lease file. The page's `extra`
    /// holds `interfaces` (config id -> description).
    pub async fn leases(
        &self,
        q: &SearchQuery,
        interfaces: &[String],
    ) -> Result<SearchPage<Lease>> {
        self.client.send_json(leases_request(q, interfaces)).await
    }

    /// `GET dnsmasq/settings/get`: the whole model (switches, DHCP settings, every list).
    pub async fn settings(&self) -> Result<DnsmasqSettings> {
        self.client.send_json(settings_request()).await
    }

    /// Hosts (DHCP reservations and DNS host overrides).
    pub fn hosts(&self) -> Grid<'c, Host> {
        self.client.grid(&HOSTS)
    }
}

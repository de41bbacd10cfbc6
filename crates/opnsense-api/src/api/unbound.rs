//! `unbound/*`: Unbound DNS resolver settings and the [`HOST_OVERRIDES`] and [`FORWARDS`] grids.
//! Apply with the grids' apply (`unbound/service/reconfigure`), which loads both kinds of staged
//! record at once.
//!
//! Sources (opnsense/core 26.1.11 and 26.7.2, identical here):
//! `src/opnsense/mvc/app/controllers/OPNsense/Unbound/Api/SettingsController.php` (host
//! overrides 187-243; forwards 142-183, the `*Dot` aliases of the forward actions by `__call`
//! 131-140), `src/opnsense/mvc/app/models/OPNsense/Unbound/Unbound.xml` (`<dots>` 279-313,
//! `<hosts>` 314-).

use crate::client::Client;
use crate::error::Result;
use crate::grid::{Apply, Grid, GridDesc, GridSpec, Lookup, OnOff};
use crate::models::unbound::{Forward, HostOverride, UnboundSettings};
use crate::request::Request;

/// `unbound/service/reconfigure`: regenerates the configuration and restarts Unbound briefly.
pub const RECONFIGURE: Apply =
    Apply::reconfigure("unbound/service/reconfigure", "apply Unbound DNS changes");

/// The host-override grid (wrapper `host`).
pub static HOST_OVERRIDES: GridSpec<HostOverride> = GridSpec::new(GridDesc {
    id: "unbound.host_override",
    kind: "DNS host override",
    wrapper: "host",
    search: "unbound/settings/searchHostOverride",
    get: "unbound/settings/getHostOverride",
    add: "unbound/settings/addHostOverride",
    set: "unbound/settings/setHostOverride",
    del: "unbound/settings/delHostOverride",
    toggle: Some("unbound/settings/toggleHostOverride"),
    on_off: OnOff::Enabled,
    apply: RECONFIGURE,
    lookup: Lookup::Get,
    set_keeps: &[],
    secret_fields: &[],
});

/// The query-forwarding grid (wrapper `dot`; "Query Forwarding" in the GUI): `dots.dot` items of
/// type `forward`. The search lists only those (`searchForwardAction`: a filter on
/// `type == forward`), add and set force `type` to `forward` (an overlay after the posted
/// fields), but `getForward` answers any `dots.dot` item: a DNS-over-TLS entry reads as not
/// found here ([`Lookup::GetOfKind`]), so it can be neither changed into a forward nor
/// deleted through this grid. Unknown uuid: `[]` (`getBase`).
pub static FORWARDS: GridSpec<Forward> = GridSpec::new(GridDesc {
    id: "unbound.forward",
    kind: "DNS query forward",
    wrapper: "dot",
    search: "unbound/settings/searchForward",
    get: "unbound/settings/getForward",
    add: "unbound/settings/addForward",
    set: "unbound/settings/setForward",
    del: "unbound/settings/delForward",
    toggle: Some("unbound/settings/toggleForward"),
    on_off: OnOff::Enabled,
    apply: RECONFIGURE,
    lookup: Lookup::GetOfKind("type", "forward"),
    set_keeps: &[],
    secret_fields: &[],
});

/// `GET unbound/settings/get` (a POST answers `[]`).
pub fn settings_request() -> Request {
    Request::get("unbound/settings/get")
}

/// Handler for Unbound.
#[derive(Debug, Clone, Copy)]
pub struct UnboundHandler<'c> {
    client: &'c Client,
}

impl<'c> UnboundHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `GET unbound/settings/get`: the whole resolver configuration.
    pub async fn settings(&self) -> Result<UnboundSettings> {
        self.client.send_json(settings_request()).await
    }

    /// Host overrides.
    pub fn host_overrides(&self) -> Grid<'c, HostOverride> {
        self.client.grid(&HOST_OVERRIDES)
    }

    /// Query forwards.
    pub fn forwards(&self) -> Grid<'c, Forward> {
        self.client.grid(&FORWARDS)
    }
}

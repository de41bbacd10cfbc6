//! `unbound/*`: Unbound DNS resolver settings and the [`HOST_OVERRIDES`] grid. Apply with the
//! grid's apply (`unbound/service/reconfigure`).

use crate::client::Client;
use crate::error::Result;
use crate::grid::{Apply, Grid, GridDesc, GridSpec, Lookup, OnOff};
use crate::models::unbound::{HostOverride, UnboundSettings};
use crate::outcome;
use crate::request::Request;

/// `unbound/service/reconfigure`: regenerates the configuration and restarts Unbound briefly.
pub const RECONFIGURE: Apply = Apply {
    path: "unbound/service/reconfigure",
    action: "apply Unbound DNS changes",
    key: "status",
    ok: outcome::status_is_ok,
};

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
}

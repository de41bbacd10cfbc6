//! `unbound/*`: Unbound DNS resolver settings and host overrides. Apply with
//! [`UnboundHandler::reconfigure`].

use serde_json::Map;

use super::Resource;
use crate::client::Client;
use crate::error::Result;
use crate::models::unbound::{HostOverride, UnboundSettings};
use crate::outcome::{self, ActionStatus, Saved, Toggled};
use crate::path::Uuid;
use crate::request::{Request, SearchPage, SearchQuery};

/// The host-override grid.
pub const HOST_OVERRIDE: Resource = Resource {
    kind: "DNS host override",
    wrapper: "host",
    search: "unbound/settings/searchHostOverride",
    get: "unbound/settings/getHostOverride",
    add: "unbound/settings/addHostOverride",
    set: "unbound/settings/setHostOverride",
    del: "unbound/settings/delHostOverride",
    toggle: "unbound/settings/toggleHostOverride",
    toggle_inverted: false,
};

/// `POST unbound/service/reconfigure` without a body.
pub fn reconfigure_request() -> Request {
    Request::post("unbound/service/reconfigure")
}

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

    /// `POST unbound/settings/searchHostOverride`.
    pub async fn search_host_overrides(&self, q: &SearchQuery) -> Result<SearchPage<HostOverride>> {
        self.client
            .search_resource(&HOST_OVERRIDE, q, Map::new())
            .await
    }

    /// `GET unbound/settings/getHostOverride/{uuid}`.
    pub async fn get_host_override(&self, id: &Uuid) -> Result<HostOverride> {
        self.client.get_resource(&HOST_OVERRIDE, id).await
    }

    /// `POST unbound/settings/addHostOverride` (staged).
    pub async fn add_host_override(&self, host: &HostOverride) -> Result<Saved> {
        self.client.add_resource(&HOST_OVERRIDE, host).await
    }

    /// `POST unbound/settings/setHostOverride/{uuid}` (staged; unknown uuid = not found).
    pub async fn set_host_override(&self, id: &Uuid, host: &HostOverride) -> Result<()> {
        self.client.set_resource(&HOST_OVERRIDE, id, host).await
    }

    /// `POST unbound/settings/delHostOverride/{uuid}` (staged; also removes its aliases).
    pub async fn delete_host_override(&self, id: &Uuid) -> Result<()> {
        self.client.delete_resource(&HOST_OVERRIDE, id).await
    }

    /// `POST unbound/settings/toggleHostOverride/{uuid}[/{0|1}]` (staged).
    pub async fn toggle_host_override(&self, id: &Uuid, enabled: Option<bool>) -> Result<Toggled> {
        self.client
            .toggle_resource(&HOST_OVERRIDE, id, enabled)
            .await
    }

    /// `POST unbound/service/reconfigure`: applies staged changes (Unbound restarts briefly).
    pub async fn reconfigure(&self) -> Result<ActionStatus> {
        self.client
            .action(
                reconfigure_request(),
                "apply Unbound DNS changes",
                "status",
                outcome::status_is_ok,
            )
            .await
    }
}

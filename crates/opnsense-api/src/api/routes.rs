//! `routes/routes`: static routes. Apply with [`RoutesHandler::reconfigure`].

use serde_json::Map;

use super::Resource;
use crate::client::Client;
use crate::error::Result;
use crate::models::routes::Route;
use crate::outcome::{self, ActionStatus, Saved, Toggled};
use crate::path::Uuid;
use crate::request::{Request, SearchPage, SearchQuery};

/// The static-route grid.
pub const ROUTE: Resource = Resource {
    kind: "static route",
    wrapper: "route",
    search: "routes/routes/searchroute",
    get: "routes/routes/getroute",
    add: "routes/routes/addroute",
    set: "routes/routes/setroute",
    del: "routes/routes/delroute",
    toggle: "routes/routes/toggleroute",
    toggle_inverted: false,
};

/// `POST routes/routes/reconfigure` without a body.
pub fn reconfigure_request() -> Request {
    Request::post("routes/routes/reconfigure")
}

/// Handler for static routes.
#[derive(Debug, Clone, Copy)]
pub struct RoutesHandler<'c> {
    client: &'c Client,
}

impl<'c> RoutesHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `POST routes/routes/searchroute`.
    pub async fn search(&self, q: &SearchQuery) -> Result<SearchPage<Route>> {
        self.client.search_resource(&ROUTE, q, Map::new()).await
    }

    /// `GET routes/routes/getroute/{uuid}`.
    pub async fn get(&self, id: &Uuid) -> Result<Route> {
        self.client.get_resource(&ROUTE, id).await
    }

    /// `POST routes/routes/addroute` (staged). The on/off flag is sent as the firmware expects
    /// it (`enabled` on 26.1.10+, `disabled` before; see [`Route::for_firmware`]).
    pub async fn add(&self, route: &Route) -> Result<Saved> {
        let route = route.for_firmware(self.client.firmware_version().await);
        self.client.add_resource(&ROUTE, &route).await
    }

    /// `POST routes/routes/setroute/{uuid}` (staged; only the fields set change; unknown uuid = not
    /// found, checked with a get first). The on/off flag is adapted as for [`Self::add`].
    pub async fn set(&self, id: &Uuid, route: &Route) -> Result<()> {
        let route = route.for_firmware(self.client.firmware_version().await);
        self.client.set_resource(&ROUTE, id, &route).await
    }

    /// `POST routes/routes/delroute/{uuid}` (staged).
    pub async fn delete(&self, id: &Uuid) -> Result<()> {
        self.client.delete_resource(&ROUTE, id).await
    }

    /// `POST routes/routes/toggleroute/{uuid}[/{0|1}]` (staged; `None` flips). 26.1.9 and older
    /// answer without `changed`.
    pub async fn toggle(&self, id: &Uuid, enabled: Option<bool>) -> Result<Toggled> {
        self.client.toggle_resource(&ROUTE, id, enabled).await
    }

    /// `POST routes/routes/reconfigure`: applies staged route changes. Anything but `ok` (e.g.
    /// `error reloading routes (...)`) is [`crate::Error::ActionFailed`].
    pub async fn reconfigure(&self) -> Result<ActionStatus> {
        self.client
            .action(
                reconfigure_request(),
                "apply static routes",
                "status",
                outcome::status_is_ok,
            )
            .await
    }
}

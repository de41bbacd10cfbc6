//! Static routes: list, add, update, delete, apply.

use std::net::IpAddr;

use crate::params::Parameters;
use opnsense_api::api::routes::ROUTES;
use opnsense_api::models::routes::Route;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::OpnsenseTools;
use crate::common::{
    ListParams, Listing, RequiredFields, Rows, excerpt, is_key, non_empty_line, single_line,
};
use crate::error::ToolError;
use crate::record::{RecordSpec, record_tools};

/// A static route's fields. On update, only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Destination CIDR (`10.20.0.0/16`, `2001:db8::/48`) of the gateway's IP family (IPv4 may
    /// use an IPv6 gateway).
    pub network: Option<String>,
    /// Gateway name from System > Gateways (`WAN_GW`, `WAN_DHCP`, `Null4`), not an address.
    pub gateway: Option<String>,
    /// Purpose, one line, 1 to 255 characters.
    // Sent to OPNsense as `descr`.
    pub description: Option<String>,
    /// Active (default true).
    pub enabled: Option<bool>,
}

impl RequiredFields for RouteSpec {
    const ARGUMENT: &'static str = "route";
    const REQUIRED: &'static [&'static str] = &["network", "gateway"];
}

/// Checks `addr/len` with a prefix length that fits the address family.
fn check_cidr(field: &str, s: &str) -> Result<(), ToolError> {
    let bad = || {
        ToolError::invalid(
            field,
            format!(
                "{:?} is not a network in CIDR form (address/prefix length, e.g. 10.20.0.0/16 or 2001:db8::/48)",
                excerpt(s)
            ),
        )
    };
    let (addr, len) = s.split_once('/').ok_or_else(bad)?;
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    if !(1..=3).contains(&len.len()) || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let len: u8 = len.parse().map_err(|_| bad())?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if len > max {
        return Err(bad());
    }
    Ok(())
}

/// Checks an OPNsense key such as a gateway name: letters, digits, `_`, `-`, `.`.
fn check_key(field: &str, s: &str) -> Result<(), ToolError> {
    if is_key(s) {
        Ok(())
    } else {
        Err(ToolError::invalid(
            field,
            format!(
                "{:?} is not a gateway name (letters, digits, _ - . ; e.g. WAN_GW, Null4)",
                excerpt(s)
            ),
        ))
    }
}

impl RecordSpec for RouteSpec {
    type Model = Route;
    type Row = Route;
    const GRID: &'static opnsense_api::GridSpec<Route> = &ROUTES;
    const APPLY: &'static str = "route_apply";
    const LIST: &'static str = "route_list";

    fn from_model(r: &Route) -> Self {
        Self {
            network: r.network.clone(),
            gateway: r.gateway.clone(),
            description: r.descr.clone(),
            enabled: Some(r.is_enabled()),
        }
    }

    /// Checks the fields and builds the SDK model (only the fields given). The SDK sends the
    /// on/off flag as the firmware expects it (`enabled`, or `disabled` before 26.1.10), and
    /// always sends the route's network on update (OPNsense flaps the route otherwise).
    fn into_model(self) -> Result<Route, ToolError> {
        let network = single_line("route.network", self.network, 64)?;
        if let Some(n) = &network {
            check_cidr("route.network", n)?;
        }
        if let Some(g) = &self.gateway {
            check_key("route.gateway", g)?;
        }
        let descr = non_empty_line("route.description", self.description, 255)?;
        Ok(Route {
            network,
            gateway: self.gateway,
            descr,
            enabled: self.enabled,
            ..Route::default()
        })
    }
}

/// A static route in compact form.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RouteView {
    /// Route id.
    pub uuid: Option<String>,
    /// Destination network (CIDR).
    pub network: Option<String>,
    /// Gateway name.
    pub gateway: Option<String>,
    /// Active (read from `enabled` or, before 26.1.10, `disabled`).
    pub enabled: bool,
    /// Description.
    pub description: Option<String>,
}

impl From<Route> for RouteView {
    fn from(r: Route) -> Self {
        Self {
            enabled: r.is_enabled(),
            uuid: r.uuid,
            network: r.network,
            gateway: r.gateway,
            description: r.descr,
        }
    }
}

#[tool_router(router = routes_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// List static routes, paged.
    #[tool(annotations(title = "List static routes"))]
    async fn route_list(
        &self,
        Parameters(p): Parameters<ListParams>,
    ) -> Result<Json<Listing<RouteView>>, ToolError> {
        self.list_grid(&ROUTES, &p, &Rows::<Route, _>::all(RouteView::from))
            .await
            .map(Json)
    }
}

record_tools! {
    router = route_records_router;

    /// Add a static route. Staged: it takes effect after route_apply.
    #[title = "Add a static route"]
    fn route_add(RouteAddParams {
        /// The new route.
        route: NewRecord<RouteSpec>,
    });

    /// Change fields of a static route (only those given). Staged: it takes effect after
    /// route_apply. An unknown uuid is refused.
    #[title = "Update a static route"]
    fn route_update(RouteUpdateParams {
        /// The route's uuid.
        uuid: String,
        /// The fields to change; the others keep their values.
        route: RouteSpec,
    });

    /// Delete a static route. Staged: it takes effect after route_apply.
    #[title = "Delete a static route"]
    fn route_delete(RouteDeleteParams {
        /// The route's uuid.
        uuid: String,
    });

    /// Apply all staged static route changes to the routing table. A route through the
    /// gateway you reach the firewall by can cut your own access.
    #[title = "Apply static routes"]
    fn route_apply(&ROUTES, "static routes applied");
}

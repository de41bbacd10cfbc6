//! `routes/routes`: static routes, the [`ROUTES`] grid.

use crate::grid::{Apply, GridDesc, GridSpec, Lookup, OnOff};
use crate::models::routes::Route;
use crate::version::Quirk;

/// The static-route grid. Its on/off field is `enabled` from 26.1.10, `disabled` before (and the
/// toggle argument changed meaning with it); a `set` always carries the route's `network`, which
/// OPNsense compares with the stored one (without it, the route is deleted and re-added on the
/// next apply).
pub static ROUTES: GridSpec<Route> = GridSpec::new(GridDesc {
    id: "routes.route",
    kind: "static route",
    wrapper: "route",
    search: "routes/routes/searchroute",
    get: "routes/routes/getroute",
    add: "routes/routes/addroute",
    set: "routes/routes/setroute",
    del: "routes/routes/delroute",
    toggle: Some("routes/routes/toggleroute"),
    on_off: OnOff::EnabledSince(Quirk::RouteEnabledField),
    // "ok", or "error reloading routes (<configd output>)".
    apply: Apply::reconfigure("routes/routes/reconfigure", "apply static routes"),
    lookup: Lookup::Get,
    set_keeps: &["network"],
    secret_fields: &[],
});

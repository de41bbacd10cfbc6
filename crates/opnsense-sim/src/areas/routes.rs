//! `routes/routes`: static routes and `reconfigure`. 26.1.10 renamed the `disabled` field
//! to `enabled` and made `toggleroute` the generic toggle (model 1.0.1, migration M1_0_1).

use std::sync::Arc;

use serde_json::json;

use super::{GATEWAYS, gateway};
use crate::Version;
use crate::crud::{Actions, AreaSpec, ToggleStyle};
use crate::fields::{FieldSpec, Input, Opt, boolean, description, select, text};
use crate::reply::{Reply, Req};
use crate::server::{Route, Shared};
use crate::state::{Collection, Config, Record, SimState};
use crate::validate::{self, Family, Validations};

const NETWORK_MSG: &str = "Specify a valid network matching the gateways ip protocol.";
const GATEWAY_MSG: &str =
    "Specify a valid gateway from the list matching the networks ip protocol.";

/// Gateway options labelled `NAME - IP`.
fn gateway_options(_: &Config) -> Vec<Opt> {
    GATEWAYS
        .iter()
        .map(|g| Opt::new(g.name, format!("{} - {}", g.name, g.address)))
        .collect()
}

/// Route fields in model order (`Route.xml`).
pub(crate) static FIELDS: &[FieldSpec] = &[
    text("network").req().input(Input::TrimLower),
    select("gateway", gateway_options, None)
        .req()
        .msg(GATEWAY_MSG),
    description("descr"),
    boolean("disabled", "0").until(Version::V26_1_9),
    boolean("enabled", "1").since(Version::V26_1),
];

fn validate_route(_: &Config, rec: &Record, _: &Req, v: &mut Validations) {
    let network = rec.get("network");
    let net_family = validate::parse_cidr(network).map(|(ip, _)| Family::of(ip));
    if !network.is_empty() && net_family.is_none() {
        v.add("network", NETWORK_MSG);
    }
    // An IPv4 network via an IPv6 gateway is allowed (RFC 5549), not the reverse.
    if let (Some(Family::V6), Some(gw)) = (net_family, gateway(rec.get("gateway")))
        && gw.family == Family::V4
    {
        v.add("gateway", GATEWAY_MSG);
    }
}

/// 26.1.0-26.1.9: `togglerouteAction($uuid, $disabled = null)`; 26.1.10+: `toggleBase`.
fn toggle_style(version: Version) -> ToggleStyle {
    if version <= Version::V26_1_9 {
        ToggleStyle::Disabled
    } else {
        ToggleStyle::Enabled
    }
}

/// The routes area for the generic engine.
pub(crate) static AREA: AreaSpec = AreaSpec {
    collection: Collection::Routes,
    wrapper: "route",
    fields: FIELDS,
    toggle: toggle_style,
    validate: validate_route,
    // searchBase("route", null, "description"): that column does not exist, so rows
    // keep their config order.
    ..AreaSpec::DEFAULT
};

const ACTIONS: Actions = Actions {
    search: Some("searchroute"),
    get: Some("getroute"),
    add: Some("addroute"),
    set: None,
    del: Some("delroute"),
    toggle: Some("toggleroute"),
};

/// Endpoints of `routes/routes`.
pub(crate) fn route(action: &str) -> Option<Route> {
    AREA.crud(action, &ACTIONS).or_else(|| match action {
        "setroute" => Route::with_params(set_route, 1),
        "reconfigure" => Route::new(reconfigure),
        _ => None,
    })
}

/// `setrouteAction`: compares `$_POST['route']['network']` with the stored network
/// before `setBase` (to remember the old route for deletion on apply). Without that key
/// the comparison reads an undefined array key: a warning, so development firewalls
/// answer 500 and production ones carry on (and flap the route on the next apply).
fn set_route(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let known = req
        .param(0)
        .and_then(|uuid| {
            st.staged[Collection::Routes]
                .iter()
                .find(|r| r.uuid == uuid)
        })
        .is_some_and(|r| !r.get("network").is_empty());
    let missing = match req.body.get("route").filter(|_| req.is_post) {
        None => Some("route"),
        Some(serde_json::Value::Object(route)) if !route.contains_key("network") => Some("network"),
        Some(_) => None,
    };
    if let Some(key) = missing
        && known
        && req.development
    {
        return Reply::unexpected(format!("Undefined array key \"{key}\""));
    }
    AREA.set(st, req)
}

fn reconfigure(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "failed"}));
    }
    st.live[Collection::Routes] = st.staged[Collection::Routes].clone();
    Reply::ok(json!({"status": "ok"}))
}

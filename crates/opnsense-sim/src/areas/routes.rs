//! `routes/routes`: static routes (26.1.10+ `enabled` field) and `reconfigure`.

use std::sync::Arc;

use serde_json::json;

use super::{GATEWAYS, gateway};
use crate::crud::{AreaSpec, ToggleStyle, hooks};
use crate::fields::{FieldSpec, Opt, boolean, description, select, text};
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

/// Route fields in model order.
pub(crate) static FIELDS: &[FieldSpec] = &[
    text("network").req(),
    select("gateway", gateway_options, None)
        .req()
        .msg(GATEWAY_MSG),
    description("descr"),
    boolean("enabled", "1"),
];

fn validate_route(_: &Config, rec: &Record, v: &mut Validations) {
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

/// The routes area for the generic engine.
pub(crate) static AREA: AreaSpec = AreaSpec {
    collection: Collection::Routes,
    wrapper: "route",
    fields: FIELDS,
    toggle: ToggleStyle::Enabled,
    // "description" does not exist: effectively insertion order.
    default_sort: "",
    transform: hooks::keep,
    prepare_new: hooks::no_prepare,
    before_save: hooks::no_before_save,
    validate: validate_route,
    extra_row: hooks::no_extra,
    check_delete: hooks::may_delete,
    after_set: hooks::no_after_set,
};

/// Endpoints of `routes/routes`.
pub(crate) fn route(action: &str) -> Option<Route> {
    match action {
        "searchroute" => Route::new(|_, st, req| AREA.search(st, req)),
        "getroute" => Route::new(|_, st, req| AREA.get(st, req)),
        "addroute" => Route::new(|_, st, req| AREA.add(st, req)),
        "setroute" => Route::with_params(|_, st, req| AREA.set(st, req), 1),
        "delroute" => Route::with_params(|_, st, req| AREA.del(st, req), 1),
        "toggleroute" => Route::with_params(|_, st, req| AREA.toggle(st, req), 1),
        "reconfigure" => Route::new(reconfigure),
        _ => None,
    }
}

fn reconfigure(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "failed"}));
    }
    st.live.routes = st.staged.routes.clone();
    Reply::ok(json!({"status": "ok"}))
}

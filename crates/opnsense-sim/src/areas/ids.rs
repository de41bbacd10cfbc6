//! `ids/settings/listRulesets`: installable Suricata rulesets.

use std::sync::Arc;

use serde_json::Value;

use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::{Route, Shared};
use crate::state::SimState;

/// Endpoints of `ids/settings`.
pub(crate) fn route(action: &str) -> Option<Route> {
    match action {
        "listrulesets" => Route::new(list_rulesets),
        _ => None,
    }
}

/// GET: everything (page 1, 9999 rows); POST: body paging/search/sort.
fn list_rulesets(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let params = SearchParams::recordset(req);
    let rows = st
        .rulesets
        .iter()
        .filter_map(Value::as_object)
        .cloned()
        .collect();
    Reply::ok(search::recordset(rows, &params, "description"))
}

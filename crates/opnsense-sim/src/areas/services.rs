//! `{module}/service/*`: status/start/stop/restart/reconfigure of the core services;
//! `unbound`, `kea` and `dnsmasq` reconfigure apply their staged records.

use std::sync::Arc;

use serde_json::json;

use crate::reply::{Reply, Req};
use crate::server::{Route, Shared};
use crate::state::{Collection, ServiceState, SimState};

/// Modules with the generic service controller, and their seeded state
/// (enabled, running).
pub(crate) const MODULES: &[(&str, bool, bool)] = &[
    ("captiveportal", false, false),
    ("dnsmasq", false, false),
    ("hostdiscovery", true, true),
    ("ids", true, true),
    ("ipsec", false, false),
    ("kea", true, true),
    ("monit", true, false),
    ("radvd", true, true),
    ("syslog", true, true),
    ("unbound", true, true),
    ("wireguard", true, true),
];

/// Endpoints of `<module>/service`.
pub(crate) fn route(module: &str, action: &str) -> Option<Route> {
    if !MODULES.iter().any(|(m, _, _)| *m == module) {
        return None;
    }
    match action {
        "status" => Route::new(status),
        "start" => Route::new(|s, st, req| control(s, st, req, Some(true))),
        "stop" => Route::new(|s, st, req| control(s, st, req, Some(false))),
        "restart" => Route::new(|s, st, req| control(s, st, req, None)),
        "reconfigure" => Route::new(reconfigure),
        _ => None,
    }
}

/// The module is the first path segment after `/api/`.
fn module_of(req: &Req) -> &str {
    req.module.as_str()
}

fn status(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let state = st
        .services
        .get(module_of(req))
        .copied()
        .unwrap_or(ServiceState {
            enabled: false,
            running: false,
        });
    let word = match (state.running, state.enabled) {
        (true, _) => "running",
        (false, true) => "stopped",
        (false, false) => "disabled",
    };
    Reply::ok(json!({"status": word, "widget": {
        "caption_restart": "Restart", "caption_start": "Start", "caption_stop": "Stop"
    }}))
}

/// start (`Some(true)`), stop (`Some(false)`), restart (`None`):
/// `{"response": trim(configdRun("<svc> <action>"))}` (`ApiMutableServiceControllerBase`).
/// configd answers `OK`, `Error (<exit status>)` when the rc script fails, or
/// `Action not allowed or missing` (see [`crate::ServiceFailure`]).
fn control(_: &Arc<Shared>, st: &mut SimState, req: &Req, run: Option<bool>) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"response": []}));
    }
    let module = module_of(req);
    if let Some(failure) = st.service_failures.get(module) {
        return Reply::ok(json!({"response": failure.configd_output()}));
    }
    if let Some(s) = st.services.get_mut(module) {
        s.running = run.unwrap_or(true);
    }
    Reply::ok(json!({"response": "OK"}))
}

fn reconfigure(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let module = module_of(req);
    if !req.is_post {
        return if module == "wireguard" {
            Reply::ok(json!({"result": "failed"}))
        } else {
            Reply::ok(json!({"status": "failed"}))
        };
    }
    let applied: &[Collection] = match module {
        "unbound" => &[Collection::HostOverrides, Collection::Forwards],
        "kea" => &[Collection::Reservations, Collection::Subnets],
        "dnsmasq" => &[Collection::DnsmasqHosts],
        _ => &[],
    };
    for c in applied {
        st.live[*c] = st.staged[*c].clone();
    }
    // reconfigure ignores the output of the `start` it runs: a failing rc script still
    // answers "ok", but the service does not come up.
    let failing = st.service_failures.contains_key(module);
    if let Some(s) = st.services.get_mut(module)
        && s.enabled
        && !failing
    {
        s.running = true;
    }
    match module {
        "wireguard" => Reply::ok(json!({"result": "ok"})),
        "ids" => Reply::ok(json!({"status": "OK"})),
        _ => Reply::ok(json!({"status": "ok"})),
    }
}

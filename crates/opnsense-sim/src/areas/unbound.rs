//! `unbound/settings`: host overrides (A/AAAA/MX/TXT) and the model `get`.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::crud::{AreaSpec, ToggleStyle, hooks};
use crate::fields::{
    self, FieldSpec, Opt, boolean, description, int, opts, rendered, select, text,
};
use crate::reply::{Reply, Req};
use crate::server::{Route, Shared};
use crate::state::{Collection, Config, Record, SimState};
use crate::validate::{self, Family, Validations};

fn rr_options(_: &Config) -> Vec<Opt> {
    opts(&[
        ("A", "A (IPv4 address)"),
        ("AAAA", "AAAA (IPv6 address)"),
        ("MX", "MX (mail server)"),
        ("TXT", "TXT (text)"),
    ])
}

/// The alias reflector renders as an (empty) map: no host aliases are simulated.
fn render_aliases(_: &Config, _: &Record) -> Value {
    Value::Object(Map::new())
}

/// Host override fields in model order (26.1.6+: `addptr`, `aliases`).
pub(crate) static FIELDS: &[FieldSpec] = &[
    boolean("enabled", "1"),
    text("hostname"),
    text("domain").req(),
    select("rr", rr_options, None).req().def("A"),
    int("mxprio", 0, 65_535),
    text("mx"),
    int("ttl", 0, 2_147_483_647),
    text("server"),
    text("txtdata"),
    boolean("addptr", "1"),
    rendered("aliases", render_aliases),
    description("description"),
];

fn validate_host(_: &Config, rec: &Record, v: &mut Validations) {
    let hostname = rec.get("hostname");
    if !hostname.is_empty() && hostname != "*" && !validate::is_label(hostname) {
        v.add("hostname", "A valid hostname must be specified.");
    }
    let domain = rec.get("domain");
    if !domain.is_empty() && !validate::is_domain(domain) {
        v.add("domain", "A valid domain must be specified.");
    }
    match rec.get("rr") {
        rr @ ("A" | "AAAA") => {
            let server = rec.get("server");
            let want = if rr == "A" { Family::V4 } else { Family::V6 };
            if server.is_empty() {
                v.add("server", "The field IP address is required.");
            } else if validate::parse_ip(server).map(Family::of) != Some(want) {
                v.add(
                    "server",
                    "Please specify a valid network segment or IP address.",
                );
            }
        }
        "MX" => {
            if rec.get("mxprio").is_empty() {
                v.add("mxprio", "The field MX Priority is required.");
            }
            let mx = rec.get("mx");
            if mx.is_empty() {
                v.add("mx", "The field MX Host is required.");
            } else if !validate::is_domain(mx) {
                v.add(
                    "mx",
                    format!("[{mx}] is not a valid IP address or hostname."),
                );
            }
        }
        "TXT" => {
            let txt = rec.get("txtdata");
            if txt.is_empty() {
                v.add("txtdata", "The field TXT Data is required.");
            } else if !validate::is_description(txt) {
                v.add("txtdata", validate::DESCRIPTION);
            }
        }
        _ => {}
    }
}

fn extra_row(_: &Config, _: &Record, row: &mut Map<String, Value>) {
    row.insert("isAlias".into(), Value::Bool(false));
}

/// The host-override area for the generic engine.
pub(crate) static AREA: AreaSpec = AreaSpec {
    collection: Collection::HostOverrides,
    wrapper: "host",
    fields: FIELDS,
    toggle: ToggleStyle::Enabled,
    default_sort: "hostname",
    transform: hooks::keep,
    prepare_new: hooks::no_prepare,
    before_save: hooks::no_before_save,
    validate: validate_host,
    extra_row,
    check_delete: hooks::may_delete,
    after_set: hooks::no_after_set,
};

/// Endpoints of `unbound/settings`.
pub(crate) fn route(action: &str) -> Option<Route> {
    match action {
        "get" => Route::new(get_model),
        "searchhostoverride" => Route::new(|_, st, req| AREA.search(st, req)),
        "gethostoverride" => Route::new(|_, st, req| AREA.get(st, req)),
        "addhostoverride" => Route::new(|_, st, req| AREA.add(st, req)),
        "sethostoverride" => Route::with_params(|_, st, req| AREA.set(st, req), 1),
        "delhostoverride" => Route::with_params(|_, st, req| AREA.del(st, req), 1),
        "togglehostoverride" => Route::with_params(|_, st, req| AREA.toggle(st, req), 1),
        _ => None,
    }
}

/// `settings/get`: whole model for GET, `[]` otherwise.
fn get_model(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_get {
        return Reply::empty_list();
    }
    let mut hosts = Map::new();
    for h in &st.staged.host_overrides {
        hosts.insert(h.uuid.clone(), fields::render_get(FIELDS, &st.staged, h));
    }
    Reply::ok(json!({"unbound": {
        "general": {
            "enabled": "1", "port": "53", "stats": "0", "active_interface": {}, "dnssec": "1",
            "dns64": "0", "noarecords": "0", "regdhcp": "0", "regdhcpdomain": "", "regdhcpstatic": "0",
            "noreglladdr6": "0", "noregrecords": "0", "txtsupport": "0", "cacheflush": "0",
            "local_zone_type": {"transparent": {"value": "transparent", "selected": 1}},
            "outgoing_interface": {}, "enable_wpad": "0"
        },
        "advanced": {"hideidentity": "0", "hideversion": "0", "prefetch": "0", "prefetchkey": "0",
            "dnssecstripped": "1", "serveexpired": "0", "qnameminstrict": "0", "extendedstatistics": "0",
            "logqueries": "0", "logreplies": "0", "loglocalactions": "0", "logverbosity": {"1": {"value": "Level 1 (Default)", "selected": 1}}},
        "acls": {"default_action": {"allow": {"value": "Allow", "selected": 1}, "deny": {"value": "Deny", "selected": 0}, "refuse": {"value": "Refuse", "selected": 0}}, "acl": {}},
        "dnsbl": {"enabled": "0", "safesearch": "0", "type": {}, "lists": "", "whitelists": "", "blocklists": "", "wildcards": "", "address": "", "nxdomain": "0"},
        "forwarding": {"enabled": "0"},
        "dots": {"dot": {}},
        "hosts": {"host": hosts},
        "aliases": {"alias": {}}
    }}))
}

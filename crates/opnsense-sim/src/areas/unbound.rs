//! `unbound/settings`: host overrides (A/AAAA/MX/TXT), query forwards and DNS-over-TLS servers
//! (`dots.dot`), and the model `get`.
//!
//! Forwards (opnsense/core 26.1.10 and 26.7.2, identical): `SettingsController.php` lines
//! 126-183 (`searchForward` lists only `type == forward`; `addForward`/`setForward` overlay
//! `type` = `forward` after the posted fields; `getForward`, `delForward` and `toggleForward`
//! take any `dots.dot` item; `__call` serves the `*Dot*` spellings with `type` = `dot`), and
//! `Unbound.xml` `<dots>` (lines 279-313 at 26.1.11).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::Version;
use crate::crud::{Actions, AreaSpec};
use crate::fields::{
    self, FieldSpec, Input, Opt, boolean, description, int, masked, opts, rendered, select, text,
};
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::{Route, Shared};
use crate::state::{Collection, Config, Record, SimState};
use crate::validate::{self, Hostname, Validations};

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
    text("hostname").input(Input::Trim),
    masked("domain", validate::is_mask_domain)
        .req()
        .msg("A valid domain must be specified."),
    select("rr", rr_options, None).req().def("A"),
    int("mxprio", i64::MIN, i64::MAX),
    text("mx").input(Input::Trim),
    int("ttl", 0, 2_147_483_647),
    text("server").input(Input::TrimLower),
    description("txtdata"),
    boolean("addptr", "1"),
    rendered("aliases", render_aliases),
    description("description"),
];

/// `hostname`: HostnameField with `HostWildcardAllowed`, `IsDNSName`, `IpAllowed=N`.
const HOSTNAME: Hostname = Hostname {
    ip_allowed: false,
    host_wildcard: true,
    dns_name: true,
};

/// `mx`: a HostnameField with the defaults (IP addresses allowed, strict hostname labels).
const MX: Hostname = Hostname::DEFAULTS;

/// Unbound.xml field validators, the `SetIfConstraint`s on `rr` and `Unbound.php`.
fn validate_host(_: &Config, rec: &Record, req: &Req, v: &mut Validations) {
    let hostname = rec.get("hostname");
    // Unbound.php also refuses a trailing dot (which FILTER_VALIDATE_DOMAIN allows).
    if !hostname.is_empty() && (!HOSTNAME.accepts(hostname) || hostname.ends_with('.')) {
        v.add("hostname", "A valid hostname must be specified.");
    }
    let rr = rec.get("rr");
    let mxprio = rec.get("mxprio");
    if rr == "MX" && validate::php_empty(mxprio) {
        v.add("mxprio", "The field MX Priority is required.");
    }
    let mx = rec.get("mx");
    MX.check(v, "mx", mx);
    if rr == "MX" && validate::php_empty(mx) {
        v.add("mx", "The field MX Host is required.");
    }
    // NetworkField: any family, `any` accepted (WildcardEnabled), a netmask allowed up to
    // 26.1 and refused from 26.7 on (`<NetMaskAllowed>N</NetMaskAllowed>`).
    let server = rec.get("server");
    let mask_allowed = req.version < Version::V26_7;
    if !server.is_empty()
        && server != "any"
        && !validate::is_network_value(server, mask_allowed, false)
    {
        v.add("server", validate::NETWORK);
    }
    if matches!(rr, "A" | "AAAA") && validate::php_empty(server) {
        v.add("server", "The field IP address is required.");
    }
    if rr == "TXT" && validate::php_empty(rec.get("txtdata")) {
        v.add("txtdata", "The field TXT Data is required.");
    }
}

fn extra_row(_: &Config, _: &Record, _: Version, row: &mut Map<String, Value>) {
    row.insert("isAlias".into(), Value::Bool(false));
}

/// The host-override area for the generic engine.
pub(crate) static AREA: AreaSpec = AreaSpec {
    collection: Collection::HostOverrides,
    wrapper: "host",
    fields: FIELDS,
    default_sort: "hostname",
    validate: validate_host,
    extra_row,
    ..AreaSpec::DEFAULT
};

const ACTIONS: Actions = Actions {
    search: Some("searchhostoverride"),
    get: Some("gethostoverride"),
    add: Some("addhostoverride"),
    set: Some("sethostoverride"),
    del: Some("delhostoverride"),
    toggle: Some("togglehostoverride"),
};

fn dot_type_options(_: &Config) -> Vec<Opt> {
    opts(&[("dot", "DNS over TLS"), ("forward", "Forward")])
}

/// `dots.dot` fields in model order (the same at every simulated release).
pub(crate) static DOT_FIELDS: &[FieldSpec] = &[
    boolean("enabled", "1"),
    select("type", dot_type_options, None).req().def("dot"),
    text("domain").input(Input::Trim),
    text("server").req().input(Input::TrimLower),
    text("port"),
    text("verify").input(Input::Trim),
    boolean("forward_tcp_upstream", "0"),
    boolean("forward_first", "0"),
    description("description"),
];

/// `domain`: HostnameField with `IsDNSName`, `IpAllowed=N`.
const DOT_DOMAIN: Hostname = Hostname {
    ip_allowed: false,
    dns_name: true,
    ..Hostname::DEFAULTS
};

/// `verify`: a HostnameField with the defaults.
const DOT_VERIFY: Hostname = Hostname::DEFAULTS;

/// The field types of `dots.dot` (Unbound.php adds nothing for them).
fn validate_dot(_: &Config, rec: &Record, _: &Req, v: &mut Validations) {
    let domain = rec.get("domain");
    if !domain.is_empty() && !DOT_DOMAIN.accepts(domain) {
        v.add("domain", "A valid domain must be specified.");
    }
    // NetworkField defaults: any family, a netmask allowed, `any` accepted.
    let server = rec.get("server");
    if !server.is_empty() && server != "any" && !validate::is_network_value(server, true, false) {
        v.add("server", validate::NETWORK);
    }
    // PortField without well-known names or ranges: 1 to 65535 only.
    let port = rec.get("port");
    if !port.is_empty() && !validate::is_port_number(port) {
        v.add("port", "Please specify a valid port number (1-65535).");
    }
    DOT_VERIFY.check(v, "verify", rec.get("verify"));
}

/// The `dots.dot` area (query forwards and DNS-over-TLS servers) for the generic engine.
pub(crate) static DOTS: AreaSpec = AreaSpec {
    collection: Collection::Forwards,
    wrapper: "dot",
    fields: DOT_FIELDS,
    default_sort: "",
    validate: validate_dot,
    ..AreaSpec::DEFAULT
};

const DOT_ACTIONS: Actions = Actions {
    search: None,
    get: Some("getforward"),
    add: None,
    set: None,
    del: Some("delforward"),
    toggle: Some("toggleforward"),
};

/// The `*Dot*` spellings `__call` maps onto the forward actions with `type` = `dot`.
const DOT_ALIASES: Actions = Actions {
    search: None,
    get: Some("getdot"),
    add: None,
    set: None,
    del: Some("deldot"),
    toggle: Some("toggledot"),
};

/// Endpoints of `unbound/settings`.
pub(crate) fn route(action: &str) -> Option<Route> {
    AREA.crud(action, &ACTIONS)
        .or_else(|| DOTS.crud(action, &DOT_ACTIONS))
        .or_else(|| DOTS.crud(action, &DOT_ALIASES))
        .or_else(|| match action {
            "get" => Route::new(get_model),
            "searchforward" => Route::new(|_, st, req| search_dots(st, req, "forward")),
            "searchdot" => Route::new(|_, st, req| search_dots(st, req, "dot")),
            "addforward" => Route::new(|_, st, req| write_dot(st, req, "forward", false)),
            "adddot" => Route::new(|_, st, req| write_dot(st, req, "dot", false)),
            "setforward" => Route::with_params(|_, st, req| write_dot(st, req, "forward", true), 1),
            "setdot" => Route::with_params(|_, st, req| write_dot(st, req, "dot", true), 1),
            _ => None,
        })
}

/// `searchForwardAction()`: `searchBase('dots.dot', null, null, type == <kind>)`.
fn search_dots(st: &mut SimState, req: &Req, kind: &str) -> Reply {
    let params = SearchParams::grid(req);
    let records = st.staged[Collection::Forwards]
        .iter()
        .filter(|r| r.get("type") == kind);
    let rows = DOTS.rows_of(&st.staged, req.version, records);
    let fields = DOTS.search_fields(req.version);
    Reply::ok(search::grid(rows, &params, "", &fields))
}

/// `addBase`/`setBase('dot', 'dots.dot', ..., ["type" => <kind>])`: the overlay is set after
/// the posted fields, so whatever `type` was posted, the record is of `kind`.
fn write_dot(st: &mut SimState, req: &Req, kind: &str, set: bool) -> Reply {
    let mut req = req.clone();
    match req.body.get_mut("dot") {
        None | Some(Value::Null) => {}
        Some(Value::Object(obj)) => {
            obj.insert("type".into(), Value::String(kind.to_owned()));
        }
        Some(other) => *other = json!({ "type": kind }),
    }
    if set {
        DOTS.set(st, &req)
    } else {
        DOTS.add(st, &req)
    }
}

/// `settings/get`: whole model for GET, `[]` otherwise.
fn get_model(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_get {
        return Reply::empty_list();
    }
    let mut hosts = Map::new();
    let specs = AREA.specs(req.version);
    for h in &st.staged[Collection::HostOverrides] {
        hosts.insert(h.uuid.clone(), fields::render_get(&specs, &st.staged, h));
    }
    let mut dots = Map::new();
    let dot_specs = DOTS.specs(req.version);
    for d in &st.staged[Collection::Forwards] {
        dots.insert(
            d.uuid.clone(),
            fields::render_get(&dot_specs, &st.staged, d),
        );
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
        "dots": {"dot": dots},
        "hosts": {"host": hosts},
        "aliases": {"alias": {}}
    }}))
}

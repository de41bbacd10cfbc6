//! `unbound/settings`: host overrides (A/AAAA/MX/TXT) and the model `get`.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::Version;
use crate::crud::{Actions, AreaSpec};
use crate::fields::{
    self, FieldSpec, Input, Opt, boolean, description, int, masked, opts, rendered, select, text,
};
use crate::reply::{Reply, Req};
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
const MX: Hostname = Hostname {
    ip_allowed: true,
    host_wildcard: false,
    dns_name: false,
};

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
    if !mx.is_empty() && !MX.accepts(mx) {
        v.add(
            "mx",
            format!("[{mx}] is not a valid IP address or hostname."),
        );
    }
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

/// Endpoints of `unbound/settings`.
pub(crate) fn route(action: &str) -> Option<Route> {
    AREA.crud(action, &ACTIONS).or_else(|| match action {
        "get" => Route::new(get_model),
        _ => None,
    })
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

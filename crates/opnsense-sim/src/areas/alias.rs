//! `firewall/alias`: aliases (host, network, port, networkgroup ...), built-in aliases,
//! in-use protection, rename propagation and `reconfigure`.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{builtin_aliases, category_uuid_options, interface_options, names};
use crate::Version;
use crate::crud::{Actions, AreaSpec};
use crate::fields::{
    self, FieldSpec, Opt, boolean, description, int, multi, opt_boolean, opts, rendered, select,
    text, volatile,
};
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::{Route, Shared};
use crate::state::{Collection, Config, Record, SimState, split_list};
use crate::validate::{self, Validations};

fn type_options(_: &Config) -> Vec<Opt> {
    opts(&[
        ("host", "Host(s)"),
        ("network", "Network(s)"),
        ("port", "Port(s)"),
        ("url", "URL (IPs)"),
        ("urltable", "URL Table (IPs)"),
        ("urljson", "URL Table in JSON format (IPs)"),
        ("geoip", "GeoIP"),
        ("networkgroup", "Network group"),
        ("mac", "MAC address"),
        ("asn", "BGP ASN"),
        ("dynipv6host", "Dynamic IPv6 Host"),
        ("authgroup", "OpenVPN group"),
        ("internal", "Internal (automatic)"),
        ("external", "External (advanced)"),
    ])
}

fn proto_options(_: &Config) -> Vec<Opt> {
    opts(&[("IPv4", "IPv4"), ("IPv6", "IPv6")])
}

fn authtype_options(_: &Config) -> Vec<Opt> {
    opts(&[
        ("Basic", "Basic"),
        ("Bearer", "Bearer"),
        ("Header", "Header"),
    ])
}

/// `content` as `AliasContentField::getNodeData()` renders it: one selected entry per
/// line (`""` for an empty content).
fn render_content(_: &Config, rec: &Record) -> Value {
    let mut map = Map::new();
    for entry in rec.get("content").split('\n') {
        map.insert(entry.to_owned(), json!({"value": entry, "selected": 1}));
    }
    Value::Object(map)
}

/// `getItemAction()` after `getBase()`: every alias name (`aliasIterator()`: user aliases,
/// then the built-in ones) is added unselected unless already an entry, and every alias
/// name gets its description.
fn add_alias_names(cfg: &Config, content: &mut Map<String, Value>) {
    let names = cfg[Collection::Aliases]
        .iter()
        .map(|a| (a.get("name").to_owned(), a.get("description").to_owned()))
        .chain(builtin_aliases().into_iter().map(|(n, _, d)| (n, d)));
    for (name, descr) in names {
        let entry = content
            .entry(name.clone())
            .or_insert_with(|| json!({"selected": 0, "value": name}));
        if let Value::Object(obj) = entry {
            obj.insert("description".into(), Value::String(descr));
        }
    }
}

/// Alias fields in model order.
pub(crate) static FIELDS: &[FieldSpec] = &[
    boolean("enabled", "1"),
    text("name").req(),
    select("type", type_options, None).req().def("alert"),
    text("path_expression"),
    multi("proto", proto_options),
    select("interface", interface_options, Some("None")),
    opt_boolean("counters"),
    text("updatefreq"),
    rendered("content", render_content),
    text("password"),
    text("username"),
    select("authtype", authtype_options, Some("None")),
    int("expire", 60, 999_999_999),
    multi("categories", category_uuid_options).msg("Related category not found."),
    volatile("current_items"),
    volatile("last_updated"),
    volatile("eval_nomatch"),
    volatile("eval_match"),
    volatile("in_block_p"),
    volatile("in_block_b"),
    volatile("in_pass_p"),
    volatile("in_pass_b"),
    volatile("out_block_p"),
    volatile("out_block_b"),
    volatile("out_pass_p"),
    volatile("out_pass_b"),
    description("description"),
];

/// AliasNameField regex `^([a-zA-Z]|(([_a-zA-Z][a-zA-Z0-9]|[a-zA-Z][_a-zA-Z0-9])[_a-zA-Z0-9]{0,29}))$`
/// (`preg_match`, so `$` also matches before a final newline).
fn valid_name(name: &str) -> bool {
    let b = name.strip_suffix('\n').unwrap_or(name).as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    match b.len() {
        1 => b[0].is_ascii_alphabetic(),
        2..=31 => {
            let head = (b[0] == b'_' || b[0].is_ascii_alphabetic()) && b[1].is_ascii_alphanumeric()
                || b[0].is_ascii_alphabetic() && word(b[1]);
            head && b[2..].iter().all(|c| word(*c))
        }
        _ => false,
    }
}

/// `Util::getservbyname()` / `getprotobyname()` (both case-sensitive).
fn is_service_or_protocol(name: &str) -> bool {
    names::SERVICE_NAMES.contains(&name) || names::PROTOCOL_NAMES.contains(&name)
}

/// `Util::isAlias()`: any alias (user-defined or built-in) with this name.
fn alias_exists(cfg: &Config, name: &str) -> bool {
    cfg.alias_by_name(name).is_some() || builtin_aliases().iter().any(|(n, _, _)| n == name)
}

/// `Util::isDomain()`: labels of letters (any script), digits and inner dashes; not
/// dotted-decimal-looking (first and last label all digits).
fn is_util_domain(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    let digits = |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit());
    if digits(labels[0]) && labels.last().is_some_and(|l| digits(l)) {
        return false;
    }
    labels.iter().all(|l| {
        let c: Vec<char> = l.chars().collect();
        let ok = |ch: &char| ch.is_alphanumeric();
        !c.is_empty() && c.iter().all(|ch| ok(ch) || *ch == '-') && ok(&c[0]) && ok(&c[c.len() - 1])
    })
}

fn is_ip(s: &str) -> bool {
    validate::parse_ip(s).is_some()
}

/// `Util::isSubnet()`: `address/bits` with bits within the family's range.
fn is_subnet(s: &str) -> bool {
    validate::parse_cidr(s).is_some()
}

/// `Util::isWildcard()`: `address/mask-address` of one family.
fn is_wildcard(s: &str) -> bool {
    s.split_once('/').is_some_and(|(a, m)| {
        matches!((validate::parse_ip(a), validate::parse_ip(m)), (Some(x), Some(y)) if x.is_ipv4() == y.is_ipv4())
    })
}

/// `AliasContentField::validateHost()`.
fn valid_host_entry(cfg: &Config, e: &str) -> bool {
    let range: Vec<&str> = e.split('-').collect();
    if range.len() == 2 && is_ip(range[0]) {
        return is_ip(range[1]);
    }
    if e.strip_prefix('!').is_some_and(is_ip) {
        return true;
    }
    alias_exists(cfg, e) || is_ip(e) || is_util_domain(e)
}

/// `AliasContentField::validateNetwork()`.
fn valid_network_entry(cfg: &Config, e: &str) -> bool {
    let parts: Vec<&str> = e.split('-').collect();
    let ips = parts.iter().filter(|p| is_ip(p)).count();
    let others = parts
        .iter()
        .filter(|p| !is_ip(p) && !p.trim().is_empty())
        .count();
    if let Some(rest) = e.strip_prefix('!')
        && (is_ip(rest) || is_subnet(rest) || is_wildcard(rest))
    {
        return true;
    }
    alias_exists(cfg, e) || is_ip(e) || is_subnet(e) || is_wildcard(e) || (ips == 2 && others == 0)
}

/// `AliasContentField::validatePort()`: an alias, or `Util::isPort($port, true)` (one or
/// two `:`-separated parts, each a port number or a service name).
fn valid_port_entry(cfg: &Config, e: &str) -> bool {
    let parts: Vec<&str> = e.split(':').collect();
    alias_exists(cfg, e)
        || (parts.len() <= 2
            && parts
                .iter()
                .all(|p| validate::is_port_number(p) || names::SERVICE_NAMES.contains(p)))
}

fn validate_alias(cfg: &Config, rec: &Record, _: &Req, v: &mut Validations) {
    let name = rec.get("name");
    if !name.is_empty() {
        // AliasNameField reports every failing check, in this order.
        if !valid_name(name) {
            v.add(
                "name",
                "The name must start with a letter or single underscore, be less than 32 characters and only consist of alphanumeric characters or underscores.",
            );
        }
        if names::RESERVED_WORDS.contains(&name) {
            // The message is not passed through sprintf(): the `%s` is literal.
            v.add(
                "name",
                "The name cannot be the internally reserved keyword \"%s\".",
            );
        }
        if is_service_or_protocol(name) {
            v.add("name", "Reserved protocol or service names may not be used");
        }
        let duplicate = cfg[Collection::Aliases]
            .iter()
            .any(|a| a.uuid != rec.uuid && a.get("name") == name)
            || builtin_aliases().iter().any(|(n, _, _)| n == name);
        if duplicate {
            v.add("name", "An alias with this name already exists.");
        }
    }
    let kind = rec.get("type");
    for entry in rec.get("content").split('\n') {
        if rec.get("content").is_empty() {
            break;
        }
        let bad = match kind {
            "host" => (!valid_host_entry(cfg, entry))
                .then_some("is not a valid hostname, IP address or range."),
            "network" => (!valid_network_entry(cfg, entry)).then_some("is not a network."),
            "port" => (!valid_port_entry(cfg, entry)).then_some("is not a valid port number."),
            "networkgroup" => (!alias_exists(cfg, entry)).then_some("is not a valid alias."),
            "mac" => {
                let parts: Vec<&str> = entry.split(':').collect();
                (!(parts.len() >= 2
                    && parts.len() <= 6
                    && parts.iter().all(|p| validate::is_hex_pair(p))))
                .then_some("is not a valid (partial) MAC address.")
            }
            "geoip" => (!(entry.len() == 2 && entry.bytes().all(|c| c.is_ascii_uppercase())))
                .then_some("is not a valid country code."),
            "asn" => (!entry
                .parse::<u64>()
                .is_ok_and(|n| (1..=4_294_967_296).contains(&n)))
            .then_some("is not a valid ASN."),
            "dynipv6host" => (!is_ip(&format!("0000{entry}")))
                .then_some("is not a valid partial ipv6 address definition (e.g. ::1000)."),
            _ => None,
        };
        if let Some(msg) = bad {
            v.add("content", format!("Entry \"{entry}\" {msg}"));
        }
    }
    if kind == "dynipv6host" && rec.get("interface").is_empty() {
        v.add(
            "interface",
            "IPv6 Dynamic Host require an interface to track.",
        );
    }
}

/// The port forward fields that may name an alias (`getAliasSource()`, in its order).
const PORT_FORWARD_FIELDS: [&str; 6] = [
    "source.network",
    "source.port",
    "destination.network",
    "destination.port",
    "target",
    "local-port",
];

/// The filter rule fields that may name an alias (`getAliasSource()`, in its order).
const FILTER_RULE_FIELDS: [&str; 4] = [
    "source_net",
    "source_port",
    "destination_net",
    "destination_port",
];

/// `Alias::whereUsed()`: `[reference] description` lines, in the order of
/// `getAliasSource()` (config sections field by field: port forwards before filter rules),
/// then the nesting aliases. Legacy references print the node's `descr`, which MVC filter
/// rules do not have (so their text is empty); nesting aliases print their description
/// (or name) under their model reference.
fn references(cfg: &Config, name: &str) -> Vec<String> {
    let mut refs = Vec::new();
    let mentions = |value: &str| value.split(',').any(|i| i == name);
    for field in PORT_FORWARD_FIELDS {
        for (idx, r) in cfg[Collection::PortForwards].iter().enumerate() {
            if mentions(r.get(field)) {
                refs.push(format!("[nat.rule.{idx}/{field}] {}", r.get("descr")));
            }
        }
    }
    for field in FILTER_RULE_FIELDS {
        for (idx, r) in cfg[Collection::FilterRules].iter().enumerate() {
            if mentions(r.get(field)) {
                refs.push(format!(
                    "[OPNsense.Firewall.Filter.rules.rule.{idx}/{field}] "
                ));
            }
        }
    }
    for a in &cfg[Collection::Aliases] {
        if !matches!(a.get("type"), "geoip" | "urltable")
            && a.get("content").split('\n').any(|e| e == name)
        {
            let shown = if a.get("description").is_empty() {
                a.get("name")
            } else {
                a.get("description")
            };
            refs.push(format!("[aliases.alias.{}] {shown}", a.uuid));
        }
    }
    refs
}

fn check_delete(cfg: &Config, rec: &Record) -> Result<(), Reply> {
    let name = rec.get("name");
    let refs = references(cfg, name);
    if refs.is_empty() {
        return Ok(());
    }
    // Each entry is passed through htmlspecialchars(ENT_NOQUOTES | ENT_HTML401).
    let mut msg = format!("Cannot delete alias {name}. Currently in use by ");
    for r in refs {
        msg.push_str(&crate::reply::html_escape_noquotes(&format!("\n{r}")));
    }
    Err(Reply::user_exception(&msg, "Alias in use"))
}

/// A rename rewrites every reference to the new name.
fn after_set(cfg: &mut Config, old: &Record, new: &Record) {
    let (from, to) = (old.get("name").to_owned(), new.get("name").to_owned());
    if from == to || from.is_empty() {
        return;
    }
    let swap_list = |value: &str| {
        split_list(value)
            .into_iter()
            .map(|i| if i == from { to.as_str() } else { i })
            .collect::<Vec<_>>()
            .join(",")
    };
    for r in &mut cfg[Collection::FilterRules] {
        for field in FILTER_RULE_FIELDS {
            let swapped = swap_list(r.get(field));
            if swapped != r.get(field) {
                r.set(field, swapped);
            }
        }
    }
    for r in &mut cfg[Collection::PortForwards] {
        for field in PORT_FORWARD_FIELDS {
            if r.get(field) == from {
                r.set(field, to.clone());
            }
        }
    }
    for a in &mut cfg[Collection::Aliases] {
        let content = a.get("content");
        if content.split('\n').any(|e| e == from) {
            let swapped = content
                .split('\n')
                .map(|e| if e == from { to.as_str() } else { e })
                .collect::<Vec<_>>()
                .join("\n");
            a.set("content", swapped);
        }
    }
}

fn extra_row(_: &Config, rec: &Record, _: Version, row: &mut Map<String, Value>) {
    row.insert(
        "categories_uuid".into(),
        Value::Array(
            rec.list("categories")
                .into_iter()
                .map(|c| Value::String(c.to_owned()))
                .collect(),
        ),
    );
}

/// The alias area for the generic engine.
pub(crate) static AREA: AreaSpec = AreaSpec {
    collection: Collection::Aliases,
    wrapper: "alias",
    fields: FIELDS,
    default_sort: "name",
    validate: validate_alias,
    extra_row,
    check_delete,
    after_set,
    ..AreaSpec::DEFAULT
};

const ACTIONS: Actions = Actions {
    search: None,
    get: None,
    add: Some("additem"),
    set: Some("setitem"),
    del: Some("delitem"),
    toggle: Some("toggleitem"),
};

/// Built-in aliases as records (uuid = name).
fn builtin_records(version: Version) -> Vec<Record> {
    let specs = AREA.specs(version);
    builtin_aliases()
        .into_iter()
        .map(|(name, kind, descr)| {
            let mut r = fields::defaults(&specs, name.clone());
            r.set("name", name);
            r.set("type", kind);
            r.set("description", descr);
            r
        })
        .collect()
}

/// Endpoints of `firewall/alias`.
pub(crate) fn route(action: &str) -> Option<Route> {
    AREA.crud(action, &ACTIONS).or_else(|| match action {
        "get" => Route::new(get_model),
        "searchitem" => Route::new(search_item),
        "getitem" => Route::new(get_item),
        "getaliasuuid" => Route::with_params(get_alias_uuid, 1),
        "reconfigure" => Route::new(reconfigure),
        "listcategories" => {
            Route::new(|_, st, _| super::filter::list_categories(st, Collection::Aliases))
        }
        _ => None,
    })
}

/// `get`: the whole model (GET only), built-ins keyed by name.
fn get_model(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_get {
        return Reply::empty_list();
    }
    let specs = AREA.specs(req.version);
    let mut items = Map::new();
    for r in builtin_records(req.version)
        .iter()
        .chain(st.staged[Collection::Aliases].iter())
    {
        items.insert(r.uuid.clone(), fields::render_get(&specs, &st.staged, r));
    }
    Reply::ok(json!({"alias": {"geoip": {"url": ""}, "aliases": {"alias": items}}}))
}

/// `search_item`: user aliases and built-ins, optional `type[]` filter.
fn search_item(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let params = SearchParams::grid(req);
    let types: Option<Vec<String>> = match req.body.get("type") {
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
        ),
        // in_array() on a string: PHP TypeError.
        Some(Value::String(_)) => {
            return Reply::unexpected(
                "in_array(): Argument #2 ($haystack) must be of type array, string given",
            );
        }
        _ => None,
    };
    let builtins = builtin_records(req.version);
    let rows = builtins
        .iter()
        .chain(st.staged[Collection::Aliases].iter())
        .filter(|r| {
            types
                .as_ref()
                .is_none_or(|t| t.iter().any(|x| x == r.get("type")))
        })
        .collect::<Vec<_>>();
    let rows = AREA.rows_of(&st.staged, req.version, rows);
    let fields = AREA.search_fields(req.version);
    Reply::ok(search::grid(rows, &params, "name", &fields))
}

/// `get_item[/{uuid}]`: `getBase()`, then every alias name is added to the `content` map
/// (`selected: 0` unless it is a current entry) with its description.
///
/// For an unknown uuid `getBase()` returns `[]`. Up to 26.1.10 `array_keys()` then gets
/// `null` and throws a `TypeError` (HTTP 500; fixed by opnsense/core 5ed48c2d25 in 26.1.11
/// and 26.7); from 26.7 on the answer is `{"alias":{"content":{...every alias...}}}` and
/// nothing else.
fn get_item(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let rendered = match req.param(0) {
        None => Some(AREA.render(
            &st.staged,
            req.version,
            &AREA.template(&st.staged, req.version, String::new()),
        )),
        Some(uuid) => st.staged[Collection::Aliases]
            .iter()
            .find(|a| a.uuid == uuid)
            .map(|rec| AREA.render(&st.staged, req.version, rec)),
    };
    if let Some(mut answer) = rendered {
        if let Some(Value::Object(content)) = answer.pointer_mut("/alias/content") {
            add_alias_names(&st.staged, content);
        }
        return Reply::ok(answer);
    }
    if req.version < Version::V26_7 {
        if req.development {
            return Reply::unexpected("Undefined array key \"alias\"");
        }
        return Reply::unexpected(
            "array_keys(): Argument #1 ($array) must be of type array, null given",
        );
    }
    let mut content = Map::new();
    add_alias_names(&st.staged, &mut content);
    if content.is_empty() {
        return Reply::empty_list();
    }
    Reply::ok(json!({"alias": {"content": content}}))
}

/// `getAliasUUID/{name}`: `{"uuid":...}` or `[]`.
fn get_alias_uuid(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let name = req.param(0).unwrap_or_default();
    if let Some(a) = st.staged.alias_by_name(name) {
        return Reply::ok(json!({"uuid": a.uuid}));
    }
    if builtin_aliases().iter().any(|(n, _, _)| n == name) {
        return Reply::ok(json!({"uuid": name}));
    }
    Reply::empty_list()
}

/// `reconfigure`: loads the staged aliases into pf.
fn reconfigure(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "failed"}));
    }
    st.live[Collection::Aliases] = st.staged[Collection::Aliases].clone();
    Reply::ok(json!({"status": "ok"}))
}

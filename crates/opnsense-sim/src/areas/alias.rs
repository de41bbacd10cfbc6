//! `firewall/alias`: aliases (host, network, port, networkgroup ...), built-in aliases,
//! in-use protection, rename propagation and `reconfigure`.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{builtin_aliases, category_uuid_options, interface_options};
use crate::crud::{AreaSpec, ToggleStyle, hooks};
use crate::fields::{
    self, FieldSpec, Opt, boolean, description, int, multi, opts, rendered, select, text, volatile,
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

/// `content` in `get_item`: current entries selected, every alias name unselected.
fn render_content(cfg: &Config, rec: &Record) -> Value {
    let mut map = Map::new();
    let content = rec.get("content");
    if content.is_empty() {
        map.insert(String::new(), json!({"value": "", "selected": 1}));
    }
    for entry in content.split('\n').filter(|e| !e.is_empty()) {
        map.insert(entry.to_owned(), json!({"value": entry, "selected": 1}));
    }
    let names = cfg
        .aliases
        .iter()
        .map(|a| (a.get("name").to_owned(), a.get("description").to_owned()))
        .chain(builtin_aliases().into_iter().map(|(n, _, d)| (n, d)));
    for (name, descr) in names {
        map.entry(name.clone())
            .or_insert_with(|| json!({"selected": 0, "value": name, "description": descr}));
    }
    Value::Object(map)
}

/// Alias fields in model order.
pub(crate) static FIELDS: &[FieldSpec] = &[
    boolean("enabled", "1"),
    text("name").req(),
    select("type", type_options, None).req().def("alert"),
    text("path_expression"),
    multi("proto", proto_options),
    select("interface", interface_options, Some("None")),
    boolean("counters", "0"),
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

/// pf keywords an alias may not be named after.
const RESERVED: &[&str] = &[
    "all",
    "any",
    "in",
    "out",
    "block",
    "pass",
    "table",
    "port",
    "self",
    "inet",
    "inet6",
    "from",
    "to",
    "on",
    "quick",
    "log",
    "keep",
    "state",
    "flags",
    "proto",
    "label",
    "tag",
    "tagged",
    "user",
    "group",
    "rdr",
    "nat",
    "binat",
    "scrub",
    "antispoof",
    "match",
    "set",
    "skip",
    "load",
    "anchor",
    "modulate",
    "synproxy",
];

/// Protocol names (service names come from the port list).
const PROTOCOL_NAMES: &[&str] = &[
    "tcp",
    "udp",
    "icmp",
    "ipv6-icmp",
    "esp",
    "ah",
    "gre",
    "igmp",
    "pim",
    "ospf",
    "sctp",
    "carp",
    "pfsync",
    "ip",
    "ipv6",
];

/// AliasNameField regex `^([a-zA-Z]|(([_a-zA-Z][a-zA-Z0-9]|[a-zA-Z][_a-zA-Z0-9])[_a-zA-Z0-9]{0,29}))$`.
fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
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

fn alias_exists(cfg: &Config, name: &str) -> bool {
    cfg.alias_by_name(name).is_some() || builtin_aliases().iter().any(|(n, _, _)| n == name)
}

fn valid_host_entry(cfg: &Config, e: &str) -> bool {
    let e = e.strip_prefix('!').unwrap_or(e);
    validate::parse_ip(e).is_some()
        || e.split_once('-').is_some_and(|(a, b)| {
            validate::parse_ip(a).is_some() && validate::parse_ip(b).is_some()
        })
        || alias_exists(cfg, e)
        || (e.contains('.')
            && validate::is_domain(e)
            && !e.bytes().all(|c| c.is_ascii_digit() || c == b'.'))
}

fn valid_network_entry(cfg: &Config, e: &str) -> bool {
    let e = e.strip_prefix('!').unwrap_or(e);
    validate::parse_ip(e).is_some()
        || validate::parse_cidr(e).is_some()
        || e.split_once('-').is_some_and(|(a, b)| {
            validate::parse_ip(a).is_some() && validate::parse_ip(b).is_some()
        })
        || alias_exists(cfg, e)
}

fn valid_port_entry(cfg: &Config, e: &str) -> bool {
    validate::is_port_number(e)
        || validate::WELL_KNOWN_PORTS.contains(&e)
        || e.split_once(':')
            .is_some_and(|(a, b)| validate::is_port_number(a) && validate::is_port_number(b))
        || cfg
            .alias_by_name(e)
            .is_some_and(|a| a.get("type") == "port")
}

fn validate_alias(cfg: &Config, rec: &Record, v: &mut Validations) {
    let name = rec.get("name");
    if !name.is_empty() {
        if !valid_name(name) {
            v.add(
                "name",
                "The name must start with a letter or single underscore, be less than 32 characters and only consist of alphanumeric characters or underscores.",
            );
        } else if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
            v.add(
                "name",
                "The name cannot be the internally reserved keyword \"%s\".",
            );
        } else if validate::WELL_KNOWN_PORTS.contains(&name.to_ascii_lowercase().as_str())
            || PROTOCOL_NAMES.contains(&name.to_ascii_lowercase().as_str())
        {
            v.add("name", "Reserved protocol or service names may not be used");
        }
        let duplicate = cfg
            .aliases
            .iter()
            .any(|a| a.uuid != rec.uuid && a.get("name") == name)
            || builtin_aliases().iter().any(|(n, _, _)| n == name);
        if duplicate {
            v.add("name", "An alias with this name already exists.");
        }
    }
    let kind = rec.get("type");
    for entry in rec.get("content").split('\n').filter(|e| !e.is_empty()) {
        let bad = match kind {
            "host" => (!valid_host_entry(cfg, entry))
                .then_some("is not a valid hostname, IP address or range."),
            "network" => (!valid_network_entry(cfg, entry)).then_some("is not a network."),
            "port" => (!valid_port_entry(cfg, entry)).then_some("is not a valid port number."),
            "networkgroup" => (!(alias_exists(cfg, entry)
                && cfg
                    .alias_by_name(entry)
                    .is_none_or(|a| a.get("type") != "port")))
            .then_some("is not a valid alias."),
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
            "dynipv6host" => (!(entry.starts_with("::")
                && validate::parse_ip(&format!("0{entry}")).is_some()))
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

/// Places referencing an alias name, as `[ref] description` lines.
fn references(cfg: &Config, name: &str) -> Vec<String> {
    let mut refs = Vec::new();
    for (idx, r) in cfg.filter_rules.iter().enumerate() {
        for field in [
            "source_net",
            "source_port",
            "destination_net",
            "destination_port",
        ] {
            if split_list(r.get(field)).contains(&name) {
                refs.push(format!(
                    "[OPNsense.Firewall.Filter.rules.rule.{idx}/{field}] {}",
                    r.get("description")
                ));
            }
        }
    }
    for (idx, r) in cfg.port_forwards.iter().enumerate() {
        for field in [
            "source.network",
            "source.port",
            "destination.network",
            "destination.port",
            "target",
            "local-port",
        ] {
            if r.get(field) == name {
                refs.push(format!("[nat.rule.{idx}/{field}] {}", r.get("descr")));
            }
        }
    }
    for a in &cfg.aliases {
        if a.get("content").split('\n').any(|e| e == name) {
            refs.push(format!(
                "[OPNsense.Firewall.Alias.aliases.alias.{}/content] {}",
                a.uuid,
                a.get("description")
            ));
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
    let mut msg = format!("Cannot delete alias {name}. Currently in use by ");
    for r in refs {
        msg.push('\n');
        msg.push_str(&r);
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
    for r in &mut cfg.filter_rules {
        for field in [
            "source_net",
            "source_port",
            "destination_net",
            "destination_port",
        ] {
            let swapped = swap_list(r.get(field));
            if swapped != r.get(field) {
                r.set(field, swapped);
            }
        }
    }
    for r in &mut cfg.port_forwards {
        for field in [
            "source.network",
            "source.port",
            "destination.network",
            "destination.port",
            "target",
            "local-port",
        ] {
            if r.get(field) == from {
                r.set(field, to.clone());
            }
        }
    }
    for a in &mut cfg.aliases {
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

fn extra_row(_: &Config, rec: &Record, row: &mut Map<String, Value>) {
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
    toggle: ToggleStyle::Enabled,
    default_sort: "name",
    transform: hooks::keep,
    prepare_new: hooks::no_prepare,
    before_save: hooks::no_before_save,
    validate: validate_alias,
    extra_row,
    check_delete,
    after_set,
};

/// Built-in aliases as records (uuid = name).
fn builtin_records() -> Vec<Record> {
    builtin_aliases()
        .into_iter()
        .map(|(name, kind, descr)| {
            let mut r = fields::defaults(FIELDS, name.clone());
            r.set("name", name);
            r.set("type", kind);
            r.set("description", descr);
            r
        })
        .collect()
}

/// Endpoints of `firewall/alias`.
pub(crate) fn route(action: &str) -> Option<Route> {
    match action {
        "get" => Route::new(get_model),
        "searchitem" => Route::new(search_item),
        "getitem" => Route::new(get_item),
        "getaliasuuid" => Route::with_params(get_alias_uuid, 1),
        "additem" => Route::new(|_, st, req| AREA.add(st, req)),
        "setitem" => Route::with_params(|_, st, req| AREA.set(st, req), 1),
        "delitem" => Route::with_params(|_, st, req| AREA.del(st, req), 1),
        "toggleitem" => Route::with_params(|_, st, req| AREA.toggle(st, req), 1),
        "reconfigure" => Route::new(reconfigure),
        "listcategories" => Route::new(super::filter::list_categories),
        _ => None,
    }
}

/// `get`: the whole model (GET only), built-ins keyed by name.
fn get_model(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_get {
        return Reply::empty_list();
    }
    let mut items = Map::new();
    for r in builtin_records().iter().chain(st.staged.aliases.iter()) {
        items.insert(r.uuid.clone(), fields::render_get(FIELDS, &st.staged, r));
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
        Some(Value::String(_)) => return Reply::unexpected(),
        _ => None,
    };
    let builtins = builtin_records();
    let rows = builtins
        .iter()
        .chain(st.staged.aliases.iter())
        .filter(|r| {
            types
                .as_ref()
                .is_none_or(|t| t.iter().any(|x| x == r.get("type")))
        })
        .collect::<Vec<_>>();
    let rows = AREA.rows_of(&st.staged, rows);
    Reply::ok(search::grid(rows, &params, "name"))
}

/// `get_item/{uuid}`: unknown uuid crashes the controller (HTTP 500), as on 26.1.
fn get_item(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    match req.param(0) {
        None => AREA.get(st, req),
        Some(uuid) => match st.staged.aliases.iter().find(|a| a.uuid == uuid) {
            Some(rec) => Reply::ok(AREA.render(&st.staged, rec)),
            None => Reply::unexpected(),
        },
    }
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
    st.live.aliases = st.staged.aliases.clone();
    Reply::ok(json!({"status": "ok"}))
}

//! `firewall/d_nat`: port forwards (nested `source`/`destination`, inverted `disabled`
//! toggle, anti-lockout pseudo rows, rollback actions inherited from the filter).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{
    NetCheck, alias_meta, category_colors, category_name_options, check_network, interface_options,
    is_port_alias, network_display,
};
use crate::Version;
use crate::crud::{AreaSpec, ToggleStyle, hooks};
use crate::fields::{
    FieldSpec, Opt, boolean, description, int, multi, opts, select, text, volatile,
};
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::{Route, Shared};
use crate::state::{Collection, Config, Record, SimState};
use crate::validate::{self, Family, Validations};

fn ipprotocol_options(_: &Config) -> Vec<Opt> {
    opts(&[("inet", "IPv4"), ("inet6", "IPv6"), ("inet46", "IPv4+IPv6")])
}

fn protocol_options(_: &Config) -> Vec<Opt> {
    super::filter::PROTOCOLS
        .iter()
        .map(|p| Opt::new(p.to_lowercase(), *p))
        .collect()
}

fn poolopts_options(_: &Config) -> Vec<Opt> {
    opts(&[
        ("round-robin", "Round Robin"),
        (
            "round-robin sticky-address",
            "Round Robin with Sticky Address",
        ),
        ("random", "Random"),
        ("random sticky-address", "Random with Sticky Address"),
        ("source-hash", "Source Hash"),
        ("bitmask", "Bitmask"),
    ])
}

fn natreflection_options(_: &Config) -> Vec<Opt> {
    opts(&[("purenat", "Enable"), ("disable", "Disable")])
}

fn pass_options(_: &Config) -> Vec<Opt> {
    opts(&[("pass", "Pass"), ("rule", "Register rule")])
}

/// Port forward fields in model order (containers as dotted paths).
pub(crate) static FIELDS: &[FieldSpec] = &[
    int("sequence", 1, 999_999)
        .req()
        .msg("Sequence shall be between 1 and 999999."),
    boolean("disabled", "0"),
    boolean("nordr", "0"),
    multi("interface", interface_options),
    select("ipprotocol", ipprotocol_options, Some("any")),
    select("protocol", protocol_options, Some("any")),
    text("source.network"),
    volatile("source.address"),
    text("source.port"),
    boolean("source.not", "0"),
    text("destination.network"),
    volatile("destination.address"),
    text("destination.port"),
    boolean("destination.not", "0"),
    text("target"),
    text("local-port"),
    select("poolopts", poolopts_options, Some("Default")),
    boolean("log", "0"),
    multi("category", category_name_options),
    volatile("categories"),
    description("descr"),
    text("tag"),
    text("tagged"),
    boolean("nosync", "0"),
    select(
        "natreflection",
        natreflection_options,
        Some("Use system default"),
    ),
    select("pass", pass_options, Some("Manual")),
    volatile("associated-rule-id"),
    volatile("created.username"),
    volatile("created.time"),
    volatile("created.description"),
    volatile("updated.username"),
    volatile("updated.time"),
    volatile("updated.description"),
];

fn prepare_new(cfg: &Config, rec: &mut Record) {
    let max = cfg
        .port_forwards
        .iter()
        .filter_map(|r| r.get("sequence").parse::<u64>().ok())
        .max();
    rec.set("sequence", max.map_or(100, |m| m + 100).to_string());
}

/// The controller stamps `updated.*` (and `created.*` once) on every save.
fn before_save(rec: &mut Record, req: &Req) {
    stamp(rec, &req.user, &super::now_2dec());
}

/// Sets `updated.*`, and `created.*` when still empty.
pub(crate) fn stamp(rec: &mut Record, user: &str, time: &str) {
    for side in ["updated", "created"] {
        if side == "created" && !rec.get("created.time").is_empty() {
            continue;
        }
        rec.set(&format!("{side}.username"), user);
        rec.set(&format!("{side}.time"), time);
        rec.set(&format!("{side}.description"), "/api.php made changes");
    }
}

fn is_tcp_udp(proto: &str) -> bool {
    matches!(proto, "tcp" | "udp" | "tcp/udp")
}

fn validate_rule(cfg: &Config, rec: &Record, v: &mut Validations) {
    let proto = rec.get("protocol");
    let expected = match rec.get("ipprotocol") {
        "inet" => Some(Family::V4),
        "inet6" => Some(Family::V6),
        _ => None,
    };
    for field in ["source.network", "destination.network", "target"] {
        let value = rec.get(field);
        if value.is_empty() {
            continue;
        }
        match check_network(cfg, value, false) {
            NetCheck::Invalid => {
                v.add(
                    field,
                    format!("{value} is not a valid source IP address or alias."),
                );
            }
            NetCheck::Literal(f) if expected.is_some_and(|e| e != f) => {
                v.add(
                    field,
                    "Address type should match selected TCP/IP protocol version.",
                );
            }
            _ => {}
        }
    }
    for field in ["source.port", "destination.port"] {
        let value = rec.get(field);
        if value.is_empty() {
            continue;
        }
        if !validate::is_rule_port(value, |a| is_port_alias(cfg, a), true) {
            v.add(
                field,
                "Please specify a valid port number, well-known name, alias or range.",
            );
        }
        if !is_tcp_udp(proto) {
            v.add(field, "Ports are only valid for TCP or UDP type rules.");
        }
    }
    let local = rec.get("local-port");
    if !local.is_empty() {
        if !validate::is_rule_port(local, |a| is_port_alias(cfg, a), false) {
            v.add("local-port", "Please specify a valid port number or alias.");
        }
        if !is_tcp_udp(proto) {
            v.add(
                "local-port",
                "Ports are only valid for TCP or UDP type rules.",
            );
        }
    }
}

fn extra_row(cfg: &Config, rec: &Record, row: &mut Map<String, Value>) {
    for field in ["source.network", "destination.network"] {
        let value = rec.get(field);
        let display = network_display(value, false);
        if !value.is_empty() && display != value {
            row.insert(format!("%{field}"), Value::String(display));
        }
    }
    let uuids: Vec<&str> = rec
        .list("category")
        .into_iter()
        .filter_map(|name| cfg.categories.iter().find(|c| c.name == name))
        .map(|c| c.uuid.as_str())
        .collect();
    row.insert("category_colors".into(), category_colors(cfg, &uuids));
    for field in [
        "source.network",
        "source.port",
        "destination.network",
        "destination.port",
        "target",
        "local-port",
    ] {
        let value = rec.get(field);
        if !value.is_empty() {
            row.insert(format!("alias_meta_{field}"), alias_meta(cfg, value));
        }
    }
}

/// The d_nat area for the generic engine.
pub(crate) static AREA: AreaSpec = AreaSpec {
    collection: Collection::PortForwards,
    wrapper: "rule",
    fields: FIELDS,
    toggle: ToggleStyle::Disabled,
    default_sort: "sequence",
    transform: hooks::keep,
    prepare_new,
    before_save,
    validate: validate_rule,
    extra_row,
    check_delete: hooks::may_delete,
    after_set: hooks::no_after_set,
};

/// Endpoints of `firewall/d_nat`.
pub(crate) fn route(version: Version, action: &str) -> Option<Route> {
    match action {
        "searchrule" => Route::new(search_rule),
        "getrule" => Route::new(|_, st, req| AREA.get(st, req)),
        "addrule" => Route::new(|_, st, req| with_categories(st, req, |st, req| AREA.add(st, req))),
        "setrule" => Route::with_params(
            |_, st, req| with_categories(st, req, |st, req| AREA.set(st, req)),
            1,
        ),
        "delrule" => Route::with_params(|_, st, req| AREA.del(st, req), 1),
        "togglerule" => Route::with_params(|_, st, req| AREA.toggle(st, req), 1),
        "apply" => Route::new(apply),
        "savepoint" if version.has_rollback() => Route::new(super::filter::savepoint),
        "cancelrollback" if version.has_rollback() => {
            Route::with_params(super::filter::cancel_rollback, 1)
        }
        "revert" if version.has_rollback() => Route::with_params(revert, 1),
        "listcategories" => Route::new(super::filter::list_categories),
        _ => None,
    }
}

/// Runs a mutation, then recomputes the volatile `categories` uuid lists.
fn with_categories(st: &mut SimState, req: &Req, op: fn(&mut SimState, &Req) -> Reply) -> Reply {
    let reply = op(st, req);
    let cats = st.staged.categories.clone();
    for r in &mut st.staged.port_forwards {
        let uuids: Vec<String> = r
            .list("category")
            .into_iter()
            .filter_map(|n| cats.iter().find(|c| c.name == n).map(|c| c.uuid.clone()))
            .collect();
        r.set("categories", uuids.join(","));
    }
    reply
}

/// The anti-lockout pseudo row shown before the real rules.
fn lockout_row() -> Value {
    json!({
        "uuid": "lockout_0",
        "ipprotocol": "",
        "protocol": "tcp",
        "%protocol": "TCP",
        "disabled": "0",
        "nordr": "1",
        "interface": "lan",
        "%interface": "LAN",
        "destination.network": "lanip",
        "destination.port": "443",
        "alias_meta_destination.port": [
            {"value": "443", "%value": "443", "isAlias": false, "description": ""}
        ],
        "alias_meta_destination.network": [
            {"value": "lanip", "%value": "LAN address", "isAlias": false, "description": ""}
        ],
        "descr": "Anti-Lockout Rule",
        "category": "Automatically generated rules"
    })
}

/// `search_rule`: model grid plus anti-lockout rows prepended after paging (not counted).
fn search_rule(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let params = SearchParams::grid(req);
    let rows = AREA.rows(&st.staged);
    let (page, total) = search::grid_parts(rows, &params, "sequence");
    let count = page.len();
    let mut all = vec![lockout_row()];
    all.extend(page);
    Reply::ok(json!({"rows": all, "rowCount": count, "total": total, "current": params.current}))
}

/// `apply[/{rev}]`: reloads NAT (port forwards); the revision arms the shared timer.
fn apply(shared: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !super::filter::apply_with_timer(shared, st, req) {
        return Reply::ok(json!({"status": "error"}));
    }
    st.live.port_forwards = st.staged.port_forwards.clone();
    Reply::ok(json!({"status": "OK\n\n"}))
}

/// `revert/{rev}`: DNat has no `rollback()`: 500 when the backup exists, else unknown.
fn revert(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "error"}));
    }
    let rev: String = req
        .param(0)
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    if st.backups.contains_key(&rev) {
        Reply::unexpected()
    } else {
        Reply::ok(json!({"status": "unknown (or removed) savepoint"}))
    }
}

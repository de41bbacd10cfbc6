//! `firewall/d_nat`: port forwards (nested `source`/`destination`, inverted `disabled`
//! toggle, anti-lockout pseudo rows, rollback actions inherited from the filter).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{
    NetCheck, alias_meta, categories_param, category_colors, category_name_options, check_network,
    interface_options, is_port_alias, network_display,
};
use crate::Version;
use crate::crud::{Actions, AreaSpec, ToggleStyle};
use crate::fields::{
    FieldSpec, Input, Opt, description, int, multi, opt_boolean, opts, select, strict_text, text,
    volatile,
};
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::{Route, Shared};
use crate::state::{Collection, Config, Record, SimState};
use crate::validate::{self, Family, Validations};

fn ipprotocol_options(_: &Config) -> Vec<Opt> {
    opts(&[("inet", "IPv4"), ("inet6", "IPv6"), ("inet46", "IPv4+IPv6")])
}

/// ProtocolField with `<ChangeCase>lower</ChangeCase>`: lower-case keys, upper-case labels,
/// no `any` (not required; the blank option stands for it).
fn protocol_options(_: &Config) -> Vec<Opt> {
    super::filter::protocol_list()
        .into_iter()
        .map(|p| Opt::new(p.to_lowercase(), p))
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

/// Port forward fields in model order (containers as dotted paths). The BooleanFields
/// have neither a default nor `Required`, so `""` is a valid (and the initial) value.
pub(crate) static FIELDS: &[FieldSpec] = &[
    int("sequence", 1, 999_999)
        .req()
        .msg("Sequence shall be between 1 and 999999."),
    opt_boolean("disabled"),
    opt_boolean("nordr"),
    multi("interface", interface_options),
    select("ipprotocol", ipprotocol_options, Some("any")),
    select("protocol", protocol_options, Some("any")).input(Input::Lower),
    text("source.network"),
    volatile("source.address"),
    text("source.port").input(Input::Port),
    opt_boolean("source.not"),
    text("destination.network"),
    volatile("destination.address"),
    text("destination.port").input(Input::Port),
    opt_boolean("destination.not"),
    text("target"),
    text("local-port").input(Input::Port),
    select("poolopts", poolopts_options, Some("Default")),
    opt_boolean("log"),
    multi("category", category_name_options),
    volatile("categories"),
    description("descr"),
    strict_text("tag", None),
    strict_text("tagged", None),
    opt_boolean("nosync"),
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

/// `DNatSequenceField`: the first field loaded seeds a per-request counter with
/// max(minimum 1, every stored sequence); a field without a value takes counter + 100.
/// With no rule at all, the template node (virtual, empty) already takes 101 while the
/// model loads, so `Add()` gives the first rule 201; otherwise a new rule gets max + 100.
fn prepare_new(cfg: &Config, rec: &mut Record) {
    let rules = &cfg[Collection::PortForwards];
    let max = rules
        .iter()
        .filter_map(|r| r.get("sequence").parse::<u64>().ok())
        .fold(1, u64::max);
    let next = if rules.is_empty() { 201 } else { max + 100 };
    rec.set("sequence", next.to_string());
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

fn validate_rule(cfg: &Config, rec: &Record, req: &Req, v: &mut Validations) {
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
    // DNat.php from 26.7 on (not in 26.1.x).
    if req.version >= Version::V26_7 && !validate::php_empty(rec.get("nordr")) {
        if !rec.get("target").is_empty() {
            v.add("target", "Target must be empty when No RDR is set.");
        }
        if !local.is_empty() {
            v.add("local-port", "Port must be empty when No RDR is set.");
        }
    }
}

fn extra_row(cfg: &Config, rec: &Record, version: Version, row: &mut Map<String, Value>) {
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
    if version >= Version::V26_7 {
        // Tree-view order only: 600000 for rules whose interfaces all do not exist.
        let ifs = rec.list("interface");
        let priority = if !ifs.is_empty() && !ifs.iter().any(|i| super::iface(i).is_some()) {
            600_000
        } else {
            400_000
        };
        let seq: i64 = rec.get("sequence").parse().unwrap_or(0);
        row.insert(
            "sort_order".into(),
            Value::String(format!("{priority}.0{seq:06}")),
        );
        row.insert("prio_group".into(), Value::String(priority.to_string()));
    }
}

/// Recomputes the volatile `categories` uuid lists (CategoryMapField).
fn after_write(cfg: &mut Config) {
    let cats = cfg.categories.clone();
    for r in &mut cfg[Collection::PortForwards] {
        let uuids: Vec<String> = r
            .list("category")
            .into_iter()
            .filter_map(|n| cats.iter().find(|c| c.name == n).map(|c| c.uuid.clone()))
            .collect();
        r.set("categories", uuids.join(","));
    }
}

/// The d_nat area for the generic engine.
pub(crate) static AREA: AreaSpec = AreaSpec {
    collection: Collection::PortForwards,
    wrapper: "rule",
    fields: FIELDS,
    toggle: |_| ToggleStyle::Disabled,
    default_sort: "sequence",
    prepare_new,
    before_save,
    validate: validate_rule,
    extra_row,
    after_write,
    ..AreaSpec::DEFAULT
};

const ACTIONS: Actions = Actions {
    search: None,
    get: Some("getrule"),
    add: None,
    set: None,
    del: Some("delrule"),
    toggle: Some("togglerule"),
};

/// `addRuleAction`/`setRuleAction` first test `is_array($_POST['rule'])` to drop
/// `created`: without a `rule` key that reads an undefined array key (a warning, so 500 on
/// development firewalls) before the base action answers `{"result":"failed"}`.
fn write_rule(st: &mut SimState, req: &Req, add: bool) -> Reply {
    if req.development && (!req.is_post || !req.body.contains_key("rule")) {
        return Reply::unexpected("Undefined array key \"rule\"");
    }
    if add {
        AREA.add(st, req)
    } else {
        AREA.set(st, req)
    }
}

/// Endpoints of `firewall/d_nat`.
pub(crate) fn route(version: Version, action: &str) -> Option<Route> {
    AREA.crud(action, &ACTIONS).or_else(|| match action {
        "searchrule" => Route::new(search_rule),
        "addrule" => Route::new(|_, st, req| write_rule(st, req, true)),
        "setrule" => Route::with_params(|_, st, req| write_rule(st, req, false), 1),
        "apply" => Route::new(super::filter::apply),
        "savepoint" if version.has_rollback() => Route::new(super::filter::savepoint),
        "cancelrollback" if version.has_rollback() => {
            Route::with_params(super::filter::cancel_rollback, 1)
        }
        "revert" if version.has_rollback() => Route::with_params(revert, 1),
        "listcategories" => {
            Route::new(|_, st, _| super::filter::list_categories(st, Collection::PortForwards))
        }
        _ => None,
    })
}

/// The anti-lockout pseudo rows `searchRuleAction()` prepends (`Util::getAntiLockout()`:
/// LAN, web GUI port 443 plus 80 for the HTTP redirect, sorted; prepended one by one, so
/// the last port comes first). 26.7 adds `is_automatic`, `sort_order` and `prio_group`
/// and drops `category`.
fn lockout_rows(version: Version) -> Vec<Value> {
    let mut rows = Vec::new();
    for (idx, port) in ["80", "443"].into_iter().enumerate() {
        let mut row = json!({
            "uuid": format!("lockout_{idx}"),
            "ipprotocol": "",
            "protocol": "tcp",
            "%protocol": "TCP",
            "disabled": "0",
            "nordr": "1",
            "interface": "lan",
            "%interface": "LAN",
            "destination.network": "lanip",
            "destination.port": port,
            "alias_meta_destination.port": [
                {"value": port, "%value": port, "isAlias": false, "description": ""}
            ],
            "alias_meta_destination.network": [
                {"value": "lanip", "%value": "LAN address", "isAlias": false, "description": ""}
            ],
            "descr": "Anti-Lockout Rule",
        });
        if version >= Version::V26_7 {
            row["is_automatic"] = json!(true);
            row["sort_order"] = json!(format!("100000.0{idx:06}"));
            row["prio_group"] = json!("100000");
        } else {
            row["category"] = json!("Automatically generated rules");
        }
        rows.insert(0, row);
    }
    rows
}

/// `search_rule`: model grid (optional `category` uuid filter) plus the anti-lockout rows
/// prepended after paging (not counted in `total`/`rowCount`).
fn search_rule(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let params = SearchParams::grid(req);
    let category = categories_param(req);
    let records = st.staged[Collection::PortForwards].iter().filter(|r| {
        category.is_empty()
            || r.list("categories")
                .iter()
                .any(|c| category.iter().any(|w| w == c))
    });
    let rows = AREA.rows_of(&st.staged, req.version, records);
    let fields = AREA.search_fields(req.version);
    let (page, total) = search::grid_parts(rows, &params, "sequence", &fields);
    let count = page.len();
    let mut all = lockout_rows(req.version);
    all.extend(page);
    Reply::ok(json!({"rows": all, "rowCount": count, "total": total, "current": params.current}))
}

/// `revert/{rev}`: DNat has no `rollback()`: 500 when the backup exists, else unknown.
fn revert(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "error"}));
    }
    let rev = super::filter::sanitize_revision(req.param(0).unwrap_or_default());
    if st.backups.by_revision(&rev).is_some() {
        Reply::unexpected("Call to undefined method OPNsense\\Firewall\\DNat::rollback()")
    } else {
        Reply::ok(json!({"status": "unknown (or removed) savepoint"}))
    }
}

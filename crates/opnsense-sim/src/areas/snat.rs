//! `firewall/source_nat`: outbound NAT rules (`snatrules.rule` of the MVC `Filter` model), the
//! outbound NAT mode and OPNsense's automatic outbound rules.
//!
//! Facts (opnsense/core):
//! - Fields: `src/opnsense/mvc/app/models/OPNsense/Firewall/Filter.xml` `<snatrules>` (26.1.10:
//!   no `nosync`/`tag`/`sort_order`/`prio_group`, `target` required with default `wanip`;
//!   26.1.11 lines 415-518 add them and make `target` optional; 26.7.2 adds
//!   `endpoint-independent`). The simulated 26.7.2 has every 26.1.11 change.
//! - Checks: `Filter.php` `performValidation()` (26.7.2 lines 49-177: the shared port, family,
//!   "any" and inversion checks, then the source NAT ones: `target` not `any` (26.1.11+), target
//!   family, target port protocol, endpoint-independent UDP only (26.7.2)), after the field types
//!   (`NetworkAliasField` single values, `PortField` with and without aliases).
//! - Search: 26.1.10 `searchBase("snatrules.rule", null, "sequence", ...)` with
//!   `category_colors` and `alias_meta_*` columns; 26.1.11+ `searchRecordsetBase` over the
//!   records (hybrid and advanced mode only) and the automatic rules (automatic and hybrid),
//!   sorted by `sort_order` (`SourceNatController.php` 26.7.2 lines 66-232).
//! - Mode: `FieldTypes/SNatModeField.php` reads `nat/outbound/mode` (invalid or empty:
//!   `automatic`); 26.7.2 `get`/`set` of `general` (`SourceNatController.php:40,55`); 26.1.10
//!   has no mode in the model: its `get` is the base one (the whole model, GET only).
//! - Apply: `FilterBaseController::applyAction()` (`filter reload skip_alias`, "OK\n\n"), the
//!   filter's own (`super::filter::apply`): it loads the whole ruleset, filter rules and port
//!   forwards too.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{
    IFACES, add_alias_meta, categories_param, category_colors, category_uuid_options,
    check_rule_fields, in_categories, interface_options,
};
use crate::Version;
use crate::crud::{Actions, AreaSpec};
use crate::fields::{
    FieldSpec, Input, Opt, boolean, description, int, multi, opt_boolean, opts, select,
    strict_text, text, volatile,
};
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::{Route, Shared};
use crate::state::{Collection, Config, Record, SimState, split_list};
use crate::validate::{self, Validations};

fn ipprotocol_options(_: &Config) -> Vec<Opt> {
    opts(&[("inet", "IPv4"), ("inet6", "IPv6")])
}

fn protocol_options(cfg: &Config) -> Vec<Opt> {
    super::filter::protocol_options(cfg)
}

/// `snat_mode` options (Filter.xml `<general>`, 26.1.11+).
pub(crate) const MODES: &[(&str, &str)] = &[
    ("automatic", "Automatic Source NAT rule generation"),
    ("hybrid", "Hybrid Source NAT rule generation"),
    ("advanced", "Manual Source NAT rule generation"),
    ("disabled", "Disable Source NAT rule generation"),
];

/// `SNatModeField::actionPostLoadingEvent()`: the configured mode, `automatic` when it is
/// empty or unknown.
pub(crate) fn mode(cfg: &Config) -> &str {
    let m = cfg.snat_mode.as_str();
    if MODES.iter().any(|(k, _)| *k == m) {
        m
    } else {
        "automatic"
    }
}

/// Outbound NAT rule fields in model order (26.7.2; the per-release differences as
/// `since`/`until`).
pub(crate) static FIELDS: &[FieldSpec] = &[
    boolean("enabled", "1"),
    boolean("nonat", "0"),
    boolean("nosync", "0").since(Version::V26_7),
    int("sequence", 1, 999_999)
        .req()
        .msg("Sequence shall be between 1 and 999999."),
    volatile("sort_order").since(Version::V26_7),
    volatile("prio_group").since(Version::V26_7),
    select("interface", interface_options, None)
        .req()
        .def("lan"),
    select("ipprotocol", ipprotocol_options, None)
        .req()
        .def("inet"),
    select("protocol", protocol_options, None)
        .req()
        .def("any")
        .input(Input::Upper),
    text("source_net").req().def("any"),
    boolean("source_not", "0"),
    text("source_port").input(Input::Port),
    text("destination_net").req().def("any"),
    boolean("destination_not", "0"),
    text("destination_port").input(Input::Port),
    text("target").req().def("wanip").until(Version::V26_1),
    text("target").since(Version::V26_7),
    text("target_port").input(Input::Port),
    opt_boolean("staticnatport").def("0"),
    boolean("log", "0"),
    multi("categories", category_uuid_options).msg("Related category not found."),
    strict_text("tag", Some(super::filter::is_tag)).since(Version::V26_7),
    strict_text("tagged", Some(super::filter::is_tag)),
    opt_boolean("endpoint-independent")
        .def("0")
        .since(Version::V26_7),
    description("description"),
];

/// New rules get sequence max + 100 (`FilterSequenceField`, as for filter rules).
fn prepare_new(cfg: &Config, rec: &mut Record) {
    let max = cfg[Collection::SourceNat]
        .iter()
        .filter_map(|r| r.get("sequence").parse::<u64>().ok())
        .fold(1, u64::max);
    rec.set("sequence", (max + 100).to_string());
}

/// 26.1.11+ `SourceNatRuleField::actionPostLoadingEvent()`: `sort_order` and `prio_group`
/// (26.7.2: 600000 for a rule whose interface does not exist, else 400000).
fn before_save(rec: &mut Record, req: &Req) {
    if req.version < Version::V26_7 {
        return;
    }
    let ifs = rec.list("interface");
    let prio = if !ifs.is_empty() && !ifs.iter().any(|i| super::iface(i).is_some()) {
        "600000"
    } else {
        "400000"
    };
    let seq: u64 = rec.get("sequence").parse().unwrap_or(0);
    rec.set("prio_group", prio);
    rec.set("sort_order", format!("{prio}.0{seq:06}"));
}

/// `PortField::defaultValidationMessage()` with `EnableWellKnown` (every key of
/// `$wellknownservices`, `afs3-fileserver` included).
fn target_port_msg() -> String {
    format!(
        "Please specify a valid port number (1-65535). A service name is also possible (afs3-fileserver, {}).",
        validate::WELL_KNOWN_PORTS.join(", ")
    )
}

/// `Util::isSubnet($v) || Util::isIpAddress($v)` and its family, `strpos($v, ':')`.
fn literal_proto(value: &str) -> Option<&'static str> {
    validate::literal_family(value).map(|_| if value.contains(':') { "inet6" } else { "inet" })
}

/// Field types, then `Filter::performValidation()` for a `snatrules` rule.
fn validate_rule(cfg: &Config, rec: &Record, req: &Req, v: &mut Validations) {
    let get = |f: &str| rec.get(f);
    // NetworkAliasField (single values) and PortField.
    check_rule_fields(
        cfg,
        rec,
        v,
        &["source_net", "destination_net", "target"],
        false,
    );
    let target_port = get("target_port");
    if !target_port.is_empty() && !validate::is_rule_port(target_port, |_| false, true) {
        v.add("target_port", target_port_msg());
    }
    // Filter.php, shared with filter rules.
    let proto = get("protocol");
    let ipproto = get("ipprotocol");
    super::filter::check_ports_families_any(rec, v);
    super::filter::check_inversions(rec, v);
    // Source NAT only.
    let target = get("target");
    if req.version >= Version::V26_7 && target == "any" {
        v.add("target", "Target address cannot be any.");
    }
    if literal_proto(target).is_some_and(|p| p != ipproto) {
        v.add(
            "target",
            "Target address type should match selected TCP/IP protocol version.",
        );
    }
    if !target_port.is_empty() && !super::filter::is_tcp_udp(proto) {
        v.add(
            "target_port",
            "Target ports are only valid for tcp or udp type rules.",
        );
    }
    if req.version >= Version::V26_7
        && !validate::php_empty(get("endpoint-independent"))
        && proto != "UDP"
    {
        v.add(
            "endpoint-independent",
            "Endpoint Independent NAT is only available for UDP.",
        );
    }
}

/// The network and port columns `searchRuleAction()` describes with `alias_meta_*`.
const META_FIELDS: [&str; 6] = [
    "source_net",
    "source_port",
    "destination_net",
    "destination_port",
    "target",
    "target_port",
];

/// `category_colors` and `alias_meta_*` of a search row.
fn decorate(cfg: &Config, row: &mut Map<String, Value>) {
    let cats: Vec<String> = row
        .get("categories")
        .and_then(Value::as_str)
        .map(|c| split_list(c).into_iter().map(str::to_owned).collect())
        .unwrap_or_default();
    let cats: Vec<&str> = cats.iter().map(String::as_str).collect();
    row.insert("category_colors".into(), category_colors(cfg, &cats));
    add_alias_meta(cfg, row, &META_FIELDS);
}

/// The outbound NAT area for the generic engine.
pub(crate) static AREA: AreaSpec = AreaSpec {
    collection: Collection::SourceNat,
    wrapper: "rule",
    fields: FIELDS,
    default_sort: "sequence",
    prepare_new,
    before_save,
    validate: validate_rule,
    ..AreaSpec::DEFAULT
};

/// Endpoints of `firewall/source_nat`.
pub(crate) fn route(version: Version, action: &str) -> Option<Route> {
    AREA.crud(action, &Actions::RULES).or_else(|| match action {
        "searchrule" => Route::new(search_rule),
        "apply" => Route::new(super::filter::apply),
        "get" => Route::new(get_model),
        "set" if version >= Version::V26_7 => Route::new(set_general),
        "listcategories" => {
            Route::new(|_, st, _| super::filter::list_categories(st, Collection::SourceNat))
        }
        _ => None,
    })
}

/// Whether an interface of the simulated box is a WAN for the automatic rules: IPv4 (or DHCP)
/// with a gateway (`getAutomaticOutboundNatRules()`: `gateway` set and not `none`). The
/// simulated WAN carries gateway `WAN_GW`; LAN and DMZ carry none.
fn is_nat_interface(key: &str) -> bool {
    key == "wan"
}

/// `getAutomaticOutboundNatRules()` of 26.7.2: per WAN an ISAKMP rule (UDP 500 with a static
/// port) and a general one, from every other IPv4 interface's network, to the WAN address.
pub(crate) fn automatic_rows() -> Vec<Map<String, Value>> {
    let sources: Vec<&str> = IFACES
        .iter()
        .filter(|i| !is_nat_interface(i.key))
        .map(|i| i.key)
        .collect();
    let source_net = sources.join(",");
    let mut rows = Vec::new();
    let mut sequence = 1;
    for wan in IFACES.iter().filter(|i| is_nat_interface(i.key)) {
        for (isakmp, port, static_port, descr) in [
            (true, "500", "1", "Auto created rule for ISAKMP"),
            (false, "", "0", "Auto created rule"),
        ] {
            let uuid = if isakmp {
                format!("automatic_isakmp_{}", wan.key)
            } else {
                format!("automatic_{}", wan.key)
            };
            let row = json!({
                "uuid": uuid, "enabled": "1", "nonat": "0", "nosync": "0",
                "sequence": sequence.to_string(), "interface": wan.key, "%interface": wan.descr,
                "ipprotocol": "inet", "%ipprotocol": "IPv4", "protocol": "any", "%protocol": "*",
                "source_net": source_net, "source_not": "0", "source_port": "",
                "destination_net": "any", "destination_not": "0", "destination_port": port,
                "target": format!("{}ip", wan.key), "target_port": "", "staticnatport": static_port,
                "log": "0", "categories": "", "tag": "", "tagged": "", "description": descr,
                "is_automatic": true,
                "sort_order": format!("500000.0{sequence:06}"), "prio_group": "500000",
            });
            if let Value::Object(map) = row {
                rows.push(map);
            }
            sequence += 1;
        }
    }
    rows
}

/// `search_rule`: 26.1.10 every record (UIModelGrid); 26.7.2 by mode, records and automatic
/// rules (searchRecordsetBase on `sort_order`; automatic rows pass every category filter).
fn search_rule(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let wanted = categories_param(req);
    let cfg = &st.staged;
    if req.version < Version::V26_7 {
        let params = SearchParams::grid(req);
        let rows: Vec<Map<String, Value>> = AREA
            .rows(cfg, req.version)
            .into_iter()
            .filter(|row| in_categories(row, &wanted))
            .map(|mut row| {
                decorate(cfg, &mut row);
                row
            })
            .collect();
        let fields = AREA.search_fields(req.version);
        return Reply::ok(search::grid(rows, &params, "sequence", &fields));
    }
    let params = SearchParams::recordset(req);
    let mode = mode(cfg);
    let mut rows = Vec::new();
    if matches!(mode, "hybrid" | "advanced") {
        rows.extend(
            AREA.rows(cfg, req.version)
                .into_iter()
                .filter(|row| in_categories(row, &wanted)),
        );
    }
    if matches!(mode, "automatic" | "hybrid") {
        rows.extend(automatic_rows());
    }
    for row in &mut rows {
        decorate(cfg, row);
    }
    Reply::ok(search::recordset(rows, &params, "sort_order"))
}

/// `get`: 26.7.2 `{"filter": {"general": {"snat_mode": ...}}}` for any method; 26.1.10 the base
/// `getAction()` (GET only, `[]` otherwise): the whole `Filter` model, without `general`.
fn get_model(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let cfg = &st.staged;
    if req.version >= Version::V26_7 {
        let options: Vec<Opt> = opts(MODES);
        let map = crate::fields::option_map(&options, mode(cfg), false, None);
        return Reply::ok(json!({"filter": {"general": {"snat_mode": map}}}));
    }
    if !req.is_get {
        return Reply::empty_list();
    }
    let render = |area: &AreaSpec| {
        let specs = area.specs(req.version);
        let items: Map<String, Value> = cfg[area.collection]
            .iter()
            .map(|r| (r.uuid.clone(), crate::fields::render_get(&specs, cfg, r)))
            .collect();
        json!({ "rule": items })
    };
    Reply::ok(json!({"filter": {
        "rules": render(&super::filter::AREA),
        "snatrules": render(&AREA),
        "npt": {"rule": {}},
        "onetoone": {"rule": {}},
    }}))
}

/// 26.7.2 `set`: POST `{"filter": {"general": {"snat_mode": ...}}}`; validates `general` and
/// saves (the mode lands in `nat/outbound/mode`).
fn set_general(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::failed();
    }
    let value = req
        .body
        .get("filter")
        .and_then(|f| f.get("general"))
        .and_then(|g| g.get("snat_mode"));
    let mut v = Validations::new("filter.general");
    match value {
        None | Some(Value::Null) => {}
        Some(Value::String(m)) if MODES.iter().any(|(k, _)| k == m) => {
            st.staged.snat_mode.clone_from(m);
        }
        Some(Value::String(m)) if m.is_empty() => v.add("snat_mode", validate::REQUIRED),
        Some(_) => v.add("snat_mode", "Option [] not in list."),
    }
    if !v.is_empty() {
        return Reply::ok(json!({"result": "failed", "validations": v.into_json()}));
    }
    st.save(req.revision());
    Reply::ok(json!({"result": "saved"}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_rows_follow_the_interfaces() {
        let rows = automatic_rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["uuid"], "automatic_isakmp_wan");
        assert_eq!(rows[0]["destination_port"], "500");
        assert_eq!(rows[1]["uuid"], "automatic_wan");
        assert_eq!(rows[1]["source_net"], "lan,opt1");
        assert_eq!(rows[1]["target"], "wanip");
        assert_eq!(rows[1]["sort_order"], "500000.0000002");
    }

    #[test]
    fn an_empty_or_unknown_mode_is_automatic() {
        let mut cfg = Config::default();
        assert_eq!(mode(&cfg), "automatic");
        cfg.snat_mode = "bogus".into();
        assert_eq!(mode(&cfg), "automatic");
        cfg.snat_mode = "advanced".into();
        assert_eq!(mode(&cfg), "advanced");
    }
}

//! Compares the simulator's answers with the OPNsense 26.1 response fixtures of the SDK
//! (`crates/opnsense-api/tests/fixtures/**`, read by relative path; the simulator depends on
//! no crate of ours): for every endpoint both have, the same request must give the same
//! JSON keys and value types, recursively. Option maps and other data-keyed maps compare
//! their entries' shapes, not their keys; arrays compare each element with the
//! best-matching element of the other side. Every exception names its reason.

mod common;

use std::path::PathBuf;

use common::{Harness, rows};
use opnsense_sim::{DhcpBackends, LimitedKey, SimConfig};
use serde_json::{Map, Value, json};

const UNKNOWN: &str = "00000000-0000-4000-8000-000000000000";

/// How the request authenticates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    Full,
    WrongSecret,
    Limited,
    /// Full credentials, `Content-Type: application/json` and an empty body.
    EmptyJsonBody,
}

/// One fixture and the request that produces it.
struct Case {
    fixture: &'static str,
    method: &'static str,
    /// API path; `{rule}`, `{rule2}`, `{alias}`, `{unused_alias}`, `{dnat}`, `{route}`,
    /// `{host}`, `{reservation}`, `{subnet}`, `{dnsmasq_host}`, `{created}` and `{unknown}` are
    /// replaced.
    path: &'static str,
    body: Option<&'static str>,
    /// POSTs sent first; the uuid the last one answers becomes `{created}`.
    prepare: &'static [(&'static str, &'static str)],
    auth: Auth,
    status: u16,
    /// (diff path prefix, reason) pairs of accepted differences.
    exceptions: &'static [(&'static str, &'static str)],
    /// Paths of objects keyed by data (device names, interface keys ...) that are not
    /// recognised as option maps or uuid maps.
    maps: &'static [&'static str],
}

const fn case(fixture: &'static str, method: &'static str, path: &'static str) -> Case {
    Case {
        fixture,
        method,
        path,
        body: None,
        prepare: &[],
        auth: Auth::Full,
        status: 200,
        exceptions: &[],
        maps: &[],
    }
}

impl Case {
    const fn body(mut self, body: &'static str) -> Case {
        self.body = Some(body);
        self
    }
    const fn prepare(mut self, steps: &'static [(&'static str, &'static str)]) -> Case {
        self.prepare = steps;
        self
    }
    const fn auth(mut self, auth: Auth) -> Case {
        self.auth = auth;
        self
    }
    const fn status(mut self, status: u16) -> Case {
        self.status = status;
        self
    }
    const fn except(mut self, exceptions: &'static [(&'static str, &'static str)]) -> Case {
        self.exceptions = exceptions;
        self
    }
    const fn maps(mut self, maps: &'static [&'static str]) -> Case {
        self.maps = maps;
        self
    }
}

const NO_LEGACY_USER_RULES: &str = "the simulated config.xml holds no legacy (non-MVC) user \
rules; the fixture's third row is one (`type`, `floating`, `updated` ... from config.xml)";
const AUTOMATIC_ROW: &str = "fixture wrong: list_non_mvc_rules.php prints the rule as \
registered (26.1.10 and 26.7.2), so the anti-lockout rule carries the \
filter_core_bootstrap() defaults `log` (bool) and `disablereplyto` (1) and \
registerFilterRule()'s `#priority`, and no `quick` (filter.lib.inc does not set one for it)";
const PRODUCT_SUBSET: &str = "the fixture lists a subset of `product`: product.php returns \
the whole version file (src/opnsense/version/core.in: every CORE_* and product_* key) plus \
product_latest/mirror/time/log/repos/check/license";
const AUTOMATIC_VARIES: &str = "automatic rows carry the keys their rule was registered \
with in filter.lib.inc, which differ from rule to rule (`gateway`, `icmp6-type`, \
`allowopts`, `disabled`, no `interface` for floating ones ...); the fixture shows one";
const HANDWRITTEN_SUBSET: &str = "the fixture is abbreviated (\"...\" placeholders or a \
hand-picked subset of the fields)";

#[allow(clippy::too_many_lines, reason = "one table row per fixture")]
fn cases() -> Vec<Case> {
    vec![
        // firewall/filter
        case("firewall/search_rule.json", "POST", "firewall/filter/search_rule")
            .body("{}")
            .except(&[(
                "rows[]: automatic elements only in the simulator",
                "fixture wrong for 26.1.10+: FilterController::searchRuleAction merges \
                 `filter list non_mvc_rules` always (26.1.10 FilterController.php:186-191; \
                 26.1.9 did so only with show_all)",
            )]),
        case("firewall/search_rule_with_legacy.json", "POST", "firewall/filter/search_rule")
            .body(r#"{"show_all": "1"}"#)
            .except(&[
                ("rows[]: no legacy element in the simulator", NO_LEGACY_USER_RULES),
                ("rows[automatic].log", AUTOMATIC_ROW),
                ("rows[automatic].disablereplyto", AUTOMATIC_ROW),
                ("rows[automatic].#priority", AUTOMATIC_ROW),
                ("rows[automatic].quick", AUTOMATIC_ROW),
                ("rows[automatic].allowopts", AUTOMATIC_VARIES),
                ("rows[automatic].destination_not", AUTOMATIC_VARIES),
                ("rows[automatic].disabled", AUTOMATIC_VARIES),
                ("rows[automatic].gateway", AUTOMATIC_VARIES),
                ("rows[automatic].icmp6-type", AUTOMATIC_VARIES),
                ("rows[automatic].interface", AUTOMATIC_VARIES),
                ("rows[automatic].statetype", AUTOMATIC_VARIES),
            ]),
        case("firewall/get_rule.json", "GET", "firewall/filter/get_rule/{rule}"),
        case("firewall/get_rule_not_found.json", "GET", "firewall/filter/get_rule/{unknown}"),
        case("firewall/add_rule_saved.json", "POST", "firewall/filter/add_rule")
            .body(r#"{"rule": {"description": "fixture"}}"#),
        case("firewall/add_rule_failed.json", "POST", "firewall/filter/add_rule")
            .body(r#"{"rule": {"source_net": "lan,nope", "destination_port": "99999", "protocol": "any"}}"#),
        case("firewall/set_rule_saved.json", "POST", "firewall/filter/set_rule/{rule}")
            .body(r#"{"rule": {"description": "fixture"}}"#),
        case("firewall/set_rule_failed.json", "POST", "firewall/filter/set_rule/{rule}")
            .body(r#"{"rule": {"action": "allow", "description": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}"#),
        case("firewall/set_rule_no_wrapper.json", "POST", "firewall/filter/set_rule/{rule}")
            .body(r#"{"description": "fixture"}"#),
        case("firewall/del_rule.json", "POST", "firewall/filter/del_rule/{rule}").body("{}"),
        case("firewall/del_rule_not_found.json", "POST", "firewall/filter/del_rule/{unknown}")
            .body("{}"),
        case("firewall/toggle_rule.json", "POST", "firewall/filter/toggle_rule/{rule}")
            .body("{}"),
        case("firewall/toggle_rule_unchanged.json", "POST", "firewall/filter/toggle_rule/{rule}/1")
            .body("{}"),
        case("firewall/toggle_rule_log.json", "POST", "firewall/filter/toggle_rule_log/{rule}/1")
            .body("{}"),
        case("firewall/move_rule_before.json", "POST", "firewall/filter/move_rule_before/{rule2}/{rule}")
            .body("{}"),
        case("firewall/apply.json", "POST", "firewall/filter/apply").body("{}"),
        case("firewall/apply_denied_or_get.json", "GET", "firewall/filter/apply"),
        case("firewall/apply_rollback.json", "POST", "firewall/filter/apply/1767361234.57")
            .body("{}"),
        case("firewall/savepoint.json", "POST", "firewall/filter/savepoint").body("{}"),
        case("firewall/cancel_rollback.json", "POST", "firewall/filter/cancelRollback/1767361234.57")
            .body("{}")
            .prepare(&[("firewall/filter/apply/1767361234.57", "{}")]),
        case("firewall/cancel_rollback_not_pending.json", "POST", "firewall/filter/cancelRollback/1.25")
            .body("{}"),
        case("firewall/revert.json", "POST", "firewall/filter/revert/1767361234.57").body("{}"),
        case("firewall/revert_unknown.json", "POST", "firewall/filter/revert/1.25").body("{}"),
        // firewall/alias
        case("firewall/alias_search_item.json", "POST", "firewall/alias/search_item").body("{}"),
        case("firewall/alias_get.json", "GET", "firewall/alias/get")
            .maps(&["alias.aliases.alias"]),
        case("firewall/alias_get_item.json", "GET", "firewall/alias/get_item/{alias}"),
        case("firewall/alias_get_item_urltable.json", "GET", "firewall/alias/get_item/{created}")
            .prepare(&[(
                "firewall/alias/add_item",
                r#"{"alias": {"name": "fixture_table", "type": "urltable", "content": "https://example.com/list.txt", "updatefreq": "1"}}"#,
            )]),
        case("firewall/alias_get_uuid.json", "GET", "firewall/alias/getAliasUUID/webservers"),
        case("firewall/alias_get_uuid_not_found.json", "GET", "firewall/alias/getAliasUUID/nope"),
        case("firewall/alias_add_item_saved.json", "POST", "firewall/alias/add_item")
            .body(r#"{"alias": {"name": "fixture_hosts", "type": "host", "content": "10.0.0.1"}}"#),
        case("firewall/alias_add_item_failed.json", "POST", "firewall/alias/add_item")
            .body(r#"{"alias": {"name": "webservers", "type": "host", "content": "10.0.0.300\n10.0.0.1,10.0.0.2"}}"#),
        case("firewall/alias_set_item_saved.json", "POST", "firewall/alias/set_item/{alias}")
            .body(r#"{"alias": {"description": "fixture"}}"#),
        case("firewall/alias_toggle_item.json", "POST", "firewall/alias/toggle_item/{alias}")
            .body("{}"),
        case("firewall/alias_del_item.json", "POST", "firewall/alias/del_item/{unused_alias}")
            .body("{}"),
        case("firewall/alias_del_item_not_found.json", "POST", "firewall/alias/del_item/{unknown}")
            .body("{}"),
        case("firewall/alias_del_item_in_use.json", "POST", "firewall/alias/del_item/{alias}")
            .body("{}")
            .status(500),
        case("firewall/error_500_user_exception.json", "POST", "firewall/alias/del_item/{alias}")
            .body("{}")
            .status(500),
        case("firewall/alias_reconfigure.json", "POST", "firewall/alias/reconfigure").body("{}"),
        case("firewall/alias_reconfigure_get.json", "GET", "firewall/alias/reconfigure"),
        // AliasController::getItemAction of an unknown uuid at 26.1.10: TypeError.
        case("firewall/error_500_unexpected.json", "GET", "firewall/alias/get_item/{unknown}")
            .status(500),
        // firewall/d_nat
        case("firewall/d_nat_search.json", "POST", "firewall/d_nat/search_rule").body("{}"),
        case("firewall/d_nat_get_rule.json", "GET", "firewall/d_nat/get_rule/{dnat}"),
        case("firewall/d_nat_get_rule_not_found.json", "GET", "firewall/d_nat/get_rule/{unknown}"),
        case("firewall/d_nat_add_rule_saved.json", "POST", "firewall/d_nat/add_rule")
            .body(r#"{"rule": {"interface": "wan", "protocol": "tcp", "target": "192.168.1.5", "local-port": "80"}}"#),
        case("firewall/d_nat_add_rule_failed.json", "POST", "firewall/d_nat/add_rule")
            .body(r#"{"rule": {"interface": "wan", "protocol": "any", "destination": {"network": "wanip", "port": "8443"}, "target": "192.168.1.300"}}"#),
        case("firewall/d_nat_set_rule_saved.json", "POST", "firewall/d_nat/set_rule/{dnat}")
            .body(r#"{"rule": {"descr": "fixture"}}"#),
        case("firewall/d_nat_toggle_rule.json", "POST", "firewall/d_nat/toggle_rule/{dnat}")
            .body("{}"),
        case("firewall/d_nat_toggle_rule_failed.json", "POST", "firewall/d_nat/toggle_rule/{unknown}")
            .body("{}"),
        case("firewall/d_nat_del_rule.json", "POST", "firewall/d_nat/del_rule/{dnat}").body("{}"),
        case("firewall/d_nat_apply.json", "POST", "firewall/d_nat/apply").body("{}"),
        // errors
        case("firewall/error_400_invalid_json.json", "POST", "firewall/filter/add_rule")
            .auth(Auth::EmptyJsonBody)
            .status(400),
        case("services/error_400_empty_json_body.json", "POST", "unbound/service/restart")
            .auth(Auth::EmptyJsonBody)
            .status(400),
        case("firewall/error_401_auth_failed.json", "GET", "core/system/status")
            .auth(Auth::WrongSecret)
            .status(401),
        case("services/error_401.json", "GET", "unbound/service/status")
            .auth(Auth::WrongSecret)
            .status(401),
        case("firewall/error_403_forbidden.json", "GET", "firewall/alias/get")
            .auth(Auth::Limited)
            .status(403),
        case("services/error_403.json", "POST", "unbound/service/restart")
            .body("{}")
            .auth(Auth::Limited)
            .status(403),
        case("firewall/error_404_endpoint_not_found.json", "GET", "firewall/filter/no_such_action")
            .status(404),
        case("services/error_404.json", "GET", "nosuchmodule/service/status").status(404),
        // routes
        case("routes/searchroute.json", "POST", "routes/routes/searchroute").body("{}"),
        case("routes/getroute.json", "GET", "routes/routes/getroute/{route}"),
        case("routes/addroute.json", "POST", "routes/routes/addroute")
            .body(r#"{"route": {"network": "10.40.0.0/16", "gateway": "WAN_GW", "descr": "fixture"}}"#),
        case("routes/addroute_failed.json", "POST", "routes/routes/addroute")
            .body(r#"{"route": {"network": "10.40.0.0", "gateway": ""}}"#),
        case("routes/setroute.json", "POST", "routes/routes/setroute/{route}")
            .body(r#"{"route": {"network": "10.20.0.0/16", "descr": "fixture"}}"#),
        case("routes/delroute.json", "POST", "routes/routes/delroute/{route}").body("{}"),
        case("routes/toggleroute.json", "POST", "routes/routes/toggleroute/{route}").body("{}"),
        case("routes/reconfigure.json", "POST", "routes/routes/reconfigure").body("{}"),
        // unbound
        case("dns/searchHostOverride.json", "POST", "unbound/settings/searchHostOverride")
            .body("{}"),
        case("dns/getHostOverride.json", "GET", "unbound/settings/getHostOverride/{host}"),
        case("dns/addHostOverride.json", "POST", "unbound/settings/addHostOverride")
            .body(r#"{"host": {"hostname": "fixture", "domain": "example.lan", "rr": "A", "server": "192.168.1.99"}}"#),
        case("dns/addHostOverride_failed.json", "POST", "unbound/settings/addHostOverride")
            .body(r#"{"host": {"hostname": "x", "rr": "A"}}"#),
        case("dns/setHostOverride.json", "POST", "unbound/settings/setHostOverride/{host}")
            .body(r#"{"host": {"description": "fixture"}}"#),
        case("dns/delHostOverride.json", "POST", "unbound/settings/delHostOverride/{host}")
            .body("{}"),
        case("dns/service_reconfigure.json", "POST", "unbound/service/reconfigure").body("{}"),
        case("dns/settings_get.json", "GET", "unbound/settings/get").maps(&["unbound.hosts.host"]).except(&[
            ("unbound.general", HANDWRITTEN_SUBSET),
            ("unbound.advanced", HANDWRITTEN_SUBSET),
            ("unbound.dnsbl", HANDWRITTEN_SUBSET),
            ("unbound.hosts.host{}", HANDWRITTEN_SUBSET),
        ]),
        // kea
        case("dhcp/kea_dhcpv4_get.json", "GET", "kea/dhcpv4/get"),
        case("dhcp/kea_dhcpv4_searchSubnet.json", "POST", "kea/dhcpv4/searchSubnet")
            .body("{}")
            .except(&[(
                "rows[]",
                "the fixture lists a subset of the subnet4 fields; KeaDhcpv4.xml (26.1.10) \
                 has option_data.* , ddns_* and more, which the simulator serves",
            )]),
        case("dhcp/kea_dhcpv4_searchReservation.json", "POST", "kea/dhcpv4/searchReservation")
            .body("{}"),
        case("dhcp/kea_dhcpv4_getReservation.json", "GET", "kea/dhcpv4/getReservation/{reservation}"),
        case("dhcp/kea_dhcpv4_addReservation.json", "POST", "kea/dhcpv4/addReservation")
            .body(r#"{"reservation": {"subnet": "{subnet}", "ip_address": "192.168.1.99", "hw_address": "00:11:22:33:44:99"}}"#),
        case("dhcp/kea_dhcpv4_addReservation_failed.json", "POST", "kea/dhcpv4/addReservation")
            .body(r#"{"reservation": {"subnet": "{subnet}", "ip_address": "10.9.9.9"}}"#),
        case("dhcp/kea_dhcpv4_setReservation.json", "POST", "kea/dhcpv4/setReservation/{reservation}")
            .body(r#"{"reservation": {"description": "fixture"}}"#),
        case("dhcp/kea_dhcpv4_delReservation.json", "POST", "kea/dhcpv4/delReservation/{reservation}")
            .body("{}"),
        case("dhcp/kea_leases4_search.json", "POST", "kea/leases4/search")
            .body("{}")
            .maps(&["interfaces"]),
        case("dhcp/kea_service_reconfigure.json", "POST", "kea/service/reconfigure").body("{}"),
        // dnsmasq
        case("dhcp/dnsmasq_leases_search.json", "POST", "dnsmasq/leases/search")
            .body("{}")
            .maps(&["interfaces"]),
        case("dhcp/dnsmasq_settings_searchHost.json", "POST", "dnsmasq/settings/searchHost")
            .body("{}"),
        case("dhcp/dnsmasq_settings_get.json", "GET", "dnsmasq/settings/get"),
        case("dhcp/dnsmasq_settings_getHost.json", "GET", "dnsmasq/settings/getHost/{dnsmasq_host}"),
        case("dhcp/dnsmasq_settings_addHost_failed.json", "POST", "dnsmasq/settings/addHost")
            .body(r#"{"host": {"host": "dup", "ip": "192.168.1.210", "hwaddr": "00:11:22:33:44:99"}}"#),
        // ids, interfaces
        case("ids/listRulesets.json", "POST", "ids/settings/listRulesets").body("{}"),
        case("interfaces/getInterfaceNames.json", "GET", "diagnostics/interface/getInterfaceNames")
            .maps(&[""]),
        case("interfaces/getInterfaceConfig.json", "GET", "diagnostics/interface/getInterfaceConfig")
            .maps(&[""])
            .except(&[(
                "{}.nd6",
                "the fixture omits it; legacy_interfaces_details() adds `nd6.flags` for every \
                 interface whose ifconfig output has an `nd6 options=` line \
                 (src/etc/inc/interfaces.lib.inc:512 at 26.1.10)",
            )]),
        case("interfaces/getArp.json", "GET", "diagnostics/interface/getArp"),
        case("interfaces/getNdp.json", "GET", "diagnostics/interface/getNdp"),
        // services
        case("services/service_status.json", "GET", "unbound/service/status"),
        case("services/service_start.json", "POST", "unbound/service/start").body("{}"),
        case("services/service_stop.json", "POST", "unbound/service/stop").body("{}"),
        case("services/service_restart.json", "POST", "unbound/service/restart").body("{}"),
        case("services/service_reconfigure.json", "POST", "unbound/service/reconfigure").body("{}"),
        case("services/wireguard_service_reconfigure.json", "POST", "wireguard/service/reconfigure")
            .body("{}"),
        case("services/core_service_search.json", "POST", "core/service/search").body("{}"),
        case("services/core_service_start.json", "POST", "core/service/start/unbound").body("{}"),
        case("services/core_service_stop.json", "POST", "core/service/stop/unbound").body("{}"),
        case("services/core_service_restart.json", "POST", "core/service/restart/unbound")
            .body("{}"),
        // system
        case("system/core_system_status_clean.json", "GET", "core/system/status"),
        case("system/core_system_status.json", "GET", "core/system/status").except(&[
            (
                "metadata.system.status",
                "the fixture shows a firewall with a pending warning (`status` is then the \
                 level name); the simulated firewall has none (int 2)",
            ),
            (
                "subsystems",
                "top-level `subsystems` appears only when a status class reports something",
            ),
        ]),
        case("system/core_firmware_status_unchecked.json", "GET", "core/firmware/status")
            .except(&[("product.", PRODUCT_SUBSET)]),
        case("system/core_firmware_status.json", "POST", "core/firmware/status").except(&[
            (
                "all_packages",
                "the fixture shows an available update: FirmwareController::statusAction keys \
                 `all_packages` by package name, so PHP encodes it as an object, and as `[]` \
                 when there is none (the simulated firewall is current)",
            ),
            (
                "status_reboot",
                "set only when updates are available (FirmwareController.php:329 at 26.1.10)",
            ),
            ("product.", PRODUCT_SUBSET),
        ]),
        case("system/core_firmware_check.json", "POST", "core/firmware/check").body("{}"),
        case("system/core_firmware_upgradestatus.json", "GET", "core/firmware/upgradestatus"),
    ]
}

/// Fixtures the comparison does not cover, with the reason.
const NOT_COMPARED: &[(&str, &str)] = &[(
    "system/core_backup_download_this.xml",
    "not JSON (raw config.xml, checked in areas.rs)",
)];

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../opnsense-api/tests/fixtures")
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An object whose keys are data (option keys, uuids, names, devices), not field names.
fn is_data_map(path: &str, obj: &Map<String, Value>, maps: &[&str]) -> bool {
    let option_map = !obj.is_empty()
        && obj
            .values()
            .all(|v| v.as_object().is_some_and(|e| e.contains_key("selected")));
    let uuid_keys = !obj.is_empty()
        && obj.keys().all(|k| {
            k.len() == 36 && k.bytes().filter(|b| *b == b'-').count() == 4
                || k.starts_with("__")
                || ["bogons", "bogonsv6", "sshlockout", "virusprot"].contains(&k.as_str())
        });
    option_map || uuid_keys || maps.contains(&path)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// How alike two values' shapes are (shared minus unshared object keys), to pair
/// array elements and map entries.
fn likeness(a: &Value, b: &Value) -> i64 {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let shared = x.keys().filter(|k| y.contains_key(*k)).count();
            let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            count(shared) * 2 - count(x.len() - shared) - count(y.len() - shared)
        }
        _ => i64::from(type_name(a) == type_name(b)),
    }
}

/// The candidate most like `target`; the same description or name wins.
fn best<'a>(target: &Value, candidates: &'a [&'a Value]) -> Option<&'a Value> {
    let label = |v: &Value| {
        ["description", "descr", "name"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
            .map(str::to_lowercase)
    };
    candidates.iter().copied().max_by_key(|c| {
        let same = label(target).is_some() && label(target) == label(c);
        likeness(target, c) + if same { 1000 } else { 0 }
    })
}

/// The kind of a search row: anti-lockout pseudo rows, automatic (32 hex digit ids) and
/// legacy rules, and model records. Rows are only compared with rows of their kind.
fn row_kind(v: &Value) -> &'static str {
    let uuid = v.get("uuid").and_then(Value::as_str).unwrap_or_default();
    if let Some(alias) = v.get("isAlias").and_then(Value::as_bool) {
        // alias_meta_* entries: aliases carry a `summary`.
        return if alias { "alias" } else { "network" };
    }
    if uuid.starts_with("lockout_") {
        "anti-lockout"
    } else if v.get("is_automatic") == Some(&Value::Bool(true)) {
        "automatic"
    } else if v.get("legacy").is_some() {
        "legacy"
    } else {
        "record"
    }
}

/// Keys whose presence depends on the data: display texts (`%field`, only where they
/// differ from the value) and `alias_meta_*` (only for non-empty fields).
fn optional_key(k: &str) -> bool {
    k.starts_with('%') || k.starts_with("alias_meta_")
}

/// Records every shape difference between `fixture` and `sim` below `path`. `null` is
/// compatible with every type (nullable fields such as `modified_local`).
fn compare(path: &str, fixture: &Value, sim: &Value, maps: &[&str], diffs: &mut Vec<String>) {
    if fixture.is_null() || sim.is_null() {
        return;
    }
    if type_name(fixture) != type_name(sim) {
        diffs.push(format!(
            "{path}: fixture {} vs simulator {}",
            type_name(fixture),
            type_name(sim)
        ));
        return;
    }
    match (fixture, sim) {
        (Value::Object(f), Value::Object(s)) => {
            if is_data_map(path, f, maps) || is_data_map(path, s, maps) {
                let entries = format!("{path}{{}}");
                let f_values: Vec<&Value> = f.values().collect();
                let s_values: Vec<&Value> = s.values().collect();
                for (k, sv) in s {
                    if let Some(fv) = f.get(k).or_else(|| best(sv, &f_values)) {
                        compare(&entries, fv, sv, maps, diffs);
                    }
                }
                for (k, fv) in f {
                    if let Some(sv) = s.get(k).or_else(|| best(fv, &s_values)) {
                        compare(&entries, fv, sv, maps, diffs);
                    }
                }
                return;
            }
            for (k, fv) in f {
                match s.get(k) {
                    Some(sv) => compare(&join(path, k), fv, sv, maps, diffs),
                    None if optional_key(k) => {}
                    None => diffs.push(format!("{}: missing in the simulator", join(path, k))),
                }
            }
            for k in s.keys().filter(|k| !f.contains_key(*k) && !optional_key(k)) {
                diffs.push(format!("{}: not in the fixture", join(path, k)));
            }
        }
        (Value::Array(f), Value::Array(s)) => {
            let kinds = |v: &[Value]| {
                let mut k: Vec<&'static str> = v.iter().map(row_kind).collect();
                k.sort_unstable();
                k.dedup();
                k
            };
            for kind in kinds(f) {
                // Element paths name the kind unless it is a plain record: `rows[automatic]`.
                let elements = if kind == "record" {
                    format!("{path}[]")
                } else {
                    format!("{path}[{kind}]")
                };
                let fs: Vec<&Value> = f.iter().filter(|v| row_kind(v) == kind).collect();
                let ss: Vec<&Value> = s.iter().filter(|v| row_kind(v) == kind).collect();
                if ss.is_empty() {
                    if !s.is_empty() && path == "rows" {
                        diffs.push(format!("{path}[]: no {kind} element in the simulator"));
                    }
                    continue;
                }
                for sv in &ss {
                    if let Some(fv) = best(sv, &fs) {
                        compare(&elements, fv, sv, maps, diffs);
                    }
                }
                for fv in &fs {
                    if let Some(sv) = best(fv, &ss) {
                        compare(&elements, fv, sv, maps, diffs);
                    }
                }
            }
            for kind in kinds(s) {
                if path == "rows" && !f.is_empty() && !kinds(f).contains(&kind) {
                    diffs.push(format!("{path}[]: {kind} elements only in the simulator"));
                }
            }
        }
        _ => {}
    }
}

/// Replaces the placeholders of `text`.
fn fill(text: &str, ids: &[(&str, String)]) -> String {
    let mut out = text.to_owned();
    for (name, value) in ids {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

async fn placeholders(h: &Harness) -> Vec<(&'static str, String)> {
    let mvc = |r: &Value| r.get("legacy").is_none();
    let rules = h
        .post_ok("firewall/filter/search_rule", json!({"rowCount": -1}))
        .await;
    let mvc_ids: Vec<String> = rows(&rules)
        .iter()
        .filter(|r| mvc(r))
        .map(|r| r["uuid"].as_str().unwrap().to_owned())
        .collect();
    let alias = |name: &'static str| async move {
        h.get_ok(&format!("firewall/alias/getAliasUUID/{name}"))
            .await["uuid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    vec![
        ("rule", mvc_ids[0].clone()),
        ("rule2", mvc_ids[1].clone()),
        ("alias", alias("webservers").await),
        ("unused_alias", alias("internal_nets").await),
        (
            "dnat",
            h.first_uuid("firewall/d_nat/search_rule", |r| {
                !r["uuid"]
                    .as_str()
                    .unwrap_or("lockout_")
                    .starts_with("lockout_")
            })
            .await,
        ),
        (
            "route",
            h.first_uuid("routes/routes/searchroute", |_| true).await,
        ),
        (
            "host",
            h.first_uuid("unbound/settings/searchHostOverride", |r| {
                r["hostname"] == "nas"
            })
            .await,
        ),
        (
            "reservation",
            h.first_uuid("kea/dhcpv4/searchReservation", |_| true).await,
        ),
        (
            "subnet",
            h.first_uuid("kea/dhcpv4/searchSubnet", |_| true).await,
        ),
        (
            "dnsmasq_host",
            h.first_uuid("dnsmasq/settings/searchHost", |r| r["host"] == "nas2")
                .await,
        ),
        ("unknown", UNKNOWN.to_owned()),
    ]
}

async fn run(case: &Case) -> Result<Vec<String>, String> {
    let h = Harness::with(SimConfig {
        limited_key: Some(LimitedKey {
            key: "limited".into(),
            secret: "limited-secret".into(),
            allowed_prefixes: vec!["/api/core/system/".into()],
        }),
        // Both DHCP servers, so Dnsmasq's leases are served too.
        dhcp: DhcpBackends::BOTH,
        ..SimConfig::default()
    })
    .await;
    let mut ids = placeholders(&h).await;
    for (path, body) in case.prepare {
        let answer = h
            .post_ok(
                &fill(path, &ids),
                serde_json::from_str(&fill(body, &ids)).unwrap(),
            )
            .await;
        if let Some(uuid) = answer["uuid"].as_str() {
            ids.push(("created", uuid.to_owned()));
        }
    }
    let path = fill(case.path, &ids);
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
    let url = h.url(&path);
    let mut req = match case.auth {
        Auth::Full | Auth::EmptyJsonBody => h.request(method, &path),
        Auth::WrongSecret => h
            .http
            .request(method, &url)
            .basic_auth(h.sim.api_key(), Some("wrong")),
        Auth::Limited => h
            .http
            .request(method, &url)
            .basic_auth("limited", Some("limited-secret")),
    };
    if case.auth == Auth::EmptyJsonBody {
        req = req.header("content-type", "application/json");
    } else if let Some(body) = case.body {
        req = req
            .header("content-type", "application/json")
            .body(fill(body, &ids));
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let text = resp.text().await.map_err(|e| e.to_string())?;
    h.sim.shutdown().await;
    if status != case.status {
        return Err(format!(
            "status {status} (expected {}): {text}",
            case.status
        ));
    }
    let sim: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    let raw = std::fs::read_to_string(fixtures_dir().join(case.fixture))
        .map_err(|e| format!("{}: {e}", case.fixture))?;
    let fixture: Value = serde_json::from_str(&raw).map_err(|e| e.to_string())?;
    let mut diffs = Vec::new();
    compare("", &fixture, &sim, case.maps, &mut diffs);
    diffs.sort();
    diffs.dedup();
    Ok(diffs
        .into_iter()
        .filter(|d| !case.exceptions.iter().any(|(p, _)| d.starts_with(p)))
        .collect())
}

#[tokio::test]
async fn simulator_answers_have_the_fixture_shapes() {
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        match run(case).await {
            Ok(diffs) if diffs.is_empty() => {}
            Ok(diffs) => failures.push(format!("{}:\n  {}", case.fixture, diffs.join("\n  "))),
            Err(e) => failures.push(format!("{}: {e}", case.fixture)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Every fixture file is either compared or listed with a reason.
#[test]
fn every_fixture_is_accounted_for() {
    let compared: Vec<&str> = cases().iter().map(|c| c.fixture).collect();
    let mut missing = Vec::new();
    for area in std::fs::read_dir(fixtures_dir()).expect("fixtures dir") {
        let area = area.unwrap().path();
        for file in std::fs::read_dir(&area).unwrap() {
            let file = file.unwrap().path();
            let name = format!(
                "{}/{}",
                area.file_name().unwrap().to_string_lossy(),
                file.file_name().unwrap().to_string_lossy()
            );
            if !compared.contains(&name.as_str()) && !NOT_COMPARED.iter().any(|(n, _)| *n == name) {
                missing.push(name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "fixtures neither compared nor excused: {missing:?}"
    );
}

//! `firewall/filter`: MVC filter rules, apply, savepoint and the (stock-defective)
//! rollback timer of 26.1.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{
    NetCheck, alias_meta, category_colors, category_uuid_options, check_network, gateway,
    interface_options, network_display, no_options, unix_now,
};
use crate::Version;
use crate::crud::{AreaSpec, ToggleStyle, hooks};
use crate::fields::{
    FieldSpec, Opt, boolean, description, int, multi, opts, select, text, volatile,
};
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::{Route, Shared};
use crate::state::{Collection, Config, PendingRollback, Record, SimState, split_list};
use crate::validate::{self, Family, Validations};

fn statetype_options(_: &Config) -> Vec<Opt> {
    opts(&[
        ("keep", "keep state"),
        ("sloppy", "sloppy state"),
        ("modulate", "modulate state"),
        ("synproxy", "synproxy state"),
        ("none", "no state"),
    ])
}

fn state_policy_options(_: &Config) -> Vec<Opt> {
    opts(&[
        ("if-bound", "Bind states to interface"),
        ("floating", "Floating states"),
    ])
}

fn action_options(_: &Config) -> Vec<Opt> {
    opts(&[("pass", "Pass"), ("block", "Block"), ("reject", "Reject")])
}

fn direction_options(_: &Config) -> Vec<Opt> {
    opts(&[("in", "In"), ("out", "Out"), ("any", "Both")])
}

fn ipprotocol_options(_: &Config) -> Vec<Opt> {
    opts(&[("inet", "IPv4"), ("inet6", "IPv6"), ("inet46", "any")])
}

/// ProtocolField: `any`, the common protocols, then /etc/protocols names upper-cased.
pub(crate) const PROTOCOLS: &[&str] = &[
    "TCP",
    "UDP",
    "TCP/UDP",
    "ICMP",
    "ESP",
    "AH",
    "GRE",
    "IGMP",
    "PIM",
    "OSPF",
    "IPV6-ICMP",
    "SCTP",
    "CARP",
    "PFSYNC",
    "VRRP",
    "L2TP",
    "IPENCAP",
    "ETHERIP",
    "RSVP",
    "UDPLITE",
    "DCCP",
];

fn protocol_options(_: &Config) -> Vec<Opt> {
    let mut v = vec![Opt::new("any", "any")];
    v.extend(PROTOCOLS.iter().map(|p| Opt::new(*p, *p)));
    v
}

fn icmptype_options(_: &Config) -> Vec<Opt> {
    let common = [
        ("echoreq", "Echo Request"),
        ("echorep", "Echo Reply"),
        ("unreach", "Destination Unreachable"),
        ("redir", "Redirect"),
        ("routeradv", "Router Advertisement"),
        ("routersol", "Router Solicitation"),
        ("timex", "Time Exceeded"),
        ("paramprob", "Invalid IP header"),
        ("timereq", "Timestamp"),
        ("timerep", "Timestamp Reply"),
        ("photuris", "Photuris"),
    ];
    let deprecated = [
        ("squench", "Source Quench"),
        ("althost", "Alternate Host"),
        ("inforeq", "Information Request"),
        ("inforep", "Information Reply"),
        ("maskreq", "Address Mask Request"),
        ("maskrep", "Address Mask Reply"),
        ("trace", "Traceroute"),
        ("dataconv", "Datagram conversion error"),
        ("mobredir", "Mobile Host Redirect"),
        ("ipv6-where", "IPv6 where-are-you"),
        ("ipv6-here", "IPv6 I-am-here"),
        ("mobregreq", "Mobile registration request"),
        ("mobregrep", "Mobile registration reply"),
        ("skip", "SKIP"),
    ];
    let tag = |group: &'static str| {
        move |(k, l): &(&str, &str)| Opt {
            key: (*k).to_owned(),
            label: (*l).to_owned(),
            group: Some(group),
        }
    };
    common
        .iter()
        .map(tag("Common"))
        .chain(deprecated.iter().map(tag("Deprecated")))
        .collect()
}

fn icmp6type_options(_: &Config) -> Vec<Opt> {
    opts(&[
        ("1", "Destination unreachable"),
        ("2", "Packet too big"),
        ("3", "Time exceeded"),
        ("4", "Invalid IPv6 header"),
        ("128", "Echo service request"),
        ("129", "Echo service reply"),
        ("130", "Group membership query"),
        ("131", "Group membership report"),
        ("132", "Group membership termination"),
        ("133", "Router solicitation"),
        ("134", "Router advertisement"),
        ("135", "Neighbor solicitation"),
        ("136", "Neighbor advertisement"),
        ("137", "Shorter route exists"),
        ("138", "Route renumbering"),
        ("139", "FQDN query"),
        ("140", "FQDN reply"),
        ("200", "mtrace response"),
        ("201", "mtrace messages"),
    ])
}

fn gateway_options(_: &Config) -> Vec<Opt> {
    super::GATEWAYS
        .iter()
        .map(|g| Opt::new(g.name, g.name))
        .collect()
}

fn overload_options(cfg: &Config) -> Vec<Opt> {
    cfg.aliases
        .iter()
        .filter(|a| a.get("type") != "port" && a.get("enabled") == "1")
        .map(|a| Opt::new(a.uuid.clone(), a.get("name")))
        .collect()
}

fn prio_table() -> Vec<Opt> {
    opts(&[
        ("1", "Background (1, lowest)"),
        ("0", "Best Effort (0, default)"),
        ("2", "Excellent Effort (2)"),
        ("3", "Critical Applications (3)"),
        ("4", "Video (4)"),
        ("5", "Voice (5)"),
        ("6", "Internetwork Control (6)"),
        ("7", "Network Control (7, highest)"),
    ])
}

fn prio_options(_: &Config) -> Vec<Opt> {
    prio_table()
}

fn tcpflag_options(_: &Config) -> Vec<Opt> {
    ["syn", "ack", "fin", "rst", "psh", "urg", "ece", "cwr"]
        .iter()
        .map(|f| Opt::new(*f, *f))
        .collect()
}

fn tos_options(_: &Config) -> Vec<Opt> {
    let mut v = opts(&[
        ("lowdelay", "lowdelay"),
        ("critical", "critical"),
        ("inetcontrol", "inetcontrol"),
        ("netcontrol", "netcontrol"),
        ("throughput", "throughput"),
        ("reliability", "reliability"),
        ("ef", "EF"),
    ]);
    for a in [
        "af11", "af12", "af13", "af21", "af22", "af23", "af31", "af32", "af33", "af41", "af42",
        "af43",
    ] {
        v.push(Opt::new(a, a.to_uppercase()));
    }
    for c in 0..8 {
        v.push(Opt::new(format!("cs{c}"), format!("CS{c}")));
    }
    v
}

const GATEWAY_MSG: &str =
    "Specify a valid gateway from the list matching the networks ip protocol.";
const MAX_I32: i64 = 2_147_483_647;

/// Filter rule fields in model order.
pub(crate) static FIELDS: &[FieldSpec] = &[
    boolean("enabled", "1"),
    select("statetype", statetype_options, None)
        .req()
        .def("keep"),
    select("state-policy", state_policy_options, Some("default")),
    int("sequence", 1, 999_999)
        .req()
        .msg("Sequence shall be between 1 and 999999."),
    volatile("sort_order"),
    volatile("prio_group"),
    select("action", action_options, None).req().def("pass"),
    boolean("quick", "1"),
    boolean("interfacenot", "0"),
    multi("interface", interface_options),
    select("direction", direction_options, None).req().def("in"),
    select("ipprotocol", ipprotocol_options, None)
        .req()
        .def("inet"),
    select("protocol", protocol_options, None).req().def("any"),
    multi("icmptype", icmptype_options),
    multi("icmp6type", icmp6type_options),
    text("source_net").req().def("any"),
    boolean("source_not", "0"),
    text("source_port"),
    text("destination_net").req().def("any"),
    boolean("destination_not", "0"),
    text("destination_port"),
    select("divert-to", no_options, Some("None")).msg("Specify a valid divert-to target."),
    select("gateway", gateway_options, Some("None")).msg(GATEWAY_MSG),
    select("replyto", gateway_options, Some("None")).msg(GATEWAY_MSG),
    boolean("disablereplyto", "0"),
    boolean("log", "0"),
    boolean("allowopts", "0"),
    boolean("nosync", "0"),
    boolean("nopfsync", "0"),
    int("statetimeout", 1, MAX_I32),
    int("udp-first", 1, MAX_I32),
    int("udp-multiple", 1, MAX_I32),
    int("udp-single", 1, MAX_I32),
    int("max-src-nodes", 1, MAX_I32),
    int("max-src-states", 1, MAX_I32),
    int("max-src-conn", 1, MAX_I32),
    int("max", 1, MAX_I32),
    int("max-src-conn-rate", 1, 4_294_967),
    int("max-src-conn-rates", 1, MAX_I32),
    select("overload", overload_options, Some("None")).msg("Alias not found."),
    int("adaptivestart", 0, MAX_I32),
    int("adaptiveend", 0, MAX_I32),
    select("prio", prio_options, Some("Any priority")),
    select("set-prio", prio_options, Some("Keep current priority")),
    select("set-prio-low", prio_options, Some("Keep current priority")),
    text("tag"),
    text("tagged"),
    multi("tcpflags1", tcpflag_options),
    multi("tcpflags2", tcpflag_options),
    boolean("tcpflags_any", "0"),
    multi("categories", category_uuid_options).msg("Related category not found."),
    select("sched", no_options, Some("None")),
    select("tos", tos_options, Some("Any")),
    select("shaper1", no_options, Some("None")).msg("Related pipe or queue not found."),
    select("shaper2", no_options, Some("None")).msg("Related pipe or queue not found."),
    description("description"),
];

/// ProtocolField upper-cases its input (`tcp` => `TCP`), except `any`.
fn transform(path: &str, value: String) -> String {
    if path == "protocol" {
        if value.eq_ignore_ascii_case("any") {
            "any".to_owned()
        } else {
            value.to_uppercase()
        }
    } else {
        value
    }
}

/// New rules get sequence max + 100 (101 when there are none).
fn prepare_new(cfg: &Config, rec: &mut Record) {
    let max = cfg
        .filter_rules
        .iter()
        .filter_map(|r| r.get("sequence").parse::<u64>().ok())
        .max();
    rec.set("sequence", max.map_or(101, |m| m + 100).to_string());
    update_sort_order(rec);
}

/// `prio_group` / `sort_order` volatile helpers.
pub(crate) fn update_sort_order(rec: &mut Record) {
    let interfaces = rec.list("interface");
    let prio = if interfaces.len() != 1 || rec.get("interfacenot") == "1" {
        "200000"
    } else {
        "400000"
    };
    let seq: u64 = rec.get("sequence").parse().unwrap_or(0);
    rec.set("prio_group", prio);
    rec.set("sort_order", format!("{prio}.0{seq:06}"));
}

fn before_save(rec: &mut Record, _: &Req) {
    update_sort_order(rec);
}

fn is_tcp_udp(proto: &str) -> bool {
    matches!(proto, "TCP" | "UDP" | "TCP/UDP")
}

/// Cross-field rules of `Filter.php` (messages attached as OPNsense does).
fn validate_rule(cfg: &Config, rec: &Record, v: &mut Validations) {
    let proto = rec.get("protocol");
    let ipproto = rec.get("ipprotocol");
    for (field, not_field, label) in [
        ("source_net", "source_not", "Source"),
        ("destination_net", "destination_not", "Destination"),
    ] {
        let value = rec.get(field);
        if value.is_empty() {
            continue;
        }
        match check_network(cfg, value, true) {
            NetCheck::Invalid => {
                v.add(
                    field,
                    format!("{value} is not a valid source IP address or alias."),
                );
            }
            NetCheck::Literal(family) => {
                let expected = match ipproto {
                    "inet" => Some(Family::V4),
                    "inet6" => Some(Family::V6),
                    _ => None,
                };
                if expected != Some(family) {
                    v.add(
                        field,
                        format!(
                            "{label} address type should match selected TCP/IP protocol version."
                        ),
                    );
                }
            }
            NetCheck::Named => {}
        }
        if rec.get(not_field) == "1" && split_list(value).len() != 1 {
            v.add(
                field,
                format!(
                    "Inverting {}s is only allowed for single targets to avoid mis-interpretations",
                    label.to_lowercase()
                ),
            );
        }
    }
    for (field, label) in [
        ("source_port", "Source"),
        ("destination_port", "Destination"),
    ] {
        let value = rec.get(field);
        if value.is_empty() {
            continue;
        }
        if !validate::is_rule_port(value, |a| super::is_port_alias(cfg, a), true) {
            v.add(
                field,
                "Please specify a valid portnumber, name, alias or range.",
            );
        }
        if !is_tcp_udp(proto) {
            v.add(
                field,
                format!("{label} ports are only valid for tcp or udp type rules."),
            );
        }
    }
    if !rec.get("icmptype").is_empty() && proto != "ICMP" {
        v.add("icmptype", "Option only applies to ICMP packets");
    }
    if !rec.get("icmp6type").is_empty() && proto != "IPV6-ICMP" {
        v.add("icmp6type", "Option only applies to IPV6-ICMP packets");
    }
    if rec.get("interfacenot") == "1" && rec.list("interface").len() != 1 {
        v.add(
            "interface",
            "Inverting interfaces is only allowed for single targets to avoid mis-interpretations",
        );
    }
    if proto != "TCP" {
        for field in [
            "statetimeout",
            "max-src-conn",
            "tcpflags1",
            "tcpflags2",
            "max-src-conn-rate",
            "max-src-conn-rates",
            "overload",
        ] {
            if !rec.get(field).is_empty() {
                v.add(field, "Invalid option for other than TCP protocol choices.");
            }
        }
        if rec.get("tcpflags_any") == "1" {
            v.add(
                "tcpflags_any",
                "Invalid option for other than TCP protocol choices.",
            );
        }
    }
    if rec.get("statetype") == "none" {
        for field in [
            "statetimeout",
            "max",
            "max-src-states",
            "max-src-nodes",
            "max-src-conn",
        ] {
            if !rec.get(field).is_empty() {
                v.add(field, "Invalid option when statetype is none.");
            }
        }
    }
    let gw = rec.get("gateway");
    if let Some(g) = gateway(gw) {
        let family_ok = match ipproto {
            "inet" => g.family == Family::V4,
            "inet6" => g.family == Family::V6,
            _ => false,
        };
        if !family_ok {
            v.add("gateway", GATEWAY_MSG);
        }
    }
    if !gw.is_empty() && !rec.get("replyto").is_empty() {
        v.add(
            "replyto",
            "You can not assign a reply-to destination to a rule that uses a gateway.",
        );
    }
}

/// Computed search columns: `%source_net`, `category_colors`, `alias_meta_*`.
fn extra_row(cfg: &Config, rec: &Record, row: &mut Map<String, Value>) {
    for field in ["source_net", "destination_net"] {
        let value = rec.get(field);
        let display = split_list(value)
            .into_iter()
            .map(|i| network_display(i, false))
            .collect::<Vec<_>>()
            .join(", ");
        if display != value {
            row.insert(format!("%{field}"), Value::String(display));
        }
    }
    row.insert(
        "category_colors".into(),
        category_colors(cfg, &rec.list("categories")),
    );
    for field in [
        "source_net",
        "source_port",
        "destination_net",
        "destination_port",
    ] {
        let value = rec.get(field);
        if !value.is_empty() {
            row.insert(format!("alias_meta_{field}"), alias_meta(cfg, value));
        }
    }
}

/// The filter area for the generic engine.
pub(crate) static AREA: AreaSpec = AreaSpec {
    collection: Collection::FilterRules,
    wrapper: "rule",
    fields: FIELDS,
    toggle: ToggleStyle::Enabled,
    default_sort: "sort_order",
    transform,
    prepare_new,
    before_save,
    validate: validate_rule,
    extra_row,
    check_delete: hooks::may_delete,
    after_set: hooks::no_after_set,
};

/// Endpoints of `firewall/filter`.
pub(crate) fn route(version: Version, action: &str) -> Option<Route> {
    match action {
        "searchrule" => Route::new(search_rule),
        "getrule" => Route::new(|_, st, req| AREA.get(st, req)),
        "addrule" => Route::new(|_, st, req| AREA.add(st, req)),
        "setrule" => Route::with_params(|_, st, req| AREA.set(st, req), 1),
        "delrule" => Route::with_params(|_, st, req| AREA.del(st, req), 1),
        "togglerule" => Route::with_params(|_, st, req| AREA.toggle(st, req), 1),
        "togglerulelog" => Route::with_params(toggle_rule_log, 2),
        "moverulebefore" => Route::with_params(move_rule_before, 2),
        "apply" => Route::new(apply),
        "savepoint" if version.has_rollback() => Route::new(savepoint),
        "cancelrollback" if version.has_rollback() => Route::with_params(cancel_rollback, 1),
        "revert" if version.has_rollback() => Route::with_params(revert, 1),
        "listcategories" => Route::new(list_categories),
        _ => None,
    }
}

/// `search_rule`: searchRecordsetBase over the staged rules, optional `interface` filter.
fn search_rule(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let params = SearchParams::recordset(req);
    let interface_filter = req.get_any("interface").map(|v| match v {
        Value::String(s) => s,
        other => other.to_string(),
    });
    let rows = st
        .staged
        .filter_rules
        .iter()
        .filter(|r| match &interface_filter {
            None => true,
            Some(f) if f.is_empty() => r.list("interface").len() != 1,
            Some(f) => {
                let wanted = split_list(f);
                r.list("interface").iter().any(|i| wanted.contains(i))
            }
        })
        .collect::<Vec<_>>();
    let rows = AREA.rows_of(&st.staged, rows);
    Reply::ok(search::recordset(rows, &params, "sort_order"))
}

fn toggle_rule_log(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "failed"}));
    }
    let uuid = req.param(0).unwrap_or_default();
    let log = if req.param(1) == Some("1") { "1" } else { "0" };
    if let Some(r) = st.staged.filter_rules.iter_mut().find(|r| r.uuid == uuid) {
        r.set("log", log);
    }
    Reply::ok(json!({"status": "ok"}))
}

fn move_rule_before(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "failed"}));
    }
    let (selected, target) = (
        req.param(0).unwrap_or_default(),
        req.param(1).unwrap_or_default(),
    );
    let target_seq = st
        .staged
        .filter_rules
        .iter()
        .find(|r| r.uuid == target)
        .and_then(|r| r.get("sequence").parse::<u64>().ok());
    if let Some(seq) = target_seq {
        // Shift the target and everything after it to make room.
        for r in &mut st.staged.filter_rules {
            let s: u64 = r.get("sequence").parse().unwrap_or(0);
            if s >= seq && r.uuid != selected {
                r.set("sequence", (s + 1).to_string());
                update_sort_order(r);
            }
        }
        if let Some(r) = st
            .staged
            .filter_rules
            .iter_mut()
            .find(|r| r.uuid == selected)
        {
            r.set("sequence", seq.to_string());
            update_sort_order(r);
        }
    }
    Reply::ok(json!({"status": "ok"}))
}

/// `list_categories`: categories with usage counts.
pub(crate) fn list_categories(_: &Arc<Shared>, st: &mut SimState, _: &Req) -> Reply {
    let rows: Vec<Value> = st
        .staged
        .categories
        .iter()
        .map(|c| {
            let used = st
                .staged
                .filter_rules
                .iter()
                .filter(|r| r.list("categories").contains(&c.uuid.as_str()))
                .count();
            json!({"uuid": c.uuid, "name": c.name, "color": c.color, "used": used})
        })
        .collect();
    Reply::ok(json!({"rows": rows}))
}

/// Loads the staged filter rules into the running ruleset (`filter reload`).
pub(crate) fn load_filter(shared: &Arc<Shared>, st: &mut SimState) {
    let previous = std::mem::replace(&mut st.live.filter_rules, st.staged.filter_rules.clone());
    st.before_last_filter_apply = Some(previous);
    shared.recompute_lockout_with(st);
}

/// `apply[/{rev}]`: arms the rollback timer first (26.1 only), then reloads.
pub(crate) fn apply(shared: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "error"}));
    }
    if shared.config.version.has_rollback()
        && let Some(rev) = req.param(0)
    {
        arm_rollback(shared, st, sanitize_revision(rev));
    }
    load_filter(shared, st);
    Reply::ok(json!({"status": "OK\n\n"}))
}

/// Apply for d_nat (inherited FilterBaseController::apply): same timer, NAT reload.
pub(crate) fn apply_with_timer(shared: &Arc<Shared>, st: &mut SimState, req: &Req) -> bool {
    if !req.is_post {
        return false;
    }
    if shared.config.version.has_rollback()
        && let Some(rev) = req.param(0)
    {
        arm_rollback(shared, st, sanitize_revision(rev));
    }
    true
}

/// Revision parameters are sanitised to digits and dots.
fn sanitize_revision(rev: &str) -> String {
    rev.chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect()
}

/// Starts the rollback timer unless one is already pending (`flock -n`: the second
/// timer exits immediately and is NOT armed).
fn arm_rollback(shared: &Arc<Shared>, st: &mut SimState, revision: String) {
    if st.rollback.is_some() {
        return;
    }
    let timer_shared = Arc::clone(shared);
    let timeout: Duration = shared.config.rollback_timeout;
    let rev = revision.clone();
    let task = tokio::spawn(async move {
        tokio::time::sleep(timeout).await;
        fire_rollback(&timer_shared, &rev);
    });
    st.rollback = Some(PendingRollback {
        revision,
        task: task.abort_handle(),
    });
}

/// Timer expiry: `Filter::rollback(revision)` + reload.
fn fire_rollback(shared: &Arc<Shared>, revision: &str) {
    let mut st = shared.state();
    if st.rollback.as_ref().is_some_and(|p| p.revision == revision) {
        st.rollback = None;
    }
    if !restore_backup(shared, &mut st, revision) {
        tracing::warn!(
            revision,
            "filter rollback: unable to revert to unexisting revision"
        );
    }
}

/// Copies the filter subtree of a backup into the config and reloads it.
fn restore_backup(shared: &Arc<Shared>, st: &mut SimState, revision: &str) -> bool {
    let Some(rules) = st.backups.get(revision).cloned() else {
        return false;
    };
    st.staged.filter_rules.clone_from(&rules);
    st.live.filter_rules = rules;
    shared.recompute_lockout_with(st);
    true
}

/// `savepoint`: writes a backup and returns the config revision. Stock 26.1 stores the
/// backup under a 4-decimal timestamp but returns a 2-decimal revision, so the two never
/// match (the known defect); `rollback_restores` stores it under both names.
pub(crate) fn savepoint(shared: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "error"}));
    }
    let revision = format!("{:.2}", unix_now());
    let backup_name = format!("{:.4}", unix_now());
    let rules = st.staged.filter_rules.clone();
    if shared.config.rollback_restores {
        st.backups.insert(revision.clone(), rules.clone());
    }
    st.backups.insert(backup_name, rules);
    Reply::ok(json!({"status": "ok", "retention": "100", "revision": revision}))
}

/// `cancelRollback/{rev}`: `"\n\n"` when that revision's timer was pending, else `""`.
pub(crate) fn cancel_rollback(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "error"}));
    }
    let rev = sanitize_revision(req.param(0).unwrap_or_default());
    let pending = st.rollback.as_ref().is_some_and(|p| p.revision == rev);
    if pending && let Some(p) = st.rollback.take() {
        p.task.abort();
        return Reply::ok(json!({"status": "\n\n"}));
    }
    Reply::ok(json!({"status": ""}))
}

/// `revert/{rev}`: immediate rollback, or "unknown (or removed) savepoint".
fn revert(shared: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "error"}));
    }
    let rev = sanitize_revision(req.param(0).unwrap_or_default());
    if restore_backup(shared, st, &rev) {
        Reply::ok(json!({"status": "ok"}))
    } else {
        Reply::ok(json!({"status": "unknown (or removed) savepoint"}))
    }
}

//! `firewall/filter`: MVC filter rules, apply, savepoint and the (stock-defective)
//! rollback timer of 26.1.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{
    add_alias_meta, automatic, category_colors, category_uuid_options, in_categories,
    interface_options, names, network_display, no_options,
};
use crate::Version;
use crate::backups::{Backup, Revision};
use crate::crud::{Actions, AreaSpec};
use crate::fields::{
    FieldSpec, Input, Opt, boolean, description, int, multi, opt_boolean, opts, select,
    strict_text, text, volatile,
};
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::{Route, Shared};
use crate::state::{Collection, Config, PendingRollback, Record, SimState, split_list};
use crate::validate::{self, Validations};

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

/// ProtocolField's priority protocols, listed first in this order (when they exist).
const PRIO_PROTOCOLS: &[&str] = &[
    "TCP", "UDP", "TCP/UDP", "ICMP", "ESP", "AH", "GRE", "IGMP", "PIM", "OSPF",
];

/// ProtocolField options (keys upper-case, labels upper-case): the priority protocols,
/// then every other `/etc/protocols` entry and `TCP/UDP` in natural order of the label
/// (`ProtocolField::actionPostLoadingEvent()`, identical at 26.1.10 and 26.7.2).
pub(crate) fn protocol_list() -> Vec<String> {
    let mut all: Vec<String> = names::PROTOCOL_FIELD
        .iter()
        .cloned()
        .chain(std::iter::once("TCP/UDP".to_owned()))
        .collect();
    all.sort_by(|a, b| crate::search::natural_cmp(a, b));
    let mut out: Vec<String> = PRIO_PROTOCOLS
        .iter()
        .filter(|p| all.iter().any(|a| a == *p))
        .map(|p| (*p).to_owned())
        .collect();
    out.extend(
        all.into_iter()
            .filter(|a| !PRIO_PROTOCOLS.contains(&a.as_str())),
    );
    out
}

pub(crate) fn protocol_options(_: &Config) -> Vec<Opt> {
    let mut v = vec![Opt::new("any", "any")];
    v.extend(protocol_list().into_iter().map(|p| Opt::new(p.clone(), p)));
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
        ("paramprob", "Parameter Problem"),
        ("timereq", "Timestamp"),
        ("timerep", "Timestamp Reply"),
        ("photuris", "Photuris"),
    ];
    let deprecated = [
        ("squench", "Source Quench"),
        ("althost", "Alternate Host Address"),
        ("inforeq", "Information Request"),
        ("inforep", "Information Reply"),
        ("maskreq", "Address Mask Request"),
        ("maskrep", "Address Mask Reply"),
        ("trace", "Traceroute"),
        ("dataconv", "Data conversion problem"),
        ("mobredir", "Mobile host redirection"),
        ("ipv6-where", "IPv6 where-are-you"),
        ("ipv6-here", "IPv6 i-am-here"),
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
        ("130", "Multicast Listener Query"),
        ("131", "Multicast listener report"),
        ("132", "Multicast listener done"),
        ("133", "Router solicitation"),
        ("134", "Router advertisement"),
        ("135", "Neighbor solicitation"),
        ("136", "Neighbor advertisement"),
        ("137", "Shorter route exists"),
        ("138", "Route renumbering"),
        ("139", "ICMP Node Information Query"),
        ("140", "Node information reply"),
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
    cfg[Collection::Aliases]
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
    for n in 0..=255 {
        v.push(Opt::new(format!("0x{n:x}"), format!("0x{n:02X}")));
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
    select("protocol", protocol_options, None)
        .req()
        .def("any")
        .input(Input::Upper),
    multi("icmptype", icmptype_options),
    multi("icmp6type", icmp6type_options),
    text("source_net").req().def("any"),
    boolean("source_not", "0"),
    text("source_port").input(Input::Port),
    text("destination_net").req().def("any"),
    boolean("destination_not", "0"),
    text("destination_port").input(Input::Port),
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
    int("max-pkt-rate-number", 1, 4_294_967).since(Version::V26_7),
    int("max-pkt-rate-seconds", 1, MAX_I32).since(Version::V26_7),
    select("overload", overload_options, Some("None")).msg("Alias not found."),
    int("adaptivestart", 0, MAX_I32),
    int("adaptiveend", 0, MAX_I32),
    select("prio", prio_options, Some("Any priority")),
    select("set-prio", prio_options, Some("Keep current priority")),
    select("set-prio-low", prio_options, Some("Keep current priority")),
    strict_text("tag", Some(is_tag)),
    strict_text("tagged", Some(is_tag)),
    multi("tcpflags1", tcpflag_options),
    multi("tcpflags2", tcpflag_options),
    opt_boolean("tcpflags_any"),
    multi("categories", category_uuid_options).msg("Related category not found."),
    select("sched", no_options, Some("None")),
    select("tos", tos_options, Some("Any")),
    select("shaper1", no_options, Some("None")).msg("Related pipe or queue not found."),
    select("shaper2", no_options, Some("None")).msg("Related pipe or queue not found."),
    description("description"),
];

/// `tag`/`tagged` mask `/^([0-9a-zA-Z.,_\-]){0,512}$/u`.
pub(crate) fn is_tag(s: &str) -> bool {
    s.chars().count() <= 512
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ',' | '_' | '-'))
}

/// New rules get sequence max + 100 (101 when there are none).
fn prepare_new(cfg: &Config, rec: &mut Record) {
    // FilterSequenceField::applyDefault(): max(minimum 1, every sequence) + 100.
    let max = cfg[Collection::FilterRules]
        .iter()
        .filter_map(|r| r.get("sequence").parse::<u64>().ok())
        .fold(1, u64::max);
    rec.set("sequence", (max + 100).to_string());
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

pub(crate) fn is_tcp_udp(proto: &str) -> bool {
    matches!(proto, "TCP" | "UDP" | "TCP/UDP")
}

/// `Util::isSubnet($v) || Util::isIpAddress($v)` on the whole field value.
fn is_literal(value: &str) -> bool {
    validate::literal_family(value).is_some()
}

/// `strpos($v, ':') === false ? "inet" : "inet6"`.
fn literal_proto(value: &str) -> &'static str {
    if value.contains(':') { "inet6" } else { "inet" }
}

/// The checks of `Filter::performValidation()` that filter and source NAT rules share, in its
/// order: ports only for TCP/UDP, literal addresses of the rule's family, `any` alone.
pub(crate) fn check_ports_families_any(rec: &Record, v: &mut Validations) {
    let get = |f: &str| rec.get(f);
    let (proto, ipproto) = (get("protocol"), get("ipprotocol"));
    if !get("source_port").is_empty() && !is_tcp_udp(proto) {
        v.add(
            "source_port",
            "Source ports are only valid for tcp or udp type rules.",
        );
    }
    if !get("destination_port").is_empty() && !is_tcp_udp(proto) {
        v.add(
            "destination_port",
            "Destination ports are only valid for tcp or udp type rules.",
        );
    }
    for (field, label) in [("destination_net", "Destination"), ("source_net", "Source")] {
        let value = get(field);
        if is_literal(value) && literal_proto(value) != ipproto {
            v.add(
                field,
                format!("{label} address type should match selected TCP/IP protocol version."),
            );
        }
    }
    for field in ["source_net", "destination_net"] {
        if get(field).contains(',') && get(field).split(',').any(|i| i == "any") {
            v.add(field, "Any can not be combined with other aliases");
        }
    }
}

/// The inversion checks of `Filter::performValidation()` that filter and source NAT rules
/// share: an inverted source or destination is a single value.
pub(crate) fn check_inversions(rec: &Record, v: &mut Validations) {
    let get = |f: &str| rec.get(f);
    if get("source_net").contains(',') && get("source_not") == "1" {
        v.add(
            "source_not",
            "Inverting sources is only allowed for single targets to avoid mis-interpretations",
        );
    }
    if get("destination_net").contains(',') && get("destination_not") == "1" {
        v.add(
            "destination_net",
            "Inverting destinations is only allowed for single targets to avoid mis-interpretations",
        );
    }
}

/// The `rules.rule` part of `Filter::performValidation()` (26.1.10 and 26.7.2 are
/// identical here), in its order and with its message keys. Field-level checks (option
/// lists, NetworkAliasField, PortField) come first.
fn validate_rule(cfg: &Config, rec: &Record, req: &Req, v: &mut Validations) {
    let get = |f: &str| rec.get(f);
    let set = |f: &str| !validate::php_empty(rec.get(f));
    // Field validators.
    super::check_rule_fields(cfg, rec, v, &["source_net", "destination_net"], true);
    if req.version >= Version::V26_7 {
        // DependConstraint on both max-pkt-rate fields.
        for (field, other) in [
            ("max-pkt-rate-number", "max-pkt-rate-seconds"),
            ("max-pkt-rate-seconds", "max-pkt-rate-number"),
        ] {
            if !set(field) && set(other) {
                v.add(
                    field,
                    "Packet rate number and seconds must either both be set or left empty.",
                );
            }
        }
    }
    // Filter::performValidation().
    let proto = get("protocol");
    check_ports_families_any(rec, v);
    if !get("icmptype").is_empty() && proto != "ICMP" {
        v.add("icmptype", "Option only applies to ICMP packets");
    }
    if !get("icmp6type").is_empty() && proto != "IPV6-ICMP" {
        v.add("icmp6type", "Option only applies to IPV6-ICMP packets");
    }
    check_inversions(rec, v);
    if set("interfacenot")
        && (get("interface").split(',').count() != 1 || get("interface").is_empty())
    {
        v.add(
            "interfacenot",
            "Inverting interfaces is only allowed for single targets to avoid mis-interpretations",
        );
    }
    // Filter.php:133 `!in_array($rule->protocol, ['TCP', 'TCP/UDP'])`.
    if !matches!(proto, "TCP" | "TCP/UDP") {
        for field in [
            "statetimeout",
            "max-src-conn",
            "tcpflags1",
            "tcpflags2",
            "tcpflags_any",
            "max-src-conn-rate",
            "max-src-conn-rates",
            "overload",
        ] {
            if set(field) {
                v.add(field, "Invalid option for other than TCP protocol choices.");
            }
        }
    }
    let (start, end, max) = (get("adaptivestart"), get("adaptiveend"), get("max"));
    let num = |s: &str| s.parse::<i64>().unwrap_or(0);
    if max.is_empty() && (start == "0" || end == "0") {
        v.add("max", ADAPTIVE_MSG);
    } else if (start == "0") != (end == "0") {
        v.add(
            "adaptivestart",
            "Adaptive timeouts must be disabled together.",
        );
    } else if validate::php_empty(start) != validate::php_empty(end) {
        v.add(
            "adaptivestart",
            "The adaptive timouts values must be set together.",
        );
    } else if set("max") && set("adaptiveend") && num(max) > num(end) {
        v.add(
            "adaptiveend",
            "The value of adaptive.end must be greater than the Max states value.",
        );
    } else if set("adaptivestart") && set("adaptiveend") && num(start) > num(end) {
        v.add(
            "adaptiveend",
            "The value of adaptive.end must be greater than adaptive.start value.",
        );
    }
    if get("statetype") == "none" {
        for field in [
            "statetimeout",
            "max",
            "max-src-states",
            "max-src-nodes",
            "adaptivestart",
            "adaptiveend",
            "max-src-conn",
        ] {
            if set(field) {
                v.add(field, "Invalid option when statetype is none.");
            }
        }
    }
    if set("max-src-conn-rate") != set("max-src-conn-rates") {
        let missing = if set("max-src-conn-rate") {
            "max-src-conn-rates"
        } else {
            "max-src-conn-rate"
        };
        v.add(
            missing,
            "Need to specify both a number of connections and a time interval.",
        );
    }
    if set("tcpflags1") && !set("tcpflags2") {
        v.add(
            "tcpflags2",
            "If you specify TCP flags that should be set you should specify out of which flags as well.",
        );
    }
    if set("tcpflags1") && set("tcpflags2") && set("tcpflags_any") {
        v.add(
            "tcpflags_any",
            "If you select any TCP flags, you cannot also select specific ones.",
        );
    }
    if get("set-prio").is_empty() && !get("set-prio-low").is_empty() {
        v.add(
            "set-prio-low",
            "Set priority for low latency and acknowledgements requires a set priority for normal packets.",
        );
    }
    if set("shaper2") && !set("shaper1") {
        v.add(
            "shaper2",
            "A shaper is required when configuring one in the reverse direction.",
        );
    }
    if set("divert-to") && get("action") != "pass" {
        v.add("divert-to", "Divert-to is only valid for pass rules.");
    }
    // Only membership of the gateway list is checked (JsonKeyValueStoreField), no family.
    if set("gateway") && set("replyto") {
        v.add(
            "replyto",
            "You can not assign a reply-to destination to a rule that uses a gateway.",
        );
    }
}

/// The adaptive-timeout message of Filter.php, verbatim: the PHP source has a
/// single-quoted string broken over two lines, so the quote characters, the newline and
/// the indentation are part of the text.
const ADAPTIVE_MSG: &str = "Disabling adaptive timeouts is only supported in \".\n                                    \"combination with a configured maximum number of states for the same rule.";

/// The network and port columns the search describes with `alias_meta_*`.
const META_FIELDS: [&str; 4] = [
    "source_net",
    "source_port",
    "destination_net",
    "destination_port",
];

/// Computed search columns: `%source_net`, `category_colors`, `alias_meta_*`.
fn extra_row(cfg: &Config, rec: &Record, _: Version, row: &mut Map<String, Value>) {
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
    add_alias_meta(cfg, row, &META_FIELDS);
}

/// The filter area for the generic engine.
pub(crate) static AREA: AreaSpec = AreaSpec {
    collection: Collection::FilterRules,
    wrapper: "rule",
    fields: FIELDS,
    default_sort: "sort_order",
    prepare_new,
    before_save,
    validate: validate_rule,
    extra_row,
    ..AreaSpec::DEFAULT
};

/// Endpoints of `firewall/filter`.
pub(crate) fn route(version: Version, action: &str) -> Option<Route> {
    AREA.crud(action, &Actions::RULES).or_else(|| match action {
        "searchrule" => Route::new(search_rule),
        "togglerulelog" => Route::with_params(toggle_rule_log, 2),
        "moverulebefore" => Route::with_params(move_rule_before, 2),
        "apply" => Route::new(apply),
        "savepoint" if version.has_rollback() => Route::new(savepoint),
        "cancelrollback" if version.has_rollback() => Route::with_params(cancel_rollback, 1),
        "revert" if version.has_rollback() => Route::with_params(revert, 1),
        "listcategories" => Route::new(|_, st, _| list_categories(st, Collection::FilterRules)),
        _ => None,
    })
}

/// The `interface` filter of `searchRuleAction()`: `None` when the parameter is absent
/// (all rules), else the selected interfaces (possibly none: the floating view).
fn rule_in_view(
    version: Version,
    show_all: bool,
    interfaces: Option<&[&str]>,
    row: &Map<String, Value>,
) -> bool {
    let Some(wanted) = interfaces else {
        return true;
    };
    let field = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or_default();
    let rule_ifs = split_list(field("interface"));
    let inverted = !validate::php_empty(field("interfacenot"));
    let overlap = rule_ifs.iter().any(|i| wanted.contains(i));
    if version <= Version::V26_1_9 {
        // 26.1.9: floating and inverted rules only "when inspecting" (show_all).
        return if rule_ifs.is_empty() && show_all {
            true
        } else if inverted && show_all {
            !overlap
        } else if wanted.is_empty() && (rule_ifs.len() != 1 || inverted) {
            true
        } else {
            overlap && (rule_ifs.len() == 1 || show_all) && !inverted
        };
    }
    if rule_ifs.is_empty() {
        // Floating rules without an interface match every view.
        return true;
    }
    if inverted {
        return !overlap;
    }
    if wanted.is_empty() && rule_ifs.len() != 1 {
        return true;
    }
    if version >= Version::V26_7 {
        overlap
    } else {
        overlap && rule_ifs.len() == 1
    }
}

/// Translates an automatic rule the way `searchRuleAction()` does after filtering:
/// legacy fields (`interface` to descriptions, `%action`/`%direction`/`%ipprotocol` to
/// labels), empty `category_colors`, `alias_meta_*`.
/// 26.1.9 also files automatic rules under an "Automatically generated rules" category.
fn present_automatic(
    cfg: &Config,
    version: Version,
    mut row: Map<String, Value>,
) -> Map<String, Value> {
    let label = |topic: &str, v: &str| -> String {
        match (topic, v) {
            ("%action", "block") => "Block".into(),
            ("%action", "pass") => "Pass".into(),
            ("%action", "reject") => "Reject".into(),
            ("%direction", "in") => "In".into(),
            ("%direction", "out") => "Out".into(),
            ("%direction", "any") => "Any".into(),
            ("%ipprotocol", "inet") => "IPv4".into(),
            ("%ipprotocol", "inet6") => "IPv6".into(),
            ("%ipprotocol", "inet46") => String::new(),
            ("interface", i) => {
                super::iface(i).map_or_else(|| i.to_owned(), |f| f.descr.to_owned())
            }
            _ => v.to_owned(),
        }
    };
    for topic in ["interface", "%action", "%direction", "%ipprotocol"] {
        if let Some(Value::String(v)) = row.get_mut(topic)
            && !v.is_empty()
        {
            *v = v
                .split(',')
                .map(|item| label(topic, item))
                .collect::<Vec<_>>()
                .join(",");
        }
    }
    if version <= Version::V26_1_9 {
        let label = "Automatically generated rules";
        row.insert("categories".into(), json!(label));
        row.insert("category_colors".into(), json!([{"name": label}]));
    } else {
        row.insert("category_colors".into(), Value::Array(Vec::new()));
    }
    add_alias_meta(cfg, &mut row, &META_FIELDS);
    row
}

/// The automatic rules as the rule search lists them (all views).
pub(crate) fn automatic_rows(cfg: &Config) -> Vec<Map<String, Value>> {
    automatic::non_mvc_rules()
        .into_iter()
        .map(|row| present_automatic(cfg, Version::V26_1, row))
        .collect()
}

/// `search_rule`: searchRecordsetBase over the staged MVC rules and the automatic rules
/// (26.1.10+; 26.1.9 only with `show_all`), optional `interface` and `category` filters.
fn search_rule(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let params = SearchParams::recordset(req);
    let interface_param = req.get_any("interface").map(|v| match v {
        Value::String(s) => s,
        other => other.to_string(),
    });
    let wanted: Option<Vec<&str>> = interface_param.as_deref().map(split_list);
    let categories: Option<Vec<String>> = match req.get_any("category") {
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect(),
        ),
        Some(Value::String(s)) if !s.is_empty() && s != "0" => {
            return Reply::unexpected(
                "array_intersect(): Argument #2 must be of type array, string given",
            );
        }
        _ => None,
    };
    let show_all = req.get_any("show_all").is_some_and(|v| {
        !matches!(v, Value::Null | Value::Bool(false))
            && v != json!("")
            && v != json!("0")
            && v != json!(0)
    });
    let mvc = AREA
        .rows(&st.staged, req.version)
        .into_iter()
        .filter(|row| rule_in_view(req.version, show_all, wanted.as_deref(), row));
    let automatic: Vec<Map<String, Value>> = if req.version >= Version::V26_1 || show_all {
        automatic::non_mvc_rules()
            .into_iter()
            .filter(|row| rule_in_view(req.version, show_all, wanted.as_deref(), row))
            .map(|row| present_automatic(&st.staged, req.version, row))
            .collect()
    } else {
        Vec::new()
    };
    let rows = mvc
        .chain(automatic)
        .filter(|row| {
            categories
                .as_ref()
                .is_none_or(|cats| in_categories(row, cats))
        })
        .collect();
    Reply::ok(search::recordset(rows, &params, "sort_order"))
}

/// `toggleRuleLogBase()`: POST only, the rule must exist, `log` is stored as given.
fn toggle_rule_log(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "error", "message": "Invalid request method"}));
    }
    let uuid = req.param(0).unwrap_or_default();
    let log = req.param(1).unwrap_or_default();
    let Some(r) = st.staged[Collection::FilterRules]
        .iter_mut()
        .find(|r| r.uuid == uuid)
    else {
        return Reply::user_exception("Rule not found", "");
    };
    if log != "0" && log != "1" {
        // save() validates the model: BooleanField refuses it (ValidationException).
        return Reply::unexpected(format!(
            "[OPNsense\\Firewall\\Filter:rules.rule.{uuid}.log] Value should be a boolean (0,1)."
        ));
    }
    r.set("log", log);
    st.save(req.revision());
    Reply::ok(json!({"status": "ok"}))
}

/// `moveRuleBeforeBase()` (both releases): a new sequence between the target and its
/// predecessor, or, when they are too close, predecessor + 50 with the target and the
/// rules after it pushed up in steps of 50.
fn move_rule_before(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "error", "message": "Invalid request method"}));
    }
    let (selected, target) = (
        req.param(0).unwrap_or_default().to_owned(),
        req.param(1).unwrap_or_default().to_owned(),
    );
    let rules = &mut st.staged[Collection::FilterRules];
    if !rules.iter().any(|r| r.uuid == target) || !rules.iter().any(|r| r.uuid == selected) {
        return Reply::user_exception(
            "Either source or destination is not a rule managed with this component",
            "",
        );
    }
    const STEP: f64 = 50.0;
    let seq = |r: &Record| r.get("sequence").parse::<f64>().unwrap_or(0.0);
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by(|a, b| {
        crate::search::natural_cmp(rules[*a].get("sequence"), rules[*b].get("sequence"))
    });
    let mut new_key: Option<f64> = None;
    let mut prev: Option<usize> = None;
    for idx in order {
        if rules[idx].uuid == target {
            let prev_seq = prev.map_or(1.0, |p| seq(&rules[p]));
            let distance = seq(&rules[idx]) - prev_seq;
            if distance > 2.0 {
                new_key = Some((distance / 2.0).trunc() + prev_seq);
                break;
            }
            let key = if prev.is_none() { 1.0 } else { prev_seq + STEP };
            new_key = Some(key);
            rules[idx].set("sequence", fmt_seq(key + STEP));
        } else if new_key.is_some()
            && let Some(p) = prev
            && seq(&rules[idx]) < seq(&rules[p])
        {
            let bumped = seq(&rules[p]) + STEP;
            rules[idx].set("sequence", fmt_seq(bumped));
        }
        prev = Some(idx);
    }
    if let Some(key) = new_key
        && let Some(r) = rules.iter_mut().find(|r| r.uuid == selected)
    {
        r.set("sequence", fmt_seq(key));
    }
    for r in rules.iter_mut() {
        update_sort_order(r);
    }
    st.save(req.revision());
    Reply::ok(json!({"status": "ok"}))
}

/// PHP's string form of a float sequence (`151`, not `151.0`).
fn fmt_seq(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        v.to_string()
    }
}

/// `listCategoriesAction()`: every category with its raw colour and how many items of
/// `collection` reference it, sorted by name.
pub(crate) fn list_categories(st: &SimState, collection: Collection) -> Reply {
    let mut rows: Vec<(String, Value)> = st
        .staged
        .categories
        .iter()
        .map(|c| {
            let used = st.staged[collection]
                .iter()
                .filter(|r| r.list("categories").contains(&c.uuid.as_str()))
                .count();
            let color = c.color.trim_start_matches('#');
            (
                c.name.clone(),
                json!({"uuid": c.uuid, "name": c.name, "color": color, "used": used}),
            )
        })
        .collect();
    rows.sort_by(|a, b| crate::search::natural_cmp(&a.0, &b.0));
    Reply::ok(json!({"rows": rows.into_iter().map(|(_, r)| r).collect::<Vec<_>>()}))
}

/// configd `filter reload` (`rc.filter_configure`): the whole pf ruleset is loaded from the
/// configuration, so the staged filter rules, port forwards, outbound NAT rules and outbound NAT
/// mode all become live, whichever of the three apply actions ran it. Remembers the filter
/// rules live before (for [`crate::Simulator::console_revert`]).
pub(crate) fn filter_reload(shared: &Arc<Shared>, st: &mut SimState) {
    let previous = st.live[Collection::FilterRules].clone();
    st.before_last_filter_apply = Some(previous);
    load_ruleset(shared, st);
}

/// Loads the configured ruleset (`rc.filter_configure`) and re-evaluates the lockout.
fn load_ruleset(shared: &Arc<Shared>, st: &mut SimState) {
    for c in [
        Collection::FilterRules,
        Collection::PortForwards,
        Collection::SourceNat,
    ] {
        st.live[c].clone_from(&st.staged[c]);
    }
    st.live.snat_mode.clone_from(&st.staged.snat_mode);
    shared.recompute_lockout_with(st);
}

/// `apply[/{rev}]` of `firewall/filter`, `firewall/d_nat` and `firewall/source_nat`: one PHP
/// method, `FilterBaseController::applyAction()` (26.1.11 line 303, 26.7.2 line 302), inherited by
/// `DNatController` and `SourceNatController`. On 26.1 a revision first arms the rollback timer
/// (one for all three); then `filter reload skip_alias` loads the whole ruleset.
pub(crate) fn apply(shared: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !apply_with_timer(shared, st, req) {
        return Reply::ok(json!({"status": "error"}));
    }
    filter_reload(shared, st);
    Reply::ok(json!({"status": "OK\n\n"}))
}

/// The start of `FilterBaseController::applyAction()`, shared by the filter, d_nat and source
/// NAT: POST only (`false` otherwise), and a revision arms the rollback timer (26.1).
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
pub(crate) fn sanitize_revision(rev: &str) -> String {
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

/// Timer expiry (`rollback_timer.php`): `Filter::rollback(revision)` + reload.
fn fire_rollback(shared: &Arc<Shared>, revision: &str) {
    let mut st = shared.state();
    if st.rollback.as_ref().is_some_and(|p| p.revision == revision) {
        st.rollback = None;
    }
    let script = Revision::script("/usr/local/opnsense/scripts/filter/rollback_timer.php");
    if !rollback(shared, &mut st, revision, script) {
        tracing::warn!(
            revision,
            "filter rollback: unable to revert to unexisting revision"
        );
    }
}

/// `Filter::rollback($revision)` and `filter reload`: when `config-<revision>.xml` exists, the
/// `OPNsense/Firewall/Filter` subtree of it (the filter rules and the outbound NAT rules; port
/// forwards live in `<nat><rule>`, the outbound NAT mode in `nat/outbound/mode`) replaces the
/// staged one (a save, so a new backup), and the whole ruleset is loaded (`Filter.php`
/// `rollback()`, `scripts/filter/rollback_timer.php`, 26.1.11).
fn rollback(shared: &Arc<Shared>, st: &mut SimState, revision: &str, by: Revision) -> bool {
    let Some(saved) = st.backups.by_revision(revision).map(Backup::config) else {
        return false;
    };
    for c in [Collection::FilterRules, Collection::SourceNat] {
        st.staged[c].clone_from(&saved[c]);
    }
    st.save(by);
    load_ruleset(shared, st);
    true
}

/// `savepoint`: `Config::save()` (a backup) and the config's `revision/time`. Stock 26.1
/// names the backup with a four-decimal time and returns a two-decimal revision, so the
/// two never match (opnsense/core#10721); with `rollback_restores` they do.
pub(crate) fn savepoint(shared: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "error"}));
    }
    let revision = st.save(req.revision());
    Reply::ok(json!({
        "status": "ok",
        "retention": shared.config.backup_count.to_string(),
        "revision": revision,
    }))
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
    if rollback(shared, st, &rev, req.revision()) {
        Reply::ok(json!({"status": "ok"}))
    } else {
        Reply::ok(json!({"status": "unknown (or removed) savepoint"}))
    }
}

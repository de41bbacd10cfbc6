//! MCP prompts: short, exact workflows over this server's tools, each in the same order: read
//! first, dry run, apply, verify, confirm. Arguments are typed: each prompt checks its own
//! (`port` a number from 1 to 65535, `internal_host` an IP address, `device` an IP or MAC
//! address, ...) and refuses what does not fit with `invalid_params`.
//!
//! On a server of several targets (firewalls) every prompt also takes an optional `target`
//! ([`list_for`], [`get_on`]): the workflow it writes names that target and passes it to every
//! tool call.

use std::collections::BTreeMap;
use std::net::IpAddr;

use rmcp::ErrorData;
use rmcp::model::{
    GetPromptResult, ListPromptsResult, Prompt, PromptArgument, PromptMessage, Role,
};

/// One argument of a prompt: its name, what it is, and whether it is required.
pub struct Arg {
    /// The argument name.
    pub name: &'static str,
    /// What it is (shown to the user).
    pub description: &'static str,
    /// Whether the prompt needs it.
    pub required: bool,
}

/// A prompt: name, title, description, arguments.
pub struct Def {
    /// The prompt name.
    pub name: &'static str,
    /// Its title.
    pub title: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Its arguments.
    pub args: &'static [Arg],
}

const INTERFACE_FOCUS: Arg = Arg {
    name: "interface",
    description: "Only look closer at this interface (OPNsense key: lan, wan, opt1, ...)",
    required: false,
};

/// Every prompt this server offers.
pub const PROMPTS: [Def; 5] = [
    Def {
        name: "audit_firewall",
        title: "Audit the firewall",
        description: "Review the firewall's rules, port forwards and aliases for security problems, and fix the ones the user picks.",
        args: &[INTERFACE_FOCUS],
    },
    Def {
        name: "open_port",
        title: "Open a port to an internal host",
        description: "Forward a port from the WAN to a host inside (port forward plus the filter rule that passes it), checked and confirmed.",
        args: &[
            Arg {
                name: "service",
                description: "What the port is for (used in the descriptions), e.g. web server",
                required: true,
            },
            Arg {
                name: "port",
                description: "The port, 1 to 65535",
                required: true,
            },
            Arg {
                name: "internal_host",
                description: "The internal host's IP address",
                required: true,
            },
            Arg {
                name: "protocol",
                description: "tcp (default), udp or tcp/udp",
                required: false,
            },
            Arg {
                name: "interface",
                description: "The interface the port is opened on (default wan)",
                required: false,
            },
        ],
    },
    Def {
        name: "block_device",
        title: "Block a device",
        description: "Block all traffic from one device, by IP or MAC address, checked and confirmed.",
        args: &[
            Arg {
                name: "device",
                description: "The device's IP address or MAC address",
                required: true,
            },
            Arg {
                name: "interface",
                description: "The interface the device is on (default lan)",
                required: false,
            },
        ],
    },
    Def {
        name: "troubleshoot_connectivity",
        title: "Troubleshoot connectivity",
        description: "Find out why traffic from a source does not reach a destination (rules, NAT, routes, gateways, states, the filter log), and fix it if the user agrees.",
        args: &[
            Arg {
                name: "source",
                description: "Where the traffic comes from: an IP address, network or alias",
                required: true,
            },
            Arg {
                name: "destination",
                description: "Where it should go: an IP address, network or alias",
                required: true,
            },
            Arg {
                name: "port",
                description: "The destination port, 1 to 65535 (leave out for any)",
                required: false,
            },
        ],
    },
    Def {
        name: "review_pending_changes",
        title: "Review pending changes",
        description: "Go through the changes applied through this server that revert unless confirmed, check each, and confirm or let it revert.",
        args: &[],
    },
];

/// The argument that names the target, on a server of several.
pub const TARGET_ARG: &str = "target";

/// `prompts/list`.
pub fn list() -> ListPromptsResult {
    listed(None)
}

/// `prompts/list` of a server of `targets` (by name) whose default is `default`: with more
/// than one, every prompt takes an optional `target`.
pub fn list_for(targets: &[&str], default: &str) -> ListPromptsResult {
    if targets.len() < 2 {
        return list();
    }
    listed(Some(
        &PromptArgument::new(TARGET_ARG)
            .with_description(format!(
                "The firewall (target) to work on: {} (default {default})",
                targets.join(", ")
            ))
            .with_required(false),
    ))
}

fn listed(target: Option<&PromptArgument>) -> ListPromptsResult {
    ListPromptsResult::with_all_items(
        PROMPTS
            .iter()
            .map(|d| {
                let mut args: Vec<PromptArgument> = d
                    .args
                    .iter()
                    .map(|a| {
                        PromptArgument::new(a.name)
                            .with_description(a.description)
                            .with_required(a.required)
                    })
                    .collect();
                args.extend(target.cloned());
                Prompt::new(d.name, Some(d.description), Some(args)).with_title(d.title)
            })
            .collect(),
    )
}

/// The prompt named `name`.
pub fn find(name: &str) -> Option<&'static Def> {
    PROMPTS.iter().find(|d| d.name == name)
}

fn invalid(arg: &str, why: impl std::fmt::Display) -> ErrorData {
    ErrorData::invalid_params(format!("argument {arg}: {why}"), None)
}

/// The arguments given, checked against the prompt's: unknown ones refused, required ones
/// present, each one line of at most 255 characters.
fn arguments<'a>(
    def: &Def,
    given: Option<&'a serde_json::Map<String, serde_json::Value>>,
) -> Result<BTreeMap<&'static str, &'a str>, ErrorData> {
    let mut out = BTreeMap::new();
    for (k, v) in given.into_iter().flatten() {
        let Some(arg) = def.args.iter().find(|a| a.name == k) else {
            let known: Vec<&str> = def.args.iter().map(|a| a.name).collect();
            return Err(invalid(
                k,
                format!("unknown for {} (it takes: {})", def.name, known.join(", ")),
            ));
        };
        let Some(text) = v.as_str() else {
            return Err(invalid(k, "must be a string"));
        };
        let text = text.trim();
        if text.chars().count() > 255 || text.chars().any(char::is_control) {
            return Err(invalid(k, "must be one line of at most 255 characters"));
        }
        if !text.is_empty() {
            out.insert(arg.name, text);
        }
    }
    for a in def.args.iter().filter(|a| a.required) {
        if !out.contains_key(a.name) {
            return Err(invalid(a.name, "is required"));
        }
    }
    Ok(out)
}

fn port(arg: &str, v: &str) -> Result<u16, ErrorData> {
    match v.parse::<u16>() {
        Ok(p) if p >= 1 => Ok(p),
        _ => Err(invalid(
            arg,
            format!("{v:?} is not a port number (1 to 65535)"),
        )),
    }
}

fn ip(arg: &str, v: &str) -> Result<IpAddr, ErrorData> {
    v.parse::<IpAddr>()
        .map_err(|_| invalid(arg, format!("{v:?} is not an IP address")))
}

/// Whether `v` is a MAC address (six hexadecimal pairs separated by `:` or `-`).
pub fn is_mac(v: &str) -> bool {
    let parts: Vec<&str> = v.split([':', '-']).collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn interface(v: Option<&str>, default: &'static str) -> Result<String, ErrorData> {
    let v = v.unwrap_or(default);
    if v.is_empty()
        || v.len() > 32
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(invalid(
            "interface",
            format!("{v:?} is not an interface key (lan, wan, opt1, ...)"),
        ));
    }
    Ok(v.to_owned())
}

/// An address, network or alias name as rules take them.
fn endpoint(arg: &str, v: &str) -> Result<String, ErrorData> {
    if v.contains(char::is_whitespace) || v.contains(['"', '`']) {
        return Err(invalid(
            arg,
            format!("{v:?} is not an address, network or alias name"),
        ));
    }
    Ok(v.to_owned())
}

/// `prompts/get`.
pub fn get(
    name: &str,
    given: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<GetPromptResult, ErrorData> {
    let (def, text) = workflow(name, given)?;
    Ok(result(def, text))
}

/// A target of the server, as [`get_on`] needs to know it.
#[derive(Debug, Clone, Copy)]
pub struct TargetInfo<'a> {
    /// Its name.
    pub name: &'a str,
    /// Whether it refuses every change.
    pub read_only: bool,
}

/// `prompts/get` on a server of `targets` (by name) whose default is `default`: `target` is
/// taken out of the arguments (it must name one of them) and, with more than one target, the
/// workflow names it and asks for it on every tool call.
pub fn get_on(
    name: &str,
    given: Option<&serde_json::Map<String, serde_json::Value>>,
    targets: &[TargetInfo<'_>],
    default: &str,
) -> Result<GetPromptResult, ErrorData> {
    let mut rest = given.cloned().unwrap_or_default();
    let chosen = match rest.remove(TARGET_ARG) {
        None | Some(serde_json::Value::Null) => default.to_owned(),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => default.to_owned(),
        Some(serde_json::Value::String(s)) => s.trim().to_owned(),
        Some(_) => return Err(invalid(TARGET_ARG, "must be a string")),
    };
    let names: Vec<&str> = targets.iter().map(|t| t.name).collect();
    let Some(target) = targets.iter().find(|t| t.name == chosen) else {
        return Err(invalid(
            TARGET_ARG,
            format!(
                "there is no target {chosen:?}; the targets are {}",
                names.join(", ")
            ),
        ));
    };
    let (def, text) = workflow(name, Some(&rest))?;
    if targets.len() < 2 {
        return Ok(result(def, text));
    }
    let mut head = format!(
        "This works on the firewall (target) `{t}`: pass target: \"{t}\" to every tool call below, \
change_confirm and change_get included (a change id belongs to the target that made it).",
        t = target.name
    );
    if target.read_only {
        head.push_str(" Target `");
        head.push_str(target.name);
        head.push_str(
            "` is read-only: it refuses every change, so stop after the reads and tell me what \
you would change.",
        );
    }
    Ok(result(def, format!("{head}\n{text}")))
}

fn result(def: &Def, text: String) -> GetPromptResult {
    let mut result = GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]);
    result.description = Some(def.description.to_owned());
    result
}

/// The prompt named `name` and its workflow for the arguments `given`.
fn workflow(
    name: &str,
    given: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Result<(&'static Def, String), ErrorData> {
    let Some(def) = find(name) else {
        let known: Vec<&str> = PROMPTS.iter().map(|d| d.name).collect();
        return Err(ErrorData::invalid_params(
            format!("no prompt {name:?} (prompts: {})", known.join(", ")),
            None,
        ));
    };
    let args = arguments(def, given)?;
    let text = match def.name {
        "audit_firewall" => audit_firewall(args.get("interface").copied())?,
        "open_port" => open_port(&args)?,
        "block_device" => block_device(&args)?,
        "troubleshoot_connectivity" => troubleshoot(&args)?,
        _ => REVIEW_PENDING.to_owned(),
    };
    Ok((def, text))
}

/// The closing steps every changing workflow shares.
const CONFIRM: &str = "\
Each apply tool answers a change_id and status `pending`: the change is live and is REVERTED \
automatically at `revert_at` unless confirmed. Verify first (the step above), then show the user \
what changed and what you checked, and only when they agree call change_confirm with each \
change_id. If the check fails or they decline, do not confirm: the change reverts by itself \
(change_get shows it `reverted`).";

fn audit_firewall(interface_focus: Option<&str>) -> Result<String, ErrorData> {
    let focus = match interface_focus {
        Some(i) => format!(
            "Look closer at interface `{}`: its rules (firewall_rule_list, `interface` column) and the port forwards on it.\n",
            interface(Some(i), "lan")?
        ),
        None => String::new(),
    };
    Ok(format!(
        "Audit this OPNsense firewall. Change nothing unless I pick a fix.\n\
1. Read: system_status; firewall_audit (no arguments: every check); firewall_rule_list with \
row_count -1; firewall_nat_list with row_count -1; firewall_alias_list with row_count -1; \
interface_list.\n\
{focus}\
2. Report the findings most severe first: for each, the records (uuid, description), why it \
matters, and the fixing tool call firewall_audit proposes. Say what the audit could not decide \
(its blind spots).\n\
3. For each fix I pick: call the fixing tool with dry_run: true and show me the diff; then call \
it without dry_run, and the apply tool it names (firewall_rule_apply, firewall_nat_apply or \
firewall_alias_apply). An apply refused by the lockout pre-flight stays refused: tell me why, \
never pass force unless I ask.\n\
4. Verify: firewall_audit again; the finding is gone and no new one appeared.\n\
5. {CONFIRM}"
    ))
}

fn open_port(args: &BTreeMap<&str, &str>) -> Result<String, ErrorData> {
    let service = args.get("service").copied().unwrap_or_default();
    let port = port("port", args.get("port").copied().unwrap_or_default())?;
    let host = ip(
        "internal_host",
        args.get("internal_host").copied().unwrap_or_default(),
    )?;
    let protocol = match args.get("protocol").map(|p| p.to_ascii_lowercase()) {
        None => "tcp".to_owned(),
        Some(p) if ["tcp", "udp", "tcp/udp"].contains(&p.as_str()) => p,
        Some(p) => {
            return Err(invalid(
                "protocol",
                format!("{p:?}: use tcp, udp or tcp/udp"),
            ));
        }
    };
    let rule_protocol = protocol.to_ascii_uppercase();
    let iface = interface(args.get("interface").copied(), "wan")?;
    let description = format!("{service} (port {port} to {host})").replace('"', "'");
    Ok(format!(
        "Open {protocol} port {port} on `{iface}` to {host} for {service}.\n\
1. Read: firewall_nat_list with search_phrase \"{port}\" (stop if a forward of port {port} \
exists: tell me); firewall_rule_list with search_phrase \"{host}\"; interface_arp_table and \
dhcp_lease_list with search_phrase \"{host}\" (is the host there?).\n\
2. Dry run: firewall_nat_add with dry_run: true and rule {{\"interface\": [\"{iface}\"], \
\"protocol\": \"{protocol}\", \"destination\": {{\"network\": \"{iface}ip\", \"port\": \"{port}\"}}, \
\"target\": \"{host}\", \"local_port\": \"{port}\", \"description\": \"{description}\"}}; \
firewall_rule_add with dry_run: true and rule {{\"action\": \"pass\", \"interface\": [\"{iface}\"], \
\"direction\": \"in\", \"protocol\": \"{rule_protocol}\", \"destination_net\": \"{host}\", \
\"destination_port\": \"{port}\", \"description\": \"{description}\"}} (filter rules see the \
forwarded traffic with the internal address). Show me both.\n\
3. Apply: the same two calls without dry_run, then firewall_nat_apply and firewall_rule_apply \
(each answers a change_id). If the lockout pre-flight refuses, stop and tell me why.\n\
4. Verify: firewall_nat_list and firewall_rule_list show both records; firewall_log with port \
{port} shows passes (not blocks) once a client connects; firewall_states with address \"{host}\" \
and port {port}.\n\
5. {CONFIRM}"
    ))
}

fn block_device(args: &BTreeMap<&str, &str>) -> Result<String, ErrorData> {
    let device = args.get("device").copied().unwrap_or_default();
    let iface = interface(args.get("interface").copied(), "lan")?;
    let find = if is_mac(device) {
        format!(
            "{device} is a MAC address, and filter rules match IP addresses: find its addresses \
with interface_arp_table and dhcp_lease_list (search_phrase \"{device}\"), and block each one \
below (ADDRESS). If it has none, stop and tell me. Its lease may change: suggest a reservation \
(dhcp_static_list shows the existing ones)."
        )
    } else {
        let address = ip("device", device)?;
        format!("ADDRESS below is {address}.")
    };
    Ok(format!(
        "Block all traffic from device {device} on `{iface}`.\n\
1. Read: {find} firewall_rule_list (row_count -1): note the `sequence` of the first pass rule on \
`{iface}` and any rule that already names ADDRESS.\n\
2. Dry run: firewall_rule_add with dry_run: true and rule {{\"action\": \"block\", \
\"interface\": [\"{iface}\"], \"direction\": \"in\", \"source_net\": \"ADDRESS\", \"sequence\": \
(lower than that first pass rule), \"description\": \"Block {device}\"}}. Show me the diff. \
Make sure ADDRESS is not the address this server or I manage the firewall from.\n\
3. Apply: firewall_rule_add without dry_run, then firewall_rule_apply (it answers a change_id; \
if the lockout pre-flight refuses, stop and tell me why).\n\
4. Verify: firewall_log with source \"ADDRESS\" and action \"block\" shows the new rule \
blocking; firewall_states with address \"ADDRESS\" shows no new states.\n\
5. {CONFIRM}"
    ))
}

fn troubleshoot(args: &BTreeMap<&str, &str>) -> Result<String, ErrorData> {
    let source = endpoint("source", args.get("source").copied().unwrap_or_default())?;
    let destination = endpoint(
        "destination",
        args.get("destination").copied().unwrap_or_default(),
    )?;
    let (port_text, port_arg) = match args.get("port") {
        Some(p) => {
            let p = port("port", p)?;
            (format!(" port {p}"), format!(", port {p}"))
        }
        None => (String::new(), String::new()),
    };
    Ok(format!(
        "Find out why {source} cannot reach {destination}{port_text}. Read only until I agree to a fix.\n\
1. Read: interface_config (which interface and network each address is on); gateway_status; \
route_table with search_phrase \"{destination}\"; interface_arp_table with search_phrase \
\"{source}\" and \"{destination}\" (do they answer ARP?).\n\
2. Rules and NAT: firewall_rule_list (row_count -1) and firewall_nat_list (row_count -1): which \
rule in evaluation order matches this traffic on the source's interface?\n\
3. Evidence: firewall_log with source \"{source}\", destination \"{destination}\"{port_arg} \
(each entry names the rule that matched: a block names the culprit); firewall_states with \
address \"{source}\"{port_arg}.\n\
4. Tell me the cause (a rule and its uuid, a missing rule, a route, a gateway down, a host that \
does not answer) and the smallest fix. Only if I agree: the fixing tool with dry_run: true, \
show me the diff, then without dry_run and its apply tool.\n\
5. Verify: firewall_log and firewall_states again show the traffic passing.\n\
6. {CONFIRM}"
    ))
}

const REVIEW_PENDING: &str = "\
Review the changes applied through this server that are still pending (they revert unless \
confirmed).\n\
1. Read: change_list with status \"pending\"; for each, change_get with its change_id: the \
records before and after, the checks (pre-flight, read-back, probe) and revert_at. Also \
change_list with status \"revert_failed\": report each with its detail.revert.error (the \
console advice).\n\
2. For each pending change, verify that the firewall works as intended now: the records are \
live (firewall_rule_list, firewall_alias_list or firewall_nat_list with search_phrase set to \
the record's description), and traffic flows (firewall_log, firewall_states). No dry run is \
needed: nothing new is applied.\n\
3. Show me each change: what it changed, what you checked, and when it reverts. Mark the ones \
whose pre-flight was forced or uncertain.\n\
4. Confirm: only the ones I approve, with change_confirm and their change_id. The others revert \
by themselves at revert_at; say so. A confirmed change can later be undone with \
change_rollback.";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value, json};

    fn args(v: &Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn text(r: &GetPromptResult) -> String {
        serde_json::to_value(&r.messages[0]).unwrap()["content"]["text"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn open_port_checks_its_arguments() {
        let ok = get(
            "open_port",
            Some(&args(
                &json!({"service": "web", "port": "8443", "internal_host": "192.168.1.10"}),
            )),
        )
        .unwrap();
        let t = text(&ok);
        assert!(t.contains("\"target\": \"192.168.1.10\""), "{t}");
        assert!(t.contains("\"port\": \"8443\""), "{t}");
        for bad in [
            json!({"service": "web", "port": "0", "internal_host": "192.168.1.10"}),
            json!({"service": "web", "port": "70000", "internal_host": "192.168.1.10"}),
            json!({"service": "web", "port": "80", "internal_host": "not-an-ip"}),
            json!({"service": "web", "port": "80"}),
            json!({"service": "web", "port": "80", "internal_host": "10.0.0.1", "bogus": "x"}),
            json!({"service": "web", "port": "80", "internal_host": "10.0.0.1", "protocol": "icmp"}),
            json!({"service": "web", "port": 80, "internal_host": "10.0.0.1"}),
        ] {
            assert!(get("open_port", Some(&args(&bad))).is_err(), "{bad}");
        }
    }

    #[test]
    fn block_device_takes_an_ip_or_a_mac() {
        let mac = text(
            &get(
                "block_device",
                Some(&args(&json!({"device": "00:11:22:aa:bb:cc"}))),
            )
            .unwrap(),
        );
        assert!(mac.contains("interface_arp_table"), "{mac}");
        let ip = text(
            &get(
                "block_device",
                Some(&args(&json!({"device": "192.168.1.50"}))),
            )
            .unwrap(),
        );
        assert!(ip.contains("ADDRESS below is 192.168.1.50"), "{ip}");
        assert!(get("block_device", Some(&args(&json!({"device": "printer"})))).is_err());
        assert!(is_mac("00-11-22-AA-BB-CC"));
        assert!(!is_mac("00:11:22:aa:bb"));
    }

    #[test]
    fn every_prompt_answers_without_optional_arguments() {
        let required = |d: &Def| -> Map<String, Value> {
            d.args
                .iter()
                .filter(|a| a.required)
                .map(|a| {
                    let v = match a.name {
                        "port" => "443",
                        "internal_host" | "device" | "source" => "192.168.1.10",
                        "destination" => "10.0.0.1",
                        _ => "x",
                    };
                    (a.name.to_owned(), Value::from(v))
                })
                .collect()
        };
        for d in &PROMPTS {
            let r = get(d.name, Some(&required(d))).unwrap();
            assert!(!text(&r).is_empty(), "{}", d.name);
        }
        assert!(get("nope", None).is_err());
    }

    #[test]
    fn a_target_is_named_only_on_a_server_of_several() {
        let two = [
            TargetInfo {
                name: "office",
                read_only: false,
            },
            TargetInfo {
                name: "lab",
                read_only: true,
            },
        ];
        let listed = list_for(&["lab", "office"], "office");
        for p in &listed.prompts {
            let args = p.arguments.as_deref().unwrap_or_default();
            assert!(args.iter().any(|a| a.name == TARGET_ARG), "{}", p.name);
        }
        let one = list_for(&["office"], "office");
        for p in &one.prompts {
            let args = p.arguments.as_deref().unwrap_or_default();
            assert!(args.iter().all(|a| a.name != TARGET_ARG), "{}", p.name);
        }
        let on_lab = text(
            &get_on(
                "audit_firewall",
                Some(&args(&json!({"target": "lab"}))),
                &two,
                "office",
            )
            .unwrap(),
        );
        assert!(on_lab.contains("target: \"lab\""), "{on_lab}");
        assert!(on_lab.contains("read-only"), "{on_lab}");
        let on_default = text(&get_on("review_pending_changes", None, &two, "office").unwrap());
        assert!(on_default.contains("target: \"office\""), "{on_default}");
        assert!(!on_default.contains("read-only"), "{on_default}");
        let alone = text(
            &get_on(
                "review_pending_changes",
                Some(&args(&json!({"target": "office"}))),
                &two[..1],
                "office",
            )
            .unwrap(),
        );
        assert_eq!(alone, REVIEW_PENDING);
        let e = get_on(
            "audit_firewall",
            Some(&args(&json!({"target": "nope"}))),
            &two,
            "office",
        )
        .unwrap_err();
        assert!(e.message.contains("office, lab"), "{e:?}");
        assert!(
            get_on(
                "audit_firewall",
                Some(&args(&json!({"target": 3}))),
                &two,
                "office"
            )
            .is_err()
        );
    }
}

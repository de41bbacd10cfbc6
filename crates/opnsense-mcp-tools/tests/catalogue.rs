//! The catalogue as a client sees it. The reference server's 43 tools must all be offered under
//! their names, with their top-level argument names and the read-only/mutating split of the
//! reference (the one hand-kept table, `support/reference_tools.txt`, and it is the reference
//! server's). Every tool, the 43 and any added since, must follow the same rules: a title,
//! `openWorldHint: false`, an explicit `readOnlyHint` (and `destructiveHint`/`idempotentHint` when
//! it changes things) that matches what its contract cases send, a real description, an output
//! schema, and closed, typed input schemas. Read-only mode offers only tools annotated read-only,
//! exactly those left when every mutating tool is denied; the read-only tools it leaves out need
//! the change journal a read-only server does not have. A new tool is checked by these rules
//! without editing this file; the troubleshooting reads added to the reference (issue 12) are also
//! pinned by name and arguments.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use opnsense_mcp_tools::ToolOptions;
use opnsense_mcp_tools::verb::Verb;
use serde_json::Value;
use support::tools_list::{ReferenceTool, reference_tools};
use support::{catalogue, load_contract};

fn tools(options: ToolOptions) -> Vec<Value> {
    catalogue(options)
        .tools()
        .into_iter()
        .map(|t| serde_json::to_value(t).expect("json"))
        .collect()
}

/// The troubleshooting reads added to the reference's 43 (issue 12): name and top-level
/// argument names; all read-only.
const TROUBLESHOOTING: &[(&str, &[&str])] = &[
    (
        "firewall_log",
        &[
            "limit",
            "interface",
            "action",
            "source",
            "destination",
            "port",
            "protocol",
            "rule",
            "raw",
        ],
    ),
    (
        "firewall_states",
        &["address", "port", "rule", "current", "row_count", "raw"],
    ),
    ("gateway_status", &["raw"]),
    (
        "route_table",
        &["family", "current", "row_count", "search_phrase", "raw"],
    ),
    ("vpn_status", &["kind", "raw"]),
];

/// Name endings that say what a tool does: (ending, mutating, destructive).
const ENDINGS: &[(&str, bool, bool)] = &[
    ("_list", false, false),
    ("_get", false, false),
    ("_status", false, false),
    ("_add", true, false),
    ("_update", true, false),
    ("_start", true, false),
    ("_delete", true, true),
    ("_apply", true, true),
    ("_stop", true, true),
    ("_restart", true, true),
    ("_diff", false, false),
    ("_restore", true, true),
];

/// Outbound NAT, DNS query forwards and the configuration history (issue 12): name, top-level
/// argument names (without the `dry_run` every mutating tool gets), mutating.
const HISTORY_AND_NAT: &[(&str, &[&str], bool)] = &[
    (
        "firewall_snat_list",
        &["current", "row_count", "search_phrase", "raw"],
        false,
    ),
    ("firewall_snat_add", &["rule"], true),
    ("firewall_snat_update", &["uuid", "rule"], true),
    ("firewall_snat_delete", &["uuid"], true),
    ("firewall_snat_apply", &["confirm_timeout_s", "force"], true),
    (
        "dns_forward_list",
        &["current", "row_count", "search_phrase", "raw"],
        false,
    ),
    ("dns_forward_add", &["forward"], true),
    ("dns_forward_update", &["uuid", "forward"], true),
    ("dns_forward_delete", &["uuid"], true),
    (
        "system_backup_list",
        &["current", "row_count", "search_phrase", "raw"],
        false,
    ),
    ("system_backup_diff", &["from", "to", "context"], false),
    ("system_backup_restore", &["backup_id"], true),
];

/// Checks the catalogue against a table of (name, argument names, whether it changes the
/// firewall): each tool is offered, has those arguments (`exact`: those and no others, with
/// `dry_run` when it changes the firewall), and is read-only exactly when it changes nothing.
fn offered_as(table: &[(&str, &[&str], bool)], exact: bool) -> Vec<String> {
    let all = tools(ToolOptions::default());
    let by_name: BTreeMap<&str, &Value> = all.iter().map(|t| (name_of(t), t)).collect();
    let mut problems = Vec::new();
    for (name, params, mutating) in table {
        let Some(t) = by_name.get(name) else {
            problems.push(format!("{name}: missing"));
            continue;
        };
        let props: BTreeSet<&str> = t["inputSchema"]["properties"]
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut want: BTreeSet<&str> = params.iter().copied().collect();
        if exact {
            if *mutating {
                want.insert("dry_run");
            }
            if props != want {
                problems.push(format!("{name}: arguments {props:?}, expected {want:?}"));
            }
        } else if !want.is_subset(&props) {
            problems.push(format!(
                "{name}: arguments {props:?}, expected {want:?} among them"
            ));
        }
        if read_only(t) == *mutating {
            let what = if *mutating {
                "changes"
            } else {
                "does not change"
            };
            problems.push(format!(
                "{name}: readOnlyHint {} but the tool {what} the firewall",
                read_only(t)
            ));
        }
    }
    problems
}

#[test]
fn outbound_nat_dns_forwards_and_backups_are_offered_with_their_arguments() {
    let problems = offered_as(HISTORY_AND_NAT, true);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn name_of(t: &Value) -> &str {
    t["name"].as_str().expect("name")
}

fn read_only(t: &Value) -> bool {
    t["annotations"]["readOnlyHint"] == true
}

/// The reference server's tools (`support/reference_tools.txt`) as rows of [`offered_as`].
fn reference_rows(reference: &[ReferenceTool]) -> Vec<(&str, &[&str], bool)> {
    reference
        .iter()
        .map(|t| (t.name, t.args.as_slice(), t.mutating))
        .collect()
}

#[test]
fn the_reference_tools_are_offered_with_their_names_and_argument_names() {
    let reference = reference_tools();
    assert_eq!(reference.len(), 43);
    let problems = offered_as(&reference_rows(&reference), false);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The reference's 43 plus the troubleshooting reads, each with exactly its arguments, and
/// read-only.
#[test]
fn the_troubleshooting_reads_are_offered_read_only_with_their_arguments() {
    let reads: Vec<(&str, &[&str], bool)> = TROUBLESHOOTING
        .iter()
        .map(|(n, p)| (*n, *p, false))
        .collect();
    let problems = offered_as(&reads, true);
    let named: BTreeSet<&str> = reference_tools()
        .iter()
        .map(|t| t.name)
        .chain(TROUBLESHOOTING.iter().map(|(n, _)| *n))
        .collect();
    assert_eq!(named.len(), 43 + TROUBLESHOOTING.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_tool_has_annotations_a_description_and_an_output_schema() {
    let mut problems = Vec::new();
    let with_schemas = ToolOptions {
        output_schemas: true,
        ..ToolOptions::default()
    };
    for t in tools(with_schemas) {
        let name = name_of(&t);
        let a = &t["annotations"];
        if a["title"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{name}: no title"));
        }
        if a["openWorldHint"] != false {
            problems.push(format!("{name}: openWorldHint must be false"));
        }
        if !a["readOnlyHint"].is_boolean() {
            problems.push(format!("{name}: readOnlyHint must be given"));
        }
        if !read_only(&t) {
            for hint in ["destructiveHint", "idempotentHint"] {
                if !a[hint].is_boolean() {
                    problems.push(format!("{name}: a mutating tool must give {hint}"));
                }
            }
        }
        if let Some((ending, mutating, destructive)) =
            ENDINGS.iter().find(|(e, _, _)| name.ends_with(e))
        {
            if read_only(&t) == *mutating {
                problems.push(format!(
                    "{name}: readOnlyHint {} does not fit a {ending} tool",
                    read_only(&t)
                ));
            }
            if *mutating && a["destructiveHint"] != *destructive {
                problems.push(format!(
                    "{name}: destructiveHint {} does not fit a {ending} tool",
                    a["destructiveHint"]
                ));
            }
        }
        if t["description"].as_str().is_none_or(|d| d.len() <= 20) {
            problems.push(format!("{name}: description too short"));
        }
        if !t["outputSchema"].is_object() {
            problems.push(format!("{name}: no outputSchema"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every tool that changes something, by the hints it gives (`destructiveHint`,
/// `idempotentHint`); every other tool is a read. Kept by hand, apart from the verb table in
/// `src/verb.rs` that fills the hints in, so that a changed rule there shows up here.
const WRITES: &[(bool, bool, &[&str])] = &[
    (
        false,
        false,
        &[
            "dhcp_static_add",
            "dns_forward_add",
            "dns_host_override_add",
            "firewall_alias_add",
            "firewall_nat_add",
            "firewall_rule_add",
            "firewall_snat_add",
            "route_add",
        ],
    ),
    (
        false,
        true,
        &[
            "change_confirm",
            "dhcp_static_update",
            "dns_forward_update",
            "dns_host_override_update",
            "firewall_alias_update",
            "firewall_nat_update",
            "firewall_rule_update",
            "firewall_snat_update",
            "route_update",
            "service_start",
        ],
    ),
    (
        true,
        true,
        &[
            "dhcp_apply",
            "dhcp_static_delete",
            "dns_apply",
            "dns_forward_delete",
            "dns_host_override_delete",
            "firewall_alias_apply",
            "firewall_alias_delete",
            "firewall_nat_apply",
            "firewall_nat_delete",
            "firewall_rule_apply",
            "firewall_rule_delete",
            "firewall_snat_apply",
            "firewall_snat_delete",
            "route_apply",
            "route_delete",
            "service_stop",
            "system_backup_restore",
        ],
    ),
    (true, false, &["change_rollback", "service_restart"]),
];

/// The annotations every tool ends up with (its title from its `#[tool]` attribute, its hints
/// from its verb): exactly `readOnlyHint: true` and `openWorldHint: false` for a read, all four
/// hints for a write, as [`WRITES`] says.
#[test]
fn every_tool_has_the_effective_annotations_of_its_verb() {
    let writes: BTreeMap<&str, (bool, bool)> = WRITES
        .iter()
        .flat_map(|(d, i, names)| names.iter().map(move |n| (*n, (*d, *i))))
        .collect();
    let all = tools(ToolOptions::default());
    let mut problems = Vec::new();
    for t in &all {
        let name = name_of(t);
        if Verb::of(name).is_none() {
            problems.push(format!(
                "{name}: no verb (src/verb.rs takes it for an action)"
            ));
        }
        let mut hints = t["annotations"].clone();
        let title = hints.as_object_mut().and_then(|a| a.remove("title"));
        if !title.as_ref().is_some_and(Value::is_string) {
            problems.push(format!("{name}: no title"));
        }
        let want = match writes.get(name) {
            Some((destructive, idempotent)) => serde_json::json!({
                "readOnlyHint": false,
                "destructiveHint": destructive,
                "idempotentHint": idempotent,
                "openWorldHint": false,
            }),
            None => serde_json::json!({"readOnlyHint": true, "openWorldHint": false}),
        };
        if hints != want {
            problems.push(format!("{name}: hints {hints}, expected {want}"));
        }
    }
    let names: BTreeSet<&str> = all.iter().map(name_of).collect();
    for name in writes.keys().filter(|n| !names.contains(*n)) {
        problems.push(format!("{name}: listed as a write but not offered"));
    }
    assert!(all.len() > writes.len() + 20, "{} tools", all.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A request path without the case's record uuid at its end.
fn endpoint(path: &str, uuid: Option<&str>) -> String {
    match uuid {
        Some(u) => path
            .strip_suffix(&format!("/{}", u.to_ascii_lowercase()))
            .unwrap_or(path)
            .to_owned(),
        None => path.to_owned(),
    }
}

/// `readOnlyHint` matches what the contract shows a tool doing: a read-only tool never POSTs to
/// an endpoint a mutating tool's cases (or their setup calls) write to (add, set, delete, apply,
/// service actions).
#[test]
fn read_only_tools_send_no_write_requests() {
    let all = tools(ToolOptions::default());
    let ro: BTreeMap<&str, bool> = all.iter().map(|t| (name_of(t), read_only(t))).collect();
    let contract = load_contract();
    // Every call of the contract: (tool, its uuid argument, its exchanges).
    let calls: Vec<(&str, Option<&str>, &[support::Exchange])> = contract
        .iter()
        .flat_map(|(_, c)| {
            std::iter::once((
                c.tool.as_str(),
                c.arguments["uuid"].as_str(),
                &c.upstream[..],
            ))
            .chain(c.setup.iter().map(|s| {
                (
                    s.tool.as_str(),
                    s.arguments["uuid"].as_str(),
                    &s.upstream[..],
                )
            }))
        })
        .collect();
    let posts = |want_read_only: bool| -> BTreeMap<String, String> {
        calls
            .iter()
            .filter(|(tool, _, _)| ro.get(tool) == Some(&want_read_only))
            .flat_map(|(tool, uuid, exchanges)| {
                exchanges
                    .iter()
                    .filter(|x| x.method.eq_ignore_ascii_case("POST"))
                    .filter(|x| want_read_only || x.is_write())
                    .map(move |x| (endpoint(&x.path, *uuid), (*tool).to_owned()))
            })
            .collect()
    };
    let writes = posts(false);
    let reads = posts(true);
    let read_only_writes: Vec<String> = calls
        .iter()
        .filter(|(tool, _, _)| ro.get(tool) == Some(&true))
        .flat_map(|(tool, _, exchanges)| {
            exchanges
                .iter()
                .filter(|x| x.is_write())
                .map(move |x| format!("{tool} (read-only) POSTs {} without a search body", x.path))
        })
        .collect();
    assert!(
        read_only_writes.is_empty(),
        "{}",
        read_only_writes.join("\n")
    );
    let clashes: Vec<String> = reads
        .iter()
        .filter_map(|(path, tool)| {
            writes
                .get(path)
                .map(|w| format!("{tool} (read-only) POSTs {path}, which {w} writes to"))
        })
        .collect();
    assert!(!writes.is_empty(), "no mutating tool has a contract case");
    assert!(clashes.is_empty(), "{}", clashes.join("\n"));
}

#[test]
fn input_schemas_are_closed_typed_objects() {
    fn walk(name: &str, path: &str, v: &Value) {
        match v {
            Value::Object(m) => {
                assert!(
                    m.get("additionalProperties") != Some(&Value::Bool(true)),
                    "{name}: free-form object at {path}"
                );
                if m.get("type") == Some(&Value::String("object".into()))
                    && m.contains_key("properties")
                {
                    assert_eq!(
                        m.get("additionalProperties"),
                        Some(&Value::Bool(false)),
                        "{name}: {path} accepts unknown fields"
                    );
                }
                for (k, child) in m {
                    walk(name, &format!("{path}/{k}"), child);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(name, &format!("{path}/{i}"), child);
                }
            }
            _ => {}
        }
    }
    for t in tools(ToolOptions::default()) {
        let name = name_of(&t);
        let schema = &t["inputSchema"];
        assert_eq!(schema["type"], "object", "{name}");
        assert!(schema["properties"].is_object(), "{name}: properties");
        walk(name, "", schema);
    }
}

#[test]
fn module_is_an_enum_and_add_tools_mark_required_fields() {
    let all = tools(ToolOptions::default());
    let find = |n: &str| all.iter().find(|t| t["name"] == n).expect(n).clone();
    let status = find("service_status");
    let text = status["inputSchema"].to_string();
    assert!(
        text.contains("\"unbound\"") && text.contains("\"kea\"") && text.contains("\"enum\""),
        "{text}"
    );
    let add = find("firewall_rule_add");
    // The new record's schema, used once, is written in place (`slim.rs`).
    let new_rule = &add["inputSchema"]["properties"]["rule"];
    let required: Vec<&str> = new_rule["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        required.contains(&"action") && required.contains(&"interface"),
        "{required:?}"
    );
}

/// Read-only mode offers read-only tools only, and exactly what denying every mutating tool
/// offers. The read-only tools it leaves out are those that read this server's change journal,
/// which a read-only server does not have: on a catalogue without one, each answers that it
/// needs it, sending nothing.
#[tokio::test]
async fn read_only_mode_offers_exactly_the_read_only_tools() {
    let names = |options: ToolOptions| -> BTreeSet<String> {
        tools(options)
            .iter()
            .map(|t| name_of(t).to_owned())
            .collect()
    };
    let all = tools(ToolOptions::default());
    let annotated: BTreeSet<String> = all
        .iter()
        .filter(|t| read_only(t))
        .map(|t| name_of(t).to_owned())
        .collect();
    let mutating: Vec<String> = all
        .iter()
        .filter(|t| !read_only(t))
        .map(|t| name_of(t).to_owned())
        .collect();
    let offered = names(ToolOptions {
        read_only: true,
        ..ToolOptions::default()
    });
    assert!(!annotated.is_empty() && !mutating.is_empty());
    assert!(
        offered.is_subset(&annotated),
        "not read-only: {:?}",
        offered.difference(&annotated).collect::<Vec<_>>()
    );
    assert_eq!(
        offered,
        names(ToolOptions {
            tools_deny: mutating,
            ..ToolOptions::default()
        }),
        "read-only mode differs from denying every mutating tool"
    );
    let contract = load_contract();
    let s = support::Session::without_engine(ToolOptions::default()).await;
    support::mount_catch_all(&s.upstream).await;
    for name in annotated.difference(&offered) {
        let args = contract
            .iter()
            .map(|(_, c)| c)
            .find(|c| c.tool == *name && c.is_plain_success())
            .map_or_else(
                || Value::Object(serde_json::Map::new()),
                |c| c.arguments.clone(),
            );
        let r = s.call(name, &args).await.expect("call");
        let t = support::text(&r);
        assert!(
            support::is_error(&r) && t.contains("without a change journal"),
            "{name} is left out of read-only mode but does not need the change journal: {t}"
        );
    }
    assert!(s.nothing_sent().await, "a journal tool sent a request");
}

/// Every tool but the change tools belongs to exactly one toolset (`Toolset::of` names it; the
/// change tools come with any write); every toolset offers at least one tool; offering one
/// toolset offers exactly its tools (plus the change tools when it can write), and composes
/// with read-only mode and the deny globs.
#[test]
fn toolsets_partition_the_catalogue() {
    use opnsense_mcp_tools::policy::Toolset;
    let all = tools(ToolOptions::default());
    let mut by_set: BTreeMap<Toolset, BTreeSet<String>> = BTreeMap::new();
    for t in &all {
        let name = t["name"].as_str().expect("name");
        match Toolset::of(name) {
            Some(set) => {
                by_set.entry(set).or_default().insert(name.to_owned());
            }
            None => assert!(name.starts_with("change_"), "{name} is in no toolset"),
        }
    }
    for set in Toolset::ALL {
        let expected = by_set
            .get(&set)
            .unwrap_or_else(|| panic!("toolset {} offers no tool", set.name()));
        let offered: BTreeSet<String> = tools(ToolOptions {
            toolsets: vec![set],
            ..ToolOptions::default()
        })
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_owned())
        .filter(|n| !n.starts_with("change_"))
        .collect();
        assert_eq!(&offered, expected, "toolset {}", set.name());
    }
    let dns_read = tools(ToolOptions {
        toolsets: vec![Toolset::Dns],
        read_only: true,
        ..ToolOptions::default()
    });
    let names: BTreeSet<&str> = dns_read.iter().filter_map(|t| t["name"].as_str()).collect();
    assert!(names.contains("dns_host_override_list"), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("dns_") && !n.ends_with("_add")),
        "{names:?}"
    );
}

/// README's "Tools by toolset" table lists exactly the catalogue, each tool under its toolset.
#[test]
fn readme_lists_every_tool_under_its_toolset() {
    use opnsense_mcp_tools::policy::Toolset;
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("\n## Tools by toolset\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README has a `## Tools by toolset` section");
    let mut listed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let set = cells[1].trim_matches('`').to_owned();
        let names = cells[2]
            .split(',')
            .map(|n| n.trim().trim_matches('`').to_owned())
            .filter(|n| !n.is_empty());
        listed.entry(set).or_default().extend(names);
    }
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for t in tools(ToolOptions::default()) {
        let name = t["name"].as_str().expect("name").to_owned();
        if let Some(set) = Toolset::of(&name) {
            expected
                .entry(set.name().to_owned())
                .or_default()
                .insert(name);
        }
    }
    assert_eq!(listed, expected, "README's Tools by toolset table");
}

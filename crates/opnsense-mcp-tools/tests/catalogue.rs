//! The catalogue as a client sees it: the reference server's 43 names, typed schemas,
//! annotations that match what each tool does, and read-only mode.

use std::collections::BTreeSet;

use opnsense_mcp_tools::{OpnsenseTools, ToolOptions};
use serde_json::Value;

fn tools(options: ToolOptions) -> Vec<Value> {
    let client = opnsense_api::Client::builder("https://127.0.0.1:9")
        .credentials("k", "s")
        .build()
        .expect("client");
    OpnsenseTools::new(client, options)
        .tools()
        .into_iter()
        .map(|t| serde_json::to_value(t).expect("json"))
        .collect()
}

/// The reference server's tool names (shared/reference-server/tools.json).
const REFERENCE: &[&str] = &[
    "system_status",
    "system_firmware_status",
    "system_config_backup",
    "firewall_rule_list",
    "firewall_rule_get",
    "firewall_rule_add",
    "firewall_rule_update",
    "firewall_rule_delete",
    "firewall_rule_apply",
    "firewall_alias_list",
    "firewall_alias_get_uuid",
    "firewall_alias_add",
    "firewall_alias_update",
    "firewall_alias_delete",
    "firewall_alias_apply",
    "firewall_nat_list",
    "firewall_nat_add",
    "firewall_nat_update",
    "firewall_nat_delete",
    "firewall_nat_apply",
    "interface_list",
    "interface_config",
    "interface_arp_table",
    "interface_ndp_table",
    "route_list",
    "route_add",
    "route_update",
    "route_delete",
    "route_apply",
    "dhcp_lease_list",
    "dhcp_settings_get",
    "dhcp_static_list",
    "dns_settings_get",
    "dns_host_override_list",
    "dns_host_override_add",
    "dns_host_override_update",
    "dns_host_override_delete",
    "dns_apply",
    "ids_ruleset_list",
    "service_status",
    "service_start",
    "service_stop",
    "service_restart",
];

fn is_mutating(name: &str) -> bool {
    [
        "_add", "_update", "_delete", "_apply", "_start", "_stop", "_restart",
    ]
    .iter()
    .any(|s| name.ends_with(s))
}

#[test]
fn same_43_names_as_the_reference() {
    let names: BTreeSet<String> = tools(ToolOptions::default())
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_owned())
        .collect();
    let reference: BTreeSet<String> = REFERENCE.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(REFERENCE.len(), 43);
    assert_eq!(names, reference);
}

#[test]
fn annotations_match_what_each_tool_does() {
    for t in tools(ToolOptions::default()) {
        let name = t["name"].as_str().expect("name");
        let a = &t["annotations"];
        assert!(
            a["title"].as_str().is_some_and(|s| !s.is_empty()),
            "{name}: title"
        );
        assert_eq!(a["openWorldHint"], false, "{name}");
        assert_eq!(
            a["readOnlyHint"],
            !is_mutating(name),
            "{name}: readOnlyHint"
        );
        let destructive = ["_delete", "_apply", "_stop", "_restart"]
            .iter()
            .any(|s| name.ends_with(s));
        if is_mutating(name) {
            assert_eq!(a["destructiveHint"], destructive, "{name}: destructiveHint");
        }
        assert!(
            t["description"].as_str().is_some_and(|d| d.len() > 20),
            "{name}: description"
        );
        assert!(t["outputSchema"].is_object(), "{name}: outputSchema");
    }
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
        let name = t["name"].as_str().expect("name");
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
    let defs = &add["inputSchema"]["$defs"];
    let new_rule = defs
        .as_object()
        .expect("defs")
        .iter()
        .find(|(k, _)| k.starts_with("New"))
        .expect("New*")
        .1;
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

#[test]
fn read_only_mode_offers_only_reads() {
    let names: Vec<String> = tools(ToolOptions {
        allow_secrets: false,
        read_only: true,
    })
    .iter()
    .map(|t| t["name"].as_str().expect("name").to_owned())
    .collect();
    assert_eq!(
        names.len(),
        REFERENCE.iter().filter(|n| !is_mutating(n)).count()
    );
    assert!(names.iter().all(|n| !is_mutating(n)), "{names:?}");
}

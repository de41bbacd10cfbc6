//! What `tools/list` costs, in bytes of compact JSON and in tokens (bytes / 4), for every tool
//! and for the reference server's 43: the whole result as a client receives it, and the part
//! an LLM reads of each tool (name, description, `inputSchema`; clients hand output schemas
//! and annotations to programs, not to the model). Printed for the README's Performance
//! section, and held to budgets (sizes are deterministic, so a budget is a fair assertion).

mod support;

use opnsense_mcp_tools::ToolOptions;
use rmcp::model::Tool;
use serde_json::{Value, json};
use support::Session;

/// The reference server's tool names (`shared/reference-server/tools.json`).
const REFERENCE: [&str; 43] = [
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

fn bytes(v: &impl serde::Serialize) -> usize {
    serde_json::to_vec(v).expect("json").len()
}

/// Sizes of one set of tools, in bytes.
#[derive(Debug, Default)]
struct Sizes {
    tools: usize,
    /// The `tools/list` result: `{"tools": [...]}`.
    full: usize,
    /// Name, description and input schema of each tool.
    llm: usize,
    descriptions: usize,
    input: usize,
    output: usize,
    annotations: usize,
}

fn measure(tools: &[&Tool]) -> Sizes {
    let mut s = Sizes {
        tools: tools.len(),
        full: bytes(&json!({ "tools": tools })),
        ..Sizes::default()
    };
    for t in tools {
        s.llm += bytes(&json!({
            "name": t.name,
            "description": t.description,
            "inputSchema": t.input_schema,
        }));
        s.descriptions += t.description.as_deref().map_or(0, |d| bytes(&d));
        s.input += bytes(&t.input_schema);
        s.output += t.output_schema.as_ref().map_or(0, bytes);
        s.annotations += t.annotations.as_ref().map_or(0, bytes);
    }
    s
}

fn kb(n: usize) -> String {
    #[allow(clippy::cast_precision_loss)] // sizes are far below 2^52
    let k = n as f64 / 1024.0;
    format!("{n} B = {k:.1} KB ({} tokens)", n / 4)
}

#[tokio::test]
async fn tools_list_size_is_printed_and_within_budget() {
    let with_schemas = ToolOptions {
        output_schemas: true,
        ..ToolOptions::default()
    };
    let mut sizes = Vec::new();
    let mut all = Vec::new();
    for (label, options) in [
        ("default", ToolOptions::default()),
        ("output_schemas = true", with_schemas),
    ] {
        let s = Session::plain(options).await;
        all = s.client.list_all_tools().await.expect("tools/list");
        let every: Vec<&Tool> = all.iter().collect();
        let reference: Vec<&Tool> = all
            .iter()
            .filter(|t| REFERENCE.contains(&t.name.as_ref()))
            .collect();
        assert_eq!(reference.len(), 43, "every reference tool is offered");
        let (e, r) = (measure(&every), measure(&reference));
        for (set, m) in [("every tool", &e), ("the 43 reference tools", &r)] {
            println!(
                "tools/list ({label}), {set} ({}): full {}; LLM-visible (name + description + \
                 inputSchema) {}; descriptions {}, inputSchema {}, outputSchema {}, annotations {}",
                m.tools,
                kb(m.full),
                kb(m.llm),
                kb(m.descriptions),
                kb(m.input),
                kb(m.output),
                kb(m.annotations),
            );
        }
        sizes.push((e, r));
    }
    let [(e, r), (e_schemas, r_schemas)] = <[_; 2]>::try_from(sizes).expect("two listings");
    assert_eq!(
        e.llm, e_schemas.llm,
        "output schemas change only themselves"
    );
    assert_eq!(r.output, 0, "no output schema by default");
    // Budgets: issue 13's targets, 32 KB for what an LLM reads of the reference tools and 64 KB
    // for the whole default listing of every tool, are met; the rest may not grow past today's
    // figures (a growth shows up here and in the snapshot).
    assert!(e.full <= 64 * 1024, "every tool, full: {}", e.full);
    assert!(
        r.llm <= LLM_REFERENCE,
        "reference tools, LLM-visible: {}",
        r.llm
    );
    assert!(
        r.full <= FULL_REFERENCE,
        "reference tools, full: {}",
        r.full
    );
    assert!(e.llm <= LLM_EVERY, "every tool, LLM-visible: {}", e.llm);
    assert!(
        r_schemas.full <= FULL_REFERENCE_SCHEMAS,
        "reference tools with output schemas, full: {}",
        r_schemas.full
    );
    assert!(
        e_schemas.full <= FULL_EVERY_SCHEMAS,
        "every tool with output schemas, full: {}",
        e_schemas.full
    );
    // No tool carries a field set to `null` at its top level (an unset one is left out).
    for t in &all {
        let v: Value = serde_json::to_value(t).expect("json");
        let nulls: Vec<&String> = v
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, x)| x.is_null())
                    .map(|(k, _)| k)
                    .collect()
            })
            .unwrap_or_default();
        assert!(nulls.is_empty(), "{}: {nulls:?} null", t.name);
    }
}

/// Name, description and input schema of the 43 reference tools, at most (bytes; 32,651
/// measured; issue 13's target is 32 KB).
const LLM_REFERENCE: usize = 32 * 1024;
/// Name, description and input schema of every tool, at most (bytes; 56,136 measured).
const LLM_EVERY: usize = 56_500;
/// The whole default `tools/list` result, 43 reference tools, at most (bytes; 37,559
/// measured).
const FULL_REFERENCE: usize = 38_000;
/// The whole `tools/list` result with output schemas, 43 reference tools, at most (bytes;
/// 63,407 measured).
const FULL_REFERENCE_SCHEMAS: usize = 64_000;
/// The whole `tools/list` result with output schemas, every tool, at most (bytes; 109,919
/// measured).
const FULL_EVERY_SCHEMAS: usize = 110_500;

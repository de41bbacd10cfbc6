//! Which tools the server offers (each with the hints of its verb, [`crate::verb`]): the toolsets (`OPNSENSE_TOOLSETS`), read-only mode, the allow
//! and deny globs (`OPNSENSE_TOOLS_ALLOW` / `OPNSENSE_TOOLS_DENY`), and the arguments every
//! mutating tool takes (`dry_run`), added to their schemas here once for all; and every offered
//! tool's schemas slimmed ([`crate::slim`]).

use std::collections::HashSet;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::Tool;
use serde_json::{Value, json};

use crate::{OpnsenseTools, ToolOptions};

/// Whether a tool only reads (its `readOnlyHint`).
pub fn is_read_only(t: &Tool) -> bool {
    t.annotations
        .as_ref()
        .and_then(|a| a.read_only_hint)
        .unwrap_or(false)
}

/// `*` matches any run of characters (also none); everything else matches itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let Some((first, rest)) = parts.split_first() else {
        return name.is_empty();
    };
    let Some(mut tail) = name.strip_prefix(first) else {
        return false;
    };
    match rest.split_last() {
        None => tail.is_empty(),
        Some((last, middle)) => {
            for part in middle {
                match tail.find(part) {
                    Some(i) => tail = &tail[i + part.len()..],
                    None => return false,
                }
            }
            tail.len() >= last.len() && tail.ends_with(last)
        }
    }
}

/// A group of tools a user can offer or leave out as a whole (`OPNSENSE_TOOLSETS`), like the
/// toolsets of GitHub's MCP server. Every tool but the change tools belongs to exactly one; the
/// change tools (`change_*`) come with any toolset that can make a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Toolset {
    /// Status, firmware, the running configuration.
    System,
    /// Filter rules and aliases.
    Firewall,
    /// Port forwards and outbound (source) NAT.
    Nat,
    /// Interfaces, ARP and NDP tables.
    Interfaces,
    /// Configured static routes.
    Routes,
    /// DHCP leases, reservations and settings (Kea, Dnsmasq).
    Dhcp,
    /// Unbound: host overrides, forwards, settings.
    Dns,
    /// Intrusion detection.
    Ids,
    /// Services: status, start, stop, restart.
    Services,
    /// Troubleshooting reads: filter log, states, gateways, kernel routes.
    Diagnostics,
    /// VPN status.
    Vpn,
    /// Configuration backups: list, diff, restore, download.
    Backup,
    /// The security audit.
    Audit,
}

impl Toolset {
    /// Every toolset, in the order the documentation lists them.
    pub const ALL: [Toolset; 13] = [
        Toolset::System,
        Toolset::Firewall,
        Toolset::Nat,
        Toolset::Interfaces,
        Toolset::Routes,
        Toolset::Dhcp,
        Toolset::Dns,
        Toolset::Ids,
        Toolset::Services,
        Toolset::Diagnostics,
        Toolset::Vpn,
        Toolset::Backup,
        Toolset::Audit,
    ];

    /// The name used in `OPNSENSE_TOOLSETS`.
    pub fn name(self) -> &'static str {
        match self {
            Toolset::System => "system",
            Toolset::Firewall => "firewall",
            Toolset::Nat => "nat",
            Toolset::Interfaces => "interfaces",
            Toolset::Routes => "routes",
            Toolset::Dhcp => "dhcp",
            Toolset::Dns => "dns",
            Toolset::Ids => "ids",
            Toolset::Services => "services",
            Toolset::Diagnostics => "diagnostics",
            Toolset::Vpn => "vpn",
            Toolset::Backup => "backup",
            Toolset::Audit => "audit",
        }
    }

    /// The toolset of the tool `name`; `None` for the change tools (offered with any write) and
    /// for a name no rule covers (a test checks that every tool of the catalogue has one).
    pub fn of(name: &str) -> Option<Toolset> {
        // Exact names first: tools whose prefix names another area.
        let exact = match name {
            "system_config_backup" => Some(Toolset::Backup),
            "firewall_audit" => Some(Toolset::Audit),
            "firewall_log" | "firewall_states" | "gateway_status" | "route_table" => {
                Some(Toolset::Diagnostics)
            }
            _ => None,
        };
        if exact.is_some() {
            return exact;
        }
        const PREFIXES: [(&str, Toolset); 13] = [
            ("system_backup_", Toolset::Backup),
            ("system_", Toolset::System),
            ("firewall_nat_", Toolset::Nat),
            ("firewall_snat_", Toolset::Nat),
            ("firewall_", Toolset::Firewall),
            ("interface_", Toolset::Interfaces),
            ("route_", Toolset::Routes),
            ("dhcp_", Toolset::Dhcp),
            ("dns_", Toolset::Dns),
            ("ids_", Toolset::Ids),
            ("service_", Toolset::Services),
            ("vpn_", Toolset::Vpn),
            ("gateway_", Toolset::Diagnostics),
        ];
        PREFIXES
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix))
            .map(|(_, set)| *set)
    }

    /// Parses a comma-separated list (`all` or empty: every toolset); the error names the
    /// unknown entry and the valid names.
    pub fn parse_list(list: &[String]) -> Result<Vec<Toolset>, String> {
        let mut out = Vec::new();
        for entry in list.iter().flat_map(|s| s.split(',')).map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            if entry.eq_ignore_ascii_case("all") {
                return Ok(Vec::new());
            }
            let Some(set) = Toolset::ALL
                .into_iter()
                .find(|t| t.name().eq_ignore_ascii_case(entry))
            else {
                let names: Vec<&str> = Toolset::ALL.iter().map(|t| t.name()).collect();
                return Err(format!(
                    "{entry:?} is not a toolset (one of: all, {})",
                    names.join(", ")
                ));
            };
            if !out.contains(&set) {
                out.push(set);
            }
        }
        Ok(out)
    }
}

/// Whether the options let `name` be offered.
pub fn allowed(options: &ToolOptions, name: &str) -> bool {
    let in_toolset = options.toolsets.is_empty()
        || Toolset::of(name).is_some_and(|t| options.toolsets.contains(&t));
    in_toolset && allowed_by_globs(options, name)
}

/// Whether the allow and deny globs let `name` be offered.
fn allowed_by_globs(options: &ToolOptions, name: &str) -> bool {
    let allow =
        options.tools_allow.is_empty() || options.tools_allow.iter().any(|p| glob_match(p, name));
    allow && !options.tools_deny.iter().any(|p| glob_match(p, name))
}

/// The router the server offers, and the names of the tools that take `dry_run`: `all` filtered
/// by the options; the change tools (`changes`) are added whenever a mutating tool remains (a
/// change must be confirmable wherever one can be made), whatever the globs say.
pub fn select(
    all: ToolRouter<OpnsenseTools>,
    changes: ToolRouter<OpnsenseTools>,
    options: &ToolOptions,
) -> (ToolRouter<OpnsenseTools>, HashSet<String>) {
    let mut router = ToolRouter::new();
    let mut dry_run = HashSet::new();
    for mut route in all {
        crate::verb::annotate(&mut route.attr);
        let read_only = is_read_only(&route.attr);
        if (options.read_only && !read_only) || !allowed(options, &route.attr.name) {
            continue;
        }
        if !read_only {
            dry_run.insert(route.attr.name.to_string());
            add_dry_run(&mut route.attr);
        }
        slim_tool(&mut route.attr, options);
        router.add_route(route);
    }
    if !dry_run.is_empty() {
        for mut route in changes {
            crate::verb::annotate(&mut route.attr);
            if !is_read_only(&route.attr) && takes_dry_run(&route.attr) {
                dry_run.insert(route.attr.name.to_string());
                add_dry_run(&mut route.attr);
            }
            slim_tool(&mut route.attr, options);
            router.add_route(route);
        }
    }
    share_update_fields(&mut router);
    (router, dry_run)
}

/// Each `X_update` offered next to its `X_add` leaves its record's field descriptions to it.
fn share_update_fields(router: &mut ToolRouter<OpnsenseTools>) {
    let updates: Vec<String> = router
        .map
        .keys()
        .filter(|n| n.ends_with("_update"))
        .map(ToString::to_string)
        .collect();
    for name in updates {
        let add = format!("{}_add", name.trim_end_matches("_update"));
        if !router.map.contains_key(add.as_str()) {
            continue;
        }
        if let Some(route) = router.map.get_mut(name.as_str()) {
            crate::slim::share_fields_with(
                std::sync::Arc::make_mut(&mut route.attr.input_schema),
                &add,
            );
        }
    }
}

/// Readies a tool that is offered as it is (no `dry_run` to add), as [`select`] readies every
/// catalogue tool: annotations from its verb, then [`slim_tool`].
pub(crate) fn prepare(tool: &mut Tool, options: &ToolOptions) {
    crate::verb::annotate(tool);
    slim_tool(tool, options);
}

/// Slims a tool's description and its input and output schemas (see [`crate::slim`]); the
/// output schema is left out unless the options ask for it.
fn slim_tool(tool: &mut Tool, options: &ToolOptions) {
    if !options.output_schemas {
        tool.output_schema = None;
    }
    if let Some(d) = tool
        .description
        .as_deref()
        .and_then(crate::slim::tool_description)
    {
        tool.description = Some(d.into());
    }
    crate::slim::slim(
        std::sync::Arc::make_mut(&mut tool.input_schema),
        crate::slim::Side::Input,
    );
    if let Some(out) = tool.output_schema.as_mut() {
        crate::slim::slim(std::sync::Arc::make_mut(out), crate::slim::Side::Output);
    }
}

/// Adds the `dry_run` property to a mutating tool's input schema.
fn add_dry_run(tool: &mut Tool) {
    let schema = std::sync::Arc::make_mut(&mut tool.input_schema);
    let props = schema
        .entry("properties")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if let Value::Object(props) = props {
        props.insert(
            "dry_run".to_owned(),
            json!({
                "description": "Preview the requests; send nothing.",
                "type": "boolean"
            }),
        );
    }
}

/// The change tools act on the journal; `change_rollback` writes to OPNsense and takes
/// `dry_run` too, `change_confirm` only ends a timer (and refuses a `dry_run` like any unknown
/// argument).
fn takes_dry_run(tool: &Tool) -> bool {
    tool.name == "change_rollback"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("firewall_*", "firewall_rule_add"));
        assert!(glob_match("*_delete", "route_delete"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("service_stop", "service_stop"));
        assert!(glob_match("fire*rule*", "firewall_rule_list"));
        assert!(!glob_match("firewall_*", "route_add"));
        assert!(!glob_match("service_stop", "service_stop_all"));
        assert!(!glob_match("*_delete", "route_deleted"));
        assert!(!glob_match("a*b*c", "acb"));
    }

    #[test]
    fn allow_then_deny() {
        let o = ToolOptions {
            tools_allow: vec!["firewall_*".into()],
            tools_deny: vec!["*_delete".into()],
            ..ToolOptions::default()
        };
        assert!(allowed(&o, "firewall_rule_add"));
        assert!(!allowed(&o, "firewall_rule_delete"));
        assert!(!allowed(&o, "route_add"));
        assert!(allowed(&ToolOptions::default(), "route_add"));
    }

    #[test]
    fn toolsets_parse_and_select() {
        let sets = Toolset::parse_list(&["dns, nat".into(), "nat".into()]).unwrap();
        assert_eq!(sets, [Toolset::Dns, Toolset::Nat]);
        assert!(Toolset::parse_list(&["all".into()]).unwrap().is_empty());
        assert!(Toolset::parse_list(&[String::new()]).unwrap().is_empty());
        let err = Toolset::parse_list(&["dns,firewal".into()]).unwrap_err();
        assert!(err.contains("\"firewal\" is not a toolset") && err.contains("diagnostics"));
        let o = ToolOptions {
            toolsets: sets,
            tools_deny: vec!["dns_apply".into()],
            ..ToolOptions::default()
        };
        assert!(allowed(&o, "firewall_nat_add"));
        assert!(allowed(&o, "firewall_snat_list"));
        assert!(allowed(&o, "dns_host_override_list"));
        assert!(!allowed(&o, "dns_apply"));
        assert!(!allowed(&o, "firewall_rule_add"));
        assert!(!allowed(&o, "firewall_audit"));
        assert_eq!(Toolset::of("system_config_backup"), Some(Toolset::Backup));
        assert_eq!(Toolset::of("system_backup_diff"), Some(Toolset::Backup));
        assert_eq!(Toolset::of("system_status"), Some(Toolset::System));
        assert_eq!(Toolset::of("route_table"), Some(Toolset::Diagnostics));
        assert_eq!(Toolset::of("route_add"), Some(Toolset::Routes));
        assert_eq!(Toolset::of("change_confirm"), None);
    }
}

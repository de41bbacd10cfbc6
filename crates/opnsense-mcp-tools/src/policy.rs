//! Which tools the server offers: read-only mode, the allow and deny globs
//! (`OPNSENSE_TOOLS_ALLOW` / `OPNSENSE_TOOLS_DENY`), and the arguments every mutating tool takes
//! (`dry_run`), added to their schemas here once for all; and every offered tool's schemas
//! slimmed ([`crate::slim`]).

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

/// Whether the options let `name` be offered.
pub fn allowed(options: &ToolOptions, name: &str) -> bool {
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
        let read_only = is_read_only(&route.attr);
        if (options.read_only && !read_only) || !allowed(options, &route.attr.name) {
            continue;
        }
        if !read_only {
            dry_run.insert(route.attr.name.to_string());
            add_dry_run(&mut route.attr);
        }
        slim_tool(&mut route.attr);
        router.add_route(route);
    }
    if !dry_run.is_empty() {
        for mut route in changes {
            if !is_read_only(&route.attr) && takes_dry_run(&route.attr) {
                dry_run.insert(route.attr.name.to_string());
                add_dry_run(&mut route.attr);
            }
            slim_tool(&mut route.attr);
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

/// Slims a tool's input and output schemas (see [`crate::slim`]).
fn slim_tool(tool: &mut Tool) {
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
                "description": "Send nothing; answer with the requests that would be sent and a field diff.",
                "type": "boolean",
                "default": false
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
}

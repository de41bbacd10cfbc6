//! The OPNsense MCP tool catalogue: the reference server's 43 tools under the same names and
//! argument names, with typed schemas, annotations, compact structured results and errors an AI
//! can act on. Only this crate knows about MCP; OPNsense itself is reached through `opnsense-api`.
//!
//! One module per area; each holds its parameter structs and a `#[tool_router]` impl block.

pub mod common;
pub mod error;
pub mod redact;

mod dhcp;
mod dns;
mod firewall_aliases;
mod firewall_nat;
mod firewall_rules;
mod ids;
mod interfaces;
mod routes;
mod services;
mod system;

use opnsense_api::Client;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig, Tool};
use rmcp::{ServerHandler, tool_handler};

pub use error::ToolError;

/// Switches that change what the catalogue offers.
#[derive(Debug, Clone, Default)]
pub struct ToolOptions {
    /// Let `system_config_backup` return secrets when asked (`include_secrets: true`).
    pub allow_secrets: bool,
    /// Offer only read-only tools (no add/update/delete/apply/start/stop/restart).
    pub read_only: bool,
}

/// The MCP server: one shared SDK client for every session.
#[derive(Clone)]
pub struct OpnsenseTools {
    client: Client,
    options: ToolOptions,
    tool_router: ToolRouter<Self>,
}

impl std::fmt::Debug for OpnsenseTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpnsenseTools")
            .field("client", &self.client)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// How the staged-then-apply model works, for the AI client.
pub const INSTRUCTIONS: &str = "\
Tools for one OPNsense firewall. Reads are safe. Changes are STAGED by the _add, _update and \
_delete tools and take effect only when the matching apply tool runs:
- firewall_rule_* -> firewall_rule_apply
- firewall_alias_* -> firewall_alias_apply
- firewall_nat_* -> firewall_nat_apply
- route_* -> route_apply
- dns_host_override_* -> dns_apply (restarts Unbound briefly)
service_start/stop/restart act at once. Before changing firewall rules, list them and make sure \
the change cannot block your own access to the firewall's web GUI/API. Uuids come from the list \
tools; list results are paged (row_count default 100) and say how to get the next page. \
Pass raw: true to a read tool for OPNsense's full JSON.";

impl OpnsenseTools {
    /// Builds the catalogue around a client.
    pub fn new(client: Client, options: ToolOptions) -> Self {
        let mut tool_router = Self::system_router()
            + Self::firewall_rules_router()
            + Self::firewall_aliases_router()
            + Self::firewall_nat_router()
            + Self::interfaces_router()
            + Self::routes_router()
            + Self::dhcp_router()
            + Self::dns_router()
            + Self::ids_router()
            + Self::services_router();
        if options.read_only {
            let mutating: Vec<String> = tool_router
                .list_all()
                .into_iter()
                .filter(|t| !is_read_only(t))
                .map(|t| t.name.to_string())
                .collect();
            for name in mutating {
                tool_router.remove_route(&name);
            }
        }
        Self {
            client,
            options,
            tool_router,
        }
    }

    /// Every tool offered, sorted by name.
    pub fn tools(&self) -> Vec<Tool> {
        self.tool_router.list_all()
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn is_read_only(t: &Tool) -> bool {
    t.annotations
        .as_ref()
        .and_then(|a| a.read_only_hint)
        .unwrap_or(false)
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for OpnsenseTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "opnsense-mcp",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(INSTRUCTIONS.to_string())
    }
}

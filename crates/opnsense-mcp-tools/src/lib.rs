//! The OPNsense MCP tool catalogue: the reference server's 43 tools under the same names and
//! argument names, with typed schemas, annotations, compact structured results and errors an AI
//! can act on, plus troubleshooting reads (filter log, states, gateways, kernel routes, VPN
//! status). OPNsense itself is reached only through the `opnsense-api` SDK.
//!
//! One module per area; each holds its parameter structs and a `#[tool_router]` impl block (a
//! grid's record tools: one `record_tools!` invocation). Annotation hints follow from
//! each tool's verb ([`verb`]).
//! The generic record tools (add/update/delete/apply of any grid) are in [`record`].
//!
//! Besides tools: resources ([`resources`], with subscriptions), prompts ([`prompts`]),
//! completions ([`completion`]), and logging, progress and cancellation ([`notify`]); the
//! `impl ServerHandler` below only delegates to them.

pub mod changes;
pub mod common;
pub mod completion;
pub mod error;
pub mod fleet;
pub mod notify;
pub mod params;
pub mod policy;
pub mod prompts;
pub mod record;
pub mod redact;
pub mod resources;
pub mod slim;
pub mod verb;

mod audit;
mod dhcp;
mod diagnostics;
mod dns;
mod firewall_aliases;
mod firewall_nat;
mod firewall_rules;
mod firewall_snat;
mod ids;
mod interfaces;
mod routes;
mod services;
mod system;
mod vpn;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use opnsense_api::Client;
use opnsense_change::engine::Engine;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult,
    GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
    SubscribeRequestParams, Tool, UnsubscribeRequestParams,
};
use rmcp::service::NotificationContext;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, tool_handler};
use tracing::Instrument;

pub use error::ToolError;

/// Switches that change what the catalogue offers.
#[derive(Debug, Clone, Default)]
pub struct ToolOptions {
    /// Let `system_config_backup` return secrets when asked (`include_secrets: true`).
    pub allow_secrets: bool,
    /// Send each tool's `outputSchema` (the shape of its `structuredContent`) in `tools/list`.
    /// Off by default: clients hand output schemas to programs, not to the model, and they are
    /// about 40 % of the listing's bytes; `structuredContent` is sent either way.
    pub output_schemas: bool,
    /// Offer only read-only tools (no add/update/delete/apply/start/stop/restart).
    pub read_only: bool,
    /// Offer only tools matching one of these globs (`firewall_*`); empty = every tool.
    pub tools_allow: Vec<String>,
    /// Never offer tools matching one of these globs (`service_stop`, `*_delete`).
    pub tools_deny: Vec<String>,
    /// Offer only the tools of these toolsets (empty: every toolset).
    pub toolsets: Vec<policy::Toolset>,
}

tokio::task_local! {
    /// The arguments every tool of a kind takes, taken out of the call before its own
    /// arguments are checked (see [`OpnsenseTools::call_tool`]).
    static CALL: CallContext;
}

/// What the server took out of a call's arguments for every tool alike.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallContext {
    /// `dry_run: true` on a mutating tool: send no write, say what would be sent.
    pub dry_run: bool,
}

impl CallContext {
    /// The context of the call being served (the default outside one).
    pub fn current() -> Self {
        CALL.try_with(|c| *c).unwrap_or_default()
    }
}

/// Counts tool calls in progress, so a shutdown can let them finish. Cheap to clone. (A server
/// still starting holds its requests before they reach a catalogue: see `opnsense-mcp`'s gate.)
#[derive(Clone, Default)]
pub struct InFlight(Arc<InFlightInner>);

#[derive(Default)]
struct InFlightInner {
    count: AtomicUsize,
    idle: tokio::sync::Notify,
}

/// Held while a call runs (or waits to run): the call counts as in progress.
pub struct InFlightGuard(Arc<InFlightInner>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl InFlight {
    /// Counts a call as in progress until the guard is dropped.
    pub fn enter(&self) -> InFlightGuard {
        self.0.count.fetch_add(1, Ordering::AcqRel);
        InFlightGuard(self.0.clone())
    }

    /// Calls in progress now.
    pub fn count(&self) -> usize {
        self.0.count.load(Ordering::Acquire)
    }

    /// Resolves when no call is in progress.
    pub async fn idle(&self) {
        loop {
            let notified = self.0.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// The MCP server: one shared SDK client and one tool router for every session (cloning it is
/// an `Arc` clone, so each HTTP session costs no copy of the catalogue).
#[derive(Clone)]
pub struct OpnsenseTools {
    inner: Arc<Inner>,
}

struct Inner {
    /// The target's name (`default` for the firewall of the top-level configuration).
    target: String,
    client: Client,
    options: ToolOptions,
    router: ToolRouter<OpnsenseTools>,
    in_flight: InFlight,
    engine: Option<Engine>,
    /// Tools that take `dry_run` (taken out of their arguments before they are checked).
    dry_run: HashSet<String>,
    /// The sessions, their log levels and subscriptions.
    notifier: notify::Notifier,
}

impl std::fmt::Debug for OpnsenseTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpnsenseTools")
            .field("target", &self.inner.target)
            .field("client", &self.inner.client)
            .field("options", &self.inner.options)
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
- firewall_snat_* -> firewall_snat_apply
- route_* -> route_apply
- dns_host_override_*, dns_forward_* -> dns_apply (restarts Unbound briefly)
service_start/stop/restart act at once. Before changing firewall rules, list them and make sure \
the change cannot block your own access to the firewall's web GUI/API. Uuids come from the list \
tools; list results are paged (row_count default 100) and say how to get the next page. A \
page of more than 10 rows is a table: `columns` names the fields, each row is an array of \
their values in that order (absent trailing values left out), `common` holds the fields equal \
on every row. Pass raw: true to a read tool for OPNsense's full JSON; dry_run: true to a \
mutating tool to see what it would send.";

impl OpnsenseTools {
    /// Builds the catalogue around a client, without a change engine: it lists every tool,
    /// but a write answers that it needs one (see [`Self::build`]).
    pub fn new(client: Client, options: ToolOptions) -> Self {
        Self::build(client, options, None, InFlight::default())
    }

    /// Builds the catalogue around a client and the firewall's change engine (which journals
    /// every write and checks and reverts every apply), counting calls in `in_flight`.
    pub fn build(
        client: Client,
        options: ToolOptions,
        engine: Option<Engine>,
        in_flight: InFlight,
    ) -> Self {
        Self::build_named(fleet::DEFAULT_TARGET, client, options, engine, in_flight)
    }

    /// [`Self::build`] for the target `name` (written on every audit line of its calls).
    pub fn build_named(
        name: &str,
        client: Client,
        options: ToolOptions,
        engine: Option<Engine>,
        in_flight: InFlight,
    ) -> Self {
        let all = Self::system_router()
            + Self::audit_router()
            + Self::firewall_rules_router()
            + Self::firewall_rule_records_router()
            + Self::firewall_aliases_router()
            + Self::firewall_alias_records_router()
            + Self::firewall_nat_router()
            + Self::firewall_nat_records_router()
            + Self::firewall_snat_router()
            + Self::firewall_snat_records_router()
            + Self::interfaces_router()
            + Self::routes_router()
            + Self::route_records_router()
            + Self::dhcp_router()
            + Self::dns_router()
            + Self::dns_host_records_router()
            + Self::dns_forward_records_router()
            + Self::ids_router()
            + Self::services_router()
            + Self::diagnostics_router()
            + Self::vpn_router();
        let (router, dry_run) = policy::select(all, Self::changes_router(), &options);
        let notifier = notify::Notifier::for_target(name);
        if let Some(engine) = &engine {
            notifier.follow(engine.events(), resources::affected);
        }
        Self {
            inner: Arc::new(Inner {
                target: name.to_owned(),
                client,
                options,
                router,
                in_flight,
                engine,
                dry_run,
                notifier,
            }),
        }
    }

    /// Every tool offered, sorted by name.
    pub fn tools(&self) -> Vec<Tool> {
        self.inner.router.list_all()
    }

    /// The name of the target (firewall) this catalogue serves.
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The options the catalogue was built with.
    pub fn options(&self) -> &ToolOptions {
        &self.inner.options
    }

    /// The calls in progress.
    pub fn in_flight(&self) -> &InFlight {
        &self.inner.in_flight
    }

    /// The change engine, when the server makes changes.
    pub fn change_engine(&self) -> Option<&Engine> {
        self.inner.engine.as_ref()
    }

    /// The sessions, their log levels and resource subscriptions.
    pub fn notifier(&self) -> &notify::Notifier {
        &self.inner.notifier
    }

    /// Whether a tool only reads (its calls are dropped when cancelled; a write or an apply
    /// runs to its end, so the journal and the firewall never disagree).
    fn reads_only(&self, tool: &str) -> bool {
        self.inner
            .router
            .get(tool)
            .and_then(|t| t.annotations.as_ref())
            .and_then(|a| a.read_only_hint)
            == Some(true)
    }
}

/// What the server offers besides tools (the same for every catalogue, whatever its options).
#[allow(deprecated)] // MCP logging: deprecated by SEP-2577, part of 2025-11-25
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities::builder()
        .enable_logging()
        .enable_completions()
        .enable_prompts()
        .enable_resources()
        .enable_tools()
        .enable_resources_subscribe()
        .build()
}

/// The `initialize` answer: this server's name and version, its [`capabilities`] and
/// `instructions`.
pub fn server_info(instructions: String) -> ServerConfig {
    ServerConfig::new(capabilities())
        .with_server_info(Implementation::new(
            "opnsense-mcp",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(instructions)
}

/// The MCP session id of an HTTP request (absent over stdio).
fn session_id(context: &RequestContext<RoleServer>) -> Option<String> {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| parts.headers.get("mcp-session-id"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tool_handler(router = self.inner.router)]
impl ServerHandler for OpnsenseTools {
    fn get_info(&self) -> ServerConfig {
        server_info(INSTRUCTIONS.to_string())
    }

    /// Every call runs in a `tool` span naming the tool, the target, the MCP request id, (over
    /// HTTP) the session and the client's token name, so each OPNsense audit line can be tied
    /// to the call that caused it; and it is counted while it runs.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let _running = self.inner.in_flight.enter();
        let mut request = request;
        let mut call = CallContext::default();
        if self.inner.dry_run.contains(request.name.as_ref())
            && let Some(args) = request.arguments.as_mut()
            && let Some(v) = args.remove("dry_run")
        {
            match v {
                serde_json::Value::Bool(b) => call.dry_run = b,
                other => {
                    return Ok(rmcp::model::CallToolResult::error(vec![
                        rmcp::model::ContentBlock::text(format!(
                            "invalid argument dry_run: must be true or false, got {other}. Nothing was sent to OPNsense."
                        )),
                    ])
                    .into());
                }
            }
        }
        let span = tracing::info_span!(
            "tool",
            tool = %request.name,
            target = %self.inner.target,
            mcp_request_id = %context.id,
            session = session_id(&context).as_deref().unwrap_or("-"),
            client = fleet::Caller::of(&context).map_or("-", |c| c.name()),
        );
        let progress = notify::Progress::of(&context);
        let cancel = context.ct.clone();
        let reads_only = self.reads_only(request.name.as_ref());
        let tcc = ToolCallContext::new(self, request, context);
        let call = notify::Progress::scope(
            progress,
            CALL.scope(call, self.inner.router.call(tcc).instrument(span)),
        );
        let mut response = if reads_only {
            notify::cancellable(cancel.cancelled(), call).await
        } else {
            call.await
        };
        params::tidy(&mut response);
        response
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.session_started(&context.peer).await;
    }

    #[allow(deprecated)] // MCP logging: deprecated by SEP-2577, part of 2025-11-25
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.inner.notifier.set_level(&context.peer, request.level);
        Ok(())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(self.list_resources_now())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(resources::templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let read = self.read_resource_uri(&request.uri, notify::Progress::of(&context));
        notify::cancellable(context.ct.cancelled(), read)
            .await
            .map(Into::into)
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.resource_check(&request.uri)?;
        self.inner.notifier.subscribe(&context.peer, &request.uri);
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &rmcp::model::SubscriptionFilter,
    ) -> Option<rmcp::model::SubscriptionFilter> {
        notify::Notifier::accept(requested, |uri| self.resource_check(uri).is_ok())
    }

    async fn listen(&self, context: rmcp::service::SubscriptionContext) -> Result<(), ErrorData> {
        self.inner.notifier.listen(context).await
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.inner.notifier.unsubscribe(&context.peer, &request.uri);
        Ok(())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(prompts::list())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        prompts::get(&request.name, request.arguments.as_ref()).map(Into::into)
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        notify::cancellable(context.ct.cancelled(), self.complete_argument(&request)).await
    }
}

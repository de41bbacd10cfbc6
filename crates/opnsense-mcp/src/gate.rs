//! The server while it starts: `initialize` is answered at once (the server's name, version,
//! capabilities and instructions need no firewall), while the fleet is set up behind it (the
//! startup check of each target, its change journal opened and recovered, its catalogue built).
//! Every other request waits until the fleet is ready and is then handed to it; if the start
//! fails, the requests that waited are answered with the start's failure and the process ends
//! with it (see [`crate::serve::serve`]), so no tool call is ever served by a server whose start
//! failed.

use std::sync::Arc;

use opnsense_mcp_tools::InFlight;
use opnsense_mcp_tools::fleet::Fleet;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult,
    GetPromptRequestParams, GetPromptResponse, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ServerConfig, SubscribeRequestParams, SubscriptionFilter, Tool,
    UnsubscribeRequestParams,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tokio::sync::watch;

/// How far the start is.
#[derive(Clone)]
enum State {
    /// Still running.
    Starting,
    /// Done: every request goes to the fleet.
    Ready(Fleet),
    /// Failed with this message (the process is ending with it).
    Failed(String),
}

/// The MCP handler of `serve`: answers `initialize` from `info`, and everything else through the
/// fleet once [`Gate::ready`] has been called. Cloning it is an `Arc` clone.
#[derive(Clone)]
pub struct Gate {
    inner: Arc<Inner>,
}

struct Inner {
    info: ServerConfig,
    state: watch::Sender<State>,
    /// A tool call waiting for the start counts as in progress: a shutdown lets it finish.
    in_flight: InFlight,
}

impl Gate {
    /// A gate that answers `initialize` with `info` and holds every other request; tool calls
    /// held count in `in_flight`.
    pub fn new(info: ServerConfig, in_flight: InFlight) -> Self {
        Self {
            inner: Arc::new(Inner {
                info,
                state: watch::Sender::new(State::Starting),
                in_flight,
            }),
        }
    }

    /// The start is done: the held requests, and every one after them, go to `fleet`.
    pub fn ready(&self, fleet: Fleet) {
        self.inner.state.send_replace(State::Ready(fleet));
    }

    /// The start failed with `message`: the held requests, and any later one, are answered
    /// with it (nothing is sent to a firewall).
    pub fn failed(&self, message: String) {
        self.inner.state.send_replace(State::Failed(message));
    }

    /// The fleet, once ready (without waiting).
    fn now(&self) -> Option<Fleet> {
        match &*self.inner.state.borrow() {
            State::Ready(fleet) => Some(fleet.clone()),
            State::Starting | State::Failed(_) => None,
        }
    }

    /// Waits for the start to end: the fleet, or the start's failure as the request's error.
    async fn fleet(&self) -> Result<Fleet, ErrorData> {
        let mut rx = self.inner.state.subscribe();
        let state = rx
            .wait_for(|s| !matches!(s, State::Starting))
            .await
            .map_or_else(
                |_| State::Failed("the server is shutting down".into()),
                |s| s.clone(),
            );
        match state {
            State::Ready(fleet) => Ok(fleet),
            State::Failed(message) => Err(ErrorData::internal_error(
                format!("the server did not start: {message}"),
                None,
            )),
            State::Starting => Err(ErrorData::internal_error("the server is starting", None)),
        }
    }
}

/// Request handlers that wait for the fleet and hand it the request as it came, one line each:
/// `fn method(request) -> answer;`.
macro_rules! held_until_ready {
    ($($(#[$attr:meta])* fn $method:ident($request:ty) -> $answer:ty;)+) => {
        $(
            $(#[$attr])*
            async fn $method(
                &self,
                request: $request,
                context: RequestContext<RoleServer>,
            ) -> Result<$answer, ErrorData> {
                self.fleet().await?.$method(request, context).await
            }
        )+
    };
}

/// Every method the fleet answers, held until it is ready; `initialize` (from `get_info`) and
/// `ping` are answered at once. A method the fleet gains must be added here too.
impl ServerHandler for Gate {
    fn get_info(&self) -> ServerConfig {
        self.inner.info.clone()
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        if let Ok(fleet) = self.fleet().await {
            fleet.on_initialized(context).await;
        }
    }

    held_until_ready! {
        #[allow(deprecated)] // MCP logging: deprecated by SEP-2577, part of 2025-11-25
        fn set_level(rmcp::model::SetLevelRequestParams) -> ();
        fn list_resources(Option<PaginatedRequestParams>) -> ListResourcesResult;
        fn list_resource_templates(Option<PaginatedRequestParams>) -> ListResourceTemplatesResult;
        fn read_resource(ReadResourceRequestParams) -> ReadResourceResponse;
        #[allow(deprecated)] // resources/subscribe: legacy protocol versions
        fn subscribe(SubscribeRequestParams) -> ();
        #[allow(deprecated)] // resources/unsubscribe: legacy protocol versions
        fn unsubscribe(UnsubscribeRequestParams) -> ();
        fn list_prompts(Option<PaginatedRequestParams>) -> ListPromptsResult;
        fn get_prompt(GetPromptRequestParams) -> GetPromptResponse;
        fn complete(CompleteRequestParams) -> CompleteResult;
        fn list_tools(Option<PaginatedRequestParams>) -> ListToolsResult;
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        match self.now() {
            Some(fleet) => fleet.accepted_subscription_filter(requested),
            // What the fleet accepts does not depend on its targets: the resources it knows.
            None => opnsense_mcp_tools::notify::Notifier::accept(requested, |uri| {
                opnsense_mcp_tools::resources::parse(uri).is_some()
            }),
        }
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        self.fleet().await?.listen(context).await
    }

    /// Before the fleet is ready no tool is known here (over HTTP this only skips the check of
    /// `Mcp-Param-*` headers against the tool's schema; the call itself waits for the fleet).
    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.now().and_then(|fleet| fleet.get_tool(name))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let _waiting = self.inner.in_flight.enter();
        self.fleet().await?.call_tool(request, context).await
    }
}

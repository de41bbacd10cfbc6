//! Running the server (stdio or HTTP) and the one-shot commands `check`, `tools` and `call`.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use opnsense_mcp_tools::{OpnsenseTools, ToolOptions};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ListToolsResult, PaginatedRequestParams,
    ProtocolVersion, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::Value;

use crate::Failure;
use crate::config::{Config, Transport};

fn options(config: &Config) -> ToolOptions {
    ToolOptions {
        allow_secrets: config.allow_secrets,
        read_only: config.read_only,
    }
}

/// How long a shutdown waits for tool calls in progress before cancelling them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Time for a finished call's answer to be written out before the sessions are closed.
const SETTLE: Duration = Duration::from_millis(200);

/// Counts tool calls in progress, so a shutdown can let them finish.
#[derive(Clone, Default)]
pub struct InFlight(Arc<InFlightInner>);

#[derive(Default)]
struct InFlightInner {
    count: AtomicUsize,
    idle: tokio::sync::Notify,
}

/// Held while a call runs.
struct InFlightGuard(Arc<InFlightInner>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl InFlight {
    fn enter(&self) -> InFlightGuard {
        self.0.count.fetch_add(1, Ordering::AcqRel);
        InFlightGuard(self.0.clone())
    }

    /// Resolves when no call is in progress.
    pub async fn idle(&self) {
        loop {
            let notified = self.0.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.0.count.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// After a first signal: waits for calls in progress (at most [`SHUTDOWN_GRACE`]; a second
    /// signal cuts it short), then a moment for their answers to be written.
    pub async fn drain(&self) {
        tokio::select! {
            () = self.idle() => tokio::time::sleep(SETTLE).await,
            () = tokio::time::sleep(SHUTDOWN_GRACE) => {
                tracing::warn!("tool calls still running after {SHUTDOWN_GRACE:?}; cancelling them");
            }
            () = shutdown_signal() => {
                tracing::warn!("second signal: cancelling the tool calls still running");
            }
        }
    }
}

/// The MCP handler both transports serve: the tool catalogue, with calls counted for a
/// graceful shutdown. It forwards every method `OpnsenseTools` implements (`get_info` and the
/// tool methods); forward any other one it gains here too.
#[derive(Clone)]
pub struct Server {
    tools: OpnsenseTools,
    in_flight: InFlight,
}

impl Server {
    /// Wraps the catalogue.
    pub fn new(tools: OpnsenseTools, in_flight: InFlight) -> Self {
        Self { tools, in_flight }
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        self.tools.get_info()
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        ServerHandler::supported_protocol_versions(&self.tools)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let _running = self.in_flight.enter();
        self.tools.call_tool(request, context).await
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        self.tools.list_tools(request, context).await
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.get_tool(name)
    }
}

/// Asks OPNsense for its status once, so a wrong URL, certificate or key fails at startup with
/// the exact reason instead of on the first tool call.
pub async fn probe(client: &opnsense_api::Client) -> Result<(), Failure> {
    client
        .system()
        .status()
        .await
        .map(|_| ())
        .map_err(|e| Failure::Upstream(format!("OPNsense startup check failed: {e}")))
}

/// `serve`: builds the client, probes, then runs the configured transport until EOF or a signal.
pub async fn serve(config: Config, probe_first: bool) -> Result<(), Failure> {
    let client = config.client()?;
    if !config.verify_tls {
        tracing::warn!(
            "TLS certificate verification is OFF: use OPNSENSE_CA_FILE instead where possible"
        );
    }
    if probe_first {
        probe(&client).await?;
    }
    let in_flight = InFlight::default();
    let server = Server::new(
        OpnsenseTools::new(client, options(&config)),
        in_flight.clone(),
    );
    match config.transport {
        Transport::Stdio => serve_stdio(server, in_flight).await,
        Transport::Http => crate::http::serve_http(server, in_flight, &config.http).await,
    }
}

async fn serve_stdio(server: Server, in_flight: InFlight) -> Result<(), Failure> {
    let starting = server.serve(rmcp::transport::stdio());
    let running = tokio::select! {
        running = starting => running
            .map_err(|e| Failure::Other(format!("MCP session over stdio failed to start: {e}")))?,
        () = shutdown_signal() => return Ok(()),
    };
    let cancel = running.cancellation_token();
    let waiting = running.waiting();
    tokio::pin!(waiting);
    tokio::select! {
        result = &mut waiting => {
            result.map_err(|e| Failure::Other(format!("MCP session ended with an error: {e}")))?;
        }
        () = shutdown_signal() => {
            in_flight.drain().await;
            cancel.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(5), waiting).await;
        }
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// `check`: configuration and OPNsense reachability; prints the firmware version.
pub async fn check(config: &Config) -> Result<(), Failure> {
    let client = config.client()?;
    probe(&client).await?;
    let version = client.firmware_version().await.map_or_else(
        || "unknown version (no firmware privilege?)".to_owned(),
        |v| v.to_string(),
    );
    crate::print_json(&serde_json::json!({
        "ok": true,
        "url": client.api_base(),
        "firmware": version,
    }))
}

/// `tools`: the catalogue, without contacting any firewall.
pub fn catalogue(read_only: bool) -> Vec<rmcp::model::Tool> {
    // The client is never used to list tools; it points at a reserved, unresolvable name.
    let client = opnsense_api::Client::builder("https://opnsense.invalid")
        .credentials("unused", "unused")
        .build();
    match client {
        Ok(client) => OpnsenseTools::new(
            client,
            ToolOptions {
                allow_secrets: false,
                read_only,
            },
        )
        .tools(),
        Err(_) => Vec::new(),
    }
}

/// A real MCP session to `tools` over an in-memory pipe (for `call` and `demo`): the client,
/// and the server task to abort when done.
pub async fn in_memory_session(
    tools: OpnsenseTools,
) -> Result<
    (
        rmcp::service::RunningService<rmcp::RoleClient, ()>,
        tokio::task::JoinHandle<()>,
    ),
    Failure,
> {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let server = tokio::spawn(async move {
        if let Ok(running) = tools.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = ()
        .serve(client_io)
        .await
        .map_err(|e| Failure::Other(format!("in-memory MCP session failed: {e}")))?;
    Ok((client, server))
}

/// `call`: runs one tool through a real MCP session in memory and prints the result.
pub async fn call(config: &Config, tool: &str, args: &str) -> Result<(), Failure> {
    let args: Value = serde_json::from_str(args)
        .map_err(|e| Failure::Config(format!("arguments are not valid JSON: {e}")))?;
    let Value::Object(args) = args else {
        return Err(Failure::Config("arguments must be a JSON object".into()));
    };
    let (client, server) =
        in_memory_session(OpnsenseTools::new(config.client()?, options(config))).await?;
    let result = client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await
        .map_err(|e| Failure::Other(format!("{tool}: {e}")))?;
    let _ = client.cancel().await;
    server.abort();
    let failed = result.is_error == Some(true);
    crate::print_json(&serde_json::to_value(&result).unwrap_or(Value::Null))?;
    if failed {
        Err(Failure::Other(format!("{tool} returned an error")))
    } else {
        Ok(())
    }
}

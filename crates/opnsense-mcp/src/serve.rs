//! Running the server (stdio or HTTP) and the one-shot commands `check`, `tools` and `call`.

use std::time::Duration;

use opnsense_mcp_tools::{InFlight, OpnsenseTools, ToolOptions};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
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

/// After a first signal: waits for calls in progress (at most [`SHUTDOWN_GRACE`]; a second
/// signal cuts it short), then a moment for their answers to be written.
pub async fn drain(in_flight: &InFlight) {
    tokio::select! {
        () = in_flight.idle() => tokio::time::sleep(SETTLE).await,
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("tool calls still running after {SHUTDOWN_GRACE:?}; cancelling them");
        }
        () = shutdown_signal() => {
            tracing::warn!("second signal: cancelling the tool calls still running");
        }
    }
}

/// Asks OPNsense for its status once, so a wrong URL, certificate or key fails at startup with
/// the exact reason instead of on the first tool call. It checks what it says: the firewall
/// answers over TLS, accepts the credentials, and answers JSON; the firmware version is read
/// too. The status body itself is not judged: a surprise in a cosmetic field is a warning, never
/// a reason to stop.
pub async fn probe(client: &opnsense_api::Client) -> Result<(), Failure> {
    let status: Value = client
        .send_json(opnsense_api::api::system::status_request())
        .await
        .map_err(|e| Failure::Upstream(format!("OPNsense startup check failed: {e}")))?;
    if let Err(e) = serde_json::from_value::<opnsense_api::models::system::SystemStatus>(status) {
        tracing::warn!(
            "the firewall's system status has an unexpected shape ({e}); serving anyway"
        );
    }
    if client.firmware_version().await.is_none() {
        tracing::warn!(
            "could not read the firmware version (no privilege for core/firmware/status?); assuming the newest behaviour"
        );
    }
    Ok(())
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
    let server = OpnsenseTools::with_in_flight(client, options(&config), InFlight::default());
    match config.transport {
        Transport::Stdio => serve_stdio(server).await,
        Transport::Http => crate::http::serve_http(server, &config.http).await,
    }
}

async fn serve_stdio(server: OpnsenseTools) -> Result<(), Failure> {
    let in_flight = server.in_flight().clone();
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
            drain(&in_flight).await;
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

//! Running the server (stdio or HTTP) and the one-shot commands `check`, `tools` and `call`.

use std::time::Duration;

use opnsense_change::engine::{ChangeView, Engine, Settings};
use opnsense_change::journal::Journal;
use opnsense_mcp_tools::{InFlight, OpnsenseTools, ToolOptions};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use serde_json::Value;

use crate::Failure;
use crate::config::{Config, StateStore, Transport};

fn options(config: &Config) -> ToolOptions {
    ToolOptions {
        allow_secrets: config.allow_secrets,
        read_only: config.read_only,
        tools_allow: config.tools_allow.clone(),
        tools_deny: config.tools_deny.clone(),
    }
}

/// Every `tools_allow`/`tools_deny` pattern must name at least one tool: a typo in a deny list
/// would otherwise leave the tool it meant to hide on offer.
fn check_patterns(config: &Config) -> Result<(), Failure> {
    let names: Vec<String> = catalogue_with(ToolOptions::default())
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    for (key, patterns) in [
        ("tools_allow", &config.tools_allow),
        ("tools_deny", &config.tools_deny),
    ] {
        for p in patterns {
            if !names
                .iter()
                .any(|n| opnsense_mcp_tools::policy::glob_match(p, n))
            {
                return Err(Failure::Config(format!(
                    "configuration error: {key} pattern {p:?} matches no tool (see `opnsense-mcp tools` for the names)"
                )));
            }
        }
    }
    Ok(())
}

/// Opens the change journal of the firewall `client` talks to and builds its change engine.
pub async fn open_engine(
    config: &Config,
    client: &opnsense_api::Client,
) -> Result<Engine, Failure> {
    let firewall = client.api_base();
    let journal = match &config.state {
        StateStore::Dir(dir) => Journal::open_in_dir(dir, firewall).await,
        StateStore::Url(url) => Journal::open_url(url, firewall).await,
        StateStore::Unavailable => {
            return Err(Failure::Config(
                "configuration error: no place for the change journal (no HOME or XDG_STATE_HOME): \
                 set OPNSENSE_STATE_DIR, or OPNSENSE_READ_ONLY=true to serve without changes"
                    .into(),
            ));
        }
    }
    .map_err(|e| Failure::Config(format!("cannot open the change journal: {e}")))?;
    tracing::info!(journal = journal.location(), "change journal open");
    Ok(Engine::new(
        client.clone(),
        journal,
        Settings {
            confirm_timeout: config.confirm_timeout,
            protect: config.protect.clone(),
        },
    ))
}

/// The catalogue for `config`: with a change engine unless read-only.
pub async fn build_tools(
    config: &Config,
    client: opnsense_api::Client,
    in_flight: InFlight,
) -> Result<OpnsenseTools, Failure> {
    check_patterns(config)?;
    let engine = if config.read_only {
        None
    } else {
        Some(open_engine(config, &client).await?)
    };
    Ok(OpnsenseTools::build(
        client,
        options(config),
        engine,
        in_flight,
    ))
}

fn log_settled(when: &str, views: &[ChangeView]) {
    for v in views {
        tracing::warn!(
            change_id = %v.change_id,
            grid = %v.grid,
            status = ?v.status,
            "{when}: change {} on {} is now {:?}",
            v.change_id,
            v.grid,
            v.status
        );
    }
}

/// At start: reverts the changes a previous run left unconfirmed and past their time, and
/// re-arms the timers of the others.
pub async fn recover(tools: &OpnsenseTools) -> Result<(), Failure> {
    if let Some(engine) = tools.change_engine() {
        let views = engine
            .recover()
            .await
            .map_err(|e| Failure::Other(format!("recovering unconfirmed changes failed: {e}")))?;
        log_settled("after a restart", &views);
    }
    Ok(())
}

/// Before exit: reverts every change still waiting for confirmation.
pub async fn settle(tools: &OpnsenseTools) -> Vec<ChangeView> {
    let Some(engine) = tools.change_engine() else {
        return Vec::new();
    };
    match engine.shutdown().await {
        Ok(views) => {
            log_settled("at shutdown", &views);
            views
        }
        Err(e) => {
            tracing::error!("reverting unconfirmed changes at shutdown failed: {e}");
            Vec::new()
        }
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

/// `serve`: builds the client and the catalogue, then runs the configured transport until EOF
/// or a signal. The start's checks (the probe, the journal's recovery) run while the transport
/// already answers `initialize` and `tools/list`; tool calls wait for them. A failed check ends
/// the process with its exit code and message before any tool call is served.
pub async fn serve(config: Config, probe_first: bool) -> Result<(), Failure> {
    let client = config.client()?;
    if !config.verify_tls {
        tracing::warn!(
            "TLS certificate verification is OFF: use OPNSENSE_CA_FILE instead where possible"
        );
    }
    let in_flight = InFlight::starting();
    let server = build_tools(&config, client.clone(), in_flight.clone()).await?;
    let mut start = {
        let server = server.clone();
        Box::pin(async move {
            if probe_first {
                probe(&client).await?;
            }
            recover(&server).await?;
            in_flight.started();
            Ok::<(), Failure>(())
        })
    };
    let mut transport = Box::pin(async {
        match config.transport {
            Transport::Stdio => serve_stdio(server.clone()).await,
            Transport::Http => crate::http::serve_http(server.clone(), &config.http).await,
        }
    });
    let mut start_done = false;
    let served = loop {
        tokio::select! {
            served = &mut transport => break served,
            checked = &mut start, if !start_done => {
                start_done = true;
                if let Err(failed) = checked {
                    break Err(failed);
                }
            }
        }
    };
    // A session that ended before the checks did still ends as they do (exit 3 when the probe
    // fails), as when they ran first.
    let served = match served {
        Ok(()) if !start_done => start.await,
        other => other,
    };
    settle(&server).await;
    served
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
pub fn catalogue(config: &Config) -> Result<Vec<rmcp::model::Tool>, Failure> {
    check_patterns(config)?;
    Ok(catalogue_with(options(config)))
}

/// The tools `options` offer (a server that makes changes also offers the `change_*` tools).
fn catalogue_with(options: ToolOptions) -> Vec<rmcp::model::Tool> {
    // The client is never used to list tools; it points at a reserved, unresolvable name.
    let client = opnsense_api::Client::builder("https://opnsense.invalid")
        .credentials("unused", "unused")
        .build();
    match client {
        Ok(client) => OpnsenseTools::new(client, options).tools(),
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

/// `call`: runs one tool through a real MCP session in memory and prints the result. An apply
/// that leaves a change waiting for confirmation is confirmed when `confirm` is set (after its
/// checks passed), else reverted before the process exits: no unconfirmed change outlives the
/// process that watches it.
pub async fn call(config: &Config, tool: &str, args: &str, confirm: bool) -> Result<(), Failure> {
    let args: Value = serde_json::from_str(args)
        .map_err(|e| Failure::Config(format!("arguments are not valid JSON: {e}")))?;
    let Value::Object(args) = args else {
        return Err(Failure::Config("arguments must be a JSON object".into()));
    };
    let tools = build_tools(config, config.client()?, InFlight::default()).await?;
    recover(&tools).await?;
    let (client, server) = in_memory_session(tools.clone()).await?;
    let outcome = call_and_confirm(&client, tool, args, confirm).await;
    let _ = client.cancel().await;
    server.abort();
    let reverted = settle(&tools).await;
    let (result, confirmed) = outcome?;
    let failed = result.is_error == Some(true);
    let mut shown = serde_json::to_value(&result).unwrap_or(Value::Null);
    if let Some(c) = confirmed {
        shown["confirmed"] = c;
    }
    if !reverted.is_empty() {
        shown["reverted_at_exit"] = serde_json::to_value(&reverted).unwrap_or(Value::Null);
        eprintln!(
            "opnsense-mcp: the change was reverted because this process exits unconfirmed; \
             pass --confirm to keep a change whose checks passed"
        );
    }
    crate::print_json(&shown)?;
    if failed {
        Err(Failure::Other(format!("{tool} returned an error")))
    } else {
        Ok(())
    }
}

/// Calls `tool`; when it leaves a change to confirm and `confirm` is set, confirms it.
async fn call_and_confirm(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    tool: &str,
    args: serde_json::Map<String, Value>,
    confirm: bool,
) -> Result<(rmcp::model::CallToolResult, Option<Value>), Failure> {
    let result = client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await
        .map_err(|e| Failure::Other(format!("{tool}: {e}")))?;
    let pending = result
        .structured_content
        .as_ref()
        .filter(|s| s["confirm_with"] == "change_confirm")
        .and_then(|s| s["change_id"].as_str().map(str::to_owned));
    let (Some(change_id), true) = (pending, confirm) else {
        return Ok((result, None));
    };
    let mut args = serde_json::Map::new();
    args.insert("change_id".into(), Value::from(change_id));
    let confirmed = client
        .call_tool(CallToolRequestParams::new("change_confirm").with_arguments(args))
        .await
        .map_err(|e| Failure::Other(format!("change_confirm: {e}")))?;
    if confirmed.is_error == Some(true) {
        return Err(Failure::Other(format!(
            "change_confirm failed: {}",
            serde_json::to_value(&confirmed).unwrap_or(Value::Null)
        )));
    }
    Ok((result, confirmed.structured_content))
}

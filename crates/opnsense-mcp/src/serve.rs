//! Running the server (stdio or HTTP) and the one-shot commands `check`, `tools` and `call`.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use opnsense_change::engine::{ChangeView, Engine, Settings};
use opnsense_change::journal::Journal;
use opnsense_mcp_tools::fleet::{DEFAULT_TARGET, Fleet, TARGET_ARG};
use opnsense_mcp_tools::{InFlight, OpnsenseTools, ToolOptions};
use rmcp::model::CallToolRequestParams;
use rmcp::{ServerHandler, ServiceExt};
use serde_json::Value;
use tracing::Instrument as _;

use crate::Failure;
use crate::config::{Config, StateStore, Transport};
use crate::gate::Gate;

fn options(config: &Config) -> ToolOptions {
    ToolOptions {
        allow_secrets: config.allow_secrets,
        output_schemas: config.output_schemas,
        read_only: config.read_only,
        tools_allow: config.tools_allow.clone(),
        tools_deny: config.tools_deny.clone(),
        toolsets: config.toolsets.clone(),
    }
}

/// The name of every tool a catalogue can offer: the catalogue of the default options, built
/// once per process and only when a pattern is to be checked against it.
fn all_tool_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        catalogue_with(ToolOptions::default())
            .into_iter()
            .map(|t| t.name.to_string())
            .collect()
    })
}

/// Every `tools_allow`/`tools_deny` pattern must name at least one tool: a typo in a deny list
/// would otherwise leave the tool it meant to hide on offer.
fn check_patterns(config: &Config) -> Result<(), Failure> {
    if config.tools_allow.is_empty() && config.tools_deny.is_empty() {
        return Ok(());
    }
    let names = all_tool_names();
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
    build_target(DEFAULT_TARGET, config, client, in_flight).await
}

/// The catalogue of the target `name` (its own client, policy, engine and journal).
async fn build_target(
    name: &str,
    config: &Config,
    client: opnsense_api::Client,
    in_flight: InFlight,
) -> Result<OpnsenseTools, Failure> {
    check_patterns(config)?;
    let engine = if config.read_only {
        None
    } else {
        Some(
            open_engine(config, &client)
                .await
                .map_err(|f| named(name, f))?,
        )
    };
    let name = name.to_owned();
    let options = options(config);
    // Building the catalogue (schemas generated and slimmed) is CPU work: off the runtime's
    // threads, so a server that is starting keeps answering its client meanwhile.
    tokio::task::spawn_blocking(move || {
        OpnsenseTools::build_named(&name, client, options, engine, in_flight)
    })
    .await
    .map_err(|e| Failure::Other(format!("building the tool catalogue failed: {e}")))
}

/// `f` with the target named, when the server has named targets (the `default` target of
/// the environment-only setup speaks as before).
fn named(name: &str, f: Failure) -> Failure {
    if name == DEFAULT_TARGET {
        return f;
    }
    let prefix = |m: String| {
        let m = m
            .strip_prefix("configuration error: ")
            .map_or(m.clone(), |rest| {
                format!("configuration error: target `{name}`: {rest}")
            });
        if m.contains(&format!("target `{name}`")) {
            m
        } else {
            format!("target `{name}`: {m}")
        }
    };
    match f {
        Failure::Config(m) => Failure::Config(prefix(m)),
        Failure::Upstream(m) => Failure::Upstream(prefix(m)),
        Failure::Bind(m) => Failure::Bind(m),
        Failure::Other(m) => Failure::Other(prefix(m)),
    }
}

/// The SDK client of each target, by name.
fn clients(config: &Config) -> Result<Vec<(String, Config, opnsense_api::Client)>, Failure> {
    config
        .fleet()
        .into_iter()
        .map(|(name, c)| {
            let client = c
                .client()
                .map_err(|e| named(&name, Failure::Config(e.to_string())))?;
            Ok((name, c, client))
        })
        .collect()
}

/// Every target's catalogue (each with its change engine unless read-only), as one fleet.
pub async fn build_fleet(
    targets: Vec<(String, Config, opnsense_api::Client)>,
    default: &str,
) -> Result<Fleet, Failure> {
    build_fleet_counted(targets, default, InFlight::default()).await
}

/// [`build_fleet`], counting tool calls in `in_flight`.
async fn build_fleet_counted(
    targets: Vec<(String, Config, opnsense_api::Client)>,
    default: &str,
    in_flight: InFlight,
) -> Result<Fleet, Failure> {
    let mut built = Vec::with_capacity(targets.len());
    for (name, c, client) in targets {
        built.push(build_target(&name, &c, client, in_flight.clone()).await?);
    }
    Fleet::new(built, default).map_err(|e| Failure::Config(format!("configuration error: {e}")))
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

/// The span of what is done for target `name` outside a tool call: its audit lines name it.
fn target_span(name: &str, phase: &'static str) -> tracing::Span {
    tracing::info_span!(crate::logging::TARGET_SPAN, target = %name, phase)
}

/// [`recover`] for every target.
pub async fn recover_fleet(fleet: &Fleet) -> Result<(), Failure> {
    for tools in fleet.targets() {
        recover(tools)
            .instrument(target_span(tools.target(), "recover"))
            .await
            .map_err(|f| named(tools.target(), f))?;
    }
    Ok(())
}

/// [`settle`] for every target.
pub async fn settle_fleet(fleet: &Fleet) -> Vec<ChangeView> {
    let mut views = Vec::new();
    for tools in fleet.targets() {
        views.extend(
            settle(tools)
                .instrument(target_span(tools.target(), "shutdown"))
                .await,
        );
    }
    views
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

/// `serve`: builds each target's client and runs the configured transport until EOF or a
/// signal. The transport answers `initialize` at once; the start (each target's startup check,
/// change journal opened and recovered, catalogue built) runs meanwhile, and every other request
/// waits for it (see [`crate::gate`]). With one target, a failed check stops the server (exit 3,
/// the same message as when the check ran before serving) before any tool call is served; with
/// several, a target that fails it is served anyway and shown unreachable, unless every one
/// fails.
pub async fn serve(config: Config, probe_first: bool) -> Result<(), Failure> {
    let targets = clients(&config)?;
    for (name, c, _) in &targets {
        if !c.verify_tls && c.tls_fingerprint.is_none() {
            tracing::warn!(
                target_name = %name,
                "TLS certificate verification is OFF for target {name}: pin it with tls_fingerprint or trust it with ca_file instead"
            );
        }
        check_patterns(c).map_err(|f| named(name, f))?;
    }
    let in_flight = InFlight::default();
    let gate = Gate::new(
        opnsense_mcp_tools::fleet::server_config(
            targets.iter().map(|(name, _, _)| name.as_str()),
            &config.default_target,
        ),
        in_flight.clone(),
    );
    // Whether a signal came: then a start still running is not waited for.
    let signalled = tokio_util::sync::CancellationToken::new();
    let watching = {
        let signalled = signalled.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            signalled.cancel();
        })
    };
    let mut start = tokio::spawn(start(
        targets,
        config.clone(),
        probe_first,
        in_flight.clone(),
    ));
    let mut transport = Box::pin(async {
        match config.transport {
            Transport::Stdio => serve_stdio(gate.clone(), in_flight.clone()).await,
            Transport::Http => {
                crate::http::serve_http(gate.clone(), in_flight.clone(), &config.http).await
            }
        }
    });
    let mut fleet: Option<Fleet> = None;
    let served = loop {
        tokio::select! {
            served = &mut transport => break served,
            started = &mut start, if fleet.is_none() => match started.unwrap_or_else(|e| {
                Err(Failure::Other(format!("the server's start failed: {e}")))
            }) {
                Ok(ready) => {
                    gate.ready(ready.clone());
                    fleet = Some(ready);
                }
                Err(failed) => {
                    gate.failed(failed.message().to_owned());
                    watching.abort();
                    return Err(failed);
                }
            },
        }
    };
    // The session ended (EOF, a signal, a bind failure) before the start did: the start still
    // decides how the process ends (exit 3 when the check fails), as when it ran first.
    let served = if fleet.is_none() {
        tokio::select! {
            started = &mut start => match started.unwrap_or_else(|e| {
                Err(Failure::Other(format!("the server's start failed: {e}")))
            }) {
                Ok(ready) => {
                    fleet = Some(ready);
                    served
                }
                Err(failed) => Err(failed),
            },
            () = signalled.cancelled() => {
                start.abort();
                served
            }
        }
    } else {
        served
    };
    watching.abort();
    if let Some(fleet) = &fleet {
        settle_fleet(fleet).await;
    }
    served
}

/// The start of `serve`, while the transport already answers: the startup check of every target
/// (when `probe_first`) runs concurrently with the building of the fleet (each target's journal
/// opened, its catalogue built); then each change a previous run left unconfirmed is recovered.
/// A failed check is reported before a failure of the build, as when the check ran first.
async fn start(
    targets: Vec<(String, Config, opnsense_api::Client)>,
    config: Config,
    probe_first: bool,
    in_flight: InFlight,
) -> Result<Fleet, Failure> {
    let probing = async {
        if probe_first {
            Some(probe_all(&targets).await)
        } else {
            None
        }
    };
    let building = build_fleet_counted(targets.clone(), &config.default_target, in_flight);
    let (probed, built) = tokio::join!(probing, building);
    let probed = probed.transpose()?;
    let fleet = built?;
    for (name, outcome) in probed.into_iter().flatten() {
        fleet.record_reach(&name, outcome);
    }
    warn_unshared_journal(&config);
    recover_fleet(&fleet).await?;
    Ok(fleet)
}

/// Stateless replicas behind a load balancer need one journal: with a journal file each, a
/// change applied through one replica is unknown to the others (`change_confirm` would fail
/// there).
fn warn_unshared_journal(config: &Config) {
    if matches!(config.transport, Transport::Http)
        && config.http.stateless
        && !config.read_only
        && matches!(config.state, StateStore::Dir(_))
    {
        tracing::warn!(
            "stateless HTTP with a journal file: replicas behind a load balancer must share one \
             journal (OPNSENSE_STATE_URL=postgres://...), or a change is known to one replica only"
        );
    }
}

/// With several targets, how long the startup check waits for each one.
const STARTUP_PROBE_DEADLINE: Duration = Duration::from_secs(10);

/// What every task of `set` returned, in the order they finished (a task that panicked
/// returns nothing).
async fn finished<T: 'static>(mut set: tokio::task::JoinSet<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(done) = set.join_next().await {
        if let Ok(o) = done {
            out.push(o);
        }
    }
    out
}

/// Probes every target concurrently: each outcome by name. One target: its failure is the
/// error. Several: failures are warnings, unless every target failed.
async fn probe_all(
    targets: &[(String, Config, opnsense_api::Client)],
) -> Result<Vec<(String, Result<(), String>)>, Failure> {
    if let [(name, _, client)] = targets {
        probe(client)
            .instrument(target_span(name, "startup"))
            .await
            .map_err(|f| named(name, f))?;
        return Ok(vec![(name.clone(), Ok(()))]);
    }
    let mut set = tokio::task::JoinSet::new();
    for (name, _, client) in targets {
        let span = target_span(name, "startup");
        let (name, client) = (name.clone(), client.clone());
        set.spawn(
            async move {
                let outcome = probe(&client).await.map_err(|f| match f {
                    Failure::Config(m)
                    | Failure::Upstream(m)
                    | Failure::Bind(m)
                    | Failure::Other(m) => m,
                });
                (name, outcome)
            }
            .instrument(span),
        );
    }
    let mut outcomes = finished(set).await;
    outcomes.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, outcome) in &outcomes {
        if let Err(e) = outcome {
            tracing::warn!(target_name = %name, "target {name} is served but failed the startup check: {e}");
        }
    }
    if outcomes.iter().all(|(_, o)| o.is_err()) {
        return Err(Failure::Upstream(format!(
            "every target failed the startup check: {}",
            outcomes
                .iter()
                .map(|(n, o)| format!("{n}: {}", o.as_ref().err().map_or("", String::as_str)))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    Ok(outcomes)
}

async fn serve_stdio(server: Gate, in_flight: InFlight) -> Result<(), Failure> {
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

/// `check`: configuration and OPNsense reachability of every target, one JSON line each
/// (target, ok, url, firmware version or why it failed). Any target failing is exit 3.
pub async fn check(config: &Config) -> Result<(), Failure> {
    let targets = clients(config)?;
    let several = targets.len() > 1;
    let mut set = tokio::task::JoinSet::new();
    for (name, cfg, client) in targets {
        let span = target_span(&name, "check");
        set.spawn(
            async move {
                let seen = crate::init::seen_fingerprint(&cfg).await;
                let outcome = if several {
                    tokio::time::timeout(STARTUP_PROBE_DEADLINE, probe(&client))
                        .await
                        .unwrap_or_else(|_| {
                            Err(Failure::Upstream(format!(
                                "no answer within {} s",
                                STARTUP_PROBE_DEADLINE.as_secs()
                            )))
                        })
                } else {
                    probe(&client).await
                };
                let outcome =
                    outcome.map_err(|f| crate::init::with_fingerprint_hint(f, seen.as_ref()));
                // The probe read it (when the key may).
                let version = client.known_firmware_version();
                let tls = (seen.map(|f| f.to_string()), crate::init::verification(&cfg));
                (name, client.api_base().to_owned(), outcome, version, tls)
            }
            .instrument(span),
        );
    }
    let mut rows = finished(set).await;
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut failed = Vec::new();
    let mut out = String::new();
    for (name, url, outcome, version, (fingerprint, verification)) in rows {
        let line = match outcome {
            Ok(()) => serde_json::json!({
                "target": name,
                "ok": true,
                "url": url,
                "firmware": version.map_or_else(
                    || "unknown version (no firmware privilege?)".to_owned(),
                    |v| v.to_string(),
                ),
                "tls_fingerprint": fingerprint,
                "tls_verification": verification,
            }),
            Err(f) => {
                let why = match f {
                    Failure::Config(m)
                    | Failure::Upstream(m)
                    | Failure::Bind(m)
                    | Failure::Other(m) => m,
                };
                let line =
                    serde_json::json!({"target": name, "ok": false, "url": url, "error": why});
                failed.push((name, why));
                line
            }
        };
        let _ = writeln!(out, "{line}");
    }
    crate::print_text(&out)?;
    match failed.as_slice() {
        [] => Ok(()),
        [(name, why)] if config.fleet().len() == 1 && name == DEFAULT_TARGET => {
            Err(Failure::Upstream(why.clone()))
        }
        _ => Err(Failure::Upstream(format!(
            "{} target(s) failed the check: {}",
            failed.len(),
            failed
                .iter()
                .map(|(n, w)| format!("{n}: {w}"))
                .collect::<Vec<_>>()
                .join("; ")
        ))),
    }
}

/// `tools`: the catalogue, without contacting any firewall: what the server lists (every
/// target's tools with `target`, and the fleet tools), or with `target` that target's own.
pub fn catalogue(config: &Config, target: Option<&str>) -> Result<Vec<rmcp::model::Tool>, Failure> {
    let fleet = config.fleet();
    let mut built = Vec::new();
    for (name, c) in &fleet {
        check_patterns(c).map_err(|f| named(name, f))?;
        if target.is_none_or(|t| t == name) {
            built.push(catalogue_of(name, options(c)));
        }
    }
    if let Some(t) = target {
        return match built.pop() {
            Some(Some(tools)) => Ok(tools.tools()),
            _ => Err(Failure::Config(format!(
                "configuration error: there is no target `{t}`; the targets are {}",
                fleet
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        };
    }
    let built: Vec<OpnsenseTools> = built.into_iter().flatten().collect();
    Fleet::new(built, &config.default_target)
        .map(|f| f.tools())
        .map_err(|e| Failure::Config(format!("configuration error: {e}")))
}

/// The tools `options` offer (a server that makes changes also offers the `change_*` tools).
fn catalogue_with(options: ToolOptions) -> Vec<rmcp::model::Tool> {
    catalogue_of(DEFAULT_TARGET, options).map_or_else(Vec::new, |t| t.tools())
}

/// A catalogue that lists tools only: its client points at a reserved, unresolvable name.
fn catalogue_of(name: &str, options: ToolOptions) -> Option<OpnsenseTools> {
    let client = opnsense_api::Client::builder("https://opnsense.invalid")
        .credentials("unused", "unused")
        .build()
        .ok()?;
    Some(OpnsenseTools::build_named(
        name,
        client,
        options,
        None,
        InFlight::default(),
    ))
}

/// A real MCP session to `tools` over an in-memory pipe (for `call` and `demo`): the client,
/// and the server task to abort when done.
pub async fn in_memory_session<S: ServerHandler>(
    tools: S,
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
pub async fn call(
    config: &Config,
    tool: &str,
    args: &str,
    confirm: bool,
    target: Option<&str>,
) -> Result<(), Failure> {
    let args: Value = serde_json::from_str(args)
        .map_err(|e| Failure::Config(format!("arguments are not valid JSON: {e}")))?;
    let Value::Object(mut args) = args else {
        return Err(Failure::Config("arguments must be a JSON object".into()));
    };
    let mut targets = clients(config)?;
    if let Some(t) = target {
        if !targets.iter().any(|(n, _, _)| n == t) {
            return Err(Failure::Config(format!(
                "configuration error: there is no target `{t}`; the targets are {}",
                targets
                    .iter()
                    .map(|(n, _, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        // Only the target called opens its journal (and recovers its changes).
        targets.retain(|(n, _, _)| n == t);
        args.insert(TARGET_ARG.to_owned(), Value::from(t));
    } else if let Some(t) = args
        .get(TARGET_ARG)
        .and_then(Value::as_str)
        .map(str::to_owned)
    {
        targets.retain(|(n, _, _)| *n == t);
    } else {
        targets.retain(|(n, _, _)| *n == config.default_target);
    }
    let default = targets
        .first()
        .map_or_else(|| config.default_target.clone(), |(n, _, _)| n.clone());
    let tools = build_fleet(targets, &default).await?;
    recover_fleet(&tools).await?;
    let (client, server) = in_memory_session(tools.clone()).await?;
    let outcome = call_and_confirm(&client, tool, args, confirm).await;
    let _ = client.cancel().await;
    server.abort();
    let reverted = settle_fleet(&tools).await;
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
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args.clone()))
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
    let mut confirm_args = serde_json::Map::new();
    confirm_args.insert("change_id".into(), Value::from(change_id));
    // The change belongs to the target that made it.
    if let Some(t) = args.get(TARGET_ARG) {
        confirm_args.insert(TARGET_ARG.into(), t.clone());
    }
    let confirmed = client
        .call_tool(CallToolRequestParams::new("change_confirm").with_arguments(confirm_args))
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

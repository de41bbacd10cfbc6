//! Several firewalls from one server: the fleet is the MCP `ServerHandler`. It holds one
//! [`OpnsenseTools`] per named target (each with its own SDK client, change engine, journal
//! and policy), lists the union of the tools the targets offer with an optional `target`
//! argument added to every one, takes `target` out of a call and hands the call to that
//! target's catalogue. A tool that target's policy does not offer (read-only, `tools_deny`)
//! is refused naming the target and why. The fleet's own read-only tools, `target_list` and
//! `fleet_status`, look at every target at once.
//!
//! Over HTTP, the client's token (see [`Caller`]) may be `read`-only: then it sees and calls
//! only read-only tools.
//!
//! The `ServerHandler` impl at the end routes the protocol features beyond tools to the
//! target they concern: resources by the `{target}` of their URI, prompts and completions by
//! their `target` argument.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::params::Parameters;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Json, RoleServer, ServerHandler, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::Instrument;

use crate::common::{NoParams, RawParams};
use crate::error::ToolError;
use crate::policy::{glob_match, is_read_only};
use crate::{INSTRUCTIONS, InFlight, OpnsenseTools};

/// The name of the target the top-level (environment-only) configuration describes, and of
/// the target a call without `target` goes to when no other default is configured.
pub const DEFAULT_TARGET: &str = "default";

/// The argument added to every tool of a target.
pub const TARGET_ARG: &str = "target";

/// What an HTTP client's token lets it do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Read-only tools only.
    Read,
    /// Every tool the targets offer.
    Write,
}

/// Who calls, over HTTP: the name of the client's token and its scope. The HTTP layer puts it
/// in the request's extensions; no `Caller` (stdio, in-memory) means full access.
#[derive(Debug, Clone)]
pub struct Caller {
    name: Arc<str>,
    scope: Scope,
}

impl Caller {
    /// A client called `name` with `scope`.
    pub fn new(name: impl Into<Arc<str>>, scope: Scope) -> Self {
        Self {
            name: name.into(),
            scope,
        }
    }

    /// The client's name (from the tokens file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What it may do.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The caller of a request (over HTTP, when the server authenticates clients).
    pub fn of(context: &RequestContext<RoleServer>) -> Option<&Self> {
        context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Self>())
    }
}

/// What is known of a target's reachability: the outcome of the last contact made to find out
/// (the startup check, `fleet_status`).
#[derive(Debug, Clone, Default)]
struct Reach {
    reachable: Option<bool>,
    error: Option<String>,
}

struct Member {
    tools: OpnsenseTools,
    host: String,
    reach: Mutex<Reach>,
}

/// Several firewalls behind one MCP server. Cloning it is an `Arc` clone.
#[derive(Clone)]
pub struct Fleet {
    inner: Arc<FleetInner>,
}

struct FleetInner {
    members: BTreeMap<String, Member>,
    default: String,
    /// The fleet's own tools (`target_list`, `fleet_status`).
    router: ToolRouter<Fleet>,
    /// Every tool offered, sorted by name, `target` added to the targets' tools.
    listed: Vec<Tool>,
    by_name: HashMap<String, Tool>,
    instructions: String,
    in_flight: InFlight,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("targets", &self.inner.members.keys().collect::<Vec<_>>())
            .field("default", &self.inner.default)
            .finish_non_exhaustive()
    }
}

/// The host (and port) of a URL: no scheme, no credentials, no path.
pub fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_owned()
}

impl Fleet {
    /// A fleet of `targets` (each named by [`OpnsenseTools::target`], names unique) where a
    /// call without `target` goes to `default`. The targets should share one [`InFlight`].
    pub fn new(targets: Vec<OpnsenseTools>, default: &str) -> Result<Self, String> {
        let mut members = BTreeMap::new();
        for tools in targets {
            let name = tools.target().to_owned();
            if members.insert(name.clone(), member(tools)).is_some() {
                return Err(format!("target `{name}` is defined twice"));
            }
        }
        let Some(in_flight) = members.values().next().map(|m| m.tools.in_flight().clone()) else {
            return Err("no target is configured".to_owned());
        };
        if !members.contains_key(default) {
            return Err(format!(
                "the default target `{default}` is not one of the targets ({})",
                members.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        Ok(Self::assemble(members, default, in_flight))
    }

    /// A fleet of one target (named by its catalogue), the default.
    pub fn single(tools: OpnsenseTools) -> Self {
        let name = tools.target().to_owned();
        let in_flight = tools.in_flight().clone();
        let members = BTreeMap::from([(name.clone(), member(tools))]);
        Self::assemble(members, &name, in_flight)
    }

    fn assemble(members: BTreeMap<String, Member>, default: &str, in_flight: InFlight) -> Self {
        let mut router = Self::fleet_router();
        // The fleet's own tools follow the default target's listing options (output schemas).
        let options = members
            .get(default)
            .map(|m| m.tools.options().clone())
            .unwrap_or_default();
        for route in router.map.values_mut() {
            crate::policy::prepare(&mut route.attr, &options);
        }
        let listed = union(&members, default, router.list_all());
        let by_name = listed
            .iter()
            .map(|t| (t.name.to_string(), t.clone()))
            .collect();
        let instructions = instructions(members.keys().map(String::as_str), default);
        Self {
            inner: Arc::new(FleetInner {
                members,
                default: default.to_owned(),
                router,
                listed,
                by_name,
                instructions,
                in_flight,
            }),
        }
    }

    /// Every tool offered (to a client with write scope), sorted by name.
    pub fn tools(&self) -> Vec<Tool> {
        self.inner.listed.clone()
    }

    /// The targets, by name.
    pub fn targets(&self) -> impl Iterator<Item = &OpnsenseTools> {
        self.inner.members.values().map(|m| &m.tools)
    }

    /// The target called `name`.
    pub fn target(&self, name: &str) -> Option<&OpnsenseTools> {
        self.inner.members.get(name).map(|m| &m.tools)
    }

    /// The target a call without `target` goes to.
    pub fn default_target(&self) -> &str {
        &self.inner.default
    }

    /// The calls in progress (shared by every target).
    pub fn in_flight(&self) -> &InFlight {
        &self.inner.in_flight
    }

    /// Records what a check of `name` found (`Err` with why it failed), shown by `target_list`.
    pub fn record_reach(&self, name: &str, outcome: Result<(), String>) {
        if let Some(m) = self.inner.members.get(name)
            && let Ok(mut reach) = m.reach.lock()
        {
            *reach = Reach {
                reachable: Some(outcome.is_ok()),
                error: outcome.err(),
            };
        }
    }

    /// The tools a caller may see.
    fn visible(&self, caller: Option<&Caller>) -> Vec<Tool> {
        match caller.map(Caller::scope) {
            Some(Scope::Read) => self
                .inner
                .listed
                .iter()
                .filter(|t| is_read_only(t))
                .cloned()
                .collect(),
            _ => self.inner.listed.clone(),
        }
    }

    /// Why `target` does not offer `tool` (which some target offers).
    fn refusal(&self, member: &Member, target: &str, tool: &Tool) -> String {
        let name = tool.name.as_ref();
        let options = member.tools.options();
        let offering: Vec<&str> = self
            .inner
            .members
            .iter()
            .filter(|(_, m)| offers(m, name))
            .map(|(n, _)| n.as_str())
            .collect();
        let why = if options.read_only && (!is_read_only(tool) || name.starts_with("change_")) {
            "that target is read-only (read_only = true): it refuses every change and keeps no change journal".to_owned()
        } else if !crate::policy::allowed(options, name) {
            "that target's tools_allow/tools_deny exclude it".to_owned()
        } else {
            "that target offers no tool that makes a change".to_owned()
        };
        format!(
            "{name} is refused on target `{target}`: {why}. Nothing was sent to OPNsense. Targets that offer {name}: {}.",
            offering.join(", ")
        )
    }

    /// Hands a call of one target's tool to that target.
    async fn call_target(
        &self,
        mut request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        let chosen = match request
            .arguments
            .as_mut()
            .and_then(|a| a.remove(TARGET_ARG))
        {
            None | Some(Value::Null) => self.inner.default.clone(),
            Some(Value::String(s)) => s,
            Some(other) => {
                return Ok(error_result(format!(
                    "invalid argument target: must be a target name, got {other}. Nothing was sent to OPNsense."
                )));
            }
        };
        let Some(member) = self.inner.members.get(&chosen) else {
            return Ok(error_result(format!(
                "invalid argument target: there is no target `{chosen}`; the targets are {} (see target_list). Nothing was sent to OPNsense.",
                self.names()
            )));
        };
        if let Some(tool) = self.inner.by_name.get(&name) {
            if let Some(caller) = Caller::of(&context)
                && caller.scope() == Scope::Read
                && !is_read_only(tool)
            {
                return Ok(error_result(format!(
                    "{name} is refused: the client `{}` has a read-only token and {name} changes the firewall. Nothing was sent to OPNsense.",
                    caller.name()
                )));
            }
            if !offers(member, &name) {
                return Ok(error_result(self.refusal(member, &chosen, tool)));
            }
        }
        member.tools.call_tool(request, context).await
    }

    // -----------------------------------------------------------------------------------------
    // fleet_status
    // -----------------------------------------------------------------------------------------

    async fn status_of(
        member_tools: OpnsenseTools,
        deadline: tokio::time::Instant,
    ) -> TargetStatus {
        let started = Instant::now();
        let name = member_tools.target().to_owned();
        let raw = || Parameters(RawParams { raw: false });
        let (system, firmware, gateways) = tokio::join!(
            tokio::time::timeout_at(deadline, member_tools.system_status(raw())),
            tokio::time::timeout_at(deadline, member_tools.system_firmware_status(raw())),
            tokio::time::timeout_at(deadline, member_tools.gateway_status(raw())),
        );
        let mut errors = Vec::new();
        let mut timed_out = false;
        let mut part =
            |what: &str, r: Result<Result<Value, ToolError>, tokio::time::error::Elapsed>| match r {
                Ok(Ok(v)) => Some(v),
                Ok(Err(e)) => {
                    errors.push(format!("{what}: {e}"));
                    None
                }
                Err(_) => {
                    timed_out = true;
                    None
                }
            };
        let system = part(
            "system_status",
            system.map(|r| r.map(|Json(s)| json!({"level": s.level, "message": s.message, "alerts": s.subsystems.iter().map(|s| format!("{}: {}", s.name, s.message)).collect::<Vec<_>>()}))),
        );
        let firmware = part(
            "system_firmware_status",
            firmware.map(|r| {
                r.map(|Json(f)| {
                    let update = matches!(f.status.as_deref(), Some("update" | "upgrade"))
                        || f.updates > 0
                        || matches!((&f.installed, &f.latest), (Some(i), Some(l)) if i != l);
                    json!({"installed": f.installed, "latest": f.latest, "update_available": update, "last_check": f.last_check})
                })
            }),
        );
        let gateways = part(
            "gateway_status",
            gateways.map(|r| {
                r.map(|Json(g)| {
                    let down: Vec<&str> = g
                        .rows
                        .iter()
                        .filter(|r| r.view.down)
                        .map(|r| r.view.name.as_str())
                        .collect();
                    json!({"total": g.total, "down": down.len(), "down_names": down})
                })
            }),
        );
        let answered = [&system, &firmware, &gateways]
            .iter()
            .filter(|p| p.is_some())
            .count();
        let outcome = match (answered, timed_out) {
            (3, _) => Outcome::Ok,
            (0, true) => Outcome::TimedOut,
            (0, false) => Outcome::Error,
            _ => Outcome::Partial,
        };
        if timed_out {
            errors.push(format!(
                "no complete answer before the deadline ({} ms)",
                started.elapsed().as_millis()
            ));
        }
        TargetStatus {
            target: name,
            outcome,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            system,
            firmware,
            gateways,
            errors,
        }
    }
}

fn member(tools: OpnsenseTools) -> Member {
    Member {
        host: url_host(tools.client().api_base()),
        tools,
        reach: Mutex::new(Reach::default()),
    }
}

fn error_result(text: String) -> CallToolResponse {
    CallToolResult::error(vec![ContentBlock::text(text)]).into()
}

fn offers(member: &Member, tool: &str) -> bool {
    member.tools.inner.router.has_route(tool)
}

/// Every tool some target offers (one entry per name, `target` added) and the fleet's own.
fn union(members: &BTreeMap<String, Member>, default: &str, fleet: Vec<Tool>) -> Vec<Tool> {
    let mut tools: BTreeMap<String, (Tool, Vec<&str>)> = BTreeMap::new();
    for (name, m) in members {
        for t in m.tools.tools() {
            tools
                .entry(t.name.to_string())
                .or_insert_with(|| (t, Vec::new()))
                .1
                .push(name);
        }
    }
    // With one target there is nothing to choose: `target` is not listed (about 100 bytes of
    // every tool an LLM reads), though a call that names the target is still served.
    let several = members.len() > 1;
    let mut listed: Vec<Tool> = tools
        .into_values()
        .map(|(mut tool, offering)| {
            if several {
                add_target(&mut tool, &offering, default);
            }
            tool
        })
        .collect();
    listed.extend(fleet);
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    listed
}

/// Adds the optional `target` property (one of the targets `offering` the tool) to a target
/// tool's input schema.
fn add_target(tool: &mut Tool, offering: &[&str], default: &str) {
    let schema = Arc::make_mut(&mut tool.input_schema);
    let props = schema
        .entry("properties")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    let prop = json!({
        "type": "string",
        "description": format!(
            "The firewall to act on (default: {default}); target_list shows them. Change ids belong to the target that made them."
        ),
        "enum": offering,
    });
    if let Value::Object(props) = props {
        props.insert(TARGET_ARG.to_owned(), prop);
    }
}

/// The server's `initialize` answer for the targets `names` (calls without `target` going to
/// `default`): it needs nothing but the names, so a server can answer `initialize` while its
/// targets are still being set up (their catalogues built, their journals opened).
pub fn server_config<'a>(names: impl IntoIterator<Item = &'a str>, default: &str) -> ServerConfig {
    crate::server_info(instructions(names, default))
}

fn instructions<'a>(names: impl IntoIterator<Item = &'a str>, default: &str) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    if names.len() < 2 {
        return INSTRUCTIONS.to_owned();
    }
    format!(
        "This server manages {} firewalls (targets): {}. Every firewall tool takes `target` (default: {default}); \
         each target has its own policy (some may be read-only) and its own change journal, so pass the same \
         target to change_confirm as to the apply that returned the change id. target_list shows the targets; \
         fleet_status reads the health of all of them at once.\n{INSTRUCTIONS}",
        names.len(),
        names.join(", ")
    )
}

/// Arguments of `fleet_status`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetStatusParams {
    /// Only the targets whose name matches this glob (`*` matches any run, e.g. `branch-*`);
    /// default every target.
    #[serde(default)]
    pub targets: Option<String>,
    /// Seconds each firewall gets to answer (1 to 120, default 10). One that has not answered
    /// by then is reported as timed out; it never delays the others.
    #[serde(default)]
    #[schemars(range(min = 1, max = 120))]
    pub timeout_s: Option<u32>,
}

/// The default per-target deadline of `fleet_status`.
pub const FLEET_TIMEOUT: Duration = Duration::from_secs(10);

/// How one target's reads ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every read answered.
    Ok,
    /// Some reads answered, others failed or timed out.
    Partial,
    /// No read answered before the deadline.
    TimedOut,
    /// Every read failed.
    Error,
}

/// One target in `fleet_status`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TargetStatus {
    /// The target's name.
    pub target: String,
    /// How its reads ended.
    pub outcome: Outcome,
    /// How long they took, in ms (at most the deadline).
    pub elapsed_ms: u64,
    /// System health: level, message, subsystem alerts.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub system: Option<Value>,
    /// Firmware: installed, latest, update_available, last_check.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub firmware: Option<Value>,
    /// Gateways: total, down, down_names.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub gateways: Option<Value>,
    /// What failed, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Answer of `fleet_status`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FleetStatus {
    /// Targets asked.
    pub asked: usize,
    /// Targets that answered every read.
    pub ok: usize,
    /// Targets that answered nothing (timed out or failed).
    pub unreachable: usize,
    /// Targets with a firmware update available.
    pub updates_available: usize,
    /// Gateways down, over all targets.
    pub gateways_down: usize,
    /// The per-target deadline, in seconds.
    pub timeout_s: u32,
    /// Wall time of the whole call, in ms.
    pub elapsed_ms: u64,
    /// One row per target, by name.
    pub rows: Vec<TargetStatus>,
}

/// One target in `target_list`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TargetInfo {
    /// The target's name (the value of `target`).
    pub name: String,
    /// Calls without `target` go here.
    pub default: bool,
    /// The firewall's host (and port): never a credential.
    pub host: String,
    /// It refuses every change.
    pub read_only: bool,
    /// Firmware version, once known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Whether the last check reached it (absent: not checked yet; fleet_status checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reachable: Option<bool>,
    /// Why the last check failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Number of tools it offers.
    pub tools: usize,
}

/// Answer of `target_list`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TargetList {
    /// The default target's name.
    pub default: String,
    /// Every target, by name.
    pub targets: Vec<TargetInfo>,
}

#[tool_router(router = fleet_router, vis = "pub(crate)")]
impl Fleet {
    /// The firewalls (targets) this server manages: name, host, read-only, firmware version
    /// once known, and whether the last check reached it. Never a credential.
    #[tool(annotations(title = "Targets"))]
    async fn target_list(&self, Parameters(_): Parameters<NoParams>) -> Json<TargetList> {
        let targets = self
            .inner
            .members
            .iter()
            .map(|(name, m)| {
                let reach = m.reach.lock().map(|r| r.clone()).unwrap_or_default();
                TargetInfo {
                    name: name.clone(),
                    default: *name == self.inner.default,
                    host: m.host.clone(),
                    read_only: m.tools.options().read_only,
                    version: m
                        .tools
                        .client()
                        .known_firmware_version()
                        .map(|v| v.to_string()),
                    reachable: reach.reachable,
                    last_error: reach.error,
                    tools: m.tools.tools().len(),
                }
            })
            .collect();
        Json(TargetList {
            default: self.inner.default.clone(),
            targets,
        })
    }

    /// Health of every firewall (or those matching `targets`), read concurrently: system
    /// status, firmware and gateways. Each has its own deadline (`timeout_s`); a slow or
    /// unreachable one is reported as such and never delays the others.
    #[tool(annotations(title = "Fleet status"))]
    async fn fleet_status(
        &self,
        Parameters(p): Parameters<FleetStatusParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<FleetStatus>, ToolError> {
        let started = Instant::now();
        let timeout_s = p
            .timeout_s
            .unwrap_or(u32::try_from(FLEET_TIMEOUT.as_secs()).unwrap_or(10));
        if !(1..=120).contains(&timeout_s) {
            return Err(ToolError::invalid(
                "timeout_s",
                format!("must be 1 to 120 seconds, got {timeout_s}"),
            ));
        }
        let chosen: Vec<&Member> = self
            .inner
            .members
            .iter()
            .filter(|(n, _)| p.targets.as_deref().is_none_or(|g| glob_match(g, n)))
            .map(|(_, m)| m)
            .collect();
        if chosen.is_empty() {
            return Err(ToolError::invalid(
                "targets",
                format!(
                    "{:?} matches no target; the targets are {}",
                    p.targets.unwrap_or_default(),
                    self.inner
                        .members
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(u64::from(timeout_s));
        let session = crate::session_id(&context);
        let client = Caller::of(&context).map(|c| c.name().to_owned());
        let mut set = tokio::task::JoinSet::new();
        for m in &chosen {
            let span = tracing::info_span!(
                "tool",
                tool = "fleet_status",
                target = %m.tools.target(),
                mcp_request_id = %context.id,
                session = session.as_deref().unwrap_or("-"),
                client = client.as_deref().unwrap_or("-"),
            );
            set.spawn(Self::status_of(m.tools.clone(), deadline).instrument(span));
        }
        let mut rows = Vec::with_capacity(chosen.len());
        while let Some(done) = set.join_next().await {
            match done {
                Ok(row) => rows.push(row),
                Err(e) => tracing::warn!("a fleet_status read ended abnormally: {e}"),
            }
        }
        rows.sort_by(|a, b| a.target.cmp(&b.target));
        for row in &rows {
            let outcome = match row.outcome {
                Outcome::Ok | Outcome::Partial => Ok(()),
                Outcome::TimedOut | Outcome::Error => Err(row.errors.join("; ")),
            };
            self.record_reach(&row.target, outcome);
        }
        let count = |o: &[Outcome]| rows.iter().filter(|r| o.contains(&r.outcome)).count();
        Ok(Json(FleetStatus {
            asked: chosen.len(),
            ok: count(&[Outcome::Ok]),
            unreachable: count(&[Outcome::TimedOut, Outcome::Error]),
            updates_available: rows
                .iter()
                .filter(|r| {
                    r.firmware
                        .as_ref()
                        .is_some_and(|f| f["update_available"] == true)
                })
                .count(),
            gateways_down: rows
                .iter()
                .filter_map(|r| r.gateways.as_ref().and_then(|g| g["down"].as_u64()))
                .map(|n| usize::try_from(n).unwrap_or(0))
                .sum(),
            timeout_s,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            rows,
        }))
    }
}

impl Fleet {
    /// The default target's catalogue: its capabilities are the server's.
    fn surface(&self) -> &OpnsenseTools {
        self.target(self.default_target())
            .or_else(|| self.targets().next())
            .unwrap_or_else(|| unreachable!("a fleet has at least one target"))
    }

    /// The target names, joined for a message.
    fn names(&self) -> String {
        self.inner
            .members
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The catalogue of the target a resource URI names (`opnsense://{target}/...`): the
    /// segment is only looked up among the targets, never used otherwise.
    fn resource_target(&self, uri: &str) -> Result<&OpnsenseTools, ErrorData> {
        let Some(name) = crate::resources::target_of(uri) else {
            return Err(crate::resources::not_found(
                uri,
                "no such resource on this server (opnsense://{target}/...)",
            ));
        };
        self.target(name).ok_or_else(|| {
            crate::resources::not_found(
                uri,
                &format!(
                    "there is no target {name:?}; the targets are {}",
                    self.names()
                ),
            )
        })
    }
}

/// Protocol features beyond tools, per target: resources are listed for every target (as its
/// policy offers them) and routed by the `{target}` of their URI, subscriptions go to the
/// target's notifier, prompts and completions take the target from their arguments (default:
/// the default target), and every session is known to every target's notifier (log level,
/// change warnings, the TLS warning).
impl ServerHandler for Fleet {
    fn get_info(&self) -> ServerConfig {
        crate::server_info(self.inner.instructions.clone())
    }

    async fn on_initialized(&self, context: rmcp::service::NotificationContext<RoleServer>) {
        for tools in self.targets() {
            tools.session_started(&context.peer).await;
        }
    }

    #[allow(deprecated)] // MCP logging: deprecated by SEP-2577, part of 2025-11-25
    async fn set_level(
        &self,
        request: rmcp::model::SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        for tools in self.targets() {
            tools.notifier().set_level(&context.peer, request.level);
        }
        Ok(())
    }

    /// Every target's resources its policy offers; nothing is read from a firewall.
    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, ErrorData> {
        let several = self.inner.members.len() > 1;
        Ok(rmcp::model::ListResourcesResult::with_all_items(
            self.targets()
                .flat_map(|t| t.resource_list(several))
                .collect(),
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, ErrorData> {
        Ok(crate::resources::templates())
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, ErrorData> {
        self.resource_target(&request.uri)?
            .read_resource(request, context)
            .await
    }

    #[allow(deprecated)] // resources/subscribe: legacy protocol versions
    async fn subscribe(
        &self,
        request: rmcp::model::SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.resource_target(&request.uri)?
            .subscribe(request, context)
            .await
    }

    fn accepted_subscription_filter(
        &self,
        requested: &rmcp::model::SubscriptionFilter,
    ) -> Option<rmcp::model::SubscriptionFilter> {
        crate::notify::Notifier::accept(requested, |uri| {
            self.resource_target(uri)
                .is_ok_and(|t| t.resource_check(uri).is_ok())
        })
    }

    async fn listen(&self, context: rmcp::service::SubscriptionContext) -> Result<(), ErrorData> {
        crate::notify::Notifier::listen_routed(context, |uri| {
            self.resource_target(uri).ok().map(|t| t.notifier().clone())
        })
        .await
    }

    #[allow(deprecated)] // resources/unsubscribe: legacy protocol versions
    async fn unsubscribe(
        &self,
        request: rmcp::model::UnsubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.resource_target(&request.uri)?
            .unsubscribe(request, context)
            .await
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListPromptsResult, ErrorData> {
        let names: Vec<&str> = self.inner.members.keys().map(String::as_str).collect();
        Ok(crate::prompts::list_for(&names, &self.inner.default))
    }

    async fn get_prompt(
        &self,
        request: rmcp::model::GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetPromptResponse, ErrorData> {
        let targets: Vec<crate::prompts::TargetInfo<'_>> = self
            .inner
            .members
            .iter()
            .map(|(name, m)| crate::prompts::TargetInfo {
                name,
                read_only: m.tools.options().read_only,
            })
            .collect();
        crate::prompts::get_on(
            &request.name,
            request.arguments.as_ref(),
            &targets,
            &self.inner.default,
        )
        .map(Into::into)
    }

    /// `target` completes to the target names (for a template, those that offer it); any
    /// other argument is completed by the target already chosen, or the default.
    async fn complete(
        &self,
        request: rmcp::model::CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CompleteResult, ErrorData> {
        use rmcp::model::Reference;
        if request.argument.name == TARGET_ARG {
            let tool = match &request.r#ref {
                Reference::Resource(r) => crate::completion::template_tool(&r.uri),
                Reference::Prompt(p) if crate::prompts::find(&p.name).is_some() => Some(""),
                _ => None,
            };
            if let Some(tool) = tool {
                let names = self
                    .inner
                    .members
                    .iter()
                    .filter(|(_, m)| tool.is_empty() || offers(m, tool))
                    .map(|(n, _)| n.as_str());
                return Ok(crate::completion::target_names(
                    names,
                    &request.argument.value,
                ));
            }
        }
        let tools = match crate::completion::chosen_target(&request) {
            None => self.surface(),
            Some(name) => self.target(name).ok_or_else(|| {
                ErrorData::invalid_params(
                    format!(
                        "there is no target {name:?}; the targets are {}",
                        self.names()
                    ),
                    None,
                )
            })?,
        };
        tools.complete(request, context).await
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = self.visible(Caller::of(&context));
        let mut result = ListToolsResult::with_all_items(tools);
        if context
            .protocol_version()
            .is_some_and(|v| v >= rmcp::model::ProtocolVersion::V_2026_07_28)
        {
            result.ttl_ms = Some(0);
            // What a client sees depends on its token.
            result.cache_scope = Some(rmcp::model::CacheScope::Private);
        }
        Ok(result)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.by_name.get(name).cloned()
    }

    /// The fleet's own tools run here; every other tool goes to its target (which opens the
    /// `tool` span of the call, naming the target and the client).
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if self.inner.router.has_route(request.name.as_ref()) {
            let _running = self.inner.in_flight.enter();
            let tcc = ToolCallContext::new(self, request, context);
            let mut response = self.inner.router.call(tcc).await;
            crate::params::tidy(&mut response);
            return response;
        }
        self.call_target(request, context).await
    }
}

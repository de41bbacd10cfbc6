//! HTTPS plumbing: accept loop, fault injection, OPNsense routing, authentication,
//! body decoding and response encoding.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use crate::areas;
use crate::crud::{AreaSpec, CrudOp};
use crate::lockout::{self, MgmtFlow};
use crate::nft::NftTable;
use crate::reply::{Reply, Req};
use crate::seed::Rng;
use crate::state::SimState;
use crate::{FaultSettings, LockoutAction, SimConfig, Version};

/// One answered request, for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Request path (without query string).
    pub path: String,
    /// HTTP status answered.
    pub status: u16,
}

/// An endpoint handler: runs with the state locked.
pub(crate) type HandlerFn = fn(&Arc<Shared>, &mut SimState, &Req) -> Reply;

/// What serves an endpoint.
pub(crate) enum Handler {
    /// An area's own handler.
    Fn(HandlerFn),
    /// One of the generic CRUD operations of an area.
    Crud(&'static AreaSpec, CrudOp),
}

/// A resolved endpoint: handler + number of mandatory path parameters.
pub(crate) struct Route {
    pub handler: Handler,
    pub required_params: usize,
}

impl Route {
    /// Endpoint without mandatory parameters (wrapped for `match` arms of resolvers).
    #[allow(clippy::unnecessary_wraps, reason = "resolvers return Option<Route>")]
    pub fn new(handler: HandlerFn) -> Option<Route> {
        Route::with_params(handler, 0)
    }

    /// Endpoint needing `n` path parameters (fewer => 404).
    #[allow(clippy::unnecessary_wraps, reason = "resolvers return Option<Route>")]
    pub fn with_params(handler: HandlerFn, n: usize) -> Option<Route> {
        Some(Route {
            handler: Handler::Fn(handler),
            required_params: n,
        })
    }

    /// A generic CRUD endpoint of `area`.
    pub fn crud(area: &'static AreaSpec, op: CrudOp, n: usize) -> Route {
        Route {
            handler: Handler::Crud(area, op),
            required_params: n,
        }
    }

    fn call(&self, shared: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
        match self.handler {
            Handler::Fn(f) => f(shared, st, req),
            Handler::Crud(area, op) => area.run(op, st, req),
        }
    }
}

/// State shared by the server, the rollback timer and the public handles.
pub(crate) struct Shared {
    pub config: SimConfig,
    /// The management flow the lockout check evaluates.
    pub flow: MgmtFlow,
    state: Mutex<SimState>,
    faults: Mutex<FaultSettings>,
    fault_rng: Mutex<Rng>,
    /// The current lockout verdict for new connections.
    pub locked_out: watch::Sender<Option<LockoutAction>>,
    pub received: AtomicU64,
    /// TCP connections accepted.
    pub accepted: AtomicU64,
    /// Connections currently open (accepted and not yet closed).
    pub open: AtomicU64,
    /// The nftables table of `SimConfig::nft_lockout`.
    nft: Mutex<Option<NftTable>>,
    /// The kernel enforces the current lockout (nft loaded it), so the accept loop lets
    /// every connection that reached it through.
    kernel_enforced: AtomicBool,
}

impl Shared {
    /// Seeds the state from the configuration.
    pub fn new(config: SimConfig, flow: MgmtFlow, nft: Option<NftTable>) -> Arc<Shared> {
        let state = crate::seed::build(&config);
        let faults = FaultSettings {
            latency: config.latency,
            error_rate: config.error_rate,
            stall: config.stall,
            html_502: config.html_502,
            lockout: config.lockout,
        };
        let kernel = nft.is_some();
        Arc::new(Shared {
            fault_rng: Mutex::new(Rng::new(config.seed ^ 0x5EED_FA17)),
            config,
            flow,
            state: Mutex::new(state),
            faults: Mutex::new(faults),
            locked_out: watch::Sender::new(None),
            received: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            open: AtomicU64::new(0),
            nft: Mutex::new(nft),
            kernel_enforced: AtomicBool::new(kernel),
        })
    }

    /// Locks the simulator state (a panicked holder does not make it unusable).
    pub fn state(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the fault settings.
    pub fn faults(&self) -> MutexGuard<'_, FaultSettings> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn nft(&self) -> MutexGuard<'_, Option<NftTable>> {
        self.nft.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `inet opnsense_sim_<port>` while the nftables table is loaded.
    pub fn nft_table_name(&self) -> Option<String> {
        self.nft().as_ref().map(NftTable::name)
    }

    /// Deletes the nftables table (at shutdown).
    pub fn remove_nft(&self) {
        let table = self.nft().take();
        drop(table);
        self.kernel_enforced.store(false, Ordering::SeqCst);
    }

    /// Re-evaluates the lockout from the live filter rules (state already locked); with
    /// `nft_lockout`, loads the matching nftables rule before returning, so the answer to
    /// the apply that caused it leaves after the kernel enforces it.
    pub fn recompute_lockout_with(&self, st: &SimState) {
        let armed = self.faults().lockout;
        let verdict = if armed {
            lockout::verdict(&st.live, &self.flow)
        } else {
            None
        };
        let changed = self.locked_out.send_if_modified(|current| {
            let changed = *current != verdict;
            *current = verdict;
            changed
        });
        if changed && let Some(table) = self.nft().as_ref() {
            match table.set(verdict) {
                Ok(()) => self.kernel_enforced.store(true, Ordering::SeqCst),
                Err(e) => {
                    // Fall back to the in-process emulation for this lockout.
                    tracing::error!(error = %e, "nft lockout rule not loaded");
                    self.kernel_enforced.store(false, Ordering::SeqCst);
                }
            }
        }
    }

    /// Re-evaluates the lockout from the live filter rules.
    pub fn recompute_lockout(&self) {
        let st = self.state();
        self.recompute_lockout_with(&st);
    }

    /// Cancels a pending rollback timer (at shutdown).
    pub fn abort_rollback_timer(&self) {
        if let Some(p) = self.state().rollback.take() {
            p.task.abort();
        }
    }

    /// The verdict a connection accepted now gets from the simulator itself (`None` when
    /// the kernel enforces the lockout: what reaches `accept()` passed it).
    fn accept_verdict(&self) -> Option<LockoutAction> {
        if self.kernel_enforced.load(Ordering::SeqCst) {
            None
        } else {
            *self.locked_out.borrow()
        }
    }
}

/// Accept loop; runs until `shutdown` turns true. Dropping the connection set aborts
/// every connection, including stalled ones.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            accepted = listener.accept() => {
                let Ok((tcp, peer)) = accepted else { continue };
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                // pf decides on the first packet: the lockout state at accept time counts.
                let verdict = shared.accept_verdict();
                connections.spawn(serve_connection(
                    tcp,
                    peer,
                    verdict,
                    acceptor.clone(),
                    Arc::clone(&shared),
                ));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

/// What happens to a connection accepted during a lockout.
enum Gate {
    Serve,
    Reset,
    Gone,
}

/// A connection accepted during a `block` lockout waits (its packets are dropped; the
/// client's retransmissions get through once the lockout lifts, unless it gave up); one
/// accepted during (or caught by) a `reject` lockout is reset.
async fn gate(shared: &Shared, at_accept: Option<LockoutAction>) -> Gate {
    if at_accept.is_none() {
        return Gate::Serve;
    }
    let mut rx = shared.locked_out.subscribe();
    loop {
        let verdict = *rx.borrow_and_update();
        match verdict {
            None => return Gate::Serve,
            Some(LockoutAction::Reject) => return Gate::Reset,
            Some(LockoutAction::Block) => {}
        }
        if rx.changed().await.is_err() {
            return Gate::Gone;
        }
    }
}

/// Per-connection bookkeeping: lighttpd's request count and idle timers.
struct Conn {
    peer: SocketAddr,
    /// Requests started on this connection (lighttpd `con->request_count`).
    requests: AtomicU32,
    activity: watch::Sender<Activity>,
}

#[derive(Debug, Clone, Copy)]
struct Activity {
    in_flight: u32,
    /// Accept time, or when the last answer left.
    since: Instant,
    answered: u32,
}

impl Conn {
    fn new(peer: SocketAddr) -> Conn {
        Conn {
            peer,
            requests: AtomicU32::new(0),
            activity: watch::Sender::new(Activity {
                in_flight: 0,
                since: Instant::now(),
                answered: 0,
            }),
        }
    }

    /// A request started: its number on this connection, and a guard ending it.
    fn begin(self: &Arc<Conn>) -> (u32, InFlight) {
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        self.activity.send_modify(|a| a.in_flight += 1);
        (n, InFlight(Arc::clone(self)))
    }

    /// Resolves when the connection has been idle too long: `read_idle` before the first
    /// answer, `keep_alive_idle` after one (lighttpd `server.max-read-idle` /
    /// `server.max-keep-alive-idle`).
    async fn idle_expired(&self, read_idle: Duration, keep_alive_idle: Duration) {
        let mut rx = self.activity.subscribe();
        loop {
            let a = *rx.borrow_and_update();
            if a.in_flight > 0 {
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
                continue;
            }
            let limit = if a.answered == 0 {
                read_idle
            } else {
                keep_alive_idle
            };
            tokio::select! {
                () = tokio::time::sleep_until(a.since + limit) => return,
                changed = rx.changed() => {
                    if changed.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
            }
        }
    }
}

/// Marks the end of a request (also when its future is dropped).
struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.activity.send_modify(|a| {
            a.in_flight = a.in_flight.saturating_sub(1);
            a.answered += 1;
            a.since = Instant::now();
        });
    }
}

/// Counts a connection as open while it lives.
struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    verdict: Option<LockoutAction>,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
) {
    shared.open.fetch_add(1, Ordering::SeqCst);
    let _open = OpenGuard(Arc::clone(&shared));
    match gate(&shared, verdict).await {
        Gate::Serve => {}
        Gate::Reset => {
            // SO_LINGER 0: closing sends a TCP RST, as pf's `block return` does.
            let _ = tcp.set_zero_linger();
            return;
        }
        Gate::Gone => return,
    }
    let conn = Arc::new(Conn::new(peer));
    let idle = conn.idle_expired(
        shared.config.max_read_idle,
        shared.config.max_keep_alive_idle,
    );
    tokio::pin!(idle);
    let tls = tokio::select! {
        tls = acceptor.accept(tcp) => match tls {
            Ok(tls) => tls,
            Err(_) => return,
        },
        () = &mut idle => return,
    };
    let service_conn = Arc::clone(&conn);
    let service_shared = Arc::clone(&shared);
    let service =
        service_fn(move |req| handle(Arc::clone(&service_shared), Arc::clone(&service_conn), req));
    let http = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(tls), service);
    tokio::pin!(http);
    tokio::select! {
        _ = http.as_mut() => return,
        () = &mut idle => {}
    }
    // Idle too long: close (hyper finishes a request that is being read).
    http.as_mut().graceful_shutdown();
    let _ = http.await;
}

const HTML_502: &str = "<html><body><h1>502 Bad Gateway</h1></body></html>";
const MAX_BODY: usize = 16 * 1024 * 1024;

async fn handle(
    shared: Arc<Shared>,
    conn: Arc<Conn>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    shared.received.fetch_add(1, Ordering::Relaxed);
    let (number, _in_flight) = conn.begin();
    let faults = shared.faults().clone();
    if faults.stall {
        std::future::pending::<()>().await;
    }
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let reply = if faults.html_502 {
        Reply::Raw {
            status: 502,
            content_type: "text/html",
            headers: Vec::new(),
            body: HTML_502.as_bytes().to_vec(),
        }
    } else if faults.error_rate > 0.0
        && shared
            .fault_rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unit()
            < faults.error_rate
    {
        Reply::unexpected("injected fault (SimConfig::error_rate)")
    } else {
        let query = req.uri().query().unwrap_or_default().to_owned();
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => Bytes::new(),
        };
        let raw = RawRequest {
            method: &method,
            path: &path,
            query: &query,
            headers: &parts.headers,
            body: &body,
            peer: conn.peer,
        };
        process(&shared, &raw)
    };
    let reply = reply.resolve(shared.config.development_mode);
    let status = reply.status();
    shared.state().log.push(RequestRecord {
        method: method.to_string(),
        path,
        status,
    });
    let mut response = encode(reply, shared.config.version, shared.config.development_mode);
    // lighttpd `h1_send_headers()`: keep-alive ends once the connection's request count
    // exceeds server.max-keep-alive-requests, or when server.max-keep-alive-idle is 0.
    if number > shared.config.max_keep_alive_requests || shared.config.max_keep_alive_idle.is_zero()
    {
        response
            .headers_mut()
            .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
    }
    Ok(response)
}

/// Normalises an action name: `search_rule`, `searchRule`, `SEARCHRULE` => `searchrule`.
pub(crate) fn normalize_action(action: &str) -> String {
    action.replace('_', "").to_ascii_lowercase()
}

/// Controller segment to PHP class name: `d_nat` => `DNat`, `filter` => `Filter`.
pub(crate) fn controller_class(segment: &str) -> String {
    segment
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase().collect::<String>() + chars.as_str()
            })
        })
        .collect()
}

/// Finds the endpoint for `/api/<module>/<controller>/<action>`.
fn resolve(version: Version, module: &str, controller: &str, action: &str) -> Option<Route> {
    let module = module.to_ascii_lowercase();
    let controller = controller_class(controller);
    let action = normalize_action(action);
    match (module.as_str(), controller.as_str()) {
        ("core", _) => areas::system::route(&controller, &action),
        ("wireguard", "Service") if action == "show" => areas::vpn::wireguard_route(&action),
        ("openvpn", "Service") => areas::vpn::openvpn_route(&action),
        ("ipsec", "Sessions") => areas::vpn::ipsec_route(&action),
        (_, "Service") => areas::services::route(&module, &action),
        ("firewall", "Filter") => areas::filter::route(version, &action),
        ("firewall", "Alias") => areas::alias::route(&action),
        ("firewall", "DNat") => areas::dnat::route(version, &action),
        ("firewall", "SourceNat") => areas::snat::route(version, &action),
        ("diagnostics", "Interface") if areas::diagnostics::is_routes_action(&action) => {
            areas::diagnostics::routes_route()
        }
        ("diagnostics", "Interface") => areas::interfaces::route(&action),
        ("interfaces", "Overview") => areas::interfaces::overview_route(&action),
        ("diagnostics", "Firewall") => areas::diagnostics::firewall_route(&action),
        ("routes", "Gateway") => areas::diagnostics::gateway_route(&action),
        ("routes", "Routes") => areas::routes::route(&action),
        ("kea", _) => areas::kea::route(&controller, &action),
        ("dnsmasq", _) => areas::dnsmasq::route(&controller, &action),
        ("unbound", "Settings") => areas::unbound::route(&action),
        ("ids", "Settings") => areas::ids::route(&action),
        _ => None,
    }
}

/// Which user a request authenticated as.
enum Auth {
    Full,
    Limited,
}

fn authenticate(shared: &Shared, headers: &HeaderMap, path: &str) -> Result<Auth, Reply> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(Reply::Empty { status: 401 });
    };
    let failed = || {
        Reply::api_error(
            401,
            serde_json::json!({"status": 401, "message": "Authentication Failed"}),
        )
    };
    // The scheme word is not checked; the second token is base64(key:secret).
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_whitespace().nth(1))
        .ok_or_else(failed)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(failed)?;
    let (key, secret) = decoded.split_once(':').ok_or_else(failed)?;
    let cfg = &shared.config;
    if key == cfg.api_key && secret == cfg.api_secret {
        return Ok(Auth::Full);
    }
    if let Some(limited) = &cfg.limited_key
        && key == limited.key
        && secret == limited.secret
    {
        if limited
            .allowed_prefixes
            .iter()
            .any(|p| path.starts_with(p.as_str()))
        {
            return Ok(Auth::Limited);
        }
        return Err(Reply::api_error(
            403,
            serde_json::json!({"status": 403, "message": "Forbidden"}),
        ));
    }
    Err(failed())
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A received request, decoded as far as the transport goes.
struct RawRequest<'a> {
    method: &'a Method,
    path: &'a str,
    query: &'a str,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    peer: SocketAddr,
}

fn process(shared: &Arc<Shared>, raw: &RawRequest<'_>) -> Reply {
    let RawRequest {
        method,
        path,
        query,
        headers,
        body,
        peer,
    } = *raw;
    let Some(rest) = path.strip_prefix("/api/") else {
        return Reply::endpoint_not_found();
    };
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    if segments.len() < 3 {
        return Reply::endpoint_not_found();
    }
    let Some(route) = resolve(
        shared.config.version,
        &segments[0],
        &segments[1],
        &segments[2],
    ) else {
        return Reply::endpoint_not_found();
    };
    let params: Vec<String> = segments[3..].to_vec();
    if params.len() < route.required_params {
        return Reply::endpoint_not_found();
    }
    let (user, api_key) = match authenticate(shared, headers, path) {
        Ok(Auth::Full) => ("root", shared.config.api_key.as_str()),
        Ok(Auth::Limited) => (
            "limited",
            shared
                .config
                .limited_key
                .as_ref()
                .map_or("", |k| k.key.as_str()),
        ),
        Err(reply) => return reply,
    };
    let json_content = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if json_content && body.is_empty() {
        return Reply::api_error(
            400,
            serde_json::json!({"status": 400, "message": "Invalid JSON syntax"}),
        );
    }
    // Unparsable JSON and form bodies are treated as an empty POST.
    let body: Map<String, Value> = if json_content {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    } else {
        Map::new()
    };
    let req = Req {
        is_post: method == Method::POST,
        is_get: method == Method::GET,
        body,
        query: parse_query(query),
        params,
        module: segments[0].to_ascii_lowercase(),
        action: normalize_action(&segments[2]),
        user: user.to_owned(),
        version: shared.config.version,
        development: shared.config.development_mode,
        uri: if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        },
        remote_addr: peer.ip().to_string(),
        api_key: api_key.to_owned(),
    };
    let mut st = shared.state();
    route.call(shared, &mut st, &req)
}

/// PHP `json_encode` escapes `/` as `\/`; `/` only occurs inside strings in JSON text.
fn php_json(value: &Value, escape_slashes: bool) -> Vec<u8> {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "[]".into());
    if escape_slashes {
        text.replace('/', "\\/").into_bytes()
    } else {
        text.into_bytes()
    }
}

fn encode(reply: Reply, version: Version, development: bool) -> Response<Full<Bytes>> {
    let mut builder = Response::builder();
    let (status, body) = match reply {
        Reply::Error(error) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json;charset=utf-8");
            (
                error.status(),
                error.render(version, development).into_bytes(),
            )
        }
        // Resolved in `handle`; a nested warning falls back to its production answer.
        Reply::Warning { production, .. } => {
            return encode(production.resolve(development), version, development);
        }
        Reply::Json {
            status,
            body,
            escape_slashes,
        } => {
            builder = builder.header(header::CONTENT_TYPE, "application/json; charset=UTF-8");
            (status, php_json(&body, escape_slashes))
        }
        Reply::Raw {
            status,
            content_type,
            headers,
            body,
        } => {
            builder = builder.header(header::CONTENT_TYPE, content_type);
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            (status, body)
        }
        Reply::Empty { status } => (status, Vec::new()),
    };
    builder
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_and_controller_normalisation() {
        assert_eq!(normalize_action("search_rule"), "searchrule");
        assert_eq!(normalize_action("searchRule"), "searchrule");
        assert_eq!(
            normalize_action("get_alias_u_u_i_d"),
            normalize_action("getAliasUUID")
        );
        assert_eq!(controller_class("d_nat"), "DNat");
        assert_eq!(controller_class("dnat"), "Dnat");
        assert_eq!(controller_class("leases4"), "Leases4");
    }

    #[test]
    fn query_decoding() {
        assert_eq!(
            parse_query("a=1&searchPhrase=foo+bar%2Fbaz&x"),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("searchPhrase".to_owned(), "foo bar/baz".to_owned()),
                ("x".to_owned(), String::new()),
            ]
        );
        assert_eq!(percent_decode("100%"), "100%");
    }
}

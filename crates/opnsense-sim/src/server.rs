//! HTTPS plumbing: accept loop, fault injection, OPNsense routing, authentication,
//! body decoding and response encoding.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

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
use tokio_rustls::TlsAcceptor;

use crate::areas;
use crate::crud::{AreaSpec, CrudOp};
use crate::reply::{Reply, Req};
use crate::seed::Rng;
use crate::state::{Collection, SimState};
use crate::{FaultSettings, SimConfig, Version};

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
    state: Mutex<SimState>,
    faults: Mutex<FaultSettings>,
    fault_rng: Mutex<Rng>,
    pub locked_out: watch::Sender<bool>,
    pub received: AtomicU64,
}

impl Shared {
    /// Seeds the state from the configuration.
    pub fn new(config: SimConfig) -> Arc<Shared> {
        let state = crate::seed::build(&config);
        let faults = FaultSettings {
            latency: config.latency,
            error_rate: config.error_rate,
            stall: config.stall,
            html_502: config.html_502,
            lockout: config.lockout,
        };
        Arc::new(Shared {
            fault_rng: Mutex::new(Rng::new(config.seed ^ 0x5EED_FA17)),
            config,
            state: Mutex::new(state),
            faults: Mutex::new(faults),
            locked_out: watch::Sender::new(false),
            received: AtomicU64::new(0),
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

    /// Re-evaluates the lockout from the live filter rules (state already locked).
    pub fn recompute_lockout_with(&self, st: &SimState) {
        let armed = self.faults().lockout;
        let locked = armed
            && areas::blocks_management(
                &st.live[Collection::FilterRules],
                &self.config.management_interface,
            );
        self.locked_out.send_replace(locked);
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
                let Ok((tcp, _peer)) = accepted else { continue };
                connections.spawn(serve_connection(tcp, acceptor.clone(), Arc::clone(&shared)));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn serve_connection(tcp: TcpStream, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    // A locked-out firewall drops the packets: the TCP connection opens (the kernel
    // accepted it) but the TLS handshake never completes while the lockout lasts.
    let mut lock = shared.locked_out.subscribe();
    if lock.wait_for(|locked| !*locked).await.is_err() {
        return;
    }
    let Ok(tls) = acceptor.accept(tcp).await else {
        return;
    };
    let service = service_fn(move |req| handle(Arc::clone(&shared), req));
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

const HTML_502: &str = "<html><body><h1>502 Bad Gateway</h1></body></html>";
const MAX_BODY: usize = 16 * 1024 * 1024;

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    shared.received.fetch_add(1, Ordering::Relaxed);
    // Requests on an already open connection are stuck as well during a lockout.
    let mut lock = shared.locked_out.subscribe();
    let _ = lock.wait_for(|locked| !*locked).await;

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
        process(&shared, &method, &path, &query, &parts.headers, &body)
    };
    let reply = reply.resolve(shared.config.development_mode);
    let status = reply.status();
    shared.state().log.push(RequestRecord {
        method: method.to_string(),
        path,
        status,
    });
    Ok(encode(
        reply,
        shared.config.version,
        shared.config.development_mode,
    ))
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
        ("diagnostics", "Interface") if areas::diagnostics::is_routes_action(&action) => {
            areas::diagnostics::routes_route()
        }
        ("diagnostics", "Interface") => areas::interfaces::route(&action),
        ("diagnostics", "Firewall") => areas::diagnostics::firewall_route(&action),
        ("routes", "Gateway") => areas::diagnostics::gateway_route(&action),
        ("routes", "Routes") => areas::routes::route(&action),
        ("kea", _) => areas::kea::route(&controller, &action),
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

fn process(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Reply {
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
    let user = match authenticate(shared, headers, path) {
        Ok(Auth::Full) => "root",
        Ok(Auth::Limited) => "limited",
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

//! Streamable HTTP transport at `/mcp`, hardened: loopback bind by default, Host and Origin
//! allow-lists (DNS rebinding), bearer tokens (the single `OPNSENSE_HTTP_TOKEN` or the clients
//! of `OPNSENSE_HTTP_TOKENS_FILE`, each `read` or `write`; constant-time; required off
//! loopback; failures throttled per source address with 429 and Retry-After), request
//! body limit, session cap and idle timeout, and an unauthenticated `/healthz` that reveals
//! nothing.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use crate::Failure;
use crate::config::HttpSettings;
use crate::gate::Gate;
use crate::tokens::{ClientToken, Throttle};
use opnsense_mcp_tools::InFlight;
use opnsense_mcp_tools::fleet::{Caller, Scope};

const LOOPBACK_HOSTS: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// After the sessions are cancelled, how long open connections get to close.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

#[derive(Clone)]
struct Guard {
    token: Option<Arc<str>>,
    /// The clients of the tokens file.
    tokens: Arc<[ClientToken]>,
    /// Failed authentication per source address.
    throttle: Arc<Throttle>,
    sessions: Arc<LocalSessionManager>,
    max_sessions: usize,
    /// Held while a session-opening request is checked against the cap and its session is
    /// created, so concurrent initializes neither overshoot the cap nor count one session twice.
    opening: Arc<tokio::sync::Mutex<()>>,
    /// Stateless mode: no sessions, so no session cap.
    stateless: bool,
}

/// Serves until SIGINT/SIGTERM: then stops accepting connections, lets the tool calls in
/// progress finish (see [`crate::serve::drain`]), closes the sessions and returns.
pub async fn serve_http(
    server: Gate,
    in_flight: InFlight,
    settings: &HttpSettings,
) -> Result<(), Failure> {
    let listener = tokio::net::TcpListener::bind((settings.host, settings.port))
        .await
        .map_err(|e| {
            Failure::Bind(format!(
                "cannot listen on {}: {e} (choose another OPNSENSE_HTTP_PORT / --http-port)",
                std::net::SocketAddr::from((settings.host, settings.port))
            ))
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::Bind(e.to_string()))?;
    if settings.host.is_unspecified() && settings.allowed_hosts.is_empty() {
        tracing::warn!(
            "listening on all interfaces, but only loopback Host names are accepted: set \
             OPNSENSE_HTTP_ALLOWED_HOSTS to the names clients use to reach this server"
        );
    }
    let sessions_cancel = CancellationToken::new();
    let app = router(server, settings, sessions_cancel.clone());
    let stop_accepting = CancellationToken::new();
    let forced = CancellationToken::new();
    let shutdown = {
        let stop_accepting = stop_accepting.clone();
        let forced = forced.clone();
        tokio::spawn(async move {
            crate::serve::shutdown_signal().await;
            stop_accepting.cancel();
            crate::serve::drain(&in_flight).await;
            sessions_cancel.cancel();
            forced.cancel();
        })
    };
    // Tests and operators read the actual port from this line.
    eprintln!("opnsense-mcp: listening on http://{addr}/mcp");
    // Nagle's algorithm against the client's delayed ACKs holds each streamed reply ~40 ms.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY on an accepted connection: {e}");
        }
    });
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(stop_accepting.cancelled_owned())
    .into_future();
    let result = tokio::select! {
        r = served => r.map_err(|e| Failure::Other(format!("HTTP server failed: {e}"))),
        () = async {
            forced.cancelled().await;
            tokio::time::sleep(CLOSE_GRACE).await;
        } => Ok(()),
    };
    shutdown.abort();
    result
}

/// `host` (a name, an IP or `name:port`) as `Origin` patterns.
fn origins_for(host: &str) -> Vec<String> {
    let (name, port) = split_port(host);
    let name = if name.contains(':') && !name.starts_with('[') {
        format!("[{name}]")
    } else {
        name.to_owned()
    };
    let port = port.map_or_else(|| ":*".to_owned(), |p| format!(":{p}"));
    vec![
        format!("http://{name}{port}"),
        format!("https://{name}{port}"),
    ]
}

/// `example.com:8443` -> (`example.com`, Some(8443)); a bare IPv6 address has no port.
fn split_port(host: &str) -> (&str, Option<u16>) {
    if let Some(rest) = host.strip_prefix('[') {
        if let Some((name, after)) = rest.split_once(']') {
            let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
            return (name, port);
        }
        return (host, None);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => match port.parse() {
            Ok(p) => (name, Some(p)),
            Err(_) => (host, None),
        },
        _ => (host, None),
    }
}

/// The axum app.
pub fn router(server: Gate, settings: &HttpSettings, cancel: CancellationToken) -> Router {
    let mut hosts: Vec<String> = LOOPBACK_HOSTS.iter().map(|h| (*h).to_owned()).collect();
    hosts.extend(settings.allowed_hosts.iter().cloned());
    if !settings.host.is_unspecified() && !settings.host.is_loopback() {
        hosts.push(settings.host.to_string());
    }
    let origins: Vec<String> = hosts.iter().flat_map(|h| origins_for(h)).collect();
    let mut sessions = LocalSessionManager::default();
    sessions.session_config.keep_alive = Some(settings.idle_timeout);
    let sessions = Arc::new(sessions);
    let config = stateless_mode(
        StreamableHttpServerConfig::default()
            .with_allowed_hosts(hosts)
            .with_allowed_origins(origins)
            .with_max_request_body_bytes(settings.max_body)
            .with_cancellation_token(cancel),
        settings.stateless,
    );
    let service = StreamableHttpService::new(move || Ok(server.clone()), sessions.clone(), config);
    let guard = Guard {
        token: settings.token.as_deref().map(Arc::from),
        tokens: settings.tokens.clone().into(),
        throttle: Arc::new(Throttle::default()),
        sessions,
        max_sessions: settings.max_sessions,
        opening: Arc::new(tokio::sync::Mutex::new(())),
        stateless: settings.stateless,
    };
    Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(guard, guard_layer))
        .layer(DefaultBodyLimit::max(settings.max_body))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
}

/// Stateless streamable HTTP when `stateless`: every request stands alone (no `Mcp-Session-Id`,
/// nothing kept between requests) and a plain `application/json` answer replaces the event
/// stream, so any replica behind a load balancer can answer any request.
fn stateless_mode(
    config: StreamableHttpServerConfig,
    stateless: bool,
) -> StreamableHttpServerConfig {
    if stateless {
        config
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
    } else {
        config
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer(req: &Request) -> &str {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, token)| token.trim())
}

/// Releases a reserved session slot.
/// The caller `presented` authenticates as: the single `OPNSENSE_HTTP_TOKEN` (client `token`,
/// write scope) or a client of the tokens file.
fn authenticate(guard: &Guard, presented: &str) -> Option<Caller> {
    if let Some(token) = &guard.token
        && bool::from(presented.as_bytes().ct_eq(token.as_bytes()))
    {
        return Some(Caller::new("token", Scope::Write));
    }
    crate::tokens::find(&guard.tokens, presented).map(ClientToken::caller)
}

async fn guard_layer(State(guard): State<Guard>, mut req: Request, next: Next) -> Response {
    if guard.token.is_some() || !guard.tokens.is_empty() {
        let peer = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        if let Some(wait) = guard.throttle.blocked(peer) {
            tracing::warn!(
                peer = %peer,
                "refused an HTTP request from {peer}: too many failed authentications, retry in {wait} s"
            );
            let mut resp = (
                StatusCode::TOO_MANY_REQUESTS,
                "too many failed authentications from this address; retry later",
            )
                .into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return resp;
        }
        let presented = bearer(&req);
        let Some(caller) = authenticate(&guard, presented) else {
            guard.throttle.failed(peer);
            // Never the token itself.
            let why = if presented.is_empty() {
                "no bearer token"
            } else {
                "an unknown bearer token"
            };
            tracing::warn!(peer = %peer, "refused an HTTP request from {peer}: {why}");
            let mut resp =
                (StatusCode::UNAUTHORIZED, "missing or wrong bearer token").into_response();
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"opnsense-mcp\""),
            );
            return resp;
        };
        guard.throttle.succeeded(peer);
        req.extensions_mut().insert(caller);
    }
    let opens_session = !guard.stateless
        && req.method() == http::Method::POST
        && !req.headers().contains_key("mcp-session-id");
    if !opens_session {
        return next.run(req).await;
    }
    // One session opens at a time: the count read here is exact (the session this request
    // creates is registered before the lock is released), so the cap holds exactly.
    let opening = guard.opening.lock().await;
    let open = guard.sessions.sessions.read().await.len();
    if open >= guard.max_sessions {
        drop(opening);
        let mut resp = (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many MCP sessions; close one or wait for idle sessions to expire",
        )
            .into_response();
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return resp;
    }
    let resp = next.run(req).await;
    drop(opening);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_split_off_hosts() {
        assert_eq!(split_port("example.com"), ("example.com", None));
        assert_eq!(split_port("example.com:8443"), ("example.com", Some(8443)));
        assert_eq!(split_port("::1"), ("::1", None));
        assert_eq!(split_port("[::1]:80"), ("::1", Some(80)));
        assert_eq!(split_port("10.0.0.1"), ("10.0.0.1", None));
    }

    #[test]
    fn origins_always_carry_a_port_pattern() {
        assert_eq!(
            origins_for("localhost"),
            ["http://localhost:*", "https://localhost:*"]
        );
        assert_eq!(origins_for("::1"), ["http://[::1]:*", "https://[::1]:*"]);
        assert_eq!(
            origins_for("fw.example:8443"),
            ["http://fw.example:8443", "https://fw.example:8443"]
        );
    }
}

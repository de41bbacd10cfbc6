//! The HTTP client: one pooled reqwest client, Basic auth, strict error mapping and an audit
//! event for every attempt. Cheap to clone; share one per process.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::error::{Error, Result, TimeoutPhase, excerpt};
use crate::request::{Accept, Method, Request};
use crate::tls::CertFingerprint;
use crate::version::FirmwareVersion;

/// Target of the audit events: one `INFO` event per HTTP attempt, with the fields `ts`
/// (RFC 3339), `req_id`, `method`, `path`, `status` (the HTTP status, or 0 when no response
/// arrived), `outcome` (`success`, `error`, `timeout` or `rejected`) and `elapsed_ms`.
/// Never credentials, never bodies.
pub const AUDIT_TARGET: &str = "opnsense_api::audit";

/// Builds a [`Client`].
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: String,
    api_key: String,
    api_secret: String,
    verify_tls: bool,
    ca_file: Option<PathBuf>,
    ca_pem: Option<Vec<u8>>,
    connect_timeout: Duration,
    read_timeout: Duration,
    call_timeout: Duration,
    max_response_bytes: u64,
    allow_insecure_http: bool,
    firmware_version: Option<FirmwareVersion>,
    tls_fingerprint: Option<CertFingerprint>,
    /// The verifier of the first client built (shared by the clients built from its builder,
    /// so the platform's root certificates are read once).
    roots: Option<Arc<crate::tls::LazyRoots>>,
}

/// Default cap on one response body: 64 MiB (a 10,000-lease search is about 5 MiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// Default overall limit of one call: 5 minutes.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(300);

// Hand-written so the secret can never be printed.
impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("verify_tls", &self.verify_tls)
            .field("ca_file", &self.ca_file)
            .field("tls_fingerprint", &self.tls_fingerprint)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("call_timeout", &self.call_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Starts a builder for the firewall at `base_url` (e.g. `https://192.168.1.1`; a path prefix
    /// such as `https://fw.example/opnsense` is kept; `/api/` is appended).
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: String::new(),
            api_secret: String::new(),
            verify_tls: true,
            ca_file: None,
            ca_pem: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            call_timeout: DEFAULT_CALL_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            allow_insecure_http: false,
            firmware_version: None,
            tls_fingerprint: None,
            roots: None,
        }
    }

    /// API key and secret (System > Access > Users > API keys), sent as HTTP Basic auth.
    #[must_use]
    pub fn credentials(mut self, key: impl Into<String>, secret: impl Into<String>) -> Self {
        self.api_key = key.into();
        self.api_secret = secret.into();
        self
    }

    /// Verify the firewall's TLS certificate (default: true). Prefer [`Self::ca_file`].
    #[must_use]
    pub fn verify_tls(mut self, verify: bool) -> Self {
        self.verify_tls = verify;
        self
    }

    /// Trust this CA certificate (PEM file) in addition to the system roots, so a self-signed
    /// firewall can be verified instead of turning verification off.
    #[must_use]
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> Self {
        self.ca_file = Some(path.as_ref().to_owned());
        self
    }

    /// Trust this CA certificate given as PEM text.
    #[must_use]
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// Accept exactly the certificate with this fingerprint, and nothing else: names, issuer and
    /// dates are not checked (OPNsense's self-signed GUI certificate names only
    /// `hostname.domain`), the handshake signature is. Replaces [`Self::ca_file`],
    /// [`Self::ca_pem`] and [`Self::verify_tls`]. A different certificate fails the call with
    /// [`Error::CertificateMismatch`]; see [`crate::tls::peer_fingerprint`] to read one.
    #[must_use]
    pub fn tls_fingerprint(mut self, pin: CertFingerprint) -> Self {
        self.tls_fingerprint = Some(pin);
        self
    }

    /// Limit for establishing TCP + TLS (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Limit for waiting on each read of the response (default 60 s): for the response head once
    /// the connection is up, then for every chunk of the body.
    #[must_use]
    pub fn read_timeout(mut self, t: Duration) -> Self {
        self.read_timeout = t;
        self
    }

    /// Overall limit of one call, connect to last byte (default 5 minutes): a peer that drips
    /// bytes slowly enough to beat the read timeout is still cut off.
    #[must_use]
    pub fn call_timeout(mut self, t: Duration) -> Self {
        self.call_timeout = t;
        self
    }

    /// Largest response body accepted (default [`DEFAULT_MAX_RESPONSE_BYTES`]), checked against
    /// `Content-Length` and while reading: a larger answer is [`Error::TooLarge`].
    #[must_use]
    pub fn max_response_bytes(mut self, n: u64) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// Accept `http://` URLs. For tests against plain-HTTP mocks only: never use it for a firewall.
    #[must_use]
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Skip the firmware lookup and assume this version.
    #[must_use]
    pub fn firmware_version(mut self, v: FirmwareVersion) -> Self {
        self.firmware_version = Some(v);
        self
    }

    /// Validates the settings and builds the client. No network traffic happens here.
    pub fn build(self) -> Result<Client> {
        self.build_with(Pool::Shared)
    }

    fn build_with(self, pool: Pool) -> Result<Client> {
        let mut builder = self.clone();
        let api_base = normalise_base_url(&self.base_url, self.allow_insecure_http)?;
        if self.api_key.is_empty() || self.api_secret.is_empty() {
            return Err(Error::Config(
                "an API key and secret are required (System > Access > Users > API keys)".into(),
            ));
        }
        for (what, d) in [
            ("connect timeout", self.connect_timeout),
            ("read timeout", self.read_timeout),
            ("call timeout", self.call_timeout),
        ] {
            if d.is_zero() {
                return Err(Error::Config(format!(
                    "the {what} must be greater than zero"
                )));
            }
        }
        let mut http = reqwest::Client::builder()
            .user_agent(concat!("opnsense-api/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(self.connect_timeout)
            // No reqwest read timeout: its timer starts when the request is sent, so a slow TLS
            // handshake would be reported as a read timeout. `transmit` times the reads instead.
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!self.allow_insecure_http)
            .tls_danger_accept_invalid_certs(!self.verify_tls);
        http = match pool {
            Pool::Shared => http,
            // One long-lived connection (HTTP/1.1 keep-alive) that is never given up while idle.
            Pool::Dedicated => http
                .http1_only()
                .pool_max_idle_per_host(1)
                .pool_idle_timeout(None),
            // A new TCP + TLS connection for every request.
            Pool::None => http.pool_max_idle_per_host(0),
        };
        if let Some(pin) = self.tls_fingerprint {
            http = http.tls_backend_preconfigured(crate::tls::pinned_config(
                pin,
                matches!(pool, Pool::Dedicated),
            )?);
        }
        let mut pems = Vec::new();
        if self.tls_fingerprint.is_some() {
            // The pin decides alone; CA files are not read.
        } else if let Some(path) = &self.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                Error::Config(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            pems.push((path.display().to_string(), pem));
        }
        if let Some(pem) = self
            .ca_pem
            .as_ref()
            .filter(|_| self.tls_fingerprint.is_none())
        {
            pems.push(("CA PEM".to_owned(), pem.clone()));
        }
        let mut extra = Vec::new();
        for (origin, pem) in pems {
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| Error::Config(format!("{origin} is not a PEM certificate: {e}")))?;
            if certs.is_empty() {
                return Err(Error::Config(format!("{origin} holds no PEM certificate")));
            }
            extra.extend(crate::tls::pem_ders(&pem));
        }
        if self.verify_tls && self.tls_fingerprint.is_none() {
            // reqwest's verification (the platform's roots and the CA files), with the roots
            // read at the first handshake and shared by every client of this builder.
            let roots = match &self.roots {
                Some(roots) => roots.clone(),
                None => Arc::new(crate::tls::LazyRoots::new(extra)?),
            };
            http = http.tls_backend_preconfigured(crate::tls::verified_config(
                roots.clone(),
                matches!(pool, Pool::Dedicated),
            )?);
            builder.roots = Some(roots);
        }
        if self.max_response_bytes == 0 {
            return Err(Error::Config(
                "the response size limit must be greater than zero".into(),
            ));
        }
        let http = http
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        let host = host_and_port(&api_base);
        let version = OnceCell::new_with(self.firmware_version.map(Some));
        Ok(Client {
            inner: Arc::new(Inner {
                builder,
                http,
                api_base,
                host,
                api_key: self.api_key,
                api_secret: self.api_secret,
                connect_timeout: self.connect_timeout,
                read_timeout: self.read_timeout,
                call_timeout: self.call_timeout,
                max_response_bytes: self.max_response_bytes,
                version,
            }),
        })
    }
}

/// `raw` for an error message, with anything that looks like `user:password@` masked: a
/// malformed URL may still carry credentials.
pub fn redact_userinfo(raw: &str) -> String {
    let start = raw.find("://").map_or(0, |i| i + 3);
    let authority_end = raw[start..]
        .find(['/', '?', '#'])
        .map_or(raw.len(), |i| start + i);
    match raw[start..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &raw[..start], &raw[start + at..]),
        None => raw.to_owned(),
    }
}

/// `host` or `host:port` (when the URL names a port) of `url`; empty when it has no host.
pub(crate) fn host_and_port(url: &reqwest::Url) -> String {
    url.host_str()
        .map(|h| match url.port() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_owned(),
        })
        .unwrap_or_default()
}

fn normalise_base_url(raw: &str, allow_http: bool) -> Result<reqwest::Url> {
    let trimmed = raw.trim();
    let shown = redact_userinfo(trimmed);
    let mut url = reqwest::Url::parse(trimmed)
        .map_err(|e| Error::Config(format!("{shown:?} is not a valid URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(Error::Config(
                "the OPNsense URL must use https:// (the API key would travel in clear text over http)"
                    .into(),
            ));
        }
        _ => {
            return Err(Error::Config(format!(
                "the OPNsense URL must use https:// (got {shown:?})"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::Config(format!("{shown:?} has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(
            "put the API key and secret in their own settings, not in the URL".into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(
            "the OPNsense URL must not have a query or fragment".into(),
        ));
    }
    let mut path = url.path().trim_end_matches('/').to_owned();
    if path.ends_with("/api") {
        path.truncate(path.len() - 4);
    }
    url.set_path(&format!("{path}/api/"));
    Ok(url)
}

/// How a client keeps its connections.
#[derive(Debug, Clone, Copy)]
enum Pool {
    /// reqwest's pool (the default).
    Shared,
    /// One connection kept open for as long as the client lives.
    Dedicated,
    /// No reuse: every request opens a new connection.
    None,
}

struct Inner {
    /// The settings this client was built from (to build siblings with other pooling).
    builder: ClientBuilder,
    http: reqwest::Client,
    api_base: reqwest::Url,
    host: String,
    api_key: String,
    api_secret: String,
    connect_timeout: Duration,
    read_timeout: Duration,
    call_timeout: Duration,
    max_response_bytes: u64,
    version: OnceCell<Option<FirmwareVersion>>,
}

/// A client for one OPNsense firewall. Cloning shares the connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_base", &self.inner.api_base.as_str())
            .finish_non_exhaustive()
    }
}

/// A response body as received: a JSON answer's bytes (parsed by the caller, into a `Value` or
/// straight into typed values), or text.
pub(crate) enum Body {
    Json(Vec<u8>),
    Text(String),
}

impl Client {
    /// Starts a [`ClientBuilder`].
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    /// The `.../api/` URL every path is relative to.
    pub fn api_base(&self) -> &str {
        self.inner.api_base.as_str()
    }

    /// Whether the firewall's certificate is verified (false when built with
    /// `verify_tls(false)`).
    pub fn verifies_tls(&self) -> bool {
        self.inner.builder.verify_tls
    }

    /// Sends `req` and decodes a JSON answer as `T` (the answer is audited as rejected when it
    /// does not fit).
    pub async fn send_json<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        self.execute(req, crate::outcome::decode).await
    }

    /// Sends `req` and returns the JSON answer both decoded as `T` and as OPNsense sent it (for
    /// callers that show either).
    pub async fn send_json_with_raw<T: DeserializeOwned>(
        &self,
        req: Request,
    ) -> Result<(T, Value)> {
        self.execute(req, |path, v| {
            let typed = crate::outcome::decode_ref(path, &v)?;
            Ok((typed, v))
        })
        .await
    }

    /// Sends `req` and returns the JSON answer after `interpret` has judged it (so application
    /// failures such as `{"result":"failed"}` are audited as rejected, not success).
    pub async fn execute<T>(
        &self,
        req: Request,
        interpret: impl FnOnce(&str, Value) -> Result<T>,
    ) -> Result<T> {
        self.run(req, |path, body| match body {
            Body::Json(bytes) => interpret(path, parse_json(path, &bytes)?),
            Body::Text(_) => unreachable_text(path),
        })
        .await
    }

    /// Sends `req` and hands its JSON answer, unparsed, to `interpret` (which decodes it straight
    /// into typed values, and reports a body that is not JSON with [`parse_json`]'s error).
    pub(crate) async fn execute_slice<T>(
        &self,
        req: Request,
        interpret: impl FnOnce(&str, &[u8]) -> Result<T>,
    ) -> Result<T> {
        self.run(req, |path, body| match body {
            Body::Json(bytes) => interpret(path, &bytes),
            Body::Text(_) => unreachable_text(path),
        })
        .await
    }

    /// Sends `req` and returns the raw text body.
    pub async fn send_text(&self, req: Request) -> Result<String> {
        self.run(req.text(), |path, body| match body {
            Body::Text(t) => Ok(t),
            Body::Json(bytes) => Ok(parse_json(path, &bytes)?.to_string()),
        })
        .await
    }

    async fn run<T>(
        &self,
        req: Request,
        interpret: impl FnOnce(&str, Body) -> Result<T>,
    ) -> Result<T> {
        let started = Instant::now();
        let ts = humantime::format_rfc3339_micros(SystemTime::now());
        let req_id = uuid::Uuid::new_v4();
        let method = req.method.as_str();
        let path = req.path.clone();
        let sent = tokio::time::timeout(self.inner.call_timeout, self.transmit(&req)).await;
        let (status, result) = match sent {
            Ok(Ok((status, body))) => (Some(status), interpret(&path, body)),
            Ok(Err((status, e))) => (status, Err(e)),
            Err(_) => (
                None,
                Err(Error::Deadline {
                    after: self.inner.call_timeout,
                    method: req.method,
                    path: path.clone(),
                }),
            ),
        };
        // 0 = no HTTP response (refused, TLS failure, timeout before the headers, ...), so the
        // field is present on every event.
        let status = status.unwrap_or(0);
        let outcome = match &result {
            Ok(_) => "success",
            Err(Error::Timeout { .. } | Error::Deadline { .. }) => "timeout",
            Err(
                Error::Validation { .. }
                | Error::NotFound { .. }
                | Error::Unauthorized { .. }
                | Error::Forbidden { .. }
                | Error::ActionFailed { .. }
                | Error::ServiceFailed { .. },
            ) => "rejected",
            Err(_) => "error",
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            target: AUDIT_TARGET,
            ts = %ts,
            req_id = %req_id,
            method,
            path = %path,
            status = status,
            outcome,
            elapsed_ms,
            "opnsense call"
        );
        result
    }

    /// One HTTP exchange. Errors carry the HTTP status when there was one.
    async fn transmit(&self, req: &Request) -> Result<(u16, Body), (Option<u16>, Error)> {
        let inner = &self.inner;
        let url = inner
            .api_base
            .join(&req.path)
            .map_err(|e| (None, Error::invalid("path", e.to_string())))?;
        let method = req.method;
        let mut builder = match req.method {
            Method::Get => inner.http.get(url),
            Method::Post => inner.http.post(url),
        }
        .basic_auth(&inner.api_key, Some(&inner.api_secret))
        .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        // reqwest enforces the connect timeout inside; this outer limit leaves it room, so a
        // stalled connect is reported as such and the head gets at least the read timeout.
        let head_limit = inner.connect_timeout.saturating_add(inner.read_timeout);
        let mut resp = match tokio::time::timeout(head_limit, builder.send()).await {
            Ok(sent) => sent.map_err(|e| (None, self.transport_error(e, method, &req.path)))?,
            Err(_) => return Err((None, self.read_timeout_error(method, &req.path))),
        };
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let limit = inner.max_response_bytes;
        let too_large = |announced| Error::TooLarge {
            method,
            path: req.path.clone(),
            limit,
            announced,
        };
        if let Some(n) = resp.content_length()
            && n > limit
        {
            return Err((Some(status), too_large(Some(n))));
        }
        // Sized once when the length is announced (a 1,000-row search is ~1 MB).
        let announced = resp.content_length().map_or(0, |n| n.min(limit));
        let mut bytes = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
        loop {
            match tokio::time::timeout(inner.read_timeout, resp.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    if (bytes.len() + chunk.len()) as u64 > limit {
                        return Err((Some(status), too_large(None)));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    return Err((Some(status), self.transport_error(e, method, &req.path)));
                }
                Err(_) => return Err((Some(status), self.read_timeout_error(method, &req.path))),
            }
        }
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&bytes);
            return Err((
                Some(status),
                self.status_error(status, method, &req.path, &text, location.as_deref()),
            ));
        }
        match req.accept {
            Accept::Text => Ok((
                status,
                Body::Text(String::from_utf8_lossy(&bytes).into_owned()),
            )),
            Accept::Json => Ok((status, Body::Json(bytes))),
        }
    }

    fn read_timeout_error(&self, method: Method, path: &str) -> Error {
        Error::Timeout {
            phase: TimeoutPhase::Read,
            after: self.inner.read_timeout,
            method,
            path: path.to_owned(),
        }
    }

    fn transport_error(&self, e: reqwest::Error, method: Method, path: &str) -> Error {
        let host = self.inner.host.clone();
        // Without the URL: the host is already named, and the URL's path must not take part in
        // the keyword matching below (a path may well contain "tls" or "certificate").
        let e = e.without_url();
        if let Some(m) = crate::tls::find_pin_mismatch(&e) {
            return Error::CertificateMismatch {
                host,
                seen: m.seen,
                expected: m.expected,
            };
        }
        let chain = error_chain(&e);
        if e.is_timeout() {
            let phase = if e.is_connect() {
                TimeoutPhase::Connect
            } else {
                TimeoutPhase::Read
            };
            let after = match phase {
                TimeoutPhase::Connect => self.inner.connect_timeout,
                TimeoutPhase::Read => self.inner.read_timeout,
            };
            return Error::Timeout {
                phase,
                after,
                method,
                path: path.to_owned(),
            };
        }
        let lower = chain.to_ascii_lowercase();
        if lower.contains("corrupt message") {
            // rustls read something that is not TLS: the port speaks plain HTTP (or another
            // protocol).
            return Error::Tls {
                host,
                detail: format!(
                    "{chain} (the server did not answer in TLS: check the port, or that the URL should really be https://)"
                ),
                source: Some(Box::new(e)),
            };
        }
        if lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake")
            || lower.contains("unknownissuer")
        {
            return Error::Tls {
                host,
                detail: chain,
                source: Some(Box::new(e)),
            };
        }
        if e.is_connect() {
            return Error::Connect {
                host,
                detail: chain,
                source: Some(Box::new(e)),
            };
        }
        if e.is_body() || e.is_decode() {
            return Error::InvalidResponse {
                path: path.to_owned(),
                reason: format!("the response body was cut short ({chain})"),
                excerpt: String::new(),
            };
        }
        Error::Connect {
            host,
            detail: chain,
            source: Some(Box::new(e)),
        }
    }

    fn status_error(
        &self,
        status: u16,
        method: Method,
        path: &str,
        body: &str,
        location: Option<&str>,
    ) -> Error {
        match status {
            401 => Error::Unauthorized {
                path: path.to_owned(),
            },
            403 => Error::Forbidden {
                path: path.to_owned(),
            },
            404 => {
                let version_note = match self.inner.version.get() {
                    Some(Some(v)) => format!(" ({v})"),
                    _ => String::new(),
                };
                Error::EndpointNotFound {
                    path: path.to_owned(),
                    version_note,
                }
            }
            300..=399 => Error::Http {
                status,
                method,
                path: path.to_owned(),
                message: match location {
                    Some(to) => format!(
                        "redirected to {:?}; redirects are not followed: set the OPNsense URL to the firewall's HTTPS address (a proxy or the wrong port answers redirects)",
                        excerpt(to)
                    ),
                    None => "redirected; redirects are not followed: set the OPNsense URL to the firewall's HTTPS address".into(),
                },
            },
            _ => Error::Http {
                status,
                method,
                path: path.to_owned(),
                message: error_message(body, self.escaped_errors()),
            },
        }
    }

    /// The firewall's firmware version, read once from `core/firmware/status` and cached.
    ///
    /// Never fails: `None` means unknown (no privilege, old firmware, unreachable), in which case
    /// callers should assume the newest behaviour. A transient failure is retried on the next call.
    pub async fn firmware_version(&self) -> Option<FirmwareVersion> {
        let found = self
            .inner
            .version
            .get_or_try_init(|| async {
                match self
                    .send_json::<Value>(crate::api::system::firmware_status_request())
                    .await
                {
                    Ok(v) => Ok(FirmwareVersion::from_firmware_status(&v)),
                    // Permanent for this client: remember "unknown".
                    Err(
                        Error::Unauthorized { .. }
                        | Error::Forbidden { .. }
                        | Error::EndpointNotFound { .. },
                    ) => Ok(None),
                    // Transient (timeout, refused, 5xx, a body cut short, ...): ask again next time.
                    Err(e) => Err(e),
                }
            })
            .await;
        found.ok().copied().flatten()
    }

    /// A client for the same firewall with its own, single, long-lived connection: once a request
    /// has opened it, it stays open (HTTP/1.1 keep-alive, never dropped for idleness by this
    /// side). A packet filter keeps the state of an established connection, so this one can
    /// still reach the API after a rule change blocks new connections — as long as it carries a
    /// request often enough for the web server not to close it.
    pub fn with_own_connection(&self) -> Result<Client> {
        let mut builder = self.inner.builder.clone();
        builder.firmware_version = self.known_firmware_version();
        builder.build_with(Pool::Dedicated)
    }

    /// Asks OPNsense for its status over a NEW connection (TCP and TLS handshake, nothing from
    /// the pool): the only way to see whether the packet filter still admits new connections
    /// from here, since an established connection survives a rule change.
    pub async fn probe_new_connection(&self) -> Result<()> {
        let mut builder = self.inner.builder.clone();
        builder.firmware_version = self.known_firmware_version();
        let fresh = builder.build_with(Pool::None)?;
        fresh
            .send_json::<Value>(crate::api::system::status_request())
            .await
            .map(|_| ())
    }

    /// This host's address on its path to the firewall, and the firewall's address: the local
    /// and remote ends of a new TCP connection to the API (opened and closed again; no request
    /// is sent). What the firewall's rules see of this server.
    pub async fn connection_path(&self) -> Result<(std::net::SocketAddr, std::net::SocketAddr)> {
        let url = &self.inner.api_base;
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
        let port = url.port_or_known_default().unwrap_or(443);
        let dial = async {
            let stream = tokio::net::TcpStream::connect((host, port)).await?;
            Ok::<_, std::io::Error>((stream.local_addr()?, stream.peer_addr()?))
        };
        match tokio::time::timeout(self.inner.connect_timeout, dial).await {
            Ok(Ok(path)) => Ok(path),
            Ok(Err(e)) => Err(Error::Connect {
                host: self.inner.host.clone(),
                detail: e.to_string(),
                source: Some(Box::new(e)),
            }),
            Err(_) => Err(Error::Timeout {
                phase: TimeoutPhase::Connect,
                after: self.inner.connect_timeout,
                method: Method::Get,
                path: String::new(),
            }),
        }
    }

    /// The version when it is already known (no request).
    pub fn known_firmware_version(&self) -> Option<FirmwareVersion> {
        self.inner.version.get().copied().flatten()
    }

    /// Whether error replies may be HTML-escaped (26.7+, or a version not known yet).
    fn escaped_errors(&self) -> bool {
        crate::version::has(
            self.known_firmware_version(),
            crate::version::Quirk::EscapedErrorReplies,
        )
    }
}

/// A JSON answer's body as a `Value`; a body that is not JSON (truncated, an HTML page, ...) is
/// [`Error::InvalidResponse`] saying which.
pub(crate) fn parse_json(path: &str, bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| {
        let text = String::from_utf8_lossy(bytes);
        let reason = if e.is_eof() {
            "the JSON body is truncated".to_owned()
        } else if text.trim_start().starts_with('<') {
            "expected JSON but got HTML (is the URL the firewall's API, not a proxy or login page?)"
                .to_owned()
        } else {
            format!("the body is not valid JSON ({e})")
        };
        Error::InvalidResponse {
            path: path.to_owned(),
            reason,
            excerpt: excerpt(&text),
        }
    })
}

/// A JSON answer decoded as `T` straight from its bytes; when that fails, the error is the one
/// [`crate::outcome::decode`] gives for the parsed body (or [`parse_json`]'s, for a body that is
/// not JSON), so both ways of reading an answer fail alike.
pub(crate) fn decode_slice<T: DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T> {
    match serde_json::from_slice(bytes) {
        Ok(t) => Ok(t),
        Err(_) => crate::outcome::decode(path, parse_json(path, bytes)?),
    }
}

fn unreachable_text<T>(path: &str) -> Result<T> {
    Err(Error::InvalidResponse {
        path: path.to_owned(),
        reason: "expected JSON".into(),
        excerpt: String::new(),
    })
}

/// Undoes PHP's `htmlspecialchars(…, ENT_NOQUOTES)` (and the quote forms, in case).
fn html_unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// OPNsense's error envelope: `{"errorMessage","errorTitle"[,"errorLevel"]}` or
/// `{"status","message"}`. 26.7 HTML-escapes the text (`escaped`): it is unescaped here.
fn error_message(body: &str, escaped: bool) -> String {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        let text = |s: &str| {
            if escaped {
                html_unescape(s.trim())
            } else {
                s.trim().to_owned()
            }
        };
        let msg = v
            .get("errorMessage")
            .or_else(|| v.get("message"))
            .and_then(Value::as_str);
        let title = v
            .get("errorTitle")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty());
        match (title, msg) {
            (Some(t), Some(m)) => return format!("{}: {}", text(t), text(m)),
            (None, Some(m)) => return text(m),
            _ => {}
        }
    }
    if body.trim().is_empty() {
        "empty body".into()
    } else {
        format!("body starts with {:?}", excerpt(body))
    }
}

/// The error and its sources, joined, for diagnosis (never contains credentials: reqwest
/// errors carry the URL, which has none, and no headers).
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        src = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_rules() {
        let u = normalise_base_url("https://fw.example", false).expect("ok");
        assert_eq!(u.as_str(), "https://fw.example/api/");
        let u = normalise_base_url("HTTPS://fw.example/sub/", false).expect("ok");
        assert_eq!(u.as_str(), "https://fw.example/sub/api/");
        let u = normalise_base_url("https://fw.example/api", false).expect("ok");
        assert_eq!(u.as_str(), "https://fw.example/api/");
        for bad in [
            "http://fw.example",
            "ftp://fw.example",
            "fw.example",
            "https://user:pw@fw.example",
            "https://fw.example/?x=1",
        ] {
            normalise_base_url(bad, false).expect_err(bad);
        }
        normalise_base_url("http://127.0.0.1:1", true).expect("allowed for tests");
    }

    #[test]
    fn url_errors_mask_credentials() {
        for bad in [
            "https://key:s3cr3t@",
            "key:s3cr3t@fw.example",
            "https://key:s3cr3t@[::1",
            "https://k@y:s3cr3t@fw.example:99999/api",
        ] {
            let err = normalise_base_url(bad, false).expect_err(bad).to_string();
            assert!(!err.contains("s3cr3t"), "{err}");
        }
        assert_eq!(redact_userinfo("https://a:b@fw/x@y"), "https://***@fw/x@y");
        assert_eq!(redact_userinfo("https://fw/x@y"), "https://fw/x@y");
    }

    #[test]
    fn root_certificates_are_read_at_the_first_handshake_once_per_builder() {
        let client = ClientBuilder::new("https://fw.invalid")
            .credentials("key", "secret")
            .build()
            .expect("client");
        let roots = client.inner.builder.roots.clone().expect("a verifier");
        assert!(
            !roots.loaded(),
            "building a client reads no root certificate"
        );
        let own = client.with_own_connection().expect("own connection");
        let shared = own.inner.builder.roots.clone().expect("a verifier");
        assert!(Arc::ptr_eq(&roots, &shared), "one verifier per builder");
        // Verification off or a pin: no platform roots at all.
        let off = ClientBuilder::new("https://fw.invalid")
            .credentials("key", "secret")
            .verify_tls(false)
            .build()
            .expect("client");
        assert!(off.inner.builder.roots.is_none());
    }

    #[test]
    fn builder_debug_hides_secret() {
        let b = ClientBuilder::new("https://fw").credentials("key", "s3cr3t-value");
        let dbg = format!("{b:?}");
        assert!(
            !dbg.contains("s3cr3t-value") && !dbg.contains("key\""),
            "{dbg}"
        );
    }

    #[test]
    fn error_envelopes() {
        assert_eq!(
            error_message(
                r#"{"errorMessage":"Cannot delete","errorTitle":"Alias in use"}"#,
                false
            ),
            "Alias in use: Cannot delete"
        );
        assert_eq!(
            error_message(
                r#"{"errorMessage":"Unexpected error, check log for details"}"#,
                false
            ),
            "Unexpected error, check log for details"
        );
        assert!(error_message("<html>502</html>", true).contains("<html>"));
    }

    #[test]
    fn escaped_error_replies_are_unescaped_on_26_7_only() {
        let body = r#"{"errorMessage":"a &lt; b &amp;&amp; c &gt; d","errorTitle":"X &amp; Y","errorLevel":"error"}"#;
        assert_eq!(error_message(body, true), "X & Y: a < b && c > d");
        assert_eq!(
            error_message(body, false),
            "X &amp; Y: a &lt; b &amp;&amp; c &gt; d"
        );
    }
}

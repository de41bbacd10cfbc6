//! Every way a call to OPNsense can fail, each saying what to do next.
//!
//! OPNsense reports many failures with HTTP 200 (`{"result":"failed"}`, `[]`, `{"status":"error"}`):
//! those are mapped here too, so a caller never mistakes a refused change for a success.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::request::Method;

/// The lower-level cause of a transport error, kept for [`std::error::Error::source`].
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias used throughout the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which phase of an HTTP exchange ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Establishing TCP + TLS.
    Connect,
    /// Waiting for (or reading) the response.
    Read,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect",
            Self::Read => "read",
        })
    }
}

/// An error from the SDK. `Display` is a complete sentence an operator (or an AI) can act on;
/// no variant ever carries the API secret or a request body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A caller-supplied value was refused before any request was sent.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The argument or field that was refused.
        field: String,
        /// The rule it broke.
        reason: String,
    },

    /// The client configuration is unusable (bad URL, unreadable CA file, ...).
    #[error("invalid client configuration: {0}")]
    Config(String),

    /// TCP connection refused, host unknown or unreachable.
    #[error(
        "cannot connect to OPNsense at {host}: {detail}; check the URL and that the firewall's web GUI/API is reachable from here"
    )]
    Connect {
        /// host:port that was dialled.
        host: String,
        /// The lower-level cause, without secrets.
        detail: String,
        /// The cause itself.
        #[source]
        source: Option<Cause>,
    },

    /// The TLS handshake failed, most often because the firewall's certificate is not trusted.
    #[error(
        "TLS handshake with {host} failed: {detail}; if the firewall uses a self-signed certificate, trust its CA certificate (PEM) with the CA file option (ca_file / OPNSENSE_CA_FILE) or pin the certificate itself by its fingerprint (tls_fingerprint / OPNSENSE_TLS_FINGERPRINT) rather than turning verification off (verify_tls = false)"
    )]
    Tls {
        /// host:port that was dialled.
        host: String,
        /// The lower-level cause.
        detail: String,
        /// The cause itself.
        #[source]
        source: Option<Cause>,
    },

    /// The firewall presented a certificate other than the pinned one
    /// ([`crate::ClientBuilder::tls_fingerprint`]).
    #[error(
        "the certificate of {host} does not match the pin: it presented {seen}, the pin (tls_fingerprint / OPNSENSE_TLS_FINGERPRINT) expects {expected}; if the firewall's certificate was replaced, check the new fingerprint on the firewall itself before pinning it, otherwise something between here and the firewall is answering in its place"
    )]
    CertificateMismatch {
        /// host:port that was dialled.
        host: String,
        /// The fingerprint of the certificate presented.
        seen: crate::tls::CertFingerprint,
        /// The pinned fingerprint.
        expected: crate::tls::CertFingerprint,
    },

    /// No answer in time.
    #[error(
        "{phase} timeout after {after:?} on {method} {path}; the firewall may be overloaded or unreachable (raise the {phase} timeout if this call is known to be slow)"
    )]
    Timeout {
        /// Connect or read.
        phase: TimeoutPhase,
        /// The configured limit that was hit.
        after: Duration,
        /// HTTP method.
        method: Method,
        /// API path (relative to `/api/`).
        path: String,
    },

    /// The whole call took longer than the overall deadline (a slow drip of bytes, a proxy
    /// holding the connection).
    #[error(
        "{method} {path} did not complete within {after:?} (the overall limit of one call); the firewall may be overloaded, or a proxy is holding the connection (raise call_timeout / OPNSENSE_CALL_TIMEOUT if this call is known to be slow)"
    )]
    Deadline {
        /// The configured overall limit.
        after: Duration,
        /// HTTP method.
        method: Method,
        /// API path.
        path: String,
    },

    /// The response body is larger than the configured limit.
    #[error(
        "the response of {method} {path} is larger than {limit} bytes{}; nothing was read past the limit (raise max_response_bytes / OPNSENSE_MAX_RESPONSE_BYTES if such answers are expected)",
        announced.map(|n| format!(" (it announced {n} bytes)")).unwrap_or_default()
    )]
    TooLarge {
        /// HTTP method.
        method: Method,
        /// API path.
        path: String,
        /// The limit.
        limit: u64,
        /// What `Content-Length` announced, when it did.
        announced: Option<u64>,
    },

    /// HTTP 401: the key/secret pair was not accepted.
    #[error(
        "OPNsense rejected the API credentials (HTTP 401) on {path}; check the API key and secret (System > Access > Users > API keys)"
    )]
    Unauthorized {
        /// API path.
        path: String,
    },

    /// HTTP 403: the key is valid but its user lacks the privilege for this page.
    #[error(
        "the API user lacks the privilege for {path} (HTTP 403); grant it in System > Access > Users/Groups > Effective privileges"
    )]
    Forbidden {
        /// API path.
        path: String,
    },

    /// HTTP 404: the endpoint does not exist on this firewall.
    #[error(
        "endpoint {path} not found (HTTP 404); it is missing on this OPNsense version{version_note} or its plugin is not installed"
    )]
    EndpointNotFound {
        /// API path.
        path: String,
        /// e.g. " (26.7.2)" when the firmware version is known, else empty.
        version_note: String,
    },

    /// The endpoint exists in 26.1 but was removed in the firmware this client talks to.
    #[error("{feature} is not available on OPNsense {version}: {hint}")]
    Unsupported {
        /// What was asked for.
        feature: &'static str,
        /// The firewall's version.
        version: String,
        /// What to do instead.
        hint: &'static str,
    },

    /// Any other HTTP error status (4xx other than the above, 5xx).
    #[error("OPNsense answered HTTP {status} on {method} {path}: {message}")]
    Http {
        /// HTTP status code.
        status: u16,
        /// HTTP method.
        method: Method,
        /// API path.
        path: String,
        /// OPNsense's `errorMessage` (and `errorTitle`), or a short excerpt of the body.
        message: String,
    },

    /// The body could not be understood (not JSON, truncated, or not the expected shape).
    #[error("unexpected response from {path}: {reason}{}", show_excerpt(.excerpt))]
    InvalidResponse {
        /// API path.
        path: String,
        /// What was wrong with it.
        reason: String,
        /// At most 200 characters of the body.
        excerpt: String,
    },

    /// OPNsense refused a change (HTTP 200 `{"result":"failed","validations":{...}}`).
    #[error("OPNsense refused the change on {path}: {}", format_validations(.errors))]
    Validation {
        /// API path.
        path: String,
        /// Field path (e.g. `rule.source_net`) -> every message OPNsense gave for it.
        /// Empty when OPNsense said "failed" without details (e.g. missing wrapper).
        errors: BTreeMap<String, Vec<String>>,
    },

    /// The object does not exist (a get answered `[]`, a delete answered `not found`, ...).
    #[error("{kind} {id} not found")]
    NotFound {
        /// What was looked for ("firewall rule", "alias", ...).
        kind: &'static str,
        /// The uuid or name that was looked for.
        id: String,
    },

    /// An apply/reconfigure action answered with a failure status.
    #[error("{action} failed on {path}: OPNsense said {status:?}")]
    ActionFailed {
        /// What was attempted ("apply firewall rules", ...).
        action: &'static str,
        /// API path.
        path: String,
        /// The status text OPNsense returned.
        status: String,
    },

    /// A service start/stop/restart did not succeed: configd answered something other than
    /// `OK` (`Error (1)` when the rc script failed, `Action not allowed or missing`, or `[]`
    /// when the request was refused).
    #[error("{action} of the {module} service failed: configd said {output:?}")]
    ServiceFailed {
        /// The service module (`unbound`, `kea`, ...).
        module: String,
        /// `start`, `stop` or `restart`.
        action: &'static str,
        /// configd's answer (trimmed; `[]` when OPNsense refused the request).
        output: String,
    },

    /// OPNsense refused to delete a record that other configuration still uses.
    #[error("cannot delete {kind} {id}: it is still in use ({detail})")]
    InUse {
        /// What was to be deleted ("alias", ...).
        kind: &'static str,
        /// Its uuid.
        id: String,
        /// OPNsense's message, naming what uses it.
        detail: String,
    },
}

fn show_excerpt(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!("; body starts with: {excerpt:?}")
    }
}

fn format_validations(errors: &BTreeMap<String, Vec<String>>) -> String {
    if errors.is_empty() {
        return "the request was rejected without details (wrong wrapper key, or not a POST)"
            .into();
    }
    errors
        .iter()
        .map(|(field, msgs)| format!("{field}: {}", msgs.join(" ")))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// True when nothing was sent to OPNsense (input or configuration refused locally).
    pub fn is_local(&self) -> bool {
        matches!(self, Self::InvalidInput { .. } | Self::Config(_))
    }

    /// The HTTP status OPNsense answered with, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::EndpointNotFound { .. } => Some(404),
            Self::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// [`excerpt`] of a JSON value, serialising no more of it than the excerpt shows.
pub(crate) fn excerpt_json(v: &serde_json::Value) -> String {
    /// Collects at most `LIMIT` bytes, then refuses more (which ends serialisation early).
    struct Bounded(Vec<u8>);
    const LIMIT: usize = 1024;
    impl std::io::Write for Bounded {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let room = LIMIT.saturating_sub(self.0.len());
            if room == 0 {
                return Err(std::io::Error::other("excerpt full"));
            }
            let n = room.min(buf.len());
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Bounded(Vec::new());
    let _ = serde_json::to_writer(&mut out, v);
    excerpt(&String::from_utf8_lossy(&out.0))
}

/// A short, single-line, char-boundary-safe excerpt of a response body.
pub(crate) fn excerpt(body: &str) -> String {
    const MAX: usize = 200;
    let flat: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX)
        .collect();
    if body.chars().count() > MAX {
        format!("{flat}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_lists_every_field_and_message() {
        let mut errors = BTreeMap::new();
        errors.insert("rule.source_net".to_owned(), vec!["bad net".to_owned()]);
        errors.insert(
            "rule.destination_port".to_owned(),
            vec!["one".to_owned(), "two".to_owned()],
        );
        let e = Error::Validation {
            path: "firewall/filter/add_rule".into(),
            errors,
        };
        let text = e.to_string();
        assert!(text.contains("rule.source_net: bad net"), "{text}");
        assert!(text.contains("rule.destination_port: one two"), "{text}");
    }

    #[test]
    fn json_excerpt_stops_early_and_is_bounded() {
        let big = serde_json::json!({"rows": vec!["x".repeat(100); 10_000]});
        let ex = excerpt_json(&big);
        assert!(ex.starts_with("{\"rows\":[\"xxx"), "{ex}");
        assert!(ex.chars().count() <= 201);
    }

    #[test]
    fn excerpt_is_bounded_and_single_line() {
        let body = "é\n".repeat(500);
        let ex = excerpt(&body);
        assert!(!ex.contains('\n'));
        assert!(ex.chars().count() <= 201);
    }
}

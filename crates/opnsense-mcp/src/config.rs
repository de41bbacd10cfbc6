//! Configuration: defaults < config file < `OPNSENSE_*` environment < command-line flags,
//! merged with figment and then checked strictly. Every error names its key and source.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};
use opnsense_mcp_tools::fleet::DEFAULT_TARGET;
use serde::{Deserialize, Deserializer, Serialize};

/// The transport the MCP server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// MCP over stdin/stdout (the default; what desktop clients spawn).
    Stdio,
    /// Streamable HTTP at `/mcp`.
    Http,
}

/// Keys as they appear in the file (and, upper-cased with `OPNSENSE_`, in the environment).
/// Unknown keys are an error.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raw {
    #[serde(default, deserialize_with = "scalar_string")]
    url: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    api_key: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    api_secret: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    api_secret_file: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    api_key_file: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    tls_fingerprint: Option<String>,
    #[serde(default = "yes")]
    verify_tls: bool,
    #[serde(default, deserialize_with = "scalar_string")]
    ca_file: Option<String>,
    #[serde(default = "stdio")]
    transport: Transport,
    #[serde(default = "loopback", deserialize_with = "scalar_string_req")]
    http_host: String,
    #[serde(default = "port")]
    http_port: u16,
    #[serde(default, deserialize_with = "scalar_string")]
    http_token: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    http_allowed_hosts: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    http_tokens_file: Option<String>,
    #[serde(default = "max_sessions")]
    http_max_sessions: usize,
    #[serde(default = "idle_timeout")]
    http_idle_timeout: f64,
    #[serde(default = "max_body")]
    http_max_body: usize,
    #[serde(default)]
    http_stateless: bool,
    #[serde(default = "connect_timeout")]
    connect_timeout: f64,
    #[serde(default = "read_timeout")]
    read_timeout: f64,
    #[serde(default = "call_timeout")]
    call_timeout: f64,
    #[serde(default = "max_response_bytes")]
    max_response_bytes: u64,
    #[serde(default)]
    allow_secrets: bool,
    #[serde(default)]
    output_schemas: bool,
    #[serde(default)]
    read_only: bool,
    #[serde(default, deserialize_with = "string_list")]
    tools_allow: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    tools_deny: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    toolsets: Vec<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    state_dir: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    state_url: Option<String>,
    #[serde(default = "confirm_timeout")]
    confirm_timeout: f64,
    #[serde(default, deserialize_with = "string_list")]
    protect: Vec<String>,
    #[serde(default)]
    targets: BTreeMap<String, RawTarget>,
    #[serde(default, deserialize_with = "scalar_string")]
    default_target: Option<String>,
}

/// One `[targets.NAME]` table: the keys of one firewall. Unset keys other than the firewall's
/// identity (`url`, `api_key`, the secret, `ca_file`) take the top-level value.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTarget {
    #[serde(default, deserialize_with = "scalar_string")]
    url: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    api_key: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    api_secret: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    api_secret_file: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    api_key_file: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    ca_file: Option<String>,
    #[serde(default, deserialize_with = "scalar_string")]
    tls_fingerprint: Option<String>,
    #[serde(default)]
    verify_tls: Option<bool>,
    #[serde(default)]
    connect_timeout: Option<f64>,
    #[serde(default)]
    read_timeout: Option<f64>,
    #[serde(default)]
    call_timeout: Option<f64>,
    #[serde(default)]
    max_response_bytes: Option<u64>,
    #[serde(default)]
    read_only: Option<bool>,
    #[serde(default, deserialize_with = "opt_string_list")]
    tools_allow: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_string_list")]
    tools_deny: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_string_list")]
    protect: Option<Vec<String>>,
    #[serde(default)]
    confirm_timeout: Option<f64>,
}

/// The keys of a `[targets.NAME]` table.
const TARGET_KEYS: &[&str] = &[
    "url",
    "api_key",
    "api_secret",
    "api_secret_file",
    "api_key_file",
    "ca_file",
    "tls_fingerprint",
    "verify_tls",
    "connect_timeout",
    "read_timeout",
    "call_timeout",
    "max_response_bytes",
    "read_only",
    "tools_allow",
    "tools_deny",
    "protect",
    "confirm_timeout",
];

fn yes() -> bool {
    true
}
fn stdio() -> Transport {
    Transport::Stdio
}
fn loopback() -> String {
    "127.0.0.1".into()
}
fn port() -> u16 {
    8000
}
/// Held on loopback by `examples/sessions.rs`: about 100 KiB and two sockets per session.
fn max_sessions() -> usize {
    1000
}
fn idle_timeout() -> f64 {
    300.0
}
fn max_body() -> usize {
    1 << 20
}
fn connect_timeout() -> f64 {
    10.0
}
fn read_timeout() -> f64 {
    60.0
}
fn call_timeout() -> f64 {
    opnsense_api::client::DEFAULT_CALL_TIMEOUT.as_secs_f64()
}
fn max_response_bytes() -> u64 {
    opnsense_api::client::DEFAULT_MAX_RESPONSE_BYTES
}
fn confirm_timeout() -> f64 {
    opnsense_change::engine::DEFAULT_CONFIRM_TIMEOUT.as_secs_f64()
}

/// A list: a TOML array of strings, or one comma-separated string (how the environment gives it).
fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(opt_string_list(d)?.unwrap_or_default())
}

/// [`string_list`], telling an absent list from an empty one.
fn opt_string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        One(String),
        Many(Vec<String>),
    }
    let items = match Option::<List>::deserialize(d)? {
        None => return Ok(None),
        Some(List::One(s)) => s.split(',').map(str::to_owned).collect::<Vec<_>>(),
        Some(List::Many(v)) => v,
    };
    Ok(Some(
        items
            .into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    ))
}

/// Environment values are parsed by figment (`12345` becomes a number): take any scalar as text.
fn scalar_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        S(String),
        U(u64),
        I(i64),
        F(f64),
    }
    Ok(match Option::<Scalar>::deserialize(d)? {
        None => None,
        Some(Scalar::S(s)) => Some(s),
        Some(Scalar::U(n)) => Some(n.to_string()),
        Some(Scalar::I(n)) => Some(n.to_string()),
        Some(Scalar::F(n)) => Some(n.to_string()),
    })
}

fn scalar_string_req<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    scalar_string(d)?.ok_or_else(|| serde::de::Error::custom("a value is required"))
}

/// Command-line overrides (highest precedence). Only the flags given are merged.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    /// `--url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `--transport`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    /// `--http-host`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_host: Option<String>,
    /// `--http-port`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_port: Option<u16>,
    /// `--ca-file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// `--tls-fingerprint`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_fingerprint: Option<String>,
    /// `--read-only`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
}

/// HTTP transport settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Address to bind.
    pub host: IpAddr,
    /// Port to bind (0 = any free port).
    pub port: u16,
    /// Bearer token clients must send; required off loopback.
    pub token: Option<String>,
    /// Host header values accepted besides the loopback names.
    pub allowed_hosts: Vec<String>,
    /// Client tokens (`http_tokens_file`): name, SHA-256, scope.
    pub tokens: Vec<crate::tokens::ClientToken>,
    /// Concurrent MCP sessions at most.
    pub max_sessions: usize,
    /// Sessions idle this long are closed.
    pub idle_timeout: Duration,
    /// Largest request body accepted.
    pub max_body: usize,
    /// Stateless streamable HTTP (no MCP sessions, plain JSON answers): for replicas behind a
    /// load balancer without sticky sessions.
    pub stateless: bool,
}

/// A checked configuration.
#[derive(Clone)]
pub struct Config {
    /// Firewall base URL (https).
    pub url: Option<String>,
    /// API key.
    pub api_key: Option<String>,
    /// API secret (from the value or the secret file).
    pub api_secret: Option<String>,
    /// Verify the firewall's certificate.
    pub verify_tls: bool,
    /// Extra CA certificate to trust.
    pub ca_file: Option<PathBuf>,
    /// The one certificate to accept (replaces `verify_tls` and `ca_file`).
    pub tls_fingerprint: Option<opnsense_api::CertFingerprint>,
    /// MCP transport.
    pub transport: Transport,
    /// HTTP transport settings.
    pub http: HttpSettings,
    /// Connect timeout to OPNsense.
    pub connect_timeout: Duration,
    /// Read timeout to OPNsense (each read of a response).
    pub read_timeout: Duration,
    /// Overall limit of one OPNsense call, connect to last byte.
    pub call_timeout: Duration,
    /// Largest OPNsense response body accepted.
    pub max_response_bytes: u64,
    /// Allow `include_secrets` on the config backup.
    pub allow_secrets: bool,
    /// Send each tool's `outputSchema` in `tools/list`.
    pub output_schemas: bool,
    /// Offer read-only tools only.
    pub read_only: bool,
    /// Offer only the tools matching one of these globs (empty: all).
    pub tools_allow: Vec<String>,
    /// Never offer the tools matching one of these globs.
    pub tools_deny: Vec<String>,
    /// Offer only the tools of these toolsets (empty: all).
    pub toolsets: Vec<opnsense_mcp_tools::policy::Toolset>,
    /// Where the change journal lives.
    pub state: StateStore,
    /// How long an applied change stays live unconfirmed before it is reverted.
    pub confirm_timeout: Duration,
    /// Flows the lockout pre-flight keeps working besides this server's own.
    pub protect: Vec<opnsense_change::preflight::Protect>,
    /// The named targets (`[targets.NAME]`), by name: each a complete configuration of one
    /// firewall (the top-level values where the table sets none). See [`Config::fleet`].
    pub targets: Vec<(String, Config)>,
    /// The target a call without `target` goes to.
    pub default_target: String,
}

/// Where the change journal is kept.
#[derive(Clone, PartialEq, Eq)]
pub enum StateStore {
    /// One SQLite file per firewall in this directory.
    Dir(PathBuf),
    /// A database (`postgres://…`, `sqlite://…`) shared by every firewall and replica.
    Url(String),
    /// No state directory could be found (no `HOME`, no `state_dir`): changes cannot be made.
    Unavailable,
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Dir(d) => write!(f, "Dir({})", d.display()),
            Self::Url(u) => write!(f, "Url({})", opnsense_api::redact_userinfo(u)),
            Self::Unavailable => f.write_str("Unavailable"),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("api_secret", &self.api_secret.as_ref().map(|_| "<set>"))
            .field("transport", &self.transport)
            .field("state", &self.state)
            .field("targets", &self.targets)
            .field("default_target", &self.default_target)
            .finish_non_exhaustive()
    }
}

/// A configuration problem: one line, naming the key and where it came from.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// Environment variables that are not configuration keys (read elsewhere).
const ENV_NOT_KEYS: &[&str] = &["config"];

/// Keys whose values are text: an environment value for them is kept verbatim (figment would
/// otherwise read `0123` as the number 123 and `1.50` as 1.5, corrupting a secret).
const TEXT_KEYS: &[&str] = &[
    "url",
    "api_key",
    "api_secret",
    "api_secret_file",
    "api_key_file",
    "tls_fingerprint",
    "ca_file",
    "transport",
    "http_host",
    "http_token",
    "http_allowed_hosts",
    "http_tokens_file",
    "state_dir",
    "state_url",
    "default_target",
];

/// One `OPNSENSE_*` variable, its own provider so that an error names the exact variable.
struct EnvVar {
    name: String,
    key: String,
    value: String,
}

impl Provider for EnvVar {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("environment variable {}", self.name))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let value = if TEXT_KEYS.contains(&self.key.as_str()) {
            Value::from(self.value.clone())
        } else {
            match self.value.trim().parse::<Value>() {
                Ok(v) => v,
                Err(never) => match never {},
            }
        };
        let mut dict = Dict::new();
        dict.insert(self.key.clone(), value);
        Ok(Profile::Default.collect(dict))
    }
}

impl Provider for Overrides {
    fn metadata(&self) -> Metadata {
        Metadata::named("command-line flag")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Serialized::defaults(self).data()
    }
}

/// The `OPNSENSE_*` variables that are set to something other than blanks (a variable that is
/// set but empty does not override the file).
fn env_vars() -> Vec<EnvVar> {
    let mut vars: Vec<EnvVar> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let name = k.to_str()?.to_owned();
            let key = name.strip_prefix("OPNSENSE_")?.to_ascii_lowercase();
            let value = v.to_str()?.to_owned();
            (!value.trim().is_empty() && !key.is_empty() && !ENV_NOT_KEYS.contains(&key.as_str()))
                .then_some(EnvVar { name, key, value })
        })
        .collect();
    vars.sort_by(|a, b| a.name.cmp(&b.name));
    vars
}

/// Where the value of `key` came from, for error messages.
pub(crate) fn origin(figment: &Figment, key: &str) -> String {
    figment
        .find_metadata(key)
        .map_or_else(|| "default".to_owned(), describe_source)
}

fn describe_source(md: &Metadata) -> String {
    match &md.source {
        Some(Source::File(path)) => format!("config file {}", path.display()),
        _ => md.name.to_string(),
    }
}

/// One figment error as one line: the key, where its value came from, what is wrong.
fn describe_error(figment: &Figment, e: &figment::Error) -> String {
    if let figment::error::Kind::UnknownField(field, _) = &e.kind
        && let [first, name, ..] = e.path.as_slice()
        && first == "targets"
    {
        let source = e.metadata.as_ref().map_or_else(
            || origin(figment, &format!("targets.{name}")),
            describe_source,
        );
        return format!(
            "target `{name}`: unknown key `{field}` in [targets.{name}] of {source} (known target keys: {})",
            TARGET_KEYS.join(", ")
        );
    }
    if let figment::error::Kind::UnknownField(field, _) = &e.kind {
        let source = e
            .metadata
            .as_ref()
            .map_or_else(|| origin(figment, field), describe_source);
        return format!(
            "unknown key `{field}` in {source} (known keys: {})",
            KNOWN_KEYS.join(", ")
        );
    }
    let key = match e.path.as_slice() {
        [first, name, key, ..] if first == "targets" => format!("target `{name}`: {key}"),
        path => path.last().cloned().unwrap_or_default(),
    };
    let problem = match &e.kind {
        figment::error::Kind::UnknownVariant(found, expected) => {
            format!(
                "unknown value `{found}`, expected one of: {}",
                expected.join(", ")
            )
        }
        kind => kind.to_string(),
    };
    let source = e
        .metadata
        .as_ref()
        .map_or_else(|| origin(figment, &key), describe_source);
    if key.is_empty() {
        format!("{problem} (in {source})")
    } else {
        format!("{key} (from {source}): {problem}")
    }
}

/// Every key, as written in the file.
pub(crate) const KNOWN_KEYS: &[&str] = &[
    "url",
    "api_key",
    "api_secret",
    "api_secret_file",
    "api_key_file",
    "tls_fingerprint",
    "verify_tls",
    "ca_file",
    "transport",
    "http_host",
    "http_port",
    "http_token",
    "http_allowed_hosts",
    "http_tokens_file",
    "http_max_sessions",
    "http_idle_timeout",
    "http_max_body",
    "http_stateless",
    "connect_timeout",
    "read_timeout",
    "call_timeout",
    "max_response_bytes",
    "allow_secrets",
    "output_schemas",
    "read_only",
    "tools_allow",
    "tools_deny",
    "toolsets",
    "state_dir",
    "state_url",
    "confirm_timeout",
    "protect",
    "targets",
    "default_target",
];

/// The default config file: `$XDG_CONFIG_HOME/opnsense-mcp/config.toml`, else
/// `~/.config/opnsense-mcp/config.toml`.
pub fn default_config_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join("opnsense-mcp").join("config.toml"))
}

/// Loads the configuration. `explicit` is `--config`/`OPNSENSE_CONFIG`: then the file must exist.
pub fn load(explicit: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
    let figment = figment(explicit, overrides)?;
    let raw = extract(&figment)?;
    let mut top = raw.clone();
    top.targets.clear();
    let mut config = check(top, &|key| origin(&figment, key))?;
    config.targets = raw
        .targets
        .iter()
        .map(|(name, t)| target(name, t, &raw, &config, &figment))
        .collect::<Result<_, _>>()?;
    config.default_target = default_target(&config, raw.default_target.as_deref(), &|key| {
        origin(&figment, key)
    })?;
    Ok(config)
}

/// The merged providers (defaults are serde's, not in the figment): for `load` and `config`.
pub(crate) fn figment(
    explicit: Option<&Path>,
    overrides: &Overrides,
) -> Result<Figment, ConfigError> {
    let mut figment = Figment::new();
    match explicit {
        Some(path) => {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "config file {} does not exist or is not a file",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        None => {
            // The default file is optional; when it exists it must parse.
            if let Some(path) = default_config_path().filter(|p| p.exists()) {
                figment = figment.merge(Toml::file_exact(path));
            }
        }
    }
    for var in env_vars() {
        figment = figment.merge(var);
    }
    figment = figment.merge(overrides.clone());
    Ok(figment)
}

/// The keys with their values (defaults filled in), each error naming its key and source.
pub(crate) fn extract(figment: &Figment) -> Result<Raw, ConfigError> {
    figment.extract().map_err(|e| {
        ConfigError(
            e.into_iter()
                .map(|e| describe_error(figment, &e))
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}

/// A target name: it is the value of `target` and a directory name.
fn valid_target_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && !name.starts_with(['-', '_'])
}

/// `[targets.NAME]` checked as one firewall's configuration: the top-level `raw` with the
/// table's keys in (identity keys never inherited), checked like the top level; every error
/// names the target and the key.
fn target(
    name: &str,
    t: &RawTarget,
    raw: &Raw,
    top: &Config,
    figment: &Figment,
) -> Result<(String, Config), ConfigError> {
    let table = format!("[targets.{name}]");
    let from = |key: &str| {
        let source = figment
            .find_metadata(&format!("targets.{name}.{key}"))
            .or_else(|| figment.find_metadata(&format!("targets.{name}")))
            .map_or_else(|| "default".to_owned(), describe_source);
        format!("{table} in {source}")
    };
    if !valid_target_name(name) {
        return Err(ConfigError(format!(
            "target `{name}` ({}): a target name is 1 to 63 lower-case letters, digits, - and _, starting with a letter or digit",
            from("url")
        )));
    }
    if name == DEFAULT_TARGET && top.url.is_some() {
        return Err(ConfigError(format!(
            "target `{name}` ({}) and the top-level url (from {}) both define the target `{name}`: rename the table or drop the top-level url",
            from("url"),
            origin(figment, "url")
        )));
    }
    let mut r = raw.clone();
    r.targets.clear();
    r.url.clone_from(&t.url);
    r.api_key.clone_from(&t.api_key);
    r.api_secret.clone_from(&t.api_secret);
    r.api_secret_file.clone_from(&t.api_secret_file);
    r.ca_file.clone_from(&t.ca_file);
    // The key file and the certificate pin name one firewall: never inherited either.
    r.api_key_file.clone_from(&t.api_key_file);
    r.tls_fingerprint.clone_from(&t.tls_fingerprint);
    r.verify_tls = t.verify_tls.unwrap_or(raw.verify_tls);
    r.connect_timeout = t.connect_timeout.unwrap_or(raw.connect_timeout);
    r.read_timeout = t.read_timeout.unwrap_or(raw.read_timeout);
    r.call_timeout = t.call_timeout.unwrap_or(raw.call_timeout);
    r.max_response_bytes = t.max_response_bytes.unwrap_or(raw.max_response_bytes);
    // The top level (and --read-only) makes every target read-only; a target can only add it.
    r.read_only = raw.read_only || t.read_only.unwrap_or(false);
    if let Some(allow) = &t.tools_allow {
        r.tools_allow.clone_from(allow);
    }
    // A target adds to the top-level deny list, never lifts it.
    r.tools_deny.extend(t.tools_deny.iter().flatten().cloned());
    if let Some(protect) = &t.protect {
        r.protect.clone_from(protect);
    }
    r.confirm_timeout = t.confirm_timeout.unwrap_or(raw.confirm_timeout);
    let set_here = |key: &str| match key {
        "verify_tls" => t.verify_tls.is_some(),
        "connect_timeout" => t.connect_timeout.is_some(),
        "read_timeout" => t.read_timeout.is_some(),
        "call_timeout" => t.call_timeout.is_some(),
        "max_response_bytes" => t.max_response_bytes.is_some(),
        "tools_allow" => t.tools_allow.is_some(),
        "tools_deny" => t.tools_deny.is_some(),
        "protect" => t.protect.is_some(),
        "confirm_timeout" => t.confirm_timeout.is_some(),
        _ => true,
    };
    let inherited = |key: &str| {
        if set_here(key) {
            from(key)
        } else {
            format!("the top level, {}", origin(figment, key))
        }
    };
    let named = |e: ConfigError| ConfigError(format!("target `{name}`: {}", e.0));
    let mut config = check(r, &inherited).map_err(named)?;
    let missing = |key: &str, what: &str| {
        ConfigError(format!(
            "target `{name}`: {key} is not set: {what} in {table} ({})",
            from("url")
        ))
    };
    if config.url.is_none() {
        return Err(missing("url", "set url = \"https://...\""));
    }
    if config.api_key.is_none() {
        return Err(missing("api_key", "set api_key"));
    }
    if config.api_secret.is_none() {
        return Err(missing(
            "api_secret",
            "set api_secret_file (a file holding the secret) or api_secret",
        ));
    }
    if name != DEFAULT_TARGET
        && let StateStore::Dir(dir) = &config.state
    {
        config.state = StateStore::Dir(dir.join(name));
    }
    name.clone_into(&mut config.default_target);
    Ok((name.to_owned(), config))
}

/// The default target: `default_target`, else `default` when there is one, else the only
/// target; several targets and none called `default` need `default_target`.
fn default_target(
    config: &Config,
    chosen: Option<&str>,
    from: &dyn Fn(&str) -> String,
) -> Result<String, ConfigError> {
    let names: Vec<&str> = config.fleet_names();
    match chosen.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if names.contains(&c) => Ok(c.to_owned()),
        Some(c) => Err(ConfigError(format!(
            "default_target (from {}): there is no target `{c}`; the targets are {}",
            from("default_target"),
            names.join(", ")
        ))),
        None if names.contains(&DEFAULT_TARGET) => Ok(DEFAULT_TARGET.to_owned()),
        None if names.len() == 1 => Ok(names[0].to_owned()),
        None => Err(ConfigError(format!(
            "default_target is not set: with several targets ({}) and none called `default`, set default_target to the one a call without `target` goes to",
            names.join(", ")
        ))),
    }
}

fn seconds(key: &str, v: f64, from: &dyn Fn(&str) -> String) -> Result<Duration, ConfigError> {
    if v.is_finite() && v > 0.0 && v <= 86_400.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(ConfigError(format!(
            "{key} (from {}) must be a number of seconds greater than 0 and at most 86400, got {v}",
            from(key)
        )))
    }
}

/// The shortest `confirm_timeout` accepted.
const MIN_CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);

/// The smallest `max_response_bytes` accepted: below it even a status answer would not fit.
const MIN_RESPONSE_BYTES: u64 = 1024;

/// Checks what serde cannot; `from(key)` says where a key's value came from.
fn check(raw: Raw, from: &dyn Fn(&str) -> String) -> Result<Config, ConfigError> {
    if let Some(url) = &raw.url {
        let lower = url.trim().to_ascii_lowercase();
        if !lower.starts_with("https://") {
            return Err(ConfigError(format!(
                "url (from {}) must start with https:// (got {:?}); the API key must not travel in clear text",
                from("url"),
                redact_userinfo(url.trim())
            )));
        }
    }
    let api_secret = match (raw.api_secret, raw.api_secret_file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError(format!(
                "set api_secret (from {}) or api_secret_file (from {}), not both",
                from("api_secret"),
                from("api_secret_file")
            )));
        }
        (Some(s), None) => Some(s),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ConfigError(format!(
                    "api_secret_file {path} (from {}): cannot read it: {e}",
                    from("api_secret_file")
                ))
            })?;
            let secret = text.trim_end_matches(['\n', '\r']).to_owned();
            if secret.is_empty() {
                return Err(ConfigError(format!(
                    "api_secret_file {path} (from {}) is empty",
                    from("api_secret_file")
                )));
            }
            Some(secret)
        }
        (None, None) => None,
    };
    let (api_key, api_secret) = crate::credentials::with_key_file(
        raw.api_key,
        raw.api_key_file.as_deref(),
        api_secret,
        from,
    )?;
    let tls_fingerprint = crate::credentials::fingerprint(raw.tls_fingerprint.as_deref(), from)?;
    let ca_file = raw.ca_file.filter(|c| !c.is_empty()).map(PathBuf::from);
    if let Some(ca) = &ca_file
        && !ca.is_file()
    {
        return Err(ConfigError(format!(
            "ca_file {} (from {}) does not exist or is not a file",
            ca.display(),
            from("ca_file")
        )));
    }
    let host: IpAddr = raw.http_host.trim().parse().map_err(|_| {
        ConfigError(format!(
            "http_host (from {}) must be an IP address to bind (e.g. 127.0.0.1 or 0.0.0.0), got {:?}",
            from("http_host"),
            raw.http_host
        ))
    })?;
    let token = raw.http_token.filter(|t| !t.is_empty());
    if let Some(t) = &token
        && t.len() < 16
    {
        return Err(ConfigError(format!(
            "http_token (from {}) must be at least 16 characters",
            from("http_token")
        )));
    }
    let tokens = match raw.http_tokens_file.as_deref().map(str::trim) {
        Some(path) if !path.is_empty() => {
            crate::tokens::load(Path::new(path), &from("http_tokens_file")).map_err(ConfigError)?
        }
        _ => Vec::new(),
    };
    if raw.transport == Transport::Http
        && !host.is_loopback()
        && token.is_none()
        && tokens.is_empty()
    {
        return Err(ConfigError(format!(
            "http_host {host} (from {}) is not a loopback address: set OPNSENSE_HTTP_TOKEN or OPNSENSE_HTTP_TOKENS_FILE so clients must authenticate",
            from("http_host")
        )));
    }
    if raw.http_max_sessions == 0 {
        return Err(ConfigError(format!(
            "http_max_sessions (from {}) must be at least 1",
            from("http_max_sessions")
        )));
    }
    if raw.http_max_body < 1024 {
        return Err(ConfigError(format!(
            "http_max_body (from {}) must be at least 1024 bytes",
            from("http_max_body")
        )));
    }
    if raw.max_response_bytes < MIN_RESPONSE_BYTES {
        return Err(ConfigError(format!(
            "max_response_bytes (from {}) must be at least {MIN_RESPONSE_BYTES} bytes, got {}",
            from("max_response_bytes"),
            raw.max_response_bytes
        )));
    }
    let state = match (
        raw.state_dir.filter(|d| !d.trim().is_empty()),
        raw.state_url.filter(|u| !u.trim().is_empty()),
    ) {
        (Some(_), Some(_)) => {
            return Err(ConfigError(format!(
                "set state_dir (from {}) or state_url (from {}), not both",
                from("state_dir"),
                from("state_url")
            )));
        }
        (Some(dir), None) => StateStore::Dir(PathBuf::from(dir.trim())),
        (None, Some(url)) => {
            let url = url.trim().to_owned();
            let lower = url.to_ascii_lowercase();
            if !["postgres://", "postgresql://", "sqlite:"]
                .iter()
                .any(|p| lower.starts_with(p))
            {
                return Err(ConfigError(format!(
                    "state_url (from {}) must be a postgres:// or sqlite: URL, got {:?}",
                    from("state_url"),
                    opnsense_api::redact_userinfo(&url)
                )));
            }
            StateStore::Url(url)
        }
        (None, None) => opnsense_change::journal::default_state_dir()
            .map_or(StateStore::Unavailable, StateStore::Dir),
    };
    let confirm_timeout = seconds("confirm_timeout", raw.confirm_timeout, from)?;
    if confirm_timeout < MIN_CONFIRM_TIMEOUT {
        return Err(ConfigError(format!(
            "confirm_timeout (from {}) must be at least {} seconds: less leaves no time to check and confirm a change, got {}",
            from("confirm_timeout"),
            MIN_CONFIRM_TIMEOUT.as_secs(),
            raw.confirm_timeout
        )));
    }
    let protect = opnsense_change::preflight::Protect::parse_list(&raw.protect.join(","))
        .map_err(|e| ConfigError(format!("protect (from {}): {e}", from("protect"))))?;
    for (key, globs) in [
        ("tools_allow", &raw.tools_allow),
        ("tools_deny", &raw.tools_deny),
    ] {
        if let Some(bad) = globs.iter().find(|g| {
            !g.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '*')
        }) {
            return Err(ConfigError(format!(
                "{key} (from {}): {bad:?} is not a tool name pattern (lower-case letters, digits, _ and the wildcard *)",
                from(key)
            )));
        }
    }
    let toolsets = opnsense_mcp_tools::policy::Toolset::parse_list(&raw.toolsets)
        .map_err(|e| ConfigError(format!("toolsets (from {}): {e}", from("toolsets"))))?;
    let allowed_hosts = raw
        .http_allowed_hosts
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(Config {
        url: raw.url.map(|u| u.trim().to_owned()),
        api_key: api_key.filter(|k| !k.is_empty()),
        api_secret,
        verify_tls: raw.verify_tls,
        ca_file,
        tls_fingerprint,
        transport: raw.transport,
        http: HttpSettings {
            host,
            port: raw.http_port,
            token,
            allowed_hosts,
            tokens,
            max_sessions: raw.http_max_sessions,
            idle_timeout: seconds("http_idle_timeout", raw.http_idle_timeout, from)?,
            max_body: raw.http_max_body,
            stateless: raw.http_stateless,
        },
        connect_timeout: seconds("connect_timeout", raw.connect_timeout, from)?,
        read_timeout: seconds("read_timeout", raw.read_timeout, from)?,
        call_timeout: seconds("call_timeout", raw.call_timeout, from)?,
        max_response_bytes: raw.max_response_bytes,
        allow_secrets: raw.allow_secrets,
        output_schemas: raw.output_schemas,
        read_only: raw.read_only,
        tools_allow: raw.tools_allow,
        tools_deny: raw.tools_deny,
        toolsets,
        state,
        confirm_timeout,
        protect,
        targets: Vec::new(),
        default_target: DEFAULT_TARGET.to_owned(),
    })
}

/// `raw` with anything that looks like `user:password@` masked (a URL may carry credentials).
fn redact_userinfo(raw: &str) -> String {
    let start = raw.find("://").map_or(0, |i| i + 3);
    let end = raw[start..]
        .find(['/', '?', '#'])
        .map_or(raw.len(), |i| start + i);
    match raw[start..end].rfind('@') {
        Some(at) => format!("{}***{}", &raw[..start], &raw[start + at..]),
        None => raw.to_owned(),
    }
}

impl Config {
    /// The names of the targets [`Config::fleet`] gives.
    fn fleet_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        if self.targets.is_empty() || self.url.is_some() {
            names.push(DEFAULT_TARGET);
        }
        names.extend(self.targets.iter().map(|(n, _)| n.as_str()));
        names.sort_unstable();
        names
    }

    /// Every target, by name: `default` (the top-level keys: the environment-only setup of
    /// old) unless only `[targets.NAME]` tables define firewalls, then each table.
    pub fn fleet(&self) -> Vec<(String, Config)> {
        let mut fleet = Vec::new();
        if self.targets.is_empty() || self.url.is_some() {
            let mut top = self.clone();
            top.targets.clear();
            DEFAULT_TARGET.clone_into(&mut top.default_target);
            fleet.push((DEFAULT_TARGET.to_owned(), top));
        }
        fleet.extend(self.targets.iter().cloned());
        fleet.sort_by(|a, b| a.0.cmp(&b.0));
        fleet
    }

    /// Builds the SDK client; url, key and secret must be set.
    pub fn client(&self) -> Result<opnsense_api::Client, ConfigError> {
        let missing = |what: &str, env: &str| {
            ConfigError(format!(
                "{what} is not set: set {env} or `{}` in the config file",
                env.trim_start_matches("OPNSENSE_").to_ascii_lowercase()
            ))
        };
        let url = self
            .url
            .as_deref()
            .ok_or_else(|| missing("url", "OPNSENSE_URL"))?;
        let key = self
            .api_key
            .as_deref()
            .ok_or_else(|| missing("api_key", "OPNSENSE_API_KEY"))?;
        let secret = self
            .api_secret
            .as_deref()
            .ok_or_else(|| missing("api_secret", "OPNSENSE_API_SECRET"))?;
        let mut b = opnsense_api::Client::builder(url)
            .credentials(key, secret)
            .verify_tls(self.verify_tls)
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .call_timeout(self.call_timeout)
            .max_response_bytes(self.max_response_bytes);
        if let Some(ca) = &self.ca_file {
            b = b.ca_file(ca);
        }
        if let Some(pin) = self.tls_fingerprint {
            b = b.tls_fingerprint(pin);
        }
        b.build().map_err(|e| ConfigError(e.to_string()))
    }
}

#[cfg(test)]
// `Jail` closures must return figment's (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use figment::Jail;

    use super::*;
    use opnsense_mcp_tools::policy::Toolset;

    type R = figment::error::Result<()>;

    /// A jail with no environment but `HOME` pointing into it.
    fn home(jail: &mut Jail) {
        jail.clear_env();
        let dir = jail.directory().display().to_string();
        jail.set_env("HOME", dir);
    }

    /// Writes `~/.config/opnsense-mcp/config.toml` in the jail.
    fn default_file(jail: &Jail, toml: &str) -> PathBuf {
        let dir = jail.directory().join(".config").join("opnsense-mcp");
        std::fs::create_dir_all(&dir).expect("mkdir");
        let path = dir.join("config.toml");
        std::fs::write(&path, toml).expect("write");
        path
    }

    fn ok(explicit: Option<&Path>, o: &Overrides) -> figment::error::Result<Config> {
        load(explicit, o).map_err(|e| e.to_string().into())
    }

    fn err(explicit: Option<&Path>, o: &Overrides) -> String {
        match load(explicit, o) {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn none() -> Overrides {
        Overrides::default()
    }

    /// A setting the loader must refuse, and what its one-line error must say.
    struct Refusal {
        /// What the row checks: named when it fails.
        name: &'static str,
        /// The default config file, if the row writes one.
        file: Option<&'static str>,
        /// Environment variables; `{dir}` in a value stands for the jail's directory.
        env: &'static [(&'static str, &'static str)],
        /// What the error must contain; `{file}` stands for the config file's path.
        says: &'static [&'static str],
        /// What it must not contain (secrets, credentials, line breaks).
        hides: &'static [&'static str],
    }

    /// A row refusing what the environment sets.
    fn env(
        name: &'static str,
        env: &'static [(&'static str, &'static str)],
        says: &'static [&'static str],
    ) -> Refusal {
        Refusal {
            name,
            file: None,
            env,
            says,
            hides: &[],
        }
    }

    /// A row refusing what the default config file says.
    fn file(name: &'static str, toml: &'static str, says: &'static [&'static str]) -> Refusal {
        Refusal {
            file: Some(toml),
            ..env(name, &[], says)
        }
    }

    impl Refusal {
        /// The same row, whose error must also not contain any of `hides`.
        fn hiding(self, hides: &'static [&'static str]) -> Self {
            Self { hides, ..self }
        }

        /// Loads the row's setup in a jail of its own; `Err` says what went wrong, with the row's name.
        fn check(&self) -> Result<(), String> {
            Jail::try_with(|jail| -> R {
                home(jail);
                let path = self.file.map(|toml| default_file(jail, toml));
                let dir = jail.directory().display().to_string();
                for (key, value) in self.env {
                    jail.set_env(key, value.replace("{dir}", &dir));
                }
                let shown = path.map(|p| p.display().to_string()).unwrap_or_default();
                let e = match load(None, &none()) {
                    Ok(_) => return Err("accepted".into()),
                    Err(e) => e.to_string(),
                };
                let missing: Vec<String> = self
                    .says
                    .iter()
                    .map(|s| s.replace("{file}", &shown))
                    .filter(|s| !e.contains(s.as_str()))
                    .collect();
                let shows: Vec<&&str> = self.hides.iter().filter(|h| e.contains(**h)).collect();
                if missing.is_empty() && shows.is_empty() {
                    Ok(())
                } else {
                    Err(format!("lacks {missing:?}, shows {shows:?}: {e}").into())
                }
            })
            .map_err(|e| format!("{}: {e}", self.name))
        }
    }

    /// Every refused setting, each row on its own.
    fn refusals() -> Vec<Refusal> {
        vec![
            env("call timeout zero", &[("OPNSENSE_CALL_TIMEOUT", "0")], &["OPNSENSE_CALL_TIMEOUT", "greater than 0"]),
            env("call timeout not a number", &[("OPNSENSE_CALL_TIMEOUT", "forever")], &["OPNSENSE_CALL_TIMEOUT"]),
            env("call timeout over a day", &[("OPNSENSE_CALL_TIMEOUT", "100000")], &["OPNSENSE_CALL_TIMEOUT", "at most 86400"]),
            env("response cap negative", &[("OPNSENSE_MAX_RESPONSE_BYTES", "-1")], &["OPNSENSE_MAX_RESPONSE_BYTES"]),
            env("response cap with a unit", &[("OPNSENSE_MAX_RESPONSE_BYTES", "64MiB")], &["OPNSENSE_MAX_RESPONSE_BYTES"]),
            env("response cap too small", &[("OPNSENSE_MAX_RESPONSE_BYTES", "100")], &["OPNSENSE_MAX_RESPONSE_BYTES", "at least 1024"]),
            file("response cap as a string", "max_response_bytes = \"1\"\n", &["max_response_bytes", "{file}"]),
            file("call timeout negative in the file", "call_timeout = -3\n", &["call_timeout", "{file}"]),
            env("read timeout zero", &[("OPNSENSE_READ_TIMEOUT", "0")], &["OPNSENSE_READ_TIMEOUT"]),
            env("read timeout negative", &[("OPNSENSE_READ_TIMEOUT", "-1")], &["OPNSENSE_READ_TIMEOUT"]),
            env("read timeout NaN", &[("OPNSENSE_READ_TIMEOUT", "NaN")], &["OPNSENSE_READ_TIMEOUT"]),
            env("connect timeout infinite", &[("OPNSENSE_CONNECT_TIMEOUT", "inf")], &["OPNSENSE_CONNECT_TIMEOUT"]),
            env("connect timeout a word", &[("OPNSENSE_CONNECT_TIMEOUT", "soon")], &["OPNSENSE_CONNECT_TIMEOUT"]),
            env("idle timeout zero", &[("OPNSENSE_HTTP_IDLE_TIMEOUT", "0")], &["OPNSENSE_HTTP_IDLE_TIMEOUT"]),
            file("read timeout nan in the file", "read_timeout = nan\n", &["read_timeout", "{file}"]),
            file("connect timeout negative in the file", "connect_timeout = -2.0\n", &["greater than 0"]),
            env("no sessions", &[("OPNSENSE_HTTP_MAX_SESSIONS", "0")], &["http_max_sessions"]),
            env("body cap too small", &[("OPNSENSE_HTTP_MAX_BODY", "10")], &["http_max_body"]),
            env("port out of range", &[("OPNSENSE_HTTP_PORT", "70000")], &["OPNSENSE_HTTP_PORT"]),
            env("missing CA file", &[("OPNSENSE_CA_FILE", "{dir}/no-ca.pem")], &["no-ca.pem", "OPNSENSE_CA_FILE"]),
            file("unknown key in the file", "url = \"https://fw\"\nverify_tsl = false\n", &["unknown key `verify_tsl`", "{file}"]).hiding(&["\n"]),
            env("unknown environment variable", &[("OPNSENSE_API_SCRET", "x")], &["api_scret", "OPNSENSE_API_SCRET"]),
            file("verify_tls as a string", "verify_tls = \"false\"\n", &["verify_tls", "expected a boolean", "{file}"]),
            env("verify_tls not a boolean", &[("OPNSENSE_VERIFY_TLS", "nope")], &["verify_tls", "OPNSENSE_VERIFY_TLS"]),
            file("unknown transport in the file", "transport = \"sse\"\n", &["transport", "sse", "{file}"]),
            env("unknown transport in the environment", &[("OPNSENSE_TRANSPORT", "sse")], &["OPNSENSE_TRANSPORT"]),
            file("plain http url", "url = \"http://user:pw@fw.example\"\n", &["https://", "{file}"]).hiding(&["pw@"]),
            env("ftp url", &[("OPNSENSE_URL", "ftp://fw")], &["OPNSENSE_URL"]),
            env("non-loopback http without a token", &[("OPNSENSE_TRANSPORT", "http"), ("OPNSENSE_HTTP_HOST", "0.0.0.0")], &["0.0.0.0", "OPNSENSE_HTTP_TOKEN"]),
            env("short token", &[("OPNSENSE_TRANSPORT", "http"), ("OPNSENSE_HTTP_HOST", "0.0.0.0"), ("OPNSENSE_HTTP_TOKEN", "short")], &["at least 16"]),
            env("http host a name", &[("OPNSENSE_TRANSPORT", "http"), ("OPNSENSE_HTTP_HOST", "fw.example")], &["must be an IP address"]),
            env("confirm timeout too short", &[("OPNSENSE_CONFIRM_TIMEOUT", "5")], &["OPNSENSE_CONFIRM_TIMEOUT", "at least 10 seconds"]),
            env("confirm timeout zero", &[("OPNSENSE_CONFIRM_TIMEOUT", "0")], &["OPNSENSE_CONFIRM_TIMEOUT", "greater than 0"]),
            env("protect without an arrow", &[("OPNSENSE_PROTECT", "10.0.0.0/24 22")], &["OPNSENSE_PROTECT", "expected <source> ->"]),
            env("protect port out of range", &[("OPNSENSE_PROTECT", "any -> 70000")], &["OPNSENSE_PROTECT"]),
            env("allow pattern with a class", &[("OPNSENSE_TOOLS_ALLOW", "firewall_[a-z]")], &["OPNSENSE_TOOLS_ALLOW", "tool name pattern"]),
            env("deny pattern in capitals", &[("OPNSENSE_TOOLS_DENY", "Service_Stop")], &["OPNSENSE_TOOLS_DENY", "lower-case"]),
            env("unknown toolset", &[("OPNSENSE_TOOLSETS", "dns,firewal")], &["OPNSENSE_TOOLSETS", "\"firewal\" is not a toolset"]),
            env("state url of another database", &[("OPNSENSE_STATE_URL", "mysql://u:hunter2-pw@db/x")], &["OPNSENSE_STATE_URL", "postgres://"]).hiding(&["hunter2-pw"]),
            env("state url and state dir", &[("OPNSENSE_STATE_URL", "sqlite:///tmp/x.sqlite"), ("OPNSENSE_STATE_DIR", "/tmp/state")], &["state_dir", "not both"]),
            env("default target that is not there", &[("OPNSENSE_URL", "https://fw.example"), ("OPNSENSE_DEFAULT_TARGET", "office")], &["default_target", "OPNSENSE_DEFAULT_TARGET", "`office`"]),
            file("unknown key in a target", "[targets.office]\nurl = \"https://o\"\napi_key = \"k\"\napi_secret = \"s\"\nverfy_tls = false\n", &["target `office`", "unknown key `verfy_tls`", "{file}"]),
            file("target without a secret", "[targets.office]\nurl = \"https://o\"\napi_key = \"k\"\n", &["target `office`", "api_secret is not set"]),
            file("target with a plain http url", "[targets.office]\nurl = \"http://o\"\napi_key = \"k\"\napi_secret = \"hidden-secret-1\"\n", &["target `office`", "url", "https://"]).hiding(&["hidden-secret-1"]),
            file("target confirm timeout too short", "[targets.office]\nurl = \"https://o\"\napi_key = \"k\"\napi_secret = \"s\"\nconfirm_timeout = 3\n", &["target `office`", "confirm_timeout", "[targets.office]"]),
            file("target read_only as a string", "[targets.office]\nurl = \"https://o\"\napi_key = \"k\"\napi_secret = \"s\"\nread_only = \"yes\"\n", &["target `office`", "read_only"]),
            file("target name in capitals", "[targets.Office]\nurl = \"https://o\"\napi_key = \"k\"\napi_secret = \"s\"\n", &["target `Office`"]),
            file("two default targets", "url = \"https://top\"\n[targets.default]\nurl = \"https://o\"\napi_key = \"k\"\napi_secret = \"s\"\n", &["both define the target `default`"]),
        ]
    }

    #[test]
    fn refused_settings_name_their_key_and_source() {
        let rows = refusals();
        let failures: Vec<String> = rows.iter().filter_map(|r| r.check().err()).collect();
        assert!(
            failures.is_empty(),
            "{} of {} rows failed:\n{}",
            failures.len(),
            rows.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn a_refusal_row_can_fail() {
        let wrong = env("accepted", &[("OPNSENSE_HTTP_PORT", "8001")], &["anything"]);
        let e = wrong.check().expect_err("a valid setting is no refusal");
        assert!(e.starts_with("accepted: "), "{e}");
        let says_too_little = env(
            "says",
            &[("OPNSENSE_HTTP_PORT", "70000")],
            &["no such text"],
        );
        assert!(says_too_little.check().is_err());
        let shows =
            env("shows", &[("OPNSENSE_HTTP_PORT", "70000")], &[]).hiding(&["OPNSENSE_HTTP_PORT"]);
        assert!(shows.check().is_err());
    }

    #[test]
    fn defaults_without_file_or_environment() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            let c = ok(None, &none())?;
            assert_eq!(c.url, None);
            assert_eq!(c.api_key, None);
            assert_eq!(c.api_secret, None);
            assert!(c.verify_tls);
            assert_eq!(c.transport, Transport::Stdio);
            assert_eq!(c.http.host.to_string(), "127.0.0.1");
            assert_eq!(c.http.port, 8000);
            assert_eq!(c.http.token, None);
            assert!(c.http.allowed_hosts.is_empty());
            assert_eq!(c.http.max_sessions, 1000);
            assert_eq!(c.http.idle_timeout, Duration::from_secs(300));
            assert_eq!(c.http.max_body, 1 << 20);
            assert_eq!(c.connect_timeout, Duration::from_secs(10));
            assert_eq!(c.read_timeout, Duration::from_secs(60));
            assert_eq!(c.call_timeout, Duration::from_secs(300));
            assert_eq!(c.max_response_bytes, 64 << 20);
            assert!(!c.allow_secrets);
            assert!(!c.output_schemas);
            assert!(!c.read_only);
            Ok(())
        });
    }

    #[test]
    fn call_timeout_and_max_response_bytes_from_file_and_environment() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            default_file(
                jail,
                "call_timeout = 42.5
max_response_bytes = 2048
",
            );
            let c = ok(None, &none())?;
            assert_eq!(c.call_timeout, Duration::from_millis(42_500));
            assert_eq!(c.max_response_bytes, 2048);
            jail.set_env("OPNSENSE_CALL_TIMEOUT", "7");
            jail.set_env("OPNSENSE_MAX_RESPONSE_BYTES", "1048576");
            let c = ok(None, &none())?;
            assert_eq!(c.call_timeout, Duration::from_secs(7), "env beats the file");
            assert_eq!(c.max_response_bytes, 1 << 20);
            // The client accepts them (url, key and secret set).
            jail.set_env("OPNSENSE_URL", "https://fw.example");
            jail.set_env("OPNSENSE_API_KEY", "k");
            jail.set_env("OPNSENSE_API_SECRET", "s");
            ok(None, &none())?.client().map_err(|e| e.to_string())?;
            Ok(())
        });
    }

    #[test]
    fn file_overrides_defaults() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            default_file(
                jail,
                "url = \"https://fw.file\"\nhttp_port = 8123\nverify_tls = false\nread_timeout = 2.5\n",
            );
            let c = ok(None, &none())?;
            assert_eq!(c.url.as_deref(), Some("https://fw.file"));
            assert_eq!(c.http.port, 8123);
            assert!(!c.verify_tls);
            assert_eq!(c.read_timeout, Duration::from_millis(2500));
            assert_eq!(c.connect_timeout, Duration::from_secs(10), "default kept");
            Ok(())
        });
    }

    #[test]
    fn environment_overrides_file() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            default_file(
                jail,
                "url = \"https://fw.file\"\nhttp_port = 8123\nread_only = false\n",
            );
            jail.set_env("OPNSENSE_URL", "https://fw.env");
            jail.set_env("OPNSENSE_HTTP_PORT", "9000");
            jail.set_env("OPNSENSE_READ_ONLY", "true");
            jail.set_env("OPNSENSE_HTTP_MAX_SESSIONS", "3");
            jail.set_env("OPNSENSE_HTTP_IDLE_TIMEOUT", "12");
            jail.set_env("OPNSENSE_HTTP_MAX_BODY", "4096");
            jail.set_env(
                "OPNSENSE_HTTP_ALLOWED_HOSTS",
                "fw.example, mcp.example:8443,",
            );
            jail.set_env("OPNSENSE_ALLOW_SECRETS", "true");
            jail.set_env("OPNSENSE_OUTPUT_SCHEMAS", "true");
            jail.set_env("OPNSENSE_CONNECT_TIMEOUT", "0.5");
            let c = ok(None, &none())?;
            assert_eq!(c.url.as_deref(), Some("https://fw.env"));
            assert_eq!(c.http.port, 9000);
            assert!(c.read_only);
            assert!(c.allow_secrets);
            assert!(c.output_schemas);
            assert_eq!(c.http.max_sessions, 3);
            assert_eq!(c.http.idle_timeout, Duration::from_secs(12));
            assert_eq!(c.http.max_body, 4096);
            assert_eq!(c.http.allowed_hosts, ["fw.example", "mcp.example:8443"]);
            assert_eq!(c.connect_timeout, Duration::from_millis(500));
            Ok(())
        });
    }

    #[test]
    fn flags_override_environment_and_file() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            default_file(
                jail,
                "url = \"https://fw.file\"\ntransport = \"stdio\"\nhttp_port = 1\n",
            );
            jail.set_env("OPNSENSE_URL", "https://fw.env");
            jail.set_env("OPNSENSE_HTTP_PORT", "2");
            jail.set_env("OPNSENSE_TRANSPORT", "stdio");
            let flags = Overrides {
                url: Some("https://fw.flag".into()),
                transport: Some(Transport::Http),
                http_port: Some(3),
                read_only: Some(true),
                ..Overrides::default()
            };
            let c = ok(None, &flags)?;
            assert_eq!(c.url.as_deref(), Some("https://fw.flag"));
            assert_eq!(c.transport, Transport::Http);
            assert_eq!(c.http.port, 3);
            assert!(c.read_only);
            Ok(())
        });
    }

    #[test]
    fn xdg_config_home_is_honoured() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            default_file(jail, "url = \"https://fw.home\"\n");
            let xdg = jail.create_dir("xdg/opnsense-mcp")?;
            std::fs::write(xdg.join("config.toml"), "url = \"https://fw.xdg\"\n")
                .map_err(|e| e.to_string())?;
            jail.set_env("XDG_CONFIG_HOME", jail.directory().join("xdg").display());
            assert_eq!(
                default_config_path(),
                Some(jail.directory().join("xdg/opnsense-mcp/config.toml"))
            );
            let c = ok(None, &none())?;
            assert_eq!(c.url.as_deref(), Some("https://fw.xdg"));
            // Empty XDG_CONFIG_HOME falls back to ~/.config.
            jail.set_env("XDG_CONFIG_HOME", "");
            let c = ok(None, &none())?;
            assert_eq!(c.url.as_deref(), Some("https://fw.home"));
            Ok(())
        });
    }

    #[test]
    fn explicit_config_replaces_the_default_file() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            default_file(jail, "url = \"https://fw.home\"\nhttp_port = 7\n");
            jail.create_file("other.toml", "url = \"https://fw.other\"\n")?;
            let c = ok(Some(&jail.directory().join("other.toml")), &none())?;
            assert_eq!(c.url.as_deref(), Some("https://fw.other"));
            assert_eq!(c.http.port, 8000, "the default file is not read");
            Ok(())
        });
    }

    #[test]
    fn explicit_config_must_exist() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            let missing = jail.directory().join("nope.toml");
            let e = err(Some(&missing), &none());
            assert!(
                e.contains("nope.toml") && e.contains("does not exist"),
                "{e}"
            );
            Ok(())
        });
    }

    #[test]
    fn opnsense_config_is_not_a_key() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            jail.set_env("OPNSENSE_CONFIG", "/somewhere.toml");
            ok(None, &none())?;
            Ok(())
        });
    }

    #[test]
    fn verify_tls_from_environment_is_a_boolean() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            jail.set_env("OPNSENSE_VERIFY_TLS", "false");
            assert!(!ok(None, &none())?.verify_tls);
            Ok(())
        });
    }

    #[test]
    fn http_transport_from_environment() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            jail.set_env("OPNSENSE_TRANSPORT", "http");
            assert_eq!(ok(None, &none())?.transport, Transport::Http);
            Ok(())
        });
    }

    #[test]
    fn empty_environment_variable_does_not_override_the_file() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            default_file(
                jail,
                "url = \"https://fw.file\"\napi_key = \"k\"\nhttp_port = 8123\n",
            );
            jail.set_env("OPNSENSE_URL", "");
            jail.set_env("OPNSENSE_API_KEY", "   ");
            jail.set_env("OPNSENSE_HTTP_PORT", "");
            let c = ok(None, &none())?;
            assert_eq!(c.url.as_deref(), Some("https://fw.file"));
            assert_eq!(c.api_key.as_deref(), Some("k"));
            assert_eq!(c.http.port, 8123);
            Ok(())
        });
    }

    #[test]
    fn numeric_looking_environment_secrets_stay_text() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            for secret in ["0123", "1.50", "1e3", "true", "12345678901234567890123"] {
                jail.set_env("OPNSENSE_API_SECRET", secret);
                jail.set_env("OPNSENSE_API_KEY", "007");
                let c = ok(None, &none())?;
                assert_eq!(c.api_secret.as_deref(), Some(secret));
                assert_eq!(c.api_key.as_deref(), Some("007"));
            }
            Ok(())
        });
    }

    #[test]
    fn api_secret_file_is_read_without_trailing_newline() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            jail.create_file("secret", "s3cr3t with spaces \r\n")?;
            let path = jail.directory().join("secret");
            jail.set_env("OPNSENSE_API_SECRET_FILE", path.display());
            let c = ok(None, &none())?;
            assert_eq!(c.api_secret.as_deref(), Some("s3cr3t with spaces "));
            Ok(())
        });
    }

    #[test]
    fn api_secret_file_problems() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            jail.create_file("secret", "s3cr3t\n")?;
            jail.create_file("empty", "\n")?;
            jail.set_env(
                "OPNSENSE_API_SECRET_FILE",
                jail.directory().join("secret").display(),
            );
            jail.set_env("OPNSENSE_API_SECRET", "inline");
            let e = err(None, &none());
            assert!(e.contains("not both"), "{e}");
            assert!(
                !e.contains("inline") && !e.contains("s3cr3t"),
                "no secret: {e}"
            );
            jail.set_env("OPNSENSE_API_SECRET", "");
            jail.set_env(
                "OPNSENSE_API_SECRET_FILE",
                jail.directory().join("empty").display(),
            );
            assert!(err(None, &none()).contains("is empty"));
            jail.set_env(
                "OPNSENSE_API_SECRET_FILE",
                jail.directory().join("missing").display(),
            );
            let e = err(None, &none());
            assert!(
                e.contains("cannot read") && e.contains("OPNSENSE_API_SECRET_FILE"),
                "{e}"
            );
            Ok(())
        });
    }

    #[test]
    fn non_loopback_http_with_a_token() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            jail.set_env("OPNSENSE_TRANSPORT", "http");
            jail.set_env("OPNSENSE_HTTP_HOST", "0.0.0.0");
            jail.set_env("OPNSENSE_HTTP_TOKEN", "0123456789abcdef0123");
            let c = ok(None, &none())?;
            assert_eq!(c.http.token.as_deref(), Some("0123456789abcdef0123"));
            // Loopback needs none; a flag can bring it back to loopback.
            jail.set_env("OPNSENSE_HTTP_TOKEN", "");
            let flags = Overrides {
                http_host: Some("::1".into()),
                ..Overrides::default()
            };
            assert!(ok(None, &flags)?.http.host.is_loopback());
            Ok(())
        });
    }

    #[test]
    fn url_is_trimmed_and_flags_are_checked_too() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            jail.set_env("OPNSENSE_URL", " HTTPS://fw.example/ ");
            assert_eq!(
                ok(None, &none())?.url.as_deref(),
                Some("HTTPS://fw.example/")
            );
            let flags = Overrides {
                url: Some("http://fw".into()),
                ..Overrides::default()
            };
            assert!(err(None, &flags).contains("command-line flag"));
            Ok(())
        });
    }

    #[test]
    fn debug_output_hides_secrets() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            jail.set_env("OPNSENSE_API_KEY", "the-key-value");
            jail.set_env("OPNSENSE_API_SECRET", "the-secret-value");
            let shown = format!("{:?}", ok(None, &none())?);
            assert!(!shown.contains("the-key-value") && !shown.contains("the-secret-value"));
            Ok(())
        });
    }

    #[test]
    fn client_needs_url_key_and_secret() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            let c = ok(None, &none())?;
            let e = c.client().expect_err("no url").to_string();
            assert!(e.contains("OPNSENSE_URL"), "{e}");
            jail.set_env("OPNSENSE_URL", "https://fw.example");
            jail.set_env("OPNSENSE_API_KEY", "k");
            let e = ok(None, &none())?
                .client()
                .expect_err("no secret")
                .to_string();
            assert!(e.contains("OPNSENSE_API_SECRET"), "{e}");
            jail.set_env("OPNSENSE_API_SECRET", "s");
            ok(None, &none())?.client().map_err(|e| e.to_string())?;
            Ok(())
        });
    }

    #[test]
    fn change_settings_from_file_and_environment() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            let c = ok(None, &none())?;
            let default_dir = jail.directory().join(".local/state/opnsense-mcp");
            assert_eq!(
                c.state,
                StateStore::Dir(default_dir),
                "the XDG default under HOME"
            );
            assert_eq!(c.confirm_timeout, Duration::from_secs(60));
            assert!(c.protect.is_empty() && c.tools_allow.is_empty() && c.tools_deny.is_empty());
            default_file(
                jail,
                "state_dir = \"/var/lib/opnsense-mcp\"
confirm_timeout = 120
protect = [\"10.0.0.0/24 -> 22/tcp\", \"any -> 443\"]
tools_allow = [\"firewall_*\", \"change_*\"]
tools_deny = \"*_delete, service_stop\"
",
            );
            let c = ok(None, &none())?;
            assert_eq!(c.state, StateStore::Dir("/var/lib/opnsense-mcp".into()));
            assert_eq!(c.confirm_timeout, Duration::from_secs(120));
            assert_eq!(c.protect.len(), 2);
            assert_eq!(c.tools_allow, ["firewall_*", "change_*"]);
            assert_eq!(c.tools_deny, ["*_delete", "service_stop"]);
            jail.set_env("OPNSENSE_PROTECT", "192.168.1.5 -> https");
            jail.set_env("OPNSENSE_TOOLS_DENY", "service_*");
            let c = ok(None, &none())?;
            assert_eq!(
                c.protect.len(),
                1,
                "the environment replaces the file's list"
            );
            assert_eq!(c.tools_deny, ["service_*"]);
            assert!(c.toolsets.is_empty(), "every toolset by default");
            jail.set_env("OPNSENSE_TOOLSETS", "dns, nat,DNS");
            let c = ok(None, &none())?;
            assert_eq!(c.toolsets, [Toolset::Dns, Toolset::Nat]);
            jail.set_env("OPNSENSE_TOOLSETS", "all");
            assert!(ok(None, &none())?.toolsets.is_empty());
            Ok(())
        });
    }

    #[test]
    fn state_url_is_never_shown_with_its_password() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            jail.set_env(
                "OPNSENSE_STATE_URL",
                "postgres://mcp:hunter2-pw@127.0.0.1/mcp",
            );
            let c = ok(None, &none())?;
            assert_eq!(
                c.state,
                StateStore::Url("postgres://mcp:hunter2-pw@127.0.0.1/mcp".into())
            );
            assert!(!format!("{c:?}").contains("hunter2-pw"), "{c:?}");
            Ok(())
        });
    }

    #[test]
    fn targets_from_the_file_with_the_environment_setup_as_default() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            jail.create_file("office-secret", "office-s3cret\n")?;
            let secret_file = jail.directory().join("office-secret");
            default_file(
                jail,
                &format!(
                    "confirm_timeout = 90
tools_deny = [\"service_stop\"]
state_dir = \"/var/lib/mcp\"
default_target = \"office\"

[targets.office]
url = \"https://office.example\"
api_key = \"ok\"
api_secret_file = \"{}\"
read_timeout = 5

[targets.branch-2]
url = \"https://10.2.0.1:8443\"
api_key = \"bk\"
api_secret = \"bs\"
read_only = true
tools_deny = [\"*_delete\"]
",
                    secret_file.display()
                ),
            );
            jail.set_env("OPNSENSE_URL", "https://home.example");
            jail.set_env("OPNSENSE_API_KEY", "hk");
            jail.set_env("OPNSENSE_API_SECRET", "hs");
            let c = ok(None, &none())?;
            assert_eq!(c.default_target, "office");
            let fleet = c.fleet();
            let names: Vec<&str> = fleet.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["branch-2", "default", "office"]);
            let (_, office) = &fleet[2];
            assert_eq!(office.url.as_deref(), Some("https://office.example"));
            assert_eq!(office.api_secret.as_deref(), Some("office-s3cret"));
            assert_eq!(office.read_timeout, Duration::from_secs(5));
            assert_eq!(office.confirm_timeout, Duration::from_secs(90), "inherited");
            assert!(!office.read_only);
            assert_eq!(office.state, StateStore::Dir("/var/lib/mcp/office".into()));
            let (_, branch) = &fleet[0];
            assert!(branch.read_only);
            assert_eq!(branch.tools_deny, ["service_stop", "*_delete"], "added to");
            let (_, home) = &fleet[1];
            assert_eq!(home.url.as_deref(), Some("https://home.example"));
            assert_eq!(
                home.state,
                StateStore::Dir("/var/lib/mcp".into()),
                "the default target keeps today's journal location"
            );
            // --read-only makes every target read-only.
            let flags = Overrides {
                read_only: Some(true),
                ..Overrides::default()
            };
            assert!(ok(None, &flags)?.fleet().iter().all(|(_, t)| t.read_only));
            // The secret is in no Debug output.
            let shown = format!("{c:?}");
            assert!(
                !shown.contains("office-s3cret") && !shown.contains("\"bs\""),
                "{shown}"
            );
            Ok(())
        });
    }

    #[test]
    fn the_environment_only_setup_is_the_target_default() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            jail.set_env("OPNSENSE_URL", "https://fw.example");
            let c = ok(None, &none())?;
            assert_eq!(c.default_target, "default");
            let fleet = c.fleet();
            assert_eq!(fleet.len(), 1);
            assert_eq!(fleet[0].0, "default");
            assert_eq!(fleet[0].1.url.as_deref(), Some("https://fw.example"));
            Ok(())
        });
    }

    #[test]
    fn several_named_targets_need_an_existing_default() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            let two = "[targets.a]\nurl = \"https://a.example\"\napi_key = \"k\"\napi_secret = \"s\"\n\
                       [targets.b]\nurl = \"https://b.example\"\napi_key = \"k\"\napi_secret = \"s\"\n";
            default_file(jail, two);
            let e = err(None, &none());
            assert!(
                e.contains("default_target is not set") && e.contains("a, b"),
                "{e}"
            );
            let path = default_file(jail, &format!("default_target = \"c\"\n{two}"));
            let e = err(None, &none());
            assert!(
                e.contains("default_target")
                    && e.contains("`c`")
                    && e.contains(&path.display().to_string())
                    && e.contains("a, b"),
                "{e}"
            );
            default_file(jail, &format!("default_target = \"b\"\n{two}"));
            let c = ok(None, &none())?;
            assert_eq!(c.default_target, "b");
            assert_eq!(c.fleet().len(), 2, "no `default` without a top-level url");
            // One named target is its own default.
            default_file(
                jail,
                "[targets.a]\nurl = \"https://a.example\"\napi_key = \"k\"\napi_secret = \"s\"\n",
            );
            assert_eq!(ok(None, &none())?.default_target, "a");
            Ok(())
        });
    }

    #[test]
    fn http_tokens_file_is_read_and_checked() {
        Jail::expect_with(|jail| -> R {
            home(jail);
            let hash = "a".repeat(64);
            jail.create_file("tokens", &format!("# clients\nci {hash} read\n"))?;
            jail.set_env(
                "OPNSENSE_HTTP_TOKENS_FILE",
                jail.directory().join("tokens").display(),
            );
            jail.set_env("OPNSENSE_TRANSPORT", "http");
            jail.set_env("OPNSENSE_HTTP_HOST", "0.0.0.0");
            let c = ok(None, &none())?;
            assert_eq!(
                c.http.tokens.len(),
                1,
                "a tokens file satisfies the non-loopback rule"
            );
            assert_eq!(c.http.tokens[0].name, "ci");
            jail.create_file("tokens", &format!("ci {hash} admin\n"))?;
            let e = err(None, &none());
            assert!(
                e.contains("OPNSENSE_HTTP_TOKENS_FILE")
                    && e.contains("line 1")
                    && e.contains("scope"),
                "{e}"
            );
            assert!(!e.contains(&hash), "{e}");
            Ok(())
        });
    }
}

//! Unbound DNS: resolver settings, host overrides and query forwards (list, add, update,
//! delete), apply (one apply for both: `unbound/service/reconfigure`).

use std::net::IpAddr;

use crate::params::Parameters;
use opnsense_api::api::unbound::{FORWARDS, HOST_OVERRIDES, settings_request};
use opnsense_api::fields::selected_string;
use opnsense_api::models::unbound::{Forward, HostOverride, RecordType};
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::OpnsenseTools;
use crate::common::{
    ListParams, Listing, RawParams, RequiredFields, Rows, Strict, excerpt, non_empty_line,
    single_line,
};
use crate::error::ToolError;
use crate::record::{RecordSpec, record_tools};

/// A host override's fields. On update, only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Host label (`nas`), `*` (wildcard) or empty (the domain itself).
    pub hostname: Option<String>,
    /// Domain (`example.lan`), no trailing dot.
    pub domain: Option<String>,
    /// `A` (default), `AAAA`, `MX` or `TXT`.
    pub rr: Option<Strict<RecordType>>,
    /// Address answered (A: IPv4, AAAA: IPv6); required for A and AAAA.
    pub server: Option<String>,
    /// Mail server host name; required for MX.
    pub mx: Option<String>,
    /// MX priority, lower first; required for MX.
    pub mxprio: Option<u16>,
    /// Text, 1 to 255 characters; required for TXT.
    pub txtdata: Option<String>,
    /// TTL in seconds (default: Unbound's).
    #[schemars(range(max = 2_147_483_647))]
    pub ttl: Option<u32>,
    /// Purpose, one line, 1 to 255 characters.
    pub description: Option<String>,
    /// Active (default true).
    pub enabled: Option<bool>,
}

impl RequiredFields for HostSpec {
    const ARGUMENT: &'static str = "host";
    const REQUIRED: &'static [&'static str] = &["domain"];
}

/// Checks a DNS name: dot-separated labels of letters, digits, `-` and `_` (plus `*` where a
/// wildcard is allowed), at most 253 characters, no trailing dot.
fn check_name(field: &str, s: &str, wildcard: bool) -> Result<(), ToolError> {
    let label_ok = |l: &str| {
        (wildcard && l == "*")
            || ((1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !l.starts_with('-')
                && !l.ends_with('-'))
    };
    check_labels(
        field,
        s,
        label_ok,
        "is not a valid DNS name (labels of letters, digits and -, separated by dots, no trailing dot)",
    )
}

/// Checks a domain against OPNsense's mask for Unbound host overrides
/// (`/^(?:(?:[a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])\.)*(?:[a-z0-9]|[a-z0-9][a-z0-9\-]*[a-z0-9])$/i`
/// in Unbound.xml at 26.1.11 and 26.7.2): labels of letters and digits with hyphens inside,
/// separated by dots; no underscore, no wildcard, no trailing dot.
fn check_domain(field: &str, s: &str) -> Result<(), ToolError> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    check_labels(
        field,
        s,
        label_ok,
        "is not a domain OPNsense accepts: labels of letters, digits and inner hyphens separated by dots (no underscore, no wildcard, no trailing dot)",
    )
}

/// Accepts `s` when it is at most 253 characters of dot-separated labels that each pass
/// `label_ok`; else refuses `field` with `s` (excerpted) and `refusal`.
fn check_labels(
    field: &str,
    s: &str,
    label_ok: impl Fn(&str) -> bool,
    refusal: &str,
) -> Result<(), ToolError> {
    if s.len() <= 253 && s.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(ToolError::invalid(
            field,
            format!("{:?} {refusal}", excerpt(s)),
        ))
    }
}

fn required_for(field: &str, rr: &RecordType) -> ToolError {
    ToolError::invalid(format!("host.{field}"), format!("is required for rr {rr}"))
}

impl RecordSpec for HostSpec {
    type Model = HostOverride;
    type Row = HostOverride;
    const GRID: &'static opnsense_api::GridSpec<HostOverride> = &HOST_OVERRIDES;
    const APPLY: &'static str = "dns_apply";
    const LIST: &'static str = "dns_host_override_list";

    /// A new override needs the value its record type carries.
    fn check_new(&self) -> Result<(), ToolError> {
        let kind = self.rr.clone().map_or(RecordType::A, |r| r.0);
        match kind {
            RecordType::A | RecordType::Aaaa if self.server.is_none() => {
                Err(required_for("server", &kind))
            }
            RecordType::Mx if self.mx.is_none() => Err(required_for("mx", &kind)),
            RecordType::Mx if self.mxprio.is_none() => Err(required_for("mxprio", &kind)),
            RecordType::Txt if self.txtdata.is_none() => Err(required_for("txtdata", &kind)),
            _ => Ok(()),
        }
    }

    fn from_model(h: &HostOverride) -> Self {
        Self {
            hostname: h.hostname.clone(),
            domain: h.domain.clone(),
            rr: h.rr.clone().map(Strict),
            server: h.server.clone(),
            mx: h.mx.clone(),
            mxprio: h.mxprio.as_deref().and_then(|p| p.trim().parse().ok()),
            txtdata: h.txtdata.clone(),
            ttl: h.ttl.as_deref().and_then(|t| t.trim().parse().ok()),
            description: h.description.clone(),
            enabled: h.enabled,
        }
    }

    /// Checks the fields and builds the SDK model (only the fields given).
    fn into_model(self) -> Result<HostOverride, ToolError> {
        let hostname = single_line("host.hostname", self.hostname, 253)?;
        if let Some(h) = hostname.as_deref().filter(|h| !h.is_empty()) {
            if h.parse::<IpAddr>().is_ok() {
                return Err(ToolError::invalid(
                    "host.hostname",
                    "must be a host label, not an IP address (put the address in server)",
                ));
            }
            check_name("host.hostname", h, true)?;
        }
        let domain = single_line("host.domain", self.domain, 253)?;
        if let Some(d) = &domain {
            if d.is_empty() {
                return Err(ToolError::invalid("host.domain", "must not be empty"));
            }
            check_domain("host.domain", d)?;
        }
        let rr = self.rr.map(|r| r.0);
        let server = single_line("host.server", self.server, 64)?;
        if let Some(s) = &server {
            let ip: IpAddr = s.parse().map_err(|_| {
                ToolError::invalid(
                    "host.server",
                    format!("{:?} is not an IP address", excerpt(s)),
                )
            })?;
            match rr {
                Some(RecordType::A) if !ip.is_ipv4() => {
                    return Err(ToolError::invalid(
                        "host.server",
                        "must be an IPv4 address for rr A",
                    ));
                }
                Some(RecordType::Aaaa) if !ip.is_ipv6() => {
                    return Err(ToolError::invalid(
                        "host.server",
                        "must be an IPv6 address for rr AAAA",
                    ));
                }
                _ => {}
            }
        }
        let mx = single_line("host.mx", self.mx, 253)?;
        if let Some(m) = &mx {
            check_name("host.mx", m, false)?;
        }
        let txtdata = non_empty_line("host.txtdata", self.txtdata, 255)?;
        let description = non_empty_line("host.description", self.description, 255)?;
        if self.ttl.is_some_and(|t| t > 2_147_483_647) {
            return Err(ToolError::invalid("host.ttl", "must be at most 2147483647"));
        }
        Ok(HostOverride {
            enabled: self.enabled,
            hostname,
            domain,
            rr,
            server,
            mxprio: self.mxprio.map(|p| p.to_string()),
            mx,
            txtdata,
            ttl: self.ttl.map(|t| t.to_string()),
            description,
            ..HostOverride::default()
        })
    }
}

/// A query forward's fields ("Query Forwarding" in the GUI: queries for `domain` go to
/// `server`). On update, only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardSpec {
    /// Domain whose queries are forwarded (`corp.example.com`), no trailing dot; empty: every
    /// query.
    pub domain: Option<String>,
    /// Address of the DNS server to forward to.
    pub server: Option<String>,
    /// Its port (default 53).
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u16>,
    /// Forward over TCP.
    pub forward_tcp_upstream: Option<bool>,
    /// If the server fails, resolve through the root servers.
    pub forward_first: Option<bool>,
    /// Purpose, one line, at most 255 characters.
    pub description: Option<String>,
    /// Active (default true).
    pub enabled: Option<bool>,
}

impl RequiredFields for ForwardSpec {
    const ARGUMENT: &'static str = "forward";
    const REQUIRED: &'static [&'static str] = &["server"];
}

impl RecordSpec for ForwardSpec {
    type Model = Forward;
    type Row = Forward;
    const GRID: &'static opnsense_api::GridSpec<Forward> = &FORWARDS;
    const APPLY: &'static str = "dns_apply";
    const LIST: &'static str = "dns_forward_list";

    fn from_model(f: &Forward) -> Self {
        Self {
            domain: f.domain.clone(),
            server: f.server.clone(),
            port: f.port.as_deref().and_then(|p| p.trim().parse().ok()),
            forward_tcp_upstream: f.forward_tcp_upstream,
            forward_first: f.forward_first,
            description: f.description.clone(),
            enabled: f.enabled,
        }
    }

    /// Checks the fields and builds the SDK model (only the fields given; the endpoint makes
    /// the entry a forward, never a DNS-over-TLS server).
    fn into_model(self) -> Result<Forward, ToolError> {
        let domain = single_line("forward.domain", self.domain, 253)?;
        if let Some(d) = domain.as_deref().filter(|d| !d.is_empty()) {
            if d.parse::<IpAddr>().is_ok() {
                return Err(ToolError::invalid(
                    "forward.domain",
                    "must be a domain, not an IP address (put the address in server)",
                ));
            }
            check_name("forward.domain", d, false)?;
        }
        let server = single_line("forward.server", self.server, 64)?;
        if let Some(s) = &server
            && s.parse::<IpAddr>().is_err()
        {
            return Err(ToolError::invalid(
                "forward.server",
                format!("{:?} is not an IP address", excerpt(s)),
            ));
        }
        if self.port == Some(0) {
            return Err(ToolError::invalid("forward.port", "must be 1 to 65535"));
        }
        let description = single_line("forward.description", self.description, 255)?;
        Ok(Forward {
            enabled: self.enabled,
            domain,
            server,
            port: self.port.map(|p| p.to_string()),
            forward_tcp_upstream: self.forward_tcp_upstream,
            forward_first: self.forward_first,
            description,
            ..Forward::default()
        })
    }
}

/// A query forward in compact form.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ForwardView {
    /// Forward id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Active.
    pub enabled: bool,
    /// The domain forwarded (`*` = every query).
    pub domain: String,
    /// The DNS server queries go to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Its port (absent: 53).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// Over TCP.
    #[serde(skip_serializing_if = "crate::common::is_false")]
    pub forward_tcp_upstream: bool,
    /// Falls back to the root servers.
    #[serde(skip_serializing_if = "crate::common::is_false")]
    pub forward_first: bool,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl From<Forward> for ForwardView {
    fn from(f: Forward) -> Self {
        let some = |o: Option<String>| o.filter(|s| !s.is_empty());
        Self {
            uuid: f.uuid,
            enabled: f.enabled != Some(false),
            domain: some(f.domain).unwrap_or_else(|| "*".into()),
            server: some(f.server),
            port: some(f.port),
            forward_tcp_upstream: f.forward_tcp_upstream == Some(true),
            forward_first: f.forward_first == Some(true),
            description: some(f.description),
        }
    }
}

/// A host override in compact form.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HostView {
    /// Override id.
    pub uuid: Option<String>,
    /// Active.
    pub enabled: bool,
    /// Host label (`*` = wildcard; absent = the domain itself).
    pub hostname: Option<String>,
    /// Domain.
    pub domain: Option<String>,
    /// Record type (A, AAAA, MX, TXT).
    pub rr: String,
    /// The answer: the IP address (A/AAAA), `<priority> <mail host>` (MX) or the text (TXT).
    pub value: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Extra names answering the same (`host.domain`), when any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

impl From<HostOverride> for HostView {
    fn from(h: HostOverride) -> Self {
        let rr = h.rr.unwrap_or(RecordType::A);
        let value = match rr {
            RecordType::Mx => match (h.mxprio, h.mx) {
                (Some(p), Some(m)) => Some(format!("{p} {m}")),
                (_, m) => m,
            },
            RecordType::Txt => h.txtdata,
            _ => h.server,
        };
        Self {
            uuid: h.uuid,
            enabled: h.enabled.unwrap_or(true),
            hostname: h.hostname,
            domain: h.domain,
            rr: rr.to_string(),
            value,
            description: h.description,
            aliases: h.aliases.map(|a| a.0).unwrap_or_default(),
        }
    }
}

/// Unbound's main settings in compact form.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DnsSettingsView {
    /// Unbound is enabled.
    pub enabled: bool,
    /// Listening port (53 unless changed).
    pub port: Option<String>,
    /// DNSSEC validation is on.
    pub dnssec: bool,
    /// DNS64 synthesis is on.
    pub dns64: bool,
    /// Interfaces Unbound listens on (keys; empty = all).
    pub active_interfaces: Vec<String>,
    /// DHCP lease host names are registered in DNS.
    pub register_dhcp_leases: bool,
    /// DHCP static mappings are registered in DNS.
    pub register_dhcp_static: bool,
    /// Queries go to the system's upstream name servers (forwarding mode) instead of the roots.
    pub forwarding: bool,
    /// DNS blocklists are enabled.
    pub dnsbl: bool,
    /// Number of host overrides (see dns_host_override_list).
    pub host_overrides: usize,
    /// Number of host aliases (extra names of host overrides).
    pub host_aliases: usize,
    /// Number of query forwarding / DNS-over-TLS server entries.
    pub forwards: usize,
    /// OPNsense's full answer (only with `raw: true`).
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub raw: Option<Value>,
}

impl DnsSettingsView {
    fn new(v: &Value) -> Self {
        let model = v.get("unbound").unwrap_or(&Value::Null);
        let text = |section: &str, name: &str| {
            model
                .get(section)
                .and_then(|s| s.get(name))
                .map(selected_string)
                .unwrap_or_default()
        };
        let on = |section: &str, name: &str| text(section, name) == "1";
        let count = |section: &str, name: &str| match model.get(section).and_then(|s| s.get(name)) {
            Some(Value::Object(m)) => m.len(),
            Some(Value::Array(a)) => a.len(),
            _ => 0,
        };
        let port = Some(text("general", "port")).filter(|p| !p.is_empty());
        Self {
            enabled: on("general", "enabled"),
            port,
            dnssec: on("general", "dnssec"),
            dns64: on("general", "dns64"),
            active_interfaces: text("general", "active_interface")
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            register_dhcp_leases: on("general", "regdhcp"),
            register_dhcp_static: on("general", "regdhcpstatic"),
            forwarding: on("forwarding", "enabled"),
            dnsbl: on("dnsbl", "enabled"),
            host_overrides: count("hosts", "host"),
            host_aliases: count("aliases", "alias"),
            forwards: count("dots", "dot"),
            raw: None,
        }
    }
}

#[tool_router(router = dns_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// Unbound DNS resolver settings: enabled, port, DNSSEC, listening interfaces, DHCP
    /// registration, forwarding, blocklists, and how many host overrides and forwards exist.
    /// `raw: true` gives the whole Unbound configuration.
    #[tool(annotations(title = "DNS resolver settings"))]
    async fn dns_settings_get(
        &self,
        Parameters(p): Parameters<RawParams>,
    ) -> Result<Json<DnsSettingsView>, ToolError> {
        let v: Value = self.client().send_json(settings_request()).await?;
        let mut view = DnsSettingsView::new(&v);
        view.raw = p.raw.then_some(v);
        Ok(Json(view))
    }

    /// List Unbound DNS host overrides, paged.
    #[tool(annotations(title = "List DNS host overrides"))]
    async fn dns_host_override_list(
        &self,
        Parameters(p): Parameters<ListParams>,
    ) -> Result<Json<Listing<HostView>>, ToolError> {
        self.list_grid(
            &HOST_OVERRIDES,
            &p,
            &Rows::<HostOverride, _>::all(HostView::from),
        )
        .await
        .map(Json)
    }

    /// List Unbound query forwards (domain overrides: queries for a domain sent to another DNS
    /// server; compact: uuid, enabled, domain, server, port, description), paged. DNS-over-TLS
    /// servers are not listed here.
    #[tool(annotations(title = "List DNS query forwards"))]
    async fn dns_forward_list(
        &self,
        Parameters(p): Parameters<ListParams>,
    ) -> Result<Json<Listing<ForwardView>>, ToolError> {
        self.list_grid(&FORWARDS, &p, &Rows::<Forward, _>::all(ForwardView::from))
            .await
            .map(Json)
    }
}

record_tools! {
    router = dns_host_records_router;

    /// Add an Unbound DNS host override (A, AAAA, MX or TXT record). Staged: it takes effect
    /// after dns_apply.
    #[title = "Add a DNS host override"]
    fn dns_host_override_add(HostAddParams {
        /// The new host override.
        host: NewRecord<HostSpec>,
    });

    /// Change fields of an Unbound DNS host override (only those given). Staged: it takes
    /// effect after dns_apply. An unknown uuid is refused.
    #[title = "Update a DNS host override"]
    fn dns_host_override_update(HostUpdateParams {
        /// The host override's uuid.
        uuid: String,
        /// The fields to change; the others keep their values.
        host: HostSpec,
    });

    /// Delete an Unbound DNS host override (and its host aliases). Staged: it takes effect
    /// after dns_apply.
    #[title = "Delete a DNS host override"]
    fn dns_host_override_delete(HostDeleteParams {
        /// The host override's uuid.
        uuid: String,
    });

    /// Apply all staged Unbound DNS changes (host overrides and query forwards alike). This
    /// restarts Unbound: DNS resolution through the firewall stops for a moment.
    #[title = "Apply DNS changes"]
    fn dns_apply(&HOST_OVERRIDES, "DNS changes applied (Unbound restarted)");
}

record_tools! {
    router = dns_forward_records_router;

    /// Add an Unbound query forward: queries for `domain` (every query when empty) go to
    /// `server`. Staged: it takes effect after dns_apply.
    #[title = "Add a DNS query forward"]
    fn dns_forward_add(ForwardAddParams {
        /// The new query forward.
        forward: NewRecord<ForwardSpec>,
    });

    /// Change fields of an Unbound query forward (only those given). Staged: it takes effect
    /// after dns_apply. An unknown uuid, or one of a DNS-over-TLS server, is refused.
    #[title = "Update a DNS query forward"]
    fn dns_forward_update(ForwardUpdateParams {
        /// The forward's uuid (from dns_forward_list).
        uuid: String,
        /// The fields to change; the others keep their values.
        forward: ForwardSpec,
    });

    /// Delete an Unbound query forward. Staged: it takes effect after dns_apply.
    #[title = "Delete a DNS query forward"]
    fn dns_forward_delete(ForwardDeleteParams {
        /// The forward's uuid (from dns_forward_list).
        uuid: String,
    });
}

//! Unbound DNS (`unbound/settings`, host overrides wrapper `host`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::{CsvList, Extra, opt};

crate::wire_enum! {
    /// Host override record type.
    pub enum RecordType {
        /// IPv4 address.
        A = "A",
        /// IPv6 address.
        Aaaa = "AAAA",
        /// Mail exchanger.
        Mx = "MX",
        /// Text.
        Txt = "TXT",
    }
}

wire_model! {
    /// An Unbound host override (`hosts.host`). Note the field is `hostname`, not `host`.
    pub struct HostOverride {
        /// Record id (search rows only).
        pub uuid: Option<String>,
        /// Whether the override is active (default on).
        pub enabled: Option<bool>,
        /// Host label (`nas`, or `*` for a wildcard); empty = the domain itself.
        pub hostname: Option<String>,
        /// Domain (`example.lan`). Required.
        pub domain: Option<String>,
        /// Record type (default A). A get answers an option map; the selected key is read.
        #[serde(deserialize_with = "opt")]
        pub rr: Option<RecordType>,
        /// IP address answered (A/AAAA; required for those).
        pub server: Option<String>,
        /// MX priority, an integer (MX only; required there).
        pub mxprio: Option<String>,
        /// MX host (MX only).
        pub mx: Option<String>,
        /// TXT data (TXT only).
        pub txtdata: Option<String>,
        /// TTL in seconds, an integer 0 to 2147483647 (empty = Unbound's default).
        pub ttl: Option<String>,
        /// Create a PTR record too (26.1.3+; absent on older firmware, default on).
        pub addptr: Option<bool>,
        /// Extra names for the same record (26.1.6+), as `host.domain` entries (wildcards allowed).
        /// Writing it creates/updates the linked host aliases.
        pub aliases: Option<CsvList>,
        /// Description.
        pub description: Option<String>,
        /// Search rows only: `true` for an alias row (inside `_children`), `false` for an override.
        #[serde(rename = "isAlias")]
        pub is_alias: Option<bool>,
        /// Search rows only (26.1.6+): the override's alias rows, each with its own alias uuid.
        #[serde(rename = "_children", deserialize_with = "children", skip_serializing_if = "Vec::is_empty" )]
        pub children: Vec<HostOverride>,
    }
    /// Everything else (`%rr` display text, ...).
    extra, searched as HostOverrideRow
}

impl HostOverride {
    /// The fully qualified name (`nas.example.lan`; the domain alone for an empty hostname).
    pub fn fqdn(&self) -> Option<String> {
        let domain = self.domain.as_deref()?;
        Some(match self.hostname.as_deref() {
            Some(h) => format!("{h}.{domain}"),
            None => domain.to_owned(),
        })
    }
}

/// `_children` is a list of rows; anything else (absent, `null`, `{}`) is none.
fn children<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<HostOverride>, D::Error> {
    match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .map(|v| serde_json::from_value(v).map_err(serde::de::Error::custom))
            .collect(),
        _ => Ok(Vec::new()),
    }
}

/// `unbound/settings/get`: the whole resolver model, kept as JSON under `unbound`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnboundSettings {
    /// The model (`general`, `advanced`, `acls`, `dnsbl`, `forwarding`, `hosts`, ...); required
    /// (a POST to `get`, or an error, answers without it).
    pub unbound: Value,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

crate::wire_enum! {
    /// What kind of upstream a `dots.dot` entry is (`Unbound.xml`, 26.1.11 and 26.7.2: an
    /// OptionField, default `dot`). The `*Forward` endpoints force `forward` on every add and
    /// set; the `*Dot` ones (routed to the same code by `SettingsController::__call`) force `dot`.
    pub enum ForwardType {
        /// DNS over TLS (`forward-tls-upstream`).
        Dot = "dot",
        /// Plain query forwarding.
        Forward = "forward",
    }
}

wire_model! {
    /// An Unbound query-forwarding entry (`dots.dot` with `type` `forward`, wrapper `dot`): queries
    /// for `domain` (all queries when it is empty) go to `server`. Fields as in `Unbound.xml`
    /// (`<dots>`, identical at 26.1.9, 26.1.11 and 26.7.2).
    pub struct Forward {
        /// Record id (search rows only).
        pub uuid: Option<String>,
        /// Whether the entry is active (default on).
        pub enabled: Option<bool>,
        /// `forward` or `dot`: read, never sent (the endpoint decides it).
        #[serde(rename = "type", deserialize_with = "opt", skip_serializing)]
        pub forward_type: Option<ForwardType>,
        /// The domain whose queries are forwarded (a DNS name, no IP address); empty = every query.
        pub domain: Option<String>,
        /// The upstream server's IP address (required).
        pub server: Option<String>,
        /// The upstream server's port (empty = 53).
        pub port: Option<String>,
        /// The name the server's TLS certificate must carry (DNS over TLS only).
        pub verify: Option<String>,
        /// Send the forwarded queries over TCP (`forward-tcp-upstream`).
        pub forward_tcp_upstream: Option<bool>,
        /// Resolve through the roots when the forwarder fails (`forward-first`).
        pub forward_first: Option<bool>,
        /// Description.
        pub description: Option<String>,
    }
    /// Everything else (`%type` display text, ...).
    extra, searched as ForwardRow
}

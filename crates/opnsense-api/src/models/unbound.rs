//! Unbound DNS (`unbound/settings`, host overrides wrapper `host`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::{CsvList, Extra, opt, opt_bool};

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

/// An Unbound host override (`hosts.host`). Note the field is `hostname`, not `host`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostOverride {
    /// Record id (search rows only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub uuid: Option<String>,
    /// Whether the override is active (default on).
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Host label (`nas`, or `*` for a wildcard); empty = the domain itself.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub hostname: Option<String>,
    /// Domain (`example.lan`). Required.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub domain: Option<String>,
    /// Record type (default A).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub rr: Option<RecordType>,
    /// IP address answered (A/AAAA; required for those).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub server: Option<String>,
    /// MX priority (MX only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub mxprio: Option<String>,
    /// MX host (MX only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub mx: Option<String>,
    /// TXT data (TXT only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub txtdata: Option<String>,
    /// TTL in seconds.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ttl: Option<String>,
    /// Create a PTR record too (26.1.3+).
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub addptr: Option<bool>,
    /// Extra names for the same record (26.1.6+), as `host.domain` entries.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub aliases: Option<CsvList>,
    /// Description.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Everything else (`%rr`, `isAlias`, `_children`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `unbound/settings/get`: the whole resolver model, kept as JSON under `unbound`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnboundSettings {
    /// The model (`general`, `advanced`, `acls`, `dnsbl`, `forwarding`, `hosts`, ...).
    #[serde(default)]
    pub unbound: Value,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

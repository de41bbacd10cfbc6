//! Kea DHCPv4 (`kea/leases4`, `kea/dhcpv4`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::{Extra, opt};

/// One lease from the running Kea daemon.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    /// Leased IPv4 address.
    #[serde(default)]
    pub address: String,
    /// Client MAC address.
    #[serde(default)]
    pub hwaddr: String,
    /// Client host name.
    #[serde(default)]
    pub hostname: String,
    /// Expiry (unix time).
    #[serde(default)]
    pub expire: Option<i64>,
    /// Lease time in seconds.
    #[serde(default)]
    pub valid_lifetime: Option<i64>,
    /// 0 assigned, 1 declined, 2 expired-reclaimed.
    #[serde(default)]
    pub state: Option<i64>,
    /// Interface config id (`lan`).
    #[serde(default)]
    pub if_name: Option<String>,
    /// Interface description (`LAN`).
    #[serde(default)]
    pub if_descr: Option<String>,
    /// `[]`, `["hwaddr"]` or `["client_id"]` when a reservation matches.
    #[serde(default)]
    pub is_reserved: Value,
    /// Vendor from the MAC's OUI.
    #[serde(default)]
    pub mac_info: Option<String>,
    /// Anything else (`client_id`, `if`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Lease {
    /// True when a static reservation matches this lease.
    pub fn is_reserved(&self) -> bool {
        self.is_reserved.as_array().is_some_and(|a| !a.is_empty())
    }
}

/// A static DHCP reservation (wrapper `reservation`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reservation {
    /// Record id (search rows only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub uuid: Option<String>,
    /// Subnet uuid (get answers an option map whose labels are the CIDRs). Required.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub subnet: Option<String>,
    /// Fixed IPv4 address inside the subnet.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_address: Option<String>,
    /// Client MAC address (this or `client_id`).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub hw_address: Option<String>,
    /// Client id, hex pairs (this or `hw_address`).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_id: Option<String>,
    /// Host name handed to the client.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub hostname: Option<String>,
    /// Description.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Everything else (`%subnet`, `option_data`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A DHCPv4 subnet (wrapper `subnet4`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subnet {
    /// Record id.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub uuid: Option<String>,
    /// The subnet, e.g. `192.168.1.0/24`.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub subnet: Option<String>,
    /// Address pools, newline separated ranges or CIDRs.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub pools: Option<String>,
    /// Description.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Everything else (`option_data`, DDNS settings, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `kea/dhcpv4/get`: `{"dhcpv4": {general, lexpire, ha}}`, kept as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeaSettings {
    /// The settings sections.
    #[serde(default)]
    pub dhcpv4: Value,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

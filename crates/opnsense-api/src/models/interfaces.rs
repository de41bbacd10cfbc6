//! Interface diagnostics (`diagnostics/interface/*`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::Extra;

/// One device of `getInterfaceConfig` (parsed `ifconfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InterfaceDetails {
    /// Device name (`igb1`).
    #[serde(default)]
    pub device: String,
    /// Flags (`up`, `running`, ...).
    #[serde(default)]
    pub flags: Vec<String>,
    /// MAC address.
    #[serde(default)]
    pub macaddr: String,
    /// MTU (a string in OPNsense's answer).
    #[serde(default)]
    pub mtu: Value,
    /// `active`, `no carrier`, ...
    #[serde(default)]
    pub status: Option<String>,
    /// Media description.
    #[serde(default)]
    pub media: Option<String>,
    /// IPv4 addresses.
    #[serde(default)]
    pub ipv4: Vec<IpAddress>,
    /// IPv6 addresses.
    #[serde(default)]
    pub ipv6: Vec<IpAddress>,
    /// Anything else (`capabilities`, `groups`, `vlan`, `carp`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl InterfaceDetails {
    /// True when the link is up.
    pub fn is_up(&self) -> bool {
        self.flags.iter().any(|f| f == "up")
    }
}

/// One address of an interface.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IpAddress {
    /// The address.
    #[serde(default)]
    pub ipaddr: String,
    /// Prefix length.
    #[serde(default)]
    pub subnetbits: Value,
    /// Anything else (`tunnel`, `link-local`, `vhid`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// One ARP entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArpEntry {
    /// IPv4 address.
    #[serde(default)]
    pub ip: String,
    /// MAC address.
    #[serde(default)]
    pub mac: String,
    /// Device (`igb1`).
    #[serde(default)]
    pub intf: String,
    /// Interface description (`LAN`).
    #[serde(default)]
    pub intf_description: String,
    /// Vendor from the MAC's OUI.
    #[serde(default)]
    pub manufacturer: String,
    /// Host name when known.
    #[serde(default)]
    pub hostname: String,
    /// Seconds until the entry expires (-1 permanent).
    #[serde(default)]
    pub expires: Option<i64>,
    /// Permanent entry.
    #[serde(default)]
    pub permanent: Option<bool>,
    /// Anything else (`expired`, `type`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// One NDP (IPv6 neighbour) entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NdpEntry {
    /// IPv6 address (link-local ones carry `%scope`).
    #[serde(default)]
    pub ip: String,
    /// MAC address.
    #[serde(default)]
    pub mac: String,
    /// Device.
    #[serde(default)]
    pub intf: String,
    /// Interface description.
    #[serde(default)]
    pub intf_description: String,
    /// Vendor.
    #[serde(default)]
    pub manufacturer: String,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

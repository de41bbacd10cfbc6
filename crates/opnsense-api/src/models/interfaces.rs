//! Interface diagnostics (`diagnostics/interface/*`). All read-only.

use serde::{Deserialize, Serialize};

use crate::fields::{Extra, list_or_empty, opt, opt_bool, opt_object, string_or_empty};

/// One device of `getInterfaceConfig` (parsed `ifconfig -Lmv`). Unassigned devices (`lo0`,
/// `enc0`, `pflog0`, ...) are included.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InterfaceDetails {
    /// Device name (`igb1`).
    #[serde(deserialize_with = "string_or_empty")]
    pub device: String,
    /// Flags, lower-case (`up`, `broadcast`, `running`, ...).
    #[serde(deserialize_with = "list_or_empty")]
    pub flags: Vec<String>,
    /// Hardware capabilities (`rxcsum`, `vlan_mtu`, ...).
    #[serde(deserialize_with = "list_or_empty")]
    pub capabilities: Vec<String>,
    /// Enabled options.
    #[serde(deserialize_with = "list_or_empty")]
    pub options: Vec<String>,
    /// MAC address (`00:00:00:00:00:00` if none).
    #[serde(deserialize_with = "string_or_empty")]
    pub macaddr: String,
    /// Burnt-in MAC address, when it differs from the configured one.
    #[serde(deserialize_with = "opt")]
    pub macaddr_hw: Option<String>,
    /// MTU (OPNsense sends it as a string).
    #[serde(deserialize_with = "opt")]
    pub mtu: Option<u64>,
    /// `active`, `no carrier`, ...
    #[serde(deserialize_with = "opt")]
    pub status: Option<String>,
    /// Media description (`1000baseT <full-duplex>`).
    #[serde(deserialize_with = "opt")]
    pub media: Option<String>,
    /// The raw media line of ifconfig.
    #[serde(deserialize_with = "opt")]
    pub media_raw: Option<String>,
    /// Media the device supports.
    #[serde(deserialize_with = "list_or_empty")]
    pub supported_media: Vec<String>,
    /// A physical NIC (not a loopback, tunnel, VLAN, ...).
    #[serde(deserialize_with = "opt_bool::deserialize")]
    pub is_physical: Option<bool>,
    /// Interface groups (`lo`, `wg`, ...).
    #[serde(
        deserialize_with = "list_or_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub groups: Vec<String>,
    /// IPv4 addresses.
    #[serde(deserialize_with = "list_or_empty")]
    pub ipv4: Vec<IpAddress>,
    /// IPv6 addresses (link-local ones last).
    #[serde(deserialize_with = "list_or_empty")]
    pub ipv6: Vec<IpAddress>,
    /// VLAN settings (VLAN devices only).
    #[serde(deserialize_with = "opt_object")]
    pub vlan: Option<VlanInfo>,
    /// Anything else (`nd6`, `carp`, `members`, `lagg*`, `tunnel`, `vxlan`, `sfp`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl InterfaceDetails {
    /// True when the interface is administratively up.
    pub fn is_up(&self) -> bool {
        self.flags.iter().any(|f| f == "up")
    }
}

/// One address of an interface (IPv4 or IPv6; the IPv6-only flags are absent for IPv4).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpAddress {
    /// The address (for IPv6 without the `%scope`).
    #[serde(deserialize_with = "string_or_empty")]
    pub ipaddr: String,
    /// Prefix length.
    #[serde(deserialize_with = "opt")]
    pub subnetbits: Option<u64>,
    /// A tunnel (point-to-point) address.
    #[serde(with = "opt_bool")]
    pub tunnel: Option<bool>,
    /// The far end of a tunnel address.
    #[serde(deserialize_with = "opt")]
    pub endpoint: Option<String>,
    /// CARP virtual host id, for a CARP address.
    #[serde(deserialize_with = "opt")]
    pub vhid: Option<String>,
    /// IPv6 link-local address.
    #[serde(rename = "link-local", with = "opt_bool")]
    pub link_local: Option<bool>,
    /// IPv6 address from SLAAC.
    #[serde(with = "opt_bool")]
    pub autoconf: Option<bool>,
    /// IPv6 address is deprecated.
    #[serde(with = "opt_bool")]
    pub deprecated: Option<bool>,
    /// IPv6 address is detached.
    #[serde(with = "opt_bool")]
    pub detached: Option<bool>,
    /// IPv6 duplicate address detection still running.
    #[serde(with = "opt_bool")]
    pub tentative: Option<bool>,
    /// IPv6 preferred lifetime (seconds, as text).
    #[serde(deserialize_with = "opt")]
    pub pltime: Option<String>,
    /// IPv6 valid lifetime (seconds, as text).
    #[serde(deserialize_with = "opt")]
    pub vltime: Option<String>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `vlan` of a VLAN device.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VlanInfo {
    /// VLAN tag.
    #[serde(deserialize_with = "opt")]
    pub tag: Option<String>,
    /// `802.1q` or `802.1ad`.
    #[serde(deserialize_with = "opt")]
    pub proto: Option<String>,
    /// Priority code point.
    #[serde(deserialize_with = "opt")]
    pub pcp: Option<String>,
    /// Parent device.
    #[serde(deserialize_with = "opt")]
    pub parent: Option<String>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One ARP entry.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ArpEntry {
    /// IPv4 address.
    #[serde(deserialize_with = "string_or_empty")]
    pub ip: String,
    /// MAC address.
    #[serde(deserialize_with = "string_or_empty")]
    pub mac: String,
    /// Device (`igb1`).
    #[serde(deserialize_with = "string_or_empty")]
    pub intf: String,
    /// Interface description (`LAN`), or empty.
    #[serde(deserialize_with = "string_or_empty")]
    pub intf_description: String,
    /// Vendor from the MAC's OUI, or empty.
    #[serde(deserialize_with = "string_or_empty")]
    pub manufacturer: String,
    /// Host name when known (reverse DNS or DHCP lease), or empty.
    #[serde(deserialize_with = "string_or_empty")]
    pub hostname: String,
    /// Seconds until the entry expires (-1 permanent).
    #[serde(deserialize_with = "opt")]
    pub expires: Option<i64>,
    /// The entry has expired.
    #[serde(deserialize_with = "opt_bool::deserialize")]
    pub expired: Option<bool>,
    /// Permanent (static) entry.
    #[serde(deserialize_with = "opt_bool::deserialize")]
    pub permanent: Option<bool>,
    /// Link type (`ethernet`).
    #[serde(rename = "type", deserialize_with = "opt")]
    pub link_type: Option<String>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One NDP (IPv6 neighbour) entry.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NdpEntry {
    /// IPv6 address (link-local ones carry `%scope`, e.g. `fe80::1%igb1`).
    #[serde(deserialize_with = "string_or_empty")]
    pub ip: String,
    /// MAC address.
    #[serde(deserialize_with = "string_or_empty")]
    pub mac: String,
    /// Device.
    #[serde(deserialize_with = "string_or_empty")]
    pub intf: String,
    /// Interface description, or empty.
    #[serde(deserialize_with = "string_or_empty")]
    pub intf_description: String,
    /// Vendor, or empty.
    #[serde(deserialize_with = "string_or_empty")]
    pub manufacturer: String,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

//! Interface diagnostics (`diagnostics/interface/*`). All read-only.

use serde::{Deserialize, Serialize};

use crate::fields::{Extra, opt, opt_bool};

/// One device of `getInterfaceConfig` (parsed `ifconfig -Lmv`). Unassigned devices (`lo0`,
/// `enc0`, `pflog0`, ...) are included.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InterfaceDetails {
    /// Device name (`igb1`).
    #[serde(default)]
    pub device: String,
    /// Flags, lower-case (`up`, `broadcast`, `running`, ...).
    #[serde(default)]
    pub flags: Vec<String>,
    /// Hardware capabilities (`rxcsum`, `vlan_mtu`, ...).
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Enabled options.
    #[serde(default)]
    pub options: Vec<String>,
    /// MAC address (`00:00:00:00:00:00` if none).
    #[serde(default)]
    pub macaddr: String,
    /// Burnt-in MAC address, when it differs from the configured one.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub macaddr_hw: Option<String>,
    /// MTU (OPNsense sends it as a string).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub mtu: Option<u64>,
    /// `active`, `no carrier`, ...
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<String>,
    /// Media description (`1000baseT <full-duplex>`).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub media: Option<String>,
    /// The raw media line of ifconfig.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub media_raw: Option<String>,
    /// Media the device supports.
    #[serde(default)]
    pub supported_media: Vec<String>,
    /// A physical NIC (not a loopback, tunnel, VLAN, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_physical: Option<bool>,
    /// Interface groups (`lo`, `wg`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// IPv4 addresses.
    #[serde(default)]
    pub ipv4: Vec<IpAddress>,
    /// IPv6 addresses (link-local ones last).
    #[serde(default)]
    pub ipv6: Vec<IpAddress>,
    /// VLAN settings (VLAN devices only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IpAddress {
    /// The address (for IPv6 without the `%scope`).
    #[serde(default)]
    pub ipaddr: String,
    /// Prefix length.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub subnetbits: Option<u64>,
    /// A tunnel (point-to-point) address.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<bool>,
    /// The far end of a tunnel address.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub endpoint: Option<String>,
    /// CARP virtual host id, for a CARP address.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub vhid: Option<String>,
    /// IPv6 link-local address.
    #[serde(
        default,
        rename = "link-local",
        with = "opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub link_local: Option<bool>,
    /// IPv6 address from SLAAC.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub autoconf: Option<bool>,
    /// IPv6 address is deprecated.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<bool>,
    /// IPv6 address is detached.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub detached: Option<bool>,
    /// IPv6 duplicate address detection still running.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub tentative: Option<bool>,
    /// IPv6 preferred lifetime (seconds, as text).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub pltime: Option<String>,
    /// IPv6 valid lifetime (seconds, as text).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub vltime: Option<String>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `vlan` of a VLAN device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VlanInfo {
    /// VLAN tag.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub tag: Option<String>,
    /// `802.1q` or `802.1ad`.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub proto: Option<String>,
    /// Priority code point.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub pcp: Option<String>,
    /// Parent device.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub parent: Option<String>,
    /// Anything else.
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
    /// Interface description (`LAN`), or empty.
    #[serde(default)]
    pub intf_description: String,
    /// Vendor from the MAC's OUI, or empty.
    #[serde(default)]
    pub manufacturer: String,
    /// Host name when known (reverse DNS or DHCP lease), or empty.
    #[serde(default)]
    pub hostname: String,
    /// Seconds until the entry expires (-1 permanent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<i64>,
    /// The entry has expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired: Option<bool>,
    /// Permanent (static) entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permanent: Option<bool>,
    /// Link type (`ethernet`).
    #[serde(
        default,
        rename = "type",
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub link_type: Option<String>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One NDP (IPv6 neighbour) entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NdpEntry {
    /// IPv6 address (link-local ones carry `%scope`, e.g. `fe80::1%igb1`).
    #[serde(default)]
    pub ip: String,
    /// MAC address.
    #[serde(default)]
    pub mac: String,
    /// Device.
    #[serde(default)]
    pub intf: String,
    /// Interface description, or empty.
    #[serde(default)]
    pub intf_description: String,
    /// Vendor, or empty.
    #[serde(default)]
    pub manufacturer: String,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

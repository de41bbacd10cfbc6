//! Interface diagnostics (`diagnostics/interface/*`). All read-only.

use crate::fields::{Extra, list_or_empty, opt_bool, opt_object};

wire_model! {
    /// One device of `getInterfaceConfig` (parsed `ifconfig -Lmv`). Unassigned devices (`lo0`,
    /// `enc0`, `pflog0`, ...) are included.
    pub struct InterfaceDetails {
        /// Device name (`igb1`).
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
        pub macaddr: String,
        /// Burnt-in MAC address, when it differs from the configured one.
        pub macaddr_hw: Option<String>,
        /// MTU (OPNsense sends it as a string).
        pub mtu: Option<u64>,
        /// `active`, `no carrier`, ...
        pub status: Option<String>,
        /// Media description (`1000baseT <full-duplex>`).
        pub media: Option<String>,
        /// The raw media line of ifconfig.
        pub media_raw: Option<String>,
        /// Media the device supports.
        #[serde(deserialize_with = "list_or_empty")]
        pub supported_media: Vec<String>,
        /// A physical NIC (not a loopback, tunnel, VLAN, ...).
        #[serde(deserialize_with = "opt_bool::deserialize")]
        #[serde_with(skip_apply)]
        pub is_physical: Option<bool>,
        /// Interface groups (`lo`, `wg`, ...).
        #[serde(deserialize_with = "list_or_empty", skip_serializing_if = "Vec::is_empty" )]
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
}

impl InterfaceDetails {
    /// True when the interface is administratively up.
    pub fn is_up(&self) -> bool {
        self.flags.iter().any(|f| f == "up")
    }
}

wire_model! {
    /// One address of an interface (IPv4 or IPv6; the IPv6-only flags are absent for IPv4).
    pub struct IpAddress {
        /// The address (for IPv6 without the `%scope`).
        pub ipaddr: String,
        /// Prefix length.
        pub subnetbits: Option<u64>,
        /// A tunnel (point-to-point) address.
        pub tunnel: Option<bool>,
        /// The far end of a tunnel address.
        pub endpoint: Option<String>,
        /// CARP virtual host id, for a CARP address.
        pub vhid: Option<String>,
        /// IPv6 link-local address.
        #[serde(rename = "link-local")]
        pub link_local: Option<bool>,
        /// IPv6 address from SLAAC.
        pub autoconf: Option<bool>,
        /// IPv6 address is deprecated.
        pub deprecated: Option<bool>,
        /// IPv6 address is detached.
        pub detached: Option<bool>,
        /// IPv6 duplicate address detection still running.
        pub tentative: Option<bool>,
        /// IPv6 preferred lifetime (seconds, as text).
        pub pltime: Option<String>,
        /// IPv6 valid lifetime (seconds, as text).
        pub vltime: Option<String>,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// `vlan` of a VLAN device.
    pub struct VlanInfo {
        /// VLAN tag.
        pub tag: Option<String>,
        /// `802.1q` or `802.1ad`.
        pub proto: Option<String>,
        /// Priority code point.
        pub pcp: Option<String>,
        /// Parent device.
        pub parent: Option<String>,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// One ARP entry.
    pub struct ArpEntry {
        /// IPv4 address.
        pub ip: String,
        /// MAC address.
        pub mac: String,
        /// Device (`igb1`).
        pub intf: String,
        /// Interface description (`LAN`), or empty.
        pub intf_description: String,
        /// Vendor from the MAC's OUI, or empty.
        pub manufacturer: String,
        /// Host name when known (reverse DNS or DHCP lease), or empty.
        pub hostname: String,
        /// Seconds until the entry expires (-1 permanent).
        pub expires: Option<i64>,
        /// The entry has expired.
        #[serde(deserialize_with = "opt_bool::deserialize")]
        #[serde_with(skip_apply)]
        pub expired: Option<bool>,
        /// Permanent (static) entry.
        #[serde(deserialize_with = "opt_bool::deserialize")]
        #[serde_with(skip_apply)]
        pub permanent: Option<bool>,
        /// Link type (`ethernet`).
        #[serde(rename = "type")]
        pub link_type: Option<String>,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// One NDP (IPv6 neighbour) entry.
    pub struct NdpEntry {
        /// IPv6 address (link-local ones carry `%scope`, e.g. `fe80::1%igb1`).
        pub ip: String,
        /// MAC address.
        pub mac: String,
        /// Device.
        pub intf: String,
        /// Interface description, or empty.
        pub intf_description: String,
        /// Vendor, or empty.
        pub manufacturer: String,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

//! Kea DHCPv4 (`kea/leases4`, `kea/dhcpv4`), as in OPNsense 26.1's KeaDhcpv4.xml.

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::fields::{CsvList, Extra, LineList, opt, opt_bool};

wire_model! {
    /// One lease from the running Kea daemon (empty list when Kea is stopped).
    pub struct Lease {
        /// Leased IPv4 address.
        pub address: String,
        /// Client MAC address.
        pub hwaddr: String,
        /// Client host name, or empty.
        pub hostname: String,
        /// Client id (hex pairs), or empty.
        pub client_id: String,
        /// Expiry (unix time: last transaction + lifetime).
        pub expire: Option<i64>,
        /// Lease time in seconds.
        pub valid_lifetime: Option<i64>,
        /// 0 assigned, 1 declined, 2 expired-reclaimed.
        pub state: Option<i64>,
        /// Device the lease was handed out on (`igb1`), if known.
        #[serde(rename = "if")]
        pub if_device: Option<String>,
        /// Interface config id (`lan`).
        pub if_name: Option<String>,
        /// Interface description (`LAN`).
        pub if_descr: Option<String>,
        /// What a matching reservation matched on: empty, `["hwaddr"]` or `["client_id"]`.
        #[serde(deserialize_with = "string_list")]
        pub is_reserved: Vec<String>,
        /// Vendor from the MAC's OUI, or empty.
        pub mac_info: Option<String>,
        /// Anything else (`prefix_len`, `type`, `duid`, `iaid`, ...).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

impl Lease {
    /// True when a static reservation matches this lease.
    pub fn is_reserved(&self) -> bool {
        !self.is_reserved.is_empty()
    }
}

/// A list of strings; `null`, `""` and other non-lists are empty.
fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .iter()
            .map(crate::fields::selected_string)
            .filter(|s| !s.is_empty())
            .collect(),
        Value::String(s) if !s.is_empty() => vec![s],
        _ => Vec::new(),
    })
}

/// Search rows flatten the `option_data` container into `option_data.<field>` keys, while a get
/// nests them: fold the flat keys back so both read into the same model.
fn fold_option_data<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    const PREFIX: &str = "option_data.";
    let Value::Object(map) = Value::deserialize(d)? else {
        return Err(de::Error::custom("expected an object"));
    };
    if !map.keys().any(|k| k.starts_with(PREFIX)) {
        return Ok(Value::Object(map));
    }
    let mut out = Map::new();
    let mut nested = Map::new();
    for (k, v) in map {
        match k.strip_prefix(PREFIX) {
            Some(field) => {
                nested.insert(field.to_owned(), v);
            }
            None if k == "option_data" => {
                if let Value::Object(inner) = v {
                    nested.extend(inner);
                }
            }
            None => {
                out.insert(k, v);
            }
        }
    }
    out.insert("option_data".to_owned(), Value::Object(nested));
    Ok(Value::Object(out))
}

wire_model! {
    /// DHCP options of a subnet or reservation (`option_data` container). Lists are comma-separated.
    pub struct OptionData {
        /// DNS servers (IPv4 list).
        pub domain_name_servers: Option<CsvList>,
        /// Domain search list.
        pub domain_search: Option<CsvList>,
        /// Gateways (IPv4 list).
        pub routers: Option<CsvList>,
        /// Static routes (option 33).
        pub static_routes: Option<String>,
        /// Classless static routes (option 121).
        pub classless_static_route: Option<String>,
        /// Domain name.
        pub domain_name: Option<String>,
        /// NTP servers (IPv4 list).
        pub ntp_servers: Option<CsvList>,
        /// Time servers (IPv4 list).
        pub time_servers: Option<CsvList>,
        /// TFTP server name (option 66).
        pub tftp_server_name: Option<String>,
        /// Boot file name (option 67).
        pub boot_file_name: Option<String>,
        /// IPv6-only preferred wait in seconds, at least 300 (option 108; subnets only).
        pub v6_only_preferred: Option<u64>,
        /// Encrypted DNS resolvers (option 162; subnets only).
        pub v4_dnr: Option<String>,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

/// A static DHCP reservation (wrapper `reservation`). Exactly one of `hw_address` and
/// `client_id` must be set.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(default)]
pub struct Reservation {
    /// Record id (search rows only).
    #[serde(deserialize_with = "opt")]
    pub uuid: Option<String>,
    /// Subnet *uuid* (a get answers an option map keyed by subnet uuid, labelled with the CIDR;
    /// search rows carry the CIDR in `%subnet`). Required.
    #[serde(deserialize_with = "opt")]
    pub subnet: Option<String>,
    /// Fixed IPv4 address inside the subnet (unique).
    #[serde(deserialize_with = "opt")]
    pub ip_address: Option<String>,
    /// Client MAC address (this or `client_id`).
    #[serde(deserialize_with = "opt")]
    pub hw_address: Option<String>,
    /// Client id, colon-separated hex pairs (this or `hw_address`).
    #[serde(deserialize_with = "opt")]
    pub client_id: Option<String>,
    /// Host name handed to the client (a single label such as `nas`).
    #[serde(deserialize_with = "opt")]
    pub hostname: Option<String>,
    /// Description.
    #[serde(deserialize_with = "opt")]
    pub description: Option<String>,
    /// Boot (next) server address.
    #[serde(deserialize_with = "opt")]
    pub next_server: Option<String>,
    /// DHCP options for this client.
    #[serde(deserialize_with = "crate::fields::opt_object")]
    pub option_data: Option<OptionData>,
    /// Custom option uuids.
    #[serde(deserialize_with = "opt")]
    pub option: Option<CsvList>,
    /// Everything else (`%subnet`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Reservation {
    /// The subnet's CIDR as a search row displays it (`%subnet`), when present.
    pub fn subnet_cidr(&self) -> Option<&str> {
        self.extra.get("%subnet").and_then(Value::as_str)
    }
}

impl Serialize for Reservation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Reservation::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for Reservation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Reservation::deserialize(fold_option_data(d)?).map_err(de::Error::custom)
    }
}

crate::wire_enum! {
    /// Address allocation strategy of a subnet (empty = Kea's default).
    pub enum Allocator {
        /// Hand out addresses in order.
        Iterative = "iterative",
        /// Random addresses.
        Random = "random",
        /// Free lease queue.
        Flq = "flq",
    }
}

crate::wire_enum! {
    /// TSIG algorithm for DDNS updates.
    pub enum TsigAlgorithm {
        /// HMAC-MD5.
        HmacMd5 = "hmac-md5",
        /// HMAC-SHA1.
        HmacSha1 = "hmac-sha1",
        /// HMAC-SHA224.
        HmacSha224 = "hmac-sha224",
        /// HMAC-SHA256.
        HmacSha256 = "hmac-sha256",
        /// HMAC-SHA384.
        HmacSha384 = "hmac-sha384",
        /// HMAC-SHA512.
        HmacSha512 = "hmac-sha512",
    }
}

/// A DHCPv4 subnet (wrapper `subnet4`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
#[serde(default)]
pub struct Subnet {
    /// Record id (search rows only).
    #[serde(deserialize_with = "opt")]
    pub uuid: Option<String>,
    /// The subnet, e.g. `192.168.1.0/24` (unique). Required.
    #[serde(deserialize_with = "opt")]
    pub subnet: Option<String>,
    /// Address pools: ranges (`192.168.1.100-192.168.1.199`) or CIDRs, one per line.
    #[serde(deserialize_with = "opt")]
    pub pools: Option<LineList>,
    /// Lease time in seconds (empty = the general setting).
    #[serde(deserialize_with = "opt")]
    pub valid_lifetime: Option<u64>,
    /// Boot (next) server address.
    #[serde(deserialize_with = "opt")]
    pub next_server: Option<String>,
    /// Fill routers, DNS and NTP with the firewall's own address in the subnet (default on).
    #[serde(with = "opt_bool")]
    pub option_data_autocollect: Option<bool>,
    /// DHCP options.
    #[serde(deserialize_with = "crate::fields::opt_object")]
    pub option_data: Option<OptionData>,
    /// Custom option uuids.
    #[serde(deserialize_with = "opt")]
    pub option: Option<CsvList>,
    /// Use the client id to identify clients (default on).
    #[serde(rename = "match-client-id", with = "opt_bool")]
    pub match_client_id: Option<bool>,
    /// Address allocation strategy (empty = default).
    #[serde(deserialize_with = "opt")]
    pub allocator: Option<Allocator>,
    /// DDNS forward zone (set together with `ddns_dns_server`).
    #[serde(deserialize_with = "opt")]
    pub ddns_forward_zone: Option<String>,
    /// DDNS reverse zone.
    #[serde(deserialize_with = "opt")]
    pub ddns_reverse_zone: Option<String>,
    /// DDNS qualifying suffix.
    #[serde(deserialize_with = "opt")]
    pub ddns_qualifying_suffix: Option<String>,
    /// DNS server receiving DDNS updates.
    #[serde(deserialize_with = "opt")]
    pub ddns_dns_server: Option<String>,
    /// Its port.
    #[serde(deserialize_with = "opt")]
    pub ddns_dns_port: Option<u64>,
    /// TSIG key name (set together with the secret).
    #[serde(deserialize_with = "opt")]
    pub ddns_domain_key_name: Option<String>,
    /// TSIG secret (base64). A secret: never log it.
    #[serde(deserialize_with = "opt")]
    pub ddns_domain_key_secret: Option<String>,
    /// TSIG algorithm (required with a secret).
    #[serde(deserialize_with = "opt")]
    pub ddns_domain_key_algorithm: Option<TsigAlgorithm>,
    /// Description.
    #[serde(deserialize_with = "opt")]
    pub description: Option<String>,
    /// Everything else (other DDNS switches, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Serialize for Subnet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Subnet::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for Subnet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Subnet::deserialize(fold_option_data(d)?).map_err(de::Error::custom)
    }
}

crate::wire_enum! {
    /// Socket type Kea listens with.
    pub enum SocketType {
        /// UDP sockets (relayed traffic only).
        Udp = "udp",
        /// Raw sockets (default; needed for directly attached clients).
        Raw = "raw",
    }
}

wire_model! {
    /// `kea/dhcpv4/get`: `{"dhcpv4": {general, lexpire, ha}}`. Subnets and reservations are NOT
    /// part of it (see the subnet and reservation searches).
    ///
    /// The sections are kept as JSON in `dhcpv4`; [`Self::sections`], [`Self::general`] and
    /// [`Self::ha`] read them typed.
    pub struct KeaSettings {
        /// The settings sections, as OPNsense sent them.
        pub dhcpv4: Value,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

impl KeaSettings {
    /// All sections, typed (`None` when `dhcpv4` does not have the expected shape).
    pub fn sections(&self) -> Option<KeaDhcpv4> {
        serde_json::from_value(self.dhcpv4.clone()).ok()
    }

    /// `dhcpv4.general`, typed.
    pub fn general(&self) -> Option<KeaGeneral> {
        serde_json::from_value(self.dhcpv4.get("general")?.clone()).ok()
    }

    /// `dhcpv4.ha`, typed.
    pub fn ha(&self) -> Option<KeaHa> {
        serde_json::from_value(self.dhcpv4.get("ha")?.clone()).ok()
    }

    /// Kea hands out IPv4 addresses: `general.enabled` is on and at least one interface is
    /// selected (`KeaDhcpv4.php::isEnabled()`, 26.1.11 and 26.7.2 lines 101-104; `kea.inc`
    /// `kea_services()` line 41 and `kea_configure_do()` start the daemon only then).
    pub fn serves_dhcp(&self) -> bool {
        self.general().is_some_and(|g| {
            g.enabled == Some(true) && g.interfaces.is_some_and(|i| !i.0.is_empty())
        })
    }
}

wire_model! {
    /// The sections of [`KeaSettings`], typed.
    pub struct KeaDhcpv4 {
        /// General settings.
        #[serde(deserialize_with = "crate::fields::opt_object")]
        pub general: Option<KeaGeneral>,
        /// Lease expiry processing (all integers, empty = Kea's default); kept as JSON.
        pub lexpire: Option<Value>,
        /// High availability.
        #[serde(deserialize_with = "crate::fields::opt_object")]
        pub ha: Option<KeaHa>,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// `dhcpv4.general`.
    pub struct KeaGeneral {
        /// Kea DHCPv4 enabled (default off).
        pub enabled: Option<bool>,
        /// Hand-written configuration instead of the generated one.
        pub manual_config: Option<bool>,
        /// Interfaces served, as config ids (`lan`, `opt1`).
        pub interfaces: Option<CsvList>,
        /// Default lease time in seconds (default 4000).
        pub valid_lifetime: Option<u64>,
        /// Add the automatic firewall rules for DHCP (default on).
        pub fwrules: Option<bool>,
        /// Socket type (default raw).
        #[serde(deserialize_with = "opt")]
        pub dhcp_socket_type: Option<SocketType>,
        /// Compatibility switches.
        pub compatibility: Option<CsvList>,
        /// Anything else (socket retry and decline settings, ...).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// `dhcpv4.ha`.
    pub struct KeaHa {
        /// HA enabled (default off).
        pub enabled: Option<bool>,
        /// This server's name in the HA peer list (empty = the hostname, in `%this_server_name`).
        pub this_server_name: Option<String>,
        /// Unacknowledged clients before failover (default 2).
        pub max_unacked_clients: Option<u64>,
        /// Anything else (`%this_server_name`).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

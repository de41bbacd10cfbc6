//! Dnsmasq DNS/DHCP (`dnsmasq/settings`, `dnsmasq/leases`), as in OPNsense's `Dnsmasq.xml`
//! (`src/opnsense/mvc/app/models/OPNsense/Dnsmasq/Dnsmasq.xml`, the same from 26.1.9 to 26.7.2
//! for every field read here).
//!
//! One `hosts` list serves two purposes: an entry with a MAC address (`hwaddr`) or a client id
//! is a DHCP reservation, one without is a DNS host override (`Dnsmasq.php`
//! `performValidation()`, 26.1.11 and 26.7.2 lines 94-138: `$is_dhcp = !hwaddr->isEmpty() ||
//! !client_id->isEmpty()`).

use serde_json::Value;

use crate::fields::{CsvList, Extra, selected_string};

/// A lease row of `dnsmasq/leases/search` has the keys of a Kea lease row (`address`,
/// `hwaddr`, `hostname`, `client_id`, `expire`, `if`, `if_name`, `if_descr`, `is_reserved`,
/// `mac_info`; `LeasesController.php` 26.1.11 lines 39-113), without `valid_lifetime` and
/// `state`: the same model reads both.
pub type Lease = crate::models::kea::Lease;

wire_model! {
    /// A Dnsmasq host entry (`hosts`, wrapper `host`): a DHCP reservation when it has a MAC
    /// address or a client id, a DNS host override otherwise.
    pub struct Host {
        /// Record id (search rows only).
        pub uuid: Option<String>,
        /// Host label (`nas`; `*` only for DNS overrides). Dnsmasq's HostnameField: one label of
        /// letters, digits, `-` and `_`, not starting with `-` or `_`.
        pub host: Option<String>,
        /// Domain (`lan.example`).
        pub domain: Option<String>,
        /// Answer only from this firewall's local names.
        pub local: Option<bool>,
        /// Addresses (comma-separated; a DHCP reservation has at most one IPv4 address).
        pub ip: Option<CsvList>,
        /// Extra names (CNAMEs).
        pub cnames: Option<CsvList>,
        /// Client id, colon-separated hex pairs, or `*`.
        pub client_id: Option<String>,
        /// MAC addresses (comma-separated).
        pub hwaddr: Option<CsvList>,
        /// Lease time in seconds (empty = the range's).
        pub lease_time: Option<String>,
        /// Ignore this client (no address handed out).
        pub ignore: Option<bool>,
        /// DHCP tag set for this client (a `dhcp_tags` uuid).
        pub set_tag: Option<String>,
        /// Description.
        pub descr: Option<String>,
        /// Comments.
        pub comments: Option<String>,
        /// Aliases (`host.domain` names).
        pub aliases: Option<CsvList>,
        /// Everything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

impl Host {
    /// A DHCP reservation (it has a MAC address or a client id), not a DNS-only override.
    pub fn is_dhcp(&self) -> bool {
        self.hwaddr.as_ref().is_some_and(|h| !h.0.is_empty())
            || self.client_id.as_deref().is_some_and(|c| !c.is_empty())
    }
}

wire_model! {
    /// `GET dnsmasq/settings/get`: the whole Dnsmasq model under `dnsmasq` (general switches,
    /// `dhcp`, and every list: `hosts`, `domainoverrides`, `dhcp_tags`, `dhcp_ranges`,
    /// `dhcp_options`, `dhcp_boot`, each a map of uuid to record, `[]` when empty).
    pub struct DnsmasqSettings {
        /// The model, as OPNsense sent it.
        pub dnsmasq: Value,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

/// The records of a list field of the model (a map of uuid to record; PHP's `[]` when empty).
fn records(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Object(m)) => m.values().collect(),
        Some(Value::Array(a)) => a.iter().collect(),
        _ => Vec::new(),
    }
}

fn keys_of(v: Option<&Value>) -> Vec<String> {
    v.map(selected_string)
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl DnsmasqSettings {
    /// `enable`: the Dnsmasq service is on (`ServiceController.php` `$internalServiceEnabled =
    /// 'enable'`, 26.1.11 and 26.7.2 line 42).
    pub fn enabled(&self) -> bool {
        self.dnsmasq.get("enable").map(selected_string).as_deref() == Some("1")
    }

    /// The DHCP ranges (`dhcp_ranges`), as sent.
    pub fn dhcp_ranges(&self) -> Vec<&Value> {
        records(self.dnsmasq.get("dhcp_ranges"))
    }

    /// The host entries (`hosts`), as sent.
    pub fn hosts(&self) -> Vec<&Value> {
        records(self.dnsmasq.get("hosts"))
    }

    /// Dnsmasq hands out addresses: it is enabled and has at least one DHCP range. Without a
    /// range dnsmasq serves no DHCP at all (`Dnsmasq.php::getDhcpInterfaces()`, 26.1.11 and
    /// 26.7.2 lines 444-470, is empty without a range; `dnsmasq.inc` line 104-106 opens the
    /// DHCP port only then).
    pub fn serves_dhcp(&self) -> bool {
        self.enabled() && !self.dhcp_ranges().is_empty()
    }

    /// The interfaces Dnsmasq serves DHCP on, as `Dnsmasq.php::getDhcpInterfaces()` computes
    /// them: the selected `interface`s, or (none selected: all) the ranges' interfaces, minus
    /// `dhcp.no_interface`. An empty key means a range on any interface.
    pub fn dhcp_interfaces(&self) -> Vec<String> {
        let ranges = self.dhcp_ranges();
        if ranges.is_empty() {
            return Vec::new();
        }
        let exclude = keys_of(self.dnsmasq.pointer("/dhcp/no_interface"));
        let selected = keys_of(self.dnsmasq.get("interface"));
        let candidates: Vec<String> = if selected.is_empty() {
            ranges
                .iter()
                .map(|r| r.get("interface").map(selected_string).unwrap_or_default())
                .collect()
        } else {
            selected
        };
        let mut out: Vec<String> = Vec::new();
        for c in candidates {
            if !exclude.contains(&c) && !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// `dhcp.domain`, or the system domain (`dhcp.%domain`, added by `getAction()`) when empty.
    pub fn dhcp_domain(&self) -> Option<String> {
        let get = |p: &str| {
            self.dnsmasq
                .pointer(p)
                .map(selected_string)
                .filter(|s| !s.is_empty())
        };
        get("/dhcp/domain").or_else(|| get("/dhcp/%domain"))
    }
}

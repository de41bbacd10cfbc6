//! DHCP on the server the firewall really uses: Kea DHCPv4 and Dnsmasq (OPNsense 26.x ships
//! both; ISC DHCP is a plugin on upgraded boxes and is not read here). Leases, settings and
//! static reservations are read from every backend that hands out addresses, each row carrying
//! its `backend`; `backend` picks one. Reservations are added, updated and deleted through the
//! change engine (`record.rs`) and made live with `dhcp_apply`.
//!
//! Which backend serves DHCP (opnsense/core 26.1.11 and 26.7.2, the same lines at both tags):
//! - Kea: `general.enabled` is on and an interface is selected: `KeaDhcpv4.php::isEnabled()`
//!   lines 101-104 (`kea.inc` `kea_configure_do()` starts kea-dhcp4 only then), read from
//!   `GET kea/dhcpv4/get` (`Dhcpv4Controller.php::getAction` line 44).
//! - Dnsmasq: `enable` is on and at least one DHCP range exists: without a range dnsmasq hands
//!   out nothing (`Dnsmasq.php::getDhcpInterfaces()` lines 444-470 is empty; `dnsmasq.inc`
//!   lines 104-106 open the DHCP port only then), read from `GET dnsmasq/settings/get`
//!   (`SettingsController.php::getAction` line 76, the whole model with `dhcp_ranges`).
//!
//! Reservations: Kea `kea/dhcpv4/{search,get,add,set,del}Reservation` (wrapper `reservation`;
//! `Dhcpv4Controller.php` lines 84-106 at 26.1.11, 95-117 at 26.7.2); Dnsmasq
//! `dnsmasq/settings/{search,get,add,set,del}Host` (wrapper `host`; `SettingsController.php`
//! lines 86-109). Dnsmasq's hosts are DHCP reservations only when they carry a MAC address or
//! client id (the others are DNS host overrides, not listed here): `Dnsmasq.php` line 95.
//! `dhcp_static_update` and `dhcp_static_delete` check the host on the change engine's read
//! before the write (`getHost/{uuid}`, `getBase()`: `[]` for an unknown uuid;
//! [`RecordSpec::check_existing`]) and refuse a DNS host entry with the same test, and an
//! update that would clear a reservation's last MAC address / client id (OPNsense would keep
//! the host as a DNS override without a word).
//! OPNsense's rules, checked again by OPNsense (and by the simulator) with these messages:
//! - Kea (`KeaDhcpv4.php::performValidation()` lines 74-98, `KeaDhcpv4.xml` reservation
//!   fields lines 262-320 at 26.1.11, 273-331 at 26.7.2): the address must be inside the
//!   reservation's subnet ("Address not in specified subnet", on `ip_address`, also when the
//!   address is empty); exactly one of MAC and client id ("Either a client ID or a MAC address
//!   should be specified." / "..., but not both", on `hw_address`); `ip_address` unique, MAC and
//!   client id unique per subnet ("Duplicate entry exists."); "Invalid MAC address."; the client
//!   id mask "Value must be a colon-separated hexadecimal sequence (e.g., 01:02:f3)."; an
//!   unknown subnet "Related subnet not found.". Client ids exist from 26.1.8 on
//!   (`Quirk::KeaReservationClientId`).
//! - Dnsmasq (`Dnsmasq.php::performValidation()` lines 94-138, `Dnsmasq.xml` lines 104-146):
//!   a DHCP host's addresses are unique among DHCP hosts ("'%s' is already used in another
//!   DHCP host entry."), at most one IPv4 address ("For IPv4 dhcp reservations, only a single
//!   address is allowed."), a hostname or an address ("At least a hostname or IP address must
//!   be provided for DHCP reservations."), no wildcard host ("Wildcard entries are not allowed
//!   for DHCP reservations.").

use std::net::{IpAddr, Ipv4Addr};

use crate::params::Parameters;
use opnsense_api::api::dnsmasq::{self, HOSTS};
use opnsense_api::api::kea::{self, RESERVATIONS, SUBNETS};
use opnsense_api::fields::{CsvList, decode_lenient};
use opnsense_api::models::dnsmasq::{DnsmasqSettings, Host};
use opnsense_api::models::kea::{KeaSettings, Lease, Reservation};
use opnsense_api::version::Quirk;
use opnsense_api::{SearchPage, SearchQuery};
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::OpnsenseTools;
use crate::common::{
    ListParams, Listing, NewRecord, RequiredFields, Rows, excerpt, keys, single_line,
};
use crate::error::ToolError;
use crate::record::{Applied, ApplyParams, RecordSpec, Staged};

/// The reference server's `inactive` flag: an integer or a boolean, accepted and ignored.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompatFlag;

impl<'de> Deserialize<'de> for CompatFlag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Flag;
        impl serde::de::Visitor<'_> for Flag {
            type Value = CompatFlag;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("`inactive` as 0, 1, true or false (it is ignored)")
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<CompatFlag, E> {
                Ok(CompatFlag)
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<CompatFlag, E> {
                Ok(CompatFlag)
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<CompatFlag, E> {
                Ok(CompatFlag)
            }
        }
        d.deserialize_any(Flag)
    }
}

impl JsonSchema for CompatFlag {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CompatFlag".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": ["integer", "boolean"]})
    }
}

/// A DHCP server of OPNsense 26.x.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Kea DHCPv4 (Services > Kea DHCP).
    Kea,
    /// Dnsmasq's DHCP (Services > Dnsmasq DNS & DHCP).
    Dnsmasq,
}

impl<'de> Deserialize<'de> for Backend {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "kea" => Ok(Backend::Kea),
            "dnsmasq" => Ok(Backend::Dnsmasq),
            _ => Err(serde::de::Error::custom(format!(
                "{:?} is not a DHCP backend: expected \"kea\" or \"dnsmasq\" (ISC DHCP, a plugin, is not read by this server)",
                excerpt(&s)
            ))),
        }
    }
}

impl Backend {
    const BOTH: [Backend; 2] = [Backend::Kea, Backend::Dnsmasq];

    /// The name rows carry (`kea`, `dnsmasq`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Kea => "kea",
            Backend::Dnsmasq => "dnsmasq",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Backend::Kea => "Kea DHCPv4",
            Backend::Dnsmasq => "Dnsmasq DHCP",
        }
    }

    /// What "serves DHCP" means for this backend, in words.
    fn rule(self) -> &'static str {
        match self {
            Backend::Kea => "Kea DHCPv4 enabled with at least one interface",
            Backend::Dnsmasq => "Dnsmasq enabled with at least one DHCP range",
        }
    }
}

const NOTHING_ENABLED: &str = "no DHCP server is enabled on this firewall: neither Kea DHCPv4 (enabled with at least one interface) nor Dnsmasq (enabled with at least one DHCP range) hands out addresses. ISC DHCP (a plugin) is not read by this server";

/// Both settings answers, as read.
#[derive(Default)]
struct Detection {
    kea: Option<(KeaSettings, Value)>,
    dnsmasq: Option<(DnsmasqSettings, Value)>,
}

impl Detection {
    fn serves(&self, b: Backend) -> bool {
        match b {
            Backend::Kea => self.kea.as_ref().is_some_and(|(s, _)| s.serves_dhcp()),
            Backend::Dnsmasq => self.dnsmasq.as_ref().is_some_and(|(s, _)| s.serves_dhcp()),
        }
    }

    fn serving(&self) -> Vec<Backend> {
        Backend::BOTH
            .into_iter()
            .filter(|b| self.serves(*b))
            .collect()
    }
}

/// The lease search of one backend.
fn lease_request(b: Backend, q: &SearchQuery, interfaces: &[String]) -> opnsense_api::Request {
    match b {
        Backend::Kea => kea::leases_request(q, interfaces),
        Backend::Dnsmasq => dnsmasq::leases_request(q, interfaces),
    }
}

/// Adds `"backend"` to every row, so merged pages and raw rows say where a row comes from.
fn tag(rows: &mut [Value], b: Backend) {
    for r in rows {
        if let Some(o) = r.as_object_mut() {
            o.insert("backend".into(), Value::from(b.name()));
        }
    }
}

/// One listing of the rows of the DHCP servers `sources`, each row tagged with its backend:
/// OPNsense's own page of the one server when `upstream_pages`, else every row of each server
/// (read with the search phrase), merged and paged here.
async fn backend_listing<M, T, F>(
    sources: &[Backend],
    q: &SearchQuery,
    raw: bool,
    rows: &Rows<M, T>,
    upstream_pages: bool,
    read: impl Fn(Backend, SearchQuery) -> F,
) -> Result<Listing<T>, ToolError>
where
    M: serde::de::DeserializeOwned,
    F: Future<Output = Result<SearchPage<Value>, ToolError>>,
{
    if upstream_pages && let [one] = sources {
        let mut page = read(*one, q.clone()).await?;
        tag(&mut page.rows, *one);
        return Ok(Listing::from_page(q, raw, page, rows));
    }
    let all = SearchQuery::all().phrase(q.search_phrase.clone());
    let mut merged = Vec::new();
    for b in sources {
        let mut page = read(*b, all.clone()).await?;
        tag(&mut page.rows, *b);
        merged.extend(page.rows);
    }
    Ok(Listing::from_all(&q.clone().phrase(""), raw, merged, rows))
}

fn backend_of(extra: &opnsense_api::fields::Extra) -> String {
    extra
        .get("backend")
        .and_then(Value::as_str)
        .unwrap_or("kea")
        .to_owned()
}

/// Arguments of `dhcp_lease_list`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseListParams {
    /// Page, from 1 (default 1).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub current: Option<u32>,
    /// Rows per page, 1 to 1000, or -1 for all (at most 1000); default 100.
    #[serde(default)]
    #[schemars(range(min = -1, max = 1000))]
    pub row_count: Option<i64>,
    /// Words every row must contain (case-insensitive, any column).
    #[serde(default)]
    pub search_phrase: Option<String>,
    /// Ignored (Kea and Dnsmasq have no such filter); expired leases are never listed.
    // Kept for the reference's ISC DHCP option.
    #[serde(default)]
    pub inactive: Option<CompatFlag>,
    /// Only these interface keys (`lan`, `opt1`); default all.
    #[serde(default)]
    pub interfaces: Option<Vec<String>>,
    /// Only this DHCP server (default: every enabled one).
    #[serde(default)]
    pub backend: Option<Backend>,
    /// OPNsense's full JSON rows (with `backend`) instead of compact ones.
    #[serde(default)]
    pub raw: bool,
}

/// A lease in compact form.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LeaseView {
    /// The DHCP server that handed it out (`kea`, `dnsmasq`).
    pub backend: String,
    /// Leased address.
    pub address: String,
    /// Client MAC address.
    pub mac: String,
    /// Host name the client gave, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Interface key (`lan`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// When the lease expires (unix time, seconds; Dnsmasq: 0 = never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<i64>,
    /// A static reservation matches this client (see dhcp_static_list).
    pub reserved: bool,
}

impl From<Lease> for LeaseView {
    fn from(l: Lease) -> Self {
        let reserved = l.is_reserved();
        let interface = l.if_name.filter(|s| !s.is_empty()).or_else(|| {
            l.extra
                .get("if")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        });
        Self {
            backend: backend_of(&l.extra),
            address: l.address,
            mac: l.hwaddr,
            // Dnsmasq writes `*` for a client that sent no name.
            hostname: Some(l.hostname).filter(|h| !h.is_empty() && h != "*"),
            interface,
            expires: l.expire,
            reserved,
        }
    }
}

/// One DHCP server's settings in compact form.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BackendSettings {
    /// `kea` or `dnsmasq`.
    pub backend: &'static str,
    /// The service's own switch is on (Kea `general.enabled`, Dnsmasq `enable`; Dnsmasq may
    /// be on as a DNS server only).
    pub enabled: bool,
    /// It hands out addresses: Kea enabled with an interface, Dnsmasq enabled with a DHCP
    /// range.
    pub serves_dhcp: bool,
    /// Interfaces it serves DHCP on (keys such as `lan`; `any` for a Dnsmasq range on every
    /// interface).
    pub interfaces: Vec<String>,
    /// Kea: default lease time in seconds, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_lifetime: Option<u64>,
    /// Kea: high availability (a peer Kea server) is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha_enabled: Option<bool>,
    /// Dnsmasq: number of DHCP ranges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dhcp_ranges: Option<usize>,
    /// Dnsmasq: number of hosts that are DHCP reservations (with a MAC address or client id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<usize>,
    /// Dnsmasq: the domain of DHCP clients (`dhcp.domain`, else the system domain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

/// The DHCP servers' settings in compact form.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DhcpSettingsView {
    /// The servers that hand out addresses now (`kea`, `dnsmasq`); empty: none is enabled.
    pub serving: Vec<&'static str>,
    /// Each server read.
    pub backends: Vec<BackendSettings>,
    /// What the answer means and where the rest is.
    pub note: String,
    /// OPNsense's full answers, by backend (only with `raw: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub raw: Option<Value>,
}

fn kea_settings(s: &KeaSettings) -> Result<BackendSettings, ToolError> {
    let Some(sections) = s.sections() else {
        return Err(ToolError::message(
            "OPNsense returned an unexpected answer: no dhcpv4 settings (call again with raw: true to see it)",
        ));
    };
    let general = sections.general.unwrap_or_default();
    Ok(BackendSettings {
        backend: Backend::Kea.name(),
        enabled: general.enabled.unwrap_or(false),
        serves_dhcp: s.serves_dhcp(),
        interfaces: general.interfaces.map(|i| i.0).unwrap_or_default(),
        valid_lifetime: general.valid_lifetime,
        ha_enabled: Some(sections.ha.and_then(|h| h.enabled).unwrap_or(false)),
        dhcp_ranges: None,
        reservations: None,
        domain: None,
    })
}

fn dnsmasq_settings(s: &DnsmasqSettings) -> Result<BackendSettings, ToolError> {
    if !s.dnsmasq.is_object() {
        return Err(ToolError::message(
            "OPNsense returned an unexpected answer: no dnsmasq settings (call again with raw: true to see it)",
        ));
    }
    let reservations = s
        .hosts()
        .into_iter()
        .filter(|h| is_reservation_row(h))
        .count();
    Ok(BackendSettings {
        backend: Backend::Dnsmasq.name(),
        enabled: s.enabled(),
        serves_dhcp: s.serves_dhcp(),
        interfaces: s
            .dhcp_interfaces()
            .into_iter()
            .map(|i| if i.is_empty() { "any".to_owned() } else { i })
            .collect(),
        valid_lifetime: None,
        ha_enabled: None,
        dhcp_ranges: Some(s.dhcp_ranges().len()),
        reservations: Some(reservations),
        domain: s.dhcp_domain(),
    })
}

/// Arguments of `dhcp_settings_get`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsParams {
    /// Only this DHCP server (default: both).
    #[serde(default)]
    pub backend: Option<Backend>,
    /// Add OPNsense's answers (`raw.kea`, `raw.dnsmasq`).
    #[serde(default)]
    pub raw: bool,
}

/// Arguments of `dhcp_static_list`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaticListParams {
    /// Page, from 1 (default 1).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub current: Option<u32>,
    /// Rows per page, 1 to 1000, or -1 for all (at most 1000); default 100.
    #[serde(default)]
    #[schemars(range(min = -1, max = 1000))]
    pub row_count: Option<i64>,
    /// Words every row must contain (case-insensitive, any column).
    #[serde(default)]
    pub search_phrase: Option<String>,
    /// Only this DHCP server (default: every enabled one).
    #[serde(default)]
    pub backend: Option<Backend>,
    /// OPNsense's full JSON rows (with `backend`) instead of compact ones.
    #[serde(default)]
    pub raw: bool,
}

/// A static reservation in compact form.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct ReservationView {
    /// The DHCP server it belongs to (`kea`, `dnsmasq`).
    pub backend: String,
    /// Reservation id (use it with dhcp_static_update / dhcp_static_delete and this backend).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Kea: the subnet it belongs to (CIDR; the subnet's uuid when OPNsense gives no display
    /// text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// Fixed address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Client MAC address (Dnsmasq: several, comma-separated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hw_address: Option<String>,
    /// Client id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Host name handed to the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Dnsmasq: its domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl From<Reservation> for ReservationView {
    fn from(r: Reservation) -> Self {
        let display = r
            .extra
            .get("%subnet")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        Self {
            backend: Backend::Kea.name().to_owned(),
            uuid: r.uuid,
            subnet: display.or(r.subnet),
            ip_address: r.ip_address,
            hw_address: r.hw_address,
            client_id: r.client_id,
            hostname: r.hostname,
            domain: None,
            description: r.description,
        }
    }
}

impl From<Host> for ReservationView {
    fn from(h: Host) -> Self {
        Self {
            backend: Backend::Dnsmasq.name().to_owned(),
            uuid: h.uuid,
            subnet: None,
            ip_address: h.ip.map(|i| i.to_string()),
            hw_address: h.hwaddr.map(|m| m.to_string()),
            client_id: h.client_id,
            hostname: h.host,
            domain: h.domain,
            description: h.descr,
        }
    }
}

/// Whether a Dnsmasq host as sent (a search row or a `settings/get` record) is a DHCP
/// reservation: [`Host::is_dhcp`] (a MAC address or a client id: OPNsense's `$is_dhcp`,
/// `Dnsmasq.php` line 95), the one test behind `dhcp_static_list`, the reservation count of
/// `dhcp_settings_get` and the refusals of `dhcp_static_update` / `dhcp_static_delete`, so a
/// write never reaches a host the list hides.
fn is_reservation_row(row: &Value) -> bool {
    decode_lenient::<Host>(row).is_ok_and(|h| h.value.is_dhcp())
}

/// The refusal of a write to a Dnsmasq host that is not a DHCP reservation.
fn dns_host_refusal(uuid: &str, host: &Host) -> ToolError {
    let name = [host.host.as_deref(), host.domain.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(".");
    let named = if name.is_empty() {
        String::new()
    } else {
        format!(" ({})", excerpt(&name))
    };
    ToolError::invalid(
        "uuid",
        format!(
            "{uuid}{named} is a Dnsmasq DNS host entry (no MAC address or client id), not a DHCP reservation: dhcp_static_list does not show it and the dhcp_static_* tools do not change it. This server has no tool for Dnsmasq's DNS host entries (OPNsense: Services > Dnsmasq DNS & DHCP > Hosts); dhcp_static_list with backend \"dnsmasq\" shows the reservations' uuids"
        ),
    )
}

/// An update (`update`: the fields given) of the Dnsmasq reservation `host` must leave it a
/// reservation: clearing its MAC address and client id (the others kept) would make it a DNS
/// host entry, which OPNsense accepts silently. Refused naming the field that clears the last
/// one.
fn keeps_a_client_key(update: &Host, host: &Host) -> Result<(), ToolError> {
    let after = Host {
        hwaddr: update.hwaddr.clone().or_else(|| host.hwaddr.clone()),
        client_id: update.client_id.clone().or_else(|| host.client_id.clone()),
        ..Host::default()
    };
    if after.is_dhcp() {
        return Ok(());
    }
    let name = if update.hwaddr.is_some() {
        "hw_address"
    } else {
        "client_id"
    };
    Err(ToolError::invalid(
        field(name),
        "would leave the reservation with neither a MAC address nor a client id, which makes it a Dnsmasq DNS host entry instead of a DHCP reservation: give the new hw_address or client_id, or delete the reservation with dhcp_static_delete",
    ))
}

/// A tagged static row (Kea reservation or Dnsmasq host) as its compact view.
fn static_view(row: &Value) -> ReservationView {
    if row.get("backend").and_then(Value::as_str) == Some(Backend::Dnsmasq.name()) {
        decode_lenient::<Host>(row)
            .map(|l| ReservationView::from(l.value))
            .unwrap_or_default()
    } else {
        decode_lenient::<Reservation>(row)
            .map(|l| ReservationView::from(l.value))
            .unwrap_or_default()
    }
}

/// A fixed address for a client. On update, only the fields given change. Which fields a
/// backend takes: Kea `subnet`; Dnsmasq `domain`; both the rest.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationSpec {
    /// The fixed address (Kea: IPv4 in one of its subnets; Dnsmasq: IPv4 or IPv6).
    pub ip_address: Option<String>,
    /// Client MAC (`00:11:22:33:44:55`); Kea needs exactly one of this and client_id,
    /// Dnsmasq at least one.
    pub hw_address: Option<String>,
    /// DHCP client id, hex pairs (`01:00:11:22:33:44:55`; Dnsmasq also `*`); Kea 26.1.8+.
    pub client_id: Option<String>,
    /// Host name for the client (Dnsmasq: one label, `nas`).
    pub hostname: Option<String>,
    /// Purpose, one line, at most 255 characters.
    pub description: Option<String>,
    /// Kea only: subnet CIDR (`192.168.1.0/24`) or uuid; default on add: the one holding
    /// ip_address.
    pub subnet: Option<String>,
    /// Dnsmasq only: the host's domain (`lan.example`).
    pub domain: Option<String>,
}

impl RequiredFields for ReservationSpec {
    const ARGUMENT: &'static str = "reservation";
    const REQUIRED: &'static [&'static str] = &["ip_address"];
}

/// `/^(?![_-])[A-Za-z0-9_-]{1,63}$/`: one label of Dnsmasq's HostnameField
/// (`models/OPNsense/Dnsmasq/FieldTypes/HostnameField.php`, 26.1.11 and 26.7.2).
fn is_dnsmasq_label(l: &str) -> bool {
    (1..=63).contains(&l.len())
        && !l.starts_with(['_', '-'])
        && l.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A DNS name (Kea's HostnameField with IsDNSName): labels of letters, digits, `-` and `_`.
fn is_dns_name(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|l| {
            (1..=63).contains(&l.len())
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
        && !(s.contains(':') && s.contains('-'))
}

/// `/^(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+)$/`.
fn is_client_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_uuid(s: &str) -> bool {
    opnsense_api::Uuid::parse(s).is_ok()
}

fn field(name: &str) -> String {
    format!("reservation.{name}")
}

impl ReservationSpec {
    /// Checks every field given for `backend`, naming the field (nothing is sent before).
    fn check(&self, backend: Backend) -> Result<(), ToolError> {
        let other = match backend {
            Backend::Kea => self.domain.as_ref().map(|_| ("domain", Backend::Dnsmasq)),
            Backend::Dnsmasq => self.subnet.as_ref().map(|_| ("subnet", Backend::Kea)),
        };
        if let Some((name, owner)) = other {
            return Err(ToolError::invalid(
                field(name),
                format!(
                    "is a {} field; {} reservations have none",
                    owner.title(),
                    backend.title()
                ),
            ));
        }
        if let Some(ip) = &self.ip_address {
            let parsed: Option<IpAddr> = ip.parse().ok();
            let ok = match backend {
                Backend::Kea => parsed.is_some_and(|a| a.is_ipv4()),
                Backend::Dnsmasq => parsed.is_some(),
            };
            if !ok {
                return Err(ToolError::invalid(
                    field("ip_address"),
                    format!(
                        "{:?} is not {} address",
                        excerpt(ip),
                        match backend {
                            Backend::Kea => "an IPv4",
                            Backend::Dnsmasq => "an IP",
                        }
                    ),
                ));
            }
        }
        if let Some(mac) = self.hw_address.as_deref().filter(|m| !m.is_empty())
            && !is_mac(mac)
        {
            return Err(ToolError::invalid(
                field("hw_address"),
                format!(
                    "{:?} is not a MAC address (six hex pairs, e.g. 00:11:22:33:44:55)",
                    excerpt(mac)
                ),
            ));
        }
        if let Some(id) = self.client_id.as_deref().filter(|c| !c.is_empty())
            && !(is_client_id(id) || (backend == Backend::Dnsmasq && id == "*"))
        {
            return Err(ToolError::invalid(
                field("client_id"),
                format!(
                    "{:?} is not a client id: colon-separated hex pairs such as 01:02:f3{}",
                    excerpt(id),
                    if backend == Backend::Dnsmasq {
                        ", or *"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let hostname = single_line(&field("hostname"), self.hostname.clone(), 253)?;
        if let Some(h) = hostname.as_deref().filter(|h| !h.is_empty()) {
            let ok = match backend {
                Backend::Kea => is_dns_name(h),
                Backend::Dnsmasq => is_dnsmasq_label(h),
            };
            if !ok {
                return Err(ToolError::invalid(
                    field("hostname"),
                    match backend {
                        Backend::Kea => format!(
                            "{:?} is not a host name (labels of letters, digits, - and _ separated by dots)",
                            excerpt(h)
                        ),
                        Backend::Dnsmasq => format!(
                            "{:?} is not a Dnsmasq host name: one label of 1 to 63 letters, digits, - or _, not starting with - or _",
                            excerpt(h)
                        ),
                    },
                ));
            }
        }
        if let Some(d) = single_line(&field("domain"), self.domain.clone(), 253)?
            && !d.is_empty()
            && !d.split('.').all(is_dnsmasq_label)
        {
            return Err(ToolError::invalid(
                field("domain"),
                format!(
                    "{:?} is not a domain: labels of 1 to 63 letters, digits, - or _, separated by dots",
                    excerpt(&d)
                ),
            ));
        }
        single_line(&field("description"), self.description.clone(), 255)?;
        if let Some(s) = self.subnet.as_deref()
            && !is_uuid(s)
            && parse_v4_cidr(s).is_none()
        {
            return Err(ToolError::invalid(
                field("subnet"),
                format!(
                    "{:?} is neither a subnet (192.168.1.0/24) nor a subnet uuid",
                    excerpt(s)
                ),
            ));
        }
        Ok(())
    }

    /// The checks made before the backend is known (nothing is read before them): for the
    /// backend given, else for either (the one its fields point to when both refuse).
    fn check_before_detection(&self, backend: Option<Backend>) -> Result<(), ToolError> {
        if let Some(b) = backend {
            return self.check(b);
        }
        let likely = if self.domain.is_some() {
            Backend::Dnsmasq
        } else {
            Backend::Kea
        };
        let other = match likely {
            Backend::Kea => Backend::Dnsmasq,
            Backend::Dnsmasq => Backend::Kea,
        };
        match self.check(likely) {
            Ok(()) => Ok(()),
            Err(e) => self.check(other).map_err(|_| e),
        }
    }

    /// What a new reservation needs beyond `ip_address`.
    fn check_new_for(&self, backend: Backend) -> Result<(), ToolError> {
        let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
        match (backend, given(&self.hw_address), given(&self.client_id)) {
            (_, false, false) => Err(ToolError::invalid(
                field("hw_address"),
                "a reservation needs the client's MAC address (hw_address) or its client_id",
            )),
            (Backend::Kea, true, true) => Err(ToolError::invalid(
                field("hw_address"),
                "Kea takes either a MAC address or a client id, not both (OPNsense: \"Either a client ID or a MAC address should be specified, but not both\")",
            )),
            _ => Ok(()),
        }
    }
}

fn parse_v4_cidr(s: &str) -> Option<(Ipv4Addr, u8)> {
    let (net, bits) = s.split_once('/')?;
    let net: Ipv4Addr = net.trim().parse().ok()?;
    let bits: u8 = bits.trim().parse().ok()?;
    (bits <= 32).then_some((net, bits))
}

fn v4_in(ip: Ipv4Addr, (net, bits): (Ipv4Addr, u8)) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(bits))
    };
    u32::from(ip) & mask == u32::from(net) & mask
}

/// OPNsense's names of Dnsmasq's host fields and this tool's (Kea's are the tool's own).
const DNSMASQ_NAMES: &[(&str, &str)] = &[
    ("host.ip", "reservation.ip_address"),
    ("host.hwaddr", "reservation.hw_address"),
    ("host.host", "reservation.hostname"),
    ("host.descr", "reservation.description"),
    ("host.client_id", "reservation.client_id"),
    ("host.domain", "reservation.domain"),
];

/// Dnsmasq's validation messages with the fields in this tool's names (`host.ip:` becomes
/// `reservation.ip_address:`), so the fields to correct are the ones the tool takes.
fn in_tool_names(e: ToolError) -> ToolError {
    let text = e.text();
    if !text.contains("dnsmasq/settings/") {
        return e;
    }
    let mut t = text.to_owned();
    for (theirs, ours) in DNSMASQ_NAMES {
        for sep in [": ", "; "] {
            t = t.replace(&format!("{sep}{theirs}: "), &format!("{sep}{ours}: "));
        }
    }
    ToolError::message(t)
}

/// A reservation written to Kea (`kea/dhcpv4/*Reservation`).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct KeaReservation(pub ReservationSpec);

/// A reservation written to Dnsmasq (`dnsmasq/settings/*Host`).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct DnsmasqReservation(pub ReservationSpec);

impl RequiredFields for KeaReservation {
    const ARGUMENT: &'static str = "reservation";
    const REQUIRED: &'static [&'static str] = &["ip_address", "subnet"];
}

impl RequiredFields for DnsmasqReservation {
    const ARGUMENT: &'static str = "reservation";
    const REQUIRED: &'static [&'static str] = &["ip_address"];
}

fn empty_to_none(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

impl RecordSpec for KeaReservation {
    type Model = Reservation;
    type Row = Reservation;
    const GRID: &'static opnsense_api::GridSpec<Reservation> = &RESERVATIONS;
    const APPLY: &'static str = "dhcp_apply";
    const LIST: &'static str = "dhcp_static_list";

    fn check_new(&self) -> Result<(), ToolError> {
        self.0.check_new_for(Backend::Kea)
    }

    fn from_model(r: &Reservation) -> Self {
        Self(ReservationSpec {
            ip_address: r.ip_address.clone(),
            hw_address: r.hw_address.clone(),
            client_id: r.client_id.clone(),
            hostname: r.hostname.clone(),
            description: r.description.clone(),
            subnet: r.subnet.clone(),
            domain: None,
        })
    }

    fn into_model(self) -> Result<Reservation, ToolError> {
        self.0.check(Backend::Kea)?;
        let s = self.0;
        Ok(Reservation {
            subnet: s.subnet,
            ip_address: s.ip_address,
            hw_address: s.hw_address,
            client_id: s.client_id,
            hostname: s.hostname,
            description: s.description,
            ..Reservation::default()
        })
    }
}

impl RecordSpec for DnsmasqReservation {
    type Model = Host;
    type Row = Host;
    const GRID: &'static opnsense_api::GridSpec<Host> = &HOSTS;
    const APPLY: &'static str = "dhcp_apply";
    const LIST: &'static str = "dhcp_static_list";

    fn check_new(&self) -> Result<(), ToolError> {
        self.0.check_new_for(Backend::Dnsmasq)
    }

    /// Only a DHCP reservation ([`Host::is_dhcp`]) is written, and an update must leave it one.
    fn check_existing(uuid: &str, current: &Value, update: Option<&Host>) -> Result<(), ToolError> {
        let host = decode_lenient::<Host>(current)
            .map(|h| h.value)
            .map_err(|e| {
                ToolError::message(format!(
                    "OPNsense returned an unexpected answer for Dnsmasq host {uuid}: {e}"
                ))
            })?;
        if !host.is_dhcp() {
            return Err(dns_host_refusal(uuid, &host));
        }
        update.map_or(Ok(()), |u| keeps_a_client_key(u, &host))
    }

    fn from_model(h: &Host) -> Self {
        let joined = |l: &Option<CsvList>| {
            l.as_ref()
                .filter(|l| !l.0.is_empty())
                .map(ToString::to_string)
        };
        Self(ReservationSpec {
            ip_address: joined(&h.ip),
            hw_address: joined(&h.hwaddr),
            client_id: h.client_id.clone(),
            hostname: h.host.clone(),
            description: h.descr.clone(),
            subnet: None,
            domain: h.domain.clone(),
        })
    }

    fn into_model(self) -> Result<Host, ToolError> {
        self.0.check(Backend::Dnsmasq)?;
        let s = self.0;
        let list =
            |v: Option<String>| v.map(|v| CsvList(empty_to_none(Some(v)).into_iter().collect()));
        Ok(Host {
            host: s.hostname,
            domain: s.domain,
            ip: list(s.ip_address),
            client_id: s.client_id,
            hwaddr: list(s.hw_address),
            descr: s.description,
            ..Host::default()
        })
    }
}

/// Arguments of `dhcp_static_add`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaticAddParams {
    /// The DHCP server to add it to. Default: the one that is enabled; required when both or
    /// neither are.
    #[serde(default)]
    pub backend: Option<Backend>,
    /// The new reservation.
    pub reservation: NewRecord<ReservationSpec>,
}

/// Arguments of `dhcp_static_update`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaticUpdateParams {
    /// The DHCP server the reservation belongs to (its `backend` in dhcp_static_list).
    /// Default: the one that is enabled; required when both or neither are.
    #[serde(default)]
    pub backend: Option<Backend>,
    /// The reservation's uuid.
    pub uuid: String,
    /// The fields to change; the others keep their values.
    pub reservation: ReservationSpec,
}

/// Arguments of `dhcp_static_delete`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StaticDeleteParams {
    /// The DHCP server the reservation belongs to. Default: the one that is enabled; required
    /// when both or neither are.
    #[serde(default)]
    pub backend: Option<Backend>,
    /// The reservation's uuid.
    pub uuid: String,
}

/// Arguments of `dhcp_apply`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DhcpApplyParams {
    /// The DHCP server whose staged changes to apply. Default: the one that is enabled;
    /// required when both or neither are.
    #[serde(default)]
    pub backend: Option<Backend>,
    /// Seconds the change stays live before it is reverted unless change_confirm confirms it
    /// (default: the server's OPNSENSE_CONFIRM_TIMEOUT, 60 unless set; 0 = confirm as soon as
    /// the checks pass).
    #[serde(default)]
    #[schemars(range(max = 86_400))]
    pub confirm_timeout_s: Option<u32>,
    /// Apply even though the lockout pre-flight refuses (not used for DHCP; accepted for
    /// symmetry with the other apply tools).
    #[serde(default)]
    pub force: bool,
}

impl OpnsenseTools {
    /// Reads the settings of `which` (one GET each).
    async fn detect(&self, which: &[Backend]) -> Result<Detection, ToolError> {
        let mut d = Detection::default();
        for b in which {
            match b {
                Backend::Kea => {
                    let read: (KeaSettings, Value) = self
                        .client()
                        .send_json_with_raw(kea::settings_request())
                        .await?;
                    kea_settings(&read.0)?;
                    d.kea = Some(read);
                }
                Backend::Dnsmasq => {
                    let read: (DnsmasqSettings, Value) = self
                        .client()
                        .send_json_with_raw(dnsmasq::settings_request())
                        .await?;
                    dnsmasq_settings(&read.0)?;
                    d.dnsmasq = Some(read);
                }
            }
        }
        Ok(d)
    }

    /// The backends a read answers from: the one asked for (with a note when it hands out
    /// nothing), else every one that serves DHCP; none is an error that says so.
    async fn read_sources(
        &self,
        backend: Option<Backend>,
    ) -> Result<(Vec<Backend>, Option<String>), ToolError> {
        if let Some(b) = backend {
            let d = self.detect(&[b]).await?;
            let note = (!d.serves(b)).then(|| {
                format!(
                    "{} is not serving DHCP on this firewall (it needs to be {}): these rows are what its API answers",
                    b.title(),
                    b.rule()
                )
            });
            return Ok((vec![b], note));
        }
        let serving = self.detect(&Backend::BOTH).await?.serving();
        if serving.is_empty() {
            return Err(ToolError::message(format!(
                "{NOTHING_ENABLED}. Pass backend (\"kea\" or \"dnsmasq\") to read one anyway."
            )));
        }
        Ok((serving, None))
    }

    /// The backend a write goes to: the one asked for, else the only one that serves DHCP.
    async fn write_target(&self, backend: Option<Backend>) -> Result<Backend, ToolError> {
        if let Some(b) = backend {
            return Ok(b);
        }
        match self.detect(&Backend::BOTH).await?.serving().as_slice() {
            [one] => Ok(*one),
            [] => Err(ToolError::invalid(
                "backend",
                format!(
                    "is required: {NOTHING_ENABLED}; pass backend (\"kea\" or \"dnsmasq\") to stage the change for a server you are about to enable"
                ),
            )),
            _ => Err(ToolError::invalid(
                "backend",
                "is required: both Kea DHCPv4 and Dnsmasq serve DHCP on this firewall; pass backend \"kea\" or \"dnsmasq\" (dhcp_static_list shows each reservation's backend)",
            )),
        }
    }

    /// The Kea subnet of a new reservation: the one given (uuid kept, CIDR looked up), else
    /// the one that contains the address.
    async fn kea_subnet(&self, spec: &ReservationSpec) -> Result<String, ToolError> {
        if let Some(s) = spec.subnet.as_deref().filter(|s| is_uuid(s)) {
            return Ok(s.to_owned());
        }
        let page = self.search_raw(&SUBNETS, &SearchQuery::all()).await?;
        let subnets: Vec<(String, String)> = page
            .rows
            .iter()
            .filter_map(|r| {
                Some((
                    r.get("uuid")?.as_str()?.to_owned(),
                    r.get("subnet")?.as_str()?.to_owned(),
                ))
            })
            .collect();
        let list = || {
            let cidrs: Vec<&str> = subnets.iter().map(|(_, c)| c.as_str()).collect();
            if cidrs.is_empty() {
                "Kea has no subnet yet".to_owned()
            } else {
                format!("Kea's subnets: {}", cidrs.join(", "))
            }
        };
        if let Some(want) = spec.subnet.as_deref() {
            let want = parse_v4_cidr(want);
            return subnets
                .iter()
                .find(|(_, c)| parse_v4_cidr(c) == want)
                .map(|(u, _)| u.clone())
                .ok_or_else(|| {
                    ToolError::invalid(field("subnet"), format!("is not a Kea subnet ({})", list()))
                });
        }
        let ip: Option<Ipv4Addr> = spec.ip_address.as_deref().and_then(|s| s.parse().ok());
        ip.and_then(|ip| {
            subnets
                .iter()
                .find(|(_, c)| parse_v4_cidr(c).is_some_and(|n| v4_in(ip, n)))
        })
        .map(|(u, _)| u.clone())
        .ok_or_else(|| {
            ToolError::invalid(
                field("ip_address"),
                format!(
                    "is in none of Kea's subnets, so OPNsense would refuse it (\"Address not in specified subnet\"); {}",
                    list()
                ),
            )
        })
    }

    /// Kea reservations take a client id from 26.1.8 on.
    async fn kea_client_id_supported(&self, spec: &ReservationSpec) -> Result<(), ToolError> {
        if spec.client_id.as_deref().is_none_or(str::is_empty) {
            return Ok(());
        }
        match self.client().firmware_version().await {
            Some(v) if !v.has(Quirk::KeaReservationClientId) => Err(ToolError::invalid(
                field("client_id"),
                format!(
                    "Kea reservations take a client id from OPNsense {} on; this firewall runs {v}: use hw_address",
                    Quirk::KeaReservationClientId.since()
                ),
            )),
            _ => Ok(()),
        }
    }
}

#[tool_router(router = dhcp_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// List current DHCP leases of the DHCP servers that are enabled (Kea DHCPv4, Dnsmasq;
    /// `backend` picks one), paged. When no DHCP server is enabled it says so (an error)
    /// rather than listing nothing.
    #[tool(annotations(title = "List DHCP leases"))]
    pub(crate) async fn dhcp_lease_list(
        &self,
        Parameters(p): Parameters<LeaseListParams>,
    ) -> Result<Json<Listing<LeaseView>>, ToolError> {
        if p.inactive.is_some() {
            tracing::debug!("dhcp_lease_list: `inactive` is ignored (no DHCP server has it)");
        }
        let q = ListParams {
            current: p.current,
            row_count: p.row_count,
            search_phrase: p.search_phrase,
            raw: p.raw,
        }
        .query()?;
        let interfaces = keys("interfaces", p.interfaces)?
            .map(|l| l.0)
            .unwrap_or_default();
        let (sources, note) = self.read_sources(p.backend).await?;
        let rows = Rows::<Lease, _>::all(LeaseView::from);
        let one_server = sources.len() == 1;
        let (this, interfaces) = (self, &interfaces);
        let read = move |b, q: SearchQuery| async move {
            Ok(this
                .client()
                .send_json(lease_request(b, &q, interfaces))
                .await?)
        };
        let listing = backend_listing(&sources, &q, p.raw, &rows, one_server, read).await?;
        Ok(Json(Listing { note, ..listing }))
    }

    /// DHCP settings per backend (Kea, Dnsmasq): serving, interfaces, lease time, ranges.
    /// Reservations: dhcp_static_list.
    #[tool(annotations(title = "DHCP settings"))]
    async fn dhcp_settings_get(
        &self,
        Parameters(p): Parameters<SettingsParams>,
    ) -> Result<Json<DhcpSettingsView>, ToolError> {
        let which: Vec<Backend> = p.backend.map_or(Backend::BOTH.to_vec(), |b| vec![b]);
        let d = self.detect(&which).await?;
        let mut backends = Vec::new();
        let mut raw = serde_json::Map::new();
        if let Some((s, v)) = &d.kea {
            backends.push(kea_settings(s)?);
            raw.insert("kea".into(), v.clone());
        }
        if let Some((s, v)) = &d.dnsmasq {
            backends.push(dnsmasq_settings(s)?);
            raw.insert("dnsmasq".into(), v.clone());
        }
        let serving: Vec<&'static str> = d.serving().into_iter().map(Backend::name).collect();
        let note = match serving.as_slice() {
            [] if p.backend.is_none() => format!(
                "{NOTHING_ENABLED}: leases and reservations lists will say so"
            ),
            [] => "this DHCP server is not serving DHCP".to_owned(),
            [_] => "subnets and static reservations are not part of these settings; use dhcp_static_list for reservations".to_owned(),
            _ => "Kea and Dnsmasq both serve DHCP: dhcp_lease_list and dhcp_static_list answer from both, writes need backend; use dhcp_static_list for reservations".to_owned(),
        };
        Ok(Json(DhcpSettingsView {
            serving,
            backends,
            note,
            raw: p.raw.then_some(Value::Object(raw)),
        }))
    }

    /// List static DHCP reservations (a fixed address for a MAC address or client id) of the
    /// DHCP servers that are enabled (Kea reservations, Dnsmasq hosts with a MAC address or
    /// client id; `backend` picks one), paged.
    #[tool(annotations(title = "List DHCP reservations"))]
    async fn dhcp_static_list(
        &self,
        Parameters(p): Parameters<StaticListParams>,
    ) -> Result<Json<Listing<ReservationView>>, ToolError> {
        let q = ListParams {
            current: p.current,
            row_count: p.row_count,
            search_phrase: p.search_phrase,
            raw: p.raw,
        }
        .query()?;
        let (sources, note) = self.read_sources(p.backend).await?;
        let rows = Rows::<Value, _>::all(|r: Value| static_view(&r));
        // Dnsmasq's hosts are DHCP reservations and DNS overrides in one list: read them all
        // and keep the reservations, then page.
        let kea_only = sources == [Backend::Kea];
        let this = self;
        let read = move |b, q: SearchQuery| async move {
            Ok(match b {
                Backend::Kea => this.search_raw(&RESERVATIONS, &q).await?,
                Backend::Dnsmasq => {
                    let mut page = this.search_raw(&HOSTS, &q).await?;
                    page.rows.retain(is_reservation_row);
                    page
                }
            })
        };
        let listing = backend_listing(&sources, &q, p.raw, &rows, kea_only, read).await?;
        Ok(Json(Listing { note, ..listing }))
    }

    /// Add a static DHCP reservation: a fixed address for a client's MAC address (or client
    /// id), in Kea (default subnet: the one containing the address) or Dnsmasq. `backend`
    /// defaults to the DHCP server that is enabled. Staged: it takes effect after dhcp_apply.
    #[tool(annotations(title = "Add a DHCP reservation"))]
    async fn dhcp_static_add(
        &self,
        Parameters(p): Parameters<StaticAddParams>,
    ) -> Result<Json<Staged>, ToolError> {
        let spec = p.reservation.check()?;
        spec.check_before_detection(p.backend)?;
        // Without a backend, what either needs (Dnsmasq's rule is the weaker one).
        spec.check_new_for(p.backend.unwrap_or(Backend::Dnsmasq))?;
        let backend = self.write_target(p.backend).await?;
        spec.check(backend)?;
        spec.check_new_for(backend)?;
        match backend {
            Backend::Kea => {
                self.kea_client_id_supported(&spec).await?;
                let subnet = self.kea_subnet(&spec).await?;
                let spec = ReservationSpec {
                    subnet: Some(subnet),
                    ..spec
                };
                self.add_record(NewRecord(KeaReservation(spec))).await
            }
            Backend::Dnsmasq => self
                .add_record(NewRecord(DnsmasqReservation(spec)))
                .await
                .map_err(in_tool_names),
        }
    }

    /// Change fields of a static DHCP reservation (only those given) in Kea or Dnsmasq.
    /// Staged: it takes effect after dhcp_apply. An unknown uuid is refused (OPNsense would
    /// create a record).
    #[tool(annotations(title = "Update a DHCP reservation"))]
    async fn dhcp_static_update(
        &self,
        Parameters(p): Parameters<StaticUpdateParams>,
    ) -> Result<Json<Staged>, ToolError> {
        crate::common::parse_uuid(&p.uuid)?;
        if serde_json::to_value(&p.reservation)
            .ok()
            .and_then(|v| v.as_object().map(|o| o.values().all(Value::is_null)))
            .unwrap_or(false)
        {
            return Err(ToolError::invalid(
                "reservation",
                "names no field to change",
            ));
        }
        p.reservation.check_before_detection(p.backend)?;
        let backend = self.write_target(p.backend).await?;
        let mut spec = p.reservation;
        spec.check(backend)?;
        match backend {
            Backend::Kea => {
                self.kea_client_id_supported(&spec).await?;
                if spec.subnet.as_deref().is_some_and(|s| !is_uuid(s)) {
                    spec.subnet = Some(self.kea_subnet(&spec).await?);
                }
                self.update_record(&p.uuid, KeaReservation(spec)).await
            }
            Backend::Dnsmasq => self
                .update_record(&p.uuid, DnsmasqReservation(spec))
                .await
                .map_err(in_tool_names),
        }
    }

    /// Delete a static DHCP reservation from Kea or Dnsmasq. Staged: it takes effect after
    /// dhcp_apply.
    #[tool(annotations(title = "Delete a DHCP reservation"))]
    async fn dhcp_static_delete(
        &self,
        Parameters(p): Parameters<StaticDeleteParams>,
    ) -> Result<Json<Staged>, ToolError> {
        crate::common::parse_uuid(&p.uuid)?;
        match self.write_target(p.backend).await? {
            Backend::Kea => self.delete_record::<KeaReservation>(&p.uuid).await,
            Backend::Dnsmasq => self.delete_record::<DnsmasqReservation>(&p.uuid).await,
        }
    }

    /// Apply the staged reservation changes of one DHCP server (Kea or Dnsmasq). This
    /// restarts it: Kea stops answering DHCP for a moment; Dnsmasq also stops answering DNS
    /// for a moment.
    #[tool(annotations(title = "Apply DHCP changes"))]
    async fn dhcp_apply(
        &self,
        Parameters(p): Parameters<DhcpApplyParams>,
    ) -> Result<Json<Applied>, ToolError> {
        let params = ApplyParams {
            confirm_timeout_s: p.confirm_timeout_s,
            force: p.force,
        };
        params.check()?;
        match self.write_target(p.backend).await? {
            Backend::Kea => {
                self.apply_grid(
                    &RESERVATIONS,
                    "Kea DHCP changes applied (Kea restarted)",
                    params,
                )
                .await
            }
            Backend::Dnsmasq => {
                self.apply_grid(
                    &HOSTS,
                    "Dnsmasq changes applied (dnsmasq restarted)",
                    params,
                )
                .await
            }
        }
    }
}

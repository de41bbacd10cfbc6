//! Kea DHCPv4: leases, general settings, static reservations. All read-only.

use opnsense_api::SearchPage;
use opnsense_api::api::kea::{RESERVATIONS, leases_request, settings_request};
use opnsense_api::models::kea::{KeaSettings, Lease, Reservation};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::OpnsenseTools;
use crate::common::{ListParams, Listing, RawParams, Rows, keys};
use crate::error::ToolError;

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

/// Arguments of `dhcp_lease_list`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseListParams {
    /// Page number, from 1 (default 1).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub current: Option<u32>,
    /// Rows per page, 1 to 1000 (default 100). -1 asks for everything and is capped at 1000 rows.
    #[serde(default)]
    #[schemars(range(min = -1, max = 1000))]
    pub row_count: Option<i64>,
    /// Words that must all appear in a row (case-insensitive substring match on every column).
    #[serde(default)]
    pub search_phrase: Option<String>,
    /// Accepted for compatibility and ignored: Kea has no inactive-lease filter (it was an
    /// ISC DHCP option). Expired leases are never listed.
    #[serde(default)]
    pub inactive: Option<CompatFlag>,
    /// Only leases on these interfaces, as OPNsense keys (`lan`, `opt1`); default all.
    #[serde(default)]
    pub interfaces: Option<Vec<String>>,
    /// Return OPNsense's full JSON rows instead of the compact columns.
    #[serde(default)]
    pub raw: bool,
}

/// A lease in compact form.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LeaseView {
    /// Leased IPv4 address.
    pub address: String,
    /// Client MAC address.
    pub mac: String,
    /// Host name the client gave, when any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Interface key (`lan`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// When the lease expires (unix time, seconds).
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
            address: l.address,
            mac: l.hwaddr,
            hostname: Some(l.hostname).filter(|h| !h.is_empty()),
            interface,
            expires: l.expire,
            reserved,
        }
    }
}

/// Kea's general settings in compact form.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DhcpSettingsView {
    /// Kea DHCPv4 is enabled. (OPNsense 26.1 installs with Dnsmasq as its DHCP server, so Kea
    /// is often off.)
    pub enabled: bool,
    /// Interfaces Kea serves (keys such as `lan`).
    pub interfaces: Vec<String>,
    /// Default lease time in seconds, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_lifetime: Option<u64>,
    /// High availability (a peer Kea server) is enabled.
    pub ha_enabled: bool,
    /// Where the rest is.
    pub note: &'static str,
    /// OPNsense's full answer (only with `raw: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub raw: Option<Value>,
}

/// A static reservation in compact form.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReservationView {
    /// Reservation id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The subnet it belongs to (CIDR; the subnet's uuid when OPNsense gives no display text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// Fixed IPv4 address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Client MAC address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hw_address: Option<String>,
    /// Host name handed to the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
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
            uuid: r.uuid,
            subnet: display.or(r.subnet),
            ip_address: r.ip_address,
            hw_address: r.hw_address,
            hostname: r.hostname,
            description: r.description,
        }
    }
}

#[tool_router(router = dhcp_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// List current DHCPv4 leases from the running Kea server (compact: address, mac,
    /// hostname, interface, expires, reserved), paged. Empty when Kea is stopped or not the
    /// DHCP server in use.
    #[tool(annotations(
        title = "List DHCP leases",
        read_only_hint = true,
        open_world_hint = false
    ))]
    pub(crate) async fn dhcp_lease_list(
        &self,
        Parameters(p): Parameters<LeaseListParams>,
    ) -> Result<Json<Listing<LeaseView>>, ToolError> {
        if p.inactive.is_some() {
            tracing::debug!("dhcp_lease_list: `inactive` is ignored (Kea has no such filter)");
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
        let page: SearchPage<Value> = self
            .client()
            .send_json(leases_request(&q, &interfaces))
            .await?;
        Ok(Json(Listing::from_page(
            &q,
            p.raw,
            page,
            &Rows::<Lease, _>::all(LeaseView::from),
        )))
    }

    /// Kea DHCPv4 general settings: enabled, interfaces served, default lease time, HA.
    /// Subnets and static reservations are not part of these settings: see dhcp_static_list.
    #[tool(annotations(
        title = "DHCP settings",
        read_only_hint = true,
        open_world_hint = false
    ))]
    async fn dhcp_settings_get(
        &self,
        Parameters(p): Parameters<RawParams>,
    ) -> Result<Json<DhcpSettingsView>, ToolError> {
        let (settings, v): (KeaSettings, Value) =
            self.client().send_json_with_raw(settings_request()).await?;
        let Some(sections) = settings.sections() else {
            return Err(ToolError::message(
                "OPNsense returned an unexpected answer: no dhcpv4 settings (call again with raw: true to see it)",
            ));
        };
        let general = sections.general.unwrap_or_default();
        let interfaces = general.interfaces.map(|i| i.0).unwrap_or_default();
        let valid_lifetime = general.valid_lifetime;
        let ha_enabled = sections.ha.and_then(|h| h.enabled).unwrap_or(false);
        let enabled = general.enabled.unwrap_or(false);
        Ok(Json(DhcpSettingsView {
            enabled,
            interfaces,
            valid_lifetime,
            ha_enabled,
            note: "subnets and static reservations are not part of these settings; use dhcp_static_list for reservations",
            raw: p.raw.then_some(v),
        }))
    }

    /// List static DHCP reservations (MAC address to fixed IP; compact: uuid, subnet,
    /// ip_address, hw_address, hostname, description), paged.
    #[tool(annotations(
        title = "List DHCP reservations",
        read_only_hint = true,
        open_world_hint = false
    ))]
    async fn dhcp_static_list(
        &self,
        Parameters(p): Parameters<ListParams>,
    ) -> Result<Json<Listing<ReservationView>>, ToolError> {
        let q = p.query()?;
        let page = self.search_raw(&RESERVATIONS, &q).await?;
        Ok(Json(Listing::from_page(
            &q,
            p.raw,
            page,
            &Rows::<Reservation, _>::all(ReservationView::from),
        )))
    }
}

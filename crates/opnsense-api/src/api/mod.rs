//! The OPNsense API areas: their grids (static [`GridSpec`](crate::grid::GridSpec)s, run by the
//! generic [`Grid`](crate::grid::Grid) handler) and handlers for the endpoints that are not
//! grids (status, firmware, diagnostics, services).

pub mod diagnostics;
pub mod dnsmasq;
pub mod firewall;
pub mod ids;
pub mod interfaces;
pub mod kea;
pub mod routes;
pub mod services;
pub mod source_nat;
pub mod system;
pub mod unbound;
pub mod vpn;

use serde_json::Value;

use crate::client::Client;
use crate::grid::ErasedGrid;
use crate::request::{Request, SearchQuery};

/// Every grid the SDK knows, for code that handles them alike (a change journal finds a grid
/// by its [`GridDesc::id`](crate::grid::GridDesc::id) here).
pub static GRIDS: &[&dyn ErasedGrid] = &[
    &firewall::FILTER_RULES,
    &firewall::ALIASES,
    &firewall::DNAT_RULES,
    &routes::ROUTES,
    &kea::RESERVATIONS,
    &kea::SUBNETS,
    &dnsmasq::HOSTS,
    &unbound::HOST_OVERRIDES,
    &unbound::FORWARDS,
    &source_nat::SNAT_RULES,
];

/// A lease search: Kea's and Dnsmasq's lease controllers both page one recordset and filter it
/// by `selected_interfaces` (interface config ids such as `lan`; an empty slice sends none and
/// means every interface).
pub(crate) fn lease_search(
    endpoint: &'static str,
    q: &SearchQuery,
    interfaces: &[String],
) -> Request {
    let mut body = q.to_body();
    if !interfaces.is_empty() {
        body.insert(
            "selected_interfaces".into(),
            Value::from(interfaces.to_vec()),
        );
    }
    Request::post(endpoint).json(Value::Object(body))
}

/// The grid with this id.
pub fn grid_by_id(id: &str) -> Option<&'static dyn ErasedGrid> {
    GRIDS.iter().copied().find(|g| g.desc().id == id)
}

/// Handlers for the areas. Each borrows the client; create them freely.
impl Client {
    /// `core/system`, `core/firmware`, `core/backup`.
    pub fn system(&self) -> system::SystemHandler<'_> {
        system::SystemHandler::new(self)
    }

    /// `firewall/filter`, `firewall/alias`, `firewall/d_nat`.
    pub fn firewall(&self) -> firewall::FirewallHandler<'_> {
        firewall::FirewallHandler::new(self)
    }

    /// `firewall/source_nat` (outbound NAT rules and mode).
    pub fn source_nat(&self) -> source_nat::SourceNatHandler<'_> {
        source_nat::SourceNatHandler::new(self)
    }

    /// `diagnostics/interface`.
    pub fn interfaces(&self) -> interfaces::InterfacesHandler<'_> {
        interfaces::InterfacesHandler::new(self)
    }

    /// The troubleshooting reads: `diagnostics/firewall/{log,query_states}`,
    /// `routes/gateway/status`, `diagnostics/interface/get_routes`.
    pub fn diagnostics(&self) -> diagnostics::DiagnosticsHandler<'_> {
        diagnostics::DiagnosticsHandler::new(self)
    }

    /// VPN status: `wireguard/service/show`, `openvpn/service/search_sessions`,
    /// `ipsec/sessions/search_phase{1,2}`.
    pub fn vpn(&self) -> vpn::VpnHandler<'_> {
        vpn::VpnHandler::new(self)
    }

    /// `routes/routes` (static routes): the [`routes::ROUTES`] grid.
    pub fn routes(&self) -> crate::grid::Grid<'_, crate::models::routes::Route> {
        self.grid(&routes::ROUTES)
    }

    /// `kea/*` (Kea DHCPv4).
    pub fn kea(&self) -> kea::KeaHandler<'_> {
        kea::KeaHandler::new(self)
    }

    /// `dnsmasq/*` (Dnsmasq DNS/DHCP).
    pub fn dnsmasq(&self) -> dnsmasq::DnsmasqHandler<'_> {
        dnsmasq::DnsmasqHandler::new(self)
    }

    /// `unbound/*` (Unbound DNS).
    pub fn unbound(&self) -> unbound::UnboundHandler<'_> {
        unbound::UnboundHandler::new(self)
    }

    /// `ids/*` (Suricata IDS/IPS).
    pub fn ids(&self) -> ids::IdsHandler<'_> {
        ids::IdsHandler::new(self)
    }

    /// `{module}/service/*` for one service module.
    pub fn service(&self, module: services::ServiceModule) -> services::ServiceHandler<'_> {
        services::ServiceHandler::new(self, module)
    }
}

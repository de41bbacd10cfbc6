//! Static routes (`routes/routes`, wrapper `route`).

wire_model! {
    /// A static route. 26.1.10+ firmware has `enabled`; 26.1.0 to 26.1.9 has `disabled`: both are
    /// read, and [`Route::is_enabled`] answers for either. On writes, the grid
    /// ([`crate::api::routes::ROUTES`]) sends the flag under the name the firmware expects.
    pub struct Route {
        /// Record id (search rows only).
        pub uuid: Option<String>,
        /// Destination network in CIDR form (`10.10.0.0/16`, `2001:db8::/48`). Required.
        pub network: Option<String>,
        /// Gateway *name* (`WAN_GW`, `WAN_DHCP`, `Null4`, `Null6`, ...), not its address. Required.
        /// A get answers an option map; the selected key is read.
        pub gateway: Option<String>,
        /// Description (1 to 255 characters).
        pub descr: Option<String>,
        /// Route active (26.1.10+).
        pub enabled: Option<bool>,
        /// Route inactive (26.1.0 to 26.1.9; ignored by newer firmware).
        pub disabled: Option<bool>,
    }
    /// Everything else OPNsense sent (`%gateway` display text, ...).
    extra, searched as RouteRow
}

impl Route {
    /// Whether the route is active, whichever field the firmware uses (default: active).
    pub fn is_enabled(&self) -> bool {
        match (self.enabled, self.disabled) {
            (Some(e), _) => e,
            (None, Some(d)) => !d,
            (None, None) => true,
        }
    }
}

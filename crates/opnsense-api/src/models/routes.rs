//! Static routes (`routes/routes`, wrapper `route`).

use serde::{Deserialize, Serialize};

use crate::fields::{Extra, opt, opt_bool};

/// A static route. 26.1.10+ firmware has `enabled`; 26.1.0 to 26.1.9 has `disabled`: both are
/// read, and [`Route::is_enabled`] answers for either. On writes, the grid
/// ([`crate::api::routes::ROUTES`]) sends the flag under the name the firmware expects.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Route {
    /// Record id (search rows only).
    #[serde(deserialize_with = "opt")]
    pub uuid: Option<String>,
    /// Destination network in CIDR form (`10.10.0.0/16`, `2001:db8::/48`). Required.
    #[serde(deserialize_with = "opt")]
    pub network: Option<String>,
    /// Gateway *name* (`WAN_GW`, `WAN_DHCP`, `Null4`, `Null6`, ...), not its address. Required.
    /// A get answers an option map; the selected key is read.
    #[serde(deserialize_with = "opt")]
    pub gateway: Option<String>,
    /// Description (1 to 255 characters).
    #[serde(deserialize_with = "opt")]
    pub descr: Option<String>,
    /// Route active (26.1.10+).
    #[serde(with = "opt_bool")]
    pub enabled: Option<bool>,
    /// Route inactive (26.1.0 to 26.1.9; ignored by newer firmware).
    #[serde(with = "opt_bool")]
    pub disabled: Option<bool>,
    /// Everything else OPNsense sent (`%gateway` display text, ...).
    #[serde(flatten)]
    pub extra: Extra,
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

//! Static routes (`routes/routes`, wrapper `route`).

use serde::{Deserialize, Serialize};

use crate::fields::{Extra, opt, opt_bool};
use crate::version::FirmwareVersion;

/// A static route. 26.1.10+ firmware has `enabled`; 26.1.0 to 26.1.9 has `disabled`: both are
/// read, and [`Route::is_enabled`] answers for either.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// Record id (search rows only).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub uuid: Option<String>,
    /// Destination network in CIDR form (`10.10.0.0/16`, `2001:db8::/48`). Required.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub network: Option<String>,
    /// Gateway *name* (`WAN_GW`, `WAN_DHCP`, `Null4`, `Null6`, ...), not its address. Required.
    /// A get answers an option map; the selected key is read.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub gateway: Option<String>,
    /// Description (1 to 255 characters).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub descr: Option<String>,
    /// Route active (26.1.10+).
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Route inactive (26.1.0 to 26.1.9; ignored by newer firmware).
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
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

    /// This route as the given firmware expects it in an add/set body: 26.1.10+ (and unknown
    /// firmware) gets `enabled` only, older firmware `disabled` only. A flag set on either field
    /// is carried over, so it is never silently ignored (26.1.10+ ignores `disabled`).
    pub fn for_firmware(&self, version: Option<FirmwareVersion>) -> Self {
        let mut out = self.clone();
        let on = match (self.enabled, self.disabled) {
            (Some(e), _) => Some(e),
            (None, Some(d)) => Some(!d),
            (None, None) => None,
        };
        if version.is_none_or(FirmwareVersion::routes_use_enabled) {
            out.enabled = on;
            out.disabled = None;
        } else {
            out.disabled = on.map(|e| !e);
            out.enabled = None;
        }
        out
    }
}

//! Service status (`{module}/service/status`).

use serde::{Deserialize, Serialize};

use crate::fields::{Extra, opt};

pub use crate::api::services::{ServiceAction, ServiceModule};

crate::wire_enum! {
    /// What `{module}/service/status` reports.
    pub enum ServiceState {
        /// Running.
        Running = "running",
        /// Enabled but not running.
        Stopped = "stopped",
        /// Not running and disabled in the configuration.
        Disabled = "disabled",
        /// OPNsense could not tell.
        Unknown = "unknown",
    }
}

/// The answer of `{module}/service/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// The service state.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<ServiceState>,
    /// Everything else (`widget` captions, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

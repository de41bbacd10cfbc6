//! Service status (`{module}/service/status`).

use serde::{Deserialize, Serialize};

use crate::fields::{Extra, opt};

pub use crate::api::services::{ServiceAction, ServiceModule};

crate::wire_enum! {
    /// What `{module}/service/status` reports.
    pub enum ServiceState {
        /// Running.
        Running = "running",
        /// Not running, but enabled in the configuration.
        Stopped = "stopped",
        /// Not running and disabled in the configuration.
        Disabled = "disabled",
        /// OPNsense could not tell.
        Unknown = "unknown",
    }
}

/// The answer of `{module}/service/status`: `{"status": "...", "widget": {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// The service state.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<ServiceState>,
    /// Button captions for the GUI widget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widget: Option<ServiceWidget>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ServiceStatus {
    /// True when the service is running.
    pub fn is_running(&self) -> bool {
        self.status == Some(ServiceState::Running)
    }
}

/// `widget` of a service status: the GUI's button captions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceWidget {
    /// e.g. "Restart".
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub caption_restart: Option<String>,
    /// e.g. "Start".
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub caption_start: Option<String>,
    /// e.g. "Stop".
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub caption_stop: Option<String>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

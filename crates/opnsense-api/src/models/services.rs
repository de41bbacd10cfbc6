//! Service status (`{module}/service/status`).

use crate::fields::{Extra, opt, opt_object};

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

wire_model! {
    /// The answer of `{module}/service/status`: `{"status": "...", "widget": {...}}`.
    pub struct ServiceStatus {
        /// The service state.
        #[serde(deserialize_with = "opt")]
        pub status: Option<ServiceState>,
        /// Button captions for the GUI widget.
        #[serde(deserialize_with = "opt_object")]
        pub widget: Option<ServiceWidget>,
        /// Everything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

impl ServiceStatus {
    /// True when the service is running.
    pub fn is_running(&self) -> bool {
        self.status == Some(ServiceState::Running)
    }
}

wire_model! {
    /// `widget` of a service status: the GUI's button captions.
    pub struct ServiceWidget {
        /// e.g. "Restart".
        pub caption_restart: Option<String>,
        /// e.g. "Start".
        pub caption_start: Option<String>,
        /// e.g. "Stop".
        pub caption_stop: Option<String>,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

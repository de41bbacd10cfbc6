//! Core service control: status, start, stop, restart. Acts at once (nothing is staged).

use crate::params::Parameters;
use opnsense_api::api::services::{ServiceAction, ServiceModule, action_request, status_request};
use opnsense_api::models::services::ServiceStatus;
use opnsense_change::engine::PlannedCall;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ToolError;
use crate::{CallContext, OpnsenseTools};

/// Arguments of `service_status`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceStatusParams {
    /// The service (`unbound`: DNS resolver, `kea`: DHCP, `dnsmasq`: DNS and DHCP, `ids`:
    /// Suricata).
    pub module: ServiceModule,
    /// Also return OPNsense's full answer.
    #[serde(default)]
    pub raw: bool,
}

/// Arguments of `service_start`, `service_stop` and `service_restart`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceParams {
    /// The service (`unbound`: DNS resolver, `kea`: DHCP, `dnsmasq`: DNS and DHCP, `ids`:
    /// Suricata).
    pub module: ServiceModule,
}

/// A service's state, or the outcome of an action on it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceView {
    /// The service.
    pub module: ServiceModule,
    /// For service_status: `running`, `stopped` (enabled but not running), `disabled` or
    /// `unknown`. For actions: OPNsense's output (`OK`, or empty); a dry run: `dry_run`.
    pub status: String,
    /// OPNsense's full answer (service_status with `raw: true` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub raw: Option<Value>,
    /// Nothing was sent (an action with `dry_run: true`): `calls` is what would be.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// The request an action with `dry_run: true` would send.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<crate::common::RawObject>")]
    pub calls: Vec<PlannedCall>,
}

impl OpnsenseTools {
    async fn service_action(
        &self,
        module: ServiceModule,
        action: ServiceAction,
    ) -> Result<Json<ServiceView>, ToolError> {
        if CallContext::current().dry_run {
            return Ok(Json(ServiceView {
                module,
                status: "dry_run".to_owned(),
                raw: None,
                dry_run: true,
                calls: vec![PlannedCall::from(&action_request(module, action))],
            }));
        }
        let done = self.client().service(module).run(action).await?;
        Ok(Json(ServiceView {
            module,
            status: done.status,
            raw: None,
            dry_run: false,
            calls: Vec::new(),
        }))
    }
}

#[tool_router(router = services_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// Whether a core OPNsense service is running: `running`, `stopped` (enabled but not
    /// running), `disabled` or `unknown`.
    #[tool(annotations(title = "Service status"))]
    async fn service_status(
        &self,
        Parameters(p): Parameters<ServiceStatusParams>,
    ) -> Result<Json<ServiceView>, ToolError> {
        let (status, v): (ServiceStatus, Value) = self
            .client()
            .send_json_with_raw(status_request(p.module))
            .await?;
        Ok(Json(ServiceView {
            module: p.module,
            status: status
                .status
                .map_or_else(|| "unknown".to_owned(), |s| s.to_string()),
            raw: p.raw.then_some(v),
            dry_run: false,
            calls: Vec::new(),
        }))
    }

    /// Start a core OPNsense service. No effect if it is already running.
    #[tool(annotations(title = "Start a service"))]
    async fn service_start(
        &self,
        Parameters(p): Parameters<ServiceParams>,
    ) -> Result<Json<ServiceView>, ToolError> {
        self.service_action(p.module, ServiceAction::Start).await
    }

    /// Stop a core OPNsense service. Stopping `unbound` stops DNS for the whole network;
    /// stopping `kea` or `dnsmasq` stops DHCP leases.
    #[tool(annotations(title = "Stop a service"))]
    async fn service_stop(
        &self,
        Parameters(p): Parameters<ServiceParams>,
    ) -> Result<Json<ServiceView>, ToolError> {
        self.service_action(p.module, ServiceAction::Stop).await
    }

    /// Restart a core OPNsense service, which also loads its saved configuration. The service
    /// is briefly unavailable (for `unbound`: DNS resolution).
    #[tool(annotations(title = "Restart a service"))]
    async fn service_restart(
        &self,
        Parameters(p): Parameters<ServiceParams>,
    ) -> Result<Json<ServiceView>, ToolError> {
        self.service_action(p.module, ServiceAction::Restart).await
    }
}

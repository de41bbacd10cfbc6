//! System tools: status, firmware status, configuration backup.

use opnsense_api::api::system;
use opnsense_api::models::system::{FirmwareStatus, SystemStatus};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::OpnsenseTools;
use crate::common::RawParams;
use crate::error::ToolError;
use crate::redact::{MARKER, redact_config};

/// Compact system health.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StatusView {
    /// OK, NOTICE, WARNING or ERROR.
    pub level: String,
    /// Overall message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Subsystems reporting something, most severe first.
    pub subsystems: Vec<SubsystemView>,
    /// OPNsense's full answer (only with `raw: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub raw: Option<Value>,
}

/// One subsystem message.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SubsystemView {
    /// Subsystem key (`firewall`, `diskspace`, ...).
    pub name: String,
    /// ERROR, WARNING, NOTICE or OK.
    pub status: String,
    /// The message.
    pub message: String,
}

/// Compact firmware status.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FirmwareView {
    /// Installed version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
    /// Newest version known from the last check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
    /// `none` (up to date, or never checked), `update`, `upgrade` or `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// OPNsense's summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When updates were last checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_check: Option<String>,
    /// Number of packages with an update.
    pub updates: usize,
    /// OPNsense's full answer (only with `raw: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub raw: Option<Value>,
}

/// Arguments of `system_config_backup`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupParams {
    /// Return password hashes, keys and other secrets unredacted. Refused unless the server
    /// runs with OPNSENSE_ALLOW_SECRETS=true.
    #[serde(default)]
    pub include_secrets: bool,
}

/// What `system_config_backup` reports besides the XML text.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BackupSummary {
    /// Size of the XML returned, in bytes.
    pub bytes: usize,
    /// Whether secrets were replaced by the marker.
    pub redacted: bool,
    /// How many secret elements were replaced.
    pub redacted_elements: usize,
    /// The marker secrets were replaced with.
    pub marker: &'static str,
}

#[tool_router(router = system_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// System health: overall status and any subsystem alerts (disk space, pending reboot,
    /// unapplied changes, ...).
    #[tool(annotations(
        title = "System status",
        read_only_hint = true,
        open_world_hint = false
    ))]
    pub(crate) async fn system_status(
        &self,
        Parameters(p): Parameters<RawParams>,
    ) -> Result<Json<StatusView>, ToolError> {
        let (status, raw): (SystemStatus, Value) = self
            .client()
            .send_json_with_raw(system::status_request())
            .await?;
        let mut subsystems: Vec<(i64, SubsystemView)> = status
            .subsystems
            .into_iter()
            .map(|(name, s)| {
                (
                    s.status_code,
                    SubsystemView {
                        name,
                        status: s.status,
                        message: s.message,
                    },
                )
            })
            .collect();
        subsystems.sort_by_key(|(code, _)| *code);
        Ok(Json(StatusView {
            level: status.metadata.system.level(),
            message: status.metadata.system.message,
            subsystems: subsystems.into_iter().map(|(_, s)| s).collect(),
            raw: p.raw.then_some(raw),
        }))
    }

    /// Installed firmware version and the result of the last update check (cached by
    /// OPNsense; it does not contact the update mirror).
    #[tool(annotations(
        title = "Firmware status",
        read_only_hint = true,
        open_world_hint = false
    ))]
    pub(crate) async fn system_firmware_status(
        &self,
        Parameters(p): Parameters<RawParams>,
    ) -> Result<Json<FirmwareView>, ToolError> {
        let (fw, raw): (FirmwareStatus, Value) = self
            .client()
            .send_json_with_raw(system::firmware_status_request())
            .await?;
        let installed = fw.installed_version().map(str::to_owned);
        let latest = fw.product.as_ref().and_then(|p| p.product_latest.clone());
        Ok(Json(FirmwareView {
            installed,
            latest,
            status: fw.status.map(|s| s.to_string()),
            message: fw.status_msg,
            last_check: fw.last_check,
            updates: fw.upgrade_packages.len(),
            raw: p.raw.then_some(raw),
        }))
    }

    /// Download the current configuration (config.xml) as XML text, with passwords, keys and
    /// other secrets redacted. Use it to keep a copy before changes.
    #[tool(
        annotations(title = "Configuration backup", read_only_hint = true, open_world_hint = false),
        output_schema = rmcp::handler::server::common::schema_for_output::<BackupSummary>()
    )]
    async fn system_config_backup(
        &self,
        Parameters(p): Parameters<BackupParams>,
    ) -> Result<CallToolResult, ToolError> {
        if p.include_secrets && !self.options().allow_secrets {
            return Err(ToolError::message(
                "include_secrets is refused: this server runs without OPNSENSE_ALLOW_SECRETS=true, so secrets are always redacted",
            ));
        }
        let xml = self.client().system().config_backup().await?;
        let (xml, count, redacted) = if p.include_secrets {
            (xml, 0, false)
        } else {
            let r = redact_config(&xml).map_err(ToolError::message)?;
            (r.xml, r.count, true)
        };
        let summary = BackupSummary {
            bytes: xml.len(),
            redacted,
            redacted_elements: count,
            marker: MARKER,
        };
        let note = if redacted {
            format!(
                "config.xml ({} bytes); {count} secret elements replaced by {MARKER}.",
                xml.len()
            )
        } else {
            format!(
                "config.xml ({} bytes) WITH SECRETS: handle with care.",
                xml.len()
            )
        };
        let mut result =
            CallToolResult::success(vec![ContentBlock::text(note), ContentBlock::text(xml)]);
        result.structured_content = Some(json!(summary));
        Ok(result)
    }
}

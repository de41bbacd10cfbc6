//! System tools: status, firmware status, configuration backup, and the configuration history
//! (the local backups OPNsense keeps: list, diff, restore).

use crate::params::Parameters;
use opnsense_api::BackupId;
use opnsense_api::api::system;
use opnsense_api::models::system::{Backup, FirmwareStatus, SystemStatus};
use opnsense_change::journal::ChangeStatus;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::{ListParams, Listing, RawParams, Rows};
use crate::error::ToolError;
use crate::redact::{MARKER, redact_config};
use crate::{CallContext, OpnsenseTools};

/// Compact system health.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StatusView {
    /// OK, NOTICE, WARNING or ERROR.
    pub level: String,
    /// Overall message.
    pub message: Option<String>,
    /// Subsystems reporting something, most severe first.
    pub subsystems: Vec<SubsystemView>,
    /// OPNsense's full answer (only with `raw: true`).
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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FirmwareView {
    /// Installed version.
    pub installed: Option<String>,
    /// Newest version known from the last check.
    pub latest: Option<String>,
    /// `none` (up to date, or never checked), `update`, `upgrade` or `error`.
    pub status: Option<String>,
    /// OPNsense's summary.
    pub message: Option<String>,
    /// When updates were last checked.
    pub last_check: Option<String>,
    /// Number of packages with an update.
    pub updates: usize,
    /// OPNsense's full answer (only with `raw: true`).
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub raw: Option<Value>,
}

/// Arguments of `system_config_backup`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupParams {
    /// Secrets (password hashes, keys) unredacted; refused unless OPNSENSE_ALLOW_SECRETS=true.
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

/// One local configuration backup.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BackupView {
    /// Its id, for system_backup_diff and system_backup_restore.
    pub id: String,
    /// When it was saved (ISO 8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// What saved it (`/api/firewall/filter/apply made changes`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who saved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl From<Backup> for BackupView {
    fn from(b: Backup) -> Self {
        Self {
            id: b.id,
            time: b.time_iso,
            description: b.description.filter(|d| !d.is_empty()),
            username: b.username.filter(|u| !u.is_empty()),
            size: b.filesize,
        }
    }
}

/// What [`BackupId`] accepts (`config-<unix time>.xml`), for the input schemas.
const BACKUP_ID_PATTERN: &str = r"^config-[0-9]{1,20}(\.[0-9]{1,6})?\.xml$";

/// Arguments of `system_backup_diff`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupDiffParams {
    /// Older side: a backup id from system_backup_list (`config-1767361234.5712.xml`).
    #[schemars(regex(pattern = BACKUP_ID_PATTERN))]
    pub from: String,
    /// Newer side: a backup id (default: the running configuration).
    #[serde(default)]
    #[schemars(regex(pattern = BACKUP_ID_PATTERN))]
    pub to: Option<String>,
    /// Unchanged lines around each change (default 3).
    #[serde(default)]
    #[schemars(range(max = 20))]
    pub context: Option<u8>,
}

/// Arguments of `system_backup_restore`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupRestoreParams {
    /// The backup to restore, from system_backup_list (`config-1767361234.5712.xml`).
    #[schemars(regex(pattern = BACKUP_ID_PATTERN))]
    pub backup_id: String,
}

/// A unified diff of two configurations, secrets redacted.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BackupDiffView {
    /// The older side (a backup id).
    pub from: String,
    /// The newer side (a backup id, or `running` for the running configuration).
    pub to: String,
    /// Both sides are the same once secrets are redacted.
    pub identical: bool,
    /// Lines removed and added.
    pub removed: usize,
    /// Lines added.
    pub added: usize,
    /// Secret values (password hashes, keys) differ too; they are never shown, only counted.
    #[serde(skip_serializing_if = "crate::common::is_false")]
    pub secrets_differ: bool,
    /// The diff was cut at this many lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated_at: Option<usize>,
    /// The unified diff (`-` from, `+` to), secrets replaced by the marker.
    pub diff: String,
}

/// The answer of `system_backup_restore`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RestoreView {
    /// `restored`, or on a dry run `would_restore`.
    pub result: &'static str,
    /// The backup restored.
    pub backup_id: String,
    /// Nothing was written.
    #[serde(skip_serializing_if = "crate::common::is_false")]
    pub dry_run: bool,
    /// What restoring changes: the running configuration against the backup.
    pub changes: BackupDiffView,
    /// What OPNsense did and did not do, and what to apply next.
    pub next: String,
}

/// Lines of a diff shown at most.
const MAX_DIFF_LINES: usize = 4000;

/// What restoring leaves to do (OPNsense's `revertBackup` saves config.xml and reloads nothing).
const RESTORE_NEXT: &str = "OPNsense restores config.xml (and saves it, which adds a backup) but reloads no service: the firewall keeps running the old settings until they are applied. Apply what the diff touches: firewall_rule_apply, firewall_nat_apply, firewall_snat_apply and firewall_alias_apply (packet filter), route_apply, dns_apply (Unbound), the DHCP service (service_restart), other services with service_restart; or reboot the firewall to load all of it. Changes applied this way are reported as made elsewhere by the next apply of this server.";

/// Redacts both sides and diffs them.
fn diff_configs(
    from: (&str, &str),
    to: (&str, &str),
    context: usize,
) -> Result<BackupDiffView, ToolError> {
    use similar::{ChangeTag, TextDiff};
    let a = redact_config(from.1).map_err(ToolError::message)?.xml;
    let b = redact_config(to.1).map_err(ToolError::message)?.xml;
    let diff = TextDiff::from_lines(a.as_str(), b.as_str());
    let (mut removed, mut added) = (0, 0);
    for c in diff.iter_all_changes() {
        match c.tag() {
            ChangeTag::Delete => removed += 1,
            ChangeTag::Insert => added += 1,
            ChangeTag::Equal => {}
        }
    }
    let raw_changed = TextDiff::from_lines(from.1, to.1)
        .iter_all_changes()
        .filter(|c| c.tag() != ChangeTag::Equal)
        .count();
    let secrets_differ = raw_changed > removed + added;
    let text = diff
        .unified_diff()
        .context_radius(context)
        .header(from.0, to.0)
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    let truncated_at = (lines.len() > MAX_DIFF_LINES).then_some(MAX_DIFF_LINES);
    let text = if truncated_at.is_some() {
        lines[..MAX_DIFF_LINES].join("\n")
    } else {
        text
    };
    Ok(BackupDiffView {
        from: from.0.to_owned(),
        to: to.0.to_owned(),
        identical: removed + added == 0,
        removed,
        added,
        secrets_differ,
        truncated_at,
        diff: text,
    })
}

impl OpnsenseTools {
    /// A backup's config.xml.
    async fn backup_xml(&self, field: &str, id: &str) -> Result<(BackupId, String), ToolError> {
        let id = BackupId::parse_field(field, id)?;
        let xml = self.client().system().backup_xml(&id).await?;
        Ok((id, xml))
    }

    /// The running configuration (config.xml): with its secrets replaced by [`MARKER`] unless
    /// `include_secrets` (the caller checks that it is allowed). Answers the XML, how many
    /// elements were redacted, and whether it was redacted. `system_config_backup` and the
    /// `config` resource both read it here.
    pub(crate) async fn config_xml(
        &self,
        include_secrets: bool,
    ) -> Result<(String, usize, bool), ToolError> {
        let xml = self.client().system().config_backup().await?;
        if include_secrets {
            return Ok((xml, 0, false));
        }
        let r = redact_config(&xml).map_err(ToolError::message)?;
        Ok((r.xml, r.count, true))
    }
}

#[tool_router(router = system_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// System health: overall status and any subsystem alerts (disk space, pending reboot,
    /// unapplied changes, ...).
    #[tool(annotations(title = "System status"))]
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
    #[tool(annotations(title = "Firmware status"))]
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
        annotations(title = "Configuration backup"),
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
        let (xml, count, redacted) = self.config_xml(p.include_secrets).await?;
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

    /// The local configuration backups OPNsense keeps (System > Configuration > History: one
    /// per saved change, newest first; the newest is the running configuration), paged.
    #[tool(annotations(title = "List configuration backups"))]
    async fn system_backup_list(
        &self,
        Parameters(p): Parameters<ListParams>,
    ) -> Result<Json<Listing<BackupView>>, ToolError> {
        let q = p.query()?;
        let v: Value = self.client().send_json(system::backups_request()).await?;
        let items = match v.get("items") {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        Ok(Json(Listing::from_all(
            &q,
            p.raw,
            items,
            &Rows::<Backup, _>::all(BackupView::from),
        )))
    }

    /// Unified diff of two configuration backups, or of a backup and the running
    /// configuration (`to` omitted), with passwords, keys and other secrets redacted as in
    /// system_config_backup (a changed secret is only reported, never shown).
    #[tool(annotations(title = "Diff configuration backups"))]
    async fn system_backup_diff(
        &self,
        Parameters(p): Parameters<BackupDiffParams>,
    ) -> Result<Json<BackupDiffView>, ToolError> {
        let context = p.context.unwrap_or(3);
        if context > 20 {
            return Err(ToolError::invalid("context", "must be 0 to 20"));
        }
        let to_id =
            p.to.as_deref()
                .map(|t| BackupId::parse_field("to", t))
                .transpose()?;
        let (from, a) = self.backup_xml("from", &p.from).await?;
        let (to_name, b) = match to_id {
            Some(id) => {
                let xml = self.client().system().backup_xml(&id).await?;
                (id.to_string(), xml)
            }
            None => (
                "running".to_owned(),
                self.client().system().config_backup().await?,
            ),
        };
        Ok(Json(diff_configs(
            (from.as_str(), &a),
            (&to_name, &b),
            usize::from(context),
        )?))
    }

    /// Restore config.xml from a local backup (OPNsense's revert, System > Configuration >
    /// History). It replaces the whole configuration; OPNsense reloads no service, so apply
    /// afterwards what changed (the answer says what). `dry_run: true` returns the diff and
    /// writes nothing. Refused while a change of this server is pending.
    #[tool(annotations(title = "Restore a configuration backup"))]
    async fn system_backup_restore(
        &self,
        Parameters(p): Parameters<BackupRestoreParams>,
    ) -> Result<Json<RestoreView>, ToolError> {
        let (id, backup) = self.backup_xml("backup_id", &p.backup_id).await?;
        let dry_run = CallContext::current().dry_run;
        if let Some(engine) = self.change_engine() {
            let open = engine
                .list(
                    &[
                        ChangeStatus::Pending,
                        ChangeStatus::Applying,
                        ChangeStatus::Reverting,
                    ],
                    20,
                )
                .await
                .map_err(|e| ToolError::message(e.to_string()))?;
            if !open.is_empty() {
                let ids: Vec<&str> = open.iter().map(|c| c.change_id.as_str()).collect();
                return Err(ToolError::message(format!(
                    "refused: change {} is not settled yet (its revert would fight the restore); confirm it with change_confirm or let it revert, then restore. Nothing was sent to OPNsense.",
                    ids.join(", ")
                )));
            }
        }
        let running = self.client().system().config_backup().await?;
        let changes = diff_configs(("running", &running), (id.as_str(), &backup), 3)?;
        if !dry_run {
            self.client().system().revert_backup(&id).await?;
        }
        Ok(Json(RestoreView {
            result: if dry_run { "would_restore" } else { "restored" },
            backup_id: id.to_string(),
            dry_run,
            changes,
            next: if dry_run {
                format!("Nothing was written. {RESTORE_NEXT}")
            } else {
                RESTORE_NEXT.to_owned()
            },
        }))
    }
}

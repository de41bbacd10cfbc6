//! The change tools: confirm a pending change (or it is reverted), roll back a confirmed one,
//! list and inspect changes. Every apply tool starts a change (see [`crate::record`]).

use crate::params::Parameters;
use opnsense_change::engine::{ChangeError, ChangeView, PlannedCall};
use opnsense_change::journal::ChangeStatus;
use rmcp::service::{ElicitationError, RequestContext};
use rmcp::{Json, RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::{CallContext, OpnsenseTools};

/// Arguments of the tools that act on one change.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeIdParams {
    /// The change id (`chg-…`), as an apply tool or change_list returned it.
    pub change_id: String,
}

/// A change status, for `change_list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    /// Live, reverted unless confirmed.
    Pending,
    /// Made permanent.
    Confirmed,
    /// Put back as it was.
    Reverted,
    /// The revert did not complete.
    RevertFailed,
    /// The apply failed (nothing was applied).
    ApplyFailed,
    /// Being applied or checked.
    Applying,
    /// Being reverted.
    Reverting,
}

impl From<StatusFilter> for ChangeStatus {
    fn from(s: StatusFilter) -> Self {
        match s {
            StatusFilter::Pending => Self::Pending,
            StatusFilter::Confirmed => Self::Confirmed,
            StatusFilter::Reverted => Self::Reverted,
            StatusFilter::RevertFailed => Self::RevertFailed,
            StatusFilter::ApplyFailed => Self::ApplyFailed,
            StatusFilter::Applying => Self::Applying,
            StatusFilter::Reverting => Self::Reverting,
        }
    }
}

/// Arguments of `change_list`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeListParams {
    /// Only changes with this status (default: all).
    #[serde(default)]
    pub status: Option<StatusFilter>,
    /// At most this many, newest first (1 to 200, default 20).
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
}

/// Answer of `change_list`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangeList {
    /// Changes returned.
    pub returned: usize,
    /// The changes, newest first, one line per record (change_get has the fields).
    #[schemars(with = "Vec<crate::common::RawObject>")]
    pub changes: Vec<serde_json::Value>,
}

/// A change, as the change tools answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangeAnswer {
    /// What happened, in words.
    pub message: String,
    /// The change.
    #[schemars(with = "crate::common::RawObject")]
    pub change: ChangeView,
    /// Nothing was sent (change_rollback with `dry_run: true`): `calls` is what would be.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// The requests a rollback with `dry_run: true` would send.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<crate::common::RawObject>")]
    pub calls: Vec<PlannedCall>,
}

impl ChangeAnswer {
    fn of(message: String, change: ChangeView) -> Json<Self> {
        Json(Self {
            message,
            change,
            dry_run: false,
            calls: Vec::new(),
        })
    }
}

/// Whether a change's pre-flight marked it risky (forced past a refusal, or uncertain).
fn risky(change: &ChangeView) -> bool {
    change
        .detail
        .get("forced")
        .and_then(serde_json::Value::as_bool)
        == Some(true)
        || change
            .detail
            .pointer("/preflight/certain")
            .and_then(serde_json::Value::as_bool)
            == Some(false)
}

/// The confirmation a human gives through elicitation.
#[derive(Debug, Deserialize, JsonSchema)]
struct Confirmation {
    /// Keep the change (true), or let it be reverted (false).
    confirm: bool,
}

rmcp::elicit_safe!(Confirmation);

impl From<ChangeError> for ToolError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::Api(api) => ToolError::from(api),
            other => ToolError::message(other.to_string()),
        }
    }
}

impl OpnsenseTools {
    pub(crate) fn engine(&self) -> Result<&opnsense_change::engine::Engine, ToolError> {
        self.inner.engine.as_ref().ok_or_else(|| {
            ToolError::message(
                "this server runs without a change journal, so it makes no changes (read-only)",
            )
        })
    }

    /// Asks the human (when the client can) before confirming a risky change. `Ok(false)` when
    /// they decline; `Ok(true)` when the change is not risky or the client cannot be asked.
    async fn ask_human(
        &self,
        context: &RequestContext<RoleServer>,
        change: &ChangeView,
    ) -> Result<bool, ToolError> {
        if !risky(change) {
            return Ok(true);
        }
        let forced = change
            .detail
            .get("forced")
            .and_then(serde_json::Value::as_bool)
            == Some(true);
        let message = format!(
            "Change {} ({}) was applied although the lockout pre-flight {}. Keep it (confirm), or let it be reverted at {}?",
            change.change_id,
            change.grid,
            if forced {
                "refused it (forced)"
            } else {
                "could not be sure it is safe"
            },
            change.revert_at.as_deref().unwrap_or("its deadline")
        );
        match context
            .peer
            .elicit_with_timeout::<Confirmation>(message, Some(std::time::Duration::from_secs(120)))
            .await
        {
            Ok(Some(c)) => Ok(c.confirm),
            // The client cannot ask its user (no elicitation capability, or protocol 2026-07-28,
            // which has no server-to-client requests): the AI's own call decides.
            Err(ElicitationError::CapabilityNotSupported) => Ok(true),
            Err(ElicitationError::Service(rmcp::ServiceError::McpError(e)))
                if e.message.contains("2026-07-28") =>
            {
                Ok(true)
            }
            // Asked, and no clear yes (declined, dismissed, no answer in time, garbled).
            Ok(None) | Err(_) => Ok(false),
        }
    }
}

#[tool_router(router = changes_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// Confirm a pending change so it stays: every apply starts a change that is reverted
    /// automatically unless confirmed in time. Confirm only after checking that the firewall
    /// still works as intended (and that you can still reach what you need).
    #[tool(annotations(title = "Confirm a change"))]
    async fn change_confirm(
        &self,
        Parameters(p): Parameters<ChangeIdParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<ChangeAnswer>, ToolError> {
        let engine = self.engine()?;
        let change = engine.get(&p.change_id).await?;
        if !self.ask_human(&context, &change).await? {
            return Err(ToolError::message(format!(
                "not confirmed: the user declined; change {} stays pending and is reverted at {}",
                change.change_id,
                change.revert_at.as_deref().unwrap_or("its deadline")
            )));
        }
        let change = engine.confirm(&p.change_id).await?;
        Ok(ChangeAnswer::of(
            format!("change {} is confirmed and stays", change.change_id),
            change,
        ))
    }

    /// Undo a confirmed change: put every record it changed back as it was and apply. Refused
    /// when the records were edited since (the conflict names them). A rollback that does not
    /// complete is an error (change_get shows where it stopped).
    #[tool(annotations(title = "Roll back a change"))]
    async fn change_rollback(
        &self,
        Parameters(p): Parameters<ChangeIdParams>,
    ) -> Result<Json<ChangeAnswer>, ToolError> {
        let engine = self.engine()?;
        if CallContext::current().dry_run {
            let (change, calls) = engine.rollback_plan(&p.change_id).await?;
            return Ok(Json(ChangeAnswer {
                message: format!(
                    "a rollback of change {} would send {} request(s) (calls); nothing was sent",
                    change.change_id,
                    calls.len()
                ),
                change,
                dry_run: true,
                calls,
            }));
        }
        let change = engine.rollback(&p.change_id).await?;
        if change.status != ChangeStatus::Reverted {
            return Err(ToolError::message(format!(
                "the rollback of change {} did not complete (it is {}): {}. change_get {} shows what was put back",
                change.change_id,
                change.status.as_str(),
                change
                    .detail
                    .pointer("/revert/error")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("see detail.revert"),
                change.change_id
            )));
        }
        Ok(ChangeAnswer::of(
            format!("change {} is rolled back", change.change_id),
            change,
        ))
    }

    /// List the changes made through this server (newest first): pending (reverted unless
    /// confirmed), confirmed, reverted, revert_failed, with their records and times.
    #[tool(annotations(title = "List changes"))]
    async fn change_list(
        &self,
        Parameters(p): Parameters<ChangeListParams>,
    ) -> Result<Json<ChangeList>, ToolError> {
        let limit = match p.limit.unwrap_or(20) {
            n @ 1..=200 => i64::from(n),
            n => {
                return Err(ToolError::invalid(
                    "limit",
                    format!("{n} is out of range: use 1 to 200"),
                ));
            }
        };
        let statuses: Vec<ChangeStatus> = p.status.into_iter().map(ChangeStatus::from).collect();
        let changes = self.engine()?.list(&statuses, limit).await?;
        Ok(Json(ChangeList {
            returned: changes.len(),
            changes: changes.iter().map(ChangeView::brief).collect(),
        }))
    }

    /// One change with its records (before and after) and its checks.
    #[tool(annotations(title = "Get a change"))]
    async fn change_get(
        &self,
        Parameters(p): Parameters<ChangeIdParams>,
    ) -> Result<Json<ChangeAnswer>, ToolError> {
        let change = self.engine()?.get(&p.change_id).await?;
        Ok(ChangeAnswer::of(
            format!("change {} is {}", change.change_id, change.status.as_str()),
            change,
        ))
    }
}

//! The record tools of every grid, written once: a tool's argument struct says how its fields
//! map to the SDK model ([`RecordSpec`]), and add, update, delete and apply are these generic
//! functions. Every write goes through the change engine (journaled before it is sent, or only
//! planned on `dry_run`), every apply starts a checked change that reverts itself unless
//! confirmed.

use std::time::Duration;

use opnsense_api::GridSpec;
use opnsense_api::grid::ErasedGrid;
use opnsense_change::engine::{ApplyOptions, PlannedCall, RecordChange, Write, WriteOutcome};
use rmcp::Json;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::common::{NewRecord, RawObject, RequiredFields, parse_uuid};
use crate::error::ToolError;
use crate::{CallContext, OpnsenseTools};

/// A tool's record argument (`rule`, `alias`, `route`, ...): its fields in the tool's own names,
/// and how they become the SDK model of one grid. On update only the fields given are sent.
pub trait RecordSpec: RequiredFields + Serialize + Sized {
    /// The SDK model (the record as get answers it and add/set take it).
    type Model: Serialize + DeserializeOwned + Sync + 'static;
    /// The grid's search-row model.
    type Row: 'static;
    /// The grid.
    const GRID: &'static GridSpec<Self::Model, Self::Row>;
    /// The tool that makes staged changes live.
    const APPLY: &'static str;
    /// The tool that lists the records.
    const LIST: &'static str;

    /// Checks what a new record needs beyond its required fields (default: nothing).
    fn check_new(&self) -> Result<(), ToolError> {
        Ok(())
    }

    /// Checks the record as it stands (`current`, OPNsense's get answer for `uuid`) before an
    /// update (`update`: the model of the fields given) or a delete (`None`): made on the read
    /// the change engine journals, under its lock, so nothing is read twice and nothing can
    /// change in between (default: any record may be written).
    fn check_existing(
        _uuid: &str,
        _current: &Value,
        _update: Option<&Self::Model>,
    ) -> Result<(), ToolError> {
        Ok(())
    }

    /// Checks the fields and builds the model (only the fields given).
    fn into_model(self) -> Result<Self::Model, ToolError>;

    /// The record in the tool's own argument names (every field it has), for diffs.
    fn from_model(model: &Self::Model) -> Self;
}

/// One field of a diff, in the tool's own argument names.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FieldDiff {
    /// The argument name (`description`, `destination_port`, ...).
    pub field: String,
    /// Its value before (update, delete).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawValue>")]
    pub before: Option<Value>,
    /// Its value after (add, update).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawValue>")]
    pub after: Option<Value>,
}

/// The answer of add/update/delete tools: what was staged (or, on a dry run, would be) and how
/// to make it live.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Staged {
    /// `added`, `updated` or `deleted` (a dry run: `would_add`, `would_update`, `would_delete`).
    pub result: &'static str,
    /// The record's uuid (absent only for a dry-run add).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The change is staged, not live: call this tool to apply it.
    pub apply_with: &'static str,
    /// Nothing was sent: `calls` and `diff` say what would be.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// The write requests (sent, or on a dry run, that would be sent).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<RawObject>")]
    pub calls: Vec<PlannedCall>,
    /// What changes, field by field: an add gives every field, an update the changed fields
    /// before and after, a delete the whole record.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<FieldDiff>,
    /// Anything worth knowing about the write (it was made, but the record could not be read
    /// back; a secret field is not journaled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The longest `confirm_timeout_s` (a day).
const MAX_CONFIRM_TIMEOUT_S: u32 = 86_400;

/// The arguments of every apply tool.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyParams {
    /// Seconds until the change is reverted unless change_confirm confirms it (default: the
    /// server's, 60 unless set; 0 = keep it once the checks pass).
    #[serde(default)]
    #[schemars(range(max = MAX_CONFIRM_TIMEOUT_S))]
    pub confirm_timeout_s: Option<u32>,
    /// Apply even if the lockout pre-flight refuses (still reverted if it cuts this server off).
    #[serde(default)]
    pub force: bool,
}

impl ApplyParams {
    /// Refuses a `confirm_timeout_s` over a day (before anything is sent).
    pub(crate) fn check(&self) -> Result<(), ToolError> {
        match self.confirm_timeout_s {
            Some(s) if s > MAX_CONFIRM_TIMEOUT_S => Err(ToolError::invalid(
                "confirm_timeout_s",
                format!("{s} is out of range: use 0 to {MAX_CONFIRM_TIMEOUT_S} seconds"),
            )),
            _ => Ok(()),
        }
    }
}

/// The answer of apply tools.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Applied {
    /// What was applied.
    pub action: &'static str,
    /// `pending` (live, reverted unless confirmed), `confirmed`, `reverted`, `revert_failed`;
    /// a dry run: `dry_run`.
    pub status: String,
    /// The change (use it with change_confirm, change_get, change_rollback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
    /// When the change is reverted unless confirmed (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revert_at: Option<String>,
    /// The tool that keeps a pending change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirm_with: Option<&'static str>,
    /// What happened, in words.
    pub message: String,
    /// The writes this apply made live (on a dry run: would): op, uuid, label, status (their
    /// fields before and after: change_get).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<RawObject>")]
    pub records: Vec<Value>,
    /// Records changed outside this server since its last change (applied too, never undone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_elsewhere: Option<Vec<String>>,
    /// The checks: the lockout pre-flight, the read-back, the probe over a new connection, the
    /// safety nets armed, the revert.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<RawObject>")]
    pub checks: Option<Value>,
    /// Nothing was sent.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// The requests the apply sends (on a dry run: would send).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<RawObject>")]
    pub calls: Vec<PlannedCall>,
}

/// The fields a spec gives (`None` fields, serialised as `null` or left out, are not given: a
/// diff must not show an update clearing the fields it leaves alone).
fn fields<S: Serialize>(spec: &S) -> Map<String, Value> {
    match serde_json::to_value(spec) {
        Ok(Value::Object(m)) => m.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => Map::new(),
    }
}

/// A record in settable wire form, in the tool's argument names.
fn spec_of<S: RecordSpec>(settable: Option<&Value>) -> Map<String, Value> {
    settable
        .and_then(|v| S::Model::deserialize(v).ok())
        .map(|m| fields(&S::from_model(&m)))
        .unwrap_or_default()
}

fn grid_of<S: RecordSpec>() -> &'static dyn ErasedGrid
where
    GridSpec<S::Model, S::Row>: ErasedGrid,
{
    S::GRID
}

/// [`RecordSpec::check_existing`] as the change engine's precondition (its refusal's text).
fn existing<S: RecordSpec>(
    uuid: &str,
    current: &Value,
    update: Option<&S::Model>,
) -> Result<(), String> {
    S::check_existing(uuid, current, update).map_err(|e| e.text().to_owned())
}

/// The answer of a write.
fn staged(
    result: (&'static str, &'static str),
    outcome: WriteOutcome,
    apply_with: &'static str,
    diff: Vec<FieldDiff>,
) -> Json<Staged> {
    Json(Staged {
        result: if outcome.dry_run { result.1 } else { result.0 },
        uuid: outcome.uuid,
        apply_with,
        dry_run: outcome.dry_run,
        calls: outcome.calls,
        diff,
        note: if outcome.dry_run {
            Some(DRY_RUN_NOTE.to_owned())
        } else {
            outcome.note
        },
    })
}

/// What a dry run's "would" does not promise: OPNsense has no validate-only call, so its own
/// checks (an interface that does not exist, ports on ICMP, a duplicate name) run only when the
/// write is sent.
const DRY_RUN_NOTE: &str = "nothing was sent: this server's checks passed, but OPNsense checks a write only when it is sent, so it may still be refused";

impl OpnsenseTools {
    /// `*_add`: checks the required fields, then adds the record (staged; journaled).
    pub(crate) async fn add_record<S: RecordSpec>(
        &self,
        record: NewRecord<S>,
    ) -> Result<Json<Staged>, ToolError>
    where
        GridSpec<S::Model, S::Row>: ErasedGrid,
    {
        let record = record.check()?;
        record.check_new()?;
        let given = fields(&record);
        let model = record.into_model()?;
        let body = encode::<S>(&model)?;
        let dry_run = CallContext::current().dry_run;
        let outcome = self
            .engine()?
            .write(grid_of::<S>(), Write::Add(body), dry_run)
            .await?;
        if !dry_run && outcome.uuid.as_deref().is_none_or(str::is_empty) {
            return Err(ToolError::message(format!(
                "OPNsense saved the record but did not return its uuid; find it with {} (the change is staged: {} makes it live)",
                S::LIST,
                S::APPLY
            )));
        }
        let diff = given
            .into_iter()
            .map(|(field, after)| FieldDiff {
                field,
                before: None,
                after: Some(after),
            })
            .collect();
        Ok(staged(("added", "would_add"), outcome, S::APPLY, diff))
    }

    /// `*_update`: changes the given fields of an existing record (staged; journaled). An
    /// unknown uuid is refused (OPNsense's set would create a record); an update naming no field
    /// is refused.
    pub(crate) async fn update_record<S: RecordSpec>(
        &self,
        uuid: &str,
        record: S,
    ) -> Result<Json<Staged>, ToolError>
    where
        GridSpec<S::Model, S::Row>: ErasedGrid,
    {
        let id = parse_uuid(uuid)?;
        let given = fields(&record);
        let model = record.into_model()?;
        let body = encode::<S>(&model)?;
        if body.as_object().is_none_or(Map::is_empty) {
            return Err(ToolError::invalid(S::ARGUMENT, "names no field to change"));
        }
        let dry_run = CallContext::current().dry_run;
        let check = |current: &Value| existing::<S>(uuid, current, Some(&model));
        let outcome = self
            .engine()?
            .write_checked(grid_of::<S>(), Write::Set(id, body), dry_run, Some(&check))
            .await?;
        let before = spec_of::<S>(outcome.before.as_ref());
        let diff = given
            .into_iter()
            .filter(|(field, after)| before.get(field) != Some(after))
            .map(|(field, after)| FieldDiff {
                before: before.get(&field).cloned(),
                field,
                after: Some(after),
            })
            .collect();
        Ok(staged(("updated", "would_update"), outcome, S::APPLY, diff))
    }

    /// `*_delete`: deletes a record (staged; journaled with its whole state, so a revert can
    /// re-add it).
    pub(crate) async fn delete_record<S: RecordSpec>(
        &self,
        uuid: &str,
    ) -> Result<Json<Staged>, ToolError>
    where
        GridSpec<S::Model, S::Row>: ErasedGrid,
    {
        let id = parse_uuid(uuid)?;
        let dry_run = CallContext::current().dry_run;
        let check = |current: &Value| existing::<S>(uuid, current, None);
        let outcome = self
            .engine()?
            .write_checked(grid_of::<S>(), Write::Delete(id), dry_run, Some(&check))
            .await?;
        let diff = spec_of::<S>(outcome.before.as_ref())
            .into_iter()
            .map(|(field, before)| FieldDiff {
                field,
                before: Some(before),
                after: None,
            })
            .collect();
        Ok(staged(("deleted", "would_delete"), outcome, S::APPLY, diff))
    }

    /// `*_apply`: makes a grid's staged changes live as a checked change (pre-flight, apply,
    /// read-back, probe over a new connection), pending until confirmed.
    pub(crate) async fn apply_grid<M, R>(
        &self,
        grid: &'static GridSpec<M, R>,
        done: &'static str,
        params: ApplyParams,
    ) -> Result<Json<Applied>, ToolError>
    where
        M: 'static,
        R: 'static,
        GridSpec<M, R>: ErasedGrid,
    {
        params.check()?;
        let dry_run = CallContext::current().dry_run;
        // With a progress token: each step of the apply as it starts, all sent before the answer.
        let (progress, progress_sent) = match crate::notify::Progress::current() {
            Some(p) if !dry_run => {
                let (hook, sent) = p.apply_hook();
                (Some(hook), Some(sent))
            }
            _ => (None, None),
        };
        let outcome = self
            .engine()?
            .apply(
                grid,
                ApplyOptions {
                    confirm_timeout: params
                        .confirm_timeout_s
                        .map(|s| Duration::from_secs(u64::from(s))),
                    force: params.force,
                    dry_run,
                    progress,
                },
            )
            .await;
        if let Some(sent) = progress_sent {
            // The hook went with the options: the sender ends once the last step is out.
            let _ = sent.await;
        }
        let outcome = outcome?;
        let records = outcome.staged.iter().map(RecordChange::brief).collect();
        let (status, change_id, revert_at, checks) = match &outcome.change {
            Some(c) => (
                c.status.as_str(),
                Some(c.change_id.clone()),
                c.revert_at.clone(),
                Some(c.detail.clone()),
            ),
            None => (
                "dry_run".to_owned(),
                None,
                None,
                outcome
                    .preflight
                    .clone()
                    .map(|p| serde_json::json!({"preflight": p})),
            ),
        };
        let applied = Applied {
            action: done,
            confirm_with: (status == "pending").then_some("change_confirm"),
            status,
            change_id,
            revert_at,
            message: outcome.message,
            records,
            changed_elsewhere: outcome.changed_elsewhere,
            checks,
            dry_run: outcome.dry_run,
            calls: outcome.calls,
        };
        // A change its checks undid is not a success: the firewall is as before (or, when the
        // revert failed, in an unknown state the message explains).
        if matches!(applied.status.as_str(), "reverted" | "revert_failed") {
            return Err(ToolError::with_details(applied.message.clone(), &applied));
        }
        Ok(Json(applied))
    }

    /// One page of a grid's rows as OPNsense sent them.
    pub(crate) async fn search_raw<M: 'static, R: 'static>(
        &self,
        grid: &'static GridSpec<M, R>,
        q: &opnsense_api::SearchQuery,
    ) -> Result<opnsense_api::SearchPage<Value>, ToolError> {
        Ok(self.client().grid(grid).search_raw(q).await?)
    }
}

fn encode<S: RecordSpec>(model: &S::Model) -> Result<Value, ToolError> {
    serde_json::to_value(model)
        .map_err(|e| ToolError::message(format!("cannot encode {}: {e}", S::ARGUMENT)))
}

/// Writes a grid's record tools, `<x>_add`, `<x>_update`, `<x>_delete` and (optionally)
/// `<x>_apply`, with their argument structs, as one `#[tool_router]` block named `router`. Each
/// tool is given as its doc comment (its description), its `#[title]` (annotation title; the
/// hints follow from its verb, see [`crate::verb`]) and its arguments as they are declared;
/// the functions call [`OpnsenseTools::add_record`], `update_record`, `delete_record` and
/// `apply_grid`. `check = method;` runs `self.method(&record).await?` before an add or update
/// (an area's check that needs the firewall, such as its release).
///
/// ```ignore
/// record_tools! {
///     router = route_records_router;
///
///     /// Add a static route. Staged: it takes effect after route_apply.
///     #[title = "Add a static route"]
///     fn route_add(RouteAddParams {
///         /// The new route.
///         route: NewRecord<RouteSpec>,
///     });
///     /// ... (update: `uuid: String` and `route: RouteSpec`; delete: `uuid: String`)
///     #[title = "Apply static routes"]
///     fn route_apply(&ROUTES, "static routes applied");
/// }
/// ```
macro_rules! record_tools {
    (
        router = $router:ident;
        $(check = $check:ident;)?

        $(#[doc = $add_doc:tt])*
        #[title = $add_title:tt]
        fn $add:ident($add_params:ident {
            $(#[doc = $new_doc:tt])*
            $add_field:ident: NewRecord<$spec:ident> $(,)?
        });

        $(#[doc = $update_doc:tt])*
        #[title = $update_title:tt]
        fn $update:ident($update_params:ident {
            $(#[doc = $update_uuid_doc:tt])*
            uuid: String,
            $(#[doc = $fields_doc:tt])*
            $update_field:ident: $update_spec:ident $(,)?
        });

        $(#[doc = $delete_doc:tt])*
        #[title = $delete_title:tt]
        fn $delete:ident($delete_params:ident {
            $(#[doc = $delete_uuid_doc:tt])*
            uuid: String $(,)?
        });

        $(
            $(#[doc = $apply_doc:tt])*
            #[title = $apply_title:tt]
            fn $apply:ident($grid:expr, $applied:expr);
        )?
    ) => {
        #[doc = concat!("Arguments of `", stringify!($add), "`.")]
        #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $add_params {
            $(#[doc = $new_doc])*
            pub $add_field: crate::common::NewRecord<$spec>,
        }

        #[doc = concat!("Arguments of `", stringify!($update), "`.")]
        #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $update_params {
            $(#[doc = $update_uuid_doc])*
            pub uuid: String,
            $(#[doc = $fields_doc])*
            pub $update_field: $update_spec,
        }

        #[doc = concat!("Arguments of `", stringify!($delete), "`.")]
        #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $delete_params {
            $(#[doc = $delete_uuid_doc])*
            pub uuid: String,
        }

        #[rmcp::tool_router(router = $router, vis = "pub(crate)")]
        impl crate::OpnsenseTools {
            $(#[doc = $add_doc])*
            #[rmcp::tool(annotations(title = $add_title))]
            async fn $add(
                &self,
                crate::params::Parameters(p): crate::params::Parameters<$add_params>,
            ) -> Result<rmcp::Json<crate::record::Staged>, crate::error::ToolError> {
                $(self.$check(&p.$add_field.0).await?;)?
                self.add_record(p.$add_field).await
            }

            $(#[doc = $update_doc])*
            #[rmcp::tool(annotations(title = $update_title))]
            async fn $update(
                &self,
                crate::params::Parameters(p): crate::params::Parameters<$update_params>,
            ) -> Result<rmcp::Json<crate::record::Staged>, crate::error::ToolError> {
                $(self.$check(&p.$update_field).await?;)?
                self.update_record(&p.uuid, p.$update_field).await
            }

            $(#[doc = $delete_doc])*
            #[rmcp::tool(annotations(title = $delete_title))]
            async fn $delete(
                &self,
                crate::params::Parameters(p): crate::params::Parameters<$delete_params>,
            ) -> Result<rmcp::Json<crate::record::Staged>, crate::error::ToolError> {
                self.delete_record::<$update_spec>(&p.uuid).await
            }

            $(
                $(#[doc = $apply_doc])*
                #[rmcp::tool(annotations(title = $apply_title))]
                async fn $apply(
                    &self,
                    crate::params::Parameters(p): crate::params::Parameters<crate::record::ApplyParams>,
                ) -> Result<rmcp::Json<crate::record::Applied>, crate::error::ToolError> {
                    self.apply_grid($grid, $applied, p).await
                }
            )?
        }
    };
}

pub(crate) use record_tools;

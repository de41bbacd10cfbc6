//! The record tools of every grid, written once: a tool's argument struct says how its fields
//! map to the SDK model ([`RecordSpec`]), and add, update, delete and apply are these generic
//! functions (so every write domain gets the same checks, answers and, later, the same change
//! engine).

use opnsense_api::GridSpec;
use rmcp::Json;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::OpnsenseTools;
use crate::common::{Applied, NewRecord, RequiredFields, Staged, parse_uuid};
use crate::error::ToolError;

/// A tool's record argument (`rule`, `alias`, `route`, ...): its fields in the tool's own names,
/// and how they become the SDK model of one grid. On update only the fields given are sent.
pub trait RecordSpec: RequiredFields + Serialize + Sized {
    /// The SDK model (the record as get answers it and add/set take it).
    type Model: Serialize + DeserializeOwned + 'static;
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

    /// Checks the fields and builds the model (only the fields given).
    fn into_model(self) -> Result<Self::Model, ToolError>;
}

impl OpnsenseTools {
    /// `*_add`: checks the required fields, then adds the record (staged).
    pub(crate) async fn add_record<S: RecordSpec>(
        &self,
        record: NewRecord<S>,
    ) -> Result<Json<Staged>, ToolError> {
        let record = record.check()?;
        record.check_new()?;
        let model = record.into_model()?;
        let saved = self.client().grid(S::GRID).add(&model).await?;
        Ok(Json(Staged::added(saved, S::APPLY, S::LIST)?))
    }

    /// `*_update`: changes the given fields of an existing record (staged). An unknown uuid is
    /// refused (OPNsense's set would create a record); an update naming no field is refused.
    pub(crate) async fn update_record<S: RecordSpec>(
        &self,
        uuid: &str,
        record: S,
    ) -> Result<Json<Staged>, ToolError> {
        let id = parse_uuid(uuid)?;
        let model = record.into_model()?;
        let body = serde_json::to_value(&model)
            .map_err(|e| ToolError::message(format!("cannot encode {}: {e}", S::ARGUMENT)))?;
        if body.as_object().is_none_or(serde_json::Map::is_empty) {
            return Err(ToolError::invalid(S::ARGUMENT, "names no field to change"));
        }
        self.client().grid(S::GRID).set_raw(&id, body).await?;
        Ok(Json(Staged::new("updated", id.to_string(), S::APPLY)))
    }

    /// `*_delete`: deletes a record (staged).
    pub(crate) async fn delete_record<S: RecordSpec>(
        &self,
        uuid: &str,
    ) -> Result<Json<Staged>, ToolError> {
        let id = parse_uuid(uuid)?;
        self.client().grid(S::GRID).delete(&id).await?;
        Ok(Json(Staged::new("deleted", id.to_string(), S::APPLY)))
    }

    /// `*_apply`: makes a grid's staged changes live.
    pub(crate) async fn apply_grid<M: 'static, R: 'static>(
        &self,
        grid: &'static GridSpec<M, R>,
        done: &'static str,
    ) -> Result<Json<Applied>, ToolError> {
        let status = self.client().grid(grid).apply().await?;
        Ok(Json(Applied {
            action: done,
            status: status.status,
        }))
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

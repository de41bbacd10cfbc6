//! The generic `ApiMutableModelControllerBase` engine (searchBase, getBase, addBase,
//! setBase, delBase, toggleBase), written once and configured per area by an [`AreaSpec`].

use serde_json::{Map, Value, json};

use crate::fields::{self, FieldSpec};
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::state::{Collection, Config, Record, SimState};
use crate::validate::Validations;

/// How `toggle_*` behaves for an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToggleStyle {
    /// Generic toggleBase on `enabled`: `{"result":"Enabled","changed":true}`.
    Enabled,
    /// d_nat: the parameter means *disabled*; `{"result":"Enabled"}` without `changed`.
    Disabled,
}

/// Everything the engine needs to know about one model collection.
pub(crate) struct AreaSpec {
    pub collection: Collection,
    /// Body wrapper key and validation-key prefix (`rule`, `alias`, `route` ...).
    pub wrapper: &'static str,
    pub fields: &'static [FieldSpec],
    pub toggle: ToggleStyle,
    /// Default sort column of the search grid.
    pub default_sort: &'static str,
    /// Input normalisation (filter `protocol` is upper-cased).
    pub transform: fn(&str, String) -> String,
    /// Initialises server-assigned fields of a new record (e.g. `sequence` = max + 100).
    pub prepare_new: fn(&Config, &mut Record),
    /// Updates computed/server fields before storing (sort_order, d_nat `updated.*`).
    pub before_save: fn(&mut Record, &Req),
    /// Area rules on top of the field types (cross-field checks, references).
    pub validate: fn(&Config, &Record, &mut Validations),
    /// Extra computed search columns.
    pub extra_row: fn(&Config, &Record, &mut Map<String, Value>),
    /// Refuses a delete with an error reply (alias in use).
    pub check_delete: fn(&Config, &Record) -> Result<(), Reply>,
    /// Called after a successful set with the old and new record (alias rename).
    pub after_set: fn(&mut Config, &Record, &Record),
}

/// No-op hooks for areas that need nothing special.
pub(crate) mod hooks {
    use super::{Config, Map, Record, Reply, Req, Validations, Value};

    /// Identity input transform.
    pub fn keep(_: &str, v: String) -> String {
        v
    }
    /// No server-assigned fields.
    pub fn no_prepare(_: &Config, _: &mut Record) {}
    /// No computed fields.
    pub fn no_before_save(_: &mut Record, _: &Req) {}
    /// No extra rules.
    pub fn no_validate(_: &Config, _: &Record, _: &mut Validations) {}
    /// No extra columns.
    pub fn no_extra(_: &Config, _: &Record, _: &mut Map<String, Value>) {}
    /// Deletion always allowed.
    #[allow(
        clippy::unnecessary_wraps,
        reason = "signature of AreaSpec::check_delete"
    )]
    pub fn may_delete(_: &Config, _: &Record) -> Result<(), Reply> {
        Ok(())
    }
    /// Nothing to propagate.
    pub fn no_after_set(_: &mut Config, _: &Record, _: &Record) {}
}

/// Whether `s` is a syntactically valid UUID (8-4-4-4-12 hex).
pub(crate) fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl AreaSpec {
    fn find<'a>(&self, cfg: &'a Config, uuid: &str) -> Option<&'a Record> {
        cfg.records(self.collection).iter().find(|r| r.uuid == uuid)
    }

    /// A new record with defaults and server-assigned fields.
    pub fn template(&self, cfg: &Config, uuid: String) -> Record {
        let mut rec = fields::defaults(self.fields, uuid);
        (self.prepare_new)(cfg, &mut rec);
        rec
    }

    /// Full validation of a record against the staged config.
    pub fn validate(&self, cfg: &Config, rec: &Record) -> Validations {
        let mut v = Validations::new(self.wrapper);
        fields::validate_types(self.fields, cfg, rec, &mut v);
        (self.validate)(cfg, rec, &mut v);
        v
    }

    /// `{"<wrapper>": {...}}` for a record.
    pub fn render(&self, cfg: &Config, rec: &Record) -> Value {
        json!({ self.wrapper: fields::render_get(self.fields, cfg, rec) })
    }

    /// Search rows of records (option labels looked up once for all of them).
    pub fn rows_of<'a>(
        &self,
        cfg: &Config,
        recs: impl IntoIterator<Item = &'a Record>,
    ) -> Vec<Map<String, Value>> {
        let labels = fields::Labels::new(self.fields, cfg);
        recs.into_iter()
            .map(|rec| {
                let mut row = fields::search_row(self.fields, &labels, rec);
                (self.extra_row)(cfg, rec, &mut row);
                row
            })
            .collect()
    }

    /// `get_*[/{uuid}]`: the record, defaults without uuid, `[]` when unknown.
    pub fn get(&self, st: &mut SimState, req: &Req) -> Reply {
        match req.param(0) {
            None => {
                let rec = self.template(&st.staged, String::new());
                Reply::ok(self.render(&st.staged, &rec))
            }
            Some(uuid) => match self.find(&st.staged, uuid) {
                Some(rec) => Reply::ok(self.render(&st.staged, rec)),
                None => Reply::empty_list(),
            },
        }
    }

    /// The wrapper object of a mutating request, or the reply to give instead.
    fn input<'a>(&self, req: &'a Req) -> Result<&'a Map<String, Value>, Reply> {
        if !req.is_post {
            return Err(Reply::failed());
        }
        match req.body.get(self.wrapper) {
            Some(Value::Object(obj)) => Ok(obj),
            None | Some(Value::Null) => Err(Reply::failed()),
            // setNodes() on a string: PHP TypeError.
            Some(_) => Err(Reply::unexpected()),
        }
    }

    fn save(&self, st: &mut SimState, mut rec: Record, req: &Req) -> Result<Record, Reply> {
        let v = self.validate(&st.staged, &rec);
        if !v.is_empty() {
            return Err(Reply::ok(
                json!({"result": "failed", "validations": v.into_json()}),
            ));
        }
        (self.before_save)(&mut rec, req);
        Ok(rec)
    }

    /// `add_*`: `{"result":"saved","uuid"}` or failed + validations.
    pub fn add(&self, st: &mut SimState, req: &Req) -> Reply {
        let input = match self.input(req) {
            Ok(i) => i,
            Err(r) => return r,
        };
        let uuid = st.new_uuid();
        let mut rec = self.template(&st.staged, uuid.clone());
        if let Err(w) = fields::apply_input(self.fields, &mut rec, input, "", self.transform) {
            return w.into();
        }
        match self.save(st, rec, req) {
            Ok(rec) => {
                st.staged.records_mut(self.collection).push(rec);
                Reply::ok(json!({"result": "saved", "uuid": uuid}))
            }
            Err(reply) => reply,
        }
    }

    /// `set_*/{uuid}`: partial update, upsert for an unknown but valid uuid.
    pub fn set(&self, st: &mut SimState, req: &Req) -> Reply {
        let Some(uuid) = req.param(0).map(str::to_owned) else {
            return Reply::endpoint_not_found();
        };
        let input = match self.input(req) {
            Ok(i) => i,
            Err(r) => return r,
        };
        if !is_uuid(&uuid) {
            return Reply::failed();
        }
        let old = self.find(&st.staged, &uuid).cloned();
        let mut rec = old
            .clone()
            .unwrap_or_else(|| self.template(&st.staged, uuid.clone()));
        if let Err(w) = fields::apply_input(self.fields, &mut rec, input, "", self.transform) {
            return w.into();
        }
        match self.save(st, rec, req) {
            Ok(rec) => {
                let records = st.staged.records_mut(self.collection);
                match records.iter_mut().find(|r| r.uuid == uuid) {
                    Some(slot) => *slot = rec.clone(),
                    None => records.push(rec.clone()),
                }
                if let Some(old) = old {
                    (self.after_set)(&mut st.staged, &old, &rec);
                }
                Reply::ok(json!({"result": "saved"}))
            }
            Err(reply) => reply,
        }
    }

    /// `del_*/{uuid[,uuid]}`: result of the last uuid processed.
    pub fn del(&self, st: &mut SimState, req: &Req) -> Reply {
        let Some(uuids) = req.param(0).map(str::to_owned) else {
            return Reply::endpoint_not_found();
        };
        if !req.is_post {
            return Reply::failed();
        }
        let mut result = "not found";
        for uuid in uuids.split(',').filter(|u| !u.is_empty()) {
            let Some(rec) = self.find(&st.staged, uuid) else {
                result = "not found";
                continue;
            };
            if let Err(reply) = (self.check_delete)(&st.staged, rec) {
                return reply;
            }
            st.staged
                .records_mut(self.collection)
                .retain(|r| r.uuid != uuid);
            result = "deleted";
        }
        Reply::ok(json!({"result": result}))
    }

    /// `toggle_*/{uuid[,uuid]}[/{0|1}]`.
    pub fn toggle(&self, st: &mut SimState, req: &Req) -> Reply {
        let Some(uuids) = req.param(0).map(str::to_owned) else {
            return Reply::endpoint_not_found();
        };
        if !req.is_post {
            return Reply::failed();
        }
        let forced = req.param(1).and_then(|p| match p {
            "0" => Some(false),
            "1" => Some(true),
            _ => None,
        });
        let list: Vec<&str> = uuids.split(',').filter(|u| !u.is_empty()).collect();
        if list.len() > 1 && forced.is_none() && self.toggle == ToggleStyle::Enabled {
            return Reply::user_exception(
                "Toggle with a list of items in only supported for explicit actions [0,1]",
                "Toggle",
            );
        }
        let mut outcome: Option<(bool, bool)> = None; // (enabled now, changed)
        for uuid in list {
            let records = st.staged.records_mut(self.collection);
            let Some(rec) = records.iter_mut().find(|r| r.uuid == uuid) else {
                continue;
            };
            let (field, on_value) = match self.toggle {
                ToggleStyle::Enabled => ("enabled", "1"),
                ToggleStyle::Disabled => ("disabled", "1"),
            };
            let currently_on = rec.get(field) == on_value;
            let new_on = forced.unwrap_or(!currently_on);
            rec.set(field, if new_on { "1" } else { "0" });
            let enabled = match self.toggle {
                ToggleStyle::Enabled => new_on,
                ToggleStyle::Disabled => !new_on,
            };
            outcome = Some((enabled, new_on != currently_on));
        }
        let word = |enabled: bool| if enabled { "Enabled" } else { "Disabled" };
        match (self.toggle, outcome) {
            (ToggleStyle::Enabled, Some((enabled, changed))) => {
                Reply::ok(json!({"result": word(enabled), "changed": changed}))
            }
            // PHP reads the never-set `changed` key: warning => 500.
            (ToggleStyle::Enabled, None) => Reply::unexpected(),
            (ToggleStyle::Disabled, Some((enabled, _))) => {
                Reply::ok(json!({"result": word(enabled)}))
            }
            (ToggleStyle::Disabled, None) => Reply::failed(),
        }
    }

    /// `search_*` via UIModelGrid.
    pub fn search(&self, st: &mut SimState, req: &Req) -> Reply {
        let params = SearchParams::grid(req);
        let rows = self.rows(&st.staged);
        Reply::ok(search::grid(rows, &params, self.default_sort))
    }

    /// All search rows of the staged collection.
    pub fn rows(&self, cfg: &Config) -> Vec<Map<String, Value>> {
        self.rows_of(cfg, cfg.records(self.collection))
    }
}

//! The generic `ApiMutableModelControllerBase` engine (searchBase, getBase, addBase,
//! setBase, delBase, toggleBase), written once and configured per area by an [`AreaSpec`].

use serde_json::{Map, Value, json};

use crate::Version;
use crate::fields::{self, FieldSpec};
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::Route;
use crate::state::{Collection, Config, Record, SimState};
use crate::validate::Validations;

/// How `toggle_*` behaves for an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToggleStyle {
    /// Generic `toggleBase` on `enabled`: comma lists, `{"result":"Enabled","changed":true}`.
    Enabled,
    /// A controller's own toggle of a `disabled` field (d_nat at every release, routes up to
    /// 26.1.9): the parameter means *disabled*, one uuid only, no `changed`.
    Disabled,
}

/// Everything the engine needs to know about one model collection.
pub(crate) struct AreaSpec {
    pub collection: Collection,
    /// Body wrapper key and validation-key prefix (`rule`, `alias`, `route` ...).
    pub wrapper: &'static str,
    /// Fields in model order (filtered per release by [`FieldSpec::exists_in`]).
    pub fields: &'static [FieldSpec],
    /// Toggle flavour per release.
    pub toggle: fn(Version) -> ToggleStyle,
    /// Default sort column of the search grid.
    pub default_sort: &'static str,
    /// Initialises server-assigned fields of a new record (e.g. `sequence` = max + 100).
    pub prepare_new: fn(&Config, &mut Record),
    /// Updates computed/server fields before storing (sort_order, d_nat `updated.*`).
    pub before_save: fn(&mut Record, &Req),
    /// Area rules on top of the field types (cross-field checks, references).
    pub validate: fn(&Config, &Record, &Req, &mut Validations),
    /// Extra computed search columns.
    pub extra_row: fn(&Config, &Record, Version, &mut Map<String, Value>),
    /// Refuses a delete with an error reply (alias in use).
    pub check_delete: fn(&Config, &Record) -> Result<(), Reply>,
    /// Called after a successful set with the old and new record (alias rename).
    pub after_set: fn(&mut Config, &Record, &Record),
    /// Called after every successful write (d_nat recomputes its volatile fields).
    pub after_write: fn(&mut Config),
}

/// The action names of an area's CRUD endpoints (normalised: `searchrule`); `None` for
/// actions the area does not have or serves with its own handler.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Actions {
    pub search: Option<&'static str>,
    pub get: Option<&'static str>,
    pub add: Option<&'static str>,
    pub set: Option<&'static str>,
    pub del: Option<&'static str>,
    pub toggle: Option<&'static str>,
}

impl Actions {
    /// The rule actions of a `FilterBaseController` grid (`getRule`, `addRule`, `setRule`,
    /// `delRule`, `toggleRule`), whose `searchRule` is the area's own.
    pub(crate) const RULES: Self = Self {
        search: None,
        get: Some("getrule"),
        add: Some("addrule"),
        set: Some("setrule"),
        del: Some("delrule"),
        toggle: Some("togglerule"),
    };
}

/// One generic CRUD operation of an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CrudOp {
    Search,
    Get,
    Add,
    Set,
    Del,
    Toggle,
}

fn keep_toggle(_: Version) -> ToggleStyle {
    ToggleStyle::Enabled
}
fn no_prepare(_: &Config, _: &mut Record) {}
fn no_before_save(_: &mut Record, _: &Req) {}
fn no_validate(_: &Config, _: &Record, _: &Req, _: &mut Validations) {}
fn no_extra(_: &Config, _: &Record, _: Version, _: &mut Map<String, Value>) {}
#[allow(
    clippy::unnecessary_wraps,
    reason = "signature of AreaSpec::check_delete"
)]
fn may_delete(_: &Config, _: &Record) -> Result<(), Reply> {
    Ok(())
}
fn no_after_set(_: &mut Config, _: &Record, _: &Record) {}
fn no_after_write(_: &mut Config) {}

/// `OPNsense\Core\Type::isUUID()`: a lower-case version-4 uuid,
/// `/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/`.
pub(crate) fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| {
            p.len() == n
                && p.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
        && parts[2].starts_with('4')
        && parts[3].starts_with(['8', '9', 'a', 'b'])
}

impl AreaSpec {
    /// An area without fields and with no-op hooks: every area states its collection,
    /// wrapper and fields and overrides only the hooks it needs (`..AreaSpec::DEFAULT`).
    pub const DEFAULT: AreaSpec = AreaSpec {
        collection: Collection::FilterRules,
        wrapper: "",
        fields: &[],
        toggle: keep_toggle,
        default_sort: "",
        prepare_new: no_prepare,
        before_save: no_before_save,
        validate: no_validate,
        extra_row: no_extra,
        check_delete: may_delete,
        after_set: no_after_set,
        after_write: no_after_write,
    };

    /// The route of `action` when it is one of this area's generic CRUD actions.
    pub fn crud(&'static self, action: &str, names: &Actions) -> Option<Route> {
        let ops = [
            (names.search, CrudOp::Search, 0),
            (names.get, CrudOp::Get, 0),
            (names.add, CrudOp::Add, 0),
            (names.set, CrudOp::Set, 1),
            (names.del, CrudOp::Del, 1),
            (names.toggle, CrudOp::Toggle, 1),
        ];
        ops.into_iter()
            .find(|(name, _, _)| *name == Some(action))
            .map(|(_, op, params)| Route::crud(self, op, params))
    }

    /// Runs one generic operation.
    pub fn run(&self, op: CrudOp, st: &mut SimState, req: &Req) -> Reply {
        match op {
            CrudOp::Search => self.search(st, req),
            CrudOp::Get => self.get(st, req),
            CrudOp::Add => self.add(st, req),
            CrudOp::Set => self.set(st, req),
            CrudOp::Del => self.del(st, req),
            CrudOp::Toggle => self.toggle(st, req),
        }
    }

    /// The fields of this area's model in `version`.
    pub fn specs(&self, version: Version) -> Vec<FieldSpec> {
        fields::for_version(self.fields, version)
    }

    fn find<'a>(&self, cfg: &'a Config, uuid: &str) -> Option<&'a Record> {
        cfg[self.collection].iter().find(|r| r.uuid == uuid)
    }

    /// A new record with defaults and server-assigned fields.
    pub fn template(&self, cfg: &Config, version: Version, uuid: String) -> Record {
        let mut rec = fields::defaults(&self.specs(version), uuid);
        (self.prepare_new)(cfg, &mut rec);
        rec
    }

    /// Full validation of a record against the staged config.
    pub fn validate(&self, cfg: &Config, rec: &Record, req: &Req) -> Validations {
        let mut v = Validations::new(self.wrapper);
        fields::validate_types(&self.specs(req.version), cfg, rec, req.version, &mut v);
        (self.validate)(cfg, rec, req, &mut v);
        v
    }

    /// `{"<wrapper>": {...}}` for a record.
    pub fn render(&self, cfg: &Config, version: Version, rec: &Record) -> Value {
        json!({ self.wrapper: fields::render_get(&self.specs(version), cfg, rec) })
    }

    /// Search rows of records (option labels looked up once for all of them).
    pub fn rows_of<'a>(
        &self,
        cfg: &Config,
        version: Version,
        recs: impl IntoIterator<Item = &'a Record>,
    ) -> Vec<Map<String, Value>> {
        let specs = self.specs(version);
        let labels = fields::Labels::new(&specs, cfg);
        recs.into_iter()
            .map(|rec| {
                let mut row = fields::search_row(&specs, &labels, rec);
                (self.extra_row)(cfg, rec, version, &mut row);
                row
            })
            .collect()
    }

    /// `get_*[/{uuid}]`: the record, defaults without uuid, `[]` when unknown.
    pub fn get(&self, st: &mut SimState, req: &Req) -> Reply {
        match req.param(0) {
            None => {
                let rec = self.template(&st.staged, req.version, String::new());
                Reply::ok(self.render(&st.staged, req.version, &rec))
            }
            Some(uuid) => match self.find(&st.staged, uuid) {
                Some(rec) => Reply::ok(self.render(&st.staged, req.version, rec)),
                None => Reply::empty_list(),
            },
        }
    }

    /// The wrapper object of a mutating request, or the reply to give instead. A wrapper
    /// that is not an object sets nothing (`isset($data[$key])` is false for a string, a
    /// number or a list), so the record keeps its current values.
    fn input(&self, req: &Req) -> Result<Map<String, Value>, Reply> {
        if !req.is_post {
            return Err(Reply::failed());
        }
        match req.body.get(self.wrapper) {
            Some(Value::Object(obj)) => Ok(obj.clone()),
            None | Some(Value::Null) => Err(Reply::failed()),
            Some(_) => Ok(Map::new()),
        }
    }

    fn save(&self, st: &SimState, mut rec: Record, req: &Req) -> Result<Record, Reply> {
        let v = self.validate(&st.staged, &rec, req);
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
        let mut rec = self.template(&st.staged, req.version, uuid.clone());
        if let Err(e) = fields::apply_input(&self.specs(req.version), &mut rec, &input, "", req) {
            return e.into();
        }
        match self.save(st, rec, req) {
            Ok(rec) => {
                st.staged[self.collection].push(rec);
                (self.after_write)(&mut st.staged);
                st.save(req.revision());
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
        let old = self.find(&st.staged, &uuid).cloned();
        if old.is_none() && !is_uuid(&uuid) {
            return Reply::failed();
        }
        let mut rec = old
            .clone()
            .unwrap_or_else(|| self.template(&st.staged, req.version, uuid.clone()));
        if let Err(e) = fields::apply_input(&self.specs(req.version), &mut rec, &input, "", req) {
            return e.into();
        }
        match self.save(st, rec, req) {
            Ok(rec) => {
                let records = &mut st.staged[self.collection];
                match records.iter_mut().find(|r| r.uuid == uuid) {
                    Some(slot) => *slot = rec.clone(),
                    None => records.push(rec.clone()),
                }
                if let Some(old) = old {
                    (self.after_set)(&mut st.staged, &old, &rec);
                }
                (self.after_write)(&mut st.staged);
                st.save(req.revision());
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
        let list: Vec<&str> = if crate::validate::php_empty(&uuids) {
            Vec::new()
        } else {
            uuids.split(',').collect()
        };
        // AliasController::delItemAction checks every item before deleting any.
        for uuid in &list {
            if let Some(rec) = self.find(&st.staged, uuid)
                && let Err(reply) = (self.check_delete)(&st.staged, rec)
            {
                return reply;
            }
        }
        let mut result = "failed";
        let mut changed = false;
        for uuid in list {
            if self.find(&st.staged, uuid).is_none() {
                result = "not found";
                continue;
            }
            st.staged[self.collection].retain(|r| r.uuid != uuid);
            result = "deleted";
            changed = true;
        }
        (self.after_write)(&mut st.staged);
        // delBase(): `if ($changed) $this->save(...)`.
        if changed {
            st.save(req.revision());
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
        match (self.toggle)(req.version) {
            ToggleStyle::Enabled => self.toggle_base(st, req, &uuids),
            ToggleStyle::Disabled => self.toggle_disabled(st, req, &uuids),
        }
    }

    /// `ApiMutableModelControllerBase::toggleBase()` (same at 26.1.10 and 26.7.2).
    ///
    /// `$result['changed']` is only set when a uuid was found, and the final
    /// `if ($result['changed'])` reads it anyway: a PHP warning, so an unknown uuid
    /// answers `{"result":"failed"}` on production firewalls and 500 on development ones.
    /// An explicit value other than 0/1 stops at the first found item with
    /// `changed: false`. Only the last item's `changed` decides whether the config is
    /// saved, so earlier items of a list are lost when the last one was unchanged.
    fn toggle_base(&self, st: &mut SimState, req: &Req, uuids: &str) -> Reply {
        let list: Vec<&str> = if uuids.is_empty() {
            Vec::new()
        } else {
            uuids.split(',').collect()
        };
        let explicit = req.param(1);
        if list.len() > 1 && explicit.is_none() {
            return Reply::user_exception(
                "Toggle with a list of items in only supported for explicit actions [0,1]",
                "Toggle",
            );
        }
        let mut records = st.staged[self.collection].clone();
        let mut result = "failed";
        let mut changed: Option<bool> = None;
        for uuid in list {
            let Some(rec) = records.iter_mut().find(|r| r.uuid == uuid) else {
                continue;
            };
            let current = rec.get("enabled").to_owned();
            match explicit {
                Some(value @ ("0" | "1")) => {
                    result = if value == "1" { "Enabled" } else { "Disabled" };
                    changed = Some(current != value);
                    rec.set("enabled", value);
                }
                Some(_) => {
                    changed = Some(false);
                    break;
                }
                None => {
                    changed = Some(true);
                    if current == "1" {
                        result = "Disabled";
                        rec.set("enabled", "0");
                    } else {
                        result = "Enabled";
                        rec.set("enabled", "1");
                    }
                }
            }
        }
        match changed {
            None => Reply::warning(
                "Undefined array key \"changed\"",
                Reply::ok(json!({"result": result})),
            ),
            Some(changed) => {
                if changed {
                    st.staged[self.collection] = records;
                    st.save(req.revision());
                }
                Reply::ok(json!({"result": result, "changed": changed}))
            }
        }
    }

    /// A controller's own "disabled" toggle (DNatController at both releases,
    /// RoutesController up to 26.1.9): one node by reference, `0`/`1` or flip.
    fn toggle_disabled(&self, st: &mut SimState, req: &Req, uuid: &str) -> Reply {
        let records = &mut st.staged[self.collection];
        let Some(rec) = records.iter_mut().find(|r| r.uuid == uuid) else {
            return Reply::failed();
        };
        if let Some(value @ ("0" | "1")) = req.param(1) {
            rec.set("disabled", value);
        } else {
            let flipped = if rec.get("disabled") == "1" { "0" } else { "1" };
            rec.set("disabled", flipped);
        }
        let result = if crate::validate::php_empty(rec.get("disabled")) {
            "Enabled"
        } else {
            "Disabled"
        };
        (self.after_write)(&mut st.staged);
        st.save(req.revision());
        Reply::ok(json!({"result": result}))
    }

    /// `search_*` via UIModelGrid.
    pub fn search(&self, st: &mut SimState, req: &Req) -> Reply {
        let params = SearchParams::grid(req);
        let rows = self.rows(&st.staged, req.version);
        let fields = self.search_fields(req.version);
        Reply::ok(search::grid(rows, &params, self.default_sort, &fields))
    }

    /// The fields `searchBase()` looks for the phrase in: the item's direct children up to
    /// 26.1 (so nested container fields are not searched), every flattened leaf from 26.7
    /// (`getFlatNodes()`).
    pub fn search_fields(&self, version: Version) -> Vec<String> {
        let mut fields: Vec<String> = Vec::new();
        for spec in self.specs(version) {
            let name = if version >= Version::V26_7 {
                spec.path.to_owned()
            } else {
                spec.path.split('.').next().unwrap_or_default().to_owned()
            };
            if !fields.contains(&name) {
                fields.push(name);
            }
        }
        fields
    }

    /// All search rows of the staged collection.
    pub fn rows(&self, cfg: &Config, version: Version) -> Vec<Map<String, Value>> {
        self.rows_of(cfg, version, &cfg[self.collection])
    }
}

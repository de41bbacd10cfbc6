//! Parameter and result shapes shared by many tools: uuids, paging, compact listings,
//! strict enums, required fields, staged/applied answers.

use std::borrow::Cow;
use std::collections::BTreeMap;

use opnsense_api::fields::{Lenient, WireEnum, decode_lenient};
use opnsense_api::grid::{LenientPage, LenientRow, SearchRow};
use opnsense_api::{GridSpec, SearchPage, SearchQuery, Uuid};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::error::ToolError;

/// Default page size of list tools: enough to be useful, small enough for an LLM to read.
pub const DEFAULT_ROW_COUNT: u32 = 100;
/// Largest page a list tool returns.
pub const MAX_ROW_COUNT: u32 = 1000;

/// Arguments of tools that act on one record.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UuidParams {
    /// The record's uuid (8-4-4-4-12 hexadecimal digits), as shown by the matching list tool.
    pub uuid: String,
    /// Return OPNsense's full JSON for the record instead of the compact form (read tools only).
    #[serde(default)]
    pub raw: bool,
}

/// Checks a uuid argument.
pub fn parse_uuid(s: &str) -> Result<Uuid, ToolError> {
    Uuid::parse(s).map_err(ToolError::from)
}

/// Paging arguments of list tools. OPNsense's names, in snake case.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Page, from 1 (default 1).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub current: Option<u32>,
    /// Rows per page, 1 to 1000 or -1 for all (at most 1000); default 100.
    #[serde(default)]
    #[schemars(range(min = -1, max = 1000))]
    pub row_count: Option<i64>,
    /// Words every row must contain (case-insensitive, any column).
    #[serde(default)]
    pub search_phrase: Option<String>,
    /// OPNsense's full JSON rows instead of compact ones.
    #[serde(default)]
    pub raw: bool,
}

impl ListParams {
    /// Checks the paging arguments and builds the search.
    pub fn query(&self) -> Result<SearchQuery, ToolError> {
        let current = self.current.unwrap_or(1);
        if current == 0 {
            return Err(ToolError::invalid("current", "pages are numbered from 1"));
        }
        let rows = match self.row_count {
            None => DEFAULT_ROW_COUNT,
            Some(-1) => MAX_ROW_COUNT,
            Some(n) if (1..=i64::from(MAX_ROW_COUNT)).contains(&n) => {
                u32::try_from(n).unwrap_or(MAX_ROW_COUNT)
            }
            Some(n) => {
                return Err(ToolError::invalid(
                    "row_count",
                    format!(
                        "{n} is out of range: use 1 to {MAX_ROW_COUNT}, or -1 for all (capped at {MAX_ROW_COUNT})"
                    ),
                ));
            }
        };
        let phrase = self.search_phrase.clone().unwrap_or_default();
        if phrase.chars().count() > 256 || phrase.chars().any(char::is_control) {
            return Err(ToolError::invalid(
                "search_phrase",
                "must be at most 256 characters without control characters",
            ));
        }
        Ok(SearchQuery::page(current, rows).phrase(phrase))
    }
}

/// What a search row is, for list tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A record of the user's: listed.
    Record,
    /// A row OPNsense generates itself (anti-lockout rule, automatic NAT entry, ...): listed
    /// with `origin: automatic` (not a record one can edit), counted in `automatic`.
    Automatic,
    /// A rule made in the classic GUI: active, but not editable through the API; listed with
    /// `origin: legacy`, counted in `legacy`.
    Legacy,
}

/// One compact row: the view's columns, plus any field OPNsense sent in a shape the SDK did not
/// expect, kept as it was sent (so nothing is hidden).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Compact<T> {
    /// `automatic` (OPNsense generates it) or `legacy` (made in the classic GUI): in force,
    /// but not editable with these tools. Absent for records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<&'static str>,
    /// The row's columns.
    #[serde(flatten)]
    pub view: T,
    /// Fields whose value had an unexpected shape, as OPNsense sent them (the columns above
    /// leave them out).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "Option<RawObject>")]
    pub unparsed: BTreeMap<String, Value>,
}

/// Pages with more rows than this are written as a table ([`Listing`]'s `columns` + `rows`).
pub const TABLE_AFTER: usize = 10;

/// A compact page of rows: `{total, returned, page, rows, next?}`. A page of more than
/// [`TABLE_AFTER`] rows is written as a table: `columns` names the fields, each row is an
/// array of its values in that order (trailing absent values left out), and `common` holds the
/// fields that have the same value on every row of the page (written once, not in `columns`).
#[derive(Debug, Clone)]
pub struct Listing<T> {
    /// Rows matching the search, over all pages (as OPNsense counts them).
    pub total: u64,
    /// Rows in this answer (`rows` plus `undecoded`, or `raw`).
    pub returned: usize,
    /// This page's number.
    pub page: u32,
    /// The rows (compact columns; empty when `raw` is returned instead).
    pub rows: Vec<Compact<T>>,
    /// Rows OPNsense sent that could not be read as records at all, as sent.
    pub undecoded: Vec<Value>,
    /// Rows on this page that OPNsense generates itself (`origin: automatic`; see `note`).
    pub automatic: Option<usize>,
    /// Rules on this page made in the classic GUI (`origin: legacy`; see `note`).
    pub legacy: Option<usize>,
    /// What the rows with an `origin` are.
    pub note: Option<String>,
    /// How to get the next page, when there is one.
    pub next: Option<String>,
    /// OPNsense's full rows (only with `raw: true`), every row as sent.
    pub raw: Option<Vec<Value>>,
}

/// What a [`Listing`] is written as: its schema (the `tools/list` output schema of list tools).
#[derive(JsonSchema)]
#[allow(dead_code)]
struct ListingShape<T> {
    /// Rows matching the search, over all pages (as OPNsense counts them).
    total: u64,
    /// Rows in this answer (`rows` plus `undecoded`, or `raw`).
    returned: usize,
    /// This page's number.
    page: u32,
    /// Table form only: the fields of each row's array, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    columns: Option<Vec<String>>,
    /// Table form only: fields with the same value on every row of the page.
    #[serde(skip_serializing_if = "Option::is_none")]
    common: Option<RawObject>,
    /// The rows: objects, or (table form) arrays of values in `columns` order.
    rows: TableRows<T>,
    /// Rows OPNsense sent that could not be read as records at all, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    undecoded: Option<Vec<RawValue>>,
    /// Rows on this page that OPNsense generates itself (`origin: automatic`; see `note`).
    #[serde(skip_serializing_if = "Option::is_none")]
    automatic: Option<usize>,
    /// Rules on this page made in the classic GUI (`origin: legacy`; see `note`).
    #[serde(skip_serializing_if = "Option::is_none")]
    legacy: Option<usize>,
    /// What the rows with an `origin` are.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    /// How to get the next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    /// OPNsense's full rows (only with `raw: true`), every row as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    raw: Option<Vec<RawObject>>,
}

impl<T: JsonSchema> JsonSchema for Listing<T> {
    fn schema_name() -> Cow<'static, str> {
        ListingShape::<T>::schema_name()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        ListingShape::<T>::json_schema(g)
    }
}

/// The `rows` of a listing in schemas: each row an object of `T`'s columns, or an array of
/// values of those columns' types.
struct TableRows<T>(std::marker::PhantomData<T>);

impl<T: JsonSchema> JsonSchema for TableRows<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Rows_{}", T::schema_name()).into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let row = g.subschema_for::<Compact<T>>();
        let cells = cell_types(g, &row);
        schemars::json_schema!({
            "type": "array",
            "items": {"anyOf": [row, {"type": "array", "items": {"type": cells}}]}
        })
    }
}

/// The JSON types a row's values can have: the union of its properties' types (every type when
/// one of them is not a plain typed schema).
fn cell_types(g: &SchemaGenerator, row: &Schema) -> Vec<&'static str> {
    const ALL: [&str; 7] = [
        "string", "integer", "number", "boolean", "object", "array", "null",
    ];
    let def = row
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        .and_then(|name| g.definitions().get(name))
        .or_else(|| row.as_object().map(|_| row.as_value()));
    let Some(props) = def
        .and_then(|d| d.get("properties"))
        .and_then(Value::as_object)
    else {
        return ALL.to_vec();
    };
    let mut seen = vec!["null"];
    for p in props.values() {
        let types: Vec<&str> = match p.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return ALL.to_vec(),
        };
        for t in types {
            if let Some(known) = ALL.iter().find(|a| **a == t)
                && !seen.contains(known)
            {
                seen.push(known);
            }
        }
    }
    ALL.iter().copied().filter(|t| seen.contains(t)).collect()
}

/// A page of compact rows as a table: the columns (most filled first), the fields equal on
/// every row, and each row's values in column order without its trailing absent ones.
struct Table {
    columns: Vec<String>,
    common: serde_json::Map<String, Value>,
    rows: Vec<Vec<Value>>,
}

impl Table {
    fn of<T: Serialize>(rows: &[Compact<T>]) -> Result<Self, serde_json::Error> {
        let mut maps = Vec::with_capacity(rows.len());
        for r in rows {
            match serde_json::to_value(r)? {
                Value::Object(m) => maps.push(m),
                other => {
                    return Err(serde::ser::Error::custom(format!(
                        "a compact row is not an object: {other}"
                    )));
                }
            }
        }
        // Columns in first-seen order, with how many rows have them.
        let mut columns: Vec<(String, usize)> = Vec::new();
        for m in &maps {
            for k in m.keys() {
                match columns.iter_mut().find(|(c, _)| c == k) {
                    Some((_, n)) => *n += 1,
                    None => columns.push((k.clone(), 1)),
                }
            }
        }
        let mut common = serde_json::Map::new();
        if let Some((first, others)) = maps.split_first() {
            columns.retain(|(c, n)| {
                let same = *n == maps.len()
                    && c != "uuid"
                    && !others.is_empty()
                    && others.iter().all(|m| m.get(c) == first.get(c));
                if same && let Some(v) = first.get(c) {
                    common.insert(c.clone(), v.clone());
                }
                !same
            });
        }
        columns.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let rows = maps
            .into_iter()
            .map(|mut m| {
                let mut row: Vec<Value> = columns
                    .iter()
                    .map(|(c, _)| m.remove(c).unwrap_or(Value::Null))
                    .collect();
                while row.last().is_some_and(Value::is_null) {
                    row.pop();
                }
                row
            })
            .collect();
        Ok(Self {
            columns: columns.into_iter().map(|(c, _)| c).collect(),
            common,
            rows,
        })
    }
}

impl<T: Serialize> Serialize for Listing<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("total", &self.total)?;
        m.serialize_entry("returned", &self.returned)?;
        m.serialize_entry("page", &self.page)?;
        if self.rows.len() > TABLE_AFTER {
            let table = Table::of(&self.rows).map_err(serde::ser::Error::custom)?;
            m.serialize_entry("columns", &table.columns)?;
            if !table.common.is_empty() {
                m.serialize_entry("common", &table.common)?;
            }
            m.serialize_entry("rows", &table.rows)?;
        } else {
            m.serialize_entry("rows", &self.rows)?;
        }
        if !self.undecoded.is_empty() {
            m.serialize_entry("undecoded", &self.undecoded)?;
        }
        if let Some(n) = self.automatic {
            m.serialize_entry("automatic", &n)?;
        }
        if let Some(n) = self.legacy {
            m.serialize_entry("legacy", &n)?;
        }
        if let Some(note) = &self.note {
            m.serialize_entry("note", note)?;
        }
        if let Some(next) = &self.next {
            m.serialize_entry("next", next)?;
        }
        if let Some(raw) = &self.raw {
            m.serialize_entry("raw", raw)?;
        }
        m.end()
    }
}

/// How a list tool turns OPNsense's rows of model `M` into compact views `T`.
pub struct Rows<M, T> {
    /// Which rows are records (default: all).
    pub kind: fn(&M) -> RowKind,
    /// The compact view of a record.
    pub view: fn(M) -> T,
    /// What the automatic and legacy rows are, said when a page has some.
    pub note: &'static str,
}

impl<M, T> Rows<M, T> {
    /// Every row is a record, shown as `view`.
    pub fn all(view: fn(M) -> T) -> Self {
        Self {
            kind: |_| RowKind::Record,
            view,
            note: "",
        }
    }
}

impl<T> Listing<T> {
    /// Builds a listing from one search page: every row OPNsense sent is decoded leniently
    /// (a field of an unexpected shape stays in the row's `unparsed`) and listed in OPNsense's
    /// order, automatic and legacy rows marked with their `origin` and counted; nothing is
    /// dropped.
    pub fn from_page<M: serde::de::DeserializeOwned>(
        q: &SearchQuery,
        raw: bool,
        page: SearchPage<Value>,
        rows: &Rows<M, T>,
    ) -> Self {
        let mut out = Self::empty(q, page.total);
        if raw {
            out.returned = page.rows.len();
            out.raw = Some(page.rows);
            return out;
        }
        out.add_rows(LenientPage::from_values(page), rows);
        out
    }

    /// Builds a compact listing from one page of rows already decoded leniently (see
    /// [`RawGrid::search_lenient`](opnsense_api::grid::RawGrid::search_lenient)): the same
    /// listing [`Self::from_page`] makes of the page's JSON rows.
    pub fn from_lenient<M>(q: &SearchQuery, page: LenientPage<M>, rows: &Rows<M, T>) -> Self {
        let mut out = Self::empty(q, page.total);
        out.add_rows(page, rows);
        out
    }

    fn empty(q: &SearchQuery, total: u64) -> Self {
        Self {
            total,
            returned: 0,
            page: q.current,
            rows: Vec::new(),
            undecoded: Vec::new(),
            automatic: None,
            legacy: None,
            note: None,
            next: next_hint(q, total),
            raw: None,
        }
    }

    /// Lists every row in OPNsense's order, automatic and legacy rows marked with their
    /// `origin` and counted; nothing is dropped.
    fn add_rows<M>(&mut self, page: LenientPage<M>, rows: &Rows<M, T>) {
        let (mut automatic, mut legacy) = (0, 0);
        self.rows.reserve(page.rows.len());
        for row in page.rows {
            match row {
                LenientRow::Decoded(Lenient { value, unparsed }) => {
                    let origin = match (rows.kind)(&value) {
                        RowKind::Record => None,
                        RowKind::Automatic => {
                            automatic += 1;
                            Some("automatic")
                        }
                        RowKind::Legacy => {
                            legacy += 1;
                            Some("legacy")
                        }
                    };
                    self.rows.push(Compact {
                        origin,
                        view: (rows.view)(value),
                        unparsed,
                    });
                }
                LenientRow::Undecoded(row) => self.undecoded.push(row),
            }
        }
        self.returned = self.rows.len() + self.undecoded.len();
        if automatic + legacy > 0 {
            self.automatic = (automatic > 0).then_some(automatic);
            self.legacy = (legacy > 0).then_some(legacy);
            self.note = Some(rows.note.to_owned());
        }
    }

    /// Pages a full list held in memory (for endpoints OPNsense does not page).
    pub fn from_all<M: serde::de::DeserializeOwned>(
        q: &SearchQuery,
        raw: bool,
        all: Vec<Value>,
        rows: &Rows<M, T>,
    ) -> Self {
        let words: Vec<String> = q
            .search_phrase
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let matching: Vec<Value> = all
            .into_iter()
            .filter(|row| {
                let text = row.to_string().to_lowercase();
                words.iter().all(|w| text.contains(w))
            })
            .collect();
        let per_page = q.row_count.unwrap_or(MAX_ROW_COUNT) as usize;
        let start = (q.current.saturating_sub(1) as usize).saturating_mul(per_page);
        let total = matching.len() as u64;
        let page_rows: Vec<Value> = matching.into_iter().skip(start).take(per_page).collect();
        let page = SearchPage {
            total,
            row_count: i64::try_from(page_rows.len()).unwrap_or(i64::MAX),
            current: i64::from(q.current),
            rows: page_rows,
            extra: opnsense_api::fields::Extra::default(),
        };
        Self::from_page(q, raw, page, rows)
    }
}

impl crate::OpnsenseTools {
    /// One page of a grid as a listing: with `raw`, the rows as OPNsense sent them; else every
    /// row decoded leniently straight from the answer ([`Listing::from_lenient`]), without a
    /// JSON value of the page.
    pub(crate) async fn list_grid<G: 'static, R: 'static, M: SearchRow, T>(
        &self,
        grid: &'static GridSpec<G, R>,
        p: &ListParams,
        rows: &Rows<M, T>,
    ) -> Result<Listing<T>, ToolError> {
        let q = p.query()?;
        let grid = self.client().grid(grid);
        if p.raw {
            let page = grid.search_raw(&q).await?;
            Ok(Listing::from_page(&q, true, page, rows))
        } else {
            let page = grid.search_rows::<M>(&q).await?;
            Ok(Listing::from_lenient(&q, page, rows))
        }
    }
}

/// "N more rows: call again with current = P", when there is a next page a caller can ask for.
fn next_hint(q: &SearchQuery, total: u64) -> Option<String> {
    let per_page = u64::from(q.row_count.unwrap_or(MAX_ROW_COUNT));
    let seen = u64::from(q.current).saturating_mul(per_page);
    q.current
        .checked_add(1)
        .filter(|_| seen < total)
        .map(|page| {
            format!(
                "{} more rows: call again with current = {page}",
                total - seen
            )
        })
}

/// An OPNsense option value that must be one OPNsense knows (no `Other`), so a typo is refused
/// here rather than by OPNsense after a round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strict<E>(pub E);

impl<'de, E: WireEnum> Deserialize<'de> for Strict<E> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let v = E::of(s.clone());
        if v.is_known_value() {
            Ok(Self(v))
        } else {
            Err(serde::de::Error::custom(format!(
                "{s:?} is not accepted here: expected one of {}",
                E::known().join(", ")
            )))
        }
    }
}

impl<E: JsonSchema> JsonSchema for Strict<E> {
    fn schema_name() -> Cow<'static, str> {
        E::schema_name()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        E::json_schema(g)
    }
}

impl<E: Serialize> Serialize for Strict<E> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// Names the fields an add needs; the update tools take the same struct with all optional.
pub trait RequiredFields {
    /// Name of the argument holding the record (`rule`, `alias`, ...), for messages.
    const ARGUMENT: &'static str;
    /// Fields that must be present when adding.
    const REQUIRED: &'static [&'static str];
}

/// A record to add: the same struct as for updates, with its required fields marked in the
/// schema and checked before any request.
#[derive(Debug, Clone)]
pub struct NewRecord<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NewRecord<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Self)
    }
}

impl<T: JsonSchema + RequiredFields> JsonSchema for NewRecord<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("New{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let mut schema = T::json_schema(g);
        schema.insert("required".into(), Value::from(T::REQUIRED.to_vec()));
        schema
    }
}

impl<T: Serialize + RequiredFields> NewRecord<T> {
    /// Refuses a record missing a required field, naming it.
    pub fn check(self) -> Result<T, ToolError> {
        let v = serde_json::to_value(&self.0).unwrap_or(Value::Null);
        for field in T::REQUIRED {
            if v.get(*field).is_none_or(Value::is_null) {
                return Err(ToolError::invalid(
                    format!("{}.{field}", T::ARGUMENT),
                    "is required when adding",
                ));
            }
        }
        Ok(self.0)
    }
}

/// Any JSON value as OPNsense sent it, in schemas: every JSON type, named (a bare `true`
/// schema is refused by strict validators, and `{}` would say nothing of its type).
#[derive(Debug, Clone)]
pub struct RawValue;

impl JsonSchema for RawValue {
    fn schema_name() -> Cow<'static, str> {
        "RawValue".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": "Any JSON value, as OPNsense sent it.",
            "type": ["string", "number", "boolean", "object", "array", "null"]
        })
    }
}

/// OPNsense's JSON for a record, in schemas: any object (keeps output schemas portable; a bare
/// `true` schema is refused by strict validators).
pub type RawObject = serde_json::Map<String, Value>;

/// A typed `{}`-argument for tools that take no arguments; rejects unknown ones.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("properties" = {}))]
pub struct NoParams {}

/// A `raw`-only argument for read tools without other arguments.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawParams {
    /// Return OPNsense's full JSON instead of the compact form.
    #[serde(default)]
    pub raw: bool,
}

/// One record: compact by default, OPNsense's full JSON with `raw: true`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Item<T> {
    /// The record's uuid.
    pub uuid: String,
    /// The record's main fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Compact<T>>,
    /// OPNsense's full JSON (only with `raw: true`; option fields as `{key: {value, selected}}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::common::RawObject>")]
    pub raw: Option<Value>,
}

impl<T> Item<T> {
    /// Wraps a record as get answers it, compacting it (leniently) unless `raw`.
    pub fn from_record<M: serde::de::DeserializeOwned>(
        uuid: &Uuid,
        raw: bool,
        v: Value,
        view: fn(M) -> T,
    ) -> Result<Self, ToolError> {
        if raw {
            return Ok(Self {
                uuid: uuid.to_string(),
                item: None,
                raw: Some(v),
            });
        }
        let Lenient { value, unparsed } = decode_lenient::<M>(&v).map_err(|e| {
            ToolError::message(format!(
                "OPNsense returned a record this server cannot read ({e}); call again with raw: true to see it as sent"
            ))
        })?;
        Ok(Self {
            uuid: uuid.to_string(),
            item: Some(Compact {
                origin: None,
                view: view(value),
                unparsed,
            }),
            raw: None,
        })
    }
}

/// Checks a single-line text argument: no control characters, at most `max` characters.
pub fn single_line(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ToolError> {
    match value {
        Some(v) if v.chars().any(char::is_control) => Err(ToolError::invalid(
            field,
            "must be a single line without control characters",
        )),
        Some(v) if v.chars().count() > max => Err(ToolError::invalid(
            field,
            format!("must be at most {max} characters"),
        )),
        other => Ok(other),
    }
}

/// Checks a single-line text argument that, when given, must not be empty: [`single_line`],
/// and not `""`.
pub fn non_empty_line(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ToolError> {
    let value = single_line(field, value, max)?;
    if value.as_deref() == Some("") {
        return Err(ToolError::invalid(field, "must not be empty"));
    }
    Ok(value)
}

/// Checks a rule's evaluation order: 1 to 999999, the range of OPNsense's `sequence` fields.
pub fn rule_sequence(field: &str, value: Option<u32>) -> Result<Option<u64>, ToolError> {
    match value {
        Some(seq) if !(1..=999_999).contains(&seq) => {
            Err(ToolError::invalid(field, "must be between 1 and 999999"))
        }
        other => Ok(other.map(u64::from)),
    }
}

/// The first characters of a caller's value, for error messages.
pub fn excerpt(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Whether `s` is an OPNsense key (interface, gateway): 1 to 64 letters, digits, `_`, `-`, `.`.
pub fn is_key(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// Checks a list of OPNsense keys (interfaces, gateways): letters, digits, `_`, `-`, `.`.
pub fn keys(
    field: &str,
    value: Option<Vec<String>>,
) -> Result<Option<opnsense_api::fields::CsvList>, ToolError> {
    let Some(items) = value else { return Ok(None) };
    for item in &items {
        if !is_key(item) {
            return Err(ToolError::invalid(
                field,
                format!(
                    "{item:?} is not an OPNsense key (letters, digits, _ - . ; e.g. lan, wan, opt1)"
                ),
            ));
        }
    }
    Ok(Some(items.into_iter().collect()))
}

/// `"!"` prefix for inverted matches, for compact rows.
pub fn negated(value: Option<String>, not: Option<bool>) -> Option<String> {
    value.map(|v| {
        if not == Some(true) {
            format!("!{v}")
        } else {
            v
        }
    })
}

/// For `skip_serializing_if`.
#[allow(clippy::trivially_copy_pass_by_ref)]
pub fn is_false(b: &bool) -> bool {
    !*b
}

/// A protocol argument as OPNsense's `ProtocolField` takes it: `any`, `TCP/UDP` or any IANA
/// protocol name of the firewall's `/etc/protocols` (`TCP`, `udp`, `ICMP`, `ipv6-icmp`, `GRE`,
/// `ESP`, `OSPF`, `CARP`, `PFSYNC`, `L2TP`, ...), in any case; it is sent spelled as OPNsense stores
/// it (upper-case for filter rules, lower-case for NAT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ProtocolArg<const UPPER: bool>(pub String);

impl<'de, const UPPER: bool> Deserialize<'de> for ProtocolArg<UPPER> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use opnsense_api::models::firewall::{ProtocolCase, normalise_protocol};
        let s = String::deserialize(d)?;
        let case = if UPPER {
            ProtocolCase::Upper
        } else {
            ProtocolCase::Lower
        };
        normalise_protocol(&s, case).map(Self).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{:?} is not a protocol OPNsense knows: use any, TCP/UDP, or an IANA protocol name such as TCP, UDP, ICMP, IPV6-ICMP, GRE, ESP, AH, OSPF, CARP (any case)",
                excerpt(&s)
            ))
        })
    }
}

impl<const UPPER: bool> JsonSchema for ProtocolArg<UPPER> {
    fn schema_name() -> Cow<'static, str> {
        "Protocol".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "type": "string",
            "examples": ["any", "TCP", "UDP", "TCP/UDP", "ICMP", "IPV6-ICMP", "ESP", "GRE"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize, JsonSchema)]
    struct View {
        #[serde(skip_serializing_if = "Option::is_none")]
        uuid: Option<String>,
        enabled: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        port: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    }

    fn listing(n: usize) -> Listing<View> {
        Listing {
            total: 100,
            returned: n,
            page: 1,
            rows: (0..n)
                .map(|i| Compact {
                    origin: None,
                    view: View {
                        uuid: Some(format!("u{i}")),
                        enabled: true,
                        port: (i % 2 == 0).then(|| "443".to_owned()),
                        note: (i == 0).then(|| "first".to_owned()),
                    },
                    unparsed: BTreeMap::new(),
                })
                .collect(),
            undecoded: Vec::new(),
            automatic: None,
            legacy: None,
            note: None,
            next: Some("more".to_owned()),
            raw: None,
        }
    }

    #[test]
    fn sequences_and_non_empty_lines_are_checked_naming_the_field() {
        for ok in [None, Some(1), Some(999_999)] {
            assert_eq!(
                rule_sequence("rule.sequence", ok).expect("in range"),
                ok.map(u64::from)
            );
        }
        for bad in [0, 1_000_000] {
            let e = rule_sequence("rule.sequence", Some(bad)).expect_err("out of range");
            assert!(
                e.text().contains("rule.sequence") && e.text().contains("between 1 and 999999"),
                "{bad}: {}",
                e.text()
            );
        }
        assert_eq!(
            non_empty_line("x.description", Some("web".into()), 255).expect("line"),
            Some("web".into())
        );
        assert_eq!(
            non_empty_line("x.description", None, 255).expect("absent"),
            None
        );
        for (bad, why) in [("", "must not be empty"), ("a\nb", "single line")] {
            let e = non_empty_line("x.description", Some(bad.into()), 255).expect_err(bad);
            assert!(
                e.text().contains("x.description") && e.text().contains(why),
                "{bad:?}: {}",
                e.text()
            );
        }
    }

    #[test]
    fn the_instructions_say_when_a_page_is_a_table() {
        assert!(
            crate::INSTRUCTIONS
                .contains(&format!("page of more than {TABLE_AFTER} rows is a table")),
            "{}",
            crate::INSTRUCTIONS
        );
    }

    #[test]
    fn short_pages_are_objects() {
        let v = serde_json::to_value(listing(2)).expect("json");
        assert_eq!(
            v,
            json!({"total": 100, "returned": 2, "page": 1, "rows": [
                {"uuid": "u0", "enabled": true, "port": "443", "note": "first"},
                {"uuid": "u1", "enabled": true}
            ], "next": "more"})
        );
    }

    #[test]
    fn long_pages_are_tables_with_common_fields_and_no_trailing_absent_values() {
        let n = TABLE_AFTER + 1;
        let v = serde_json::to_value(listing(n)).expect("json");
        assert_eq!(v["columns"], json!(["uuid", "port", "note"]));
        assert_eq!(v["common"], json!({"enabled": true}));
        assert_eq!(v["rows"][0], json!(["u0", "443", "first"]));
        assert_eq!(v["rows"][1], json!(["u1"]));
        assert_eq!(v["rows"][2], json!(["u2", "443"]));
        assert_eq!(v["rows"].as_array().map(Vec::len), Some(n));
        assert_eq!(v["next"], "more");
    }

    #[test]
    fn the_listing_schema_allows_both_forms_with_typed_cells() {
        let schema = schemars::schema_for!(Listing<View>);
        let v = schema.as_value();
        let required = v["required"].as_array().expect("required");
        assert_eq!(
            required,
            &vec![
                json!("total"),
                json!("returned"),
                json!("page"),
                json!("rows")
            ]
        );
        let any = &v["properties"]["rows"]["items"]["anyOf"];
        assert_eq!(
            any[1],
            json!({"type": "array", "items": {"type": ["string", "boolean", "object", "null"]}})
        );
    }
}

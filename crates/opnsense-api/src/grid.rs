//! One generic handler for every OPNsense model grid (kube-rs' `Api<K>` for OPNsense).
//!
//! Most OPNsense areas are `ApiMutableModelControllerBase` grids with the same actions
//! (search/get/add/set/del/toggle, and an apply or reconfigure) under different names and
//! wrapper keys. A [`GridDesc`] describes one, with its quirks as small fields; [`GridSpec`]
//! ties it to its model type; [`Grid`] runs it:
//!
//! ```no_run
//! # async fn demo(client: &opnsense_api::Client) -> opnsense_api::Result<()> {
//! use opnsense_api::{SearchQuery, api::routes::ROUTES};
//! let page = client.grid(&ROUTES).search(&SearchQuery::all()).await?;
//! println!("{} static routes", page.total);
//! # Ok(()) }
//! ```
//!
//! Every request is first built as a plain [`Request`] by a method of [`GridDesc`] (no I/O);
//! the async methods of [`Grid`] only send and interpret.

use std::marker::PhantomData;
use std::ops::Deref;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::fields::{Lenient, decode_lenient, selected_string};
use crate::outcome::{self, ActionStatus, Saved, Toggled};
use crate::path::Uuid;
use crate::request::{Request, SearchPage, SearchQuery};
use crate::version::{self, FirmwareVersion, Quirk};

/// Which field switches a record on or off, and what a toggle's `/{0|1}` argument means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnOff {
    /// The record has no on/off switch.
    None,
    /// `enabled`: `"1"` is on; the toggle argument means "enabled".
    Enabled,
    /// `disabled`: `"1"` is off; the toggle argument means "disabled" (d_nat).
    Disabled,
    /// `enabled` from the release of the quirk on, `disabled` before it (static routes:
    /// [`Quirk::RouteEnabledField`]).
    EnabledSince(Quirk),
}

impl OnOff {
    /// The field name used by this firmware (`None`: no switch).
    pub fn field(self, v: Option<FirmwareVersion>) -> Option<&'static str> {
        match self {
            Self::None => None,
            Self::EnabledSince(q) if version::has(v, q) => Some("enabled"),
            Self::Enabled => Some("enabled"),
            Self::Disabled | Self::EnabledSince(_) => Some("disabled"),
        }
    }
}

/// The apply (or reconfigure) action of a grid: what loads staged records into the running
/// service.
#[derive(Debug, Clone, Copy)]
pub struct Apply {
    /// Endpoint (POST, no body).
    pub path: &'static str,
    /// What it does, for messages ("apply static routes").
    pub action: &'static str,
    /// The answer's status key (`status`; WireGuard: `result`).
    pub key: &'static str,
    /// Which status texts are a success.
    pub ok: fn(&str) -> bool,
}

impl Apply {
    /// A `reconfigure` endpoint: success is a `status` of `ok` ([`outcome::status_is_ok`]).
    pub const fn reconfigure(path: &'static str, action: &'static str) -> Self {
        Self {
            path,
            action,
            key: "status",
            ok: outcome::status_is_ok,
        }
    }

    /// A firewall `apply` endpoint: success is a `status` that is configd's output and not an
    /// error ([`outcome::apply_is_ok`]).
    pub const fn firewall(path: &'static str, action: &'static str) -> Self {
        Self {
            path,
            action,
            key: "status",
            ok: outcome::apply_is_ok,
        }
    }

    /// `POST <path>` without a body.
    pub fn request(&self) -> Request {
        Request::post(self.path)
    }
}

/// How a grid tells an unknown uuid apart from a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The get answers `[]` for an unknown uuid (`getBase`).
    Get,
    /// The get answers an empty template for an unknown uuid, recognisable by the absence of
    /// this field (the alias `get_item` fills in only `content`).
    GetWithField(&'static str),
    /// The get answers every item of an array that holds several kinds of record, whatever its
    /// kind: an item whose `field` (`.0`) does not select `value` (`.1`) is another grid's
    /// record and counts as not found here (Unbound's `getForward` answers DNS-over-TLS entries
    /// too, and `setForward` would turn one into a forward).
    GetOfKind(&'static str, &'static str),
}

/// An OPNsense model grid: its endpoints, wrapper key and quirks. Pure data.
#[derive(Debug, Clone, Copy)]
pub struct GridDesc {
    /// Stable identifier (`firewall.filter`, `routes.route`, ...), e.g. for a change journal.
    pub id: &'static str,
    /// Human name for messages ("static route").
    pub kind: &'static str,
    /// Body wrapper key for add/set and the key a get answers under (`rule`, `alias`, ...);
    /// OPNsense's validation messages are keyed `<wrapper>.<field>`.
    pub wrapper: &'static str,
    /// Search endpoint (POST with the paging body).
    pub search: &'static str,
    /// Get endpoint (`/{uuid}` appended).
    pub get: &'static str,
    /// Add endpoint.
    pub add: &'static str,
    /// Set endpoint (`/{uuid}` appended).
    pub set: &'static str,
    /// Delete endpoint (`/{uuid}` appended).
    pub del: &'static str,
    /// Toggle endpoint (`/{uuid}[/{0|1}]` appended), where OPNsense has one.
    pub toggle: Option<&'static str>,
    /// The on/off field and the toggle argument's meaning.
    pub on_off: OnOff,
    /// What makes staged changes live.
    pub apply: Apply,
    /// How an unknown uuid shows.
    pub lookup: Lookup,
    /// Fields a `set` always sends, taken from the current record when the caller did not
    /// give them: OPNsense compares them against the stored record (routes: a `set` without
    /// `network` deletes and re-adds the route on the next apply).
    pub set_keeps: &'static [&'static str],
    /// Fields that hold secrets (keys, passwords): never to be logged, journaled or shown.
    pub secret_fields: &'static [&'static str],
}

impl GridDesc {
    /// `POST <search>` with the paging body and the query's filters.
    pub fn search_request(&self, q: &SearchQuery) -> Request {
        Request::post(self.search).json(Value::Object(q.to_body()))
    }

    /// `GET <get>/<uuid>`.
    pub fn get_request(&self, id: &Uuid) -> Request {
        Request::get(self.get).segment(id.as_str())
    }

    /// `POST <add>` with `{"<wrapper>": body}`, the on/off field spelled for `version`.
    pub fn add_request(&self, body: Value, version: Option<FirmwareVersion>) -> Result<Request> {
        Ok(Request::post(self.add).json(self.wrap(body, version)?))
    }

    /// `POST <set>/<uuid>` with `{"<wrapper>": body}` (only the fields present change).
    pub fn set_request(
        &self,
        id: &Uuid,
        body: Value,
        version: Option<FirmwareVersion>,
    ) -> Result<Request> {
        Ok(Request::post(self.set)
            .segment(id.as_str())
            .json(self.wrap(body, version)?))
    }

    /// `POST <del>/<uuid>` without a body.
    pub fn del_request(&self, id: &Uuid) -> Request {
        Request::post(self.del).segment(id.as_str())
    }

    /// `POST <toggle>/<uuid>[/0|1]` without a body; `enabled: None` flips. Refused for grids
    /// OPNsense gives no toggle.
    pub fn toggle_request(
        &self,
        id: &Uuid,
        enabled: Option<bool>,
        version: Option<FirmwareVersion>,
    ) -> Result<Request> {
        let Some(path) = self.toggle else {
            return Err(Error::invalid(
                "toggle",
                format!(
                    "OPNsense has no toggle for a {}: update it instead",
                    self.kind
                ),
            ));
        };
        let req = Request::post(path).segment(id.as_str());
        Ok(match enabled {
            None => req,
            Some(on) => {
                let inverted = self.on_off.field(version) == Some("disabled");
                req.segment(if on == inverted { "0" } else { "1" })
            }
        })
    }

    /// `POST <apply>` without a body.
    pub fn apply_request(&self) -> Request {
        self.apply.request()
    }

    /// `{"<wrapper>": body}`, with the on/off field renamed (and inverted) to what `version`
    /// expects, so a flag given either way is never silently ignored.
    pub fn wrap(&self, body: Value, version: Option<FirmwareVersion>) -> Result<Value> {
        let Value::Object(mut inner) = body else {
            return Err(Error::invalid(self.wrapper, "must be an object"));
        };
        if let (OnOff::EnabledSince(_), Some(field)) = (self.on_off, self.on_off.field(version)) {
            let other = if field == "enabled" {
                "disabled"
            } else {
                "enabled"
            };
            if let Some(v) = inner.remove(other)
                && !inner.contains_key(field)
            {
                let flipped = match selected_string(&v).as_str() {
                    "1" => "0",
                    "0" => "1",
                    _ => "",
                };
                if !flipped.is_empty() {
                    inner.insert(field.to_owned(), Value::from(flipped));
                }
            }
        }
        let mut outer = Map::new();
        outer.insert(self.wrapper.to_owned(), Value::Object(inner));
        Ok(Value::Object(outer))
    }

    /// Whether a get answer's record is a real one (see [`Lookup`]).
    fn is_record(&self, record: &Value) -> bool {
        match self.lookup {
            Lookup::Get => true,
            Lookup::GetWithField(field) => record.get(field).is_some(),
            Lookup::GetOfKind(field, value) => {
                record.get(field).map(selected_string).as_deref() == Some(value)
            }
        }
    }

    /// Whether the on/off field matters for this grid with this firmware (so the version must
    /// be known before building write requests).
    fn needs_version(&self) -> bool {
        matches!(self.on_off, OnOff::EnabledSince(_))
    }
}

/// A [`GridDesc`] tied to its model types: `T`, the record as get answers it and add/set take
/// it, and `R`, a search row (the same type, except where OPNsense flattens rows: d_nat).
pub struct GridSpec<T, R = T> {
    /// The grid.
    pub desc: GridDesc,
    _model: PhantomData<fn() -> (T, R)>,
}

impl<T, R> GridSpec<T, R> {
    /// Ties `desc` to the models `T` and `R`.
    pub const fn new(desc: GridDesc) -> Self {
        Self {
            desc,
            _model: PhantomData,
        }
    }
}

impl<T, R> std::fmt::Debug for GridSpec<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GridSpec")
            .field("desc", &self.desc)
            .finish()
    }
}

impl<T, R> Deref for GridSpec<T, R> {
    type Target = GridDesc;
    fn deref(&self) -> &GridDesc {
        &self.desc
    }
}

/// A grid with its model types erased, for code that handles every grid alike (a change
/// journal, a registry): the description, and the round trip of a record from the shape get
/// answers to the shape add/set take.
pub trait ErasedGrid: Sync + std::fmt::Debug {
    /// The grid's description (`'static` when the grid is, as every `GridSpec` is).
    fn desc(&self) -> &GridDesc;
    /// A record as get answers it (without its wrapper) turned into what add/set take: decoded
    /// into the model and encoded again (option maps flattened, read-only fields left out).
    fn settable(&self, record: &Value) -> Result<Value>;
}

impl<T, R> ErasedGrid for GridSpec<T, R>
where
    T: Serialize + DeserializeOwned + 'static,
    R: 'static,
{
    fn desc(&self) -> &GridDesc {
        &self.desc
    }
    fn settable(&self, record: &Value) -> Result<Value> {
        let model: T = outcome::decode_ref(self.desc.get, record)?;
        encode(&self.desc, &model)
    }
}

/// The untyped handler of one grid: every action, with records as wire JSON. [`Grid`] derefs
/// to it; code that handles every grid alike (a change journal) uses it through
/// [`Client::raw_grid`].
#[derive(Clone, Copy)]
pub struct RawGrid<'c> {
    client: &'c Client,
    desc: &'static GridDesc,
}

impl std::fmt::Debug for RawGrid<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawGrid")
            .field("kind", &self.desc.kind)
            .finish_non_exhaustive()
    }
}

/// The generic handler of one grid, typed. Borrows the client; create it freely with
/// [`Client::grid`]. Every untyped action of [`RawGrid`] is available through `Deref`.
pub struct Grid<'c, T: 'static, R: 'static = T> {
    raw: RawGrid<'c>,
    spec: &'static GridSpec<T, R>,
}

impl<T: 'static, R: 'static> Clone for Grid<'_, T, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static, R: 'static> Copy for Grid<'_, T, R> {}

impl<T: 'static, R: 'static> std::fmt::Debug for Grid<'_, T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grid")
            .field("kind", &self.spec.kind)
            .finish_non_exhaustive()
    }
}

impl<'c, T: 'static, R: 'static> Deref for Grid<'c, T, R> {
    type Target = RawGrid<'c>;
    fn deref(&self) -> &RawGrid<'c> {
        &self.raw
    }
}

impl Client {
    /// The handler for one grid, e.g. `client.grid(&ROUTES)`.
    pub fn grid<T: 'static, R: 'static>(&self, spec: &'static GridSpec<T, R>) -> Grid<'_, T, R> {
        Grid {
            raw: self.raw_grid(&spec.desc),
            spec,
        }
    }

    /// The untyped handler for one grid.
    pub fn raw_grid(&self, desc: &'static GridDesc) -> RawGrid<'_> {
        RawGrid { client: self, desc }
    }
}

impl<'c> RawGrid<'c> {
    /// The grid's description.
    pub fn desc(&self) -> &'static GridDesc {
        self.desc
    }

    /// The client.
    pub fn client(&self) -> &'c Client {
        self.client
    }

    async fn version_if_needed(&self) -> Option<FirmwareVersion> {
        if self.desc.needs_version() {
            self.client.firmware_version().await
        } else {
            None
        }
    }

    /// One page of rows as OPNsense sent them (for raw output; compact views use
    /// [`Self::search_lenient`]).
    pub async fn search_raw(&self, q: &SearchQuery) -> Result<SearchPage<Value>> {
        self.client
            .execute_slice(self.desc.search_request(q), crate::client::decode_slice)
            .await
    }

    /// One page of rows, each decoded leniently as `M` ([`decode_lenient`]): a field of an
    /// unexpected shape is set aside in the row's `unparsed`, a row that is no record at all is
    /// kept as sent; every row OPNsense sent is there, in its order.
    ///
    /// The rows are read straight from the body into `M` (no `Value` of the page); only when a
    /// row does not fit is the page read again as JSON values and each row decoded on its own,
    /// so the answer is the same either way.
    pub async fn search_lenient<M: DeserializeOwned>(
        &self,
        q: &SearchQuery,
    ) -> Result<LenientPage<M>> {
        self.client
            .execute_slice(self.desc.search_request(q), LenientPage::decode)
            .await
    }

    /// [`Self::search_lenient`] for a listing that needs only the fields `M` models: the rows are
    /// read as `M`'s [`SearchRow::Row`] (fields this SDK does not model skipped, so `extra` is
    /// empty) and turned into `M`. Every row is kept, in order, as with `search_lenient`.
    pub async fn search_rows<M: SearchRow>(&self, q: &SearchQuery) -> Result<LenientPage<M>> {
        let page = self.search_lenient::<M::Row>(q).await?;
        Ok(LenientPage {
            total: page.total,
            rows: page.rows.into_iter().map(LenientRow::into_record).collect(),
        })
    }

    /// The record as get answers it (option maps and all), without its wrapper. An unknown
    /// uuid is [`Error::NotFound`].
    pub async fn get_raw(&self, id: &Uuid) -> Result<Value> {
        let desc = self.desc;
        let result = self
            .client
            .execute(desc.get_request(id), |path, v| {
                let record: Value = outcome::item(path, desc.wrapper, desc.kind, id, v)?;
                if desc.is_record(&record) {
                    Ok(record)
                } else {
                    Err(not_found(desc, id))
                }
            })
            .await;
        match result {
            // Older firmware answered HTTP 500 for an unknown alias: confirm with a search.
            Err(e @ Error::Http { status: 500, .. })
                if matches!(desc.lookup, Lookup::GetWithField(_)) =>
            {
                Err(self.not_found_or(id, e).await?)
            }
            other => other,
        }
    }

    /// Whether a record with this uuid exists (a get; `Ok(false)` only for "not found").
    pub async fn exists(&self, id: &Uuid) -> Result<bool> {
        match self.get_raw(id).await {
            Ok(_) => Ok(true),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether a search for the uuid finds it (OPNsense matches a uuid token exactly).
    async fn found_by_search(&self, id: &Uuid) -> Result<bool> {
        let page = self
            .search_raw(&SearchQuery::all().phrase(id.as_str()))
            .await?;
        Ok(page
            .rows
            .iter()
            .any(|r| r.get("uuid").and_then(Value::as_str) == Some(id.as_str())))
    }

    /// `e` if the record exists (by search), else not found.
    async fn not_found_or(&self, id: &Uuid, e: Error) -> Result<Error> {
        Ok(if self.found_by_search(id).await? {
            e
        } else {
            not_found(self.desc, id)
        })
    }

    /// Adds a record given as wire JSON (staged until [`Self::apply`]).
    pub async fn add_raw(&self, body: Value) -> Result<Saved> {
        let req = self.plan_add(body).await?;
        self.send_add(req).await
    }

    /// The request [`Self::add_raw`] would send (no I/O, but the firmware version when the grid
    /// spells its on/off field by version).
    pub async fn plan_add(&self, body: Value) -> Result<Request> {
        let version = self.version_if_needed().await;
        self.desc.add_request(body, version)
    }

    /// The request [`Self::set_raw`] would send, and the record as it is now: reads the record
    /// (an unknown uuid is [`Error::NotFound`]) and fills in the [`GridDesc::set_keeps`] fields
    /// the caller left out from it. Sends no write.
    pub async fn plan_set(&self, id: &Uuid, body: Value) -> Result<(Request, Value)> {
        let version = self.version_if_needed().await;
        let desc = self.desc;
        // Refuse a bad body before any request.
        let Value::Object(mut body) = body else {
            return Err(Error::invalid(desc.wrapper, "must be an object"));
        };
        let current = self.get_raw(id).await?;
        for field in desc.set_keeps {
            if !body.contains_key(*field)
                && let Some(v) = current.get(*field)
            {
                body.insert((*field).to_owned(), Value::from(selected_string(v)));
            }
        }
        Ok((desc.set_request(id, Value::Object(body), version)?, current))
    }

    /// Changes the fields of a record given as wire JSON (staged until [`Self::apply`]).
    ///
    /// OPNsense's `set` with an unknown but well-formed uuid silently *creates* a record, so this
    /// first reads the record (see [`Self::plan_set`]). Returns the record as it was.
    pub async fn set_raw(&self, id: &Uuid, body: Value) -> Result<Value> {
        let (req, current) = self.plan_set(id, body).await?;
        self.send_set(req).await?;
        Ok(current)
    }

    /// Sends a set request built by [`Self::plan_set`].
    pub async fn send_set(&self, req: Request) -> Result<()> {
        self.client
            .execute(req, |path, v| outcome::saved(path, &v).map(|_| ()))
            .await
    }

    /// Sends an add request built by [`Self::plan_add`].
    pub async fn send_add(&self, req: Request) -> Result<Saved> {
        self.client
            .execute(req, |path, v| outcome::saved(path, &v))
            .await
    }

    /// Deletes a record (staged until [`Self::apply`]). A record other configuration still uses
    /// is [`Error::InUse`].
    pub async fn delete(&self, id: &Uuid) -> Result<()> {
        let desc = self.desc;
        let result = self
            .client
            .execute(desc.del_request(id), |path, v| {
                outcome::deleted(path, desc.kind, id.as_str(), &v)
            })
            .await;
        match result {
            Err(Error::Http {
                status: 500,
                message,
                ..
            }) if message.to_ascii_lowercase().contains("in use") => Err(Error::InUse {
                kind: desc.kind,
                id: id.to_string(),
                detail: message,
            }),
            other => other,
        }
    }

    /// Enables, disables (`Some`) or flips (`None`) a record (staged until [`Self::apply`]).
    /// An unknown uuid is [`Error::NotFound`] (OPNsense answers `{"result":"failed"}`, or HTTP
    /// 500 on firewalls in development mode, which is confirmed with a get).
    pub async fn toggle(&self, id: &Uuid, enabled: Option<bool>) -> Result<Toggled> {
        let version = self.version_if_needed().await;
        let desc = self.desc;
        let req = desc.toggle_request(id, enabled, version)?;
        let result = self
            .client
            .execute(req, |path, v| {
                outcome::toggled(path, desc.kind, id.as_str(), &v)
            })
            .await;
        match result {
            Err(e @ Error::Http { status: 500, .. }) => {
                if self.exists(id).await? {
                    Err(e)
                } else {
                    Err(not_found(desc, id))
                }
            }
            other => other,
        }
    }

    /// Makes the grid's staged changes live (apply / reconfigure). A failure status is
    /// [`Error::ActionFailed`].
    pub async fn apply(&self) -> Result<ActionStatus> {
        let apply = self.desc.apply;
        self.client
            .execute(apply.request(), |path, v| {
                outcome::status(path, apply.action, apply.key, &v, apply.ok)
            })
            .await
    }
}

impl<T: 'static, R: DeserializeOwned + 'static> Grid<'_, T, R> {
    /// One page of typed rows. A row that does not fit `R` fails the page; use
    /// [`RawGrid::search_raw`] with [`crate::fields::decode_lenient`] to keep every row.
    pub async fn search(&self, q: &SearchQuery) -> Result<SearchPage<R>> {
        let kind = self.spec.kind;
        self.client
            .execute_slice(self.desc.search_request(q), |path, body| {
                // Straight from the body when every row fits; else row by row, to name the
                // row that does not.
                if let Ok(page) = serde_json::from_slice::<SearchPage<R>>(body) {
                    return Ok(page);
                }
                let page: SearchPage<Value> = crate::client::decode_slice(path, body)?;
                typed_rows(path, kind, page)
            })
            .await
    }
}

/// Each row of a page of JSON rows decoded as `R`; the first that does not fit fails the page.
fn typed_rows<R: DeserializeOwned>(
    path: &str,
    kind: &str,
    page: SearchPage<Value>,
) -> Result<SearchPage<R>> {
    let rows = page
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            R::deserialize(row).map_err(|e| Error::InvalidResponse {
                path: path.to_owned(),
                reason: format!("row {i} does not fit the {kind} model: {e}"),
                excerpt: crate::error::excerpt_json(row),
            })
        })
        .collect::<Result<Vec<R>>>()?;
    Ok(SearchPage {
        total: page.total,
        row_count: page.row_count,
        current: page.current,
        rows,
        extra: page.extra,
    })
}

impl<T: DeserializeOwned + 'static, R: 'static> Grid<'_, T, R> {
    /// One record, typed.
    pub async fn get(&self, id: &Uuid) -> Result<T> {
        let raw = self.get_raw(id).await?;
        outcome::decode_ref(self.spec.get, &raw)
    }
}

impl<T: Serialize + 'static, R: 'static> Grid<'_, T, R> {
    /// Adds a record (staged until [`RawGrid::apply`]).
    pub async fn add(&self, record: &T) -> Result<Saved> {
        self.add_raw(encode(self.spec, record)?).await
    }

    /// Changes the fields of a record that are set in `record` (staged until [`RawGrid::apply`]).
    /// An unknown uuid is [`Error::NotFound`] (see [`RawGrid::set_raw`]).
    pub async fn set(&self, id: &Uuid, record: &T) -> Result<()> {
        self.set_raw(id, encode(self.spec, record)?)
            .await
            .map(|_| ())
    }
}

impl<T: Serialize + DeserializeOwned + 'static, R: 'static> Grid<'_, T, R> {
    /// The record in the form add/set take (option maps flattened to their selected keys,
    /// read-only fields left out), e.g. to put it back later exactly as it was.
    pub async fn get_settable(&self, id: &Uuid) -> Result<Value> {
        let record = self.get(id).await?;
        encode(self.spec, &record)
    }
}

/// A search page with every row decoded leniently ([`RawGrid::search_lenient`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LenientPage<M> {
    /// Rows matching the search, over all pages (as OPNsense counts them).
    pub total: u64,
    /// The rows, in OPNsense's order.
    pub rows: Vec<LenientRow<M>>,
}

/// One search row of a [`LenientPage`].
#[derive(Debug, Clone, PartialEq)]
pub enum LenientRow<M> {
    /// Read as `M`; fields of an unexpected shape are in `unparsed`.
    Decoded(Lenient<M>),
    /// Not readable as a record at all (not an object, or no subset of its fields fits `M`):
    /// the row as sent.
    Undecoded(Value),
}

impl<R> LenientRow<R> {
    /// The row as the record `M` a search row `R` stands for (an undecoded row stays as sent).
    pub fn into_record<M>(self) -> LenientRow<M>
    where
        R: Into<M>,
    {
        match self {
            Self::Decoded(Lenient { value, unparsed }) => LenientRow::Decoded(Lenient {
                value: value.into(),
                unparsed,
            }),
            Self::Undecoded(row) => LenientRow::Undecoded(row),
        }
    }
}

/// A record read from search rows through a lighter twin: `Row` has the record's fields but
/// not its `extra` map, so a search is decoded without serde's buffering of every field of
/// every row that `#[serde(flatten)]` needs (a third of a 1,000-rule listing's CPU). Declared
/// by `wire_model!`'s `extra, searched as Row` form; a record without a twin is its own row.
pub trait SearchRow: DeserializeOwned {
    /// The record without `extra`.
    type Row: DeserializeOwned + Into<Self>;
}

/// A search answer read with `M` rows and nothing else: what [`SearchPage`] requires (`total`,
/// `rows`, and a `rowCount`/`current` it can read), without keeping the rest.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "M: DeserializeOwned"))]
struct TypedPage<M> {
    #[serde(deserialize_with = "crate::fields::lenient_u64")]
    total: u64,
    #[serde(default, deserialize_with = "crate::fields::lenient_i64")]
    #[allow(dead_code)]
    row_count: i64,
    #[serde(default, deserialize_with = "crate::fields::lenient_i64")]
    #[allow(dead_code)]
    current: i64,
    #[serde(deserialize_with = "crate::fields::list_or_empty")]
    rows: Vec<M>,
}

impl<M: DeserializeOwned> LenientPage<M> {
    /// Reads a search answer's body: straight into `M` rows when every row fits, else as
    /// [`Self::from_values`] of the parsed page (the same answer, row by row).
    pub fn decode(path: &str, body: &[u8]) -> Result<Self> {
        // An object only: the typed read would also take a JSON array as a struct.
        let is_object = body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{');
        if is_object && let Ok(page) = serde_json::from_slice::<TypedPage<M>>(body) {
            return Ok(Self {
                total: page.total,
                rows: page
                    .rows
                    .into_iter()
                    .map(|value| {
                        LenientRow::Decoded(Lenient {
                            value,
                            unparsed: std::collections::BTreeMap::new(),
                        })
                    })
                    .collect(),
            });
        }
        let page: SearchPage<Value> = crate::client::decode_slice(path, body)?;
        Ok(Self::from_values(page))
    }

    /// Decodes each row of a page of JSON rows leniently, in order, keeping every row.
    pub fn from_values(page: SearchPage<Value>) -> Self {
        Self {
            total: page.total,
            rows: page
                .rows
                .into_iter()
                .map(|row| match decode_lenient::<M>(&row) {
                    Ok(lenient) => LenientRow::Decoded(lenient),
                    Err(_) => LenientRow::Undecoded(row),
                })
                .collect(),
        }
    }
}

fn encode<T: Serialize>(desc: &GridDesc, record: &T) -> Result<Value> {
    serde_json::to_value(record)
        .map_err(|e| Error::invalid(desc.wrapper, format!("cannot encode: {e}")))
}

fn not_found(desc: &GridDesc, id: &Uuid) -> Error {
    Error::NotFound {
        kind: desc.kind,
        id: id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Method;
    use serde_json::json;

    const DESC: GridDesc = GridDesc {
        id: "a.thing",
        kind: "thing",
        wrapper: "thing",
        search: "a/b/search",
        get: "a/b/get",
        add: "a/b/add",
        set: "a/b/set",
        del: "a/b/del",
        toggle: Some("a/b/toggle"),
        on_off: OnOff::Disabled,
        apply: Apply {
            path: "a/service/reconfigure",
            action: "apply things",
            key: "status",
            ok: outcome::status_is_ok,
        },
        lookup: Lookup::Get,
        set_keeps: &[],
        secret_fields: &[],
    };

    fn id() -> Uuid {
        Uuid::parse("5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01").expect("uuid")
    }

    #[test]
    fn requests_are_built_without_io() {
        let r = DESC.add_request(json!({"x": "1"}), None).expect("req");
        assert_eq!(
            (r.method, r.path.as_str(), r.body),
            (Method::Post, "a/b/add", Some(json!({"thing": {"x": "1"}})))
        );
        let r = DESC.del_request(&id());
        assert_eq!(r.path, "a/b/del/5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01");
        assert!(r.body.is_none());
        // Inverted toggle: enabling sends "disabled = 0".
        let r = DESC
            .toggle_request(&id(), Some(true), None)
            .expect("toggle");
        assert!(r.path.ends_with("/0"));
        assert!(DESC.add_request(json!("scalar"), None).is_err());
        let r = DESC.apply_request();
        assert_eq!(
            (r.method, r.path.as_str()),
            (Method::Post, "a/service/reconfigure")
        );
        assert!(r.body.is_none());
    }

    #[test]
    fn grids_without_toggle_refuse_it() {
        let desc = GridDesc {
            toggle: None,
            ..DESC
        };
        let e = desc
            .toggle_request(&id(), None, None)
            .expect_err("no toggle");
        assert!(e.is_local() && e.to_string().contains("no toggle"), "{e}");
    }

    #[test]
    fn the_on_off_field_follows_the_firmware_on_both_sides_of_the_boundary() {
        let desc = GridDesc {
            on_off: OnOff::EnabledSince(Quirk::RouteEnabledField),
            ..DESC
        };
        let old = Some(FirmwareVersion::new(26, 1, 9));
        let new = Some(FirmwareVersion::new(26, 1, 10));
        // A body saying enabled becomes disabled=0 before 26.1.10 ...
        let body = desc
            .wrap(json!({"enabled": "1", "descr": "x"}), old)
            .expect("wrap");
        assert_eq!(body, json!({"thing": {"disabled": "0", "descr": "x"}}));
        // ... and stays as it is from 26.1.10 on (unknown firmware = newest).
        for v in [new, None] {
            let body = desc.wrap(json!({"enabled": "0"}), v).expect("wrap");
            assert_eq!(body, json!({"thing": {"enabled": "0"}}));
        }
        // A body saying disabled is turned into enabled on new firmware.
        let body = desc.wrap(json!({"disabled": "1"}), new).expect("wrap");
        assert_eq!(body, json!({"thing": {"enabled": "0"}}));
        // The toggle argument: before 26.1.10 it meant "disabled".
        let on = |v| {
            desc.toggle_request(&id(), Some(true), v)
                .expect("toggle")
                .path
        };
        assert!(on(old).ends_with("/0"), "26.1.9: enable = disabled 0");
        assert!(on(new).ends_with("/1"), "26.1.10: enable = enabled 1");
    }
}

//! The change engine of one firewall: every write goes through [`Engine::write`] (journaled
//! before it is sent, or only planned on a dry run), every apply through [`Engine::apply`]
//! (pre-flight, apply, read-back, probe over a new connection, then pending until confirmed),
//! and an unconfirmed change is reverted by its timer, on shutdown, or on the next start.
//!
//! ```text
//!  write ──▶ staged ──apply──▶ applying ──checks ok──▶ pending ──confirm──▶ confirmed ──rollback──▶ reverted
//!                                 │                       │
//!                                 └──checks fail──┐       └──timeout / shutdown / restart──┐
//!                                                 ▼                                        ▼
//!                                             reverting ──▶ reverted | revert_failed ◀─────┘
//! ```
//!
//! Writes in one grid are serialised (one lock per apply group, see below). Records are
//! journaled in the form add/set take (see [`opnsense_api::grid::ErasedGrid::settable`]) without
//! their secret fields.
//!
//! Grids whose apply runs the same reload on the firewall form one apply group ([`apply_group`],
//! keyed by [`apply_key`]): the apply action itself when it is the grid's own (Unbound's host
//! overrides and query forwards share `unbound/service/reconfigure`, Kea's reservations and
//! subnets `kea/service/reconfigure`), and configd's `filter reload` for the filter rules, port
//! forwards and outbound NAT rules, whose three apply actions run that one reload of the whole pf
//! ruleset. An apply through any grid of a group makes the staged writes of every grid of it
//! live at once, so it is one change holding all of those writes, under one lock, checked by one
//! pre-flight (the filter reload group: [`is_lockout_relevant`]), and its revert undoes each
//! write in its own grid and applies once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opnsense_api::api::firewall::{DNAT_RULES, FILTER_RULES};
use opnsense_api::api::source_nat::SNAT_RULES;
use opnsense_api::grid::{ErasedGrid, GridDesc};
use opnsense_api::{Client, Error as ApiError, Request, Uuid};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tracing::Instrument as _;

use crate::journal::{
    Change, ChangeStatus, Entry, EntryStatus, Journal, JournalError, Op, new_id, now_ms,
};

/// How long an unconfirmed change stays live by default.
pub const DEFAULT_CONFIRM_TIMEOUT: Duration = Duration::from_secs(60);

/// OPNsense's web server closes a keep-alive connection after 15 requests or 30 s idle
/// (`server.max-keep-alive-requests = 15`, `server.max-keep-alive-idle = 30` in
/// `src/etc/inc/plugins.inc.d/webgui.inc`, 26.1.11 and 26.7.2): the connection kept open across
/// an apply is pinged well within the idle limit, and has a budget of requests.
const LIFELINE_PING: Duration = Duration::from_secs(20);
/// Requests the kept connection can carry in all (OPNsense's limit).
const LIFELINE_REQUESTS: u32 = 15;

/// How long a replica's lease on a pending change's revert timer lasts without renewal (shared
/// journals only): when the holder dies, another replica takes the timer over at most this long
/// after the holder's last renewal.
pub const LEASE: Duration = Duration::from_secs(10);
/// How often a replica renews its leases and looks for changes whose holder died.
const LEASE_TICK: Duration = Duration::from_millis(2500);

/// A change engine failure. Its `Display` says what happened and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// OPNsense refused or failed the request.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The journal could not record the change: nothing was sent.
    #[error("{0}; nothing was sent to OPNsense (a change that cannot be journaled is not made)")]
    Journal(#[from] JournalError),
    /// The lockout pre-flight refused the apply.
    #[error(
        "apply refused: {why}. Nothing was applied; the changes stay staged. Fix the staged rules, or pass force: true to apply anyway (the change is then checked over a new connection and reverted if it cuts this server off)"
    )]
    Refused {
        /// Why, naming the rule.
        why: String,
        /// The full verdict.
        verdict: Value,
    },
    /// No change with that id (on this firewall).
    #[error("change {0} not found (change_list shows the changes of this firewall)")]
    UnknownChange(String),
    /// The change is not in a state that allows the action.
    #[error("change {id} is {status}: {hint}")]
    WrongState {
        /// The change.
        id: String,
        /// Its status.
        status: String,
        /// What can be done instead.
        hint: &'static str,
    },
    /// Records of the change were edited since: a rollback would overwrite those edits.
    #[error("cannot roll back change {id}: {} edited since it was applied ({}); roll back by hand, or undo those edits first", if records.len() == 1 { "a record was" } else { "records were" }, records.join(", "))]
    Conflict {
        /// The change.
        id: String,
        /// The records, as `grid uuid (what differs)`.
        records: Vec<String>,
    },
    /// Nothing is staged in the grid: there is nothing to apply as a change.
    #[error("{0}")]
    Invalid(String),
    /// The record as it stands refuses the write ([`Precondition`]): nothing was sent.
    #[error("{0}")]
    Precondition(String),
}

/// Result alias of the engine.
pub type Result<T, E = ChangeError> = std::result::Result<T, E>;

/// One write.
#[derive(Debug, Clone)]
pub enum Write {
    /// Add a record (wire JSON, the form add takes).
    Add(Value),
    /// Change the given fields of a record.
    Set(Uuid, Value),
    /// Delete a record.
    Delete(Uuid),
}

/// A check of the record as it stands (the raw get answer), made on the very read the write
/// journals, under the grid's lock (set, delete): an `Err` refuses the write, with that message,
/// before anything is journaled or sent. An add has nothing to check.
pub type Precondition<'a> = &'a (dyn Fn(&Value) -> std::result::Result<(), String> + Send + Sync);

/// One request as it is (or would be) sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedCall {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Path below `/api/`.
    pub path: String,
    /// JSON body (absent: no body and no Content-Type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl From<&Request> for PlannedCall {
    fn from(r: &Request) -> Self {
        Self {
            method: r.method.as_str(),
            path: r.path.clone(),
            body: r.body.clone(),
        }
    }
}

/// What a write did (or, on a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct WriteOutcome {
    /// Nothing was written.
    pub dry_run: bool,
    /// The write requests sent (or that would be sent).
    pub calls: Vec<PlannedCall>,
    /// The record before the write (set, delete), in the form add/set take, secrets masked.
    pub before: Option<Value>,
    /// The record after the write as OPNsense stored it (add, set; `None` on a dry run).
    pub after: Option<Value>,
    /// The record's uuid (an add: once OPNsense answered).
    pub uuid: Option<String>,
    /// The journal entry (not on a dry run).
    pub entry_id: Option<String>,
    /// Anything worth knowing (the record could not be read back after the write, a secret
    /// field was changed).
    pub note: Option<String>,
}

/// A step of an apply, reported to [`ApplyOptions::progress`] as it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyStep {
    /// The lockout pre-flight and the check for records changed elsewhere.
    Preflight,
    /// OPNsense applies the staged changes.
    Apply,
    /// Every record written through this server is read back.
    ReadBack,
    /// A new connection to the API is opened and used.
    Probe,
    /// The checks are done: the change is pending, confirmed or reverted.
    Done,
}

impl ApplyStep {
    /// Steps of an apply in all.
    pub const TOTAL: u32 = 5;

    /// This step's number, from 1.
    pub fn number(self) -> u32 {
        match self {
            Self::Preflight => 1,
            Self::Apply => 2,
            Self::ReadBack => 3,
            Self::Probe => 4,
            Self::Done => 5,
        }
    }

    /// What happens in this step, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Preflight => "checking the staged changes (lockout pre-flight)",
            Self::Apply => "applying on the firewall",
            Self::ReadBack => "reading every record back",
            Self::Probe => "probing the API over a new connection",
            Self::Done => "checks done",
        }
    }
}

/// Told each [`ApplyStep`] as it starts. Cheap to clone.
#[derive(Clone)]
pub struct ApplyProgress(Arc<dyn Fn(ApplyStep) + Send + Sync>);

impl ApplyProgress {
    /// Calls `f` for each step.
    pub fn new(f: impl Fn(ApplyStep) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    fn step(&self, step: ApplyStep) {
        (self.0)(step);
    }
}

impl std::fmt::Debug for ApplyProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApplyProgress")
    }
}

/// What the engine did that changes what the firewall's records show, for observers (MCP
/// resource subscriptions, log messages): see [`Engine::events`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeEvent {
    /// A write was staged in the grid (`firewall.filter`, ...).
    Written {
        /// The grid's id.
        grid: String,
    },
    /// An apply ended: its change is `pending`, `confirmed`, `reverted` or `revert_failed`.
    Applied {
        /// The id of the grid whose apply ran.
        grid: String,
        /// The change.
        change_id: String,
        /// Its status after the apply.
        status: ChangeStatus,
        /// Every grid whose records the apply made live: `grid`, then the grids of the change's
        /// writes (an apply group's: an outbound NAT apply makes staged filter rules live too)
        /// and those with records changed elsewhere, in that order, each once.
        grids: Vec<String>,
    },
    /// A change is about to be reverted.
    Reverting {
        /// The grid's id.
        grid: String,
        /// The change.
        change_id: String,
        /// Why (not confirmed in time, checks failed, rolled back on request, shutdown).
        reason: String,
    },
    /// A revert ended: `reverted`, or `revert_failed` with the error.
    Reverted {
        /// The id of the grid whose apply the change was made by.
        grid: String,
        /// Every grid whose records the revert put back: `grid`, then the grids of the change's
        /// writes, each once.
        grids: Vec<String>,
        /// The change.
        change_id: String,
        /// `reverted` or `revert_failed`.
        status: ChangeStatus,
        /// What went wrong (`revert_failed`).
        error: Option<String>,
    },
}

impl ChangeEvent {
    /// The grid the event is about.
    pub fn grid(&self) -> &str {
        match self {
            Self::Written { grid }
            | Self::Applied { grid, .. }
            | Self::Reverting { grid, .. }
            | Self::Reverted { grid, .. } => grid,
        }
    }

    /// The grids whose records the event changed, for observers of what records show: a
    /// write's grid, every grid an apply made live or a revert put back, none for a revert
    /// about to start.
    pub fn changed_grids(&self) -> Vec<&str> {
        match self {
            Self::Written { grid } => vec![grid.as_str()],
            Self::Applied { grids, .. } | Self::Reverted { grids, .. } => {
                grids.iter().map(String::as_str).collect()
            }
            Self::Reverting { .. } => Vec::new(),
        }
    }
}

/// `first`, then the grids of `entries` and `more`, each once, in that order.
fn grids_touched<'a>(
    first: &str,
    entries: &'a [Entry],
    more: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let mut out = vec![first.to_owned()];
    for g in entries.iter().map(|e| e.grid.as_str()).chain(more) {
        if !out.iter().any(|o| o == g) {
            out.push(g.to_owned());
        }
    }
    out
}

/// Events buffered per observer before the oldest are dropped.
const EVENT_BUFFER: usize = 256;

/// Options of an apply.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// How long the change stays live unconfirmed (`None`: the engine's default; zero: confirm
    /// as soon as the checks pass).
    pub confirm_timeout: Option<Duration>,
    /// Apply even when the pre-flight refuses.
    pub force: bool,
    /// Only say what the apply would do.
    pub dry_run: bool,
    /// Told each step as it starts (not on a dry run).
    pub progress: Option<ApplyProgress>,
}

/// A change as the tools show it.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
pub struct ChangeView {
    /// Its id.
    pub change_id: String,
    /// The grid (`firewall.filter`, ...).
    pub grid: String,
    /// pending, confirmed, reverted, revert_failed, applying, reverting, apply_failed.
    pub status: ChangeStatus,
    /// When it was applied (RFC 3339).
    pub applied: String,
    /// When it is reverted unless confirmed (RFC 3339; pending only).
    pub revert_at: Option<String>,
    /// When it reached its final status (RFC 3339).
    pub finished: Option<String>,
    /// The records it changed.
    pub records: Vec<RecordChange>,
    /// Checks, safety nets, revert outcome.
    pub detail: Value,
}

/// One record of a change.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
pub struct RecordChange {
    /// The grid the record is in (`unbound.forward`, ...): one change can hold the writes of
    /// every grid of an apply group.
    pub grid: String,
    /// add, set or delete.
    pub op: Op,
    /// The record's uuid.
    pub uuid: Option<String>,
    /// After a revert re-added a deleted record: its new uuid.
    pub readded_uuid: Option<String>,
    /// Before (set, delete).
    pub before: Option<Value>,
    /// After (add, set).
    pub after: Option<Value>,
    /// Where the write stands.
    pub status: RecordStatus,
    /// Anything worth knowing.
    pub note: Option<String>,
}

/// Where one write stands as a change shows it: the journal's [`EntryStatus`], with a staged
/// write of a change that went live said to be `applied` (the journal keeps it `staged`: the
/// change's own status says whether its apply took).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Journaled, being sent (a crash here leaves it unknown whether OPNsense took it).
    Writing,
    /// Staged in OPNsense, not live until the grid's apply.
    Staged,
    /// OPNsense refused it: nothing was staged.
    Failed,
    /// Live: made so by its change's apply (pending, confirmed, or not reverted yet).
    Applied,
    /// Undone by a revert.
    Reverted,
}

impl RecordStatus {
    /// The status of a journal entry, in a change that stands at `change` (`None`: not in a
    /// change, staged for the next apply).
    pub fn of(entry: EntryStatus, change: Option<ChangeStatus>) -> Self {
        match (entry, change) {
            (EntryStatus::Writing, _) => Self::Writing,
            (EntryStatus::Failed, _) => Self::Failed,
            (EntryStatus::Reverted, _) => Self::Reverted,
            (
                EntryStatus::Staged,
                Some(
                    ChangeStatus::Pending
                    | ChangeStatus::Confirmed
                    | ChangeStatus::Reverting
                    | ChangeStatus::RevertFailed,
                ),
            ) => Self::Applied,
            (EntryStatus::Staged, _) => Self::Staged,
        }
    }
}

/// The engine's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Default time an unconfirmed change stays live.
    pub confirm_timeout: Duration,
    /// Flows the lockout pre-flight protects besides this server's own (`OPNSENSE_PROTECT`).
    pub protect: Vec<crate::preflight::Protect>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            confirm_timeout: DEFAULT_CONFIRM_TIMEOUT,
            protect: Vec::new(),
        }
    }
}

/// The change engine of one firewall. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("journal", &self.inner.journal.location())
            .finish_non_exhaustive()
    }
}

struct Inner {
    client: Client,
    journal: Journal,
    settings: Settings,
    locks: Mutex<HashMap<&'static str, Arc<tokio::sync::Mutex<()>>>>,
    timers: Mutex<HashMap<String, tokio::task::JoinHandle<()>>>,
    /// Every change this process gave a timer (whose revert it owns at shutdown).
    armed: Mutex<std::collections::BTreeSet<String>>,
    /// Per pending change: the connection kept open across its apply.
    lifelines: Mutex<HashMap<String, Lifeline>>,
    /// What the engine did, for observers.
    events: tokio::sync::broadcast::Sender<ChangeEvent>,
    /// This process's name among the replicas sharing the journal.
    replica: String,
    /// Changes whose lease this process holds (shared journals).
    held: Mutex<std::collections::BTreeSet<String>>,
    /// The task renewing the leases and adopting the changes of dead replicas.
    keeper: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A connection kept open across an apply, and how many more requests it may carry.
#[derive(Clone)]
struct Lifeline {
    client: Client,
    keepalive: Arc<tokio::task::JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// When a lease taken or renewed now ends (Unix ms).
fn lease_end() -> i64 {
    now_ms().saturating_add(i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX))
}

/// RFC 3339 of Unix milliseconds.
fn time_text(ms: i64) -> String {
    let d = Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime_rfc3339(std::time::UNIX_EPOCH + d)
}

fn humantime_rfc3339(time: std::time::SystemTime) -> String {
    // Seconds precision is what a person reads.
    humantime::format_rfc3339_seconds(time).to_string()
}

/// `record` without the grid's secret fields (masked, so a diff still says they exist).
pub fn mask_secrets(desc: &GridDesc, record: &Value) -> Value {
    match record {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !desc.secret_fields.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The fields where two records (settable form) differ, as `field: before -> after`.
fn differences(a: &Value, b: &Value) -> Vec<String> {
    let empty = Map::new();
    let (a, b) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            let show = |v: Option<&Value>| v.map_or_else(|| "absent".to_owned(), Value::to_string);
            format!("{k}: {} -> {}", show(a.get(k)), show(b.get(k)))
        })
        .collect()
}

impl Engine {
    /// An engine for the firewall `client` talks to, journaling into `journal`.
    pub fn new(client: Client, journal: Journal, settings: Settings) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                journal,
                settings,
                locks: Mutex::new(HashMap::new()),
                timers: Mutex::new(HashMap::new()),
                armed: Mutex::new(std::collections::BTreeSet::new()),
                lifelines: Mutex::new(HashMap::new()),
                events: tokio::sync::broadcast::channel(EVENT_BUFFER).0,
                replica: new_id("replica"),
                held: Mutex::new(std::collections::BTreeSet::new()),
                keeper: Mutex::new(None),
            }),
        }
    }

    /// Every [`ChangeEvent`] from now on (writes, applies, reverts, the timers' reverts too).
    /// A receiver that falls more than 256 events behind loses the oldest.
    pub fn events(&self) -> tokio::sync::broadcast::Receiver<ChangeEvent> {
        self.inner.events.subscribe()
    }

    fn emit(&self, event: ChangeEvent) {
        // No receiver is not an error.
        let _ = self.inner.events.send(event);
    }

    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.inner.journal
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The engine's settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// This process's name among the replicas sharing a journal (in each change's detail).
    pub fn replica(&self) -> &str {
        &self.inner.replica
    }

    /// The lock of the grid's apply group (one per [`apply_key`]).
    fn grid_lock(&self, desc: &'static GridDesc) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.inner.locks)
            .entry(apply_key(desc))
            .or_default()
            .clone()
    }

    /// The record in settable form with secrets masked (`None` when it does not exist).
    async fn settable(
        &self,
        client: &Client,
        grid: &'static dyn ErasedGrid,
        id: &Uuid,
    ) -> Result<Option<Value>> {
        let desc = grid.desc_static();
        match client.raw_grid(desc).get_raw(id).await {
            Ok(raw) => Ok(Some(mask_secrets(desc, &grid.settable(&raw)?))),
            Err(ApiError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Makes one write: reads the record's state before (set, delete), journals it, sends the
    /// write, reads the state after back and journals that too. With `dry_run`, only reads:
    /// the answer holds the exact request that would be sent.
    pub async fn write(
        &self,
        grid: &'static dyn ErasedGrid,
        write: Write,
        dry_run: bool,
    ) -> Result<WriteOutcome> {
        self.write_checked(grid, write, dry_run, None).await
    }

    /// [`Self::write`], refused when `check` refuses the record as it stands.
    pub async fn write_checked(
        &self,
        grid: &'static dyn ErasedGrid,
        write: Write,
        dry_run: bool,
        check: Option<Precondition<'_>>,
    ) -> Result<WriteOutcome> {
        let checked = |current: &Value| match check {
            Some(check) => check(current).map_err(ChangeError::Precondition),
            None => Ok(()),
        };
        let desc = grid.desc_static();
        let guard = self.grid_lock(desc);
        let _serialised = guard.lock().await;
        let client = &self.inner.client;
        let raw = client.raw_grid(desc);
        // Plan: the exact request, and the record before.
        let (op, uuid, request, before) = match &write {
            Write::Add(body) => (Op::Add, None, raw.plan_add(body.clone()).await?, None),
            Write::Set(id, body) => {
                let (req, current) = raw.plan_set(id, body.clone()).await?;
                checked(&current)?;
                let before = mask_secrets(desc, &grid.settable(&current)?);
                (Op::Set, Some(id.to_string()), req, Some(before))
            }
            Write::Delete(id) => {
                let current = raw.get_raw(id).await?;
                checked(&current)?;
                let before = mask_secrets(desc, &grid.settable(&current)?);
                (
                    Op::Delete,
                    Some(id.to_string()),
                    desc.del_request(id),
                    Some(before),
                )
            }
        };
        let call = PlannedCall::from(&request);
        let mut call_shown = call.clone();
        if let Some(inner) = call_shown
            .body
            .as_mut()
            .and_then(|body| body.get_mut(desc.wrapper))
        {
            *inner = mask_secrets(desc, inner);
        }
        if dry_run {
            return Ok(WriteOutcome {
                dry_run: true,
                calls: vec![call_shown],
                before,
                after: None,
                uuid,
                entry_id: None,
                note: None,
            });
        }
        let mut entry = Entry {
            id: new_id("ent"),
            change_id: None,
            grid: desc.id.to_owned(),
            seq: self.inner.journal.next_seq().await?,
            op,
            uuid: uuid.clone(),
            before: before.clone(),
            after: None,
            status: EntryStatus::Writing,
            created_ms: now_ms(),
            readded_uuid: None,
            note: None,
        };
        // Committed before the write goes out.
        self.inner.journal.insert_entry(&entry).await?;
        let sent: Result<Option<String>, ApiError> = match &write {
            Write::Add(_) => raw.send_add(request).await.map(|s| s.uuid),
            Write::Set(..) => raw.send_set(request).await.map(|()| uuid.clone()),
            Write::Delete(id) => raw.delete(id).await.map(|()| uuid.clone()),
        };
        let new_uuid = match sent {
            Ok(u) => u,
            Err(e) => {
                entry.status = EntryStatus::Failed;
                entry.note = Some(e.to_string());
                self.inner.journal.update_entry(&entry).await?;
                return Err(e.into());
            }
        };
        entry.uuid = new_uuid.clone();
        // OPNsense took the write: from here on a failure must not read as if it had not (a
        // caller would repeat an add), and the uuid must reach the journal.
        let mut notes = Vec::new();
        entry.after = match (op, new_uuid.as_deref().and_then(|u| Uuid::parse(u).ok())) {
            (Op::Delete, _) | (_, None) => None,
            (_, Some(id)) => match self.settable(client, grid, &id).await {
                Ok(Some(after)) => Some(after),
                Ok(None) => {
                    notes
                        .push("the record was not found when read back after the write".to_owned());
                    None
                }
                Err(e) => {
                    notes.push(format!(
                        "OPNsense took the write, but reading the record back failed ({e}): its state after the write is unknown"
                    ));
                    None
                }
            },
        };
        if op == Op::Set
            && desc.secret_fields.iter().any(|f| {
                call.body
                    .as_ref()
                    .and_then(|b| b.get(desc.wrapper))
                    .and_then(|b| b.get(*f))
                    .is_some()
            })
        {
            notes.push(format!(
                "a secret field ({}) was changed: it is not journaled, so a revert cannot restore its old value",
                desc.secret_fields.join(", ")
            ));
        }
        entry.note = (!notes.is_empty()).then(|| notes.join("; "));
        entry.status = EntryStatus::Staged;
        self.inner.journal.update_entry(&entry).await?;
        self.emit(ChangeEvent::Written {
            grid: desc.id.to_owned(),
        });
        Ok(WriteOutcome {
            dry_run: false,
            calls: vec![call_shown],
            before,
            after: entry.after.clone(),
            uuid: new_uuid,
            entry_id: Some(entry.id),
            note: entry.note,
        })
    }
}

/// `desc()` of a `'static` grid, as `'static`.
trait StaticDesc {
    fn desc_static(&self) -> &'static GridDesc;
}

impl StaticDesc for &'static dyn ErasedGrid {
    fn desc_static(&self) -> &'static GridDesc {
        let grid: &'static dyn ErasedGrid = *self;
        grid.desc()
    }
}

/// The key of configd's `filter reload` apply group ([`apply_key`]).
pub const FILTER_RELOAD: &str = "configd filter reload";

/// Grids whose apply actions run one reload on the firewall although their paths differ, with
/// that reload's key. `firewall/filter/apply`, `firewall/d_nat/apply` and
/// `firewall/source_nat/apply` are one PHP method, `FilterBaseController::applyAction`
/// (`DNatController` and `SourceNatController` extend `FilterBaseController`), which runs configd
/// `filter reload skip_alias`: `rc.filter_configure` loads the whole pf ruleset, filter rules,
/// port forwards and outbound NAT alike (opnsense/core
/// `src/opnsense/mvc/app/controllers/OPNsense/Firewall/Api/FilterBaseController.php`, 26.1.11
/// line 303, 26.7.2 line 302; `src/opnsense/service/conf/actions.d/actions_filter.conf`
/// `[reload]`).
fn shared_reloads() -> [(&'static str, [&'static str; 3]); 1] {
    [(
        FILTER_RELOAD,
        [FILTER_RULES.id, DNAT_RULES.id, SNAT_RULES.id],
    )]
}

/// What the grid's apply runs on the firewall, as the key of its apply group: a shared reload
/// ([`FILTER_RELOAD`] for the filter rules, port forwards and outbound NAT rules), else the apply
/// action's path.
pub fn apply_key(desc: &GridDesc) -> &'static str {
    shared_reloads()
        .into_iter()
        .find(|(_, ids)| ids.contains(&desc.id))
        .map_or(desc.apply.path, |(key, _)| key)
}

/// Whether an apply of the grid is checked by the lockout pre-flight: its apply group holds the
/// filter rules or the port forwards (an outbound NAT apply reloads the filter rules and port
/// forwards too).
pub fn is_lockout_relevant(desc: &GridDesc) -> bool {
    let key = apply_key(desc);
    key == apply_key(&FILTER_RULES) || key == apply_key(&DNAT_RULES)
}

/// The grids whose staged writes the grid's apply makes live: every grid of
/// [`opnsense_api::api::GRIDS`] with the same [`apply_key`] (Unbound's host overrides and query
/// forwards share `unbound/service/reconfigure`, Kea's reservations and subnets
/// `kea/service/reconfigure`; the filter rules, port forwards and outbound NAT rules configd's
/// `filter reload`), `grid` first.
pub fn apply_group(grid: &'static dyn ErasedGrid) -> Vec<&'static dyn ErasedGrid> {
    let key = apply_key(grid.desc_static());
    let mut group = vec![grid];
    group.extend(
        opnsense_api::api::GRIDS
            .iter()
            .copied()
            .filter(|g| apply_key(g.desc()) == key && g.desc().id != grid.desc().id),
    );
    group
}

/// The grid a journal entry was written in (the change's own grid when the entry names one this
/// server does not know).
fn entry_grid(e: &Entry, fallback: &'static dyn ErasedGrid) -> &'static dyn ErasedGrid {
    opnsense_api::api::grid_by_id(&e.grid).unwrap_or(fallback)
}

/// What an apply did (or, on a dry run, would do).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
pub struct ApplyOutcome {
    /// Nothing was applied.
    pub dry_run: bool,
    /// The change (not on a dry run).
    pub change: Option<ChangeView>,
    /// The writes through this server the apply makes live (on a dry run: would), with their
    /// status after the apply (reverted, when the checks failed).
    pub staged: Vec<RecordChange>,
    /// Records that differ from the grid's state when the last change through this server
    /// settled and that this server did not write: changed elsewhere (GUI, another client). They
    /// are applied too, and never undone by a revert. `None` when there is no such state yet.
    pub changed_elsewhere: Option<Vec<String>>,
    /// The lockout pre-flight's verdict (an apply of the filter reload group: filter rules,
    /// port forwards and outbound NAT rules).
    pub preflight: Option<Value>,
    /// The requests the apply sends (on a dry run: would send).
    pub calls: Vec<PlannedCall>,
    /// What happened, in words.
    pub message: String,
}

/// Volatile search columns left out of a record's hash (pf statistics, display texts).
const VOLATILE: &[&str] = &[
    "current_items",
    "last_updated",
    "eval_time",
    "evaluations",
    "packets",
    "bytes",
    "states",
    "pf_rules",
    "category_colors",
];

fn row_hash(row: &Value) -> String {
    let Value::Object(map) = row else {
        return String::new();
    };
    let kept: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| {
            !k.starts_with('%') && !k.starts_with("alias_meta") && !VOLATILE.contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in Value::Object(kept).to_string().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

impl Engine {
    /// A hash of every record of the grid (by uuid).
    async fn snapshot(
        &self,
        desc: &'static GridDesc,
    ) -> Result<std::collections::BTreeMap<String, String>> {
        let page = self
            .inner
            .client
            .raw_grid(desc)
            .search_raw(&opnsense_api::SearchQuery::all())
            .await?;
        Ok(page
            .rows
            .iter()
            .filter_map(|r| {
                let id = r.get("uuid")?.as_str()?;
                Uuid::parse(id).ok()?;
                Some((id.to_owned(), row_hash(r)))
            })
            .collect())
    }

    /// Records of the group's grids changed since their baselines that `ours` does not explain
    /// (`None` when no grid of the group has a baseline yet), and the ids of the grids they are
    /// in.
    async fn changed_elsewhere_in(
        &self,
        group: &[&'static dyn ErasedGrid],
        ours: &[Entry],
    ) -> Result<(Option<Vec<String>>, Vec<&'static str>)> {
        let mut all: Option<Vec<String>> = None;
        let mut grids = Vec::new();
        for g in group {
            if let Some(found) = self.changed_elsewhere(g.desc_static(), ours).await? {
                if !found.is_empty() {
                    grids.push(g.desc_static().id);
                }
                all.get_or_insert_with(Vec::new).extend(found);
            }
        }
        Ok((all, grids))
    }

    /// Records changed since the baseline that `ours` does not explain.
    async fn changed_elsewhere(
        &self,
        desc: &'static GridDesc,
        ours: &[Entry],
    ) -> Result<Option<Vec<String>>> {
        let Some(baseline) = self.inner.journal.baseline(desc.id).await? else {
            return Ok(None);
        };
        let now = self.snapshot(desc).await?;
        let touched: Vec<&str> = ours.iter().filter_map(|e| e.uuid.as_deref()).collect();
        let mut out = Vec::new();
        for (id, hash) in &now {
            if touched.contains(&id.as_str()) {
                continue;
            }
            match baseline.get(id) {
                None => out.push(format!("{id} (added)")),
                Some(h) if h != hash => out.push(format!("{id} (changed)")),
                Some(_) => {}
            }
        }
        for id in baseline.keys() {
            if !now.contains_key(id) && !touched.contains(&id.as_str()) {
                out.push(format!("{id} (deleted)"));
            }
        }
        Ok(Some(out))
    }

    /// Records the state of every grid of `grid`'s apply group as the new baseline.
    async fn settle_group(&self, grid: &'static dyn ErasedGrid) {
        for g in apply_group(grid) {
            self.settle_baseline(g.desc_static()).await;
        }
    }

    async fn settle_baseline(&self, desc: &'static GridDesc) {
        match self.snapshot(desc).await {
            Ok(hashes) => {
                if let Err(e) = self.inner.journal.set_baseline(desc.id, &hashes).await {
                    tracing::warn!("cannot record the state of {}: {e}", desc.kind);
                }
            }
            Err(e) => tracing::warn!("cannot read the state of {}: {e}", desc.kind),
        }
    }

    /// Makes the staged changes of the grid's apply group ([`apply_group`]) live, checked: the
    /// lockout pre-flight (the filter reload group: filter rules, port forwards, outbound NAT),
    /// the apply, a read-back of every record written through this server, and a probe over a
    /// new connection. When all pass the change is pending (reverted unless confirmed in time);
    /// when one fails it is reverted at once.
    pub async fn apply(
        &self,
        grid: &'static dyn ErasedGrid,
        opts: ApplyOptions,
    ) -> Result<ApplyOutcome> {
        let desc = grid.desc_static();
        let step = |s: ApplyStep| {
            if !opts.dry_run
                && let Some(p) = &opts.progress
            {
                p.step(s);
            }
        };
        let guard = self.grid_lock(desc);
        let _serialised = guard.lock().await;
        step(ApplyStep::Preflight);
        let group = apply_group(grid);
        // Every staged write the apply action makes live, in write order.
        let mut staged = Vec::new();
        for g in &group {
            staged.extend(self.inner.journal.staged(g.desc().id).await?);
        }
        staged.sort_by_key(|e| e.seq);
        let (changed_elsewhere, elsewhere_grids) =
            self.changed_elsewhere_in(&group, &staged).await?;
        let preflight = if is_lockout_relevant(desc) {
            Some(crate::lockout::check(self, &staged).await?)
        } else {
            None
        };
        let apply_call = PlannedCall::from(&desc.apply_request());
        let records: Vec<RecordChange> = staged.iter().map(|e| record_view(e, None)).collect();
        if let Some(p) = &preflight
            && let Some(why) = &p.refusal
            && !opts.force
        {
            if opts.dry_run {
                return Ok(ApplyOutcome {
                    dry_run: true,
                    change: None,
                    staged: records,
                    changed_elsewhere,
                    preflight: Some(p.verdict.clone()),
                    calls: vec![apply_call],
                    message: format!("the apply would be REFUSED: {why}. Nothing was sent."),
                });
            }
            return Err(ChangeError::Refused {
                why: why.clone(),
                verdict: p.verdict.clone(),
            });
        }
        if opts.dry_run {
            let message = format!(
                "an apply would make {} change(s) through this server live{}; nothing was sent",
                records.len(),
                match &changed_elsewhere {
                    Some(v) if !v.is_empty() => format!(
                        ", and {} record(s) changed elsewhere (applied too, never undone by a revert)",
                        v.len()
                    ),
                    _ => String::new(),
                }
            );
            return Ok(ApplyOutcome {
                dry_run: true,
                change: None,
                staged: records,
                changed_elsewhere,
                preflight: preflight.map(|p| p.verdict),
                calls: vec![apply_call],
                message,
            });
        }
        let timeout = opts
            .confirm_timeout
            .unwrap_or(self.inner.settings.confirm_timeout);
        let timeout_ms = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
        let mut change = Change {
            id: new_id("chg"),
            grid: desc.id.to_owned(),
            status: ChangeStatus::Applying,
            created_ms: now_ms(),
            // Known before the apply goes out, so a crash at any point is reverted on time.
            revert_at_ms: Some(now_ms().saturating_add(timeout_ms.max(0))),
            finished_ms: None,
            detail: json!({
                "preflight": preflight.as_ref().map(|p| p.verdict.clone()),
                "forced": opts.force && preflight.as_ref().is_some_and(|p| p.refusal.is_some()),
                "changed_elsewhere": changed_elsewhere,
                "confirm_timeout_s": timeout.as_secs_f64(),
                "replica": self.inner.replica,
            }),
        };
        let ids: Vec<String> = staged.iter().map(|e| e.id.clone()).collect();
        let grids = grids_touched(desc.id, &staged, elsewhere_grids);
        // Leased before the change is even journaled, so no other replica sharing the journal
        // ever sees it unheld and adopts it.
        self.hold(&change.id).await?;
        self.inner.journal.insert_change(&change, &ids).await?;
        // The connection kept open across the apply (opened now, before any rule changes).
        let lifeline = self.open_lifeline().await;
        let mut nets: Vec<String> = vec![format!(
            "this server reverts the change unless it is confirmed within {}s (journaled: a restart reverts it too)",
            timeout.as_secs()
        )];
        if lifeline.is_some() {
            nets.push(
                "a connection to the API opened before the apply is kept open to revert through if new connections are blocked".to_owned(),
            );
        }
        // OPNsense's own timed filter rollback (26.1: savepoint, `firewall/filter/apply/{revision}`,
        // `cancelRollback`) is not used. Its savepoint (`FilterBaseController::savepointAction()`)
        // saves the running config.xml, and every staged write was already saved there when it
        // was made (`ApiMutableModelControllerBase` saves on each set/add/del), so the timer would
        // restore this change instead of undoing it, and, firing after this server's own revert,
        // would make the change live again (26.1.11 `FilterBaseController.php` lines 303-345,
        // `scripts/filter/rollback_timer.php`, `models/OPNsense/Firewall/Filter.php` `rollback()`).
        // A savepoint taken before the group's first staged write (journaled with the change)
        // would not make it a faithful second net either, so it is not built (26.1.11):
        // - `Filter::rollback()` (`Filter.php` lines 376-393) copies only the
        //   `OPNsense/Firewall/Filter` subtree of the backup over config.xml: filter rules,
        //   outbound NAT (`snatrules`), NPT, 1:1 NAT and `general`. Port forwards live in
        //   `<nat><rule>` (`DNat.xml` mount `/nat/rule+`) and are not restored, so a rollback of
        //   a change of this apply group would undo part of it and load the rest.
        // - It replaces that whole subtree: every edit to those lists made after the savepoint by
        //   anyone (the GUI, another client, for as long as the writes stay staged) is undone too,
        //   where this engine applies changes made elsewhere and never undoes them.
        // - On stock 26.1 it restores nothing: `savepointAction()` answers `revision/time`, which
        //   `Config::getRevisionContext()` (`Config.php` line 489) writes as
        //   `sprintf('%0.2f', microtime(true))`, while the backup is named after another, finer
        //   `microtime(true)` (`Config::save()` line 746, `backup()` line 570), so
        //   `getBackupFilename()` never finds it (the simulator's `rollback_restores: false`).
        // - 26.7 has none of it: `applyAction()` takes no revision (26.7.2 line 302), and
        //   savepoint, cancelRollback, revert and `scripts/filter/rollback_*.php` are gone.
        // - The timer is a fixed 60 s (`rollback_timer.php`), only one runs at a time (`flock -n`
        //   in `actions_filter.conf` `[rollback_timer]`: a second one is silently not armed),
        //   and a revision beyond `backupcount` (default 100 saves) is gone when it fires.
        if apply_key(desc) == apply_key(&FILTER_RULES)
            && let Some(version) = self.inner.client.firmware_version().await
        {
            nets.push(firewall_timer_note(version));
        }
        step(ApplyStep::Apply);
        let applied = self
            .inner
            .client
            .raw_grid(desc)
            .apply()
            .await
            .map(|s| s.status);
        if let Err(e) = applied {
            // OPNsense did not apply: the writes stay staged, outside any change.
            change.status = ChangeStatus::ApplyFailed;
            change.finished_ms = Some(now_ms());
            change.detail["error"] = Value::from(e.to_string());
            self.inner.journal.update_change(&change).await?;
            for mut entry in staged {
                entry.change_id = None;
                self.inner.journal.update_entry(&entry).await?;
            }
            if let Some(l) = lifeline {
                l.keepalive.abort();
            }
            return Err(e.into());
        }
        step(ApplyStep::ReadBack);
        let readback = self.read_back(grid, &staged).await;
        step(ApplyStep::Probe);
        let probe = self.inner.client.probe_new_connection().await;
        change.detail["readback"] = match &readback {
            Ok(()) => Value::from("every record reads back as written"),
            Err(d) => Value::from(d.clone()),
        };
        change.detail["probe"] = match &probe {
            Ok(()) => Value::from("a new connection to the API works"),
            Err(e) => Value::from(format!("a new connection to the API fails: {e}")),
        };
        change.detail["safety_nets"] = Value::from(nets);
        if let Some(l) = &lifeline {
            lock(&self.inner.lifelines).insert(change.id.clone(), l.clone());
        }
        if readback.is_ok() && probe.is_ok() {
            if timeout.is_zero() {
                change.status = ChangeStatus::Confirmed;
                change.finished_ms = Some(now_ms());
                change.revert_at_ms = None;
                self.inner.journal.update_change(&change).await?;
                self.drop_lifeline(&change.id);
                self.settle_group(grid).await;
            } else {
                change.status = ChangeStatus::Pending;
                change.revert_at_ms = Some(now_ms().saturating_add(timeout_ms));
                self.inner.journal.update_change(&change).await?;
                self.arm_timer(&change);
            }
        } else {
            change.status = ChangeStatus::Pending;
            self.inner.journal.update_change(&change).await?;
            let why = match (&readback, &probe) {
                (Err(d), _) => format!("the read-back found differences ({d})"),
                (_, Err(e)) => format!("a new connection to the API fails after the apply ({e})"),
                _ => String::new(),
            };
            self.revert_locked(grid, &mut change, &why).await?;
        }
        let view = self.view(&change).await?;
        step(ApplyStep::Done);
        self.emit(ChangeEvent::Applied {
            grid: desc.id.to_owned(),
            change_id: change.id.clone(),
            status: change.status,
            grids,
        });
        let message = match change.status {
            ChangeStatus::Pending => format!(
                "applied and checked; change {} is PENDING and will be reverted automatically at {} unless confirmed with change_confirm",
                change.id,
                view.revert_at.clone().unwrap_or_default()
            ),
            ChangeStatus::Confirmed => {
                format!("applied, checked and confirmed (change {})", change.id)
            }
            ChangeStatus::Reverted => format!(
                "applied, but the checks failed, so change {} was REVERTED: {}",
                change.id,
                change.detail["revert"]["reason"]
                    .as_str()
                    .unwrap_or_default()
            ),
            _ => format!(
                "applied, but the checks failed and the revert of change {} did not complete: {}",
                change.id,
                change.detail["revert"]["error"]
                    .as_str()
                    .unwrap_or_default()
            ),
        };
        Ok(ApplyOutcome {
            dry_run: false,
            // As they stand now (a revert has put them back), not as they were staged.
            staged: view.records.clone(),
            change: Some(view),
            changed_elsewhere,
            preflight: preflight.map(|p| p.verdict),
            calls: vec![apply_call],
            message,
        })
    }

    /// Every record written through this server reads back as written (deleted ones are gone).
    async fn read_back(
        &self,
        grid: &'static dyn ErasedGrid,
        entries: &[Entry],
    ) -> Result<(), String> {
        let mut problems = Vec::new();
        for e in entries {
            let Some(id) = e.uuid.as_deref().and_then(|u| Uuid::parse(u).ok()) else {
                problems.push(format!(
                    "{}: no uuid recorded for the {}",
                    e.id,
                    e.op.as_str()
                ));
                continue;
            };
            let g = entry_grid(e, grid);
            match (e.op, self.settable(&self.inner.client, g, &id).await) {
                (Op::Delete, Ok(None)) => {}
                (Op::Delete, Ok(Some(_))) => problems.push(format!("{id} still exists")),
                (_, Ok(None)) => problems.push(format!("{id} is gone")),
                // Compared only when the state after the write was read back (else it exists,
                // which is all that can be checked).
                (_, Ok(Some(now))) if e.after.as_ref().is_some_and(|after| &now != after) => {
                    let before = e.after.clone().unwrap_or(Value::Null);
                    problems.push(format!("{id}: {}", differences(&before, &now).join("; ")));
                }
                (_, Ok(Some(_))) => {}
                (_, Err(err)) => problems.push(format!("{id}: cannot read it back ({err})")),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Opens (and warms) a dedicated connection, and keeps it from going idle.
    async fn open_lifeline(&self) -> Option<Lifeline> {
        let client = self.inner.client.with_own_connection().ok()?;
        client
            .send_json::<Value>(opnsense_api::api::system::status_request())
            .await
            .ok()?;
        let keepalive = {
            let client = client.clone();
            tokio::spawn(
                async move {
                    // The opening request used one of the web server's requests per connection.
                    let mut left = LIFELINE_REQUESTS - 1;
                    loop {
                        tokio::time::sleep(LIFELINE_PING).await;
                        // Keep half the requests for a revert: ping only while many are left.
                        if left <= LIFELINE_REQUESTS / 2 {
                            return;
                        }
                        left -= 1;
                        let _ = client
                            .send_json::<Value>(opnsense_api::api::system::status_request())
                            .await;
                    }
                }
                .in_current_span(),
            )
        };
        Some(Lifeline {
            client,
            keepalive: Arc::new(keepalive),
        })
    }

    fn drop_lifeline(&self, change_id: &str) {
        if let Some(l) = lock(&self.inner.lifelines).remove(change_id) {
            l.keepalive.abort();
        }
    }
}

/// Why OPNsense's own timed filter rollback is not a safety net of this apply.
fn firewall_timer_note(version: opnsense_api::FirmwareVersion) -> String {
    if version.has_filter_rollback() {
        "OPNsense's own timed filter rollback is not used: its savepoint would hold the staged rules already saved in config.xml, so it would restore this change, not undo it".to_owned()
    } else {
        format!("OPNsense {version} has no timed filter rollback of its own")
    }
}

impl RecordChange {
    /// The record's name or description (after the change, else before), to tell records apart
    /// in a short listing.
    pub fn label(&self) -> Option<String> {
        [&self.after, &self.before]
            .into_iter()
            .flatten()
            .find_map(|v| {
                [
                    "description",
                    "descr",
                    "name",
                    "hostname",
                    "network",
                    "hw_address",
                    "domain",
                ]
                .iter()
                .find_map(|k| v[*k].as_str().filter(|s| !s.is_empty()).map(str::to_owned))
            })
    }

    /// One line per record: op, uuid, label, status, note (no field values).
    pub fn brief(&self) -> Value {
        let mut line = serde_json::json!({"grid": self.grid, "op": self.op, "status": self.status});
        for (key, value) in [
            ("uuid", self.uuid.clone()),
            ("readded_uuid", self.readded_uuid.clone()),
            ("label", self.label()),
            ("note", self.note.clone()),
        ] {
            if let Some(v) = value {
                line[key] = Value::from(v);
            }
        }
        line
    }
}

impl ChangeView {
    /// The change without its records' field values (change_get has them).
    pub fn brief(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        v["records"] = self.records.iter().map(RecordChange::brief).collect();
        v
    }
}

fn record_view(e: &Entry, change: Option<ChangeStatus>) -> RecordChange {
    RecordChange {
        grid: e.grid.clone(),
        op: e.op,
        uuid: e.uuid.clone(),
        readded_uuid: e.readded_uuid.clone(),
        before: e.before.clone(),
        after: e.after.clone(),
        status: RecordStatus::of(e.status, change),
        note: e.note.clone(),
    }
}

/// What to tell the owner when this server is cut off and cannot revert.
fn console_advice(change: &Change) -> String {
    format!(
        "This server can no longer reach the firewall's API and could not revert change {} (applied {}). On the firewall's console (VGA or serial) choose 13) Restore a backup and pick the configuration from before that time; or choose 8) Shell and run `pfctl -d` to turn the packet filter off until the rules are fixed (`pfctl -e` turns it on again).",
        change.id,
        time_text(change.created_ms)
    )
}

/// Whether an error means the firewall could not be reached (worth retrying on another path).
fn unreachable(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Connect { .. }
            | ApiError::Tls { .. }
            | ApiError::Timeout { .. }
            | ApiError::Deadline { .. }
    )
}

impl Engine {
    /// Arms the revert timer of a pending change.
    fn arm_timer(&self, change: &Change) {
        let Some(at) = change.revert_at_ms else {
            return;
        };
        let wait = Duration::from_millis(u64::try_from(at.saturating_sub(now_ms())).unwrap_or(0));
        let engine = self.clone();
        let id = change.id.clone();
        lock(&self.inner.armed).insert(change.id.clone());
        // Held while spawning, so the task cannot take itself out of the map before it is in.
        let mut timers = lock(&self.inner.timers);
        let task = tokio::spawn(
            async move {
                tokio::time::sleep(wait).await;
                // Out of the map before reverting: the revert disarms the change's timer, which
                // would otherwise abort this very task half-way through the revert.
                drop(lock(&engine.inner.timers).remove(&id));
                if !engine.still_holds(&id).await {
                    return;
                }
                if let Err(e) = engine
                    .revert_if_pending(&id, "it was not confirmed in time")
                    .await
                {
                    tracing::error!("automatic revert of change {id} failed: {e}");
                }
            }
            .in_current_span(),
        );
        if let Some(old) = timers.insert(change.id.clone(), task) {
            old.abort();
        }
    }

    fn disarm_timer(&self, change_id: &str) {
        if let Some(t) = lock(&self.inner.timers).remove(change_id) {
            t.abort();
        }
    }

    /// Reverts a change if it is still pending (or was cut short while applying or reverting).
    async fn revert_if_pending(&self, change_id: &str, reason: &str) -> Result<Option<ChangeView>> {
        let Some(change) = self.inner.journal.change(change_id).await? else {
            return Ok(None);
        };
        let Some(grid) = opnsense_api::api::grid_by_id(&change.grid) else {
            return Err(ChangeError::Invalid(format!(
                "change {change_id} is for an unknown grid {}",
                change.grid
            )));
        };
        let desc = grid.desc_static();
        let guard = self.grid_lock(desc);
        let _serialised = guard.lock().await;
        // Re-read under the lock: a confirm may have won the race.
        let Some(mut change) = self.inner.journal.change(change_id).await? else {
            return Ok(None);
        };
        if !matches!(
            change.status,
            ChangeStatus::Pending | ChangeStatus::Applying | ChangeStatus::Reverting
        ) {
            return Ok(None);
        }
        // Another replica sharing the journal may confirm it at this very moment: one wins.
        if change.status == ChangeStatus::Pending
            && !self
                .inner
                .journal
                .transition(&change.id, ChangeStatus::Pending, ChangeStatus::Reverting)
                .await?
        {
            return Ok(None);
        }
        self.revert_locked(grid, &mut change, reason).await?;
        Ok(Some(self.view(&change).await?))
    }

    /// Undoes a change's writes (newest first), applies, and checks; the grid lock is held.
    async fn revert_locked(
        &self,
        grid: &'static dyn ErasedGrid,
        change: &mut Change,
        reason: &str,
    ) -> Result<()> {
        let desc = grid.desc_static();
        self.disarm_timer(&change.id);
        self.emit(ChangeEvent::Reverting {
            grid: desc.id.to_owned(),
            change_id: change.id.clone(),
            reason: reason.to_owned(),
        });
        change.status = ChangeStatus::Reverting;
        change.detail["revert"] = json!({"reason": reason, "started": time_text(now_ms())});
        self.inner.journal.update_change(change).await?;
        let mut entries = self.inner.journal.entries_of(&change.id).await?;
        let lifeline = lock(&self.inner.lifelines).get(&change.id).cloned();
        // Retry with backoff while the firewall cannot be reached, until the change's own timeout
        // has passed once more (at least a minute).
        let patience = change
            .detail
            .get("confirm_timeout_s")
            .and_then(Value::as_f64)
            .map_or(60.0, |s| s.max(60.0));
        let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(patience);
        let mut backoff = Duration::from_millis(500);
        let mut path_used: String;
        // The kept connection first: when new connections are blocked it is the only way in,
        // and probing for a new one first would cost a connect timeout. From now on the revert
        // carries requests on it, so the keep-alive pings stop (two requests at once could make
        // the pool open a second, blocked connection).
        if let Some(l) = &lifeline {
            l.keepalive.abort();
        }
        let mut use_lifeline = lifeline.is_some();
        let outcome = loop {
            let (client, path) = match (&lifeline, use_lifeline) {
                (Some(l), true) => (
                    l.client.clone(),
                    "the connection kept open across the apply".to_owned(),
                ),
                _ => (self.inner.client.clone(), "a new connection".to_owned()),
            };
            path_used = path;
            match self.undo(&client, grid, &mut entries).await {
                Ok(()) => match client.raw_grid(desc).apply().await {
                    Ok(_) => break Ok(client),
                    Err(e) if unreachable(&e) && tokio::time::Instant::now() < deadline => {}
                    Err(e) => break Err(e.to_string()),
                },
                Err(ChangeError::Api(e))
                    if unreachable(&e) && tokio::time::Instant::now() < deadline => {}
                Err(e) => break Err(e.to_string()),
            }
            if use_lifeline {
                // The kept connection is gone (closed by the web server, or cut): alternate with
                // new connections from now on.
                use_lifeline = false;
                continue;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        };
        let mut revert = change.detail["revert"].clone();
        revert["through"] = Value::from(path_used.clone());
        match outcome {
            Ok(client) => {
                let check = self.check_reverted(&client, grid, &entries).await;
                let probe = self.inner.client.probe_new_connection().await;
                for e in &mut entries {
                    e.status = EntryStatus::Reverted;
                    self.inner.journal.update_entry(e).await?;
                }
                match (&check, &probe) {
                    (Ok(()), Ok(())) => {
                        change.status = ChangeStatus::Reverted;
                        revert["checked"] = Value::from(
                            "every record is back as it was, and a new connection to the API works",
                        );
                    }
                    (Err(d), _) => {
                        change.status = ChangeStatus::RevertFailed;
                        revert["error"] = Value::from(format!(
                            "reverted, but the records differ from before: {d}"
                        ));
                    }
                    (_, Err(e)) => {
                        change.status = ChangeStatus::RevertFailed;
                        revert["error"] = Value::from(format!(
                            "reverted, but a new connection to the API still fails ({e}); {}",
                            console_advice(change)
                        ));
                    }
                }
            }
            Err(e) => {
                change.status = ChangeStatus::RevertFailed;
                let advice = console_advice(change);
                tracing::error!("{advice} (last error: {e})");
                revert["error"] = Value::from(format!("{e}; {advice}"));
            }
        }
        revert["finished"] = Value::from(time_text(now_ms()));
        let error = revert
            .get("error")
            .and_then(Value::as_str)
            .map(str::to_owned);
        revert["by"] = Value::from(self.inner.replica.clone());
        change.detail["revert"] = revert;
        change.finished_ms = Some(now_ms());
        change.revert_at_ms = None;
        self.inner.journal.update_change(change).await?;
        self.emit(ChangeEvent::Reverted {
            grid: desc.id.to_owned(),
            grids: grids_touched(desc.id, &entries, []),
            change_id: change.id.clone(),
            status: change.status,
            error,
        });
        self.drop_lifeline(&change.id);
        if change.status == ChangeStatus::Reverted {
            self.settle_group(grid).await;
        }
        Ok(())
    }

    /// Puts every record of a change back (newest write first). Re-added records get a new uuid,
    /// kept in the entry (and journaled at once, so a retry does not add it twice).
    async fn undo(
        &self,
        client: &Client,
        grid: &'static dyn ErasedGrid,
        entries: &mut [Entry],
    ) -> Result<()> {
        for e in entries.iter_mut().rev() {
            if e.status == EntryStatus::Reverted {
                continue;
            }
            let raw = client.raw_grid(entry_grid(e, grid).desc_static());
            let id = e.uuid.as_deref().and_then(|u| Uuid::parse(u).ok());
            match (e.op, id, &e.before) {
                (Op::Set, Some(id), Some(before)) => {
                    raw.set_raw(&id, before.clone()).await?;
                }
                (Op::Add, Some(id), _) => match raw.delete(&id).await {
                    Ok(()) | Err(ApiError::NotFound { .. }) => {}
                    Err(err) => return Err(err.into()),
                },
                (Op::Delete, _, Some(before)) if e.readded_uuid.is_none() => {
                    let saved = raw.add_raw(before.clone()).await?;
                    e.readded_uuid = saved.uuid;
                    e.note = Some(format!(
                        "re-added by the revert under a new uuid {}",
                        e.readded_uuid.as_deref().unwrap_or("(not returned)")
                    ));
                    self.inner.journal.update_entry(e).await?;
                }
                // An add whose uuid never came back, or nothing recorded before: nothing to undo.
                _ => {}
            }
        }
        Ok(())
    }

    /// Every record of a reverted change is as it was before.
    async fn check_reverted(
        &self,
        client: &Client,
        grid: &'static dyn ErasedGrid,
        entries: &[Entry],
    ) -> Result<(), String> {
        let mut problems = Vec::new();
        for e in entries {
            let target = match e.op {
                Op::Delete => e.readded_uuid.as_deref(),
                _ => e.uuid.as_deref(),
            };
            let Some(id) = target.and_then(|u| Uuid::parse(u).ok()) else {
                continue;
            };
            let now = self
                .settable(client, entry_grid(e, grid), &id)
                .await
                .map_err(|x| x.to_string())?;
            match (e.op, now, &e.before) {
                (Op::Add, None, _) => {}
                (Op::Add, Some(_), _) => problems.push(format!("{id} still exists")),
                (_, None, _) => problems.push(format!("{id} is missing")),
                (_, Some(now), Some(before)) if &now != before => {
                    problems.push(format!("{id}: {}", differences(before, &now).join("; ")));
                }
                _ => {}
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Makes a pending change permanent.
    pub async fn confirm(&self, change_id: &str) -> Result<ChangeView> {
        let change = self.load(change_id).await?;
        let grid = Self::grid_of(&change)?;
        let guard = self.grid_lock(grid.desc_static());
        let _serialised = guard.lock().await;
        let mut change = self.load(change_id).await?;
        let moved = change.status == ChangeStatus::Pending
            && self
                .inner
                .journal
                .transition(&change.id, ChangeStatus::Pending, ChangeStatus::Confirmed)
                .await?;
        if !moved {
            // A revert on another replica sharing the journal may have won the race.
            let change = self.load(change_id).await?;
            return Err(ChangeError::WrongState {
                id: change.id,
                status: change.status.as_str(),
                hint: "only a pending change can be confirmed (change_get shows what happened to it)",
            });
        }
        self.disarm_timer(&change.id);
        change.status = ChangeStatus::Confirmed;
        change.finished_ms = Some(now_ms());
        change.revert_at_ms = None;
        change.detail["confirmed"] = Value::from(time_text(now_ms()));
        self.inner.journal.update_change(&change).await?;
        self.drop_lifeline(&change.id);
        self.settle_group(grid).await;
        if self.inner.journal.is_shared() {
            self.inner.journal.release_lease(&change.id, None).await?;
        }
        self.view(&change).await
    }

    /// Undoes a confirmed change, refusing when its records were edited since.
    pub async fn rollback(&self, change_id: &str) -> Result<ChangeView> {
        let change = self.load(change_id).await?;
        let grid = Self::grid_of(&change)?;
        let desc = grid.desc_static();
        let guard = self.grid_lock(desc);
        let _serialised = guard.lock().await;
        let mut change = self.rollback_checked(grid, change_id).await?;
        self.revert_locked(grid, &mut change, "rolled back on request")
            .await?;
        self.view(&change).await
    }

    /// What [`Self::rollback`] would send, after the same checks (only reads): the requests that
    /// put every record back (newest write first) and the apply.
    pub async fn rollback_plan(&self, change_id: &str) -> Result<(ChangeView, Vec<PlannedCall>)> {
        let change = self.load(change_id).await?;
        let grid = Self::grid_of(&change)?;
        let desc = grid.desc_static();
        let guard = self.grid_lock(desc);
        let _serialised = guard.lock().await;
        let change = self.rollback_checked(grid, change_id).await?;
        let mut calls = Vec::new();
        for e in self
            .inner
            .journal
            .entries_of(&change.id)
            .await?
            .iter()
            .rev()
        {
            if e.status == EntryStatus::Reverted {
                continue;
            }
            let entry_desc = entry_grid(e, grid).desc_static();
            let raw = self.inner.client.raw_grid(entry_desc);
            let id = e.uuid.as_deref().and_then(|u| Uuid::parse(u).ok());
            let request = match (e.op, id, &e.before) {
                (Op::Set, Some(id), Some(before)) => raw.plan_set(&id, before.clone()).await?.0,
                (Op::Add, Some(id), _) => entry_desc.del_request(&id),
                (Op::Delete, _, Some(before)) if e.readded_uuid.is_none() => {
                    raw.plan_add(before.clone()).await?
                }
                _ => continue,
            };
            let mut call = PlannedCall::from(&request);
            if let Some(inner) = call
                .body
                .as_mut()
                .and_then(|b| b.get_mut(entry_desc.wrapper))
            {
                *inner = mask_secrets(entry_desc, inner);
            }
            calls.push(call);
        }
        calls.push(PlannedCall::from(&desc.apply_request()));
        Ok((self.view(&change).await?, calls))
    }

    /// The change, when it can be rolled back: confirmed, and none of its records edited since
    /// (reads each record). The grid lock is held.
    async fn rollback_checked(
        &self,
        grid: &'static dyn ErasedGrid,
        change_id: &str,
    ) -> Result<Change> {
        let change = self.load(change_id).await?;
        if change.status != ChangeStatus::Confirmed {
            return Err(ChangeError::WrongState {
                id: change.id,
                status: change.status.as_str(),
                hint: "only a confirmed change can be rolled back (a pending one is reverted when its timer runs out, or confirm it first)",
            });
        }
        let entries = self.inner.journal.entries_of(&change.id).await?;
        let mut edited = Vec::new();
        for e in &entries {
            let Some(id) = e.uuid.as_deref().and_then(|u| Uuid::parse(u).ok()) else {
                continue;
            };
            let g = entry_grid(e, grid);
            let desc = g.desc_static();
            let now = self.settable(&self.inner.client, g, &id).await?;
            match (e.op, now) {
                (Op::Delete, None) => {}
                (Op::Delete, Some(_)) => edited.push(format!("{} {id} (exists again)", desc.kind)),
                (_, None) => edited.push(format!("{} {id} (deleted since)", desc.kind)),
                (_, Some(now)) if Some(&now) != e.after.as_ref() => edited.push(format!(
                    "{} {id} ({})",
                    desc.kind,
                    differences(e.after.as_ref().unwrap_or(&Value::Null), &now).join("; ")
                )),
                _ => {}
            }
        }
        if !edited.is_empty() {
            return Err(ChangeError::Conflict {
                id: change.id,
                records: edited,
            });
        }
        Ok(change)
    }

    /// One change.
    pub async fn get(&self, change_id: &str) -> Result<ChangeView> {
        let change = self.load(change_id).await?;
        self.view(&change).await
    }

    /// Changes, newest first (`statuses` empty = all).
    pub async fn list(&self, statuses: &[ChangeStatus], limit: i64) -> Result<Vec<ChangeView>> {
        let mut out = Vec::new();
        for c in self.inner.journal.changes(statuses, limit).await? {
            out.push(self.view(&c).await?);
        }
        Ok(out)
    }

    /// At start: reverts every unsettled change whose time is up, and gives the others their
    /// timer back. Call it before serving anything.
    ///
    /// With a shared journal (several replicas), it only takes the changes no live replica
    /// holds, and from then on renews its leases and adopts, every `LEASE_TICK`, the changes of
    /// replicas that stopped renewing theirs (they died): exactly one replica runs each timer.
    pub async fn recover(&self) -> Result<Vec<ChangeView>> {
        let out = self.adopt(true).await?;
        if self.inner.journal.is_shared() {
            self.start_keeper();
        }
        Ok(out)
    }

    /// Takes care of the unsettled changes nobody else holds: at start (`first`) it reverts the
    /// due ones before returning; later the reverts run in their own tasks (the leases must
    /// keep being renewed meanwhile).
    async fn adopt(&self, first: bool) -> Result<Vec<ChangeView>> {
        let shared = self.inner.journal.is_shared();
        let unsettled = self.inner.journal.unsettled().await?;
        if shared {
            // Leases of changes that settled (here or on another replica) are given up.
            let live: std::collections::BTreeSet<&str> =
                unsettled.iter().map(|c| c.id.as_str()).collect();
            let settled: Vec<String> = lock(&self.inner.held)
                .iter()
                .filter(|id| !live.contains(id.as_str()))
                .cloned()
                .collect();
            for id in settled {
                self.inner
                    .journal
                    .release_lease(&id, Some(&self.inner.replica))
                    .await?;
                lock(&self.inner.held).remove(&id);
            }
        }
        let mut out = Vec::new();
        for mut change in unsettled {
            if shared {
                if lock(&self.inner.held).contains(&change.id) {
                    continue;
                }
                if !self
                    .inner
                    .journal
                    .take_lease(&change.id, &self.inner.replica, lease_end())
                    .await?
                {
                    continue;
                }
                lock(&self.inner.held).insert(change.id.clone());
                if !first {
                    tracing::warn!(
                        change_id = %change.id,
                        "took over change {} ({:?}) from a replica that stopped renewing its lease",
                        change.id,
                        change.status
                    );
                }
            }
            let due = change.revert_at_ms.is_none_or(|at| at <= now_ms());
            if !first && (due || change.status == ChangeStatus::Reverting) {
                let engine = self.clone();
                let id = change.id.clone();
                lock(&self.inner.armed).insert(id.clone());
                tokio::spawn(async move {
                    if let Err(e) = engine
                        .revert_if_pending(&id, "it was not confirmed in time (its replica died)")
                        .await
                    {
                        tracing::error!("automatic revert of change {id} failed: {e}");
                    }
                });
                continue;
            }
            if due || change.status == ChangeStatus::Reverting {
                if let Some(view) = self
                    .revert_if_pending(&change.id, "it was found unconfirmed after a restart")
                    .await?
                {
                    out.push(view);
                }
            } else {
                if change.status == ChangeStatus::Applying {
                    change.status = ChangeStatus::Pending;
                    change.detail["restart"] = Value::from(
                        "the server restarted during the apply: its checks did not complete; confirm only after checking the firewall",
                    );
                    self.inner.journal.update_change(&change).await?;
                }
                self.arm_timer(&change);
                out.push(self.view(&change).await?);
            }
        }
        Ok(out)
    }

    /// Before the process exits: reverts every pending change (an unconfirmed change must not
    /// outlive the server that watches it).
    pub async fn shutdown(&self) -> Result<Vec<ChangeView>> {
        if let Some(handed) = self.hand_over().await? {
            return Ok(handed);
        }
        // Every change this process armed: one whose timer already fired may be reverting right
        // now; waiting for its grid lock lets that revert finish before the process exits.
        let ids: Vec<String> = lock(&self.inner.armed).iter().cloned().collect();
        let mut out = Vec::new();
        for id in ids {
            if let Some(view) = self
                .revert_if_pending(&id, "the server shut down before it was confirmed")
                .await?
            {
                out.push(view);
            }
        }
        Ok(out)
    }

    /// Leases a change's timer to this process (shared journals; a no-op otherwise).
    async fn hold(&self, change_id: &str) -> Result<()> {
        if !self.inner.journal.is_shared() {
            return Ok(());
        }
        if self
            .inner
            .journal
            .take_lease(change_id, &self.inner.replica, lease_end())
            .await?
        {
            lock(&self.inner.held).insert(change_id.to_owned());
            Ok(())
        } else {
            Err(ChangeError::Invalid(format!(
                "change {change_id} is held by another replica"
            )))
        }
    }

    /// Whether this process (still) holds a change's lease, renewing it; always with a journal
    /// of its own. A journal that cannot be read counts as held: reverting is the safe side.
    async fn still_holds(&self, change_id: &str) -> bool {
        if !self.inner.journal.is_shared() {
            return true;
        }
        match self
            .inner
            .journal
            .take_lease(change_id, &self.inner.replica, lease_end())
            .await
        {
            Ok(true) => true,
            Ok(false) => {
                tracing::warn!(
                    change_id,
                    "another replica took over the timer of change {change_id}"
                );
                lock(&self.inner.held).remove(change_id);
                false
            }
            Err(e) => {
                tracing::error!("cannot check the lease of change {change_id}: {e}");
                true
            }
        }
    }

    fn start_keeper(&self) {
        let weak = Arc::downgrade(&self.inner);
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(LEASE_TICK).await;
                let Some(inner) = weak.upgrade() else { return };
                let engine = Engine { inner };
                let renewed = engine
                    .inner
                    .journal
                    .renew_leases(&engine.inner.replica, lease_end())
                    .await;
                if let Err(e) = renewed.map_err(ChangeError::from) {
                    tracing::error!("cannot renew the leases of the pending changes: {e}");
                    continue;
                }
                if let Err(e) = engine.adopt(false).await {
                    tracing::error!("cannot look for changes of stopped replicas: {e}");
                }
            }
        });
        if let Some(old) = lock(&self.inner.keeper).replace(task) {
            old.abort();
        }
    }

    /// At shutdown with a shared journal and another live replica: stops renewing, ends this
    /// process's leases so that replica takes the timers over (the changes keep their time),
    /// and reverts nothing. `None` when this process must revert them itself.
    async fn hand_over(&self) -> Result<Option<Vec<ChangeView>>> {
        if !self.inner.journal.is_shared() {
            return Ok(None);
        }
        if let Some(k) = lock(&self.inner.keeper).take() {
            k.abort();
        }
        let since = now_ms().saturating_sub(i64::try_from(LEASE.as_millis()).unwrap_or(0));
        let others = self
            .inner
            .journal
            .other_replicas(&self.inner.replica, since)
            .await?;
        if others == 0 {
            return Ok(None);
        }
        let held: Vec<String> = lock(&self.inner.held).iter().cloned().collect();
        for id in &held {
            self.disarm_timer(id);
        }
        self.inner.journal.leave(&self.inner.replica).await?;
        if !held.is_empty() {
            tracing::warn!(
                "at shutdown: {} pending change(s) handed over to the {others} other replica(s) sharing the journal",
                held.len()
            );
        }
        Ok(Some(Vec::new()))
    }

    async fn load(&self, change_id: &str) -> Result<Change> {
        self.inner
            .journal
            .change(change_id)
            .await?
            .ok_or_else(|| ChangeError::UnknownChange(change_id.to_owned()))
    }

    fn grid_of(change: &Change) -> Result<&'static dyn ErasedGrid> {
        opnsense_api::api::grid_by_id(&change.grid).ok_or_else(|| {
            ChangeError::Invalid(format!(
                "change {} is for a grid this server does not know ({})",
                change.id, change.grid
            ))
        })
    }

    async fn view(&self, change: &Change) -> Result<ChangeView> {
        let entries = self.inner.journal.entries_of(&change.id).await?;
        Ok(ChangeView {
            change_id: change.id.clone(),
            grid: change.grid.clone(),
            status: change.status,
            applied: time_text(change.created_ms),
            revert_at: change.revert_at_ms.map(time_text),
            finished: change.finished_ms.map(time_text),
            records: entries
                .iter()
                .map(|e| record_view(e, Some(change.status)))
                .collect(),
            detail: change.detail.clone(),
        })
    }
}

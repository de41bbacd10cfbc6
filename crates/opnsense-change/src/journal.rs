//! The change journal: every write this server makes to a firewall, recorded (with the record's
//! state before it) and committed before the write is sent, and every apply grouped into a
//! change with its status. It survives a crash: on the next start, pending changes are found
//! here and reverted or given their timer back.
//!
//! Storage is SQLite by default (one file per firewall URL, in the state directory) or Postgres
//! (`postgres://…`, for several replicas sharing one journal); the same SQL serves both through
//! sqlx's `Any` driver. Records are stored as JSON text without their secret fields (see
//! `GridDesc::secret_fields`): a journal never holds a secret.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyQueryResult, AnyRow};
use sqlx::{Any, AnyPool, Row};

/// A statement with its arguments bound, ready to run on the journal's pool.
type AnyQuery<'q> = sqlx::query::Query<'q, Any, AnyArguments<'q>>;

/// A journal failure (the database is unreachable, full, or corrupt).
#[derive(Debug, thiserror::Error)]
#[error("change journal {location}: {detail}")]
pub struct JournalError {
    /// The file or database (never with a password).
    pub location: String,
    /// What went wrong.
    pub detail: String,
}

/// Result alias of this module.
pub type Result<T, E = JournalError> = std::result::Result<T, E>;

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// A record was added.
    Add,
    /// Fields of a record were changed.
    Set,
    /// A record was deleted.
    Delete,
}

/// Where one write stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Journaled, being sent (a crash here leaves it unknown whether OPNsense took it).
    Writing,
    /// OPNsense took it; staged until the grid's apply.
    Staged,
    /// OPNsense refused it: nothing was staged.
    Failed,
    /// Undone by a revert.
    Reverted,
}

/// Where a change (one apply of a grid and the writes it made live) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// The apply is being sent and checked.
    Applying,
    /// Live and checked; reverted unless confirmed by `revert_at`.
    Pending,
    /// Made permanent.
    Confirmed,
    /// Being reverted.
    Reverting,
    /// Reverted: the records are back as they were.
    Reverted,
    /// The revert did not complete (see the change's detail).
    RevertFailed,
    /// The apply itself failed (OPNsense refused it); the staged writes stay staged.
    ApplyFailed,
}

macro_rules! text_enum {
    ($t:ty) => {
        impl $t {
            /// The stored spelling.
            pub fn as_str(self) -> String {
                serde_json::to_value(self)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<Self, String> {
                serde_json::from_value(Value::from(s)).map_err(|_| format!("unknown value {s:?}"))
            }
        }
    };
}
text_enum!(Op);
text_enum!(EntryStatus);
text_enum!(ChangeStatus);

/// One write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// Its id (`ent-…`).
    pub id: String,
    /// The change its apply belongs to (`None` while staged, not applied yet).
    pub change_id: Option<String>,
    /// The grid (`GridDesc::id`).
    pub grid: String,
    /// Order of the writes.
    pub seq: i64,
    /// What it did.
    pub op: Op,
    /// The record's uuid (for an add: known once OPNsense answered).
    pub uuid: Option<String>,
    /// The record as it was before (set, delete), in the form add/set take, without secrets.
    pub before: Option<Value>,
    /// The record as OPNsense stored it after the write (add, set), without secrets.
    pub after: Option<Value>,
    /// Where the write stands.
    pub status: EntryStatus,
    /// When it was journaled (Unix ms).
    pub created_ms: i64,
    /// After a revert re-added a deleted record: its new uuid (OPNsense gives a new one).
    pub readded_uuid: Option<String>,
    /// Anything worth knowing (a secret field that cannot be restored, ...).
    pub note: Option<String>,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Its id (`chg-…`).
    pub id: String,
    /// The grid.
    pub grid: String,
    /// Where it stands.
    pub status: ChangeStatus,
    /// When the apply started (Unix ms).
    pub created_ms: i64,
    /// When it is reverted unless confirmed (Unix ms; pending only).
    pub revert_at_ms: Option<i64>,
    /// When it reached its final status (Unix ms).
    pub finished_ms: Option<i64>,
    /// The checks and their outcome (pre-flight, read-back, probe, safety nets, revert).
    pub detail: Value,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A new id with a prefix (`chg`, `ent`): 12 hexadecimal digits of a random uuid.
pub fn new_id(prefix: &str) -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &hex[..12])
}

/// The change journal of one firewall.
#[derive(Debug, Clone)]
pub struct Journal {
    pool: AnyPool,
    target: String,
    location: String,
    shared: bool,
}

/// The Postgres advisory lock the schema is created under (`opnsense` in ASCII).
const SCHEMA_LOCK: i64 = 0x6f70_6e73_656e_7365;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS opnsense_mcp_changes (
        id TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        grid TEXT NOT NULL,
        status TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        revert_at_ms BIGINT,
        finished_ms BIGINT,
        detail TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS opnsense_mcp_entries (
        id TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        change_id TEXT,
        grid TEXT NOT NULL,
        seq BIGINT NOT NULL,
        op TEXT NOT NULL,
        uuid TEXT,
        before_state TEXT,
        after_state TEXT,
        status TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        readded_uuid TEXT,
        note TEXT
    )",
    "CREATE TABLE IF NOT EXISTS opnsense_mcp_baselines (
        target TEXT NOT NULL,
        grid TEXT NOT NULL,
        taken_ms BIGINT NOT NULL,
        hashes TEXT NOT NULL,
        PRIMARY KEY (target, grid)
    )",
    // Which replica runs a pending change's revert timer, until when (see `take_lease`).
    "CREATE TABLE IF NOT EXISTS opnsense_mcp_leases (
        change_id TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        holder TEXT NOT NULL,
        expires_ms BIGINT NOT NULL
    )",
    // The replicas sharing the journal and when each was last seen.
    "CREATE TABLE IF NOT EXISTS opnsense_mcp_replicas (
        holder TEXT PRIMARY KEY,
        target TEXT NOT NULL,
        seen_ms BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS opnsense_mcp_entries_change ON opnsense_mcp_entries (target, change_id)",
    "CREATE INDEX IF NOT EXISTS opnsense_mcp_changes_status ON opnsense_mcp_changes (target, status)",
];

impl Journal {
    /// Opens (creating it if needed) the SQLite journal of the firewall at `firewall_url` in
    /// `dir`: one file per firewall, named after its host and a hash of the URL.
    pub async fn open_in_dir(dir: &Path, firewall_url: &str) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| JournalError {
            location: dir.display().to_string(),
            detail: format!("cannot create the state directory: {e}"),
        })?;
        let path = dir.join(file_name(firewall_url));
        Self::open_sqlite(&path, firewall_url).await
    }

    /// Opens (creating it if needed) a SQLite journal file.
    pub async fn open_sqlite(path: &Path, target: &str) -> Result<Self> {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::connect(&url, target, path.display().to_string()).await
    }

    /// Opens a journal at a database URL (`postgres://…` or `sqlite://…`); `target` tells the
    /// firewalls sharing one database apart.
    pub async fn open_url(url: &str, target: &str) -> Result<Self> {
        Self::connect(url, target, redact_url(url)).await
    }

    async fn connect(url: &str, target: &str, location: String) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let err = |e: sqlx::Error| JournalError {
            location: location.clone(),
            detail: e.to_string(),
        };
        let pool = AnyPoolOptions::new()
            // SQLite allows one writer; a single connection serialises every access.
            .max_connections(if sqlite { 1 } else { 5 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // Durable before the firewall is written to: WAL, synced on commit.
                        sqlx::query("PRAGMA journal_mode=WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous=FULL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(err)?;
        // One transaction, and on a shared database one at a time: Postgres's `CREATE TABLE IF
        // NOT EXISTS` is not safe against itself, and replicas starting together would otherwise
        // fail with "duplicate key value violates unique constraint pg_type_typname_nsp_index".
        let mut tx = pool.begin().await.map_err(err)?;
        if !sqlite {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(SCHEMA_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        for statement in SCHEMA {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(Self {
            pool,
            target: target.to_owned(),
            location,
            shared: !sqlite,
        })
    }

    /// Whether several processes may share this journal (a database server, not a SQLite
    /// file): then each pending change's timer runs in the one replica holding its lease.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// Where the journal is (file path, or database URL without a password).
    pub fn location(&self) -> &str {
        &self.location
    }

    fn err(&self, e: &sqlx::Error) -> JournalError {
        JournalError {
            location: self.location.clone(),
            detail: e.to_string(),
        }
    }

    /// Runs a statement on the pool.
    async fn run(&self, query: AnyQuery<'_>) -> Result<AnyQueryResult> {
        query.execute(&self.pool).await.map_err(|x| self.err(&x))
    }

    /// The rows a query returns.
    async fn rows(&self, query: AnyQuery<'_>) -> Result<Vec<AnyRow>> {
        query.fetch_all(&self.pool).await.map_err(|x| self.err(&x))
    }

    /// The one row a query returns.
    async fn one(&self, query: AnyQuery<'_>) -> Result<AnyRow> {
        query.fetch_one(&self.pool).await.map_err(|x| self.err(&x))
    }

    /// The row a query returns, if any.
    async fn optional(&self, query: AnyQuery<'_>) -> Result<Option<AnyRow>> {
        query
            .fetch_optional(&self.pool)
            .await
            .map_err(|x| self.err(&x))
    }

    /// Records a write before it is sent.
    pub async fn insert_entry(&self, e: &Entry) -> Result<()> {
        let query = sqlx::query(
            "INSERT INTO opnsense_mcp_entries (id, target, change_id, grid, seq, op, uuid, before_state, after_state, status, created_ms, readded_uuid, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&e.id)
        .bind(&self.target)
        .bind(e.change_id.clone())
        .bind(&e.grid)
        .bind(e.seq)
        .bind(e.op.as_str())
        .bind(e.uuid.clone())
        .bind(e.before.as_ref().map(Value::to_string))
        .bind(e.after.as_ref().map(Value::to_string))
        .bind(e.status.as_str())
        .bind(e.created_ms)
        .bind(e.readded_uuid.clone())
        .bind(e.note.clone());
        self.run(query).await?;
        Ok(())
    }

    /// Updates what a write became (status, uuid, state after, re-added uuid, note).
    pub async fn update_entry(&self, e: &Entry) -> Result<()> {
        let query = sqlx::query(
            "UPDATE opnsense_mcp_entries SET change_id = $1, uuid = $2, after_state = $3, status = $4, readded_uuid = $5, note = $6
             WHERE id = $7 AND target = $8",
        )
        .bind(e.change_id.clone())
        .bind(e.uuid.clone())
        .bind(e.after.as_ref().map(Value::to_string))
        .bind(e.status.as_str())
        .bind(e.readded_uuid.clone())
        .bind(e.note.clone())
        .bind(&e.id)
        .bind(&self.target);
        self.run(query).await?;
        Ok(())
    }

    /// The next write number.
    pub async fn next_seq(&self) -> Result<i64> {
        let query = sqlx::query(
            "SELECT COALESCE(MAX(seq), 0) AS last FROM opnsense_mcp_entries WHERE target = $1",
        )
        .bind(&self.target);
        let row = self.one(query).await?;
        let last: i64 = row.try_get("last").map_err(|x| self.err(&x))?;
        Ok(last + 1)
    }

    /// The writes of a grid that are staged (or whose outcome is unknown) and belong to no
    /// change yet, in write order.
    pub async fn staged(&self, grid: &str) -> Result<Vec<Entry>> {
        self.entries_where(
            "grid = $2 AND change_id IS NULL AND status IN ('staged', 'writing')",
            grid,
        )
        .await
    }

    /// The writes of a change, in write order.
    pub async fn entries_of(&self, change_id: &str) -> Result<Vec<Entry>> {
        self.entries_where("change_id = $2", change_id).await
    }

    /// This target's writes that also meet `condition` (on `$2`, bound to `key`), in write order.
    async fn entries_where(&self, condition: &'static str, key: &str) -> Result<Vec<Entry>> {
        let sql = format!(
            "SELECT * FROM opnsense_mcp_entries WHERE target = $1 AND {condition} ORDER BY seq"
        );
        let rows = self
            .rows(sqlx::query(&sql).bind(&self.target).bind(key))
            .await?;
        rows.iter().map(|r| self.entry(r)).collect()
    }

    /// Records a new change and hands it the given staged writes, in one transaction.
    pub async fn insert_change(&self, c: &Change, entry_ids: &[String]) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(|x| self.err(&x))?;
        sqlx::query(
            "INSERT INTO opnsense_mcp_changes (id, target, grid, status, created_ms, revert_at_ms, finished_ms, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&c.id)
        .bind(&self.target)
        .bind(&c.grid)
        .bind(c.status.as_str())
        .bind(c.created_ms)
        .bind(c.revert_at_ms)
        .bind(c.finished_ms)
        .bind(c.detail.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|x| self.err(&x))?;
        for id in entry_ids {
            sqlx::query(
                "UPDATE opnsense_mcp_entries SET change_id = $1 WHERE id = $2 AND target = $3",
            )
            .bind(&c.id)
            .bind(id)
            .bind(&self.target)
            .execute(&mut *tx)
            .await
            .map_err(|x| self.err(&x))?;
        }
        tx.commit().await.map_err(|x| self.err(&x))?;
        Ok(())
    }

    /// Updates a change's status, timer, end and detail.
    pub async fn update_change(&self, c: &Change) -> Result<()> {
        let query = sqlx::query(
            "UPDATE opnsense_mcp_changes SET status = $1, revert_at_ms = $2, finished_ms = $3, detail = $4 WHERE id = $5 AND target = $6",
        )
        .bind(c.status.as_str())
        .bind(c.revert_at_ms)
        .bind(c.finished_ms)
        .bind(c.detail.to_string())
        .bind(&c.id)
        .bind(&self.target);
        self.run(query).await?;
        Ok(())
    }

    /// One change.
    pub async fn change(&self, id: &str) -> Result<Option<Change>> {
        let query = sqlx::query("SELECT * FROM opnsense_mcp_changes WHERE target = $1 AND id = $2")
            .bind(&self.target)
            .bind(id);
        let row = self.optional(query).await?;
        row.as_ref().map(|r| self.change_row(r)).transpose()
    }

    /// Changes, newest first; `statuses` empty = every status.
    pub async fn changes(&self, statuses: &[ChangeStatus], limit: i64) -> Result<Vec<Change>> {
        let query = sqlx::query(
            "SELECT * FROM opnsense_mcp_changes WHERE target = $1 ORDER BY created_ms DESC, id DESC LIMIT $2",
        )
        .bind(&self.target)
        .bind(limit.max(1));
        let rows = self.rows(query).await?;
        let all = rows
            .iter()
            .map(|r| self.change_row(r))
            .collect::<Result<Vec<_>>>()?;
        Ok(all
            .into_iter()
            .filter(|c| statuses.is_empty() || statuses.contains(&c.status))
            .collect())
    }

    /// Changes that are live and unconfirmed, or whose apply or revert was cut short: the ones
    /// a (re)started server must take care of.
    pub async fn unsettled(&self) -> Result<Vec<Change>> {
        let query = sqlx::query(
            "SELECT * FROM opnsense_mcp_changes WHERE target = $1 AND status IN ('applying', 'pending', 'reverting') ORDER BY created_ms",
        )
        .bind(&self.target);
        let rows = self.rows(query).await?;
        rows.iter().map(|r| self.change_row(r)).collect()
    }

    /// Takes or renews the lease on a change's revert timer for `holder` until `expires_ms`:
    /// granted when nobody holds it, `holder` already does, or the lease ran out (its holder
    /// stopped renewing it: it died). One statement, so two replicas never both win.
    pub async fn take_lease(&self, change_id: &str, holder: &str, expires_ms: i64) -> Result<bool> {
        let query = sqlx::query(
            "INSERT INTO opnsense_mcp_leases (change_id, target, holder, expires_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (change_id) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
             WHERE opnsense_mcp_leases.holder = excluded.holder OR opnsense_mcp_leases.expires_ms < $5",
        )
        .bind(change_id)
        .bind(&self.target)
        .bind(holder)
        .bind(expires_ms)
        .bind(now_ms());
        let done = self.run(query).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Extends every lease `holder` holds to `expires_ms`, and records that it is alive.
    pub async fn renew_leases(&self, holder: &str, expires_ms: i64) -> Result<()> {
        let query = sqlx::query(
            "UPDATE opnsense_mcp_leases SET expires_ms = $1 WHERE holder = $2 AND target = $3",
        )
        .bind(expires_ms)
        .bind(holder)
        .bind(&self.target);
        self.run(query).await?;
        let query = sqlx::query(
            "INSERT INTO opnsense_mcp_replicas (holder, target, seen_ms) VALUES ($1, $2, $3)
             ON CONFLICT (holder) DO UPDATE SET seen_ms = excluded.seen_ms",
        )
        .bind(holder)
        .bind(&self.target)
        .bind(now_ms());
        self.run(query).await?;
        Ok(())
    }

    /// Gives up a change's lease (any holder's when `holder` is `None`: the change settled).
    pub async fn release_lease(&self, change_id: &str, holder: Option<&str>) -> Result<()> {
        let query = sqlx::query(
            "DELETE FROM opnsense_mcp_leases WHERE change_id = $1 AND target = $2 AND ($3 = '' OR holder = $3)",
        )
        .bind(change_id)
        .bind(&self.target)
        .bind(holder.unwrap_or_default());
        self.run(query).await?;
        Ok(())
    }

    /// A replica leaves: its leases end now (another replica takes them over at its next
    /// look) and it is no longer listed.
    pub async fn leave(&self, holder: &str) -> Result<()> {
        let query = sqlx::query(
            "UPDATE opnsense_mcp_leases SET expires_ms = 0 WHERE holder = $1 AND target = $2",
        )
        .bind(holder)
        .bind(&self.target);
        self.run(query).await?;
        let query = sqlx::query("DELETE FROM opnsense_mcp_replicas WHERE holder = $1").bind(holder);
        self.run(query).await?;
        Ok(())
    }

    /// How many replicas other than `holder` were seen since `since_ms`.
    pub async fn other_replicas(&self, holder: &str, since_ms: i64) -> Result<i64> {
        let query = sqlx::query(
            "SELECT COUNT(*) AS n FROM opnsense_mcp_replicas WHERE target = $1 AND holder <> $2 AND seen_ms >= $3",
        )
        .bind(&self.target)
        .bind(holder)
        .bind(since_ms);
        let row = self.one(query).await?;
        row.try_get("n").map_err(|x| self.err(&x))
    }

    /// Moves a change from `from` to `to` only if it still has status `from` (so a confirm on
    /// one replica and a revert on another cannot both win); whether it moved.
    pub async fn transition(
        &self,
        change_id: &str,
        from: ChangeStatus,
        to: ChangeStatus,
    ) -> Result<bool> {
        let query = sqlx::query(
            "UPDATE opnsense_mcp_changes SET status = $1 WHERE id = $2 AND target = $3 AND status = $4",
        )
        .bind(to.as_str())
        .bind(change_id)
        .bind(&self.target)
        .bind(from.as_str());
        let done = self.run(query).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a grid's baseline: a hash of every record as it was when the last change through
    /// this server settled (to tell changes made elsewhere apart).
    pub async fn set_baseline(
        &self,
        grid: &str,
        hashes: &std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        let text = serde_json::to_string(hashes).unwrap_or_default();
        let mut tx = self.pool.begin().await.map_err(|x| self.err(&x))?;
        sqlx::query("DELETE FROM opnsense_mcp_baselines WHERE target = $1 AND grid = $2")
            .bind(&self.target)
            .bind(grid)
            .execute(&mut *tx)
            .await
            .map_err(|x| self.err(&x))?;
        sqlx::query(
            "INSERT INTO opnsense_mcp_baselines (target, grid, taken_ms, hashes) VALUES ($1, $2, $3, $4)",
        )
        .bind(&self.target)
        .bind(grid)
        .bind(now_ms())
        .bind(text)
        .execute(&mut *tx)
        .await
        .map_err(|x| self.err(&x))?;
        tx.commit().await.map_err(|x| self.err(&x))?;
        Ok(())
    }

    /// A grid's baseline (see [`Self::set_baseline`]), when there is one.
    pub async fn baseline(
        &self,
        grid: &str,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>> {
        let query = sqlx::query(
            "SELECT hashes FROM opnsense_mcp_baselines WHERE target = $1 AND grid = $2",
        )
        .bind(&self.target)
        .bind(grid);
        let row = self.optional(query).await?;
        row.map(|r| {
            let text: String = r.try_get("hashes").map_err(|x| self.err(&x))?;
            serde_json::from_str(&text).map_err(|e| self.corrupt("hashes", &e.to_string()))
        })
        .transpose()
    }

    fn entry(&self, r: &AnyRow) -> Result<Entry> {
        let get = |col: &str| -> Result<Option<String>> {
            r.try_get::<Option<String>, _>(col)
                .map_err(|x| self.err(&x))
        };
        let json = |col: &str| -> Result<Option<Value>> {
            get(col)?
                .map(|t| serde_json::from_str(&t))
                .transpose()
                .map_err(|e| self.corrupt(col, &e.to_string()))
        };
        let parse =
            |col: &str| -> Result<String> { get(col)?.ok_or_else(|| self.corrupt(col, "missing")) };
        Ok(Entry {
            id: parse("id")?,
            change_id: get("change_id")?,
            grid: parse("grid")?,
            seq: r.try_get("seq").map_err(|x| self.err(&x))?,
            op: parse("op")?
                .parse()
                .map_err(|e: String| self.corrupt("op", &e))?,
            uuid: get("uuid")?,
            before: json("before_state")?,
            after: json("after_state")?,
            status: parse("status")?
                .parse()
                .map_err(|e: String| self.corrupt("status", &e))?,
            created_ms: r.try_get("created_ms").map_err(|x| self.err(&x))?,
            readded_uuid: get("readded_uuid")?,
            note: get("note")?,
        })
    }

    fn change_row(&self, r: &AnyRow) -> Result<Change> {
        let text = |col: &str| -> Result<String> {
            r.try_get::<Option<String>, _>(col)
                .map_err(|x| self.err(&x))?
                .ok_or_else(|| self.corrupt(col, "missing"))
        };
        let num = |col: &str| -> Result<Option<i64>> {
            r.try_get::<Option<i64>, _>(col).map_err(|x| self.err(&x))
        };
        Ok(Change {
            id: text("id")?,
            grid: text("grid")?,
            status: text("status")?
                .parse()
                .map_err(|e: String| self.corrupt("status", &e))?,
            created_ms: num("created_ms")?.unwrap_or_default(),
            revert_at_ms: num("revert_at_ms")?,
            finished_ms: num("finished_ms")?,
            detail: serde_json::from_str(&text("detail")?)
                .map_err(|e| self.corrupt("detail", &e.to_string()))?,
        })
    }

    fn corrupt(&self, column: &str, why: &str) -> JournalError {
        JournalError {
            location: self.location.clone(),
            detail: format!("unreadable {column}: {why}"),
        }
    }
}

/// `journal-<host>-<hash>.sqlite` for a firewall URL (the hash tells apart two URLs of one host).
pub fn file_name(firewall_url: &str) -> String {
    let host: String = firewall_url
        .split("://")
        .nth(1)
        .unwrap_or(firewall_url)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    // FNV-1a: stable across releases, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in firewall_url.trim().trim_end_matches('/').bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("journal-{host}-{hash:016x}.sqlite")
}

/// The default state directory: `$OPNSENSE_STATE_DIR` is the caller's business; this is
/// `$XDG_STATE_HOME/opnsense-mcp`, else `~/.local/state/opnsense-mcp`.
pub fn default_state_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local").join("state"))
        })?;
    Some(base.join("opnsense-mcp"))
}

/// A database URL with its password masked.
fn redact_url(url: &str) -> String {
    opnsense_api::redact_userinfo(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, seq: i64) -> Entry {
        Entry {
            id: id.to_owned(),
            change_id: None,
            grid: "routes.route".to_owned(),
            seq,
            op: Op::Set,
            uuid: Some("5b1f0e6a-8c3d-4f3e-9a51-0d2c7e4b9a10".to_owned()),
            before: Some(serde_json::json!({"descr": "old"})),
            after: None,
            status: EntryStatus::Writing,
            created_ms: now_ms(),
            readded_uuid: None,
            note: None,
        }
    }

    /// A journal in a new directory under the system's temporary one (named after `prefix`).
    async fn journal_in_temp_dir(prefix: &str) -> (PathBuf, Journal) {
        let dir = std::env::temp_dir().join(new_id(prefix));
        let j = Journal::open_in_dir(&dir, "https://192.0.2.1")
            .await
            .expect("open");
        (dir, j)
    }

    #[tokio::test]
    async fn entries_and_changes_round_trip_and_survive_a_reopen() {
        let (dir, j) = journal_in_temp_dir("journal-test").await;
        let mut e = entry(&new_id("ent"), j.next_seq().await.expect("seq"));
        j.insert_entry(&e).await.expect("insert");
        e.status = EntryStatus::Staged;
        e.after = Some(serde_json::json!({"descr": "new"}));
        j.update_entry(&e).await.expect("update");
        assert_eq!(
            j.staged("routes.route").await.expect("staged"),
            vec![e.clone()]
        );
        let mut c = Change {
            id: new_id("chg"),
            grid: "routes.route".to_owned(),
            status: ChangeStatus::Applying,
            created_ms: now_ms(),
            revert_at_ms: Some(now_ms() + 60_000),
            finished_ms: None,
            detail: serde_json::json!({}),
        };
        j.insert_change(&c, std::slice::from_ref(&e.id))
            .await
            .expect("change");
        assert!(j.staged("routes.route").await.expect("staged").is_empty());
        c.status = ChangeStatus::Pending;
        j.update_change(&c).await.expect("update change");
        drop(j);
        // Another process (a restart) finds the pending change and its write.
        let j = Journal::open_in_dir(&dir, "https://192.0.2.1")
            .await
            .expect("reopen");
        let unsettled = j.unsettled().await.expect("unsettled");
        assert_eq!(unsettled, vec![c.clone()]);
        let entries = j.entries_of(&c.id).await.expect("entries");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].change_id.as_deref(), Some(c.id.as_str()));
        assert_eq!(entries[0].after, e.after);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn one_holder_per_lease_until_it_runs_out_and_one_transition_wins() {
        let (dir, j) = journal_in_temp_dir("journal-lease").await;
        let later = now_ms() + 60_000;
        assert!(j.take_lease("chg-1", "replica-a", later).await.expect("a"));
        assert!(!j.take_lease("chg-1", "replica-b", later).await.expect("b"));
        // The holder renews its own lease.
        assert!(
            j.take_lease("chg-1", "replica-a", later + 1)
                .await
                .expect("a")
        );
        j.renew_leases("replica-a", later + 2).await.expect("renew");
        assert_eq!(j.other_replicas("replica-b", 0).await.expect("count"), 1);
        assert_eq!(j.other_replicas("replica-a", 0).await.expect("count"), 0);
        // A lease that ran out goes to whoever asks next.
        j.leave("replica-a").await.expect("leave");
        assert!(j.take_lease("chg-1", "replica-b", later).await.expect("b"));
        assert!(!j.take_lease("chg-1", "replica-a", later).await.expect("a"));
        assert_eq!(j.other_replicas("replica-b", 0).await.expect("count"), 0);
        j.release_lease("chg-1", Some("replica-a"))
            .await
            .expect("not a's");
        assert!(!j.take_lease("chg-1", "replica-a", later).await.expect("a"));
        j.release_lease("chg-1", None).await.expect("any");
        assert!(j.take_lease("chg-1", "replica-a", later).await.expect("a"));

        let c = Change {
            id: new_id("chg"),
            grid: "routes.route".to_owned(),
            status: ChangeStatus::Pending,
            created_ms: now_ms(),
            revert_at_ms: Some(later),
            finished_ms: None,
            detail: serde_json::json!({}),
        };
        j.insert_change(&c, &[]).await.expect("change");
        assert!(
            j.transition(&c.id, ChangeStatus::Pending, ChangeStatus::Confirmed)
                .await
                .expect("confirm")
        );
        assert!(
            !j.transition(&c.id, ChangeStatus::Pending, ChangeStatus::Reverting)
                .await
                .expect("revert")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn one_file_per_firewall_url() {
        let a = file_name("https://fw.example/");
        assert_eq!(a, file_name("https://fw.example"));
        assert_ne!(a, file_name("https://fw.example:8443"));
        assert!(
            a.starts_with("journal-fw.example-") && a.ends_with(".sqlite"),
            "{a}"
        );
        assert!(!file_name("https://a/../b").contains('/'));
    }
}

//! Staged and live configuration, volatile runtime data, savepoints and the rollback timer.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::backups::{Backups, Revision};
use std::ops::{Index, IndexMut};

use serde_json::{Map, Value};

use crate::Snapshot;
use crate::server::RequestRecord;

/// Stored fields of a record; containers (d_nat `source`, Kea `option_data`) are nested
/// objects, leaves are strings, as in config.xml.
pub(crate) type Fields = Map<String, Value>;

/// One model item (rule, alias, route ...).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub uuid: String,
    pub fields: Fields,
}

impl Record {
    /// A record without fields.
    pub fn new(uuid: impl Into<String>) -> Record {
        Record {
            uuid: uuid.into(),
            fields: Map::new(),
        }
    }

    /// Leaf value at a dotted path (`source.network`), `""` when missing.
    pub fn get(&self, path: &str) -> &str {
        let mut node = &self.fields;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            match node.get(part) {
                Some(Value::Object(inner)) if parts.peek().is_some() => node = inner,
                Some(Value::String(s)) if parts.peek().is_none() => return s,
                _ => return "",
            }
        }
        ""
    }

    /// Sets a leaf at a dotted path, creating containers as needed.
    pub fn set(&mut self, path: &str, value: impl Into<String>) {
        let mut node = &mut self.fields;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                node.insert(part.to_owned(), Value::String(value.into()));
                return;
            }
            let entry = node
                .entry(part.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            let Value::Object(inner) = entry else {
                return;
            };
            node = inner;
        }
    }

    /// `{"uuid": ..., <fields>}` for Rust callers.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("uuid".into(), Value::String(self.uuid.clone()));
        for (k, v) in &self.fields {
            obj.insert(k.clone(), v.clone());
        }
        Value::Object(obj)
    }

    /// Items of a comma-separated leaf, without empty entries.
    pub fn list(&self, path: &str) -> Vec<&str> {
        split_list(self.get(path))
    }
}

/// Splits a comma-separated multi value, dropping empty items.
pub(crate) fn split_list(value: &str) -> Vec<&str> {
    value.split(',').filter(|s| !s.is_empty()).collect()
}

/// The model collections that are staged by `add_*`/`set_*`/`del_*` and made live by an
/// apply. Every per-collection table (`Config`, [`Snapshot`]) is an array indexed by this
/// enum, so adding an area means adding a variant here (and to [`Collection::ALL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Collection {
    /// Firewall filter rules (`firewall/filter`), applied by `firewall/filter/apply`.
    FilterRules,
    /// Aliases (`firewall/alias`), applied by `firewall/alias/reconfigure`.
    Aliases,
    /// Port forwards (`firewall/d_nat`), applied by `firewall/d_nat/apply`.
    PortForwards,
    /// Static routes (`routes/routes`), applied by `routes/routes/reconfigure`.
    Routes,
    /// Unbound host overrides, applied by `unbound/service/reconfigure`.
    HostOverrides,
    /// Kea DHCPv4 reservations, applied by `kea/service/reconfigure`.
    Reservations,
    /// Kea DHCPv4 subnets, applied by `kea/service/reconfigure`.
    Subnets,
    /// Dnsmasq hosts (DHCP reservations and DNS overrides), applied by
    /// `dnsmasq/service/reconfigure`.
    DnsmasqHosts,
    /// Outbound NAT rules (`firewall/source_nat`), applied by `firewall/source_nat/apply`.
    SourceNat,
    /// Unbound `dots.dot` entries (query forwards and DNS-over-TLS servers), applied by
    /// `unbound/service/reconfigure`.
    Forwards,
}

impl Collection {
    /// Number of collections.
    pub const COUNT: usize = 10;

    /// Every collection, in index order.
    pub const ALL: [Collection; Collection::COUNT] = [
        Collection::FilterRules,
        Collection::Aliases,
        Collection::PortForwards,
        Collection::Routes,
        Collection::HostOverrides,
        Collection::Reservations,
        Collection::Subnets,
        Collection::DnsmasqHosts,
        Collection::SourceNat,
        Collection::Forwards,
    ];

    /// Position in per-collection arrays.
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// A firewall category (referenced by filter `categories` uuids and d_nat `category` names).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Category {
    pub uuid: String,
    pub name: String,
    pub color: String,
}

/// One side (staged = config.xml, or live = running services) of the configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Config {
    collections: [Vec<Record>; Collection::COUNT],
    pub categories: Vec<Category>,
    /// `nat/outbound/mode` (`automatic`, `hybrid`, `advanced`, `disabled`; empty = automatic).
    pub snat_mode: String,
}

impl Index<Collection> for Config {
    type Output = Vec<Record>;

    fn index(&self, c: Collection) -> &Vec<Record> {
        &self.collections[c.index()]
    }
}

impl IndexMut<Collection> for Config {
    fn index_mut(&mut self, c: Collection) -> &mut Vec<Record> {
        &mut self.collections[c.index()]
    }
}

impl Config {
    /// Copy for Rust callers.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(
            self.collections
                .each_ref()
                .map(|records| records.iter().map(Record::to_json).collect()),
        )
    }

    /// Alias record by name.
    pub fn alias_by_name(&self, name: &str) -> Option<&Record> {
        self[Collection::Aliases]
            .iter()
            .find(|a| a.get("name") == name)
    }
}

/// Run state of a service behind `{module}/service/*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServiceState {
    pub enabled: bool,
    pub running: bool,
}

/// A pending `apply/{rev}` rollback timer.
#[derive(Debug)]
pub(crate) struct PendingRollback {
    pub revision: String,
    pub task: tokio::task::AbortHandle,
}

/// A ring buffer of the most recent [`crate::REQUEST_LOG_CAP`] answered requests: a long
/// running simulator (benchmarks, `serve --simulator`) must not grow without bound.
#[derive(Debug, Default)]
pub(crate) struct RequestLog(VecDeque<RequestRecord>);

impl RequestLog {
    /// Appends a record, dropping the oldest one when the log is full.
    pub fn push(&mut self, record: RequestRecord) {
        if self.0.len() >= crate::REQUEST_LOG_CAP {
            self.0.pop_front();
        }
        self.0.push_back(record);
    }

    /// The records, oldest first.
    pub fn to_vec(&self) -> Vec<RequestRecord> {
        self.0.iter().cloned().collect()
    }
}

/// Everything behind the simulator's mutex.
#[derive(Debug)]
pub(crate) struct SimState {
    /// Saved configuration (config.xml).
    pub staged: Config,
    /// Configuration loaded into the running services.
    pub live: Config,
    /// Kea DHCPv4 leases (rows as served by `kea/leases4/search`).
    pub leases: Vec<Value>,
    /// Dnsmasq's lease file (rows as `dnsmasq list leases` gives them, before
    /// `dnsmasq/leases/search` adds the interface and reservation columns).
    pub dnsmasq_leases: Vec<Value>,
    /// IDS rulesets (rows as served by `ids/settings/listRulesets`).
    pub rulesets: Vec<Value>,
    /// Service run states keyed by URL module name.
    pub services: BTreeMap<&'static str, ServiceState>,
    /// Injected configd failures of `{module}/service/start|stop|restart`.
    pub service_failures: HashMap<String, crate::ServiceFailure>,
    /// `/conf/backup`: one backup per save of the staged configuration.
    pub backups: Backups,
    /// Armed rollback timer (only one at a time).
    pub rollback: Option<PendingRollback>,
    /// Live filter rules before the most recent filter apply (for `console_revert`).
    pub before_last_filter_apply: Option<Vec<Record>>,
    /// Whether `core/firmware/check` (or POST status) ran.
    pub firmware_checked: bool,
    /// The most recent answered requests (bounded, see [`RequestLog`]).
    pub log: RequestLog,
    /// State of the seeded RNG used for new uuids and the error rate.
    pub rng: crate::seed::Rng,
}

impl SimState {
    /// A fresh random v4 uuid from the seeded RNG.
    pub fn new_uuid(&mut self) -> String {
        self.rng.uuid()
    }

    /// `Config::save()`: writes the staged configuration and a backup of it. Returns the
    /// `revision/time` of the save.
    pub fn save(&mut self, revision: Revision) -> String {
        self.backups.save(&self.staged, revision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_log_keeps_the_most_recent_records() {
        let mut log = RequestLog::default();
        for i in 0..=crate::REQUEST_LOG_CAP {
            log.push(RequestRecord {
                method: "GET".into(),
                path: format!("/api/{i}"),
                status: 200,
            });
        }
        let records = log.to_vec();
        assert_eq!(records.len(), crate::REQUEST_LOG_CAP);
        assert_eq!(records[0].path, "/api/1", "the oldest record was dropped");
        assert_eq!(
            records[records.len() - 1].path,
            format!("/api/{}", crate::REQUEST_LOG_CAP)
        );
    }

    #[test]
    fn every_collection_has_its_own_slot() {
        let mut cfg = Config::default();
        for (i, c) in Collection::ALL.into_iter().enumerate() {
            assert_eq!(c.index(), i);
            cfg[c].push(Record::new(format!("r{i}")));
        }
        let snap = cfg.snapshot();
        for (i, c) in Collection::ALL.into_iter().enumerate() {
            assert_eq!(snap.records(c).len(), 1);
            assert!(snap.find(&format!("r{i}")).is_some());
        }
        assert_eq!(snap.subnets().len(), 1);
    }
}

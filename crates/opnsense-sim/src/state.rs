//! Staged and live configuration, volatile runtime data, savepoints and the rollback timer.

use std::collections::{BTreeMap, HashMap};

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
        let parts: Vec<&str> = path.split('.').collect();
        let (last, containers) = parts.split_last().expect("non-empty path");
        for part in containers {
            let entry = node
                .entry((*part).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            node = entry.as_object_mut().expect("container");
        }
        node.insert((*last).to_owned(), Value::String(value.into()));
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

/// The collections that can be staged and applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Collection {
    FilterRules,
    Aliases,
    PortForwards,
    Routes,
    HostOverrides,
    Reservations,
    Subnets,
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
    pub filter_rules: Vec<Record>,
    pub aliases: Vec<Record>,
    pub port_forwards: Vec<Record>,
    pub routes: Vec<Record>,
    pub host_overrides: Vec<Record>,
    pub reservations: Vec<Record>,
    pub subnets: Vec<Record>,
    pub categories: Vec<Category>,
}

impl Config {
    /// The records of one collection.
    pub fn records(&self, c: Collection) -> &Vec<Record> {
        match c {
            Collection::FilterRules => &self.filter_rules,
            Collection::Aliases => &self.aliases,
            Collection::PortForwards => &self.port_forwards,
            Collection::Routes => &self.routes,
            Collection::HostOverrides => &self.host_overrides,
            Collection::Reservations => &self.reservations,
            Collection::Subnets => &self.subnets,
        }
    }

    /// The records of one collection, mutable.
    pub fn records_mut(&mut self, c: Collection) -> &mut Vec<Record> {
        match c {
            Collection::FilterRules => &mut self.filter_rules,
            Collection::Aliases => &mut self.aliases,
            Collection::PortForwards => &mut self.port_forwards,
            Collection::Routes => &mut self.routes,
            Collection::HostOverrides => &mut self.host_overrides,
            Collection::Reservations => &mut self.reservations,
            Collection::Subnets => &mut self.subnets,
        }
    }

    /// Copy for Rust callers.
    pub fn snapshot(&self) -> Snapshot {
        let dump = |v: &Vec<Record>| v.iter().map(Record::to_json).collect();
        Snapshot {
            filter_rules: dump(&self.filter_rules),
            aliases: dump(&self.aliases),
            port_forwards: dump(&self.port_forwards),
            routes: dump(&self.routes),
            host_overrides: dump(&self.host_overrides),
            reservations: dump(&self.reservations),
        }
    }

    /// Alias record by name.
    pub fn alias_by_name(&self, name: &str) -> Option<&Record> {
        self.aliases.iter().find(|a| a.get("name") == name)
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

/// Everything behind the simulator's mutex.
#[derive(Debug)]
pub(crate) struct SimState {
    /// Saved configuration (config.xml).
    pub staged: Config,
    /// Configuration loaded into the running services.
    pub live: Config,
    /// Kea DHCPv4 leases (rows as served by `kea/leases4/search`).
    pub leases: Vec<Value>,
    /// IDS rulesets (rows as served by `ids/settings/listRulesets`).
    pub rulesets: Vec<Value>,
    /// Service run states keyed by URL module name.
    pub services: BTreeMap<&'static str, ServiceState>,
    /// Savepoint backups of the filter rules keyed by backup file revision.
    pub backups: HashMap<String, Vec<Record>>,
    /// Armed rollback timer (only one at a time).
    pub rollback: Option<PendingRollback>,
    /// Live filter rules before the most recent filter apply (for `console_revert`).
    pub before_last_filter_apply: Option<Vec<Record>>,
    /// Whether `core/firmware/check` (or POST status) ran.
    pub firmware_checked: bool,
    /// Answered requests.
    pub log: Vec<RequestRecord>,
    /// State of the seeded RNG used for new uuids and the error rate.
    pub rng: crate::seed::Rng,
}

impl SimState {
    /// A fresh random v4 uuid from the seeded RNG.
    pub fn new_uuid(&mut self) -> String {
        self.rng.uuid()
    }
}

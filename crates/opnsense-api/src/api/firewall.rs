//! `firewall/*`: filter rules, aliases and destination NAT (port forwards).
//!
//! Each area stages changes; apply with [`FilterHandler::apply`], [`AliasHandler::reconfigure`]
//! and [`DNatHandler::apply`] respectively.

use serde_json::{Map, Value};

use super::Resource;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::models::firewall::{Alias, AliasModel, DNatRow, DNatRule, FilterRule, Savepoint};
use crate::outcome::{self, ActionStatus, Saved, Toggled};
use crate::path::{AliasName, Revision, Uuid};
use crate::request::{Request, SearchPage, SearchQuery};

/// The filter rule grid (26.1 MVC rules).
pub const FILTER_RULE: Resource = Resource {
    kind: "firewall rule",
    wrapper: "rule",
    search: "firewall/filter/search_rule",
    get: "firewall/filter/get_rule",
    add: "firewall/filter/add_rule",
    set: "firewall/filter/set_rule",
    del: "firewall/filter/del_rule",
    toggle: "firewall/filter/toggle_rule",
    toggle_inverted: false,
};

/// The alias grid.
pub const ALIAS: Resource = Resource {
    kind: "alias",
    wrapper: "alias",
    search: "firewall/alias/search_item",
    get: "firewall/alias/get_item",
    add: "firewall/alias/add_item",
    set: "firewall/alias/set_item",
    del: "firewall/alias/del_item",
    toggle: "firewall/alias/toggle_item",
    toggle_inverted: false,
};

/// The destination NAT grid; its toggle argument means "disabled".
pub const DNAT_RULE: Resource = Resource {
    kind: "NAT rule",
    wrapper: "rule",
    search: "firewall/d_nat/search_rule",
    get: "firewall/d_nat/get_rule",
    add: "firewall/d_nat/add_rule",
    set: "firewall/d_nat/set_rule",
    del: "firewall/d_nat/del_rule",
    toggle: "firewall/d_nat/toggle_rule",
    toggle_inverted: true,
};

/// Entry point to the three firewall areas.
#[derive(Debug, Clone, Copy)]
pub struct FirewallHandler<'c> {
    client: &'c Client,
}

impl<'c> FirewallHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Filter rules.
    pub fn filter(&self) -> FilterHandler<'c> {
        FilterHandler {
            client: self.client,
        }
    }

    /// Aliases.
    pub fn alias(&self) -> AliasHandler<'c> {
        AliasHandler {
            client: self.client,
        }
    }

    /// Destination NAT (port forwards).
    pub fn d_nat(&self) -> DNatHandler<'c> {
        DNatHandler {
            client: self.client,
        }
    }
}

/// Handler for filter rules.
#[derive(Debug, Clone, Copy)]
pub struct FilterHandler<'c> {
    client: &'c Client,
}

/// `POST firewall/filter/apply[/{revision}]`.
pub fn filter_apply_request(rollback: Option<&Revision>) -> Request {
    let req = Request::post("firewall/filter/apply");
    match rollback {
        Some(rev) => req.segment(rev.as_str()),
        None => req,
    }
}

impl FilterHandler<'_> {
    /// `POST firewall/filter/search_rule`.
    pub async fn search(&self, q: &SearchQuery) -> Result<SearchPage<FilterRule>> {
        self.client
            .search_resource(&FILTER_RULE, q, Map::new())
            .await
    }

    /// `GET firewall/filter/get_rule/{uuid}`.
    pub async fn get(&self, id: &Uuid) -> Result<FilterRule> {
        self.client.get_resource(&FILTER_RULE, id).await
    }

    /// `POST firewall/filter/add_rule` (staged).
    pub async fn add(&self, rule: &FilterRule) -> Result<Saved> {
        self.client.add_resource(&FILTER_RULE, rule).await
    }

    /// `POST firewall/filter/set_rule/{uuid}` (staged; unknown uuid = not found).
    pub async fn set(&self, id: &Uuid, rule: &FilterRule) -> Result<()> {
        self.client.set_resource(&FILTER_RULE, id, rule).await
    }

    /// `POST firewall/filter/del_rule/{uuid}` (staged).
    pub async fn delete(&self, id: &Uuid) -> Result<()> {
        self.client.delete_resource(&FILTER_RULE, id).await
    }

    /// `POST firewall/filter/toggle_rule/{uuid}[/{0|1}]` (staged). OPNsense answers HTTP 500 for
    /// an unknown uuid; this confirms with a get and answers not found instead.
    pub async fn toggle(&self, id: &Uuid, enabled: Option<bool>) -> Result<Toggled> {
        match self.client.toggle_resource(&FILTER_RULE, id, enabled).await {
            Err(e @ Error::Http { status: 500, .. }) => {
                self.client.get_resource::<Value>(&FILTER_RULE, id).await?;
                Err(e)
            }
            other => other,
        }
    }

    /// `POST firewall/filter/apply`: loads staged rules into pf.
    pub async fn apply(&self) -> Result<ActionStatus> {
        self.client
            .action(
                filter_apply_request(None),
                "apply firewall rules",
                "status",
                outcome::apply_is_ok,
            )
            .await
    }

    async fn require_rollback(&self, feature: &'static str) -> Result<()> {
        match self.client.firmware_version().await {
            Some(v) if !v.has_filter_rollback() => Err(Error::Unsupported {
                feature,
                version: v.to_string(),
                hint: "26.7 removed firewall savepoints; take your own snapshot of the rules before applying",
            }),
            _ => Ok(()),
        }
    }

    /// `POST firewall/filter/savepoint` (26.1 only).
    pub async fn savepoint(&self) -> Result<Savepoint> {
        self.require_rollback("firewall savepoint").await?;
        self.client
            .execute(Request::post("firewall/filter/savepoint"), |path, v| {
                outcome::status(
                    path,
                    "create savepoint",
                    "status",
                    &v,
                    outcome::status_is_ok,
                )?;
                outcome::decode(path, v)
            })
            .await
    }

    /// `POST firewall/filter/apply/{revision}` (26.1 only): applies and arms OPNsense's 60 s
    /// rollback timer. On stock 26.1 that timer restores nothing (revision-rounding defect).
    pub async fn apply_with_rollback(&self, revision: &Revision) -> Result<ActionStatus> {
        self.require_rollback("apply with rollback").await?;
        self.client
            .action(
                filter_apply_request(Some(revision)),
                "apply firewall rules with rollback",
                "status",
                outcome::apply_is_ok,
            )
            .await
    }

    /// `POST firewall/filter/cancelRollback/{revision}` (26.1 only). Fails when no timer is
    /// pending for that revision (it fired already, or was never armed).
    pub async fn cancel_rollback(&self, revision: &Revision) -> Result<ActionStatus> {
        self.require_rollback("cancel rollback").await?;
        let req = Request::post("firewall/filter/cancelRollback").segment(revision.as_str());
        self.client
            .execute(req, |path, v| {
                // "\n\n" on success, "" when nothing was pending, "error" when refused
                // (read-only API user); the success text is blank, so only errors are recognised.
                let ok = |s: &str| !s.is_empty() && !s.to_ascii_lowercase().contains("error");
                outcome::status(path, "cancel rollback", "status", &v, ok).map_err(|e| match e {
                    Error::ActionFailed { path, status, .. } if status.is_empty() => {
                        Error::ActionFailed {
                            action: "cancel rollback (no rollback pending for this revision: \
                                     it already fired, was never armed, or the revision is wrong)",
                            path,
                            status,
                        }
                    }
                    other => other,
                })
            })
            .await
    }

    /// `POST firewall/filter/revert/{revision}` (26.1 only).
    pub async fn revert(&self, revision: &Revision) -> Result<ActionStatus> {
        self.require_rollback("revert to savepoint").await?;
        self.client
            .action(
                Request::post("firewall/filter/revert").segment(revision.as_str()),
                "revert firewall rules",
                "status",
                outcome::status_is_ok,
            )
            .await
    }
}

/// Handler for aliases.
#[derive(Debug, Clone, Copy)]
pub struct AliasHandler<'c> {
    client: &'c Client,
}

/// `GET firewall/alias/getAliasUUID/{name}`.
pub fn alias_uuid_request(name: &AliasName) -> Request {
    Request::get("firewall/alias/getAliasUUID").segment(name.as_str())
}

impl AliasHandler<'_> {
    /// `GET firewall/alias/get`: the whole alias model (large; prefer [`Self::search`]).
    pub async fn model(&self) -> Result<AliasModel> {
        self.client
            .execute(Request::get("firewall/alias/get"), |path, v| match v {
                Value::Object(mut map) if map.get("alias").is_some_and(Value::is_object) => {
                    outcome::decode(path, map.remove("alias").unwrap_or_default())
                }
                other => Err(Error::InvalidResponse {
                    path: path.to_owned(),
                    reason: "expected {\"alias\": {...}}".into(),
                    excerpt: crate::error::excerpt(&other.to_string()),
                }),
            })
            .await
    }

    /// `POST firewall/alias/search_item`: paged list (includes built-in aliases whose id is a name).
    pub async fn search(&self, q: &SearchQuery) -> Result<SearchPage<Alias>> {
        self.client.search_resource(&ALIAS, q, Map::new()).await
    }

    /// `GET firewall/alias/get_item/{uuid}`. OPNsense answers HTTP 500 for an unknown uuid;
    /// this confirms with a search and answers not found instead.
    pub async fn get(&self, id: &Uuid) -> Result<Alias> {
        match self.client.get_resource(&ALIAS, id).await {
            Err(e @ Error::Http { status: 500, .. }) => Err(self.not_found_or(id, e).await?),
            other => other,
        }
    }

    /// `e` if the alias exists, else not found (a search failure is returned as is).
    async fn not_found_or(&self, id: &Uuid, e: Error) -> Result<Error> {
        Ok(if self.exists(id).await? {
            e
        } else {
            Error::NotFound {
                kind: ALIAS.kind,
                id: id.to_string(),
            }
        })
    }

    /// Whether an alias with this uuid exists (a search on the uuid, which OPNsense matches exactly).
    pub async fn exists(&self, id: &Uuid) -> Result<bool> {
        let page = self.search(&SearchQuery::all().phrase(id.as_str())).await?;
        Ok(page
            .rows
            .iter()
            .any(|a| a.uuid.as_deref() == Some(id.as_str())))
    }

    /// `GET firewall/alias/getAliasUUID/{name}`; `[]` (no exact match) becomes not found.
    pub async fn uuid_of(&self, name: &AliasName) -> Result<String> {
        self.client
            .execute(alias_uuid_request(name), |path, v| match v.get("uuid") {
                Some(Value::String(u)) if !u.is_empty() => Ok(u.clone()),
                _ if v.as_array().is_some_and(Vec::is_empty) || v.get("uuid").is_some() => {
                    Err(Error::NotFound {
                        kind: ALIAS.kind,
                        id: name.to_string(),
                    })
                }
                _ => Err(Error::InvalidResponse {
                    path: path.to_owned(),
                    reason: "expected {\"uuid\": ...} or []".into(),
                    excerpt: crate::error::excerpt(&v.to_string()),
                }),
            })
            .await
    }

    /// `POST firewall/alias/add_item` (staged).
    pub async fn add(&self, alias: &Alias) -> Result<Saved> {
        self.client.add_resource(&ALIAS, alias).await
    }

    /// `POST firewall/alias/set_item/{uuid}` (staged; unknown uuid = not found; a rename updates
    /// every reference).
    pub async fn set(&self, id: &Uuid, alias: &Alias) -> Result<()> {
        if !self.exists(id).await? {
            return Err(Error::NotFound {
                kind: ALIAS.kind,
                id: id.to_string(),
            });
        }
        self.client.set_resource_unchecked(&ALIAS, id, alias).await
    }

    /// `POST firewall/alias/del_item/{uuid}` (staged; refused while a rule uses the alias).
    pub async fn delete(&self, id: &Uuid) -> Result<()> {
        self.client.delete_resource(&ALIAS, id).await
    }

    /// `POST firewall/alias/toggle_item/{uuid}[/{0|1}]` (staged). OPNsense answers HTTP 500 for
    /// an unknown uuid; this confirms with a search and answers not found instead.
    pub async fn toggle(&self, id: &Uuid, enabled: Option<bool>) -> Result<Toggled> {
        match self.client.toggle_resource(&ALIAS, id, enabled).await {
            Err(e @ Error::Http { status: 500, .. }) => Err(self.not_found_or(id, e).await?),
            other => other,
        }
    }

    /// `POST firewall/alias/reconfigure`: loads staged aliases into pf.
    pub async fn reconfigure(&self) -> Result<ActionStatus> {
        self.client
            .action(
                Request::post("firewall/alias/reconfigure"),
                "apply aliases",
                "status",
                outcome::status_is_ok,
            )
            .await
    }
}

/// Handler for destination NAT (port forwards).
#[derive(Debug, Clone, Copy)]
pub struct DNatHandler<'c> {
    client: &'c Client,
}

impl DNatHandler<'_> {
    /// `POST firewall/d_nat/search_rule`. Rows include OPNsense's anti-lockout pseudo rules
    /// (see [`DNatRow::is_lockout_pseudo_rule`]).
    pub async fn search(&self, q: &SearchQuery) -> Result<SearchPage<DNatRow>> {
        self.client.search_resource(&DNAT_RULE, q, Map::new()).await
    }

    /// `GET firewall/d_nat/get_rule/{uuid}`.
    pub async fn get(&self, id: &Uuid) -> Result<DNatRule> {
        self.client.get_resource(&DNAT_RULE, id).await
    }

    /// `POST firewall/d_nat/add_rule` (staged).
    pub async fn add(&self, rule: &DNatRule) -> Result<Saved> {
        self.client.add_resource(&DNAT_RULE, rule).await
    }

    /// `POST firewall/d_nat/set_rule/{uuid}` (staged; unknown uuid = not found).
    pub async fn set(&self, id: &Uuid, rule: &DNatRule) -> Result<()> {
        self.client.set_resource(&DNAT_RULE, id, rule).await
    }

    /// `POST firewall/d_nat/del_rule/{uuid}` (staged).
    pub async fn delete(&self, id: &Uuid) -> Result<()> {
        self.client.delete_resource(&DNAT_RULE, id).await
    }

    /// `POST firewall/d_nat/toggle_rule/{uuid}[/{disabled 0|1}]` (staged). `enabled` is
    /// translated to OPNsense's inverted argument.
    pub async fn toggle(&self, id: &Uuid, enabled: Option<bool>) -> Result<Toggled> {
        self.client.toggle_resource(&DNAT_RULE, id, enabled).await
    }

    /// `POST firewall/d_nat/apply`: reloads the firewall with staged port forwards.
    pub async fn apply(&self) -> Result<ActionStatus> {
        self.client
            .action(
                Request::post("firewall/d_nat/apply"),
                "apply NAT rules",
                "status",
                outcome::apply_is_ok,
            )
            .await
    }
}

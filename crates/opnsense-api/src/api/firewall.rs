//! `firewall/*`: filter rules ([`FILTER_RULES`]), aliases ([`ALIASES`]) and destination NAT
//! ([`DNAT_RULES`]), plus the endpoints that are not grid actions (26.1's savepoint and timed
//! rollback, the alias model, alias lookup by name).

use serde_json::Value;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::grid::{Apply, Grid, GridDesc, GridSpec, Lookup, OnOff};
use crate::models::firewall::{Alias, AliasModel, DNatRow, DNatRule, FilterRule, Savepoint};
use crate::outcome::{self, ActionStatus};
use crate::path::{AliasName, Revision, Uuid};
use crate::request::Request;

/// The filter rule grid (26.1 MVC rules). Its search also returns legacy and automatic rules
/// (see [`FilterRule::origin`]).
pub static FILTER_RULES: GridSpec<FilterRule> = GridSpec::new(GridDesc {
    id: "firewall.filter",
    kind: "firewall rule",
    wrapper: "rule",
    search: "firewall/filter/search_rule",
    get: "firewall/filter/get_rule",
    add: "firewall/filter/add_rule",
    set: "firewall/filter/set_rule",
    del: "firewall/filter/del_rule",
    toggle: Some("firewall/filter/toggle_rule"),
    on_off: OnOff::Enabled,
    // configd's `filter reload` output: "OK\n\n", or "Error (N)".
    apply: Apply::firewall("firewall/filter/apply", "apply firewall rules"),
    lookup: Lookup::Get,
    set_keeps: &[],
    secret_fields: &[],
});

/// The alias grid. Its `get_item` answers an empty template (only `content`) for an unknown uuid.
pub static ALIASES: GridSpec<Alias> = GridSpec::new(GridDesc {
    id: "firewall.alias",
    kind: "alias",
    wrapper: "alias",
    search: "firewall/alias/search_item",
    get: "firewall/alias/get_item",
    add: "firewall/alias/add_item",
    set: "firewall/alias/set_item",
    del: "firewall/alias/del_item",
    toggle: Some("firewall/alias/toggle_item"),
    on_off: OnOff::Enabled,
    apply: Apply::reconfigure("firewall/alias/reconfigure", "apply aliases"),
    lookup: Lookup::GetWithField("name"),
    set_keeps: &[],
    // URL aliases' authentication secret (`password`; `username` holds a header name or user).
    secret_fields: &["password"],
});

/// The destination NAT (port forward) grid: search rows are [`DNatRow`]s (flat, dotted keys),
/// records [`DNatRule`]s (nested endpoints); its toggle argument means "disabled".
pub static DNAT_RULES: GridSpec<DNatRule, DNatRow> = GridSpec::new(GridDesc {
    id: "firewall.d_nat",
    kind: "NAT rule",
    wrapper: "rule",
    search: "firewall/d_nat/search_rule",
    get: "firewall/d_nat/get_rule",
    add: "firewall/d_nat/add_rule",
    set: "firewall/d_nat/set_rule",
    del: "firewall/d_nat/del_rule",
    toggle: Some("firewall/d_nat/toggle_rule"),
    on_off: OnOff::Disabled,
    apply: Apply::firewall("firewall/d_nat/apply", "apply NAT rules"),
    lookup: Lookup::Get,
    set_keeps: &[],
    secret_fields: &[],
});

/// `POST firewall/filter/apply/{revision}`: apply and arm OPNsense's timed rollback (26.1).
pub fn filter_apply_with_rollback_request(revision: &Revision) -> Request {
    FILTER_RULES.apply_request().segment(revision.as_str())
}

/// `POST firewall/filter/savepoint` (26.1).
pub fn savepoint_request() -> Request {
    Request::post("firewall/filter/savepoint")
}

/// `POST firewall/filter/cancelRollback/{revision}` (26.1).
pub fn cancel_rollback_request(revision: &Revision) -> Request {
    Request::post("firewall/filter/cancelRollback").segment(revision.as_str())
}

/// `POST firewall/filter/revert/{revision}` (26.1).
pub fn revert_request(revision: &Revision) -> Request {
    Request::post("firewall/filter/revert").segment(revision.as_str())
}

/// `GET firewall/alias/getAliasUUID/{name}`.
pub fn alias_uuid_request(name: &AliasName) -> Request {
    Request::get("firewall/alias/getAliasUUID").segment(name.as_str())
}

/// `GET firewall/alias/get`: the whole alias model.
pub fn alias_model_request() -> Request {
    Request::get("firewall/alias/get")
}

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
    pub fn filter(&self) -> Grid<'c, FilterRule> {
        self.client.grid(&FILTER_RULES)
    }

    /// Aliases.
    pub fn alias(&self) -> Grid<'c, Alias> {
        self.client.grid(&ALIASES)
    }

    /// Destination NAT (port forwards).
    pub fn d_nat(&self) -> Grid<'c, DNatRule, DNatRow> {
        self.client.grid(&DNAT_RULES)
    }
}

/// 26.1's savepoint and timed rollback (removed in 26.7: [`Error::Unsupported`] there, without a
/// request).
impl Grid<'_, FilterRule> {
    async fn require_rollback(&self, feature: &'static str) -> Result<()> {
        match self.client().firmware_version().await {
            Some(v) if !v.has_filter_rollback() => Err(Error::Unsupported {
                feature,
                version: v.to_string(),
                hint: "26.7 removed firewall savepoints; take your own snapshot of the rules before applying",
            }),
            _ => Ok(()),
        }
    }

    /// Sends one of 26.1's rollback actions (`feature` names it when the firmware has none) and
    /// reads its `status` as `action`.
    async fn rollback_action(
        &self,
        feature: &'static str,
        request: Request,
        action: &'static str,
        ok: fn(&str) -> bool,
    ) -> Result<ActionStatus> {
        self.require_rollback(feature).await?;
        self.client()
            .execute(request, |path, v| {
                outcome::status(path, action, "status", &v, ok)
            })
            .await
    }

    /// `POST firewall/filter/savepoint` (26.1 only).
    pub async fn savepoint(&self) -> Result<Savepoint> {
        self.require_rollback("firewall savepoint").await?;
        self.client()
            .execute(savepoint_request(), |path, v| {
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
        self.rollback_action(
            "apply with rollback",
            filter_apply_with_rollback_request(revision),
            "apply firewall rules with rollback",
            outcome::apply_is_ok,
        )
        .await
    }

    /// `POST firewall/filter/cancelRollback/{revision}` (26.1 only). Fails when no timer is
    /// pending for that revision (it fired already, or was never armed).
    pub async fn cancel_rollback(&self, revision: &Revision) -> Result<ActionStatus> {
        self.require_rollback("cancel rollback").await?;
        self.client()
            .execute(cancel_rollback_request(revision), |path, v| {
                // configd answers "\n\n" when cancelled; "Execute error" when nothing was pending
                // (rollback_cancel.php exits 1); "" only on a configd timeout.
                let ok = |s: &str| !s.is_empty() && !s.to_ascii_lowercase().contains("error");
                outcome::status(path, "cancel rollback", "status", &v, ok).map_err(|e| match e {
                    Error::ActionFailed { path, status, .. }
                        if status.is_empty() || status.contains("Execute error") =>
                    {
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
        self.rollback_action(
            "revert to savepoint",
            revert_request(revision),
            "revert firewall rules",
            outcome::status_is_ok,
        )
        .await
    }
}

/// The alias model and the lookup by name.
impl Grid<'_, Alias> {
    /// `GET firewall/alias/get`: the whole alias model (large; prefer [`Grid::search`]).
    pub async fn model(&self) -> Result<AliasModel> {
        self.client()
            .execute(alias_model_request(), |path, v| match v {
                Value::Object(mut map) if map.get("alias").is_some_and(Value::is_object) => {
                    outcome::decode(path, map.remove("alias").unwrap_or_default())
                }
                other => Err(Error::InvalidResponse {
                    path: path.to_owned(),
                    reason: "expected {\"alias\": {...}}".into(),
                    excerpt: crate::error::excerpt_json(&other),
                }),
            })
            .await
    }

    /// `GET firewall/alias/getAliasUUID/{name}`; `[]` (no exact match) becomes not found.
    pub async fn uuid_of(&self, name: &AliasName) -> Result<Uuid> {
        self.client()
            .execute(alias_uuid_request(name), |path, v| match v.get("uuid") {
                Some(Value::String(u)) if !u.is_empty() => {
                    Uuid::parse(u).map_err(|_| Error::InvalidResponse {
                        path: path.to_owned(),
                        reason: "the uuid OPNsense returned is not a uuid".into(),
                        excerpt: crate::error::excerpt(u),
                    })
                }
                // `[]` (PHP's empty array, also seen as `{}`), or a uuid that is not a string.
                _ if v.as_array().is_some_and(Vec::is_empty)
                    || v.as_object().is_some_and(serde_json::Map::is_empty)
                    || v.get("uuid").is_some() =>
                {
                    Err(Error::NotFound {
                        kind: ALIASES.kind,
                        id: name.to_string(),
                    })
                }
                _ => Err(Error::InvalidResponse {
                    path: path.to_owned(),
                    reason: "expected {\"uuid\": ...} or []".into(),
                    excerpt: crate::error::excerpt_json(&v),
                }),
            })
            .await
    }
}

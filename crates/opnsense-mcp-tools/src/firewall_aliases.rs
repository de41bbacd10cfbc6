//! Firewall aliases: list, uuid lookup, add, update, delete, apply.

use crate::params::Parameters;
use opnsense_api::AliasName;
use opnsense_api::api::firewall::ALIASES;
use opnsense_api::fields::{CsvList, LineList};
use opnsense_api::models::firewall::{Alias, AliasType};
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::OpnsenseTools;
use crate::common::{
    ListParams, Listing, RequiredFields, Rows, Strict, is_false, keys, single_line,
};
use crate::error::ToolError;
use crate::record::{RecordSpec, record_tools};

/// Entries shown per alias in compact rows.
const CONTENT_SHOWN: usize = 20;

/// Address family filter of `geoip` and `asn` aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AliasFamily {
    /// IPv4 networks.
    IPv4,
    /// IPv6 networks.
    IPv6,
}

impl AliasFamily {
    fn wire(self) -> &'static str {
        match self {
            Self::IPv4 => "IPv4",
            Self::IPv6 => "IPv6",
        }
    }
}

/// An alias's fields. On update, only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasSpec {
    /// Unique name, 1 to 31 letters, digits or `_`, starting with a letter (or `_` and a
    /// letter or digit); not a pf keyword or service name (`any`, `http`). A rename updates
    /// its users.
    pub name: Option<String>,
    /// `host` (addresses, ranges `a-b`, FQDNs, aliases), `network` (CIDRs), `port` (ports,
    /// ranges `8000:8100`), `url`/`urltable`/`urljson` (lists from a URL), `geoip` (country
    /// codes), `networkgroup` (network aliases), `authgroup` (OpenVPN groups), `external`
    /// (set by other tools); `internal` is OPNsense's own.
    #[serde(rename = "type")]
    pub alias_type: Option<Strict<AliasType>>,
    /// One value per item, e.g. `["10.0.0.1", "10.0.0.0/24"]`; empty clears the alias. On
    /// update it replaces the old content.
    // Sent to OPNsense newline-separated, so an item must not join several with commas.
    #[serde(default, deserialize_with = "entry_list")]
    #[schemars(with = "Option<Vec<String>>")]
    pub content: Option<Vec<String>>,
    /// Active (default true).
    pub enabled: Option<bool>,
    /// Purpose, one line, at most 255 characters.
    pub description: Option<String>,
    /// `geoip` and `asn` only: address families (default both).
    pub proto: Option<Vec<AliasFamily>>,
    /// `urltable` only: refresh interval in days (`0.5` = 12 hours).
    #[schemars(range(min = 0))]
    pub updatefreq: Option<f64>,
    /// Keep per-entry packet counters (default false).
    pub counters: Option<bool>,
    /// `dynipv6host` only, and required there: the interface key (`wan`) whose IPv6 prefix
    /// the entries complete.
    pub interface: Option<String>,
}

impl RequiredFields for AliasSpec {
    const ARGUMENT: &'static str = "alias";
    const REQUIRED: &'static [&'static str] = &["name", "type"];
}

/// Checks a name against OPNsense's alias name rule (one character less than a path name allows).
fn alias_name(value: Option<String>) -> Result<Option<String>, ToolError> {
    let Some(name) = value else { return Ok(None) };
    let b = name.as_bytes();
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    let ok = match b {
        [c] => c.is_ascii_alphabetic(),
        [first, second, rest @ ..] => {
            rest.len() <= 29
                && rest.iter().all(word)
                && ((first.is_ascii_alphabetic() && word(second))
                    || (*first == b'_' && second.is_ascii_alphanumeric()))
        }
        [] => false,
    };
    if ok {
        Ok(Some(name))
    } else {
        Err(ToolError::invalid(
            "alias.name",
            format!(
                "{name:?} is not an alias name (1 to 31 letters, digits or underscores, starting with a letter or a single underscore)"
            ),
        ))
    }
}

/// Reads `content` as a list of strings, saying so when it is something else (a newline- or
/// comma-joined string is the usual mistake; the refusal names the field: `crate::params`).
fn entry_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let refuse = |what: &str| {
        serde::de::Error::custom(format!(
            "must be a JSON list of strings, one entry per item (e.g. [\"10.0.0.1\", \"10.0.0.0/24\"]), not {what}"
        ))
    };
    match Option::<Value>::deserialize(d)? {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(refuse(&format!("a list holding {other}"))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(Value::String(_)) => Err(refuse("a string")),
        Some(other) => Err(refuse(&other.to_string())),
    }
}

/// Checks the entries: each one non-empty line.
fn content(value: Option<Vec<String>>) -> Result<Option<LineList>, ToolError> {
    let Some(entries) = value else {
        return Ok(None);
    };
    if entries.len() > 10_000 {
        return Err(ToolError::invalid(
            "alias.content",
            "has more than 10000 entries; use a urltable alias for large lists",
        ));
    }
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let field = format!("alias.content[{i}]");
        if entry.contains(['\n', '\r']) {
            return Err(ToolError::invalid(
                field,
                "contains a newline: give each entry as its own list item",
            ));
        }
        let entry = single_line(&field, Some(entry), 1024)?.unwrap_or_default();
        let entry = entry.trim();
        if entry.is_empty() {
            return Err(ToolError::invalid(field, "is empty"));
        }
        out.push(entry.to_owned());
    }
    Ok(Some(LineList(out)))
}

impl RecordSpec for AliasSpec {
    type Model = Alias;
    type Row = Alias;
    const GRID: &'static opnsense_api::GridSpec<Alias> = &ALIASES;
    const APPLY: &'static str = "firewall_alias_apply";
    const LIST: &'static str = "firewall_alias_list";

    fn from_model(a: &Alias) -> Self {
        Self {
            name: a.name.clone(),
            alias_type: a.alias_type.clone().map(Strict),
            content: a.content.as_ref().map(|c| c.0.clone()),
            enabled: a.enabled,
            description: a.description.clone(),
            proto: a.proto.as_ref().map(|p| {
                p.0.iter()
                    .filter_map(|f| match f.as_str() {
                        "IPv4" => Some(AliasFamily::IPv4),
                        "IPv6" => Some(AliasFamily::IPv6),
                        _ => None,
                    })
                    .collect()
            }),
            updatefreq: a.updatefreq.as_deref().and_then(|u| u.trim().parse().ok()),
            counters: a.counters,
            interface: a.interface.clone(),
        }
    }

    /// Checks the fields and builds the SDK model (only the fields given).
    fn into_model(self) -> Result<Alias, ToolError> {
        let updatefreq = match self.updatefreq {
            Some(d) if !d.is_finite() || d < 0.0 => {
                return Err(ToolError::invalid(
                    "alias.updatefreq",
                    "must be a number of days, 0 or more",
                ));
            }
            Some(d) => Some(d.to_string()),
            None => None,
        };
        Ok(Alias {
            enabled: self.enabled,
            name: alias_name(self.name)?,
            alias_type: self.alias_type.map(|t| t.0),
            content: content(self.content)?,
            proto: self
                .proto
                .map(|p| p.into_iter().map(AliasFamily::wire).collect::<CsvList>()),
            updatefreq,
            counters: self.counters,
            interface: keys("alias.interface", self.interface.map(|i| vec![i]))?
                .and_then(|k| k.0.into_iter().next()),
            description: single_line("alias.description", self.description, 255)?,
            ..Alias::default()
        })
    }
}

/// An alias in compact form.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AliasView {
    /// Alias id (for built-in aliases, their name).
    pub uuid: String,
    /// Name used in rules.
    pub name: String,
    /// host / network / port / url / urltable / geoip / ...
    #[serde(rename = "type")]
    pub alias_type: String,
    /// Active.
    pub enabled: bool,
    /// The first entries.
    pub content: Vec<String>,
    /// Entries not shown in `content` (use `raw: true` for all of them).
    #[serde(skip_serializing_if = "is_zero")]
    pub content_more: usize,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A built-in alias (`bogons`, `__lan_network`, ...): usable in rules, not editable.
    #[serde(skip_serializing_if = "is_false")]
    pub builtin: bool,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl From<Alias> for AliasView {
    fn from(a: Alias) -> Self {
        let builtin = a.is_builtin();
        let mut entries = a.content.map(|c| c.0).unwrap_or_default();
        let more = entries.len().saturating_sub(CONTENT_SHOWN);
        entries.truncate(CONTENT_SHOWN);
        Self {
            uuid: a.uuid.unwrap_or_default(),
            name: a.name.unwrap_or_default(),
            alias_type: a.alias_type.map(|t| t.to_string()).unwrap_or_default(),
            enabled: a.enabled.unwrap_or(true),
            content: entries,
            content_more: more,
            description: a.description,
            builtin,
        }
    }
}

/// Arguments of `firewall_alias_get_uuid`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasNameParams {
    /// The alias name (exact, case-sensitive; 1 to 32 letters, digits or underscores).
    pub name: String,
}

/// Answer of `firewall_alias_get_uuid`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AliasUuid {
    /// The alias name asked for.
    pub name: String,
    /// Its uuid.
    pub uuid: String,
}

#[tool_router(router = firewall_aliases_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// List firewall aliases, paged.
    #[tool(annotations(title = "List firewall aliases"))]
    pub(crate) async fn firewall_alias_list(
        &self,
        Parameters(p): Parameters<ListParams>,
    ) -> Result<Json<Listing<AliasView>>, ToolError> {
        self.list_grid(&ALIASES, &p, &Rows::<Alias, _>::all(AliasView::from))
            .await
            .map(Json)
    }

    /// Look up the uuid of a firewall alias by its exact name.
    #[tool(annotations(title = "Find an alias's uuid"))]
    async fn firewall_alias_get_uuid(
        &self,
        Parameters(p): Parameters<AliasNameParams>,
    ) -> Result<Json<AliasUuid>, ToolError> {
        let name = AliasName::parse(&p.name)?;
        let uuid = match self.client().firewall().alias().uuid_of(&name).await {
            Err(opnsense_api::Error::NotFound { .. }) => {
                return Err(ToolError::message(format!(
                    "alias {name} not found: alias names are case-sensitive (firewall_alias_list with search_phrase finds an alias by part of its name, in any case)"
                )));
            }
            other => other?,
        };
        Ok(Json(AliasUuid {
            name: name.to_string(),
            uuid: uuid.to_string(),
        }))
    }
}

record_tools! {
    router = firewall_alias_records_router;

    /// Add a firewall alias (a named list of hosts, networks, ports, ... for use in rules).
    /// Staged: it takes effect after firewall_alias_apply.
    #[title = "Add a firewall alias"]
    fn firewall_alias_add(AliasAddParams {
        /// The new alias.
        alias: NewRecord<AliasSpec>,
    });

    /// Change fields of a firewall alias (only those given; `content` replaces the whole
    /// list). Staged: it takes effect after firewall_alias_apply. An unknown uuid is refused.
    #[title = "Update a firewall alias"]
    fn firewall_alias_update(AliasUpdateParams {
        /// The alias's uuid (from firewall_alias_list or firewall_alias_get_uuid).
        uuid: String,
        /// The fields to change; the others keep their values.
        alias: AliasSpec,
    });

    /// Delete a firewall alias. OPNsense refuses while a rule or another alias uses it.
    /// Staged: it takes effect after firewall_alias_apply.
    #[title = "Delete a firewall alias"]
    fn firewall_alias_delete(AliasDeleteParams {
        /// The alias's uuid (from firewall_alias_list or firewall_alias_get_uuid).
        uuid: String,
    });

    /// Apply all staged alias changes (reloads the aliases into the packet filter).
    #[title = "Apply firewall aliases"]
    fn firewall_alias_apply(&ALIASES, "firewall aliases applied");
}

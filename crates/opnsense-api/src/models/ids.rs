//! IDS/IPS rulesets (`ids/settings/listRulesets`).

use serde::{Deserialize, Serialize};

use crate::fields::{Extra, opt, opt_bool};

/// One installable Suricata ruleset (a row of `ids/settings/listRulesets`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ruleset {
    /// File name, which is the ruleset id (`emerging-scan.rules`).
    #[serde(deserialize_with = "opt")]
    pub filename: Option<String>,
    /// `<source>/<name>`, e.g. `ET open/emerging-scan`.
    #[serde(deserialize_with = "opt")]
    pub description: Option<String>,
    /// Whether the ruleset is enabled (default off).
    #[serde(with = "opt_bool")]
    pub enabled: Option<bool>,
    /// Date of the downloaded file (`YYYY/MM/DD H:MM`), absent when never downloaded.
    #[serde(deserialize_with = "opt")]
    pub modified_local: Option<String>,
    /// Documentation URL.
    #[serde(deserialize_with = "opt")]
    pub documentation_url: Option<String>,
    /// Documentation link as an HTML `<a>` snippet, if any.
    #[serde(deserialize_with = "opt")]
    pub documentation: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

//! IDS/IPS rulesets (`ids/settings/listRulesets`).

use serde::{Deserialize, Serialize};

use crate::fields::{Extra, opt, opt_bool};

/// One installable Suricata ruleset (a row of `ids/settings/listRulesets`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ruleset {
    /// File name, which is the ruleset id (`emerging-scan.rules`).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub filename: Option<String>,
    /// `<source>/<name>`, e.g. `ET open/emerging-scan`.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    /// Whether the ruleset is enabled (default off).
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Date of the downloaded file (`YYYY/MM/DD H:MM`), absent when never downloaded.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub modified_local: Option<String>,
    /// Documentation URL.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub documentation_url: Option<String>,
    /// Documentation link as an HTML `<a>` snippet, if any.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub documentation: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

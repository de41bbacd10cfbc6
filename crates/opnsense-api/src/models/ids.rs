//! IDS/IPS rulesets (`ids/settings/listRulesets`).

use crate::fields::Extra;

wire_model! {
    /// One installable Suricata ruleset (a row of `ids/settings/listRulesets`).
    pub struct Ruleset {
        /// File name, which is the ruleset id (`emerging-scan.rules`).
        pub filename: Option<String>,
        /// `<source>/<name>`, e.g. `ET open/emerging-scan`.
        pub description: Option<String>,
        /// Whether the ruleset is enabled (default off).
        pub enabled: Option<bool>,
        /// Date of the downloaded file (`YYYY/MM/DD H:MM`), absent when never downloaded.
        pub modified_local: Option<String>,
        /// Documentation URL.
        pub documentation_url: Option<String>,
        /// Documentation link as an HTML `<a>` snippet, if any.
        pub documentation: Option<String>,
        /// Everything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

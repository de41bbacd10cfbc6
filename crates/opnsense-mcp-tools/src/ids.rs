//! Suricata IDS/IPS: rulesets. Read-only.

use crate::params::Parameters;
use opnsense_api::SearchPage;
use opnsense_api::api::ids::rulesets_request;
use opnsense_api::models::ids::Ruleset;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::OpnsenseTools;
use crate::common::{ListParams, Listing, Rows};
use crate::error::ToolError;

/// A ruleset in compact form.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RulesetView {
    /// File name, which identifies the ruleset (`emerging-scan.rules`).
    pub filename: Option<String>,
    /// `<source>/<name>` (`ET open/emerging-scan`).
    pub description: Option<String>,
    /// Enabled for Suricata.
    pub enabled: bool,
    /// Date of the downloaded copy (`YYYY/MM/DD H:MM`); absent when never downloaded.
    pub modified: Option<String>,
}

impl From<Ruleset> for RulesetView {
    fn from(r: Ruleset) -> Self {
        Self {
            filename: r.filename,
            description: r.description,
            enabled: r.enabled.unwrap_or(false),
            modified: r.modified_local,
        }
    }
}

#[tool_router(router = ids_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// List the IDS/IPS (Suricata) rulesets that can be installed, and whether each is enabled
    /// and downloaded, paged.
    #[tool(annotations(title = "List IDS rulesets"))]
    async fn ids_ruleset_list(
        &self,
        Parameters(p): Parameters<ListParams>,
    ) -> Result<Json<Listing<RulesetView>>, ToolError> {
        let q = p.query()?;
        let page: SearchPage<Value> = self.client().send_json(rulesets_request(&q)).await?;
        Ok(Json(Listing::from_page(
            &q,
            p.raw,
            page,
            &Rows::<Ruleset, _>::all(RulesetView::from),
        )))
    }
}

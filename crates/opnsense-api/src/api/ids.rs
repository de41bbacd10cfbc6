//! `ids/settings`: Suricata rulesets.

use crate::client::Client;
use crate::error::Result;
use crate::models::ids::Ruleset;
use crate::request::{Request, SearchPage, SearchQuery};

/// Handler for IDS/IPS endpoints.
#[derive(Debug, Clone, Copy)]
pub struct IdsHandler<'c> {
    client: &'c Client,
}

/// `POST ids/settings/listRulesets` with the paging body (`rowCount` -1 = all).
pub fn rulesets_request(q: &SearchQuery) -> Request {
    Request::post("ids/settings/listRulesets").json(q.to_body().into())
}

impl<'c> IdsHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `POST ids/settings/listRulesets`: installable rulesets and whether each is enabled.
    pub async fn rulesets(&self, q: &SearchQuery) -> Result<SearchPage<Ruleset>> {
        self.client.send_json(rulesets_request(q)).await
    }
}

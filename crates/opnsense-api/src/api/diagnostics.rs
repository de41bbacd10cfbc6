//! Troubleshooting reads: the filter log, the pf state table, gateway status and the kernel
//! routing table. All read-only.
//!
//! Where each endpoint comes from (opnsense/core; the controllers, configd actions and scripts
//! named here are the same at 26.1.11 and 26.7.2 unless said otherwise):
//!
//! - `GET diagnostics/firewall/log?limit=N`: `Diagnostics/Api/FirewallController.php:47-59`
//!   (`logAction`: GET only, else `null`; `limit` defaults to 1000, `digest` reads up to a line)
//!   -> configd `filter read log` (`service/conf/actions.d/actions_filter.conf:75-79`) ->
//!   `scripts/filter/read_log.py`, newest line first (`:220-244`). Each entry names its rule
//!   with `rid` (the pf label: a filter rule's uuid, `FilterRuleField.php:55`; or the hash
//!   `Util::calcRuleHash` gives rules OPNsense generates, `Firewall/Plugin.php:268-271`) and
//!   `label` (that rule's description, read from `/tmp/rules.debug`, `read_log.py:75-92,142-157`).
//!   The GUI links `rid` to `/firewall_rule_lookup.php?rid=` (`views/OPNsense/Diagnostics/
//!   fw_log.volt:762-772` at 26.1.11, `:758-768` at 26.7.2), a page (not an API:
//!   `src/www/firewall_rule_lookup.php:38-61`) that redirects to the rule whose label is `rid`;
//!   the API has no lookup of its own beyond `diagnostics/firewall/list_rule_ids`
//!   (`FirewallController.php:326-335`: ids and descriptions of the loaded rules). The log
//!   endpoint has no filters: the GUI filters in the browser (`fw_log.volt:894-916` at 26.1.11,
//!   `:890-912` at 26.7.2).
//! - `POST diagnostics/firewall/query_states`: `FirewallController.php:162-218` (POST only; body
//!   `current`, `rowCount`, `searchPhrase`, `ruleid`, `sort`) -> configd `filter list states`
//!   (`actions_filter.conf:45-49`) -> `scripts/filter/list_states.py` and `lib/states.py:115-248`:
//!   each word of `searchPhrase` that parses as an address or network (optionally `:port`, or
//!   `[v6]:port`) must match one end of the state (source, destination, NAT address) on that
//!   port; other words must appear in the state's text; `ruleid` matches the rule label.
//! - `GET routes/gateway/status`: `Routes/Api/GatewayController.php:40-52` -> configd
//!   `interface gateways status` -> `scripts/routes/gateway_status.php:38-79`. 26.7.2 keys the
//!   script's list by gateway name and the controller adds `array_values()`
//!   (`GatewayController.php:47`), so the API answer is a list at both tags.
//! - `GET diagnostics/interface/get_routes`: `Diagnostics/Api/InterfaceController.php:160-180`
//!   (`resolve` unset: numeric) -> configd `interface routes list -n json`
//!   (`actions_interface.conf:125-129` at 26.1.11, `:140-144` at 26.7.2) ->
//!   `scripts/routes/show_routes.py` (both families).
//!
//! None of these differs between the two tags in a way a caller sees, so no [`crate::Quirk`]
//! is involved.

use serde_json::Value;

use crate::client::Client;
use crate::error::Result;
use crate::fields::list_or_empty;
use crate::models::diagnostics::{FilterLogEntry, GatewayStatusList, KernelRoute, PfState};
use crate::request::{Request, SearchPage, SearchQuery};

/// Most log lines one request asks for. OPNsense reads 1000 when `limit` is not sent and takes
/// any number (`read_log.py` parses the files newest first until it has that many); the cap
/// keeps an answer around 10 MB.
pub const LOG_REQUEST_MAX: u32 = 10_000;

/// `GET diagnostics/firewall/log?limit=N`: the newest `limit` filter-log entries, newest first
/// (`limit` is clamped to 1 ..= [`LOG_REQUEST_MAX`]; `0` would mean "no limit" to OPNsense).
pub fn firewall_log_request(limit: u32) -> Request {
    Request::get("diagnostics/firewall/log")
        .query("limit", &limit.clamp(1, LOG_REQUEST_MAX).to_string())
}

/// `POST diagnostics/firewall/query_states`: one page of the pf state table. `q.search_phrase`
/// is OPNsense's filter (see the module docs); `q.filters` may carry `ruleid`.
pub fn states_request(q: &SearchQuery) -> Request {
    Request::post("diagnostics/firewall/query_states").json(Value::Object(q.to_body()))
}

/// `GET routes/gateway/status`: every gateway with its dpinger measurements.
pub fn gateway_status_request() -> Request {
    Request::get("routes/gateway/status")
}

/// `GET diagnostics/interface/get_routes`: the kernel routing table, numeric, both families.
pub fn routes_request() -> Request {
    Request::get("diagnostics/interface/get_routes")
}

/// A list answer (PHP may send `{}` or nothing usable when configd fails).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(transparent)]
pub struct Rows<T: serde::de::DeserializeOwned>(
    #[serde(deserialize_with = "list_or_empty")] pub Vec<T>,
);

/// Handler for the troubleshooting reads.
#[derive(Debug, Clone, Copy)]
pub struct DiagnosticsHandler<'c> {
    client: &'c Client,
}

impl<'c> DiagnosticsHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// The newest `limit` filter-log entries, newest first.
    pub async fn firewall_log(&self, limit: u32) -> Result<Vec<FilterLogEntry>> {
        let rows: Rows<FilterLogEntry> = self.client.send_json(firewall_log_request(limit)).await?;
        Ok(rows.0)
    }

    /// One page of the pf state table.
    pub async fn states(&self, q: &SearchQuery) -> Result<SearchPage<PfState>> {
        self.client.send_json(states_request(q)).await
    }

    /// Every gateway's status (`status` is `failed` with no items when there is none).
    pub async fn gateways(&self) -> Result<GatewayStatusList> {
        self.client.send_json(gateway_status_request()).await
    }

    /// The kernel routing table.
    pub async fn routes(&self) -> Result<Vec<KernelRoute>> {
        let rows: Rows<KernelRoute> = self.client.send_json(routes_request()).await?;
        Ok(rows.0)
    }
}

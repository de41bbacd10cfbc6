//! `firewall/source_nat`: outbound (source) NAT rules, the [`SNAT_RULES`] grid, and the outbound
//! NAT mode that decides whether those rules are loaded at all.
//!
//! Sources (opnsense/core `src/opnsense/mvc/app/controllers/OPNsense/Firewall/Api/`):
//! - `SourceNatController.php`: `searchRule` (26.1.11 line 179, 26.7.2 line 191), `getRule`
//!   (232 / 244), `addRule` (227 / 239), `setRule` (222 / 234), `delRule` (237 / 252),
//!   `toggleRule` (242 / 257); the mode: 26.1.11 writes it with `setGeneral` (37) and reads it
//!   only through the base `get` (`ApiMutableModelControllerBase.php:203`, the whole `Filter`
//!   model), 26.7.2 has its own `get`/`set` for `general` (40, 55).
//! - `FilterBaseController.php`: `apply` (26.1.11 line 303, 26.7.2 line 302): configd
//!   `filter reload skip_alias`, answering `{"status": "OK\n\n"}` (it reloads the whole pf
//!   ruleset: filter rules, port forwards and outbound NAT alike).
//!
//! What the mode does (`src/etc/inc/plugins.inc.d/pf.inc` and `filter.inc`, 26.1.11 and 26.7.2):
//! these rules are loaded only in `hybrid` and `advanced` (manual) mode; `automatic` and
//! `hybrid` add OPNsense's own rules; `disabled` has no outbound NAT. From 26.1.11 the search
//! follows the mode too: it lists the records only in hybrid and advanced mode, and OPNsense's
//! automatic rules (not records) in automatic and hybrid mode. Before 26.1.11 (26.1.0 to
//! 26.1.10) the mode is not in the API ([`Quirk::SourceNatMode`]), the search lists every record,
//! and pf loads every enabled record whatever the mode (`pf.inc` 26.1.10 line 176).

use crate::client::Client;
use crate::error::{Error, Result};
use crate::grid::{Apply, Grid, GridDesc, GridSpec, Lookup, OnOff};
use crate::models::source_nat::{SNatMode, SNatRule, SNatSettings};
use crate::request::Request;
use crate::version::{self, Quirk};

/// The outbound NAT rule grid (wrapper `rule`). Unknown uuid: `[]` (`getBase`).
pub static SNAT_RULES: GridSpec<SNatRule> = GridSpec::new(GridDesc {
    id: "firewall.source_nat",
    kind: "outbound NAT rule",
    wrapper: "rule",
    search: "firewall/source_nat/search_rule",
    get: "firewall/source_nat/get_rule",
    add: "firewall/source_nat/add_rule",
    set: "firewall/source_nat/set_rule",
    del: "firewall/source_nat/del_rule",
    toggle: Some("firewall/source_nat/toggle_rule"),
    on_off: OnOff::Enabled,
    // configd's `filter reload` output: "OK\n\n", or "Error (N)".
    apply: Apply::firewall("firewall/source_nat/apply", "apply outbound NAT rules"),
    lookup: Lookup::Get,
    set_keeps: &[],
    secret_fields: &[],
});

/// `GET firewall/source_nat/get`: the model's general settings (26.7) or the whole `Filter`
/// model (26.1.11), with `filter.general.snat_mode`.
pub fn settings_request() -> Request {
    Request::get("firewall/source_nat/get")
}

/// Handler for outbound NAT.
#[derive(Debug, Clone, Copy)]
pub struct SourceNatHandler<'c> {
    client: &'c Client,
}

impl<'c> SourceNatHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// The rules.
    pub fn rules(&self) -> Grid<'c, SNatRule> {
        self.client.grid(&SNAT_RULES)
    }

    /// The outbound NAT mode (`filter.general.snat_mode`). Before 26.1.11 the API has no mode:
    /// [`Error::Unsupported`] without a request (an unknown firmware is asked anyway). An answer
    /// without a mode is [`Error::InvalidResponse`].
    pub async fn mode(&self) -> Result<SNatMode> {
        let v = self.client.firmware_version().await;
        if !version::has(v, Quirk::SourceNatMode) {
            return Err(Error::Unsupported {
                feature: "reading the outbound NAT mode through the API",
                version: v.map(|v| v.to_string()).unwrap_or_default(),
                hint: "it arrived with 26.1.11; on older releases every enabled rule of Firewall > Automation > Source NAT is loaded whatever the mode (Firewall > NAT > Outbound shows the mode)",
            });
        }
        let req = settings_request();
        let path = req.path.clone();
        let settings: SNatSettings = self.client.send_json(req).await?;
        settings.mode().ok_or_else(|| Error::InvalidResponse {
            path,
            reason: "the answer names no outbound NAT mode (filter.general.snat_mode)".into(),
            excerpt: String::new(),
        })
    }
}

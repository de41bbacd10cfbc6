//! Outbound (source) NAT (`firewall/source_nat`, the `snatrules.rule` items of the MVC
//! `Filter` model) and the outbound NAT mode.
//!
//! Sources (opnsense/core): `src/opnsense/mvc/app/models/OPNsense/Firewall/Filter.xml`
//! (`<snatrules>`: 26.1.11 lines 415-518, 26.7.2 the same plus `endpoint-independent`),
//! `Filter.php` (`performValidation`, 26.7.2 lines 42-177), `FieldTypes/SNatModeField.php`
//! (26.1.11 and 26.7.2) and `controllers/OPNsense/Firewall/Api/SourceNatController.php`.
//!
//! Version differences of the record:
//! - 26.1.11 added `nosync`, `tag`, the volatile `sort_order`/`prio_group`, made `target`
//!   optional (before: required, default `wanip`; empty now means "the interface address") and
//!   refuses `target` = `any`.
//! - 26.7 added `endpoint-independent` ("full cone" NAT, UDP only).
//!
//! One search row type serves both kinds of rows the search returns from 26.1.11 on: the
//! records, and the automatic rules OPNsense shows in automatic and hybrid mode
//! (`uuid` `automatic_<if>` / `automatic_isakmp_<if>`, `is_automatic: true`), see
//! [`SNatRule::is_automatic_row`].

use serde::Deserialize;
use serde_json::Value;

use crate::fields::{CsvList, Extra, num_string, opt, selected_string};
use crate::models::firewall::{IpProtocol, Protocol};

wire_model! {
    /// An outbound NAT rule (`snatrules.rule`, wrapper `rule`). Only the fields a caller sets are
    /// sent.
    pub struct SNatRule {
        /// Record id (search rows only; automatic rows carry a label such as `automatic_wan`).
        pub uuid: Option<String>,
        /// Rule active (default on).
        pub enabled: Option<bool>,
        /// "Do not NAT": matching traffic is excluded from translation (`no nat`).
        pub nonat: Option<bool>,
        /// Exclude the rule from HA synchronisation (26.1.11+).
        pub nosync: Option<bool>,
        /// Evaluation order (1 to 999999; default: after the last rule).
        #[serde(serialize_with = "num_string")]
        pub sequence: Option<u64>,
        /// Interface the translation applies on (one key, usually `wan`; default `lan`).
        pub interface: Option<String>,
        /// Address family: `inet` or `inet6` (default inet).
        #[serde(deserialize_with = "opt")]
        pub ipprotocol: Option<IpProtocol>,
        /// Protocol (default any; upper-case names, `TCP/UDP`).
        #[serde(deserialize_with = "opt")]
        pub protocol: Option<Protocol>,
        /// Source network: `any`, an alias, an interface network (`lan`), an address or CIDR.
        pub source_net: Option<String>,
        /// Invert the source match.
        pub source_not: Option<bool>,
        /// Source port (TCP/UDP only).
        pub source_port: Option<String>,
        /// Destination network, same forms as the source.
        pub destination_net: Option<String>,
        /// Invert the destination match.
        pub destination_not: Option<bool>,
        /// Destination port (TCP/UDP only).
        pub destination_port: Option<String>,
        /// The address the source is translated to (`wanip`, an address, a network or an alias);
        /// empty from 26.1.11 on = the interface's address.
        pub target: Option<String>,
        /// The port the source port is translated to (TCP/UDP only).
        pub target_port: Option<String>,
        /// Keep the source port (`static-port`).
        pub staticnatport: Option<bool>,
        /// Endpoint-independent ("full cone") mapping, UDP only (26.7+).
        #[serde(rename = "endpoint-independent")]
        pub endpoint_independent: Option<bool>,
        /// Log matching packets.
        pub log: Option<bool>,
        /// Category uuids.
        pub categories: Option<CsvList>,
        /// Tag matching packets (26.1.11+; letters, digits and `.,_-`).
        pub tag: Option<String>,
        /// Match packets tagged by another rule.
        pub tagged: Option<String>,
        /// Description (1 to 255 characters, no newlines).
        pub description: Option<String>,
        /// Computed display order (26.1.11+, volatile): read, never sent.
        #[serde(skip_serializing)]
        pub sort_order: Option<String>,
        /// Computed priority group (26.1.11+, volatile): read, never sent.
        #[serde(skip_serializing)]
        pub prio_group: Option<String>,
        /// Search rows only: a rule OPNsense generates itself in automatic and hybrid mode (26.1.11+).
        /// Read-only, never sent.
        #[serde(skip_serializing)]
        pub is_automatic: Option<bool>,
    }
    /// Everything else (`%interface` display texts, `alias_meta_*`, `category_colors`, ...).
    extra, searched as SNatRuleRow
}

impl SNatRule {
    /// Whether this search row is one of the rules OPNsense generates itself (automatic and
    /// hybrid mode, 26.1.11+): flagged `is_automatic`, or named `automatic_*` rather than by a
    /// uuid (`SourceNatController::getAutomaticOutboundNatRules`).
    pub fn is_automatic_row(&self) -> bool {
        self.is_automatic == Some(true)
            || self.uuid.as_deref().is_some_and(|u| {
                u.starts_with("automatic_") && crate::path::Uuid::parse(u).is_err()
            })
    }
}

crate::wire_enum! {
    /// How OPNsense generates outbound NAT (`nat/outbound/mode` in config.xml; read through
    /// `filter.general.snat_mode` from 26.1.11 on).
    pub enum SNatMode {
        /// OPNsense generates the rules (interface networks to each WAN); manual rules are not
        /// loaded. The default.
        Automatic = "automatic",
        /// The automatic rules plus the manual ones (manual first).
        Hybrid = "hybrid",
        /// Only the manual rules ("Manual" in the GUI).
        Advanced = "advanced",
        /// No outbound NAT at all.
        Disabled = "disabled",
    }
}

impl SNatMode {
    /// Whether the manual rules (this grid's records) are loaded into pf in this mode
    /// (`src/etc/inc/plugins.inc.d/pf.inc`, 26.1.11 and 26.7.2: `advanced` or `hybrid` only).
    pub fn loads_manual_rules(&self) -> bool {
        matches!(self, Self::Hybrid | Self::Advanced)
    }

    /// Whether OPNsense adds its automatic rules in this mode (`filter.inc`:
    /// `automatic` or `hybrid`).
    pub fn adds_automatic_rules(&self) -> bool {
        matches!(self, Self::Automatic | Self::Hybrid)
    }
}

/// `GET firewall/source_nat/get`: `{"filter": {"general": {"snat_mode": {...}}, ...}}` (26.7
/// answers only `general`; 26.1.11 the whole `Filter` model).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SNatSettings {
    /// The model.
    pub filter: SNatSettingsModel,
}

/// The `filter` object of [`SNatSettings`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SNatSettingsModel {
    /// The general settings.
    pub general: SNatGeneral,
    /// Everything else (26.1.11: the rules of every kind).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `filter.general`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SNatGeneral {
    /// The mode, as OPNsense renders it (an option map).
    pub snat_mode: Value,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SNatSettings {
    /// The selected mode (`None` when the answer names none).
    pub fn mode(&self) -> Option<SNatMode> {
        let s = selected_string(&self.filter.general.snat_mode);
        (!s.is_empty()).then(|| SNatMode::from_wire_str(s))
    }
}

//! Outbound (source) NAT: list, add, update, delete, apply (`firewall/source_nat`, every 26.x
//! release). Fields OPNsense added later (`no_sync` and `tag` in 26.1.11, `endpoint_independent`
//! in 26.7.2) are refused on older firmware before anything is sent (OPNsense would silently
//! drop them), through [`Quirk`]. From 26.1.11 the list also says the outbound NAT mode, which
//! decides whether these rules are loaded at all.

use crate::params::Parameters;
use opnsense_api::api::source_nat::SNAT_RULES;
use opnsense_api::models::firewall::{IpProtocol, Protocol};
use opnsense_api::models::source_nat::{SNatMode, SNatRule};
use opnsense_api::version::{self, Quirk};
use opnsense_api::{Error as ApiError, FirmwareVersion};
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::OpnsenseTools;
use crate::common::{
    ListParams, Listing, ProtocolArg, RequiredFields, RowKind, Rows, excerpt, is_false, is_key,
    negated, non_empty_line, rule_sequence, single_line,
};
use crate::error::ToolError;
use crate::record::{RecordSpec, record_tools};

/// How outbound NAT search rows are listed: OPNsense's automatic rules are marked.
const SNAT_ROWS: Rows<SNatRule, SNatView> = Rows {
    kind: |r| {
        if r.is_automatic_row() {
            RowKind::Automatic
        } else {
            RowKind::Record
        }
    },
    view: SNatView::from,
    note: "Rows with `origin: automatic` are the rules OPNsense generates itself in automatic and hybrid mode (`automatic_<interface>`, `automatic_isakmp_<interface>`); they are in force but cannot be edited here.",
};

/// The address family of an outbound NAT rule (OPNsense offers only these two here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SNatFamily {
    /// IPv4.
    Inet,
    /// IPv6.
    Inet6,
}

impl SNatFamily {
    fn wire(self) -> IpProtocol {
        match self {
            Self::Inet => IpProtocol::Inet,
            Self::Inet6 => IpProtocol::Inet6,
        }
    }
}

/// An outbound NAT rule's fields. On update, only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SNatSpec {
    /// Active (default true).
    pub enabled: Option<bool>,
    /// Do not translate matching traffic (e.g. to a VPN); `target` is then ignored.
    pub no_nat: Option<bool>,
    /// Interface key the translation happens on, usually `wan`.
    pub interface: Option<String>,
    /// `inet` (IPv4, default) or `inet6`.
    pub ipprotocol: Option<SNatFamily>,
    /// `any` (default), `TCP`, `UDP`, `TCP/UDP` or another IANA name; any case. Ports need
    /// TCP or UDP.
    pub protocol: Option<ProtocolArg<true>>,
    /// `any` (default), an alias, an interface network (`lan`), an address or a CIDR.
    pub source_net: Option<String>,
    /// Match all but the source.
    pub source_not: Option<bool>,
    /// A port, range `1000-2000`, service name or port alias.
    pub source_port: Option<String>,
    /// As `source_net` (default `any`).
    pub destination_net: Option<String>,
    /// Match all but the destination.
    pub destination_not: Option<bool>,
    /// As `source_port`.
    pub destination_port: Option<String>,
    /// Translate the source to: `wanip` (the usual), another interface address (`opt1ip`),
    /// an address, a network or an alias; empty: the interface address (26.1.11+).
    // Before 26.1.11, OPNsense fills in `wanip` for an empty target.
    pub target: Option<String>,
    /// Port the source port becomes (TCP/UDP only).
    pub target_port: Option<String>,
    /// Keep the source port (`static-port`).
    pub static_port: Option<bool>,
    /// Endpoint-independent ("full cone") mapping, UDP only; 26.7.2+.
    pub endpoint_independent: Option<bool>,
    /// Leave out of HA (CARP) sync; 26.1.11+.
    pub no_sync: Option<bool>,
    /// Tag matches (letters, digits, `.,_-`); 26.1.11+.
    pub tag: Option<String>,
    /// Match only packets tagged this (letters, digits, `.,_-`).
    pub tagged: Option<String>,
    /// Log matches.
    pub log: Option<bool>,
    /// Order, 1 to 999999 (default: after the existing rules).
    #[schemars(range(min = 1, max = 999_999))]
    pub sequence: Option<u32>,
    /// Purpose, one line, 1 to 255 characters.
    pub description: Option<String>,
}

impl RequiredFields for SNatSpec {
    const ARGUMENT: &'static str = "rule";
    const REQUIRED: &'static [&'static str] = &["interface", "description"];
}

/// `tag`/`tagged`: OPNsense's mask `/^([0-9a-zA-Z.,_\-]){0,512}$/u` (Filter.xml).
fn check_tag(field: &str, value: Option<String>) -> Result<Option<String>, ToolError> {
    if let Some(t) = &value
        && !(t.len() <= 512
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".,_-".contains(&b)))
    {
        return Err(ToolError::invalid(
            field,
            format!(
                "{:?} is not a tag (letters, digits and . , _ - only, at most 512)",
                excerpt(t)
            ),
        ));
    }
    Ok(value)
}

impl SNatSpec {
    /// The fields given that `version` does not have, with the quirk that brought them.
    fn newer_fields(&self) -> Vec<(&'static str, Quirk)> {
        let mut out = Vec::new();
        if self.no_sync.is_some() {
            out.push(("rule.no_sync", Quirk::SourceNatMode));
        }
        if self.tag.is_some() {
            out.push(("rule.tag", Quirk::SourceNatMode));
        }
        if self.endpoint_independent.is_some() {
            out.push((
                "rule.endpoint_independent",
                Quirk::SourceNatEndpointIndependent,
            ));
        }
        out
    }
}

/// Refuses a field the firmware does not have (OPNsense would drop it without a word).
fn check_version(spec: &SNatSpec, v: Option<FirmwareVersion>) -> Result<(), ToolError> {
    for (field, quirk) in spec.newer_fields() {
        if !version::has(v, quirk) {
            let since = quirk.since();
            let running = v.map(|v| v.to_string()).unwrap_or_default();
            return Err(ToolError::invalid(
                field,
                format!(
                    "is not on this version: OPNsense {running} has no such field (it arrived with {since}; OPNsense would ignore it)"
                ),
            ));
        }
    }
    Ok(())
}

impl RecordSpec for SNatSpec {
    type Model = SNatRule;
    type Row = SNatRule;
    const GRID: &'static opnsense_api::GridSpec<SNatRule> = &SNAT_RULES;
    const APPLY: &'static str = "firewall_snat_apply";
    const LIST: &'static str = "firewall_snat_list";

    fn from_model(r: &SNatRule) -> Self {
        Self {
            enabled: r.enabled,
            no_nat: r.nonat,
            interface: r.interface.clone(),
            ipprotocol: match &r.ipprotocol {
                Some(IpProtocol::Inet6) => Some(SNatFamily::Inet6),
                Some(_) => Some(SNatFamily::Inet),
                None => None,
            },
            protocol: r.protocol.as_ref().map(|p| ProtocolArg(p.to_string())),
            source_net: r.source_net.clone(),
            source_not: r.source_not,
            source_port: r.source_port.clone(),
            destination_net: r.destination_net.clone(),
            destination_not: r.destination_not,
            destination_port: r.destination_port.clone(),
            target: r.target.clone(),
            target_port: r.target_port.clone(),
            static_port: r.staticnatport,
            endpoint_independent: r.endpoint_independent,
            no_sync: r.nosync,
            tag: r.tag.clone(),
            tagged: r.tagged.clone(),
            log: r.log,
            sequence: r.sequence.and_then(|s| u32::try_from(s).ok()),
            description: r.description.clone(),
        }
    }

    /// Checks the fields and builds the SDK model (only the fields given).
    fn into_model(self) -> Result<SNatRule, ToolError> {
        let sequence = rule_sequence("rule.sequence", self.sequence)?;
        if let Some(i) = &self.interface
            && !is_key(i)
        {
            return Err(ToolError::invalid(
                "rule.interface",
                format!(
                    "{:?} is not an OPNsense interface key (letters, digits, _ - . ; e.g. wan, opt1)",
                    excerpt(i)
                ),
            ));
        }
        let description = non_empty_line("rule.description", self.description, 255)?;
        Ok(SNatRule {
            enabled: self.enabled,
            nonat: self.no_nat,
            nosync: self.no_sync,
            sequence,
            interface: self.interface,
            ipprotocol: self.ipprotocol.map(SNatFamily::wire),
            protocol: self.protocol.map(|p| Protocol::from_wire_str(p.0)),
            source_net: single_line("rule.source_net", self.source_net, 255)?,
            source_not: self.source_not,
            source_port: single_line("rule.source_port", self.source_port, 64)?,
            destination_net: single_line("rule.destination_net", self.destination_net, 255)?,
            destination_not: self.destination_not,
            destination_port: single_line("rule.destination_port", self.destination_port, 64)?,
            target: single_line("rule.target", self.target, 255)?,
            target_port: single_line("rule.target_port", self.target_port, 64)?,
            staticnatport: self.static_port,
            endpoint_independent: self.endpoint_independent,
            log: self.log,
            tag: check_tag("rule.tag", self.tag)?,
            tagged: check_tag("rule.tagged", self.tagged)?,
            description,
            ..SNatRule::default()
        })
    }
}

/// An outbound NAT rule in compact form.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SNatView {
    /// Rule id (automatic rules: OPNsense's label, e.g. `automatic_wan`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Active.
    pub enabled: bool,
    /// Do not NAT (matching traffic is left untranslated).
    #[serde(skip_serializing_if = "is_false")]
    pub no_nat: bool,
    /// Order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// Interface key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// inet / inet6.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipprotocol: Option<String>,
    /// Protocol.
    pub protocol: String,
    /// Source (`!` = inverted).
    pub source: String,
    /// Source port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_port: Option<String>,
    /// Destination (`!` = inverted).
    pub destination: String,
    /// Destination port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_port: Option<String>,
    /// Translation target (absent: the interface address).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Translated port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_port: Option<String>,
    /// Keeps the source port.
    #[serde(skip_serializing_if = "is_false")]
    pub static_port: bool,
    /// Logs matches.
    #[serde(skip_serializing_if = "is_false")]
    pub log: bool,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl From<SNatRule> for SNatView {
    fn from(r: SNatRule) -> Self {
        let some = |o: Option<String>| o.filter(|s| !s.is_empty());
        let any = |o: Option<String>| some(o).unwrap_or_else(|| "any".into());
        Self {
            enabled: r.enabled != Some(false),
            no_nat: r.nonat == Some(true),
            sequence: r.sequence,
            interface: some(r.interface),
            ipprotocol: r.ipprotocol.map(|p| p.to_string()),
            protocol: r.protocol.map_or_else(|| "any".into(), |p| p.to_string()),
            source: any(negated(r.source_net, r.source_not)),
            source_port: some(r.source_port),
            destination: any(negated(r.destination_net, r.destination_not)),
            destination_port: some(r.destination_port),
            target: some(r.target),
            target_port: some(r.target_port),
            static_port: r.staticnatport == Some(true),
            log: r.log == Some(true),
            description: some(r.description),
            uuid: r.uuid,
        }
    }
}

/// The outbound NAT mode, as the list reports it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SNatModeView {
    /// `automatic`, `hybrid`, `advanced` (manual) or `disabled`; absent before 26.1.11, whose
    /// API has no mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Whether the rules listed as records are loaded into pf.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules_loaded: Option<bool>,
    /// What the mode means for these rules.
    pub note: String,
}

/// The answer of `firewall_snat_list`: the rows and the mode.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SNatListing {
    /// The page of rules.
    #[serde(flatten)]
    pub listing: Listing<SNatView>,
    /// The outbound NAT mode.
    pub mode: SNatModeView,
}

impl OpnsenseTools {
    /// Refuses fields the firewall's release does not have.
    async fn snat_fields_exist(&self, spec: &SNatSpec) -> Result<(), ToolError> {
        if spec.newer_fields().is_empty() {
            return Ok(());
        }
        check_version(spec, self.client().firmware_version().await)
    }

    /// The mode and what it means (26.1.11+ asks OPNsense; older releases have none).
    async fn snat_mode(&self) -> Result<SNatModeView, ToolError> {
        match self.client().source_nat().mode().await {
            Ok(mode) => {
                let loaded = mode.loads_manual_rules();
                let note = match mode {
                    SNatMode::Hybrid => {
                        "hybrid: these rules are loaded, before OPNsense's automatic ones"
                    }
                    SNatMode::Advanced => "manual (advanced): only these rules are loaded",
                    SNatMode::Automatic => {
                        "automatic: OPNsense generates the outbound NAT rules and does NOT load these rules (and does not list them); switch to hybrid or manual in Firewall > NAT > Outbound for them to take effect"
                    }
                    SNatMode::Disabled => {
                        "disabled: there is no outbound NAT at all; these rules are not loaded (nor listed)"
                    }
                    SNatMode::Other(_) => "an outbound NAT mode this server does not know",
                };
                Ok(SNatModeView {
                    mode: Some(mode.to_string()),
                    rules_loaded: Some(loaded),
                    note: note.to_owned(),
                })
            }
            Err(ApiError::Unsupported { version, .. }) => Ok(SNatModeView {
                mode: None,
                rules_loaded: None,
                note: format!(
                    "OPNsense {version} has no outbound NAT mode in its API (it arrived with 26.1.11): every enabled rule listed here is loaded whatever the mode of Firewall > NAT > Outbound"
                ),
            }),
            Err(e) => Err(e.into()),
        }
    }
}

#[tool_router(router = firewall_snat_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// List outbound (source) NAT rules, paged, with the outbound NAT mode, which
    /// decides whether they are loaded (26.1.11+). OPNsense's automatic rules are listed with
    /// `origin: automatic`.
    #[tool(annotations(title = "List outbound NAT rules"))]
    async fn firewall_snat_list(
        &self,
        Parameters(p): Parameters<ListParams>,
    ) -> Result<Json<SNatListing>, ToolError> {
        let listing = self.list_grid(&SNAT_RULES, &p, &SNAT_ROWS).await?;
        Ok(Json(SNatListing {
            listing,
            mode: self.snat_mode().await?,
        }))
    }
}

record_tools! {
    router = firewall_snat_records_router;
    check = snat_fields_exist;

    /// Add an outbound (source) NAT rule: traffic leaving `interface` from `source_net` is
    /// translated to `target` (or not at all with no_nat). Staged: it takes effect after
    /// firewall_snat_apply, and only in hybrid or manual outbound NAT mode (26.1.11+).
    #[title = "Add an outbound NAT rule"]
    fn firewall_snat_add(SNatAddParams {
        /// The new outbound NAT rule.
        rule: NewRecord<SNatSpec>,
    });

    /// Change fields of an outbound NAT rule (only those given). Staged: it takes effect after
    /// firewall_snat_apply. An unknown uuid is refused.
    #[title = "Update an outbound NAT rule"]
    fn firewall_snat_update(SNatUpdateParams {
        /// The rule's uuid (from firewall_snat_list).
        uuid: String,
        /// The fields to change; the others keep their values.
        rule: SNatSpec,
    });

    /// Delete an outbound NAT rule. Staged: it takes effect after firewall_snat_apply.
    #[title = "Delete an outbound NAT rule"]
    fn firewall_snat_delete(SNatDeleteParams {
        /// The rule's uuid (from firewall_snat_list).
        uuid: String,
    });

    /// Apply all staged outbound NAT changes (reloads the packet filter, which loads filter
    /// rules and port forwards too).
    #[title = "Apply outbound NAT rules"]
    fn firewall_snat_apply(&SNAT_RULES, "outbound NAT rules applied");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_fields_are_refused_on_older_firmware_only() {
        let spec = SNatSpec {
            endpoint_independent: Some(true),
            ..SNatSpec::default()
        };
        let err = check_version(&spec, Some(FirmwareVersion::new(26, 7, 1))).expect_err("26.7.1");
        assert!(err.text().contains("rule.endpoint_independent"), "{err}");
        assert!(err.text().contains("not on this version"), "{err}");
        assert!(check_version(&spec, Some(FirmwareVersion::new(26, 7, 2))).is_ok());
        let tag = SNatSpec {
            tag: Some("x".into()),
            ..SNatSpec::default()
        };
        assert!(check_version(&tag, Some(FirmwareVersion::new(26, 1, 10))).is_err());
        assert!(check_version(&tag, Some(FirmwareVersion::new(26, 1, 11))).is_ok());
        assert!(check_version(&SNatSpec::default(), Some(FirmwareVersion::new(26, 1, 0))).is_ok());
    }

    #[test]
    fn tags_follow_opnsense_mask() {
        assert!(check_tag("rule.tag", Some("a.b,c_d-1".into())).is_ok());
        assert!(check_tag("rule.tag", Some("a b".into())).is_err());
        assert!(check_tag("rule.tag", Some("x".repeat(513))).is_err());
    }
}

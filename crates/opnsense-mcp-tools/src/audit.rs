//! `firewall_audit`: a read-only security audit of the filter rules, port forwards and aliases
//! (the analysis is `opnsense_change::audit`; this module reads its inputs through the SDK and
//! shapes the answer).
//!
//! Reads, in this order: every filter rule row (legacy and automatic rows included), every port
//! forward row, every alias, the interface overview, and, when a selected check uses them, the
//! system settings from config.xml (`core/backup/download/this`: only the web GUI, SSH,
//! anti-lockout and NAT reflection settings and the alias names referenced outside the alias
//! definitions are kept; the document itself is dropped, never returned). A failing rule, port
//! forward or alias read fails the call; a failing overview or config read becomes a blind spot.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::params::Parameters;
use opnsense_api::SearchQuery;
use opnsense_api::api::firewall::{ALIASES, DNAT_RULES, FILTER_RULES};
use opnsense_api::api::interfaces::overview_request;
use opnsense_api::fields::decode_lenient;
use opnsense_api::grid::GridDesc;
use opnsense_api::models::firewall::Alias;
use opnsense_change::audit::{self, AuditInput, Check, RecordKind, Settings, Severity};
use opnsense_change::pf::Network;
use quick_xml::Reader;
use quick_xml::events::Event;
use rmcp::{Json, tool, tool_router};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::OpnsenseTools;
use crate::error::ToolError;

/// Blind spots shown at most; the rest are counted.
const BLIND_SPOTS_SHOWN: usize = 20;

/// A check id (validated when the call is checked, so an error can name the argument).
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct CheckId(pub String);

impl JsonSchema for CheckId {
    fn schema_name() -> Cow<'static, str> {
        "AuditCheck".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let ids: Vec<&str> = Check::ALL.iter().map(|c| c.id()).collect();
        schemars::json_schema!({"type": "string", "enum": ids})
    }
}

/// A severity (validated when the call is checked).
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct SeverityArg(pub String);

impl JsonSchema for SeverityArg {
    fn schema_name() -> Cow<'static, str> {
        "AuditSeverity".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let ids: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        schemars::json_schema!({"type": "string", "enum": ids})
    }
}

/// Arguments of `firewall_audit`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only these checks (default: all of them).
    #[serde(default)]
    pub checks: Option<Vec<CheckId>>,
    /// Only findings at least this severe: high, medium, low or info (default info: all).
    #[serde(default)]
    pub min_severity: Option<SeverityArg>,
}

impl AuditParams {
    /// The checks and minimum severity, or the argument that is wrong.
    fn parse(&self) -> Result<(Option<BTreeSet<Check>>, Severity), ToolError> {
        let known = || {
            Check::ALL
                .iter()
                .map(|c| c.id())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let checks = match &self.checks {
            None => None,
            Some(list) if list.is_empty() => {
                return Err(ToolError::invalid(
                    "checks",
                    format!(
                        "must name at least one check (leave it out for all): {}",
                        known()
                    ),
                ));
            }
            Some(list) => {
                let mut set = BTreeSet::new();
                for (i, c) in list.iter().enumerate() {
                    let Some(check) = Check::parse(c.0.trim()) else {
                        return Err(ToolError::invalid(
                            format!("checks[{i}]"),
                            format!("{:?} is not a check; expected one of {}", c.0, known()),
                        ));
                    };
                    set.insert(check);
                }
                Some(set)
            }
        };
        let min = match &self.min_severity {
            None => Severity::Info,
            Some(s) => Severity::parse(s.0.trim()).ok_or_else(|| {
                ToolError::invalid(
                    "min_severity",
                    format!(
                        "{:?} is not a severity; expected high, medium, low or info",
                        s.0
                    ),
                )
            })?,
        };
        Ok((checks, min))
    }
}

/// Findings counted by severity.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SummaryView {
    /// High: the firewall or the network behind it is exposed.
    pub high: usize,
    /// Medium: rules that do not do what they say, or a partial exposure.
    pub medium: usize,
    /// Low: weaknesses and clutter.
    pub low: usize,
    /// Info: housekeeping.
    pub info: usize,
    /// All findings.
    pub total: usize,
}

/// A record a finding names.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RecordView {
    /// `filter_rule`, `port_forward` or `alias`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The uuid of an API record (for the get/update/delete tools).
    pub uuid: Option<String>,
    /// OPNsense's label of a classic-GUI or automatic row (not editable through the API).
    pub label: Option<String>,
    /// An alias's name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// `legacy` or `automatic` (absent for API records).
    pub origin: Option<String>,
}

/// One finding.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct FindingView {
    /// high, medium, low or info.
    pub severity: String,
    /// The check's stable id.
    pub check: String,
    /// The records involved, the one to change first.
    pub records: Vec<RecordView>,
    /// What is wrong and why it matters.
    pub explanation: String,
    /// How to fix it (tool and arguments where one exists).
    pub fix: String,
}

/// A management port the audit checked.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PortView {
    /// TCP port.
    pub port: u16,
    /// `web GUI`, `web GUI http redirect`, `SSH`, or `management` (read from the anti-lockout rows).
    pub service: String,
    /// `settings`, `anti-lockout rows` or `assumed`.
    pub source: String,
}

/// How much was read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReadView {
    /// Filter rule rows (legacy and automatic included).
    pub filter_rules: usize,
    /// Port forward rows (automatic anti-lockout rows included).
    pub port_forwards: usize,
    /// Aliases.
    pub aliases: usize,
    /// Interfaces in the overview.
    pub interfaces: usize,
    /// Whether the system settings (config.xml) were read.
    pub settings: bool,
}

/// The result of `firewall_audit`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AuditView {
    /// Findings by severity.
    pub summary: SummaryView,
    /// Findings, most severe first.
    pub findings: Vec<FindingView>,
    /// What the audit could not see or decide (it reports nothing it cannot prove).
    pub blind_spots: Vec<String>,
    /// Blind spots not shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blind_spots_not_shown: Option<usize>,
    /// The checks that ran.
    pub checks: Vec<String>,
    /// The management ports checked.
    pub management_ports: Vec<PortView>,
    /// The anti-lockout rule: on, off or unknown.
    pub antilockout: String,
    /// What was read.
    pub read: ReadView,
}

fn view(a: audit::Audit, read: ReadView) -> AuditView {
    let more = a.blind_spots.len().saturating_sub(BLIND_SPOTS_SHOWN);
    AuditView {
        summary: SummaryView {
            high: a.summary.high,
            medium: a.summary.medium,
            low: a.summary.low,
            info: a.summary.info,
            total: a.summary.total,
        },
        findings: a
            .findings
            .into_iter()
            .map(|f| FindingView {
                severity: f.severity.as_str().to_owned(),
                check: f.check.id().to_owned(),
                records: f
                    .records
                    .into_iter()
                    .map(|r| RecordView {
                        kind: kind_id(r.kind).to_owned(),
                        uuid: r.uuid,
                        label: r.label,
                        name: r.name,
                        description: r.description,
                        origin: r.origin.map(str::to_owned),
                    })
                    .collect(),
                explanation: f.explanation,
                fix: f.fix,
            })
            .collect(),
        blind_spots: a.blind_spots.into_iter().take(BLIND_SPOTS_SHOWN).collect(),
        blind_spots_not_shown: (more > 0).then_some(more),
        checks: a.checks.iter().map(|c| c.id().to_owned()).collect(),
        management_ports: a
            .management_ports
            .into_iter()
            .map(|p| PortView {
                port: p.port,
                service: p.service.to_owned(),
                source: p.source.to_owned(),
            })
            .collect(),
        antilockout: a.antilockout.to_owned(),
        read,
    }
}

fn kind_id(k: RecordKind) -> &'static str {
    match k {
        RecordKind::FilterRule => "filter_rule",
        RecordKind::PortForward => "port_forward",
        RecordKind::Alias => "alias",
    }
}

/// What the audit keeps of config.xml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFacts {
    /// Web GUI, SSH, anti-lockout and NAT reflection settings.
    pub settings: Settings,
    /// Alias names referenced outside the alias definitions and descriptions.
    pub alias_references: BTreeSet<String>,
    /// The configured interface keys (`opnsense.interfaces.*`).
    pub interfaces: BTreeSet<String>,
}

/// The settings, alias references and interface keys config.xml holds (see the module doc).
/// Elements are named by their dotted path (`opnsense.system.webgui.port`).
pub fn config_facts(xml: &str, alias_names: &BTreeSet<String>) -> Result<ConfigFacts, String> {
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut present: BTreeSet<String> = BTreeSet::new();
    let mut values: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let mut refs: BTreeSet<String> = BTreeSet::new();
    let mut interfaces: BTreeSet<String> = BTreeSet::new();
    const WANTED: &[&str] = &[
        "opnsense.system.webgui.protocol",
        "opnsense.system.webgui.port",
        "opnsense.system.ssh.port",
    ];
    loop {
        let event = crate::redact::next_event(&mut reader)?;
        match event {
            Event::Eof => break,
            Event::Start(s) => {
                let name = String::from_utf8_lossy(s.local_name().as_ref()).into_owned();
                if path.len() == 2 && path[0] == "opnsense" && path[1] == "interfaces" {
                    interfaces.insert(name.clone());
                }
                path.push(name);
                present.insert(path.join("."));
            }
            Event::Empty(s) => {
                let name = String::from_utf8_lossy(s.local_name().as_ref()).into_owned();
                if path.len() == 2 && path[0] == "opnsense" && path[1] == "interfaces" {
                    interfaces.insert(name.clone());
                }
                let mut p = path.join(".");
                p.push('.');
                p.push_str(&name);
                present.insert(p);
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => {
                let raw = String::from_utf8_lossy(t.as_ref());
                let raw = raw.trim();
                if raw.is_empty() {
                    continue;
                }
                let here = path.join(".");
                if WANTED.contains(&here.as_str()) {
                    values.insert(here.clone(), raw.to_owned());
                }
                let in_aliases = here.starts_with("opnsense.OPNsense.Firewall.Alias.");
                let described = path
                    .last()
                    .is_some_and(|l| l == "descr" || l == "description");
                if !in_aliases && !described {
                    for tok in raw.split([',', ' ', '\n', '\t']) {
                        let tok = tok.trim().trim_start_matches('!');
                        if alias_names.contains(tok) {
                            refs.insert(tok.to_owned());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let has = |p: &str| present.contains(p);
    let value = |p: &str| values.get(p).map(String::as_str);
    let port = |p: &str| {
        value(p)
            .and_then(|v| v.parse::<u16>().ok())
            .filter(|p| *p > 0)
    };
    if !has("opnsense.system") {
        return Err("config.xml has no <system> section".to_owned());
    }
    let settings = Settings {
        webgui_https: value("opnsense.system.webgui.protocol").map(|p| p == "https"),
        webgui_port: port("opnsense.system.webgui.port"),
        http_redirect: Some(!has("opnsense.system.webgui.disablehttpredirect")),
        ssh_enabled: Some(has("opnsense.system.ssh.enabled")),
        ssh_port: port("opnsense.system.ssh.port"),
        antilockout: Some(!has("opnsense.system.webgui.noantilockout")),
        nat_reflection: Some(!has("opnsense.system.disablenatreflection")),
    };
    Ok(ConfigFacts {
        settings,
        alias_references: refs,
        interfaces,
    })
}

impl OpnsenseTools {
    /// Every row of a search, decoded leniently; a row that does not decode at all, or rows the
    /// answer left out, are named in `unread`.
    async fn audit_rows<T: DeserializeOwned>(
        &self,
        desc: &'static GridDesc,
        what: &str,
        unread: &mut Vec<String>,
    ) -> Result<Vec<T>, ToolError> {
        let page = self
            .client()
            .raw_grid(desc)
            .search_raw(&SearchQuery::all())
            .await
            .map_err(|e| {
                let e = ToolError::from(e);
                ToolError::message(format!(
                    "firewall_audit could not read the {what}: {} The audit needs read access to the filter rules, port forwards and aliases (OPNsense privileges \"Firewall: Rules [new]\", \"Firewall: NAT: Destination NAT\" and \"Firewall: Alias: Edit\", Core ACL.xml); nothing was changed. Grant them, or check that the firewall is reachable, and call firewall_audit again.",
                    e.text()
                ))
            })?;
        let total = usize::try_from(page.total).unwrap_or(usize::MAX);
        if page.rows.len() < total {
            unread.push(format!(
                "the {what}: OPNsense sent {} of {total} rows",
                page.rows.len()
            ));
        }
        let mut out = Vec::with_capacity(page.rows.len());
        for (i, row) in page.rows.iter().enumerate() {
            match decode_lenient::<T>(row) {
                Ok(l) => out.push(l.value),
                Err(e) => unread.push(format!("the {what}: row {i} could not be read ({e})")),
            }
        }
        Ok(out)
    }
}

#[tool_router(router = audit_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// Security audit of the firewall rules (read-only): pass-any rules from WAN
    /// (wan_pass_any), the web GUI or SSH reachable from WAN (wan_management_access), port
    /// forwards no filter rule lets through (nat_without_rule), rules that never match because
    /// an earlier rule covers them (shadowed_rule, by exact set containment), the anti-lockout
    /// rule off with nothing letting the LAN reach the GUI (antilockout_disabled), unused aliases
    /// (unused_alias), block rules that do not log (block_without_log), rules without a
    /// description (rule_without_description), and rules OPNsense silently does not load
    /// (rule_not_loaded). Each finding names the records, why it matters and the tool call that
    /// fixes it; blind_spots says what could not be seen or decided.
    #[tool(annotations(title = "Firewall security audit"))]
    async fn firewall_audit(
        &self,
        Parameters(p): Parameters<AuditParams>,
    ) -> Result<Json<AuditView>, ToolError> {
        let (checks, min_severity) = p.parse()?;
        let mut unread = Vec::new();
        let filter_rules = self
            .audit_rows(&FILTER_RULES.desc, "filter rules", &mut unread)
            .await?;
        let nat_rules = self
            .audit_rows(&DNAT_RULES.desc, "port forwards", &mut unread)
            .await?;
        let aliases: Vec<Alias> = self
            .audit_rows(&ALIASES.desc, "aliases", &mut unread)
            .await?;
        let network = match self.client().send_json::<Value>(overview_request()).await {
            Ok(v) => Network::from_overview(&v),
            Err(e) => {
                unread.push(format!(
                    "the interfaces and their addresses (interface overview): {}",
                    ToolError::from(e).text()
                ));
                Network::new()
            }
        };
        let needs_settings = Check::ALL
            .iter()
            .filter(|c| checks.as_ref().is_none_or(|s| s.contains(c)))
            .any(|c| c.uses_settings());
        let facts = if needs_settings {
            let names: BTreeSet<String> = aliases.iter().filter_map(|a| a.name.clone()).collect();
            match self.client().system().config_backup().await {
                Ok(xml) => match config_facts(&xml, &names) {
                    Ok(f) => Some(f),
                    Err(e) => {
                        unread.push(format!("the system settings: {e}"));
                        None
                    }
                },
                Err(e) => {
                    unread.push(format!(
                        "the system settings (web GUI and SSH ports, anti-lockout) and the alias references outside the rules, from config.xml: {} (that needs the \"Diagnostics: Configuration History\" privilege)",
                        ToolError::from(e).text()
                    ));
                    None
                }
            }
        } else {
            None
        };
        let read = ReadView {
            filter_rules: filter_rules.len(),
            port_forwards: nat_rules.len(),
            aliases: aliases.len(),
            interfaces: network.interfaces().count(),
            settings: facts.is_some(),
        };
        let (settings, alias_references, config_interfaces) = match facts {
            Some(f) => (
                Some(f.settings),
                Some(f.alias_references),
                Some(f.interfaces),
            ),
            None => (None, None, None),
        };
        let input = AuditInput {
            filter_rules,
            nat_rules,
            aliases,
            network,
            settings,
            alias_references,
            config_interfaces,
            unread,
            checks,
            min_severity,
        };
        Ok(Json(view(audit::audit(&input), read)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_facts_reads_the_settings_and_the_references() {
        let xml = r#"<?xml version="1.0"?>
<opnsense>
  <system>
    <webgui><protocol>https</protocol><port>8443</port><noantilockout>1</noantilockout></webgui>
    <ssh><enabled>enabled</enabled><port>2222</port></ssh>
    <disablenatreflection>yes</disablenatreflection>
  </system>
  <interfaces><wan><if>igb0</if></wan><lan><if>igb1</if></lan><openvpn><type>group</type></openvpn></interfaces>
  <nat><outbound><rule><source><network>office_net</network></source><descr>unused_one</descr></rule></outbound></nat>
  <OPNsense><Firewall><Alias><aliases><alias><name>unused_one</name><content>office_net</content></alias></aliases></Alias></Firewall></OPNsense>
</opnsense>"#;
        let names: BTreeSet<String> = ["office_net", "unused_one"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let ConfigFacts {
            settings: s,
            alias_references: refs,
            interfaces,
        } = config_facts(xml, &names).expect("parses");
        assert_eq!(
            interfaces,
            BTreeSet::from(["lan".to_owned(), "openvpn".to_owned(), "wan".to_owned()])
        );
        assert_eq!(s.webgui_https, Some(true));
        assert_eq!(s.webgui_port, Some(8443));
        assert_eq!(s.http_redirect, Some(true));
        assert_eq!(s.ssh_enabled, Some(true));
        assert_eq!(s.ssh_port, Some(2222));
        assert_eq!(s.antilockout, Some(false));
        assert_eq!(s.nat_reflection, Some(false));
        // A description and the alias definitions themselves are no references.
        assert_eq!(refs, BTreeSet::from(["office_net".to_owned()]));
    }

    #[test]
    fn config_facts_defaults_and_errors() {
        let xml = "<opnsense><system><webgui><protocol>http</protocol><disablehttpredirect/></webgui></system></opnsense>";
        let s = config_facts(xml, &BTreeSet::new())
            .expect("parses")
            .settings;
        assert_eq!(s.webgui_https, Some(false));
        assert_eq!(s.webgui_port, None);
        assert_eq!(s.http_redirect, Some(false));
        assert_eq!(s.ssh_enabled, Some(false));
        assert_eq!(s.antilockout, Some(true));
        assert!(config_facts("<opnsense><a></opnsense>", &BTreeSet::new()).is_err());
        assert!(config_facts("<opnsense/>", &BTreeSet::new()).is_err());
    }

    #[test]
    fn arguments_are_checked_naming_the_field() {
        let p = AuditParams {
            checks: Some(vec![
                CheckId("shadowed_rule".into()),
                CheckId("nope".into()),
            ]),
            min_severity: None,
        };
        let e = p.parse().unwrap_err();
        assert!(
            e.text().contains("checks[1]") && e.text().contains("nope"),
            "{e}"
        );
        let p = AuditParams {
            checks: None,
            min_severity: Some(SeverityArg("urgent".into())),
        };
        assert!(p.parse().unwrap_err().text().contains("min_severity"));
        let p = AuditParams {
            checks: Some(Vec::new()),
            min_severity: None,
        };
        assert!(p.parse().unwrap_err().text().contains("checks"));
        let (c, s) = AuditParams {
            checks: Some(vec![CheckId("unused_alias".into())]),
            min_severity: Some(SeverityArg("low".into())),
        }
        .parse()
        .unwrap();
        assert_eq!(c, Some(BTreeSet::from([Check::UnusedAlias])));
        assert_eq!(s, Severity::Low);
    }
}

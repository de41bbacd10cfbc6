//! Destination NAT (port forwards): list, add, update, delete, apply.

use std::borrow::Cow;

use crate::params::Parameters;
use opnsense_api::api::firewall::DNAT_RULES;
use opnsense_api::fields::{Extra, WireEnum};
use opnsense_api::models::firewall::{
    DNatFields, DNatRow, DNatRule, IpProtocol, NatEndpoint, NatPass, NatProtocol,
};
use rmcp::{Json, tool, tool_router};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize};

use crate::OpnsenseTools;
use crate::common::{
    ListParams, Listing, ProtocolArg, RequiredFields, RowKind, Rows, is_false, keys, negated,
    single_line,
};
use crate::error::ToolError;
use crate::record::{RecordSpec, record_tools};

/// How port-forward search rows are listed: OPNsense's automatic entries are marked.
const NAT_ROWS: Rows<DNatRow, NatView> = Rows {
    kind: |r| {
        if r.is_automatic() {
            RowKind::Automatic
        } else {
            RowKind::Record
        }
    },
    view: NatView::from,
    note: "Rows with `origin: automatic` are entries OPNsense generates itself (the anti-lockout exclusions: `lockout_N` on 26.1, `automatic_pf_N` on 26.7); they are in force but cannot be edited here.",
};

/// An OPNsense option where "any" is stored as an empty value: accepts `any` or one of the
/// values OPNsense knows, and refuses anything else before a request is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyOr<E> {
    /// Every value (sent as OPNsense's empty string).
    Any,
    /// One value.
    Value(E),
}

impl<E: WireEnum> AnyOr<E> {
    /// The SDK value: `any` becomes the empty option.
    fn into_wire(self) -> E {
        match self {
            Self::Any => E::of(String::new()),
            Self::Value(v) => v,
        }
    }
}

impl<'de, E: WireEnum> Deserialize<'de> for AnyOr<E> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "any" {
            return Ok(Self::Any);
        }
        let v = E::of(s.clone());
        if v.is_known_value() {
            Ok(Self::Value(v))
        } else {
            Err(serde::de::Error::custom(format!(
                "{s:?} is not accepted here: expected one of any, {}",
                E::known().join(", ")
            )))
        }
    }
}

impl<E: WireEnum> Serialize for AnyOr<E> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Any => s.serialize_str("any"),
            Self::Value(v) => s.serialize_str(v.wire()),
        }
    }
}

impl<E: WireEnum + JsonSchema> JsonSchema for AnyOr<E> {
    fn schema_name() -> Cow<'static, str> {
        format!("AnyOr{}", E::schema_name()).into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut values = vec!["any"];
        values.extend_from_slice(E::known());
        schemars::json_schema!({ "type": "string", "enum": values })
    }
}

/// How traffic of a port forward gets past the filter rules (OPNsense's `pass` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NatFilterRule {
    /// No automatic filter rule: add a pass rule yourself (firewall_rule_add), or the
    /// forwarded traffic is blocked. OPNsense's default.
    Manual,
    /// The forward passes its traffic itself (`rdr pass`); no filter rule needed.
    Pass,
    /// OPNsense registers a matching filter rule for the forward.
    Rule,
}

impl NatFilterRule {
    /// The SDK value; manual is OPNsense's empty option.
    fn into_wire(self) -> NatPass {
        match self {
            Self::Manual => NatPass::from_wire_str(String::new()),
            Self::Pass => NatPass::Pass,
            Self::Rule => NatPass::RegisterRule,
        }
    }
}

/// One side of a port forward's match.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// `any`, an alias, an interface network (`wan`) or address (`wanip`), `(self)`, an
    /// address or CIDR.
    pub network: Option<String>,
    /// A port, range `8000-8100`, service name or port alias (protocol tcp and/or udp).
    pub port: Option<String>,
    /// Match all but `network`.
    pub not: Option<bool>,
}

impl EndpointSpec {
    fn into_model(self, side: &str) -> Result<NatEndpoint, ToolError> {
        let model = NatEndpoint {
            network: single_line(&format!("rule.{side}.network"), self.network, 255)?,
            port: single_line(&format!("rule.{side}.port"), self.port, 64)?,
            invert: self.not,
            extra: Extra::default(),
        };
        if model.network.is_none() && model.port.is_none() && model.invert.is_none() {
            return Err(ToolError::invalid(
                format!("rule.{side}"),
                "names no field (give network, port or not)",
            ));
        }
        Ok(model)
    }
}

/// A port forward's fields. On update, only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NatRuleSpec {
    /// Active (default true).
    // Sent as OPNsense's inverted `disabled`.
    pub enabled: Option<bool>,
    /// Interface keys it listens on, usually `["wan"]`.
    pub interface: Option<Vec<String>>,
    /// `inet` (IPv4), `inet6`, `inet46` (both) or `any` (default).
    pub ipprotocol: Option<AnyOr<IpProtocol>>,
    /// `tcp`, `udp` or `tcp/udp` to forward ports; another IANA name (`gre`, `esp`) or `any`
    /// forwards a whole protocol. Any case.
    // Sent lower-case, as OPNsense stores it.
    pub protocol: Option<ProtocolArg<false>>,
    /// Where traffic comes from (default any); rarely needed.
    pub source: Option<EndpointSpec>,
    /// What is forwarded, usually `{"network": "wanip", "port": "443"}`.
    pub destination: Option<EndpointSpec>,
    /// Internal address (`192.168.1.10`) or host alias to redirect to.
    pub target: Option<String>,
    /// Port on the target (number, service name or port alias); for a destination range, the
    /// first port.
    // Sent as `local-port`.
    pub local_port: Option<String>,
    /// `manual` (default: add a pass rule yourself), `pass` (passes its own traffic) or `rule`
    /// (OPNsense adds a filter rule).
    pub pass: Option<NatFilterRule>,
    /// Log matches.
    pub log: Option<bool>,
    /// Purpose, one line, at most 255 characters.
    // Sent as `descr`.
    pub description: Option<String>,
}

impl RequiredFields for NatRuleSpec {
    const ARGUMENT: &'static str = "rule";
    const REQUIRED: &'static [&'static str] = &[
        "interface",
        "protocol",
        "destination",
        "target",
        "local_port",
    ];
}

impl RecordSpec for NatRuleSpec {
    type Model = DNatRule;
    type Row = DNatRow;
    const GRID: &'static opnsense_api::GridSpec<DNatRule, DNatRow> = &DNAT_RULES;
    const APPLY: &'static str = "firewall_nat_apply";
    const LIST: &'static str = "firewall_nat_list";

    fn from_model(r: &DNatRule) -> Self {
        let f = &r.fields;
        let endpoint = |e: &Option<NatEndpoint>| {
            e.as_ref().map(|e| EndpointSpec {
                network: e.network.clone(),
                port: e.port.clone(),
                not: e.invert,
            })
        };
        Self {
            enabled: Some(f.disabled != Some(true)),
            interface: f.interface.as_ref().map(|i| i.0.clone()),
            ipprotocol: Some(match &f.ipprotocol {
                Some(p) if !p.as_str().is_empty() => AnyOr::Value(p.clone()),
                _ => AnyOr::Any,
            }),
            protocol: Some(ProtocolArg(match &f.protocol {
                Some(p) if !p.as_str().is_empty() => p.as_str().to_owned(),
                _ => "any".to_owned(),
            })),
            source: endpoint(&r.source),
            destination: endpoint(&r.destination),
            target: f.target.clone(),
            local_port: f.local_port.clone(),
            pass: Some(match &f.pass {
                Some(NatPass::Pass) => NatFilterRule::Pass,
                Some(NatPass::RegisterRule) => NatFilterRule::Rule,
                _ => NatFilterRule::Manual,
            }),
            log: f.log,
            description: f.descr.clone(),
        }
    }

    /// Checks the fields and builds the SDK model (only the fields given).
    fn into_model(self) -> Result<DNatRule, ToolError> {
        let interface = keys("rule.interface", self.interface)?;
        if interface.as_ref().is_some_and(|i| i.items().is_empty()) {
            return Err(ToolError::invalid(
                "rule.interface",
                "must name at least one interface (e.g. [\"wan\"])",
            ));
        }
        Ok(DNatRule {
            fields: DNatFields {
                disabled: self.enabled.map(|e| !e),
                interface,
                ipprotocol: self.ipprotocol.map(AnyOr::into_wire),
                // OPNsense stores "any" as the empty option for port forwards.
                protocol: self.protocol.map(|p| {
                    NatProtocol::from_wire_str(if p.0 == "any" { String::new() } else { p.0 })
                }),
                target: single_line("rule.target", self.target, 255)?,
                local_port: single_line("rule.local_port", self.local_port, 64)?,
                log: self.log,
                pass: self.pass.map(NatFilterRule::into_wire),
                descr: single_line("rule.description", self.description, 255)?,
                ..DNatFields::default()
            },
            source: self.source.map(|s| s.into_model("source")).transpose()?,
            destination: self
                .destination
                .map(|d| d.into_model("destination"))
                .transpose()?,
            ..DNatRule::default()
        })
    }
}

/// A port forward in compact form.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NatView {
    /// Rule id.
    pub uuid: String,
    /// Active.
    pub enabled: bool,
    /// Interfaces (comma-separated keys).
    pub interface: String,
    /// Protocol (`any` when not restricted).
    pub protocol: String,
    /// Source (`!` = inverted).
    pub source: String,
    /// Source port.
    pub source_port: Option<String>,
    /// Destination (`!` = inverted).
    pub destination: String,
    /// Destination port.
    pub destination_port: Option<String>,
    /// Redirect target.
    pub target: String,
    /// Port on the target.
    pub local_port: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Logs matches.
    #[serde(skip_serializing_if = "is_false")]
    pub log: bool,
}

impl From<DNatRow> for NatView {
    fn from(r: DNatRow) -> Self {
        let any = |o: Option<String>| o.unwrap_or_else(|| "any".into());
        let f = r.fields;
        Self {
            enabled: f.disabled != Some(true),
            interface: f.interface.map(|i| i.to_string()).unwrap_or_default(),
            protocol: any(f.protocol.map(|p| p.to_string())),
            source: any(negated(r.source_network, r.source_not)),
            source_port: r.source_port,
            destination: any(negated(r.destination_network, r.destination_not)),
            destination_port: r.destination_port,
            target: f.target.unwrap_or_default(),
            local_port: f.local_port,
            description: f.descr,
            log: f.log == Some(true),
            uuid: r.uuid,
        }
    }
}

#[tool_router(router = firewall_nat_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// List port forwards (destination NAT), paged. OPNsense's automatic entries are listed
    /// with `origin: automatic`.
    #[tool(annotations(title = "List port forwards"))]
    pub(crate) async fn firewall_nat_list(
        &self,
        Parameters(p): Parameters<ListParams>,
    ) -> Result<Json<Listing<NatView>>, ToolError> {
        self.list_grid(&DNAT_RULES, &p, &NAT_ROWS).await.map(Json)
    }
}

record_tools! {
    router = firewall_nat_records_router;

    /// Add a port forward (destination NAT). With pass = manual (the default) the forwarded
    /// traffic also needs a filter rule allowing it. Staged: it takes effect after
    /// firewall_nat_apply.
    #[title = "Add a port forward"]
    fn firewall_nat_add(NatAddParams {
        /// The new port forward.
        rule: NewRecord<NatRuleSpec>,
    });

    /// Change fields of a port forward (only those given). Staged: it takes effect after
    /// firewall_nat_apply. An unknown uuid is refused.
    #[title = "Update a port forward"]
    fn firewall_nat_update(NatUpdateParams {
        /// The port forward's uuid (from firewall_nat_list).
        uuid: String,
        /// The fields to change; the others keep their values (inside `source` and
        /// `destination` too).
        rule: NatRuleSpec,
    });

    /// Delete a port forward. Staged: it takes effect after firewall_nat_apply.
    #[title = "Delete a port forward"]
    fn firewall_nat_delete(NatDeleteParams {
        /// The port forward's uuid (from firewall_nat_list).
        uuid: String,
    });

    /// Apply all staged port forward changes (reloads the packet filter).
    #[title = "Apply port forwards"]
    fn firewall_nat_apply(&DNAT_RULES, "port forwards applied");
}

//! Firewall filter rules: list, get, add, update, delete, apply.

use opnsense_api::api::firewall::FILTER_RULES;
use opnsense_api::models::firewall::{
    Action, Direction, FilterRule, IpProtocol, Protocol, RuleOrigin,
};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::OpnsenseTools;
use crate::common::{
    Item, ListParams, Listing, NewRecord, ProtocolArg, RequiredFields, RowKind, Rows, Strict,
    UuidParams, is_false, keys, negated, parse_uuid, single_line,
};
use crate::error::ToolError;
use crate::record::{Applied, ApplyParams, RecordSpec, Staged};

/// How filter-rule search rows are listed: API rules as records; rules made in the classic GUI
/// and rules OPNsense generates are counted.
const RULE_ROWS: Rows<FilterRule, RuleView> = Rows {
    kind: |r| match r.origin() {
        RuleOrigin::Api => RowKind::Record,
        RuleOrigin::Legacy => RowKind::Legacy,
        RuleOrigin::Automatic => RowKind::Automatic,
    },
    view: RuleView::from,
    note: "The packet filter also runs rules this API cannot edit: `automatic` counts rules OPNsense and its plugins generate (anti-lockout, IPv6 and DHCP housekeeping, VPN), `legacy` counts rules made in the classic GUI (Firewall > Rules of each interface) that are not migrated to the API. Both are active and are evaluated with the listed rules; call again with raw: true to see them as OPNsense sent them.",
};

/// A filter rule's fields. On update, only the fields given change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Whether the rule is active (default true).
    pub enabled: Option<bool>,
    /// `pass` allows, `block` drops silently, `reject` drops and tells the sender (default `pass`).
    pub action: Option<Strict<Action>>,
    /// Interfaces the rule is on, as OPNsense keys (`lan`, `wan`, `opt1`, or a group name).
    /// An empty list makes a floating rule that applies to every interface.
    pub interface: Option<Vec<String>>,
    /// `in` (traffic entering the interface, the usual choice), `out` or `any` (default `in`).
    pub direction: Option<Strict<Direction>>,
    /// `inet` (IPv4), `inet6` (IPv6) or `inet46` (both) (default `inet`).
    pub ipprotocol: Option<Strict<IpProtocol>>,
    /// Protocol (default `any`): `any`, `TCP`, `UDP`, `TCP/UDP`, `ICMP`, `IPV6-ICMP`, or any
    /// other IANA protocol name (`GRE`, `ESP`, `OSPF`, `CARP`, ...), any case. Ports need TCP or
    /// UDP.
    pub protocol: Option<ProtocolArg<true>>,
    /// Source: `any`, an alias name, an interface network (`lan`), an interface address
    /// (`lanip`), `(self)` (the firewall), an address or a CIDR network (default `any`).
    pub source_net: Option<String>,
    /// Match everything except the source.
    pub source_not: Option<bool>,
    /// Source port: a number, a range `1000-2000`, a service name (`https`) or a port alias.
    /// Rarely needed: clients use random source ports.
    pub source_port: Option<String>,
    /// Destination, same forms as `source_net` (default `any`).
    pub destination_net: Option<String>,
    /// Match everything except the destination.
    pub destination_not: Option<bool>,
    /// Destination port: a number, a range `1000-2000`, a service name (`https`) or a port alias.
    pub destination_port: Option<String>,
    /// Gateway name for policy-based routing (empty = normal routing).
    pub gateway: Option<String>,
    /// Log packets that match.
    pub log: Option<bool>,
    /// Apply at the first match (default true); false lets later rules decide.
    pub quick: Option<bool>,
    /// Evaluation order, 1 to 999999 (default: after the existing rules).
    #[schemars(range(min = 1, max = 999_999))]
    pub sequence: Option<u32>,
    /// What the rule is for (1 to 255 characters, one line).
    pub description: Option<String>,
}

impl RequiredFields for RuleSpec {
    const ARGUMENT: &'static str = "rule";
    const REQUIRED: &'static [&'static str] = &["action", "interface", "description"];
}

impl RecordSpec for RuleSpec {
    type Model = FilterRule;
    type Row = FilterRule;
    const GRID: &'static opnsense_api::GridSpec<FilterRule> = &FILTER_RULES;
    const APPLY: &'static str = "firewall_rule_apply";
    const LIST: &'static str = "firewall_rule_list";

    fn from_model(r: &FilterRule) -> Self {
        Self {
            enabled: r.enabled,
            action: r.action.clone().map(Strict),
            interface: r.interface.as_ref().map(|i| i.0.clone()),
            direction: r.direction.clone().map(Strict),
            ipprotocol: r.ipprotocol.clone().map(Strict),
            protocol: r.protocol.as_ref().map(|p| ProtocolArg(p.to_string())),
            source_net: r.source_net.clone(),
            source_not: r.source_not,
            source_port: r.source_port.clone(),
            destination_net: r.destination_net.clone(),
            destination_not: r.destination_not,
            destination_port: r.destination_port.clone(),
            gateway: r.gateway.clone(),
            log: r.log,
            quick: r.quick,
            sequence: r.sequence.and_then(|s| u32::try_from(s).ok()),
            description: r.description.clone(),
        }
    }

    /// Checks the fields and builds the SDK model (only the fields given).
    fn into_model(self) -> Result<FilterRule, ToolError> {
        if let Some(seq) = self.sequence
            && !(1..=999_999).contains(&seq)
        {
            return Err(ToolError::invalid(
                "rule.sequence",
                "must be between 1 and 999999",
            ));
        }
        let description = single_line("rule.description", self.description, 255)?;
        if description.as_deref() == Some("") {
            return Err(ToolError::invalid("rule.description", "must not be empty"));
        }
        Ok(FilterRule {
            enabled: self.enabled,
            action: self.action.map(|a| a.0),
            quick: self.quick,
            interface: keys("rule.interface", self.interface)?,
            direction: self.direction.map(|d| d.0),
            ipprotocol: self.ipprotocol.map(|p| p.0),
            protocol: self.protocol.map(|p| Protocol::from_wire_str(p.0)),
            source_net: single_line("rule.source_net", self.source_net, 255)?,
            source_not: self.source_not,
            source_port: single_line("rule.source_port", self.source_port, 64)?,
            destination_net: single_line("rule.destination_net", self.destination_net, 255)?,
            destination_not: self.destination_not,
            destination_port: single_line("rule.destination_port", self.destination_port, 64)?,
            gateway: single_line("rule.gateway", self.gateway, 64)?,
            log: self.log,
            sequence: self.sequence.map(u64::from),
            description,
            ..FilterRule::default()
        })
    }
}

/// A rule in compact form.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RuleView {
    /// Rule id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Active.
    pub enabled: bool,
    /// pass / block / reject.
    pub action: String,
    /// Interfaces (comma-separated keys); empty = floating.
    pub interface: String,
    /// in / out / any.
    pub direction: String,
    /// inet / inet6 / inet46.
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
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Logs matches.
    #[serde(skip_serializing_if = "is_false")]
    pub log: bool,
    /// Evaluation order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
}

impl From<FilterRule> for RuleView {
    fn from(r: FilterRule) -> Self {
        let text = |o: Option<String>| o.unwrap_or_else(|| "any".into());
        Self {
            uuid: r.uuid,
            enabled: r.enabled.unwrap_or(true),
            action: r.action.map_or_else(|| "pass".into(), |a| a.to_string()),
            interface: r.interface.map(|i| i.to_string()).unwrap_or_default(),
            direction: r.direction.map_or_else(|| "in".into(), |d| d.to_string()),
            ipprotocol: r.ipprotocol.map(|p| p.to_string()),
            protocol: r.protocol.map_or_else(|| "any".into(), |p| p.to_string()),
            source: text(negated(r.source_net, r.source_not)),
            source_port: r.source_port,
            destination: text(negated(r.destination_net, r.destination_not)),
            destination_port: r.destination_port,
            description: r.description,
            log: r.log.unwrap_or(false),
            sequence: r.sequence,
        }
    }
}

/// Arguments of `firewall_rule_add`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleAddParams {
    /// The new rule.
    pub rule: NewRecord<RuleSpec>,
}

/// Arguments of `firewall_rule_update`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleUpdateParams {
    /// The rule's uuid.
    pub uuid: String,
    /// The fields to change; the others keep their values.
    pub rule: RuleSpec,
}

/// Arguments of `firewall_rule_delete`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleDeleteParams {
    /// The rule's uuid.
    pub uuid: String,
}

#[tool_router(router = firewall_rules_router, vis = "pub(crate)")]
impl OpnsenseTools {
    /// List firewall filter rules (compact: uuid, enabled, action, interface, direction,
    /// protocol, source, destination, ports, description), paged. Rules the API cannot edit
    /// (automatic, classic-GUI) are counted, not listed.
    #[tool(annotations(
        title = "List firewall rules",
        read_only_hint = true,
        open_world_hint = false
    ))]
    async fn firewall_rule_list(
        &self,
        Parameters(p): Parameters<ListParams>,
    ) -> Result<Json<Listing<RuleView>>, ToolError> {
        let q = p.query()?;
        let page = self.search_raw(&FILTER_RULES, &q).await?;
        Ok(Json(Listing::from_page(&q, p.raw, page, &RULE_ROWS)))
    }

    /// Get one firewall filter rule by uuid.
    #[tool(annotations(
        title = "Get a firewall rule",
        read_only_hint = true,
        open_world_hint = false
    ))]
    async fn firewall_rule_get(
        &self,
        Parameters(p): Parameters<UuidParams>,
    ) -> Result<Json<Item<RuleView>>, ToolError> {
        let id = parse_uuid(&p.uuid)?;
        let v = self.client().firewall().filter().get_raw(&id).await?;
        Ok(Json(Item::from_record::<FilterRule>(
            &id,
            p.raw,
            v,
            RuleView::from,
        )?))
    }

    /// Add a firewall filter rule. Staged: it takes effect after firewall_rule_apply.
    #[tool(annotations(
        title = "Add a firewall rule",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    async fn firewall_rule_add(
        &self,
        Parameters(p): Parameters<RuleAddParams>,
    ) -> Result<Json<Staged>, ToolError> {
        self.add_record(p.rule).await
    }

    /// Change fields of a firewall filter rule (only those given). Staged: it takes effect
    /// after firewall_rule_apply. An unknown uuid is refused (OPNsense would create a rule).
    #[tool(annotations(
        title = "Update a firewall rule",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn firewall_rule_update(
        &self,
        Parameters(p): Parameters<RuleUpdateParams>,
    ) -> Result<Json<Staged>, ToolError> {
        self.update_record(&p.uuid, p.rule).await
    }

    /// Delete a firewall filter rule. Staged: it takes effect after firewall_rule_apply.
    #[tool(annotations(
        title = "Delete a firewall rule",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn firewall_rule_delete(
        &self,
        Parameters(p): Parameters<RuleDeleteParams>,
    ) -> Result<Json<Staged>, ToolError> {
        self.delete_record::<RuleSpec>(&p.uuid).await
    }

    /// Apply all staged filter rule changes (reloads the packet filter). Check first that
    /// the staged rules keep your own access to the firewall open.
    #[tool(annotations(
        title = "Apply firewall rules",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn firewall_rule_apply(
        &self,
        Parameters(p): Parameters<ApplyParams>,
    ) -> Result<Json<Applied>, ToolError> {
        self.apply_grid(&FILTER_RULES, "firewall rules applied", p)
            .await
    }
}

//! `completion/complete`: values for prompt arguments and resource-template variables, read
//! from the firewall through the same tools a client would call: interface keys (`lan`, `wan`,
//! `opt1`, from the interface overview, matched on their descriptions too), alias names (`firewall_alias_list`), rule, alias and port-forward uuids
//! (matched by uuid prefix or by their description, since a completion value carries no text of
//! its own), and hosts from the ARP table and the DHCP leases (IP addresses, and MAC addresses
//! where a device is asked for).
//!
//! Each value comes from one target: the one the client already chose (`target` in the
//! request's `context.arguments`, or the `{target}` segment of a template URI filled in), else
//! the default; the fleet completes `target` itself to the target names. A source a target's
//! policy does not offer (the tool behind it left out) gives nothing.

use crate::params::Parameters;
use rmcp::ErrorData;
use rmcp::model::{CompleteRequestParams, CompleteResult, CompletionInfo, Reference};
use serde::Serialize;
use serde_json::Value;

use crate::OpnsenseTools;
use opnsense_api::api::interfaces::overview_request;

use crate::common::{ListParams, MAX_ROW_COUNT};
use crate::dhcp::LeaseListParams;
use crate::error::ToolError;
use crate::resources::{Kind, TARGET_VAR, parse};

/// What a value is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Interface keys (`lan`, `wan`, `opt1`).
    Interfaces,
    /// IP addresses of the ARP table and the DHCP leases.
    Hosts,
    /// Those, plus their MAC addresses.
    Devices,
    /// Hosts and alias names (what a rule's source or destination takes).
    Endpoints,
    /// Uuids of filter rules.
    Rules,
    /// Uuids of aliases.
    Aliases,
    /// Uuids of port forwards.
    Nat,
    /// Common service names.
    Services,
    /// A fixed list.
    Fixed(&'static [&'static str]),
}

/// Where the values of a prompt argument come from (`None`: free text, no completion).
pub fn prompt_source(prompt: &str, argument: &str) -> Option<Source> {
    match (prompt, argument) {
        (_, "interface") => Some(Source::Interfaces),
        ("open_port", "internal_host") => Some(Source::Hosts),
        ("open_port", "service") => Some(Source::Services),
        ("open_port", "protocol") => Some(Source::Fixed(&["tcp", "udp", "tcp/udp"])),
        ("block_device", "device") => Some(Source::Devices),
        ("troubleshoot_connectivity", "source" | "destination") => Some(Source::Endpoints),
        _ => None,
    }
}

/// Where the values of a resource template's variable come from.
pub fn template_source(uri_template: &str, variable: &str) -> Option<Source> {
    if variable != "uuid" {
        return None;
    }
    match parse(uri_template).map(|p| p.kind) {
        Some(Kind::Record("rules", _)) => Some(Source::Rules),
        Some(Kind::Record("aliases", _)) => Some(Source::Aliases),
        Some(Kind::Record("nat", _)) => Some(Source::Nat),
        _ => None,
    }
}

/// The target a completion request already names: `target` among its context arguments, or
/// the `{target}` segment of the template URI when it is filled in (not `{target}` itself).
/// Unchecked: the fleet looks it up.
pub fn chosen_target(request: &CompleteRequestParams) -> Option<&str> {
    if let Some(t) = request
        .context
        .as_ref()
        .and_then(|c| c.get_argument(TARGET_VAR))
        .filter(|t| !t.is_empty())
    {
        return Some(t);
    }
    match &request.r#ref {
        Reference::Resource(r) => crate::resources::target_of(&r.uri)
            .filter(|t| !(t.starts_with('{') && t.ends_with('}'))),
        _ => None,
    }
}

/// The resource tool a template's records come from (`None`: not one of our templates).
pub fn template_tool(uri_template: &str) -> Option<&'static str> {
    parse(uri_template).map(|p| p.kind.tool())
}

/// The completion of a `target` argument or variable: the names given that start with what
/// was typed.
pub fn target_names<'a>(names: impl Iterator<Item = &'a str>, typed: &str) -> CompleteResult {
    CompleteResult::new(matching(names.map(Candidate::of).collect(), typed))
}

/// Service names people open ports for.
const SERVICES: &[&str] = &[
    "dns",
    "ftp",
    "http",
    "https",
    "imap",
    "imaps",
    "minecraft",
    "mqtt",
    "plex",
    "rdp",
    "smtp",
    "ssh",
    "vpn",
    "wireguard",
];

/// A completion candidate: the value, and text it also matches on (a description).
struct Candidate {
    value: String,
    also: Option<String>,
}

impl Candidate {
    fn of(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            also: None,
        }
    }
}

/// The candidates that match what was typed: the value starts with it, or (for records) the
/// description contains it; case-insensitive, sorted, deduplicated, at most 100.
fn matching(candidates: Vec<Candidate>, typed: &str) -> CompletionInfo {
    let typed = typed.to_lowercase();
    let mut values: Vec<String> = candidates
        .into_iter()
        .filter(|c| {
            c.value.to_lowercase().starts_with(&typed)
                || c.also
                    .as_deref()
                    .is_some_and(|d| d.to_lowercase().contains(&typed))
        })
        .map(|c| c.value)
        .collect();
    values.sort();
    values.dedup();
    let total = values.len();
    values.truncate(CompletionInfo::MAX_VALUES);
    let mut info = CompletionInfo::default();
    info.has_more = Some(total > values.len());
    info.total = Some(u32::try_from(total).unwrap_or(u32::MAX));
    info.values = values;
    info
}

/// A listing's rows as objects, whichever form it was written in (a long page is a table of
/// `columns`, `common` and rows of values).
fn rows_of(listing: &impl Serialize) -> Vec<Value> {
    let Ok(v) = serde_json::to_value(listing) else {
        return Vec::new();
    };
    let rows = v
        .get("rows")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let Some(columns) = v.get("columns").and_then(Value::as_array) else {
        return rows;
    };
    let common = v
        .get("common")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    rows.iter()
        .map(|row| {
            let mut obj = common.clone();
            for (c, cell) in columns.iter().zip(row.as_array().into_iter().flatten()) {
                if let Some(c) = c.as_str()
                    && !cell.is_null()
                {
                    obj.insert(c.to_owned(), cell.clone());
                }
            }
            Value::Object(obj)
        })
        .collect()
}

fn text(row: &Value, key: &str) -> Option<String> {
    row.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn all() -> ListParams {
    ListParams {
        row_count: Some(i64::from(MAX_ROW_COUNT)),
        ..ListParams::default()
    }
}

impl OpnsenseTools {
    /// `completion/complete`.
    pub async fn complete_argument(
        &self,
        request: &CompleteRequestParams,
    ) -> Result<CompleteResult, ErrorData> {
        let source = match &request.r#ref {
            Reference::Prompt(p) => {
                if crate::prompts::find(&p.name).is_none() {
                    return Err(ErrorData::invalid_params(
                        format!("no prompt {:?}", p.name),
                        None,
                    ));
                }
                prompt_source(&p.name, &request.argument.name)
            }
            Reference::Resource(r) => {
                if request.argument.name == TARGET_VAR && template_tool(&r.uri).is_some() {
                    return Ok(target_names(
                        std::iter::once(self.target()),
                        &request.argument.value,
                    ));
                }
                template_source(&r.uri, &request.argument.name)
            }
            _ => None,
        };
        let Some(source) = source else {
            return Ok(CompleteResult::default());
        };
        let candidates = self.candidates(source).await.map_err(|e| {
            ErrorData::internal_error(format!("cannot complete: {}", e.text()), None)
        })?;
        Ok(CompleteResult::new(matching(
            candidates,
            &request.argument.value,
        )))
    }

    /// Whether this target's policy offers `tool` (a completion reads only what it offers).
    fn reads(&self, tool: &str) -> bool {
        self.inner.router.has_route(tool)
    }

    async fn candidates(&self, source: Source) -> Result<Vec<Candidate>, ToolError> {
        let tool = match source {
            Source::Interfaces => Some("interface_list"),
            Source::Rules => Some("firewall_rule_list"),
            Source::Aliases => Some("firewall_alias_list"),
            Source::Nat => Some("firewall_nat_list"),
            _ => None,
        };
        if tool.is_some_and(|t| !self.reads(t)) {
            return Ok(Vec::new());
        }
        Ok(match source {
            Source::Fixed(values) => values.iter().map(|v| Candidate::of(*v)).collect(),
            Source::Services => SERVICES.iter().map(|v| Candidate::of(*v)).collect(),
            Source::Interfaces => {
                let overview: Value = self.client().send_json(overview_request()).await?;
                let rows: Vec<&Value> = match overview.get("rows").unwrap_or(&overview) {
                    Value::Array(a) => a.iter().collect(),
                    Value::Object(m) => m.values().collect(),
                    _ => Vec::new(),
                };
                rows.into_iter()
                    .filter_map(|r| {
                        let key = text(r, "identifier")
                            .or_else(|| r.get("config").and_then(|c| text(c, "identifier")))?;
                        Some(Candidate {
                            value: key,
                            also: text(r, "description"),
                        })
                    })
                    .collect()
            }
            Source::Hosts => self.hosts(false).await?,
            Source::Devices => self.hosts(true).await?,
            Source::Endpoints => {
                let mut c = self.hosts(false).await?;
                if self.reads("firewall_alias_list") {
                    c.extend(self.records(Source::Aliases, "name").await?);
                }
                c
            }
            Source::Rules | Source::Aliases | Source::Nat => self.records(source, "uuid").await?,
        })
    }

    /// Records of a collection: `key` (`uuid` or `name`) as the value, matched on the
    /// description too.
    async fn records(&self, source: Source, key: &str) -> Result<Vec<Candidate>, ToolError> {
        let rows = match source {
            Source::Rules => rows_of(&self.firewall_rule_list(Parameters(all())).await?.0),
            Source::Aliases => rows_of(&self.firewall_alias_list(Parameters(all())).await?.0),
            _ => rows_of(&self.firewall_nat_list(Parameters(all())).await?.0),
        };
        Ok(rows
            .iter()
            // Automatic and classic-GUI rows are not records one can address.
            .filter(|r| r.get("origin").is_none())
            .filter_map(|r| {
                Some(Candidate {
                    value: text(r, key)?,
                    also: text(r, "description"),
                })
            })
            .collect())
    }

    /// IP addresses (and with `macs`, MAC addresses) from the ARP table and the DHCP leases,
    /// matched on their host names too. A source that cannot be read (no Kea) adds nothing.
    async fn hosts(&self, macs: bool) -> Result<Vec<Candidate>, ToolError> {
        let mut out = Vec::new();
        let arp = if self.reads("interface_arp_table") {
            rows_of(&self.interface_arp_table(Parameters(all())).await?.0)
        } else {
            Vec::new()
        };
        let leases = if self.reads("dhcp_lease_list") {
            match self
                .dhcp_lease_list(Parameters(LeaseListParams {
                    row_count: Some(i64::from(MAX_ROW_COUNT)),
                    ..LeaseListParams::default()
                }))
                .await
            {
                Ok(l) => rows_of(&l.0),
                Err(e) => {
                    tracing::debug!("completion without DHCP leases: {e}");
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        for (rows, ip_key) in [(&arp, "ip"), (&leases, "address")] {
            for r in rows {
                let name = text(r, "hostname");
                if let Some(ip) = text(r, ip_key) {
                    out.push(Candidate {
                        value: ip,
                        also: name.clone(),
                    });
                }
                if macs && let Some(mac) = text(r, "mac") {
                    out.push(Candidate {
                        value: mac,
                        also: name,
                    });
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_prefix_or_description_sorted_and_capped() {
        let c = vec![
            Candidate {
                value: "b-uuid".into(),
                also: Some("Allow SSH".into()),
            },
            Candidate::of("a-uuid"),
            Candidate::of("a-uuid"),
        ];
        let all = matching(c, "");
        assert_eq!(all.values, ["a-uuid", "b-uuid"]);
        let by_description = matching(
            vec![
                Candidate {
                    value: "b-uuid".into(),
                    also: Some("Allow SSH".into()),
                },
                Candidate::of("a-uuid"),
            ],
            "ssh",
        );
        assert_eq!(by_description.values, ["b-uuid"]);
        let many: Vec<Candidate> = (0..150)
            .map(|n| Candidate::of(format!("v{n:03}")))
            .collect();
        let capped = matching(many, "v");
        assert_eq!(capped.values.len(), 100);
        assert_eq!(capped.total, Some(150));
        assert_eq!(capped.has_more, Some(true));
    }

    #[test]
    fn sources_by_argument() {
        assert_eq!(
            prompt_source("open_port", "internal_host"),
            Some(Source::Hosts)
        );
        assert_eq!(
            prompt_source("audit_firewall", "interface"),
            Some(Source::Interfaces)
        );
        assert_eq!(prompt_source("open_port", "port"), None);
        assert_eq!(
            template_source("opnsense://default/rules/{uuid}", "uuid"),
            Some(Source::Rules)
        );
        assert_eq!(
            template_source("opnsense://default/nat/{uuid}", "uuid"),
            Some(Source::Nat)
        );
        assert_eq!(
            template_source("opnsense://{target}/rules/{uuid}", "x"),
            None
        );
        assert_eq!(
            template_source("opnsense://{target}/aliases/{uuid}", "uuid"),
            Some(Source::Aliases)
        );
        assert_eq!(
            template_tool("opnsense://{target}/nat/{uuid}"),
            Some("firewall_nat_list")
        );
        assert_eq!(template_tool("opnsense://{target}/nothing/{uuid}"), None);
    }
}

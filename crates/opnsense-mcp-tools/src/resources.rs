//! MCP resources: what each firewall (target) holds, readable without a tool call, as
//! `opnsense://{target}/...`: the running configuration (secrets redacted exactly as
//! `system_config_backup` does), the compact rule set, aliases, port forwards, interfaces and
//! DHCP leases, and one rule, alias or port forward by uuid (resource templates, whose
//! `{target}` and `{uuid}` are variables). Each read is the matching list tool's compact answer
//! over every page (JSON), or config.xml (XML).
//!
//! A target offers a resource only when its policy offers the tool behind it (a target whose
//! `tools_deny` hides `firewall_rule_list` has no `rules` resource). `resources/list` reads
//! nothing from the firewall: it lists no sizes (size is optional in MCP, and an exact one
//! needs the whole read); `resources/read` is exact.
//!
//! A client that subscribes to a resource is told when a write, apply or revert through this
//! server changes what it shows (see [`affected`] and [`crate::notify`]).

use crate::params::Parameters;
use opnsense_api::api::firewall::{ALIASES, DNAT_RULES, FILTER_RULES};
use opnsense_api::models::firewall::{Alias, FilterRule};
use opnsense_api::{Error as ApiError, Uuid};
use rmcp::ErrorData;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::OpnsenseTools;
use crate::common::{Item, ListParams, MAX_ROW_COUNT, RawParams, parse_uuid};
use crate::dhcp::LeaseListParams;
use crate::error::ToolError;
use crate::firewall_aliases::AliasView;
use crate::firewall_rules::RuleView;
use crate::notify::Progress;

/// The URI scheme.
pub const SCHEME: &str = "opnsense";

/// The template variable that names the target (`opnsense://{target}/rules/{uuid}`).
pub const TARGET_VAR: &str = "target";

/// Pages a whole-list resource reads at most (a million rows at 1000 a page): a bound, not a
/// limit any firewall reaches.
const MAX_PAGES: u32 = 1000;

/// A whole resource.
struct Def {
    path: &'static str,
    title: &'static str,
    description: &'static str,
    mime: &'static str,
    /// The tool whose answer it is: a target offers the resource only when it offers the tool.
    tool: &'static str,
}

const XML: &str = "application/xml";
const JSON: &str = "application/json";

const RESOURCES: [Def; 6] = [
    Def {
        path: "config",
        title: "Running configuration",
        description: "The running configuration (config.xml) with passwords, keys and other secrets redacted, exactly as system_config_backup returns it.",
        mime: XML,
        tool: "system_config_backup",
    },
    Def {
        path: "rules",
        title: "Firewall rules",
        description: "Every firewall filter rule in evaluation order, compact (as firewall_rule_list shows them, all pages); automatic and classic-GUI rules carry their origin.",
        mime: JSON,
        tool: "firewall_rule_list",
    },
    Def {
        path: "aliases",
        title: "Firewall aliases",
        description: "Every firewall alias, compact (as firewall_alias_list shows them, all pages).",
        mime: JSON,
        tool: "firewall_alias_list",
    },
    Def {
        path: "nat",
        title: "Port forwards",
        description: "Every port forward (destination NAT), compact (as firewall_nat_list shows them, all pages).",
        mime: JSON,
        tool: "firewall_nat_list",
    },
    Def {
        path: "interfaces",
        title: "Interfaces",
        description: "Every network device with its assignment, link state, MAC and addresses (as interface_config shows them).",
        mime: JSON,
        tool: "interface_config",
    },
    Def {
        path: "leases",
        title: "DHCP leases",
        description: "The current DHCPv4 leases of the Kea server (as dhcp_lease_list shows them, all pages).",
        mime: JSON,
        tool: "dhcp_lease_list",
    },
];

/// A one-record template: `{collection}/{uuid}`.
const TEMPLATES: [Def; 3] = [
    Def {
        path: "rules",
        title: "One firewall rule",
        description: "One firewall filter rule by uuid (as firewall_rule_get shows it).",
        mime: JSON,
        tool: "firewall_rule_get",
    },
    Def {
        path: "aliases",
        title: "One firewall alias",
        description: "One firewall alias by uuid, compact.",
        mime: JSON,
        tool: "firewall_alias_get_uuid",
    },
    Def {
        path: "nat",
        title: "One port forward",
        description: "One port forward (destination NAT) by uuid, compact.",
        mime: JSON,
        tool: "firewall_nat_list",
    },
];

/// What a URI names on its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind<'a> {
    /// A whole resource (`config`, `rules`, ...).
    Whole(&'static str),
    /// One record of a collection (`rules`, `aliases`, `nat`) by uuid.
    Record(&'static str, &'a str),
}

impl Kind<'_> {
    fn def(&self) -> Option<&'static Def> {
        match self {
            Kind::Whole(path) => RESOURCES.iter().find(|d| d.path == *path),
            Kind::Record(path, _) => TEMPLATES.iter().find(|d| d.path == *path),
        }
    }

    /// The tool whose answer the resource is (a target offers the resource only with it).
    pub fn tool(&self) -> &'static str {
        self.def().map_or("", |d| d.tool)
    }
}

/// A URI of this server taken apart: the target segment, as written (it names a target only
/// once looked up among the configured ones; it never reaches a URL), and what it names there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<'a> {
    /// The `{target}` segment.
    pub target: &'a str,
    /// What the rest names.
    pub kind: Kind<'a>,
}

/// The URI of `path` on `target`.
pub fn uri(target: &str, path: &str) -> String {
    format!("{SCHEME}://{target}/{path}")
}

/// The target segment of `uri`, if it is `opnsense://{target}/...` (nothing checked).
pub fn target_of(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix(SCHEME)?.strip_prefix("://")?;
    let (target, _) = rest.split_once('/')?;
    (!target.is_empty()).then_some(target)
}

/// What `uri` names, if it is one of this server's resources on some target (the target is not
/// looked up and the uuid of a record not checked here).
pub fn parse(uri: &str) -> Option<Parsed<'_>> {
    let target = target_of(uri)?;
    let rest = uri
        .strip_prefix(SCHEME)?
        .strip_prefix("://")?
        .strip_prefix(target)?
        .strip_prefix('/')?;
    let kind = match rest.split_once('/') {
        None => RESOURCES
            .iter()
            .find(|d| d.path == rest)
            .map(|d| Kind::Whole(d.path)),
        Some((collection, id)) if !id.is_empty() && !id.contains('/') => TEMPLATES
            .iter()
            .find(|d| d.path == collection)
            .map(|d| Kind::Record(d.path, id)),
        Some(_) => None,
    }?;
    Some(Parsed { target, kind })
}

/// The collection (`rules`, `aliases`, `nat`) a grid's records show in, if any.
fn collection_of(grid: &str) -> Option<&'static str> {
    if grid == FILTER_RULES.id {
        Some("rules")
    } else if grid == ALIASES.id {
        Some("aliases")
    } else if grid == DNAT_RULES.id {
        Some("nat")
    } else {
        None
    }
}

/// Whether a write, apply or revert in `grid` can change what `uri` shows: the configuration
/// always (every grid lives in config.xml), and the grid's own collection and records. The
/// target is not compared: each target's notifier holds only its own target's URIs.
pub fn affected(grid: &str, uri: &str) -> bool {
    match parse(uri).map(|p| p.kind) {
        Some(Kind::Whole("config")) => true,
        Some(Kind::Whole(path) | Kind::Record(path, _)) => collection_of(grid) == Some(path),
        None => false,
    }
}

/// `resources/templates/list`: one record of a collection on a target, both variables
/// (`{target}` completes to the target names, `{uuid}` to that target's records).
pub fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(
        TEMPLATES
            .iter()
            .map(|d| {
                ResourceTemplate::new(
                    format!("{SCHEME}://{{{TARGET_VAR}}}/{}/{{uuid}}", d.path),
                    format!("{}-record", d.path),
                )
                .with_title(d.title)
                .with_description(d.description)
                .with_mime_type(d.mime)
            })
            .collect(),
    )
}

/// A read failure as the protocol error a client gets.
fn read_error(uri: &str, e: &ToolError) -> ErrorData {
    ErrorData::internal_error(format!("cannot read {uri}: {}", e.text()), None)
}

/// The error for a URI that names nothing this server can read.
pub fn not_found(uri: &str, why: &str) -> ErrorData {
    ErrorData::resource_not_found(format!("{uri}: {why}"), Some(json!({"uri": uri})))
}

fn to_json(v: &impl Serialize) -> Result<String, ToolError> {
    serde_json::to_string_pretty(v)
        .map_err(|e| ToolError::message(format!("cannot encode the resource: {e}")))
}

impl OpnsenseTools {
    /// Whether this target's policy offers `kind` (the tool behind it).
    fn offers_resource(&self, kind: &Kind<'_>) -> bool {
        self.inner.router.has_route(kind.tool())
    }

    /// Checks that `uri` is one of this target's resources and that its policy offers it
    /// (for `resources/read` and `resources/subscribe`).
    pub fn resource_check<'u>(&self, uri: &'u str) -> Result<Kind<'u>, ErrorData> {
        let Some(parsed) = parse(uri) else {
            return Err(not_found(uri, "no such resource on this server"));
        };
        if parsed.target != self.target() {
            return Err(not_found(
                uri,
                &format!(
                    "there is no target {:?} here; this catalogue serves `{}`",
                    parsed.target,
                    self.target()
                ),
            ));
        }
        if !self.offers_resource(&parsed.kind) {
            return Err(not_found(
                uri,
                &format!(
                    "target `{}` does not offer it: its policy (read-only, toolsets, tools_allow/tools_deny) leaves out {}",
                    self.target(),
                    parsed.kind.tool()
                ),
            ));
        }
        Ok(parsed.kind)
    }

    /// This target's whole resources its policy offers, without sizes (nothing is read).
    /// `qualified`: names and titles carry the target (a server of several).
    pub fn resource_list(&self, qualified: bool) -> Vec<Resource> {
        RESOURCES
            .iter()
            .filter(|d| self.inner.router.has_route(d.tool))
            .map(|d| {
                let (name, title) = if qualified {
                    (
                        format!("{}/{}", self.target(), d.path),
                        format!("{} ({})", d.title, self.target()),
                    )
                } else {
                    (d.path.to_owned(), d.title.to_owned())
                };
                Resource::new(uri(self.target(), d.path), name)
                    .with_title(title)
                    .with_description(d.description)
                    .with_mime_type(d.mime)
            })
            .collect()
    }

    /// `resources/list` of this target alone.
    pub fn list_resources_now(&self) -> ListResourcesResult {
        ListResourcesResult::with_all_items(self.resource_list(false))
    }

    /// `resources/read`.
    pub async fn read_resource_uri(
        &self,
        uri: &str,
        progress: Option<Progress>,
    ) -> Result<ReadResourceResult, ErrorData> {
        let (text, mime) = match self.resource_check(uri)? {
            Kind::Whole(path) => {
                let mime = RESOURCES
                    .iter()
                    .find(|d| d.path == path)
                    .map_or(JSON, |d| d.mime);
                let text = self
                    .render(path, progress.as_ref())
                    .await
                    .map_err(|e| read_error(uri, &e))?;
                (text, mime)
            }
            Kind::Record(collection, id) => {
                let Ok(uuid) = parse_uuid(id) else {
                    return Err(not_found(uri, "not a uuid (8-4-4-4-12 hexadecimal digits)"));
                };
                match self.record(collection, &uuid).await {
                    Ok(Some(v)) => (to_json(&v).map_err(|e| read_error(uri, &e))?, JSON),
                    Ok(None) => return Err(not_found(uri, "no such record")),
                    Err(e) => return Err(read_error(uri, &e)),
                }
            }
        };
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, uri).with_mime_type(mime),
        ]))
    }

    /// A whole resource's text.
    async fn render(&self, path: &str, progress: Option<&Progress>) -> Result<String, ToolError> {
        match path {
            "config" => Ok(self.config_xml(false).await?.0),
            "rules" => {
                let v = self
                    .all_pages(progress, |q| async move {
                        self.firewall_rule_list(Parameters(q)).await.map(|j| j.0)
                    })
                    .await?;
                to_json(&v)
            }
            "aliases" => {
                let v = self
                    .all_pages(progress, |q| async move {
                        self.firewall_alias_list(Parameters(q)).await.map(|j| j.0)
                    })
                    .await?;
                to_json(&v)
            }
            "nat" => to_json(&self.all_nat(progress).await?),
            "interfaces" => to_json(
                &self
                    .interface_config(Parameters(RawParams { raw: false }))
                    .await?
                    .0,
            ),
            "leases" => {
                let v = self
                    .all_pages(progress, |q| async move {
                        self.dhcp_lease_list(Parameters(LeaseListParams {
                            current: q.current,
                            row_count: q.row_count,
                            ..LeaseListParams::default()
                        }))
                        .await
                        .map(|j| j.0)
                    })
                    .await?;
                to_json(&v)
            }
            other => Err(ToolError::message(format!("no resource {other}"))),
        }
    }

    async fn all_nat(&self, progress: Option<&Progress>) -> Result<Value, ToolError> {
        self.all_pages(progress, |q| async move {
            self.firewall_nat_list(Parameters(q)).await.map(|j| j.0)
        })
        .await
    }

    /// Every page of a list tool, as one `{total, rows, note?}` (each page's other counts
    /// summed): progress is reported per page.
    async fn all_pages<T, F, Fut>(
        &self,
        progress: Option<&Progress>,
        page: F,
    ) -> Result<Value, ToolError>
    where
        T: Serialize,
        F: Fn(ListParams) -> Fut,
        Fut: std::future::Future<Output = Result<crate::common::Listing<T>, ToolError>>,
    {
        let mut rows: Vec<Value> = Vec::new();
        let mut out = Map::new();
        let mut total = 0u64;
        for n in 1..=MAX_PAGES {
            let listing = page(ListParams {
                current: Some(n),
                row_count: Some(i64::from(MAX_ROW_COUNT)),
                ..ListParams::default()
            })
            .await?;
            total = listing.total;
            let done =
                listing.next.is_none() || (listing.rows.is_empty() && listing.undecoded.is_empty());
            let Value::Object(mut v) = serde_json::to_value(&listing)
                .map_err(|e| ToolError::message(format!("cannot encode a page: {e}")))?
            else {
                return Err(ToolError::message("a page is not an object"));
            };
            // Rows one by one as objects: a long page is a table (`columns`, `common`, rows of
            // values) whose columns differ from page to page, so pages cannot be joined as sent.
            for key in ["rows", "columns", "common"] {
                v.remove(key);
            }
            for row in &listing.rows {
                rows.push(
                    serde_json::to_value(row)
                        .map_err(|e| ToolError::message(format!("cannot encode a row: {e}")))?,
                );
            }
            if let Some(Value::Array(u)) = v.remove("undecoded") {
                let undecoded = out
                    .entry("undecoded")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(all) = undecoded {
                    all.extend(u);
                }
            }
            for key in ["automatic", "legacy"] {
                if let Some(k) = v.get(key).and_then(Value::as_u64) {
                    let sum = out.get(key).and_then(Value::as_u64).unwrap_or(0) + k;
                    out.insert(key.to_owned(), Value::from(sum));
                }
            }
            if let Some(note) = v.remove("note") {
                out.insert("note".to_owned(), note);
            }
            if let Some(p) = progress {
                let read = u64::try_from(rows.len()).unwrap_or(u64::MAX);
                p.report(read, Some(total.max(read)), format!("read page {n}"))
                    .await;
            }
            if done {
                break;
            }
        }
        out.insert("total".to_owned(), Value::from(total));
        out.insert("returned".to_owned(), Value::from(rows.len()));
        out.insert("rows".to_owned(), Value::Array(rows));
        Ok(Value::Object(out))
    }

    /// One record in compact form, `None` when there is none with this uuid.
    async fn record(&self, collection: &str, uuid: &Uuid) -> Result<Option<Value>, ToolError> {
        fn found(r: Result<Value, ApiError>) -> Result<Option<Value>, ToolError> {
            match r {
                Ok(v) => Ok(Some(v)),
                Err(ApiError::NotFound { .. }) => Ok(None),
                Err(e) => Err(ToolError::from(e)),
            }
        }
        fn value<T: Serialize>(item: &Item<T>) -> Result<Option<Value>, ToolError> {
            serde_json::to_value(item)
                .map(Some)
                .map_err(|e| ToolError::message(format!("cannot encode the record: {e}")))
        }
        match collection {
            "rules" => match found(self.client().firewall().filter().get_raw(uuid).await)? {
                Some(v) => value(&Item::from_record::<FilterRule>(
                    uuid,
                    false,
                    v,
                    RuleView::from,
                )?),
                None => Ok(None),
            },
            "aliases" => match found(self.client().firewall().alias().get_raw(uuid).await)? {
                Some(v) => value(&Item::from_record::<Alias>(
                    uuid,
                    false,
                    v,
                    AliasView::from,
                )?),
                None => Ok(None),
            },
            "nat" => {
                // The compact port-forward view is built from search rows: find it there.
                let all = self.all_nat(None).await?;
                let id = uuid.to_string();
                Ok(all
                    .get("rows")
                    .and_then(Value::as_array)
                    .and_then(|rows| {
                        rows.iter()
                            .find(|r| r.get("uuid").and_then(Value::as_str) == Some(id.as_str()))
                    })
                    .map(|row| json!({"uuid": id, "item": row})))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(path: &str) -> String {
        uri("office", path)
    }

    #[test]
    fn uris_round_trip_and_strangers_are_refused() {
        let whole = |t, k| Some(Parsed { target: t, kind: k });
        assert_eq!(parse(&on("rules")), whole("office", Kind::Whole("rules")));
        assert_eq!(
            parse(&uri("branch-2", "config")),
            whole("branch-2", Kind::Whole("config"))
        );
        assert_eq!(
            parse(&on("nat/abc")),
            whole("office", Kind::Record("nat", "abc"))
        );
        assert_eq!(
            parse("opnsense://{target}/rules/{uuid}"),
            whole("{target}", Kind::Record("rules", "{uuid}"))
        );
        assert_eq!(target_of("opnsense://lab/whatever"), Some("lab"));
        for bad in [
            "opnsense://default/secrets",
            "opnsense://default/config/x",
            "opnsense://default/rules/",
            "opnsense://default/rules/a/b",
            "opnsense:///rules",
            "file:///etc/passwd",
            "opnsense://default",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(target_of("opnsense:///rules"), None);
        assert_eq!(Kind::Whole("rules").tool(), "firewall_rule_list");
        assert_eq!(
            Kind::Record("aliases", "x").tool(),
            "firewall_alias_get_uuid"
        );
    }

    #[test]
    fn templates_have_a_target_and_a_uuid_variable() {
        let t = templates();
        assert_eq!(t.resource_templates.len(), TEMPLATES.len());
        for tpl in &t.resource_templates {
            let parsed = parse(&tpl.uri_template).expect("a template parses");
            assert_eq!(parsed.target, "{target}");
            assert!(
                matches!(parsed.kind, Kind::Record(_, "{uuid}")),
                "{parsed:?}"
            );
        }
    }

    #[test]
    fn a_grid_touches_the_config_and_its_own_collection() {
        let rule = on("rules/0f4d8f52-26a4-4c3e-9b1e-1a2b3c4d5e6f");
        assert!(affected(FILTER_RULES.id, &on("rules")));
        assert!(affected(FILTER_RULES.id, &rule));
        assert!(affected(FILTER_RULES.id, &on("config")));
        assert!(!affected(FILTER_RULES.id, &on("aliases")));
        assert!(!affected(ALIASES.id, &rule));
        assert!(affected(ALIASES.id, &on("aliases")));
        assert!(affected(DNAT_RULES.id, &on("nat")));
        // Routes live in config.xml only.
        assert!(affected("routes.route", &on("config")));
        assert!(!affected("routes.route", &on("rules")));
        assert!(!affected(FILTER_RULES.id, &on("leases")));
    }
}

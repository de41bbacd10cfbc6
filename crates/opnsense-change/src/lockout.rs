//! Gathers what the lockout pre-flight needs from the firewall (the staged filter rules and port
//! forwards, the aliases, the interfaces, this server's own path, the rules the change touches
//! with their before-state, each by the grid it was written in) and runs
//! [`crate::preflight::preflight`].

use opnsense_api::api::firewall::{ALIASES, DNAT_RULES, FILTER_RULES};
use opnsense_api::api::interfaces::overview_request;
use opnsense_api::fields::decode_lenient;
use opnsense_api::grid::GridDesc;
use opnsense_api::models::firewall::{Alias, DNatRow, DNatRule, FilterRule, NatEndpoint};
use opnsense_api::{SearchPage, SearchQuery};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::engine::{Engine, Result};
use crate::journal::{Entry, Op};
use crate::pf::{Aliases, Network};
use crate::preflight::{ApiPath, Preflight, PreflightInput, RuleChange, preflight};

/// The pre-flight's outcome, as the engine records it.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The whole result, for the change's detail and the tool's answer.
    pub verdict: Value,
    /// Why the apply must not go ahead (`None`: it may).
    pub refusal: Option<String>,
}

/// Every row of a search, decoded leniently (a row that does not decode at all is left out and
/// named in `skipped`).
async fn all_rows<T: DeserializeOwned>(
    engine: &Engine,
    desc: &'static GridDesc,
    skipped: &mut Vec<String>,
) -> Result<Vec<T>> {
    let page: SearchPage<Value> = engine
        .client()
        .raw_grid(desc)
        .search_raw(&SearchQuery::all())
        .await?;
    let mut out = Vec::with_capacity(page.rows.len());
    for (i, row) in page.rows.iter().enumerate() {
        match decode_lenient::<T>(row) {
            Ok(l) => out.push(l.value),
            Err(e) => skipped.push(format!("{} row {i}: {e}", desc.kind)),
        }
    }
    Ok(out)
}

/// A port forward in get/set shape as the flat search-row shape the evaluator reads.
fn as_row(uuid: &str, rule: &DNatRule) -> DNatRow {
    let split = |e: &Option<NatEndpoint>| {
        e.as_ref().map_or((None, None, None), |e| {
            (e.network.clone(), e.port.clone(), e.invert)
        })
    };
    let (sn, sp, snot) = split(&rule.source);
    let (dn, dp, dnot) = split(&rule.destination);
    DNatRow {
        uuid: uuid.to_owned(),
        is_automatic: None,
        fields: rule.fields.clone(),
        source_network: sn,
        source_port: sp,
        source_not: snot,
        destination_network: dn,
        destination_port: dp,
        destination_not: dnot,
        extra: opnsense_api::fields::Extra::default(),
    }
}

/// The rules a change touches, with their before-state (`None` for an add), in the shape `T`
/// the evaluator reads.
fn changes<T>(staged: &[Entry], before: impl Fn(&str, &Value) -> Option<T>) -> Vec<RuleChange<T>> {
    staged
        .iter()
        .filter_map(|e| {
            let id = e.uuid.clone()?;
            let prior = match e.op {
                Op::Add => None,
                Op::Set | Op::Delete => e.before.as_ref().and_then(|b| before(&id, b)),
            };
            Some(RuleChange { id, before: prior })
        })
        .collect()
}

/// Blind spots shown at most; the rest are counted.
const BLIND_SPOTS_SHOWN: usize = 10;

/// ` (rule <id> "<description>")`, or nothing.
fn rule_label(rule: Option<&crate::pf::RuleRef>) -> String {
    rule.map(|rule| match &rule.description {
        Some(d) => format!(" (rule {} \"{d}\")", rule.id),
        None => format!(" (rule {})", rule.id),
    })
    .unwrap_or_default()
}

/// The verdict as an AI reads it: per flow its status and why, before and after; the first
/// blind spots and how many more; what could not be read.
fn compact(result: &Preflight, unread: &[String]) -> Value {
    let flows: Vec<Value> = result
        .verdicts
        .iter()
        .map(|v| {
            serde_json::json!({
                "flow": v.name,
                "sources": v.sources,
                "status": v.status,
                "before": v.before.why,
                "after": format!("{}{}", v.after.why, rule_label(v.after.rule.as_ref())),
            })
        })
        .collect();
    let mut out = serde_json::json!({
        "summary": result.summary,
        "certain": result.uncertain().next().is_none(),
        "flows": flows,
    });
    if let Some(r) = &result.refusal {
        out["refusal"] = serde_json::json!({
            "flow": r.flow,
            "why": r.why,
            "rule": r.rule.as_ref().map(|rule| serde_json::json!({
                "id": rule.id,
                "description": rule.description,
            })),
        });
    }
    if !result.blind_spots.is_empty() {
        out["blind_spots"] = result
            .blind_spots
            .iter()
            .take(BLIND_SPOTS_SHOWN)
            .cloned()
            .collect();
        let more = result.blind_spots.len().saturating_sub(BLIND_SPOTS_SHOWN);
        if more > 0 {
            out["blind_spots_not_shown"] = Value::from(more);
        }
    }
    if !unread.is_empty() {
        out["unread"] = Value::from(unread.to_vec());
    }
    out
}

/// Runs the pre-flight for an apply of the filter reload group with the writes `staged` through
/// this server, each taken by its own grid: filter rules and port forwards are the rules the
/// change touches; outbound NAT rules (and any other grid) cannot cut a flow to the firewall off
/// by themselves and are left out of the evaluation (they are applied and journaled all the same).
pub async fn check(engine: &Engine, staged: &[Entry]) -> Result<Verdict> {
    let client = engine.client();
    let mut skipped = Vec::new();
    let filter_rules: Vec<FilterRule> = all_rows(engine, &FILTER_RULES.desc, &mut skipped).await?;
    let nat_rules: Vec<DNatRow> = all_rows(engine, &DNAT_RULES.desc, &mut skipped).await?;
    let aliases: Vec<Alias> = all_rows(engine, &ALIASES.desc, &mut skipped).await?;
    // Without the interface overview (no privilege for it, or a release without it) the
    // firewall's own addresses are unknown: the verdict says so instead of blocking the apply.
    let overview: Value = match client.send_json(overview_request()).await {
        Ok(v) => v,
        Err(e) => {
            skipped.push(format!(
                "the interfaces and their addresses are unknown (interfaces/overview/interfacesInfo: {e})"
            ));
            Value::Null
        }
    };
    let api = match client.connection_path().await {
        Ok((local, remote)) => Some(ApiPath {
            local: local.ip(),
            firewall: remote.ip(),
            port: remote.port(),
            interface: None,
        }),
        Err(e) => {
            skipped.push(format!(
                "this server's own path to the API is unknown ({e})"
            ));
            None
        }
    };
    let in_grid =
        |id: &str| -> Vec<Entry> { staged.iter().filter(|e| e.grid == id).cloned().collect() };
    // The journaled before-state is in settable form, which has no uuid: without it the rule
    // would read as an automatic row ("row 18446744073709551615").
    let filter_changes = changes(&in_grid(FILTER_RULES.id), |id, b| {
        serde_json::from_value::<FilterRule>(b.clone())
            .ok()
            .map(|mut rule| {
                rule.uuid = Some(id.to_owned());
                rule
            })
    });
    let nat_changes = changes(&in_grid(DNAT_RULES.id), |id, b| {
        serde_json::from_value::<DNatRule>(b.clone())
            .ok()
            .map(|r| as_row(id, &r))
    });
    let input = PreflightInput {
        network: Network::from_overview(&overview),
        aliases: Aliases::from_rows(&aliases),
        api,
        protect: engine.settings().protect.clone(),
        filter_rules,
        nat_rules,
        filter_changes,
        nat_changes,
        antilockout: None,
        nat_reflection_default: None,
    };
    let result: Preflight = preflight(&input);
    let verdict = compact(&result, &skipped);
    let refusal = result
        .refusal
        .as_ref()
        .map(|r| format!("{}: {}{}", r.flow, r.why, rule_label(r.rule.as_ref())));
    Ok(Verdict { verdict, refusal })
}

//! The two OPNsense search flavours: `searchBase`/UIModelGrid (model grids: params from
//! body or query, `rowCount` default -1) and `searchRecordsetBase` (filter rules, IDS
//! rulesets, Kea leases: params from the POST body only, `rowCount` default 9999).

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use crate::reply::Req;

/// Paging, phrase and sort parameters of a search request.
#[derive(Debug, Clone)]
pub(crate) struct SearchParams {
    pub current: i64,
    pub row_count: i64,
    pub phrase: String,
    pub sort: Vec<String>,
    pub descending: bool,
}

fn as_int(v: Option<Value>, default: i64) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(default),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(default),
        _ => default,
    }
}

fn sort_keys(v: Option<&Value>, all_keys: bool) -> (Vec<String>, bool) {
    let Some(Value::Object(sort)) = v else {
        return (Vec::new(), false);
    };
    let descending = sort
        .values()
        .next()
        .and_then(Value::as_str)
        .is_some_and(|d| !d.eq_ignore_ascii_case("asc"));
    let keys: Vec<String> = sort.keys().cloned().collect();
    let keys = if all_keys {
        keys
    } else {
        keys.into_iter().take(1).collect()
    };
    (keys, descending)
}

impl SearchParams {
    /// UIModelGrid: `current`/`rowCount`/`searchPhrase` from body or query, `sort` from
    /// the body (all keys are sort columns, direction of the first).
    pub fn grid(req: &Req) -> SearchParams {
        let (sort, descending) = sort_keys(req.body.get("sort"), true);
        SearchParams {
            current: as_int(req.get_any("current"), 1).max(1),
            row_count: as_int(req.get_any("rowCount"), -1),
            phrase: phrase(req.get_any("searchPhrase")),
            sort,
            descending,
        }
    }

    /// searchRecordsetBase: everything from the POST body; first sort key only.
    pub fn recordset(req: &Req) -> SearchParams {
        let body = |k: &str| {
            if req.is_post {
                req.body.get(k).cloned()
            } else {
                None
            }
        };
        let (sort, descending) = if req.is_post {
            sort_keys(req.body.get("sort"), false)
        } else {
            (Vec::new(), false)
        };
        SearchParams {
            current: as_int(body("current"), 1).max(1),
            row_count: as_int(body("rowCount"), 9999),
            phrase: phrase(body("searchPhrase")),
            sort,
            descending,
        }
    }
}

fn phrase(v: Option<Value>) -> String {
    match v {
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// `searchRecordsetBase()`: a clause matches when it is a case-insensitive substring of
/// any value of the row (arrays flattened and joined with spaces); every clause must match.
fn matches_recordset(row: &Map<String, Value>, tokens: &[String]) -> bool {
    fn flatten(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Bool(true) => out.push("1".into()),
            Value::Array(a) => a.iter().for_each(|x| flatten(x, out)),
            Value::Object(o) => o.values().for_each(|x| flatten(x, out)),
            _ => {}
        }
    }
    let hay: Vec<String> = row
        .values()
        .map(|v| {
            let mut parts = Vec::new();
            flatten(v, &mut parts);
            parts.join(" ").to_lowercase()
        })
        .collect();
    tokens
        .iter()
        .all(|t| hay.iter().any(|h| h.contains(t.as_str())))
}

/// UIModelGrid: each token must be found in one of the search `fields`, looking at the
/// field's `%` description when it has one, else its raw value (`"0"` never matches).
fn matches_grid(row: &Map<String, Value>, tokens: &[String], fields: &[String]) -> bool {
    tokens.iter().all(|t| {
        fields.iter().any(|f| {
            let item = row
                .get(&format!("%{f}"))
                .or_else(|| row.get(f))
                .and_then(Value::as_str)
                .unwrap_or_default();
            !item.is_empty() && item != "0" && item.to_lowercase().contains(t.as_str())
        })
    })
}

/// Where a search phrase is looked for.
pub(crate) enum Searched<'a> {
    /// `searchRecordsetBase()`: every value of the row.
    Recordset,
    /// UIModelGrid: these model fields (plus `uuid` when a token is a uuid).
    Grid(&'a [String]),
}

/// Sort key of a row: its lower-cased sort columns, compared naturally.
#[derive(PartialEq, Eq)]
struct NaturalKey(Vec<String>);

impl Ord for NaturalKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| natural_cmp_lower(a, b))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for NaturalKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Natural, case-insensitive comparison (`rule2` < `rule10`).
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    natural_cmp_lower(&a.to_lowercase(), &b.to_lowercase())
}

/// [`natural_cmp`] of already lower-cased text.
fn natural_cmp_lower(a: &str, b: &str) -> Ordering {
    let (mut ai, mut bi) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (ai.peek().copied(), bi.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let mut na = String::new();
                while let Some(c) = ai.peek().copied().filter(char::is_ascii_digit) {
                    na.push(c);
                    ai.next();
                }
                let mut nb = String::new();
                while let Some(c) = bi.peek().copied().filter(char::is_ascii_digit) {
                    nb.push(c);
                    bi.next();
                }
                let (ta, tb) = (na.trim_start_matches('0'), nb.trim_start_matches('0'));
                let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                ai.next();
                bi.next();
            }
        }
    }
}

fn sort_value(row: &Map<String, Value>, key: &str) -> String {
    match row.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) if !other.is_null() => other.to_string(),
        _ => String::new(),
    }
}

/// Filters, sorts and pages `rows`; returns (page rows, total matches).
fn run(
    rows: Vec<Map<String, Value>>,
    params: &SearchParams,
    default_sort: &str,
    searched: &Searched<'_>,
) -> (Vec<Value>, usize) {
    let mut rows: Vec<Map<String, Value>> = match searched {
        Searched::Recordset => {
            let tokens: Vec<String> = params
                .phrase
                .split_whitespace()
                .map(str::to_lowercase)
                .collect();
            rows.into_iter()
                .filter(|r| matches_recordset(r, &tokens))
                .collect()
        }
        Searched::Grid(fields) => {
            // array_filter(explode(' ', ...)): empty and "0" tokens are dropped.
            let raw: Vec<&str> = params
                .phrase
                .split(' ')
                .filter(|t| !t.is_empty() && *t != "0")
                .collect();
            let mut fields = fields.to_vec();
            if raw.iter().any(|t| crate::crud::is_uuid(t)) {
                fields.push("uuid".to_owned());
            }
            let tokens: Vec<String> = raw.into_iter().map(str::to_lowercase).collect();
            rows.into_iter()
                .filter(|r| matches_grid(r, &tokens, &fields))
                .collect()
        }
    };
    let keys: Vec<String> = if params.sort.is_empty() {
        if default_sort.is_empty() {
            Vec::new()
        } else {
            vec![default_sort.to_owned()]
        }
    } else {
        params.sort.clone()
    };
    if !keys.is_empty() {
        // Keys are computed once per row (not per comparison): searches over thousands of
        // rules stay cheap.
        rows.sort_by_cached_key(|r| {
            NaturalKey(
                keys.iter()
                    .map(|k| sort_value(r, k).to_lowercase())
                    .collect(),
            )
        });
        if params.descending {
            rows.reverse();
        }
    }
    let total = rows.len();
    let page: Vec<Value> = if params.row_count > 0 {
        let size = usize::try_from(params.row_count).unwrap_or(usize::MAX);
        let offset = usize::try_from(params.current - 1)
            .unwrap_or(0)
            .saturating_mul(size);
        rows.into_iter()
            .skip(offset)
            .take(size)
            .map(Value::Object)
            .collect()
    } else {
        rows.into_iter().map(Value::Object).collect()
    };
    (page, total)
}

/// UIModelGrid answer: `{rows,rowCount,total,current}`.
pub(crate) fn grid(
    rows: Vec<Map<String, Value>>,
    params: &SearchParams,
    default_sort: &str,
    fields: &[String],
) -> Value {
    let (page, total) = run(rows, params, default_sort, &Searched::Grid(fields));
    let count = page.len();
    json!({"rows": page, "rowCount": count, "total": total, "current": params.current})
}

/// searchRecordsetBase answer: `{total,rowCount,current,rows}`.
pub(crate) fn recordset(
    rows: Vec<Map<String, Value>>,
    params: &SearchParams,
    default_sort: &str,
) -> Value {
    let (page, total) = run(rows, params, default_sort, &Searched::Recordset);
    let count = page.len();
    json!({"total": total, "rowCount": count, "current": params.current, "rows": page})
}

/// Like [`grid`] but also returns the page so callers can prepend pseudo rows.
pub(crate) fn grid_parts(
    rows: Vec<Map<String, Value>>,
    params: &SearchParams,
    default_sort: &str,
    fields: &[String],
) -> (Vec<Value>, usize) {
    run(rows, params, default_sort, &Searched::Grid(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("rule2", "rule10"), Ordering::Less);
        assert_eq!(natural_cmp("Alpha", "alpha"), Ordering::Equal);
        assert_eq!(
            natural_cmp("400000.0000100", "200000.0000900"),
            Ordering::Greater
        );
    }
}

//! Search pages read leniently straight from the answer's bytes (`LenientPage::decode`, used by
//! `RawGrid::search_lenient`) are the same as the rows of the parsed page decoded one by one
//! (`LenientPage::from_values`, what list tools did before): for every recorded search answer,
//! and for answers with rows of an unexpected shape, rows as an object, odd paging fields and
//! bodies that are not JSON. And the typed search of a grid reads the same rows either way.

mod common;

use common::{client, json};
use opnsense_api::fields::Extra;
use opnsense_api::grid::{LenientPage, LenientRow, SearchRow};
use opnsense_api::models::firewall::{Alias, FilterRule};
use opnsense_api::models::routes::Route;
use opnsense_api::models::source_nat::SNatRule;
use opnsense_api::models::unbound::{Forward, HostOverride};
use opnsense_api::{Error, SearchPage, SearchQuery};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

const PATH: &str = "firewall/filter/search_rule";

/// The old way: the body parsed as JSON, the page decoded, each row decoded leniently.
fn by_values<M: DeserializeOwned>(body: &[u8]) -> Result<LenientPage<M>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let page: SearchPage<Value> =
        serde_json::from_value(v).map_err(|e| format!("unexpected shape: {e}"))?;
    Ok(LenientPage::from_values(page))
}

fn same<M: DeserializeOwned + PartialEq + std::fmt::Debug>(label: &str, body: &[u8]) {
    let fast = LenientPage::<M>::decode(PATH, body);
    match (by_values::<M>(body), fast) {
        (Ok(old), Ok(new)) => assert_eq!(old, new, "{label}"),
        (Err(_), Err(Error::InvalidResponse { .. })) => {}
        (old, new) => panic!("{label}: {old:?} != {new:?}"),
    }
}

/// Reading `M`'s search-row twin gives `M` without its `extra` (which `clear` empties), every
/// row kept with the same `unparsed` fields, or fails the same way.
fn same_through_row<M>(label: &str, body: &[u8], clear: fn(&mut M))
where
    M: SearchRow + PartialEq + std::fmt::Debug,
{
    let full = LenientPage::<M>::decode(PATH, body);
    let twin = LenientPage::<M::Row>::decode(PATH, body);
    match (full, twin) {
        (Ok(mut full), Ok(twin)) => {
            assert!(
                !full.rows.is_empty() || label.contains("empty"),
                "{label}: no rows"
            );
            for row in &mut full.rows {
                if let LenientRow::Decoded(r) = row {
                    clear(&mut r.value);
                }
            }
            let twin: Vec<LenientRow<M>> =
                twin.rows.into_iter().map(LenientRow::into_record).collect();
            assert_eq!(full.rows, twin, "{label}");
        }
        (Err(_), Err(_)) => {}
        (full, twin) => panic!("{label}: {:?} != {:?}", full.is_ok(), twin.is_ok()),
    }
}

fn corpus(dir: &str) -> Vec<(String, Vec<u8>)> {
    let root = format!("{}/tests/corpus/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{root}: {e}"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).expect("read")))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no captures in {root}");
    out
}

fn fixture(area: &str, name: &str) -> Vec<u8> {
    common::fixture_text(area, name).into_bytes()
}

#[test]
fn every_recorded_search_answer_reads_the_same_from_bytes() {
    for (name, body) in corpus("firewall__filter__search_rule") {
        same::<FilterRule>(&name, &body);
    }
    for (name, body) in corpus("firewall__alias__search_item") {
        same::<Alias>(&name, &body);
    }
    for (name, body) in corpus("routes__routes__searchroute") {
        same::<Route>(&name, &body);
    }
    for name in ["search_rule.json", "search_rule_with_legacy.json"] {
        same::<FilterRule>(name, &fixture("firewall", name));
    }
    same::<Alias>(
        "alias_search_item",
        &fixture("firewall", "alias_search_item.json"),
    );
    same::<Route>("searchroute", &fixture("routes", "searchroute.json"));
}

#[test]
fn search_row_twins_read_every_recorded_answer_as_the_record_without_extra() {
    let mut checked = 0;
    for (name, body) in corpus("firewall__filter__search_rule") {
        same_through_row::<FilterRule>(&name, &body, |r| r.extra = Extra::default());
        checked += 1;
    }
    for (name, body) in corpus("firewall__alias__search_item") {
        same_through_row::<Alias>(&name, &body, |r| r.extra = Extra::default());
        checked += 1;
    }
    for (name, body) in corpus("routes__routes__searchroute") {
        same_through_row::<Route>(&name, &body, |r| r.extra = Extra::default());
        checked += 1;
    }
    for (area, name) in [
        ("firewall", "search_rule.json"),
        ("firewall", "search_rule_with_legacy.json"),
    ] {
        same_through_row::<FilterRule>(name, &fixture(area, name), |r| {
            r.extra = Extra::default();
        });
    }
    for (name, body) in corpus_if_any("firewall__source_nat__search_rule") {
        same_through_row::<SNatRule>(&name, &body, |r| r.extra = Extra::default());
        checked += 1;
    }
    for (name, body) in corpus_if_any("unbound__settings__searchHostOverride") {
        same_through_row::<HostOverride>(&name, &body, |r| {
            r.extra = Extra::default();
            for c in &mut r.children {
                c.extra = Extra::default();
            }
        });
        checked += 1;
    }
    for (name, body) in corpus_if_any("unbound__settings__searchForward") {
        same_through_row::<Forward>(&name, &body, |r| r.extra = Extra::default());
        checked += 1;
    }
    assert!(checked >= 3, "{checked} captures");
    // The odd pages too: unparsed fields, rows that are no record, extra fields of any shape.
    let odd = [
        (
            "a field of an unexpected shape",
            json!({"enabled": "maybe"}),
        ),
        ("a row that is not an object", json!("row")),
        (
            "a sort_order of an odd shape",
            json!({"sort_order": {"a": [1]}}),
        ),
    ];
    for (label, change) in odd {
        let body = page_with(|p| match change {
            Value::Object(fields) => {
                for (k, v) in fields {
                    p["rows"][0][k] = v;
                }
            }
            other => p["rows"][1] = other,
        });
        same_through_row::<FilterRule>(label, &body, |r| r.extra = Extra::default());
    }
}

/// The captures in `tests/corpus/{dir}`, none when the directory does not exist.
fn corpus_if_any(dir: &str) -> Vec<(String, Vec<u8>)> {
    let root = format!("{}/tests/corpus/{dir}", env!("CARGO_MANIFEST_DIR"));
    if std::path::Path::new(&root).is_dir() {
        corpus(dir)
    } else {
        Vec::new()
    }
}

/// A page of filter rows with `edit` applied to the first row.
fn page_with(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut page: Value =
        serde_json::from_slice(&fixture("firewall", "search_rule_with_legacy.json"))
            .expect("fixture");
    edit(&mut page);
    serde_json::to_vec(&page).expect("json")
}

#[test]
fn odd_rows_are_kept_as_the_row_by_row_decoding_keeps_them() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a field of an unexpected shape",
            page_with(|p| p["rows"][0]["enabled"] = json!("maybe")),
        ),
        (
            "a row that is not an object",
            page_with(|p| p["rows"][1] = json!("row")),
        ),
        (
            "a row that is a list",
            page_with(|p| p["rows"][0] = json!([1, 2])),
        ),
        (
            "rows as an object",
            page_with(|p| {
                let rows = p["rows"].as_array().cloned().unwrap_or_default();
                p["rows"] = Value::Object(
                    rows.into_iter()
                        .enumerate()
                        .map(|(i, r)| (format!("r{i}"), r))
                        .collect(),
                );
            }),
        ),
        (
            "rows as []-like empties",
            page_with(|p| p["rows"] = json!("")),
        ),
        ("rows null", page_with(|p| p["rows"] = Value::Null)),
        ("rows false", page_with(|p| p["rows"] = json!(false))),
        ("total as a string", page_with(|p| p["total"] = json!("7"))),
        (
            "rowCount not a number",
            page_with(|p| p["rowCount"] = json!("many")),
        ),
        (
            "no total",
            page_with(|p| {
                p.as_object_mut().map(|m| m.remove("total"));
            }),
        ),
        (
            "no rows",
            page_with(|p| {
                p.as_object_mut().map(|m| m.remove("rows"));
            }),
        ),
        ("rows a number", page_with(|p| p["rows"] = json!(3))),
        (
            "extra top-level keys",
            page_with(|p| p["interfaces"] = json!({"lan": "LAN"})),
        ),
        ("a page that is a list", b"[1, 2, []]".to_vec()),
        ("truncated", page_with(|_| {})[..100].to_vec()),
        ("HTML", b"<html>login</html>".to_vec()),
    ];
    for (label, body) in &cases {
        same::<FilterRule>(label, body);
    }
    // The odd rows are really there, and nothing is dropped.
    let page = LenientPage::<FilterRule>::decode(PATH, &cases[0].1).expect("page");
    let LenientRow::Decoded(first) = &page.rows[0] else {
        panic!("first row undecoded")
    };
    assert_eq!(first.unparsed.get("enabled"), Some(&json!("maybe")));
    let page = LenientPage::<FilterRule>::decode(PATH, &cases[1].1).expect("page");
    assert_eq!(page.rows[1], LenientRow::Undecoded(json!("row")));
    let sent: Value = serde_json::from_slice(&cases[1].1).expect("json");
    assert_eq!(Some(page.rows.len()), sent["rows"].as_array().map(Vec::len));
}

#[test]
fn a_body_that_is_not_json_says_why() {
    let e = LenientPage::<FilterRule>::decode(PATH, b"<html>login</html>").expect_err("html");
    assert!(e.to_string().contains("HTML"), "{e}");
    let e = LenientPage::<FilterRule>::decode(PATH, br#"{"total": 1, "rows": ["#).expect_err("cut");
    assert!(e.to_string().contains("truncated"), "{e}");
    let e = LenientPage::<FilterRule>::decode(PATH, br#"{"result": "failed"}"#).expect_err("shape");
    assert!(e.to_string().contains("unexpected shape"), "{e}");
}

#[tokio::test]
async fn grid_searches_read_the_same_rows_through_the_client() {
    let server = MockServer::start().await;
    let body = fixture("firewall", "search_rule_with_legacy.json");
    Mock::given(method("POST"))
        .and(path(format!("/api/{PATH}")))
        .respond_with(json(serde_json::from_slice(&body).expect("fixture")))
        .mount(&server)
        .await;
    let c = client(&server).await;
    let filter = c.firewall().filter();
    let lenient = filter
        .search_lenient::<FilterRule>(&SearchQuery::all())
        .await
        .expect("lenient");
    assert_eq!(Ok(lenient.clone()), by_values::<FilterRule>(&body));
    // Through the search-row twin: the same rows, without `extra`.
    let rows = filter
        .search_rows::<FilterRule>(&SearchQuery::all())
        .await
        .expect("rows");
    let without_extra = |p: &LenientPage<FilterRule>| -> Vec<LenientRow<FilterRule>> {
        p.rows
            .iter()
            .cloned()
            .map(|r| match r {
                LenientRow::Decoded(mut l) => {
                    l.value.extra = Extra::default();
                    LenientRow::Decoded(l)
                }
                other @ LenientRow::Undecoded(_) => other,
            })
            .collect()
    };
    assert_eq!(rows.total, lenient.total);
    assert_eq!(rows.rows, without_extra(&lenient));
    assert!(
        lenient
            .rows
            .iter()
            .any(|r| matches!(r, LenientRow::Decoded(l) if !l.value.extra.is_empty())),
        "the fixture has fields the SDK does not model"
    );
    let typed = filter.search(&SearchQuery::all()).await.expect("typed");
    let raw = filter.search_raw(&SearchQuery::all()).await.expect("raw");
    let sent: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(Some(&raw.rows), sent["rows"].as_array());
    assert_eq!(typed.rows.len(), lenient.rows.len());
    for (t, l) in typed.rows.iter().zip(&lenient.rows) {
        assert_eq!(
            LenientRow::Decoded(opnsense_api::fields::Lenient {
                value: t.clone(),
                unparsed: std::collections::BTreeMap::default()
            }),
            *l
        );
    }
}

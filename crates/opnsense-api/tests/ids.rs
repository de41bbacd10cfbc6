//! `ids/settings/listRulesets` against wiremock.

mod common;

use common::{all_rows, assert_request, fixture, mock_post_json};
use opnsense_api::api::ids::rulesets_request;
use opnsense_api::{Method, SearchQuery, SortDirection};
use serde_json::json as j;

#[test]
fn request_builder() {
    let q = SearchQuery::page(2, 25)
        .phrase("emerging")
        .sort_by("description", SortDirection::Asc);
    assert_request(
        &rulesets_request(&q),
        Method::Post,
        "ids/settings/listRulesets",
        Some(
            j!({"current": 2, "rowCount": 25, "searchPhrase": "emerging", "sort": {"description": "asc"}}),
        ),
    );
}

#[tokio::test]
async fn rulesets_with_paging_body() {
    let opn = mock_post_json(
        "ids/settings/listRulesets",
        j!({"current": 1, "rowCount": 50, "searchPhrase": "ET open"}),
        fixture("ids", "listRulesets.json"),
    )
    .await;
    let page = opn
        .ids()
        .rulesets(&SearchQuery::page(1, 50).phrase("ET open"))
        .await
        .expect("rulesets");
    assert_eq!((page.total, page.row_count, page.current), (2, 2, 1));
    let botcc = &page.rows[0];
    assert_eq!(botcc.filename.as_deref(), Some("botcc.rules"));
    assert_eq!(botcc.description.as_deref(), Some("ET open/botcc"));
    assert_eq!(botcc.enabled, Some(true));
    assert_eq!(botcc.modified_local.as_deref(), Some("2026/01/15 3:05"));
    assert_eq!(
        botcc.documentation_url.as_deref(),
        Some("https://community.emergingthreats.net/t/frequently-asked-questions/56")
    );
    assert!(
        botcc
            .documentation
            .as_deref()
            .is_some_and(|d| d.starts_with("<a href="))
    );
    let scan = &page.rows[1];
    assert_eq!(scan.filename.as_deref(), Some("emerging-scan.rules"));
    assert_eq!(scan.enabled, Some(false));
    assert_eq!(scan.modified_local, None);
}

#[tokio::test]
async fn rulesets_all() {
    let opn = mock_post_json(
        "ids/settings/listRulesets",
        all_rows(),
        j!({"total": 0, "rowCount": 0, "current": 1, "rows": []}),
    )
    .await;
    let page = opn
        .ids()
        .rulesets(&SearchQuery::all())
        .await
        .expect("rulesets");
    assert!(page.rows.is_empty());
}

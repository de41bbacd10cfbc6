//! Requests as plain values: built without I/O, so every endpoint's method, path and body
//! can be unit-tested without a server (kube-rs style).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::fields::Extra;
use crate::path::encode_segment;

/// HTTP method. OPNsense uses only these two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET: reads.
    Get,
    /// POST: searches with a body, and every change.
    Post,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Method {
    /// `"GET"` / `"POST"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// What a response body is expected to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// JSON (every endpoint but the config download).
    Json,
    /// Raw text (the config.xml download).
    Text,
}

/// One API call: method, path relative to `/api/`, optional JSON body.
///
/// A `None` body on a POST is sent with no body and **no Content-Type**: OPNsense answers
/// 400 "Invalid JSON syntax" to `Content-Type: application/json` with an empty body.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// HTTP method.
    pub method: Method,
    /// Path below `/api/`, e.g. `firewall/filter/get_rule/<uuid>`. Every dynamic segment is encoded.
    pub path: String,
    /// JSON body, if any.
    pub body: Option<Value>,
    /// Expected body kind.
    pub accept: Accept,
}

impl Request {
    /// A GET of a fixed endpoint path (a literal from this crate, never caller input).
    pub fn get(endpoint: &'static str) -> Self {
        Self {
            method: Method::Get,
            path: endpoint.to_owned(),
            body: None,
            accept: Accept::Json,
        }
    }

    /// A body-less POST of a fixed endpoint path.
    pub fn post(endpoint: &'static str) -> Self {
        Self {
            method: Method::Post,
            ..Self::get(endpoint)
        }
    }

    /// A path built from a checked first segment (e.g. a service module) and fixed rest.
    pub(crate) fn with_path(method: Method, path: String) -> Self {
        Self {
            method,
            path,
            body: None,
            accept: Accept::Json,
        }
    }

    /// Appends one path segment, percent-encoded so it can never change the path's shape.
    #[must_use]
    pub fn segment(mut self, value: &str) -> Self {
        self.path.push('/');
        self.path.push_str(&encode_segment(value));
        self
    }

    /// Appends the query parameter `name=value` (the name fixed by this crate, the value
    /// percent-encoded), for the GET endpoints that read `$request->get()` (the filter log's
    /// `limit`). Call it after the last [`Self::segment`].
    #[must_use]
    pub fn query(mut self, name: &'static str, value: &str) -> Self {
        self.path
            .push(if self.path.contains('?') { '&' } else { '?' });
        self.path.push_str(name);
        self.path.push('=');
        self.path.push_str(&encode_segment(value));
        self
    }

    /// Sets the JSON body.
    #[must_use]
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Expects raw text instead of JSON.
    #[must_use]
    pub fn text(mut self) -> Self {
        self.accept = Accept::Text;
        self
    }
}

/// Sort direction of a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum SortDirection {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// Paging and filtering for OPNsense's bootgrid searches, sent as the POST body
/// `{"current","rowCount","searchPhrase","sort"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// Page number, from 1.
    pub current: u32,
    /// Rows per page; `None` means all rows (`-1`).
    pub row_count: Option<u32>,
    /// Space-separated words that must all match (case-insensitive substring).
    pub search_phrase: String,
    /// Sort column and direction.
    pub sort: Option<(String, SortDirection)>,
    /// Endpoint-specific filters sent beside the paging keys (e.g. the filter search's
    /// `interface`, Kea's `selected_interfaces`).
    pub filters: Map<String, Value>,
}

impl Default for SearchQuery {
    fn default() -> Self {
        Self {
            current: 1,
            row_count: None,
            search_phrase: String::new(),
            sort: None,
            filters: Map::new(),
        }
    }
}

impl SearchQuery {
    /// All rows, unfiltered.
    pub fn all() -> Self {
        Self::default()
    }

    /// One page of `row_count` rows.
    pub fn page(current: u32, row_count: u32) -> Self {
        Self {
            current: current.max(1),
            row_count: Some(row_count),
            ..Self::default()
        }
    }

    /// Adds a search phrase.
    #[must_use]
    pub fn phrase(mut self, phrase: impl Into<String>) -> Self {
        self.search_phrase = phrase.into();
        self
    }

    /// Adds a sort column.
    #[must_use]
    pub fn sort_by(mut self, column: impl Into<String>, dir: SortDirection) -> Self {
        self.sort = Some((column.into(), dir));
        self
    }

    /// Adds an endpoint-specific filter (a key OPNsense's search reads beside the paging keys).
    #[must_use]
    pub fn filter(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.filters.insert(key.into(), value.into());
        self
    }

    /// The POST body OPNsense expects.
    pub fn to_body(&self) -> Map<String, Value> {
        let mut body = self.filters.clone();
        body.insert("current".into(), self.current.max(1).into());
        body.insert(
            "rowCount".into(),
            self.row_count.map_or(Value::from(-1), Value::from),
        );
        body.insert("searchPhrase".into(), self.search_phrase.clone().into());
        if let Some((col, dir)) = &self.sort {
            let mut sort = Map::new();
            sort.insert(col.clone(), serde_json::to_value(dir).unwrap_or_default());
            body.insert("sort".into(), Value::Object(sort));
        }
        body
    }
}

/// One page of a search: `{"total","rowCount","current","rows"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    bound(deserialize = "T: serde::de::DeserializeOwned")
)]
pub struct SearchPage<T> {
    /// Rows matching the search (all pages). Required, like `rows`: an answer without them
    /// (`{"result":"failed"}`, an error envelope) is not an empty page. A number or a numeric
    /// string.
    #[serde(deserialize_with = "crate::fields::lenient_u64")]
    pub total: u64,
    /// Rows on this page.
    #[serde(default, deserialize_with = "crate::fields::lenient_i64")]
    pub row_count: i64,
    /// This page's number.
    #[serde(default, deserialize_with = "crate::fields::lenient_i64")]
    pub current: i64,
    /// The rows (PHP sends an empty list as `[]`, sometimes `{}`).
    #[serde(deserialize_with = "crate::fields::list_or_empty")]
    pub rows: Vec<T>,
    /// Anything else the endpoint returned (e.g. Kea's `interfaces` map).
    #[serde(flatten)]
    pub extra: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn search_body_defaults_to_all_rows() {
        assert_eq!(
            Value::Object(SearchQuery::all().to_body()),
            json!({"current": 1, "rowCount": -1, "searchPhrase": ""})
        );
    }

    #[test]
    fn search_body_with_page_phrase_and_sort() {
        let q = SearchQuery::page(2, 50)
            .phrase("web")
            .sort_by("description", SortDirection::Desc);
        assert_eq!(
            Value::Object(q.to_body()),
            json!({"current": 2, "rowCount": 50, "searchPhrase": "web", "sort": {"description": "desc"}})
        );
    }

    #[test]
    fn query_values_are_encoded() {
        let r = Request::get("diagnostics/firewall/log")
            .query("limit", "50")
            .query("digest", "a&b=c#d");
        assert_eq!(
            r.path,
            "diagnostics/firewall/log?limit=50&digest=a%26b%3Dc%23d"
        );
    }

    #[test]
    fn segments_are_encoded() {
        let r = Request::get("firewall/filter/get_rule").segment("../../x?y");
        assert_eq!(r.path, "firewall/filter/get_rule/..%2F..%2Fx%3Fy");
    }
}

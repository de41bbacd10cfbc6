//! Reading OPNsense's HTTP-200 answers: saved / failed+validations / deleted / not found /
//! `[]` / apply status. Pure functions over parsed JSON, unit-tested without a server.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result, excerpt_json};
use crate::path::Uuid;

/// The answer to an add or set: OPNsense's `{"result":"saved"[,"uuid"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    /// The new record's uuid (add only).
    pub uuid: Option<String>,
}

/// The answer to a toggle: `{"result":"Enabled"|"Disabled"[,"changed"]}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Toggled {
    /// Whether the record is now enabled.
    pub enabled: bool,
    /// Whether anything changed (absent on endpoints that do not say).
    pub changed: Option<bool>,
}

/// The answer to an apply / reconfigure / service action: the status text OPNsense returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionStatus {
    /// e.g. `"ok"`, `"OK"`, `"running"`; trimmed.
    pub status: String,
}

fn unexpected(path: &str, reason: &str, v: &Value) -> Error {
    Error::InvalidResponse {
        path: path.to_owned(),
        reason: reason.to_owned(),
        excerpt: excerpt_json(v),
    }
}

/// Decodes `v` as `T`, naming the path and a body excerpt when the shape is wrong (the excerpt
/// is only built then). Takes the value so it fits `Client::execute`'s interpreter.
#[allow(clippy::needless_pass_by_value)]
pub fn decode<T: DeserializeOwned>(path: &str, v: Value) -> Result<T> {
    decode_ref(path, &v)
}

/// [`decode`] from a borrowed value.
pub fn decode_ref<T: DeserializeOwned>(path: &str, v: &Value) -> Result<T> {
    T::deserialize(v).map_err(|e| Error::InvalidResponse {
        path: path.to_owned(),
        reason: format!("unexpected shape: {e}"),
        excerpt: excerpt_json(v),
    })
}

/// Decodes a JSON object keyed by name; OPNsense renders an empty PHP map as `[]`.
pub fn map_or_empty<T: DeserializeOwned>(path: &str, v: Value) -> Result<BTreeMap<String, T>> {
    match v {
        Value::Array(a) if a.is_empty() => Ok(BTreeMap::new()),
        other => decode(path, other),
    }
}

/// `validations` values are a string or a list of strings.
fn validations(v: &Value) -> BTreeMap<String, Vec<String>> {
    let Some(map) = v.get("validations").and_then(Value::as_object) else {
        return BTreeMap::new();
    };
    map.iter()
        .map(|(field, msgs)| {
            let msgs = match msgs {
                Value::Array(items) => items
                    .iter()
                    .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned))
                    .collect(),
                Value::String(s) => vec![s.clone()],
                other => vec![other.to_string()],
            };
            (field.clone(), msgs)
        })
        .collect()
}

fn result_field(v: &Value) -> Option<&str> {
    v.get("result").and_then(Value::as_str)
}

/// Reads an add/set answer.
pub fn saved(path: &str, v: &Value) -> Result<Saved> {
    match result_field(v) {
        Some("saved") => Ok(Saved {
            uuid: v.get("uuid").and_then(Value::as_str).map(str::to_owned),
        }),
        Some("failed") => Err(Error::Validation {
            path: path.to_owned(),
            errors: validations(v),
        }),
        _ => Err(unexpected(path, "expected {\"result\":\"saved\"}", v)),
    }
}

/// Reads a del answer; `not found` becomes [`Error::NotFound`].
pub fn deleted(path: &str, kind: &'static str, id: &str, v: &Value) -> Result<()> {
    match result_field(v) {
        Some("deleted") => Ok(()),
        Some("not found") => Err(Error::NotFound {
            kind,
            id: id.to_owned(),
        }),
        Some("failed") => Err(Error::Validation {
            path: path.to_owned(),
            errors: validations(v),
        }),
        _ => Err(unexpected(path, "expected {\"result\":\"deleted\"}", v)),
    }
}

/// Reads a toggle answer; `failed` (d_nat's answer for an unknown uuid) becomes not found.
pub fn toggled(path: &str, kind: &'static str, id: &str, v: &Value) -> Result<Toggled> {
    let changed = v
        .get("changed")
        .and_then(|c| crate::fields::opt_bool::parse(&crate::fields::selected_string(c)).ok())
        .flatten();
    match result_field(v) {
        Some("Enabled") => Ok(Toggled {
            enabled: true,
            changed,
        }),
        Some("Disabled") => Ok(Toggled {
            enabled: false,
            changed,
        }),
        Some("failed") => Err(Error::NotFound {
            kind,
            id: id.to_owned(),
        }),
        _ => Err(unexpected(
            path,
            "expected {\"result\":\"Enabled\"|\"Disabled\"}",
            v,
        )),
    }
}

/// Unwraps a get answer `{"<wrapper>": {...}}`; `[]` (OPNsense's unknown uuid) becomes not found.
pub fn item<T: DeserializeOwned>(
    path: &str,
    wrapper: &str,
    kind: &'static str,
    id: &Uuid,
    v: Value,
) -> Result<T> {
    match v {
        // `[]` (PHP's empty array); `{}` from a JSON encoder that kept it an object.
        Value::Array(ref a) if a.is_empty() => Err(Error::NotFound {
            kind,
            id: id.to_string(),
        }),
        Value::Object(ref m) if m.is_empty() => Err(Error::NotFound {
            kind,
            id: id.to_string(),
        }),
        Value::Object(mut map) => match map.remove(wrapper) {
            Some(inner) => decode(path, inner),
            None => Err(unexpected(
                path,
                &format!("expected an object under {wrapper:?}"),
                &Value::Object(map),
            )),
        },
        other => Err(unexpected(path, "expected an object or []", &other)),
    }
}

/// Reads `{"status": "..."}` from an apply/reconfigure; `ok` decides what counts as success.
pub fn status(
    path: &str,
    action: &'static str,
    key: &str,
    v: &Value,
    ok: impl Fn(&str) -> bool,
) -> Result<ActionStatus> {
    match v.get(key) {
        Some(Value::String(s)) if ok(s) => Ok(ActionStatus {
            status: s.trim().to_owned(),
        }),
        Some(Value::String(s)) => Err(Error::ActionFailed {
            action,
            path: path.to_owned(),
            status: s.trim().to_owned(),
        }),
        // No status at all (`null`): the action answered nothing.
        Some(Value::Null) => Err(Error::ActionFailed {
            action,
            path: path.to_owned(),
            status: String::new(),
        }),
        // `[]` is what a refused request answers.
        Some(other) => Err(Error::ActionFailed {
            action,
            path: path.to_owned(),
            status: other.to_string(),
        }),
        None => Err(unexpected(path, &format!("expected a {key:?} field"), v)),
    }
}

/// The common success test for reconfigure-style statuses: `ok` in any case.
pub fn status_is_ok(s: &str) -> bool {
    s.trim().eq_ignore_ascii_case("ok")
}

/// Filter `apply` answers configd's output: `"OK\n\n"` on success, `"Error (N)"` or `""` otherwise.
pub fn apply_is_ok(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty()
        && !t.eq_ignore_ascii_case("error")
        && !t.to_ascii_lowercase().starts_with("error")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn saved_and_failed() {
        let ok = saved("p", &json!({"result":"saved","uuid":"u"})).expect("saved");
        assert_eq!(ok.uuid.as_deref(), Some("u"));
        let err = saved(
            "p",
            &json!({"result":"failed","validations":{"rule.a":"x","rule.b":["y","z"]}}),
        )
        .expect_err("failed");
        match err {
            Error::Validation { errors, .. } => {
                assert_eq!(errors["rule.a"], vec!["x"]);
                assert_eq!(errors["rule.b"], vec!["y", "z"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            saved("p", &json!({"result":"failed"})),
            Err(Error::Validation { errors, .. }) if errors.is_empty()
        ));
        assert!(matches!(
            saved("p", &json!([])),
            Err(Error::InvalidResponse { .. })
        ));
    }

    #[test]
    fn deleted_not_found() {
        deleted("p", "rule", "u", &json!({"result":"deleted"})).expect("deleted");
        let e = deleted("p", "rule", "u", &json!({"result":"not found"})).expect_err("nf");
        assert_eq!(e.to_string(), "rule u not found");
    }

    #[test]
    fn item_empty_list_is_not_found() {
        let id = Uuid::parse("5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01").expect("uuid");
        let e = item::<Value>("p", "rule", "firewall rule", &id, json!([])).expect_err("nf");
        assert!(matches!(e, Error::NotFound { .. }));
        let v: Value = item(
            "p",
            "rule",
            "firewall rule",
            &id,
            json!({"rule": {"a": "1"}}),
        )
        .expect("found");
        assert_eq!(v, json!({"a": "1"}));
    }

    #[test]
    fn statuses() {
        status(
            "p",
            "apply",
            "status",
            &json!({"status":"OK\n\n"}),
            apply_is_ok,
        )
        .expect("ok");
        for bad in ["", "error", "Error (1)\n\n"] {
            status("p", "apply", "status", &json!({"status": bad}), apply_is_ok).expect_err(bad);
        }
        status("p", "x", "status", &json!({"status":"ok"}), status_is_ok).expect("ok");
        status(
            "p",
            "x",
            "status",
            &json!({"status":"failed"}),
            status_is_ok,
        )
        .expect_err("failed");
        status("p", "x", "response", &json!({"response":[]}), |_| true).expect_err("refused");
    }
}

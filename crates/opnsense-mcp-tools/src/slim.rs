//! Slimmer `tools/list` schemas, for every tool alike (applied once when the router is built, so
//! a new tool gets it without doing anything): what an LLM reads of a tool should be short and
//! exact, and an output schema is read by programs only.
//!
//! Both sides: no `$schema` (MCP's default dialect is 2020-12), a `$defs` entry used once is
//! written in place (entries used more than once stay shared), no `default: null`, no
//! schemars-only `format` (`uint32`, `int64`, ...: the `minimum`/`maximum` that matter stay), no
//! `additionalProperties: true` (the default), descriptions on one line.
//!
//! Nullability stays on both sides: an optional argument accepts `null` (the fuzz test holds
//! the schema to exactly what the server accepts), and a result may carry one.
//!
//! Output schemas: no `description`, `title`, `examples`, `default`, `minimum` or `maximum`
//! (nullability and `required` stay, so a validating client still checks results).
//!
//! Every schema keeps its `type`s: nothing here turns a typed schema into a free-form one.

use serde_json::{Map, Value};

/// Which side of a tool a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `inputSchema`: what the LLM reads to build its arguments.
    Input,
    /// `outputSchema`: what a program may check `structuredContent` against.
    Output,
}

/// `format` values of JSON Schema itself; schemars' own (`uint32`, `int64`, `double`, ...) go.
const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Keywords whose value is one schema.
const ONE_SCHEMA: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "unevaluatedItems",
    "unevaluatedProperties",
    "propertyNames",
];
/// Keywords whose value is a list of schemas.
const LIST_OF_SCHEMAS: &[&str] = &["anyOf", "oneOf", "allOf", "prefixItems"];
/// Keywords whose value maps names to schemas.
const MAP_OF_SCHEMAS: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "dependentSchemas",
];

/// Slims one tool schema in place (see the module docs).
pub fn slim(schema: &mut Map<String, Value>, side: Side) {
    schema.remove("$schema");
    inline_single_use_defs(schema);
    let mut root = Value::Object(std::mem::take(schema));
    walk(&mut root, side);
    if let Value::Object(m) = root {
        *schema = m;
    }
}

/// For an update tool whose add tool is offered too: the record argument's fields keep their
/// types but not their descriptions, which the add tool's schema gives (the record property
/// says so). An LLM reads them once.
pub fn share_fields_with(schema: &mut Map<String, Value>, add_tool: &str) {
    let Some(Value::Object(props)) = schema.get_mut("properties") else {
        return;
    };
    for prop in props.values_mut() {
        let Value::Object(record) = prop else {
            continue;
        };
        let Some(Value::Object(fields)) = record.get_mut("properties") else {
            continue;
        };
        for field in fields.values_mut() {
            strip_descriptions(field);
        }
        let said = record
            .get("description")
            .and_then(Value::as_str)
            .map_or_else(String::new, |d| format!("{d} "));
        record.insert(
            "description".to_owned(),
            Value::String(format!("{said}Fields as in {add_tool}.")),
        );
    }
}

/// Removes the `description` of `v` and of every schema in it.
fn strip_descriptions(v: &mut Value) {
    let Value::Object(m) = v else { return };
    m.remove("description");
    for k in ONE_SCHEMA {
        if let Some(child) = m.get_mut(*k) {
            strip_descriptions(child);
        }
    }
    for k in LIST_OF_SCHEMAS {
        if let Some(Value::Array(list)) = m.get_mut(*k) {
            for c in list.iter_mut() {
                strip_descriptions(c);
            }
        }
    }
    for k in MAP_OF_SCHEMAS {
        if let Some(Value::Object(map)) = m.get_mut(*k) {
            for c in map.values_mut() {
                strip_descriptions(c);
            }
        }
    }
}

const DEFS_PREFIX: &str = "#/$defs/";

/// Counts `$ref`s to each `$defs` entry anywhere in `v`.
fn count_refs(v: &Value, counts: &mut std::collections::HashMap<String, usize>) {
    match v {
        Value::Object(m) => {
            if let Some(name) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(DEFS_PREFIX))
            {
                *counts.entry(name.to_owned()).or_default() += 1;
            }
            m.values().for_each(|c| count_refs(c, counts));
        }
        Value::Array(items) => items.iter().for_each(|c| count_refs(c, counts)),
        _ => {}
    }
}

/// Writes each `$defs` entry referenced exactly once (and not by itself) in place of its
/// reference; the reference's own keywords (a property's `description`) win over the entry's.
fn inline_single_use_defs(schema: &mut Map<String, Value>) {
    let Some(Value::Object(mut defs)) = schema.remove("$defs") else {
        return;
    };
    let mut counts = std::collections::HashMap::new();
    count_refs(&Value::Object(schema.clone()), &mut counts);
    defs.values().for_each(|d| count_refs(d, &mut counts));
    let single: Map<String, Value> = defs
        .iter()
        .filter(|(name, def)| {
            let mut own = std::collections::HashMap::new();
            count_refs(def, &mut own);
            counts.get(*name) == Some(&1) && !own.contains_key(*name)
        })
        .map(|(n, d)| (n.clone(), d.clone()))
        .collect();
    for name in single.keys() {
        defs.remove(name);
    }
    let mut root = Value::Object(std::mem::take(schema));
    substitute(&mut root, &single, 0);
    for def in defs.values_mut() {
        substitute(def, &single, 0);
    }
    if let Value::Object(m) = root {
        *schema = m;
    }
    if !defs.is_empty() {
        schema.insert("$defs".to_owned(), Value::Object(defs));
    }
}

/// Replaces references to the `single` entries by the entries (bounded depth: a chain of
/// single-use entries is finite, as none refers to itself).
fn substitute(v: &mut Value, single: &Map<String, Value>, depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        Value::Object(m) => {
            let target = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(DEFS_PREFIX))
                .and_then(|name| single.get(name));
            if let Some(Value::Object(def)) = target {
                let mut merged = def.clone();
                m.remove("$ref");
                for (k, val) in std::mem::take(m) {
                    merged.insert(k, val);
                }
                *m = merged;
                substitute(v, single, depth + 1);
                return;
            }
            m.values_mut()
                .for_each(|c| substitute(c, single, depth + 1));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|c| substitute(c, single, depth + 1)),
        _ => {}
    }
}

/// Slims one schema object and, through the keywords that hold schemas, every schema in it.
fn walk(v: &mut Value, side: Side) {
    let Value::Object(m) = v else { return };
    if m.get("default").is_some_and(Value::is_null) {
        m.remove("default");
    }
    if m.get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| !STANDARD_FORMATS.contains(&f))
    {
        m.remove("format");
    }
    if m.get("additionalProperties") == Some(&Value::Bool(true)) {
        m.remove("additionalProperties");
    }
    match side {
        Side::Input => {
            if let Some(Value::String(d)) = m.get_mut("description") {
                one_line(d);
            }
        }
        Side::Output => {
            for k in [
                "description",
                "title",
                "examples",
                "default",
                "minimum",
                "maximum",
            ] {
                m.remove(k);
            }
        }
    }
    for k in ONE_SCHEMA {
        if let Some(child) = m.get_mut(*k) {
            walk(child, side);
        }
    }
    for k in LIST_OF_SCHEMAS {
        if let Some(Value::Array(list)) = m.get_mut(*k) {
            for c in list.iter_mut() {
                walk(c, side);
            }
        }
    }
    for k in MAP_OF_SCHEMAS {
        if let Some(Value::Object(map)) = m.get_mut(*k) {
            for c in map.values_mut() {
                walk(c, side);
            }
        }
    }
}

/// Doc comments wrap at 100 columns: a line break inside a paragraph is a space.
fn one_line(d: &mut String) {
    if d.contains('\n') {
        let joined: Vec<&str> = d.split('\n').map(str::trim).collect();
        *d = joined.join(" ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn slimmed(v: Value, side: Side) -> Value {
        let Value::Object(mut m) = v else {
            panic!("object")
        };
        slim(&mut m, side);
        Value::Object(m)
    }

    #[test]
    fn single_use_defs_are_inlined_shared_ones_stay() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "rule": {"description": "The rule.", "$ref": "#/$defs/Rule"},
                "a": {"$ref": "#/$defs/Action"},
                "b": {"$ref": "#/$defs/Action"}
            },
            "$defs": {
                "Rule": {"description": "A rule.", "type": "object", "properties": {"p": {"$ref": "#/$defs/Proto"}}},
                "Proto": {"type": "string", "enum": ["tcp", "udp"]},
                "Action": {"type": "string", "enum": ["pass", "block"]}
            }
        });
        let out = slimmed(s, Side::Input);
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": {
                    "rule": {"description": "The rule.", "type": "object", "properties": {"p": {"type": "string", "enum": ["tcp", "udp"]}}},
                    "a": {"$ref": "#/$defs/Action"},
                    "b": {"$ref": "#/$defs/Action"}
                },
                "$defs": {"Action": {"type": "string", "enum": ["pass", "block"]}}
            })
        );
    }

    #[test]
    fn an_update_record_refers_to_the_add_tool_for_its_field_descriptions() {
        let mut s = json!({
            "type": "object",
            "properties": {
                "uuid": {"type": "string", "description": "The rule's uuid."},
                "rule": {"type": "object", "description": "The fields to change.", "properties": {
                    "port": {"type": "string", "description": "A port."},
                    "dst": {"type": "object", "properties": {"net": {"type": "string", "description": "A net."}}}
                }}
            }
        });
        let Value::Object(m) = &mut s else { panic!() };
        share_fields_with(m, "firewall_rule_add");
        assert_eq!(
            s,
            json!({
                "type": "object",
                "properties": {
                    "uuid": {"type": "string", "description": "The rule's uuid."},
                    "rule": {"type": "object", "description": "The fields to change. Fields as in firewall_rule_add.", "properties": {
                        "port": {"type": "string"},
                        "dst": {"type": "object", "properties": {"net": {"type": "string"}}}
                    }}
                }
            })
        );
    }

    #[test]
    fn a_recursive_def_stays() {
        let s = json!({
            "type": "object",
            "properties": {"t": {"$ref": "#/$defs/Tree"}},
            "$defs": {"Tree": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Tree"}}}}}
        });
        let out = slimmed(s.clone(), Side::Input);
        assert_eq!(out, s);
    }

    #[test]
    fn input_drops_schemars_formats_but_keeps_types_nullability_and_ranges() {
        let s = json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "n": {"description": "Rows\nper page.", "type": ["integer", "null"], "format": "uint32", "minimum": 1, "default": null},
                "e": {"anyOf": [{"$ref": "#/$defs/E"}, {"type": "null"}], "description": "An e."},
                "ip": {"type": "string", "format": "ipv4"},
                "description": {"type": "string", "description": "A field named description."}
            },
            "$defs": {"E": {"type": "string", "enum": ["x"]}}
        });
        let out = slimmed(s, Side::Input);
        assert_eq!(
            out,
            json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "n": {"description": "Rows per page.", "type": ["integer", "null"], "minimum": 1},
                    "e": {"anyOf": [{"type": "string", "enum": ["x"]}, {"type": "null"}], "description": "An e."},
                    "ip": {"type": "string", "format": "ipv4"},
                    "description": {"type": "string", "description": "A field named description."}
                }
            })
        );
    }

    #[test]
    fn output_drops_prose_keeps_nullability_and_required() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["total"],
            "properties": {
                "total": {"description": "Rows.", "type": "integer", "format": "uint64", "minimum": 0},
                "description": {"description": "A field named description.", "type": ["string", "null"]},
                "raw": {"type": ["array", "null"], "items": {"type": "object", "additionalProperties": true}}
            }
        });
        let out = slimmed(s, Side::Output);
        assert_eq!(
            out,
            json!({
                "type": "object",
                "required": ["total"],
                "properties": {
                    "total": {"type": "integer"},
                    "description": {"type": ["string", "null"]},
                    "raw": {"type": ["array", "null"], "items": {"type": "object"}}
                }
            })
        );
    }
}

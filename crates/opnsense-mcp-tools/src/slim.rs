//! Slimmer `tools/list` schemas, for every tool alike (applied once when the router is built, so
//! a new tool gets it without doing anything): what an LLM reads of a tool should be short and
//! exact, and an output schema is read by programs only.
//!
//! Both sides: no `$schema` (MCP's default dialect is 2020-12), a `$defs` entry used once is
//! written in place (entries used more than once stay shared), no `default: null`, no
//! schemars-only `format` (`uint32`, `int64`, ...: the `minimum`/`maximum` that matter stay), no
//! `additionalProperties: true` (the default), descriptions on one line.
//!
//! Input schemas: no `default: false` on a boolean (a flag is off unless given).
//!
//! A property that may be left out does not also say it may be `null` (`["integer", "null"]`
//! becomes `"integer"`, `anyOf: [X, {"type": "null"}]` becomes `X`): in an input, serde takes a
//! `null` for an optional argument as its absence (tolerated, not advertised); in an output
//! (the serialise form) such a property is skipped, never written as `null`. A required
//! property keeps its `null` in an output (a field always written, `null` when unknown), not
//! in an input (a required argument needs a value).
//!
//! Output schemas: no `description`, `title`, `examples`, `default`, `minimum` or `maximum`
//! (types and `required` stay, so a validating client still checks results; the
//! `output_schema` test validates every recorded contract result against them).
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

/// What an output schema leaves out: words for people and bounds a result never needs checked.
const OUTPUT_PROSE: &[&str] = &[
    "description",
    "title",
    "examples",
    "default",
    "minimum",
    "maximum",
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

/// Arguments many tools take with one meaning, and the one wording they all get (an LLM reads
/// it in every tool that has the argument): (name, JSON type, description).
const SHARED_ARGUMENTS: &[(&str, &str, &str)] = &[
    ("current", "integer", "Page (default 1)."),
    (
        "row_count",
        "integer",
        "Rows per page (default 100; -1: all, at most 1000).",
    ),
    (
        "search_phrase",
        "string",
        "Words every row must contain (any column, any case).",
    ),
    (
        "confirm_timeout_s",
        "integer",
        "Seconds until the change is reverted unless change_confirm is called (default: the \
         server's; 0: keep it once the checks pass).",
    ),
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
    if side == Side::Input {
        share_argument_wording(schema);
    }
}

/// Gives each top-level argument of [`SHARED_ARGUMENTS`] (of the listed type) its wording.
fn share_argument_wording(schema: &mut Map<String, Value>) {
    let Some(Value::Object(props)) = schema.get_mut("properties") else {
        return;
    };
    for (name, ty, wording) in SHARED_ARGUMENTS {
        if let Some(Value::Object(p)) = props.get_mut(*name)
            && p.get("type").and_then(Value::as_str) == Some(*ty)
            && p.contains_key("description")
        {
            p.insert(
                "description".to_owned(),
                Value::String((*wording).to_owned()),
            );
        }
    }
}

/// For an update tool whose add tool is offered too: the record argument's fields keep their
/// types but not their descriptions, which the add tool's schema gives (the record property
/// says so). An LLM reads them once.
pub fn share_fields_with(schema: &mut Map<String, Value>, add_tool: &str) {
    let mut record_defs = Vec::new();
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
        let mut used = std::collections::HashMap::new();
        count_refs(&Value::Object(fields.clone()), &mut used);
        record_defs.extend(used.into_keys());
        let said = record
            .get("description")
            .and_then(Value::as_str)
            .map_or_else(String::new, |d| format!("{d} "));
        record.insert(
            "description".to_owned(),
            Value::String(format!("{said}Fields as in {add_tool}.")),
        );
    }
    // The shared shapes the record's fields use (a port forward's `source` and `destination`)
    // are described by the add tool too, unless another argument uses them.
    let mut elsewhere = std::collections::HashMap::new();
    if let Some(Value::Object(props)) = schema.get("properties") {
        for prop in props.values() {
            if prop.get("properties").is_none() {
                count_refs(prop, &mut elsewhere);
            }
        }
    }
    if let Some(Value::Object(defs)) = schema.get_mut("$defs") {
        for name in record_defs {
            if !elsewhere.contains_key(&name)
                && let Some(def) = defs.get_mut(&name)
            {
                strip_descriptions(def);
            }
        }
    }
}

/// Removes the `description` and `examples` of `v` and of every schema in it.
fn strip_descriptions(v: &mut Value) {
    let Value::Object(m) = v else { return };
    m.remove("description");
    m.remove("examples");
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
    drop_null_from_optional(m, side);
    consts_as_enum(m);
    match side {
        Side::Input => {
            if let Some(Value::String(d)) = m.get_mut("description") {
                one_line(d);
            }
            // A flag is off unless given: `default: false` says nothing more.
            if m.get("type").and_then(Value::as_str) == Some("boolean")
                && m.get("default") == Some(&Value::Bool(false))
            {
                m.remove("default");
            }
        }
        Side::Output => {
            for k in OUTPUT_PROSE {
                m.remove(*k);
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

/// A `oneOf` whose members each only name one value (`const`, with its own `description`, as
/// schemars writes a documented unit enum) becomes `type` + `enum`: the same values, typed,
/// without a description per value (the property's description says what the values mean
/// where their names do not).
fn consts_as_enum(m: &mut Map<String, Value>) {
    let Some(Value::Array(members)) = m.get("oneOf") else {
        return;
    };
    let mut values = Vec::new();
    let mut types: Vec<&'static str> = Vec::new();
    for member in members {
        let Some(o) = member.as_object() else { return };
        let Some(c) = o.get("const") else { return };
        if o.keys()
            .any(|k| !matches!(k.as_str(), "const" | "description" | "type" | "title"))
        {
            return;
        }
        let t = match c {
            Value::String(_) => "string",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::Null => "null",
            Value::Array(_) | Value::Object(_) => return,
        };
        if !types.contains(&t) {
            types.push(t);
        }
        values.push(c.clone());
    }
    if values.is_empty() || m.contains_key("enum") {
        return;
    }
    m.remove("oneOf");
    let ty = match types.as_slice() {
        [only] => Value::String((*only).to_owned()),
        many => Value::Array(
            many.iter()
                .map(|t| Value::String((*t).to_owned()))
                .collect(),
        ),
    };
    m.entry("type").or_insert(ty);
    m.insert("enum".to_owned(), Value::Array(values));
}

/// In an object schema, each property that may be left out stops saying it may be `null` too:
/// absence already says "not given". In an input schema serde takes a `null` for an optional
/// argument as its absence (so a `null` is still tolerated, just not advertised); an output
/// schema is the serialise form, where a property is left out of `required` only when it is
/// skipped instead of written as `null` (`skip_serializing_if`), so no result carries that
/// `null`. A property in `required` keeps its `null` in an output schema (a field always
/// written, `null` when unknown); in an input schema it loses it too (a required argument is
/// given a value: a `null` is refused like a missing one).
fn drop_null_from_optional(m: &mut Map<String, Value>, side: Side) {
    let required: Vec<String> = m
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let Some(Value::Object(props)) = m.get_mut("properties") else {
        return;
    };
    for (name, prop) in props.iter_mut() {
        if (side == Side::Input || !required.contains(name))
            && let Value::Object(p) = prop
        {
            drop_null(p, side);
        }
    }
}

/// Removes `null` from one schema: from its `type` list and `enum`, and the `{"type": "null"}`
/// member of its `anyOf`/`oneOf` (a single member left is written in place, the schema's own
/// keywords, a property's `description`, winning).
fn drop_null(p: &mut Map<String, Value>, side: Side) {
    if let Some(Value::Array(types)) = p.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            p.insert("type".to_owned(), only);
        }
    }
    if let Some(Value::Array(values)) = p.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    let is_null = |v: &Value| {
        v.as_object().is_some_and(|o| {
            o.len() == 1
                && (o.get("type") == Some(&Value::String("null".to_owned()))
                    || o.get("const") == Some(&Value::Null))
        })
    };
    for key in ["anyOf", "oneOf"] {
        // What stays beside the `anyOf` (an output schema loses its prose).
        let says_more = p
            .keys()
            .any(|k| k != key && (side == Side::Input || !OUTPUT_PROSE.contains(&k.as_str())));
        let Some(Value::Array(members)) = p.get_mut(key) else {
            continue;
        };
        if !members.iter().any(is_null) {
            continue;
        }
        members.retain(|v| !is_null(v));
        // A lone `$ref` stays wrapped where the schema says more (a `$ref` beside other
        // keywords is ignored by draft-07 tools).
        let lone_ref = members
            .first()
            .and_then(Value::as_object)
            .is_some_and(|o| o.contains_key("$ref"));
        if members.len() == 1
            && !(lone_ref && says_more)
            && let Some(Value::Object(only)) = members.pop()
        {
            p.remove(key);
            for (k, v) in only {
                p.entry(k).or_insert(v);
            }
        }
    }
}

/// A tool's description on one line (doc comments wrap at 100 columns); `None` when it is one already.
pub fn tool_description(d: &str) -> Option<String> {
    let mut s = d.to_owned();
    one_line(&mut s);
    (s != d).then_some(s)
}

/// Doc comments wrap at 100 columns: a line break inside a paragraph is a space (and a blank
/// line between paragraphs one space too).
fn one_line(d: &mut String) {
    if d.contains('\n') {
        let joined: Vec<&str> = d
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
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
                    "port": {"type": "string", "description": "A port.", "examples": ["22"]},
                    "dst": {"type": "object", "properties": {"net": {"type": "string", "description": "A net."}}},
                    "src": {"$ref": "#/$defs/End"}
                }},
                "other": {"$ref": "#/$defs/Kept"}
            },
            "$defs": {
                "End": {"type": "object", "description": "An end.", "properties": {"n": {"type": "string", "description": "N."}}},
                "Kept": {"type": "string", "description": "Used outside the record."}
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
                        "dst": {"type": "object", "properties": {"net": {"type": "string"}}},
                        "src": {"$ref": "#/$defs/End"}
                    }},
                    "other": {"$ref": "#/$defs/Kept"}
                },
                "$defs": {
                    "End": {"type": "object", "properties": {"n": {"type": "string"}}},
                    "Kept": {"type": "string", "description": "Used outside the record."}
                }
            })
        );
    }

    #[test]
    fn shared_arguments_get_one_wording_of_their_type_only() {
        let s = json!({
            "type": "object",
            "properties": {
                "current": {"description": "Page number, from 1 (default 1).", "type": ["integer", "null"], "minimum": 1},
                "search_phrase": {"description": "Words.", "type": "integer"},
                "row_count": {"type": "integer"}
            }
        });
        let out = slimmed(s, Side::Input);
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": {
                    "current": {"description": "Page (default 1).", "type": "integer", "minimum": 1},
                    "search_phrase": {"description": "Words.", "type": "integer"},
                    "row_count": {"type": "integer"}
                }
            })
        );
    }

    #[test]
    fn documented_values_become_a_typed_enum() {
        let s = json!({
            "type": "object",
            "properties": {
                "pass": {"description": "How it passes.", "oneOf": [
                    {"const": "manual", "description": "Add a rule.", "type": "string"},
                    {"const": "pass", "description": "Passes itself.", "type": "string"}
                ]},
                "mixed": {"oneOf": [{"const": "a"}, {"type": "integer"}]}
            }
        });
        let out = slimmed(s, Side::Input);
        assert_eq!(
            out,
            json!({
                "type": "object",
                "properties": {
                    "pass": {"description": "How it passes.", "type": "string", "enum": ["manual", "pass"]},
                    "mixed": {"oneOf": [{"const": "a"}, {"type": "integer"}]}
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
    fn input_drops_schemars_formats_nulls_and_false_defaults_but_keeps_types_and_ranges() {
        let s = json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["must"],
            "properties": {
                "n": {"description": "Rows\nper page.", "type": ["integer", "null"], "format": "uint32", "minimum": 1, "default": null},
                "e": {"anyOf": [{"$ref": "#/$defs/E"}, {"type": "null"}], "description": "An e."},
                "m": {"type": ["string", "integer", "null"]},
                "r": {"description": "Shared.", "anyOf": [{"$ref": "#/$defs/S"}, {"type": "null"}]},
                "r2": {"anyOf": [{"$ref": "#/$defs/S"}, {"type": "null"}]},
                "k": {"type": ["string", "null"], "enum": ["a", "b", null]},
                "o": {"oneOf": [{"const": "x", "description": "X."}, {"const": "y"}, {"const": null}]},
                "must": {"type": ["string", "null"]},
                "ip": {"type": "string", "format": "ipv4"},
                "flag": {"type": "boolean", "default": false},
                "on": {"type": "boolean", "default": true},
                "zero": {"type": "integer", "default": 0},
                "description": {"type": "string", "description": "A field named description."}
            },
            "$defs": {
                "E": {"description": "The e type.", "type": "string", "enum": ["x"]},
                "S": {"type": "object", "properties": {"a": {"type": "string"}}}
            }
        });
        let out = slimmed(s, Side::Input);
        assert_eq!(
            out,
            json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["must"],
                "properties": {
                    "n": {"description": "Rows per page.", "type": "integer", "minimum": 1},
                    "e": {"description": "An e.", "type": "string", "enum": ["x"]},
                    "m": {"type": ["string", "integer"]},
                    "r": {"description": "Shared.", "anyOf": [{"$ref": "#/$defs/S"}]},
                    "r2": {"$ref": "#/$defs/S"},
                    "k": {"type": "string", "enum": ["a", "b"]},
                    "o": {"type": "string", "enum": ["x", "y"]},
                    "must": {"type": "string"},
                    "ip": {"type": "string", "format": "ipv4"},
                    "flag": {"type": "boolean"},
                    "on": {"type": "boolean", "default": true},
                    "zero": {"type": "integer", "default": 0},
                    "description": {"type": "string", "description": "A field named description."}
                },
                "$defs": {"S": {"type": "object", "properties": {"a": {"type": "string"}}}}
            })
        );
    }

    #[test]
    fn output_drops_prose_and_skipped_nulls_keeps_required_and_written_nulls() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["total", "description"],
            "properties": {
                "total": {"description": "Rows.", "type": "integer", "format": "uint64", "minimum": 0},
                "description": {"description": "A field named description.", "type": ["string", "null"]},
                "raw": {"type": ["array", "null"], "items": {"type": "object", "additionalProperties": true}},
                "row": {"anyOf": [{"type": "object", "required": ["a"], "properties": {"a": {"type": ["integer", "null"]}, "b": {"type": ["integer", "null"]}}}, {"type": "null"}]}
            }
        });
        let out = slimmed(s, Side::Output);
        assert_eq!(
            out,
            json!({
                "type": "object",
                "required": ["total", "description"],
                "properties": {
                    "total": {"type": "integer"},
                    "description": {"type": ["string", "null"]},
                    "raw": {"type": "array", "items": {"type": "object"}},
                    "row": {"type": "object", "required": ["a"], "properties": {"a": {"type": ["integer", "null"]}, "b": {"type": "integer"}}}
                }
            })
        );
    }
}

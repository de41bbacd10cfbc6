//! Field specifications of MVC models and the generic behaviour OPNsense gives every
//! field type: defaults, input decoding, type validation, `get` rendering (option maps)
//! and search-row rendering (raw value + `%field` display text).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::reply::PhpWarning;
use crate::state::{Config, Record, split_list};
use crate::validate::{self, Validations};

/// One selectable option of a list field.
#[derive(Debug, Clone)]
pub(crate) struct Opt {
    pub key: String,
    pub label: String,
    pub group: Option<&'static str>,
}

impl Opt {
    /// An option without optgroup.
    pub fn new(key: impl Into<String>, label: impl Into<String>) -> Opt {
        Opt {
            key: key.into(),
            label: label.into(),
            group: None,
        }
    }
}

/// Builds options from a static `(key, label)` table.
pub(crate) fn opts(table: &[(&str, &str)]) -> Vec<Opt> {
    table.iter().map(|(k, l)| Opt::new(*k, *l)).collect()
}

/// Options may depend on the configuration (interfaces, aliases, subnets ...).
pub(crate) type OptionsFn = fn(&Config) -> Vec<Opt>;

/// How a field behaves.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// Free text (TextField without mask, NetworkAliasField, PortField ...): rendered as a
    /// string, validated by the area's own rules if any.
    Text,
    /// BooleanField `"0"`/`"1"`.
    Bool,
    /// IntegerField within bounds.
    Int { min: i64, max: i64 },
    /// DescriptionField (1..255 characters when set).
    Description,
    /// OptionField / InterfaceField / ModelRelationField ... rendered as an option map.
    Select {
        options: OptionsFn,
        multi: bool,
        /// Label of the `""` entry for non-required single selects.
        blank: Option<&'static str>,
    },
    /// Rendered by a custom function in `get`, a plain string everywhere else.
    Rendered(fn(&Config, &Record) -> Value),
    /// Computed or server-set: shown, never taken from input.
    Volatile,
}

/// One model field, addressed by a dotted path (`source.network`).
#[derive(Clone, Copy)]
pub(crate) struct FieldSpec {
    pub path: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub default: &'static str,
    /// Replaces the generic "invalid" message of this field type.
    pub msg: Option<&'static str>,
}

impl FieldSpec {
    const fn new(path: &'static str, kind: Kind) -> FieldSpec {
        FieldSpec {
            path,
            kind,
            required: false,
            default: "",
            msg: None,
        }
    }

    /// Marks the field required.
    pub const fn req(mut self) -> FieldSpec {
        self.required = true;
        self
    }

    /// Sets the default value.
    pub const fn def(mut self, default: &'static str) -> FieldSpec {
        self.default = default;
        self
    }

    /// Overrides the type's invalid-value message.
    pub const fn msg(mut self, msg: &'static str) -> FieldSpec {
        self.msg = Some(msg);
        self
    }
}

/// Free text field.
pub(crate) const fn text(path: &'static str) -> FieldSpec {
    FieldSpec::new(path, Kind::Text)
}

/// Boolean field (required, like all BooleanFields clients set).
pub(crate) const fn boolean(path: &'static str, default: &'static str) -> FieldSpec {
    FieldSpec::new(path, Kind::Bool).req().def(default)
}

/// Integer field.
pub(crate) const fn int(path: &'static str, min: i64, max: i64) -> FieldSpec {
    FieldSpec::new(path, Kind::Int { min, max })
}

/// Description field.
pub(crate) const fn description(path: &'static str) -> FieldSpec {
    FieldSpec::new(path, Kind::Description)
}

/// Single select; `blank` labels the `""` entry (only for non-required selects).
pub(crate) const fn select(
    path: &'static str,
    options: OptionsFn,
    blank: Option<&'static str>,
) -> FieldSpec {
    FieldSpec::new(
        path,
        Kind::Select {
            options,
            multi: false,
            blank,
        },
    )
}

/// Multi select (comma-separated keys).
pub(crate) const fn multi(path: &'static str, options: OptionsFn) -> FieldSpec {
    FieldSpec::new(
        path,
        Kind::Select {
            options,
            multi: true,
            blank: None,
        },
    )
}

/// Field rendered by `render` in `get`.
pub(crate) const fn rendered(
    path: &'static str,
    render: fn(&Config, &Record) -> Value,
) -> FieldSpec {
    FieldSpec::new(path, Kind::Rendered(render))
}

/// Read-only field.
pub(crate) const fn volatile(path: &'static str) -> FieldSpec {
    FieldSpec::new(path, Kind::Volatile)
}

/// A record holding every field's default.
pub(crate) fn defaults(specs: &[FieldSpec], uuid: String) -> Record {
    let mut rec = Record::new(uuid);
    for spec in specs {
        rec.set(spec.path, spec.default);
    }
    rec
}

/// Converts a scalar JSON input the way PHP casts it to string; `None` for null.
fn scalar_to_string(v: &Value) -> Result<Option<String>, PhpWarning> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(if *b { "1".into() } else { String::new() })),
        Value::Array(_) | Value::Object(_) => Err(PhpWarning),
    }
}

/// `setNodes()`: copies known keys of `input` into `rec`. Unknown keys and nulls are
/// ignored; arrays for leaves or scalars for containers are PHP warnings (HTTP 500).
pub(crate) fn apply_input(
    specs: &[FieldSpec],
    rec: &mut Record,
    input: &Map<String, Value>,
    prefix: &str,
    transform: fn(&str, String) -> String,
) -> Result<(), PhpWarning> {
    for (key, value) in input {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if let Some(spec) = specs.iter().find(|s| s.path == path) {
            let Some(text) = scalar_to_string(value)? else {
                continue;
            };
            if matches!(spec.kind, Kind::Volatile) {
                continue;
            }
            rec.set(&path, transform(&path, text));
        } else if specs
            .iter()
            .any(|s| s.path.starts_with(&format!("{path}.")))
        {
            match value {
                Value::Object(inner) => apply_input(specs, rec, inner, &path, transform)?,
                Value::Null => {}
                _ => return Err(PhpWarning),
            }
        }
    }
    Ok(())
}

/// Type-level validation of every field of `rec` (required, boolean, integer,
/// description, option membership).
pub(crate) fn validate_types(specs: &[FieldSpec], cfg: &Config, rec: &Record, v: &mut Validations) {
    for spec in specs {
        if matches!(spec.kind, Kind::Volatile) {
            continue;
        }
        let value = rec.get(spec.path);
        if value.is_empty() {
            if spec.required {
                v.add(spec.path, validate::REQUIRED);
            }
            continue;
        }
        match spec.kind {
            Kind::Bool if value != "0" && value != "1" => {
                v.add(spec.path, spec.msg.unwrap_or(validate::BOOLEAN));
            }
            Kind::Int { min, max } => {
                let ok = value.parse::<i64>().is_ok_and(|n| (min..=max).contains(&n));
                if !ok {
                    v.add(spec.path, spec.msg.unwrap_or(validate::INTEGER));
                }
            }
            Kind::Description if !validate::is_description(value) => {
                v.add(spec.path, spec.msg.unwrap_or(validate::DESCRIPTION));
            }
            Kind::Select { options, multi, .. } => {
                let options = options(cfg);
                let known = |k: &str| options.iter().any(|o| o.key == k);
                if multi {
                    for item in split_list(value) {
                        if !known(item) {
                            v.add(
                                spec.path,
                                spec.msg.map_or_else(
                                    || format!("Option [{item}] not in list."),
                                    str::to_owned,
                                ),
                            );
                        }
                    }
                } else if !known(value) {
                    v.add(spec.path, spec.msg.unwrap_or("Option [] not in list."));
                }
            }
            _ => {}
        }
    }
}

/// Option map `{key:{value,selected}}` as `getNodeData` renders it.
pub(crate) fn option_map(options: &[Opt], value: &str, multi: bool, blank: Option<&str>) -> Value {
    let selected: Vec<&str> = if multi {
        split_list(value)
    } else {
        vec![value]
    };
    let mut map = Map::new();
    if let Some(blank) = blank {
        map.insert(
            String::new(),
            json!({"value": blank, "selected": i32::from(value.is_empty())}),
        );
    }
    for o in options {
        let mut entry = Map::new();
        entry.insert("value".into(), Value::String(o.label.clone()));
        entry.insert(
            "selected".into(),
            json!(i32::from(selected.contains(&o.key.as_str()))),
        );
        if let Some(g) = o.group {
            entry.insert("optgroup".into(), Value::String(g.into()));
        }
        map.insert(o.key.clone(), Value::Object(entry));
    }
    Value::Object(map)
}

/// Inserts `value` at a dotted path into a nested JSON object.
fn insert_nested(obj: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            obj.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let inner = obj
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = inner {
                insert_nested(inner, rest, value);
            }
        }
    }
}

/// `getBase` rendering of one record (nested, option maps).
pub(crate) fn render_get(specs: &[FieldSpec], cfg: &Config, rec: &Record) -> Value {
    let mut obj = Map::new();
    for spec in specs {
        let value = rec.get(spec.path);
        let rendered = match spec.kind {
            Kind::Select {
                options,
                multi,
                blank,
            } => option_map(&options(cfg), value, multi, blank),
            Kind::Rendered(render) => render(cfg, rec),
            _ => Value::String(value.to_owned()),
        };
        insert_nested(&mut obj, spec.path, rendered);
    }
    Value::Object(obj)
}

/// Display text of `value` from a key -> label table; `None` for an empty single value.
fn labelled(labels: &HashMap<String, String>, multi: bool, value: &str) -> Option<String> {
    let label = |k: &str| labels.get(k).cloned().unwrap_or_else(|| k.to_owned());
    if multi {
        Some(
            split_list(value)
                .into_iter()
                .map(label)
                .collect::<Vec<_>>()
                .join(", "),
        )
    } else if value.is_empty() {
        None
    } else {
        Some(label(value))
    }
}

/// The option labels of every select field of a model, computed once per search so that
/// rendering thousands of rows does not rebuild option lists row by row.
pub(crate) struct Labels(Vec<Option<(HashMap<String, String>, bool)>>);

impl Labels {
    /// Builds the tables for `specs` against the configuration `cfg`.
    pub(crate) fn new(specs: &[FieldSpec], cfg: &Config) -> Self {
        Self(
            specs
                .iter()
                .map(|spec| match spec.kind {
                    Kind::Select { options, multi, .. } => Some((
                        options(cfg).into_iter().map(|o| (o.key, o.label)).collect(),
                        multi,
                    )),
                    _ => None,
                })
                .collect(),
        )
    }
}

/// Search row: `uuid`, every leaf flattened with dotted keys as raw value, and
/// `%<field>` right after it when the display text differs.
pub(crate) fn search_row(specs: &[FieldSpec], labels: &Labels, rec: &Record) -> Map<String, Value> {
    let mut row = Map::new();
    row.insert("uuid".into(), Value::String(rec.uuid.clone()));
    for (spec, table) in specs.iter().zip(&labels.0) {
        let value = rec.get(spec.path);
        row.insert(spec.path.to_owned(), Value::String(value.to_owned()));
        if let Some((table, multi)) = table
            && let Some(display) = labelled(table, *multi, value)
            && display != value
        {
            row.insert(format!("%{}", spec.path), Value::String(display));
        }
    }
    row
}

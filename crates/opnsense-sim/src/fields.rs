//! Field specifications of MVC models and the generic behaviour OPNsense gives every
//! field type: defaults, input decoding, type validation, `get` rendering (option maps)
//! and search-row rendering (raw value + `%field` display text).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::Version;
use crate::reply::{InputError, Req};
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

/// Builds options whose label is their key.
pub(crate) fn keys_as_opts(keys: &[&str]) -> Vec<Opt> {
    keys.iter().map(|k| Opt::new(*k, *k)).collect()
}

/// Options may depend on the configuration (interfaces, aliases, subnets ...).
pub(crate) type OptionsFn = fn(&Config) -> Vec<Opt>;

/// How a field behaves.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// Free text (TextField, NetworkAliasField, PortField ...): rendered as a string,
    /// validated by the area's own rules if any. `mask` is a TextField `<Mask>` (the whole
    /// value must match; message: the field's or "Text does not validate."); `strict`
    /// marks a 26.7 StrictTextField (no spaces, newlines or control characters).
    Text {
        mask: Option<fn(&str) -> bool>,
        strict: bool,
    },
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

/// How a field type's `setValue()` normalises its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// `BaseField::setValue()`: a plain string cast.
    Plain,
    /// `trim()` (HostnameField, MacAddressField).
    Trim,
    /// `trim(strtolower())` (NetworkField).
    TrimLower,
    /// PortField: well-known names and `any` lower-cased.
    Port,
    /// ProtocolField with `ChangeCase` upper (`any` stays lower-case).
    Upper,
    /// ProtocolField with `<ChangeCase>lower</ChangeCase>`.
    Lower,
}

impl Input {
    /// Applies the normalisation.
    pub fn apply(self, value: String) -> String {
        match self {
            Input::Plain => value,
            Input::Trim => value.trim().to_owned(),
            Input::TrimLower => value.trim().to_lowercase(),
            Input::Port => {
                let low = value.trim().to_lowercase();
                if low == "any" || validate::WELL_KNOWN_PORTS.contains(&low.as_str()) {
                    low
                } else {
                    value
                }
            }
            Input::Upper => {
                if value.eq_ignore_ascii_case("any") {
                    "any".to_owned()
                } else {
                    value.to_uppercase()
                }
            }
            Input::Lower => value.to_lowercase(),
        }
    }

    /// The overriding `setValue()` passes its argument to a string function, which throws
    /// a `TypeError` for an array on 26.1 (instead of the "Array to string" warning).
    fn string_function(self) -> Option<&'static str> {
        match self {
            Input::Plain => None,
            Input::Trim => Some("trim"),
            Input::TrimLower | Input::Port => Some("strtolower"),
            Input::Upper | Input::Lower => {
                Some("OPNsense\\Base\\FieldTypes\\BaseField::applyChangeCase")
            }
        }
    }
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
    /// Input normalisation of the field type.
    pub input: Input,
    /// First release that has the field.
    pub since: Version,
    /// Last release that has the field.
    pub until: Version,
}

impl FieldSpec {
    const fn new(path: &'static str, kind: Kind) -> FieldSpec {
        FieldSpec {
            path,
            kind,
            required: false,
            default: "",
            msg: None,
            input: Input::Plain,
            since: Version::OLDEST,
            until: Version::NEWEST,
        }
    }

    /// Sets the input normalisation.
    pub const fn input(mut self, input: Input) -> FieldSpec {
        self.input = input;
        self
    }

    /// The field exists from `version` on.
    pub const fn since(mut self, version: Version) -> FieldSpec {
        self.since = version;
        self
    }

    /// The field exists up to and including `version`.
    pub const fn until(mut self, version: Version) -> FieldSpec {
        self.until = version;
        self
    }

    /// Whether the model of `version` has this field.
    pub fn exists_in(&self, version: Version) -> bool {
        self.since <= version && version <= self.until
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
    FieldSpec::new(
        path,
        Kind::Text {
            mask: None,
            strict: false,
        },
    )
}

/// TextField with a `<Mask>` (a whole-value check).
pub(crate) const fn masked(path: &'static str, mask: fn(&str) -> bool) -> FieldSpec {
    FieldSpec::new(
        path,
        Kind::Text {
            mask: Some(mask),
            strict: false,
        },
    )
}

/// A TextField that became a StrictTextField in 26.7 (optionally with a mask).
pub(crate) const fn strict_text(path: &'static str, mask: Option<fn(&str) -> bool>) -> FieldSpec {
    FieldSpec::new(path, Kind::Text { mask, strict: true })
}

/// Boolean field with `<Required>Y</Required>` and a default.
pub(crate) const fn boolean(path: &'static str, default: &'static str) -> FieldSpec {
    FieldSpec::new(path, Kind::Bool).req().def(default)
}

/// Boolean field without default and not required (d_nat: `""` is a valid value).
pub(crate) const fn opt_boolean(path: &'static str) -> FieldSpec {
    FieldSpec::new(path, Kind::Bool)
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

/// The fields of `specs` that exist in `version`.
pub(crate) fn for_version(specs: &[FieldSpec], version: Version) -> Vec<FieldSpec> {
    specs
        .iter()
        .filter(|s| s.exists_in(version))
        .copied()
        .collect()
}

/// A record holding every field's default.
pub(crate) fn defaults(specs: &[FieldSpec], uuid: String) -> Record {
    let mut rec = Record::new(uuid);
    for spec in specs {
        rec.set(spec.path, spec.default);
    }
    rec
}

/// `setNodes()`: copies known keys of `input` into `rec`. Unknown keys and nulls are
/// ignored (`isset()` is false for null). A scalar for a container throws on both
/// releases. An array for a leaf throws on 26.7; on 26.1 it is cast to the string
/// `Array` with a warning (a `TypeError` when the field's `setValue()` calls a string
/// function), so production firewalls store `Array` and development ones answer 500.
pub(crate) fn apply_input(
    specs: &[FieldSpec],
    rec: &mut Record,
    input: &Map<String, Value>,
    prefix: &str,
    req: &Req,
) -> Result<(), InputError> {
    for (key, value) in input {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if let Some(spec) = specs.iter().find(|s| s.path == path) {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => if *b { "1" } else { "" }.to_owned(),
                Value::Array(_) | Value::Object(_) => {
                    if req.version >= Version::V26_7 {
                        return Err(InputError::Exception(format!(
                            "Invalid input type for {key}: expected a single value"
                        )));
                    }
                    if let Some(func) = spec.input.string_function() {
                        return Err(InputError::Exception(format!(
                            "{func}(): Argument #1 ($value) must be of type string, array given"
                        )));
                    }
                    if req.development {
                        return Err(InputError::ArrayToString);
                    }
                    "Array".to_owned()
                }
            };
            if matches!(spec.kind, Kind::Volatile) {
                continue;
            }
            rec.set(&path, spec.input.apply(text));
        } else if specs
            .iter()
            .any(|s| s.path.starts_with(&format!("{path}.")))
        {
            match value {
                Value::Object(inner) => apply_input(specs, rec, inner, &path, req)?,
                Value::Null => {}
                _ => {
                    let message = if req.version >= Version::V26_7 {
                        format!("Invalid input type for {key}: expected a list")
                    } else {
                        format!("Invalid  input type for {key} (configuration error?)")
                    };
                    return Err(InputError::Exception(message));
                }
            }
        }
    }
    Ok(())
}

/// Type-level validation of every field of `rec` (required, boolean, integer,
/// description, option membership).
pub(crate) fn validate_types(
    specs: &[FieldSpec],
    cfg: &Config,
    rec: &Record,
    version: Version,
    v: &mut Validations,
) {
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
            Kind::Description => {
                if version >= Version::V26_7 {
                    validate::text_rules(value, false, v, spec.path);
                }
                if !validate::is_description(value) {
                    v.add(spec.path, spec.msg.unwrap_or(validate::DESCRIPTION));
                }
            }
            Kind::Text { mask, strict } => {
                if strict && version >= Version::V26_7 {
                    validate::text_rules(value, true, v, spec.path);
                }
                if let Some(mask) = mask
                    && !mask(value)
                {
                    v.add(spec.path, spec.msg.unwrap_or(validate::TEXT));
                }
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

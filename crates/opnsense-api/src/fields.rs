//! OPNsense's wire quirks, absorbed once so models stay plain Rust.
//!
//! - Option fields come back from `get` as `{key: {value, selected}}` maps but are set (and appear in
//!   search rows) as plain strings; multi-selects are comma-separated.
//! - Booleans are the strings `"0"` / `"1"`.
//! - Everything else is a string too, even numbers.
//!
//! Model fields use [`opt`] (any [`FromWire`] type, empty string = `None`) and [`opt_bool`].

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A type that can be built from OPNsense's string form of a field.
pub trait FromWire: Sized {
    /// Builds the value from the (selected) string form; `s` is never empty.
    fn from_wire(s: String) -> Self;
}

impl FromWire for String {
    fn from_wire(s: String) -> Self {
        s
    }
}

/// Flattens any OPNsense field rendering into its string form:
/// a string stays, an option map becomes its selected keys joined with `,`, numbers and booleans
/// become text, `null` and `[]` become empty.
pub fn selected_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .map(selected_string)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(map) => map
            .iter()
            .filter(|(_, opt)| is_selected(opt))
            .map(|(k, _)| k.as_str())
            .filter(|k| !k.is_empty())
            .collect::<Vec<_>>()
            .join(","),
    }
}

fn is_selected(opt: &Value) -> bool {
    match opt.get("selected") {
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "1",
        _ => false,
    }
}

/// True when `v` looks like an OPNsense option map (`{key: {value, selected}}`).
pub fn is_option_map(v: &Value) -> bool {
    match v {
        Value::Object(map) => {
            !map.is_empty()
                && map
                    .values()
                    .all(|o| o.is_object() && o.get("selected").is_some())
        }
        _ => false,
    }
}

/// `deserialize_with` for `Option<T: FromWire>`: empty or absent means `None`.
pub fn opt<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromWire,
{
    let v = Value::deserialize(d)?;
    let s = selected_string(&v);
    Ok(if s.is_empty() {
        None
    } else {
        Some(T::from_wire(s))
    })
}

/// `with` module for `Option<bool>` stored as `"0"`/`"1"`.
pub mod opt_bool {
    use super::{Deserialize, Deserializer, Serializer, Value, de, selected_string};

    /// Writes `"1"` / `"0"` (callers skip `None`).
    #[allow(clippy::ref_option, clippy::trivially_copy_pass_by_ref)]
    pub fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(true) => s.serialize_str("1"),
            Some(false) => s.serialize_str("0"),
            None => s.serialize_none(),
        }
    }

    /// Reads `"0"`/`"1"` (also JSON booleans and numbers); empty means `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        let v = Value::deserialize(d)?;
        match selected_string(&v).as_str() {
            "" => Ok(None),
            "1" => Ok(Some(true)),
            "0" => Ok(Some(false)),
            other => Err(de::Error::custom(format!(
                "expected \"0\" or \"1\", got {other:?}"
            ))),
        }
    }
}

/// A comma-separated multi-value field (`"lan,opt1"`), as a list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct CsvList(pub Vec<String>);

impl CsvList {
    /// The items.
    pub fn items(&self) -> &[String] {
        &self.0
    }
}

impl FromWire for CsvList {
    fn from_wire(s: String) -> Self {
        Self(
            s.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }
}

impl fmt::Display for CsvList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

impl Serialize for CsvList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.join(","))
    }
}

impl<'de> Deserialize<'de> for CsvList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from_wire(selected_string(&Value::deserialize(d)?)))
    }
}

impl<S: Into<String>> FromIterator<S> for CsvList {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self(iter.into_iter().map(Into::into).collect())
    }
}

/// A newline-separated list (alias `content`). On `get` OPNsense renders it as an option map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub struct LineList(pub Vec<String>);

impl FromWire for LineList {
    fn from_wire(s: String) -> Self {
        // An option map was flattened with ',' by `selected_string`; a stored value uses '\n'.
        let sep = if s.contains('\n') { '\n' } else { ',' };
        Self(
            s.split(sep)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }
}

impl Serialize for LineList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.join("\n"))
    }
}

impl<'de> Deserialize<'de> for LineList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        // Do not route through `selected_string` for plain strings: entries may contain ','.
        Ok(match v {
            Value::String(s) => Self(
                s.split('\n')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            // An option map: take the selected keys as they are (URL entries may hold commas).
            Value::Object(map) => Self(
                map.iter()
                    .filter(|(k, o)| !k.trim().is_empty() && is_selected(o))
                    .map(|(k, _)| k.trim().to_owned())
                    .collect(),
            ),
            other => Self::from_wire(selected_string(&other)),
        })
    }
}

/// `deserialize_with` for `Option<LineList>` (alias `content`): a newline-joined string in
/// search rows, an option map in `get`; commas inside entries (URLs) are kept. Empty = `None`.
pub fn opt_lines<'de, D: Deserializer<'de>>(d: D) -> Result<Option<LineList>, D::Error> {
    let list = LineList::deserialize(d)?;
    Ok((!list.0.is_empty()).then_some(list))
}

impl FromWire for u64 {
    fn from_wire(s: String) -> Self {
        s.trim().parse().unwrap_or_default()
    }
}

/// Implemented by every [`wire_enum!`](crate::wire_enum) type: the values OPNsense accepts.
pub trait WireEnum: FromWire + Clone {
    /// Every value this SDK knows, in OPNsense's spelling.
    fn known() -> &'static [&'static str];
    /// OPNsense's spelling of this value.
    fn wire(&self) -> &str;
    /// False for a value this SDK does not know (kept in `Other`).
    fn is_known_value(&self) -> bool;
}

/// Fields OPNsense sent that this SDK does not model (display columns such as `%action`,
/// fields added by newer firmware, ...). Kept so nothing is lost.
///
/// When a model is sent back (add/set), option maps among them are flattened to their selected
/// keys, because OPNsense answers HTTP 500 when an object is posted for a leaf field. Display
/// columns (`%field`) are harmless there: OPNsense ignores unknown keys.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Extra(pub BTreeMap<String, Value>);

impl Extra {
    /// True when nothing extra was received.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A received field by name.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }
}

impl Serialize for Extra {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        for (k, v) in &self.0 {
            if is_option_map(v) {
                map.serialize_entry(k, &selected_string(v))?;
            } else {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

/// Declares an OPNsense option field as a Rust enum with an `Other(String)` fallback, so a value a
/// newer firmware adds is kept instead of failing the whole response.
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this SDK does not know (kept verbatim).
            Other(String),
        }

        impl $name {
            /// Every value this SDK knows, in OPNsense's spelling.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// OPNsense's spelling of the value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(s) => s.as_str(),
                }
            }

            /// False for [`Self::Other`].
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl $crate::fields::FromWire for $name {
            fn from_wire(s: String) -> Self {
                match s.as_str() {
                    $( $wire => Self::$variant, )+
                    _ => Self::Other(s),
                }
            }
        }

        impl $crate::fields::WireEnum for $name {
            fn known() -> &'static [&'static str] {
                Self::KNOWN
            }
            fn wire(&self) -> &str {
                self.as_str()
            }
            fn is_known_value(&self) -> bool {
                self.is_known()
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(<Self as $crate::fields::FromWire>::from_wire(s.to_owned()))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let v = <::serde_json::Value as ::serde::Deserialize>::deserialize(d)?;
                Ok(<Self as $crate::fields::FromWire>::from_wire($crate::fields::selected_string(&v)))
            }
        }

        #[cfg(feature = "schemars")]
        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({ "type": "string", "enum": Self::KNOWN })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    crate::wire_enum! {
        /// test enum
        pub enum Colour { Red = "red", Blue = "blue" }
    }

    #[derive(Debug, Deserialize, Serialize)]
    struct Model {
        #[serde(
            default,
            deserialize_with = "opt",
            skip_serializing_if = "Option::is_none"
        )]
        colour: Option<Colour>,
        #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
        enabled: Option<bool>,
        #[serde(
            default,
            deserialize_with = "opt",
            skip_serializing_if = "Option::is_none"
        )]
        interfaces: Option<CsvList>,
        #[serde(flatten)]
        extra: Extra,
    }

    #[test]
    fn option_maps_become_selected_keys() {
        let m: Model = serde_json::from_value(json!({
            "colour": {"": {"value": "None", "selected": 0}, "red": {"value": "Red", "selected": 1}},
            "enabled": "1",
            "interfaces": {"lan": {"value": "LAN", "selected": 1}, "wan": {"value": "WAN", "selected": 0}, "opt1": {"value": "DMZ", "selected": 1}},
            "sched": {"": {"value": "None", "selected": 1}, "work": {"value": "work", "selected": 0}},
            "%colour": "Red"
        }))
        .expect("parses");
        assert_eq!(m.colour, Some(Colour::Red));
        assert_eq!(Colour::KNOWN, ["red", "blue"]);
        assert!(Colour::Blue.is_known() && !Colour::Other("x".into()).is_known());
        assert_eq!(m.enabled, Some(true));
        assert_eq!(m.interfaces.expect("set").0, vec!["lan", "opt1"]);
        // Unknown fields are kept, and option maps among them flattened when sent back.
        assert!(m.extra.get("sched").is_some());
        let back = serde_json::to_value(Model {
            colour: Some(Colour::Other("green".into())),
            enabled: Some(false),
            interfaces: None,
            extra: m.extra,
        })
        .expect("serialises");
        assert_eq!(
            back,
            json!({"colour": "green", "enabled": "0", "sched": "", "%colour": "Red"})
        );
    }

    #[test]
    fn empty_values_are_none_and_bad_booleans_fail() {
        let m: Model =
            serde_json::from_value(json!({"colour": "", "enabled": ""})).expect("parses");
        assert!(m.colour.is_none() && m.enabled.is_none());
        let err = serde_json::from_value::<Model>(json!({"enabled": "yes"})).expect_err("bad");
        assert!(err.to_string().contains("expected \"0\" or \"1\""));
    }

    #[test]
    fn line_lists_keep_commas_inside_entries() {
        let l: LineList = serde_json::from_value(json!("a,b\nc")).expect("parses");
        assert_eq!(l.0, vec!["a,b", "c"]);
        assert_eq!(serde_json::to_value(&l).expect("ser"), json!("a,b\nc"));
    }
}

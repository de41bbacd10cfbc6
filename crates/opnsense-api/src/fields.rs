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
    /// Builds the value from the (selected) string form; `s` is never empty. An `Err` names
    /// what was expected (the field name is added by the caller).
    fn from_wire(s: String) -> Result<Self, String>;
}

impl FromWire for String {
    fn from_wire(s: String) -> Result<Self, String> {
        Ok(s)
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
    let s = wire_string(d)?;
    if s.is_empty() {
        Ok(None)
    } else {
        T::from_wire(s).map(Some).map_err(de::Error::custom)
    }
}

/// Reads one field's value into its string form, as [`selected_string`] renders it, without
/// building a [`Value`] for the plain strings, numbers and booleans almost every field is (an
/// option map or a list is still read as a `Value` and flattened).
#[doc(hidden)]
pub fn wire_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(WireString)
}

/// The visitor of [`wire_string`].
struct WireString;

impl<'de> de::Visitor<'de> for WireString {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an OPNsense field value")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<String, E> {
        Ok(s.to_owned())
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<String, E> {
        Ok(s)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<String, E> {
        Ok(if b { "1" } else { "0" }.to_owned())
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<String, E> {
        Ok(n.to_string())
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<String, E> {
        Ok(n.to_string())
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<String, E> {
        // As a `Value` renders it (a non-finite number is `null`, so empty).
        Ok(serde_json::Number::from_f64(n).map_or_else(String::new, |n| n.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        wire_string(d)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<String, A::Error> {
        Value::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(|v| selected_string(&v))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<String, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(|v| selected_string(&v))
    }
}

/// `with` module for `Option<bool>` stored as `"0"`/`"1"`.
///
/// Reads every spelling PHP sends for a boolean: `"0"`/`"1"`, `0`/`1`, JSON `true`/`false`,
/// and (in legacy and automatic filter rows) `yes`/`no`, `true`/`false`, `on`/`off` in any case.
/// Empty, `null` and absent are `None`; anything else is an error naming the value.
pub mod opt_bool {
    use super::{Deserializer, Serializer, de};

    /// Writes `"1"` / `"0"` (callers skip `None`).
    #[allow(clippy::ref_option, clippy::trivially_copy_pass_by_ref)]
    pub fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(true) => s.serialize_str("1"),
            Some(false) => s.serialize_str("0"),
            None => s.serialize_none(),
        }
    }

    /// Reads any boolean spelling (see the module docs); empty means `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        parse(&super::wire_string(d)?).map_err(de::Error::custom)
    }

    /// The boolean of one string form.
    pub fn parse(s: &str) -> Result<Option<bool>, String> {
        let t = s.trim();
        if t.is_empty() {
            return Ok(None);
        }
        match t.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Some(true)),
            "0" | "false" | "no" | "off" => Ok(Some(false)),
            _ => Err(format!(
                "expected a boolean (\"0\" or \"1\"), got {:?}",
                crate::error::excerpt(t)
            )),
        }
    }
}

/// `serialize_with` for integer fields: OPNsense stores every value as a string.
#[allow(clippy::ref_option, clippy::trivially_copy_pass_by_ref)]
pub fn num_string<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(n) => s.serialize_str(&n.to_string()),
        None => s.serialize_none(),
    }
}

/// A string field read as text; numbers are rendered, `null` and `[]` are empty.
pub fn string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    wire_string(d)
}

/// A nested object (`source`, `created`, ...); anything that is not an object (`""`, `null`,
/// `[]`: PHP's empty map) is `None`.
pub fn opt_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match Value::deserialize(d)? {
        v @ Value::Object(_) => T::deserialize(&v).map(Some).map_err(de::Error::custom),
        _ => Ok(None),
    }
}

/// A JSON object keyed by name. PHP renders an empty map as `[]` and a map whose keys happen to
/// be 0..n as a list (read with the indices as keys); `null`, `""` and `false` are empty.
pub fn map_or_empty<'de, D, T>(d: D) -> Result<BTreeMap<String, T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match Value::deserialize(d)? {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| T::deserialize(v).map(|t| (k.clone(), t)))
            .collect::<Result<_, _>>()
            .map_err(de::Error::custom),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| T::deserialize(v).map(|t| (i.to_string(), t)))
            .collect::<Result<_, _>>()
            .map_err(de::Error::custom),
        Value::Null | Value::Bool(false) => Ok(BTreeMap::new()),
        Value::String(s) if s.is_empty() => Ok(BTreeMap::new()),
        other => Err(de::Error::custom(format!(
            "expected an object, got {}",
            crate::error::excerpt_json(&other)
        ))),
    }
}

/// A list. PHP renders a list whose keys are not 0..n as an object (read in key order);
/// `null`, `""`, `false` and `{}` are empty. Items are read straight from the input (no
/// intermediate [`Value`] of the whole list).
pub fn list_or_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    d.deserialize_any(ListOrEmpty(std::marker::PhantomData))
}

/// The visitor of [`list_or_empty`].
struct ListOrEmpty<T>(std::marker::PhantomData<fn() -> T>);

impl<T> ListOrEmpty<T> {
    fn not_a_list<E: de::Error>(v: &Value) -> E {
        E::custom(format!(
            "expected a list, got {}",
            crate::error::excerpt_json(v)
        ))
    }
}

impl<'de, T: serde::de::DeserializeOwned> de::Visitor<'de> for ListOrEmpty<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element::<T>()? {
            items.push(item);
        }
        Ok(items)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Vec<T>, A::Error> {
        let mut items = Vec::new();
        while let Some((_, item)) = map.next_entry::<de::IgnoredAny, T>()? {
            items.push(item);
        }
        Ok(items)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
    fn visit_none<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Vec<T>, E> {
        if b {
            Err(Self::not_a_list(&Value::Bool(b)))
        } else {
            Ok(Vec::new())
        }
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Vec<T>, E> {
        if s.is_empty() {
            Ok(Vec::new())
        } else {
            Err(Self::not_a_list(&Value::from(s)))
        }
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Vec<T>, E> {
        Err(Self::not_a_list(&Value::from(n)))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Vec<T>, E> {
        Err(Self::not_a_list(&Value::from(n)))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Vec<T>, E> {
        Err(Self::not_a_list(&Value::from(n)))
    }
}

/// A record decoded leniently: every field that fits the model is in `value`; a field whose
/// shape is unexpected is left out of `value` and kept, as OPNsense sent it, in `unparsed`.
#[derive(Debug, Clone, PartialEq)]
pub struct Lenient<T> {
    /// The record, without the fields in `unparsed`.
    pub value: T,
    /// Fields that could not be read into the model, with their raw values.
    pub unparsed: BTreeMap<String, Value>,
}

/// Decodes a record as `T`, never losing it to one odd field: when the whole record does not
/// decode, the fields that make it fail are set aside (in `unparsed`) one by one until it does.
/// `Err` only when the record is not an object or no subset of its fields decodes.
pub fn decode_lenient<T: serde::de::DeserializeOwned>(row: &Value) -> Result<Lenient<T>, String> {
    let first = match T::deserialize(row) {
        Ok(value) => {
            return Ok(Lenient {
                value,
                unparsed: BTreeMap::new(),
            });
        }
        Err(e) => e.to_string(),
    };
    let Value::Object(map) = row else {
        return Err(first);
    };
    let mut rest = map.clone();
    let mut unparsed = BTreeMap::new();
    // Each round sets aside one field whose removal changes the error; bounded by the field count.
    for _ in 0..map.len() {
        let culprit = rest.keys().find(|k| {
            let mut trial = rest.clone();
            trial.remove(*k);
            T::deserialize(&Value::Object(trial)).is_ok()
        });
        let key = match culprit {
            Some(k) => k.clone(),
            // Several odd fields: set aside the first whose own value fails alone.
            None => match rest.iter().find(|(k, v)| {
                let mut alone = serde_json::Map::new();
                alone.insert((*k).clone(), (*v).clone());
                T::deserialize(&Value::Object(alone)).is_err()
            }) {
                Some((k, _)) => k.clone(),
                None => return Err(first),
            },
        };
        if let Some(v) = rest.remove(&key) {
            unparsed.insert(key, v);
        }
        if let Ok(value) = T::deserialize(&Value::Object(rest.clone())) {
            return Ok(Lenient { value, unparsed });
        }
    }
    Err(first)
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
    fn from_wire(s: String) -> Result<Self, String> {
        Ok(Self::split(&s))
    }
}

impl CsvList {
    fn split(s: &str) -> Self {
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
        Ok(Self::split(&wire_string(d)?))
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
    fn from_wire(s: String) -> Result<Self, String> {
        Ok(Self::split(&s))
    }
}

impl LineList {
    fn split(s: &str) -> Self {
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
            other => Self::split(&selected_string(&other)),
        })
    }
}

/// `deserialize_with` for `Option<LineList>` (alias `content`): a newline-joined string in
/// search rows, an option map in `get`; commas inside entries (URLs) are kept. Empty = `None`.
pub fn opt_lines<'de, D: Deserializer<'de>>(d: D) -> Result<Option<LineList>, D::Error> {
    let list = LineList::deserialize(d)?;
    Ok((!list.0.is_empty()).then_some(list))
}

/// An integer field's value, also as PHP may render it after arithmetic (a float, `"5.0"`);
/// `expected` names the kind in the error.
fn integer<T: std::str::FromStr>(s: &str, expected: &str) -> Result<T, String> {
    let t = s.trim();
    t.parse()
        .ok()
        .or_else(|| t.strip_suffix(".0").and_then(|i| i.parse().ok()))
        .ok_or_else(|| format!("expected {expected}, got {:?}", crate::error::excerpt(s)))
}

impl FromWire for u64 {
    fn from_wire(s: String) -> Result<Self, String> {
        integer(&s, "a non-negative integer")
    }
}

impl FromWire for f64 {
    fn from_wire(s: String) -> Result<Self, String> {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| format!("expected a number, got {:?}", crate::error::excerpt(&s)))
    }
}

impl FromWire for i64 {
    fn from_wire(s: String) -> Result<Self, String> {
        integer(&s, "an integer")
    }
}

/// Implemented by every [`wire_enum!`](crate::wire_enum) type: the values OPNsense accepts.
pub trait WireEnum: FromWire + Clone {
    /// The value for OPNsense's spelling `s` (`Other` when unknown; never fails).
    fn of(s: String) -> Self;
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

        impl $name {
            /// The value for OPNsense's spelling `s` ([`Self::Other`] when unknown).
            pub fn from_wire_str(s: String) -> Self {
                match s.as_str() {
                    $( $wire => Self::$variant, )+
                    _ => Self::Other(s),
                }
            }
        }

        impl $crate::fields::FromWire for $name {
            fn from_wire(s: String) -> ::std::result::Result<Self, String> {
                Ok(Self::from_wire_str(s))
            }
        }

        impl $crate::fields::WireEnum for $name {
            fn of(s: String) -> Self {
                Self::from_wire_str(s)
            }
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
                Ok(Self::from_wire_str(s.to_owned()))
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
                Ok(Self::from_wire_str($crate::fields::wire_string(d)?))
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

/// A count PHP may send as a number or a numeric string (`2`, `"2"`, `2.0`).
pub fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    <u64 as FromWire>::from_wire(wire_string(d)?).map_err(de::Error::custom)
}

/// A signed count PHP may send as a number or a numeric string; `null` or empty is 0.
pub fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let s = wire_string(d)?;
    if s.is_empty() {
        return Ok(0);
    }
    <i64 as FromWire>::from_wire(s).map_err(de::Error::custom)
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
        let m: Model = serde_json::from_value(json!({"enabled": "yes"})).expect("yes is true");
        assert_eq!(m.enabled, Some(true));
        let err = serde_json::from_value::<Model>(json!({"enabled": "maybe"})).expect_err("bad");
        assert!(err.to_string().contains("expected a boolean"), "{err}");
    }

    #[test]
    fn line_lists_keep_commas_inside_entries() {
        let l: LineList = serde_json::from_value(json!("a,b\nc")).expect("parses");
        assert_eq!(l.0, vec!["a,b", "c"]);
        assert_eq!(serde_json::to_value(&l).expect("ser"), json!("a,b\nc"));
    }
}

//! Typed models by API area. Every model keeps the fields it does not name in an
//! [`Extra`](crate::fields::Extra) map, so nothing OPNsense returns is dropped.
//!
//! Conventions: option fields are enums with an `Other` fallback (read from either a plain string
//! or OPNsense's `{key: {value, selected}}` map), multi-selects are [`CsvList`](crate::fields::CsvList),
//! `"0"`/`"1"` are `bool`, and every field is optional so the same struct serves reads, adds and
//! partial updates (unset fields are not sent).

/// Declares a model record: `Debug, Clone, Default, PartialEq, Serialize, Deserialize`, every
/// field optional on the wire (`#[serde(default)]`), `None` fields not sent, and OPNsense's loose
/// decoding on every field by its type, so that no field repeats it:
/// - `Option<String>`, `Option<CsvList>`, `Option<u64>`, `Option<i64>`, `Option<f64>`:
///   [`opt`](crate::fields::opt) (empty, `null` or absent is `None`; an option map reads as its
///   selected keys; numbers as text);
/// - `Option<bool>`: [`opt_bool`](crate::fields::opt_bool) (every boolean spelling PHP sends,
///   written `"1"`/`"0"`);
/// - `String`: [`string_or_empty`](crate::fields::string_or_empty).
///
/// Option enums (`wire_enum!`) name [`opt`](crate::fields::opt) themselves; a field of one of the
/// types above that decodes otherwise opts out with `#[serde_with(skip_apply)]` and says how.
macro_rules! wire_model {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($body:tt)* }) => {
        #[serde_with::apply(
            Option<String> => #[serde(deserialize_with = "crate::fields::opt")],
            Option<CsvList> => #[serde(deserialize_with = "crate::fields::opt")],
            Option<u64> => #[serde(deserialize_with = "crate::fields::opt")],
            Option<i64> => #[serde(deserialize_with = "crate::fields::opt")],
            Option<f64> => #[serde(deserialize_with = "crate::fields::opt")],
            Option<bool> => #[serde(with = "crate::fields::opt_bool")],
            String => #[serde(deserialize_with = "crate::fields::string_or_empty")],
        )]
        #[serde_with::skip_serializing_none]
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default)]
        $(#[$meta])*
        $vis struct $name { $($body)* }
    };
    // A record with its `extra` map (declared after the struct, with its doc) and a search-row
    // twin `$row`: the same fields without `extra`, which a compact listing reads (no
    // `#[serde(flatten)]`, so serde does not buffer every field of every row first; the fields
    // this SDK does not model are skipped, not collected). `From<$row>` gives the record with an
    // empty `extra`; `SearchRow` names the twin.
    (
        $(#[$meta:meta])* $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty ),* $(,)?
        }
        $(#[$emeta:meta])* extra, searched as $row:ident
    ) => {
        wire_model! {
            $(#[$meta])*
            $vis struct $name {
                $( $(#[$fmeta])* $fvis $field : $fty, )*
                $(#[$emeta])*
                #[serde(flatten)]
                pub extra: $crate::fields::Extra,
            }
        }
        wire_model! {
            #[doc = concat!("A search row of [`", stringify!($name), "`]: its fields without `extra` (see [`SearchRow`](crate::grid::SearchRow)).")]
            $vis struct $row {
                $( $(#[$fmeta])* $fvis $field : $fty, )*
            }
        }
        impl From<$row> for $name {
            fn from(row: $row) -> Self {
                Self {
                    $( $field: row.$field, )*
                    extra: $crate::fields::Extra::default(),
                }
            }
        }
        impl $crate::grid::SearchRow for $name {
            type Row = $row;
        }
    };
}

pub mod diagnostics;
pub mod dnsmasq;
pub mod firewall;
pub mod ids;
pub mod interfaces;
pub mod kea;
pub mod routes;
pub mod services;
pub mod source_nat;
pub mod system;
pub mod unbound;
pub mod vpn;

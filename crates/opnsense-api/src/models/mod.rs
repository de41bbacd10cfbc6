//! Typed models by API area. Every model keeps the fields it does not name in an
//! [`Extra`](crate::fields::Extra) map, so nothing OPNsense returns is dropped.
//!
//! Conventions: option fields are enums with an `Other` fallback (read from either a plain string
//! or OPNsense's `{key: {value, selected}}` map), multi-selects are [`CsvList`](crate::fields::CsvList),
//! `"0"`/`"1"` are `bool`, and every field is optional so the same struct serves reads, adds and
//! partial updates (unset fields are not sent).

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

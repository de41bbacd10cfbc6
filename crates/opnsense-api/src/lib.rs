//! Typed async client for the OPNsense 26.x REST API.
//!
//! ```no_run
//! # async fn demo() -> opnsense_api::Result<()> {
//! let client = opnsense_api::Client::builder("https://192.168.1.1")
//!     .credentials("key", "secret")
//!     .ca_file("/etc/opnsense-ca.pem")
//!     .build()?;
//! let rules = client.firewall().filter().search(&opnsense_api::SearchQuery::all()).await?;
//! println!("{} rules", rules.total);
//! // Any model grid through the one generic handler:
//! let routes = client.grid(&opnsense_api::api::routes::ROUTES).search(&Default::default()).await?;
//! println!("{} routes", routes.total);
//! # Ok(()) }
//! ```
//!
//! Layout: every OPNsense model grid is a static [`GridSpec`] run by the generic [`Grid`]
//! handler (kube-rs' `Api<K>`); [`Client`] also hands out one handler per API area for the
//! endpoints that are not grids ([`Client::system`], [`Client::interfaces`], ...); models live
//! in [`models`] by area; every request is first built as a plain [`Request`] value (no I/O)
//! and then sent; every version quirk is a [`version::Quirk`].

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod api;
pub mod client;
pub mod error;
pub mod fields;
pub mod grid;
pub mod models;
#[doc(hidden)]
pub mod outcome;
pub mod path;
pub mod request;
pub mod tls;
pub mod version;

pub use client::{AUDIT_TARGET, Client, ClientBuilder, redact_userinfo};
pub use error::{Error, Result, TimeoutPhase};
pub use grid::{Grid, GridDesc, GridSpec};
pub use outcome::{ActionStatus, Saved, Toggled};
pub use path::{AliasName, BackupId, Revision, Uuid};
pub use request::{Method, Request, SearchPage, SearchQuery, SortDirection};
pub use tls::CertFingerprint;
pub use version::{FirmwareVersion, Quirk};

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
//! # Ok(()) }
//! ```
//!
//! Layout (octocrab style): [`Client`] hands out one handler per API area
//! ([`Client::system`], [`Client::firewall`], ...); models live in [`models`] by area; every
//! request is first built as a plain [`Request`] value (no I/O) and then sent.

pub mod api;
pub mod client;
pub mod error;
pub mod fields;
pub mod models;
pub mod outcome;
pub mod path;
pub mod request;
pub mod version;

pub use client::{AUDIT_TARGET, Client, ClientBuilder};
pub use error::{Error, Result, TimeoutPhase};
pub use outcome::{ActionStatus, Saved, Toggled};
pub use path::{AliasName, Revision, Uuid};
pub use request::{Method, Request, SearchPage, SearchQuery, SortDirection};
pub use version::FirmwareVersion;

//! System health (`core/system/status`) and firmware (`core/firmware/*`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::{Extra, opt};

/// `core/system/status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemStatus {
    /// `metadata.system` and translations.
    #[serde(default)]
    pub metadata: StatusMetadata,
    /// Subsystems with something to report (absent when all is well).
    #[serde(default)]
    pub subsystems: BTreeMap<String, Subsystem>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `metadata` of the system status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusMetadata {
    /// The overall status.
    #[serde(default)]
    pub system: OverallStatus,
    /// Anything else (`translations`, legacy `subsystems`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `metadata.system`. `status` is the integer 2 when nothing is pending, else a name such as
/// `"WARNING"`; it is kept as JSON and read through [`OverallStatus::level`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OverallStatus {
    /// `2` or `"OK"` / `"NOTICE"` / `"WARNING"` / `"ERROR"`.
    #[serde(default)]
    pub status: Value,
    /// e.g. "No pending messages".
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub message: Option<String>,
    /// Anything else (`title`).
    #[serde(flatten)]
    pub extra: Extra,
}

impl OverallStatus {
    /// `OK`, `NOTICE`, `WARNING` or `ERROR`.
    pub fn level(&self) -> String {
        match &self.status {
            Value::Number(n) => match n.as_i64() {
                Some(-1) => "ERROR",
                Some(0) => "WARNING",
                Some(1) => "NOTICE",
                _ => "OK",
            }
            .to_owned(),
            Value::String(s) => s.to_ascii_uppercase(),
            _ => "OK".to_owned(),
        }
    }
}

/// One subsystem entry of the status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subsystem {
    /// Title shown in the GUI.
    #[serde(default)]
    pub title: String,
    /// `ERROR`, `WARNING`, `NOTICE` or `OK`.
    #[serde(default)]
    pub status: String,
    /// -1 error, 0 warning, 1 notice, 2 ok.
    #[serde(default)]
    pub status_code: i64,
    /// The message.
    #[serde(default)]
    pub message: String,
    /// Anything else (`location`, `timestamp`, `persistent`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `core/firmware/status` (GET = the cached result of the last check).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FirmwareStatus {
    /// `none` (no updates or never checked), `update`, `upgrade` or `error`.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<String>,
    /// Human-readable summary.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub status_msg: Option<String>,
    /// Product metadata (`product_version`, `product_latest`, ...).
    #[serde(default)]
    pub product: Option<Product>,
    /// When the last check ran (`unknown` if never).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_check: Option<String>,
    /// Reboot needed after the pending update (`"0"`/`"1"`).
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub needs_reboot: Option<String>,
    /// Download size of pending updates.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub download_size: Option<String>,
    /// Packages with an update.
    #[serde(default, deserialize_with = "non_list_is_empty")]
    pub upgrade_packages: Vec<Value>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

fn non_list_is_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(a) => a,
        _ => Vec::new(),
    })
}

impl FirmwareStatus {
    /// The installed version (`product.product_version`).
    pub fn installed_version(&self) -> Option<&str> {
        self.product.as_ref()?.product_version.as_deref()
    }
}

/// `product` of the firmware status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// Installed version, e.g. `26.1.10`.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_version: Option<String>,
    /// Newest known version.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_latest: Option<String>,
    /// Series, e.g. `26.1`.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_series: Option<String>,
    /// `OPNsense`.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_name: Option<String>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `core/firmware/check`: a background check was started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FirmwareCheck {
    /// `ok` when started.
    #[serde(default)]
    pub status: String,
    /// Id of the background job.
    #[serde(
        default,
        deserialize_with = "opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub msg_uuid: Option<String>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

//! System health (`core/system/status`) and firmware (`core/firmware/*`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::{Extra, list_or_empty, map_or_empty, opt, opt_bool, string_or_empty};

/// `core/system/status`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemStatus {
    /// `metadata.system` and translations (always sent; its absence means this is not a status).
    pub metadata: StatusMetadata,
    /// Subsystems with something to report, keyed by short name (`crashreporter`, `diskspace`,
    /// ...). OPNsense leaves the key out when all is well; empty then.
    #[serde(default, deserialize_with = "map_or_empty")]
    pub subsystems: BTreeMap<String, Subsystem>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SystemStatus {
    /// The overall level: `OK`, `NOTICE`, `WARNING` or `ERROR`.
    pub fn level(&self) -> String {
        self.metadata.system.level()
    }

    /// True when no subsystem reports anything.
    pub fn is_clean(&self) -> bool {
        self.subsystems.is_empty()
    }
}

wire_model! {
    /// `metadata` of the system status.
    pub struct StatusMetadata {
        /// The overall status.
        pub system: OverallStatus,
        /// Anything else (`translations`, the legacy always-empty `subsystems` list).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

/// `metadata.system.status`: the integer `2` when no probe reported anything, otherwise the name
/// of the worst level (`"OK"`, `"NOTICE"`, `"WARNING"`, `"ERROR"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StatusValue {
    /// A numeric code: -1 error, 0 warning, 1 notice, 2 ok.
    Code(i64),
    /// A level name.
    Name(String),
}

impl Default for StatusValue {
    fn default() -> Self {
        Self::Code(2)
    }
}

impl StatusValue {
    /// `OK`, `NOTICE`, `WARNING` or `ERROR` (an unknown code counts as `OK`; an unknown name is
    /// returned upper-cased).
    pub fn level(&self) -> String {
        match self {
            Self::Code(-1) => "ERROR".to_owned(),
            Self::Code(0) => "WARNING".to_owned(),
            Self::Code(1) => "NOTICE".to_owned(),
            Self::Code(_) => "OK".to_owned(),
            // A numeric code sent as text ("2").
            Self::Name(s) => match s.trim().parse::<i64>() {
                Ok(code) => Self::Code(code).level(),
                Err(_) => s.trim().to_ascii_uppercase(),
            },
        }
    }
}

wire_model! {
    /// `metadata.system`.
    pub struct OverallStatus {
        /// `2` or `"OK"` / `"NOTICE"` / `"WARNING"` / `"ERROR"`; read it through [`Self::level`].
        pub status: StatusValue,
        /// e.g. "No pending messages".
        pub message: Option<String>,
        /// e.g. "System".
        pub title: Option<String>,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

impl OverallStatus {
    /// `OK`, `NOTICE`, `WARNING` or `ERROR`.
    pub fn level(&self) -> String {
        self.status.level()
    }
}

/// One subsystem entry of the status. Every field is read leniently: PHP sends numbers as
/// numbers or strings, and a plugin's status class may leave the title `null`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Subsystem {
    /// Title shown in the GUI.
    #[serde(deserialize_with = "string_or_empty")]
    pub title: String,
    /// `ERROR`, `WARNING`, `NOTICE` or `OK`.
    #[serde(deserialize_with = "string_or_empty")]
    pub status: String,
    /// -1 error, 0 warning, 1 notice, 2 ok (2 when absent or unreadable).
    #[serde(deserialize_with = "status_code")]
    pub status_code: i64,
    /// The message.
    #[serde(deserialize_with = "string_or_empty")]
    pub message: String,
    /// GUI page to look at (`/crash_reporter.php`), if any.
    #[serde(deserialize_with = "opt")]
    pub location: Option<String>,
    /// When it was reported (unix time, possibly fractional), if known.
    #[serde(deserialize_with = "opt")]
    pub timestamp: Option<f64>,
    /// Relative age of the report ("5 minutes ago"); only when `timestamp` is set.
    #[serde(deserialize_with = "opt")]
    pub age: Option<String>,
    /// Whether the message survives a dismiss.
    #[serde(with = "opt_bool")]
    pub persistent: Option<bool>,
    /// Whether the GUI shows it as a banner.
    #[serde(with = "opt_bool")]
    pub is_banner: Option<bool>,
    /// Sort priority (default 100).
    #[serde(deserialize_with = "opt")]
    pub priority: Option<i64>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

fn ok_code() -> i64 {
    2
}

/// `statusCode`: an integer or a numeric string; anything else (absent, `null`, text) is 2 (ok),
/// so one odd subsystem never hides the others.
fn status_code<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    let s = crate::fields::selected_string(&v);
    Ok(<i64 as crate::fields::FromWire>::from_wire(s).unwrap_or_else(|_| ok_code()))
}

impl Default for Subsystem {
    fn default() -> Self {
        Self {
            title: String::new(),
            status: String::new(),
            status_code: ok_code(),
            message: String::new(),
            location: None,
            timestamp: None,
            age: None,
            persistent: None,
            is_banner: None,
            priority: None,
            extra: Extra::default(),
        }
    }
}

crate::wire_enum! {
    /// `status` of `core/firmware/status`.
    pub enum FirmwareState {
        /// No updates available, or never checked (see `status_msg`).
        NoUpdates = "none",
        /// Package updates are available.
        Update = "update",
        /// Only a set/major upgrade is available.
        Upgrade = "upgrade",
        /// The check failed (connection or repository problems) or the metadata is unreadable.
        Error = "error",
    }
}

wire_model! {
    /// `core/firmware/status` (GET = the cached result of the last check). Three shapes: an error
    /// (`status` + `status_msg` only), never checked (`product`, `status: "none"`), and checked (every
    /// key of the check result at top level).
    pub struct FirmwareStatus {
        /// `none` (no updates or never checked), `update`, `upgrade` or `error`.
        #[serde(deserialize_with = "opt")]
        pub status: Option<FirmwareState>,
        /// Human-readable summary.
        pub status_msg: Option<String>,
        /// Product metadata (`product_version`, `product_latest`, ...); absent in the error shape.
        #[serde(deserialize_with = "crate::fields::opt_object")]
        pub product: Option<Product>,
        /// Mirror connectivity: `ok`, `unresolved`, `misconfigured`, `unauthenticated`, `error`.
        pub connection: Option<String>,
        /// Repository state: `ok`, `error`, `untrusted`, `revoked`, `unsigned`, `forbidden`,
        /// `incomplete`.
        pub repository: Option<String>,
        /// When the last check ran (`unknown` if never).
        pub last_check: Option<String>,
        /// A reboot is needed after the pending updates.
        pub needs_reboot: Option<bool>,
        /// Same as `needs_reboot`, present only when updates exist.
        pub status_reboot: Option<bool>,
        /// Download size of pending updates (`12.3MiB`).
        pub download_size: Option<String>,
        /// The major version an upgrade would move to, if any.
        pub upgrade_major_version: Option<String>,
        /// Release notice of that major upgrade.
        pub upgrade_major_message: Option<String>,
        /// Packages with an update.
        #[serde(deserialize_with = "list_or_empty", skip_serializing_if = "Vec::is_empty" )]
        pub upgrade_packages: Vec<PackageUpdate>,
        /// Sets (base, kernel) with an update.
        #[serde(deserialize_with = "list_or_empty", skip_serializing_if = "Vec::is_empty" )]
        pub upgrade_sets: Vec<PackageUpdate>,
        /// Every package change of the pending update, by name (OPNsense sends `[]` when none).
        #[serde(deserialize_with = "map_or_empty", skip_serializing_if = "BTreeMap::is_empty" )]
        pub all_packages: BTreeMap<String, PackageChange>,
        /// Every set change of the pending update, by name (`[]` when none).
        #[serde(deserialize_with = "map_or_empty", skip_serializing_if = "BTreeMap::is_empty" )]
        pub all_sets: BTreeMap<String, PackageChange>,
        /// Anything else (`api_version`, `os_version`, `new_packages`, `remove_packages`, ...).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

impl FirmwareStatus {
    /// The installed version (`product.product_version`, else the top-level `product_version`).
    pub fn installed_version(&self) -> Option<&str> {
        self.product
            .as_ref()
            .and_then(|p| p.product_version.as_deref())
            .or_else(|| self.extra.get("product_version").and_then(Value::as_str))
    }

    /// The newest version known to the last check (`product.product_latest`).
    pub fn latest_version(&self) -> Option<&str> {
        self.product.as_ref()?.product_latest.as_deref()
    }

    /// True when the last check found updates or an upgrade.
    pub fn has_updates(&self) -> bool {
        matches!(
            self.status,
            Some(FirmwareState::Update | FirmwareState::Upgrade)
        )
    }
}

wire_model! {
    /// One entry of `upgrade_packages` / `upgrade_sets`.
    pub struct PackageUpdate {
        /// Package or set name.
        pub name: String,
        /// Installed version.
        pub current_version: Option<String>,
        /// Version the update installs.
        pub new_version: Option<String>,
        /// Repository it comes from.
        pub repository: Option<String>,
        /// Download size, when known.
        pub size: Option<String>,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// One entry of `all_packages` / `all_sets`.
    pub struct PackageChange {
        /// Package or set name.
        pub name: String,
        /// `upgrade`, `downgrade`, `new`, `reinstall` or `obsolete`.
        pub reason: Option<String>,
        /// Installed version (`N/A` when new).
        pub old: Option<String>,
        /// Version after the update (`N/A` when removed).
        pub new: Option<String>,
        /// Repository.
        pub repository: Option<String>,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// `product` of the firmware status.
    pub struct Product {
        /// Installed version, e.g. `26.1.10`.
        pub product_version: Option<String>,
        /// Newest known version.
        pub product_latest: Option<String>,
        /// Series, e.g. `26.1`.
        pub product_series: Option<String>,
        /// `OPNsense`.
        pub product_name: Option<String>,
        /// Release nickname.
        pub product_nickname: Option<String>,
        /// CPU architecture (`amd64`).
        pub product_arch: Option<String>,
        /// Package mirror URL (a subscription key is masked as `${SUBSCRIPTION}`).
        pub product_mirror: Option<String>,
        /// Build date.
        pub product_time: Option<String>,
        /// Anything else (`CORE_*`, `product_check`, `product_license`, ...).
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// `core/firmware/check`: a background check was started.
    pub struct FirmwareCheck {
        /// `ok` when started (`failure` when not a POST).
        #[serde_with(skip_apply)]
        pub status: String,
        /// Id of the background job.
        pub msg_uuid: Option<String>,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

wire_model! {
    /// One local configuration backup (`core/backup/backups/this`): OPNsense keeps one per save.
    pub struct Backup {
        /// The file name, used as the id (`config-1767361234.5712.xml`).
        pub id: String,
        /// When it was saved (Unix time, possibly fractional).
        pub time: Option<f64>,
        /// The same as ISO 8601 text.
        pub time_iso: Option<String>,
        /// What made the change (`/api/firewall/filter/apply made changes`).
        pub description: Option<String>,
        /// Who made it.
        pub username: Option<String>,
        /// Size in bytes.
        pub filesize: Option<u64>,
        /// Anything else.
        #[serde(flatten)]
        pub extra: Extra,
    }
}

/// `core/backup/diff/{host}/{a}/{b}`: `{"items": [...]}`, the lines of `diff -u`, each
/// HTML-escaped (`htmlspecialchars(ENT_QUOTES | ENT_HTML401)`); empty when there is nothing to
/// compare.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupDiff {
    /// The lines, as OPNsense sent them (escaped).
    #[serde(default, deserialize_with = "list_or_empty")]
    pub items: Vec<String>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl BackupDiff {
    /// The lines with OPNsense's HTML escaping undone.
    pub fn lines(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|l| {
                l.replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&#039;", "'")
                    .replace("&amp;", "&")
            })
            .collect()
    }
}

/// `core/backup/backups/{host}`: `{"items": [...]}`, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Backups {
    /// The backups, newest first.
    #[serde(default, deserialize_with = "list_or_empty")]
    pub items: Vec<Backup>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

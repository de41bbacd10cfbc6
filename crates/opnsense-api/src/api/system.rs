//! `core/system`, `core/firmware`, `core/backup`: health, firmware and configuration backups.
//!
//! The backup endpoints (`src/opnsense/mvc/app/controllers/OPNsense/Core/Api/BackupController.php`,
//! the same at 26.1.11 and 26.7.2 but for an unused import): `backups/{host}` (line 80; every
//! `/conf/backup/config-*.xml` with a `revision`, newest first), `diff/{host}/{a}/{b}` (110;
//! `diff -u <b> <a>`, each line HTML-escaped), `download/{host}[/{id}]` (180; the named file or
//! the newest, which is the running configuration because `Config::save()` backs up every
//! save), `revertBackup/{id}` (159; POST: `Config::restoreBackup()` then `save()`, which writes
//! one more backup; no service is reconfigured) and `deleteBackup/{id}` (140). Ids reach the path
//! only as a checked [`BackupId`].

use crate::client::Client;
use crate::error::{Error, Result, excerpt};
use crate::models::system::{BackupDiff, Backups, FirmwareCheck, FirmwareStatus, SystemStatus};
use crate::outcome;
use crate::path::BackupId;
use crate::request::Request;

/// `GET core/system/status`.
pub fn status_request() -> Request {
    Request::get("core/system/status")
}

/// `GET core/firmware/status` (the cached result of the last check; no network probe).
pub fn firmware_status_request() -> Request {
    Request::get("core/firmware/status")
}

/// `POST core/firmware/check` without a body.
pub fn firmware_check_request() -> Request {
    Request::post("core/firmware/check")
}

/// `GET core/backup/backups/this`: the local configuration backups, newest first.
pub fn backups_request() -> Request {
    Request::get("core/backup/backups/this")
}

/// `GET core/backup/download/this`, expecting raw XML.
pub fn config_backup_request() -> Request {
    Request::get("core/backup/download/this").text()
}

/// `GET core/backup/download/this/{id}`, expecting raw XML: one backup.
pub fn backup_download_request(id: &BackupId) -> Request {
    Request::get("core/backup/download/this")
        .segment(id.as_str())
        .text()
}

/// `GET core/backup/diff/this/{to}/{from}`: OPNsense's `diff -u` of two backups, the lines that
/// turn `from` into `to` (`diffAction($host, $backup1, $backup2)` runs `diff -u backup2 backup1`,
/// so `to` goes first).
pub fn backup_diff_request(from: &BackupId, to: &BackupId) -> Request {
    Request::get("core/backup/diff/this")
        .segment(to.as_str())
        .segment(from.as_str())
}

/// `POST core/backup/revert_backup/{id}` without a body: restores config.xml from a backup.
pub fn revert_backup_request(id: &BackupId) -> Request {
    Request::post("core/backup/revert_backup").segment(id.as_str())
}

/// Handler for system endpoints.
#[derive(Debug, Clone, Copy)]
pub struct SystemHandler<'c> {
    client: &'c Client,
}

impl<'c> SystemHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// `GET core/system/status`: health and pending subsystem messages.
    pub async fn status(&self) -> Result<SystemStatus> {
        self.client.send_json(status_request()).await
    }

    /// `GET core/firmware/status`: installed version and the result of the last update check
    /// (cached; see [`Self::firmware_check`] to start a new one).
    pub async fn firmware_status(&self) -> Result<FirmwareStatus> {
        self.client.send_json(firmware_status_request()).await
    }

    /// `POST core/firmware/check`: starts an update check in the background. Poll
    /// [`Self::firmware_status`] afterwards for the result. Any status but `ok` is
    /// [`Error::ActionFailed`].
    pub async fn firmware_check(&self) -> Result<FirmwareCheck> {
        self.client
            .execute(firmware_check_request(), |path, v| {
                let check: FirmwareCheck = outcome::decode(path, v)?;
                if outcome::status_is_ok(&check.status) {
                    Ok(check)
                } else {
                    Err(Error::ActionFailed {
                        action: "start a firmware update check",
                        path: path.to_owned(),
                        status: check.status,
                    })
                }
            })
            .await
    }

    /// `GET core/backup/backups/this`: the local configuration backups, newest first.
    pub async fn backups(&self) -> Result<Backups> {
        self.client.send_json(backups_request()).await
    }

    /// `GET core/backup/download/this`: the current config.xml, as OPNsense sends it
    /// (it holds password hashes and keys: redact before showing it anywhere).
    pub async fn config_backup(&self) -> Result<String> {
        self.xml(config_backup_request(), None).await
    }

    /// `GET core/backup/download/this/{id}`: one backup's config.xml as OPNsense sends it
    /// (secrets included: redact before showing it anywhere). An id OPNsense has no file for
    /// (it answers an empty body) is [`Error::NotFound`].
    pub async fn backup_xml(&self, id: &BackupId) -> Result<String> {
        self.xml(backup_download_request(id), Some(id)).await
    }

    async fn xml(&self, req: Request, id: Option<&BackupId>) -> Result<String> {
        let path = req.path.clone();
        let xml = self.client.send_text(req).await?;
        let head = xml.trim_start_matches('\u{feff}').trim_start();
        if head.starts_with("<?xml") || head.starts_with("<opnsense") {
            return Ok(xml);
        }
        match id {
            Some(id) if head.is_empty() || head == "[]" => Err(Error::NotFound {
                kind: "configuration backup",
                id: id.to_string(),
            }),
            _ => Err(Error::InvalidResponse {
                path,
                reason: "expected config.xml (no backup found on the firewall?)".into(),
                excerpt: excerpt(&xml),
            }),
        }
    }

    /// `GET core/backup/diff/this/{to}/{from}`: OPNsense's unified diff from one backup to
    /// another, one line per item, HTML-escaped as OPNsense sends it (secrets included). Empty
    /// when either id names no backup or both name the same.
    pub async fn backup_diff(&self, from: &BackupId, to: &BackupId) -> Result<BackupDiff> {
        self.client.send_json(backup_diff_request(from, to)).await
    }

    /// `POST core/backup/revert_backup/{id}`: restores config.xml from the backup (OPNsense
    /// saves it, which writes a new backup, and reloads nothing: apply the areas that changed).
    /// `not_found` is [`Error::NotFound`]; any other status but `reverted` is
    /// [`Error::ActionFailed`].
    pub async fn revert_backup(&self, id: &BackupId) -> Result<()> {
        self.client
            .execute(revert_backup_request(id), |path, v| {
                let status = v
                    .get("status")
                    .map(crate::fields::selected_string)
                    .unwrap_or_default();
                match status.as_str() {
                    "reverted" => Ok(()),
                    "not_found" => Err(Error::NotFound {
                        kind: "configuration backup",
                        id: id.to_string(),
                    }),
                    _ => Err(Error::ActionFailed {
                        action: "restore a configuration backup",
                        path: path.to_owned(),
                        status,
                    }),
                }
            })
            .await
    }
}

//! `core/system`, `core/firmware`, `core/backup`: health, firmware and configuration backup.

use crate::client::Client;
use crate::error::{Error, Result, excerpt};
use crate::models::system::{FirmwareCheck, FirmwareStatus, SystemStatus};
use crate::outcome;
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

/// `GET core/backup/download/this`, expecting raw XML.
pub fn config_backup_request() -> Request {
    Request::get("core/backup/download/this").text()
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

    /// `GET core/backup/download/this`: the current config.xml, as OPNsense sends it
    /// (it holds password hashes and keys: redact before showing it anywhere).
    pub async fn config_backup(&self) -> Result<String> {
        let req = config_backup_request();
        let path = req.path.clone();
        let xml = self.client.send_text(req).await?;
        let head = xml.trim_start_matches('\u{feff}').trim_start();
        if head.starts_with("<?xml") || head.starts_with("<opnsense") {
            Ok(xml)
        } else {
            Err(Error::InvalidResponse {
                path,
                reason: "expected config.xml (no backup found on the firewall?)".into(),
                excerpt: excerpt(&xml),
            })
        }
    }
}

//! `core/system`, `core/firmware`, `core/backup`: health, firmware and configuration backup.

use crate::client::Client;
use crate::error::{Error, Result, excerpt};
use crate::models::system::{FirmwareCheck, FirmwareStatus, SystemStatus};
use crate::request::Request;

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
        self.client
            .send_json(Request::get("core/system/status"))
            .await
    }

    /// `GET core/firmware/status`: installed version and the result of the last update check
    /// (cached; see [`Self::firmware_check`] to start a new one).
    pub async fn firmware_status(&self) -> Result<FirmwareStatus> {
        self.client
            .send_json(Request::get("core/firmware/status"))
            .await
    }

    /// `POST core/firmware/check`: starts an update check in the background.
    pub async fn firmware_check(&self) -> Result<FirmwareCheck> {
        self.client
            .send_json(Request::post("core/firmware/check"))
            .await
    }

    /// `GET core/backup/download/this`: the current config.xml, as OPNsense sends it
    /// (it holds password hashes and keys: redact before showing it anywhere).
    pub async fn config_backup(&self) -> Result<String> {
        const PATH: &str = "core/backup/download/this";
        let xml = self.client.send_text(Request::get(PATH)).await?;
        let head = xml.trim_start();
        if head.starts_with("<?xml") || head.starts_with("<opnsense") {
            Ok(xml)
        } else {
            Err(Error::InvalidResponse {
                path: PATH.into(),
                reason: "expected config.xml (no backup found on the firewall?)".into(),
                excerpt: excerpt(&xml),
            })
        }
    }
}

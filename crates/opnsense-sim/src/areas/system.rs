//! `core/*`: system status, firmware status/check, the configuration backups
//! (`core/backup/*`) and the generic service manager.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::backups::Backup;
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::{Route, Shared};
use crate::state::SimState;

/// Endpoints of `core/<controller>`.
pub(crate) fn route(controller: &str, action: &str) -> Option<Route> {
    match (controller, action) {
        ("System", "status") => Route::new(system_status),
        ("Firmware", "status") => Route::new(firmware_status),
        ("Firmware", "check") => Route::new(firmware_check),
        ("Firmware", "upgradestatus") => Route::new(|_, _, _| {
            Reply::ok(
                json!({"status": "done", "log": "Fetching changelog information, please wait... done\n***DONE***"}),
            )
        }),
        ("Firmware", "running") => Route::new(|_, _, _| Reply::ok(json!({"status": "ready"}))),
        ("Backup", "providers") => Route::new(providers),
        ("Backup", "backups") => Route::with_params(backups, 1),
        ("Backup", "diff") => Route::with_params(diff, 3),
        ("Backup", "download") => Route::with_params(backup_download, 1),
        ("Backup", "revertbackup") => Route::with_params(revert_backup, 1),
        ("Backup", "deletebackup") => Route::with_params(delete_backup, 1),
        ("Service", "search") => Route::new(service_search),
        ("Service", "start" | "stop" | "restart") => Route::with_params(service_control, 1),
        _ => None,
    }
}

fn system_status(_: &Arc<Shared>, _: &mut SimState, _: &Req) -> Reply {
    Reply::ok(json!({"metadata": {
        "system": {"status": 2, "message": "No pending messages", "title": "System"},
        "translations": {"dialogTitle": "System Status", "dialogCloseButton": "Close"},
        "subsystems": []
    }}))
}

/// `configctl firmware product` (`src/opnsense/scripts/firmware/product.php`): the
/// package's version file (`src/opnsense/version/core.in`, filled from `Mk/version.mk`
/// and the Makefile) plus the live `product_*` keys, sorted with `ksort()`. Build details
/// (commit, hash, Python and syslog-ng versions) are illustrative.
fn product(shared: &Shared, checked: bool) -> Value {
    let v = shared.config.version;
    let check = if checked {
        json!({"api_version": "2", "connection": "ok", "repository": "ok", "last_check": "Thu Jan 15 10:00:00 UTC 2026"})
    } else {
        Value::Null
    };
    let next = if v.series() == "26.1" { "26.7" } else { "27.1" };
    let conflicts = "firewall wireguard wireguard-go";
    let entries: Vec<(&str, Value)> = vec![
        ("CORE_ABI", json!(v.series())),
        ("CORE_ARCH", json!("amd64")),
        ("CORE_COMMIT", json!("0123456789")),
        ("CORE_CONFLICTS", json!(conflicts)),
        ("CORE_COPYRIGHT_HOLDER", json!("Deciso B.V.")),
        ("CORE_COPYRIGHT_WWW", json!("https://www.deciso.com/")),
        ("CORE_COPYRIGHT_YEARS", json!("2014-2026")),
        ("CORE_GID", json!("789")),
        ("CORE_GROUP", json!("wwwonly")),
        ("CORE_HASH", json!("0123456789")),
        ("CORE_MAINTAINER", json!("project@opnsense.org")),
        ("CORE_NAME", json!("opnsense")),
        ("CORE_NEXT", json!(next)),
        ("CORE_NICKNAME", json!(v.nickname())),
        ("CORE_PACKAGESITE", json!("https://pkg.opnsense.org")),
        ("CORE_PKGVERSION", json!(v.product_version())),
        ("CORE_PRODUCT", json!("OPNsense")),
        ("CORE_PYTHON_DOT", json!("3.11")),
        ("CORE_SERIES", json!(v.series())),
        ("CORE_SERIES_FW", json!(v.series())),
        ("CORE_SYSLOGNG", json!("4.8")),
        ("CORE_UID", json!("789")),
        ("CORE_USER", json!("wwwonly")),
        ("CORE_VERSION", json!(v.product_version())),
        ("CORE_WWW", json!("https://opnsense.org/")),
        ("product_abi", json!(v.series())),
        ("product_arch", json!("amd64")),
        ("product_check", check),
        ("product_conflicts", json!(conflicts)),
        ("product_copyright_owner", json!("Deciso B.V.")),
        ("product_copyright_url", json!("https://www.deciso.com/")),
        ("product_copyright_years", json!("2014-2026")),
        ("product_email", json!("project@opnsense.org")),
        ("product_hash", json!("0123456789")),
        ("product_id", json!("opnsense")),
        ("product_latest", json!(v.product_version())),
        ("product_license", json!([])),
        ("product_log", json!(0)),
        (
            "product_mirror",
            json!(format!(
                "https://pkg.opnsense.org/FreeBSD:14:amd64/{}",
                v.series()
            )),
        ),
        ("product_name", json!("OPNsense")),
        ("product_nickname", json!(v.nickname())),
        ("product_repos", json!("OPNsense")),
        ("product_series", json!(v.series())),
        ("product_tier", json!("1")),
        ("product_time", json!("Thu Jan 8 12:00:00 UTC 2026")),
        ("product_version", json!(v.product_version())),
        ("product_website", json!("https://opnsense.org/")),
    ];
    let sorted: std::collections::BTreeMap<&str, Value> = entries.into_iter().collect();
    Value::Object(
        sorted
            .into_iter()
            .map(|(k, val)| (k.to_owned(), val))
            .collect(),
    )
}

/// GET: cached state (unchecked until a check ran); POST: synchronous probe.
fn firmware_status(shared: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if req.is_post {
        st.firmware_checked = true;
    }
    if !st.firmware_checked {
        return Reply::ok(json!({
            "product": product(shared, false),
            "status_msg": "Firmware status requires to check for update first to provide more information.",
            "status": "none"
        }));
    }
    let v = shared.config.version;
    Reply::ok(json!({
        "api_version": "2", "connection": "ok", "downgrade_packages": [], "download_size": "",
        "last_check": "Thu Jan 15 10:00:00 UTC 2026", "needs_reboot": "0", "new_packages": [],
        "os_version": "FreeBSD 14.3-RELEASE-p7", "product_id": "opnsense", "product_target": "opnsense",
        "product_version": v.product_version(), "product_abi": v.series(), "reinstall_packages": [],
        "remove_packages": [], "repository": "ok", "upgrade_major_message": "", "upgrade_major_version": "",
        "upgrade_needs_reboot": "0", "upgrade_packages": [], "upgrade_sets": [],
        "product": product(shared, true), "all_packages": [], "all_sets": [],
        "status_msg": "There are no updates available on the selected mirror.", "status": "none"
    }))
}

fn firmware_check(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "failure"}));
    }
    st.firmware_checked = true;
    let id = st.new_uuid();
    Reply::ok(json!({"msg_uuid": id, "status": "ok"}))
}

fn service_rows(st: &SimState) -> Vec<Map<String, Value>> {
    let mut rows = vec![
        json!({"id": "configd", "locked": 1, "running": 1, "description": "System Configuration Daemon", "name": "configd"}),
        json!({"id": "webgui", "locked": 1, "running": 1, "description": "Web GUI", "name": "webgui"}),
    ];
    for (name, s) in &st.services {
        rows.push(
            json!({"id": name, "locked": 0, "running": i32::from(s.running),
            "description": name.to_string(), "name": name}),
        );
    }
    rows.into_iter()
        .filter_map(|v| v.as_object().cloned())
        .collect()
}

fn service_search(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let params = SearchParams::recordset(req);
    Reply::ok(search::recordset(service_rows(st), &params, ""))
}

fn service_control(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"result": "failed"}));
    }
    let name = req.param(0).unwrap_or_default();
    let action = req.action.as_str();
    if let Some(s) = st.services.get_mut(name) {
        s.running = action != "stop";
    }
    Reply::ok(json!({"result": "ok"}))
}

/// `BackupController::providers()` without OPNcentral: this firewall only.
fn providers(_: &Arc<Shared>, _: &mut SimState, _: &Req) -> Reply {
    Reply::ok(
        json!({"items": {"this": {"description": "This Firewall", "dirname": "/conf/backup"}}}),
    )
}

/// `backupsAction($host)`: every backup with a revision, newest first.
fn backups(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let items: Vec<Value> = if req.param(0) == Some("this") {
        st.backups.newest_first().map(Backup::item).collect()
    } else {
        Vec::new()
    };
    Reply::ok(json!({ "items": items }))
}

/// `diffAction($host, $backup1, $backup2)`: `diff -u <backup2> <backup1>`, line by line.
fn diff(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    let items = if req.param(0) == Some("this") {
        st.backups.diff(
            req.param(1).unwrap_or_default(),
            req.param(2).unwrap_or_default(),
        )
    } else {
        Vec::new()
    };
    Reply::ok(json!({ "items": items }))
}

/// `deleteBackupAction($backup)`: POST only; `deleted` or `not_found`.
fn delete_backup(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "failed"}));
    }
    let status = if st.backups.delete(req.param(0).unwrap_or_default()) {
        "deleted"
    } else {
        "not_found"
    };
    Reply::ok(json!({ "status": status }))
}

/// `revertBackupAction($backup)`: POST only; `restoreBackup()` then `save()` (a new
/// backup). Only the configuration changes: nothing is reconfigured, the running services
/// (the simulator's live side) keep what they loaded.
fn revert_backup(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if !req.is_post {
        return Reply::ok(json!({"status": "failed"}));
    }
    let Some(cfg) = st
        .backups
        .by_id(req.param(0).unwrap_or_default())
        .map(Backup::config)
    else {
        return Reply::ok(json!({"status": "not_found"}));
    };
    st.staged = cfg;
    st.save(req.revision());
    Reply::ok(json!({"status": "reverted"}))
}

/// PHP `urlencode()`.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `downloadAction($host, $backup = null)`: the named backup, or the newest; nothing
/// (an empty answer) when there is none.
fn backup_download(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if req.param(0) != Some("this") {
        return Reply::ok(json!([]));
    }
    let found = match req.param(1) {
        Some(id) => st.backups.by_id(id),
        None => st.backups.newest_first().next(),
    };
    let Some(backup) = found else {
        return Reply::ok(json!([]));
    };
    let filename = urlencode(&format!("config-OPNsense.localdomain-{}.xml", backup.stamp));
    Reply::Raw {
        status: 200,
        content_type: "application/octet-stream",
        headers: vec![
            (
                "content-disposition",
                format!("attachment; filename={filename}"),
            ),
            ("pragma", "no-cache".to_owned()),
            ("expires", "0".to_owned()),
        ],
        body: backup.xml().into_bytes(),
    }
}

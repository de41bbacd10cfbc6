//! `core/system`, `core/firmware`, `core/backup` against wiremock.

mod common;

use common::{
    NoBody, assert_invalid_response, assert_request, client, expect_bodyless, fixture,
    fixture_text, json, mock_get, mock_post,
};
use opnsense_api::api::system;
use opnsense_api::models::system::{FirmwareState, StatusValue};
use opnsense_api::{Error, Method};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[test]
fn request_builders() {
    for (r, method, endpoint) in [
        (system::status_request(), Method::Get, "core/system/status"),
        (
            system::firmware_status_request(),
            Method::Get,
            "core/firmware/status",
        ),
        (
            system::firmware_check_request(),
            Method::Post,
            "core/firmware/check",
        ),
        (
            system::config_backup_request(),
            Method::Get,
            "core/backup/download/this",
        ),
    ] {
        assert_request(&r, method, endpoint, None);
    }
    // The backup is XML, not JSON.
    let r = system::config_backup_request();
    assert_eq!(r.accept, opnsense_api::request::Accept::Text);
}

#[tokio::test]
async fn system_status_clean() {
    let opn = mock_get(
        "core/system/status",
        fixture("system", "core_system_status_clean.json"),
    )
    .await;
    let s = opn.system().status().await.expect("status");
    assert_eq!(s.metadata.system.status, StatusValue::Code(2));
    assert_eq!(s.level(), "OK");
    assert!(s.is_clean());
    assert_eq!(
        s.metadata.system.message.as_deref(),
        Some("No pending messages")
    );
    assert_eq!(s.metadata.system.title.as_deref(), Some("System"));
    assert!(s.metadata.extra.get("translations").is_some());
}

#[tokio::test]
async fn system_status_with_subsystems() {
    let opn = mock_get(
        "core/system/status",
        fixture("system", "core_system_status.json"),
    )
    .await;
    let s = opn.system().status().await.expect("status");
    assert_eq!(
        s.metadata.system.status,
        StatusValue::Name("WARNING".into())
    );
    assert_eq!(s.level(), "WARNING");
    assert!(!s.is_clean());
    let crash = &s.subsystems["crashreporter"];
    assert_eq!(crash.title, "Crash Reporter");
    assert_eq!(crash.status, "WARNING");
    assert_eq!(crash.status_code, 0);
    assert!(crash.message.starts_with("An issue was detected"));
    assert_eq!(crash.location.as_deref(), Some("/crash_reporter.php"));
    assert_eq!(crash.timestamp, Some(1_767_225_600.0));
    assert_eq!(crash.persistent, Some(false));
    assert_eq!(crash.is_banner, Some(false));
    assert_eq!(crash.priority, Some(100));
    assert_eq!(crash.age.as_deref(), Some("5 minutes ago"));
}

#[test]
fn status_levels_and_empty_subsystems() {
    for (code, level) in [(-1, "ERROR"), (0, "WARNING"), (1, "NOTICE"), (2, "OK")] {
        assert_eq!(StatusValue::Code(code).level(), level);
    }
    assert_eq!(StatusValue::Name("notice".into()).level(), "NOTICE");
    // A PHP empty array as `subsystems`, and a null location/timestamp, still read.
    let s: opnsense_api::models::system::SystemStatus = serde_json::from_value(serde_json::json!({
        "metadata": {"system": {"status": "ERROR", "message": "x", "title": "System"}},
        "subsystems": []
    }))
    .expect("parses");
    assert!(s.subsystems.is_empty());
    assert_eq!(s.level(), "ERROR");
    let sub: opnsense_api::models::system::Subsystem = serde_json::from_value(
        serde_json::json!({"title": "t", "statusCode": -1, "status": "ERROR", "message": "m", "location": null, "timestamp": null}),
    )
    .expect("parses");
    assert_eq!((sub.location, sub.timestamp), (None, None));
}

#[tokio::test]
async fn a_subsystem_timestamp_rendered_as_the_string_zero_still_reads() {
    // PHP renders the timestamp as a number or as text ("0" when the probe has none).
    let mut answer = fixture("system", "core_system_status.json");
    answer["subsystems"]["crashreporter"]["timestamp"] = serde_json::json!("0");
    answer["subsystems"]["crashreporter"]["statusCode"] = serde_json::json!("0");
    answer["subsystems"]["crashreporter"]["priority"] = serde_json::json!("100");
    let opn = mock_get("core/system/status", answer).await;
    let s = opn
        .system()
        .status()
        .await
        .expect("a string timestamp must not fail the status");
    let crash = &s.subsystems["crashreporter"];
    assert_eq!(crash.timestamp, Some(0.0));
    assert_eq!(crash.status_code, 0);
    assert_eq!(crash.priority, Some(100));
    assert_eq!(s.level(), "WARNING");
}

#[tokio::test]
async fn firmware_status_checked() {
    let opn = mock_get(
        "core/firmware/status",
        fixture("system", "core_firmware_status.json"),
    )
    .await;
    let f = opn.system().firmware_status().await.expect("status");
    assert_eq!(f.status, Some(FirmwareState::Update));
    assert!(f.has_updates());
    assert_eq!(
        f.status_msg.as_deref(),
        Some("There is 1 update available, total download size is 1.2MiB.")
    );
    assert_eq!(f.installed_version(), Some("26.1.9"));
    assert_eq!(f.latest_version(), Some("26.1.10"));
    assert_eq!(f.connection.as_deref(), Some("ok"));
    assert_eq!(f.repository.as_deref(), Some("ok"));
    assert_eq!(f.needs_reboot, Some(false));
    assert_eq!(f.status_reboot, Some(false));
    assert_eq!(f.download_size.as_deref(), Some("1.2MiB"));
    assert_eq!(
        f.last_check.as_deref(),
        Some("Thu Jan 15 10:00:00 UTC 2026")
    );
    assert_eq!(f.upgrade_packages.len(), 1);
    let p = &f.upgrade_packages[0];
    assert_eq!(p.name, "opnsense");
    assert_eq!(p.current_version.as_deref(), Some("26.1.9"));
    assert_eq!(p.new_version.as_deref(), Some("26.1.10"));
    assert_eq!(p.repository.as_deref(), Some("OPNsense"));
    // `all_packages` is an object here, `all_sets` the PHP empty array `[]`.
    let change = &f.all_packages["opnsense"];
    assert_eq!(change.reason.as_deref(), Some("upgrade"));
    assert_eq!(change.old.as_deref(), Some("26.1.9"));
    assert_eq!(change.new.as_deref(), Some("26.1.10"));
    assert!(f.all_sets.is_empty());
    let product = f.product.as_ref().expect("product");
    assert_eq!(product.product_name.as_deref(), Some("OPNsense"));
    assert_eq!(product.product_series.as_deref(), Some("26.1"));
    assert_eq!(
        product.product_nickname.as_deref(),
        Some("Witty Woodpecker")
    );
    assert_eq!(
        f.extra.get("os_version").and_then(|v| v.as_str()),
        Some("FreeBSD 14.3-RELEASE-p7")
    );
}

#[tokio::test]
async fn firmware_status_unchecked() {
    let opn = mock_get(
        "core/firmware/status",
        fixture("system", "core_firmware_status_unchecked.json"),
    )
    .await;
    let f = opn.system().firmware_status().await.expect("status");
    assert_eq!(f.status, Some(FirmwareState::NoUpdates));
    assert!(!f.has_updates());
    assert!(
        f.status_msg
            .as_deref()
            .is_some_and(|m| m.starts_with("Firmware status requires to check"))
    );
    assert_eq!(f.installed_version(), Some("26.1.10"));
    assert_eq!(f.latest_version(), Some("26.1.10"));
    assert!(f.all_packages.is_empty() && f.upgrade_packages.is_empty());
    assert_eq!(f.last_check, None);
    assert_eq!(f.needs_reboot, None);
}

#[tokio::test]
async fn firmware_status_error_shape() {
    let opn = mock_get(
        "core/firmware/status",
        serde_json::json!({
            "status_msg": "Firmware status check was aborted internally. Please try again.",
            "status": "error"
        }),
    )
    .await;
    let f = opn.system().firmware_status().await.expect("status");
    assert_eq!(f.status, Some(FirmwareState::Error));
    assert!(f.product.is_none());
    assert_eq!(f.installed_version(), None);
}

#[tokio::test]
async fn firmware_check_started() {
    let opn = mock_post(
        "core/firmware/check",
        fixture("system", "core_firmware_check.json"),
    )
    .await;
    let c = opn.system().firmware_check().await.expect("check");
    assert_eq!(c.status, "ok");
    assert_eq!(
        c.msg_uuid.as_deref(),
        Some("8f0e2a6c-1b7d-4c59-9d3a-2f1e6b7c8d90")
    );
}

#[tokio::test]
async fn firmware_check_failure_is_an_error() {
    let opn = mock_post(
        "core/firmware/check",
        serde_json::json!({"status": "failure"}),
    )
    .await;
    let e = opn.system().firmware_check().await.expect_err("failure");
    assert!(
        matches!(&e, Error::ActionFailed { status, path, .. } if status == "failure" && path == "core/firmware/check"),
        "{e:?}"
    );
}

/// A 200 answer with `body` as OPNsense sends a file (`application/octet-stream`).
fn octet_stream(body: impl Into<Vec<u8>>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "application/octet-stream")
}

#[tokio::test]
async fn config_backup_returns_xml_verbatim() {
    let server = MockServer::start().await;
    let xml = fixture_text("system", "core_backup_download_this.xml");
    let answer = octet_stream(xml.clone());
    expect_bodyless(&server, "GET", "core/backup/download/this", answer, 1).await;
    let got = client(&server)
        .await
        .system()
        .config_backup()
        .await
        .expect("xml");
    assert_eq!(got, xml);
}

#[tokio::test]
async fn config_backup_non_xml_is_invalid_response() {
    for body in ["", "[]", "<html><body>login</body></html>"] {
        let server = MockServer::start().await;
        let answer = octet_stream(body);
        expect_bodyless(&server, "GET", "core/backup/download/this", answer, 1).await;
        let e = client(&server)
            .await
            .system()
            .config_backup()
            .await
            .expect_err(body);
        assert_invalid_response(&e, "core/backup/download/this", format!("{body:?}"));
    }
}

const OLD: &str = "config-1767361234.5712.xml";
const NEW: &str = "config-1767361299.81.xml";

fn id(s: &str) -> opnsense_api::BackupId {
    opnsense_api::BackupId::parse(s).expect("backup id")
}

#[test]
fn backup_request_builders_take_checked_ids_only() {
    let r = system::backup_download_request(&id(OLD));
    assert_eq!(
        (r.method, r.path.as_str(), r.body.is_none()),
        (
            Method::Get,
            "core/backup/download/this/config-1767361234.5712.xml",
            true
        )
    );
    assert_eq!(r.accept, opnsense_api::request::Accept::Text);
    // `diffAction($host, $backup1, $backup2)` runs `diff -u backup2 backup1`: the newer first.
    let r = system::backup_diff_request(&id(OLD), &id(NEW));
    assert_eq!(
        (r.method, r.path.as_str()),
        (
            Method::Get,
            "core/backup/diff/this/config-1767361299.81.xml/config-1767361234.5712.xml"
        )
    );
    let r = system::revert_backup_request(&id(OLD));
    assert_eq!(
        (r.method, r.path.as_str(), r.body.is_none()),
        (
            Method::Post,
            "core/backup/revert_backup/config-1767361234.5712.xml",
            true
        )
    );
    for bad in ["../../conf/config.xml", "config-1.xml/x", "config.xml", ""] {
        assert!(opnsense_api::BackupId::parse(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn a_backup_downloads_verbatim_and_a_missing_one_is_not_found() {
    let server = MockServer::start().await;
    let xml = fixture_text("system", "core_backup_download_this.xml");
    let endpoint = format!("core/backup/download/this/{OLD}");
    expect_bodyless(&server, "GET", &endpoint, octet_stream(xml.clone()), 1).await;
    Mock::given(method("GET"))
        .and(path(format!("/api/core/backup/download/this/{NEW}")))
        .respond_with(ResponseTemplate::new(200).set_body_raw("", "text/html"))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server).await;
    assert_eq!(c.system().backup_xml(&id(OLD)).await.expect("xml"), xml);
    let e = c.system().backup_xml(&id(NEW)).await.expect_err("missing");
    assert!(
        matches!(&e, Error::NotFound { kind, id } if *kind == "configuration backup" && id == NEW),
        "{e:?}"
    );
}

#[tokio::test]
async fn the_diff_is_read_and_unescaped() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/core/backup/diff/this/{NEW}/{OLD}")))
        .and(NoBody)
        .respond_with(json(serde_json::json!({"items": [
            "--- /conf/backup/config-1767361234.5712.xml\t2026-01-02 13:40:34.571200000 +0000",
            "+++ /conf/backup/config-1767361299.81.xml\t2026-01-02 13:41:39.810000000 +0000",
            "@@ -1 +1 @@",
            "-  &lt;descr&gt;a &amp;amp; b&lt;/descr&gt;",
            "+  &lt;descr&gt;&quot;it&#039;s&quot;&lt;/descr&gt;"
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let d = client(&server)
        .await
        .system()
        .backup_diff(&id(OLD), &id(NEW))
        .await
        .expect("diff");
    assert_eq!(d.items.len(), 5);
    let lines = d.lines();
    assert_eq!(lines[3], "-  <descr>a &amp; b</descr>");
    assert_eq!(lines[4], "+  <descr>\"it's\"</descr>");
}

#[tokio::test]
async fn revert_backup_reads_its_status() {
    for (answer, outcome) in [
        (serde_json::json!({"status": "reverted"}), "ok"),
        (serde_json::json!({"status": "not_found"}), "not found"),
        (serde_json::json!({"status": "failed"}), "failed"),
    ] {
        let r = mock_post(&format!("core/backup/revert_backup/{OLD}"), answer.clone())
            .await
            .system()
            .revert_backup(&id(OLD))
            .await;
        match (outcome, r) {
            ("ok", Ok(())) => {}
            ("not found", Err(Error::NotFound { id, .. })) => assert_eq!(id, OLD),
            ("failed", Err(Error::ActionFailed { status, .. })) => assert_eq!(status, "failed"),
            (want, got) => panic!("{answer}: wanted {want}, got {got:?}"),
        }
    }
}

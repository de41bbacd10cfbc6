//! `core/*`: system status, firmware status/check, config backup download and the
//! generic service manager.

use std::fmt::Write as _;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{IFACES, xml_escape};
use crate::reply::{Reply, Req};
use crate::search::{self, SearchParams};
use crate::server::{Route, Shared};
use crate::state::{Collection, Record, SimState};

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
        ("Backup", "download") => Route::with_params(backup_download, 1),
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

/// `backup/download/this`: config.xml generated from the saved (staged) configuration.
fn backup_download(_: &Arc<Shared>, st: &mut SimState, req: &Req) -> Reply {
    if req.param(0) != Some("this") {
        return Reply::ok(json!([]));
    }
    let ts = "1767225600.1234";
    let xml = config_xml(st);
    Reply::Raw {
        status: 200,
        content_type: "application/octet-stream",
        headers: vec![(
            "content-disposition",
            format!("attachment; filename=config-OPNsense.localdomain-{ts}.xml"),
        )],
        body: xml.into_bytes(),
    }
}

fn xml_record(out: &mut String, tag: &str, rec: &Record, indent: &str) {
    let _ = writeln!(out, "{indent}<{tag} uuid=\"{}\">", rec.uuid);
    write_fields(out, &rec.fields, &format!("{indent}  "));
    let _ = writeln!(out, "{indent}</{tag}>");
}

fn write_fields(out: &mut String, fields: &Map<String, Value>, indent: &str) {
    for (k, v) in fields {
        match v {
            Value::Object(inner) => {
                let _ = writeln!(out, "{indent}<{k}>");
                write_fields(out, inner, &format!("{indent}  "));
                let _ = writeln!(out, "{indent}</{k}>");
            }
            Value::String(s) if s.is_empty() => {
                let _ = writeln!(out, "{indent}<{k}/>");
            }
            other => {
                let text = other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_owned);
                let _ = writeln!(out, "{indent}<{k}>{}</{k}>", xml_escape(&text));
            }
        }
    }
}

/// A realistic config.xml, including the secrets a real one holds (fake values).
fn config_xml(st: &SimState) -> String {
    let cfg = &st.staged;
    let mut x = String::from("<?xml version=\"1.0\"?>\n<opnsense>\n  <version>26.1</version>\n");
    x.push_str("  <theme>opnsense</theme>\n  <system>\n    <hostname>OPNsense</hostname>\n    <domain>localdomain</domain>\n");
    x.push_str("    <timezone>Etc/UTC</timezone>\n    <webgui>\n      <protocol>https</protocol>\n      <ssl-certref>65a0f0e0c1d2e</ssl-certref>\n    </webgui>\n");
    x.push_str("    <user uuid=\"1d5e0a3c-7b2f-4c8e-9a61-3f0b2d4e6a17\">\n      <name>root</name>\n      <descr>System Administrator</descr>\n      <scope>system</scope>\n      <groupname>admins</groupname>\n");
    x.push_str("      <password>$2y$11$Qm9ndXNIYXNoRm9yU2ltdWxhdG9yT25seS4uLi4uLi4uLi4uLi4u</password>\n      <uid>0</uid>\n");
    x.push_str("      <otp_seed>JBSWY3DPEHPK3PXP</otp_seed>\n      <apikeys>sim-key|$6$simsalt$ZmFrZWhhc2hmb3J0aGVzaW11bGF0b3Jvbmx5</apikeys>\n    </user>\n  </system>\n");
    x.push_str("  <interfaces>\n");
    for i in IFACES {
        let _ = writeln!(
            x,
            "    <{key}>\n      <if>{dev}</if>\n      <descr>{descr}</descr>\n      <enable>1</enable>\n      <ipaddr>{ip}</ipaddr>\n      <subnet>{bits}</subnet>\n    </{key}>",
            key = i.key,
            dev = i.device,
            descr = i.descr,
            ip = i.ipv4,
            bits = i.bits
        );
    }
    x.push_str("  </interfaces>\n  <nat>\n");
    for r in &cfg[Collection::PortForwards] {
        xml_record(&mut x, "rule", r, "    ");
    }
    x.push_str("  </nat>\n  <staticroutes version=\"1.0.1\">\n");
    for r in &cfg[Collection::Routes] {
        xml_record(&mut x, "route", r, "    ");
    }
    x.push_str("  </staticroutes>\n  <OPNsense>\n    <Firewall>\n      <Alias version=\"1.0.1\">\n        <geoip>\n          <url/>\n        </geoip>\n        <aliases>\n");
    for r in &cfg[Collection::Aliases] {
        xml_record(&mut x, "alias", r, "          ");
    }
    x.push_str(
        "        </aliases>\n      </Alias>\n      <Filter version=\"1.0.4\">\n        <rules>\n",
    );
    for r in &cfg[Collection::FilterRules] {
        xml_record(&mut x, "rule", r, "          ");
    }
    x.push_str("        </rules>\n      </Filter>\n      <Category version=\"1.0.0\">\n        <categories>\n");
    for c in &cfg.categories {
        let _ = writeln!(
            x,
            "          <category uuid=\"{}\">\n            <name>{}</name>\n            <auto>0</auto>\n            <color>{}</color>\n          </category>",
            c.uuid,
            xml_escape(&c.name),
            c.color.trim_start_matches('#')
        );
    }
    x.push_str("        </categories>\n      </Category>\n    </Firewall>\n    <unboundplus version=\"1.0.15\">\n      <hosts>\n");
    for r in &cfg[Collection::HostOverrides] {
        xml_record(&mut x, "host", r, "        ");
    }
    x.push_str("      </hosts>\n    </unboundplus>\n    <Kea>\n      <dhcp4 version=\"1.0.5\">\n        <subnets>\n");
    for r in &cfg[Collection::Subnets] {
        xml_record(&mut x, "subnet4", r, "          ");
    }
    x.push_str("        </subnets>\n        <reservations>\n");
    for r in &cfg[Collection::Reservations] {
        xml_record(&mut x, "reservation", r, "          ");
    }
    x.push_str("        </reservations>\n      </dhcp4>\n    </Kea>\n  </OPNsense>\n");
    x.push_str("  <cert>\n    <refid>65a0f0e0c1d2e</refid>\n    <descr>Web GUI TLS certificate</descr>\n    <crt>LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJmYWtlY2VydGlmaWNhdGUKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=</crt>\n");
    x.push_str("    <prv>LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUVmYWtlcHJpdmF0ZWtleWZvcnNpbXVsYXRvcm9ubHkKLS0tLS1FTkQgUFJJVkFURSBLRVktLS0tLQo=</prv>\n  </cert>\n");
    x.push_str("</opnsense>\n");
    x
}

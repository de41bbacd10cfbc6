//! Every OPNsense answer captured from a real firewall (`crates/opnsense-api/tests/corpus/`,
//! provenance in its README and `manifest.json`) through the MCP tool that reads it: for each
//! manifest entry with a `tool`, wiremock serves the captured body at its endpoint and the tool
//! is called compact and, when it takes `raw`, with `raw: true`.
//!
//! The call is the tool's first successful contract case, adapted to the endpoint: list tools
//! ask for everything (`row_count: -1`, no phrase), a uuid argument is replaced by a fixed one
//! (which the item endpoint then carries), a `module` argument is the endpoint's first segment;
//! the case's other requests (the reads before and after a write, the names lookup of
//! interface_config) are answered as in the contract, the read after an add asking for the uuid
//! the capture returned. The firmware is the one the capture states, when it states one.
//!
//! Oracles: no call is an error; a paged listing accounts for every row sent (`returned` = rows
//! in the body, each listed or undecoded, and `automatic`/`legacy` count the rows marked with that
//! `origin`) and its `raw` is the body's rows exactly;
//! a listing built from a map has one row per entry and `raw` is the map; a single record's `raw`
//! is the record (the body's wrapper value); other reads' `raw` is the body (or, for a read of
//! several sources such as dhcp_settings_get, the body under its module: `raw.kea`); compact rows carry
//! the uuid of the row they come from; an add names the uuid OPNsense returned; an update sends
//! its set (the capture was read as an existing record). Fields the tools could not read
//! (`unparsed`) are printed, not failed.
//!
//! Entries in [`KNOWN`] are captures a tool cannot read yet (a finding for the SDK or the tool):
//! the test asserts they still fail, so it turns red once fixed and the mark can go.

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use opnsense_api::FirmwareVersion;
use opnsense_mcp_tools::ToolOptions;
use serde::Deserialize;
use serde_json::{Value, json};
use support::{
    Case, DEFAULT_FIRMWARE, Session, catalogue, describe, is_error, load_contract, mount_catch_all,
    print_table, short, structured, text,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// The uuid item endpoints are asked for (the captures do not depend on it).
const ID: &str = "0b9d7c39-6a2f-4c2e-9a7e-3f1d2b4c5e6f";

/// Captures a tool cannot read yet: (manifest `file`, why). Each must still fail.
const KNOWN: &[(&str, &str)] = &[];

/// One line of the manifest (only what this test needs).
#[derive(Debug, Deserialize)]
struct Entry {
    file: String,
    endpoint: String,
    method: String,
    version: String,
    tool: Option<String>,
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../opnsense-api/tests/corpus")
}

fn manifest() -> Vec<Entry> {
    let file = corpus_dir().join("manifest.json");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// The firmware a capture states (`26.7.5 (body: ...)`), if it states one.
fn firmware(version: &str) -> FirmwareVersion {
    version
        .split_whitespace()
        .next()
        .and_then(FirmwareVersion::parse)
        .unwrap_or(DEFAULT_FIRMWARE)
}

/// The call and the answers for one entry.
struct Plan {
    args: Value,
    takes_raw: bool,
    /// (method, path, answer): the capture first, then the case's other requests.
    answers: Vec<(String, String, Value)>,
}

fn plan(e: &Entry, case: &Case, props: &BTreeSet<String>, body: &Value) -> Plan {
    let mut args = if props.contains("current") {
        json!({"row_count": -1})
    } else {
        case.arguments.clone()
    };
    let case_uuid = case.arguments["uuid"].as_str().map(str::to_ascii_lowercase);
    let mut capture_path = format!("/api/{}", e.endpoint);
    if props.contains("uuid") {
        args["uuid"] = json!(ID);
        capture_path = format!("{capture_path}/{ID}");
    }
    if props.contains("module") {
        let module = e.endpoint.split('/').next().unwrap_or_default();
        args["module"] = json!(module);
    }
    let mut answers = vec![(e.method.clone(), capture_path, body.clone())];
    let own = format!("/api/{}", e.endpoint);
    // The uuid the case's own answer returned (an add), and the one the capture returned: the
    // read after the add asks for the latter.
    let returned = case
        .upstream
        .iter()
        .find(|x| x.path.starts_with(&own))
        .and_then(|x| x.response.json.as_ref()?.get("uuid")?.as_str())
        .zip(body.get("uuid").and_then(Value::as_str));
    for x in &case.upstream {
        if x.path.starts_with(&own) {
            continue;
        }
        let mut path = match &case_uuid {
            Some(u) => x.path.replace(u.as_str(), ID),
            None => x.path.clone(),
        };
        if let Some((theirs, captured)) = returned {
            path = path.replace(theirs, captured);
        }
        answers.push((
            x.method.clone(),
            path,
            x.response.json.clone().unwrap_or(Value::Null),
        ));
    }
    Plan {
        args,
        takes_raw: props.contains("raw"),
        answers,
    }
}

/// The rows a paged answer carries: `rows` of a bootgrid page, or a top-level list.
fn body_rows(body: &Value) -> Option<&Vec<Value>> {
    body.get("rows")
        .and_then(Value::as_array)
        .or_else(|| body.as_array())
}

fn count(v: &Value, key: &str) -> usize {
    v[key]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
}

/// The checks of the compact answer and (when the tool takes it) the raw one.
fn judge(
    body: &Value,
    module: &str,
    compact: &Value,
    raw: Option<&Value>,
    problems: &mut Vec<String>,
) {
    let raw_field = raw.map(|r| &r["raw"]);
    if compact.get("returned").is_some() {
        let Some(sent) = body_rows(body) else {
            problems.push("a paged listing from a body without rows".into());
            return;
        };
        if count(compact, "returned") != sent.len() {
            problems.push(format!(
                "returned {} != {} rows sent",
                count(compact, "returned"),
                sent.len()
            ));
        }
        let sent_uuids: BTreeSet<&str> = sent.iter().filter_map(|r| r["uuid"].as_str()).collect();
        let rows = compact["rows"].as_array().cloned().unwrap_or_default();
        let listed = rows.len() + compact["undecoded"].as_array().map_or(0, Vec::len);
        if listed != sent.len() {
            problems.push(format!(
                "{listed} rows listed or undecoded != {} rows sent",
                sent.len()
            ));
        }
        for origin in ["automatic", "legacy"] {
            let marked = rows.iter().filter(|r| r["origin"] == origin).count();
            if marked != count(compact, origin) {
                problems.push(format!(
                    "{marked} rows marked {origin} != {origin} {}",
                    count(compact, origin)
                ));
            }
        }
        for (i, row) in rows.iter().enumerate() {
            if row.as_object().is_none_or(serde_json::Map::is_empty) {
                problems.push(format!("compact row {i} is empty"));
            }
            if !sent_uuids.is_empty() {
                match row["uuid"].as_str() {
                    Some(u) if sent_uuids.contains(u) => {}
                    other => problems.push(format!("compact row {i}: uuid {other:?} not sent")),
                }
            }
        }
        if let Some(r) = raw_field
            && r != &Value::Array(sent.clone())
        {
            problems.push(format!(
                "raw is not the rows sent: {}",
                short(&r.to_string(), 200)
            ));
        }
    } else if compact.get("total").is_some() && compact["rows"].is_array() {
        // A listing built from a map (interface names, interface config).
        let entries = body.as_object().map_or(0, serde_json::Map::len);
        let listed = compact["rows"].as_array().map_or(0, Vec::len);
        if listed != entries {
            problems.push(format!("{listed} rows listed != {entries} entries sent"));
        }
        if count(compact, "total") != entries {
            problems.push(format!(
                "total {} != {entries} entries sent",
                count(compact, "total")
            ));
        }
        if let Some(r) = raw_field
            && r != body
        {
            problems.push("raw is not the body".into());
        }
    } else if compact.get("item").is_some() {
        if compact["uuid"] != ID {
            problems.push(format!("uuid {} != {ID}", compact["uuid"]));
        }
        let record = body
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.values().next());
        if let Some(r) = raw_field
            && Some(r) != record
        {
            problems.push(format!(
                "raw is not the record: {}",
                short(&r.to_string(), 200)
            ));
        }
    } else if let Some(r) = raw_field
        && r != body
        && r.get(module) != Some(body)
    {
        problems.push(format!(
            "raw is not the body: {}",
            short(&r.to_string(), 200)
        ));
    }
}

/// The checks of a mutating tool's answer.
fn judge_write(body: &Value, result: &Value, sent_set: bool, problems: &mut Vec<String>) {
    match result["result"].as_str() {
        Some("added") => {
            if result["uuid"] != body["uuid"] {
                problems.push(format!(
                    "added uuid {} != {} returned",
                    result["uuid"], body["uuid"]
                ));
            }
        }
        Some("updated") if !sent_set => {
            problems.push("updated without sending the set".into());
        }
        Some("updated" | "deleted") => {}
        other => problems.push(format!("result {other:?}")),
    }
}

/// What the compact answer made of the capture, for the table.
fn summary(body: &Value, compact: &Value) -> String {
    if compact.get("returned").is_some() {
        let sent = body_rows(body).map_or(0, Vec::len);
        let mut s = format!("{sent} rows: {} listed", count(compact, "returned"));
        for key in ["undecoded", "automatic", "legacy"] {
            let n = compact[key]
                .as_array()
                .map_or_else(|| count(compact, key), Vec::len);
            if n > 0 {
                let _ = write!(s, ", {n} {key}");
            }
        }
        s
    } else if compact.get("total").is_some() && compact["rows"].is_array() {
        format!("{} entries", count(compact, "total"))
    } else if let Some(r) = compact["result"].as_str() {
        r.to_owned()
    } else {
        let keys = compact.as_object().map_or(0, serde_json::Map::len);
        format!("{keys} fields")
    }
}

/// The keys of `unparsed` maps anywhere in a result.
fn unparsed(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k == "unparsed" {
                    out.extend(
                        child
                            .as_object()
                            .into_iter()
                            .flat_map(|u| u.keys().cloned()),
                    );
                } else {
                    unparsed(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|c| unparsed(c, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_real_capture_reads_through_its_tool() {
    let contract = load_contract();
    let tools = catalogue(ToolOptions::default()).tools();
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    let mut known_seen = BTreeSet::new();
    let entries: Vec<Entry> = manifest()
        .into_iter()
        .filter(|e| e.tool.is_some())
        .collect();
    assert!(!entries.is_empty(), "no manifest entry names a tool");
    for e in &entries {
        let tool_name = e.tool.as_deref().unwrap_or_default();
        let body: Value = {
            let f = corpus_dir().join(&e.file);
            let t =
                std::fs::read_to_string(&f).unwrap_or_else(|err| panic!("{}: {err}", f.display()));
            serde_json::from_str(&t).unwrap_or_else(|err| panic!("{}: {err}", f.display()))
        };
        let mut problems = Vec::new();
        let Some(tool) = tools.iter().find(|t| t.name == tool_name) else {
            failures.push(format!("{}: {tool_name} is not a tool", e.file));
            continue;
        };
        let Some(case) = contract
            .iter()
            .map(|(_, c)| c)
            .find(|c| c.tool == tool_name && c.is_plain_success())
        else {
            failures.push(format!(
                "{}: {tool_name} has no successful contract case",
                e.file
            ));
            continue;
        };
        let props: BTreeSet<String> = tool
            .input_schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let plan = plan(e, case, &props, &body);
        let session = Session::on(ToolOptions::default(), firmware(&e.version)).await;
        for (m, p, answer) in &plan.answers {
            Mock::given(method(m.as_str()))
                .and(path(p.as_str()))
                .respond_with(ResponseTemplate::new(200).set_body_json(answer.clone()))
                .with_priority(1)
                .mount(&session.upstream)
                .await;
        }
        mount_catch_all(&session.upstream).await;

        let mut results = Vec::new();
        let mut calls = vec![plan.args.clone()];
        if plan.takes_raw {
            let mut raw = plan.args.clone();
            raw["raw"] = json!(true);
            calls.push(raw);
        }
        for args in &calls {
            match session.call(tool_name, args).await {
                Ok(r) if is_error(&r) => problems.push(format!(
                    "{} is an error: {}",
                    short(&args.to_string(), 80),
                    short(&text(&r), 300)
                )),
                Ok(r) => results.push(structured(&r)),
                Err(err) => problems.push(err),
            }
        }
        let received = session.received().await;
        for r in &received {
            if !plan
                .answers
                .iter()
                .any(|(m, p, _)| r.method.as_str().eq_ignore_ascii_case(m) && r.url.path() == p)
            {
                problems.push(format!("unexpected request {}", describe(r)));
            }
        }
        let mut odd = BTreeSet::new();
        let mut read = String::new();
        if problems.is_empty() {
            let compact = &results[0];
            read = summary(&body, compact);
            unparsed(compact, &mut odd);
            if plan.takes_raw {
                let module = e.endpoint.split('/').next().unwrap_or_default();
                judge(&body, module, compact, results.get(1), &mut problems);
            } else {
                let sent_set = received.iter().any(|r| r.method.as_str() == "POST");
                judge_write(&body, compact, sent_set, &mut problems);
            }
        }
        let known = KNOWN.iter().find(|(f, _)| *f == e.file);
        let status = match (known, problems.is_empty()) {
            (None, true) => "ok".to_owned(),
            (None, false) => {
                failures.push(format!("{} ({tool_name}): {}", e.file, problems.join("; ")));
                "FAIL".to_owned()
            }
            (Some((_, why)), false) => {
                known_seen.insert(format!("{} ({tool_name}): {why}", e.file));
                "known".to_owned()
            }
            (Some((_, why)), true) => {
                failures.push(format!(
                    "{}: marked in KNOWN ({why}) but {tool_name} reads it now: drop the mark",
                    e.file
                ));
                "FAIL (fixed?)".to_owned()
            }
        };
        rows.push(vec![
            e.file.clone(),
            tool_name.to_owned(),
            firmware(&e.version).to_string(),
            status,
            read,
            odd.into_iter().collect::<Vec<_>>().join(", "),
        ]);
    }
    println!("\nreal captures through the tools: {} entries", rows.len());
    print_table(
        &[
            "capture",
            "tool",
            "firmware",
            "result",
            "read",
            "unparsed fields",
        ],
        &rows,
    );
    for k in &known_seen {
        println!("KNOWN {k}");
    }
    for f in &failures {
        println!("FAILED {f}");
    }
    assert!(
        failures.is_empty(),
        "{} captures failed (see above)",
        failures.len()
    );
}

//! The fault matrix: every tool of the catalogue against every way the upstream can fail
//! (transport, TLS, HTTP status, OPNsense's HTTP-200 failures). Every fault must give
//! `isError: true` with a message naming the fault, never a panic or a protocol error, and the
//! same MCP session must then serve the tool's contract case correctly (exact requests and
//! result). Faults that cannot happen to a tool are marked `n/a`.
//!
//! Nothing here names a tool: the columns are the catalogue's tools, each with its first
//! successful contract case (the valid call, and the follow-up that must still work), and what
//! a tool does upstream ([`Kind`], which decides the faults that apply) is read from that case's
//! requests and answers and the tool's `readOnlyHint`. A new tool with a contract case is in the
//! matrix without editing this file.
//!
//! Where the fault strikes: a transport or TLS fault hits every request, so the first one fails.
//! An HTTP fault of a mutating tool strikes its first write (the first POST that is not a search:
//! the add, set or delete after the record was read, the apply after the kept connection was
//! opened and the pre-flight read); the requests before it are answered as in the contract. A
//! case with a setup is struck at its first request (see [`column`]). A tool whose case sends nothing, or only reads a write does not need (the
//! state a confirm records), acts on the change journal: every fault must leave its answer as the
//! contract gives it ([`Kind::Journal`]).
//!
//! Each tool gets its own HTTPS session through a switchable TLS front (trusted test CA), with
//! short timeouts (connect 500 ms, read 1 s); the columns run concurrently. A case with a
//! `setup` (the change a change tool acts on) gets a fresh session per fault, its setup made
//! before the fault and again before the follow-up. Every change a call leaves pending is settled
//! ([`Session::settle`]) before the next fault.

mod support;

use std::sync::Arc;
use std::time::Duration;

use opnsense_mcp_tools::ToolOptions;
use serde_json::{Value, json};
use support::{
    Case, FrontMode, Pki, Session, Timeouts, catalogue, closing, is_error, load_contract, mount,
    mount_catch_all, mount_exchanges, print_table, requests_diff, resolve, result_diff, run_setup,
    short, text,
};
use wiremock::{Mock, ResponseTemplate};

/// What a tool does upstream, which decides the faults that apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A JSON read (search, status, settings).
    Read,
    /// The config.xml download (text).
    Text,
    /// A get by uuid.
    Get,
    /// An add.
    Add,
    /// A delete.
    Delete,
    /// An apply/reconfigure (`{"status": ...}`).
    Apply,
    /// A service start/stop/restart (`{"response": ...}`).
    Action,
    /// Acts on the change journal: sends nothing, or only reads whose failure it tolerates.
    Journal,
}

impl Kind {
    /// What the contract case does, and the index of the request an HTTP fault strikes first.
    /// A case that sends nothing acts on the journal. A read-only tool's first request decides:
    /// a text answer is the config download, a GET naming the case's uuid is a get, anything
    /// else a read. A mutating tool's first write decides, by its answer; a mutating tool that
    /// writes nothing acts on the journal.
    fn of(case: &Case, read_only: bool) -> Result<(Self, usize), String> {
        let Some(first) = case.upstream.first() else {
            return Ok((Self::Journal, 0));
        };
        if read_only {
            let Some(answer) = &first.response.json else {
                return Ok((Self::Text, 0));
            };
            let uuid = case.arguments["uuid"].as_str().map(str::to_ascii_lowercase);
            if first.method.eq_ignore_ascii_case("GET")
                && uuid.is_some_and(|u| first.path.ends_with(&format!("/{u}")))
            {
                return Ok((Self::Get, 0));
            }
            let _ = answer;
            return Ok((Self::Read, 0));
        }
        let Some(at) = case.upstream.iter().position(support::Exchange::is_write) else {
            return Ok((Self::Journal, 0));
        };
        let answer = case.upstream[at].response.json.clone().unwrap_or_default();
        let kind = match (
            answer.get("result"),
            answer.get("status"),
            answer.get("response"),
        ) {
            (Some(r), _, _) if r == "deleted" => Self::Delete,
            (Some(_), _, _) => Self::Add,
            (None, Some(_), _) => Self::Apply,
            (None, None, Some(_)) => Self::Action,
            _ => {
                return Err(format!(
                    "{} / {}: cannot tell what the first write ({}) does",
                    case.tool,
                    case.name,
                    short(&answer.to_string(), 120)
                ));
            }
        };
        Ok((kind, at))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Refused,
    ConnectTimeout,
    ReadTimeout,
    Untrusted,
    H401,
    H403,
    H404,
    H500,
    H502Html,
    NotJson,
    Truncated,
    Failed,
    ResultNotFound,
    EmptyGet,
    StatusError,
}

const FAULTS: &[Fault] = &[
    Fault::Refused,
    Fault::ConnectTimeout,
    Fault::ReadTimeout,
    Fault::Untrusted,
    Fault::H401,
    Fault::H403,
    Fault::H404,
    Fault::H500,
    Fault::H502Html,
    Fault::NotJson,
    Fault::Truncated,
    Fault::Failed,
    Fault::ResultNotFound,
    Fault::EmptyGet,
    Fault::StatusError,
];

impl Fault {
    fn label(self) -> &'static str {
        match self {
            Self::Refused => "connection refused",
            Self::ConnectTimeout => "connect timeout (TLS never completes)",
            Self::ReadTimeout => "read timeout (upstream stalls)",
            Self::Untrusted => "TLS certificate not trusted",
            Self::H401 => "HTTP 401",
            Self::H403 => "HTTP 403",
            Self::H404 => "HTTP 404",
            Self::H500 => "HTTP 500",
            Self::H502Html => "HTTP 502 with an HTML body",
            Self::NotJson => "200 non-JSON body",
            Self::Truncated => "200 truncated JSON",
            Self::Failed => "200 result failed + validations",
            Self::ResultNotFound => "200 result not found",
            Self::EmptyGet => "200 [] on a get",
            Self::StatusError => "200 status error on apply/action",
        }
    }

    /// The substring the error text must hold, or `None` when the fault does not apply.
    fn expected(self, kind: Kind) -> Option<&'static str> {
        match self {
            Self::Refused => Some("cannot connect"),
            Self::ConnectTimeout => Some("connect timeout"),
            Self::ReadTimeout => Some("read timeout"),
            Self::Untrusted => Some("TLS handshake"),
            Self::H401 => Some("API credentials (HTTP 401)"),
            Self::H403 => Some("lacks the privilege"),
            Self::H404 => Some("not found (HTTP 404)"),
            Self::H500 => Some("HTTP 500"),
            Self::H502Html => Some("HTTP 502"),
            Self::NotJson => Some(if kind == Kind::Text {
                "expected config.xml"
            } else {
                "not valid JSON"
            }),
            Self::Truncated => Some(if kind == Kind::Text {
                "expected config.xml"
            } else {
                "truncated"
            }),
            Self::Failed => {
                matches!(kind, Kind::Add | Kind::Delete).then_some("A value is required")
            }
            Self::ResultNotFound => match kind {
                Kind::Delete => Some("not found"),
                Kind::Add | Kind::Get => Some("unexpected response"),
                _ => None,
            },
            Self::EmptyGet => (kind == Kind::Get).then_some("not found"),
            Self::StatusError => match kind {
                Kind::Apply => Some("OPNsense said \"error\""),
                Kind::Action => Some("unexpected response"),
                _ => None,
            },
        }
    }

    /// The front mode and (for HTTP faults) the answer wiremock gives every request.
    fn setup(self) -> (FrontMode, Option<ResponseTemplate>) {
        let json = |status: u16, v: Value| Some(ResponseTemplate::new(status).set_body_json(v));
        let raw = |status: u16, body: &str, ctype: &str| {
            Some(ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), ctype))
        };
        match self {
            Self::Refused => (FrontMode::Refuse, None),
            Self::ConnectTimeout => (FrontMode::StallHandshake, None),
            Self::ReadTimeout => (FrontMode::StallResponse, None),
            Self::Untrusted => (FrontMode::Untrusted, None),
            Self::H401 => (
                FrontMode::Proxy,
                json(
                    401,
                    json!({"status": 401, "message": "Authentication Failed"}),
                ),
            ),
            Self::H403 => (
                FrontMode::Proxy,
                json(403, json!({"status": 403, "message": "Forbidden"})),
            ),
            Self::H404 => (
                FrontMode::Proxy,
                json(404, json!({"errorMessage": "Endpoint not found"})),
            ),
            Self::H500 => (
                FrontMode::Proxy,
                json(
                    500,
                    json!({"errorMessage": "Unexpected error, check log for details"}),
                ),
            ),
            Self::H502Html => (
                FrontMode::Proxy,
                raw(
                    502,
                    "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>",
                    "text/html",
                ),
            ),
            Self::NotJson => (
                FrontMode::Proxy,
                raw(200, "this is not JSON at all", "application/json"),
            ),
            Self::Truncated => (
                FrontMode::Proxy,
                raw(
                    200,
                    "{\"total\": 1, \"rowCount\": 1, \"rows\": [{\"uuid\": \"x",
                    "application/json",
                ),
            ),
            Self::Failed => (
                FrontMode::Proxy,
                json(
                    200,
                    json!({"result": "failed", "validations": {"item.field": "A value is required."}}),
                ),
            ),
            Self::ResultNotFound => (FrontMode::Proxy, json(200, json!({"result": "not found"}))),
            Self::EmptyGet => (FrontMode::Proxy, json(200, json!([]))),
            Self::StatusError => (FrontMode::Proxy, json(200, json!({"status": "error"}))),
        }
    }
}

/// One cell of the matrix.
#[derive(Debug, Clone)]
enum Cell {
    Pass,
    NotApplicable,
    Fail(String),
}

/// What a column tests: the tool's case, what it does, and the request an HTTP fault strikes
/// first.
#[derive(Debug, Clone)]
struct Target {
    case: Case,
    kind: Kind,
    at: usize,
}

/// Mounts the fault: the case's requests before `at` answered as in the contract, everything
/// else with `template`.
async fn mount_fault(s: &Session, case: &Case, at: usize, template: Option<ResponseTemplate>) {
    s.upstream.reset().await;
    match template {
        Some(t) => {
            mount_exchanges(&s.upstream, &case.upstream[..at]).await;
            Mock::given(wiremock::matchers::any())
                .respond_with(closing(t))
                .with_priority(u8::MAX - 1)
                .mount(&s.upstream)
                .await;
        }
        None => mount_catch_all(&s.upstream).await,
    }
}

/// Runs every fault against one tool: on one session, or (a case with a setup) on a fresh
/// session per fault with the setup made first.
async fn column(target: Target, pki: Arc<Pki>) -> Vec<Cell> {
    let Target { case, kind, at } = target;
    let timeouts = Timeouts {
        connect: Duration::from_millis(500),
        read: Duration::from_secs(1),
    };
    let session = || {
        Session::tls(
            ToolOptions::from(&case.options),
            case.firmware(),
            &pki,
            timeouts,
        )
    };
    let shared = if case.setup.is_empty() {
        Some(session().await)
    } else {
        None
    };
    let mut cells = Vec::new();
    for fault in FAULTS {
        let needle = if kind == Kind::Journal {
            Some("")
        } else {
            fault.expected(kind)
        };
        let Some(needle) = needle else {
            cells.push(Cell::NotApplicable);
            continue;
        };
        let fresh;
        let s = if let Some(s) = &shared {
            s
        } else {
            fresh = session().await;
            &fresh
        };
        let front = s.front.as_ref().expect("front");
        let mut problems = Vec::new();
        let mut args = case.arguments.clone();
        match run_setup(s, &case).await {
            Ok(results) => args = resolve(&case.arguments, &results),
            Err(d) => problems.extend(d),
        }
        // The fault.
        let (mode, template) = fault.setup();
        mount_fault(s, &case, at, template).await;
        front.set(mode).await;
        match s.call(&case.tool, &args).await {
            // The journal is this server's: the firewall failing must not change the answer.
            Ok(r) if kind == Kind::Journal => {
                for p in result_diff(&r, &case.expect, None) {
                    problems.push(format!("under the fault: {p}"));
                }
            }
            Ok(r) if !is_error(&r) => {
                problems.push(format!("not an error: {}", short(&text(&r), 200)));
            }
            Ok(r) if !text(&r).contains(needle) => {
                problems.push(format!("text lacks {needle:?}: {}", short(&text(&r), 300)));
            }
            Ok(_) => {}
            Err(e) => problems.push(e),
        }
        front.set(FrontMode::Proxy).await;
        // The same session keeps working: the contract case, exactly (a journal tool's answer
        // under the fault was that already).
        if kind != Kind::Journal {
            s.upstream.reset().await;
            mount(&s.upstream, &case.upstream).await;
            match s.call(&case.tool, &args).await {
                Ok(r) => {
                    for p in result_diff(&r, &case.expect, case.first_reply()) {
                        problems.push(format!("follow-up call: {p}"));
                    }
                    for p in requests_diff(&s.received().await, &case.upstream) {
                        problems.push(format!("follow-up call: {p}"));
                    }
                }
                Err(e) => problems.push(format!("follow-up call: {e}")),
            }
        }
        s.settle().await;
        cells.push(if problems.is_empty() {
            Cell::Pass
        } else {
            Cell::Fail(problems.join("; "))
        });
    }
    cells
}

/// The columns: every tool with a successful contract case, its case and its kind.
fn targets() -> Vec<Target> {
    let contract = load_contract();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for tool in catalogue(ToolOptions::default()).tools() {
        let read_only = tool
            .annotations
            .as_ref()
            .and_then(|a| a.read_only_hint)
            .unwrap_or(false);
        let Some(case) = contract
            .iter()
            .map(|(_, c)| c)
            .find(|c| c.tool == tool.name && c.is_plain_success())
        else {
            problems.push(format!("{}: no successful contract case", tool.name));
            continue;
        };
        match Kind::of(case, read_only) {
            Ok((kind, at)) => out.push(Target {
                case: case.clone(),
                kind,
                // With a setup, the fault hits the whole call: the follow-up repeats it on the
                // state the setup made, which a fault at a later write would have changed.
                at: if case.setup.is_empty() { at } else { 0 },
            }),
            Err(e) => problems.push(e),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_an_error_result_and_the_session_survives() {
    let targets = targets();
    let pki = Arc::new(Pki::named(
        "opnsense-mcp fault-matrix CA",
        &["127.0.0.1", "localhost"],
    ));
    let limit = Arc::new(tokio::sync::Semaphore::new(8));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, target) in targets.iter().enumerate() {
        let target = target.clone();
        let (pki, limit) = (Arc::clone(&pki), Arc::clone(&limit));
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.expect("semaphore");
            (i, column(target, pki).await)
        });
    }
    let mut columns: Vec<(usize, Vec<Cell>)> = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(c) => columns.push(c),
            Err(e) => panic!("a column panicked: {e}"),
        }
    }
    columns.sort_by_key(|(i, _)| *i);

    let (mut passed, mut failed, mut na) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    let mut header = vec!["fault \\ tool".to_owned()];
    header.extend((1..=targets.len()).map(|i| format!("T{i}")));
    let mut rows = Vec::new();
    for (f, fault) in FAULTS.iter().enumerate() {
        let mut row = vec![fault.label().to_owned()];
        for (i, cells) in &columns {
            row.push(match &cells[f] {
                Cell::Pass => {
                    passed += 1;
                    "ok".to_owned()
                }
                Cell::NotApplicable => {
                    na += 1;
                    "n/a".to_owned()
                }
                Cell::Fail(why) => {
                    failed += 1;
                    failures.push(format!(
                        "{} × {}: {why}",
                        fault.label(),
                        targets[*i].case.tool
                    ));
                    "FAIL".to_owned()
                }
            });
        }
        rows.push(row);
    }
    println!(
        "\nfault matrix: {} faults × {} tools = {} cells ({} n/a)",
        FAULTS.len(),
        targets.len(),
        FAULTS.len() * targets.len(),
        na
    );
    for (i, t) in targets.iter().enumerate() {
        println!(
            "  T{:<2} {} ({:?}, HTTP faults from request {}): {}",
            i + 1,
            t.case.tool,
            t.kind,
            t.at + 1,
            t.case.name
        );
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    print_table(&header, &rows);
    for f in &failures {
        println!("FAILED {f}");
    }
    println!("{passed} passed, {failed} failed");
    assert_eq!(failed, 0, "{failed} fault-matrix cells failed (see above)");
}

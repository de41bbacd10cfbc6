//! The fault matrix: every tool of the catalogue against every way the upstream can fail
//! (transport, TLS, HTTP status, OPNsense's HTTP-200 failures). Every fault must give
//! `isError: true` with a message naming the fault, never a panic or a protocol error, and the
//! same MCP session must then serve the tool's contract case correctly (exact requests and
//! result). Faults that cannot happen to a tool are marked `n/a`.
//!
//! Nothing here names a tool: the columns are the catalogue's tools, each with its first
//! successful contract case (the valid call, and the follow-up that must still work), and what
//! a tool does upstream ([`Kind`], which decides the faults that apply) is read from that case's
//! first request and answer and the tool's `readOnlyHint`. A new tool with a contract case is
//! in the matrix without editing this file.
//!
//! Each tool gets its own HTTPS session through a switchable TLS front (trusted test CA), with
//! short timeouts (connect 500 ms, read 1 s); the columns run concurrently.

mod support;

use std::sync::Arc;
use std::time::Duration;

use opnsense_mcp_tools::ToolOptions;
use serde_json::{Value, json};
use support::{
    Case, FrontMode, Pki, Session, Timeouts, catalogue, closing, is_error, load_contract, mount,
    mount_catch_all, print_table, requests_diff, result_diff, short, text,
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
}

impl Kind {
    /// What the contract case's first request does: a text answer is the config download, a GET
    /// naming the case's uuid is a get (updates start with one), any other request of a
    /// read-only tool is a read, and a mutating tool's first answer says what it did.
    fn of(case: &Case, read_only: bool) -> Result<Self, String> {
        let first = case
            .upstream
            .first()
            .ok_or_else(|| format!("{}: the case sends nothing", case.tool))?;
        let Some(answer) = &first.response.json else {
            return Ok(Self::Text);
        };
        let uuid = case.arguments["uuid"].as_str().map(str::to_ascii_lowercase);
        if first.method.eq_ignore_ascii_case("GET")
            && uuid.is_some_and(|u| first.path.ends_with(&format!("/{u}")))
        {
            return Ok(Self::Get);
        }
        if read_only {
            return Ok(Self::Read);
        }
        match (
            answer.get("result"),
            answer.get("status"),
            answer.get("response"),
        ) {
            (Some(r), _, _) if r == "deleted" => Ok(Self::Delete),
            (Some(_), _, _) => Ok(Self::Add),
            (None, Some(_), _) => Ok(Self::Apply),
            (None, None, Some(_)) => Ok(Self::Action),
            _ => Err(format!(
                "{} / {}: cannot tell what the first answer ({}) does",
                case.tool,
                case.name,
                short(&answer.to_string(), 120)
            )),
        }
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

/// Runs every fault against one tool on one session.
async fn column(case: Case, kind: Kind, pki: Arc<Pki>) -> Vec<Cell> {
    let timeouts = Timeouts {
        connect: Duration::from_millis(500),
        read: Duration::from_secs(1),
    };
    let s = Session::tls(
        ToolOptions::from(&case.options),
        case.firmware(),
        &pki,
        timeouts,
    )
    .await;
    let front = s.front.as_ref().expect("front");
    let mut cells = Vec::new();
    for fault in FAULTS {
        let Some(needle) = fault.expected(kind) else {
            cells.push(Cell::NotApplicable);
            continue;
        };
        let mut problems = Vec::new();
        // The fault.
        let (mode, template) = fault.setup();
        s.upstream.reset().await;
        if let Some(t) = template {
            Mock::given(wiremock::matchers::any())
                .respond_with(closing(t))
                .mount(&s.upstream)
                .await;
        } else {
            mount_catch_all(&s.upstream).await;
        }
        front.set(mode).await;
        match s.call(&case.tool, &case.arguments).await {
            Ok(r) if !is_error(&r) => {
                problems.push(format!("not an error: {}", short(&text(&r), 200)));
            }
            Ok(r) if !text(&r).contains(needle) => {
                problems.push(format!("text lacks {needle:?}: {}", short(&text(&r), 300)));
            }
            Ok(_) => {}
            Err(e) => problems.push(e),
        }
        // The same session keeps working: the contract case, exactly.
        front.set(FrontMode::Proxy).await;
        s.upstream.reset().await;
        mount(&s.upstream, &case.upstream).await;
        match s.call(&case.tool, &case.arguments).await {
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
        cells.push(if problems.is_empty() {
            Cell::Pass
        } else {
            Cell::Fail(problems.join("; "))
        });
    }
    cells
}

/// The columns: every tool with a successful contract case, its case and its kind.
fn targets() -> Vec<(Case, Kind)> {
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
            Ok(kind) => out.push((case.clone(), kind)),
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
    for (i, (case, kind)) in targets.iter().enumerate() {
        let (case, kind) = (case.clone(), *kind);
        let (pki, limit) = (Arc::clone(&pki), Arc::clone(&limit));
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.expect("semaphore");
            (i, column(case, kind, pki).await)
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
                    failures.push(format!("{} × {}: {why}", fault.label(), targets[*i].0.tool));
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
    for (i, (case, kind)) in targets.iter().enumerate() {
        println!("  T{:<2} {} ({kind:?}): {}", i + 1, case.tool, case.name);
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    print_table(&header, &rows);
    for f in &failures {
        println!("FAILED {f}");
    }
    println!("{passed} passed, {failed} failed");
    assert_eq!(failed, 0, "{failed} fault-matrix cells failed (see above)");
}

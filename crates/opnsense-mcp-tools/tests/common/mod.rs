//! Drives the tool catalogue through a real rmcp client over an in-memory transport, against a
//! wiremock upstream.
#![allow(dead_code, unreachable_pub)]

use opnsense_mcp_tools::{OpnsenseTools, ToolOptions};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use wiremock::MockServer;

/// A connected MCP client plus the mock upstream it talks to.
pub struct Harness {
    /// The upstream OPNsense stand-in.
    pub upstream: MockServer,
    /// An MCP client connected to the catalogue.
    pub client: RunningService<RoleClient, ()>,
}

/// Starts a mock OPNsense and an MCP session to the catalogue pointed at it.
pub async fn harness() -> Harness {
    harness_with(ToolOptions::default()).await
}

/// Like [`harness`] with options.
pub async fn harness_with(options: ToolOptions) -> Harness {
    let upstream = MockServer::start().await;
    let api = opnsense_api::Client::builder(upstream.uri())
        .credentials("test-key", "test-secret")
        .allow_insecure_http(true)
        .firmware_version(opnsense_api::FirmwareVersion::new(26, 1, 10))
        .build()
        .expect("client");
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    let server = OpnsenseTools::new(api, options);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let client = ().serve(client_io).await.expect("mcp client");
    Harness { upstream, client }
}

impl Harness {
    /// Calls a tool with JSON arguments (an object).
    pub async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        let args = match args {
            Value::Object(m) => m,
            other => panic!("arguments must be an object, got {other}"),
        };
        self.client
            .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
            .await
            .expect("tools/call must not be a protocol error")
    }
}

/// The result's structured content.
pub fn structured(r: &CallToolResult) -> Value {
    r.structured_content.clone().expect("structured content")
}

/// The concatenated text blocks of a result.
pub fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// True when the result is an error result.
pub fn is_error(r: &CallToolResult) -> bool {
    r.is_error == Some(true)
}

/// Reads `crates/opnsense-api/tests/fixtures/<area>/<name>` (OPNsense's answers) as JSON.
pub fn fixture(area: &str, name: &str) -> Value {
    let file = format!(
        "{}/../opnsense-api/tests/fixtures/{area}/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Matches a request with no body and no Content-Type (OPNsense answers 400 to an empty JSON body).
pub struct NoBody;

impl wiremock::Match for NoBody {
    fn matches(&self, r: &wiremock::Request) -> bool {
        r.body.is_empty() && !r.headers.contains_key("content-type")
    }
}

impl Harness {
    /// True when the upstream received no request at all.
    pub async fn nothing_sent(&self) -> bool {
        self.upstream
            .received_requests()
            .await
            .expect("recorded")
            .is_empty()
    }

    /// Fails unless the upstream received no request at all.
    pub async fn assert_nothing_sent(&self) {
        let received = self.upstream.received_requests().await.expect("recorded");
        assert!(received.is_empty(), "unexpected requests: {received:?}");
    }

    /// Fails unless the upstream received exactly one body-less POST to `expected_path`.
    pub async fn assert_bodyless_post(&self, expected_path: &str) {
        let received = self.upstream.received_requests().await.expect("recorded");
        assert_eq!(received.len(), 1, "{received:?}");
        let req = &received[0];
        assert_eq!(req.method.as_str(), "POST");
        assert_eq!(req.url.path(), expected_path);
        assert!(req.body.is_empty(), "body: {:?}", req.body);
        assert!(
            !req.headers.contains_key("content-type"),
            "a body-less POST must not carry a Content-Type"
        );
    }
}

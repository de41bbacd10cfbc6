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

//! End to end: the real `opnsense-mcp` binary driven by real MCP clients against the simulator
//! over HTTPS (its CA trusted): rmcp's client over stdio and streamable HTTP, the change
//! workflow, and, opt-in with `OPNSENSE_E2E=1` (they need Python, Node and the package
//! registries), the official Python `mcp` SDK and the MCP Inspector CLI.
//!
//! One test target (`cargo test -p opnsense-mcp --test e2e`), one module per client.

/// The test support the binary's other integration tests share.
#[path = "../common/mod.rs"]
mod common;

mod changes;
mod diagnostics;
mod inspector;
mod kubernetes;
mod netns;
mod protocols;
mod python_client;
mod rmcp_http;
mod rmcp_stdio;
mod scale;
mod support;
mod surface;
mod workflow;

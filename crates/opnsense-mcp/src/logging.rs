//! Logs to stderr only (stdout is the stdio transport): audit events as one JSON line each,
//! always on; everything else as text, filtered by `RUST_LOG` (default `warn`).
//!
//! An audit line written during a tool call carries the call's `tool` span (opened by the
//! catalogue around every call) as `"span": {"name": "tool", "tool": ..., "mcp_request_id": ...,
//! "session": ..., "target": ...}`, so each OPNsense request can be traced to the MCP request
//! that caused it and the firewall it went to; outside tool calls, the binary's `target` span
//! names the firewall.

use tracing::Metadata;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// Name of the span `opnsense-mcp-tools` opens around every tool call.
const TOOL_SPAN: &str = "tool";
/// Target (module path) prefix of that span: the catalogue crate.
const TOOL_SPAN_TARGET: &str = "opnsense_mcp_tools";
/// Name of the span this binary opens around what it does for one target outside a tool call
/// (startup check, `check`, recovery, shutdown), so those audit lines name the target too.
pub const TARGET_SPAN: &str = "target";
/// Target (module path) prefix of that span: this binary.
const TARGET_SPAN_TARGET: &str = "opnsense_mcp::";

/// What the audit layer sees: the SDK's audit events, the catalogue's `tool` spans and this
/// binary's `target` spans (so the span's fields can be written on each audit line). Nothing
/// else.
fn audit_sees(meta: &Metadata<'_>) -> bool {
    let at_info = *meta.level() <= tracing::Level::INFO;
    if meta.is_span() {
        at_info
            && ((meta.name() == TOOL_SPAN && meta.target().starts_with(TOOL_SPAN_TARGET))
                || (meta.name() == TARGET_SPAN && meta.target().starts_with(TARGET_SPAN_TARGET)))
    } else {
        at_info && meta.target() == opnsense_api::AUDIT_TARGET
    }
}

/// Installs the subscriber once. `audit` off is for the demo, whose screen is the product.
pub fn init(audit: bool) {
    let audit = fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(std::io::stderr)
        .with_filter(filter_fn(move |meta| audit && audit_sees(meta)));
    let general_filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn"))
        .add_directive(
            format!("{}=off", opnsense_api::AUDIT_TARGET)
                .parse()
                .unwrap_or_else(|_| tracing::Level::WARN.into()),
        );
    let general = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(true)
        .with_filter(general_filter);
    let _ = tracing_subscriber::registry()
        .with(audit)
        .with(general)
        .try_init();
}

//! Logs to stderr only (stdout is the stdio transport): audit events as one JSON line each,
//! always on; everything else as text, filtered by `RUST_LOG` (default `warn`).

use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// Installs the subscriber once. `audit` off is for the demo, whose screen is the product.
pub fn init(audit: bool) {
    let audit = fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_writer(std::io::stderr)
        .with_filter(Targets::new().with_target(
            opnsense_api::AUDIT_TARGET,
            if audit {
                tracing::level_filters::LevelFilter::INFO
            } else {
                tracing::level_filters::LevelFilter::OFF
            },
        ));
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

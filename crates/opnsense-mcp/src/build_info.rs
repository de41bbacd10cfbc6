//! What `--version` says: the crate version, the git commit (12 hex digits) and the build date
//! (UTC), both from `build.rs` and `unknown` when built from a tarball without git.

/// `0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-01)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("OPNSENSE_MCP_GIT_COMMIT"),
    ", built ",
    env!("OPNSENSE_MCP_BUILD_DATE"),
    ")"
);

//! What `--version` says: the crate version, the git commit (12 hex digits) and the build date
//! (UTC), both from `build.rs` and `unknown` when built from a tarball without git.

/// `0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-01)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("BUILD_GIT_COMMIT_OPNSENSE_MCP"),
    ", built ",
    env!("BUILD_DATE_OPNSENSE_MCP"),
    ")"
);

#[cfg(test)]
mod tests {
    /// `cargo run` and `cargo test` hand the binary the build script's `rustc-env` variables;
    /// the configuration refuses unknown `OPNSENSE_*` variables, so none of them may be named
    /// so (else `cargo run -- demo` stops with a configuration error).
    #[test]
    fn build_variables_are_not_configuration() {
        let build = include_str!("../build.rs");
        for line in build.lines().filter(|l| l.contains("cargo:rustc-env=")) {
            assert!(!line.contains("rustc-env=OPNSENSE_"), "{line}");
        }
    }
}

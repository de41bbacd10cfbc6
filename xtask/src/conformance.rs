//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned) against the
//! streamable HTTP server on loopback (backed by the simulator), gated by a reviewed baseline of
//! expected failures (`xtask/conformance/baseline.yaml`, each with its reason: only scenarios that
//! call the suite's own fixture tools, resources and prompts by name). The suite itself fails the
//! run on an unlisted failure and on a listed scenario that passes (stale baseline).
//!
//! It needs the npm registry on the first run (Node 22 into `target/conformance/node22`, the suite
//! into npm's cache via `npx`); later runs reuse both. `cargo xtask ci` runs it as its
//! `conformance` step.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Pinned suite version.
pub const SUITE: &str = "@modelcontextprotocol/conformance@0.1.16";
/// Pinned Node.js major (the suite needs Node >= 22; the machine's may be older).
const NODE: &str = "node@22";

/// Kills the server when dropped, so a failing step never leaves it running.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Installs Node 22 from the npm registry into `target/conformance/node22` (once) and returns
/// its `bin` directory.
fn node22(root: &Path) -> Result<std::path::PathBuf, String> {
    let prefix = root.join("target").join("conformance").join("node22");
    let bin = prefix.join("node_modules").join(".bin");
    if !bin.join("node").exists() {
        std::fs::create_dir_all(&prefix).map_err(|e| e.to_string())?;
        super::run(
            "npm",
            &[
                "install",
                "--prefix",
                &prefix.to_string_lossy(),
                "--no-audit",
                "--no-fund",
                NODE,
            ],
        )?;
    }
    Ok(bin)
}

/// Starts `opnsense-mcp serve --simulator --transport http --http-port 0` and returns it with
/// the URL it printed.
fn start_server(root: &Path) -> Result<(Server, String), String> {
    // Same feature set as the workspace test build, so nothing is compiled again.
    super::cargo(&["build", "--workspace", "--bins"])?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), std::path::PathBuf::from);
    let bin = target.join("debug").join("opnsense-mcp");
    let mut child = Command::new(&bin)
        .args([
            "serve",
            "--simulator",
            "--transport",
            "http",
            "--http-port",
            "0",
        ])
        .env("RUST_LOG", "warn")
        .env_remove("OPNSENSE_HTTP_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let server = Server(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("opnsense-mcp: listening on ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .map_err(|_| "the server did not report its address within 60 s".to_owned())?;
    Ok((server, url))
}

/// Runs the suite against a fresh server; fails on any failure not in the baseline (and on a
/// baseline entry that now passes).
pub fn run(root: &Path) -> Result<(), String> {
    let node_bin = node22(root)?;
    let (_server, url) = start_server(root)?;
    let baseline = root.join("xtask").join("conformance").join("baseline.yaml");
    let path = format!(
        "{}:{}",
        node_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    eprintln!(
        "$ npx -y {SUITE} server --url {url} --expected-failures {}",
        baseline.display()
    );
    let status = Command::new("npx")
        .args(["-y", SUITE, "server", "--url", &url, "--expected-failures"])
        .arg(&baseline)
        .env("PATH", path)
        .current_dir(root.join("target").join("conformance"))
        .status()
        .map_err(|e| format!("cannot run npx: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "conformance suite failed ({status}); see the table above"
        ))
    }
}

#[cfg(test)]
mod tests {
    /// Every expected failure names its scenario once and says why (a trailing `# reason`).
    #[test]
    fn every_baseline_entry_has_a_reason() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("conformance")
            .join("baseline.yaml");
        let text = std::fs::read_to_string(&path).expect("baseline");
        let mut seen = std::collections::BTreeSet::new();
        for line in text.lines() {
            let Some(entry) = line.trim_start().strip_prefix("- ") else {
                continue;
            };
            let (name, reason) = entry.split_once('#').unwrap_or((entry, ""));
            let name = name.trim();
            assert!(!reason.trim().is_empty(), "{name} has no reason");
            assert!(seen.insert(name.to_owned()), "{name} is listed twice");
        }
        assert!(!seen.is_empty(), "the baseline lists nothing");
    }
}

//! Test-side helper: a network namespace of a test's own, for a real (kernel enforced)
//! lockout with [`crate::SimConfig::nft_lockout`].
//!
//! ```no_run
//! use opnsense_sim::netns::Namespace;
//!
//! if let Err(why) = Namespace::prerequisites() {
//!     eprintln!("skipped: {why}");
//!     return;
//! }
//! let ns = Namespace::create("my-test").expect("namespace");
//! // Everything started through `ns.command()` shares the namespace's own loopback.
//! let mut sim = ns
//!     .command("opnsense-sim")
//!     .args(["--port", "8443", "--nft-lockout"])
//!     .spawn()
//!     .expect("simulator");
//! // ... start the client with ns.command(...) too, talk to https://127.0.0.1:8443 ...
//! let _ = sim.kill();
//! // Dropping `ns` deletes the namespace (and with it the simulator's nftables table).
//! ```
//!
//! Needs root (or `CAP_SYS_ADMIN` + `CAP_NET_ADMIN`), `ip` (iproute2) and, for the
//! lockout itself, `nft` (nftables). Only `127.0.0.1` inside the namespace is used.
//!
//! [`Namespace::rerun_test`] is the whole frame of such a test: it runs the test again inside a
//! namespace of its own (or skips it, saying why) and tells the re-run that it is inside.

use std::ffi::OsStr;
use std::io;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A uniquely named network namespace (`ip netns add`), with `lo` up; deleted on drop.
#[derive(Debug)]
pub struct Namespace {
    name: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn ok_or_err(what: &str, out: &Output) -> io::Result<()> {
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

fn quiet(program: &str, args: &[&str]) -> io::Result<Output> {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
}

/// Effective uid from `/proc/self/status` (`Uid: real effective saved fs`).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

impl Namespace {
    /// Why a namespace test cannot run here (`Err` with the reason), checked cheaply: not
    /// root, no `ip`, no `nft`.
    pub fn prerequisites() -> Result<(), String> {
        if effective_uid() != Some(0) {
            return Err("not running as root".into());
        }
        for (program, arg, package) in [("ip", "-V", "iproute2"), ("nft", "--version", "nftables")]
        {
            match quiet(program, &[arg]) {
                Ok(out) if out.status.success() => {}
                _ => {
                    return Err(format!(
                        "`{program}` is missing (apt-get install -y {package})"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Creates `<prefix>-<pid>-<n>` and brings its loopback up.
    pub fn create(prefix: &str) -> io::Result<Namespace> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}-{}-{n}", std::process::id());
        ok_or_err("ip netns add", &quiet("ip", &["netns", "add", &name])?)?;
        let ns = Namespace { name };
        ok_or_err(
            "ip link set lo up",
            &quiet("ip", &["-n", &ns.name, "link", "set", "lo", "up"])?,
        )?;
        Ok(ns)
    }

    /// The namespace's name (for `ip netns exec <name> ...`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip netns exec <name> <program>`: add arguments, environment and stdio as usual.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// Runs `program args...` inside the namespace and waits for it.
    pub fn run<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> io::Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
    }
}

/// Where a test that re-runs itself in a namespace of its own ([`Namespace::rerun_test`]) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rerun {
    /// This is the re-run inside the namespace: do the test's work.
    Inside,
    /// The outer run is over: the re-run passed, or the test was skipped (said on stderr).
    Done,
}

/// Set in the re-run inside the namespace.
const CHILD: &str = "OPNSENSE_SIM_NETNS_CHILD";
/// `0`: skip, `1`: require, unset: run when possible.
const SWITCH: &str = "OPNSENSE_SIM_NETNS";

impl Namespace {
    /// Runs the test named `test` (its full path, for `--exact`) again inside a fresh namespace
    /// `<prefix>-...`, with `--nocapture`, and checks that it passed; returns
    /// [`Rerun::Inside`] when called in that re-run. `OPNSENSE_SIM_NETNS=0` skips the test,
    /// `OPNSENSE_SIM_NETNS=1` makes missing [prerequisites](Namespace::prerequisites) an error;
    /// otherwise they skip it, saying why. The re-run's output is printed.
    ///
    /// Errors: missing prerequisites with `OPNSENSE_SIM_NETNS=1`, a namespace that cannot be
    /// made, a re-run that cannot start or that did not pass that one test.
    pub fn rerun_test(test: &str, prefix: &str) -> Result<Rerun, String> {
        if std::env::var_os(CHILD).is_some() {
            return Ok(Rerun::Inside);
        }
        let switch = std::env::var(SWITCH).unwrap_or_default();
        if switch == "0" {
            eprintln!("{test}: skipped ({SWITCH}=0)");
            return Ok(Rerun::Done);
        }
        if let Err(why) = Namespace::prerequisites() {
            if switch == "1" {
                return Err(format!("{SWITCH}=1 but {why}"));
            }
            eprintln!("{test}: skipped: {why}");
            return Ok(Rerun::Done);
        }
        let ns = Namespace::create(prefix).map_err(|e| format!("network namespace: {e}"))?;
        let exe = std::env::current_exe().map_err(|e| format!("test binary: {e}"))?;
        let out = ns
            .command(exe)
            .args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .map_err(|e| format!("re-run inside the namespace: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!("--- inside namespace {} ---\n{stdout}{stderr}", ns.name());
        if !out.status.success() {
            return Err("the namespace run failed".into());
        }
        if !stdout.contains("test result: ok. 1 passed") {
            return Err(format!("{test} did not run inside the namespace"));
        }
        Ok(Rerun::Done)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = quiet("ip", &["netns", "del", &self.name]);
    }
}

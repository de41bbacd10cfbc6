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

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = quiet("ip", &["netns", "del", &self.name]);
    }
}

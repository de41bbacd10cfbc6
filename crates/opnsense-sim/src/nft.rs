//! Kernel enforcement of a lockout with nftables ([`crate::SimConfig::nft_lockout`]).
//!
//! The simulator owns one table, `inet opnsense_sim_<port>`, and never touches another.
//! From start-up on it holds an input chain that accepts `ct state established,related`,
//! which also turns connection tracking on in the namespace, so every connection to the
//! simulator is tracked from its SYN (conntrack picks up a connection it never saw as
//! `new`, which would make the lockout rule cut it). During a lockout the chain also has
//! `ct state new ip daddr 127.0.0.1 tcp dport <port> drop` (`block`) or
//! `... reject with tcp reset` (`reject`): new connections time out or are refused while
//! established ones keep going, as with pf's state table. Each change replaces the table
//! in one `nft -f -` transaction.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::{LockoutAction, NftLockout, SimError};

/// `PROC_NET_INIT_INO` (`include/linux/proc_ns.h`): the inode of the initial network
/// namespace, as `readlink /proc/self/ns/net` shows it.
const INITIAL_NETNS: &str = "net:[4026531833]";

/// Whether this process runs in the initial network namespace (`None`: cannot tell).
pub(crate) fn in_initial_namespace() -> Option<bool> {
    std::fs::read_link("/proc/self/ns/net")
        .ok()
        .map(|link| link.as_os_str() == INITIAL_NETNS)
}

/// The simulator's nftables table.
#[derive(Debug)]
pub(crate) struct NftTable {
    program: std::path::PathBuf,
    table: String,
    port: u16,
    /// Whether the table was loaded (only then does dropping delete it).
    installed: bool,
}

impl NftTable {
    /// Checks the namespace and loads the base table (no lockout).
    pub fn install(cfg: &NftLockout, port: u16) -> Result<NftTable, SimError> {
        if !cfg.allow_initial_namespace {
            match in_initial_namespace() {
                Some(false) => {}
                Some(true) => {
                    return Err(SimError::Nft(
                        "refusing to install nftables rules in the initial network namespace \
                         (run inside `ip netns exec <ns>`, or set \
                         NftLockout::allow_initial_namespace)"
                            .into(),
                    ));
                }
                None => {
                    return Err(SimError::Nft(
                        "cannot read /proc/self/ns/net to check the network namespace".into(),
                    ));
                }
            }
        }
        let mut table = NftTable {
            program: cfg.nft.clone(),
            table: format!("opnsense_sim_{port}"),
            port,
            installed: false,
        };
        table.set(None).map_err(SimError::Nft)?;
        table.installed = true;
        Ok(table)
    }

    /// `inet <table>`.
    pub fn name(&self) -> String {
        format!("inet {}", self.table)
    }

    /// The ruleset text that replaces the table.
    pub fn ruleset(&self, verdict: Option<LockoutAction>) -> String {
        let name = self.name();
        let mut rules = String::from("\t\tct state established,related accept\n");
        if let Some(action) = verdict {
            let what = match action {
                LockoutAction::Block => "drop",
                LockoutAction::Reject => "reject with tcp reset",
            };
            let _ = writeln!(
                rules,
                "\t\tct state new ip daddr 127.0.0.1 tcp dport {} {what}",
                self.port
            );
        }
        format!(
            "table {name}\ndelete table {name}\ntable {name} {{\n\tchain input {{\n\t\ttype filter hook input priority 0; policy accept;\n{rules}\t}}\n}}\n"
        )
    }

    /// Loads the table for `verdict` (`None`: no lockout rule).
    pub fn set(&self, verdict: Option<LockoutAction>) -> Result<(), String> {
        run_nft(&self.program, &["-f", "-"], Some(&self.ruleset(verdict)))
    }

    /// Deletes the table (best effort).
    pub fn remove(&self) {
        let name = self.name();
        let _ = run_nft(
            &self.program,
            &["-f", "-"],
            Some(&format!("table {name}\ndelete table {name}\n")),
        );
    }
}

impl Drop for NftTable {
    fn drop(&mut self) {
        if self.installed {
            self.remove();
        }
    }
}

/// Runs `nft <args>` with `input` on stdin; the error carries nft's stderr.
fn run_nft(program: &Path, args: &[&str], input: Option<&str>) -> Result<(), String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| format!("writing to {}: {e}", program.display()))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for {}: {e}", program.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} {} failed ({}): {}",
            program.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rulesets_replace_only_our_table() {
        let t = NftTable {
            program: "nft".into(),
            table: "opnsense_sim_8443".into(),
            port: 8443,
            installed: false,
        };
        let base = t.ruleset(None);
        assert!(base.starts_with(
            "table inet opnsense_sim_8443\ndelete table inet opnsense_sim_8443\ntable inet opnsense_sim_8443 {"
        ));
        assert!(base.contains("ct state established,related accept"));
        assert!(!base.contains("ct state new"));
        assert!(
            t.ruleset(Some(LockoutAction::Block))
                .contains("ct state new ip daddr 127.0.0.1 tcp dport 8443 drop\n")
        );
        assert!(
            t.ruleset(Some(LockoutAction::Reject))
                .contains("ct state new ip daddr 127.0.0.1 tcp dport 8443 reject with tcp reset\n")
        );
    }
}

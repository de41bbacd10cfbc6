//! Safe changes for OPNsense, on top of the SDK's generic grids: a dry run of any write, a
//! change journal that survives a crash, a verified apply that reverts itself unless confirmed,
//! and a lockout pre-flight that evaluates the staged filter and NAT rules against the path this
//! server (and each protected flow) takes to the firewall. Knows nothing of MCP.
//!
//! - [`audit`]: a security audit of the rules, port forwards and aliases (pure).
//! - [`engine`]: the per-firewall engine: write, apply, confirm, revert, recover.
//! - [`journal`]: the crash-safe record of every write and change (SQLite or Postgres).
//! - [`pf`]: a packet-filter rule evaluator over the SDK's models (pure).
//! - [`preflight`]: the lockout verdict for an apply (pure).

pub mod audit;
pub mod engine;
pub mod journal;
mod lockout;
pub mod pf;
pub mod preflight;

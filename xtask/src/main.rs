//! `cargo xtask <task>`: the project's automation, as plain Rust (rust-analyzer style).
//!
//! - `ci`: everything CI runs (fmt, clippy, deny, tests, contract, conformance), with timings.
//! - `contract`: the wire contract, fault matrix and fuzzing (tables printed).
//! - `conformance`: the official MCP conformance suite against the HTTP server.
//! - `bench`: speed and memory figures against the simulator.
//! - `inventory --core <git dir> --tag <TAG>...`: the endpoint inventory of opnsense/core at
//!   each tag, written to `xtask/inventory/<TAG>.json` (see `inventory.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod conformance;
// Only tests use the scanner so far (the inventory check, and the coming `tidy` check).
#[cfg(test)]
mod endpoints;
mod inventory;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map_or("help", String::as_str);
    let result = match task {
        "ci" => ci(),
        "contract" => contract(),
        "conformance" => conformance::run(&root()),
        "bench" => bench(),
        "inventory" => inventory::run(&root(), &args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci|contract|conformance|bench|inventory>\n       \
                 cargo xtask inventory --core <opnsense/core git dir> --tag <TAG> [--tag <TAG>...]"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {task}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Runs a command in the workspace root, failing on a non-zero exit.
fn run(program: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

fn cargo(args: &[&str]) -> Result<(), String> {
    run(
        &std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
        args,
    )
}

fn ensure_cargo_deny() -> Result<(), String> {
    let have = Command::new("cargo")
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if have {
        Ok(())
    } else {
        cargo(&["install", "--locked", "cargo-deny@0.20.2"])
    }
}

fn ci() -> Result<(), String> {
    let mut timings: Vec<(&str, f64)> = Vec::new();
    let mut step = |name: &'static str, f: &dyn Fn() -> Result<(), String>| -> Result<(), String> {
        let t = Instant::now();
        let r = f();
        timings.push((name, t.elapsed().as_secs_f64()));
        r.map_err(|e| format!("{name}: {e}"))
    };
    step("fmt", &|| cargo(&["fmt", "--all", "--", "--check"]))?;
    step("clippy", &|| {
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
    })?;
    step("deny", &|| {
        ensure_cargo_deny()?;
        cargo(&["deny", "check", "bans", "licenses", "sources"])
    })?;
    step("test", &|| cargo(&["test", "--workspace"]))?;
    step("contract", &contract)?;
    step("conformance", &|| conformance::run(&root()))?;
    eprintln!("\nxtask ci: all steps passed");
    for (name, secs) in &timings {
        eprintln!("  {name:<12} {secs:>7.1} s");
    }
    Ok(())
}

fn contract() -> Result<(), String> {
    // `--workspace` keeps feature unification identical to `cargo test --workspace`, so CI
    // reuses the test build instead of compiling the crate graph a second time.
    cargo(&[
        "test",
        "--workspace",
        "--test",
        "contract",
        "--test",
        "fuzz",
        "--test",
        "faults",
        "--",
        "--nocapture",
    ])
}

fn bench() -> Result<(), String> {
    cargo(&[
        "build",
        "--release",
        "-p",
        "opnsense-mcp",
        "--bin",
        "opnsense-mcp",
    ])?;
    cargo(&[
        "run",
        "--release",
        "-p",
        "opnsense-mcp",
        "--example",
        "bench",
    ])
}

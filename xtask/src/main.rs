//! `cargo xtask <task>`: the project's automation, as plain Rust (rust-analyzer style).
//!
//! - `ci`: everything CI runs (fmt, clippy, deny, tests, contract, conformance, the lean
//!   build's tests), each suite once, with timings.
//! - `contract`: the wire contract, fault matrix and fuzzing (tables printed).
//! - `conformance`: the official MCP conformance suite against the HTTP server.
//! - `bench`: speed, memory and context-cost figures against a static HTTPS upstream of recorded
//!   OPNsense JSON, with the upstream alone as the floor (`crates/opnsense-mcp/examples/bench/`).
//! - `wheel [--release]`: the PyPI wheel built, installed into a fresh venv and run; with
//!   `--release`, the optimised wheel with a tag PyPI accepts (`manylinux_*`; see `package.rs`).
//! - `install`: `cargo install --locked --path crates/opnsense-mcp` into a temporary root
//!   with a fresh target directory, and the installed binary run.
//! - `container`: the image built and run in podman/docker the way compose.yaml runs it
//!   (see `container.rs`; not part of `ci`).
//! - `inventory --core <git dir> --tag <TAG>...`: the endpoint inventory of opnsense/core at
//!   each tag, written to `xtask/inventory/<TAG>.json` (see `inventory.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod conformance;
mod container;
// Only tests use the scanner (the inventory check and `tidy`).
#[cfg(test)]
mod endpoints;
mod inventory;
mod package;
#[cfg(test)]
mod tidy;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map_or("help", String::as_str);
    let result = match task {
        "ci" => ci(),
        "contract" => contract(),
        "conformance" => conformance::run(&root()),
        "bench" => bench(),
        "inventory" => inventory::run(&root(), &args[1..]),
        "wheel" => package::wheel(&args[1..]),
        "install" => package::install(),
        "container" => container::run(),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci|contract|conformance|bench|inventory|wheel [--release]|install|container>\n       \
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
    run_env(program, args, &[])
}

/// [`run`] with extra environment variables.
fn run_env(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let shown = env
        .iter()
        .map(|(k, v)| format!("{k}={v} "))
        .collect::<Vec<_>>()
        .concat();
    eprintln!("$ {shown}{program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
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
    cargo_env(args, &[])
}

fn cargo_env(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    run_env(
        &std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
        args,
        env,
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

/// The suites `contract` runs with their tables printed. `ci` runs them there and leaves them
/// out of its `test` step, so each runs once.
const CONTRACT_SUITES: &[&str] = &["contract", "fuzz", "faults"];

/// Cargo's target directory, as cargo and the tests see it.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}

/// `cargo metadata --no-deps` of the workspace.
fn metadata() -> Result<serde_json::Value, String> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata: {e}"))
}

/// Names of the integration-test targets of the workspace, sorted, each once.
fn integration_tests(metadata: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "test"))
        })
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// `cargo test` over the whole workspace except [`CONTRACT_SUITES`]: unit tests of every lib and
/// bin (the tidy rules are xtask's), every other integration test with the opt-in end-to-end
/// tests switched on (`OPNSENSE_E2E=1`), then the doc tests. Fails when an opt-in test skipped.
fn workspace_tests() -> Result<(), String> {
    let tests = integration_tests(&metadata()?);
    for suite in CONTRACT_SUITES {
        if !tests.iter().any(|t| t == suite) {
            return Err(format!(
                "no integration test named `{suite}` (CONTRACT_SUITES)"
            ));
        }
    }
    let mut args: Vec<&str> = vec!["test", "--workspace", "--lib", "--bins"];
    for name in tests
        .iter()
        .filter(|t| !CONTRACT_SUITES.contains(&t.as_str()))
    {
        args.extend(["--test", name]);
    }
    let skipped = target_dir().join("e2e-skipped.txt");
    let _ = std::fs::remove_file(&skipped);
    cargo_env(&args, &[("OPNSENSE_E2E", "1")])?;
    if let Ok(names) = std::fs::read_to_string(&skipped) {
        return Err(format!(
            "end-to-end tests were skipped although OPNSENSE_E2E=1: {}",
            names.split_whitespace().collect::<Vec<_>>().join(", ")
        ));
    }
    cargo(&["test", "--workspace", "--doc"])
}

/// The lean binary (no `simulator` feature): its CLI tests (`demo` and `serve --simulator`
/// refused) and the Dockerfile checks, which build it the same way.
fn lean() -> Result<(), String> {
    cargo(&[
        "test",
        "-p",
        "opnsense-mcp",
        "--no-default-features",
        "--test",
        "cli",
        "--test",
        "dockerfile",
    ])
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
    step("test", &workspace_tests)?;
    step("contract", &contract)?;
    step("conformance", &|| conformance::run(&root()))?;
    step("wheel", &|| package::wheel(&[]))?;
    step("install", &package::install)?;
    // Last: it leaves the lean build in target/debug (any later cargo build links the default
    // one back).
    step("lean", &lean)?;
    eprintln!("\nxtask ci: all steps passed");
    for (name, secs) in &timings {
        eprintln!("  {name:<12} {secs:>7.1} s");
    }
    Ok(())
}

/// The wire contract, the fault matrix and fuzzing, with their tables ([`CONTRACT_SUITES`]).
fn contract() -> Result<(), String> {
    // `--workspace` keeps feature unification identical to `cargo test --workspace`, so CI
    // reuses the test build instead of compiling the crate graph a second time.
    let mut args = vec!["test", "--workspace"];
    for suite in CONTRACT_SUITES {
        args.extend(["--test", suite]);
    }
    args.extend(["--", "--nocapture"]);
    cargo(&args)
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

#[cfg(test)]
mod tests {
    use super::{CONTRACT_SUITES, integration_tests, metadata};

    /// `ci`'s test step and its contract step together run every integration test once.
    #[test]
    fn ci_splits_the_integration_tests_without_losing_one() {
        let all = integration_tests(&metadata().expect("cargo metadata"));
        for suite in CONTRACT_SUITES {
            assert!(
                all.iter().any(|t| t == suite),
                "{suite} missing from {all:?}"
            );
        }
        for name in ["cli", "http", "e2e", "dockerfile", "catalogue", "corpus"] {
            assert!(all.iter().any(|t| t == name), "{name} missing from {all:?}");
        }
        let mut sorted = all.clone();
        sorted.dedup();
        assert_eq!(sorted, all, "each name once");
    }
}

//! Installing the server the ways users do, each checked end to end:
//!
//! - `wheel`: the PyPI wheel (maturin `bin` bindings, `crates/opnsense-mcp/pyproject.toml`) is
//!   built, installed into a fresh venv and its `opnsense-mcp` run (`--version`, `tools`), and
//!   run once more through `uvx --from <wheel>` (offline). maturin and uv come from PyPI into a
//!   build venv.
//! - `install`: `cargo install --locked --path crates/opnsense-mcp` into a temporary root with
//!   its own target directory (nothing reused from this checkout's target or `CARGO_HOME` bin),
//!   and the installed binary run.
//!
//! `XTASK_RELEASE=1` builds both in release mode (what users get; much slower here); so does
//! `cargo xtask wheel --release`, whose wheel is the one to upload: maturin is asked for a tag
//! PyPI accepts (`--compatibility pypi`: its built-in auditwheel check picks the lowest
//! `manylinux_X_Y` the binary's glibc symbols allow, and fails rather than fall back to the
//! plain `linux` tag PyPI rejects), and the wheel's name is checked for it. Built on this
//! machine (Debian 12, glibc 2.36) the tag is `manylinux_2_34_x86_64`: the binary needs glibc
//! 2.34 or later (Debian 12, Ubuntu 22.04, RHEL 9 and newer). Everything lives under
//! `<target>/xtask-package/` and is recreated on each run.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{root, run_env, target_dir};

/// The maturin release the wheel is built with.
const MATURIN: &str = "maturin>=1.7,<2";

/// The uv release `uvx` is tried with.
const UV: &str = "uv>=0.5,<1";

fn release() -> bool {
    std::env::var_os("XTASK_RELEASE").is_some_and(|v| v == "1")
}

fn work_dir(name: &str) -> Result<PathBuf, String> {
    let dir = target_dir().join("xtask-package").join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

fn path_str(p: &Path) -> Result<&str, String> {
    p.to_str()
        .ok_or_else(|| format!("{} is not UTF-8", p.display()))
}

/// Runs `program args` and returns its stdout, failing on a non-zero exit.
fn output(program: &Path, args: &[&str]) -> Result<String, String> {
    eprintln!("$ {} {}", program.display(), args.join(" "));
    let out = Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if !out.status.success() {
        return Err(format!(
            "`{} {}` failed ({}): {}",
            program.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The installed binary answers `--version` with the crate's version and lists the tools.
fn smoke(binary: &Path) -> Result<(), String> {
    let version = output(binary, &["--version"])?;
    let expected = format!("opnsense-mcp {}", env!("CARGO_PKG_VERSION"));
    if !version.starts_with(&expected) {
        return Err(format!("{}: --version says {version:?}", binary.display()));
    }
    let tools = output(binary, &["tools"])?;
    if !tools.contains("\"system_status\"") {
        return Err(format!(
            "{}: `tools` lists no system_status",
            binary.display()
        ));
    }
    eprintln!("  ok: {}", version.trim());
    Ok(())
}

fn venv(dir: &Path) -> Result<PathBuf, String> {
    run_env("python3", &["-m", "venv", path_str(dir)?], &[])?;
    Ok(dir.join("bin"))
}

/// Whether a wheel's file name carries a platform tag PyPI accepts for Linux.
fn pypi_tag(file_name: &str) -> bool {
    file_name
        .strip_suffix(".whl")
        .and_then(|n| n.rsplit('-').next())
        .is_some_and(|platform| {
            platform
                .split('.')
                .all(|t| t.starts_with("manylinux") || t.starts_with("musllinux"))
        })
}

/// `cargo xtask wheel [--release]`.
pub fn wheel(args: &[String]) -> Result<(), String> {
    let for_pypi = match args {
        [] => false,
        [flag] if flag == "--release" => true,
        other => {
            return Err(format!(
                "unknown arguments {other:?} (wheel takes --release)"
            ));
        }
    };
    let work = work_dir("wheel")?;
    let build_bin = venv(&work.join("build-venv"))?;
    let pip = build_bin.join("pip");
    run_env(path_str(&pip)?, &["install", "--quiet", MATURIN, UV], &[])?;
    let dist = work.join("dist");
    let mut args = vec![
        "build",
        "--manifest-path",
        "crates/opnsense-mcp/Cargo.toml",
        "--locked",
        "--out",
        path_str(&dist)?,
    ];
    if release() || for_pypi {
        args.push("--release");
    }
    if for_pypi {
        args.extend(["--compatibility", "pypi"]);
    }
    run_env(path_str(&build_bin.join("maturin"))?, &args, &[])?;
    let wheel = std::fs::read_dir(&dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or("maturin wrote no wheel")?;
    eprintln!("  wheel: {}", wheel.display());
    let name = wheel
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if for_pypi && !pypi_tag(name) {
        return Err(format!(
            "{name}: not a platform tag PyPI accepts (manylinux_* or musllinux_*)"
        ));
    }
    // A fresh venv with nothing but the wheel (no index: it must need nothing else).
    let fresh = venv(&work.join("fresh-venv"))?;
    run_env(
        path_str(&fresh.join("pip"))?,
        &["install", "--quiet", "--no-index", path_str(&wheel)?],
        &[],
    )?;
    smoke(&fresh.join("opnsense-mcp"))?;
    // uvx, the way MCP clients start Python servers (its cache kept in the work dir).
    let uvx = build_bin.join("uvx");
    eprintln!(
        "$ {} --offline --from {} opnsense-mcp --version",
        uvx.display(),
        wheel.display()
    );
    let out = Command::new(&uvx)
        .args([
            "--offline",
            "--from",
            path_str(&wheel)?,
            "opnsense-mcp",
            "--version",
        ])
        .env("UV_CACHE_DIR", work.join("uv-cache"))
        .env("UV_TOOL_DIR", work.join("uv-tools"))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", uvx.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !text.starts_with("opnsense-mcp ") {
        return Err(format!(
            "uvx --from <wheel> opnsense-mcp --version failed ({}): {text} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    eprintln!("  uvx: {}", text.trim());
    Ok(())
}

/// `cargo xtask install`.
pub fn install() -> Result<(), String> {
    let work = work_dir("install")?;
    let install_root = work.join("root");
    let target = work.join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut args = vec![
        "install",
        "--locked",
        "--path",
        "crates/opnsense-mcp",
        "--root",
        path_str(&install_root)?,
        "--target-dir",
        path_str(&target)?,
    ];
    if !release() {
        args.push("--debug");
    }
    // `--target-dir` and CARGO_TARGET_DIR both name the fresh directory: the build shares
    // nothing with this checkout's target.
    run_env(&cargo, &args, &[("CARGO_TARGET_DIR", path_str(&target)?)])?;
    smoke(&install_root.join("bin").join("opnsense-mcp"))?;
    // The fresh target dir is large: keep only the installed binary.
    std::fs::remove_dir_all(&target).map_err(|e| format!("cannot remove {}: {e}", target.display()))
}

#[cfg(test)]
mod tests {
    use super::pypi_tag;

    #[test]
    fn only_manylinux_and_musllinux_tags_are_for_pypi() {
        assert!(pypi_tag(
            "opnsense_mcp-0.1.0-py3-none-manylinux_2_34_x86_64.whl"
        ));
        assert!(pypi_tag(
            "opnsense_mcp-0.1.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
        ));
        assert!(pypi_tag(
            "opnsense_mcp-0.1.0-py3-none-musllinux_1_2_x86_64.whl"
        ));
        assert!(!pypi_tag("opnsense_mcp-0.1.0-py3-none-linux_x86_64.whl"));
        assert!(!pypi_tag(
            "opnsense_mcp-0.1.0-py3-none-manylinux_2_34_x86_64.linux_x86_64.whl"
        ));
        assert!(!pypi_tag("opnsense_mcp-0.1.0.tar.gz"));
    }
}

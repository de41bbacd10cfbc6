//! `cargo xtask container`: the image's promises checked in a real container engine (podman or
//! docker), without pulling anything: the Dockerfile's final stage is built on a local Debian
//! base (`XTASK_BASE_IMAGE`, default `localhost/debian-bookworm-debootstrap:12`, made with
//! `debootstrap` and imported when missing) around the lean binary built here, then run the way
//! `compose.yaml` runs it (read-only root, no capabilities, no-new-privileges, no network):
//! the user is not root, the root filesystem refuses writes while the state volume takes them,
//! no capability is left, binding 0.0.0.0 without a token exits 2, and with one the HEALTHCHECK
//! passes and `/mcp` wants the token.
//!
//! Engine quirks of a host go in `XTASK_ENGINE_FLAGS` (global flags, e.g. `--runtime runc` where
//! crun refuses hybrid cgroups) and `XTASK_RUN_FLAGS` (e.g. `--ulimit nofile=20000:20000` where
//! the engine's default limits exceed the host's). Not part of `ci`: CI hosts may have no engine.

use std::path::Path;
use std::process::Command;

use crate::{cargo, root, target_dir};

const IMAGE: &str = "localhost/opnsense-mcp:xtask";
const DEFAULT_BASE: &str = "localhost/debian-bookworm-debootstrap:12";

fn words(var: &str) -> Vec<String> {
    std::env::var(var)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

struct Engine {
    program: String,
    global: Vec<String>,
}

impl Engine {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.global).args(args).current_dir(root());
        c
    }

    /// Runs and returns (exit code, stdout + stderr).
    fn run(&self, args: &[&str]) -> Result<(Option<i32>, String), String> {
        eprintln!(
            "$ {} {} {}",
            self.program,
            self.global.join(" "),
            args.join(" ")
        );
        let out = self
            .command(args)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.program))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok((out.status.code(), text))
    }

    fn ok(&self, args: &[&str]) -> Result<String, String> {
        match self.run(args)? {
            (Some(0), text) => Ok(text),
            (code, text) => Err(format!("`{}` exited {code:?}: {text}", args.join(" "))),
        }
    }
}

fn engine() -> Result<Engine, String> {
    for program in ["podman", "docker"] {
        if Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Ok(Engine {
                program: program.to_owned(),
                global: words("XTASK_ENGINE_FLAGS"),
            });
        }
    }
    Err("no container engine (podman or docker) on PATH".into())
}

/// The base image, imported from a debootstrap root when it is the default and missing.
fn base(engine: &Engine) -> Result<String, String> {
    let base = std::env::var("XTASK_BASE_IMAGE").unwrap_or_else(|_| DEFAULT_BASE.to_owned());
    if engine.run(&["image", "inspect", &base])?.0 == Some(0) {
        return Ok(base);
    }
    if base != DEFAULT_BASE {
        return Err(format!("base image {base} is not present"));
    }
    let rootfs = target_dir().join("xtask-container").join("rootfs");
    let rootfs_s = rootfs.to_str().ok_or("target dir is not UTF-8")?;
    crate::run(
        "debootstrap",
        &[
            "--variant=minbase",
            "--include=ca-certificates,curl",
            "bookworm",
            rootfs_s,
            "http://deb.debian.org/debian",
        ],
    )?;
    let tar = Command::new("tar")
        .args(["-C", rootfs_s, "-c", "."])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    let stdout = tar.stdout.ok_or("tar has no stdout")?;
    let status = engine
        .command(&["import", "-", &base])
        .stdin(stdout)
        .status()
        .map_err(|e| format!("cannot import: {e}"))?;
    let _ = std::fs::remove_dir_all(&rootfs);
    if status.success() {
        Ok(base)
    } else {
        Err(format!("importing {base} failed ({status})"))
    }
}

/// The Dockerfile's final stage on `base`, copying the binary from the build context. Fails
/// when the Dockerfile no longer has the lines this replaces (then this task must follow it).
fn containerfile(base: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(root().join("Dockerfile"))
        .map_err(|e| format!("Dockerfile: {e}"))?;
    let lines: Vec<&str> = text.lines().collect();
    let from = lines
        .iter()
        .rposition(|l| l.starts_with("FROM "))
        .ok_or("the Dockerfile has no FROM")?;
    let mut stage = lines[from..].join("\n");
    for (old, new) in [
        ("FROM debian:bookworm-slim", format!("FROM {base}")),
        (
            "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \\\n && rm -rf /var/lib/apt/lists/* \\\n && useradd",
            "RUN useradd".to_owned(),
        ),
        (
            "COPY --from=build /src/target/release/opnsense-mcp",
            "COPY opnsense-mcp".to_owned(),
        ),
    ] {
        if !stage.contains(old) {
            return Err(format!(
                "the Dockerfile's final stage no longer has {old:?}"
            ));
        }
        stage = stage.replace(old, &new);
    }
    Ok(stage + "\n")
}

fn expect(what: &str, ok: bool, detail: &str) -> Result<(), String> {
    if ok {
        eprintln!("  ok: {what}");
        Ok(())
    } else {
        Err(format!("{what}: {detail}"))
    }
}

/// `cargo xtask container`.
pub fn run() -> Result<(), String> {
    let engine = engine()?;
    let base = base(&engine)?;
    cargo(&["build", "-p", "opnsense-mcp", "--no-default-features"])?;
    let context = target_dir().join("xtask-container").join("context");
    std::fs::create_dir_all(&context).map_err(|e| format!("{}: {e}", context.display()))?;
    std::fs::copy(
        target_dir().join("debug").join("opnsense-mcp"),
        context.join("opnsense-mcp"),
    )
    .map_err(|e| format!("cannot copy the binary: {e}"))?;
    std::fs::write(context.join("Containerfile"), containerfile(&base)?)
        .map_err(|e| format!("cannot write the Containerfile: {e}"))?;
    let ctx = context.to_str().ok_or("target dir is not UTF-8")?;
    let file = Path::new(ctx).join("Containerfile");
    let file = file.to_str().ok_or("target dir is not UTF-8")?;
    let mut build = vec!["build", "--network", "none", "-t", IMAGE, "-f", file];
    if engine.program == "podman" {
        build.extend(["--format", "docker"]);
    }
    build.push(ctx);
    engine.ok(&build)?;
    let extra = words("XTASK_RUN_FLAGS");
    let volume = "opnsense-mcp-xtask-state:/var/lib/opnsense-mcp";
    let mut hardened: Vec<&str> = vec![
        "--network",
        "none",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--tmpfs",
        "/tmp",
        "-v",
        volume,
    ];
    hardened.extend(extra.iter().map(String::as_str));
    let with = |head: &[&str], tail: &[&str]| -> Vec<String> {
        head.iter()
            .chain(hardened.iter())
            .chain(tail.iter())
            .map(|s| (*s).to_owned())
            .collect()
    };
    let args = with(
        &["run", "--rm", "--entrypoint", "/bin/sh"],
        &[
            IMAGE,
            "-c",
            "id -u; touch /probe 2>/dev/null && echo root-writable; touch /var/lib/opnsense-mcp/probe && echo state-writable; grep CapEff /proc/self/status",
        ],
    );
    let out = engine.ok(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
    let first = out.lines().next().unwrap_or_default().trim();
    expect(
        "runs as a non-root user",
        first != "0" && !first.is_empty(),
        &out,
    )?;
    expect(
        "the root filesystem is read-only",
        !out.contains("root-writable"),
        &out,
    )?;
    expect(
        "the state volume is writable",
        out.contains("state-writable"),
        &out,
    )?;
    expect(
        "no capability is left",
        out.contains("CapEff:\t0000000000000000"),
        &out,
    )?;
    let fw = [
        "-e",
        "OPNSENSE_URL=https://127.0.0.1:9",
        "-e",
        "OPNSENSE_API_KEY=xtask-key",
        "-e",
        "OPNSENSE_API_SECRET=xtask-secret",
    ];
    let mut tail: Vec<&str> = fw.to_vec();
    tail.push(IMAGE);
    let args = with(&["run", "--rm"], &tail);
    let (code, out) = engine.run(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
    expect(
        "binding 0.0.0.0 without a token exits 2",
        code == Some(2) && out.contains("OPNSENSE_HTTP_TOKEN"),
        &format!("{code:?}: {out}"),
    )?;
    let mut tail: Vec<&str> = fw.to_vec();
    tail.extend([
        "-e",
        "OPNSENSE_HTTP_TOKEN=xtask-token-0123456789",
        IMAGE,
        "serve",
        "--no-probe",
    ]);
    let args = with(&["run", "-d"], &tail);
    // The container id is the line of 64 hex digits (the engine may log on stderr too).
    let started = engine.ok(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
    let id = started
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| format!("no container id in {started:?}"))?
        .to_owned();
    let checks = (|| -> Result<(), String> {
        // The server needs a moment to bind: retry the health check a bounded number of times.
        let mut health = Err("not tried".to_owned());
        for _ in 0..20 {
            health = if engine.program == "podman" {
                engine.ok(&["healthcheck", "run", &id])
            } else {
                engine.ok(&["exec", &id, "curl", "-fsS", "http://127.0.0.1:8000/healthz"])
            };
            if health.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        expect(
            "the HEALTHCHECK passes",
            health.is_ok(),
            &format!("{health:?}"),
        )?;
        let code = engine.ok(&[
            "exec",
            &id,
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "POST",
            "http://127.0.0.1:8000/mcp",
        ])?;
        expect(
            "/mcp without the token is 401",
            code.trim().ends_with("401"),
            &code,
        )
    })();
    let _ = engine.run(&["stop", "-t", "10", &id]);
    let _ = engine.run(&["rm", "-f", &id]);
    let _ = engine.run(&["volume", "rm", "-f", "opnsense-mcp-xtask-state"]);
    checks
}

//! The Dockerfile's promises, checked without a container engine: the image runs as a non-root
//! user, its entrypoint runs `serve`, its build is the lean one (`--no-default-features`) and
//! copies the binary it built, and its HEALTHCHECK asks a path the real binary answers 200
//! without a token, on the port the image configures.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

/// One instruction: keyword (upper case) and its arguments, continuation lines joined.
#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
}

fn dockerfile() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Dockerfile");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Instructions in order; comments and parser directives dropped, `\` continuations joined.
fn parse(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if pending.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let (keyword, args) = pending
            .split_once(char::is_whitespace)
            .unwrap_or((&pending, ""));
        out.push(Instruction {
            keyword: keyword.to_ascii_uppercase(),
            args: args.trim().to_owned(),
        });
        pending.clear();
    }
    out
}

/// The instructions of the last stage (the image that ships).
fn final_stage(all: &[Instruction]) -> &[Instruction] {
    let from = all
        .iter()
        .rposition(|i| i.keyword == "FROM")
        .expect("a FROM instruction");
    &all[from..]
}

/// An exec-form JSON array (`["a", "b"]`) as its words.
fn exec_form(args: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(args)
        .unwrap_or_else(|e| panic!("not an exec-form array ({e}): {args}"));
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {args}"))
        .iter()
        .map(|w| w.as_str().expect("a string").to_owned())
        .collect()
}

fn last<'a>(stage: &'a [Instruction], keyword: &str) -> &'a str {
    &stage
        .iter()
        .rev()
        .find(|i| i.keyword == keyword)
        .unwrap_or_else(|| panic!("no {keyword} in the final stage"))
        .args
}

/// `KEY=value` pairs of every `ENV` of the stage (the `KEY=value ...` form).
fn env_of(stage: &[Instruction]) -> Vec<(String, String)> {
    stage
        .iter()
        .filter(|i| i.keyword == "ENV")
        .flat_map(|i| i.args.split_whitespace())
        .map(|pair| {
            let (k, v) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("ENV without `=`: {pair}"));
            (k.to_owned(), v.trim_matches('"').to_owned())
        })
        .collect()
}

#[test]
fn the_image_runs_as_a_non_root_user() {
    let all = parse(&dockerfile());
    let user = last(final_stage(&all), "USER");
    let name = user.split(':').next().unwrap_or_default();
    assert!(
        !name.is_empty() && name != "root" && name != "0",
        "USER {user:?}"
    );
}

#[test]
fn the_entrypoint_runs_serve_with_the_copied_binary() {
    let all = parse(&dockerfile());
    let stage = final_stage(&all);
    let mut argv = exec_form(last(stage, "ENTRYPOINT"));
    argv.extend(exec_form(last(stage, "CMD")));
    assert_eq!(
        argv.first().map(String::as_str),
        Some("opnsense-mcp"),
        "{argv:?}"
    );
    assert_eq!(argv.get(1).map(String::as_str), Some("serve"), "{argv:?}");
    // The binary the entrypoint names is the one the build stage made.
    let copy = stage
        .iter()
        .find(|i| i.keyword == "COPY" && i.args.starts_with("--from="))
        .expect("COPY --from=<build stage>");
    assert!(
        copy.args
            .contains("target/release/opnsense-mcp /usr/local/bin/opnsense-mcp"),
        "{copy:?}"
    );
}

#[test]
fn every_build_is_the_lean_one() {
    let all = parse(&dockerfile());
    let builds: Vec<&Instruction> = all
        .iter()
        .filter(|i| i.keyword == "RUN" && i.args.contains("cargo build"))
        .collect();
    assert!(!builds.is_empty(), "no cargo build in the Dockerfile");
    for run in builds {
        for part in run.args.split("&&").filter(|p| p.contains("cargo build")) {
            for needle in ["--release", "-p opnsense-mcp", "--no-default-features"] {
                assert!(part.contains(needle), "{needle} missing in: {part}");
            }
        }
    }
}

#[test]
fn the_healthcheck_path_is_served_without_a_token() {
    let all = parse(&dockerfile());
    let stage = final_stage(&all);
    let check = last(stage, "HEALTHCHECK");
    let url = check
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in HEALTHCHECK {check}"));
    let rest = url.trim_start_matches("http://");
    let (authority, path) = rest.split_at(rest.find('/').expect("a path in the URL"));
    let port = authority.rsplit_once(':').map_or("80", |(_, p)| p);
    let env = env_of(stage);
    let configured = env
        .iter()
        .find(|(k, _)| k == "OPNSENSE_HTTP_PORT")
        .map(|(_, v)| v.as_str());
    assert_eq!(
        configured,
        Some(port),
        "the healthcheck asks the port the image serves"
    );
    assert!(
        env.iter()
            .any(|(k, v)| k == "OPNSENSE_TRANSPORT" && v == "http"),
        "the image serves HTTP: {env:?}"
    );
    assert!(
        stage
            .iter()
            .any(|i| i.keyword == "EXPOSE" && i.args.split_whitespace().any(|p| p == port)),
        "EXPOSE {port}"
    );

    // The real binary, configured as the image configures it (but on loopback and a free port,
    // with the token the image requires), answers that path without the token.
    let home = tempfile::tempdir().expect("temp dir");
    let mut c = common::command(home.path());
    c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("OPNSENSE_HTTP_HOST", "127.0.0.1")
        .env("OPNSENSE_HTTP_PORT", "0")
        .env("OPNSENSE_HTTP_TOKEN", "docker-test-token-0123456789")
        .env("OPNSENSE_URL", "https://192.0.2.1")
        .env("OPNSENSE_API_KEY", "k")
        .env("OPNSENSE_API_SECRET", "s")
        .args(exec_form(last(stage, "CMD")))
        .arg("--no-probe")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("opnsense-mcp: listening on http://") {
                let _ = tx.send(url.trim_end_matches("/mcp").to_owned());
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(20));
    let answer = addr.as_ref().ok().map(|addr| {
        let mut tcp = TcpStream::connect(addr).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        write!(
            tcp,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut answer = String::new();
        let _ = tcp.read_to_string(&mut answer);
        answer
    });
    let _ = child.kill();
    let _ = child.wait();
    reader.join().expect("reader");
    let addr = addr.expect("the server reported its address");
    let answer = answer.unwrap_or_default();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "GET {path} on {addr}: {answer}"
    );
}

#[test]
fn the_change_journal_is_on_a_volume_the_user_owns() {
    let all = parse(&dockerfile());
    let stage = final_stage(&all);
    let env = env_of(stage);
    let dir = env
        .iter()
        .find(|(k, _)| k == "OPNSENSE_STATE_DIR")
        .map(|(_, v)| v.clone())
        .expect("OPNSENSE_STATE_DIR is set (the user has no home to default to)");
    let volume = last(stage, "VOLUME");
    assert!(
        volume
            .split_whitespace()
            .any(|v| v.trim_matches(['[', ']', '"', ',']) == dir),
        "VOLUME {volume:?} must hold {dir}"
    );
    let user = last(stage, "USER");
    assert!(
        stage.iter().any(|i| i.keyword == "RUN"
            && i.args.contains(&format!("mkdir -p {dir}"))
            && i.args.contains(&format!("chown {user} {dir}"))),
        "{dir} must exist and belong to USER {user}"
    );
}

#[test]
fn the_dependency_layer_copies_every_workspace_member() {
    let text = dockerfile();
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml"))
            .expect("workspace Cargo.toml");
    let members = manifest
        .split("members = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("workspace members");
    for member in members
        .split(',')
        .map(|m| m.trim().trim_matches('"'))
        .filter(|m| !m.is_empty())
    {
        assert!(
            text.contains(&format!("COPY {member}/Cargo.toml {member}/")),
            "the Dockerfile's dependency layer misses {member}/Cargo.toml (its cached build would fail)"
        );
    }
}

// ---- compose.yaml ---------------------------------------------------------------------------

fn compose() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../compose.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of the `opnsense-mcp` service (indented under it), comments dropped.
fn service_lines(text: &str) -> Vec<String> {
    let mut lines = text
        .lines()
        .skip_while(|l| l.trim() != "opnsense-mcp:")
        .skip(1);
    let mut out = Vec::new();
    for l in lines.by_ref() {
        if !l.trim().is_empty() && !l.starts_with("    ") {
            break;
        }
        let l = l.split(" #").next().unwrap_or_default();
        if !l.trim().is_empty() && !l.trim_start().starts_with('#') {
            out.push(l.to_owned());
        }
    }
    assert!(!out.is_empty(), "no opnsense-mcp service in compose.yaml");
    out
}

/// The scalar of `key:` in the service.
fn scalar(lines: &[String], key: &str) -> Option<String> {
    lines.iter().find_map(|l| {
        l.strip_prefix(&format!("    {key}:"))
            .map(|v| v.trim().trim_matches('"').to_owned())
            .filter(|v| !v.is_empty())
    })
}

/// The `- item` entries of the list `key:` in the service.
fn list(lines: &[String], key: &str) -> Vec<String> {
    lines
        .iter()
        .skip_while(|l| l.as_str() != format!("    {key}:"))
        .skip(1)
        .take_while(|l| l.starts_with("      "))
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .collect()
}

#[test]
fn compose_runs_read_only_without_capabilities_as_the_image_user() {
    let lines = service_lines(&compose());
    assert_eq!(scalar(&lines, "read_only").as_deref(), Some("true"));
    assert_eq!(list(&lines, "cap_drop"), ["ALL"]);
    assert!(
        list(&lines, "security_opt").contains(&"no-new-privileges:true".to_owned()),
        "{lines:?}"
    );
    let all = parse(&dockerfile());
    let image_user = last(final_stage(&all), "USER").to_owned();
    assert_eq!(scalar(&lines, "user"), Some(image_user));
    assert_eq!(
        scalar(&lines, "build").as_deref(),
        Some("."),
        "built from this Dockerfile"
    );
    // Writable places on a read-only root: the state volume and a /tmp tmpfs.
    assert!(list(&lines, "tmpfs").iter().any(|t| t.starts_with("/tmp")));
}

#[test]
fn compose_publishes_the_port_on_loopback_only() {
    let lines = service_lines(&compose());
    let ports = list(&lines, "ports");
    assert!(!ports.is_empty(), "{lines:?}");
    let all = parse(&dockerfile());
    let env = env_of(final_stage(&all));
    let port = env
        .iter()
        .find(|(k, _)| k == "OPNSENSE_HTTP_PORT")
        .map(|(_, v)| v.clone())
        .expect("the image sets OPNSENSE_HTTP_PORT");
    for p in &ports {
        assert!(
            p.starts_with("127.0.0.1:"),
            "published beyond loopback: {p}"
        );
        assert!(
            p.ends_with(&format!(":{port}")),
            "{p} is not the image's port {port}"
        );
    }
}

#[test]
fn compose_keeps_the_journal_on_the_image_state_volume_and_the_secret_in_a_file() {
    let lines = service_lines(&compose());
    let all = parse(&dockerfile());
    let env = env_of(final_stage(&all));
    let dir = env
        .iter()
        .find(|(k, _)| k == "OPNSENSE_STATE_DIR")
        .map(|(_, v)| v.clone())
        .expect("OPNSENSE_STATE_DIR");
    assert!(
        list(&lines, "volumes")
            .iter()
            .any(|v| v.ends_with(&format!(":{dir}"))),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.trim() == "OPNSENSE_API_SECRET_FILE: /run/secrets/opnsense-api-secret"),
        "the secret comes from a compose secret, not the environment: {lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("OPNSENSE_API_SECRET:")),
        "{lines:?}"
    );
}

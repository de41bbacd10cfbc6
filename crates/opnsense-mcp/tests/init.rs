//! `opnsense-mcp init` through a pseudo-terminal (rexpect), against the simulator, whose HTTPS
//! certificate is its own and untrusted here: exactly the case of OPNsense's self-signed GUI
//! certificate. Also the non-interactive form scripts use.

mod common;

use std::path::Path;
use std::process::Command;

use common::{BIN, SECRET, Sim, command, run};

/// Each expectation may wait this long (the binary connects to the simulator meanwhile).
const EXPECT_MS: u64 = 30_000;

/// `init` in a pseudo-terminal, with an empty environment and `HOME` at `home`.
fn spawn_init(home: &Path, args: &[&str]) -> rexpect::session::PtySession {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("RUST_LOG", "warn")
        .arg("init")
        .args(args);
    rexpect::session::spawn_command(c, Some(EXPECT_MS)).expect("spawn in a pty")
}

/// The exit code of the finished child (nix's `WaitStatus`, read through `Debug` so the test
/// needs no nix of its own).
fn exit_code(p: &rexpect::session::PtySession) -> Option<i32> {
    let status = format!("{:?}", p.process().wait().expect("wait"));
    status
        .strip_prefix("Exited(")
        .and_then(|s| s.rsplit_once(", "))
        .and_then(|(_, code)| code.trim_end_matches(')').parse().ok())
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

/// The files `init` wrote are what `check` then uses: the firewall answers.
fn check_uses_them(home: &Path, fp: &str) {
    let mut c = command(home);
    c.arg("check");
    common::assert_check_pinned(&run(c), fp);
}

fn written_files(home: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = home.join(".config").join("opnsense-mcp");
    (dir.join("config.toml"), dir.join("api-secret"))
}

#[test]
fn interactive_init_reads_apikey_txt_offers_the_pin_and_prints_the_snippets() {
    let sim = Sim::start(|_| {});
    let home = tempfile::tempdir().expect("home");
    common::apikey_txt(home.path(), &sim);
    let fp = sim.fingerprint();
    let mut p = spawn_init(home.path(), &[]);
    let mut seen = String::new();
    seen += &p.exp_string("Firewall URL").expect("asks for the URL");
    // No scheme: https:// is added.
    p.send_line(sim.sim.base_url().trim_start_matches("https://"))
        .expect("send");
    seen += &p
        .exp_string("apikey.txt OPNsense downloaded: ")
        .expect("asks for the key");
    p.send_line("~/apikey.txt").expect("send");
    seen += &p
        .exp_string("not trusted")
        .expect("explains the certificate");
    seen += &p
        .exp_string("Pin this certificate? [y/N]")
        .expect("offers the pin");
    assert!(seen.contains(&fp), "shows the fingerprint: {seen}");
    p.send_line("y").expect("send");
    seen += &p
        .exp_string("Connected: OPNsense")
        .expect("checked with the pin");
    seen += &p
        .exp_string("claude mcp add --scope user opnsense -- ")
        .expect("Claude Code");
    seen += &p.exp_eof().expect("ends");
    for client in [
        "Claude Desktop",
        "mcpServers",
        "VS Code",
        "\"servers\"",
        "Cursor",
    ] {
        assert!(seen.contains(client), "{client} missing: {seen}");
    }
    assert!(!seen.contains(SECRET), "the secret was shown: {seen}");
    assert_eq!(exit_code(&p), Some(0), "{seen}");
    let (config, secret) = written_files(home.path());
    let text = std::fs::read_to_string(&config).expect("config.toml");
    assert!(!text.contains(SECRET), "{text}");
    assert!(text.contains(&fp), "{text}");
    assert_eq!(
        std::fs::read_to_string(&secret).expect("secret").trim_end(),
        SECRET
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&secret), 0o600);
        assert_eq!(mode(&config), 0o600);
    }
    check_uses_them(home.path(), &fp);
}

#[test]
fn interactive_init_asks_for_the_secret_without_echo_and_refusing_the_pin_writes_nothing() {
    let sim = Sim::start(|_| {});
    let home = tempfile::tempdir().expect("home");
    let mut p = spawn_init(home.path(), &["--url", &sim.sim.base_url()]);
    let mut seen = p
        .exp_string("apikey.txt OPNsense downloaded: ")
        .expect("key");
    p.send_line(sim.sim.api_key()).expect("send");
    seen += &p.exp_string("API secret (not shown): ").expect("secret");
    p.send_line(SECRET).expect("send");
    seen += &p
        .exp_string("Pin this certificate? [y/N]")
        .expect("offers the pin");
    p.send_line("n").expect("send");
    seen += &p.exp_eof().expect("ends");
    assert!(!seen.contains(SECRET), "the secret was echoed: {seen}");
    assert!(seen.contains("--tls-fingerprint sha256:"), "{seen}");
    assert_eq!(exit_code(&p), Some(3), "{seen}");
    let (config, secret) = written_files(home.path());
    assert!(!config.exists() && !secret.exists());
}

#[test]
fn non_interactive_init_with_flags_and_an_existing_config() {
    let sim = Sim::start(|_| {});
    let home = tempfile::tempdir().expect("home");
    let fp = sim.fingerprint();
    let secret_file = home.path().join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).expect("write");
    let base = |extra: &[&str]| {
        let mut c = command(home.path());
        c.args(["init", "--non-interactive", "--url", &sim.sim.base_url()])
            .args(["--api-key", sim.sim.api_key()])
            .arg("--api-secret-file")
            .arg(&secret_file)
            .args(extra);
        c
    };
    // Untrusted and no pin given: refused, naming the fingerprint to pin.
    run(base(&[]))
        .expect_code(3)
        .failure_mentions(&["--tls-fingerprint", &fp]);
    // A missing value names its flag.
    let mut c = command(home.path());
    c.args(["init", "--non-interactive"]);
    run(c).expect_code(2).failure_mentions(&["--url"]);
    // The pin given: written; the snippets on stdout.
    let out = run(base(&["--tls-fingerprint", &fp, "--name", "fw1"]));
    out.expect_code(0);
    assert!(out.stdout.contains("\"fw1\""), "{}", out.stdout);
    check_uses_them(home.path(), &fp);
    // Again: the config exists, --force is needed.
    run(base(&["--tls-fingerprint", &fp]))
        .expect_code(2)
        .failure_mentions(&["exists", "--force"]);
    run(base(&["--pin-presented-certificate", "--force"])).expect_code(0);
    check_uses_them(home.path(), &fp);
}

#[test]
fn init_to_an_explicit_config_puts_it_in_the_snippets() {
    let sim = Sim::start(|_| {});
    let home = tempfile::tempdir().expect("home");
    let path = home.path().join("fw").join("c.toml");
    let mut c = command(home.path());
    c.arg("--config")
        .arg(&path)
        .args(["init", "--non-interactive", "--url", &sim.sim.base_url()])
        .args(["--api-key", sim.sim.api_key(), "--ca-file"])
        .arg(sim.sim.ca_file())
        .env("OPNSENSE_API_SECRET", SECRET);
    let out = run(c);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains(&format!("\"OPNSENSE_CONFIG\": \"{}\"", path.display())),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(&path).expect("written");
    assert!(text.contains("ca_file = "), "{text}");
    assert!(path.with_file_name("api-secret").is_file());
}

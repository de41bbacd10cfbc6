//! Setting the server up, through the real binary: `OPNSENSE_API_KEY_FILE` (the `apikey.txt`
//! OPNsense downloads), `OPNSENSE_TLS_FINGERPRINT` against the simulator's own certificate,
//! `check` printing the fingerprint it saw, `config` with sources and masked secrets,
//! `--version` and `completions`.

mod common;

use common::{SECRET, Sim, apikey_txt, command, home, run, write_default_config};
use serde_json::Value;

#[test]
fn api_key_file_in_apikey_txt_format_and_a_pin_pass_check() {
    let sim = Sim::start(|_| {});
    let home = home();
    let keys = apikey_txt(home.path(), &sim);
    let fp = sim.fingerprint();
    let mut c = command(home.path());
    c.arg("check")
        .env("OPNSENSE_URL", sim.sim.base_url())
        .env("OPNSENSE_API_KEY_FILE", &keys)
        .env("OPNSENSE_TLS_FINGERPRINT", &fp);
    common::assert_check_pinned(&run(c), &fp);
}

#[test]
fn api_key_file_with_the_key_alone_takes_the_secret_from_elsewhere() {
    let sim = Sim::start(|_| {});
    let home = home();
    let key = home.path().join("key");
    std::fs::write(&key, format!("{}\n", sim.sim.api_key())).expect("write");
    let mut c = command(home.path());
    c.arg("check")
        .env("OPNSENSE_URL", sim.sim.base_url())
        .env("OPNSENSE_API_KEY_FILE", &key)
        .env("OPNSENSE_API_SECRET", SECRET)
        .env("OPNSENSE_CA_FILE", sim.sim.ca_file());
    run(c).expect_code(0);
}

#[test]
fn untrusted_certificate_check_fails_naming_the_fingerprint_to_pin() {
    let sim = Sim::start(|_| {});
    let home = home();
    let fp = sim.fingerprint();
    let mut c = command(home.path());
    c.arg("check")
        .env("OPNSENSE_URL", sim.sim.base_url())
        .env("OPNSENSE_API_KEY", sim.sim.api_key())
        .env("OPNSENSE_API_SECRET", SECRET);
    run(c)
        .expect_code(3)
        .failure_mentions(&["TLS handshake", &fp, "OPNSENSE_TLS_FINGERPRINT"]);
}

#[test]
fn wrong_pin_exits_3_naming_seen_and_expected() {
    let sim = Sim::start(|_| {});
    let home = home();
    let fp = sim.fingerprint();
    let wrong = format!("sha256:{}", "00".repeat(32));
    let mut c = command(home.path());
    c.arg("check")
        .env("OPNSENSE_URL", sim.sim.base_url())
        .env("OPNSENSE_API_KEY", sim.sim.api_key())
        .env("OPNSENSE_API_SECRET", SECRET)
        .env("OPNSENSE_TLS_FINGERPRINT", &wrong);
    run(c)
        .expect_code(3)
        .failure_mentions(&["does not match the pin", &fp, &wrong]);
}

#[test]
fn bad_fingerprint_and_conflicting_key_settings_exit_2() {
    let home = home();
    let mut c = command(home.path());
    c.arg("check")
        .env("OPNSENSE_TLS_FINGERPRINT", "sha256:abcd");
    run(c).expect_code(2).one_line(&[
        "tls_fingerprint",
        "OPNSENSE_TLS_FINGERPRINT",
        "64 hex digits",
    ]);
    let keys = home.path().join("apikey.txt");
    std::fs::write(&keys, format!("key=k\nsecret={SECRET}\n")).expect("write");
    let mut c = command(home.path());
    c.arg("check")
        .env("OPNSENSE_API_KEY_FILE", &keys)
        .env("OPNSENSE_API_SECRET", "other");
    run(c)
        .expect_code(2)
        .one_line(&["api_key_file", "holds the secret too"]);
}

#[test]
fn config_shows_each_value_with_its_source_and_never_a_secret() {
    let home = home();
    let keys = home.path().join("apikey.txt");
    std::fs::write(&keys, format!("key=the-key-9d1e\nsecret={SECRET}\n")).expect("write");
    let file = write_default_config(
        home.path(),
        "url = \"https://fw.example\"\nconnect_timeout = 7\n",
    );
    let mut c = command(home.path());
    c.args(["--read-only", "config"])
        .env("OPNSENSE_API_KEY", "inline-key-4c2a")
        .env("OPNSENSE_HTTP_TOKEN", "token-value-0123456789")
        .env("OPNSENSE_API_SECRET", SECRET);
    let out = run(c);
    out.expect_code(0);
    let line = |key: &str| {
        out.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")) || l.starts_with(&format!("# {key} = ")))
            .unwrap_or_else(|| panic!("no line for {key}: {}", out.stdout))
            .to_owned()
    };
    let file_source = format!("config file {}", file.display());
    assert!(line("url").contains("\"https://fw.example\""));
    assert!(line("url").ends_with(&file_source), "{}", line("url"));
    assert!(line("connect_timeout").contains("7.0") || line("connect_timeout").contains("= 7"));
    assert!(line("connect_timeout").ends_with(&file_source));
    assert!(
        line("read_timeout").ends_with("# default"),
        "{}",
        line("read_timeout")
    );
    assert!(line("read_only").starts_with("read_only = true"));
    assert!(line("read_only").ends_with("# command-line flag"));
    assert!(line("api_secret").ends_with("# environment variable OPNSENSE_API_SECRET"));
    assert!(line("api_key").contains("********"));
    for secret in [SECRET, "inline-key-4c2a", "token-value-0123456789"] {
        out.no_secret(secret);
    }
    // A key file shows its path only.
    let mut c = command(home.path());
    c.arg("config").env("OPNSENSE_API_KEY_FILE", &keys);
    let out = run(c);
    out.expect_code(0).no_secret("the-key-9d1e");
    assert!(
        out.stdout.contains(&keys.display().to_string()),
        "{}",
        out.stdout
    );
}

#[test]
fn config_with_a_bad_value_prints_then_exits_2() {
    let home = home();
    let mut c = command(home.path());
    c.arg("config").env("OPNSENSE_CONFIRM_TIMEOUT", "5");
    let out = run(c);
    out.expect_code(2);
    assert!(out.stdout.contains("confirm_timeout = 5"), "{}", out.stdout);
    out.failure_mentions(&["confirm_timeout", "OPNSENSE_CONFIRM_TIMEOUT"]);
}

#[test]
fn version_names_the_commit_and_the_build_date() {
    let home = home();
    let mut c = command(home.path());
    c.arg("--version");
    let out = run(c);
    out.expect_code(0);
    let text = out.stdout.trim();
    assert!(
        text.starts_with(&format!(
            "opnsense-mcp {} (commit ",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    let date = text
        .rsplit_once("built ")
        .map(|(_, d)| d.trim_end_matches(')'))
        .expect("a build date");
    let well_formed = date == "unknown"
        || (date.len() == 10
            && date.chars().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            }));
    assert!(well_formed, "{text}");
}

#[test]
fn completions_for_bash_zsh_and_fish_name_the_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let home = home();
        let mut c = command(home.path());
        c.args(["completions", shell]);
        let out = run(c);
        out.expect_code(0);
        for word in ["init", "check", "serve", "tls-fingerprint"] {
            assert!(out.stdout.contains(word), "{shell}: no {word}");
        }
    }
    let home = home();
    let mut c = command(home.path());
    c.args(["completions", "tcsh"]);
    assert_eq!(run(c).code, Some(2), "an unknown shell is a usage error");
}

#[test]
fn server_json_describes_this_server() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("server.json")).expect("server.json");
    let v: Value = serde_json::from_str(&text).expect("server.json is JSON");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(v["version"], version);
    // Every variable it names is a configuration key (`config` lists them all).
    let home = home();
    let mut c = command(home.path());
    c.arg("config");
    let out = run(c);
    out.expect_code(0);
    let keys: Vec<String> = out
        .stdout
        .lines()
        .filter_map(|l| l.trim_start_matches("# ").split_once(" = "))
        .map(|(k, _)| format!("OPNSENSE_{}", k.to_ascii_uppercase()))
        .collect();
    let pyproject = std::fs::read_to_string(root.join("crates/opnsense-mcp/pyproject.toml"))
        .expect("pyproject");
    let packages = v["packages"].as_array().expect("packages");
    assert!(!packages.is_empty());
    for p in packages {
        assert_eq!(p["version"], version, "{p}");
        for var in p["environmentVariables"].as_array().expect("variables") {
            let name = var["name"].as_str().expect("name");
            assert!(
                keys.iter().any(|k| k == name),
                "{name} is no configuration key"
            );
        }
        match p["registryType"].as_str() {
            Some("pypi") => {
                let id = p["identifier"].as_str().expect("identifier");
                assert!(pyproject.contains(&format!("name = \"{id}\"")), "{id}");
                assert_eq!(p["transport"]["type"], "stdio");
                assert_eq!(p["packageArguments"][0]["value"], "serve");
            }
            Some("oci") => {
                assert_eq!(p["transport"]["type"], "streamable-http");
                let url = p["transport"]["url"].as_str().expect("url");
                assert!(
                    url.ends_with(":8000/mcp"),
                    "the image's port and path: {url}"
                );
            }
            other => panic!("unexpected registry type {other:?}"),
        }
    }
}

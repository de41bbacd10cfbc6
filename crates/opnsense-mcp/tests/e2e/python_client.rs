//! The official Python MCP SDK (`mcp`, pinned in `crates/opnsense-mcp/tests/python/requirements.txt`)
//! drives the built binary over stdio and over streamable HTTP, each with `mode="auto"` and
//! `mode="legacy"`. The venv is created once under the target directory and reused while the
//! requirements file is unchanged. Opt-in (`OPNSENSE_E2E=1`, as `cargo xtask ci` runs it): it
//! needs `python3` and the Python package index; once on, without `python3` the test fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{
    HTTP_TOKEN, HttpServer, assert_catalogue, assert_names_destination, assert_not_found,
    assert_rule_listing, empty_config_home, external_clients_enabled, last_json,
    opnsense_mcp_binary, pinned_venv, run_bounded, server_env, start_simulator,
};
use serde_json::{Value, json};
use tokio::process::Command;

/// Bound on the whole client script (four sessions).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("python")
}

fn structured<'a>(run: &'a Value, step: &str) -> &'a Value {
    let name = run["name"].as_str().unwrap_or("?");
    let result = &run[step];
    assert_eq!(
        result["is_error"], false,
        "python {name}: {step} failed: {}",
        result["text"]
    );
    let s = &result["structured"];
    assert!(
        s.is_object(),
        "python {name}: {step} has no structured content: {result}"
    );
    s
}

fn error_text(run: &Value, step: &str) -> String {
    let name = run["name"].as_str().unwrap_or("?");
    let result = &run[step];
    assert_eq!(
        result["is_error"], true,
        "python {name}: {step} should have failed: {result}"
    );
    result["text"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_over_stdio_and_http() {
    if !external_clients_enabled("python3 (with venv) and the Python package index") {
        return;
    }
    let binary = opnsense_mcp_binary();
    let python = pinned_venv(
        "e2e-python",
        &python_dir().join("requirements.txt"),
        "the Python client test needs Python 3.10+ with the venv module (apt-get install python3-venv)",
    )
    .await
    .join("python");
    let sim = start_simulator().await;
    let server = HttpServer::start(&sim).await;

    let mut env: serde_json::Map<String, Value> = server_env(&sim)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    env.insert(
        "XDG_CONFIG_HOME".into(),
        Value::String(empty_config_home().display().to_string()),
    );
    let config = json!({
        "binary": binary,
        "args": ["serve", "--transport", "stdio"],
        "env": env,
        "http_url": server.url,
        "token": HTTP_TOKEN,
        "timeout": 60,
    });
    let dir = tempfile::tempdir().expect("temporary directory");
    let config_file = dir.path().join("client.json");
    std::fs::write(&config_file, config.to_string()).expect("write the client config");

    let mut cmd = Command::new(&python);
    cmd.arg(python_dir().join("client.py")).arg(&config_file);
    let (code, stdout, stderr) = run_bounded(
        cmd,
        SCRIPT_TIMEOUT,
        "crates/opnsense-mcp/tests/python/client.py",
    )
    .await;
    assert_eq!(
        code, 0,
        "client.py exited with {code}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let summary = last_json(&stdout).unwrap_or_else(|| {
        panic!("client.py printed no JSON summary\nstdout:\n{stdout}\nstderr:\n{stderr}")
    });
    assert_eq!(summary["mcp_version"], "2.3.0", "the pinned SDK is in use");

    let runs = summary["runs"].as_array().expect("runs");
    let names: Vec<&str> = runs.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(
        names,
        ["stdio-auto", "stdio-legacy", "http-auto", "http-legacy"]
    );
    let live = sim.live();
    for run in runs {
        let name = run["name"].as_str().unwrap_or("?");
        let client_name = format!("python {name}");
        if let Some(error) = run.get("error") {
            panic!(
                "{client_name} raised:\n{}\nserver stderr:\n{}",
                error.as_str().unwrap_or_default(),
                server.log.text()
            );
        }
        let protocol = run["protocol_version"].as_str().unwrap_or_default();
        if run["mode"] == "legacy" {
            assert!(
                protocol.starts_with("2025-"),
                "{client_name}: legacy mode negotiated {protocol}"
            );
        } else {
            assert!(!protocol.is_empty(), "{client_name}: no protocol version");
        }
        assert_eq!(run["server_name"], "opnsense-mcp", "{client_name}");
        let tools: Vec<Value> = run["tools"].as_array().cloned().unwrap_or_default();
        assert_catalogue(&client_name, &tools);

        assert_rule_listing(&client_name, structured(run, "list"));

        let staged = structured(run, "alias_add");
        let uuid = staged["uuid"].as_str().expect("uuid");
        assert_eq!(
            structured(run, "alias_apply")["status"],
            "pending",
            "{client_name}: an apply waits for confirmation"
        );
        assert_eq!(
            structured(run, "alias_confirm")["change"]["status"],
            "confirmed",
            "{client_name}: change_confirm keeps it"
        );
        let record = live
            .find(uuid)
            .unwrap_or_else(|| panic!("{client_name}: alias {uuid} is not live after apply"));
        assert_eq!(record["name"], run["alias_name"], "{client_name}");

        assert_names_destination(&client_name, &error_text(run, "invalid_rule"));
        assert_not_found(&client_name, &error_text(run, "unknown_uuid"));
    }
    eprintln!(
        "python protocol versions: {:?}",
        runs.iter()
            .map(|r| format!(
                "{}={}",
                r["name"].as_str().unwrap_or("?"),
                r["protocol_version"].as_str().unwrap_or("?")
            ))
            .collect::<Vec<_>>()
    );
    server.stop().await;
    sim.shutdown().await;
}

//! The MCP Inspector CLI (npm `@modelcontextprotocol/inspector`, pinned) drives the built
//! binary over stdio and over streamable HTTP with the bearer token. Opt-in (`OPNSENSE_E2E=1`,
//! as `cargo xtask ci` runs it): it needs Node with `npx` and the npm registry; once on,
//! without `npx` the test fails.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::{
    HTTP_TOKEN, HttpServer, assert_catalogue, assert_names_destination, assert_rule_listing,
    empty_config_home, external_clients_enabled, last_json, opnsense_mcp_binary, require_program,
    run_bounded, server_env, start_simulator,
};
use opnsense_sim::Simulator;
use serde_json::{Value, json};
use tokio::process::Command;

/// The pinned Inspector release.
const INSPECTOR: &str = "@modelcontextprotocol/inspector@2.12.0";
/// Bound on one Inspector run; the first one may download the package.
const FIRST_RUN_TIMEOUT: Duration = Duration::from_secs(300);
/// Bound on later runs (package cached).
const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// Exit code of the Inspector when the tool returned `isError: true`.
const EXIT_TOOL_IS_ERROR: i32 = 5;
/// Exit code of the Inspector when the server wants authentication.
const EXIT_AUTH_REQUIRED: i32 = 3;
/// Exit code of `--strict` when a schema-portability finding has error severity.
const EXIT_STRICT_FINDINGS: i32 = 6;

struct Inspector {
    npx: PathBuf,
    /// Keeps the Inspector's catalog and client config out of `~/.mcp-inspector`.
    state: tempfile::TempDir,
    first: bool,
}

/// What a target is: the stdio command line or the HTTP URL with its header.
enum Target<'a> {
    Stdio(&'a Simulator),
    Http {
        url: &'a str,
        token: Option<&'a str>,
    },
}

impl Inspector {
    fn new() -> Self {
        let npx = require_program(
            "npx",
            "the Inspector test needs Node.js with npm/npx (Node 20+) and access to the npm registry",
        );
        Self {
            npx,
            state: tempfile::tempdir().expect("temporary directory"),
            first: true,
        }
    }

    /// Runs the Inspector CLI; returns its exit code and the JSON it printed on stdout.
    /// `tools/call` of `tool`; `args` are its `--tool-arg k=v` or `--tool-args-json {...}`.
    async fn call(
        &mut self,
        target: &Target<'_>,
        tool: &str,
        args: &[&str],
    ) -> (i32, Value, String) {
        let mut method_args = vec!["--method", "tools/call", "--tool-name", tool];
        method_args.extend_from_slice(args);
        self.run(target, &method_args).await
    }

    async fn run(&mut self, target: &Target<'_>, method_args: &[&str]) -> (i32, Value, String) {
        let mut cmd = Command::new(&self.npx);
        cmd.args([
            "-y",
            INSPECTOR,
            "--cli",
            "--format",
            "json",
            "--stored-auth-only",
        ]);
        cmd.env("MCP_CATALOG_PATH", self.state.path().join("catalog.json"))
            .env(
                "MCP_CLIENT_CONFIG_PATH",
                self.state.path().join("client.json"),
            )
            .env("npm_config_update_notifier", "false")
            .env("npm_config_fund", "false");
        match target {
            Target::Stdio(sim) => {
                let mut env = server_env(sim);
                env.push((
                    "XDG_CONFIG_HOME".into(),
                    empty_config_home().display().to_string(),
                ));
                for (k, v) in env {
                    cmd.arg("-e").arg(format!("{k}={v}"));
                }
                cmd.arg(opnsense_mcp_binary())
                    .args(["serve", "--transport", "stdio"]);
            }
            Target::Http { url, token } => {
                cmd.arg(url);
                if let Some(token) = token {
                    cmd.arg("--header")
                        .arg(format!("Authorization: Bearer {token}"));
                }
            }
        }
        cmd.args(method_args);
        let timeout = if self.first {
            FIRST_RUN_TIMEOUT
        } else {
            RUN_TIMEOUT
        };
        self.first = false;
        let what = format!("npx {INSPECTOR} --cli {}", method_args.join(" "));
        let (code, stdout, stderr) = run_bounded(cmd, timeout, &what).await;
        // Results go to stdout, the error envelope (`{"error": {...}}`) to stderr.
        let json = last_json(&stdout)
            .or_else(|| last_json(&stderr))
            .unwrap_or_else(|| {
                panic!("{what} printed no JSON (exit {code})\nstdout:\n{stdout}\nstderr:\n{stderr}")
            });
        (code, json, stderr)
    }
}

fn text_of(result: &Value) -> String {
    result["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks a `tools/list --strict` answer: the catalogue rules, and no error-severity
/// portability finding in any input schema. Output-schema findings are printed only.
fn check_tools_list(client_name: &str, code: i32, out: &Value, stderr: &str) {
    assert!(
        code == 0 || code == EXIT_STRICT_FINDINGS,
        "{client_name}: tools/list exited {code}: {out}\n{stderr}"
    );
    let tools = out["result"]["tools"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_catalogue(client_name, &tools);
    let mut input_errors = Vec::new();
    let mut output_errors = Vec::new();
    for tool in out["schemaFindings"].as_array().into_iter().flatten() {
        let name = tool["toolName"].as_str().unwrap_or("?");
        for f in tool["findings"].as_array().into_iter().flatten() {
            if f["severity"] != "error" {
                continue;
            }
            let line = format!(
                "{name} {}.{}: {} ({})",
                f["schema"].as_str().unwrap_or("?"),
                f["path"].as_str().unwrap_or("?"),
                f["rule"].as_str().unwrap_or("?"),
                f["issue"].as_str().unwrap_or("?")
            );
            if f["schema"] == "inputSchema" {
                input_errors.push(line);
            } else {
                output_errors.push(line);
            }
        }
    }
    if !output_errors.is_empty() {
        eprintln!(
            "{client_name}: {} output schema portability error(s) (not gated), first: {}",
            output_errors.len(),
            output_errors[0]
        );
    }
    assert!(
        input_errors.is_empty(),
        "{client_name}: input schema portability errors (Inspector --strict):\n{}",
        input_errors.join("\n")
    );
}

fn check_rule_list(client_name: &str, code: i32, out: &Value, stderr: &str) {
    assert_eq!(
        code, 0,
        "{client_name}: tools/call exited {code}: {out}\n{stderr}"
    );
    let result = &out["result"];
    assert_ne!(
        result["isError"],
        true,
        "{client_name}: {}",
        text_of(result)
    );
    let structured = &result["structuredContent"];
    assert_rule_listing(client_name, structured);
    assert!(
        structured["returned"].as_u64().is_some_and(|n| n <= 5),
        "{client_name}: row_count=5 not honoured: {structured}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspector_cli_over_stdio_and_http() {
    if !external_clients_enabled("Node.js with npx and the npm registry") {
        return;
    }
    let mut inspector = Inspector::new();
    let sim = start_simulator().await;
    let stdio = Target::Stdio(&sim);

    // stdio: catalogue, a read, a staged alias made live, an upstream validation failure.
    let (code, out, err) = inspector
        .run(&stdio, &["--method", "tools/list", "--strict"])
        .await;
    check_tools_list("inspector stdio", code, &out, &err);

    let (code, out, err) = inspector
        .call(&stdio, "firewall_rule_list", &["--tool-arg", "row_count=5"])
        .await;
    check_rule_list("inspector stdio", code, &out, &err);

    let alias = json!({"alias": {
        "name": "e2e_inspector",
        "type": "network",
        "content": ["10.66.0.0/16"],
        "description": "e2e inspector"
    }})
    .to_string();
    let (code, out, err) = inspector
        .call(&stdio, "firewall_alias_add", &["--tool-args-json", &alias])
        .await;
    assert_eq!(code, 0, "firewall_alias_add: {out}\n{err}");
    let uuid = out["result"]["structuredContent"]["uuid"]
        .as_str()
        .unwrap_or_else(|| panic!("firewall_alias_add returned no uuid: {out}"))
        .to_owned();
    assert!(sim.staged().find(&uuid).is_some(), "alias staged");
    assert!(sim.live().find(&uuid).is_none(), "alias not yet live");
    let (code, out, err) = inspector
        .call(
            &stdio,
            "firewall_alias_apply",
            &[
                // One process per call: the change must be confirmed within the call, or the
                // server's exit reverts it.
                "--tool-args-json",
                r#"{"confirm_timeout_s": 0}"#,
            ],
        )
        .await;
    assert_eq!(code, 0, "firewall_alias_apply: {out}\n{err}");
    assert_eq!(
        out["result"]["structuredContent"]["status"], "confirmed",
        "{out}"
    );
    assert!(sim.live().find(&uuid).is_some(), "alias live after apply");

    let invalid = crate::support::invalid_rule_args().to_string();
    let (code, out, err) = inspector
        .call(&stdio, "firewall_rule_add", &["--tool-args-json", &invalid])
        .await;
    assert_eq!(
        code, EXIT_TOOL_IS_ERROR,
        "an upstream validation failure should be isError: {out}\n{err}"
    );
    assert_eq!(out["result"]["isError"], true, "{out}");
    assert_names_destination("inspector stdio", &text_of(&out["result"]));

    // HTTP with the bearer token.
    let server = HttpServer::start(&sim).await;
    let http = Target::Http {
        url: &server.url,
        token: Some(HTTP_TOKEN),
    };
    let (code, out, err) = inspector
        .run(&http, &["--method", "tools/list", "--strict"])
        .await;
    check_tools_list("inspector http", code, &out, &err);
    let (code, out, err) = inspector
        .call(&http, "firewall_rule_list", &["--tool-arg", "row_count=5"])
        .await;
    check_rule_list("inspector http", code, &out, &err);

    // HTTP without the token: refused, never an interactive OAuth prompt.
    let anonymous = Target::Http {
        url: &server.url,
        token: None,
    };
    let (code, out, _) = inspector.run(&anonymous, &["--method", "tools/list"]).await;
    assert_eq!(
        code, EXIT_AUTH_REQUIRED,
        "no token should be refused: {out}"
    );
    assert_eq!(out["error"]["code"], "auth_required", "{out}");

    server.stop().await;
    sim.shutdown().await;
}

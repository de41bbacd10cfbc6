//! The real binary, end to end: exit codes and their one stderr line, `check`, `tools`, `call`,
//! `demo`, and a stdio session whose stdout carries nothing but MCP. Every run has an empty
//! environment and a temporary `HOME`; the simulator stands in for OPNsense.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use common::{
    SECRET, Sim, command, free_port, home, initialize_request, run, wait, write_default_config,
};
use opnsense_sim::LimitedKey;
use serde_json::Value;

// ---- exit 2: configuration -------------------------------------------------------------

#[test]
fn unknown_config_key_exits_2_naming_it() {
    let home = home();
    let path = write_default_config(
        home.path(),
        "url = \"https://fw.example\"\nverfy_tls = true\n",
    );
    let mut c = command(home.path());
    c.arg("check");
    run(c)
        .expect_code(2)
        .one_line(&["verfy_tls", &path.display().to_string()]);
}

#[test]
fn verify_tls_string_exits_2() {
    let home = home();
    write_default_config(home.path(), "verify_tls = \"false\"\n");
    let mut c = command(home.path());
    c.arg("check");
    run(c)
        .expect_code(2)
        .one_line(&["verify_tls", "expected a boolean"]);
}

#[test]
fn http_url_exits_2() {
    let home = home();
    let mut c = command(home.path());
    c.arg("check")
        .env("OPNSENSE_URL", "http://192.0.2.1")
        .env("OPNSENSE_API_KEY", "k")
        .env("OPNSENSE_API_SECRET", SECRET);
    run(c)
        .expect_code(2)
        .one_line(&["https://", "OPNSENSE_URL"]);
}

#[test]
fn missing_url_exits_2() {
    let home = home();
    let mut c = command(home.path());
    c.arg("check");
    run(c).expect_code(2).one_line(&["OPNSENSE_URL"]);
}

#[test]
fn missing_explicit_config_exits_2() {
    let home = home();
    let mut c = command(home.path());
    c.args(["--config", "/nonexistent/opnsense-mcp.toml", "check"]);
    run(c)
        .expect_code(2)
        .one_line(&["/nonexistent/opnsense-mcp.toml"]);
}

#[test]
fn non_loopback_bind_without_token_exits_2() {
    let home = home();
    let mut c = command(home.path());
    c.args(["serve", "--transport", "http", "--http-host", "0.0.0.0"])
        .env("OPNSENSE_URL", "https://192.0.2.1")
        .env("OPNSENSE_API_KEY", "k")
        .env("OPNSENSE_API_SECRET", SECRET);
    run(c)
        .expect_code(2)
        .one_line(&["0.0.0.0", "OPNSENSE_HTTP_TOKEN"]);
}

#[test]
fn unknown_transport_exits_2() {
    let home = home();
    let mut c = command(home.path());
    c.arg("check").env("OPNSENSE_TRANSPORT", "sse");
    run(c)
        .expect_code(2)
        .one_line(&["sse", "OPNSENSE_TRANSPORT"]);
}

#[test]
fn call_with_bad_json_exits_2() {
    let home = home();
    for args in ["{not json", "[1, 2]"] {
        let mut c = command(home.path());
        c.args(["call", "system_status", args]);
        run(c).expect_code(2).one_line(&["JSON"]);
    }
}

// ---- exit 3: OPNsense unreachable or refusing -----------------------------------------

#[test]
fn wrong_secret_exits_3_mentioning_key_and_secret() {
    let sim = Sim::start(|_| {});
    let home = home();
    let mut c = command(home.path());
    c.arg("check")
        .envs(sim.env())
        .env("OPNSENSE_API_SECRET", "wrong-secret-4c1d");
    run(c)
        .expect_code(3)
        .no_secret("wrong-secret-4c1d")
        .failure_mentions(&["401", "key", "secret"]);
}

#[test]
fn untrusted_certificate_exits_3_mentioning_ca_file() {
    let sim = Sim::start(|_| {});
    let home = home();
    let mut c = command(home.path());
    c.arg("check")
        .envs(sim.env())
        .env_remove("OPNSENSE_CA_FILE");
    run(c)
        .expect_code(3)
        .failure_mentions(&["TLS", "OPNSENSE_CA_FILE"]);
}

#[test]
fn nothing_listening_exits_3() {
    let home = home();
    let mut c = command(home.path());
    c.arg("check")
        .env("OPNSENSE_URL", format!("https://127.0.0.1:{}", free_port()))
        .env("OPNSENSE_API_KEY", "k")
        .env("OPNSENSE_API_SECRET", SECRET)
        .env("OPNSENSE_CONNECT_TIMEOUT", "5");
    run(c)
        .expect_code(3)
        .failure_mentions(&["cannot connect", "127.0.0.1"]);
}

#[test]
fn missing_privilege_exits_3_mentioning_privileges() {
    let sim = Sim::start(|c| {
        c.limited_key = Some(LimitedKey {
            key: "limited-key".into(),
            secret: "limited-secret-93be".into(),
            allowed_prefixes: vec!["/api/core/firmware/".into()],
        });
    });
    let home = home();
    let mut c = command(home.path());
    c.arg("check")
        .envs(sim.env())
        .env("OPNSENSE_API_KEY", "limited-key")
        .env("OPNSENSE_API_SECRET", "limited-secret-93be");
    run(c)
        .expect_code(3)
        .no_secret("limited-secret-93be")
        .failure_mentions(&["403", "privilege"]);
}

#[test]
fn serve_probes_at_startup_and_no_probe_skips_it() {
    let home = home();
    let url = format!("https://127.0.0.1:{}", free_port());
    let mut c = command(home.path());
    c.arg("serve")
        .env("OPNSENSE_URL", &url)
        .env("OPNSENSE_API_KEY", "k")
        .env("OPNSENSE_API_SECRET", SECRET);
    run(c)
        .expect_code(3)
        .failure_mentions(&["startup check", "cannot connect"]);
    // With --no-probe the server starts; stdin is empty, so the session ends at once.
    let mut c = command(home.path());
    c.args(["serve", "--no-probe"])
        .env("OPNSENSE_URL", &url)
        .env("OPNSENSE_API_KEY", "k")
        .env("OPNSENSE_API_SECRET", SECRET);
    let out = run(c);
    assert!(
        !out.stderr.contains("startup check"),
        "no probe expected: {out:#?}"
    );
    assert!(out.stdout.is_empty(), "{out:#?}");
}

// ---- exit 0: check, tools, call, demo ----------------------------------------------------

#[test]
fn check_prints_the_firmware_version() {
    let sim = Sim::start(|_| {});
    let home = home();
    let mut c = command(home.path());
    c.arg("check").envs(sim.env());
    let out = run(c);
    let v = out.expect_code(0).json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["firmware"], "26.1.10");
    assert!(out.failure_lines().is_empty(), "{out:#?}");
}

#[test]
fn config_file_and_flags_reach_the_firewall() {
    // The file holds a wrong URL, the flag the right one: the flag wins.
    let sim = Sim::start(|_| {});
    let home = home();
    write_default_config(
        home.path(),
        &format!(
            "url = \"https://127.0.0.1:{}\"\napi_key = \"{}\"\napi_secret = \"{}\"\nca_file = \"{}\"\n",
            free_port(),
            sim.sim.api_key(),
            SECRET,
            sim.sim.ca_file().display()
        ),
    );
    let mut c = command(home.path());
    c.args(["--url", &sim.sim.base_url(), "check"]);
    let out = run(c);
    out.expect_code(0);
    assert!(out.stdout.contains("26.1.10"), "{out:#?}");
}

#[test]
fn tools_prints_the_catalogue_without_network() {
    let home = home();
    let mut c = command(home.path());
    c.arg("tools");
    let out = run(c);
    out.expect_code(0);
    let v = out.json();
    let tools = v["tools"].as_array().expect("tools array");
    assert!(tools.len() >= 43, "{} tools", tools.len());
    for t in tools {
        assert!(t["name"].is_string() && t["inputSchema"].is_object(), "{t}");
    }
    assert!(out.stderr.is_empty(), "{out:#?}");

    let mut c = command(home.path());
    c.args(["--read-only", "tools"]);
    let out = run(c);
    out.expect_code(0);
    let v = out.json();
    let read_only = v["tools"].as_array().expect("tools array");
    assert!(!read_only.is_empty() && read_only.len() < tools.len());
    for t in read_only {
        assert_eq!(t["annotations"]["readOnlyHint"], true, "{t}");
    }
}

#[test]
fn call_system_status_prints_structured_content() {
    let sim = Sim::start(|_| {});
    let home = home();
    let mut c = command(home.path());
    c.args(["call", "system_status", "{}"]).envs(sim.env());
    let out = run(c);
    out.expect_code(0);
    let v = out.json();
    assert!(v["structuredContent"].is_object(), "{v}");
    assert_ne!(v["isError"], true, "{v}");
    assert!(
        out.stderr.contains("opnsense_api::audit") || out.stderr.contains("\"outcome\""),
        "audit line expected: {out:#?}"
    );
}

#[test]
fn call_failing_tool_exits_1_with_the_error_printed() {
    let sim = Sim::start(|_| {});
    let home = home();
    let mut c = command(home.path());
    c.args(["call", "firewall_rule_get", r#"{"uuid":"not-a-uuid"}"#])
        .envs(sim.env());
    let out = run(c);
    out.expect_code(1);
    let v = out.json();
    assert_eq!(v["isError"], true, "{v}");
}

#[test]
fn max_response_bytes_reaches_the_client() {
    let sim = Sim::start(|_| {});
    let home = home();
    // The whole rule list is well over 1 KiB; the status answer fits.
    let mut c = command(home.path());
    c.args(["call", "firewall_rule_list", r#"{"row_count":-1}"#])
        .envs(sim.env())
        .env("OPNSENSE_MAX_RESPONSE_BYTES", "1024");
    let out = run(c);
    out.expect_code(1);
    let v = out.json();
    assert_eq!(v["isError"], true, "{v}");
    assert!(v.to_string().contains("larger than 1024 bytes"), "{v}");
    // The same call without the limit succeeds.
    let mut c = command(home.path());
    c.args(["call", "firewall_rule_list", r#"{"row_count":-1}"#])
        .envs(sim.env());
    run(c).expect_code(0);
}

#[test]
fn call_timeout_reaches_the_client() {
    let sim = Sim::start(|_| {});
    // Every answer takes longer than the overall limit (the read limit stays at 60 s).
    sim.sim.faults().set_latency(Duration::from_secs(5));
    let home = home();
    let mut c = command(home.path());
    c.args(["call", "system_status", "{}"])
        .envs(sim.env())
        .env("OPNSENSE_CALL_TIMEOUT", "1");
    let out = run(c);
    out.expect_code(1);
    let v = out.json();
    assert_eq!(v["isError"], true, "{v}");
    assert!(
        v.to_string().contains("the overall limit of one call"),
        "{v}"
    );
}

#[cfg(feature = "simulator")]
#[test]
fn demo_runs_every_step() {
    let home = home();
    let mut c = command(home.path());
    c.arg("demo");
    let out = run(c);
    out.expect_code(0);
    for step in 1..=9 {
        assert!(
            out.stdout.contains(&format!("\n{step}. ")),
            "step {step} missing: {}",
            out.stdout
        );
    }
    assert!(out.stdout.contains("tools/list:"), "{}", out.stdout);
}

/// A build without the `simulator` feature (`cargo test -p opnsense-mcp --no-default-features`)
/// refuses `demo` and `serve --simulator` with exit 2 and says why.
#[cfg(not(feature = "simulator"))]
#[test]
fn without_the_simulator_feature_demo_and_serve_simulator_say_so() {
    for args in [&["demo"][..], &["serve", "--simulator"][..]] {
        let home = home();
        let mut c = command(home.path());
        c.args(args);
        run(c)
            .expect_code(2)
            .one_line(&["built without", "simulator", &args.join(" ")]);
    }
}

// ---- exit 4: bind ---------------------------------------------------------------------------

#[test]
fn port_in_use_exits_4() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let home = home();
    let mut c = command(home.path());
    c.args([
        "serve",
        "--transport",
        "http",
        "--http-port",
        &port.to_string(),
        "--no-probe",
    ])
    .env("OPNSENSE_URL", "https://192.0.2.1")
    .env("OPNSENSE_API_KEY", "k")
    .env("OPNSENSE_API_SECRET", SECRET);
    run(c)
        .expect_code(4)
        .one_line(&["cannot listen", &port.to_string()]);
    drop(taken);
}

// ---- stdio: stdout carries only MCP ---------------------------------------------------------

#[test]
fn stdio_stdout_is_only_mcp_and_audit_goes_to_stderr() {
    let sim = Sim::start(|_| {});
    let home = home();
    let mut c = command(home.path());
    c.arg("serve").envs(sim.env()).stdin(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let send = |stdin: &mut std::process::ChildStdin, v: Value| {
        writeln!(stdin, "{v}").expect("write stdin");
        stdin.flush().expect("flush");
    };
    let mut lines = Vec::new();
    let wait_for = |id: u64, lines: &mut Vec<String>| -> Value {
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|e| panic!("no answer to request {id}: {e}"));
            lines.push(line.clone());
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}"));
            if v["id"] == id {
                return v;
            }
        }
    };
    send(&mut stdin, initialize_request("2025-06-18", "cli-test"));
    let init = wait_for(1, &mut lines);
    assert_eq!(
        init["result"]["serverInfo"]["name"], "opnsense-mcp",
        "{init}"
    );
    send(
        &mut stdin,
        serde_json::json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
    );
    send(
        &mut stdin,
        serde_json::json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}),
    );
    let list = wait_for(2, &mut lines);
    assert!(
        list["result"]["tools"].as_array().map_or(0, Vec::len) >= 43,
        "{list}"
    );
    send(
        &mut stdin,
        serde_json::json!({"jsonrpc":"2.0","id":3,"method":"tools/call",
            "params":{"name":"system_status","arguments":{}}}),
    );
    let call = wait_for(3, &mut lines);
    assert!(call["result"]["structuredContent"].is_object(), "{call}");
    // EOF on stdin ends the session.
    drop(stdin);
    let out = wait(child, Duration::from_secs(20));
    reader.join().expect("reader");
    lines.extend(rx.try_iter());
    assert_eq!(out.code, Some(0), "{out:#?}");
    assert!(out.stdout.is_empty(), "stdout was taken by the reader");
    for line in &lines {
        let v: Value = serde_json::from_str(line).expect("JSON-RPC");
        assert_eq!(v["jsonrpc"], "2.0", "{line}");
        assert!(!line.contains(SECRET));
    }
    out.no_secret(SECRET);
    let audits: Vec<Value> = out
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == "opnsense_api::audit")
        .collect();
    // The startup probe and the tools/call each made one call.
    assert!(audits.len() >= 2, "{}", out.stderr);
    for a in &audits {
        assert!(a["req_id"].is_string() && a["outcome"] == "success", "{a}");
    }
}

// ---- serve --simulator, driven by rmcp's own client over stdio -----------------------------

#[cfg(feature = "simulator")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_simulator_over_stdio_with_the_rmcp_client() {
    use rmcp::ServiceExt;
    use rmcp::transport::TokioChildProcess;
    use tokio::io::AsyncReadExt;
    use tokio::time::timeout;

    const WAIT: Duration = Duration::from_secs(20);
    let home = home();
    let mut cmd = tokio::process::Command::new(common::BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("RUST_LOG", "warn")
        .args(["serve", "--simulator"]);
    let started = std::time::Instant::now();
    let (transport, stderr) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = stderr.expect("stderr piped");
    let collect = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s).await;
        s
    });
    let client = timeout(WAIT, ().serve(transport))
        .await
        .expect("initialize in time")
        .expect("initialize");
    // Not asserted (no timing assertions): reported with --nocapture.
    eprintln!(
        "serve --simulator: initialize answered {:?} after spawn",
        started.elapsed()
    );
    common::list_tools_and_call_status(client, WAIT).await;
    let stderr = timeout(WAIT, collect)
        .await
        .expect("stderr closes when the server exits")
        .expect("task");
    assert!(stderr.contains("opnsense_api::audit"), "{stderr}");
}

// ---- audit lines name the tool call -----------------------------------------------------

#[test]
fn stdio_audit_lines_name_the_tool_and_the_request_id() {
    let sim = Sim::start(|_| {});
    let home = home();
    let mut c = command(home.path());
    // No startup probe: every OPNsense call below is made by a tool call.
    c.args(["serve", "--no-probe"])
        .envs(sim.env())
        .stdin(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<Value>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let v: Value = serde_json::from_str(&line).expect("stdout is JSON-RPC");
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    // Owns stdin: dropping it is the EOF that ends the session.
    let mut send = move |v: Value| {
        writeln!(stdin, "{v}").expect("write stdin");
        stdin.flush().expect("flush");
    };
    let wait_for = |id: &Value| loop {
        let v = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("no answer to request {id}: {e}"));
        if &v["id"] == id {
            return v;
        }
    };
    send(initialize_request("2025-06-18", "audit-test"));
    wait_for(&Value::from(1));
    send(serde_json::json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
    // Two calls with distinctive ids (a number and a string), one after the other.
    let calls = [
        (Value::from(41), "system_status", serde_json::json!({})),
        (
            Value::from("call-fw-7"),
            "firewall_rule_list",
            serde_json::json!({"row_count": 3}),
        ),
    ];
    for (id, tool, args) in &calls {
        send(
            serde_json::json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
            "params":{"name":tool,"arguments":args}}),
        );
        let answer = wait_for(id);
        assert!(
            answer["result"]["structuredContent"].is_object(),
            "{answer}"
        );
    }
    drop(send);
    let out = wait(child, Duration::from_secs(20));
    reader.join().expect("reader");
    assert_eq!(out.code, Some(0), "{out:#?}");
    out.no_secret(SECRET);
    let audits = common::audit_lines(&out.stderr);
    assert!(!audits.is_empty(), "{}", out.stderr);
    for a in &audits {
        let span = &a["span"];
        assert_eq!(
            span["name"], "tool",
            "audit line without its tool span: {a}"
        );
        assert_eq!(span["session"], "-", "no session over stdio: {a}");
        let known = calls.iter().any(|(id, tool, _)| {
            span["tool"] == *tool && span["mcp_request_id"] == id.to_string().trim_matches('"')
        });
        assert!(known, "audit line names no call that was made: {a}");
    }
    for (id, tool, _) in &calls {
        let id = id.to_string().trim_matches('"').to_owned();
        assert!(
            audits
                .iter()
                .any(|a| a["span"]["tool"] == *tool && a["span"]["mcp_request_id"] == id.as_str()),
            "no audit line for {tool} (request {id}): {}",
            out.stderr
        );
    }
}

// ---- call: changes -----------------------------------------------------------------------

/// Stages an alias with one `call` (a process of its own), returns its uuid.
fn stage_alias(sim: &Sim, home: &std::path::Path, name: &str) -> String {
    let mut c = command(home);
    c.args([
        "call",
        "firewall_alias_add",
        &format!(r#"{{"alias":{{"name":"{name}","type":"host","content":["10.1.2.3"]}}}}"#),
    ])
    .envs(sim.env());
    let out = run(c);
    out.expect_code(0);
    let v = out.json();
    v["structuredContent"]["uuid"]
        .as_str()
        .expect("uuid")
        .to_owned()
}

#[test]
fn call_apply_without_confirm_is_reverted_when_the_process_exits() {
    let sim = Sim::start(|_| {});
    let home = home();
    let uuid = stage_alias(&sim, home.path(), "cli_unconfirmed");
    let mut c = command(home.path());
    c.args(["call", "firewall_alias_apply", "{}"])
        .envs(sim.env());
    let out = run(c);
    out.expect_code(0);
    let v = out.json();
    assert_eq!(v["structuredContent"]["status"], "pending", "{v}");
    assert_eq!(v["reverted_at_exit"][0]["status"], "reverted", "{v}");
    assert!(out.stderr.contains("--confirm"), "{out:#?}");
    assert!(
        sim.sim.live().find(&uuid).is_none(),
        "the alias must not stay live"
    );
    assert!(sim.sim.staged().find(&uuid).is_none(), "nor staged");
}

#[test]
fn call_apply_with_confirm_keeps_the_change() {
    let sim = Sim::start(|_| {});
    let home = home();
    let uuid = stage_alias(&sim, home.path(), "cli_confirmed");
    let mut c = command(home.path());
    c.args(["call", "firewall_alias_apply", "{}", "--confirm"])
        .envs(sim.env());
    let out = run(c);
    out.expect_code(0);
    let v = out.json();
    assert_eq!(v["confirmed"]["change"]["status"], "confirmed", "{v}");
    assert!(v.get("reverted_at_exit").is_none(), "{v}");
    assert!(sim.sim.live().find(&uuid).is_some(), "the alias is live");
    // The journal in the temporary HOME remembers it for the next process.
    let mut c = command(home.path());
    c.args(["call", "change_list", "{}"]).envs(sim.env());
    let out = run(c);
    out.expect_code(0);
    let v = out.json();
    assert_eq!(
        v["structuredContent"]["changes"][0]["status"], "confirmed",
        "{v}"
    );
}

#[test]
fn read_only_call_refuses_writes_and_needs_no_journal() {
    let sim = Sim::start(|_| {});
    let home = home();
    let mut c = command(home.path());
    c.args(["--read-only", "call", "firewall_alias_apply", "{}"])
        .envs(sim.env());
    let out = run(c);
    out.expect_code(1);
    assert!(
        !home.path().join(".local/state/opnsense-mcp").exists(),
        "a read-only server opens no journal"
    );
}

#[test]
fn tools_honours_allow_and_deny_and_refuses_a_pattern_matching_nothing() {
    let home = home();
    let mut c = command(home.path());
    c.arg("tools")
        .env("OPNSENSE_TOOLS_ALLOW", "firewall_alias_*")
        .env("OPNSENSE_TOOLS_DENY", "*_delete");
    let out = run(c);
    out.expect_code(0);
    let names = out.tool_names();
    assert!(names.contains("firewall_alias_add"), "{names:?}");
    assert!(!names.contains("firewall_alias_delete"), "{names:?}");
    assert!(!names.contains("firewall_rule_add"), "{names:?}");
    let mut c = command(home.path());
    c.arg("tools").env("OPNSENSE_TOOLS_DENY", "servce_stop");
    run(c)
        .expect_code(2)
        .one_line(&["tools_deny", "servce_stop", "matches no tool"]);
    let mut c = command(home.path());
    c.arg("tools")
        .env("OPNSENSE_TOOLSETS", "dns,diagnostics")
        .env("OPNSENSE_READ_ONLY", "true");
    let out = run(c);
    out.expect_code(0);
    let names = out.tool_names();
    assert!(names.contains("dns_host_override_list"), "{names:?}");
    assert!(names.contains("firewall_log"), "{names:?}");
    assert!(!names.contains("dns_apply"), "read-only: {names:?}");
    assert!(!names.contains("firewall_rule_list"), "{names:?}");
    let mut c = command(home.path());
    c.arg("tools").env("OPNSENSE_TOOLSETS", "dns,firewal");
    run(c)
        .expect_code(2)
        .one_line(&["toolsets", "\"firewal\" is not a toolset"]);
}

// ---- the start runs behind initialize ----------------------------------------------------

/// What a [`HoldingProxy`] does with the connections it accepts.
enum Hold {
    /// Keeps them, unanswered.
    Holding(Vec<std::net::TcpStream>),
    /// Forwards them to the upstream.
    Forwarding,
    /// Closes them at once.
    Closing,
}

/// A TCP proxy on loopback in front of `upstream` that holds every connection it accepts (the
/// TLS handshake waits) until the test releases them to the upstream or closes them: a
/// firewall whose answer to the startup check arrives only when the test says so.
struct HoldingProxy {
    port: u16,
    upstream: std::net::SocketAddr,
    state: std::sync::Arc<(std::sync::Mutex<(Hold, usize)>, std::sync::Condvar)>,
}

impl HoldingProxy {
    fn start(upstream_url: &str) -> Self {
        let authority = upstream_url
            .trim_start_matches("https://")
            .split('/')
            .next()
            .expect("authority");
        let upstream: std::net::SocketAddr = authority.parse().expect("ip:port upstream");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = std::sync::Arc::new((
            std::sync::Mutex::new((Hold::Holding(Vec::new()), 0)),
            std::sync::Condvar::new(),
        ));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let (lock, seen) = &*shared;
                let mut s = lock.lock().expect("lock");
                s.1 += 1;
                match &mut s.0 {
                    Hold::Holding(held) => held.push(stream),
                    Hold::Forwarding => forward(stream, upstream),
                    Hold::Closing => drop(stream),
                }
                seen.notify_all();
            }
        });
        Self {
            port,
            upstream,
            state,
        }
    }

    /// The firewall URL that reaches the upstream through this proxy.
    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Waits until `n` connections came in (20 s at most).
    fn wait_for_connections(&self, n: usize) {
        let (lock, seen) = &*self.state;
        let s = lock.lock().expect("lock");
        let (s, waited) = seen
            .wait_timeout_while(s, Duration::from_secs(20), |s| s.1 < n)
            .expect("wait");
        assert!(!waited.timed_out(), "{} connection(s), {n} expected", s.1);
    }

    /// Whether a connection was let through yet.
    fn released(&self) -> bool {
        !matches!(self.state.0.lock().expect("lock").0, Hold::Holding(_))
    }

    /// Forwards the held connections, and every later one, to the upstream.
    fn release(&self) {
        let mut s = self.state.0.lock().expect("lock");
        if let Hold::Holding(held) = std::mem::replace(&mut s.0, Hold::Forwarding) {
            for stream in held {
                forward(stream, self.upstream);
            }
        }
    }

    /// Closes the held connections, and every later one, unanswered.
    fn close(&self) {
        let mut s = self.state.0.lock().expect("lock");
        s.0 = Hold::Closing;
    }
}

/// Copies bytes both ways between `client` and a new connection to `upstream`.
fn forward(client: std::net::TcpStream, upstream: std::net::SocketAddr) {
    let Ok(server) = std::net::TcpStream::connect(upstream) else {
        return;
    };
    let pipe = |mut from: std::net::TcpStream, mut to: std::net::TcpStream| {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(std::net::Shutdown::Write);
        });
    };
    if let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) {
        pipe(client, s2);
        pipe(server, c2);
    }
}

/// A stdio server whose stdout lines arrive on a channel.
struct StdioSession {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<Value>,
}

impl StdioSession {
    fn spawn(mut c: std::process::Command) -> Self {
        let mut child = c.stdin(Stdio::piped()).spawn().expect("spawn");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    fn send(&mut self, v: &Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{v}").expect("write stdin");
        stdin.flush().expect("flush");
    }

    fn initialize(&mut self) -> Value {
        self.send(&initialize_request("2025-06-18", "cli-test"));
        let init = self.answer(1).expect("an answer to initialize");
        self.send(&serde_json::json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
        init
    }

    /// The answer to request `id` (20 s at most); `None` when stdout closed first.
    fn answer(&mut self, id: u64) -> Option<Value> {
        loop {
            let line = match self.lines.recv_timeout(Duration::from_secs(20)) {
                Ok(line) => line,
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(e) => panic!("no answer to request {id}: {e}"),
            };
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line:?}"));
            self.seen.push(v.clone());
            if v["id"] == id {
                return Some(v);
            }
        }
    }
}

/// `serve` over stdio with a [`HoldingProxy`] in front of `sim` as its firewall, initialized
/// once its startup check has reached the proxy (which holds it unanswered): the proxy, the
/// session, the `initialize` answer (checked to name the server), and the home to keep.
fn serve_with_a_held_startup_check(
    sim: &Sim,
) -> (HoldingProxy, StdioSession, Value, tempfile::TempDir) {
    let proxy = HoldingProxy::start(&sim.sim.base_url());
    let home = home();
    let mut c = command(home.path());
    c.arg("serve")
        .envs(sim.env())
        .env("OPNSENSE_URL", proxy.url());
    let mut s = StdioSession::spawn(c);
    proxy.wait_for_connections(1);
    let init = s.initialize();
    assert_eq!(
        init["result"]["serverInfo"]["name"], "opnsense-mcp",
        "{init}"
    );
    (proxy, s, init, home)
}

#[test]
fn initialize_is_answered_while_the_startup_check_is_still_waiting_for_the_firewall() {
    let sim = Sim::start(|_| {});
    let (proxy, mut s, init, _home) = serve_with_a_held_startup_check(&sim);
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );
    assert!(
        !proxy.released(),
        "initialize was answered before the firewall could answer anything"
    );
    // Requests sent now wait for the start, then are served.
    s.send(&serde_json::json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}));
    s.send(
        &serde_json::json!({"jsonrpc":"2.0","id":3,"method":"tools/call",
        "params":{"name":"system_status","arguments":{}}}),
    );
    proxy.release();
    let list = s.answer(2).expect("tools/list answered");
    assert!(
        list["result"]["tools"].as_array().map_or(0, Vec::len) >= 43,
        "{list}"
    );
    let call = s.answer(3).expect("tools/call answered");
    assert!(call["result"]["structuredContent"].is_object(), "{call}");
    assert_ne!(call["result"]["isError"], true, "{call}");
    drop(s.stdin.take());
    let out = wait(s.child, Duration::from_secs(20));
    assert_eq!(out.code, Some(0), "{out:#?}");
    out.no_secret(SECRET);
}

#[test]
fn a_startup_check_failing_after_initialize_exits_3_with_its_message_and_serves_no_tool_call() {
    let sim = Sim::start(|_| {});
    let (proxy, mut s, _init, _home) = serve_with_a_held_startup_check(&sim);
    s.send(
        &serde_json::json!({"jsonrpc":"2.0","id":2,"method":"tools/call",
        "params":{"name":"system_status","arguments":{}}}),
    );
    // The firewall hangs up on the startup check: the server ends, stdin still open.
    proxy.close();
    let answer = s.answer(2);
    let child = s.child;
    let out = wait(child, Duration::from_secs(20));
    out.expect_code(3)
        .failure_mentions(&["OPNsense startup check failed"]);
    // The call was never served: at most an error naming the failed start.
    if let Some(answer) = answer {
        assert!(answer.get("result").is_none(), "{answer}");
        let why = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(why.contains("OPNsense startup check failed"), "{answer}");
    }
    assert!(
        s.seen
            .iter()
            .all(|v| v["id"] != 2 || v.get("result").is_none()),
        "{:?}",
        s.seen
    );
}

#[test]
fn over_http_initialize_is_answered_while_the_check_waits_and_its_failure_still_exits_3() {
    use rmcp::ServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

    const WAIT: Duration = Duration::from_secs(20);
    let sim = Sim::start(|_| {});
    let proxy = HoldingProxy::start(&sim.sim.base_url());
    let home = home();
    let mut c = command(home.path());
    c.args(["serve", "--transport", "http", "--http-port", "0"])
        .envs(sim.env())
        .env("OPNSENSE_URL", proxy.url());
    let mut child = c.spawn().expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let addr = loop {
        let line = rx.recv_timeout(WAIT).expect("a `listening on` line");
        if let Some(rest) = line.strip_prefix("opnsense-mcp: listening on http://")
            && let Some(addr) = rest.strip_suffix("/mcp")
        {
            break addr.to_owned();
        }
    };
    proxy.wait_for_connections(1);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let call = rt.block_on(async {
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(format!("http://{addr}/mcp")),
        );
        let client = tokio::time::timeout(WAIT, ().serve(transport))
            .await
            .expect("initialize in time")
            .expect("initialize");
        let name = client
            .peer_info()
            .and_then(|i| i.server_info.as_ref().map(|s| s.name.clone()));
        assert_eq!(name.as_deref(), Some("opnsense-mcp"));
        assert!(
            !proxy.released(),
            "initialize was answered before the firewall could answer anything"
        );
        let call = tokio::spawn(async move {
            client
                .call_tool(rmcp::model::CallToolRequestParams::new("system_status"))
                .await
        });
        // The firewall hangs up on the startup check.
        proxy.close();
        tokio::time::timeout(WAIT, call).await
    });
    let out = wait(child, WAIT);
    let stderr = reader.join().expect("stderr reader");
    let out = common::Output { stderr, ..out };
    out.expect_code(3);
    let failures: Vec<&str> = out
        .failure_lines()
        .into_iter()
        .filter(|l| !l.starts_with("opnsense-mcp: listening on"))
        .collect();
    assert_eq!(failures.len(), 1, "{out:#?}");
    assert!(
        failures[0].starts_with("opnsense-mcp: OPNsense startup check failed"),
        "{out:#?}"
    );
    // The call was never served.
    if let Ok(Ok(Ok(result))) = call {
        panic!("a tool call was served by a server whose start failed: {result:?}");
    }
}

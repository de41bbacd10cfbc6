//! Past one machine, end to end (opt-in with `OPNSENSE_E2E=1`: they need Debian's nginx and
//! Postgres, installed here with apt-get when missing): two replicas of the real binary in
//! stateless HTTP mode behind a real nginx (round robin, no sticky sessions) against ONE
//! simulator, driven by rmcp's streamable HTTP client, whose calls land on both replicas; and
//! two replicas sharing a change journal in a real Postgres, where the one holding a pending
//! change is killed with SIGKILL and the other reverts it on time.
//!
//! Everything listens on 127.0.0.1 only.

use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::{header, initialize_request};
use crate::support::{
    Client, HTTP_TOKEN, HttpServer, Log, call, close, expect_ok, external_clients_enabled,
    free_port, program_or_install, run_bounded, start_simulator,
};

/// Bound on a helper server (nginx, Postgres) becoming ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Waits until something accepts TCP connections on `127.0.0.1:port`.
async fn wait_for_port(port: u16, what: &str, log: impl Fn() -> String) {
    let start = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            start.elapsed() < READY_TIMEOUT,
            "{what} did not listen on 127.0.0.1:{port} within {READY_TIMEOUT:?}:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether this process runs as root (Postgres refuses to).
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Sends `signal` (`-INT`, `-TERM`) to a process with `kill(1)`.
async fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .await;
}

/// Sends `signal` to `child` and waits at most `grace` for it to exit; then kills it.
async fn stop_child(child: &mut Child, signal_name: &str, grace: Duration) {
    if let Some(pid) = child.id() {
        signal(pid, signal_name).await;
    }
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        let _ = child.start_kill();
    }
}

/// nginx, run in the foreground from a temporary prefix on 127.0.0.1.
struct Nginx {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Round robin over `upstreams` (`127.0.0.1:PORT`), no stickiness, HTTP/1.1 with kept
    /// connections to the upstreams, and no buffering (what an MCP deployment needs).
    async fn start(upstreams: &[String]) -> Self {
        let nginx = program_or_install(&["nginx", "/usr/sbin/nginx"], "nginx").await;
        let dir = tempfile::Builder::new()
            .prefix("e2e-nginx-")
            .tempdir()
            .expect("temporary directory");
        let port = free_port();
        let prefix = dir.path().display().to_string();
        let servers: String = upstreams.iter().fold(String::new(), |mut s, u| {
            let _ = writeln!(s, "        server {u};");
            s
        });
        let conf = format!(
            "daemon off;\nmaster_process on;\nworker_processes 1;\npid {prefix}/nginx.pid;\n\
             error_log {prefix}/error.log warn;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n    access_log off;\n\
             client_body_temp_path {prefix}/body;\n    proxy_temp_path {prefix}/proxy;\n\
             fastcgi_temp_path {prefix}/fastcgi;\n    uwsgi_temp_path {prefix}/uwsgi;\n\
             scgi_temp_path {prefix}/scgi;\n\
             upstream mcp {{\n{servers}        keepalive 32;\n    }}\n\
             server {{\n        listen 127.0.0.1:{port};\n\
             location / {{\n            proxy_pass http://mcp;\n\
             proxy_http_version 1.1;\n            proxy_set_header Connection \"\";\n\
             proxy_set_header Host $http_host;\n            proxy_buffering off;\n\
             proxy_request_buffering off;\n        }}\n    }}\n}}\n"
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        // The workers run as `nobody` when started as root: let them read the prefix.
        let _ = std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        );
        let child = Command::new(&nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", nginx.display()));
        let error_log = dir.path().join("error.log");
        wait_for_port(port, "nginx", || {
            std::fs::read_to_string(&error_log).unwrap_or_default()
        })
        .await;
        Self {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
            _dir: dir,
        }
    }

    /// Stops nginx (SIGQUIT would wait for kept connections; SIGTERM is a fast stop).
    async fn stop(mut self) {
        stop_child(&mut self.child, "-TERM", Duration::from_secs(10)).await;
    }
}

/// The `host:port` of a replica's `http://host:port/mcp`.
fn authority(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned()
}

/// The audit lines in a replica's stderr made for calls of `tool`.
fn audited_calls(log: &Log, tool: &str) -> usize {
    let needle = format!("\"tool\":\"{tool}\"");
    log.text()
        .lines()
        .filter(|l| l.contains(&needle) && l.contains("\"path\""))
        .count()
}

/// Calls per second of `calls` `system_status` calls from `clients` concurrent rmcp clients
/// through `url`, each client its own (stateless) connection. Printed, never asserted.
async fn throughput(server: &HttpServer, url: &str, clients: usize, calls: usize) -> f64 {
    let mut conns = Vec::new();
    for _ in 0..clients {
        conns.push(std::sync::Arc::new(server.connect_to(url).await));
    }
    let start = Instant::now();
    let per = calls / clients;
    let mut tasks = Vec::new();
    for c in &conns {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..per {
                let r = call(&c, "system_status", json!({})).await;
                expect_ok("system_status", &r);
            }
        }));
    }
    for t in tasks {
        t.await.expect("client task");
    }
    let rate =
        f64::from(u32::try_from(per * clients).unwrap_or(u32::MAX)) / start.elapsed().as_secs_f64();
    for c in conns {
        if let Ok(c) = std::sync::Arc::try_unwrap(c) {
            close(c).await;
        }
    }
    rate
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_replicas_behind_nginx() {
    if !external_clients_enabled(
        "nginx from Debian's packages (installed with apt-get when missing)",
    ) {
        return;
    }
    let sim = start_simulator().await;
    let stateless = [("OPNSENSE_HTTP_STATELESS".to_owned(), "true".to_owned())];
    let a = HttpServer::start_with(&sim, &stateless).await;
    let b = HttpServer::start_with(&sim, &stateless).await;
    let nginx = Nginx::start(&[authority(&a.url), authority(&b.url)]).await;

    // Stateless: a plain JSON answer and no session id, even to initialize.
    let init = reqwest::Client::new()
        .post(&nginx.url)
        .bearer_auth(HTTP_TOKEN)
        .header("accept", "application/json, text/event-stream")
        .json(&initialize_request("2025-11-25", "e2e-curl"))
        .send()
        .await
        .expect("initialize through nginx");
    assert_eq!(init.status(), 200, "initialize through nginx");
    assert!(
        init.headers().get("mcp-session-id").is_none(),
        "a stateless server hands out no session id: {:?}",
        init.headers()
    );
    let content_type = header(&init, "content-type").unwrap_or_default().to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "stateless answers are plain JSON, got {content_type}"
    );
    // The hardening stays: no token, no answer.
    let refused = reqwest::Client::new()
        .post(&nginx.url)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .expect("request without a token");
    assert_eq!(refused.status(), 401, "a request without the token");

    // One rmcp client, one connection to nginx; each request may land on either replica.
    let client: Client = a.connect_to(&nginx.url).await;
    let tools = crate::support::list_tools(&client).await;
    assert!(
        tools.len() >= crate::support::MIN_TOOLS,
        "{} tools",
        tools.len()
    );
    for _ in 0..10 {
        let r = call(&client, "firewall_alias_list", json!({})).await;
        let listed = expect_ok("firewall_alias_list", &r);
        assert!(listed["rows"].is_array(), "{listed}");
    }
    close(client).await;
    let (on_a, on_b) = (
        audited_calls(&a.log, "firewall_alias_list"),
        audited_calls(&b.log, "firewall_alias_list"),
    );
    assert!(
        on_a > 0 && on_b > 0,
        "the calls must land on both replicas: {on_a} on A, {on_b} on B\nA:\n{}\nB:\n{}",
        a.log.text(),
        b.log.text()
    );
    assert_eq!(on_a + on_b, 10, "every call is audited once");

    // Figures for the notes (never asserted): two replicas against one behind the same nginx.
    if std::env::var("OPNSENSE_SCALE_MEASURE").as_deref() == Ok("1") {
        let two = throughput(&a, &nginx.url, 8, 400).await;
        let single = Nginx::start(&[authority(&a.url)]).await;
        let one = throughput(&a, &single.url, 8, 400).await;
        single.stop().await;
        eprintln!(
            "MEASURED through nginx, 8 clients, 400 system_status calls: two replicas {two:.0} calls/s, one replica {one:.0} calls/s"
        );
    }
    nginx.stop().await;
    a.stop().await;
    b.stop().await;
    sim.shutdown().await;
}

/// A Postgres server of Debian's packages, initialised in a temporary directory and run on
/// 127.0.0.1 (as `nobody` when the test runs as root: Postgres refuses root).
struct Postgres {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Postgres {
    async fn start() -> Self {
        const BINS: [&str; 3] = [
            "/usr/local/bin",
            "/usr/lib/postgresql/15/bin",
            "/usr/lib/postgresql/16/bin",
        ];
        let find = |name: &str| {
            BINS.iter()
                .map(|d| Path::new(d).join(name))
                .find(|p| p.is_file())
        };
        let initdb = match find("initdb") {
            Some(p) => p,
            None => program_or_install(&["/usr/lib/postgresql/15/bin/initdb"], "postgresql").await,
        };
        let bin = initdb.parent().expect("bin dir").to_path_buf();
        let dir = tempfile::Builder::new()
            .prefix("e2e-pg-")
            .tempdir()
            .expect("temporary directory");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        let root = is_root();
        if root {
            // `nobody` (65534) owns the cluster; the temp dir must be traversable.
            std::fs::set_permissions(
                dir.path(),
                std::os::unix::fs::PermissionsExt::from_mode(0o755),
            )
            .expect("chmod");
            std::os::unix::fs::chown(&data, Some(65534), Some(65534)).expect("chown data");
        }
        let as_user = |cmd: &mut Command| {
            if root {
                cmd.uid(65534).gid(65534);
            }
            cmd.env("HOME", "/tmp").current_dir("/tmp");
        };
        let mut init = Command::new(&initdb);
        init.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]);
        as_user(&mut init);
        let (code, out, err) = run_bounded(init, READY_TIMEOUT, "initdb").await;
        assert_eq!(code, 0, "initdb failed:\n{out}\n{err}");
        let port = free_port();
        let mut cmd = Command::new(bin.join("postgres"));
        cmd.arg("-D")
            .arg(&data)
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k"])
            .arg(&data)
            .args(["-c", "fsync=off", "-c", "max_connections=50"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        as_user(&mut cmd);
        let mut child = cmd.spawn().expect("start postgres");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Log::default();
        let mut lines = BufReader::new(stderr).lines();
        let ready = log.read_until(&mut lines, |line| {
            line.contains("ready to accept connections").then_some(())
        });
        let ok = tokio::time::timeout(READY_TIMEOUT, ready).await;
        assert!(
            matches!(ok, Ok(Some(()))),
            "postgres did not become ready:\n{}",
            log.text()
        );
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            child,
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            _dir: dir,
        }
    }

    /// Fast shutdown (SIGINT), bounded.
    async fn stop(mut self) {
        stop_child(&mut self.child, "-INT", Duration::from_secs(20)).await;
    }
}

/// Polls `change_get` through `client` until the change leaves `pending`/`reverting`.
async fn settled(client: &Client, change_id: &str, bound: Duration) -> Value {
    let start = Instant::now();
    loop {
        let r = call(client, "change_get", json!({"change_id": change_id})).await;
        let view = expect_ok("change_get", &r)["change"].clone();
        let status = view["status"].as_str().unwrap_or_default().to_owned();
        if !matches!(status.as_str(), "pending" | "reverting" | "applying") {
            return view;
        }
        assert!(
            start.elapsed() < bound,
            "change {change_id} still {status} after {bound:?}: {view}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_journal_survives_a_dead_replica() {
    if !external_clients_enabled(
        "Postgres from Debian's packages (installed with apt-get when missing)",
    ) {
        return;
    }
    let pg = Postgres::start().await;
    // Replicas starting together create the journal's tables at once: every one opens.
    let mut opening = tokio::task::JoinSet::new();
    for i in 0..8 {
        let url = pg.url.clone();
        opening.spawn(async move {
            opnsense_change::journal::Journal::open_url(&url, &format!("fw{i}")).await
        });
    }
    while let Some(opened) = opening.join_next().await {
        if let Err(e) = opened.expect("task") {
            panic!("a journal opened beside others failed: {e}");
        }
    }
    let sim = start_simulator().await;
    let env = [
        ("OPNSENSE_HTTP_STATELESS".to_owned(), "true".to_owned()),
        ("OPNSENSE_STATE_URL".to_owned(), pg.url.clone()),
    ];
    let a = HttpServer::start_with(&sim, &env).await;
    let b = HttpServer::start_with(&sim, &env).await;
    let before = sim.live().aliases().to_vec();

    let to_a = a.connect().await;
    let added = call(
        &to_a,
        "firewall_alias_add",
        json!({"alias": {"name": "e2e_replica", "type": "host", "content": ["10.9.8.7"], "description": "left pending on a replica that dies"}}),
    )
    .await;
    expect_ok("firewall_alias_add", &added);
    let applied = call(
        &to_a,
        "firewall_alias_apply",
        json!({"confirm_timeout_s": 10}),
    )
    .await;
    let applied = expect_ok("firewall_alias_apply", &applied).clone();
    assert_eq!(applied["status"], "pending", "{applied}");
    let change_id = applied["change_id"].as_str().expect("change id").to_owned();
    let revert_at = applied["revert_at"].as_str().expect("revert_at").to_owned();
    assert!(
        sim.live()
            .aliases()
            .iter()
            .any(|r| r["name"] == "e2e_replica"),
        "the alias is live after the apply"
    );
    close(to_a).await;

    // Replica B sees the pending change in the shared journal (a confirm could go there too).
    let to_b = b.connect().await;
    let seen = call(&to_b, "change_get", json!({"change_id": change_id})).await;
    assert_eq!(
        expect_ok("change_get", &seen)["change"]["status"],
        "pending"
    );

    // A dies without a word; B must revert the change (its lease runs out, B takes it over).
    let holder = applied_replica(&to_b, &change_id).await;
    a.stop().await;
    let view = settled(&to_b, &change_id, Duration::from_secs(90)).await;
    assert_eq!(view["status"], "reverted", "{view}");
    let by = view["detail"]["revert"]["by"].as_str().unwrap_or_default();
    assert!(
        !by.is_empty() && by != holder,
        "the surviving replica reverted it (applied by {holder}, reverted by {by:?})"
    );
    let finished = view["detail"]["revert"]["finished"]
        .as_str()
        .unwrap_or_default();
    assert!(
        finished >= revert_at.as_str(),
        "not reverted before its time: revert_at {revert_at}, finished {finished}"
    );
    assert!(
        b.log.text().contains("took over change"),
        "B says it took the change over:\n{}",
        b.log.text()
    );
    assert_eq!(
        sim.live().aliases(),
        before.as_slice(),
        "the firewall is back as it was"
    );
    close(to_b).await;
    b.stop().await;
    sim.shutdown().await;
    pg.stop().await;
}

/// The replica that applied a change (from its detail).
async fn applied_replica(client: &Client, change_id: &str) -> String {
    let r = call(client, "change_get", json!({"change_id": change_id})).await;
    expect_ok("change_get", &r)["change"]["detail"]["replica"]
        .as_str()
        .expect("the change names its replica")
        .to_owned()
}

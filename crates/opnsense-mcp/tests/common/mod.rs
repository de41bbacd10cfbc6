//! Shared helpers for the binary's integration tests: a simulator on its own runtime, a
//! sandboxed command (no inherited environment, `HOME` in a temp dir), bounded waits.

#![allow(dead_code, unreachable_pub)]

use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opnsense_sim::{SimConfig, Simulator};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_opnsense-mcp");

/// A distinctive API secret: it must never show up in any output.
pub const SECRET: &str = "sim-secret-7f3a91c2e5";

/// The limit for any single process run.
pub const RUN_LIMIT: Duration = Duration::from_secs(30);

/// A simulator on its own small runtime, so tests can block while it serves.
pub struct Sim {
    pub sim: Simulator,
    rt: tokio::runtime::Runtime,
}

impl Sim {
    /// Starts a simulator with [`SECRET`] (and `tweak` applied).
    pub fn start(tweak: impl FnOnce(&mut SimConfig)) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let mut config = sim_config();
        tweak(&mut config);
        let sim = rt.block_on(Simulator::start(config)).expect("simulator");
        Self { sim, rt }
    }

    /// `OPNSENSE_*` variables for the full-access key, CA trusted.
    pub fn env(&self) -> Vec<(String, String)> {
        sim_env(&self.sim)
    }

    /// The fingerprint of the certificate the simulator presents, read in-process.
    pub fn fingerprint(&self) -> String {
        self.rt
            .block_on(opnsense_api::tls::peer_fingerprint(
                &self.sim.base_url(),
                Duration::from_secs(10),
            ))
            .expect("fingerprint")
            .to_string()
    }
}

/// The simulator configuration of these tests: the default one with [`SECRET`].
pub fn sim_config() -> SimConfig {
    SimConfig {
        api_secret: SECRET.to_owned(),
        ..SimConfig::default()
    }
}

/// `OPNSENSE_*` variables for `sim`'s full-access key, its CA trusted.
pub fn sim_env(sim: &Simulator) -> Vec<(String, String)> {
    vec![
        ("OPNSENSE_URL".into(), sim.base_url()),
        ("OPNSENSE_API_KEY".into(), sim.api_key().into()),
        ("OPNSENSE_API_SECRET".into(), sim.api_secret().into()),
        (
            "OPNSENSE_CA_FILE".into(),
            sim.ca_file().display().to_string(),
        ),
    ]
}

/// A `[targets.NAME]` table for `sim` (its full-access key, its CA trusted), plus `extra` lines.
pub fn target_table(name: &str, sim: &Simulator, extra: &str) -> String {
    format!(
        "[targets.{name}]\nurl = \"{}\"\napi_key = \"{}\"\napi_secret = \"{}\"\nca_file = \"{}\"\n{extra}\n",
        sim.base_url(),
        sim.api_key(),
        sim.api_secret(),
        sim.ca_file().display()
    )
}

/// A config file's text: `default_target = "DEFAULT"`, then the `[targets.*]` tables.
pub fn fleet_config(default: &str, tables: &[String]) -> String {
    format!("default_target = \"{default}\"\n{}", tables.concat())
}

/// Writes `toml` as `dir/config.toml` (a file given with `--config`); returns its path.
pub fn write_config(dir: &Path, toml: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, toml).expect("write config");
    path
}

/// Writes `dir/apikey.txt` with `sim`'s full-access key, in the format OPNsense downloads
/// (`key=...` and `secret=...` lines); returns its path.
pub fn apikey_txt(dir: &Path, sim: &Sim) -> std::path::PathBuf {
    let path = dir.join("apikey.txt");
    let text = format!(
        "key={}\nsecret={}\n",
        sim.sim.api_key(),
        sim.sim.api_secret()
    );
    std::fs::write(&path, text).expect("write apikey.txt");
    path
}

/// A fresh temporary directory (a `HOME`).
pub fn home() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// The binary serving streamable HTTP, known by its `listening on` line; its stderr is kept.
pub struct Listening {
    pub child: tokio::process::Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
    /// The task copying stderr into `stderr`; it ends at EOF, once the child has exited.
    pub reader: tokio::task::JoinHandle<()>,
}

impl Listening {
    /// Spawns `c` (stdin and stdout null, stderr piped, killed on drop) and waits at most
    /// `wait` for its `opnsense-mcp: listening on http://ADDR/mcp` line.
    pub async fn spawn(mut c: tokio::process::Command, wait: Duration) -> Self {
        use tokio::io::{AsyncBufReadExt, BufReader};

        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = c.spawn().expect("spawn");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let buf = stderr.clone();
        let reader = tokio::spawn(async move {
            let mut tx = Some(tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.strip_prefix("opnsense-mcp: listening on http://")
                    && let Some(addr) = rest.strip_suffix("/mcp")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr.parse::<SocketAddr>().expect("address"));
                }
                let mut b = buf.lock().expect("stderr buffer");
                b.push_str(&line);
                b.push('\n');
            }
        });
        let Ok(Ok(addr)) = tokio::time::timeout(wait, rx).await else {
            panic!(
                "no `listening on` line; stderr: {}",
                stderr.lock().expect("stderr buffer")
            )
        };
        Self {
            child,
            addr,
            stderr,
            reader,
        }
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr buffer").clone()
    }

    /// An initialised rmcp client over streamable HTTP at `/mcp` with the bearer `token`.
    pub async fn rmcp_client(
        &self,
        token: &str,
        wait: Duration,
    ) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
        use rmcp::ServiceExt;
        use rmcp::transport::StreamableHttpClientTransport;
        use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(format!("http://{}/mcp", self.addr))
                .auth_header(token),
        );
        tokio::time::timeout(wait, ().serve(transport))
            .await
            .expect("initialize in time")
            .expect("initialize")
    }
}

/// A command for the binary: empty environment except `PATH` and `HOME` (a fresh temp dir,
/// so no developer config is read) and `RUST_LOG=warn`.
pub fn command(home: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// What a finished run printed.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The `opnsense-mcp: ...` lines of stderr (failures), as opposed to JSON log lines.
    pub fn failure_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("opnsense-mcp: "))
            .collect()
    }

    /// stdout as one JSON document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).expect("JSON on stdout")
    }

    /// The tool names of a `tools` listing printed on stdout.
    pub fn tool_names(&self) -> std::collections::BTreeSet<String> {
        self.json()["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .filter_map(|t| t["name"].as_str().map(str::to_owned))
            .collect()
    }

    /// Asserts the exit code and that the secret appears nowhere.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "exit code; output: {self:#?}");
        self.no_secret(SECRET)
    }

    /// Asserts `secret` is in neither stdout nor stderr.
    pub fn no_secret(&self, secret: &str) -> &Self {
        assert!(
            !self.stdout.contains(secret) && !self.stderr.contains(secret),
            "secret leaked: {self:#?}"
        );
        self
    }

    /// Asserts stderr is exactly one `opnsense-mcp: ` line containing every `needle`.
    pub fn one_line(&self, needles: &[&str]) -> &Self {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one stderr line expected: {self:#?}");
        self.failure_mentions(needles)
    }

    /// Asserts exactly one failure line, containing every `needle`.
    pub fn failure_mentions(&self, needles: &[&str]) -> &Self {
        let lines = self.failure_lines();
        assert_eq!(lines.len(), 1, "one failure line expected: {self:#?}");
        for n in needles {
            assert!(lines[0].contains(n), "{n:?} not in {:?}", lines[0]);
        }
        self
    }
}

/// Asserts that a `check` run passed with the firewall's certificate pinned to `fp`: exit 0,
/// and the JSON it printed says so.
pub fn assert_check_pinned(out: &Output, fp: &str) {
    let v = out.expect_code(0).json();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["tls_fingerprint"], fp, "check prints what it saw");
    assert_eq!(
        v["tls_verification"],
        "pinned certificate (tls_fingerprint)"
    );
}

/// Runs to completion (at most [`RUN_LIMIT`], else the child is killed and the test fails).
pub fn run(mut c: Command) -> Output {
    let child = c.spawn().expect("spawn the binary");
    wait(child, RUN_LIMIT)
}

/// Waits for `child` with a limit, collecting its output.
pub fn wait(mut child: Child, limit: Duration) -> Output {
    // Either may already have been taken by the test (then it reads as empty here).
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut r) = stdout {
            let _ = r.read_to_string(&mut s);
        }
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut r) = stderr {
            let _ = r.read_to_string(&mut s);
        }
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the binary did not finish within {limit:?}; stderr: {}",
                err.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        code: status.code(),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// Writes `~/.config/opnsense-mcp/config.toml` under `home`.
pub fn write_default_config(home: &Path, toml: &str) -> std::path::PathBuf {
    let dir = home.join(".config").join("opnsense-mcp");
    std::fs::create_dir_all(&dir).expect("mkdir");
    write_config(&dir, toml)
}

/// A loopback port with nothing listening on it (bound, then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The value of the header `name` of `response`, if it is there and is text.
pub fn header<'r>(response: &'r reqwest::Response, name: &str) -> Option<&'r str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// An MCP `initialize` request (JSON-RPC id 1) from a client named `client_name` that speaks
/// `protocol_version`.
pub fn initialize_request(protocol_version: &str, client_name: &str) -> serde_json::Value {
    serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": protocol_version, "capabilities": {},
        "clientInfo": {"name": client_name, "version": "0"}}})
}

/// Calls `system_status` through `peer` within `wait` and asserts that it answered, not with an
/// error; `what` names the call in a failure. Returns the result.
pub async fn call_status(
    peer: &rmcp::service::Peer<rmcp::RoleClient>,
    wait: Duration,
    what: &str,
) -> rmcp::model::CallToolResult {
    let call = peer.call_tool(rmcp::model::CallToolRequestParams::new("system_status"));
    let result = tokio::time::timeout(wait, call)
        .await
        .unwrap_or_else(|_| panic!("{what}: not answered in time"))
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_ne!(result.is_error, Some(true), "{what}: {result:?}");
    result
}

/// Through an initialised rmcp client: `tools/list` answers the catalogue (at least 43 tools)
/// and `system_status` answers with structured content; then the client closes. Each step
/// within `wait`.
pub async fn list_tools_and_call_status(
    client: rmcp::service::RunningService<rmcp::RoleClient, ()>,
    wait: Duration,
) {
    use tokio::time::timeout;

    let tools = timeout(wait, client.list_all_tools())
        .await
        .expect("in time")
        .expect("tools/list");
    assert!(tools.len() >= 43, "{} tools", tools.len());
    let result = call_status(&client, wait, "tools/call").await;
    assert!(result.structured_content.is_some(), "{result:?}");
    let _ = timeout(wait, client.cancel()).await;
}

/// The audit JSON lines of `stderr`.
pub fn audit_lines(stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "opnsense_api::audit")
        .collect()
}

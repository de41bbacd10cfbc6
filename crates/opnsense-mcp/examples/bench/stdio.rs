//! A minimal MCP client over a spawned server's stdio: one JSON-RPC line out, one line in.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{Value, json};

/// Environment that points the server at the static upstream, with a fresh journal directory.
pub struct Env {
    pub url: String,
    pub ca_file: String,
    pub state_dir: std::path::PathBuf,
}

impl Env {
    /// The server binary, configured for `env`, with the given extra arguments.
    pub fn command(&self, bin: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(bin);
        c.arg("serve")
            .args(args)
            .env("OPNSENSE_URL", &self.url)
            .env("OPNSENSE_API_KEY", "bench-key")
            .env("OPNSENSE_API_SECRET", "bench-secret")
            .env("OPNSENSE_CA_FILE", &self.ca_file)
            .env("OPNSENSE_STATE_DIR", &self.state_dir)
            .env_remove("RUST_LOG")
            .env_remove("OPNSENSE_CONFIG");
        c
    }
}

/// A server spawned over stdio (its stderr, audit lines included, goes to /dev/null).
pub struct Server {
    pub child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    line: String,
}

impl Server {
    pub fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the server");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Self {
            child,
            stdin,
            stdout,
            next_id: 1,
            line: String::new(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a request and returns the raw response line.
    pub fn request_raw(&mut self, method: &str, params: &Value) -> &str {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        writeln!(self.stdin, "{msg}").expect("write");
        self.stdin.flush().expect("flush");
        self.line.clear();
        self.stdout.read_line(&mut self.line).expect("read");
        assert!(!self.line.is_empty(), "the server closed stdout ({method})");
        &self.line
    }

    pub fn notify(&mut self, method: &str) {
        writeln!(
            self.stdin,
            "{}",
            json!({"jsonrpc": "2.0", "method": method})
        )
        .expect("write");
        self.stdin.flush().expect("flush");
    }

    pub fn initialize(&mut self) -> &str {
        self.request_raw(
            "initialize",
            &json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}),
        )
    }

    /// Calls a tool; panics on a JSON-RPC error or an error result.
    pub fn call(&mut self, tool: &str, args: &Value) -> &str {
        let line = self.request_raw("tools/call", &json!({"name": tool, "arguments": args}));
        assert!(
            !line.contains("\"isError\":true") && !line.starts_with("{\"error\""),
            "{tool}: {}",
            &line[..line.len().min(400)]
        );
        &self.line
    }

    /// Closes stdin and waits for the process to exit.
    pub fn close(self) {
        let Self {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        let _ = child.wait();
    }
}

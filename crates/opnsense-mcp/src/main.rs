//! `opnsense-mcp`: the MCP server for OPNsense, plus `check`, `tools`, `call` and `demo`.
//!
//! Exit codes: 0 ok, 2 configuration error, 3 cannot reach or authenticate to OPNsense at
//! startup, 4 cannot bind the HTTP address. Each failure is one line on stderr.
//!
//! The cargo feature `simulator` (on by default) builds in the simulated firewall behind `demo`
//! and `serve --simulator`; a production build leaves it out (`--no-default-features`), and
//! then both commands fail with exit 2 saying so.

mod build_info;
mod config;
mod credentials;
#[cfg(feature = "simulator")]
mod demo;
mod gate;
mod http;
mod init;
mod logging;
mod serve;
mod show_config;
mod tokens;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Overrides, Transport};

/// mimalloc instead of glibc's malloc: a list of 1,000 rules makes and frees some 100,000 small
/// allocations, which glibc serves from per-thread arenas it rarely gives back (figures in
/// README's Performance section).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// MCP server for the OPNsense firewall API.
#[derive(Debug, Parser)]
#[command(name = "opnsense-mcp", version = build_info::VERSION, about)]
struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/opnsense-mcp/config.toml or
    /// ~/.config/opnsense-mcp/config.toml) [env: OPNSENSE_CONFIG=]
    // Not clap's `env`: it refuses a set-but-empty variable instead of ignoring it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Firewall URL, e.g. https://192.168.1.1 (overrides OPNSENSE_URL).
    #[arg(long, global = true)]
    url: Option<String>,
    /// CA certificate (PEM) to trust for the firewall (overrides OPNSENSE_CA_FILE).
    #[arg(long, global = true)]
    ca_file: Option<String>,
    /// Accept exactly the firewall certificate with this fingerprint (`sha256:` and 64 hex
    /// digits; overrides OPNSENSE_TLS_FINGERPRINT). `check` prints the one it sees.
    #[arg(long, global = true)]
    tls_fingerprint: Option<String>,
    /// Offer only read-only tools.
    #[arg(long, global = true)]
    read_only: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the MCP server (the default).
    Serve {
        /// Transport (overrides OPNSENSE_TRANSPORT).
        #[arg(long, value_enum)]
        transport: Option<Transport>,
        /// HTTP bind address (overrides OPNSENSE_HTTP_HOST).
        #[arg(long)]
        http_host: Option<String>,
        /// HTTP port (overrides OPNSENSE_HTTP_PORT).
        #[arg(long)]
        http_port: Option<u16>,
        /// Skip the startup check that OPNsense answers.
        #[arg(long)]
        no_probe: bool,
        /// Serve against a built-in simulated firewall (no OPNsense needed; needs a build with
        /// the `simulator` feature, the default).
        #[arg(long)]
        simulator: bool,
    },
    /// A guided tour against a built-in simulated firewall: no OPNsense needed (needs a build
    /// with the `simulator` feature, the default).
    Demo,
    /// Check the configuration and that OPNsense answers; print the firmware version.
    Check,
    /// Print the tool catalogue (names, descriptions, schemas, annotations) as JSON.
    Tools {
        /// Only this target's own catalogue (default: what the server lists, every target's
        /// tools with `target`).
        #[arg(long)]
        target: Option<String>,
    },
    /// Print the effective configuration, each value with where it came from (secrets masked).
    Config,
    /// Set up a firewall: ask for (or take) its URL and API key, check the connection and the
    /// certificate, write config.toml and print the MCP client snippets.
    Init(init::InitArgs),
    /// Print a shell completion script, e.g. `opnsense-mcp completions bash > ~/.local/share/bash-completion/completions/opnsense-mcp`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Run one tool and print its result as JSON, e.g. `call system_status '{}'`.
    Call {
        /// Tool name.
        tool: String,
        /// Arguments as a JSON object.
        #[arg(default_value = "{}")]
        args: String,
        /// Keep a change the call applies once its checks passed (it is confirmed right away).
        /// Without it, a change that waits for confirmation is reverted when the process exits.
        #[arg(long)]
        confirm: bool,
        /// The target (firewall) to call (default: `default_target`).
        #[arg(long)]
        target: Option<String>,
    },
    /// HTTP client tokens (for OPNSENSE_HTTP_TOKENS_FILE).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Print a new random token once, and the line to add to the tokens file (which holds
    /// only the token's SHA-256).
    New {
        /// The client's name (written on every audit line of its calls).
        #[arg(long)]
        name: String,
        /// `read`: read-only tools only; `write`: every tool.
        #[arg(long, value_enum)]
        scope: TokenScope,
    },
}

/// The scope of a client token.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum TokenScope {
    /// Read-only tools only.
    Read,
    /// Every tool.
    Write,
}

/// How the process ends.
#[derive(Debug)]
pub enum Failure {
    /// Exit 2.
    Config(String),
    /// Exit 3.
    Upstream(String),
    /// Exit 4.
    Bind(String),
    /// Exit 1 (a tool call failed, an I/O error, ...).
    Other(String),
}

impl Failure {
    /// The one line printed when the process ends with it.
    pub fn message(&self) -> &str {
        match self {
            Self::Config(m) | Self::Upstream(m) | Self::Bind(m) | Self::Other(m) => m,
        }
    }

    fn exit(self) -> ExitCode {
        let (code, msg) = match self {
            Self::Config(m) => (2, m),
            Self::Upstream(m) => (3, m),
            Self::Bind(m) => (4, m),
            Self::Other(m) => (1, m),
        };
        eprintln!("opnsense-mcp: {msg}");
        ExitCode::from(code)
    }
}

impl From<config::ConfigError> for Failure {
    fn from(e: config::ConfigError) -> Self {
        Self::Config(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(!matches!(cli.command, Some(Command::Demo)));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return Failure::Other(format!("cannot start the async runtime: {e}")).exit(),
    };
    let result = runtime.block_on(run(cli));
    // A stdin read still blocked (the start failed while the client keeps stdin open) must
    // not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.exit(),
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let mut overrides = Overrides {
        url: cli.url,
        ca_file: cli.ca_file,
        tls_fingerprint: cli.tls_fingerprint,
        read_only: cli.read_only.then_some(true),
        ..Overrides::default()
    };
    let command = cli.command.unwrap_or(Command::Serve {
        transport: None,
        http_host: None,
        http_port: None,
        no_probe: false,
        simulator: false,
    });
    if let Command::Serve {
        transport,
        http_host,
        http_port,
        ..
    } = &command
    {
        overrides.transport = *transport;
        overrides.http_host.clone_from(http_host);
        overrides.http_port = *http_port;
    }
    let config_path = cli.config.or_else(|| {
        std::env::var_os("OPNSENSE_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let load = || config::load(config_path.as_deref(), &overrides);
    match command {
        Command::Token {
            command: TokenCommand::New { name, scope },
        } => {
            let scope = match scope {
                TokenScope::Read => opnsense_mcp_tools::fleet::Scope::Read,
                TokenScope::Write => opnsense_mcp_tools::fleet::Scope::Write,
            };
            let (token, line) = tokens::new_token(&name, scope).map_err(Failure::Config)?;
            print_text(&format!(
                "# The token of {name}, shown once: the client sends it as `Authorization: Bearer <token>`\n\
                 {token}\n\
                 # The line for OPNSENSE_HTTP_TOKENS_FILE (it holds only the token's SHA-256):\n\
                 {line}\n"
            ))
        }
        Command::Serve {
            no_probe,
            simulator: false,
            ..
        } => serve::serve(load()?, !no_probe).await,
        Command::Serve {
            simulator: true, ..
        } => serve_simulator(load()?).await,
        Command::Demo => demo(load()?).await,
        Command::Check => {
            let config = load()?;
            serve::check(&config).await
        }
        Command::Config => show_config::show(config_path.as_deref(), &overrides),
        Command::Init(args) => init::run(args, config_path.as_deref(), &overrides).await,
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "opnsense-mcp", &mut std::io::stdout());
            Ok(())
        }
        Command::Tools { target } => {
            let tools = serve::catalogue(&load()?, target.as_deref())?;
            print_json(&serde_json::json!({ "tools": tools }))
        }
        Command::Call {
            tool,
            args,
            confirm,
            target,
        } => {
            let config = load()?;
            serve::call(&config, &tool, &args, confirm, target.as_deref()).await
        }
    }
}

/// `serve --simulator`: the server against a simulated firewall on loopback.
#[cfg(feature = "simulator")]
async fn serve_simulator(mut config: config::Config) -> Result<(), Failure> {
    let simulated = demo::start_simulator(&mut config).await?;
    let served = serve::serve(config, true).await;
    simulated.sim.shutdown().await;
    served
}

#[cfg(feature = "simulator")]
async fn demo(config: config::Config) -> Result<(), Failure> {
    demo::demo(config).await
}

/// Why `demo` and `serve --simulator` cannot run in a build without the simulator.
#[cfg(not(feature = "simulator"))]
fn without_simulator(command: &str) -> Failure {
    Failure::Config(format!(
        "`{command}` needs the built-in simulator, but this binary was built without it \
         (cargo feature `simulator`, e.g. a production build with --no-default-features); \
         use a default build (`cargo install --path crates/opnsense-mcp`) or point it at a real \
         firewall with OPNSENSE_URL"
    ))
}

#[cfg(not(feature = "simulator"))]
#[allow(clippy::unused_async)]
async fn serve_simulator(_config: config::Config) -> Result<(), Failure> {
    Err(without_simulator("serve --simulator"))
}

#[cfg(not(feature = "simulator"))]
#[allow(clippy::unused_async)]
async fn demo(_config: config::Config) -> Result<(), Failure> {
    Err(without_simulator("demo"))
}

/// Writes text to stdout as it is (for `check`; never used in stdio server mode).
fn print_text(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .map_err(|e| Failure::Other(format!("cannot write to stdout: {e}")))
}

/// Writes JSON to stdout (for `tools` and `call`; never used in stdio server mode).
fn print_json(v: &serde_json::Value) -> Result<(), Failure> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(v).map_err(|e| Failure::Other(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(|e| Failure::Other(format!("cannot write to stdout: {e}")))
}

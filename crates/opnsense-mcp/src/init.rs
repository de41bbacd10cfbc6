//! `opnsense-mcp init`: from nothing to a working MCP client entry.
//!
//! Asks for the firewall's URL and API key and secret (or reads the `apikey.txt` OPNsense's GUI
//! downloads), checks that the firewall answers with them, and when its certificate is not
//! trusted offers to pin that certificate's fingerprint (never to turn verification off). Then
//! writes `config.toml` (0600) with the secret in a separate 0600 file next to it, and prints
//! the entries for Claude Desktop, Claude Code, VS Code and Cursor.
//!
//! Every question has a flag, so scripts run it with `--non-interactive`. Prompts and progress go
//! to stderr, the snippets to stdout. Neither the key nor the secret is ever printed.
//!
//! Also here: the fingerprint `check` prints, and the hint added to a TLS failure.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use opnsense_api::{CertFingerprint, Client, Error};
use serde_json::json;

use crate::Failure;
use crate::config::{Config, Overrides};
use crate::credentials::parse_key_file;

/// Flags of `init` (`--url`, `--ca-file`, `--tls-fingerprint` and `--config` are the global ones).
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The API key (else asked; or give --apikey-file).
    #[arg(long)]
    api_key: Option<String>,
    /// Read the API secret from this file (else OPNSENSE_API_SECRET, else asked). There is no
    /// flag for the secret itself: command lines are visible to every local user.
    #[arg(long)]
    api_secret_file: Option<PathBuf>,
    /// The `apikey.txt` OPNsense's GUI downloads when the key is created (key= and secret= lines).
    #[arg(long)]
    apikey_file: Option<PathBuf>,
    /// When the certificate is not trusted, pin the one the firewall presents without asking.
    /// Only where the path to the firewall is trusted: prefer --tls-fingerprint with the value
    /// the firewall's console shows.
    #[arg(long)]
    pin_presented_certificate: bool,
    /// Never ask: a missing value is an error naming its flag.
    #[arg(long)]
    non_interactive: bool,
    /// Replace an existing config file.
    #[arg(long)]
    force: bool,
    /// Write the files without contacting the firewall.
    #[arg(long)]
    no_check: bool,
    /// The server's name in the MCP client entries.
    #[arg(long, default_value = "opnsense")]
    name: String,
}

/// The file next to config.toml that holds the secret.
pub const SECRET_FILE_NAME: &str = "api-secret";

/// How long the check may take to connect and to answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// Questions on the terminal (stderr + stdin), or none.
struct Prompter {
    interactive: bool,
    stdin: std::io::StdinLock<'static>,
}

impl Prompter {
    fn say(text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    }

    /// One line of answer, trimmed; `flag` names what a script gives instead.
    fn ask(&mut self, question: &str, flag: &str) -> Result<String, Failure> {
        if !self.interactive {
            return Err(Failure::Config(format!(
                "init: {flag} is required (not asking: --non-interactive, or stdin is not a terminal)"
            )));
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{question}");
        let _ = err.flush();
        drop(err);
        let mut line = String::new();
        let n = self
            .stdin
            .read_line(&mut line)
            .map_err(|e| Failure::Other(format!("cannot read the answer: {e}")))?;
        if n == 0 {
            return Err(Failure::Config(format!(
                "init: no answer (end of input); give {flag}"
            )));
        }
        Ok(line.trim().to_owned())
    }

    /// A secret, not echoed.
    fn ask_secret(&self, question: &str, flag: &str) -> Result<String, Failure> {
        if !self.interactive {
            return Err(Failure::Config(format!(
                "init: {flag} is required (not asking: --non-interactive, or stdin is not a terminal)"
            )));
        }
        rpassword::prompt_password(question)
            .map(|s| s.trim().to_owned())
            .map_err(|e| Failure::Other(format!("cannot read the secret from the terminal: {e}")))
    }

    /// Yes or no; the default is no.
    fn confirm(&mut self, question: &str) -> Result<bool, Failure> {
        let answer = self.ask(&format!("{question} [y/N] "), "the answer")?;
        Ok(matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"))
    }
}

/// The key and secret, from wherever they were given.
struct Credentials {
    key: String,
    secret: String,
}

fn read_apikey_txt(path: &Path) -> Result<Credentials, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Config(format!("cannot read {}: {e}", path.display())))?;
    let file = parse_key_file(&text)
        .map_err(|why| Failure::Config(format!("{}: {why}", path.display())))?;
    let secret = file.secret.ok_or_else(|| {
        Failure::Config(format!(
            "{} holds a key but no secret= line: is it the apikey.txt OPNsense downloaded?",
            path.display()
        ))
    })?;
    Ok(Credentials {
        key: file.key,
        secret,
    })
}

fn credentials(args: &InitArgs, p: &mut Prompter) -> Result<Credentials, Failure> {
    if let Some(path) = &args.apikey_file {
        return read_apikey_txt(path);
    }
    let key = if let Some(k) = &args.api_key {
        k.trim().to_owned()
    } else {
        {
            let answer = p.ask(
                "API key, or the path of the apikey.txt OPNsense downloaded: ",
                "--api-key or --apikey-file",
            )?;
            let as_path = expand_home(&answer);
            if as_path.is_file() {
                let c = read_apikey_txt(&as_path)?;
                Prompter::say(&format!(
                    "Read the key and secret from {}.",
                    as_path.display()
                ));
                return Ok(c);
            }
            answer
        }
    };
    if key.is_empty() {
        return Err(Failure::Config("init: the API key is empty".into()));
    }
    let secret = if let Some(path) = &args.api_secret_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Config(format!("cannot read {}: {e}", path.display())))?;
        text.trim_end_matches(['\n', '\r']).to_owned()
    } else if let Some(s) = std::env::var("OPNSENSE_API_SECRET")
        .ok()
        .filter(|s| !s.trim().is_empty())
    {
        s
    } else {
        p.ask_secret(
            "API secret (not shown): ",
            "--api-secret-file or OPNSENSE_API_SECRET",
        )?
    };
    if secret.is_empty() {
        return Err(Failure::Config("init: the API secret is empty".into()));
    }
    Ok(Credentials { key, secret })
}

/// `~/x` with `HOME` put in.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// The URL as typed, with `https://` added when no scheme was given.
fn normalise_url(raw: &str) -> String {
    let raw = raw.trim().trim_end_matches('/');
    if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    }
}

/// How the firewall's certificate is to be checked.
#[derive(Clone)]
enum Trust {
    System,
    CaFile(String),
    Pin(CertFingerprint),
}

fn client(url: &str, c: &Credentials, trust: &Trust) -> Result<Client, Failure> {
    let mut b = Client::builder(url)
        .credentials(&c.key, &c.secret)
        .connect_timeout(CHECK_TIMEOUT)
        .read_timeout(CHECK_TIMEOUT)
        .call_timeout(CHECK_TIMEOUT * 2);
    b = match trust {
        Trust::System => b,
        Trust::CaFile(path) => b.ca_file(path),
        Trust::Pin(fp) => b.tls_fingerprint(*fp),
    };
    b.build().map_err(|e| Failure::Config(format!("init: {e}")))
}

/// Checks the firewall answers; on an untrusted certificate offers to pin it. Returns how the
/// certificate is to be trusted from now on.
async fn check(
    url: &str,
    creds: &Credentials,
    mut trust: Trust,
    args: &InitArgs,
    p: &mut Prompter,
) -> Result<Trust, Failure> {
    for _ in 0..2 {
        let c = client(url, creds, &trust)?;
        Prompter::say(&format!("Checking {} ...", c.api_base()));
        let answer = c
            .send_json::<serde_json::Value>(opnsense_api::api::system::status_request())
            .await;
        match answer {
            Ok(_) => {
                let version = c.firmware_version().await.map_or_else(
                    || "unknown firmware (the key may lack the firmware privilege)".to_owned(),
                    |v| format!("OPNsense {v}"),
                );
                Prompter::say(&format!("Connected: {version}."));
                return Ok(trust);
            }
            Err(Error::Tls { .. }) if matches!(trust, Trust::System) => {
                let seen = opnsense_api::tls::peer_fingerprint(url, CHECK_TIMEOUT)
                    .await
                    .map_err(|e| Failure::Upstream(format!("init: {e}")))?;
                Prompter::say(&format!(
                    "The firewall's certificate is not trusted here (OPNsense's own certificate is self-signed).\n\
                     It presented the certificate\n    {seen}\n\
                     Compare it with the firewall's: its console login banner shows it under \"HTTPS: SHA256 ...\",\n\
                     or run `openssl x509 -in /usr/local/etc/lighttpd_webgui/cert.pem -noout -fingerprint -sha256` there.\n\
                     Pinning accepts exactly this certificate and nothing else; verification stays on."
                ));
                let pin = args.pin_presented_certificate
                    || (p.interactive && p.confirm("Pin this certificate?")?);
                if !pin {
                    return Err(Failure::Upstream(format!(
                        "init: the firewall's certificate is not trusted; once you have compared it, pin it with --tls-fingerprint {seen} (or --pin-presented-certificate), or trust its CA with --ca-file"
                    )));
                }
                Prompter::say(&format!("Pinned {seen}."));
                trust = Trust::Pin(seen);
            }
            Err(e) => return Err(Failure::Upstream(format!("init: {e}"))),
        }
    }
    Err(Failure::Upstream(
        "init: the firewall could not be checked with the pinned certificate".into(),
    ))
}

/// A TOML basic string (JSON's escapes are valid TOML).
fn toml_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// Writes `contents` to `path`, readable by its owner only.
fn write_private(path: &Path, contents: &str) -> Result<(), Failure> {
    let fail = |e: std::io::Error| Failure::Other(format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut f = options.open(path).map_err(fail)?;
        // The mode applies to new files only: an existing one is narrowed too.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(fail)?;
        f.write_all(contents.as_bytes()).map_err(fail)?;
        f.sync_all().map_err(fail)
    }
    #[cfg(not(unix))]
    {
        let mut f = options.open(path).map_err(fail)?;
        f.write_all(contents.as_bytes()).map_err(fail)?;
        f.sync_all().map_err(fail)
    }
}

fn create_dir(dir: &Path) -> Result<(), Failure> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| Failure::Other(format!("cannot create {}: {e}", dir.display())))
}

/// config.toml's text.
fn config_text(url: &str, key: &str, secret_file: &Path, trust: &Trust) -> String {
    let mut lines = vec![
        "# Written by `opnsense-mcp init`. Keys: see `opnsense-mcp config` and the README."
            .to_owned(),
        format!("url = {}", toml_string(url)),
        format!("api_key = {}", toml_string(key)),
        format!(
            "api_secret_file = {}",
            toml_string(&secret_file.display().to_string())
        ),
    ];
    match trust {
        Trust::System => {}
        Trust::CaFile(path) => lines.push(format!("ca_file = {}", toml_string(path))),
        Trust::Pin(fp) => {
            lines.push(
                "# The firewall's own certificate, pinned: accepted whatever names it carries."
                    .to_owned(),
            );
            lines.push(format!(
                "tls_fingerprint = {}",
                toml_string(&fp.to_string())
            ));
        }
    }
    lines.push(String::new());
    lines.join("\n")
}

/// The MCP client entries for a server run as `command serve` with `env`.
pub fn snippets(
    name: &str,
    command: &str,
    env: &serde_json::Map<String, serde_json::Value>,
) -> String {
    let mut entry = json!({"command": command, "args": ["serve"]});
    let mut typed = json!({"type": "stdio", "command": command, "args": ["serve"]});
    if !env.is_empty() {
        entry["env"] = serde_json::Value::Object(env.clone());
        typed["env"] = serde_json::Value::Object(env.clone());
    }
    let pretty = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default();
    let env_flags = env
        .iter()
        .map(|(k, v)| format!(" -e {k}={}", shell_word(v.as_str().unwrap_or_default())))
        .collect::<Vec<_>>()
        .concat();
    format!(
        "Claude Desktop: add to claude_desktop_config.json (Settings > Developer > Edit Config;\n\
         macOS ~/Library/Application Support/Claude/, Windows %APPDATA%\\Claude\\):\n{}\n\n\
         Claude Code, for every project:\n  claude mcp add --scope user {name}{env_flags} -- {} serve\n\
         or in a project's .mcp.json:\n{}\n\n\
         VS Code: .vscode/mcp.json (or the command \"MCP: Add Server\"):\n{}\n\n\
         Cursor: ~/.cursor/mcp.json (or .cursor/mcp.json in a project):\n{}\n",
        pretty(json!({"mcpServers": {name: entry.clone()}})),
        shell_word(command),
        pretty(json!({"mcpServers": {name: typed.clone()}})),
        pretty(json!({"servers": {name: typed}})),
        pretty(json!({"mcpServers": {name: entry}})),
    )
}

/// `s` quoted for a POSIX shell when it needs it.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `init`.
pub async fn run(
    args: InitArgs,
    config_path: Option<&Path>,
    overrides: &Overrides,
) -> Result<(), Failure> {
    let stdin = std::io::stdin();
    let mut p = Prompter {
        interactive: !args.non_interactive && stdin.is_terminal(),
        stdin: stdin.lock(),
    };
    let default_path = crate::config::default_config_path();
    let config_file = config_path
        .map(Path::to_path_buf)
        .or_else(|| default_path.clone())
        .ok_or_else(|| {
            Failure::Config(
                "init: no place for config.toml (neither HOME nor XDG_CONFIG_HOME is set): give --config".into(),
            )
        })?;
    let config_file = std::path::absolute(&config_file).unwrap_or(config_file);
    if config_file.exists() && !args.force {
        let replace = p.interactive
            && p.confirm(&format!("{} exists. Replace it?", config_file.display()))?;
        if !replace {
            return Err(Failure::Config(format!(
                "init: {} exists; give --force to replace it",
                config_file.display()
            )));
        }
    }
    let url = match &overrides.url {
        Some(u) => normalise_url(u),
        None => normalise_url(&p.ask("Firewall URL (e.g. https://192.168.1.1): ", "--url")?),
    };
    let creds = credentials(&args, &mut p)?;
    let mut trust = match (&overrides.tls_fingerprint, &overrides.ca_file) {
        (Some(fp), _) => Trust::Pin(
            fp.parse()
                .map_err(|e| Failure::Config(format!("init: --tls-fingerprint: {e}")))?,
        ),
        (None, Some(ca)) => Trust::CaFile(
            std::path::absolute(ca).map_or_else(|_| ca.clone(), |p| p.display().to_string()),
        ),
        (None, None) => Trust::System,
    };
    if args.no_check {
        // Still refuse what the client would refuse (a bad URL).
        client(&url, &creds, &trust)?;
    } else {
        trust = check(&url, &creds, trust, &args, &mut p).await?;
    }
    let dir = config_file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    create_dir(&dir)?;
    let secret_file = dir.join(SECRET_FILE_NAME);
    write_private(&secret_file, &format!("{}\n", creds.secret))?;
    write_private(
        &config_file,
        &config_text(&url, &creds.key, &secret_file, &trust),
    )?;
    Prompter::say(&format!(
        "Wrote {} and the secret to {} (both readable by you only).",
        config_file.display(),
        secret_file.display()
    ));
    let command = std::env::current_exe()
        .ok()
        .and_then(|e| e.canonicalize().ok())
        .map_or_else(|| "opnsense-mcp".to_owned(), |e| e.display().to_string());
    let mut env = serde_json::Map::new();
    if default_path.as_deref() != Some(config_file.as_path()) {
        env.insert(
            "OPNSENSE_CONFIG".into(),
            config_file.display().to_string().into(),
        );
    }
    let text = snippets(&args.name, &command, &env);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(|e| Failure::Other(format!("cannot write to stdout: {e}")))
}

/// The fingerprint of the certificate the configured firewall presents (for `check`), when
/// there is an https URL and a handshake works.
pub async fn seen_fingerprint(config: &Config) -> Option<CertFingerprint> {
    let url = config.url.as_deref()?;
    opnsense_api::tls::peer_fingerprint(url, config.connect_timeout)
        .await
        .ok()
}

/// How `config` verifies the firewall's certificate, for `check`.
pub fn verification(config: &Config) -> &'static str {
    if config.tls_fingerprint.is_some() {
        "pinned certificate (tls_fingerprint)"
    } else if !config.verify_tls {
        "OFF (verify_tls = false)"
    } else if config.ca_file.is_some() {
        "system roots and ca_file"
    } else {
        "system roots"
    }
}

/// A failed TLS check, with the fingerprint the firewall presented and how to pin it.
pub fn with_fingerprint_hint(f: Failure, seen: Option<&CertFingerprint>) -> Failure {
    match (f, seen) {
        (Failure::Upstream(msg), Some(seen)) if msg.contains("TLS handshake") => {
            Failure::Upstream(format!(
                "{msg}. The firewall presented the certificate {seen}: if the firewall's console shows that fingerprint (login banner, HTTPS:), pin it with OPNSENSE_TLS_FINGERPRINT={seen} or run `opnsense-mcp init`"
            ))
        }
        (f, _) => f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_https_when_no_scheme_is_given() {
        assert_eq!(normalise_url(" 192.168.1.1/ "), "https://192.168.1.1");
        assert_eq!(normalise_url("https://fw:8443"), "https://fw:8443");
        assert_eq!(normalise_url("http://fw"), "http://fw");
    }

    #[test]
    fn snippets_are_valid_json_with_the_command_and_env() {
        let mut env = serde_json::Map::new();
        env.insert("OPNSENSE_CONFIG".into(), "/etc/o m/c.toml".into());
        let text = snippets("fw1", "/opt/bin/opnsense-mcp", &env);
        assert!(
            text.contains(
                "claude mcp add --scope user fw1 -e OPNSENSE_CONFIG='/etc/o m/c.toml' -- /opt/bin/opnsense-mcp serve"
            ),
            "{text}"
        );
        let blocks: Vec<serde_json::Value> = text
            .split("\n\n")
            .filter_map(|b| b.find('{').map(|i| &b[i..]))
            .map(|j| serde_json::from_str(j).expect("json"))
            .collect();
        assert_eq!(blocks.len(), 4, "{text}");
        assert_eq!(blocks[0]["mcpServers"]["fw1"]["args"][0], "serve");
        assert_eq!(blocks[1]["mcpServers"]["fw1"]["type"], "stdio");
        assert_eq!(
            blocks[2]["servers"]["fw1"]["env"]["OPNSENSE_CONFIG"],
            "/etc/o m/c.toml"
        );
        assert_eq!(
            blocks[3]["mcpServers"]["fw1"]["command"],
            "/opt/bin/opnsense-mcp"
        );
    }

    #[test]
    fn config_text_is_toml_the_loader_reads() {
        let fp: CertFingerprint = format!("sha256:{}", "ab".repeat(32)).parse().expect("fp");
        let text = config_text(
            "https://fw",
            "k\"ey",
            Path::new("/x/api-secret"),
            &Trust::Pin(fp),
        );
        assert!(text.contains("api_key = \"k\\\"ey\""), "{text}");
        assert!(
            text.contains(&format!("tls_fingerprint = \"{fp}\"")),
            "{text}"
        );
        assert!(
            text.contains("api_secret_file = \"/x/api-secret\""),
            "{text}"
        );
    }
}

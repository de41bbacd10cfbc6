//! HTTP client tokens: the tokens file (`OPNSENSE_HTTP_TOKENS_FILE`, one client a line: name,
//! SHA-256 of its token in hex, scope `read` or `write`; only hashes are stored), checking a
//! presented token against it in constant time, making a new token (`opnsense-mcp token new`),
//! and throttling failed authentication per source address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use opnsense_mcp_tools::fleet::{Caller, Scope};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// One client of the tokens file.
#[derive(Clone)]
pub struct ClientToken {
    /// The client's name (written on every audit line of its calls).
    pub name: String,
    /// SHA-256 of its token.
    pub hash: [u8; 32],
    /// What it may do.
    pub scope: Scope,
}

impl std::fmt::Debug for ClientToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientToken")
            .field("name", &self.name)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of `token`.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
}

fn scope_word(scope: Scope) -> &'static str {
    match scope {
        Scope::Read => "read",
        Scope::Write => "write",
    }
}

/// Parses a tokens file: `name sha256-hex scope` a line (blank lines and `#` comments
/// skipped). Errors name the line, never a hash.
pub fn parse(text: &str, source: &str) -> Result<Vec<ClientToken>, String> {
    let mut tokens: Vec<ClientToken> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{source} line {}", i + 1);
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [name, hash, scope] = fields.as_slice() else {
            return Err(format!(
                "{at}: expected `NAME SHA256-HEX read|write` (three fields), got {}",
                fields.len()
            ));
        };
        if !valid_name(name) {
            return Err(format!(
                "{at}: client name {name:?} must be 1 to 64 letters, digits, -, _, . or @"
            ));
        }
        let Some(hash) = unhex(&hash.to_ascii_lowercase()) else {
            return Err(format!(
                "{at}: the second field must be the token's SHA-256 as 64 hex digits (`opnsense-mcp token new` prints the line)"
            ));
        };
        let scope = match *scope {
            "read" => Scope::Read,
            "write" => Scope::Write,
            other => {
                return Err(format!("{at}: scope must be read or write, got {other:?}"));
            }
        };
        if tokens.iter().any(|t| t.name == *name) {
            return Err(format!("{at}: client {name} is listed twice"));
        }
        if tokens.iter().any(|t| t.hash == hash) {
            return Err(format!(
                "{at}: client {name} has the same token as another client"
            ));
        }
        tokens.push(ClientToken {
            name: (*name).to_owned(),
            hash,
            scope,
        });
    }
    if tokens.is_empty() {
        return Err(format!("{source} lists no client"));
    }
    Ok(tokens)
}

/// Reads and parses the tokens file at `path`.
pub fn load(path: &Path, from: &str) -> Result<Vec<ClientToken>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "http_tokens_file {} (from {from}): cannot read it: {e}",
            path.display()
        )
    })?;
    parse(
        &text,
        &format!("http_tokens_file {} (from {from})", path.display()),
    )
}

/// The client whose token is `presented`, comparing its hash with every client's in
/// constant time.
pub fn find<'a>(tokens: &'a [ClientToken], presented: &str) -> Option<&'a ClientToken> {
    let h = hash(presented);
    let mut found = None;
    for t in tokens {
        if bool::from(t.hash.ct_eq(&h)) {
            found = Some(t);
        }
    }
    found
}

impl ClientToken {
    /// The caller its requests run as.
    pub fn caller(&self) -> Caller {
        Caller::new(self.name.as_str(), self.scope)
    }
}

/// A new random token (256 bits, hex) and its tokens-file line.
pub fn new_token(name: &str, scope: Scope) -> Result<(String, String), String> {
    if !valid_name(name) {
        return Err(format!(
            "client name {name:?} must be 1 to 64 letters, digits, -, _, . or @"
        ));
    }
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| format!("cannot read random bytes from the system: {e}"))?;
    let token = hex(&bytes);
    let line = format!("{name} {} {}", hex(&hash(&token)), scope_word(scope));
    Ok((token, line))
}

/// Failed attempts allowed per source address within [`WINDOW`] before it is refused with 429.
pub const MAX_FAILURES: u32 = 5;
/// The window failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Source addresses remembered at most (the oldest windows are dropped beyond it).
const MAX_TRACKED: usize = 10_000;

/// Failed authentication per source address.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Throttle {
    /// `Some(seconds to wait)` when `ip` has failed too often lately.
    pub fn blocked(&self, ip: IpAddr) -> Option<u64> {
        let map = self.failures.lock().ok()?;
        let (count, since) = map.get(&ip)?;
        let left = WINDOW.checked_sub(since.elapsed())?;
        (*count >= MAX_FAILURES).then(|| left.as_secs().max(1))
    }

    /// Counts a failure of `ip`.
    pub fn failed(&self, ip: IpAddr) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
        if map.len() >= MAX_TRACKED {
            // Still full of live windows: forget the oldest one.
            if let Some(oldest) = map.iter().min_by_key(|(_, (_, s))| *s).map(|(ip, _)| *ip) {
                map.remove(&oldest);
            }
        }
        let entry = map.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 = entry.0.saturating_add(1);
    }

    /// `ip` authenticated: its failures are forgotten.
    pub fn succeeded(&self, ip: IpAddr) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_matches_its_line() {
        let (token, line) = new_token("ci-bot", Scope::Read).expect("token");
        assert_eq!(token.len(), 64);
        assert!(!line.contains(&token), "only the hash is in the line");
        let tokens = parse(&line, "t").expect("parses");
        let found = find(&tokens, &token).expect("found");
        assert_eq!(found.name, "ci-bot");
        assert_eq!(found.scope, Scope::Read);
        assert!(find(&tokens, "something else").is_none());
        let (other, _) = new_token("x", Scope::Write).expect("token");
        assert_ne!(token, other);
        assert!(new_token("bad name", Scope::Read).is_err());
    }

    #[test]
    fn tokens_file_errors_name_the_line() {
        let h = hex(&hash("t"));
        let ok = format!("# clients\n\nalice {h} write\n");
        assert_eq!(parse(&ok, "f").expect("ok").len(), 1);
        for (text, needle) in [
            (format!("alice {h}\n"), "line 1: expected"),
            (format!("alice {h} admin\n"), "scope must be read or write"),
            ("alice abc read\n".to_owned(), "64 hex digits"),
            (
                format!("a {h} read\nb {h} read\n"),
                "line 2: client b has the same token",
            ),
            (
                format!("a {h} read\na {} read\n", hex(&hash("u"))),
                "listed twice",
            ),
            ("# nothing\n".to_owned(), "lists no client"),
        ] {
            let e = parse(&text, "f").expect_err(&text);
            assert!(e.contains(needle), "{text}: {e}");
            assert!(!e.contains(&h), "no hash in errors: {e}");
        }
    }

    #[test]
    fn throttle_blocks_after_the_failures_and_forgets_on_success() {
        let t = Throttle::default();
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        let other: IpAddr = "127.0.0.2".parse().expect("ip");
        for _ in 0..MAX_FAILURES - 1 {
            t.failed(ip);
            assert!(t.blocked(ip).is_none());
        }
        t.failed(ip);
        let wait = t.blocked(ip).expect("blocked");
        assert!((1..=WINDOW.as_secs()).contains(&wait));
        assert!(t.blocked(other).is_none(), "per address");
        t.succeeded(ip);
        assert!(t.blocked(ip).is_none());
    }
}

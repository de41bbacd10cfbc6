//! `opnsense-mcp config`: the effective configuration, one `key = value` line per key (TOML, so
//! it can be pasted into config.toml), each with where its value came from: `default`, the
//! config file, an environment variable or a command-line flag (figment's metadata). Secrets
//! are masked; a file setting shows the file's path, never its content.

use std::io::Write;
use std::path::Path;

use crate::Failure;
use crate::config::{self, Overrides};

/// Keys whose values are never shown.
const SECRET_KEYS: &[&str] = &["api_key", "api_secret", "http_token"];

/// Shown instead of a secret that is set.
pub const MASK: &str = "\"********\"";

/// One key's line: `key = value  # source`.
fn line(key: &str, value: &serde_json::Value, source: &str) -> String {
    let shown = match value {
        serde_json::Value::Null => "(not set)".to_owned(),
        _ if SECRET_KEYS.contains(&key) => MASK.to_owned(),
        serde_json::Value::String(s) if key == "state_url" => {
            toml_string(&opnsense_api::redact_userinfo(s))
        }
        serde_json::Value::String(s) => toml_string(s),
        serde_json::Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), toml_string))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    };
    if value.is_null() {
        format!("# {key} = {shown}  # {source}")
    } else {
        format!("{key} = {shown}  # {source}")
    }
}

/// A TOML basic string (JSON's escaping is valid TOML for these values).
fn toml_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// Prints the effective configuration; fails (exit 2) after printing when the values do not
/// pass the checks `serve` makes.
pub fn show(explicit: Option<&Path>, overrides: &Overrides) -> Result<(), Failure> {
    let figment = config::figment(explicit, overrides)?;
    let raw = config::extract(&figment)?;
    let values = serde_json::to_value(&raw).map_err(|e| Failure::Other(e.to_string()))?;
    let mut out = String::from(
        "# opnsense-mcp effective configuration: defaults < config file < environment < flags\n",
    );
    let file = explicit
        .map(Path::to_path_buf)
        .or_else(|| config::default_config_path().filter(|p| p.exists()));
    out.push_str("# config file: ");
    out.push_str(&file.map_or_else(|| "none".to_owned(), |p| p.display().to_string()));
    out.push('\n');
    for key in config::KNOWN_KEYS.iter().filter(|k| **k != "targets") {
        let value = values.get(*key).cloned().unwrap_or_default();
        out.push_str(&line(key, &value, &config::origin(&figment, key)));
        out.push('\n');
    }
    // Each `[targets.NAME]` table, key by key, masked the same way.
    if let Some(targets) = values.get("targets").and_then(serde_json::Value::as_object) {
        for (name, table) in targets {
            out.push_str("\n[targets.");
            out.push_str(name);
            out.push_str("]\n");
            for (key, value) in table.as_object().into_iter().flatten() {
                let source = config::origin(&figment, &format!("targets.{name}.{key}"));
                out.push_str(&line(key, value, &source));
                out.push('\n');
            }
        }
    }
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .map_err(|e| Failure::Other(format!("cannot write to stdout: {e}")))?;
    config::load(explicit, overrides)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_urls_lose_their_password() {
        let l = line("api_secret", &"hunter2".into(), "default");
        assert!(!l.contains("hunter2") && l.contains(MASK), "{l}");
        let l = line("http_token", &"tok-tok-tok-tok-tok".into(), "x");
        assert!(!l.contains("tok-tok"), "{l}");
        let l = line("state_url", &"postgres://u:pw-secret@db/x".into(), "x");
        assert!(!l.contains("pw-secret"), "{l}");
        let l = line("api_secret", &serde_json::Value::Null, "default");
        assert_eq!(l, "# api_secret = (not set)  # default");
        assert_eq!(
            line("protect", &serde_json::json!(["a -> 22"]), "f"),
            "protect = [\"a -> 22\"]  # f"
        );
        assert_eq!(
            line("http_port", &8000.into(), "default"),
            "http_port = 8000  # default"
        );
    }
}

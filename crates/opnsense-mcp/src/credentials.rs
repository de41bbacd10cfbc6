//! The API key file (`api_key_file` / `OPNSENSE_API_KEY_FILE`) and the certificate pin
//! (`tls_fingerprint` / `OPNSENSE_TLS_FINGERPRINT`), checked for `config::check`.
//!
//! A key file is either the `apikey.txt` OPNsense's GUI downloads when a key is created
//! (System > Access > Users > API keys), lines `key=...` and `secret=...`, which sets both, or
//! a file holding the key alone (like `api_secret_file` holds the secret alone).

use crate::config::ConfigError;

/// What a key file holds.
#[derive(PartialEq, Eq)]
pub struct KeyFile {
    /// The API key.
    pub key: String,
    /// The secret, when the file is in the `apikey.txt` format.
    pub secret: Option<String>,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile")
            .field("key", &"<redacted>")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Parses a key file's text. Errors never quote the file's content.
pub fn parse_key_file(text: &str) -> Result<KeyFile, String> {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .collect();
    let is_pair = |l: &&str| {
        l.split_once('=').is_some_and(|(name, _)| {
            let name = name.trim();
            name.eq_ignore_ascii_case("key") || name.eq_ignore_ascii_case("secret")
        })
    };
    if !lines.iter().any(is_pair) {
        return match lines.as_slice() {
            [key] => Ok(KeyFile {
                key: (*key).to_owned(),
                secret: None,
            }),
            [] => Err("it is empty".into()),
            _ => Err(format!(
                "it has {} lines: expected the key alone, or OPNsense's apikey.txt (key=... and secret=... lines)",
                lines.len()
            )),
        };
    }
    let (mut key, mut secret) = (None, None);
    for (n, line) in lines.iter().enumerate() {
        let Some((name, value)) = line.split_once('=') else {
            return Err(format!(
                "line {} is not `name=value` (an apikey.txt has key=... and secret=... lines)",
                n + 1
            ));
        };
        let slot = match name.trim().to_ascii_lowercase().as_str() {
            "key" => &mut key,
            "secret" => &mut secret,
            other => {
                return Err(format!(
                    "line {} sets `{other}`: an apikey.txt has only key= and secret=",
                    n + 1
                ));
            }
        };
        if slot.is_some() {
            return Err(format!("line {} repeats `{}`", n + 1, name.trim()));
        }
        let value = value.trim();
        if value.is_empty() {
            return Err(format!("line {} has an empty `{}`", n + 1, name.trim()));
        }
        *slot = Some(value.to_owned());
    }
    let key = key.ok_or("it has a secret= line but no key= line")?;
    Ok(KeyFile { key, secret })
}

/// The key and secret once `api_key_file` is read: the file's key (and secret, for an
/// `apikey.txt`) where the file is set. Setting a value both in the file and directly is an error.
pub fn with_key_file(
    api_key: Option<String>,
    api_key_file: Option<&str>,
    api_secret: Option<String>,
    from: &dyn Fn(&str) -> String,
) -> Result<(Option<String>, Option<String>), ConfigError> {
    let Some(path) = api_key_file.filter(|p| !p.trim().is_empty()) else {
        return Ok((api_key, api_secret));
    };
    let source = from("api_key_file");
    if api_key.as_deref().is_some_and(|k| !k.is_empty()) {
        return Err(ConfigError(format!(
            "set api_key (from {}) or api_key_file (from {source}), not both",
            from("api_key")
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "api_key_file {path} (from {source}): cannot read it: {e}"
        ))
    })?;
    let file = parse_key_file(&text)
        .map_err(|why| ConfigError(format!("api_key_file {path} (from {source}): {why}")))?;
    let secret = match (file.secret, api_secret) {
        (Some(_), Some(_)) => {
            return Err(ConfigError(format!(
                "api_key_file {path} (from {source}) holds the secret too: drop api_secret / api_secret_file, or give a file with the key alone"
            )));
        }
        (from_file, direct) => from_file.or(direct),
    };
    Ok((Some(file.key), secret))
}

/// The pin, parsed; an empty value is no pin.
pub fn fingerprint(
    value: Option<&str>,
    from: &dyn Fn(&str) -> String,
) -> Result<Option<opnsense_api::CertFingerprint>, ConfigError> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            v.parse().map_err(|e| {
                ConfigError(format!(
                    "tls_fingerprint (from {}): {e}",
                    from("tls_fingerprint")
                ))
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apikey_txt_gives_key_and_secret() {
        let f = parse_key_file("key=AbC+/dEf=\nsecret=s3cr=t/+x\n").expect("parse");
        assert_eq!(f.key, "AbC+/dEf=");
        assert_eq!(f.secret.as_deref(), Some("s3cr=t/+x"));
        let f = parse_key_file("\r\nsecret=s\r\nKEY = k\r\n").expect("crlf, any order");
        assert_eq!((f.key.as_str(), f.secret.as_deref()), ("k", Some("s")));
    }

    #[test]
    fn a_lone_key_is_the_key() {
        let f = parse_key_file("the-key\n").expect("parse");
        assert_eq!(f.key, "the-key");
        assert_eq!(f.secret, None);
    }

    #[test]
    fn malformed_files_are_refused_without_quoting_them() {
        for (text, why) in [
            ("", "empty"),
            ("a\nb\n", "2 lines"),
            ("key=k\nsecret=s\nuser=root\n", "`user`"),
            ("key=k\nkey=l\n", "repeats"),
            ("key=\nsecret=hidden-value\n", "empty `key`"),
            ("secret=hidden-value\n", "no key="),
            ("key=k\nhidden-value\n", "line 2"),
        ] {
            let e = parse_key_file(text).expect_err(text);
            assert!(e.contains(why), "{text:?}: {e}");
            assert!(!e.contains("hidden-value"), "{e}");
        }
    }
}

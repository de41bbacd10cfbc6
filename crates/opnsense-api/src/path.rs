//! Values that may be placed in a URL path, each checked before any I/O.
//!
//! Nothing a caller supplies reaches a request path without passing one of these types:
//! `../`, `/`, `?`, `#`, `%2f`, whitespace and control characters can never change the path.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// An OPNsense record id: exactly 8-4-4-4-12 hexadecimal digits (any case), nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(String);

impl Uuid {
    /// What the error says `s` should have been.
    const EXPECTED: &str = "a uuid (expected 8-4-4-4-12 hexadecimal digits, e.g. 0b7e0b9c-3c2a-4c9e-9d39-5f6d2f1f4a10)";

    /// Checks `s` strictly: no surrounding whitespace, no trailing newline, no braces.
    pub fn parse(s: &str) -> Result<Self> {
        Self::parse_field("uuid", s)
    }

    /// Like [`Uuid::parse`] but names `field` in the error.
    pub fn parse_field(field: &str, s: &str) -> Result<Self> {
        let ok = s.len() == 36
            && s.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            });
        checked(ok, field, s, Self::EXPECTED).map(|s| Self(s.to_ascii_lowercase()))
    }

    /// The canonical (lower-case) text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Uuid {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl AsRef<str> for Uuid {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A firewall alias name as OPNsense accepts it in a path: 1 to 32 of `[A-Za-z0-9_]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AliasName(String);

impl AliasName {
    /// What the error says `s` should have been.
    const EXPECTED: &str = "an alias name (1 to 32 letters, digits or underscores)";

    /// Checks `s` strictly (a trailing newline is refused, unlike Python's `re.match`).
    pub fn parse(s: &str) -> Result<Self> {
        let ok = (1..=32).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        checked(ok, "name", s, Self::EXPECTED).map(|s| Self(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A savepoint revision as returned by `firewall/filter/savepoint`: digits and at most one dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Revision(String);

impl Revision {
    /// What the error says `s` should have been.
    const EXPECTED: &str =
        "a savepoint revision (digits with an optional fraction, e.g. 1767361234.57)";

    /// Checks `s` (e.g. `"1767361234.57"`).
    pub fn parse(s: &str) -> Result<Self> {
        let dots = s.bytes().filter(|b| *b == b'.').count();
        let ok = !s.is_empty()
            && s.len() <= 32
            && dots <= 1
            && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && s.as_bytes()[0].is_ascii_digit();
        checked(ok, "revision", s, Self::EXPECTED).map(|s| Self(s.to_owned()))
    }

    /// The revision text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A configuration backup's id as `core/backup/backups/this` lists it: the file name
/// `config-<unix time>.xml` of `/conf/backup` (`Config::backup()` writes
/// `"config-" . microtime(true) . ".xml"`: digits with an optional fraction of up to four
/// digits). Nothing else is accepted, so an id can never name another file or path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackupId(String);

impl BackupId {
    /// What the error says `s` should have been.
    const EXPECTED: &str = "a backup id (config-<unix time>.xml as system_backup_list shows it, e.g. config-1767361234.5712.xml)";

    /// Checks `s`: `config-`, 1 to 20 digits, optionally `.` and 1 to 6 digits, `.xml`.
    pub fn parse(s: &str) -> Result<Self> {
        Self::parse_field("backup_id", s)
    }

    /// Like [`BackupId::parse`] but names `field` in the error.
    pub fn parse_field(field: &str, s: &str) -> Result<Self> {
        let digits = |t: &str, max: usize| {
            (1..=max).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())
        };
        let ok = s
            .strip_prefix("config-")
            .and_then(|rest| rest.strip_suffix(".xml"))
            .is_some_and(|stamp| match stamp.split_once('.') {
                Some((secs, frac)) => digits(secs, 20) && digits(frac, 6),
                None => digits(stamp, 20),
            });
        checked(ok, field, s, Self::EXPECTED).map(|s| Self(s.to_owned()))
    }

    /// The id (the file name).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Unix time in its name, in seconds.
    pub fn unix_time(&self) -> f64 {
        self.0
            .strip_prefix("config-")
            .and_then(|r| r.strip_suffix(".xml"))
            .and_then(|t| t.parse().ok())
            .unwrap_or(0.0)
    }
}

/// Each value is shown as its text.
macro_rules! display_as_text {
    ($($value:ty),+) => {
        $(impl fmt::Display for $value {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        })+
    };
}

display_as_text!(Uuid, AliasName, Revision, BackupId);

/// `s` back when `ok`; otherwise the error naming `field`: `"<s>" is not <expected>`.
fn checked<'s>(ok: bool, field: &str, s: &'s str, expected: &str) -> Result<&'s str> {
    if ok {
        Ok(s)
    } else {
        Err(Error::invalid(
            field,
            format!("{:?} is not {expected}", crate::error::excerpt(s)),
        ))
    }
}

/// Percent-encodes one path segment so it can never add a segment, a query or a fragment.
/// Used as a second line of defence; the typed values above are already safe.
pub fn encode_segment(s: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');
    let encoded = utf8_percent_encode(s, SEGMENT).to_string();
    // "." and ".." are path operators even when encoded by some servers: spell them out.
    match encoded.as_str() {
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        _ => encoded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_accepts_any_case_and_canonicalises() {
        let u = Uuid::parse("5B5C6A52-4D7E-4B2B-9A43-1F0E7A3C9D01").expect("valid");
        assert_eq!(u.as_str(), "5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01");
    }

    #[test]
    fn uuid_refuses_anything_else() {
        for bad in [
            "",
            "not-a-uuid",
            "../../etc/passwd",
            "5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01\n",
            " 5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01",
            "5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01/x",
            "5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d0",
            "5b5c6a52x4d7e-4b2b-9a43-1f0e7a3c9d01",
            "5b5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d0g",
            "5b5c6a52-4d7e-4b2b-9a43%2f1f0e7a3c9d0",
            "é5c6a52-4d7e-4b2b-9a43-1f0e7a3c9d01",
        ] {
            let err = Uuid::parse(bad).expect_err(bad);
            assert!(err.to_string().starts_with("invalid uuid"), "{err}");
        }
    }

    #[test]
    fn alias_name_rules() {
        for good in ["A", "my_alias_1", "MyAlias", &"a".repeat(32)] {
            AliasName::parse(good).expect(good);
        }
        for bad in ["", "foo/bar", "../..", "a.b", "foo\n", &"a".repeat(33), "é"] {
            AliasName::parse(bad).expect_err(bad);
        }
    }

    #[test]
    fn revision_rules() {
        Revision::parse("1767361234.57").expect("valid");
        Revision::parse("1767361234").expect("valid");
        for bad in ["", ".5", "1.2.3", "1/2", "12a", "1\n"] {
            Revision::parse(bad).expect_err(bad);
        }
    }

    #[test]
    fn backup_ids_are_checked_strictly() {
        for good in [
            "config-1767361234.5712.xml",
            "config-1767361234.57.xml",
            "config-1767361234.xml",
        ] {
            assert_eq!(BackupId::parse(good).expect(good).as_str(), good);
        }
        let id = BackupId::parse("config-1767361234.5712.xml").expect("valid");
        assert!((id.unix_time() - 1_767_361_234.571_2).abs() < 1e-6);
        for bad in [
            "",
            "config-.xml",
            "config-1.xml/../../etc/passwd",
            "../config-1767361234.xml",
            "config-1767361234.5712.xml\n",
            "config-1767361234.5712.xml ",
            " config-1767361234.xml",
            "config-1767361234..xml",
            "config-1767361234.1.2.xml",
            "config-17673612a4.xml",
            "config-1767361234.xml.gz",
            "CONFIG-1767361234.xml",
            "config-1767361234.1234567.xml",
            "config-123456789012345678901.xml",
            "config-1767361234%2f.xml",
            "config-١٢٣.xml",
            "config.xml",
        ] {
            let err = BackupId::parse(bad).expect_err(bad);
            assert!(err.to_string().starts_with("invalid backup_id"), "{err}");
        }
    }

    #[test]
    fn segments_cannot_escape() {
        assert_eq!(encode_segment("../x"), "..%2Fx");
        assert_eq!(encode_segment(".."), "%2E%2E");
        assert_eq!(encode_segment("a?b#c"), "a%3Fb%23c");
        assert_eq!(encode_segment("%2f"), "%252f");
    }
}

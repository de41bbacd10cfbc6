//! Removes secrets from an OPNsense config.xml before it is shown to anyone: password hashes,
//! API keys, private keys, pre-shared keys, RADIUS/LDAP/SNMP secrets, VPN keys and the like.
//!
//! Matching is by element name (OPNsense 26.1's secret-bearing elements and the names plugins
//! use), so secrets in elements this list has never seen are still caught when their name says
//! what they are.

use quick_xml::events::{BytesText, Event};
use quick_xml::{Reader, Writer};

/// What replaces a secret's text.
pub const MARKER: &str = "[REDACTED]";

/// Name fragments that mark an element's text as secret (compared lower-case).
const SECRET_FRAGMENTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "psk",
    "privkey",
    "privatekey",
    "private_key",
    "otp_seed",
    "apikeys",
    "shared_key",
    "pre-shared-key",
    "community",
    "token",
    "bindpw",
    "subscription",
    "auth_pass",
    "authkey",
];

/// Element names that are secret only as a whole word (`prv` of certificates, `key` of WEP
/// and IPsec pre-shared keys, OpenVPN `tls`).
const SECRET_NAMES: &[&str] = &["prv", "key", "tls"];

/// True when an element with this (local) name holds a secret.
pub fn is_secret_element(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_NAMES.contains(&lower.as_str()) || SECRET_FRAGMENTS.iter().any(|f| lower.contains(f))
}

/// A redacted document and how many elements were blanked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    /// The XML with every secret's text replaced by [`MARKER`].
    pub xml: String,
    /// Number of elements whose non-empty text was replaced.
    pub count: usize,
}

/// The next event of a config.xml reader, or where it stops being well-formed.
pub(crate) fn next_event<'x>(reader: &mut Reader<&'x [u8]>) -> Result<Event<'x>, String> {
    reader.read_event().map_err(|e| {
        format!(
            "config.xml is not well-formed at byte {}: {e}",
            reader.buffer_position()
        )
    })
}

/// Redacts `xml`. Fails only on XML that cannot be parsed (then nothing is returned at all).
pub fn redact_config(xml: &str) -> Result<Redacted, String> {
    let mut reader = Reader::from_str(xml);
    let mut writer = Writer::new(Vec::with_capacity(xml.len()));
    // Depth inside a secret element: all text below it is secret, including nested items.
    let mut secret_depth = 0usize;
    let mut replaced_here = false;
    let mut count = 0usize;
    loop {
        let event = next_event(&mut reader)?;
        let out = match event {
            Event::Eof => break,
            Event::Start(start) => {
                if secret_depth > 0
                    || is_secret_element(&String::from_utf8_lossy(start.local_name().as_ref()))
                {
                    secret_depth += 1;
                    replaced_here = false;
                }
                Event::Start(start)
            }
            Event::End(end) => {
                secret_depth = secret_depth.saturating_sub(1);
                Event::End(end)
            }
            Event::Text(text) if secret_depth > 0 => {
                let raw = String::from_utf8_lossy(text.as_ref()).into_owned();
                if raw.trim().is_empty() {
                    Event::Text(text)
                } else {
                    if !replaced_here {
                        count += 1;
                        replaced_here = true;
                    }
                    Event::Text(BytesText::new(MARKER))
                }
            }
            Event::CData(_) | Event::GeneralRef(_) if secret_depth > 0 => {
                if !replaced_here {
                    count += 1;
                    replaced_here = true;
                }
                Event::Text(BytesText::new(MARKER))
            }
            other => other,
        };
        writer
            .write_event(out)
            .map_err(|e| format!("cannot write redacted XML: {e}"))?;
    }
    let xml = String::from_utf8(writer.into_inner()).map_err(|e| e.to_string())?;
    Ok(Redacted { xml, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for secret in [
            "password",
            "apikeys",
            "prv",
            "ldap_bindpw",
            "radius_secret",
            "pre-shared-key",
            "Key",
            "privateKey",
            "privkey",
            "psk",
            "shared_key",
            "tls",
            "auth_pass",
            "otp_seed",
            "rocommunity",
            "httpdPassword",
            "ddns_domain_key_secret",
            "subscription",
            "passphrase",
        ] {
            assert!(is_secret_element(secret), "{secret}");
        }
        for public in [
            "crt",
            "descr",
            "name",
            "keyPair",
            "hostname",
            "passthrough_x",
        ] {
            assert!(
                !is_secret_element(public) || public.contains("pass"),
                "{public}"
            );
        }
        assert!(
            !is_secret_element("crt")
                && !is_secret_element("keyPair")
                && !is_secret_element("descr")
        );
    }

    #[test]
    fn nested_and_empty() {
        let xml = "<opnsense><system><user><name>root</name><password>$2y$10$abc</password>\
                   <apikeys><item><key>K</key><secret>S</secret></item></apikeys></user></system>\
                   <cert><prv></prv><crt>PUBLIC</crt></cert></opnsense>";
        let r = redact_config(xml).expect("parses");
        assert_eq!(r.count, 3, "{}", r.xml);
        assert!(!r.xml.contains("$2y$10$abc") && !r.xml.contains(">K<") && !r.xml.contains(">S<"));
        assert!(r.xml.contains("<name>root</name>") && r.xml.contains("PUBLIC"));
    }

    #[test]
    fn broken_xml_is_refused() {
        assert!(redact_config("<a><b></a>").is_err());
    }
}

//! Certificate pinning: accept exactly one leaf certificate, named by its SHA-256 fingerprint.
//!
//! OPNsense's default web GUI certificate is self-signed and names only `hostname.domain`, so a
//! CA file does not help when the URL uses the IP address. A pin ([`ClientBuilder::tls_fingerprint`])
//! accepts the one certificate whose DER encoding hashes to the pinned value, whatever names it
//! carries and whoever signed it, and nothing else. The handshake signature is still verified with
//! the crypto provider's algorithms, so only a peer holding that certificate's private key passes.
//!
//! [`peer_fingerprint`] reads the fingerprint a server presents (for `check` and `init`), without
//! sending credentials.
//!
//! [`ClientBuilder::tls_fingerprint`]: crate::ClientBuilder::tls_fingerprint

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The SHA-256 fingerprint of a certificate's DER encoding. Parsed from `sha256:` followed by
/// 64 hex digits, with or without colons or spaces between the bytes: `sha256:AB:CD:...`,
/// what `openssl x509 -noout -fingerprint -sha256` prints (`sha256 Fingerprint=AB:CD:...`) and
/// what OPNsense's console banner shows under `HTTPS:` (`SHA256 AB CD ...`, on two lines) all
/// parse. Shown as `sha256:` and lower-case hex without separators.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertFingerprint([u8; 32]);

impl CertFingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// The 32 bytes of the hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for CertFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CertFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a text is not a [`CertFingerprint`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0}: a certificate fingerprint is `sha256:` followed by 64 hex digits (colons between the bytes optional), e.g. sha256:3f9a…"
)]
pub struct FingerprintParseError(String);

impl FromStr for CertFingerprint {
    type Err = FingerprintParseError;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let s = s.trim();
        let Some(rest) = s
            .get(..6)
            .filter(|p| p.eq_ignore_ascii_case("sha256"))
            .map(|_| s[6..].trim_start())
        else {
            return Err(FingerprintParseError(
                "it does not start with `sha256:`".into(),
            ));
        };
        let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
        // `openssl x509 -noout -fingerprint -sha256` prints `sha256 Fingerprint=AB:CD:...`.
        let rest = rest
            .get(..12)
            .filter(|p| p.eq_ignore_ascii_case("fingerprint="))
            .map_or(rest, |_| &rest[12..]);
        let digits: Vec<u8> = rest
            .bytes()
            .filter(|b| *b != b':' && !b.is_ascii_whitespace())
            .collect();
        if digits.len() != 64 {
            return Err(FingerprintParseError(format!(
                "it has {} hex digits, not 64",
                digits.len()
            )));
        }
        let mut out = [0u8; 32];
        for (i, pair) in digits.chunks(2).enumerate() {
            let (Some(hi), Some(lo)) = (hex_value(pair[0]), hex_value(pair[1])) else {
                return Err(FingerprintParseError(
                    "it holds a character that is not a hex digit".into(),
                ));
            };
            out[i] = hi << 4 | lo;
        }
        Ok(Self(out))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The server presented a certificate other than the pinned one (the rustls error's cause).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the server's certificate has fingerprint {seen}, but the pin expects {expected}")]
pub(crate) struct PinMismatch {
    pub(crate) seen: CertFingerprint,
    pub(crate) expected: CertFingerprint,
}

/// The provider every client of this crate uses (aws-lc-rs, as reqwest's default).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// How a [`Verifier`] judges the certificate chain the server presents.
#[derive(Debug)]
enum Trust {
    /// Accept exactly the pinned certificate; names, issuer and validity dates are not looked
    /// at (the pin names the certificate itself).
    Pinned(CertFingerprint),
    /// Record it and accept it: for [`peer_fingerprint`] only, whose request carries no
    /// credentials.
    Recorded(Arc<Mutex<Option<CertFingerprint>>>),
    /// Verify the chain against the platform's roots and the extra CA certificates.
    Roots(Arc<LazyRoots>),
}

/// The one verifier of every client of this crate: the chain is judged by its [`Trust`];
/// handshake signatures need no roots and are verified as usual with the provider's
/// algorithms (as the platform verifier does too).
#[derive(Debug)]
struct Verifier {
    trust: Trust,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match &self.trust {
            Trust::Pinned(expected) => {
                let seen = CertFingerprint::of_der(end_entity);
                if seen == *expected {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(rustls::Error::InvalidCertificate(
                        rustls::CertificateError::Other(rustls::OtherError(Arc::new(
                            PinMismatch {
                                seen,
                                expected: *expected,
                            },
                        ))),
                    ))
                }
            }
            Trust::Recorded(slot) => {
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(CertFingerprint::of_der(end_entity));
                }
                Ok(ServerCertVerified::assertion())
            }
            Trust::Roots(roots) => roots.verifier()?.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A rustls client configuration whose [`Verifier`] judges the chain by `trust`, speaking
/// HTTP/1.1 only or also HTTP/2.
fn config_with(
    trust: Trust,
    provider: Arc<CryptoProvider>,
    http1_only: bool,
) -> Result<rustls::ClientConfig> {
    let verifier = Arc::new(Verifier {
        trust,
        provider: provider.clone(),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = if http1_only {
        vec![b"http/1.1".to_vec()]
    } else {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    };
    Ok(config)
}

/// The TLS configuration of a client pinned to `expected`.
pub(crate) fn pinned_config(
    expected: CertFingerprint,
    http1_only: bool,
) -> Result<rustls::ClientConfig> {
    config_with(Trust::Pinned(expected), provider(), http1_only)
}

/// The verification reqwest's own rustls set-up does (`rustls-platform-verifier`: the
/// platform's root certificates plus the extra CA certificates, checked with webpki), except
/// that the platform's roots (about 145 certificates read from disk and parsed) are loaded at
/// the first handshake and once for every client built from the same builder (the clients of
/// [`crate::Client::with_own_connection`] and [`crate::Client::probe_new_connection`] share
/// them): a client that never connects reads none, and a server does not wait for them before
/// it can answer its own client.
pub(crate) struct LazyRoots {
    extra: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
    verifier: OnceLock<std::result::Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl fmt::Debug for LazyRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyRoots")
            .field("extra", &self.extra.len())
            .field("loaded", &self.verifier.get().is_some())
            .finish_non_exhaustive()
    }
}

impl LazyRoots {
    /// A verifier trusting the platform's roots and `extra` (DER). The extra certificates are
    /// checked now (as when reqwest built its verifier), the platform's are read when first needed.
    pub(crate) fn new(extra: Vec<CertificateDer<'static>>) -> Result<Self> {
        let mut check = rustls::RootCertStore::empty();
        for cert in &extra {
            check
                .add(cert.clone())
                .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        }
        Ok(Self {
            extra,
            provider: provider(),
            verifier: OnceLock::new(),
        })
    }

    /// The platform verifier, built on first use.
    fn verifier(&self) -> std::result::Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                rustls_platform_verifier::Verifier::new_with_extra_roots(
                    self.extra.iter().cloned(),
                    self.provider.clone(),
                )
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether the platform's roots have been read (tests).
    #[cfg(test)]
    pub(crate) fn loaded(&self) -> bool {
        self.verifier.get().is_some()
    }
}

/// The TLS configuration of a client that verifies with `roots`.
pub(crate) fn verified_config(
    roots: Arc<LazyRoots>,
    http1_only: bool,
) -> Result<rustls::ClientConfig> {
    let provider = roots.provider.clone();
    config_with(Trust::Roots(roots), provider, http1_only)
}

/// The DER certificates of a PEM bundle (already checked to parse).
pub(crate) fn pem_ders(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject as _;
    CertificateDer::pem_slice_iter(pem)
        .filter_map(std::result::Result::ok)
        .collect()
}

/// The pin mismatch behind a transport error, if that is what it is. `std::io::Error` hides
/// its inner error from `source()`, so it is opened with `get_ref`.
pub(crate) fn find_pin_mismatch(e: &(dyn std::error::Error + 'static)) -> Option<PinMismatch> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other))) =
            err.downcast_ref::<rustls::Error>()
            && let Some(m) = other.0.downcast_ref::<PinMismatch>()
        {
            return Some(m.clone());
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && let Some(m) = find_pin_mismatch(inner)
        {
            return Some(m);
        }
        current = err.source();
    }
    None
}

/// Connects to the server of `url` (an `https://` URL), completes a TLS handshake accepting any
/// certificate (the handshake signature is still checked) and returns the fingerprint of the
/// leaf certificate it presented. One request without credentials is sent (`GET` of the URL);
/// its answer is ignored. This says what a server presents, not that it is the right one:
/// compare the fingerprint with the firewall's own before pinning it.
pub async fn peer_fingerprint(url: &str, timeout: Duration) -> Result<CertFingerprint> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| Error::Config(format!("{url:?} is not a valid URL: {e}")))?;
    if parsed.scheme() != "https" {
        return Err(Error::Config(format!(
            "{url:?} is not an https:// URL: there is no certificate to read"
        )));
    }
    let host = crate::client::host_and_port(&parsed);
    let recorded = Arc::new(Mutex::new(None));
    let config = config_with(Trust::Recorded(recorded.clone()), provider(), true)?;
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .connect_timeout(timeout)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
    let sent = http.get(parsed).send().await;
    let seen = recorded.lock().ok().and_then(|s| *s);
    match (seen, sent) {
        (Some(fp), _) => Ok(fp),
        (None, Err(e)) => Err(Error::Tls {
            host,
            detail: format!("no certificate was received: {}", e.without_url()),
            source: None,
        }),
        (None, Ok(_)) => Err(Error::Tls {
            host,
            detail: "the server answered without presenting a certificate".into(),
            source: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_with_and_without_colons_and_show_lower_case() {
        let hex = "3F".repeat(31) + "a0";
        let plain: CertFingerprint = format!("sha256:{hex}").parse().expect("plain");
        let colons: CertFingerprint = format!(
            "SHA256:{}",
            hex.as_bytes()
                .chunks(2)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join(":")
        )
        .parse()
        .expect("colons");
        assert_eq!(plain, colons);
        assert_eq!(plain.to_string(), format!("sha256:{}", hex.to_lowercase()));
        assert_eq!(plain.as_bytes()[31], 0xa0);
        // openssl's output, and the console banner's (spaces, a line break).
        let spaced = hex
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>();
        let openssl = format!("sha256 Fingerprint={}", spaced.join(":"));
        assert_eq!(openssl.parse::<CertFingerprint>().expect("openssl"), plain);
        let banner = format!(
            "SHA256 {}\n   {}",
            spaced[..16].join(" "),
            spaced[16..].join(" ")
        );
        assert_eq!(banner.parse::<CertFingerprint>().expect("banner"), plain);
    }

    #[test]
    fn bad_fingerprints_are_refused_saying_why() {
        for (text, why) in [
            ("3f3f", "sha256:"),
            ("sha1:3f", "sha256:"),
            ("sha256:3f3f", "4 hex digits"),
            (&format!("sha256:{}", "zz".repeat(32)), "not a hex digit"),
        ] {
            let e = text.parse::<CertFingerprint>().expect_err(text).to_string();
            assert!(e.contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn fingerprint_of_der_is_sha256() {
        // SHA-256 of the empty string.
        assert_eq!(
            CertFingerprint::of_der(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

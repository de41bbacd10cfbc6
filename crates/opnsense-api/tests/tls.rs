//! TLS against a real HTTPS server on 127.0.0.1: a test CA, a leaf for 127.0.0.1/localhost
//! and a rustls terminator in front of a wiremock server.

mod common;
mod support;

use opnsense_api::{Client, ClientBuilder, Error, FirmwareVersion, Request};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use common::{KEY, SECRET};
use support::{Pki, Server, tls_front};

/// A wiremock server answering `core/system/status` (with Basic auth checked), behind TLS
/// with a certificate for `names`.
async fn https_server(names: &[&str]) -> (Pki, MockServer, Server) {
    let pki = Pki::new(names);
    let backend = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/core/system/status"))
        .and(common::basic_auth())
        .respond_with(common::json(json!({"metadata": {"system": {"status": 2}}})))
        .mount(&backend)
        .await;
    let front = tls_front(&pki, &backend);
    (pki, backend, front)
}

fn builder(url: &str) -> ClientBuilder {
    Client::builder(url)
        .credentials(KEY, SECRET)
        .firmware_version(FirmwareVersion::new(26, 1, 10))
}

async fn status(client: &Client) -> opnsense_api::Result<Value> {
    client
        .send_json::<Value>(Request::get("core/system/status"))
        .await
}

#[tokio::test]
async fn untrusted_self_signed_certificate_is_tls_error_naming_the_ca_file_option() {
    let (_pki, _backend, front) = https_server(&["127.0.0.1", "localhost"]).await;
    let client = builder(&front.https_url()).build().expect("client");
    let err = status(&client).await.expect_err("untrusted");
    assert!(
        matches!(&err, Error::Tls { host, .. } if host == &front.addr.to_string()),
        "{err:?}"
    );
    // The rustls cause is kept as the source, and names the problem.
    let mut chain = Vec::new();
    let mut src = std::error::Error::source(&err);
    while let Some(s) = src {
        chain.push(s.to_string());
        src = s.source();
    }
    assert!(
        matches!(
            err,
            Error::Tls {
                source: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        chain
            .iter()
            .any(|s| s.to_lowercase().contains("certificate")),
        "{chain:?}"
    );
    assert!(chain.iter().all(|s| !s.contains(SECRET)), "{chain:?}");
    let text = err.to_string();
    assert!(text.contains("CA file"), "{text}");
    assert!(text.contains("ca_file"), "{text}");
    assert!(text.contains("verify_tls"), "{text}");
    assert!(text.to_lowercase().contains("certificate"), "{text}");
}

#[tokio::test]
async fn ca_file_makes_the_certificate_trusted() {
    let (pki, _backend, front) = https_server(&["127.0.0.1", "localhost"]).await;
    let ca = pki.ca_file();
    let client = builder(&front.https_url())
        .ca_file(ca.path())
        .build()
        .expect("client");
    let v = status(&client).await.expect("trusted via CA file");
    assert_eq!(v["metadata"]["system"]["status"], 2);
}

#[tokio::test]
async fn ca_pem_makes_the_certificate_trusted() {
    let (pki, _backend, front) = https_server(&["127.0.0.1", "localhost"]).await;
    let client = builder(&front.https_url())
        .ca_pem(pki.ca_pem.clone())
        .build()
        .expect("client");
    status(&client).await.expect("trusted via CA PEM");
}

#[tokio::test]
async fn verify_tls_false_accepts_any_certificate() {
    let (_pki, _backend, front) = https_server(&["127.0.0.1"]).await;
    let client = builder(&front.https_url())
        .verify_tls(false)
        .build()
        .expect("client");
    status(&client).await.expect("verification off");
}

#[test]
fn ca_file_that_is_not_pem_is_a_config_error_naming_the_file() {
    let (_file, path) = support::not_pem_file();
    let err = builder("https://127.0.0.1:1")
        .ca_file(&path)
        .build()
        .expect_err("not PEM");
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn missing_ca_file_is_a_config_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no-such-ca.pem");
    let err = builder("https://127.0.0.1:1")
        .ca_file(&path)
        .build()
        .expect_err("missing");
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("no-such-ca.pem"), "{err}");
}

#[tokio::test]
async fn certificate_for_another_host_is_tls_error() {
    let (pki, _backend, front) = https_server(&["fw.example.invalid"]).await;
    let client = builder(&front.https_url())
        .ca_pem(pki.ca_pem.clone())
        .build()
        .expect("client");
    let err = status(&client).await.expect_err("wrong name");
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    let detail = err.to_string();
    assert!(
        detail.contains("NotValidForName") || detail.contains("not valid for"),
        "{detail}"
    );
}

#[tokio::test]
async fn certificate_from_another_ca_is_tls_error() {
    let (_pki, _backend, front) = https_server(&["127.0.0.1"]).await;
    let other = Pki::new(&["127.0.0.1"]);
    let client = builder(&front.https_url())
        .ca_pem(other.ca_pem.clone())
        .build()
        .expect("client");
    let err = status(&client).await.expect_err("other CA");
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
}

fn fingerprint_of(pki: &Pki) -> opnsense_api::CertFingerprint {
    opnsense_api::CertFingerprint::of_der(pki.leaf_der.as_ref())
}

#[tokio::test]
async fn pinned_certificate_is_accepted_without_a_ca() {
    let (pki, _backend, front) = https_server(&["127.0.0.1", "localhost"]).await;
    let client = builder(&front.https_url())
        .tls_fingerprint(fingerprint_of(&pki))
        .build()
        .expect("client");
    let v = status(&client).await.expect("pinned certificate accepted");
    assert_eq!(v["metadata"]["system"]["status"], 2);
}

#[tokio::test]
async fn pinned_certificate_is_accepted_whatever_names_it_carries() {
    // OPNsense's self-signed certificate names hostname.domain; the URL uses the address.
    let (pki, _backend, front) = https_server(&["opnsense.localdomain"]).await;
    let unpinned = builder(&front.https_url())
        .ca_pem(pki.ca_pem.clone())
        .build()
        .expect("client");
    let err = status(&unpinned).await.expect_err("name mismatch");
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    let pinned = builder(&front.https_url())
        .tls_fingerprint(fingerprint_of(&pki))
        .build()
        .expect("client");
    status(&pinned).await.expect("the pin ignores names");
}

#[tokio::test]
async fn wrong_pin_is_refused_naming_seen_and_expected_fingerprints() {
    let (pki, backend, front) = https_server(&["127.0.0.1"]).await;
    let other = Pki::new(&["127.0.0.1"]);
    let expected = fingerprint_of(&other);
    let seen = fingerprint_of(&pki);
    assert_ne!(seen, expected);
    // Even with the server's CA trusted, the pin alone decides.
    let client = builder(&front.https_url())
        .ca_pem(pki.ca_pem.clone())
        .tls_fingerprint(expected)
        .build()
        .expect("client");
    let err = status(&client).await.expect_err("wrong pin");
    match &err {
        Error::CertificateMismatch {
            host,
            seen: s,
            expected: e,
        } => {
            assert_eq!(host, &front.addr.to_string());
            assert_eq!(*s, seen);
            assert_eq!(*e, expected);
        }
        other => panic!("expected CertificateMismatch, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains(&seen.to_string()), "{text}");
    assert!(text.contains(&expected.to_string()), "{text}");
    assert!(text.contains("OPNSENSE_TLS_FINGERPRINT"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    // No request reached the server: the credentials never left.
    let received = backend.received_requests().await.unwrap_or_default();
    assert!(received.is_empty(), "{received:?}");
}

#[tokio::test]
async fn peer_fingerprint_reads_the_presented_certificate_without_credentials() {
    let (pki, backend, front) = https_server(&["opnsense.localdomain"]).await;
    let seen =
        opnsense_api::tls::peer_fingerprint(&front.https_url(), std::time::Duration::from_secs(10))
            .await
            .expect("fingerprint");
    assert_eq!(seen, fingerprint_of(&pki));
    for r in backend.received_requests().await.unwrap_or_default() {
        assert!(!r.headers.contains_key("authorization"), "{r:?}");
    }
    let closed = support::closed_port().await;
    let err = opnsense_api::tls::peer_fingerprint(
        &format!("https://127.0.0.1:{closed}"),
        std::time::Duration::from_secs(5),
    )
    .await
    .expect_err("nothing listens");
    assert!(err.to_string().contains("no certificate"), "{err}");
}

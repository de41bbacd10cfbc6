//! A test CA and a leaf certificate it signed (rcgen), with a rustls acceptor for the leaf.

use std::io::Write;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A test CA and a leaf certificate it signed.
pub struct Pki {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The leaf certificate (the chain is the leaf alone).
    pub leaf_der: CertificateDer<'static>,
    /// The leaf's private key.
    pub leaf_key: PrivatePkcs8KeyDer<'static>,
}

impl Pki {
    /// A CA named "test CA" and a leaf for `names` (e.g. `["127.0.0.1", "localhost"]`; the
    /// first is the leaf's common name).
    pub fn new(names: &[&str]) -> Self {
        Self::named("test CA", names)
    }

    /// [`Pki::new`] with the CA's common name given (so two CAs of one test can be told apart).
    pub fn named(ca_name: &str, names: &[&str]) -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, ca_name);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("ca key"))
            .expect("ca cert");

        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let common_name = names.first().cloned().unwrap_or_else(|| "127.0.0.1".into());
        let mut leaf_params = CertificateParams::new(names).expect("leaf params");
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        leaf_params.use_authority_key_identifier_extension = true;
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate().expect("leaf key");
        let leaf = leaf_params.signed_by(&leaf_key, &ca).expect("leaf cert");
        Self {
            ca_pem: ca.pem(),
            leaf_der: leaf.der().clone(),
            leaf_key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
        }
    }

    /// The CA certificate written to a temporary PEM file (deleted when dropped).
    pub fn ca_file(&self) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("tempfile");
        f.write_all(self.ca_pem.as_bytes()).expect("write CA");
        f.flush().expect("flush");
        f
    }

    /// A TLS acceptor presenting the leaf (aws-lc-rs provider, safe default versions).
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![self.leaf_der.clone()],
                PrivateKeyDer::Pkcs8(self.leaf_key.clone_key()),
            )
            .expect("server cert");
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }
}

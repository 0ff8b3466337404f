//! A PBX's TLS set-up as the link tests need it: a CA of its own (as Asterisk's
//! `ast_tls_cert` or a FreeSWITCH/OpenScape installation makes one) and a server
//! certificate it signed for 127.0.0.1, made at test time with rcgen.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A CA named `name` and a certificate it signed for 127.0.0.1: the CA's PEM (for a
/// `tls_ca` file) and the server configuration a fake switch serves TLS with.
pub fn ca_and_server(name: &str) -> (String, Arc<rustls::ServerConfig>) {
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("{name} CA"));
    let ca = ca_params.self_signed(&ca_key).expect("a CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("a server key");
    let params = CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("server params");
    let cert = params
        .signed_by(&key, &issuer)
        .expect("a server certificate");
    #[allow(deprecated)] // ring: see the tls module
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("the server certificate and key");
    (ca.pem(), Arc::new(server))
}

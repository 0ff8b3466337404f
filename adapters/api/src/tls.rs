//! TLS to a switch (`tls = true` on AMI, `transport = "tls"` on SIP), through rustls:
//! one client configuration and handshake for every adapter that links over TLS.
//!
//! PBX installations mostly use a certificate of their own CA (Asterisk's
//! `ast_tls_cert`, a FreeSWITCH or OpenScape self-made CA), so a `tls_ca` key names
//! that CA's PEM file; without it the Mozilla roots decide. The certificate must
//! name `host` (as a DNS name or an IP address in its subjectAltName), as for any TLS
//! client.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The byte stream a session runs on: plain TCP or TLS over it.
pub trait ByteStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ByteStream for T {}

/// The crypto provider, as the daemon's own TLS uses it. rustls marks ring's provider
/// deprecated (no post-quantum key exchange); it is maintained, and the alternative
/// (aws-lc-rs) needs cmake and a much longer build.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client configuration for `tls_ca` (or the Mozilla roots). Fails with a message
/// naming the file when it cannot be read or holds no certificate.
pub fn client_config(ca: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match ca {
        Some(file) => {
            let certs = CertificateDer::pem_file_iter(file)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "{} holds no certificate (expected PEM `BEGIN CERTIFICATE` blocks)",
                    file.display()
                ));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The TLS handshake on a connected socket, checking the certificate against `host`.
pub async fn connect(
    config: Arc<ClientConfig>,
    host: &str,
    tcp: TcpStream,
) -> Result<Box<dyn ByteStream>, String> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| format!("{host} is not a name a certificate can carry: {e}"))?;
    let stream = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS handshake failed: {e}"))?;
    Ok(Box::new(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_ca_file_is_named() {
        let err = client_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
        let dir = std::env::temp_dir().join(format!("adapter-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = client_config(Some(&empty)).unwrap_err();
        assert!(err.contains("holds no certificate"), "{err}");
        assert!(client_config(None).is_ok());
    }
}

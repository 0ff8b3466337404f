//! TLS for the API port: `[server] tls_cert` and `tls_key` (PEM files) made into a
//! rustls server configuration, and kept reloadable so that a renewed certificate
//! takes effect on SIGHUP without a restart.
//!
//! The certificate file holds the server's certificate first, then any intermediate
//! certificates (the chain a client needs to reach its trusted root). The key file
//! holds one private key: PKCS#8 (`BEGIN PRIVATE KEY`), RSA PKCS#1 (`BEGIN RSA
//! PRIVATE KEY`) or EC SEC1 (`BEGIN EC PRIVATE KEY`). Every error names the config
//! key and the file, since that is what the operator has to fix.
//!
//! Only the ring provider is built in (see Cargo.toml); configurations name it
//! explicitly instead of relying on a process-wide default.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// A TLS file that cannot be used, naming the `[server]` key and the file.
#[derive(Debug, thiserror::Error)]
#[error("[server] {key}: {message}")]
pub struct TlsError {
    /// `tls_cert` or `tls_key`.
    pub key: &'static str,
    pub message: String,
}

impl TlsError {
    fn new(key: &'static str, message: String) -> Self {
        TlsError { key, message }
    }
}

/// The crypto provider every TLS configuration of the daemon uses. rustls marks
/// ring's provider deprecated because it lacks post-quantum key exchange; it is
/// still maintained, and the alternative (aws-lc-rs) needs cmake and far longer
/// builds. Classical X25519/ECDHE key exchange is what browsers fall back to.
#[allow(deprecated)]
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Read the certificate chain and key and build a server configuration from them.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = read_chain(cert)?;
    let private = read_key(key)?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::new("tls_cert", e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| {
            // What is left to go wrong is the pair: a key rustls cannot use, or one
            // that is not the certificate's.
            TlsError::new(
                "tls_key",
                format!(
                    "{} cannot be used with the certificate in {}: {e}",
                    key.display(),
                    cert.display()
                ),
            )
        })?;
    // HTTP/1.1 only: WebSocket upgrades need it, and the server speaks no HTTP/2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path)
        .map_err(|e| TlsError::new(key, format!("cannot read {}: {e}", path.display())))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read("tls_cert", path)?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            TlsError::new(
                "tls_cert",
                format!("{} is not a valid PEM file: {e}", path.display()),
            )
        })?;
    if chain.is_empty() {
        return Err(TlsError::new(
            "tls_cert",
            format!(
                "{} holds no certificate (expected PEM `BEGIN CERTIFICATE` blocks: the \
                 server's certificate, then its intermediates)",
                path.display()
            ),
        ));
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read("tls_key", path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        let why = match e {
            rustls::pki_types::pem::Error::NoItemsFound => String::new(),
            other => format!(" ({other})"),
        };
        TlsError::new(
            "tls_key",
            format!(
                "{} holds no private key{why}: expected one PEM block `BEGIN PRIVATE KEY` \
                 (PKCS#8), `BEGIN RSA PRIVATE KEY` or `BEGIN EC PRIVATE KEY`",
                path.display()
            ),
        )
    })
}

/// The API port's TLS acceptor, replaced as a whole on [`Reloadable::reload`]:
/// handshakes that started before keep the configuration they started with.
pub struct Reloadable {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<TlsAcceptor>,
}

impl Reloadable {
    pub fn load(cert: &Path, key: &Path) -> Result<Reloadable, TlsError> {
        let config = server_config(cert, key)?;
        Ok(Reloadable {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: RwLock::new(TlsAcceptor::from(config)),
        })
    }

    /// The acceptor for a new connection.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Read the files again. On error the current certificate stays in use.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = server_config(&self.cert, &self.key)?;
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = TlsAcceptor::from(config);
        Ok(())
    }

    pub fn cert_path(&self) -> &Path {
        &self.cert
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/tls")
            .join(name)
    }

    /// The three key encodings a certificate authority or openssl hands out.
    #[test]
    fn pkcs8_rsa_and_ec_keys_load() {
        for (cert, key) in [
            ("rsa-cert.pem", "rsa-pkcs1-key.pem"),
            ("rsa-cert.pem", "rsa-pkcs8-key.pem"),
            ("ec-cert.pem", "ec-sec1-key.pem"),
            ("ec-cert.pem", "ec-pkcs8-key.pem"),
        ] {
            let loaded = server_config(&fixture(cert), &fixture(key));
            assert!(loaded.is_ok(), "{cert} + {key}: {:?}", loaded.err());
        }
    }

    #[test]
    fn errors_name_the_key_and_the_file() {
        let missing = fixture("nope.pem");
        let err = server_config(&missing, &fixture("ec-sec1-key.pem")).unwrap_err();
        assert_eq!(err.key, "tls_cert");
        assert!(err.to_string().contains("nope.pem"), "{err}");
        assert!(err
            .to_string()
            .starts_with("[server] tls_cert: cannot read"));

        // A key where the certificate should be, and the other way round.
        let err =
            server_config(&fixture("ec-sec1-key.pem"), &fixture("ec-sec1-key.pem")).unwrap_err();
        assert_eq!(err.key, "tls_cert");
        assert!(err.to_string().contains("holds no certificate"), "{err}");
        let err = server_config(&fixture("ec-cert.pem"), &fixture("ec-cert.pem")).unwrap_err();
        assert_eq!(err.key, "tls_key");
        assert!(err.to_string().contains("holds no private key"), "{err}");

        // A key that is not the certificate's.
        let err =
            server_config(&fixture("ec-cert.pem"), &fixture("rsa-pkcs1-key.pem")).unwrap_err();
        assert_eq!(err.key, "tls_key");
        assert!(err.to_string().contains("rsa-pkcs1-key.pem"), "{err}");
    }

    #[test]
    fn a_failed_reload_keeps_the_current_certificate() {
        let dir = std::env::temp_dir().join(format!(
            "ctibridge-tls-reload-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::copy(fixture("ec-cert.pem"), &cert).unwrap();
        std::fs::copy(fixture("ec-sec1-key.pem"), &key).unwrap();
        let tls = Reloadable::load(&cert, &key).unwrap();
        let before = tls.acceptor();
        std::fs::write(&key, "not a key").unwrap();
        assert_eq!(tls.reload().unwrap_err().key, "tls_key");
        assert!(Arc::ptr_eq(before.config(), tls.acceptor().config()));
        std::fs::copy(fixture("ec-sec1-key.pem"), &key).unwrap();
        tls.reload().unwrap();
        assert!(!Arc::ptr_eq(before.config(), tls.acceptor().config()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

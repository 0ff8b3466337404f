//! TLS to the database servers, through rustls, as the database URL asks for it.
//!
//! - PostgreSQL, `?sslmode=`: `disable`, `allow` and `prefer` connect in plain text
//!   (ctibridge never negotiates TLS on its own); `require` encrypts without checking
//!   the server's certificate (libpq's meaning); `verify-ca` checks that the
//!   certificate chains to a trusted root; `verify-full` checks that and that it names
//!   the host. The trusted roots are the `?sslrootcert=FILE` PEM file when given, else
//!   the Mozilla roots built into the binary.
//! - MySQL/MariaDB, `?ssl-mode=` (the mysql client's option): `DISABLED` and
//!   `PREFERRED` connect in plain text; `REQUIRED` encrypts without checking the
//!   certificate; `VERIFY_CA` checks the chain against the built-in roots;
//!   `VERIFY_IDENTITY` also the host name. They are handed to mysql_async as its own
//!   `require_ssl`/`verify_ca`/`verify_identity` options.
//!
//! A server that cannot do TLS when it is required is a connection error naming the
//! server, as any other (see `db::AnyConn::establish`).

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What a PostgreSQL URL's `sslmode` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgTls {
    Off,
    Require,
    VerifyCa,
    VerifyFull,
}

/// The URL's query parameters, in order.
fn params(url: &str) -> Vec<(&str, &str)> {
    let Some((_, query)) = url.split_once('?') else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect()
}

fn with_params(url: &str, params: &[(&str, &str)]) -> String {
    let base = url.split_once('?').map_or(url, |(base, _)| base);
    if params.is_empty() {
        return base.to_string();
    }
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{base}?{}", query.join("&"))
}

/// A PostgreSQL URL's TLS mode and root file, and the URL to hand tokio-postgres (which
/// knows `sslmode=require` but not the verify modes nor `sslrootcert`).
pub fn postgres(url: &str) -> Result<(PgTls, Option<String>, String), String> {
    let mut mode = PgTls::Off;
    let mut root = None;
    let mut rest = Vec::new();
    for (key, value) in params(url) {
        match key {
            "sslmode" => {
                mode = match value {
                    "disable" | "allow" | "prefer" => PgTls::Off,
                    "require" => PgTls::Require,
                    "verify-ca" => PgTls::VerifyCa,
                    "verify-full" => PgTls::VerifyFull,
                    other => {
                        return Err(format!(
                            "sslmode={other} is not a PostgreSQL sslmode (disable, prefer, require, verify-ca, verify-full)"
                        ))
                    }
                }
            }
            "sslrootcert" => root = Some(value.to_string()),
            _ => rest.push((key, value)),
        }
    }
    if root.is_some() && matches!(mode, PgTls::Off | PgTls::Require) {
        return Err("sslrootcert is only used with sslmode=verify-ca or verify-full".into());
    }
    if mode == PgTls::Off {
        return Ok((mode, None, url.to_string()));
    }
    // tokio-postgres is asked for plain text or TLS; the checking is ours.
    let sslmode = if mode == PgTls::Off {
        "disable"
    } else {
        "require"
    };
    rest.push(("sslmode", sslmode));
    Ok((mode, root, with_params(url, &rest)))
}

/// A MySQL/MariaDB URL with `ssl-mode` turned into mysql_async's options.
pub fn mysql(url: &str) -> Result<String, String> {
    let mut out = Vec::new();
    for (key, value) in params(url) {
        if !key.eq_ignore_ascii_case("ssl-mode") && !key.eq_ignore_ascii_case("ssl_mode") {
            out.push((key, value));
            continue;
        }
        let options: &[(&str, &str)] = match value.to_ascii_uppercase().as_str() {
            "DISABLED" | "PREFERRED" => &[],
            "REQUIRED" => &[
                ("require_ssl", "true"),
                ("verify_ca", "false"),
                ("verify_identity", "false"),
            ],
            "VERIFY_CA" => &[
                ("require_ssl", "true"),
                ("verify_ca", "true"),
                ("verify_identity", "false"),
            ],
            "VERIFY_IDENTITY" => &[
                ("require_ssl", "true"),
                ("verify_ca", "true"),
                ("verify_identity", "true"),
            ],
            _ => {
                return Err(format!(
                    "ssl-mode={value} is not a MySQL ssl-mode (DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY)"
                ))
            }
        };
        out.extend_from_slice(options);
    }
    Ok(with_params(url, &out))
}

/// The client configuration for a PostgreSQL mode other than `Off`.
pub fn pg_client_config(mode: PgTls, root: Option<&str>) -> Result<Arc<ClientConfig>, String> {
    let provider = crate::tls::provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        PgTls::Off | PgTls::Require => Arc::new(Unchecked(provider)),
        PgTls::VerifyCa | PgTls::VerifyFull => {
            let mut roots = RootCertStore::empty();
            match root {
                Some(file) => {
                    let certs = CertificateDer::pem_file_iter(Path::new(file))
                        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                        .map_err(|e| format!("sslrootcert {file}: {e}"))?;
                    let (added, _) = roots.add_parsable_certificates(certs);
                    if added == 0 {
                        return Err(format!("sslrootcert {file}: holds no usable certificate"));
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| e.to_string())?;
            Arc::new(Checked {
                inner: webpki,
                names: mode == PgTls::VerifyFull,
            })
        }
    };
    Ok(Arc::new(
        builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
    ))
}

/// `sslmode=require`: encrypted, the certificate taken as it comes (the handshake's
/// signatures are still checked, so the peer holds the certificate's key).
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

/// `verify-ca` (chain only) and `verify-full` (chain and host name).
#[derive(Debug)]
struct Checked {
    inner: Arc<WebPkiServerVerifier>,
    names: bool,
}

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl ServerCertVerifier for Checked {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            // verify-ca: a chain to a trusted root is enough, whatever host it names.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.names => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// tokio-postgres's TLS hook, over tokio-rustls.
#[derive(Clone)]
pub struct PgRustls(pub Arc<ClientConfig>);

pub struct PgRustlsConnect {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl<S> tokio_postgres::tls::MakeTlsConnect<S> for PgRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PgTlsStream<S>;
    type TlsConnect = PgRustlsConnect;
    type Error = rustls::pki_types::InvalidDnsNameError;

    fn make_tls_connect(&mut self, host: &str) -> Result<PgRustlsConnect, Self::Error> {
        Ok(PgRustlsConnect {
            config: self.0.clone(),
            name: ServerName::try_from(host.to_string())?,
        })
    }
}

impl<S> tokio_postgres::tls::TlsConnect<S> for PgRustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PgTlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<PgTlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        let connector = tokio_rustls::TlsConnector::from(self.config);
        Box::pin(async move { Ok(PgTlsStream(connector.connect(self.name, stream).await?)) })
    }
}

pub struct PgTlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> tokio_postgres::tls::TlsStream for PgTlsStream<S> {
    /// No channel binding: SCRAM authentication still works, without its `-PLUS` form.
    fn channel_binding(&self) -> tokio_postgres::tls::ChannelBinding {
        tokio_postgres::tls::ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for PgTlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for PgTlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_modes() {
        let (mode, root, url) = postgres("postgres://u@h/db").unwrap();
        assert_eq!((mode, root), (PgTls::Off, None));
        assert_eq!(url, "postgres://u@h/db");
        let (mode, _, url) =
            postgres("postgres://u@h/db?application_name=x&sslmode=require").unwrap();
        assert_eq!(mode, PgTls::Require);
        assert_eq!(url, "postgres://u@h/db?application_name=x&sslmode=require");
        let (mode, root, url) =
            postgres("postgres://u@h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem").unwrap();
        assert_eq!(mode, PgTls::VerifyFull);
        assert_eq!(root.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(url, "postgres://u@h/db?sslmode=require");
        assert!(postgres("postgres://u@h/db?sslmode=on")
            .unwrap_err()
            .contains("sslmode=on"));
        assert!(postgres("postgres://u@h/db?sslrootcert=/x").is_err());
    }

    #[test]
    fn mysql_modes() {
        assert_eq!(mysql("mysql://u@h/db").unwrap(), "mysql://u@h/db");
        assert_eq!(
            mysql("mysql://u@h/db?ssl-mode=REQUIRED").unwrap(),
            "mysql://u@h/db?require_ssl=true&verify_ca=false&verify_identity=false"
        );
        assert_eq!(
            mysql("mysql://u@h/db?ssl-mode=verify_identity&prefer_socket=false").unwrap(),
            "mysql://u@h/db?require_ssl=true&verify_ca=true&verify_identity=true&prefer_socket=false"
        );
        assert_eq!(
            mysql("mysql://u@h/db?ssl-mode=DISABLED").unwrap(),
            "mysql://u@h/db"
        );
        assert!(mysql("mysql://u@h/db?ssl-mode=yes")
            .unwrap_err()
            .contains("ssl-mode=yes"));
    }
}

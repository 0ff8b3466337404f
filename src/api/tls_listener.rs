//! The listener of a TLS port: accepts TCP connections and hands axum only those
//! whose TLS handshake completed.
//!
//! The handshake runs in a task of its own per connection, bounded by
//! [`HANDSHAKE_TIMEOUT`], so a client that connects and says nothing (or a plain
//! `ws://` client) never holds up the accept loop or anyone else's handshake. axum's
//! own `serve` then runs the connections exactly as on a plain port (same routes,
//! same graceful shutdown), which is why this is a [`Listener`] and not a server loop
//! of its own.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_rustls::server::TlsStream;

use crate::tls::Reloadable;

/// A client has this long from connecting to finishing its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; connections beyond are closed at once (a flood of
/// half-open connections must not exhaust memory or file descriptors).
pub const MAX_HANDSHAKES: usize = 1024;

pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, tls: Arc<Reloadable>) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (ready_tx, ready) = mpsc::channel(64);
        let accept_loop = tokio::spawn(accept_loop(tcp, tls, ready_tx));
        Ok(TlsListener {
            ready,
            local,
            accept_loop,
        })
    }
}

impl Drop for TlsListener {
    /// axum drops the listener when it stops serving: stop accepting with it.
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

async fn accept_loop(
    tcp: TcpListener,
    tls: Arc<Reloadable>,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    loop {
        let (mut stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                accept_failed(e).await;
                continue;
            }
        };
        super::http::send_at_once(&mut stream);
        let Ok(permit) = handshakes.clone().try_acquire_owned() else {
            tracing::warn!(%peer, limit = MAX_HANDSHAKES, "too many TLS handshakes in progress; connection closed");
            continue;
        };
        // The acceptor of the moment: a SIGHUP reload applies to the next connection.
        let acceptor = tls.acceptor();
        let ready = ready.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => {
                    let _ = ready.send((stream, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

/// As axum does for a plain port: errors of one connection are passed over; others
/// (out of file descriptors) are logged and given a moment to clear.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::serve::Listener;
    use rustls::pki_types::ServerName;

    #[tokio::test]
    async fn tls_connections_send_each_frame_at_once() {
        let dir = std::env::temp_dir().join(format!("ctibridge-tls-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        let tls = Reloadable::load(&dir.join("cert.pem"), &dir.join("key.pem")).unwrap();
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let mut listener = TlsListener::new(tcp, Arc::new(tls)).unwrap();

        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der().clone()).unwrap();
        let client = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let (_client, (accepted, _)) = tokio::join!(
            async {
                let tcp = TcpStream::connect(addr).await.unwrap();
                let name = ServerName::try_from("localhost").unwrap();
                connector.connect(name, tcp).await.unwrap()
            },
            listener.accept()
        );
        assert!(accepted.get_ref().0.nodelay().unwrap(), "Nagle is still on");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! The socket to the PBX: UDP datagrams, or a TCP stream (plain or TLS) cut into
//! messages by Content-Length, and the address we put in Via and Contact.

use std::net::{IpAddr, SocketAddr};

use ctibridge_adapter::tls::{self, ByteStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UdpSocket;

use crate::config::{SipConfig, Transport as Kind};
use crate::message::message_len;

/// One received message, or bytes that were not one (kept for the log).
#[derive(Debug)]
pub enum Received {
    Message(Vec<u8>),
    /// A TCP stream that cannot be framed any more: the link must be reopened.
    Broken(String),
}

/// Why the socket to the PBX could not be opened or used; the link is reopened.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot resolve {target}: {error}")]
    Resolve {
        target: String,
        error: std::io::Error,
    },
    #[error("cannot resolve {0}: no address")]
    NoAddress(String),
    #[error("cannot bind {local}: {error}")]
    Bind {
        local: String,
        error: std::io::Error,
    },
    #[error("local = {0} is not ADDR:PORT")]
    BadLocal(String),
    #[error("cannot open a TCP socket: {0}")]
    Socket(std::io::Error),
    #[error("cannot connect to {0}: timed out")]
    ConnectTimeout(String),
    #[error("cannot connect to {target}: {error}")]
    Connect {
        target: String,
        error: std::io::Error,
    },
    #[error("no local address: {0}")]
    LocalAddr(std::io::Error),
    #[error("sending to {peer}: {error}")]
    SendTo {
        peer: SocketAddr,
        error: std::io::Error,
    },
    #[error("sending: {0}")]
    Send(std::io::Error),
    #[error("receiving: {0}")]
    Receive(std::io::Error),
    #[error("the PBX closed the TCP connection")]
    Closed,
    #[error("TLS to {target}: {error}")]
    Tls { target: String, error: String },
}

pub enum Transport {
    Udp {
        socket: UdpSocket,
        peer: SocketAddr,
    },
    /// TCP, or TLS over it; `local` is the socket's address, for Via and Contact.
    Tcp {
        stream: Box<dyn ByteStream>,
        buf: Vec<u8>,
        local: SocketAddr,
    },
}

impl Transport {
    /// Bind (UDP) or connect (TCP, then the TLS handshake). Errors name the address.
    pub async fn open(config: &SipConfig) -> Result<Transport, TransportError> {
        let target = format!("{}:{}", config.host, config.port());
        let peer = tokio::net::lookup_host(&target)
            .await
            .map_err(|error| TransportError::Resolve {
                target: target.clone(),
                error,
            })?
            .next()
            .ok_or_else(|| TransportError::NoAddress(target.clone()))?;
        match config.transport {
            Kind::Udp => {
                let local = config.local.clone().unwrap_or_else(|| {
                    if peer.is_ipv6() {
                        "[::]:5060"
                    } else {
                        "0.0.0.0:5060"
                    }
                    .to_string()
                });
                let socket =
                    UdpSocket::bind(&local)
                        .await
                        .map_err(|error| TransportError::Bind {
                            local: local.clone(),
                            error,
                        })?;
                Ok(Transport::Udp { socket, peer })
            }
            Kind::Tcp | Kind::Tls => {
                let socket = if peer.is_ipv6() {
                    tokio::net::TcpSocket::new_v6()
                } else {
                    tokio::net::TcpSocket::new_v4()
                }
                .map_err(TransportError::Socket)?;
                if let Some(local) = &config.local {
                    let addr: SocketAddr = local
                        .parse()
                        .map_err(|_| TransportError::BadLocal(local.clone()))?;
                    socket.set_reuseaddr(true).ok();
                    socket.bind(addr).map_err(|error| TransportError::Bind {
                        local: local.clone(),
                        error,
                    })?;
                }
                let stream =
                    tokio::time::timeout(std::time::Duration::from_secs(10), socket.connect(peer))
                        .await
                        .map_err(|_| TransportError::ConnectTimeout(target.clone()))?
                        .map_err(|error| TransportError::Connect {
                            target: target.clone(),
                            error,
                        })?;
                let local = stream.local_addr().map_err(TransportError::LocalAddr)?;
                let stream: Box<dyn ByteStream> = if config.transport == Kind::Tls {
                    let tls_error = |error: String| TransportError::Tls {
                        target: target.clone(),
                        error,
                    };
                    let client = tls::client_config(config.tls_ca.as_deref()).map_err(tls_error)?;
                    let handshake = tls::connect(client, &config.host, stream);
                    tokio::time::timeout(std::time::Duration::from_secs(10), handshake)
                        .await
                        .map_err(|_| tls_error("the handshake timed out".into()))?
                        .map_err(tls_error)?
                } else {
                    Box::new(stream)
                };
                Ok(Transport::Tcp {
                    stream,
                    buf: Vec::new(),
                    local,
                })
            }
        }
    }

    pub fn is_udp(&self) -> bool {
        matches!(self, Transport::Udp { .. })
    }

    /// Our address as the PBX should see it: the bound address, or, bound to any
    /// address, the one the system would send to the PBX from.
    pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
        match self {
            Transport::Udp { socket, peer } => {
                let mut local = socket.local_addr().map_err(TransportError::LocalAddr)?;
                if local.ip().is_unspecified() {
                    local.set_ip(route_to(*peer).unwrap_or(local.ip()));
                }
                Ok(local)
            }
            Transport::Tcp { local, .. } => Ok(*local),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        match self {
            Transport::Udp { socket, peer } => socket
                .send_to(bytes, *peer)
                .await
                .map(|_| ())
                .map_err(|error| TransportError::SendTo { peer: *peer, error }),
            Transport::Tcp { stream, .. } => {
                stream.write_all(bytes).await.map_err(TransportError::Send)
            }
        }
    }

    /// The next message. Cancel-safe: bytes read are kept in the buffer.
    pub async fn recv(&mut self) -> Result<Received, TransportError> {
        match self {
            Transport::Udp { socket, .. } => {
                let mut buf = vec![0u8; 65_535];
                let (len, _) = socket
                    .recv_from(&mut buf)
                    .await
                    .map_err(TransportError::Receive)?;
                buf.truncate(len);
                Ok(Received::Message(buf))
            }
            Transport::Tcp { stream, buf, .. } => loop {
                // RFC 5626 keep-alive CRLFs between messages.
                while buf.starts_with(b"\r\n") {
                    buf.drain(..2);
                }
                match message_len(buf) {
                    Ok(Some(len)) => return Ok(Received::Message(buf.drain(..len).collect())),
                    Ok(None) => {}
                    Err(e) => {
                        buf.clear();
                        return Ok(Received::Broken(e.to_string()));
                    }
                }
                let mut chunk = [0u8; 8192];
                let n = stream
                    .read(&mut chunk)
                    .await
                    .map_err(TransportError::Receive)?;
                if n == 0 {
                    return Err(TransportError::Closed);
                }
                buf.extend_from_slice(&chunk[..n]);
            },
        }
    }
}

/// The local address the system routes to `peer` from.
fn route_to(peer: SocketAddr) -> Option<IpAddr> {
    let bind = if peer.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let probe = std::net::UdpSocket::bind(bind).ok()?;
    probe.connect(peer).ok()?;
    Some(probe.local_addr().ok()?.ip())
}

//! The socket to the PBX: UDP datagrams or a TCP stream cut into messages by
//! Content-Length, and the address we put in Via and Contact.

use std::net::{IpAddr, SocketAddr};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::config::{SipConfig, Transport as Kind};
use crate::message::message_len;

/// One received message, or bytes that were not one (kept for the log).
#[derive(Debug)]
pub enum Received {
    Message(Vec<u8>),
    /// A TCP stream that cannot be framed any more: the link must be reopened.
    Broken(String),
}

pub enum Transport {
    Udp { socket: UdpSocket, peer: SocketAddr },
    Tcp { stream: TcpStream, buf: Vec<u8> },
}

impl Transport {
    /// Bind (UDP) or connect (TCP). Errors name the address.
    pub async fn open(config: &SipConfig) -> Result<Transport, String> {
        let target = format!("{}:{}", config.host, config.port);
        let peer = tokio::net::lookup_host(&target)
            .await
            .map_err(|e| format!("cannot resolve {target}: {e}"))?
            .next()
            .ok_or_else(|| format!("cannot resolve {target}"))?;
        match config.transport {
            Kind::Udp | Kind::Tls => {
                let local = config.local.clone().unwrap_or_else(|| {
                    if peer.is_ipv6() {
                        "[::]:5060"
                    } else {
                        "0.0.0.0:5060"
                    }
                    .to_string()
                });
                let socket = UdpSocket::bind(&local)
                    .await
                    .map_err(|e| format!("cannot bind {local}: {e}"))?;
                Ok(Transport::Udp { socket, peer })
            }
            Kind::Tcp => {
                let socket = if peer.is_ipv6() {
                    tokio::net::TcpSocket::new_v6()
                } else {
                    tokio::net::TcpSocket::new_v4()
                }
                .map_err(|e| format!("cannot open a TCP socket: {e}"))?;
                if let Some(local) = &config.local {
                    let addr: SocketAddr = local
                        .parse()
                        .map_err(|_| format!("local = {local} is not ADDR:PORT"))?;
                    socket.set_reuseaddr(true).ok();
                    socket
                        .bind(addr)
                        .map_err(|e| format!("cannot bind {local}: {e}"))?;
                }
                let stream =
                    tokio::time::timeout(std::time::Duration::from_secs(10), socket.connect(peer))
                        .await
                        .map_err(|_| format!("cannot connect to {target}: timed out"))?
                        .map_err(|e| format!("cannot connect to {target}: {e}"))?;
                Ok(Transport::Tcp {
                    stream,
                    buf: Vec::new(),
                })
            }
        }
    }

    pub fn is_udp(&self) -> bool {
        matches!(self, Transport::Udp { .. })
    }

    /// Our address as the PBX should see it: the bound address, or, bound to any
    /// address, the one the system would send to the PBX from.
    pub fn local_addr(&self) -> Result<SocketAddr, String> {
        match self {
            Transport::Udp { socket, peer } => {
                let mut local = socket.local_addr().map_err(|e| e.to_string())?;
                if local.ip().is_unspecified() {
                    local.set_ip(route_to(*peer).unwrap_or(local.ip()));
                }
                Ok(local)
            }
            Transport::Tcp { stream, .. } => stream.local_addr().map_err(|e| e.to_string()),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        match self {
            Transport::Udp { socket, peer } => socket
                .send_to(bytes, *peer)
                .await
                .map(|_| ())
                .map_err(|e| format!("sending to {peer}: {e}")),
            Transport::Tcp { stream, .. } => stream
                .write_all(bytes)
                .await
                .map_err(|e| format!("sending: {e}")),
        }
    }

    /// The next message. Cancel-safe: bytes read are kept in the buffer.
    pub async fn recv(&mut self) -> Result<Received, String> {
        match self {
            Transport::Udp { socket, .. } => {
                let mut buf = vec![0u8; 65_535];
                let (len, _) = socket
                    .recv_from(&mut buf)
                    .await
                    .map_err(|e| format!("receiving: {e}"))?;
                buf.truncate(len);
                Ok(Received::Message(buf))
            }
            Transport::Tcp { stream, buf } => loop {
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
                    .map_err(|e| format!("receiving: {e}"))?;
                if n == 0 {
                    return Err("the PBX closed the TCP connection".into());
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

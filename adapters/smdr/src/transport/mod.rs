//! The byte link to the switch: a serial port ([`serial`]) or TCP in either
//! direction ([`tcp`]). [`Transport::open`] gives a fresh stream after every drop;
//! the adapter's run loop owns reconnecting and backoff.

pub mod serial;
pub mod tcp;

use std::io;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use crate::config::Link;

/// A byte stream from the switch (and towards it, for a login string).
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// An open link and a description of it for logs.
pub struct Opened {
    pub stream: Box<dyn Stream>,
    pub peer: String,
}

/// Opens the configured link, again and again.
pub struct Transport {
    link: Link,
    /// `listen`: bound once and kept, so the switch always finds the port.
    listener: Option<TcpListener>,
}

impl Transport {
    pub fn new(link: Link) -> Self {
        Transport {
            link,
            listener: None,
        }
    }

    /// Open the link: open the serial port, connect (and send the login), or wait
    /// for the switch to connect.
    pub async fn open(&mut self) -> io::Result<Opened> {
        match &self.link {
            Link::Serial(line) => serial::open(line),
            Link::Connect { host, port, login } => {
                tcp::connect(host, *port, login.as_deref()).await
            }
            Link::Listen { addr } => {
                let addr = addr.clone();
                let listener = match self.listener.take() {
                    Some(listener) => listener,
                    None => TcpListener::bind(&addr)
                        .await
                        .map_err(|e| io::Error::new(e.kind(), format!("listen {addr}: {e}")))?,
                };
                let accepted = tcp::accept(&listener).await;
                self.listener = Some(listener);
                accepted
            }
        }
    }

    /// `listen` only: the switch connected again while we still hold its old
    /// connection (it rebooted, or the old one is half-open). Never ready for the
    /// other links.
    pub async fn replacement(&mut self) -> io::Result<Opened> {
        match &self.listener {
            Some(listener) => tcp::accept(listener).await,
            None => std::future::pending().await,
        }
    }
}

//! TCP links: connecting to the switch (with an optional login string sent first,
//! for switches that want a handshake before they stream records), or accepting the
//! switch's connection (`listen`, for switches that dial out to a collector).
//!
//! Keepalive is switched on so a peer that vanished without a FIN (a switch
//! rebooted behind a firewall) is noticed instead of waiting for ever.

use std::io;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::Opened;

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn connect(host: &str, port: u16, login: Option<&str>) -> io::Result<Opened> {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host, port)))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    let mut stream = prepare(stream)?;
    if let Some(login) = login {
        stream.write_all(login.as_bytes()).await?;
        stream.flush().await?;
    }
    Ok(Opened {
        stream: Box::new(stream),
        peer: format!("{host}:{port}"),
    })
}

pub async fn accept(listener: &TcpListener) -> io::Result<Opened> {
    let (stream, peer) = listener.accept().await?;
    Ok(Opened {
        stream: Box::new(prepare(stream)?),
        peer: peer.to_string(),
    })
}

fn prepare(stream: TcpStream) -> io::Result<TcpStream> {
    stream.set_nodelay(true)?;
    socket2::SockRef::from(&stream).set_keepalive(true)?;
    Ok(stream)
}

//! TCP links: connecting to the switch (with an optional login string sent first,
//! for switches that want a handshake before they stream records), or accepting the
//! switch's connection (`listen`, for switches that dial out to a collector).
//!
//! An error connecting names the `host:port` it was for, so the log says which
//! switch address is unreachable.
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
    let at = |e: io::Error| io::Error::new(e.kind(), format!("{host}:{port}: {e}"));
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host, port)))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))
        .map_err(at)?
        .map_err(at)?;
    let mut stream = prepare(stream).map_err(at)?;
    if let Some(login) = login {
        stream.write_all(login.as_bytes()).await.map_err(at)?;
        stream.flush().await.map_err(at)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unreachable_host_is_named() {
        // A port that was just free: nothing listens there.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let err = connect("127.0.0.1", port, None)
            .await
            .err()
            .expect("refused");
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
        let err = connect("no-such-host.invalid", 1752, None)
            .await
            .err()
            .expect("no such host");
        assert!(
            err.to_string().contains("no-such-host.invalid:1752"),
            "{err}"
        );
    }
}

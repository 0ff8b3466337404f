//! One client connection: reads bytes, cuts them into frames for the
//! router, and writes what the router sends. It holds no switch state, so
//! closing it (by the router, the client, or a fatal framing error) loses
//! nothing but the link.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::codec::Decoder;

use super::inbox::NetMsg;
use super::wire::{InFrame, WireError};

/// What the router asks of a connection.
#[derive(Debug)]
pub enum LinkCmd {
    /// Write these bytes as they are (already framed, or deliberately not).
    Send(Bytes),
    /// Close the socket, both directions.
    Close,
}

/// Runs the connection until either side closes it, then reports
/// `NetMsg::Closed` to the router. `decoder` cuts the stream as the link's
/// encoding frames it (XML documents, or length-prefixed BER APDUs).
pub async fn run<D>(
    stream: TcpStream,
    link: u64,
    mut decoder: D,
    mut cmds: mpsc::UnboundedReceiver<LinkCmd>,
    router: mpsc::UnboundedSender<NetMsg>,
) where
    D: Decoder<Item = InFrame, Error = WireError>,
{
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let why = 'conn: loop {
        tokio::select! {
            // Commands first: a Close must not wait behind a chatty client.
            biased;
            cmd = cmds.recv() => match cmd {
                Some(LinkCmd::Send(bytes)) => {
                    if let Err(e) = wr.write_all(&bytes).await {
                        break format!("write failed: {e}");
                    }
                }
                Some(LinkCmd::Close) | None => break "closed by the switch".to_owned(),
            },
            read = rd.read_buf(&mut buf) => {
                let eof = match read {
                    Ok(0) => true,
                    Ok(_) => false,
                    Err(e) => break format!("read failed: {e}"),
                };
                loop {
                    let next = if eof {
                        decoder.decode_eof(&mut buf)
                    } else {
                        decoder.decode(&mut buf)
                    };
                    match next {
                        Ok(Some(frame)) => {
                            if router.send(NetMsg::Frame { link, frame }).is_err() {
                                break 'conn "switch stopped".to_owned();
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            // A header no switch could make sense of: the
                            // stream cannot be resynchronised, so hang up.
                            tracing::warn!(link, error = %e, "fake switch: fatal framing error");
                            break 'conn format!("framing error: {e}");
                        }
                    }
                }
                if eof {
                    break "closed by the client".to_owned();
                }
            }
        }
    };
    drop(rd);
    drop(wr);
    let _ = router.send(NetMsg::Closed { link, why });
}

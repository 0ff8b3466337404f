//! The adapter on loopback TCP: listening (the switch dials out) and connecting
//! (with a login handshake), every terminator style, a malformed line skipped,
//! reconnecting after the switch closes, and replayed records dropped.

mod support;

use std::time::Duration;

use ctibridge_adapter::Direction;
use support::{free_port, ipo, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Connect to a listening adapter, retrying while it binds.
async fn dial(port: u16) -> TcpStream {
    for _ in 0..100 {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await {
            return stream;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("adapter not listening on {port}");
}

#[tokio::test]
async fn listen_mode_reads_every_terminator_style() {
    let styles: [(&str, &[u8], &[u8]); 7] = [
        ("auto", b"", b"\r\n"),
        ("crlf", b"", b"\r\n"),
        ("cr", b"", b"\r"),
        ("lf", b"", b"\n"),
        ("lfcr", b"", b"\n\r"),
        ("nul", b"", b"\0"),
        ("stx-etx", b"\x02", b"\x03"),
    ];
    for (terminator, before, after) in styles {
        let port = free_port();
        let mut adapter = start(&format!(
            "listen = '127.0.0.1:{port}'\nformat = 'avaya-ipo'\nterminator = '{terminator}'\nutc_offset = '+00:00'"
        ));
        let mut pbx = dial(port).await;
        adapter.link_up().await;
        let mut bytes = Vec::new();
        for line in [ipo(1), "this line is not a record".to_string(), ipo(2)] {
            bytes.extend_from_slice(before);
            bytes.extend_from_slice(line.as_bytes());
            bytes.extend_from_slice(after);
        }
        // In two pieces, split inside a record, as a slow link delivers them.
        let (a, b) = bytes.split_at(bytes.len() / 3);
        pbx.write_all(a).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        pbx.write_all(b).await.unwrap();
        let (first, raw) = adapter.record().await;
        assert_eq!(raw, ipo(1), "{terminator}");
        assert_eq!(first.direction, Some(Direction::In));
        assert_eq!(first.extension.as_deref(), Some("2001"));
        // The malformed line in between was skipped; the stream went on.
        let (_, raw) = adapter.record().await;
        assert_eq!(raw, ipo(2), "{terminator}");
        adapter.stop().await;
    }
}

#[tokio::test]
async fn connect_mode_logs_in_reconnects_and_drops_replays() {
    let pbx = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = pbx.local_addr().unwrap().port();
    let mut adapter = start(&format!(
        "host = '127.0.0.1'\nport = {port}\nlogin = \"SMDR\\r\\n\"\nformat = 'avaya-ipo'"
    ));
    let (mut conn, _) = pbx.accept().await.unwrap();
    let mut login = [0u8; 6];
    conn.read_exact(&mut login).await.unwrap();
    assert_eq!(&login, b"SMDR\r\n");
    adapter.link_up().await;
    conn.write_all(format!("{}\r\n{}\r\n", ipo(1), ipo(2)).as_bytes())
        .await
        .unwrap();
    assert_eq!(adapter.record().await.1, ipo(1));
    assert_eq!(adapter.record().await.1, ipo(2));

    // The switch drops the link mid-record, then replays its buffer on the new one.
    conn.write_all(ipo(3).get(..20).unwrap().as_bytes())
        .await
        .unwrap();
    drop(conn);
    adapter.link_down().await;
    let (mut conn, _) = pbx.accept().await.unwrap();
    conn.read_exact(&mut login).await.unwrap();
    adapter.link_up().await;
    conn.write_all(format!("{}\r\n{}\r\n{}\r\n", ipo(1), ipo(2), ipo(3)).as_bytes())
        .await
        .unwrap();
    let (_, raw) = adapter.record().await;
    assert_eq!(raw, ipo(3), "replayed records 1 and 2 are dropped");
    adapter.no_record(Duration::from_millis(200)).await;
    adapter.stop().await;
}

#[tokio::test]
async fn listen_mode_takes_a_new_connection_from_the_switch() {
    let port = free_port();
    let mut adapter = start(&format!(
        "listen = '127.0.0.1:{port}'\nformat = 'avaya-ipo'"
    ));
    let mut first = dial(port).await;
    adapter.link_up().await;
    first
        .write_all(format!("{}\r\n", ipo(1)).as_bytes())
        .await
        .unwrap();
    assert_eq!(adapter.record().await.1, ipo(1));
    // The switch rebooted: its old connection is half-open, a new one arrives.
    let mut second = dial(port).await;
    second
        .write_all(format!("{}\r\n{}\r\n", ipo(1), ipo(4)).as_bytes())
        .await
        .unwrap();
    assert_eq!(adapter.record().await.1, ipo(4));
    // And after the switch closes, it is listened for again.
    drop(second);
    drop(first);
    adapter.link_down().await;
    let mut third = dial(port).await;
    adapter.link_up().await;
    third
        .write_all(format!("{}\r\n", ipo(5)).as_bytes())
        .await
        .unwrap();
    assert_eq!(adapter.record().await.1, ipo(5));
    adapter.stop().await;
}

#[tokio::test]
async fn continuation_records_are_joined_on_the_wire() {
    let port = free_port();
    let mut adapter = start(&format!(
        "listen = '127.0.0.1:{port}'\nformat = 'avaya-ipo'"
    ));
    let mut pbx = dial(port).await;
    adapter.link_up().await;
    let a = "2026/03/10 09:20:00,00:01:00,3,4155550123,I,2001,2001,,0,1000045,1,E2001,Anna Berg,T9001,Line 1.1,0,0";
    let b = "2026/03/10 09:20:00,00:02:30,0,4155550123,I,2001,2001,,0,1000045,0,E2003,Cai Dunn,T9001,Line 1.1,0,0";
    pbx.write_all(format!("{a}\r\n{b}\r\n").as_bytes())
        .await
        .unwrap();
    let (record, raw) = adapter.record().await;
    assert_eq!(raw, format!("{a}\n{b}"));
    assert_eq!(record.transfer_to.as_deref(), Some("2003"));
    assert_eq!(record.duration_s, Some(210.0));
    adapter.stop().await;
}

#[tokio::test]
async fn a_switch_that_is_away_is_reported_down_once_then_up() {
    // Nothing listens on the port yet: every attempt fails.
    let port = free_port();
    let mut adapter = start(&format!(
        "host = '127.0.0.1'\nport = {port}\nformat = 'avaya-ipo'"
    ));
    let first = adapter
        .expect("LinkDown", |e| {
            matches!(e.event, ctibridge_adapter::SwitchEvent::LinkDown { .. })
        })
        .await;
    let ctibridge_adapter::SwitchEvent::LinkDown { reason } = first.event else {
        unreachable!()
    };
    assert!(reason.contains(&port.to_string()), "{reason}");
    // Several more attempts fail (250 ms doubling); none is reported again.
    let quiet = tokio::time::Instant::now() + Duration::from_millis(1200);
    if let Ok(Some((_, event))) = tokio::time::timeout_at(quiet, adapter.events.recv()).await {
        panic!("only one LinkDown per outage, got {event:?}");
    }
    let pbx = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let (_conn, _) = pbx.accept().await.unwrap();
    adapter.link_up().await;
    adapter.stop().await;
}

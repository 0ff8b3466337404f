//! The adapter conformance kit against a fake PBX on loopback TCP. The fake is
//! written apart from the adapter's codec (its own line reading, no rsip): it
//! grants every SUBSCRIBE, sends the idle state, rings an extension with an
//! RFC 4235 document in the Kamailio form, and breaks the link by closing the
//! connection. It is also the agent's phone for click-to-dial: it answers our INVITE,
//! takes the REFER, reports the phone's new call in the extension's dialog state
//! (so the kit sees `Originated`) and its progress in `Event: refer` NOTIFYs, and
//! answers our BYE. The kit checks link up, ring (Delivered with the caller's
//! number), dial, a refused destination, reconnection and shutdown.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ctibridge_adapter::testkit::{self, DriverFuture, KitConfig, SwitchDriver};
use ctibridge_adapter::SwitchSettings;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

/// What the fake knows of one subscription: the SUBSCRIBE's From (our To) and Call-ID.
#[derive(Clone)]
struct Sub {
    from: String,
    call_id: String,
}

#[derive(Default)]
struct State {
    writer: Option<Box<dyn AsyncWrite + Send + Unpin>>,
    subs: BTreeMap<String, Sub>,
    version: u64,
    cseq: u32,
    connections: u32,
}

#[derive(Clone)]
struct FakePbx {
    state: Arc<Mutex<State>>,
    port: u16,
}

impl FakePbx {
    /// Listen on loopback; with `tls`, every connection is a TLS one (SIP over TLS).
    async fn start(tls: Option<Arc<rustls::ServerConfig>>) -> FakePbx {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let pbx = FakePbx {
            state: Arc::default(),
            port,
        };
        let fake = pbx.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (read, write): (
                    Box<dyn AsyncRead + Send + Unpin>,
                    Box<dyn AsyncWrite + Send + Unpin>,
                ) = match &tls {
                    Some(config) => {
                        let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
                        let Ok(stream) = acceptor.accept(stream).await else {
                            continue;
                        };
                        let (read, write) = tokio::io::split(stream);
                        (Box::new(read), Box::new(write))
                    }
                    None => {
                        let (read, write) = stream.into_split();
                        (Box::new(read), Box::new(write))
                    }
                };
                {
                    let mut state = fake.state.lock().await;
                    state.writer = Some(write);
                    state.connections += 1;
                    state.subs.clear();
                }
                let fake = fake.clone();
                tokio::spawn(async move { fake.serve(BufReader::new(read)).await });
            }
        });
        pbx
    }

    /// Read messages: headers line by line, then Content-Length bytes.
    async fn serve(&self, mut reader: BufReader<Box<dyn AsyncRead + Send + Unpin>>) {
        loop {
            let mut head = Vec::new();
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let line = line.trim_end().to_string();
                if line.is_empty() {
                    if head.is_empty() {
                        continue;
                    }
                    break;
                }
                head.push(line);
            }
            let header = |name: &str| {
                head.iter().skip(1).find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| v.trim().to_string())
                })
            };
            let length: usize = header("Content-Length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).await.is_err() {
                return;
            }
            if head[0].starts_with("INVITE ")
                || head[0].starts_with("REFER ")
                || head[0].starts_with("BYE ")
            {
                self.phone(&head[0], &header).await;
                continue;
            }
            if !head[0].starts_with("SUBSCRIBE ") {
                continue; // our NOTIFYs' 200s, ACKs
            }
            let uri = head[0].split(' ').nth(1).unwrap_or_default();
            let device = uri
                .trim_start_matches("sip:")
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string();
            let from = header("From").unwrap_or_default();
            let call_id = header("Call-ID").unwrap_or_default();
            let ok = format!(
                "SIP/2.0 200 OK\r\nVia: {}\r\nFrom: {from}\r\nTo: {};tag=fk{device}\r\nCall-ID: {call_id}\r\nCSeq: {}\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n",
                header("Via").unwrap_or_default(),
                header("To").unwrap_or_default(),
                header("CSeq").unwrap_or_default(),
            );
            self.send(ok).await;
            self.state
                .lock()
                .await
                .subs
                .insert(device.clone(), Sub { from, call_id });
            self.notify(&device, String::new()).await;
        }
    }

    /// The agent's phone for click-to-dial: answer the INVITE, take the REFER and
    /// dial (a new dialog the phone initiated, in its dialog state), report the
    /// outcome, answer the BYE.
    async fn phone(&self, start: &str, header: &(dyn Fn(&str) -> Option<String> + Sync)) {
        let method = start.split(' ').next().unwrap_or_default();
        let to = header("To").unwrap_or_default();
        let to = if to.contains(";tag=") {
            to
        } else {
            format!("{to};tag=phone1")
        };
        let from = header("From").unwrap_or_default();
        let call_id = header("Call-ID").unwrap_or_default();
        let (code, extra) = match method {
            "INVITE" => ("200 OK", "Contact: <sip:phone@127.0.0.1;transport=tcp>\r\n"),
            "REFER" => ("202 Accepted", ""),
            _ => ("200 OK", ""),
        };
        let answer = format!(
            "SIP/2.0 {code}\r\nVia: {}\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {}\r\n{extra}Content-Length: 0\r\n\r\n",
            header("Via").unwrap_or_default(),
            header("CSeq").unwrap_or_default(),
        );
        self.send(answer).await;
        if method != "REFER" {
            return;
        }
        let target = header("Refer-To").unwrap_or_default();
        let number = target
            .trim_matches(|c| c == '<' || c == '>')
            .trim_start_matches("sip:")
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string();
        // The REFER's To is the phone's own address: the extension.
        let device = to
            .split("sip:")
            .nth(1)
            .and_then(|u| u.split('@').next())
            .unwrap_or_default()
            .to_string();
        let dialog = format!(
            "  <dialog id=\"out1\" call-id=\"kit-dial-1@fake.test\" local-tag=\"o1\" direction=\"initiator\">\r\n    <state>trying</state>\r\n    <remote>\r\n      <identity>sip:{number}@fake.test</identity>\r\n    </remote>\r\n  </dialog>\r\n"
        );
        self.notify(&device, dialog).await;
        let frag = "SIP/2.0 200 OK\r\n";
        let report = format!(
            "NOTIFY sip:ctibridge@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKrefer1\r\nFrom: {to}\r\nTo: {from}\r\nCall-ID: {call_id}\r\nCSeq: 1 NOTIFY\r\nEvent: refer\r\nSubscription-State: terminated;reason=noresource\r\nContent-Type: message/sipfrag\r\nContent-Length: {}\r\n\r\n{frag}",
            frag.len()
        );
        self.send(report).await;
    }

    async fn send(&self, text: String) {
        let mut state = self.state.lock().await;
        if let Some(writer) = state.writer.as_mut() {
            let _ = writer.write_all(text.as_bytes()).await;
        }
    }

    async fn notify(&self, device: &str, dialogs: String) {
        let (sub, version, cseq) = {
            let mut state = self.state.lock().await;
            let Some(sub) = state.subs.get(device).cloned() else {
                return;
            };
            state.version += 1;
            state.cseq += 1;
            (sub, state.version, state.cseq)
        };
        let body = format!(
            "<?xml version=\"1.0\"?>\r\n<dialog-info xmlns=\"urn:ietf:params:xml:ns:dialog-info\" version=\"{version}\" state=\"full\" entity=\"sip:{device}@fake.test\">\r\n{dialogs}</dialog-info>\r\n"
        );
        let notify = format!(
            "NOTIFY sip:ctibridge@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKfake{cseq}\r\nFrom: <sip:{device}@fake.test>;tag=fk{device}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} NOTIFY\r\nEvent: dialog\r\nSubscription-State: active;expires=600\r\nContent-Type: application/dialog-info+xml\r\nContent-Length: {}\r\n\r\n{body}",
            sub.from,
            sub.call_id,
            body.len()
        );
        self.send(notify).await;
    }
}

struct Driver(FakePbx);

impl SwitchDriver for Driver {
    fn ring<'a>(&'a mut self, from: &'a str, to: &'a str) -> DriverFuture<'a> {
        Box::pin(async move {
            let dialog = format!(
                "  <dialog id=\"kit1\" call-id=\"kit-call-1@fake.test\" local-tag=\"a1\" direction=\"recipient\">\r\n    <state>early</state>\r\n    <remote>\r\n      <identity display=\"Kit Caller\">sip:{from}@fake.test</identity>\r\n    </remote>\r\n  </dialog>\r\n"
            );
            self.0.notify(to, dialog).await;
        })
    }

    fn drop_link(&mut self) -> DriverFuture<'_> {
        Box::pin(async move {
            let mut state = self.0.state.lock().await;
            let writer = state.writer.take();
            assert!(writer.is_some(), "the adapter was connected");
            if let Some(mut writer) = writer {
                let _ = writer.shutdown().await;
            }
        })
    }
}

#[tokio::test]
async fn dialog_mode_passes_the_kit() {
    kit(None, "transport='tcp'\n").await;
}

/// The same over TLS, the fake's certificate signed by a CA of its own that
/// `tls_ca` names (as PBXs with self-made CAs are set up).
#[tokio::test]
async fn dialog_mode_over_tls_passes_the_kit() {
    let (ca, server) = ctibridge_adapter::test_pki::ca_and_server("PBX");
    let dir = std::env::temp_dir().join(format!("sip-tls-kit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("pbx-ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let extra = format!("transport='tls'\ntls_ca='{}'\n", ca_file.display());
    kit(Some(server), &extra).await;
}

async fn kit(tls: Option<Arc<rustls::ServerConfig>>, transport: &str) {
    let pbx = FakePbx::start(tls).await;
    let text = format!(
        "name='pbx'\nadapter='sip'\ndevices=['1001','1002']\nmode='dialog'\nhost='127.0.0.1'\nport={}\n\
         {transport}domain='fake.test'\nreconnect_min_s=0.1\nreconnect_max_s=0.5\n",
        pbx.port
    );
    let settings = SwitchSettings {
        name: "pbx".into(),
        adapter: "sip".into(),
        devices: vec!["1001".into(), "1002".into()],
        table: toml::from_str(&text).unwrap(),
    };
    let adapter = (ctibridge_sip::factory().build)(&settings).unwrap();
    let mut driver = Driver(pbx.clone());
    let report = testkit::run(
        adapter,
        &mut driver,
        KitConfig {
            timeout: Duration::from_secs(5),
            ..KitConfig::default()
        },
    )
    .await
    .unwrap_or_else(|failure| panic!("{failure}"));
    assert!(report.passed.contains(&"ring"), "{report:?}");
    assert!(report.passed.contains(&"dial"), "{report:?}");
    assert!(report.passed.contains(&"reconnect"), "{report:?}");
    assert!(report.passed.contains(&"shutdown"), "{report:?}");
    assert_eq!(pbx.state.lock().await.connections, 2, "one reconnection");
}

/// A PBX whose certificate no trusted CA signed is refused: link down naming it.
#[tokio::test]
async fn an_untrusted_pbx_certificate_is_refused_naming_the_pbx() {
    let (_, server) = ctibridge_adapter::test_pki::ca_and_server("PBX");
    let (other_ca, _) = ctibridge_adapter::test_pki::ca_and_server("another");
    let dir = std::env::temp_dir().join(format!("sip-tls-other-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("other-ca.pem");
    std::fs::write(&ca_file, other_ca).unwrap();
    let pbx = FakePbx::start(Some(server)).await;
    let text = format!(
        "name='pbx'\nadapter='sip'\ndevices=['1001']\nmode='dialog'\nhost='127.0.0.1'\nport={}\n\
         transport='tls'\ntls_ca='{}'\nreconnect_min_s=5\n",
        pbx.port,
        ca_file.display()
    );
    let settings = SwitchSettings {
        name: "pbx".into(),
        adapter: "sip".into(),
        devices: vec!["1001".into()],
        table: toml::from_str(&text).unwrap(),
    };
    let adapter = (ctibridge_sip::factory().build)(&settings).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let (link, _engine) = ctibridge_adapter::AdapterLink::new("pbx", tx, shutdown.clone());
    let task = tokio::spawn(adapter.run(link));
    let (_, event) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    match event.event {
        ctibridge_adapter::SwitchEvent::LinkDown { reason } => {
            assert!(reason.contains("TLS"), "{reason}");
            assert!(
                reason.contains(&format!("127.0.0.1:{}", pbx.port)),
                "{reason}"
            );
        }
        other => panic!("expected LinkDown, got {other:?}"),
    }
    shutdown.cancel();
    task.await.unwrap().unwrap();
}

//! The adapter conformance kit in `mode = "uacsta"` against a fake uaCSTA server
//! (ECMA TR/87) on loopback TCP. The fake is written apart from the adapter's code:
//! its own line reading of SIP messages, its own search for CSTA elements, and the
//! CSTA documents it sends written here as text. It opens the session on our
//! INVITE, answers MonitorStart and SnapshotDevice in the INFOs' 200s, rings a
//! device with a DeliveredEvent INFO, carries out AnswerCall, HoldCall,
//! RetrieveCall, SingleStepTransferCall, ClearConnection and MakeCall (answering
//! each in the 200 and reporting its events in INFOs of its own), refuses an
//! unknown call and an undiallable number with `CSTAErrorCode`, and breaks the
//! link by closing the connection.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use ctibridge_adapter::testkit::{self, DriverFuture, KitConfig, SwitchDriver};
use ctibridge_adapter::{AdapterLink, SwitchEvent, SwitchSettings};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

const NS: &str = "http://www.ecma-international.org/standards/ecma-323/csta/ed3";

/// The session as the fake knows it: what its INFOs to us carry.
#[derive(Clone, Default)]
struct Session {
    call_id: String,
    /// Our INVITE's From (the To of its requests).
    peer: String,
    /// Where its requests go (our Contact).
    target: String,
}

#[derive(Default)]
struct State {
    writer: Option<OwnedWriteHalf>,
    session: Option<Session>,
    calls: BTreeSet<String>,
    next_call: u32,
    cseq: u32,
    connections: u32,
    invites: u32,
    /// The last INFO sent, to send again as a retransmission would.
    last_info: Option<String>,
    /// SystemStatus keep-alives received.
    keep_alives: u32,
}

#[derive(Clone)]
struct FakeServer {
    state: Arc<Mutex<State>>,
    port: u16,
}

/// One message read from the stream: start line, headers, body.
struct Read {
    start: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Read {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The text of the first `<name>` element in a document (prefix-free documents,
/// which is what the adapter writes).
fn text_of(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find('<')? + start;
    Some(body[start..end].to_string())
}

/// The root element's name: the first tag that is not the XML declaration.
fn root_of(body: &str) -> String {
    let mut rest = body;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if !rest.starts_with('?') {
            let end = rest.find([' ', '>', '/']).unwrap_or(rest.len());
            return rest[..end].to_string();
        }
    }
    String::new()
}

fn monitor_of(device: &str) -> String {
    format!("mx{device}")
}

impl FakeServer {
    async fn start() -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = FakeServer {
            state: Arc::default(),
            port,
        };
        let fake = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (read, write) = stream.into_split();
                {
                    let mut state = fake.state.lock().await;
                    state.writer = Some(write);
                    state.session = None;
                    state.connections += 1;
                }
                let fake = fake.clone();
                tokio::spawn(async move { fake.serve(BufReader::new(read)).await });
            }
        });
        server
    }

    async fn read(reader: &mut BufReader<OwnedReadHalf>) -> Option<Read> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await.ok()? == 0 {
                return None;
            }
            let line = line.trim_end().to_string();
            if line.is_empty() {
                if lines.is_empty() {
                    continue;
                }
                break;
            }
            lines.push(line);
        }
        let start = lines.remove(0);
        let headers: Vec<(String, String)> = lines
            .iter()
            .filter_map(|l| {
                let (n, v) = l.split_once(':')?;
                Some((n.trim().to_string(), v.trim().to_string()))
            })
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await.ok()?;
        Some(Read {
            start,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    async fn serve(&self, mut reader: BufReader<OwnedReadHalf>) {
        while let Some(message) = Self::read(&mut reader).await {
            let method = message.start.split(' ').next().unwrap_or_default();
            match method {
                "INVITE" => self.on_invite(&message).await,
                "INFO" => self.on_info(&message).await,
                "BYE" => {
                    self.respond(&message, None).await;
                    self.state.lock().await.session = None;
                }
                _ => {} // ACK, and the 200s to our INFOs
            }
        }
    }

    async fn on_invite(&self, invite: &Read) {
        let contact = invite.header("Contact").unwrap_or_default();
        let target = contact
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap_or_default()
            .to_string();
        {
            let mut state = self.state.lock().await;
            state.invites += 1;
            state.session = Some(Session {
                call_id: invite.header("Call-ID").unwrap_or_default().to_string(),
                peer: invite.header("From").unwrap_or_default().to_string(),
                target,
            });
        }
        let body = format!(
            "<?xml version=\"1.0\"?><RequestSystemStatusResponse xmlns=\"{NS}\"><systemStatus>normal</systemStatus></RequestSystemStatusResponse>"
        );
        self.respond(invite, Some(body)).await;
    }

    /// A CSTA request from the adapter: its answer in the 200, then its events.
    async fn on_info(&self, info: &Read) {
        let body = &info.body;
        let call = text_of(body, "callID").unwrap_or_default();
        let device = text_of(body, "deviceID").unwrap_or_default();
        let known = self.state.lock().await.calls.contains(&call);
        let empty = |name: &str| format!("<?xml version=\"1.0\"?><{name} xmlns=\"{NS}\"/>");
        let error = |value: &str| {
            format!("<?xml version=\"1.0\"?><CSTAErrorCode xmlns=\"{NS}\"><operation>{value}</operation></CSTAErrorCode>")
        };
        match root_of(body).as_str() {
            "MonitorStart" => {
                let device = text_of(body, "deviceObject").unwrap_or_default();
                let answer = format!(
                    "<?xml version=\"1.0\"?><MonitorStartResponse xmlns=\"{NS}\"><monitorCrossRefID>{}</monitorCrossRefID></MonitorStartResponse>",
                    monitor_of(&device)
                );
                self.respond(info, Some(answer)).await;
            }
            "SystemStatus" => {
                self.state.lock().await.keep_alives += 1;
                self.respond(info, Some(empty("SystemStatusResponse")))
                    .await;
            }
            "SnapshotDevice" => {
                let answer = format!(
                    "<?xml version=\"1.0\"?><SnapshotDeviceResponse xmlns=\"{NS}\"><crossRefIDorSnapshotData><snapshotData/></crossRefIDorSnapshotData></SnapshotDeviceResponse>"
                );
                self.respond(info, Some(answer)).await;
            }
            "AnswerCall"
            | "HoldCall"
            | "RetrieveCall"
            | "SingleStepTransferCall"
            | "ClearConnection"
                if !known =>
            {
                self.respond(info, Some(error("invalidConnectionIdentifier")))
                    .await;
            }
            "AnswerCall" => {
                self.respond(info, Some(empty("AnswerCallResponse"))).await;
                let event = format!(
                    "<EstablishedEvent xmlns=\"{NS}\"><monitorCrossRefID>{}</monitorCrossRefID><establishedConnection><callID>{call}</callID><deviceID>{device}</deviceID></establishedConnection><answeringDevice><deviceIdentifier>{device}</deviceIdentifier></answeringDevice><cause>normal</cause></EstablishedEvent>",
                    monitor_of(&device)
                );
                self.event(event).await;
            }
            "HoldCall" => {
                self.respond(info, Some(empty("HoldCallResponse"))).await;
                let event = format!(
                    "<HeldEvent xmlns=\"{NS}\"><monitorCrossRefID>{}</monitorCrossRefID><heldConnection><callID>{call}</callID><deviceID>{device}</deviceID></heldConnection><holdingDevice><deviceIdentifier>{device}</deviceIdentifier></holdingDevice></HeldEvent>",
                    monitor_of(&device)
                );
                self.event(event).await;
            }
            "RetrieveCall" => {
                self.respond(info, Some(empty("RetrieveCallResponse")))
                    .await;
                let event = format!(
                    "<RetrievedEvent xmlns=\"{NS}\"><monitorCrossRefID>{}</monitorCrossRefID><retrievedConnection><callID>{call}</callID><deviceID>{device}</deviceID></retrievedConnection><retrievingDevice><deviceIdentifier>{device}</deviceIdentifier></retrievingDevice></RetrievedEvent>",
                    monitor_of(&device)
                );
                self.event(event).await;
            }
            "SingleStepTransferCall" => {
                let to = text_of(body, "transferredTo").unwrap_or_default();
                self.respond(info, Some(empty("SingleStepTransferCallResponse")))
                    .await;
                let transferred = format!(
                    "<TransferedEvent xmlns=\"{NS}\"><monitorCrossRefID>{}</monitorCrossRefID><primaryOldCall><callID>{call}</callID><deviceID>{device}</deviceID></primaryOldCall><transferringDevice><deviceIdentifier>{device}</deviceIdentifier></transferringDevice><transferredToDevice><deviceIdentifier>{to}</deviceIdentifier></transferredToDevice><cause>singleStepTransfer</cause></TransferedEvent>",
                    monitor_of(&device)
                );
                self.event(transferred).await;
                self.deliver(&call, "+14155550123", &to).await;
            }
            "ClearConnection" => {
                self.respond(info, Some(empty("ClearConnectionResponse")))
                    .await;
                self.state.lock().await.calls.remove(&call);
                let event = format!(
                    "<ConnectionClearedEvent xmlns=\"{NS}\"><monitorCrossRefID>{}</monitorCrossRefID><droppedConnection><callID>{call}</callID><deviceID>{device}</deviceID></droppedConnection><releasingDevice><deviceIdentifier>{device}</deviceIdentifier></releasingDevice><cause>normalClearing</cause></ConnectionClearedEvent>",
                    monitor_of(&device)
                );
                self.event(event).await;
            }
            "MakeCall" => {
                let from = text_of(body, "callingDevice").unwrap_or_default();
                let to = text_of(body, "calledDirectoryNumber").unwrap_or_default();
                let diallable =
                    !to.is_empty() && to.chars().all(|c| c.is_ascii_digit() || "+*#".contains(c));
                if !diallable {
                    self.respond(info, Some(error("invalidCalledDevice"))).await;
                    return;
                }
                let call = self.new_call().await;
                let answer = format!(
                    "<?xml version=\"1.0\"?><MakeCallResponse xmlns=\"{NS}\"><callingDevice><callID>{call}</callID><deviceID>{from}</deviceID></callingDevice></MakeCallResponse>"
                );
                self.respond(info, Some(answer)).await;
                let event = format!(
                    "<OriginatedEvent xmlns=\"{NS}\"><monitorCrossRefID>{}</monitorCrossRefID><originatedConnection><callID>{call}</callID><deviceID>{from}</deviceID></originatedConnection><callingDevice><deviceIdentifier>{from}</deviceIdentifier></callingDevice><calledDevice><deviceIdentifier>{to}</deviceIdentifier></calledDevice><cause>newCall</cause></OriginatedEvent>",
                    monitor_of(&from)
                );
                self.event(event).await;
            }
            _ => self.respond(info, Some(error("serviceNotSupported"))).await,
        }
    }

    async fn new_call(&self) -> String {
        let mut state = self.state.lock().await;
        state.next_call += 1;
        let call = format!("kc{}", state.next_call);
        state.calls.insert(call.clone());
        call
    }

    async fn deliver(&self, call: &str, from: &str, to: &str) {
        let event = format!(
            "<DeliveredEvent xmlns=\"{NS}\"><monitorCrossRefID>{}</monitorCrossRefID><connection><callID>{call}</callID><deviceID>{to}</deviceID></connection><alertingDevice><deviceIdentifier>{to}</deviceIdentifier></alertingDevice><callingDevice><deviceIdentifier>{from}</deviceIdentifier></callingDevice><calledDevice><deviceIdentifier>{to}</deviceIdentifier></calledDevice><localConnectionInfo>alerting</localConnectionInfo><cause>newCall</cause></DeliveredEvent>",
            monitor_of(to)
        );
        self.event(event).await;
    }

    /// The 200 to a request of ours: the transaction's headers copied, a To tag added.
    async fn respond(&self, request: &Read, body: Option<String>) {
        let mut text = String::from("SIP/2.0 200 OK\r\n");
        for (name, value) in &request.headers {
            let name = name.to_ascii_lowercase();
            match name.as_str() {
                "via" | "from" | "call-id" | "cseq" => {
                    text.push_str(&format!("{name}: {value}\r\n"));
                }
                "to" if !value.contains("tag=") => {
                    text.push_str(&format!("To: {value};tag=fakecsta\r\n"));
                }
                "to" => text.push_str(&format!("To: {value}\r\n")),
                _ => {}
            }
        }
        if request.start.starts_with("INVITE ") {
            text.push_str(&format!(
                "Contact: <sip:csta@127.0.0.1:{};transport=tcp>\r\n",
                self.port
            ));
        }
        let body = body.unwrap_or_default();
        if !body.is_empty() {
            text.push_str("Content-Type: application/csta+xml\r\n");
        }
        text.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        self.write(text).await;
    }

    /// An event: an INFO of the server's in the session.
    async fn event(&self, xml: String) {
        let (session, cseq) = {
            let mut state = self.state.lock().await;
            let Some(session) = state.session.clone() else {
                return;
            };
            state.cseq += 1;
            (session, state.cseq)
        };
        let body = format!("<?xml version=\"1.0\"?>{xml}");
        let text = format!(
            "INFO {} SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:{};branch=z9hG4bKkit{cseq}\r\nFrom: <sip:csta@kit.test>;tag=fakecsta\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} INFO\r\nContent-Type: application/csta+xml\r\nContent-Length: {}\r\n\r\n{body}",
            session.target,
            self.port,
            session.peer,
            session.call_id,
            body.len()
        );
        self.state.lock().await.last_info = Some(text.clone());
        self.write(text).await;
    }

    /// The last INFO again, byte for byte (as after a lost 200 on UDP).
    async fn repeat_last_info(&self) {
        let last = self.state.lock().await.last_info.clone();
        if let Some(text) = last {
            self.write(text).await;
        }
    }

    async fn write(&self, text: String) {
        let mut state = self.state.lock().await;
        if let Some(writer) = state.writer.as_mut() {
            let _ = writer.write_all(text.as_bytes()).await;
        }
    }
}

struct Driver(FakeServer);

impl SwitchDriver for Driver {
    fn ring<'a>(&'a mut self, from: &'a str, to: &'a str) -> DriverFuture<'a> {
        Box::pin(async move {
            let call = self.0.new_call().await;
            self.0.deliver(&call, from, to).await;
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

fn settings(port: u16) -> SwitchSettings {
    settings_with(port, "")
}

fn settings_with(port: u16, extra: &str) -> SwitchSettings {
    let text = format!(
        "name='pbx'\nadapter='sip'\ndevices=['1001','1002']\nmode='uacsta'\nhost='127.0.0.1'\nport={port}\n\
         transport='tcp'\ndomain='kit.test'\nserver_uri='sip:csta@kit.test'\n\
         reconnect_min_s=0.1\nreconnect_max_s=0.5\n{extra}"
    );
    SwitchSettings {
        name: "pbx".into(),
        adapter: "sip".into(),
        devices: vec!["1001".into(), "1002".into()],
        table: toml::from_str(&text).unwrap(),
    }
}

#[tokio::test]
async fn uacsta_mode_passes_the_kit() {
    let server = FakeServer::start().await;
    let adapter = (ctibridge_sip::factory().build)(&settings(server.port)).unwrap();
    let mut driver = Driver(server.clone());
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
    // Every step: uaCSTA has the phone controls the kit drives.
    report.complete().unwrap();
    let state = server.state.lock().await;
    assert_eq!(state.connections, 2, "one reconnection");
    assert_eq!(state.invites, 2, "a session opened on each connection");
}

/// An INFO the server sends again (its copy of our 200 was lost) is answered again
/// but its event is not reported twice.
#[tokio::test]
async fn a_repeated_info_is_answered_and_not_taken_twice() {
    let server = FakeServer::start().await;
    let adapter = (ctibridge_sip::factory().build)(&settings(server.port)).unwrap();
    let (tx, mut events) = tokio::sync::mpsc::channel(64);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let (link, _engine) = AdapterLink::new("pbx", tx, shutdown.clone());
    tokio::spawn(adapter.run(link));
    assert_eq!(next(&mut events).await, SwitchEvent::LinkUp);
    assert!(matches!(next(&mut events).await, SwitchEvent::Snapshot(_)));
    let mut driver = Driver(server.clone());
    driver.ring("+14155550123", "1001").await;
    assert!(
        matches!(next(&mut events).await, SwitchEvent::Delivered { call_id, .. } if call_id == "kc1")
    );
    server.repeat_last_info().await;
    driver.ring("+14155550199", "1002").await;
    let event = next(&mut events).await;
    assert!(
        matches!(&event, SwitchEvent::Delivered { call_id, .. } if call_id == "kc2"),
        "the repeated INFO was taken again: {event:?}"
    );
    shutdown.cancel();
}

async fn next(
    events: &mut tokio::sync::mpsc::Receiver<(String, ctibridge_adapter::AdapterEvent)>,
) -> SwitchEvent {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("an event in time")
        .expect("adapter running")
        .1
        .event
}

/// A server that grants no session timer (its 200 has no Session-Expires) is kept
/// by a CSTA SystemStatus INFO every `expires`/2 seconds; the link stays up. Takes
/// half a minute: 60 s is the shortest `expires`.
#[tokio::test]
async fn without_a_session_timer_the_session_is_kept_by_system_status() {
    let server = FakeServer::start().await;
    let adapter =
        (ctibridge_sip::factory().build)(&settings_with(server.port, "expires=60\n")).unwrap();
    let (tx, mut events) = tokio::sync::mpsc::channel(64);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let (link, _engine) = AdapterLink::new("pbx", tx, shutdown.clone());
    tokio::spawn(adapter.run(link));
    assert_eq!(next(&mut events).await, SwitchEvent::LinkUp);
    assert!(matches!(next(&mut events).await, SwitchEvent::Snapshot(_)));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while server.state.lock().await.keep_alives == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no SystemStatus within 40 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(events.try_recv().is_err(), "the link stayed up");
    assert_eq!(server.state.lock().await.invites, 1, "no new session");
    shutdown.cancel();
}

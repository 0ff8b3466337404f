//! Round trips against a running fake switch over TCP, with a client that
//! frames and writes its XML by hand (nothing shared with the switch's own
//! encoder, so a framing slip on either side shows up).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::*;

const NS: &str = "http://www.ecma-international.org/standards/ecma-323/csta/ed3";
const WAIT: Duration = Duration::from_secs(3);

/// A received frame: the invoke id from the header ("" with NUL framing),
/// the XML, and the header's length field.
#[derive(Debug)]
struct Got {
    invoke: String,
    xml: String,
    header_len: usize,
}

impl Got {
    fn root(&self) -> &str {
        let after_decl = self.xml.split_once("?>").map_or(&*self.xml, |(_, r)| r);
        let start = after_decl.trim_start().trim_start_matches('<');
        let end = start.find([' ', '>', '/']).unwrap_or(start.len());
        let name = &start[..end];
        name.rsplit(':').next().unwrap_or(name)
    }

    /// Text of the first `<tag>` (no prefix) in the document.
    fn text(&self, tag: &str) -> Option<&str> {
        let open = format!("<{tag}>");
        let start = self.xml.find(&open)? + open.len();
        let len = self.xml[start..].find('<')?;
        Some(&self.xml[start..start + len])
    }
}

struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    nul: bool,
}

fn doc(root: &str, body: &str) -> String {
    format!(r#"<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="{NS}">{body}</{root}>"#)
}

fn frame(invoke: &str, xml: &str) -> Vec<u8> {
    let total = u16::try_from(8 + xml.len()).expect("test frame fits");
    let mut out = vec![0, 0];
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(invoke.as_bytes());
    out.extend_from_slice(xml.as_bytes());
    out
}

impl Client {
    async fn connect(sw: &FakeSwitch) -> Client {
        let stream = TcpStream::connect(sw.addr()).await.expect("connect");
        Client {
            stream,
            buf: Vec::new(),
            nul: false,
        }
    }

    async fn raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    async fn send(&mut self, invoke: &str, root: &str, body: &str) {
        let xml = doc(root, body);
        let bytes = if self.nul {
            let mut b = xml.into_bytes();
            b.push(0);
            b
        } else {
            frame(invoke, &xml)
        };
        self.raw(&bytes).await;
    }

    /// Next frame, or `None` on EOF.
    async fn next(&mut self) -> Option<Got> {
        loop {
            if let Some(got) = self.cut() {
                return Some(got);
            }
            let mut chunk = [0u8; 4096];
            let n = timeout(WAIT, self.stream.read(&mut chunk))
                .await
                .expect("timed out waiting for the switch")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn cut(&mut self) -> Option<Got> {
        if self.nul {
            let end = self.buf.iter().position(|b| *b == 0)?;
            let xml = String::from_utf8(self.buf.drain(..=end).collect()).expect("utf-8");
            return Some(Got {
                invoke: String::new(),
                xml: xml.trim_end_matches('\0').to_owned(),
                header_len: 0,
            });
        }
        if self.buf.len() < 8 {
            return None;
        }
        assert_eq!(&self.buf[..2], &[0, 0], "header starts with two zero bytes");
        let len = usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]]));
        if self.buf.len() < len {
            return None;
        }
        let bytes: Vec<u8> = self.buf.drain(..len).collect();
        Some(Got {
            invoke: String::from_utf8(bytes[4..8].to_vec()).expect("ascii invoke id"),
            xml: String::from_utf8(bytes[8..].to_vec()).expect("utf-8"),
            header_len: len,
        })
    }

    /// Next frame whose root is `root`, skipping others.
    async fn until(&mut self, root: &str) -> Got {
        loop {
            let got = self.next().await.expect("link closed");
            if got.root() == root {
                return got;
            }
        }
    }

    async fn request(&mut self, invoke: &str, root: &str, body: &str) -> Got {
        self.send(invoke, root, body).await;
        loop {
            let got = self.next().await.expect("link closed");
            if self.nul || got.invoke == invoke {
                return got;
            }
        }
    }

    async fn monitor(&mut self, invoke: &str, device: &str) -> String {
        let got = self
            .request(
                invoke,
                "MonitorStart",
                &format!("<monitorObject><deviceObject>{device}</deviceObject></monitorObject>"),
            )
            .await;
        assert_eq!(got.root(), "MonitorStartResponse", "{}", got.xml);
        got.text("monitorCrossRefID").expect("xref").to_owned()
    }

    async fn expect_closed(&mut self) {
        loop {
            if self.next().await.is_none() {
                return;
            }
        }
    }
}

fn conn(call: &str, device: &str) -> String {
    format!("<callID>{call}</callID><deviceID>{device}</deviceID>")
}

fn session_body(user: &str, password: &str, duration: u32) -> String {
    format!(
        "<applicationInfo><applicationID>ctibridge</applicationID><applicationSpecificInfo>\
         <sessionLoginInfo><userName>{user}</userName><password>{password}</password>\
         </sessionLoginInfo></applicationSpecificInfo></applicationInfo>\
         <requestedProtocolVersions><protocolVersion>{NS}</protocolVersion>\
         </requestedProtocolVersions><requestedSessionDuration>{duration}</requestedSessionDuration>"
    )
}

async fn start(config: FakeConfig) -> FakeSwitch {
    FakeSwitch::start(config).await.expect("start fake switch")
}

#[tokio::test]
async fn session_start_with_credentials() {
    let sw = start(FakeConfig {
        credentials: Some(("u".into(), "p".into())),
        ..FakeConfig::default()
    })
    .await;
    let mut c = Client::connect(&sw).await;

    let early = c
        .request(
            "0001",
            "MonitorStart",
            "<monitorObject><deviceObject>1001</deviceObject></monitorObject>",
        )
        .await;
    assert_eq!(early.root(), "CSTAErrorCode");
    assert_eq!(early.text("operation"), Some("generic"));

    let bad = c
        .request(
            "0002",
            "StartApplicationSession",
            &session_body("u", "nope", 180),
        )
        .await;
    assert_eq!(bad.root(), "StartApplicationSessionNegResponse");
    assert_eq!(bad.text("definedError"), Some("invalidApplicationInfo"));

    let ok = c
        .request(
            "0003",
            "StartApplicationSession",
            &session_body("u", "p", 180),
        )
        .await;
    assert_eq!(
        ok.root(),
        "StartApplicationSessionPosResponse",
        "{}",
        ok.xml
    );
    assert!(ok.text("sessionID").is_some_and(|s| !s.is_empty()));
    assert_eq!(ok.text("actualProtocolVersion"), Some(NS));
    assert_eq!(ok.text("actualSessionDuration"), Some("180"));
    assert!(ok
        .xml
        .starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#));

    c.monitor("0004", "1001").await;
    assert!(sw.session_started().await);
    assert_eq!(
        sw.received().await,
        [
            "MonitorStart",
            "StartApplicationSession",
            "StartApplicationSession",
            "MonitorStart"
        ]
    );
    assert_eq!(sw.monitored().await, ["1001"]);
}

#[tokio::test]
async fn delivered_event_frame_bytes() {
    let sw = start(FakeConfig::default()).await;
    let mut c = Client::connect(&sw).await;
    let xref = c.monitor("0001", "1001").await;

    let call = sw.ring_with("+14155550123", "1001", "8005550100").await;
    let got = c.next().await.expect("event");
    assert_eq!(got.invoke, "9999");
    assert_eq!(got.header_len, 8 + got.xml.len());
    assert_eq!(got.root(), "DeliveredEvent");
    assert!(got
        .xml
        .contains(&format!(r#"<DeliveredEvent xmlns="{NS}">"#)));
    assert_eq!(got.text("monitorCrossRefID"), Some(xref.as_str()));
    assert!(got
        .xml
        .contains(&format!("<connection>{}</connection>", conn(&call, "1001"))));
    assert!(got.xml.contains(
        "<callingDevice><deviceIdentifier>+14155550123</deviceIdentifier></callingDevice>"
    ));
    assert!(got
        .xml
        .contains("<calledDevice><deviceIdentifier>8005550100</deviceIdentifier></calledDevice>"));
    assert_eq!(got.text("localConnectionInfo"), Some("alerting"));
    assert_eq!(got.text("cause"), Some("newCall"));

    sw.answer("1001").await;
    let est = c.next().await.expect("event");
    assert_eq!(est.root(), "EstablishedEvent");
    assert_eq!(est.text("localConnectionInfo"), Some("connected"));

    sw.hangup("+14155550123").await;
    let cleared_caller = c.next().await.expect("event");
    assert_eq!(cleared_caller.root(), "ConnectionClearedEvent");
    assert!(cleared_caller.xml.contains(&conn(&call, "+14155550123")));
    let cleared_agent = c.next().await.expect("event");
    assert!(cleared_agent.xml.contains(&conn(&call, "1001")));
    assert_eq!(cleared_agent.text("localConnectionInfo"), Some("null"));
    assert!(sw.calls().await.is_empty());
}

#[tokio::test]
async fn make_call_to_invalid_number_is_refused_with_the_invoke_id() {
    let sw = start(FakeConfig::default()).await;
    let mut c = Client::connect(&sw).await;
    let got = c
        .request(
            "0042",
            "MakeCall",
            "<callingDevice>1001</callingDevice><calledDirectoryNumber>sip:bob</calledDirectoryNumber>",
        )
        .await;
    assert_eq!(got.invoke, "0042");
    assert_eq!(got.root(), "CSTAErrorCode");
    assert_eq!(got.text("operation"), Some("invalidCalledDevice"));

    let unknown = c.request("0043", "FrobnicateCall", "").await;
    assert_eq!(unknown.text("operation"), Some("invalidFeature"));
}

#[tokio::test]
async fn malformed_input_does_not_kill_the_switch() {
    let sw = start(FakeConfig::default()).await;

    // Truncated header, then hang up.
    let mut c = Client::connect(&sw).await;
    c.raw(&[0, 0, 0]).await;
    drop(c);

    let mut c = Client::connect(&sw).await;
    // Non-digit invoke id: skipped, the stream stays in step.
    c.raw(&frame("AB12", &doc("SystemStatus", ""))).await;
    // Not XML, with an invoke id: answered.
    c.raw(&frame("0007", "<unclosed")).await;
    let err = c.next().await.expect("reply");
    assert_eq!((err.invoke.as_str(), err.root()), ("0007", "CSTAErrorCode"));
    assert_eq!(err.text("operation"), Some("generic"));
    let ok = c
        .request(
            "0008",
            "SystemStatus",
            "<systemStatus>normal</systemStatus>",
        )
        .await;
    assert_eq!(ok.root(), "SystemStatusResponse");

    // An impossible header closes the connection.
    c.raw(b"GET / HTTP/1.1\r\n\r\n").await;
    c.expect_closed().await;

    let mut c = Client::connect(&sw).await;
    c.raw(&[0, 0, 0, 3, b'0', b'0', b'0', b'1']).await;
    c.expect_closed().await;

    // Still serving.
    let mut c = Client::connect(&sw).await;
    let ok = c.request("0001", "SystemStatus", "").await;
    assert_eq!(ok.root(), "SystemStatusResponse");
    assert_eq!(sw.connections_accepted().await, 4);
}

#[tokio::test]
async fn prefixed_output_and_nul_framing() {
    let sw = start(FakeConfig {
        prefix: Some("csta".into()),
        framing: Framing::Nul,
        ..FakeConfig::default()
    })
    .await;
    let mut c = Client::connect(&sw).await;
    c.nul = true;
    // The client may use its own prefix too.
    c.raw(
        format!(
            r#"<x:MonitorStart xmlns:x="{NS}"><x:monitorObject><x:deviceObject>1002</x:deviceObject></x:monitorObject></x:MonitorStart>"#
        )
        .as_bytes(),
    )
    .await;
    c.raw(b"\0").await;
    let resp = c.next().await.expect("reply");
    assert!(
        resp.xml.contains(&format!(
            r#"<csta:MonitorStartResponse xmlns:csta="{NS}"><csta:monitorCrossRefID>"#
        )),
        "{}",
        resp.xml
    );
    sw.ring("+15550001", "1002").await;
    let ev = c.next().await.expect("event");
    assert_eq!(ev.root(), "DeliveredEvent");
    assert!(ev
        .xml
        .contains("<csta:alertingDevice><csta:deviceIdentifier>1002<"));
}

#[tokio::test]
async fn acd_call_goes_to_the_ready_agent() {
    let sw = start(FakeConfig::default()).await;
    let mut c = Client::connect(&sw).await;
    let group_xref = c.monitor("0001", "8000").await;
    let phone_xref = c.monitor("0002", "1001").await;

    let logon = c
        .request(
            "0003",
            "SetAgentState",
            "<device>1001</device><requestedAgentState>loggedOn</requestedAgentState>\
             <agentID>5001</agentID><password>1234</password>",
        )
        .await;
    assert_eq!(logon.root(), "SetAgentStateResponse", "{}", logon.xml);
    let ev = c.next().await.expect("event");
    assert_eq!(ev.root(), "AgentLoggedOnEvent");

    let call = sw.ring_with("+15550001", "8000", "8005550100").await;
    let queued = c.until("QueuedEvent").await;
    assert_eq!(queued.text("monitorCrossRefID"), Some(group_xref.as_str()));
    assert_eq!(queued.text("numberQueued"), Some("1"));

    // Not ready yet: the call waits. Ready: it is delivered at once.
    let state = c
        .request("0004", "GetAgentState", "<device>1001</device>")
        .await;
    assert_eq!(state.text("agentState"), Some("agentNotReady"));
    assert_eq!(state.text("loggedOnState"), Some("true"));
    c.send(
        "0005",
        "SetAgentState",
        "<device>1001</device><requestedAgentState>ready</requestedAgentState><agentID>5001</agentID>",
    )
    .await;
    let mut delivered = Vec::new();
    while delivered.len() < 2 {
        let got = c.next().await.expect("event");
        if got.root() == "DeliveredEvent" {
            delivered.push(got);
        }
    }
    let xrefs: Vec<_> = delivered
        .iter()
        .map(|d| d.text("monitorCrossRefID").unwrap_or_default().to_owned())
        .collect();
    assert!(xrefs.contains(&phone_xref) && xrefs.contains(&group_xref));
    for d in &delivered {
        assert!(d.xml.contains(&conn(&call, "1001")));
        assert_eq!(d.text("cause"), Some("distributed"));
        assert!(d
            .xml
            .contains("<privateData><private><acdGroup>8000</acdGroup></private></privateData>"));
        assert!(d.xml.contains(
            "<lastRedirectionDevice><deviceIdentifier>8000</deviceIdentifier></lastRedirectionDevice>"
        ));
    }
    assert_eq!(
        sw.agent_state("5001").await.map(|a| a.state),
        Some(AgentState::Busy)
    );

    let snap = c
        .request(
            "0006",
            "SnapshotDevice",
            "<snapshotObject>1001</snapshotObject>",
        )
        .await;
    assert_eq!(snap.root(), "SnapshotDeviceResponse");
    assert_eq!(snap.text("localConnectionState"), Some("alerting"));
    assert!(snap.xml.contains(
        "<privateData><private><callingDevice>+15550001</callingDevice>\
         <calledDevice>8005550100</calledDevice><acdGroup>8000</acdGroup></private></privateData>"
    ));

    let wrong = c
        .request(
            "0007",
            "SetAgentState",
            "<device>1002</device><requestedAgentState>loggedOn</requestedAgentState>\
             <agentID>5002</agentID><password>0000</password>",
        )
        .await;
    assert_eq!(wrong.text("operation"), Some("invalidAgentPassword"));
}

#[tokio::test]
async fn outgoing_call_consult_and_transfer() {
    let sw = start(FakeConfig {
        far_end_answer_after: Some(Duration::from_millis(20)),
        ..FakeConfig::default()
    })
    .await;
    let mut c = Client::connect(&sw).await;
    c.monitor("0001", "1001").await;
    c.monitor("0002", "1002").await;

    let made = c
        .request(
            "0003",
            "MakeCall",
            "<callingDevice>1001</callingDevice><calledDirectoryNumber>+14155550123</calledDirectoryNumber>",
        )
        .await;
    assert_eq!(made.root(), "MakeCallResponse");
    let call = made.text("callID").expect("call id").to_owned();
    for root in ["ServiceInitiatedEvent", "OriginatedEvent", "DeliveredEvent"] {
        assert_eq!(c.next().await.expect("event").root(), root);
    }
    let est = c.next().await.expect("far end answers");
    assert_eq!(est.root(), "EstablishedEvent");
    assert!(est
        .xml
        .contains("<answeringDevice><deviceIdentifier>+14155550123</deviceIdentifier>"));

    let consult = c
        .request(
            "0004",
            "ConsultationCall",
            &format!(
                "<existingCall>{}</existingCall><consultedDevice>1002</consultedDevice>",
                conn(&call, "1001")
            ),
        )
        .await;
    assert_eq!(
        consult.root(),
        "ConsultationCallResponse",
        "{}",
        consult.xml
    );
    let second = consult.text("callID").expect("new call").to_owned();
    assert_ne!(second, call);
    assert_eq!(c.next().await.expect("event").root(), "HeldEvent");

    sw.answer("1002").await;
    c.until("EstablishedEvent").await;

    let t = c
        .request(
            "0005",
            "TransferCall",
            &format!(
                "<heldCall>{}</heldCall><activeCall>{}</activeCall>",
                conn(&call, "1001"),
                conn(&second, "1001")
            ),
        )
        .await;
    assert_eq!(t.root(), "TransferCallResponse", "{}", t.xml);
    let ev = c.until("TransferedEvent").await;
    assert!(ev.xml.contains(&format!(
        "<newConnection>{}</newConnection><oldConnection>{}</oldConnection>",
        conn(&call, "1002"),
        conn(&second, "1002")
    )));
    assert_eq!(ev.text("cause"), Some("transfer"));
    let calls = sw.calls().await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, call);
    assert_eq!(calls[0].state_of("1001"), None);

    let digits = c
        .request(
            "0006",
            "GenerateDigits",
            &format!(
                "<connectionToSendDigits>{}</connectionToSendDigits><charactersToSend>12#</charactersToSend>",
                conn(&call, "1002")
            ),
        )
        .await;
    assert_eq!(digits.root(), "GenerateDigitsResponse");
    assert_eq!(sw.digits(&call).await, "12#");
}

#[tokio::test]
async fn routing_dialogue_and_timeout() {
    let sw = start(FakeConfig {
        route_timeout: Duration::from_millis(200),
        ..FakeConfig::default()
    })
    .await;
    let mut c = Client::connect(&sw).await;
    let reg = c
        .request(
            "0001",
            "RouteRegister",
            "<routeingDevice>7000</routeingDevice>",
        )
        .await;
    assert_eq!(reg.root(), "RouteRegisterResponse");
    let reg_id = reg.text("routeRegisterReqID").expect("reg id").to_owned();

    let sw2 = sw.clone();
    let routed = tokio::spawn(async move { sw2.route("+15550001", "7000").await });
    let req = c.until("RouteRequest").await;
    assert_eq!(req.invoke, "9999");
    assert_eq!(req.text("routeRegisterReqID"), Some(reg_id.as_str()));
    assert_eq!(req.text("callingDevice"), Some("+15550001"));
    let xref = req.text("routingCrossRefID").expect("xref").to_owned();
    c.send(
        "0002",
        "RouteSelectRequest",
        &format!(
            "<routeRegisterReqID>{reg_id}</routeRegisterReqID><routingCrossRefID>{xref}</routingCrossRefID><routeSelected>1002</routeSelected>"
        ),
    )
    .await;
    let end = c.until("RouteEnd").await;
    assert_eq!(end.text("routingCrossRefID"), Some(xref.as_str()));
    assert!(!end.xml.contains("errorValue"));
    assert_eq!(routed.await.expect("route task"), "1002");
    assert!(sw.calls().await[0].state_of("1002") == Some(PartyState::Alerting));

    // Nobody answers the second request: default route.
    let sw2 = sw.clone();
    let routed = tokio::spawn(async move { sw2.route("+15550002", "7000").await });
    c.until("RouteRequest").await;
    let end = c.until("RouteEnd").await;
    assert!(end.xml.contains("<errorValue>"));
    assert_eq!(routed.await.expect("route task"), "8000");

    let stale = c
        .request(
            "0003",
            "RouteEndRequest",
            "<routeRegisterReqID>1</routeRegisterReqID><routingCrossRefID>999</routingCrossRefID>",
        )
        .await;
    assert_eq!(stale.text("operation"), Some("invalidCrossRefID"));
}

#[tokio::test]
async fn link_loss_keeps_the_calls() {
    let sw = start(FakeConfig::default()).await;
    let mut c = Client::connect(&sw).await;
    c.monitor("0001", "1001").await;
    let call = sw.ring("+15550001", "1001").await;
    c.until("DeliveredEvent").await;

    assert!(sw.drop_link().await);
    c.expect_closed().await;
    sw.set_accepting(false).await;
    let mut refused = Client::connect(&sw).await;
    refused.expect_closed().await;
    sw.answer("1001").await;

    sw.set_accepting(true).await;
    let mut c = Client::connect(&sw).await;
    assert!(sw.monitored().await.is_empty());
    let snap = c
        .request(
            "0001",
            "SnapshotDevice",
            "<snapshotObject>1001</snapshotObject>",
        )
        .await;
    assert!(snap.xml.contains(&conn(&call, "1001")));
    assert_eq!(snap.text("localConnectionState"), Some("connected"));
    assert_eq!(sw.connections_accepted().await, 2);

    assert!(sw.inject_raw(b"\0\0\0\x0a9999".to_vec()).await);
    let mut junk = [0u8; 8];
    timeout(WAIT, c.stream.read_exact(&mut junk))
        .await
        .expect("in time")
        .expect("read");
    assert_eq!(&junk[4..8], b"9999");
}

#[tokio::test]
async fn session_timer_and_heartbeats() {
    // The session expires without a reset.
    let sw = start(FakeConfig::default()).await;
    let mut c = Client::connect(&sw).await;
    let ok = c
        .request(
            "0001",
            "StartApplicationSession",
            &session_body("u", "p", 1),
        )
        .await;
    let session = ok.text("sessionID").expect("session id").to_owned();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let reset = c
        .request(
            "0002",
            "ResetApplicationSessionTimer",
            &format!("<sessionID>{session}</sessionID><requestedSessionDuration>1</requestedSessionDuration>"),
        )
        .await;
    assert_eq!(reset.root(), "ResetApplicationSessionTimerPosResponse");
    // 600 ms after the reset the first timer has passed; still open.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let alive = c.request("0003", "SystemStatus", "").await;
    assert_eq!(alive.root(), "SystemStatusResponse");
    c.expect_closed().await;

    // Strict heartbeats: answered ones keep the link, ignored ones end it.
    let sw = start(FakeConfig {
        heartbeat: Some(Duration::from_millis(50)),
        heartbeat_strict: true,
        ..FakeConfig::default()
    })
    .await;
    let mut c = Client::connect(&sw).await;
    for _ in 0..4 {
        let hb = c.until("SystemStatus").await;
        assert_ne!(hb.invoke, "9999");
        assert_eq!(hb.text("systemStatus"), Some("normal"));
        c.send(&hb.invoke, "SystemStatusResponse", "").await;
    }
    assert!(sw.is_connected().await);
    c.expect_closed().await;
    assert!(sw
        .received()
        .await
        .iter()
        .all(|r| r == "SystemStatusResponse"));
}

#[tokio::test]
async fn openscape_voice_names_connections_by_device_and_decorates_devices() {
    let sw = start(FakeConfig {
        dialect: Dialect::OpenScapeVoice,
        ..FakeConfig::default()
    })
    .await;
    let mut c = Client::connect(&sw).await;
    c.monitor("0001", "1001").await;
    sw.ring_with("+14155550123", "1001", "8005550100").await;
    let got = c.until("DeliveredEvent").await;
    let ed4 = "http://www.ecma-international.org/standards/ecma-323/csta/ed4";
    assert!(
        got.xml
            .contains(&format!(r#"<DeliveredEvent xmlns="{ed4}">"#)),
        "{}",
        got.xml
    );
    assert!(
        got.xml.contains(
            "<connection><deviceID>N&lt;1001&gt;;displayNumber=1001</deviceID></connection>"
        ),
        "{}",
        got.xml
    );
    assert!(!got.xml.contains("<callID>"), "{}", got.xml);
    assert!(
        got.xml.contains(
            "<callingDevice><deviceIdentifier>N&lt;+14155550123&gt;;displayNumber=+14155550123</deviceIdentifier></callingDevice>"
        ),
        "{}",
        got.xml
    );
    // A request may name the connection by its device alone: the ringing call.
    let answered = c
        .request(
            "0002",
            "AnswerCall",
            "<callToBeAnswered><deviceID>1001</deviceID></callToBeAnswered>",
        )
        .await;
    assert_eq!(answered.root(), "AnswerCallResponse", "{}", answered.xml);
    let got = c.until("EstablishedEvent").await;
    assert!(
        got.xml
            .contains("<establishedConnection><deviceID>N&lt;1001&gt;"),
        "{}",
        got.xml
    );
}

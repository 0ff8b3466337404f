//! The bench's switch: a lean CSTA XML load generator on loopback that the real `csta`
//! adapter connects to as to a switch.
//!
//! It answers the adapter's set-up (MonitorStart, SnapshotDevice, GetAgentState,
//! SystemStatus; anything else gets a CSTA error) and, once told to go, streams
//! DeliveredEvent / EstablishedEvent / ConnectionClearedEvent with the 8-byte header
//! framing, paced to a rate or as fast as the TCP link takes them (so when the daemon
//! is behind, the generator waits on the socket as a switch would). The fake switch in
//! `ctibridge_csta::fake` keeps a call model and answers one request at a time, which
//! cannot produce hundreds of thousands of events a second; this one has no model:
//! call `n` is offered to extension `n mod E`, answered [`OVERLAP`] calls later and
//! cleared [`OVERLAP`] calls after that, so every call lives long enough for its CRM
//! look-up and ends, leaving no call behind.
//!
//! Each DeliveredEvent carries the wall-clock time it was written (nanoseconds since
//! the epoch) as `userData`, which the engine passes on as the call's `digits`: the
//! clients measure latency from it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use super::contacts;

const NS: &str = "http://www.ecma-international.org/standards/ecma-323/csta/ed3";
/// Invoke id of unsolicited messages (events).
const EVENT_INVOKE: &[u8; 4] = b"9999";
/// Calls between a call's offer and its answer, and between its answer and its end.
pub const OVERLAP: u64 = 64;
/// Events written in one `write_all`.
const BATCH: u64 = 512;

/// What the generator produces.
pub struct Load {
    pub extensions: Vec<String>,
    /// Contacts in the database: call `n` comes from contact `n mod contacts`.
    pub contacts: u64,
    /// Events per second; `None`: as fast as the link takes them.
    pub rate: Option<u64>,
}

/// Shared with the bench: start and stop the stream, read what was written.
#[derive(Default)]
pub struct Control {
    pub go: Notify,
    pub stop: CancellationToken,
    /// Events written so far.
    pub sent: AtomicU64,
    /// Set (to the events written) when the last call has been cleared.
    pub finished: Notify,
}

/// Listen on loopback; the adapter is configured with the returned address.
pub async fn bind() -> std::io::Result<TcpListener> {
    TcpListener::bind("127.0.0.1:0").await
}

/// Serve one adapter connection: answer its set-up, then stream the load.
pub async fn serve(
    listener: TcpListener,
    load: Load,
    control: Arc<Control>,
) -> std::io::Result<()> {
    let (stream, _) = listener.accept().await?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let (answers_tx, mut answers) = mpsc::unbounded_channel::<Vec<u8>>();
    let reader = tokio::spawn(answer_requests(read, answers_tx));
    // Set-up: answers only, until the bench says go.
    loop {
        tokio::select! {
            answer = answers.recv() => match answer {
                Some(bytes) => write.write_all(&bytes).await?,
                None => return Ok(()),
            },
            _ = control.go.notified() => break,
            _ = control.stop.cancelled() => return Ok(()),
        }
    }
    let mut calls = Calls::new(load.extensions, load.contacts);
    let started = Instant::now();
    let mut out = Vec::with_capacity(256 * 1024);
    while !control.stop.is_cancelled() {
        while let Ok(answer) = answers.try_recv() {
            write.write_all(&answer).await?;
        }
        let sent = control.sent.load(Ordering::Relaxed);
        let due = match load.rate {
            Some(rate) => (started.elapsed().as_secs_f64() * rate as f64) as u64,
            None => sent + BATCH,
        };
        if due <= sent {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        out.clear();
        let stamp = now_ns();
        let mut written = 0;
        while written < (due - sent).min(BATCH) {
            written += calls.step(&mut out, stamp);
        }
        write.write_all(&out).await?;
        control.sent.fetch_add(written, Ordering::Relaxed);
    }
    // End every call still up, so nothing is left half done.
    out.clear();
    let tail = calls.finish(&mut out);
    write.write_all(&out).await?;
    control.sent.fetch_add(tail, Ordering::Relaxed);
    control.finished.notify_one();
    // Keep the link open (and answering) until the bench is done with the daemon.
    while let Some(answer) = answers.recv().await {
        write.write_all(&answer).await?;
    }
    reader.abort();
    Ok(())
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Read the adapter's requests and queue an answer to each.
async fn answer_requests(
    mut read: OwnedReadHalf,
    answers: mpsc::UnboundedSender<Vec<u8>>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut monitors = 0u64;
    loop {
        let n = read.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..n]);
        while buffer.len() >= 8 {
            let length = usize::from(u16::from_be_bytes([buffer[2], buffer[3]]));
            if buffer[0] != 0 || buffer[1] != 0 || length < 8 {
                return Err(std::io::Error::other(
                    "bad CSTA frame header from the adapter",
                ));
            }
            if buffer.len() < length {
                break;
            }
            let invoke: [u8; 4] = [buffer[4], buffer[5], buffer[6], buffer[7]];
            let body = String::from_utf8_lossy(&buffer[8..length]).into_owned();
            buffer.drain(..length);
            let xml = match root_name(&body) {
                "MonitorStart" => {
                    monitors += 1;
                    document(
                        "MonitorStartResponse",
                        &format!("<monitorCrossRefID>{monitors}</monitorCrossRefID>"),
                    )
                }
                "SnapshotDevice" => document(
                    "SnapshotDeviceResponse",
                    "<crossRefIDorSnapshotData><snapshotData/></crossRefIDorSnapshotData>",
                ),
                "GetAgentState" => document("GetAgentStateResponse", "<agentStateList/>"),
                "SystemStatus" => document("SystemStatusResponse", ""),
                _ => document("CSTAErrorCode", "<operation>invalidFeature</operation>"),
            };
            let mut frame = Vec::with_capacity(xml.len() + 8);
            frame_into(&mut frame, &invoke, &xml);
            if answers.send(frame).is_err() {
                return Ok(());
            }
        }
    }
}

/// The local name of a document's root element.
fn root_name(xml: &str) -> &str {
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = &rest[..end];
        return name.rsplit(':').next().unwrap_or(name);
    }
    ""
}

fn document(root: &str, body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><{root} xmlns=\"{NS}\">{body}</{root}>")
}

/// Append one header-framed document.
fn frame_into(out: &mut Vec<u8>, invoke: &[u8; 4], xml: &str) {
    let length = (xml.len() + 8) as u16;
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(invoke);
    out.extend_from_slice(xml.as_bytes());
}

/// The calls the generator runs: which extension, which caller, and their events.
struct Calls {
    extensions: Vec<String>,
    contacts: u64,
    /// The next call to offer.
    next: u64,
    xml: String,
}

impl Calls {
    fn new(extensions: Vec<String>, contacts: u64) -> Calls {
        Calls {
            extensions,
            contacts: contacts.max(1),
            next: 0,
            xml: String::with_capacity(1024),
        }
    }

    fn extension(&self, call: u64) -> &str {
        &self.extensions[(call % self.extensions.len() as u64) as usize]
    }

    /// Offer the next call, answer the one [`OVERLAP`] before it and clear the one
    /// before that. Returns the events written.
    fn step(&mut self, out: &mut Vec<u8>, stamp: u128) -> u64 {
        let call = self.next;
        self.next += 1;
        self.delivered(out, call, stamp);
        let mut events = 1;
        if call >= OVERLAP {
            self.established(out, call - OVERLAP);
            events += 1;
        }
        if call >= 2 * OVERLAP {
            self.cleared(out, call - 2 * OVERLAP);
            events += 1;
        }
        events
    }

    /// Answer and clear every call still up.
    fn finish(&mut self, out: &mut Vec<u8>) -> u64 {
        let mut events = 0;
        let first_unanswered = self.next.saturating_sub(OVERLAP);
        for call in first_unanswered..self.next {
            self.established(out, call);
            events += 1;
        }
        for call in self.next.saturating_sub(2 * OVERLAP)..self.next {
            self.cleared(out, call);
            events += 1;
        }
        events
    }

    fn caller(&self, call: u64) -> String {
        contacts::phone(call % self.contacts)
    }

    fn delivered(&mut self, out: &mut Vec<u8>, call: u64, stamp: u128) {
        let ext = self.extension(call).to_string();
        let caller = self.caller(call);
        self.event(
            out,
            "DeliveredEvent",
            &format!(
                "<connection><callID>{call}</callID><deviceID>{ext}</deviceID></connection>\
                 <alertingDevice><deviceIdentifier>{ext}</deviceIdentifier></alertingDevice>\
                 <callingDevice><deviceIdentifier>{caller}</deviceIdentifier></callingDevice>\
                 <calledDevice><deviceIdentifier>{ext}</deviceIdentifier></calledDevice>\
                 <localConnectionInfo>alerting</localConnectionInfo><cause>newCall</cause>\
                 <userData><string>{stamp}</string></userData>"
            ),
        );
    }

    fn established(&mut self, out: &mut Vec<u8>, call: u64) {
        let ext = self.extension(call).to_string();
        let caller = self.caller(call);
        self.event(
            out,
            "EstablishedEvent",
            &format!(
                "<establishedConnection><callID>{call}</callID><deviceID>{ext}</deviceID></establishedConnection>\
                 <answeringDevice><deviceIdentifier>{ext}</deviceIdentifier></answeringDevice>\
                 <callingDevice><deviceIdentifier>{caller}</deviceIdentifier></callingDevice>\
                 <calledDevice><deviceIdentifier>{ext}</deviceIdentifier></calledDevice>\
                 <localConnectionInfo>connected</localConnectionInfo><cause>newCall</cause>"
            ),
        );
    }

    fn cleared(&mut self, out: &mut Vec<u8>, call: u64) {
        let ext = self.extension(call).to_string();
        self.event(
            out,
            "ConnectionClearedEvent",
            &format!(
                "<droppedConnection><callID>{call}</callID><deviceID>{ext}</deviceID></droppedConnection>\
                 <releasingDevice><deviceIdentifier>{ext}</deviceIdentifier></releasingDevice>\
                 <localConnectionInfo>null</localConnectionInfo><cause>normalClearing</cause>"
            ),
        );
    }

    fn event(&mut self, out: &mut Vec<u8>, root: &str, body: &str) {
        self.xml.clear();
        self.xml.push_str(&document(root, body));
        frame_into(out, EVENT_INVOKE, &self.xml);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_names_skip_the_declaration_and_prefix() {
        assert_eq!(
            root_name("<?xml version=\"1.0\"?><csta:MonitorStart xmlns:csta=\"x\"><a/></csta:MonitorStart>"),
            "MonitorStart"
        );
        assert_eq!(root_name("<SystemStatus/>"), "SystemStatus");
        assert_eq!(root_name("no xml"), "");
    }

    #[test]
    fn every_call_offered_is_answered_and_cleared() {
        let mut calls = Calls::new(vec!["20000".into(), "20001".into()], 10);
        let mut out = Vec::new();
        let mut events = 0;
        for _ in 0..300 {
            events += calls.step(&mut out, 1);
        }
        events += calls.finish(&mut out);
        assert_eq!(events, 900);
        let text = String::from_utf8_lossy(&out);
        assert_eq!(text.matches("<DeliveredEvent").count(), 300);
        assert_eq!(text.matches("<EstablishedEvent").count(), 300);
        assert_eq!(text.matches("<ConnectionClearedEvent").count(), 300);
    }
}

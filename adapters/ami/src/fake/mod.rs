//! A fake Asterisk manager port on loopback, for tests and adapter development.
//!
//! It speaks AMI as Asterisk 16–20 does: the `Asterisk Call Manager/…` banner, CRLF
//! lines with a blank line after each message, `Response: Success|Error` carrying
//! the action's `ActionID`, list responses (`EventList: start`, items, a
//! `…Complete` event with `EventList: Complete` and `ListItems`), Login plain or
//! through the MD5 `Challenge`. It keeps a small model of channels and queue
//! members so that actions (Originate, Hangup, Redirect, QueueAdd/Remove/Pause,
//! PlayDTMF, Atxfer) have the effects and events Asterisk would give, and so that
//! `CoreShowChannels`/`QueueStatus` after a reconnect list what is still up.
//! Recorded scenarios (the capture corpus) are replayed byte for byte with
//! [`FakeAsterisk::play`].
//!
//! Its reading and writing of AMI are its own (`wire`), not the adapter's codec, so
//! a misreading in one is not hidden by the same misreading in the other.

mod wire;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use wire::{message, Action};

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub banner: String,
    pub username: String,
    pub secret: String,
    /// The trunk channels' endpoint name (`PJSIP/carrier-…`).
    pub trunk: String,
    /// Queues that exist (QueueStatus lists them; QueueAdd to another fails).
    pub queues: Vec<String>,
    /// Actions the fake reads but never answers (an Asterisk stuck on a lock).
    pub unanswered: Vec<String>,
    /// Serve the manager port over TLS with this configuration (`tlsenable`).
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            banner: "Asterisk Call Manager/5.0.1".into(),
            username: "ctibridge".into(),
            secret: "amisecret".into(),
            trunk: "carrier".into(),
            queues: vec!["support".into()],
            unanswered: Vec::new(),
            tls: None,
        }
    }
}

#[derive(Debug, Clone)]
struct Chan {
    name: String,
    uniqueid: String,
    linkedid: String,
    caller: String,
    exten: String,
    state: &'static str,
    queue: Option<String>,
}

#[derive(Debug, Clone)]
struct Member {
    queue: String,
    interface: String,
    name: String,
    paused: bool,
    reason: String,
}

#[derive(Default)]
struct State {
    seq: u64,
    channels: Vec<Chan>,
    members: Vec<Member>,
    received: Vec<String>,
    conn: Option<mpsc::UnboundedSender<Option<Vec<u8>>>>,
}

/// A handle on the running fake (cheap to clone).
#[derive(Clone)]
pub struct FakeAsterisk {
    addr: std::net::SocketAddr,
    config: Arc<FakeConfig>,
    state: Arc<Mutex<State>>,
    accepted: Arc<AtomicUsize>,
}

const EPOCH: u64 = 1_765_500_000;

impl FakeAsterisk {
    pub async fn start(config: FakeConfig) -> FakeAsterisk {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let fake = FakeAsterisk {
            addr: listener.local_addr().expect("local addr"),
            config: Arc::new(config),
            state: Arc::default(),
            accepted: Arc::default(),
        };
        let server = fake.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                server.accepted.fetch_add(1, Ordering::SeqCst);
                let server = server.clone();
                match server.config.tls.clone() {
                    None => drop(tokio::spawn(server.serve(stream))),
                    Some(tls) => drop(tokio::spawn(async move {
                        // A client that fails the handshake just goes away.
                        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
                        if let Ok(stream) = acceptor.accept(stream).await {
                            server.serve(stream).await;
                        }
                    })),
                }
            }
        });
        fake
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    pub fn connections_accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Every action received so far, by name (`Login`, `Originate`, …).
    pub fn received(&self) -> Vec<String> {
        self.state.lock().unwrap().received.clone()
    }

    /// Add a queue member as if configured statically.
    pub fn add_member(&self, queue: &str, interface: &str, name: &str, paused: Option<&str>) {
        self.state.lock().unwrap().members.push(Member {
            queue: queue.into(),
            interface: interface.into(),
            name: name.into(),
            paused: paused.is_some(),
            reason: paused.unwrap_or("").into(),
        });
    }

    /// Whether `interface` is a member of `queue`, and its pause reason if paused.
    pub fn member(&self, queue: &str, interface: &str) -> Option<Option<String>> {
        let state = self.state.lock().unwrap();
        let m = state
            .members
            .iter()
            .find(|m| m.queue == queue && m.interface == interface)?;
        Some(m.paused.then(|| m.reason.clone()))
    }

    /// Send raw bytes to the connected adapter (a recorded scenario).
    pub fn play(&self, bytes: &[u8]) -> bool {
        self.send(bytes.to_vec())
    }

    fn send(&self, bytes: Vec<u8>) -> bool {
        let state = self.state.lock().unwrap();
        state
            .conn
            .as_ref()
            .is_some_and(|c| c.send(Some(bytes)).is_ok())
    }

    /// Close the adapter's connection; true if one was open.
    pub async fn drop_link(&self) -> bool {
        let conn = self.state.lock().unwrap().conn.take();
        let open = conn.is_some_and(|c| c.send(None).is_ok());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        open
    }

    /// Wait until an adapter is connected and logged in.
    pub async fn connected(&self) {
        for _ in 0..500 {
            if self.state.lock().unwrap().conn.is_some() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("no adapter connected to the fake Asterisk");
    }

    fn new_chan(
        state: &mut State,
        name: String,
        linkedid: Option<&str>,
        caller: &str,
        exten: &str,
    ) -> Chan {
        state.seq += 1;
        let uniqueid = format!("{EPOCH}.{}", state.seq);
        let chan = Chan {
            name,
            linkedid: linkedid.unwrap_or(&uniqueid).to_string(),
            uniqueid,
            caller: caller.into(),
            exten: exten.into(),
            state: "Down",
            queue: None,
        };
        state.channels.push(chan.clone());
        chan
    }

    fn name_of(state: &mut State, endpoint: &str) -> String {
        format!("PJSIP/{endpoint}-{:08x}", state.seq + 1)
    }

    /// An outside caller `from` dials `to` (an extension, through the trunk); the
    /// extension rings.
    pub fn ring(&self, from: &str, to: &str) {
        let mut out = Vec::new();
        {
            let mut s = self.state.lock().unwrap();
            let trunk = Self::name_of(&mut s, &self.config.trunk);
            let caller = Self::new_chan(&mut s, trunk, None, from, to);
            out.push(wire::channel_event("Newchannel", &caller, &[]));
            let name = Self::name_of(&mut s, to);
            let mut phone = Self::new_chan(&mut s, name, Some(&caller.linkedid), to, to);
            out.push(wire::channel_event("Newchannel", &phone, &[]));
            out.push(wire::dial_event(
                "DialBegin",
                &caller,
                &phone,
                &[("DialString", to.to_string())],
            ));
            phone.state = "Ringing";
            set_state(&mut s, &phone.uniqueid, "Ringing");
            out.push(wire::channel_event("Newstate", &phone, &[]));
        }
        self.send(out.concat());
    }

    /// The ringing phone of `device` answers.
    pub fn answer(&self, device: &str) {
        let mut out = Vec::new();
        {
            let mut s = self.state.lock().unwrap();
            let Some(phone) = s
                .channels
                .iter()
                .find(|c| wire::device(&c.name) == device && c.state == "Ringing")
                .cloned()
            else {
                return;
            };
            set_state(&mut s, &phone.uniqueid, "Up");
            let phone = Chan {
                state: "Up",
                ..phone
            };
            out.push(wire::channel_event("Newstate", &phone, &[]));
            if let Some(caller) = s
                .channels
                .iter()
                .find(|c| c.uniqueid == phone.linkedid)
                .cloned()
            {
                out.push(wire::dial_event(
                    "DialEnd",
                    &caller,
                    &phone,
                    &[("DialStatus", "ANSWER".into())],
                ));
            }
        }
        self.send(out.concat());
    }

    /// The calls of `device` end while no adapter listens (an outage): no events.
    pub fn end_quietly(&self, device: &str) {
        let mut s = self.state.lock().unwrap();
        let linkedids: Vec<String> = s
            .channels
            .iter()
            .filter(|c| wire::device(&c.name) == device)
            .map(|c| c.linkedid.clone())
            .collect();
        s.channels.retain(|c| !linkedids.contains(&c.linkedid));
    }

    async fn serve<S: AsyncRead + AsyncWrite + Unpin>(self, mut stream: S) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Option<Vec<u8>>>();
        let mut pending = format!("{}\r\n", self.config.banner).into_bytes();
        let mut logged_in = false;
        let mut challenge = None;
        let mut reader = wire::Reader::default();
        let mut buf = vec![0u8; 8192];
        loop {
            if !pending.is_empty() {
                if stream.write_all(&pending).await.is_err() || stream.flush().await.is_err() {
                    return;
                }
                pending.clear();
            }
            tokio::select! {
                read = stream.read(&mut buf) => {
                    let n = match read { Ok(0) | Err(_) => return, Ok(n) => n };
                    reader.push(&buf[..n]);
                    while let Some(action) = reader.next() {
                        let name = action.get("Action").unwrap_or("").to_string();
                        self.state.lock().unwrap().received.push(name.clone());
                        if self.config.unanswered.contains(&name) {
                            continue;
                        }
                        if !logged_in && !matches!(name.to_ascii_lowercase().as_str(), "login" | "challenge" | "ping") {
                            pending.extend(wire::error(&action, "Permission denied"));
                            continue;
                        }
                        match name.to_ascii_lowercase().as_str() {
                            "challenge" => {
                                let c = "840192733".to_string();
                                pending.extend(wire::success(&action, &[("Challenge", c.clone())]));
                                challenge = Some(c);
                            }
                            "login" => {
                                let user_ok = action.get("Username") == Some(self.config.username.as_str());
                                let secret_ok = match (action.get("Key"), &challenge) {
                                    (Some(key), Some(c)) => {
                                        let digest = Md5::digest(format!("{c}{}", self.config.secret).as_bytes());
                                        key == digest.iter().map(|b| format!("{b:02x}")).collect::<String>()
                                    }
                                    _ => action.get("Secret") == Some(self.config.secret.as_str()),
                                };
                                if user_ok && secret_ok {
                                    logged_in = true;
                                    pending.extend(wire::success(&action, &[("Message", "Authentication accepted".into())]));
                                    pending.extend(message(&[("Event", "FullyBooted".into()), ("Privilege", "system,all".into()), ("Status", "Fully Booted".into())]));
                                    self.state.lock().unwrap().conn = Some(tx.clone());
                                } else {
                                    pending.extend(wire::error(&action, "Authentication failed"));
                                }
                            }
                            _ => pending.extend(self.act(&name, &action)),
                        }
                    }
                }
                out = rx.recv() => match out {
                    Some(Some(bytes)) => pending.extend(bytes),
                    _ => return,
                },
            }
        }
    }

    /// The answer and the events of one action after login.
    fn act(&self, name: &str, a: &Action) -> Vec<u8> {
        let mut s = self.state.lock().unwrap();
        let mut out = Vec::new();
        let find = |s: &State, ch: Option<&str>| {
            ch.and_then(|ch| s.channels.iter().find(|c| c.name == ch).cloned())
        };
        match name {
            "Events" => out.extend(wire::success(a, &[("Events", "On".into())])),
            "Ping" => out.extend(wire::success(a, &[("Ping", "Pong".into()), ("Timestamp", format!("{EPOCH}.000100"))])),
            "CoreShowChannels" => {
                out.extend(wire::success(a, &[("EventList", "start".into()), ("Message", "Channels will follow".into())]));
                for c in &s.channels {
                    out.extend(wire::list_item("CoreShowChannel", a, c));
                }
                out.extend(wire::complete("CoreShowChannelsComplete", a, s.channels.len()));
            }
            "QueueStatus" => {
                out.extend(wire::success(a, &[("EventList", "start".into()), ("Message", "Queue status will follow".into())]));
                let mut n = 0;
                for q in &self.config.queues {
                    out.extend(wire::with_id(a, &[("Event", "QueueParams".into()), ("Queue", q.clone()), ("Max", "0".into()), ("Strategy", "ringall".into()), ("Calls", "0".into())]));
                    n += 1;
                }
                for m in &s.members {
                    out.extend(wire::with_id(a, &[
                        ("Event", "QueueMember".into()), ("Queue", m.queue.clone()), ("Name", m.name.clone()),
                        ("Location", m.interface.clone()), ("StateInterface", m.interface.clone()), ("Membership", "dynamic".into()),
                        ("Penalty", "0".into()), ("CallsTaken", "0".into()), ("LastCall", "0".into()), ("LastPause", "0".into()),
                        ("LoginTime", EPOCH.to_string()), ("InCall", "0".into()), ("Status", "1".into()),
                        ("Paused", if m.paused { "1" } else { "0" }.into()), ("PausedReason", m.reason.clone()), ("Wrapuptime", "0".into()),
                    ]));
                    n += 1;
                }
                for c in s.channels.iter().filter(|c| c.queue.is_some()) {
                    out.extend(wire::with_id(a, &[("Event", "QueueEntry".into()), ("Queue", c.queue.clone().unwrap_or_default()), ("Position", "1".into()), ("Channel", c.name.clone()), ("Uniqueid", c.uniqueid.clone()), ("CallerIDNum", c.caller.clone()), ("Wait", "3".into())]));
                    n += 1;
                }
                out.extend(wire::complete("QueueStatusComplete", a, n));
            }
            "Originate" => {
                let Some(endpoint) = a.get("Channel").map(String::from) else {
                    out.extend(wire::error(a, "Channel not specified"));
                    return out;
                };
                out.extend(wire::success(a, &[("Message", "Originate successfully queued".into())]));
                let device = wire::device(&endpoint).to_string();
                let name = Self::name_of(&mut s, &device);
                let exten = a.get("Exten").unwrap_or("").to_string();
                let mut phone = Self::new_chan(&mut s, name, None, &device, &exten);
                out.extend(wire::channel_event("Newchannel", &phone, &[]));
                if a.get("Application").is_some() {
                    return out;
                }
                for st in ["Ringing", "Up"] {
                    phone.state = st;
                    set_state(&mut s, &phone.uniqueid, st);
                    out.extend(wire::channel_event("Newstate", &phone, &[]));
                }
                out.extend(wire::channel_event("Newexten", &phone, &[("Extension", exten.clone()), ("Application", "Dial".into())]));
                let name = Self::name_of(&mut s, &self.config.trunk);
                let far = Self::new_chan(&mut s, name, Some(&phone.linkedid), &exten, &exten);
                out.extend(wire::channel_event("Newchannel", &far, &[]));
                out.extend(wire::dial_event("DialBegin", &phone, &far, &[("DialString", format!("{exten}@{}", self.config.trunk))]));
            }
            "Hangup" => match find(&s, a.get("Channel")) {
                None => out.extend(wire::error(a, "No such channel")),
                Some(chan) => {
                    out.extend(wire::success(a, &[("Message", "Channel Hungup".into())]));
                    let gone: Vec<Chan> = s.channels.iter().filter(|c| c.linkedid == chan.linkedid).cloned().collect();
                    s.channels.retain(|c| c.linkedid != chan.linkedid);
                    for c in gone {
                        out.extend(wire::channel_event("Hangup", &c, &[("Cause", "16".into()), ("Cause-txt", "Normal Clearing".into())]));
                    }
                }
            },
            "Redirect" => match find(&s, a.get("Channel")) {
                None => out.extend(wire::error(a, "Channel not existent")),
                Some(chan) => {
                    out.extend(wire::success(a, &[("Message", "Redirect successful".into())]));
                    let others: Vec<Chan> = s.channels.iter().filter(|c| c.linkedid == chan.linkedid && c.uniqueid != chan.uniqueid).cloned().collect();
                    for c in &others {
                        if c.state == "Ringing" {
                            out.extend(wire::dial_event("DialEnd", &chan, c, &[("DialStatus", "CANCEL".into())]));
                        }
                        out.extend(wire::channel_event("Hangup", c, &[("Cause", "16".into()), ("Cause-txt", "Normal Clearing".into())]));
                    }
                    s.channels.retain(|c| c.linkedid != chan.linkedid || c.uniqueid == chan.uniqueid);
                    let exten = a.get("Exten").unwrap_or("").to_string();
                    out.extend(wire::channel_event("Newexten", &chan, &[("Extension", exten.clone()), ("Application", "Dial".into())]));
                    let name = Self::name_of(&mut s, &exten);
                    let mut phone = Self::new_chan(&mut s, name, Some(&chan.linkedid), &exten, &exten);
                    out.extend(wire::channel_event("Newchannel", &phone, &[]));
                    out.extend(wire::dial_event("DialBegin", &chan, &phone, &[("DialString", exten)]));
                    phone.state = "Ringing";
                    set_state(&mut s, &phone.uniqueid, "Ringing");
                    out.extend(wire::channel_event("Newstate", &phone, &[]));
                }
            },
            "Atxfer" | "PlayDTMF" => match find(&s, a.get("Channel")) {
                None => out.extend(wire::error(a, "No such channel")),
                Some(_) => out.extend(wire::success(a, &[("Message", format!("{name} successfully queued"))])),
            },
            "QueueAdd" => {
                let (Some(q), Some(i)) = (a.get("Queue"), a.get("Interface")) else {
                    out.extend(wire::error(a, "'Queue' or 'Interface' not set."));
                    return out;
                };
                if !self.config.queues.iter().any(|x| x == q) {
                    out.extend(wire::error(a, "Unable to add interface to queue: No such queue"));
                } else if s.members.iter().any(|m| m.queue == q && m.interface == i) {
                    out.extend(wire::error(a, "Unable to add interface: Already there"));
                } else {
                    let paused = a.get("Paused").is_some_and(|p| p == "true" || p == "1");
                    let m = Member { queue: q.into(), interface: i.into(), name: a.get("MemberName").unwrap_or(i).into(), paused, reason: String::new() };
                    out.extend(wire::success(a, &[("Message", "Added interface to queue".into())]));
                    out.extend(wire::member_event("QueueMemberAdded", &m.queue, &m.interface, &m.name, m.paused, ""));
                    s.members.push(m);
                }
            }
            "QueueRemove" => {
                let (q, i) = (a.get("Queue").unwrap_or(""), a.get("Interface").unwrap_or(""));
                match s.members.iter().position(|m| m.queue == q && m.interface == i) {
                    None => out.extend(wire::error(a, "Unable to remove interface: Not there")),
                    Some(p) => {
                        let m = s.members.remove(p);
                        out.extend(wire::success(a, &[("Message", "Removed interface from queue".into())]));
                        out.extend(wire::member_event("QueueMemberRemoved", &m.queue, &m.interface, &m.name, m.paused, ""));
                    }
                }
            }
            "QueuePause" => {
                let i = a.get("Interface").unwrap_or("").to_string();
                let paused = a.get("Paused").is_some_and(|p| p == "true" || p == "1");
                let reason = a.get("Reason").unwrap_or("").to_string();
                let queue = a.get("Queue").map(String::from);
                let mut any = false;
                let mut events = Vec::new();
                for m in s.members.iter_mut().filter(|m| m.interface == i && queue.as_ref().is_none_or(|q| *q == m.queue)) {
                    any = true;
                    m.paused = paused;
                    m.reason = if paused { reason.clone() } else { String::new() };
                    events.extend(wire::member_event("QueueMemberPause", &m.queue, &m.interface, &m.name, m.paused, &m.reason));
                }
                if any {
                    out.extend(wire::success(a, &[("Message", "Interface paused successfully".into())]));
                    out.extend(events);
                } else {
                    out.extend(wire::error(a, "Interface not found"));
                }
            }
            other => out.extend(wire::error(a, &format!("Invalid/unknown command: {other}. Use Action: ListCommands to show available commands."))),
        }
        out
    }
}

fn set_state(s: &mut State, uniqueid: &str, state: &'static str) {
    if let Some(c) = s.channels.iter_mut().find(|c| c.uniqueid == uniqueid) {
        c.state = state;
    }
}

#[cfg(test)]
mod tests;

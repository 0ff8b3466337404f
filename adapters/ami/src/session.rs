//! One connected AMI link: banner, Login (plain or MD5 challenge), `Events: on`,
//! the resync lists, then events, commands and a `Ping` keep-alive, every action
//! correlated by its ActionID and failed as `timeout` after `request_timeout_s`.

use std::collections::HashMap;
use std::time::Duration;

use crate::tls::AmiStream;
use ctibridge_adapter::{AdapterLink, CommandError, CommandOk, CommandRequest, SwitchEvent};
use md5::{Digest, Md5};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::actions::{self, Plan};
use crate::codec::{write_message, Item, OwnedMessage, Parser};
use crate::config::{AmiConfig, Auth};
use crate::resync;
use crate::tracker::Tracker;

/// Why a session ended.
pub enum End {
    Shutdown,
    /// The link failed; `bool`: it had been up (logged in and resynchronised).
    Lost(String, bool),
}

struct Group {
    request: Option<CommandRequest>,
    remaining: usize,
    error: Option<CommandError>,
    benign: &'static [&'static str],
    on_success: Vec<SwitchEvent>,
}

struct Pending {
    group: Option<u64>,
    deadline: Instant,
}

pub struct Session<'a> {
    config: &'a AmiConfig,
    link: &'a mut AdapterLink,
    tracker: &'a mut Tracker,
    stream: Box<dyn AmiStream>,
    parser: Parser,
    next_id: u64,
    /// Events that arrived while the session waited for an answer, in order.
    backlog: Vec<OwnedMessage>,
}

impl<'a> Session<'a> {
    pub fn new(
        config: &'a AmiConfig,
        link: &'a mut AdapterLink,
        tracker: &'a mut Tracker,
        stream: Box<dyn AmiStream>,
    ) -> Self {
        Session {
            config,
            link,
            tracker,
            stream,
            parser: Parser::new(true),
            next_id: 0,
            backlog: Vec::new(),
        }
    }

    fn action_id(&mut self) -> String {
        self.next_id += 1;
        format!("ctib-{}", self.next_id)
    }

    async fn send(&mut self, id: &str, action: &[(&'static str, String)]) -> Result<(), String> {
        let mut fields: Vec<(&str, &str)> = action.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fields.insert(1.min(fields.len()), ("ActionID", id));
        let mut out = Vec::with_capacity(256);
        write_message(&mut out, &fields);
        // A TLS stream buffers what is written until it is flushed.
        self.stream
            .write_all(&out)
            .await
            .map_err(|e| format!("write: {e}"))?;
        self.stream.flush().await.map_err(|e| format!("write: {e}"))
    }

    async fn read_more(&mut self) -> Result<(), String> {
        let mut buf = [0u8; 16 * 1024];
        match self.stream.read(&mut buf).await {
            Ok(0) => Err("Asterisk closed the connection".into()),
            Ok(n) => {
                self.parser.feed(&buf[..n]);
                Ok(())
            }
            Err(e) => Err(format!("read: {e}")),
        }
    }

    /// Send one action and wait for its response (and, for a list, its items up to
    /// the `EventList: Complete` event). Other messages wait in the backlog.
    async fn call(
        &mut self,
        action: Vec<(&'static str, String)>,
    ) -> Result<(OwnedMessage, Vec<OwnedMessage>), String> {
        let id = self.action_id();
        let name = action.first().map(|(_, v)| v.clone()).unwrap_or_default();
        self.send(&id, &action).await?;
        let deadline = Instant::now() + self.config.request_timeout();
        let mut response = None;
        let mut items = Vec::new();
        loop {
            while let Some(item) = self.parser.next() {
                let Item::Message(m) = item else {
                    if let Item::Error(e) = item {
                        tracing::warn!(switch = %self.link.switch, "AMI: {e}");
                    }
                    continue;
                };
                if m.action_id() != Some(id.as_str()) {
                    if m.event().is_some() {
                        self.backlog.push(m.to_owned());
                    }
                    continue;
                }
                if m.response().is_some() {
                    let listing =
                        m.get("EventList") == Some("start") && m.response() == Some("Success");
                    response = Some(m.to_owned());
                    if !listing {
                        return Ok((response.unwrap_or_default(), items));
                    }
                } else if m.get("EventList") == Some("Complete") {
                    return Ok((response.unwrap_or_default(), items));
                } else {
                    items.push(m.to_owned());
                }
            }
            match tokio::time::timeout_at(deadline, self.read_more()).await {
                Ok(r) => r?,
                Err(_) => {
                    return Err(format!(
                        "no answer to {name} within {}s",
                        self.config.request_timeout().as_secs_f64()
                    ))
                }
            }
        }
    }

    async fn login(&mut self) -> Result<(), String> {
        let banner = loop {
            if let Some(Item::Banner(b)) = self.parser.next() {
                break b.to_string();
            }
            tokio::time::timeout(self.config.request_timeout(), self.read_more())
                .await
                .map_err(|_| "no banner from the manager port".to_string())??;
        };
        if !banner.starts_with("Asterisk Call Manager") {
            return Err(format!("not an Asterisk manager port (banner `{banner}`)"));
        }
        tracing::info!(switch = %self.link.switch, banner, "AMI banner");
        let mut login = vec![
            ("Action", "Login".to_string()),
            ("Username", self.config.username.clone()),
        ];
        match self.config.auth {
            Auth::Plain => login.push(("Secret", self.config.password.clone())),
            Auth::Md5 => {
                let (r, _) = self
                    .call(vec![
                        ("Action", "Challenge".into()),
                        ("AuthType", "MD5".into()),
                    ])
                    .await?;
                let challenge = r.get("Challenge").ok_or("Challenge refused")?.to_string();
                let key = Md5::digest(format!("{challenge}{}", self.config.password).as_bytes());
                let key: String = key.iter().map(|b| format!("{b:02x}")).collect();
                login.push(("AuthType", "MD5".into()));
                login.push(("Key", key));
            }
        }
        login.push(("Events", "on".into()));
        let (r, _) = self.call(login).await?;
        if r.get("Response") != Some("Success") {
            return Err(format!(
                "login as `{}` refused: {}",
                self.config.username,
                r.get("Message").unwrap_or("no reason given")
            ));
        }
        Ok(())
    }

    /// Log in, resynchronise, report LinkUp and the Snapshot, then serve.
    pub async fn run(mut self) -> End {
        let shutdown = self.link.shutdown.clone();
        let setup = async {
            self.login().await?;
            let (_, channels) = self
                .call(vec![("Action", "CoreShowChannels".into())])
                .await?;
            let (_, queues) = self.call(vec![("Action", "QueueStatus".into())]).await?;
            Ok::<_, String>((channels, queues))
        };
        let (channels, queues) = tokio::select! {
            _ = shutdown.cancelled() => return End::Shutdown,
            r = setup => match r {
                Ok(lists) => lists,
                Err(e) => return End::Lost(e, false),
            },
        };
        let snapshot = resync::rebuild(self.tracker, &channels, &queues);
        if !self.link.send(SwitchEvent::LinkUp).await
            || !self.link.send(SwitchEvent::Snapshot(snapshot)).await
        {
            return End::Shutdown;
        }
        // Events that came during the resync, after it.
        let mut out = Vec::new();
        for m in std::mem::take(&mut self.backlog) {
            m.with(|m| self.tracker.handle(&m, &mut out));
        }
        for e in out {
            if !self.link.send(e).await {
                return End::Shutdown;
            }
        }
        match self.serve().await {
            Ok(()) => End::Shutdown,
            Err(e) => End::Lost(e, true),
        }
    }

    async fn serve(&mut self) -> Result<(), String> {
        let mut pending: HashMap<String, Pending> = HashMap::new();
        let mut groups: HashMap<u64, Group> = HashMap::new();
        let mut next_group = 0u64;
        let ping_every = self.config.ping_every.min(Duration::from_secs(3600));
        let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let mut buf = vec![0u8; 64 * 1024];
        let mut events = Vec::new();
        let shutdown = self.link.shutdown.clone();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                read = self.stream.read(&mut buf) => {
                    let n = match read {
                        Ok(0) => return Err("Asterisk closed the connection".into()),
                        Ok(n) => n,
                        Err(e) => return Err(format!("read: {e}")),
                    };
                    self.parser.feed(&buf[..n]);
                    let mut out: Vec<(SwitchEvent, String)> = Vec::new();
                    while let Some(item) = self.parser.next() {
                        match item {
                            Item::Banner(_) => {}
                            Item::Error(e) => tracing::warn!(switch = %self.link.switch, "AMI: {e}"),
                            // Events first: nearly everything is one, and `Event` is
                            // its first header, so most messages never look further.
                            Item::Message(m) if m.event().is_some() => {
                                self.tracker.handle(&m, &mut events);
                                if !events.is_empty() {
                                    let raw = m.to_text();
                                    out.extend(events.drain(..).map(|e| (e, raw.clone())));
                                }
                            }
                            Item::Message(m) => {
                                if let (Some(id), Some(response)) = (m.action_id(), m.response()) {
                                    if let Some(p) = pending.remove(id) {
                                        let message = m.get("Message").unwrap_or("");
                                        let before = out.len();
                                        finish(&mut groups, p.group, response == "Success", message, &mut out);
                                        // A redirected agent has left the call: its
                                        // cancelled leg is not reported again.
                                        for (event, _) in &out[before..] {
                                            if let SwitchEvent::Transferred { call_id, device, .. } = event {
                                                self.tracker.left(call_id, device);
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    for (event, raw) in out {
                        if !self.link.send_raw(event, raw).await {
                            return Ok(());
                        }
                    }
                }
                command = self.link.commands.recv() => {
                    let Some(request) = command else { return Ok(()) };
                    match actions::plan_for(self.config, self.tracker, &request.command) {
                        Err(e) => request.respond(Err(e)),
                        Ok(Plan { actions, on_success, benign }) => {
                            if actions.is_empty() {
                                request.respond(Ok(CommandOk::default()));
                                continue;
                            }
                            next_group += 1;
                            groups.insert(next_group, Group { request: Some(request), remaining: actions.len(), error: None, benign, on_success });
                            let deadline = Instant::now() + self.config.request_timeout();
                            for action in actions {
                                let id = self.action_id();
                                self.send(&id, &action).await?;
                                pending.insert(id, Pending { group: Some(next_group), deadline });
                            }
                        }
                    }
                }
                _ = ping.tick() => {
                    let id = self.action_id();
                    self.send(&id, &[("Action", "Ping".into())]).await?;
                    pending.insert(id, Pending { group: None, deadline: Instant::now() + self.config.request_timeout() });
                }
                _ = tick.tick() => {
                    let now = Instant::now();
                    let expired: Vec<String> = pending.iter().filter(|(_, p)| p.deadline <= now).map(|(k, _)| k.clone()).collect();
                    for id in expired {
                        let Some(p) = pending.remove(&id) else { continue };
                        match p.group {
                            None => return Err(format!("no answer to Ping within {}s", self.config.request_timeout().as_secs_f64())),
                            Some(g) => {
                                if let Some(group) = groups.remove(&g) {
                                    if let Some(r) = group.request {
                                        r.respond(Err(CommandError::Timeout));
                                    }
                                }
                                pending.retain(|_, p| p.group != Some(g));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One action of a command answered.
fn finish(
    groups: &mut HashMap<u64, Group>,
    group: Option<u64>,
    ok: bool,
    message: &str,
    out: &mut Vec<(SwitchEvent, String)>,
) {
    let Some(g) = group else { return };
    let Some(entry) = groups.get_mut(&g) else {
        return;
    };
    entry.remaining -= 1;
    let benign = entry.benign.iter().any(|b| message.contains(b));
    if !ok && !benign && entry.error.is_none() {
        entry.error = Some(actions::error_of(message));
    }
    if entry.remaining > 0 {
        return;
    }
    let Some(mut entry) = groups.remove(&g) else {
        return;
    };
    let result = match entry.error.take() {
        Some(e) => Err(e),
        None => {
            out.extend(entry.on_success.drain(..).map(|e| (e, String::new())));
            Ok(CommandOk::default())
        }
    };
    if let Some(r) = entry.request.take() {
        r.respond(result);
    }
}

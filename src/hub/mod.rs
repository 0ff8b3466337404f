//! The hub fans published events out to WebSocket clients.
//!
//! One task owns the subscriber list and the replay ring (as rumqttd's router owns its
//! state); connections are thin tasks that each hold the receiving end of a bounded
//! queue. Publishing never waits for a client: a client whose queue is full is cut
//! off (its connection closes with 4009) and everyone else goes on.
//!
//! Ordering: the hub receives events and registrations through one ordered channel
//! (engine → gate → hub), so a registration made at sequence number S is processed
//! after every event up to S and before any later one. The snapshot a new client gets
//! is therefore exactly the state after S, and its live events start at S+1.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;
use index::ScopeIndex;

mod index;

/// Messages (events, registrations) that may wait for the hub. The hub never waits
/// for a client, so this fills only while it is busy fanning out; the gate then waits.
pub const HUB_QUEUE: usize = 4096;

/// Who an event is for, besides the supervisors, apps and admins who see everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    /// Everyone, agents included (link state).
    pub everyone: bool,
    pub agents: Vec<String>,
    pub devices: Vec<String>,
}

/// What one client may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Agent {
        agent: Option<String>,
        extensions: Vec<String>,
    },
}

impl Scope {
    pub fn sees(&self, audience: &Audience) -> bool {
        match self {
            Scope::All => true,
            Scope::Agent { agent, extensions } => {
                audience.everyone
                    || agent
                        .as_ref()
                        .is_some_and(|a| audience.agents.iter().any(|x| x == a))
                    || audience
                        .devices
                        .iter()
                        .any(|d| extensions.iter().any(|e| e == d))
            }
        }
    }
}

/// An event ready to send: serialised once, shared by every client.
#[derive(Debug)]
pub struct Published {
    pub seq: u64,
    pub topic: String,
    pub audience: Audience,
    /// The whole `{"type":"evt",…}` frame, in a shared buffer: sending it to a client
    /// takes a reference, not a copy.
    pub frame: Utf8Bytes,
    /// When the engine published it (for the replay ring's age limit).
    pub at: Instant,
    /// For a screen pop: when the engine took up the switch event that rang the
    /// phone. The hub observes the pop's latency when it has queued the frame.
    pub pop_since: Option<Instant>,
}

/// An event in one client's queue, with when it was queued there: a client is "behind"
/// by how long its oldest event has waited for it, not by the event's age (a resumed
/// client gets old events it is not late for).
#[derive(Debug, Clone)]
pub struct Delivery {
    pub event: Arc<Published>,
    pub queued_at: Instant,
}

/// A client's resume request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    pub session: String,
    pub seq: u64,
}

/// What the hub tells a registering connection.
#[derive(Debug, Clone)]
pub struct Welcome {
    pub session: String,
    pub seq: u64,
    pub resumed: bool,
}

/// The receiving half a connection drains.
pub struct ClientQueue {
    pub events: mpsc::Receiver<Delivery>,
    /// Set when the hub cut the client off for falling behind.
    pub overflowed: Arc<AtomicBool>,
}

pub struct Registration {
    pub client: u64,
    /// The token's name: a session may only be resumed by the token that opened it.
    pub token: String,
    pub scope: Scope,
    pub resume: Option<Resume>,
    /// The engine's sequence number when it built `snapshot`.
    pub at_seq: u64,
    /// Builds the snapshot frame; called only when the client does not resume.
    pub snapshot: Box<dyn FnOnce() -> Arc<Published> + Send>,
    pub sender: mpsc::Sender<Delivery>,
    pub overflowed: Arc<AtomicBool>,
    pub reply: oneshot::Sender<Welcome>,
}

pub enum HubInput {
    Publish(Arc<Published>),
    Register(Registration),
    Unregister(u64),
}

struct Client {
    scope: Scope,
    sender: mpsc::Sender<Delivery>,
    overflowed: Arc<AtomicBool>,
}

/// Hub settings.
#[derive(Debug, Clone)]
pub struct HubConfig {
    pub replay_events: usize,
    pub replay_age: Duration,
    /// Sessions remembered for resume.
    pub sessions: usize,
    /// A random id of this daemon run, so a session from an earlier run is never taken
    /// for one of this run (the sequence restarts with the process).
    pub instance: String,
}

pub struct Hub {
    config: HubConfig,
    clients: HashMap<u64, Client>,
    /// Who may see what, so publishing an event visits the clients in its audience
    /// only, not every connection (thousands of idle desktops cost nothing per event).
    index: ScopeIndex,
    ring: VecDeque<Arc<Published>>,
    /// session id → token name, oldest first for eviction.
    sessions: HashMap<String, String>,
    session_order: VecDeque<String>,
    next_session: u64,
    /// The highest sequence number seen.
    seq: u64,
    metrics: Arc<Metrics>,
}

impl Hub {
    pub fn new(config: HubConfig, metrics: Arc<Metrics>) -> Self {
        Hub {
            config,
            clients: HashMap::new(),
            index: ScopeIndex::default(),
            ring: VecDeque::new(),
            sessions: HashMap::new(),
            session_order: VecDeque::new(),
            next_session: 0,
            seq: 0,
            metrics,
        }
    }

    pub async fn run(mut self, mut input: mpsc::Receiver<HubInput>) {
        while let Some(message) = input.recv().await {
            self.handle(message);
        }
    }

    fn handle(&mut self, message: HubInput) {
        match message {
            HubInput::Publish(event) => self.publish(event),
            HubInput::Register(registration) => self.register(registration),
            HubInput::Unregister(client) => self.remove(client),
        }
    }

    fn publish(&mut self, event: Arc<Published>) {
        self.seq = self.seq.max(event.seq);
        let mut cut_off = Vec::new();
        let metrics = &self.metrics;
        // One clock read for all the event's deliveries: they are queued within
        // microseconds of each other, and at 100 clients a read per delivery was 3 %
        // of the daemon's time.
        let now = Instant::now();
        let mut visit = |id: u64, client: &Client| {
            if client.scope.sees(&event.audience) && !deliver(client, &event, now, metrics) {
                cut_off.push(id);
            }
        };
        if event.audience.everyone {
            for (id, client) in &self.clients {
                visit(*id, client);
            }
        } else {
            for id in self.index.audience(&event.audience) {
                if let Some(client) = self.clients.get(&id) {
                    visit(id, client);
                }
            }
        }
        for id in cut_off {
            self.remove(id);
            self.metrics
                .slow_clients_closed
                .fetch_add(1, Ordering::Relaxed);
        }
        self.metrics
            .events_published
            .fetch_add(1, Ordering::Relaxed);
        if let Some(since) = event.pop_since {
            self.metrics.pop_latency.observe(since.elapsed());
        }
        self.ring.push_back(event);
        self.trim_ring();
    }

    fn trim_ring(&mut self) {
        let now = Instant::now();
        while let Some(front) = self.ring.front() {
            let too_many = self.ring.len() > self.config.replay_events;
            let too_old = now.duration_since(front.at) > self.config.replay_age;
            if too_many || too_old {
                self.ring.pop_front();
            } else {
                break;
            }
        }
    }

    fn register(&mut self, r: Registration) {
        self.trim_ring();
        let resumable = r.resume.as_ref().filter(|resume| {
            self.sessions.get(&resume.session) == Some(&r.token) && self.can_replay_from(resume.seq)
        });
        let client = Client {
            scope: r.scope,
            sender: r.sender,
            overflowed: r.overflowed,
        };
        let (session, resumed) = match resumable {
            Some(resume) => {
                // Exactly the missed in-scope events, in order. Once the queue refuses
                // one, the client is cut off and the rest are dropped too.
                let missed = self
                    .ring
                    .iter()
                    .filter(|e| e.seq > resume.seq && client.scope.sees(&e.audience));
                let mut refused = false;
                let now = Instant::now();
                for event in missed {
                    if refused {
                        self.metrics.frames_dropped.fetch_add(1, Ordering::Relaxed);
                    } else {
                        refused = !deliver(&client, event, now, &self.metrics);
                    }
                }
                (resume.session.clone(), true)
            }
            None => {
                deliver(&client, &(r.snapshot)(), Instant::now(), &self.metrics);
                (self.new_session(&r.token), false)
            }
        };
        let _ = r.reply.send(Welcome {
            session,
            seq: r.at_seq.max(self.seq),
            resumed,
        });
        if !client.overflowed.load(Ordering::Relaxed) {
            self.index.add(r.client, &client.scope);
            self.clients.insert(r.client, client);
        }
    }

    fn remove(&mut self, id: u64) {
        if let Some(client) = self.clients.remove(&id) {
            self.index.remove(id, &client.scope);
        }
    }

    /// Every event after `seq` is still in the ring (or nothing was missed).
    fn can_replay_from(&self, seq: u64) -> bool {
        if seq > self.seq {
            return false; // a sequence from the future: another daemon run
        }
        if seq == self.seq {
            return true;
        }
        self.ring
            .front()
            .is_some_and(|oldest| oldest.seq <= seq + 1)
    }

    fn new_session(&mut self, token: &str) -> String {
        self.next_session += 1;
        let session = format!("{}-{}", self.config.instance, self.next_session);
        self.sessions.insert(session.clone(), token.to_string());
        self.session_order.push_back(session.clone());
        while self.session_order.len() > self.config.sessions {
            if let Some(old) = self.session_order.pop_front() {
                self.sessions.remove(&old);
            }
        }
        session
    }
}

/// Queue an event for a client; false (and the client is flagged, and the frame
/// counted as dropped) when its queue is full.
fn deliver(client: &Client, event: &Arc<Published>, queued_at: Instant, metrics: &Metrics) -> bool {
    let delivery = Delivery {
        event: event.clone(),
        queued_at,
    };
    match client.sender.try_send(delivery) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            client.overflowed.store(true, Ordering::Relaxed);
            metrics.frames_dropped.fetch_add(1, Ordering::Relaxed);
            false
        }
        // The connection is gone; its Unregister is on the way.
        Err(mpsc::error::TrySendError::Closed(_)) => true,
    }
}

/// A client's queue pair.
pub fn client_queue(capacity: usize) -> (mpsc::Sender<Delivery>, ClientQueue) {
    let (tx, rx) = mpsc::channel(capacity);
    (
        tx,
        ClientQueue {
            events: rx,
            overflowed: Arc::new(AtomicBool::new(false)),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, devices: &[&str]) -> Arc<Published> {
        Arc::new(Published {
            seq,
            topic: "t".into(),
            audience: Audience {
                everyone: false,
                agents: vec![],
                devices: devices.iter().map(|d| d.to_string()).collect(),
            },
            frame: format!("{{\"seq\":{seq}}}").into(),
            at: Instant::now(),
            pop_since: None,
        })
    }

    fn hub(replay: usize) -> Hub {
        Hub::new(
            HubConfig {
                replay_events: replay,
                replay_age: Duration::from_secs(600),
                sessions: 100,
                instance: "i".into(),
            },
            Arc::new(Metrics::default()),
        )
    }

    fn register(
        hub: &mut Hub,
        client: u64,
        scope: Scope,
        resume: Option<Resume>,
        capacity: usize,
    ) -> (ClientQueue, oneshot::Receiver<Welcome>) {
        let (sender, queue) = client_queue(capacity);
        let (reply, welcome) = oneshot::channel();
        let at_seq = hub.seq;
        hub.handle(HubInput::Register(Registration {
            client,
            token: "tok".into(),
            scope,
            resume,
            at_seq,
            snapshot: Box::new(move || event(at_seq, &[])),
            sender,
            overflowed: queue.overflowed.clone(),
            reply,
        }));
        (queue, welcome)
    }

    fn drain(queue: &mut ClientQueue) -> Vec<u64> {
        let mut seqs = Vec::new();
        while let Ok(d) = queue.events.try_recv() {
            seqs.push(d.event.seq);
        }
        seqs
    }

    #[test]
    fn scoped_fan_out_and_exact_resume() {
        let mut hub = hub(100);
        let agent = Scope::Agent {
            agent: Some("1001".into()),
            extensions: vec!["1001".into()],
        };
        let (mut q, mut w) = register(&mut hub, 1, agent.clone(), None, 100);
        let welcome = w.try_recv().unwrap();
        assert!(!welcome.resumed);
        assert_eq!(drain(&mut q), vec![0]); // the snapshot
        hub.handle(HubInput::Publish(event(1, &["1001"])));
        hub.handle(HubInput::Publish(event(2, &["1002"])));
        assert_eq!(drain(&mut q), vec![1]);
        hub.handle(HubInput::Unregister(1));
        hub.handle(HubInput::Publish(event(3, &["1001"])));
        hub.handle(HubInput::Publish(event(4, &["1002"])));
        hub.handle(HubInput::Publish(event(5, &["1001"])));
        let resume = Resume {
            session: welcome.session.clone(),
            seq: 1,
        };
        let (mut q, mut w) = register(&mut hub, 2, agent, Some(resume), 100);
        let again = w.try_recv().unwrap();
        assert!(again.resumed);
        assert_eq!(again.session, welcome.session);
        assert_eq!(drain(&mut q), vec![3, 5]);
    }

    #[test]
    fn resume_past_the_ring_gets_a_snapshot() {
        let mut hub = hub(2);
        let (_q, mut w) = register(&mut hub, 1, Scope::All, None, 10);
        let session = w.try_recv().unwrap().session;
        for seq in 1..=5 {
            hub.handle(HubInput::Publish(event(seq, &[])));
        }
        let (mut q, mut w) = register(
            &mut hub,
            2,
            Scope::All,
            Some(Resume { session, seq: 1 }),
            10,
        );
        assert!(!w.try_recv().unwrap().resumed);
        assert_eq!(drain(&mut q), vec![5]); // snapshot at seq 5 only
    }

    #[test]
    fn a_resume_that_overflows_the_queue_counts_what_it_drops() {
        let mut hub = hub(100);
        let (_q, mut w) = register(&mut hub, 1, Scope::All, None, 100);
        let session = w.try_recv().unwrap().session;
        hub.handle(HubInput::Unregister(1));
        for seq in 1..=10 {
            hub.handle(HubInput::Publish(event(seq, &[])));
        }
        let resume = Some(Resume { session, seq: 0 });
        let (mut q, _w) = register(&mut hub, 2, Scope::All, resume, 4);
        assert!(q.overflowed.load(Ordering::Relaxed));
        assert_eq!(drain(&mut q), vec![1, 2, 3, 4]);
        assert_eq!(hub.metrics.frames_dropped.load(Ordering::Relaxed), 6);
        assert!(!hub.clients.contains_key(&2));
    }

    #[test]
    fn unknown_session_gets_a_snapshot() {
        let mut hub = hub(10);
        hub.handle(HubInput::Publish(event(1, &[])));
        let resume = Resume {
            session: "other-1".into(),
            seq: 1,
        };
        let (_q, mut w) = register(&mut hub, 1, Scope::All, Some(resume), 10);
        assert!(!w.try_recv().unwrap().resumed);
    }

    #[test]
    fn the_index_finds_exactly_the_clients_whose_scope_sees_an_event() {
        let mut hub = hub(100);
        let scopes = [
            Scope::All,
            Scope::Agent {
                agent: Some("a1".into()),
                extensions: vec!["1001".into()],
            },
            Scope::Agent {
                agent: Some("a2".into()),
                extensions: vec!["1002".into(), "1003".into()],
            },
            Scope::Agent {
                agent: None,
                extensions: vec!["1003".into()],
            },
        ];
        let mut queues: Vec<ClientQueue> = scopes
            .iter()
            .enumerate()
            .map(|(i, scope)| register(&mut hub, i as u64, scope.clone(), None, 100).0)
            .collect();
        for q in &mut queues {
            drain(q);
        }
        let audiences = [
            (vec![], vec!["1003"]),
            (vec!["a1"], vec!["1002"]),
            (vec!["a9"], vec!["9999"]),
            (vec!["a2"], vec!["1002", "1003"]),
        ];
        for (n, (agents, devices)) in audiences.iter().enumerate() {
            let audience = Audience {
                everyone: false,
                agents: agents.iter().map(|a| a.to_string()).collect(),
                devices: devices.iter().map(|d| d.to_string()).collect(),
            };
            let seq = n as u64 + 1;
            hub.handle(HubInput::Publish(Arc::new(Published {
                seq,
                topic: "t".into(),
                audience: audience.clone(),
                frame: String::new().into(),
                at: Instant::now(),
                pop_since: None,
            })));
            for (scope, q) in scopes.iter().zip(&mut queues) {
                let got = drain(q);
                let want = if scope.sees(&audience) {
                    vec![seq]
                } else {
                    vec![]
                };
                assert_eq!(got, want, "{scope:?} and {audience:?}");
            }
        }
        // A client that leaves is out of the index too.
        hub.handle(HubInput::Unregister(1));
        assert!(!hub.index.by_agent.contains_key("a1"));
        assert!(!hub.index.by_device.contains_key("1001"));
    }

    #[test]
    fn a_full_client_is_cut_off_and_others_go_on() {
        let mut hub = hub(100);
        let (mut slow, _w1) = register(&mut hub, 1, Scope::All, None, 3);
        let (mut fast, _w2) = register(&mut hub, 2, Scope::All, None, 100);
        for seq in 1..=10 {
            hub.handle(HubInput::Publish(event(seq, &[])));
            drain(&mut fast);
        }
        assert!(slow.overflowed.load(Ordering::Relaxed));
        assert_eq!(hub.clients.len(), 1);
        // Its queue held the snapshot and events 1 and 2; event 3 was refused, and
        // later ones were not meant for it any more.
        assert_eq!(hub.metrics.frames_dropped.load(Ordering::Relaxed), 1);
        // The slow client's channel is closed once its last events are read.
        assert_eq!(drain(&mut slow).len(), 3);
        assert!(slow.events.try_recv().is_err());
    }
}

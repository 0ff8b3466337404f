//! The engine: the single owner of call and agent state.
//!
//! One task (no locks on the hot path) takes switch events from every adapter and
//! requests from every connection, keeps the normalised picture of calls and agents,
//! and publishes bridge events, each stamped with the daemon-wide `seq`, towards the
//! hub through the durability gate. The handlers do no I/O: they return
//! [`effects::Effect`]s (events with their writes, database jobs, switch commands,
//! timers) that the [`driver`] performs; what comes back arrives as
//! [`effects::Internal`].
//!
//! - [`calls`], [`agents`]: the state.
//! - [`switch_events`]: adapter events → their handlers: [`call_events`] (the call
//!   lifecycle), [`publish`] (`call.*` events, a call's end), [`phones`] (agent and
//!   phone state), [`link`] (link state, reconciling after an outage).
//! - [`effects`], [`driver`]: what the core asks for, and the one place it is done.
//! - [`methods`]: API methods → permission checks → switch commands;
//!   [`checks`]: what a method must pass first; [`commands`]: sending them and
//!   taking their answers.
//! - [`pops`]: screen pops and the CRM look-ups behind them.
//! - [`queues`]: live `queue.stats`.
//! - [`routing`]: data-directed routing (RouteRequest → CRM → RouteSelect).
//! - [`records`]: SMDR/CDR call records: dedup, correlation with calls, rows.
//! - [`request`]: the requests and errors shared with the API.
//! - [`states`]: call state, phone state (ordered) and call outcome, typed;
//!   [`names`]: event names and topics, typed; [`views`]: a call and an agent as
//!   clients see them.

pub mod agents;
mod call_events;
pub mod calls;
mod checks;
mod commands;
pub mod completion;
mod driver;
pub mod effects;
mod link;
pub mod methods;
pub mod names;
mod phones;
pub mod pops;
mod publish;
pub mod queues;
pub mod records;
pub mod request;
pub mod routing;
pub mod states;
pub mod switch_events;
#[cfg(test)]
mod tests;
pub mod views;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use ctibridge_adapter::{AdapterEvent, Capabilities, EngineSide};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::api::protocol;
use crate::auth::Principal;
use crate::crm::cache::Cache;
use crate::crm::db::Pool;
use crate::crm::lookup::CallerInfo;
use crate::crm::writes::DbWrite;
use crate::gate::Outbound;
use crate::hub::{Audience, HubInput, Published, Registration, Scope};
use crate::metrics::Metrics;
use agents::AgentTable;
use calls::CallTable;
use effects::{Effect, Internal};
use names::{EventName, Topic};
use request::EngineRequest;

/// Events (with their writes) that may wait for the gate. Full, the engine waits, and
/// with it the switch links (see `driver`); 4,096 is a few milliseconds of a flood and
/// tens of seconds of a busy call centre.
pub const OUT_QUEUE: usize = 4096;
/// Database jobs (CRM and route look-ups) in flight at once. The pool has 8
/// connections; more jobs would only wait inside it, each a task holding memory.
pub const DB_JOBS: usize = 64;

/// Engine settings, from `[crm]`, `[reports]` and the switches.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub country: String,
    /// How callers are looked up (own contacts or `[crm] lookup_sql`).
    pub lookup: std::sync::Arc<crate::crm::lookup::CallerLookup>,
    pub pop_deadline: Duration,
    pub short_abandon_s: f64,
    pub service_level_s: f64,
    pub cache_size: usize,
    pub cache_ttl: Duration,
}

/// One switch as the engine knows it.
pub struct SwitchLink {
    pub name: String,
    pub adapter: String,
    pub side: EngineSide,
    pub capabilities: Capabilities,
    pub up: bool,
    /// Monitored devices (extensions and ACD groups).
    pub devices: HashSet<String>,
    pub request_timeout: Duration,
    /// The switch whose calls this link's call records complete (itself by default).
    pub cti_switch: Option<String>,
}

pub struct Engine {
    config: EngineConfig,
    switches: BTreeMap<String, SwitchLink>,
    /// device → switch name
    device_switch: HashMap<String, String>,
    calls: CallTable,
    agents: AgentTable,
    cache: Cache<String, CallerInfo>,
    pool: Pool,
    seq: u64,
    out: mpsc::Sender<Outbound>,
    /// Database jobs (look-ups) in flight at most: see [`DB_JOBS`].
    db_slots: Arc<tokio::sync::Semaphore>,
    /// Screen-pop look-ups may run on the engine itself (see `driver::lookup_here`):
    /// the bridge's own contacts on SQLite.
    lookups_here: bool,
    internal_tx: mpsc::UnboundedSender<Internal>,
    internal_rx: Option<mpsc::UnboundedReceiver<Internal>>,
    metrics: Arc<Metrics>,
    queue_stats: queues::QueueStats,
    /// `client_ref`s of dials sent but not yet answered, by calling device: the switch
    /// may report the call before it answers the request, and the call's first events
    /// must carry the reference too.
    pending_dials: HashMap<String, Vec<String>>,
    /// Recent call-record keys and ended calls records may complete.
    records: records::RecordMemory,
    /// The database state clients were last told (`database.down` / `database.up`).
    database_up: bool,
    /// What the handlers returned and the driver has not performed yet.
    effects: Vec<Effect>,
    /// When the engine took up the message it is handling: a pop it causes counts
    /// its latency from here (`ctibridge_screen_pop_latency_seconds`).
    taken_up: Instant,
}

impl Engine {
    pub fn new(
        config: EngineConfig,
        switches: Vec<SwitchLink>,
        pool: Pool,
        out: mpsc::Sender<Outbound>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (internal_tx, internal_rx) = mpsc::unbounded_channel();
        let lookups_here =
            pool.backend() == Some(crate::crm::db::Backend::Sqlite) && config.lookup.own();
        let mut device_switch = HashMap::new();
        for link in &switches {
            for device in &link.devices {
                device_switch.insert(device.clone(), link.name.clone());
            }
            metrics.set_link(&link.name, &link.adapter, false);
        }
        Engine {
            cache: Cache::new(config.cache_size, config.cache_ttl),
            queue_stats: queues::QueueStats::new(config.service_level_s),
            config,
            switches: switches.into_iter().map(|s| (s.name.clone(), s)).collect(),
            device_switch,
            calls: CallTable::default(),
            agents: AgentTable::default(),
            pool,
            seq: 0,
            out,
            db_slots: Arc::new(tokio::sync::Semaphore::new(DB_JOBS)),
            lookups_here,
            internal_tx,
            internal_rx: Some(internal_rx),
            metrics,
            pending_dials: HashMap::new(),
            records: records::RecordMemory::default(),
            database_up: true,
            effects: Vec::new(),
            taken_up: Instant::now(),
        }
    }

    /// Run until both input channels close.
    pub async fn run(
        mut self,
        mut switch_events: mpsc::Receiver<(String, AdapterEvent)>,
        mut requests: mpsc::Receiver<EngineRequest>,
    ) {
        let Some(mut internal) = self.internal_rx.take() else {
            return;
        };
        let mut stats_tick = tokio::time::interval(Duration::from_secs(2));
        stats_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut switches_open, mut requests_open) = (true, true);
        while switches_open || requests_open {
            tokio::select! {
                biased;
                message = internal.recv() => {
                    if let Some(message) = message {
                        self.taken_up = Instant::now();
                        self.handle_internal(message)
                    }
                }
                event = switch_events.recv(), if switches_open => match event {
                    Some((switch, event)) => {
                        self.taken_up = Instant::now();
                        self.handle_switch_event(&switch, event)
                    }
                    None => switches_open = false,
                },
                request = requests.recv(), if requests_open => match request {
                    Some(request) => {
                        self.taken_up = Instant::now();
                        self.handle_request(request)
                    }
                    None => requests_open = false,
                },
                _ = stats_tick.tick() => {
                    self.publish_queue_stats();
                    self.publish_database_state();
                }
            }
            self.perform().await;
        }
        self.close_states();
        self.perform().await;
    }

    /// Stopping: end every open agent-state row now, so the time the daemon is down
    /// is not counted as time in a state (the gate commits this before the process
    /// exits; after a crash the next start closes them instead).
    fn close_states(&mut self) {
        let ended_at = Self::now().naive_utc();
        let ids: Vec<String> = self.agents.iter().filter_map(|a| a.row.clone()).collect();
        for agent in self
            .agents
            .iter()
            .map(|a| a.agent.clone())
            .collect::<Vec<_>>()
        {
            if let Some(entry) = self.agents.get_mut(&agent) {
                entry.row = None;
            }
        }
        let writes = ids
            .into_iter()
            .map(|id| DbWrite::AgentStateEnd { id, ended_at })
            .collect();
        self.send_out(writes, None);
    }

    fn handle_request(&mut self, request: EngineRequest) {
        match request {
            EngineRequest::Method {
                principal,
                call,
                reply,
            } => self.handle_method(&principal, call, reply),
            EngineRequest::Subscribe {
                client,
                principal,
                resume,
                queue,
                reply,
            } => {
                let snapshot = self.snapshot_data(&principal);
                let seq = self.seq;
                let scope = scope_of(&principal);
                let registration = Registration {
                    client,
                    token: principal.token.clone(),
                    scope,
                    resume,
                    at_seq: seq,
                    snapshot: Box::new(move || {
                        let mut data = snapshot;
                        data["resumed"] = json!(false);
                        Arc::new(Published {
                            seq,
                            topic: Topic::Snapshot.to_string(),
                            audience: Audience::default(),
                            frame: protocol::evt(seq, &Topic::Snapshot, EventName::Snapshot, &data)
                                .into(),
                            at: Instant::now(),
                            pop_since: None,
                        })
                    }),
                    sender: queue.sender,
                    overflowed: queue.overflowed,
                    reply,
                };
                self.send_out(Vec::new(), Some(HubInput::Register(registration)));
            }
        }
    }

    fn handle_internal(&mut self, message: Internal) {
        match message {
            Internal::LookupDone { call, key, result } => self.lookup_done(&call, key, result),
            Internal::PopDeadline { call } => self.flush_pops(&call),
            Internal::RouteLookupDone {
                switch,
                route_id,
                result,
            } => self.route_lookup_done(switch, route_id, result),
            Internal::RecordChecked {
                switch,
                record,
                raw,
                key,
                result,
            } => self.record_checked(&switch, *record, raw, key, result),
            Internal::CommandDone {
                switch,
                result,
                client_ref,
                created,
                dial_from,
                implied,
                reply,
            } => self.command_done(
                &switch, result, client_ref, created, dial_from, implied, reply,
            ),
        }
    }

    /// What `principal` may see right now.
    fn snapshot_data(&self, principal: &Principal) -> Value {
        let scope = scope_of(principal);
        let calls: Vec<views::CallView> = self
            .calls
            .iter()
            .filter(|c| scope.sees(&self.call_audience(c)))
            .map(|c| c.view())
            .collect();
        let agents: Vec<views::AgentView> = self
            .agents
            .iter()
            .filter(|a| scope.sees(&self.agent_audience(&a.agent, &a.device)))
            .map(|a| a.view())
            .collect();
        let links: Vec<Value> = self
            .switches
            .values()
            .map(|s| json!({"switch": s.name, "adapter": s.adapter, "up": s.up}))
            .collect();
        // Queue figures are for supervisors and apps, as their live events are.
        let queues = if principal.sees_all() {
            self.queue_stats.latest()
        } else {
            Vec::new()
        };
        // The database state clients were last told (database.down / database.up), so
        // a client that connects during an outage, or before the database was ever
        // reached, knows it too.
        let database = json!({
            "up": self.database_up,
            "journal_pending": self.metrics.journal_pending.load(Ordering::Relaxed),
        });
        json!({ "calls": calls, "agents": agents, "links": links, "queues": queues, "database": database })
    }

    /// Who hears about a call: its devices and the agents logged on at them.
    fn call_audience(&self, call: &calls::Call) -> Audience {
        let mut agents = Vec::new();
        for device in &call.involved {
            if let Some(agent) = self.agents.agent_id_at(device) {
                agents.push(agent.to_string());
            }
        }
        if let Some(agent) = &call.agent {
            if !agents.contains(agent) {
                agents.push(agent.clone());
            }
        }
        Audience {
            everyone: false,
            agents,
            devices: call.involved.clone(),
        }
    }

    fn agent_audience(&self, agent: &str, device: &str) -> Audience {
        Audience {
            everyone: false,
            agents: vec![agent.to_string()],
            devices: vec![device.to_string()],
        }
    }

    /// The topic for an event at `device`: the agent logged on there, else the device.
    fn device_topic(&self, device: &str) -> Topic {
        match self.agents.agent_id_at(device) {
            Some(agent) => Topic::Agent(agent.to_string()),
            None => Topic::Device(device.to_string()),
        }
    }

    /// Publish an event with the writes that must be durable before it is seen.
    fn emit(
        &mut self,
        name: EventName,
        topic: Topic,
        audience: Audience,
        data: Value,
        writes: Vec<DbWrite>,
    ) {
        self.publish_event(name, topic, audience, data, writes, None);
    }

    /// Publish a screen pop (`call.offered`) whose latency counts from `since`.
    fn emit_pop(&mut self, topic: Topic, audience: Audience, data: Value, since: Instant) {
        let name = EventName::CallOffered;
        self.publish_event(name, topic, audience, data, Vec::new(), Some(since));
    }

    fn publish_event(
        &mut self,
        name: EventName,
        topic: Topic,
        audience: Audience,
        data: Value,
        writes: Vec<DbWrite>,
        pop_since: Option<Instant>,
    ) {
        self.seq += 1;
        self.metrics.seq.store(self.seq, Ordering::Relaxed);
        let published = Arc::new(Published {
            seq: self.seq,
            frame: protocol::evt(self.seq, &topic, name, &data).into(),
            topic: topic.to_string(),
            audience,
            at: Instant::now(),
            pop_since,
        });
        self.send_out(writes, Some(HubInput::Publish(published)));
    }

    fn send_out(&mut self, writes: Vec<DbWrite>, message: Option<HubInput>) {
        self.effects.push(Effect::Out(Outbound { writes, message }));
    }

    fn switch_for_device(&self, device: &str) -> Option<&SwitchLink> {
        self.device_switch
            .get(device)
            .and_then(|s| self.switches.get(s))
            .or_else(|| {
                // A device no switch lists: the only switch, when there is one.
                if self.switches.len() == 1 {
                    self.switches.values().next()
                } else {
                    None
                }
            })
    }

    /// Tell clients when the database stops taking writes (they are journaled on
    /// disk meanwhile and nothing is lost) and when it is back, as `database.down`
    /// and `database.up` on topic `system`. The gate keeps the state; the engine
    /// looks at it on its stats tick.
    fn publish_database_state(&mut self) {
        let up = self.metrics.database_up.load(Ordering::Relaxed);
        if up == self.database_up {
            return;
        }
        self.database_up = up;
        let pending = self.metrics.journal_pending.load(Ordering::Relaxed);
        let name = if up {
            EventName::DatabaseUp
        } else {
            EventName::DatabaseDown
        };
        let audience = crate::hub::Audience {
            everyone: true,
            ..crate::hub::Audience::default()
        };
        self.emit(
            name,
            Topic::System,
            audience,
            json!({ "journal_pending": pending }),
            Vec::new(),
        );
    }

    fn now() -> chrono::DateTime<Utc> {
        Utc::now()
    }
}

/// A principal's scope in the hub.
pub fn scope_of(principal: &Principal) -> Scope {
    if principal.sees_all() {
        Scope::All
    } else {
        Scope::Agent {
            agent: principal.agent.clone(),
            extensions: principal.extensions.clone(),
        }
    }
}

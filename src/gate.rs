//! The durability gate between the engine and the hub.
//!
//! The engine emits events in `seq` order, each with the database writes it implies
//! (a call's log row with its `call.ended`). The gate commits a batch's writes — or,
//! when the database cannot take them, appends them to the fsynced on-disk journal —
//! before it hands the batch's events to the hub. So a client that saw `call.ended`
//! can rely on the row existing, also after kill -9; and events keep their order,
//! because nothing overtakes a batch that is still being written.
//!
//! Batching falls out of the channel: whatever queued up while the last batch was
//! being committed becomes the next batch (up to [`MAX_BATCH`]). A batch's events
//! before its first write are published before its commit; the rest after it.
//!
//! A daemon that started without its database ([`Gate::wait_for_database`]) journals
//! every write until the connector has reached and migrated the database and hands
//! over the checked `log_sql`; then the gate replays what an earlier run left, closes
//! that run's open agent states, and replays this run's writes, in order.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::crm::db::{DbError, Pool};
use crate::crm::jobs;
use crate::crm::journal::Journal;
use crate::crm::log_sql::LogSql;
use crate::crm::writes::{self, DbWrite};
use crate::hub::HubInput;
use crate::metrics::Metrics;

pub const MAX_BATCH: usize = 1024;
/// How often the database is probed while writes wait in the journal.
const RETRY: Duration = Duration::from_secs(2);
/// How long a write waits for a database connection before it is journaled instead.
/// Events wait behind the write, so this bounds how late a pop can be when the
/// database server stops answering (a pool with a free connection hands it out at
/// once; a busy one frees one within milliseconds).
const WRITE_WAIT: Duration = Duration::from_secs(1);
/// How long a probe of a database that was down waits for a connection. The probe
/// runs beside the event flow, never in its way.
const PROBE_WAIT: Duration = Duration::from_secs(5);

/// What the engine sends: writes to make durable, then a message for the hub.
pub struct Outbound {
    pub writes: Vec<DbWrite>,
    pub message: Option<HubInput>,
}

pub struct Gate {
    pool: Pool,
    journal: Journal,
    hub: mpsc::Sender<HubInput>,
    metrics: Arc<Metrics>,
    /// `[crm] log_sql`, run with every call row.
    log_sql: Option<Arc<LogSql>>,
    /// Started without the database: the connector sends the checked `log_sql`
    /// once it is reached; until then every write is journaled.
    waiting: Option<oneshot::Receiver<Option<LogSql>>>,
    /// Writes are held in the journal (started without the database, not reached yet).
    held: bool,
    /// Started without the database: the writes of earlier runs at the head of the
    /// journal, and the agent states those runs left open, still to be dealt with.
    earlier: Option<usize>,
    /// When this run started: the end of agent states an earlier run left open.
    started: NaiveDateTime,
}

impl Gate {
    pub fn new(
        pool: Pool,
        journal: Journal,
        hub: mpsc::Sender<HubInput>,
        metrics: Arc<Metrics>,
    ) -> Self {
        metrics
            .journal_pending
            .store(journal.pending() as u64, Ordering::Relaxed);
        metrics.database_up.store(true, Ordering::Relaxed);
        Gate {
            pool,
            journal,
            hub,
            metrics,
            log_sql: None,
            waiting: None,
            held: false,
            earlier: None,
            started: chrono::Utc::now().naive_utc(),
        }
    }

    /// The database is not reachable yet: journal every write until `ready` brings
    /// the checked `log_sql` (see the module doc).
    pub fn wait_for_database(mut self, ready: oneshot::Receiver<Option<LogSql>>) -> Self {
        self.metrics.database_up.store(false, Ordering::Relaxed);
        self.waiting = Some(ready);
        self.held = true;
        self.earlier = Some(self.journal.pending());
        self
    }

    /// Also write every call into the CRM's table with `log`.
    pub fn with_log_sql(mut self, log: Option<LogSql>) -> Self {
        self.log_sql = log.map(Arc::new);
        self
    }

    pub async fn run(mut self, mut input: mpsc::Receiver<Outbound>) {
        // What an earlier run left in the journal goes in first; then the agent states
        // it still left open are closed, before any write of this run is taken.
        // (Started without the database: once it is reached, see `catch_up`.)
        let mut waiting = self.waiting.take();
        if waiting.is_none() {
            self.replay_journal().await;
            self.close_stale_states().await;
        }
        let mut retry = tokio::time::interval(RETRY);
        retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // While writes wait in the journal, a probe asks for a connection beside the
        // loop (an unreachable server can take PROBE_WAIT to say no, and events must
        // not wait for that); only a database that answered gets the replay.
        let mut probe: Option<std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>> =
            None;
        loop {
            tokio::select! {
                first = input.recv() => {
                    let Some(first) = first else { break };
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match input.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    self.pass(batch).await;
                }
                ready = async { waiting.as_mut().expect("guarded").await }, if waiting.is_some() => {
                    waiting = None;
                    // Without an answer the connector has stopped (the daemon is
                    // stopping): keep journaling; the next run replays it.
                    if let Ok(log_sql) = ready {
                        self.held = false;
                        self.log_sql = log_sql.map(Arc::new);
                        self.catch_up().await;
                    }
                }
                _ = retry.tick(), if !self.held && self.journal.pending() > 0 && probe.is_none() => {
                    probe = Some(Box::pin(jobs::reachable(self.pool.clone(), PROBE_WAIT)));
                }
                reachable = async { probe.as_mut().expect("guarded").await }, if probe.is_some() => {
                    probe = None;
                    if reachable {
                        self.catch_up().await;
                    } else {
                        tracing::warn!(pending = self.journal.pending(), "database still unavailable");
                    }
                }
            }
        }
        // Input closed: the daemon is stopping. Everything received was passed on.
    }

    /// Replay the journal. After a start without the database, the first time it is
    /// reached: the writes an earlier run journaled go in first, then that run's open
    /// agent states are closed (as of this run's start), then this run's writes. If
    /// the database goes away again before the earlier writes are in, all of this
    /// waits for the next retry.
    async fn catch_up(&mut self) {
        if let Some(earlier) = self.earlier {
            if earlier > 0 {
                let head = match self.journal.read() {
                    Ok(writes) => writes.into_iter().take(earlier).collect::<Vec<_>>(),
                    Err(e) => {
                        tracing::error!(journal = %self.journal.path().display(), error = %e, "cannot read the journal");
                        return;
                    }
                };
                if let Err(e) = self.commit(head).await {
                    tracing::warn!(error = %e, "database unavailable again; the journal is kept");
                    return;
                }
            }
            self.close_stale_states().await;
            self.earlier = None;
        }
        self.replay_journal().await;
    }

    async fn pass(&mut self, batch: Vec<Outbound>) {
        let mut items = batch.into_iter().peekable();
        // What comes before the batch's first write goes out at once: it has no write
        // of its own, and everything before it is published already. So a screen pop
        // (which carries no write) that queued behind the last commit does not also
        // wait for the commit of the `call.ended` rows that queued after it.
        while let Some(item) = items.next_if(|item| item.writes.is_empty()) {
            if let Some(message) = item.message {
                let _ = self.hub.send(message).await;
            }
        }
        let mut pending = Vec::new();
        let mut messages = Vec::with_capacity(items.len());
        for item in items {
            pending.extend(item.writes);
            if let Some(message) = item.message {
                messages.push(message);
            }
        }
        if !pending.is_empty() {
            self.make_durable(pending).await;
        }
        for message in messages {
            // The hub never waits for a client, so this waits only while the hub is
            // busy; it goes away only when the daemon stops.
            let _ = self.hub.send(message).await;
        }
    }

    /// Commit `writes`, or journal them; returns once they are one or the other.
    async fn make_durable(&mut self, writes: Vec<DbWrite>) {
        // While older writes wait in the journal, newer ones queue behind them so the
        // database sees every write in order.
        if self.journal.pending() == 0 && !self.held {
            match self.commit(writes.clone()).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::error!(error = %e, "database write failed; journaling to disk until it is back");
                    self.metrics.database_up.store(false, Ordering::Relaxed);
                }
            }
        }
        let mut retry = Duration::from_millis(100);
        loop {
            match self.journal.append(&writes) {
                Ok(()) => break,
                Err(e) => {
                    // Neither the database nor the disk takes the write: hold the
                    // events back rather than publish what is not durable.
                    tracing::error!(journal = %self.journal.path().display(), error = %e,
                        "cannot append to the journal; holding events until it can");
                    tokio::time::sleep(retry).await;
                    retry = (retry * 2).min(Duration::from_secs(5));
                }
            }
        }
        self.metrics
            .journal_pending
            .store(self.journal.pending() as u64, Ordering::Relaxed);
    }

    /// Close agent-state rows a stopped or killed run left open (see
    /// `writes::close_open_states`).
    async fn close_stale_states(&self) {
        let now = self.started;
        match jobs::with_conn(&self.pool, move |conn| writes::close_open_states(conn, now)).await {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "closed agent states left open by an earlier run"),
            Err(e) => {
                tracing::warn!(error = %e, "could not close agent states left open by an earlier run")
            }
        }
    }

    async fn commit(&self, writes: Vec<DbWrite>) -> Result<(), DbError> {
        let log = self.log_sql.clone();
        jobs::with_conn_within(&self.pool, WRITE_WAIT, move |conn| {
            writes::apply(conn, &writes, log.as_deref())
        })
        .await
    }

    async fn replay_journal(&mut self) {
        let writes = match self.journal.read() {
            Ok(writes) => writes,
            Err(e) => {
                tracing::error!(journal = %self.journal.path().display(), error = %e, "cannot read the journal");
                return;
            }
        };
        if writes.is_empty() {
            if self.journal.pending() > 0 {
                let _ = self.journal.clear();
            }
            self.metrics.journal_pending.store(0, Ordering::Relaxed);
            // Nothing to replay once the database is reached: it is up.
            self.metrics.database_up.store(true, Ordering::Relaxed);
            return;
        }
        let count = writes.len();
        match self.commit(writes).await {
            Ok(()) => match self.journal.clear() {
                Ok(()) => {
                    tracing::info!(writes = count, "database is back; journal replayed");
                    self.metrics.database_up.store(true, Ordering::Relaxed);
                    self.metrics.journal_pending.store(0, Ordering::Relaxed);
                }
                Err(e) => {
                    tracing::error!(error = %e, "journal replayed but could not be cleared; it will be replayed again (writes are idempotent)")
                }
            },
            Err(e) => {
                self.metrics.database_up.store(false, Ordering::Relaxed);
                tracing::warn!(error = %e, pending = count, "database still unavailable");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::db;
    use crate::crm::models::CallLogRow;
    use crate::crm::schema::call_log;
    use crate::hub::{Audience, Published};
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use std::time::Instant;

    fn row(id: &str) -> DbWrite {
        DbWrite::CallLog(Box::new(CallLogRow {
            outcome: crate::crm::outcome::CallOutcome::Abandoned,
            ..CallLogRow::inbound(id, "pbx", chrono::Utc::now().naive_utc())
        }))
    }

    fn event(seq: u64) -> Option<HubInput> {
        Some(HubInput::Publish(Arc::new(Published {
            seq,
            topic: "t".into(),
            audience: Audience::default(),
            frame: Default::default(),
            at: Instant::now(),
            pop_since: None,
        })))
    }

    async fn logged(pool: &Pool) -> Vec<String> {
        jobs::with_conn(pool, |conn| {
            Ok(crate::on_conn!(conn, c => call_log::table
                .select(call_log::call_id)
                .order(call_log::call_id)
                .load(c))?)
        })
        .await
        .unwrap()
    }

    async fn execute(pool: &Pool, sql: &'static str) {
        jobs::with_conn(pool, move |conn| {
            Ok(crate::on_conn!(conn, c => c.batch_execute(sql))?)
        })
        .await
        .unwrap()
    }

    /// While the database refuses writes, events still go out once their writes are
    /// journaled; when it is back, the journal is replayed in order and emptied.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn journals_during_an_outage_and_replays_after_on_sqlite() {
        let dir = std::env::temp_dir().join(format!("ctibridge-gate-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        outage_and_replay(&dir, &format!("sqlite://{}", dir.join("g.db").display())).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn journals_during_an_outage_and_replays_after_on_postgres() {
        let Some(url) = db::scratch_database("CTIBRIDGE_TEST_POSTGRES") else {
            eprintln!("CTIBRIDGE_TEST_POSTGRES is not set; not tested on that backend");
            return;
        };
        let dir = std::env::temp_dir().join(format!("ctibridge-gate-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        outage_and_replay(&dir, &url).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn journals_during_an_outage_and_replays_after_on_mysql() {
        let Some(url) = db::scratch_database("CTIBRIDGE_TEST_MYSQL") else {
            eprintln!("CTIBRIDGE_TEST_MYSQL is not set; not tested on that backend");
            return;
        };
        let dir = std::env::temp_dir().join(format!("ctibridge-gate-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        outage_and_replay(&dir, &url).await;
    }

    fn state(id: &str, agent: &str, at: chrono::NaiveDateTime) -> DbWrite {
        DbWrite::AgentStateStart(crate::crm::models::AgentStateRow {
            id: id.into(),
            agent: agent.into(),
            extension: None,
            state: "ready".into(),
            reason: None,
            started_at: at,
            ended_at: None,
        })
    }

    /// Events ahead of a batch's first write go out while that write still waits for
    /// the database; the event that carries it, and those after it, only once it is in.
    /// (One thread, so the three queued events are taken as one batch.)
    #[tokio::test(flavor = "current_thread")]
    async fn events_ahead_of_the_first_write_do_not_wait_for_its_commit() {
        use diesel::Connection;
        let dir = std::env::temp_dir().join(format!("ctibridge-gate-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("g.db");
        let url = format!("sqlite://{}", path.display());
        let pool = tokio::task::spawn_blocking(move || db::open(&url))
            .await
            .unwrap()
            .unwrap();
        let journal = Journal::open(&dir.join("g.journal")).unwrap();
        let (hub_tx, mut hub_rx) = mpsc::channel(16);
        let (tx, rx) = mpsc::channel(16);
        let gate = Gate::new(pool.clone(), journal, hub_tx, Arc::new(Metrics::default()));
        let gate = tokio::spawn(gate.run(rx));
        let seq = |m: Option<HubInput>| match m {
            Some(HubInput::Publish(p)) => p.seq,
            _ => panic!("expected an event"),
        };
        // The gate has started (its start-up writes are done) once this comes back.
        tx.send(Outbound {
            writes: vec![],
            message: event(0),
        })
        .await
        .unwrap();
        assert_eq!(seq(hub_rx.recv().await), 0);
        // Another writer holds the database's write lock: the gate's commit waits.
        let mut holder =
            diesel::sqlite::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        holder.batch_execute("BEGIN IMMEDIATE").unwrap();
        for (seq, writes) in [(1, vec![]), (2, vec![row("a")]), (3, vec![])] {
            tx.send(Outbound {
                writes,
                message: event(seq),
            })
            .await
            .unwrap();
        }
        let first = tokio::time::timeout(Duration::from_secs(2), hub_rx.recv()).await;
        assert_eq!(seq(first.expect("published while the commit waits")), 1);
        let early = tokio::time::timeout(Duration::from_millis(300), hub_rx.recv()).await;
        assert!(
            early.is_err(),
            "the event with the write waits for its commit"
        );
        holder.batch_execute("COMMIT").unwrap();
        assert_eq!(seq(hub_rx.recv().await), 2);
        assert_eq!(seq(hub_rx.recv().await), 3);
        assert_eq!(logged(&pool).await, ["a"]);
        drop(tx);
        gate.await.unwrap();
    }

    /// Started without the database: everything is journaled; once it is reached, an
    /// earlier run's writes go in first, its open states are closed as of this run's
    /// start, then this run's writes follow (its own state stays open).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_start_without_the_database_catches_up_in_order() {
        use crate::crm::schema::agent_states;
        let dir = std::env::temp_dir().join(format!("ctibridge-gate-{}", uuid::Uuid::now_v7()));
        let url = format!("sqlite://{}", dir.join("g.db").display());
        let earlier = chrono::Utc::now().naive_utc() - chrono::Duration::hours(1);
        let mut journal = Journal::open(&dir.join("g.journal")).unwrap();
        journal
            .append(&[state("old", "1001", earlier), row("a")])
            .unwrap();
        let pool = db::pool(&url).unwrap();
        let metrics = Arc::new(Metrics::default());
        let (hub_tx, mut hub_rx) = mpsc::channel(16);
        let (tx, rx) = mpsc::channel(16);
        let (ready_tx, ready_rx) = oneshot::channel();
        let gate =
            Gate::new(pool.clone(), journal, hub_tx, metrics.clone()).wait_for_database(ready_rx);
        let started = gate.started;
        let gate = tokio::spawn(gate.run(rx));
        tx.send(Outbound {
            writes: vec![state("new", "1001", started), row("b")],
            message: event(1),
        })
        .await
        .unwrap();
        assert!(hub_rx.recv().await.is_some(), "published once journaled");
        assert!(!metrics.database_up.load(Ordering::Relaxed));
        assert_eq!(metrics.journal_pending.load(Ordering::Relaxed), 4);

        // The database is reached (what the connector does), then the gate hears so.
        let target = url.clone();
        tokio::task::spawn_blocking(move || db::prepare(&target))
            .await
            .unwrap()
            .unwrap();
        pool.set_ready();
        ready_tx.send(None).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !metrics.database_up.load(Ordering::Relaxed) {
            assert!(Instant::now() < deadline, "journal not replayed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(metrics.journal_pending.load(Ordering::Relaxed), 0);
        assert_eq!(logged(&pool).await, vec!["a", "b"]);
        let states: Vec<(String, Option<chrono::NaiveDateTime>)> = jobs::with_conn(&pool, |conn| {
            Ok(crate::on_conn!(conn, c => agent_states::table
                .select((agent_states::id, agent_states::ended_at))
                .order(agent_states::id)
                .load(c))?)
        })
        .await
        .unwrap();
        assert_eq!(
            states,
            vec![
                ("new".to_string(), None),
                ("old".to_string(), Some(started))
            ]
        );
        drop(tx);
        gate.await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    async fn outage_and_replay(dir: &std::path::Path, url: &str) {
        let db_url = url.to_string();
        let pool = tokio::task::spawn_blocking(move || db::open(&db_url))
            .await
            .unwrap()
            .unwrap();
        let journal = Journal::open(&dir.join("g.journal")).unwrap();
        let metrics = Arc::new(Metrics::default());
        let (hub_tx, mut hub_rx) = mpsc::channel(16);
        let (tx, rx) = mpsc::channel(16);
        let gate = tokio::spawn(Gate::new(pool.clone(), journal, hub_tx, metrics.clone()).run(rx));

        tx.send(Outbound {
            writes: vec![row("a")],
            message: event(1),
        })
        .await
        .unwrap();
        assert!(hub_rx.recv().await.is_some());
        assert_eq!(logged(&pool).await, vec!["a"]);

        // The outage: the table is gone.
        execute(&pool, "ALTER TABLE call_log RENAME TO call_log_away").await;
        tx.send(Outbound {
            writes: vec![row("b")],
            message: event(2),
        })
        .await
        .unwrap();
        tx.send(Outbound {
            writes: vec![row("c")],
            message: event(3),
        })
        .await
        .unwrap();
        assert!(hub_rx.recv().await.is_some());
        assert!(hub_rx.recv().await.is_some());
        assert!(!metrics.database_up.load(Ordering::Relaxed));
        assert_eq!(metrics.journal_pending.load(Ordering::Relaxed), 2);
        assert_eq!(
            Journal::open(&dir.join("g.journal")).unwrap().pending(),
            2,
            "durable on disk"
        );

        // Back: replayed within the retry period, in order, journal emptied.
        execute(&pool, "ALTER TABLE call_log_away RENAME TO call_log").await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while metrics.journal_pending.load(Ordering::Relaxed) > 0 {
            assert!(Instant::now() < deadline, "journal not replayed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(metrics.database_up.load(Ordering::Relaxed));
        assert_eq!(logged(&pool).await, vec!["a", "b", "c"]);
        drop(tx);
        gate.await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }
}

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
//! being committed becomes the next batch (up to [`MAX_BATCH`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::crm::db::{self, DbError, Pool};
use crate::crm::journal::Journal;
use crate::crm::writes::{self, DbWrite};
use crate::hub::HubInput;
use crate::metrics::Metrics;

pub const MAX_BATCH: usize = 1024;
/// How often the journal is retried while the database is down.
const RETRY: Duration = Duration::from_secs(2);

/// What the engine sends: writes to make durable, then a message for the hub.
pub struct Outbound {
    pub writes: Vec<DbWrite>,
    pub message: Option<HubInput>,
}

pub struct Gate {
    pool: Pool,
    journal: Journal,
    hub: mpsc::UnboundedSender<HubInput>,
    metrics: Arc<Metrics>,
}

impl Gate {
    pub fn new(
        pool: Pool,
        journal: Journal,
        hub: mpsc::UnboundedSender<HubInput>,
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
        }
    }

    pub async fn run(mut self, mut input: mpsc::UnboundedReceiver<Outbound>) {
        // What an earlier run left in the journal goes in first.
        self.replay_journal().await;
        let mut retry = tokio::time::interval(RETRY);
        retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
                _ = retry.tick(), if self.journal.pending() > 0 => {
                    self.replay_journal().await;
                }
            }
        }
        // Input closed: the daemon is stopping. Everything received was passed on.
    }

    async fn pass(&mut self, batch: Vec<Outbound>) {
        let mut pending = Vec::new();
        let mut messages = Vec::with_capacity(batch.len());
        for item in batch {
            pending.extend(item.writes);
            if let Some(message) = item.message {
                messages.push(message);
            }
        }
        if !pending.is_empty() {
            self.make_durable(pending).await;
        }
        for message in messages {
            // The hub only goes away when the daemon stops.
            let _ = self.hub.send(message);
        }
    }

    /// Commit `writes`, or journal them; returns once they are one or the other.
    async fn make_durable(&mut self, writes: Vec<DbWrite>) {
        // While older writes wait in the journal, newer ones queue behind them so the
        // database sees every write in order.
        if self.journal.pending() == 0 {
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

    async fn commit(&self, writes: Vec<DbWrite>) -> Result<(), DbError> {
        db::with_conn(&self.pool, move |conn| writes::apply(conn, &writes)).await
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

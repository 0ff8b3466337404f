//! The driver: performs the effects the engine core returns. The only place the
//! engine spawns work: one [`Engine::spawn_db`] for every database job, one
//! [`Engine::dispatch_command`] (with the link's request timeout) for every switch
//! command, one timer; their answers come back through the `internal` channel.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ctibridge_adapter::{Command, CommandOk, CommandRequest};

use super::effects::{AfterCommand, DbJob, Effect, Internal};
use super::request::{ApiError, ErrorCode};
use super::Engine;
use crate::crm::lookup;
use crate::crm::{jobs, writes};

/// How long a CRM look-up waits for a database connection (the pool's own wait).
const LOOKUP_WAIT: Duration = Duration::from_secs(5);
/// The same while the database is known to be down.
const LOOKUP_WAIT_WHILE_DOWN: Duration = Duration::from_millis(100);

impl Engine {
    /// Perform every effect the core has returned so far, in order.
    ///
    /// This is where the engine waits when what follows it is behind: a full gate
    /// queue, or every database slot taken. While it waits it reads no switch event,
    /// so the adapters' queues fill and they stop reading their links: the switch
    /// feels TCP back-pressure instead of the daemon's memory growing.
    pub(super) async fn perform(&mut self) {
        for effect in std::mem::take(&mut self.effects) {
            match effect {
                // The gate lives as long as the engine; a failed send means shutdown.
                Effect::Out(outbound) => drop(self.out.send(outbound).await),
                Effect::Db(job) => {
                    // Never fails: the semaphore is not closed.
                    let Ok(slot) = self.db_slots.clone().acquire_owned().await else {
                        continue;
                    };
                    self.spawn_db(job, slot);
                }
                Effect::Command {
                    switch,
                    command,
                    then,
                } => self.dispatch_command(switch, command, then),
                Effect::Timer { after, then } => {
                    let internal = self.internal_tx.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        let _ = internal.send(then);
                    });
                }
            }
        }
    }

    /// Run a database job on the pool; its answer comes back as an [`Internal`].
    fn spawn_db(&self, job: DbJob, slot: tokio::sync::OwnedSemaphorePermit) {
        let pool = self.pool.clone();
        let lookup = self.config.lookup.clone();
        let internal = self.internal_tx.clone();
        let metrics = self.metrics.clone();
        // A look-up while the gate finds the database unreachable would only wait out
        // the pool (and hold the pop until pop_deadline_ms): ask briefly. A database
        // that still reads (only writes fail) hands a connection out at once.
        let wait = if self.metrics.database_up.load(Ordering::Relaxed) {
            LOOKUP_WAIT
        } else {
            LOOKUP_WAIT_WHILE_DOWN
        };
        tokio::spawn(async move {
            let _slot = slot;
            let message = match job {
                DbJob::Lookup {
                    call,
                    key,
                    number,
                    dnis,
                } => {
                    let started = Instant::now();
                    let result = jobs::with_conn_within(&pool, wait, move |conn| {
                        lookup::lookup_call(conn, number.as_deref(), dnis.as_deref(), &lookup)
                    })
                    .await;
                    metrics.lookup_duration.observe(started.elapsed());
                    Internal::LookupDone { call, key, result }
                }
                DbJob::RouteLookup {
                    switch,
                    route_id,
                    number,
                } => {
                    let started = Instant::now();
                    let result = jobs::with_conn_within(&pool, wait, move |conn| {
                        lookup::lookup_call(conn, Some(&number), None, &lookup)
                    })
                    .await;
                    metrics.lookup_duration.observe(started.elapsed());
                    Internal::RouteLookupDone {
                        switch,
                        route_id,
                        result,
                    }
                }
                DbJob::RecordCheck {
                    switch,
                    record,
                    raw,
                    key,
                    number,
                } => {
                    let stored_key = key.clone();
                    let result = jobs::with_conn(&pool, move |conn| {
                        if writes::record_stored(conn, &stored_key)? {
                            return Ok(None);
                        }
                        Ok(Some(lookup::lookup_call(
                            conn,
                            number.as_deref(),
                            None,
                            &lookup,
                        )?))
                    })
                    .await;
                    Internal::RecordChecked {
                        switch,
                        record,
                        raw,
                        key,
                        result,
                    }
                }
            };
            let _ = internal.send(message);
        });
    }

    /// Hand a command to a switch's adapter and wait (in a task) at most the link's
    /// request timeout for its answer.
    fn dispatch_command(&self, switch: String, command: Command, then: AfterCommand) {
        let link = self.switches.get(&switch);
        let sender = link.map(|l| l.side.commands.clone());
        let timeout = link.map_or(Duration::ZERO, |l| l.request_timeout);
        let internal = self.internal_tx.clone();
        let (request, answer) = CommandRequest::new(command);
        tokio::spawn(async move {
            let result: Result<CommandOk, ApiError> = match sender.map(|s| s.try_send(request)) {
                None | Some(Err(_)) => Err(ApiError::new(
                    ErrorCode::SwitchUnavailable,
                    format!(
                        "switch `{switch}` is not taking commands (queue full or link stopped)"
                    ),
                )),
                Some(Ok(())) => match tokio::time::timeout(timeout, answer).await {
                    Ok(Ok(result)) => result.map_err(ApiError::from),
                    Ok(Err(_)) => Err(ApiError::switch_unavailable(&switch)),
                    Err(_) => Err(ApiError::new(
                        ErrorCode::Timeout,
                        format!(
                            "switch `{switch}` did not answer within {:.0} s",
                            timeout.as_secs_f64()
                        ),
                    )),
                },
            };
            match then {
                AfterCommand::Reply {
                    client_ref,
                    created,
                    dial_from,
                    implied,
                    reply,
                } => {
                    let _ = internal.send(Internal::CommandDone {
                        switch,
                        result,
                        client_ref,
                        created,
                        dial_from,
                        implied,
                        reply,
                    });
                }
                AfterCommand::Route { route_id } => match result {
                    Ok(_) => {}
                    Err(e)
                        if matches!(e.code, ErrorCode::Timeout | ErrorCode::SwitchUnavailable) =>
                    {
                        tracing::warn!(
                            switch,
                            route_id,
                            "route select not confirmed: {}",
                            e.message
                        )
                    }
                    Err(e) => {
                        tracing::warn!(switch, route_id, "route select refused: {}", e.message)
                    }
                },
            }
        });
    }
}

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
                    let Some(job) = self.lookup_here(job) else {
                        continue;
                    };
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

    /// Run a screen pop's look-up here, on the engine, when it is one in the bridge's
    /// own contacts on SQLite and a connection is free at once; otherwise give the job
    /// back for a blocking thread.
    ///
    /// Why: that look-up is an indexed read of a local file, tens of microseconds
    /// (0.03 ms p50 on 1,000,000 contacts), while handing it to a blocking thread and
    /// its answer back to the engine wakes sleeping threads three or four times; at
    /// 2,000 events/s that hand-over was 0.35–0.5 ms of a pop's ~1 ms and a quarter of
    /// the CPU per event (docs/performance.md). The answer still comes back as an
    /// [`Internal`], so the pop is handled exactly as before. What can take long stays
    /// off the engine: a server database (a round trip, a server that stops
    /// answering), a `lookup_sql` (the CRM's own query, of unknown cost), and any wait
    /// for a connection (`try_get` takes only an idle one).
    fn lookup_here(&mut self, job: DbJob) -> Option<DbJob> {
        if !self.lookups_here || !matches!(job, DbJob::Lookup { .. }) || !self.pool.is_ready() {
            return Some(job);
        }
        let Some(mut conn) = self.pool.try_get() else {
            return Some(job);
        };
        let DbJob::Lookup {
            call,
            key,
            number,
            dnis,
        } = job
        else {
            unreachable!("checked above")
        };
        let started = Instant::now();
        let result = lookup::lookup_call(
            &mut conn,
            number.as_deref(),
            dnis.as_deref(),
            &self.config.lookup,
        );
        drop(conn);
        self.metrics.lookup_duration.observe(started.elapsed());
        let _ = self
            .internal_tx
            .send(Internal::LookupDone { call, key, result });
        None
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::sync::mpsc;

    use super::*;
    use crate::crm::db;
    use crate::crm::import::{import_contacts, ImportRow};
    use crate::crm::lookup::CallerLookup;
    use crate::engine::EngineConfig;
    use crate::metrics::Metrics;

    const ADA: &str = "+14155550123";

    /// A migrated in-memory SQLite database (a pool of one connection) holding Ada.
    fn contacts() -> db::Pool {
        let pool = db::open("sqlite://:memory:").unwrap();
        let mut conn = pool.get().unwrap();
        import_contacts(
            &mut conn,
            &[ImportRow::new("Ada Lovelace", ADA, None)],
            "US",
        )
        .unwrap();
        pool
    }

    fn engine_on(pool: db::Pool, lookup: CallerLookup) -> Engine {
        let (out, _) = mpsc::channel(1);
        let config = EngineConfig {
            country: "US".into(),
            lookup: Arc::new(lookup),
            pop_deadline: Duration::from_millis(300),
            short_abandon_s: 5.0,
            service_level_s: 20.0,
            cache_size: 100,
            cache_ttl: Duration::from_secs(60),
        };
        Engine::new(config, Vec::new(), pool, out, Arc::new(Metrics::default()))
    }

    /// Ask for Ada's look-up and perform it.
    async fn look_up_ada(engine: &mut Engine) {
        engine.effects.push(Effect::Db(DbJob::Lookup {
            call: "c1".into(),
            key: ADA.into(),
            number: Some(ADA.into()),
            dnis: None,
        }));
        engine.perform().await;
    }

    /// The answer already waiting for the engine, without letting anything else run.
    fn answered_at_once(engine: &mut Engine) -> Option<Internal> {
        engine.internal_rx.as_mut().unwrap().try_recv().ok()
    }

    async fn answer(engine: &mut Engine) -> Internal {
        let internal = engine.internal_rx.as_mut().unwrap();
        tokio::time::timeout(Duration::from_secs(5), internal.recv())
            .await
            .expect("the look-up is answered")
            .unwrap()
    }

    fn found_ada(message: Internal) -> bool {
        matches!(message, Internal::LookupDone { call, result: Ok(info), .. }
            if call == "c1" && info.matches.first().is_some_and(|m| m.name == "Ada Lovelace"))
    }

    /// One thread and no yield: only a look-up the engine ran itself can be answered
    /// by the time `perform` returns (a task or a blocking thread has not run yet).
    #[tokio::test(flavor = "current_thread")]
    async fn own_contacts_on_sqlite_are_looked_up_on_the_engine() {
        let mut engine = engine_on(contacts(), CallerLookup::own_contacts("US"));
        look_up_ada(&mut engine).await;
        let answer = answered_at_once(&mut engine).expect("answered within perform");
        assert!(found_ada(answer));
    }

    /// With no connection free, the engine does not wait for one: the job goes to a
    /// blocking thread and is answered once the connection comes back.
    #[tokio::test(flavor = "current_thread")]
    async fn with_no_connection_free_the_look_up_goes_to_a_thread() {
        let pool = contacts();
        let held = pool.get().unwrap();
        let mut engine = engine_on(pool, CallerLookup::own_contacts("US"));
        look_up_ada(&mut engine).await;
        assert!(answered_at_once(&mut engine).is_none());
        drop(held);
        assert!(found_ada(answer(&mut engine).await));
    }

    /// The CRM's own `lookup_sql` has a cost the bridge does not know: never on the
    /// engine.
    #[tokio::test(flavor = "current_thread")]
    async fn lookup_sql_is_never_run_on_the_engine() {
        let mut engine = engine_on(contacts(), CallerLookup::sql_pending("US"));
        look_up_ada(&mut engine).await;
        assert!(answered_at_once(&mut engine).is_none());
        assert!(matches!(
            answer(&mut engine).await,
            Internal::LookupDone { result: Err(_), .. }
        ));
    }
}

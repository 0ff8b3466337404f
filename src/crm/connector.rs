//! Reaching a database that was not there when the daemon started.
//!
//! A daemon whose database is refused, times out, rejects the password or does not
//! exist yet still starts: it serves clients and pops from switch data, the gate
//! journals the writes, `/healthz` says 503 and clients get `database.down`. The
//! [`Connector`] meanwhile retries, with a backoff that doubles from
//! [`FIRST_RETRY`] to [`MAX_RETRY`] with jitter (so several daemons restarted
//! together do not knock in step), and logs an error naming the server's host and
//! port (password hidden) on the first failure and then at most every
//! [`LOG_EVERY`]. When it gets through it:
//!
//! 1. migrates the schema and marks the pool ready;
//! 2. checks `[crm] lookup_sql` and `log_sql` against the live database. At start-up
//!    a statement that fails its check stops the daemon (a configuration error);
//!    here the daemon has been serving calls for a while, so it keeps running
//!    without the statement and says so loudly: an error log now, look-ups that
//!    fail with the reason (each logged with its call), calls logged only in the
//!    bridge's own `call_log`;
//! 3. hands `log_sql` to the gate, which replays the journal in order.

use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::db::{self, DbError, Pool};
use super::jobs;
use super::log_sql::LogSql;
use super::lookup::CallerLookup;
use super::lookup_sql::LookupSql;
use super::statement::StatementError;

/// The first retry comes this soon after a failure.
pub const FIRST_RETRY: Duration = Duration::from_millis(500);
/// Retries are never further apart than this (before jitter).
pub const MAX_RETRY: Duration = Duration::from_secs(30);
/// One connection attempt gives up after this long (a server that drops packets).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// While the database stays away, its error is logged at most this often.
pub const LOG_EVERY: Duration = Duration::from_secs(60);

/// The `[crm]` statements to check once the database is reached.
pub struct Statements {
    pub lookup_sql: Option<String>,
    pub log_sql: Option<String>,
}

pub struct Connector {
    url: String,
    pool: Pool,
    lookup: std::sync::Arc<CallerLookup>,
    statements: Statements,
}

impl Connector {
    pub fn new(
        url: &str,
        pool: Pool,
        lookup: std::sync::Arc<CallerLookup>,
        statements: Statements,
    ) -> Self {
        Connector {
            url: url.to_string(),
            pool,
            lookup,
            statements,
        }
    }

    /// Connect, migrate and check the statements (retrying until it works or
    /// `shutdown`); then send the checked `log_sql` to `ready`.
    pub async fn run(
        self,
        first_error: DbError,
        ready: oneshot::Sender<Option<LogSql>>,
        shutdown: CancellationToken,
    ) {
        let server = db::server(&self.url).unwrap_or_else(|| db::redact(&self.url));
        let mut log = RateLimitedLog::default();
        log.failed(&server, &first_error);
        let mut delay = FIRST_RETRY;
        loop {
            let wait = jittered(delay);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            match attempt(&self.url).await {
                Ok(()) => break,
                Err(e) => {
                    log.failed(&server, &e);
                    delay = (delay * 2).min(MAX_RETRY);
                }
            }
        }
        self.pool.set_ready();
        tracing::info!(server = %server, url = %db::redact(&self.url), failed_attempts = log.attempts,
            "database reached and migrated; replaying the writes journaled meanwhile");
        let log_sql = self.check_statements().await;
        let _ = ready.send(log_sql);
    }

    /// Check `lookup_sql` and `log_sql`; a statement that fails is logged and left
    /// out (see the module doc).
    async fn check_statements(&self) -> Option<LogSql> {
        if let Some(sql) = self.statements.lookup_sql.clone() {
            let checked =
                jobs::with_conn(&self.pool, move |conn| Ok(LookupSql::prepare(&sql, conn)))
                    .await
                    .unwrap_or_else(|e| Err(StatementError::Database(e.to_string())));
            if let Err(e) = &checked {
                tracing::error!(error = %e, "[crm] lookup_sql does not work on this database; \
                    pops go out without CRM matches until it is fixed and the daemon restarted");
            }
            self.lookup.set_sql(checked);
        }
        let sql = self.statements.log_sql.clone()?;
        let checked = jobs::with_conn(&self.pool, move |conn| Ok(LogSql::prepare(&sql, conn)))
            .await
            .unwrap_or_else(|e| Err(StatementError::Database(e.to_string())));
        match checked {
            Ok(log) => Some(log),
            Err(e) => {
                tracing::error!(error = %e, "[crm] log_sql does not work on this database; \
                    calls are logged only in call_log until it is fixed and the daemon restarted");
                None
            }
        }
    }
}

/// One try: connect and migrate, on a blocking thread, bounded in time.
async fn attempt(url: &str) -> Result<(), DbError> {
    let url = url.to_string();
    let task = tokio::task::spawn_blocking(move || db::prepare(&url));
    match tokio::time::timeout(ATTEMPT_TIMEOUT, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(DbError::Connect(format!("connection task failed: {e}"))),
        Err(_) => Err(DbError::Connect(format!(
            "no answer within {} s",
            ATTEMPT_TIMEOUT.as_secs()
        ))),
    }
}

/// `delay` ± up to a quarter of it.
fn jittered(delay: Duration) -> Duration {
    let quarter = delay.as_millis() as u64 / 4;
    let offset = rand::rng().random_range(0..=2 * quarter);
    Duration::from_millis(delay.as_millis() as u64 - quarter + offset)
}

/// The database's error, logged on the first failure and then at most every
/// [`LOG_EVERY`] with the number of attempts in between.
#[derive(Default)]
struct RateLimitedLog {
    last: Option<Instant>,
    attempts: u64,
    since_logged: u64,
}

impl RateLimitedLog {
    fn failed(&mut self, server: &str, error: &DbError) {
        self.attempts += 1;
        self.since_logged += 1;
        if self.last.is_some_and(|at| at.elapsed() < LOG_EVERY) {
            tracing::debug!(server, error = %error, "database still not reachable");
            return;
        }
        tracing::error!(server, error = %error, attempts = self.since_logged,
            "database not reachable; serving without it (writes are journaled on disk), retrying");
        self.last = Some(Instant::now());
        self.since_logged = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_a_quarter() {
        for _ in 0..1000 {
            let d = jittered(Duration::from_secs(8));
            assert!(
                d >= Duration::from_secs(6) && d <= Duration::from_secs(10),
                "{d:?}"
            );
        }
        assert_eq!(jittered(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn the_log_is_rate_limited() {
        let mut log = RateLimitedLog::default();
        let e = DbError::Connect("refused".into());
        log.failed("h:1", &e);
        let first = log.last;
        log.failed("h:1", &e);
        log.failed("h:1", &e);
        assert_eq!(log.last, first, "not logged again within LOG_EVERY");
        assert_eq!((log.attempts, log.since_logged), (3, 2));
    }
}

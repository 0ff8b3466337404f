//! Running database work: a job takes one of the pool's slots, then a blocking
//! thread and a pooled connection, and gives all three back when it is done.
//!
//! The slots (one per connection) come first so that a burst of jobs waits as tasks,
//! holding no thread. Without them every job waiting for a connection held a blocking
//! thread of its own (the engine lets 64 look-ups be in flight, and the gate writes
//! beside them), parked in the pool's wait; the daemon's threads, with their stacks
//! and allocator heaps, rose and fell with each burst, and every hand-over woke one.

use std::time::Duration;

use super::db::{AnyConn, DbError, Pool, POOL_WAIT};

/// The least a job that got a slot waits for its connection, unless its whole wait
/// is shorter (opening a connection can take a round trip to a server even when the
/// slot came at the end of the job's wait).
const MIN_POOL_WAIT: Duration = Duration::from_millis(250);

/// Run `f` with a pooled connection on a blocking thread (waiting up to the pool's
/// own 5 s for one).
pub async fn with_conn<T, F>(pool: &Pool, f: F) -> Result<T, DbError>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConn) -> Result<T, DbError> + Send + 'static,
{
    with_conn_within(pool, POOL_WAIT, f).await
}

/// Like [`with_conn`], but gives up on getting a connection after `wait`. The gate
/// writes with a short wait: while it waits, every event behind the write waits too,
/// so an unreachable server must be noticed quickly.
pub async fn with_conn_within<T, F>(pool: &Pool, wait: Duration, f: F) -> Result<T, DbError>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConn) -> Result<T, DbError> + Send + 'static,
{
    if !pool.is_ready() {
        return Err(DbError::NotReady(pool.redacted_url()));
    }
    let asked = tokio::time::Instant::now();
    let slot = match tokio::time::timeout(wait, pool.slots.clone().acquire_owned()).await {
        Ok(Ok(slot)) => slot,
        // The semaphore is never closed; a timeout is a pool busy for all of `wait`.
        _ => return Err(DbError::Busy(wait)),
    };
    // A slot is a connection not in use by another job; the wait left still bounds
    // the pool's own (it may have to open the connection first).
    let left = wait
        .saturating_sub(asked.elapsed())
        .max(wait.min(MIN_POOL_WAIT));
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let mut conn = pool.get_timeout(left)?;
        f(&mut conn)
    })
    .await
    .map_err(|e| DbError::Connect(format!("database task failed: {e}")))?
}

/// Whether a connection can be had within `wait` (a cheap probe for a database that
/// was unreachable; the connection goes back to the pool).
pub async fn reachable(pool: Pool, wait: Duration) -> bool {
    if !pool.is_ready() {
        return false;
    }
    tokio::task::spawn_blocking(move || pool.get_timeout(wait).is_ok())
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    async fn sqlite_pool() -> Pool {
        let dir = std::env::temp_dir().join(format!("ctibridge-jobs-{}", uuid::Uuid::now_v7()));
        let url = format!("sqlite://{}", dir.join("j.db").display());
        tokio::task::spawn_blocking(move || super::super::db::open(&url))
            .await
            .unwrap()
            .unwrap()
    }

    /// Forty jobs at once on a pool of eight connections: never more than eight run
    /// at a time, and every job runs. (That a waiting job holds no thread is not seen
    /// from here: before the slots, jobs beyond eight also waited, but each on a
    /// blocking thread of its own; the bench's thread count shows that, see
    /// docs/performance.md.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_beyond_the_connections_wait_their_turn() {
        let pool = sqlite_pool().await;
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..40)
            .map(|_| {
                let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    with_conn(&pool, move |_conn| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                        Ok(())
                    })
                    .await
                })
            })
            .collect();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=8).contains(&most), "{most} jobs on threads at once");
    }

    /// A job that cannot get a slot within its wait says so, naming the wait.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_that_gets_no_slot_in_time_is_told_the_pool_is_busy() {
        let pool = sqlite_pool().await;
        let _all = pool.slots.clone().acquire_many_owned(8).await.unwrap();
        let wait = Duration::from_millis(50);
        let err = with_conn_within(&pool, wait, |_conn| Ok(()))
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Busy(w) if w == wait), "{err}");
        assert!(err.to_string().contains("50ms"), "{err}");
    }
}

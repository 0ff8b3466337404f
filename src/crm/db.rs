//! Opening the CRM database: URL checks, the connection pool, pragmas and migrations.
//!
//! SQLite (bundled, no system library needed) is the embedded default. The pool hands
//! connections to blocking threads (`spawn_blocking`); nothing here runs on the async
//! runtime's worker threads.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ConnectionManager, CustomizeConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("schema/sqlite");

pub type Pool = r2d2::Pool<ConnectionManager<SqliteConnection>>;
pub type Conn = r2d2::PooledConnection<ConnectionManager<SqliteConnection>>;

/// A database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database connection failed: {0}")]
    Connect(String),
    #[error("database migration failed: {0}")]
    Migrate(String),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::PoolError),
}

/// The file path of a `sqlite://` URL.
pub fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .filter(|p| !p.is_empty())
}

/// Check a database URL without connecting.
pub fn check_url(url: &str) -> Result<(), String> {
    if sqlite_path(url).is_some() {
        return Ok(());
    }
    if url.starts_with("postgres://")
        || url.starts_with("postgresql://")
        || url.starts_with("mysql://")
    {
        return Err(format!(
            "[database] url `{}`: PostgreSQL and MySQL/MariaDB are not built into this version yet; use sqlite://PATH",
            redact(url)
        ));
    }
    Err(format!(
        "[database] url `{}` is not a database URL this daemon knows (sqlite://PATH)",
        redact(url)
    ))
}

/// A URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[derive(Debug)]
struct Pragmas;

impl CustomizeConnection<SqliteConnection, r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), r2d2::Error> {
        // WAL lets look-ups read while the writer commits; synchronous=FULL makes a
        // commit durable before the daemon publishes `call.ended` (the durability
        // promise); busy_timeout rides out the writer's short transactions.
        // busy_timeout first: switching a new file to WAL takes a write lock that
        // other connections opening at the same moment must wait for, not fail on.
        conn.batch_execute(
            "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )
        .map_err(r2d2::Error::QueryError)
    }
}

/// Open (creating if needed) and migrate the database named by `url`.
pub fn open(url: &str) -> Result<Pool, DbError> {
    check_url(url).map_err(DbError::Connect)?;
    let path = sqlite_path(url).unwrap_or(":memory:");
    // Every connection to ":memory:" is a new empty database: keep one.
    let size = if path == ":memory:" { 1 } else { 8 };
    if path != ":memory:" {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DbError::Connect(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
    }
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        .connection_customizer(Box::new(Pragmas))
        .build(ConnectionManager::<SqliteConnection>::new(path))
        .map_err(|e| DbError::Connect(format!("{path}: {e}")))?;
    let mut conn = pool.get()?;
    conn.run_pending_migrations(SQLITE_MIGRATIONS)
        .map_err(|e| DbError::Migrate(e.to_string()))?;
    Ok(pool)
}

/// Run `f` with a pooled connection on a blocking thread.
pub async fn with_conn<T, F>(pool: &Pool, f: F) -> Result<T, DbError>
where
    T: Send + 'static,
    F: FnOnce(&mut Conn) -> Result<T, DbError> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await
    .map_err(|e| DbError::Connect(format!("database task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(sqlite_path("sqlite://a/b.db"), Some("a/b.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), Some(":memory:"));
        assert!(check_url("sqlite://x.db").is_ok());
        assert!(check_url("postgres://u:p@h/db")
            .unwrap_err()
            .contains("u:***@h"));
        assert!(check_url("redis://x").is_err());
    }

    #[test]
    fn opens_and_migrates_in_memory() {
        let pool = open("sqlite://:memory:").unwrap();
        let mut conn = pool.get().unwrap();
        // Migrating again is a no-op.
        conn.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
    }
}

//! Opening the CRM database: URL checks, the connection pool, per-backend set-up and
//! migrations.
//!
//! Three backends, chosen by `[database] url`:
//! - `sqlite://PATH` (the embedded default; SQLite is compiled in);
//! - `postgres://USER[:PASS]@HOST[:PORT]/DB`;
//! - `mysql://USER[:PASS]@HOST[:PORT]/DB` (MySQL or MariaDB).
//!
//! Either server may be reached over TLS (`?sslmode=` / `?ssl-mode=`; see
//! [`db_tls`](super::db_tls)).
//!
//! PostgreSQL and MySQL go through pure-Rust drivers (diesel-async's tokio-postgres
//! and mysql_async connections), wrapped to look synchronous, so the bridge's diesel
//! code is written once and no C client library has to be installed. A connection is
//! an [`AnyConn`]; [`on_conn!`](crate::on_conn) runs the same diesel code on whichever
//! backend it holds. The pool hands connections to blocking threads
//! (`spawn_blocking`, see [`jobs`](super::jobs)); nothing here runs on the async
//! runtime's worker threads.
//!
//! A [`Pool`] can exist before its database is reachable ([`pool`]): the daemon
//! starts without its database and connects later (see `crate::crm::connector`).
//! Until [`Pool::set_ready`] (the schema is migrated), [`with_conn`] fails at once
//! instead of waiting for a connection that cannot come.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncMysqlConnection, AsyncPgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::db_tls;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("schema/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("schema/postgres");
pub const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("schema/mysql");

pub type PgConn = AsyncConnectionWrapper<AsyncPgConnection>;
pub type MysqlConn = AsyncConnectionWrapper<AsyncMysqlConnection>;

/// The runtime the PostgreSQL and MySQL drivers run on. A wrapped connection blocks
/// on the runtime it was made in; made here, none owns a runtime of its own (which
/// could not be dropped where the daemon drops its pool), and a blocking thread of
/// the daemon's runtime, the pool's own threads and the CLI can all use it.
static DRIVER_RUNTIME: std::sync::LazyLock<tokio::runtime::Runtime> =
    std::sync::LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ctibridge-db")
            .enable_all()
            .build()
            .expect("the database driver runtime starts")
    });

/// A connection to whichever backend the URL names. (A pool holds a handful; boxing
/// the larger variants would only make every query dereference twice.)
#[allow(clippy::large_enum_variant)]
pub enum AnyConn {
    Sqlite(SqliteConnection),
    Postgres(PgConn),
    Mysql(MysqlConn),
}

/// Run `$body` with `$c` bound to the concrete connection inside an [`AnyConn`]. The
/// body is compiled once per backend, so ordinary diesel code works on all three.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::crm::db::AnyConn::Sqlite($c) => $body,
            $crate::crm::db::AnyConn::Postgres($c) => $body,
            $crate::crm::db::AnyConn::Mysql($c) => $body,
        }
    };
}

/// The database kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

impl Backend {
    pub fn of(url: &str) -> Option<Backend> {
        if sqlite_path(url).is_some() {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            Some(Backend::Mysql)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
            Backend::Mysql => "MySQL/MariaDB",
        }
    }
}

impl AnyConn {
    pub fn backend(&self) -> Backend {
        match self {
            AnyConn::Sqlite(_) => Backend::Sqlite,
            AnyConn::Postgres(_) => Backend::Postgres,
            AnyConn::Mysql(_) => Backend::Mysql,
        }
    }

    /// Connect to `url` (a URL [`check_url`] accepts).
    pub fn establish(url: &str) -> Result<AnyConn, DbError> {
        let failed = |e: diesel::ConnectionError| {
            let name = Backend::of(url).map_or("database", Backend::name);
            match server(url) {
                Some(at) => DbError::Connect(format!(
                    "cannot connect to {name} at {at} ({}): {e}",
                    redact(url)
                )),
                None => DbError::Connect(format!("{}: {e}", redact(url))),
            }
        };
        match Backend::of(url) {
            Some(Backend::Sqlite) => {
                let path = sqlite_path(url).unwrap_or(":memory:");
                let mut conn = SqliteConnection::establish(path).map_err(failed)?;
                // WAL lets look-ups read while the writer commits; synchronous=FULL
                // makes a commit durable before the daemon publishes `call.ended` (the
                // durability promise); busy_timeout rides out the writer's short
                // transactions. busy_timeout first: switching a new file to WAL takes
                // a write lock that other connections opening at the same moment must
                // wait for, not fail on.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                )?;
                Ok(AnyConn::Sqlite(conn))
            }
            Some(Backend::Postgres) => {
                let _runtime = DRIVER_RUNTIME.enter();
                Ok(AnyConn::Postgres(establish_postgres(url).map_err(failed)?))
            }
            Some(Backend::Mysql) => {
                // mysql_async knows the scheme `mysql` only; MariaDB speaks it.
                let url = url.replacen("mariadb://", "mysql://", 1);
                let url = db_tls::mysql(&url).map_err(DbError::Connect)?;
                let _runtime = DRIVER_RUNTIME.enter();
                Ok(AnyConn::Mysql(MysqlConn::establish(&url).map_err(failed)?))
            }
            None => Err(DbError::Connect(check_url(url).err().unwrap_or_default())),
        }
    }

    /// Bring the schema up to date.
    pub fn migrate(&mut self) -> Result<(), DbError> {
        let result = match self {
            AnyConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(drop),
            AnyConn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(drop),
            AnyConn::Mysql(c) => c.run_pending_migrations(MYSQL_MIGRATIONS).map(drop),
        };
        result.map_err(|e| DbError::Migrate(e.to_string()))
    }

    /// Run `f` in a transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers never deadlock upgrading read locks.
    pub fn write_transaction<T>(
        &mut self,
        f: impl FnOnce(&mut AnyConn) -> Result<T, diesel::result::Error>,
    ) -> Result<T, diesel::result::Error> {
        let begin = match self.backend() {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres | Backend::Mysql => "BEGIN",
        };
        on_conn!(self, c => c.batch_execute(begin))?;
        match f(self) {
            Ok(value) => {
                on_conn!(self, c => c.batch_execute("COMMIT"))?;
                Ok(value)
            }
            Err(e) => {
                let _ = on_conn!(self, c => c.batch_execute("ROLLBACK"));
                Err(e)
            }
        }
    }
}

/// A PostgreSQL connection, over rustls when `sslmode` asks for TLS (see
/// [`db_tls`]). Called with [`DRIVER_RUNTIME`] entered.
fn establish_postgres(url: &str) -> diesel::ConnectionResult<PgConn> {
    let bad_url = |e: String| diesel::ConnectionError::InvalidConnectionUrl(e);
    let (mode, root, url) = db_tls::postgres(url).map_err(bad_url)?;
    if mode == db_tls::PgTls::Off {
        return PgConn::establish(&url);
    }
    let tls = db_tls::PgRustls(db_tls::pg_client_config(mode, root.as_deref()).map_err(bad_url)?);
    let conn = DRIVER_RUNTIME.handle().block_on(async move {
        let (client, connection) = tokio_postgres::connect(&url, tls)
            .await
            .map_err(|e| diesel::ConnectionError::BadConnection(with_causes(&e)))?;
        AsyncPgConnection::try_from_client_and_connection(client, connection).await
    })?;
    Ok(PgConn::from(conn))
}

/// An error and its causes (tokio-postgres says "error performing TLS handshake"
/// and keeps the reason, e.g. an untrusted certificate, as the cause).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

/// Hands out [`AnyConn`]s for the r2d2 pool.
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
    /// Each connection to SQLite's `:memory:` is a database of its own (the pool
    /// holds one): it is migrated when it opens.
    in_memory: bool,
}

impl ManageConnection for Manager {
    type Connection = AnyConn;
    type Error = DbError;

    fn connect(&self) -> Result<AnyConn, DbError> {
        let mut conn = AnyConn::establish(&self.url)?;
        if self.in_memory {
            conn.migrate()?;
        }
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut AnyConn) -> Result<(), DbError> {
        Ok(on_conn!(conn, c => c.batch_execute("SELECT 1"))?)
    }

    fn has_broken(&self, _conn: &mut AnyConn) -> bool {
        false
    }
}

/// The connection pool, and whether its database is ready (connected and migrated).
/// Dereferences to the r2d2 pool (`pool.get()`).
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    ready: Arc<AtomicBool>,
    url: String,
    /// One permit per connection: a job holds one while it is on a blocking thread
    /// (see [`jobs`](super::jobs)).
    pub(super) slots: Arc<tokio::sync::Semaphore>,
}

impl std::ops::Deref for Pool {
    type Target = r2d2::Pool<Manager>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl Pool {
    /// Whether the database has been reached and migrated.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The database is migrated: hand out connections from now on.
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// The kind of database behind the pool.
    pub fn backend(&self) -> Option<Backend> {
        Backend::of(&self.url)
    }

    /// The URL, password hidden.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }
}

pub type Conn = r2d2::PooledConnection<Manager>;

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
    #[error("the database is not connected yet ({0})")]
    NotReady(String),
    #[error(
        "no database connection available within {0:?}: the pool's connections are all in use"
    )]
    Busy(Duration),
    #[error("{0}")]
    Statement(String),
}

/// The file path of a `sqlite://` URL.
pub fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .filter(|p| !p.is_empty())
}

/// Check a database URL without connecting.
pub fn check_url(url: &str) -> Result<(), String> {
    let tls = match Backend::of(url) {
        Some(Backend::Postgres) => db_tls::postgres(url).map(drop),
        Some(Backend::Mysql) => db_tls::mysql(url).map(drop),
        _ => Ok(()),
    };
    tls.map_err(|e| format!("[database] url `{}`: {e}", redact(url)))?;
    match Backend::of(url) {
        Some(_) => Ok(()),
        None => Err(format!(
            "[database] url `{}` is not a database URL this daemon knows (sqlite://PATH, postgres://USER@HOST/DB, mysql://USER@HOST/DB)",
            redact(url)
        )),
    }
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

/// `host:port` of a server URL, with the backend's default port when it names none.
pub fn server(url: &str) -> Option<String> {
    let port = match Backend::of(url)? {
        Backend::Sqlite => return None,
        Backend::Postgres => 5432,
        Backend::Mysql => 3306,
    };
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    let has_port = match hostport.rfind(':') {
        Some(colon) => {
            !hostport[colon..].contains(']')
                && hostport[colon + 1..].bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    };
    let host = if hostport.is_empty() {
        "localhost"
    } else {
        hostport
    };
    Some(if has_port {
        hostport.to_string()
    } else {
        format!("{host}:{port}")
    })
}

/// Open (creating a SQLite file if needed) and migrate the database named by `url`.
/// Fails when the database cannot be reached.
pub fn open(url: &str) -> Result<Pool, DbError> {
    let pool = pool(url)?;
    prepare(url)?;
    pool.set_ready();
    Ok(pool)
}

/// Connect to `url` once and bring its schema up to date: what a [`Pool`] needs
/// before it is ready.
pub fn prepare(url: &str) -> Result<(), DbError> {
    // One connection shows a bad URL, password or server at once, with the driver's
    // message, rather than as a pool timeout.
    let mut first = AnyConn::establish(url)?;
    first.migrate()
}

/// How long a caller waits for a pooled connection (unless it asks for less).
pub(super) const POOL_WAIT: Duration = Duration::from_secs(5);

/// A pool for `url` that does not connect yet (not ready; see [`Pool::set_ready`]).
/// Fails only for a URL this daemon cannot use, or a SQLite folder it cannot make.
pub fn pool(url: &str) -> Result<Pool, DbError> {
    check_url(url).map_err(DbError::Connect)?;
    let mut size = 8;
    let in_memory = sqlite_path(url) == Some(":memory:");
    if let Some(path) = sqlite_path(url) {
        // Every connection to ":memory:" is a new empty database: keep one.
        if path == ":memory:" {
            size = 1;
        } else if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DbError::Connect(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
    }
    // Unchecked: no connection is made here, and none is kept ready in the
    // background, so an unreachable server costs nothing until it is asked for; its
    // errors are the caller's to report (the pool's own error log stays quiet).
    let inner = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(POOL_WAIT)
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build_unchecked(Manager {
            url: url.to_string(),
            in_memory,
        });
    Ok(Pool {
        inner,
        ready: Arc::new(AtomicBool::new(false)),
        url: url.to_string(),
        slots: Arc::new(tokio::sync::Semaphore::new(size as usize)),
    })
}

/// For tests (feature `test-support`): a new, empty database on the server that `$env_var` (a PostgreSQL or
/// MySQL URL) points at, named uniquely; its URL. `None` when the variable is not
/// set, so tests of that backend are skipped where no server runs.
#[cfg(any(test, feature = "test-support"))]
pub fn scratch_database(env_var: &str) -> Option<String> {
    let server = std::env::var(env_var).ok().filter(|u| !u.is_empty())?;
    let name = format!("ctibridge_test_{}", uuid::Uuid::now_v7().simple());
    // On a thread of its own: the drivers block on a runtime, which a test's async
    // context must not do.
    let (url, db) = (server.clone(), name.clone());
    let created = std::thread::spawn(move || {
        let mut conn = AnyConn::establish(&url)?;
        drop_stale_scratch_databases(&mut conn);
        // `db` is ours (letters, digits, underscores), never input: an identifier,
        // which no backend takes as a bound parameter.
        on_conn!(&mut conn, c => c.batch_execute(&format!("CREATE DATABASE {db}")))?;
        Ok::<_, DbError>(())
    })
    .join();
    match created {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{env_var}: cannot create a test database: {e}"),
        Err(_) => panic!("{env_var}: creating a test database panicked"),
    }
    let base = match server.rfind('/') {
        Some(slash) if slash > server.find("://").map_or(0, |s| s + 2) => &server[..slash],
        _ => server.as_str(),
    };
    Some(format!("{base}/{name}"))
}

/// Test databases of earlier runs, older than an hour (their names carry a UUIDv7,
/// hence their creation time), are dropped, so test servers do not fill up. Best
/// effort: a database another run still uses is younger than that.
#[cfg(any(test, feature = "test-support"))]
fn drop_stale_scratch_databases(conn: &mut AnyConn) {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let listing = match conn.backend() {
        Backend::Postgres => {
            "SELECT datname AS name FROM pg_database WHERE datname LIKE 'ctibridge_test_%'"
        }
        Backend::Mysql => {
            "SELECT CAST(schema_name AS CHAR) AS name FROM information_schema.schemata WHERE schema_name LIKE 'ctibridge_test_%'"
        }
        Backend::Sqlite => return,
    };
    let Ok(names) =
        on_conn!(&mut *conn, c => diesel::RunQueryDsl::load::<Name>(diesel::sql_query(listing), c))
    else {
        return;
    };
    let hour_ago = chrono::Utc::now().timestamp() - 3600;
    for Name { name } in names {
        let created = name
            .strip_prefix("ctibridge_test_")
            .and_then(|id| uuid::Uuid::parse_str(id).ok())
            .and_then(|id| id.get_timestamp())
            .map(|t| t.to_unix().0 as i64);
        // Only names of our own making (checked by the parse) are ever dropped.
        if created.is_some_and(|t| t < hour_ago) {
            let _ = on_conn!(&mut *conn, c => c.batch_execute(&format!("DROP DATABASE {name}")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(sqlite_path("sqlite://a/b.db"), Some("a/b.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), Some(":memory:"));
        assert!(check_url("sqlite://x.db").is_ok());
        assert_eq!(Backend::of("postgres://u:p@h/db"), Some(Backend::Postgres));
        assert_eq!(Backend::of("mysql://root@h/db"), Some(Backend::Mysql));
        assert!(check_url("redis://u:p@x").unwrap_err().contains("u:***@x"));
    }

    #[test]
    fn servers_are_named_with_their_port() {
        assert_eq!(
            server("postgres://u:p@db.example:6543/crm").as_deref(),
            Some("db.example:6543")
        );
        assert_eq!(
            server("postgres://u@db.example/crm").as_deref(),
            Some("db.example:5432")
        );
        assert_eq!(
            server("mysql://root@127.0.0.1/crm").as_deref(),
            Some("127.0.0.1:3306")
        );
        assert_eq!(
            server("mariadb://a:b@[::1]:3307/x").as_deref(),
            Some("[::1]:3307")
        );
        assert_eq!(server("mysql://[::1]/x").as_deref(), Some("[::1]:3306"));
        assert_eq!(server("sqlite://x.db"), None);
    }

    /// A refused connection names the server and hides the password.
    #[test]
    fn connect_errors_name_host_and_port() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("postgres://u:secret@127.0.0.1:{port}/crm");
        let err = open(&url).err().unwrap().to_string();
        assert!(
            err.contains(&format!("PostgreSQL at 127.0.0.1:{port}")),
            "{err}"
        );
        assert!(!err.contains("secret"), "{err}");
        let pool = pool(&url).unwrap();
        assert!(!pool.is_ready());
    }

    #[test]
    fn opens_and_migrates_in_memory() {
        let pool = open("sqlite://:memory:").unwrap();
        let mut conn = pool.get().unwrap();
        // Migrating again is a no-op.
        conn.migrate().unwrap();
    }
}

//! Starting and stopping the daemon: open the database, start the adapters, the
//! engine, the gate, the hub and the HTTP server, and on a signal stop them in the
//! order that loses nothing (adapters first, the gate's last writes last). SIGHUP
//! reloads the TLS certificate and key.
//!
//! A database that cannot be reached at start-up does not stop the start: the daemon
//! runs as during an outage (writes journaled, `database.down`, `/healthz` 503) while
//! [`Connector`] retries, and catches up when it gets through.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ctibridge_adapter::{link::EVENT_QUEUE, AdapterLink, Registry};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::api::tls_listener::TlsListener;
use crate::api::{self, AppState};
use crate::auth::TokenStore;
use crate::config::Loaded;
use crate::crm::connector::{self, Connector, Statements};
use crate::crm::log_sql::LogSql;
use crate::crm::lookup::CallerLookup;
use crate::crm::lookup_sql::LookupSql;
use crate::crm::statement::StatementError;
use crate::crm::{db, jobs, journal::Journal};
use crate::engine::{Engine, EngineConfig, SwitchLink};
use crate::gate::Gate;
use crate::hub::{Hub, HubConfig};
use crate::metrics::Metrics;
use crate::tls::Reloadable;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{0}")]
    Database(#[from] db::DbError),
    #[error("cannot open the journal {path}: {error}")]
    Journal { path: String, error: std::io::Error },
    #[error("cannot listen on {addr}: {error}")]
    Listen {
        addr: SocketAddr,
        error: std::io::Error,
    },
    #[error("switch `{0}`: {1}")]
    Adapter(String, String),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("[crm] lookup_sql: {0}")]
    LookupSql(StatementError),
    #[error("[crm] log_sql: {0}")]
    LogSql(StatementError),
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
}

/// How the daemon runs beyond its config.
pub struct RunOptions {
    pub serve_pages: bool,
    /// Called with the bound address once the server listens.
    pub on_listening: Box<dyn FnOnce(SocketAddr) + Send>,
    /// Cancelled to stop the daemon (besides SIGINT/SIGTERM).
    pub shutdown: CancellationToken,
}

pub async fn run(
    loaded: Loaded,
    registry: &Registry,
    options: RunOptions,
) -> Result<(), DaemonError> {
    let config = loaded.config;
    let url = config.database.url.clone();
    let pool = db::pool(&url)?;
    // The database may be down, refuse the password or not exist yet: the daemon
    // starts anyway and the connector reaches it later (see crm::connector). One
    // bounded try first, so a database that is there is ready before any call.
    let first = {
        let target = url.clone();
        let task = tokio::task::spawn_blocking(move || db::prepare(&target));
        match tokio::time::timeout(connector::ATTEMPT_TIMEOUT, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(db::DbError::Connect(e.to_string())),
            Err(_) => Err(db::DbError::Connect(format!(
                "{}: no answer within {} s",
                db::server(&url).unwrap_or_else(|| db::redact(&url)),
                connector::ATTEMPT_TIMEOUT.as_secs()
            ))),
        }
    };
    let country = config.crm.default_country.clone();
    let (lookup, log_sql, unreachable) = match first {
        Ok(()) => {
            pool.set_ready();
            // A CRM statement that cannot work stops the start, naming it.
            let lookup = match config.crm.lookup_sql.clone() {
                None => CallerLookup::own_contacts(&country),
                Some(sql) => {
                    let checked =
                        jobs::with_conn(&pool, move |conn| Ok(LookupSql::prepare(&sql, conn)))
                            .await?
                            .map_err(DaemonError::LookupSql)?;
                    CallerLookup::with_sql(&country, checked)
                }
            };
            let log_sql = match config.crm.log_sql.clone() {
                None => None,
                Some(sql) => Some(
                    jobs::with_conn(&pool, move |conn| Ok(LogSql::prepare(&sql, conn)))
                        .await?
                        .map_err(DaemonError::LogSql)?,
                ),
            };
            (lookup, log_sql, None)
        }
        Err(e) => {
            let lookup = match config.crm.lookup_sql {
                None => CallerLookup::own_contacts(&country),
                Some(_) => CallerLookup::sql_pending(&country),
            };
            (lookup, None, Some(e))
        }
    };
    let lookup = Arc::new(lookup);
    let journal_path = config.database.journal_path();
    let journal = Journal::open(&journal_path).map_err(|error| DaemonError::Journal {
        path: journal_path.display().to_string(),
        error,
    })?;
    if journal.pending() > 0 {
        tracing::info!(pending = journal.pending(), journal = %journal_path.display(), "replaying writes journaled by an earlier run");
    }
    let metrics = Arc::new(Metrics::default());
    let shutdown = options.shutdown;

    // Adapters.
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    let mut links = Vec::new();
    let mut adapter_tasks = Vec::new();
    for def in &loaded.switches {
        let settings = &def.settings;
        let adapter = registry
            .build(settings)
            .map_err(|e| DaemonError::Adapter(settings.name.clone(), e.message))?;
        let capabilities = adapter.capabilities();
        let (link, side) =
            AdapterLink::new(&settings.name, events_tx.clone(), shutdown.child_token());
        let name = settings.name.clone();
        adapter_tasks.push(tokio::spawn(async move {
            if let Err(e) = adapter.run(link).await {
                tracing::error!(switch = %name, error = %e, "adapter stopped");
            }
        }));
        links.push(SwitchLink {
            name: settings.name.clone(),
            adapter: settings.adapter.clone(),
            side,
            capabilities,
            up: false,
            devices: settings.devices.iter().cloned().collect(),
            request_timeout: def.request_timeout,
            cti_switch: def.cti_switch.clone(),
        });
        tracing::info!(switch = %settings.name, adapter = %settings.adapter, devices = settings.devices.len(), "switch configured");
    }
    drop(events_tx);

    // Engine → gate → hub.
    // Every queue on the path is bounded (docs/performance.md, "Back-pressure"): what
    // is behind makes what feeds it wait, back to the switch link; nothing is shed.
    let (out_tx, out_rx) = mpsc::channel(crate::engine::OUT_QUEUE);
    let (hub_tx, hub_rx) = mpsc::channel(crate::hub::HUB_QUEUE);
    let (requests_tx, requests_rx) = mpsc::channel(1024);
    let engine = Engine::new(
        EngineConfig {
            country: config.crm.default_country.clone(),
            lookup: lookup.clone(),
            pop_deadline: config.crm.pop_deadline,
            short_abandon_s: config.reports.short_abandon.as_secs_f64(),
            service_level_s: config.reports.service_level.as_secs_f64(),
            cache_size: config.crm.cache_size,
            cache_ttl: config.crm.cache_ttl,
        },
        links,
        pool.clone(),
        out_tx,
        metrics.clone(),
    );
    let instance = uuid::Uuid::now_v7().simple().to_string();
    let hub = Hub::new(
        HubConfig {
            replay_events: config.server.replay_events,
            replay_age: config.server.replay_age,
            sessions: 100_000,
            instance: instance[instance.len() - 12..].to_string(),
        },
        metrics.clone(),
    );
    let mut gate =
        Gate::new(pool.clone(), journal, hub_tx.clone(), metrics.clone()).with_log_sql(log_sql);
    if let Some(error) = unreachable {
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        gate = gate.wait_for_database(ready_rx);
        let connector = Connector::new(
            &url,
            pool.clone(),
            lookup.clone(),
            Statements {
                lookup_sql: config.crm.lookup_sql.clone(),
                log_sql: config.crm.log_sql.clone(),
            },
        );
        tokio::spawn(connector.run(error, ready_tx, shutdown.child_token()));
    }
    let engine_task = tokio::spawn(engine.run(events_rx, requests_rx));
    let gate_task = tokio::spawn(gate.run(out_rx));
    let hub_task = tokio::spawn(hub.run(hub_rx));

    // HTTP + WebSocket.
    let state = Arc::new(AppState {
        tokens: TokenStore::new(&config.auth.tokens),
        engine: requests_tx,
        hub: hub_tx,
        server: config.server.clone(),
        metrics: metrics.clone(),
        pool,
        country: config.crm.default_country.clone(),
        lookup,
        reports: crate::reports::Thresholds {
            service_level_s: config.reports.service_level.as_secs_f64(),
            short_abandon_s: config.reports.short_abandon.as_secs_f64(),
        },
        next_client: Default::default(),
        serve_pages: options.serve_pages,
        shutdown: shutdown.clone(),
    });
    // TLS files are read before the port opens: a bad file stops the start.
    let tls = match (&config.server.tls_cert, &config.server.tls_key) {
        (Some(cert), Some(key)) => Some(Arc::new(Reloadable::load(cert, key)?)),
        _ => None,
    };
    let addr = config.server.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|error| DaemonError::Listen { addr, error })?;
    let bound = listener
        .local_addr()
        .map_err(|error| DaemonError::Listen { addr, error })?;
    tracing::info!(listen = %bound, tls = tls.is_some(), tokens = config.auth.tokens.len(), "ctibridge listening");
    (options.on_listening)(bound);
    let stop = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        stop.cancel();
    });
    tokio::spawn(reload_on_hangup(tls.clone()));
    let serve_stop = shutdown.clone();
    let stopped = async move { serve_stop.cancelled().await };
    let router = api::router(state);
    let served = match tls {
        None => {
            axum::serve(api::http::plain_listener(listener), router)
                .with_graceful_shutdown(stopped)
                .await
        }
        Some(tls) => {
            let listener = TlsListener::new(listener, tls)
                .map_err(|error| DaemonError::Listen { addr, error })?;
            axum::serve(listener, router)
                .with_graceful_shutdown(stopped)
                .await
        }
    };
    shutdown.cancel();
    tracing::info!(
        "stopping: adapters first, then the engine; the last writes are committed before exit"
    );
    for task in adapter_tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
    // The engine stops when its inputs close: the adapters are gone and the last
    // connection has let go of the request channel.
    let _ = tokio::time::timeout(Duration::from_secs(10), engine_task).await;
    // The gate finishes what the engine sent; its writes are what must not be lost.
    let _ = gate_task.await;
    hub_task.abort();
    served.map_err(DaemonError::Serve)
}

/// SIGHUP reads the TLS certificate and key again (a renewed certificate needs no
/// restart); connections already open keep theirs. A file that does not load is
/// logged and the current certificate stays. Without TLS there is nothing to reload,
/// but the signal is still caught: by default it would end the daemon, and a service
/// manager's `reload` must not do that.
async fn reload_on_hangup(tls: Option<Arc<Reloadable>>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hangup.recv().await.is_some() {
            match &tls {
                None => tracing::info!("SIGHUP: no TLS configured, nothing to reload"),
                Some(tls) => match tls.reload() {
                    Ok(()) => tracing::info!(cert = %tls.cert_path().display(),
                        "SIGHUP: TLS certificate and key reloaded; new connections use them"),
                    Err(e) => tracing::error!(error = %e,
                        "SIGHUP: TLS reload failed; keeping the current certificate"),
                },
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tls;
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

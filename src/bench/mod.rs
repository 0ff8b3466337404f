//! `ctibridge bench`: the real pipeline in one process on loopback, measured from
//! outside. A load source (`switch`: CSTA XML over TCP to the real `csta` adapter;
//! `ami_switch`: AMI over TCP to the real `ami` adapter, from a child process; or the
//! built-in simulator) feeds the daemon exactly as `run` starts it (engine, gate,
//! SQLite with generated contacts from `contacts`, hub, HTTP/WebSocket server); the
//! WebSocket clients run in a child process (`clients`), idle clients in as many more
//! as they need (`idle`), within the open-file limits (`limits`); `report` turns what
//! both sides saw into the JSON object of DESIGN.md. This file owns the options and
//! the order of the run.

pub mod ami_switch;
pub mod clients;
pub mod contacts;
pub mod idle;
pub mod report;
pub mod switch;
pub mod tokens;

mod ami_calls;
mod child;
mod config;
mod limits;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::daemon::{self, RunOptions};
use report::Figures;

/// Look-ups timed for `lookup_ms`.
const LOOKUP_SAMPLES: usize = 2_000;

/// Where the switch events come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// A CSTA XML load generator the `csta` adapter connects to over TCP.
    Csta,
    /// The built-in simulator (`sim` adapter); it carries no time stamps, so no latency.
    Sim,
    /// An Asterisk manager port (AMI) load generator, in a child process, the `ami`
    /// adapter connects to over TCP.
    Ami,
}

/// `ctibridge bench`'s options.
#[derive(Debug, Clone)]
pub struct Options {
    pub source: Source,
    pub clients: usize,
    pub supervisors: usize,
    /// Switch events per second; `None`: as fast as the pipeline takes them.
    pub rate: Option<u64>,
    pub secs: u64,
    pub idle: usize,
    /// Idle clients one client process holds at most (`idle::PER_PROCESS` unless a
    /// test asks for fewer, to spread a few hundred over several processes).
    pub idle_per_process: usize,
    pub contacts: u64,
    /// A PostgreSQL or MySQL/MariaDB database to time the CRM look-up on as well.
    pub lookup_database: Option<String>,
}

/// Run the bench; returns the JSON object to print.
pub async fn run(mut options: Options) -> Result<Value, String> {
    fit_the_file_limits(&mut options);
    let contacts = options.contacts.max(1);
    let run_dir = std::env::temp_dir()
        .join("ctibridge-bench")
        .join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&run_dir)
        .map_err(|e| format!("cannot create {}: {e}", run_dir.display()))?;
    let outcome = measure(&options, contacts, &run_dir).await;
    let _ = std::fs::remove_dir_all(&run_dir);
    outcome
}

/// Raise the open-file limit for the clients (the daemon's end of each is a socket in
/// this process); when the limits cannot hold the idle clients asked for, say so and
/// open as many as they can hold, rather than fail halfway. Client processes inherit
/// the limit, so it bounds the idle clients per process too.
fn fit_the_file_limits(options: &mut Options) {
    let open = limits::open_now();
    let active = (options.clients + options.supervisors) as u64;
    let need = open + active + options.idle as u64 + limits::RESERVE;
    let limit = limits::raise(need);
    let fit = limits::room(limit, open, active);
    if options.idle as u64 > fit {
        eprintln!("{}", limits::capped_message(options.idle, fit, limit, need));
        options.idle = usize::try_from(fit).unwrap_or(usize::MAX);
    }
    // A client process starts with a few files of its own (stdio, the runtime's).
    let per_process = limits::room(limit, 32, 0).max(1);
    options.idle_per_process = options
        .idle_per_process
        .clamp(1, usize::try_from(per_process).unwrap_or(usize::MAX));
}

async fn measure(
    options: &Options,
    contacts: u64,
    run_dir: &std::path::Path,
) -> Result<Value, String> {
    eprintln!("bench: preparing {contacts} contacts");
    let cached = tokio::task::spawn_blocking(move || contacts::cached(contacts))
        .await
        .map_err(|e| e.to_string())??;
    let url = contacts::copy_for_run(&cached, run_dir)?;
    let lookups = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || contacts::time_lookups(&url, contacts, LOOKUP_SAMPLES))
            .await
            .map_err(|e| e.to_string())??
    };
    let (mut lookup_times, missing) = lookups;
    if missing > 0 {
        return Err(format!(
            "{missing} generated contacts were not found by the CRM look-up"
        ));
    }
    let lookup = report::percentiles(&mut lookup_times);
    let lookup_db = match &options.lookup_database {
        Some(server) => Some(time_server_lookups(server, contacts).await?),
        None => None,
    };

    // The source, then the daemon pointed at it.
    let control = Arc::new(switch::Control::default());
    let mut ami = None;
    let (source_addr, generator) = match options.source {
        Source::Csta => {
            let listener = switch::bind().await.map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let load = switch::Load {
                extensions: (0..options.clients.max(1)).map(tokens::extension).collect(),
                contacts,
                rate: options.rate,
            };
            let task = tokio::spawn(switch::serve(listener, load, control.clone()));
            (Some(addr), Some(task))
        }
        Source::Ami => {
            let load = ami_switch::Load {
                extensions: options.clients.max(1),
                contacts,
                rate: options.rate,
            };
            let child = ami_switch::Generator::spawn(&load, control.clone()).await?;
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], child.port));
            ami = Some(child);
            (Some(addr), None)
        }
        Source::Sim => (None, None),
    };
    let text = config::text(options, &url, source_addr, contacts);
    let registry = crate::adapters::registry();
    let loaded = crate::config::load_str(&text, &registry).map_err(|e| e.to_string())?;
    let shutdown = CancellationToken::new();
    let (listening_tx, listening) = tokio::sync::oneshot::channel();
    let daemon_task = {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let options = RunOptions {
                serve_pages: false,
                on_listening: Box::new(move |addr| {
                    let _ = listening_tx.send(addr);
                }),
                shutdown,
            };
            daemon::run(loaded, &registry, options).await
        })
    };
    let addr = match listening.await {
        Ok(addr) => addr,
        Err(_) => {
            let error = daemon_task.await.map_err(|e| e.to_string())?;
            return Err(format!("the daemon did not start: {error:?}"));
        }
    };
    // The AMI generator is another process: pass `go` and `stop` on to it.
    let relay = ami.map(|mut child| {
        let control = control.clone();
        tokio::spawn(async move {
            control.go.notified().await;
            child.command("go").await?;
            control.stop.cancelled().await;
            child.command("stop").await?;
            Ok::<_, String>(child)
        })
    });
    let result = drive(options, addr, &control, lookup, contacts)
        .await
        .map(|mut json| {
            json["lookup_db_ms"] = report::lookup_db_json(lookup_db.as_ref());
            json
        });
    shutdown.cancel();
    control.stop.cancel();
    if let Some(relay) = relay {
        if let Ok(Ok(child)) = relay.await {
            child.end().await;
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(20), daemon_task).await;
    if let Some(task) = generator {
        task.abort();
    }
    result
}

/// The CRM look-up timed on `url` (PostgreSQL or MySQL/MariaDB), filled with the
/// generated contacts first when it has none: the backend's name, p50 and p99 in ns.
async fn time_server_lookups(url: &str, contacts: u64) -> Result<(String, u64, u64), String> {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        contacts::fill_server(&url, contacts)?;
        let (mut times, missing) = contacts::time_lookups(&url, contacts, LOOKUP_SAMPLES)?;
        if missing > 0 {
            return Err(format!(
                "{missing} generated contacts were not found in {}",
                crate::crm::db::redact(&url)
            ));
        }
        let (p50, p99, _) = report::percentiles(&mut times);
        let backend = if url.starts_with("postgres") {
            "postgresql"
        } else {
            "mysql"
        };
        Ok((backend.to_string(), p50, p99))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// With the daemon listening: clients, idle memory, the measured window, the drain.
async fn drive(
    options: &Options,
    addr: std::net::SocketAddr,
    control: &Arc<switch::Control>,
    lookup: (u64, u64, u64),
    contacts: u64,
) -> Result<Value, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !report::links_up(addr).await {
        if Instant::now() > deadline {
            return Err("the switch link did not come up within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!("ws://{addr}/v1/ws");
    let mut clients = child::Clients::spawn(
        &url,
        options.clients,
        options.supervisors,
        options.source != Source::Sim,
    )
    .await?;

    // Idle memory: the daemon's resident memory before and after the idle clients.
    let (mut idle_clients, mut idle_bytes, mut fleet) = (0, 0, None);
    if options.idle > 0 {
        let before = report::rss_bytes();
        let opened = idle::Fleet::open(&url, options.idle, options.idle_per_process).await?;
        idle_clients = opened.1;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = report::rss_bytes();
        idle_bytes = after.saturating_sub(before) / idle_clients.max(1) as u64;
        eprintln!(
            "bench: {idle_clients} idle clients over {} client processes: {} KB -> {} KB resident",
            opened.0.len(),
            before / 1024,
            after / 1024
        );
        fleet = Some(opened.0);
    }

    let first = report::daemon_metrics(addr).await?;
    // The bench process is the daemon (and this loop); the clients and the AMI
    // generator are child processes, the CSTA generator a task in it.
    let cpu_start = report::cpu_us();
    let started = Instant::now();
    control.go.notify_one();
    clients.command("go").await?;
    let mut last = (Instant::now(), 0u64, clients.frames());
    let secs = options.secs.max(1);
    let warm_up = report::warm_up_s(secs);
    let mut rss = (0, 0);
    for second in 1..=secs {
        tokio::time::sleep_until((started + Duration::from_secs(second)).into()).await;
        let events = events_so_far(options.source, control, addr, first).await;
        let frames = clients.frames();
        let resident = report::rss_bytes();
        if second == warm_up {
            rss.0 = resident;
        }
        rss.1 = resident;
        let dt = last.0.elapsed().as_secs_f64().max(1e-9);
        eprintln!(
            "bench: {second} s: {:.0} events/s in, {:.0} frames/s out, {} MB resident",
            (events.saturating_sub(last.1)) as f64 / dt,
            (frames.saturating_sub(last.2)) as f64 / dt,
            resident / (1024 * 1024),
        );
        last = (Instant::now(), events, frames);
    }
    clients.command("stop").await?;
    let events = events_so_far(options.source, control, addr, first).await;
    let window_s = started.elapsed().as_secs_f64();
    let cpu = report::cpu_us().saturating_sub(cpu_start);
    let switch_events = report::daemon_metrics(addr)
        .await
        .map_or(0, |m| m.switch_events.saturating_sub(first.switch_events));
    control.stop.cancel();

    let seq = drain(options.source, control, addr).await?;
    // AMI events per daemon CPU-second: every event written (the tail included) over
    // the daemon's CPU from `go` until it has handled them all, so events still in the
    // socket buffers when the window closes are not counted without their cost.
    let ami = (options.source == Source::Ami).then(|| {
        (
            control.sent.load(Ordering::Relaxed),
            report::cpu_us().saturating_sub(cpu_start),
        )
    });
    let seen = clients.finish(seq).await?;
    if let Some(fleet) = fleet {
        fleet.close().await?;
    }
    let latency = (options.source == Source::Csta).then_some(seen.latency_ns);
    let figures = Figures {
        events,
        window_s,
        frames: seen.frames_window,
        frames_window_s: seen.window_s,
        cpu_us: cpu,
        clients: options.clients + options.supervisors,
        latency_ns: latency,
        lookup_ns: (lookup.0, lookup.1),
        contacts,
        idle_clients,
        idle_bytes_per_client: idle_bytes,
        dropped: seen.dropped,
        ami,
        rss_bytes: rss,
    };
    if events > 0 {
        eprintln!(
            "bench: {events} source events in the window made {switch_events} adapter events ({:.1} per adapter event)",
            events as f64 / switch_events.max(1) as f64
        );
    }
    if seen.cut > 0 {
        eprintln!(
            "bench: the daemon closed {} clients before the end",
            seen.cut
        );
    }
    Ok(report::json(&figures))
}

/// Switch events in so far: written by the generator, or counted by the daemon.
async fn events_so_far(
    source: Source,
    control: &switch::Control,
    addr: std::net::SocketAddr,
    first: report::Metrics,
) -> u64 {
    match source {
        Source::Csta | Source::Ami => control.sent.load(Ordering::Relaxed),
        Source::Sim => report::daemon_metrics(addr)
            .await
            .map_or(0, |m| m.switch_events.saturating_sub(first.switch_events)),
    }
}

/// Wait until the daemon has handled everything the source sent: the last calls have
/// ended and the sequence number has stopped moving. Returns that sequence number.
async fn drain(
    source: Source,
    control: &switch::Control,
    addr: std::net::SocketAddr,
) -> Result<u64, String> {
    if source == Source::Sim {
        // The simulator never stops making calls: its supervisors are checked up to
        // the sequence number of now.
        return Ok(report::daemon_metrics(addr).await?.seq);
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), control.finished.notified()).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut previous = report::daemon_metrics(addr).await?;
    let mut stable_since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = report::daemon_metrics(addr).await?;
        if now.seq != previous.seq || now.calls_active > 0 {
            stable_since = Instant::now();
        }
        previous = now;
        if stable_since.elapsed() >= Duration::from_millis(500) {
            return Ok(now.seq);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the daemon did not settle within 60 s of the end ({} calls still up)",
                now.calls_active
            ));
        }
    }
}

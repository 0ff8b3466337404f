//! The bench's WebSocket clients, run in a child process (the hidden `bench-clients`
//! command) so their sockets, memory and CPU are not the daemon's.
//!
//! The child talks to the bench over its stdin and stdout, one line each way:
//! it prints `ready` once every active client has its welcome, then obeys
//! `idle N FIRST` (open N idle clients numbered from FIRST, each from its own loopback
//! source address, see `idle`; answers `idle-ready N` with the number that got in),
//! `go` and `stop` (the measured window), and `end SEQ` (the last published sequence
//! number: finish and print `result {json}`). Every second it prints `frames N`
//! (frames so far).
//!
//! What a client checks: a supervisor sees every event, so a gap in `seq` is an event
//! it missed; an agent sees only its calls, so it checks that each call it was offered
//! ends and each call that ends was offered. Latency is the time from the switch
//! writing a call's DeliveredEvent (its `digits`, see `switch`) to the receipt of the
//! call's screen pop with the CRM match (`call.offered`, or the `call.updated` that
//! follows a pop sent before the match).

use std::borrow::Cow;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use super::idle::source_address;
use super::report::percentiles;
use super::tokens;

/// How long clients wait for the last frames after `end`.
const DRAIN: Duration = Duration::from_secs(10);
/// Idle connections opened at once.
const IDLE_CONCURRENCY: usize = 64;
/// An idle client's read buffer: it reads only pings and the odd link event, and
/// tungstenite's default (128 KiB) would make the client processes the bench's largest
/// users of memory at 50,000 clients.
const IDLE_READ_BUFFER: usize = 4 * 1024;

/// Which clients the child opens.
pub struct ClientArgs {
    pub url: String,
    pub agents: usize,
    pub supervisors: usize,
    /// Every call an agent is offered ends within the run (the CSTA generator's calls):
    /// check it. The simulator's calls go on, so its agents are not checked.
    pub calls_complete: bool,
}

#[derive(Default)]
struct Totals {
    frames: AtomicU64,
}

/// What one client saw.
#[derive(Default)]
struct Seen {
    latencies: Vec<u64>,
    dropped: u64,
    /// The daemon closed the connection before the end.
    cut: bool,
}

type Socket = tokio_tungstenite::WebSocketStream<TcpStream>;

/// The child process's main loop.
pub async fn run(args: ClientArgs) -> Result<(), String> {
    super::limits::raise(0);
    let totals = Arc::new(Totals::default());
    let (end_tx, end_rx) = watch::channel(None::<u64>);
    let mut tasks = Vec::new();
    for i in 0..args.supervisors {
        let socket = connect(&args.url, &tokens::supervisor(i), None, None).await?;
        tasks.push(tokio::spawn(client(
            socket.0,
            socket.1,
            Checks::Seq,
            totals.clone(),
            end_rx.clone(),
        )));
    }
    for i in 0..args.agents {
        let socket = connect(&args.url, &tokens::agent(i), None, None).await?;
        tasks.push(tokio::spawn(client(
            socket.0,
            socket.1,
            Checks::Calls(args.calls_complete),
            totals.clone(),
            end_rx.clone(),
        )));
    }
    let mut out = tokio::io::stdout();
    say(&mut out, "ready").await?;
    let progress = {
        let totals = totals.clone();
        tokio::spawn(async move {
            let mut out = tokio::io::stdout();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let frames = totals.frames.load(Ordering::Relaxed);
                if say(&mut out, &format!("frames {frames}")).await.is_err() {
                    return;
                }
            }
        })
    };
    let mut idle = Vec::new();
    let mut window = (0u64, Instant::now(), 0u64, Instant::now());
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("idle"), Some(n)) => {
                let n: usize = n.parse().map_err(|_| format!("bad idle count `{n}`"))?;
                let first = words.next().unwrap_or("0");
                let first: usize = first
                    .parse()
                    .map_err(|_| format!("bad first idle client `{first}`"))?;
                let opened = open_idle(&args.url, n, first, &mut idle).await;
                say(&mut out, &format!("idle-ready {opened}")).await?;
            }
            (Some("go"), _) => {
                window.0 = totals.frames.load(Ordering::Relaxed);
                window.1 = Instant::now();
            }
            (Some("stop"), _) => {
                window.2 = totals.frames.load(Ordering::Relaxed);
                window.3 = Instant::now();
            }
            (Some("end"), Some(seq)) => {
                let seq: u64 = seq.parse().map_err(|_| format!("bad sequence `{seq}`"))?;
                let _ = end_tx.send(Some(seq));
                break;
            }
            _ => return Err(format!("unknown command `{line}`")),
        }
    }
    let mut latencies = Vec::new();
    let (mut dropped, mut cut) = (0, 0);
    for task in tasks {
        let seen = task.await.map_err(|e| e.to_string())?;
        latencies.extend(seen.latencies);
        dropped += seen.dropped;
        cut += u64::from(seen.cut);
    }
    progress.abort();
    let ns = percentiles(&mut latencies);
    let result = json!({
        "frames_window": window.2.saturating_sub(window.0),
        "window_s": window.3.saturating_duration_since(window.1).as_secs_f64(),
        "frames_total": totals.frames.load(Ordering::Relaxed),
        "dropped": dropped,
        "cut": cut,
        "latency_ns": {"p50": ns.0, "p99": ns.1, "max": ns.2, "count": latencies.len()},
        "idle_clients": idle.len(),
    });
    say(&mut out, &format!("result {result}")).await?;
    drop(idle);
    Ok(())
}

async fn say(out: &mut tokio::io::Stdout, line: &str) -> Result<(), String> {
    out.write_all(format!("{line}\n").as_bytes())
        .await
        .map_err(|e| format!("cannot write to the bench: {e}"))?;
    out.flush().await.map_err(|e| e.to_string())
}

/// Connect (from `source`, when given, to an IPv4 loopback daemon), upgrade and
/// authenticate; returns the socket and the welcome's sequence number.
async fn connect(
    url: &str,
    token: &str,
    source: Option<Ipv4Addr>,
    config: Option<WebSocketConfig>,
) -> Result<(Socket, u64), String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("cti.v1"));
    // The bench's URL names the daemon by address (`ws://127.0.0.1:PORT/...`).
    let addr: SocketAddr = request
        .uri()
        .authority()
        .and_then(|a| a.as_str().parse().ok())
        .ok_or_else(|| format!("{url} does not name the daemon by IP address and port"))?;
    let stream = open_tcp(addr, source)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    let (mut socket, _) = tokio_tungstenite::client_async_with_config(request, stream, config)
        .await
        .map_err(|e| format!("cannot upgrade {url}: {e}"))?;
    let hello = json!({"type": "hello", "token": token}).to_string();
    socket
        .send(Message::Text(hello.into()))
        .await
        .map_err(|e| e.to_string())?;
    while let Some(message) = socket.next().await {
        let Message::Text(text) = message.map_err(|e| e.to_string())? else {
            continue;
        };
        let frame: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        match frame["type"].as_str() {
            Some("welcome") => return Ok((socket, frame["seq"].as_u64().unwrap_or(0))),
            Some("error") => return Err(format!("refused: {text}")),
            _ => {}
        }
    }
    Err("the daemon closed the connection before its welcome".into())
}

/// A TCP connection to `addr`, from `source` when given and `addr` is IPv4 loopback.
async fn open_tcp(addr: SocketAddr, source: Option<Ipv4Addr>) -> Result<TcpStream, String> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|e| format!("cannot make a socket: {e}"))?;
    if let Some(source) = source.filter(|_| addr.ip().is_loopback() && addr.is_ipv4()) {
        // Port 0: the kernel picks a free port of this address.
        socket
            .bind(SocketAddr::new(IpAddr::V4(source), 0))
            .map_err(|e| format!("cannot bind to {source}: {e}"))?;
    }
    socket.connect(addr).await.map_err(|e| e.to_string())
}

/// Open `n` idle clients numbered from `first` (authenticated, reading, never asking
/// anything), each from its own source address.
async fn open_idle(
    url: &str,
    n: usize,
    first: usize,
    idle: &mut Vec<tokio::task::JoinHandle<()>>,
) -> usize {
    let config = WebSocketConfig::default().read_buffer_size(IDLE_READ_BUFFER);
    let mut opened = 0;
    let (mut failed, mut first_failure) = (0usize, None);
    let mut start = 0;
    while start < n {
        let batch = (n - start).min(IDLE_CONCURRENCY);
        let connecting: Vec<_> = (start..start + batch)
            .map(|i| {
                let url = url.to_string();
                let source = source_address(first + i);
                tokio::spawn(async move {
                    connect(&url, tokens::IDLE, Some(source), Some(config)).await
                })
            })
            .collect();
        for task in connecting {
            match task.await.map_err(|e| e.to_string()).and_then(|r| r) {
                Ok((mut socket, _)) => {
                    opened += 1;
                    // Reading answers the daemon's pings and takes the link events.
                    idle.push(tokio::spawn(async move {
                        while let Some(Ok(_)) = socket.next().await {}
                    }));
                }
                Err(e) => {
                    failed += 1;
                    first_failure.get_or_insert(e);
                }
            }
        }
        start += batch;
    }
    if let Some(e) = first_failure {
        // The bench reports the count it got; this says why the rest did not get in.
        eprintln!("bench: {failed} idle clients could not connect (the first: {e})");
    }
    opened
}

#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    seq: Option<u64>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<CallData<'a>>,
}

#[derive(Deserialize)]
struct CallData<'a> {
    #[serde(borrow, default)]
    call: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    digits: Option<Cow<'a, str>>,
    #[serde(default)]
    crm: Option<Crm>,
}

#[derive(Deserialize)]
struct Crm {
    #[serde(default)]
    pending: bool,
}

/// What a client can check about its stream.
#[derive(Clone, Copy)]
enum Checks {
    /// It sees every event: no gap in `seq`.
    Seq,
    /// It sees its own calls; with `true`, each one offered also ends and vice versa.
    Calls(bool),
}

/// One active client: read until the end, checking and timing what arrives.
async fn client(
    mut socket: Socket,
    welcome_seq: u64,
    checks: Checks,
    totals: Arc<Totals>,
    mut end: watch::Receiver<Option<u64>>,
) -> Seen {
    let sees_all = matches!(checks, Checks::Seq);
    let check_calls = matches!(checks, Checks::Calls(true));
    let mut seen = Seen::default();
    let mut last_seq = welcome_seq;
    let mut open: HashSet<String> = HashSet::new();
    let mut pop_pending: HashSet<String> = HashSet::new();
    let mut target: Option<(u64, tokio::time::Instant)> = None;
    loop {
        if let Some((seq, deadline)) = target {
            let done = if sees_all {
                last_seq >= seq
            } else {
                open.is_empty() || !check_calls
            };
            if done || tokio::time::Instant::now() >= deadline {
                break;
            }
        }
        let message = tokio::select! {
            message = socket.next() => message,
            _ = end.changed(), if target.is_none() => {
                let seq = end.borrow().unwrap_or(0);
                target = Some((seq, tokio::time::Instant::now() + DRAIN));
                continue;
            }
            _ = tokio::time::sleep(Duration::from_millis(50)), if target.is_some() => continue,
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => {
                seen.cut = true;
                break;
            }
        };
        totals.frames.fetch_add(1, Ordering::Relaxed);
        let Ok(frame) = serde_json::from_str::<Incoming>(&text) else {
            // Not a call frame (another event's data); its seq still counts.
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
                if let Some(seq) = value["seq"].as_u64() {
                    check_seq(&mut seen, &mut last_seq, seq, sees_all);
                }
            }
            continue;
        };
        if frame.kind != "evt" {
            continue;
        }
        if let Some(seq) = frame.seq {
            check_seq(&mut seen, &mut last_seq, seq, sees_all);
        }
        let (Some(name), Some(data)) = (frame.name, frame.data) else {
            continue;
        };
        let Some(call) = data.call else {
            continue;
        };
        let matched = data.crm.as_ref().is_some_and(|crm| !crm.pending);
        match name.as_ref() {
            "call.offered" => {
                if check_calls {
                    open.insert(call.to_string());
                }
                if matched {
                    record(&mut seen, data.digits.as_deref());
                } else {
                    pop_pending.insert(call.to_string());
                }
            }
            "call.updated" if matched && pop_pending.remove(call.as_ref()) => {
                record(&mut seen, data.digits.as_deref());
            }
            "call.ended" => {
                pop_pending.remove(call.as_ref());
                if check_calls && !open.remove(call.as_ref()) {
                    seen.dropped += 1;
                }
            }
            _ => {}
        }
    }
    if let Some((seq, _)) = target {
        if sees_all && last_seq < seq {
            seen.dropped += seq - last_seq;
        }
    }
    seen.dropped += open.len() as u64;
    let _ = socket.close(None).await;
    seen
}

fn check_seq(seen: &mut Seen, last: &mut u64, seq: u64, sees_all: bool) {
    if sees_all && seq > *last + 1 {
        seen.dropped += seq - *last - 1;
    }
    *last = (*last).max(seq);
}

/// Latency of a pop from the switch's time stamp in the call's digits.
fn record(seen: &mut Seen, digits: Option<&str>) {
    let Some(sent) = digits.and_then(|d| d.parse::<u128>().ok()) else {
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    seen.latencies
        .push(u64::try_from(now.saturating_sub(sent)).unwrap_or(u64::MAX));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_clients_connect_from_their_own_loopback_address() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for k in [0, 1, 300] {
            let source = source_address(k);
            let (client, accepted) = tokio::join!(open_tcp(addr, Some(source)), listener.accept());
            let (_server_end, peer) = accepted.unwrap();
            assert_eq!(peer.ip(), IpAddr::V4(source));
            assert_eq!(
                client.unwrap().local_addr().unwrap().ip(),
                IpAddr::V4(source)
            );
        }
        // Without a source, the kernel's choice: 127.0.0.1 for 127.0.0.1.
        let (client, accepted) = tokio::join!(open_tcp(addr, None), listener.accept());
        assert_eq!(accepted.unwrap().1.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        drop(client);
    }
}

//! The bench's side of the client process: start it (the same binary, hidden
//! `bench-clients` command), send it commands and read its lines (see `clients`).

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// How long the child may take to connect its active clients.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(120);

/// What the child reports at the end.
#[derive(Debug, Deserialize)]
pub struct Seen {
    pub frames_window: u64,
    pub window_s: f64,
    pub dropped: u64,
    pub cut: u64,
    #[serde(deserialize_with = "latency")]
    pub latency_ns: (u64, u64, u64),
}

fn latency<'de, D: serde::Deserializer<'de>>(d: D) -> Result<(u64, u64, u64), D::Error> {
    #[derive(Deserialize)]
    struct L {
        p50: u64,
        p99: u64,
        max: u64,
    }
    let l = L::deserialize(d)?;
    Ok((l.p50, l.p99, l.max))
}

pub struct Clients {
    child: Child,
    stdin: ChildStdin,
    /// Lines other than `frames N`.
    lines: mpsc::UnboundedReceiver<String>,
    frames: Arc<AtomicU64>,
}

impl Clients {
    /// Start the child and wait until its active clients are connected.
    pub async fn spawn(
        url: &str,
        agents: usize,
        supervisors: usize,
        calls_complete: bool,
    ) -> Result<Clients, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
        let mut command = Command::new(exe);
        command
            .arg("bench-clients")
            .args(["--url", url])
            .args(["--agents", &agents.to_string()])
            .args(["--supervisors", &supervisors.to_string()]);
        if calls_complete {
            command.arg("--calls-complete");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the client process: {e}"))?;
        let stdin = child
            .stdin
            .take()
            .ok_or("no stdin for the client process")?;
        let stdout = child
            .stdout
            .take()
            .ok_or("no stdout for the client process")?;
        let frames = Arc::new(AtomicU64::new(0));
        let (tx, lines) = mpsc::unbounded_channel();
        {
            let frames = frames.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    match line.strip_prefix("frames ").map(str::parse::<u64>) {
                        Some(Ok(n)) => frames.store(n, Ordering::Relaxed),
                        _ => {
                            if tx.send(line).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
        let mut clients = Clients {
            child,
            stdin,
            lines,
            frames,
        };
        clients.expect("ready", CONNECT_TIMEOUT).await?;
        Ok(clients)
    }

    /// Frames the clients have received so far (updated once a second).
    pub fn frames(&self) -> u64 {
        self.frames.load(Ordering::Relaxed)
    }

    pub async fn command(&mut self, line: &str) -> Result<(), String> {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .map_err(|e| format!("the client process is gone: {e}"))?;
        self.stdin.flush().await.map_err(|e| e.to_string())
    }

    /// Open `n` idle clients, numbered from `first` (which picks their source
    /// addresses, see `idle`); returns how many got in.
    pub async fn open_idle(
        &mut self,
        n: usize,
        first: usize,
        timeout: Duration,
    ) -> Result<usize, String> {
        self.command(&format!("idle {n} {first}")).await?;
        let line = self.expect("idle-ready", timeout).await?;
        line.trim()
            .parse()
            .map_err(|_| format!("bad idle answer `{line}`"))
    }

    /// Tell the clients the last sequence number and collect what they saw.
    pub async fn finish(mut self, seq: u64) -> Result<Seen, String> {
        self.command(&format!("end {seq}")).await?;
        let line = self.expect("result", Duration::from_secs(60)).await?;
        // Closing its stdin ends the child's reader, so it can exit at once.
        let Clients {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
        serde_json::from_str(&line).map_err(|e| format!("bad result from the clients: {e}"))
    }

    /// Wait for a line starting with `word`; returns the rest of it.
    async fn expect(&mut self, word: &str, timeout: Duration) -> Result<String, String> {
        let wait = async {
            while let Some(line) = self.lines.recv().await {
                if let Some(rest) = line.strip_prefix(word) {
                    return Ok(rest.trim().to_string());
                }
            }
            Err(format!("the client process ended before `{word}`"))
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| format!("no `{word}` from the client process within {timeout:?}"))?
    }
}

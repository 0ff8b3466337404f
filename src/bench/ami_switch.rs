//! The bench's Asterisk: an AMI load generator on loopback that the real `ami`
//! adapter connects to as to an Asterisk 16 manager port. It runs in a child process
//! (the same binary, hidden `bench-ami-switch` command) so that the daemon's CPU time,
//! measured on the bench process, holds none of the generator's work.
//!
//! Manager side: the banner `Asterisk Call Manager/5.0.1`; `Login` (plain `Secret`)
//! answered `Authentication accepted` and followed by `FullyBooted`; `Events`,
//! `Ping`; `CoreShowChannels` and `QueueStatus` as empty lists (`EventList: start`,
//! then the `…Complete` event with `EventList: Complete`, `ListItems: 0`); any other
//! action gets `Response: Error`. Requests are read with a parser of its own (a
//! blank line ends an action), not the adapter's codec.
//!
//! Load: once told `go`, call `n` comes from contact `n mod contacts` into queue
//! `8000` and rings extension `n mod E` (see `ami_calls` for its events); its answer
//! is written [`OVERLAP`] calls later and its end [`OVERLAP`] calls after that, as the
//! CSTA generator does, so every call lives long enough for its CRM look-up and ends.
//! Paced to `--rate` events per second or written as fast as TCP takes them.
//!
//! The child talks to the bench one line each way: it prints `listening PORT`, obeys
//! `go` and `stop`, prints `sent N` (AMI events written so far) every 100 ms, and
//! `finished N` once every call it began has ended.

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::ami_calls::{Call, Part, Writer};
use super::{contacts, switch, tokens};

/// Calls between a call's arrival and its answer, and between its answer and its end.
pub const OVERLAP: u64 = switch::OVERLAP;
/// Calls written in one `write_all` (about 19 events each part).
const BATCH_CALLS: u64 = 16;
/// The manager user the bench's daemon logs in as.
pub const USERNAME: &str = "bench";
pub const SECRET: &str = "bench-secret";

/// What the generator produces.
pub struct Load {
    pub extensions: usize,
    pub contacts: u64,
    /// AMI events per second; `None`: as fast as the link takes them.
    pub rate: Option<u64>,
}

/// The child's main loop: listen, announce the port, serve one adapter connection.
pub async fn run(load: Load) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let mut stdout = tokio::io::stdout();
    say(&mut stdout, &format!("listening {port}")).await?;
    let (commands_tx, commands) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if commands_tx.send(line.trim().to_string()).is_err() {
                return;
            }
        }
    });
    let sent = Arc::new(AtomicU64::new(0));
    {
        // Progress for the bench, whatever the writer is doing.
        let sent = sent.clone();
        tokio::spawn(async move {
            let mut out = tokio::io::stdout();
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                let line = format!("sent {}\n", sent.load(Ordering::Relaxed));
                if out.write_all(line.as_bytes()).await.is_err() || out.flush().await.is_err() {
                    return;
                }
            }
        });
    }
    serve(listener, load, commands, sent)
        .await
        .map_err(|e| format!("the AMI link: {e}"))
}

async fn say(out: &mut tokio::io::Stdout, line: &str) -> Result<(), String> {
    out.write_all(format!("{line}\n").as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    out.flush().await.map_err(|e| e.to_string())
}

async fn serve(
    listener: TcpListener,
    load: Load,
    mut commands: mpsc::UnboundedReceiver<String>,
    sent: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let (stream, _) = listener.accept().await?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    write.write_all(b"Asterisk Call Manager/5.0.1\r\n").await?;
    let (answers_tx, mut answers) = mpsc::unbounded_channel::<Vec<u8>>();
    let reader = tokio::spawn(answer_actions(read, answers_tx));
    // Set-up: answers only, until the bench says go.
    loop {
        tokio::select! {
            answer = answers.recv() => match answer {
                Some(bytes) => write.write_all(&bytes).await?,
                None => return Ok(()),
            },
            command = commands.recv() => match command.as_deref() {
                Some("go") => break,
                Some(_) => {}
                None => return Ok(()),
            },
        }
    }
    let extensions: Vec<String> = (0..load.extensions.max(1)).map(tokens::extension).collect();
    let mut calls = Calls {
        extensions,
        contacts: load.contacts.max(1),
        next: 0,
    };
    let started = Instant::now();
    let mut out = Vec::with_capacity(1024 * 1024);
    loop {
        match commands.try_recv() {
            Ok(c) if c == "stop" => break,
            Err(mpsc::error::TryRecvError::Disconnected) => return Ok(()),
            _ => {}
        }
        while let Ok(answer) = answers.try_recv() {
            write.write_all(&answer).await?;
        }
        let done = sent.load(Ordering::Relaxed);
        let due = match load.rate {
            Some(rate) => (started.elapsed().as_secs_f64() * rate as f64) as u64,
            None => u64::MAX,
        };
        if due <= done {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        out.clear();
        let mut w = Writer::new(&mut out);
        let mut n = 0;
        while n < BATCH_CALLS && done + w.events < due {
            calls.step(&mut w);
            n += 1;
        }
        let events = w.events;
        write.write_all(&out).await?;
        sent.fetch_add(events, Ordering::Relaxed);
    }
    // End every call still up, so nothing is left half done.
    out.clear();
    let mut w = Writer::new(&mut out);
    calls.finish(&mut w);
    let events = w.events;
    write.write_all(&out).await?;
    let total = sent.fetch_add(events, Ordering::Relaxed) + events;
    let mut stdout = tokio::io::stdout();
    say(&mut stdout, &format!("finished {total}"))
        .await
        .map_err(std::io::Error::other)?;
    // Keep the link open (and answering) until the bench is done with the daemon.
    loop {
        tokio::select! {
            answer = answers.recv() => match answer {
                Some(bytes) => write.write_all(&bytes).await?,
                None => break,
            },
            command = commands.recv() => if command.is_none() { break },
        }
    }
    reader.abort();
    Ok(())
}

/// The calls: which phone rings for call `n`, who calls, and what is due next.
struct Calls {
    extensions: Vec<String>,
    contacts: u64,
    next: u64,
}

impl Calls {
    fn write(&self, n: u64, part: Part, w: &mut Writer<'_>) {
        let caller = contacts::phone(n % self.contacts);
        let extension = &self.extensions[(n % self.extensions.len() as u64) as usize];
        Call {
            n,
            caller: &caller,
            extension,
        }
        .write(part, w);
    }

    /// A new call arrives; the one [`OVERLAP`] before it is answered, the one before
    /// that ends.
    fn step(&mut self, w: &mut Writer<'_>) {
        let n = self.next;
        self.next += 1;
        self.write(n, Part::Arrive, w);
        if n >= OVERLAP {
            self.write(n - OVERLAP, Part::Answer, w);
        }
        if n >= 2 * OVERLAP {
            self.write(n - 2 * OVERLAP, Part::End, w);
        }
    }

    /// Answer and end every call still up, in the order they came.
    fn finish(&mut self, w: &mut Writer<'_>) {
        for n in self.next.saturating_sub(OVERLAP)..self.next {
            self.write(n, Part::Answer, w);
        }
        for n in self.next.saturating_sub(2 * OVERLAP)..self.next {
            self.write(n, Part::End, w);
        }
    }
}

/// Read the adapter's actions (a blank line ends each) and queue an answer to each.
async fn answer_actions(
    mut read: OwnedReadHalf,
    answers: mpsc::UnboundedSender<Vec<u8>>,
) -> std::io::Result<()> {
    let mut pending = String::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = read.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        pending.push_str(&String::from_utf8_lossy(&chunk[..n]));
        while let Some(end) = pending.find("\r\n\r\n") {
            let action: String = pending.drain(..end + 4).collect();
            let headers: Vec<(&str, &str)> = action
                .split("\r\n")
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect();
            if answers.send(answer(&headers)).is_err() {
                return Ok(());
            }
        }
    }
}

/// Asterisk's answer to one action.
fn answer(headers: &[(&str, &str)]) -> Vec<u8> {
    let get = |key: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
    };
    let id = get("ActionID").unwrap_or("");
    let response = |lines: &[(&str, &str)]| {
        let mut text = String::new();
        for (k, v) in lines {
            if *k == "ActionID" && id.is_empty() {
                continue;
            }
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        text + "\r\n"
    };
    let list = |message: &str, complete: &str| {
        response(&[
            ("Response", "Success"),
            ("ActionID", id),
            ("EventList", "start"),
            ("Message", message),
        ]) + &response(&[
            ("Event", complete),
            ("ActionID", id),
            ("EventList", "Complete"),
            ("ListItems", "0"),
        ])
    };
    let action = get("Action").unwrap_or("").to_ascii_lowercase();
    let text = match action.as_str() {
        "login" if get("Username") == Some(USERNAME) && get("Secret") == Some(SECRET) => {
            response(&[
                ("Response", "Success"),
                ("ActionID", id),
                ("Message", "Authentication accepted"),
            ]) + &response(&[
                ("Event", "FullyBooted"),
                ("Privilege", "system,all"),
                ("Uptime", "3600"),
                ("LastReload", "3600"),
                ("Status", "Fully Booted"),
            ])
        }
        "login" => response(&[
            ("Response", "Error"),
            ("ActionID", id),
            ("Message", "Authentication failed"),
        ]),
        "events" => response(&[("Response", "Success"), ("ActionID", id), ("Events", "On")]),
        "ping" => response(&[
            ("Response", "Success"),
            ("ActionID", id),
            ("Ping", "Pong"),
            ("Timestamp", "1765000000.000000"),
        ]),
        "coreshowchannels" => list("Channels will follow", "CoreShowChannelsComplete"),
        "queuestatus" => list("Queue status will follow", "QueueStatusComplete"),
        _ => response(&[
            ("Response", "Error"),
            ("ActionID", id),
            ("Message", "Invalid/unknown command"),
        ]),
    };
    text.into_bytes()
}

/// The bench's side of the generator process.
pub struct Generator {
    child: Child,
    stdin: tokio::process::ChildStdin,
    pub port: u16,
}

impl Generator {
    /// Start the child and wait for its port. `control.sent` follows its `sent` lines;
    /// `control.finished` is notified on `finished`; `control.go` and `control.stop`
    /// are passed on to it.
    pub async fn spawn(load: &Load, control: Arc<switch::Control>) -> Result<Generator, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
        let rate = load.rate.map_or("max".to_string(), |r| r.to_string());
        let mut child = Command::new(exe)
            .arg("bench-ami-switch")
            .args(["--extensions", &load.extensions.to_string()])
            .args(["--contacts", &load.contacts.to_string()])
            .args(["--rate", &rate])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the AMI generator: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin for the AMI generator")?;
        let stdout = child
            .stdout
            .take()
            .ok_or("no stdout for the AMI generator")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .map_err(|_| "the AMI generator did not start within 30 s".to_string())?
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let port = first
            .strip_prefix("listening ")
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| format!("the AMI generator said `{first}`, not its port"))?;
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(n) = line.strip_prefix("sent ").and_then(|n| n.parse().ok()) {
                    control.sent.fetch_max(n, Ordering::Relaxed);
                } else if let Some(n) = line.strip_prefix("finished ").and_then(|n| n.parse().ok())
                {
                    control.sent.fetch_max(n, Ordering::Relaxed);
                    control.finished.notify_one();
                }
            }
        });
        Ok(Generator { child, stdin, port })
    }

    pub async fn command(&mut self, line: &str) -> Result<(), String> {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .map_err(|e| format!("the AMI generator is gone: {e}"))?;
        self.stdin.flush().await.map_err(|e| e.to_string())
    }

    /// Close its stdin (it ends the link) and wait for it briefly.
    pub async fn end(self) {
        let Generator {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_actions_get_an_empty_list_with_their_action_id() {
        let text = String::from_utf8(answer(&[
            ("Action", "CoreShowChannels"),
            ("ActionID", "ctib-3"),
        ]))
        .unwrap();
        assert_eq!(
            text,
            "Response: Success\r\nActionID: ctib-3\r\nEventList: start\r\n\
             Message: Channels will follow\r\n\r\nEvent: CoreShowChannelsComplete\r\n\
             ActionID: ctib-3\r\nEventList: Complete\r\nListItems: 0\r\n\r\n"
        );
    }

    #[test]
    fn login_needs_the_bench_secret() {
        let ok = String::from_utf8(answer(&[
            ("Action", "Login"),
            ("Username", USERNAME),
            ("Secret", SECRET),
        ]))
        .unwrap();
        assert!(ok.starts_with("Response: Success\r\n"), "{ok}");
        assert!(ok.contains("Event: FullyBooted\r\n"));
        let refused = String::from_utf8(answer(&[
            ("Action", "Login"),
            ("Username", USERNAME),
            ("Secret", "wrong"),
        ]))
        .unwrap();
        assert!(refused.starts_with("Response: Error\r\n"), "{refused}");
        let unknown = String::from_utf8(answer(&[("Action", "Originate")])).unwrap();
        assert!(unknown.contains("Invalid/unknown command"));
    }

    #[test]
    fn every_call_begun_ends() {
        let mut calls = Calls {
            extensions: vec!["20000".into(), "20001".into()],
            contacts: 10,
            next: 0,
        };
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        for _ in 0..300 {
            calls.step(&mut w);
        }
        calls.finish(&mut w);
        let events = w.events;
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("Event: QueueCallerJoin\r\n").count(), 300);
        assert_eq!(text.matches("Event: AgentConnect\r\n").count(), 300);
        assert_eq!(text.matches("Event: Hangup\r\n").count(), 600);
        assert_eq!(text.matches("\r\n\r\n").count() as u64, events);
    }
}

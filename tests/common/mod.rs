//! Test support: start the real `ctibridge` binary with a config of the test's own,
//! and talk to it with real WebSocket clients over loopback.

#![allow(dead_code)]

pub mod csta;
pub mod in_process;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const BIN: &str = env!("CARGO_BIN_EXE_ctibridge");
pub const WAIT: Duration = Duration::from_secs(10);

/// Tokens of the standard test config.
pub const AGENT_1001: &str = "token-agent-1001";
pub const AGENT_1002: &str = "token-agent-1002";
pub const SUPERVISOR: &str = "token-supervisor";

pub fn sha256(token: &str) -> String {
    ctibridge::auth::hash_token(token)
}

/// A fresh folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ctibridge-test-{name}-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The standard config: a simulator with agents 1001 and 1002 logged on and ready,
/// a supervisor phone 1100, queue 8000; nothing happens unless a test makes it.
pub fn standard_config(port: u16, dir: &Path, server_extra: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:{port}"
allowed_origins = ["https://crm.example.com"]
{server_extra}

[database]
url = "sqlite://{db}"

[crm]
default_country = "US"
pop_deadline_ms = 2000

[[switch]]
name = "pbx"
adapter = "sim"
devices = ["1001", "1002", "1100"]
queues = ["8000"]
agents = [
  {{ agent = "1001", extension = "1001", state = "ready" }},
  {{ agent = "1002", extension = "1002", state = "ready" }},
]

[switch.dnis]
"8005550100" = "8000"

[[auth.tokens]]
name = "agent-1001"
role = "agent"
agent = "1001"
sha256 = "{a1}"

[[auth.tokens]]
name = "agent-1002"
role = "agent"
agent = "1002"
sha256 = "{a2}"

[[auth.tokens]]
name = "supervisor"
role = "supervisor"
extensions = ["1100"]
sha256 = "{sup}"
"#,
        db = dir.join("crm.db").display(),
        a1 = sha256(AGENT_1001),
        a2 = sha256(AGENT_1002),
        sup = sha256(SUPERVISOR),
    )
}

/// A running daemon; killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Daemon {
    /// Write `config` into `dir` and start `ctibridge run` with it; returns once
    /// `/healthz` says the switch link is up.
    pub async fn start(dir: &Path, port: u16, config: &str) -> Daemon {
        let daemon = Daemon::spawn(dir, port, config);
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            // Healthy, and it is this daemon that answers: a port picked free can be
            // taken by another process before the daemon binds it (the log then says
            // so, and this fails with that log instead of talking to a stranger).
            if let Ok((200, _)) = http_get(port, "/healthz", &[]).await {
                if daemon.log().contains("ctibridge listening") {
                    return daemon;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "daemon did not become healthy:\n{}",
                daemon.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Write `config` into `dir` and start `ctibridge run` with it, without waiting.
    pub fn spawn(dir: &Path, port: u16, config: &str) -> Daemon {
        let path = dir.join("ctibridge.toml");
        std::fs::write(&path, config).unwrap();
        let log = std::fs::File::create(dir.join("daemon.log")).unwrap();
        let child = Command::new(BIN)
            .args(["run", "--config"])
            .arg(&path)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Daemon {
            child,
            port,
            dir: dir.to_path_buf(),
        }
    }

    /// Wait until the daemon answers HTTP at all (healthy or not: a link may be
    /// down until its switch connects).
    pub async fn answering(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while http_get(self.port, "/healthz", &[]).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "daemon does not answer:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/v1/ws", self.port)
    }

    pub fn db_url(&self) -> String {
        format!("sqlite://{}", self.dir.join("crm.db").display())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 GET (status, body), to check endpoints without an HTTP client crate.
pub async fn http_get(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("connection"))
    {
        request.push_str("Connection: close\r\n");
    }
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    // An upgrade keeps the connection open: read what arrives within a moment.
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// A WebSocket client speaking the cti.v1 protocol.
pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Events read while waiting for something else.
    pub seen: Vec<Value>,
}

impl Client {
    pub async fn connect(url: &str) -> Client {
        Client::connect_with(url, None).await.unwrap()
    }

    /// Connect through `connector` (a `wss://` URL with a TLS client that trusts the
    /// test's certificate), or as [`Client::connect`] with `None`; the handshake's
    /// error is returned, for tests that expect one.
    pub async fn connect_with(
        url: &str,
        connector: Option<tokio_tungstenite::Connector>,
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("cti.v1"));
        let (ws, response) =
            tokio_tungstenite::connect_async_tls_with_config(request, None, false, connector)
                .await?;
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .map(|v| v.to_str().unwrap()),
            Some("cti.v1")
        );
        Ok(Client {
            ws,
            next_id: 0,
            seen: Vec::new(),
        })
    }

    /// Connect and authenticate; returns the client and its welcome frame.
    pub async fn login(url: &str, token: &str) -> (Client, Value) {
        Client::login_with(url, None, token).await
    }

    /// [`Client::login`] through `connector` (see [`Client::connect_with`]).
    pub async fn login_with(
        url: &str,
        connector: Option<tokio_tungstenite::Connector>,
        token: &str,
    ) -> (Client, Value) {
        let mut client = Client::connect_with(url, connector).await.unwrap();
        client.send(json!({"type": "hello", "token": token})).await;
        let welcome = client.frame().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        (client, welcome)
    }

    pub async fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.to_string().into()))
            .await
            .unwrap();
    }

    /// The next text frame.
    pub async fn frame(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no frame in time")
                .expect("connection closed")
                .expect("websocket error");
            match message {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// The next frame, or None if nothing arrives within `quiet`.
    pub async fn frame_within(&mut self, quiet: Duration) -> Option<Value> {
        loop {
            match tokio::time::timeout(quiet, self.ws.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(Message::Text(text)))) => {
                    return Some(serde_json::from_str(&text).unwrap())
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Wait for the close frame; returns its code.
    pub async fn closed(&mut self) -> u16 {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no close in time");
            match message {
                Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
                Some(Ok(Message::Close(None))) | None => return u16::from(CloseCode::Status),
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("error instead of close: {e}"),
            }
        }
    }

    /// Send a request and wait for its response (events read meanwhile are kept in `seen`).
    pub async fn req(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = format!("r{}", self.next_id);
        self.send(json!({"type": "req", "id": id, "method": method, "params": params}))
            .await;
        loop {
            let frame = self.frame().await;
            if frame["type"] == "res" && frame["id"] == id {
                return frame;
            }
            self.seen.push(frame);
        }
    }

    /// A request that must succeed; returns its result.
    pub async fn ok(&mut self, method: &str, params: Value) -> Value {
        let res = self.req(method, params).await;
        assert!(res.get("error").is_none(), "{method} failed: {res}");
        res["result"].clone()
    }

    /// The next event named `name` matching `pred` (earlier ones are kept in `seen`).
    pub async fn event(&mut self, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self
            .seen
            .iter()
            .position(|f| f["type"] == "evt" && f["name"] == name && pred(&f["data"]))
        {
            return self.seen.remove(i);
        }
        loop {
            let frame = self.frame().await;
            if frame["type"] == "evt" && frame["name"] == name && pred(&frame["data"]) {
                return frame;
            }
            self.seen.push(frame);
        }
    }
}

/// A connection to a test's SQLite database (`sqlite://PATH`), to read what the
/// daemon wrote. It opens the file the daemon uses (WAL lets both read).
pub fn sqlite(db_url: &str) -> diesel::SqliteConnection {
    use diesel::Connection;
    let path = db_url.strip_prefix("sqlite://").unwrap_or(db_url);
    diesel::SqliteConnection::establish(path).unwrap()
}

/// A database URL for a test on `backend` (`sqlite`, `postgres` or `mysql`): a new
/// SQLite file, or a new database on the server `CTIBRIDGE_TEST_POSTGRES` /
/// `CTIBRIDGE_TEST_MYSQL` names. `None` (said on stderr) when that variable is not
/// set: the test is then not run on that backend.
pub fn test_database(backend: &str) -> Option<String> {
    let var = match backend {
        "sqlite" => {
            let dir = temp_dir("sqlite-db");
            return Some(format!("sqlite://{}", dir.join("own.db").display()));
        }
        "postgres" => "CTIBRIDGE_TEST_POSTGRES",
        _ => "CTIBRIDGE_TEST_MYSQL",
    };
    let url = ctibridge::crm::db::scratch_database(var);
    if url.is_none() {
        eprintln!("{var} is not set; {backend} not tested");
    }
    url
}

/// Run `f` on a database connection of its own, on a thread of its own (the drivers
/// block, and a test's runtime must not).
pub fn with_db<T: Send + 'static>(
    url: &str,
    f: impl FnOnce(&mut ctibridge::crm::db::AnyConn) -> T + Send + 'static,
) -> T {
    let url = url.to_string();
    std::thread::spawn(move || f(&mut ctibridge::crm::db::AnyConn::establish(&url).unwrap()))
        .join()
        .unwrap()
}

/// Run the real CLI with `args`; it must succeed. Returns its stdout.
pub fn cli_ok(args: &[&str]) -> Vec<u8> {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ctibridge {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Import contacts into a test database with the real CLI.
pub fn import_contacts(db_url: &str, dir: &Path, csv: &str) {
    let file = dir.join("contacts.csv");
    std::fs::write(&file, csv).unwrap();
    cli_ok(&[
        "contacts",
        "import",
        "--database",
        db_url,
        file.to_str().unwrap(),
    ]);
}

//! The daemon the browser test drives: `ctibridge demo` — its configuration, its
//! seeded CRM, its pages and tokens — run in the test process through the library
//! entry point, so the test can stop it and start it again on the same port.
//!
//! One change from the demo: the simulator's timers are off (no generated calls,
//! phones that do not answer or hold by themselves, callers that never hang up), so
//! every call and every state change is one the test made and can wait for.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ctibridge::daemon::{self, RunOptions};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::common::{http_get, with_db};

/// The demo's `[[switch]]` keys that make things happen by themselves, turned off.
const QUIET: [(&str, toml::Value); 7] = [
    ("inbound_calls_per_s", toml::Value::Float(0.0)),
    ("answer_after_ms", toml::Value::Integer(0)),
    ("talk_ms", toml::Value::Integer(0)),
    ("hold_ms", toml::Value::Integer(0)),
    ("acw_ms", toml::Value::Integer(0)),
    ("abandon_after_ms", toml::Value::Integer(0)),
    ("jitter", toml::Value::Float(0.0)),
];

pub struct DemoDaemon {
    pub port: u16,
    pub data_dir: PathBuf,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), String>>,
}

/// The demo's configuration for `listen` and `data_dir`, with [`QUIET`] applied.
fn quiet_config(listen: SocketAddr, data_dir: &Path) -> String {
    let text = ctibridge::demo::config_text(listen, data_dir);
    let mut config: toml::Table = text.parse().unwrap();
    let switch = config["switch"].as_array_mut().unwrap()[0]
        .as_table_mut()
        .unwrap();
    for (key, value) in QUIET {
        assert!(switch.contains_key(key), "the demo no longer sets {key}");
        switch.insert(key.to_string(), value);
    }
    toml::to_string(&config).unwrap()
}

impl DemoDaemon {
    /// Seed the demo's CRM in `data_dir` (once, as `ctibridge demo` does) and run the
    /// daemon with its pages on `127.0.0.1:port`; returns once `/healthz` answers.
    pub async fn start(port: u16, data_dir: &Path) -> DemoDaemon {
        let listen: SocketAddr = ([127, 0, 0, 1], port).into();
        let registry = ctibridge::adapters::registry();
        let loaded =
            ctibridge::config::load_str(&quiet_config(listen, data_dir), &registry).unwrap();
        std::fs::create_dir_all(data_dir).unwrap();
        let url = loaded.config.database.url.clone();
        with_db(&url, |conn| {
            conn.migrate().unwrap();
            ctibridge::crm::seed::seed_demo(conn).unwrap();
        });
        let shutdown = CancellationToken::new();
        let options = RunOptions {
            serve_pages: true,
            on_listening: Box::new(|_| {}),
            shutdown: shutdown.clone(),
        };
        let task = tokio::spawn(async move {
            daemon::run(loaded, &registry, options)
                .await
                .map_err(|e| e.to_string())
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !matches!(http_get(port, "/healthz", &[]).await, Ok((200, _))) {
            assert!(!task.is_finished(), "the daemon stopped: {:?}", task.await);
            assert!(
                tokio::time::Instant::now() < deadline,
                "daemon did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        DemoDaemon {
            port,
            data_dir: data_dir.to_path_buf(),
            shutdown,
            task,
        }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/v1/ws", self.port)
    }

    pub fn page_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Stop it as SIGTERM would, and wait for it.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}

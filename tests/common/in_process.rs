//! The daemon in this test process, so a test can hold the simulator's
//! [`SimControl`] (break the link, emit a call record) while real WebSocket clients
//! talk to the daemon over loopback. One in-process daemon per test binary: the
//! handle of the simulator built last is kept in a static.

use std::sync::Mutex;

use ctibridge::daemon::{self, RunOptions};
use ctibridge_adapter::{Adapter, AdapterFactory, Registry, SettingsError, SwitchSettings};
use ctibridge_sim::{SimAdapter, SimConfig, SimControl};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{http_get, WAIT};

static CONTROL: Mutex<Option<SimControl>> = Mutex::new(None);

fn build(settings: &SwitchSettings) -> Result<Box<dyn Adapter>, SettingsError> {
    let config: SimConfig = settings.parse(&[])?;
    let (adapter, control) = SimAdapter::with_control(settings.devices.clone(), config);
    *CONTROL.lock().unwrap() = Some(control);
    Ok(Box::new(adapter))
}

pub struct InProcess {
    pub url: String,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), String>>,
}

impl InProcess {
    /// Run the daemon with `config` (its `sim` switch gets a test handle) and wait
    /// until `/healthz` on `port` says it is up.
    pub async fn start(config: &str, port: u16) -> InProcess {
        let mut registry = Registry::new();
        registry.register(AdapterFactory {
            name: "sim",
            summary: "simulator with a test handle",
            example: "",
            build,
            decode: None,
        });
        let loaded = ctibridge::config::load_str(config, &registry).unwrap();
        let shutdown = CancellationToken::new();
        let options = RunOptions {
            serve_pages: false,
            on_listening: Box::new(|_| {}),
            shutdown: shutdown.clone(),
        };
        let task = tokio::spawn(async move {
            daemon::run(loaded, &registry, options)
                .await
                .map_err(|e| e.to_string())
        });
        let deadline = tokio::time::Instant::now() + WAIT;
        while !matches!(http_get(port, "/healthz", &[]).await, Ok((200, _))) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "daemon did not start"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        InProcess {
            url: format!("ws://127.0.0.1:{port}/v1/ws"),
            shutdown,
            task,
        }
    }

    /// The simulator's test handle.
    pub fn sim(&self) -> SimControl {
        CONTROL.lock().unwrap().clone().expect("simulator built")
    }

    /// Stop the daemon as SIGTERM would, and wait for it.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}

//! The adapter's life: connect to the manager port (over TLS with `tls = true`), run a [`Session`], and when it
//! ends report `LinkDown` and try again with the shared backoff, answering commands
//! `switch_unavailable` meanwhile. The [`Tracker`] outlives sessions, so a call
//! that survives an outage keeps what was known of it.

use std::time::Duration;

use ctibridge_adapter::{
    Adapter, AdapterFuture, AdapterLink, Backoff, Capabilities, Outage, SwitchEvent,
};
use tokio::net::TcpStream;

use crate::actions::SUPPORTED;
use crate::config::AmiConfig;
use crate::session::{End, Session};
use crate::tls::AmiStream;
use crate::tracker::Tracker;

pub struct AmiAdapter {
    config: AmiConfig,
    devices: Vec<String>,
}

impl AmiAdapter {
    pub fn new(config: AmiConfig, devices: Vec<String>) -> AmiAdapter {
        AmiAdapter { config, devices }
    }
}

impl Adapter for AmiAdapter {
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(SUPPORTED)
    }

    fn run(self: Box<Self>, link: AdapterLink) -> AdapterFuture {
        Box::pin(run(*self, link))
    }
}

async fn run(
    adapter: AmiAdapter,
    mut link: AdapterLink,
) -> Result<(), ctibridge_adapter::AdapterError> {
    let AmiAdapter { config, devices } = adapter;
    let mut tracker = Tracker::new(&devices, &config.agents, &config.queues);
    let mut backoff = Backoff::new(config.reconnect_min, config.reconnect_max);
    let mut outage = Outage::default();
    // `validate` has read the CA file once already (so check-config names a bad one);
    // it is read again here, once per start of the daemon.
    let tls = match config.tls {
        true => Some(
            crate::tls::client_config(config.tls_ca.as_deref())
                .map_err(ctibridge_adapter::AdapterError)?,
        ),
        false => None,
    };
    loop {
        let connect = tokio::time::timeout(Duration::from_secs(10), open(&config, tls.clone()));
        let stream = tokio::select! {
            _ = link.shutdown.cancelled() => return Ok(()),
            s = connect => match s {
                Ok(Ok(s)) => Ok(s),
                Ok(Err(e)) => Err(format!("cannot connect to {}:{}: {e}", config.host, config.port)),
                Err(_) => Err(format!("cannot connect to {}:{}: timed out", config.host, config.port)),
            },
        };
        let (reason, was_up) = match stream {
            Ok(stream) => {
                match Session::new(&config, &mut link, &mut tracker, stream)
                    .run()
                    .await
                {
                    End::Shutdown => return Ok(()),
                    End::Lost(reason, was_up) => (reason, was_up),
                }
            }
            Err(e) => (e, false),
        };
        tracing::warn!(switch = %link.switch, host = %config.host, "AMI link down: {reason}");
        if was_up {
            backoff.reset();
        }
        if outage.report(was_up) && !link.send(SwitchEvent::LinkDown { reason }).await {
            return Ok(());
        }
        if !link.pause(backoff.next_wait()).await {
            return Ok(());
        }
    }
}

/// Connect to the manager port, with the TLS handshake when `tls` is on.
async fn open(
    config: &AmiConfig,
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
) -> Result<Box<dyn AmiStream>, String> {
    let tcp = TcpStream::connect((config.host.as_str(), config.port))
        .await
        .map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    match tls {
        Some(tls) => crate::tls::connect(tls, &config.host, tcp).await,
        None => Ok(Box::new(tcp)),
    }
}

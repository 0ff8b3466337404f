//! The adapter's life: get a TCP link to the switch (connect, or accept where the
//! switch dials out), run a [`Session`] on it, and when it ends report `LinkDown`
//! and try again with exponential backoff and jitter, answering commands
//! `switch_unavailable` meanwhile. Listening, a new connection from the switch
//! replaces the current one at once.

use std::time::Duration;

use ctibridge_adapter::{
    Adapter, AdapterFuture, AdapterLink, Backoff, Capabilities, Outage, SwitchEvent,
};
use tokio::net::{TcpListener, TcpStream};

use crate::config::{CstaConfig, Encoding, Endpoint};
use crate::requests::SUPPORTED;
use crate::session::{Carry, End, Session};

pub struct CstaAdapter {
    config: CstaConfig,
    endpoint: Endpoint,
    devices: Vec<String>,
}

impl CstaAdapter {
    pub fn new(config: CstaConfig, endpoint: Endpoint, devices: Vec<String>) -> CstaAdapter {
        CstaAdapter {
            config,
            endpoint,
            devices,
        }
    }
}

impl Adapter for CstaAdapter {
    fn capabilities(&self) -> Capabilities {
        let mut capabilities = Capabilities::new(SUPPORTED);
        if self.config.encoding == Encoding::Ber {
            // Only the services the phase's table can write.
            let module = self.config.ber_phase().module();
            capabilities
                .commands
                .retain(|kind| service_of(*kind).is_none_or(|s| crate::ber::can_send(s, module)));
        }
        if self.config.route_points.is_empty() {
            capabilities
                .commands
                .remove(&ctibridge_adapter::CommandKind::RouteSelect);
        }
        capabilities
    }

    fn run(self: Box<Self>, link: AdapterLink) -> AdapterFuture {
        Box::pin(run(*self, link))
    }
}

/// The CSTA service a command needs where it is a single one (see requests.rs).
fn service_of(kind: ctibridge_adapter::CommandKind) -> Option<&'static str> {
    use ctibridge_adapter::CommandKind::*;
    Some(match kind {
        MakeCall => "MakeCall",
        Answer => "AnswerCall",
        Hangup => "ClearConnection",
        ForceRelease => "ClearCall",
        Hold => "HoldCall",
        Retrieve => "RetrieveCall",
        TransferBlind => "SingleStepTransferCall",
        TransferConsult => "ConsultationCall",
        Conference => "ConferenceCall",
        Dtmf => "GenerateDigits",
        AgentLogin | AgentLogout | SetAgentState => "SetAgentState",
        Monitor | Barge => "SingleStepConferenceCall",
        RouteSelect => "RouteSelectRequest",
        _ => return None,
    })
}

async fn run(
    adapter: CstaAdapter,
    mut link: AdapterLink,
) -> Result<(), ctibridge_adapter::AdapterError> {
    let CstaAdapter {
        config,
        endpoint,
        devices,
    } = adapter;
    let mut backoff = Backoff::new(config.reconnect_min, config.reconnect_max);
    let mut outage = Outage::default();
    let mut carry = Carry::default();
    let mut listener: Option<TcpListener> = None;
    // A connection the switch opened while the last one was still up.
    let mut next: Option<TcpStream> = None;
    loop {
        let stream = match next.take() {
            Some(stream) => Ok(stream),
            None => tokio::select! {
                _ = link.shutdown.cancelled() => return Ok(()),
                stream = open(&endpoint, &mut listener) => stream,
            },
        };
        let (reason, was_up) = match stream {
            Ok(stream) => {
                let peer = stream
                    .peer_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                tracing::info!(switch = %link.switch, peer, "connected to the CSTA server");
                let session = Session::new(
                    &config,
                    &devices,
                    &mut link,
                    &mut carry,
                    stream,
                    listener.as_ref(),
                );
                match session.run().await {
                    (End::Shutdown | End::EngineGone, _) => return Ok(()),
                    (End::Lost(reason), was_up) => (reason, was_up),
                    (End::Replaced(stream), was_up) => {
                        next = Some(stream);
                        ("the switch opened a new connection".to_string(), was_up)
                    }
                }
            }
            Err(e) => (e, false),
        };
        tracing::warn!(switch = %link.switch, "CSTA link down: {reason}");
        if was_up {
            backoff.reset();
        }
        if outage.report(was_up) && !link.send(SwitchEvent::LinkDown { reason }).await {
            return Ok(());
        }
        if next.is_some() {
            continue;
        }
        if !link.pause(backoff.next_wait()).await {
            return Ok(());
        }
    }
}

async fn open(
    endpoint: &Endpoint,
    listener: &mut Option<TcpListener>,
) -> Result<TcpStream, String> {
    match endpoint {
        Endpoint::Connect { host, port } => {
            match tokio::time::timeout(
                Duration::from_secs(10),
                TcpStream::connect((host.as_str(), *port)),
            )
            .await
            {
                Ok(Ok(stream)) => Ok(stream),
                Ok(Err(e)) => Err(format!("cannot connect to {host}:{port}: {e}")),
                Err(_) => Err(format!("cannot connect to {host}:{port}: timed out")),
            }
        }
        Endpoint::Listen(addr) => {
            if listener.is_none() {
                *listener = Some(
                    TcpListener::bind(addr)
                        .await
                        .map_err(|e| format!("cannot listen on {addr}: {e}"))?,
                );
            }
            let Some(bound) = listener.as_ref() else {
                return Err(format!("cannot listen on {addr}"));
            };
            bound
                .accept()
                .await
                .map(|(stream, _)| stream)
                .map_err(|e| format!("accept on {addr}: {e}"))
        }
    }
}

//! The adapter's life: run a [`session`](crate::session) against the PBX and, when
//! it ends, report `LinkDown` (through the shared [`Outage`] rule) and try again
//! after a jittered [`Backoff`], answering commands `switch_unavailable` meanwhile.

use ctibridge_adapter::{
    Adapter, AdapterError, AdapterFuture, AdapterLink, Backoff, Capabilities, CommandKind, Outage,
    SwitchEvent,
};

use crate::config::SipConfig;
use crate::session::{self, Carry, End};

pub struct SipAdapter {
    config: SipConfig,
    devices: Vec<String>,
}

impl SipAdapter {
    pub fn new(config: SipConfig, devices: Vec<String>) -> SipAdapter {
        SipAdapter { config, devices }
    }
}

impl Adapter for SipAdapter {
    /// Live calls from dialog events; no agent states (SIP has no ACD agents);
    /// click-to-dial by third-party call control.
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            commands: [CommandKind::MakeCall].into(),
            live_calls: true,
            agent_states: false,
        }
    }

    fn run(self: Box<Self>, link: AdapterLink) -> AdapterFuture {
        Box::pin(run(*self, link))
    }
}

async fn run(adapter: SipAdapter, mut link: AdapterLink) -> Result<(), AdapterError> {
    let SipAdapter { config, devices } = adapter;
    let mut backoff = Backoff::new(config.reconnect_min, config.reconnect_max);
    let mut outage = Outage::default();
    let mut carry = Carry::new(&config, &devices);
    loop {
        let (end, was_up) = session::run(&config, &devices, &mut link, &mut carry).await;
        let reason = match end {
            End::Shutdown | End::EngineGone => return Ok(()),
            End::Lost(reason) => reason,
        };
        tracing::warn!(switch = %link.switch, "SIP link down: {reason}");
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

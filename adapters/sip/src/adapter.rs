//! The adapter's life: run a [`session`](crate::session) (dialog mode) or a
//! [`uacsta`](crate::uacsta) session against the PBX and, when
//! it ends, report `LinkDown` (through the shared [`Outage`] rule) and try again
//! after a jittered [`Backoff`], answering commands `switch_unavailable` meanwhile.

use ctibridge_adapter::{
    Adapter, AdapterError, AdapterFuture, AdapterLink, Backoff, Capabilities, CommandKind, Outage,
    SwitchEvent,
};

use crate::config::{Mode, SipConfig};
use crate::session::{self, Carry, End};
use crate::uacsta;

/// What outlives one run of the link, by mode.
enum Either {
    Dialog(Carry),
    Uacsta(uacsta::Carry),
}

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
    /// Live calls; no agent states (neither dialog events nor uaCSTA's
    /// first-party call control know ACD agents). Dialog mode dials by
    /// third-party call control; uaCSTA has the phone-control services.
    fn capabilities(&self) -> Capabilities {
        let commands = match self.config.mode {
            Mode::Dialog => [CommandKind::MakeCall].into(),
            Mode::Uacsta => uacsta::SUPPORTED.into(),
        };
        Capabilities {
            commands,
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
    let mut carry = match config.mode {
        Mode::Dialog => Either::Dialog(Carry::new(&config, &devices)),
        Mode::Uacsta => {
            let credentials = Carry::new(&config, &[]).credentials;
            Either::Uacsta(uacsta::Carry::new(credentials))
        }
    };
    loop {
        let (end, was_up) = match &mut carry {
            Either::Dialog(carry) => session::run(&config, &devices, &mut link, carry).await,
            Either::Uacsta(carry) => uacsta::run(&config, &devices, &mut link, carry).await,
        };
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

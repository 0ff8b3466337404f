//! [`SmdrAdapter`]: the actor that owns one SMDR link. It opens the link, reports
//! `LinkUp` and an empty `Snapshot` (records carry no live state), turns each
//! finished record into a `CallRecord` event with its raw lines, and on any drop
//! reports `LinkDown` and opens the link again with backoff, for ever, until the
//! daemon stops. The waits and which failures are reported come from the shared
//! [`Backoff`] and [`Outage`], as for every adapter that owns a connection: a link
//! that cannot be opened is reported down once per outage, not once per attempt.
//! A malformed line is logged with its position and skipped.

use std::time::Duration;

use ctibridge_adapter::{
    Adapter, AdapterFuture, AdapterLink, Backoff, Capabilities, CommandError, Outage, Snapshot,
    SwitchEvent,
};
use tokio::io::AsyncReadExt;

use crate::config::SmdrConfig;
use crate::reader::{Output, Reader};
use crate::transport::{Opened, Transport};

/// The first wait before opening the link again; it doubles up to [`MAX_BACKOFF`]
/// (each wait varied by ±20 %).
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often calls waiting for continuation lines are checked for expiry.
const TICK: Duration = Duration::from_secs(10);

pub struct SmdrAdapter {
    config: SmdrConfig,
}

impl SmdrAdapter {
    pub fn new(config: SmdrConfig) -> Self {
        SmdrAdapter { config }
    }
}

/// Why the link went down.
enum Down {
    Reason(String),
    Stop,
}

impl Adapter for SmdrAdapter {
    fn capabilities(&self) -> Capabilities {
        Capabilities::records_only()
    }

    fn run(self: Box<Self>, mut link: AdapterLink) -> AdapterFuture {
        Box::pin(async move {
            let config = self.config;
            let mut transport = Transport::new(config.link.clone());
            let mut reader = Reader::new(
                config.format.clone(),
                config.terminator,
                config.utc_offset,
                config.dedup_window,
            );
            let mut backoff = Backoff::new(FIRST_BACKOFF, MAX_BACKOFF);
            let mut outage = Outage::default();
            loop {
                let opened = tokio::select! {
                    _ = link.shutdown.cancelled() => return Ok(()),
                    opened = transport.open() => opened,
                };
                let (reason, was_up) = match opened {
                    Err(e) => {
                        tracing::warn!(switch = %link.switch, error = %e, "SMDR link not open");
                        (e.to_string(), false)
                    }
                    Ok(opened) => {
                        tracing::info!(switch = %link.switch, peer = %opened.peer, "SMDR link up");
                        if !link.send(SwitchEvent::LinkUp).await
                            || !link.send(SwitchEvent::Snapshot(Snapshot::default())).await
                        {
                            return Ok(());
                        }
                        reader.reconnected();
                        match read_link(&mut link, &mut transport, &mut reader, opened).await {
                            Down::Stop => return Ok(()),
                            Down::Reason(reason) => {
                                tracing::warn!(switch = %link.switch, %reason, "SMDR link down");
                                (reason, true)
                            }
                        }
                    }
                };
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
        })
    }
}

/// Read the open link until it drops or the daemon stops.
async fn read_link(
    link: &mut AdapterLink,
    transport: &mut Transport,
    reader: &mut Reader,
    opened: Opened,
) -> Down {
    let mut stream = opened.stream;
    let mut buf = vec![0u8; 4096];
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let outputs = tokio::select! {
            _ = link.shutdown.cancelled() => return Down::Stop,
            request = link.commands.recv() => {
                // The engine sends nothing to a records-only link; answer anyway.
                match request {
                    Some(request) => request.respond(Err(CommandError::NotSupported(
                        "an SMDR link only reports call records".into(),
                    ))),
                    None => return Down::Stop,
                }
                continue;
            }
            replacement = transport.replacement() => match replacement {
                Ok(new) => {
                    tracing::info!(switch = %link.switch, peer = %new.peer, "the switch connected again; the new connection replaces the old");
                    stream = new.stream;
                    reader.reconnected();
                    continue;
                }
                Err(e) => return Down::Reason(format!("accepting a connection failed: {e}")),
            },
            _ = tick.tick() => reader.push(&[]),
            read = stream.read(&mut buf) => match read {
                Ok(0) => return Down::Reason("the switch closed the link".into()),
                Err(e) => return Down::Reason(e.to_string()),
                Ok(n) => reader.push(buf.get(..n).unwrap_or_default()),
            },
        };
        for output in outputs {
            match output {
                Output::Record(done) => {
                    if !link
                        .send_raw(SwitchEvent::CallRecord(done.record), done.raw)
                        .await
                    {
                        return Down::Stop;
                    }
                }
                Output::Issue(issue) => tracing::warn!(
                    switch = %link.switch,
                    line = issue.line,
                    offset = issue.offset,
                    error = %issue.error,
                    text = %issue.text,
                    "SMDR line skipped"
                ),
            }
        }
    }
}

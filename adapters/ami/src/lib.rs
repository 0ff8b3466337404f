//! The `ami` adapter: the Asterisk Manager Interface (Asterisk 13–20; FreePBX,
//! Issabel, VitalPBX) over TCP.
//!
//! Map of the crate:
//! - [`codec`]: AMI message framing (banner, `Key: Value` lines, blank line), with
//!   borrowed headers and errors naming the byte offset.
//! - [`tracker`]: the call/agent state machine from AMI events (sans-I/O).
//! - [`config`]: the `[[switch]]` keys ([`AmiConfig`]) and their example.
//! - [`actions`]: daemon commands → AMI actions, and Asterisk's errors → API errors.
//! - [`resync`]: CoreShowChannels and QueueStatus after every (re)connect → the
//!   tracker's state and a `Snapshot`.
//! - [`session`]: one connected link (banner, Login, Events, Ping, ActionID
//!   correlation with a timeout).
//! - [`adapter`]: connect, run a session, reconnect with backoff.
//! - [`decode`]: `ctibridge decode --adapter ami`.
//! - [`bench`]: bytes in → events out, the entry point for throughput measurement.
//! - `fake` (feature `fake-ami`): a fake Asterisk on loopback for tests.

pub mod actions;
pub mod adapter;
pub mod bench;
pub mod codec;
pub mod config;
pub mod decode;
pub mod resync;
pub mod session;
pub mod tls;
pub mod tracker;

#[cfg(feature = "fake-ami")]
pub mod fake;

use ctibridge_adapter::{Adapter, AdapterFactory, SettingsError, SwitchSettings};

pub use adapter::AmiAdapter;
pub use config::AmiConfig;

/// How the daemon builds an `ami` adapter from its `[[switch]]` table.
pub fn factory() -> AdapterFactory {
    AdapterFactory {
        name: "ami",
        summary: "Asterisk Manager Interface over TCP (Asterisk 13-20, FreePBX, Issabel, VitalPBX)",
        example: config::EXAMPLE,
        build,
        decode: Some(decode::decode),
    }
}

fn build(settings: &SwitchSettings) -> Result<Box<dyn Adapter>, SettingsError> {
    let config: AmiConfig = settings.parse(&["request_timeout_s"])?;
    config.validate()?;
    Ok(Box::new(AmiAdapter::new(config, settings.devices.clone())))
}

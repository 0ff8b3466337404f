//! `ctibridge-smdr`: the `smdr` adapter. Many PBXs report calls only as Station
//! Message Detail Records (SMDR, call detail records) printed on an RS-232 port or
//! streamed over TCP, one line per call. This adapter reads them and reports each
//! as a [`ctibridge_adapter::CallRecord`] with its raw line; the engine turns them
//! into `call.record` events and call-log rows.
//!
//! Map of the crate:
//! - [`config`]: the `[[switch]]` keys, their checks and [`config::EXAMPLE`].
//! - [`transport`]: the byte link (serial port, TCP connect, TCP listen).
//! - [`framing`]: record terminators and line noise.
//! - [`format`](mod@format): one module per built-in record format, and the TOML-defined one.
//! - [`record`]: joining a call's continuation lines.
//! - [`dedup`]: dropping records a switch replays after a reconnect.
//! - [`reader`]: bytes → records (framing, format, dedup, joining), shared by the
//!   adapter and the decoder.
//! - [`adapter`]: [`SmdrAdapter`], the run loop with reconnects.
//! - [`decode`]: `ctibridge decode --adapter smdr`.
//! - [`error`]: why a line could not be read.

pub mod adapter;
pub mod config;
pub mod decode;
pub mod dedup;
pub mod error;
pub mod format;
pub mod framing;
pub mod reader;
pub mod record;
pub mod transport;

use ctibridge_adapter::{Adapter, AdapterFactory, SettingsError, SwitchSettings};

pub use adapter::SmdrAdapter;
pub use config::{SmdrConfig, SmdrKeys};

/// How the daemon builds an `smdr` adapter from its `[[switch]]` table.
pub fn factory() -> AdapterFactory {
    AdapterFactory {
        name: "smdr",
        summary: "SMDR/CDR call records from a serial port or TCP (Avaya IP Office, Mitel, Inter-Tel, NEC, Panasonic, Asterisk, custom)",
        example: config::EXAMPLE,
        build,
        decode: Some(decode::decode),
    }
}

fn build(settings: &SwitchSettings) -> Result<Box<dyn Adapter>, SettingsError> {
    let keys: SmdrKeys = settings.parse(&[])?;
    Ok(Box::new(SmdrAdapter::new(keys.check()?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctibridge_adapter::config_kit::switch_settings as settings;

    #[test]
    fn the_example_builds() {
        let adapter = (factory().build)(&settings(factory().example)).expect("example builds");
        assert!(!adapter.capabilities().live_calls);
    }

    #[test]
    fn a_misspelt_key_is_named() {
        let err = (factory().build)(&settings(
            "[[switch]]\nname='s'\nadapter='smdr'\nlisten='127.0.0.1:1'\nformat='axxess'\nbuad=9600",
        ))
        .err()
        .expect("rejected");
        assert_eq!(err.key.as_deref(), Some("buad"));
    }
}

//! The `csta` adapter: ECMA-323 (CSTA Phase III XML) over TCP, the link most PBX/ACD
//! switches offer to CTI applications (OpenScape/HiPath, Avaya AES, Alcatel, Mitel,
//! Ericsson MX-ONE and other ECMA-323 servers), and the same CSTA as ASN.1 BER
//! (Phase II and III) for the older ones.
//!
//! Map of the crate:
//! - [`config`]: the `[[switch]]` keys ([`CstaConfig`]) and their example.
//! - [`framing`]: message delimiting on the stream (8-byte header, NUL, bare XML)
//!   and resynchronisation after bytes that fit no frame.
//! - [`xml`]: a bounded element tree read by local name, and the request writer.
//! - [`address`]: the number in a device identifier (`N<+4989…>;displayNumber=…`,
//!   `tel:…;phone-context=…`).
//! - [`events`]: ECMA-323 events to normalised `SwitchEvent`s.
//! - [`correlate`]: calls the switch names only by a device (OpenScape Voice).
//! - [`message`]: what a document is (event, response, error, heartbeat) and the
//!   CSTA error → API error table.
//! - [`requests`]: the CSTA service for each daemon command.
//! - [`snapshot`]: the switch's state after (re)connecting, from SnapshotDevice and
//!   GetAgentState.
//! - [`devices`]: phones by extension or by Avaya DMCC device id.
//! - [`ids`]: call ids as the engine knows them versus as the switch uses them
//!   after a transfer.
//! - [`dedup`]: one event per occurrence when several monitors see it.
//! - [`session`]: one connected session (application session, monitors, traffic).
//! - [`adapter`]: connect or accept, reconnect with backoff.
//! - [`decode`]: `ctibridge decode --adapter csta` (`described`: one event as a decode
//!   line, for both encodings).
//! - [`ber`]: the ASN.1 BER encoding (`encoding = "ber"`, Phase II and III):
//!   APDUs to and from the same elements the XML link carries.
//! - [`wire`]: the link's codec, XML framing or BER, as the session sees it.
//! - `fake` (feature `fake-switch`): a fake CSTA switch on loopback for tests.

pub mod adapter;
pub mod address;
pub mod ber;
pub mod config;
pub mod correlate;
pub mod decode;
pub mod dedup;
mod described;
pub mod devices;
pub mod events;
pub mod framing;
pub mod ids;
pub mod message;
pub mod requests;
pub mod session;
pub mod snapshot;
pub mod wire;
pub mod xml;

#[cfg(feature = "fake-switch")]
pub mod fake;

use ctibridge_adapter::{Adapter, AdapterFactory, SettingsError, SwitchSettings};

pub use adapter::CstaAdapter;
pub use config::CstaConfig;
pub use framing::Framing;

/// How the daemon builds a `csta` adapter from its `[[switch]]` table.
pub fn factory() -> AdapterFactory {
    AdapterFactory {
        name: "csta",
        summary:
            "ECMA-323 CSTA XML over TCP (OpenScape/HiPath, Avaya AES, Alcatel, Mitel, MX-ONE, …)",
        example: config::EXAMPLE,
        build,
        decode: Some(decode::decode),
    }
}

fn build(settings: &SwitchSettings) -> Result<Box<dyn Adapter>, SettingsError> {
    let config: CstaConfig = settings.parse(&["request_timeout_s"])?;
    let endpoint = config.validate(&settings.devices)?;
    Ok(Box::new(CstaAdapter::new(
        config,
        endpoint,
        settings.devices.clone(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctibridge_adapter::config_kit::switch_settings as settings;

    #[test]
    fn the_example_builds() {
        let settings = settings(factory().example);
        let config: CstaConfig = settings.parse(&["request_timeout_s"]).unwrap();
        assert_eq!(config.username.as_deref(), Some("ctibridge"));
        let adapter = (factory().build)(&settings).expect("example builds");
        assert!(adapter
            .capabilities()
            .supports(ctibridge_adapter::CommandKind::TransferConsult));
    }

    #[test]
    fn a_misspelt_key_is_named() {
        let err = (factory().build)(&settings(
            "[[switch]]\nname='p'\nadapter='csta'\ndevices=['1001']\nhost='h'\nport=1\nframming='nul'",
        ))
        .err()
        .unwrap();
        assert_eq!(err.key.as_deref(), Some("framming"));
    }
}

//! The contract between the ctibridge daemon and the adapters that speak to switches.
//!
//! An adapter owns one link to one switch (a CSTA TCP session, a serial SMDR port, a
//! SIP user agent, a simulator). It turns what the switch says into normalised
//! [`SwitchEvent`]s and carries out [`Command`]s. It never touches the database or the
//! WebSocket clients: the daemon's engine does that.
//!
//! Map of the crate:
//! - [`backoff`]: the jittered reconnect wait and the link-down reporting rule every
//!   adapter that owns a connection shares ([`Backoff`], [`Outage`]).
//! - [`event`]: the normalised, CSTA-shaped event model ([`SwitchEvent`], [`CallRecord`],
//!   the [`Snapshot`] an adapter sends after (re)connecting).
//! - [`command`]: what the daemon asks of a switch ([`Command`]), the request with its
//!   reply channel ([`CommandRequest`]) and the stable error kinds ([`CommandError`]).
//! - [`capabilities`]: which commands an adapter carries out ([`Capabilities`]).
//! - [`link`]: the channels between an adapter task and the engine ([`AdapterLink`]).
//! - [`adapter`]: the [`Adapter`] trait and the [`Registry`] that builds an adapter
//!   from its `[[switch]]` table.
//! - [`settings`]: the `[[switch]]` keys every adapter shares, and strict parsing of
//!   the adapter's own keys.
//! - [`duration`]: `_s` and `_ms` configuration keys read into `Duration`s.
//! - [`decode`]: what `ctibridge decode` asks of an adapter (a capture in, events out).
//! - [`switch_time`]: a time as a switch printed it ([`SwitchTime`]), local or at an offset.
//! - `tls` (feature `tls`): the rustls client adapters use to reach a switch over TLS;
//!   `test_pki` (feature `testkit-tls`): a CA and a server certificate for TLS tests.
//! - `testkit` (feature `testkit`): the conformance kit every adapter must pass;
//!   `config_kit`: the configuration checks every adapter's tests share;
//!   `config_keys`: the keys of a config struct, its docs table and its example, compared.

pub mod adapter;
pub mod backoff;
pub mod capabilities;
pub mod command;
#[cfg(feature = "testkit")]
pub mod config_keys;
#[cfg(feature = "testkit")]
pub mod config_kit;
pub mod decode;
pub mod duration;
pub mod event;
pub mod link;
pub mod settings;
pub mod switch_time;
#[cfg(feature = "testkit-tls")]
pub mod test_pki;
#[cfg(feature = "testkit")]
pub mod testkit;
#[cfg(feature = "tls")]
pub mod tls;

pub use adapter::{Adapter, AdapterError, AdapterFactory, AdapterFuture, Registry};
pub use backoff::{Backoff, Outage};
pub use capabilities::Capabilities;
pub use command::{
    AgentStateRequest, Command, CommandError, CommandKind, CommandOk, CommandRequest, MonitorMode,
    TransferMode,
};
pub use decode::{DecodeFn, DecodeIssue, DecodeOptions, Decoded};
pub use event::{
    AdapterEvent, AgentSnapshot, AgentState, CallRecord, Direction, PartySnapshot, PartyState,
    Snapshot, SnapshotCall, SwitchEvent,
};
pub use link::{AdapterLink, EngineSide};
pub use settings::{SettingsError, SwitchSettings};
pub use switch_time::SwitchTime;

//! ctibridge: a CTI middleware daemon. It sits beside a legacy PBX/ACD switch, speaks
//! the switch's own link through adapters, keeps one normalised picture of calls and
//! agents, looks callers up in the CRM database, and serves CRM applications over a
//! WebSocket JSON protocol (docs/protocol.md).
//!
//! Map of the crate, following the data:
//!
//! ```text
//! switch --> adapter --(SwitchEvent)--> engine --(event + writes)--> gate --> hub --> clients
//!                ^                        |  ^                         |
//!                |                        v  |                         v
//!                +------(Command)------ CRM look-up               database / journal
//! client --(req)--> api --(EngineRequest)--> engine
//! ```
//!
//! - [`config`]: the TOML file, strictly parsed, errors with file:line.
//! - [`adapters`]: the adapters built in (the contract is the `ctibridge-adapter` crate).
//! - `engine`: the single owner of call and agent state; stable call ids, pops, seq.
//! - `gate`: makes each event's database writes durable before the event is published.
//! - `hub`: fans events out with bounded per-client queues and a replay ring.
//! - `api`: HTTP routes and the WebSocket protocol.
//! - [`auth`]: hashed tokens, roles and scope.
//! - [`crm`]: the database: contacts, look-ups, call log, agent-state journal.
//! - [`metrics`]: `/metrics` and `/healthz` figures; [`reports`]: queue and agent reports.
//! - [`daemon`]: start-up and orderly shutdown; [`demo`]: the zero-config demo.
//! - [`cli`], [`commands`]: the command line; [`time`]: time helpers (a leaf).
//! - [`bench`]: `ctibridge bench`, the whole pipeline measured on loopback.
//! - [`tls`]: the API port's certificate and key, reloadable (a leaf).

pub mod adapters;
/// Private to the crate (as are `engine`, `gate` and `hub`), so the compiler flags
/// what nothing uses.
pub(crate) mod api;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod config;
pub mod crm;
pub mod daemon;
pub mod demo;
pub(crate) mod engine;
pub(crate) mod gate;
pub(crate) mod hub;
pub mod metrics;
pub mod reports;
pub mod time;
pub mod tls;

/// The parser of a client's WebSocket text frames, public for the `ws_frame` fuzz
/// target: the `api` module itself is private to the crate.
#[doc(hidden)]
pub use api::protocol::parse as parse_client_frame;

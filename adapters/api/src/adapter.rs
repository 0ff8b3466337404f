//! The adapter trait and the registry that builds adapters from configuration.
//!
//! Every adapter is built the same way (as vector's components are): a documented
//! config struct parsed strictly from its `[[switch]]` table, one `build` function,
//! an example table for the docs, and the conformance kit in its tests.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use crate::capabilities::Capabilities;
use crate::decode::DecodeFn;
use crate::link::AdapterLink;
use crate::settings::{SettingsError, SwitchSettings};

pub type AdapterFuture = Pin<Box<dyn Future<Output = Result<(), AdapterError>> + Send>>;

/// An adapter failed in a way reconnecting cannot mend (its configuration cannot
/// work, a device cannot be opened at all). Link drops are not errors: the adapter
/// reports `LinkDown` and reconnects by itself.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AdapterError(pub String);

/// One link to one switch.
pub trait Adapter: Send + 'static {
    /// What this adapter can do; asked once, before `run`.
    fn capabilities(&self) -> Capabilities;

    /// Own the link until `link.shutdown` is cancelled: connect, report `LinkUp` and a
    /// `Snapshot`, turn switch traffic into events, carry out commands, and on a drop
    /// report `LinkDown` and reconnect with backoff.
    fn run(self: Box<Self>, link: AdapterLink) -> AdapterFuture;
}

/// How to build one kind of adapter.
#[derive(Clone, Copy)]
pub struct AdapterFactory {
    /// The `adapter = "…"` name.
    pub name: &'static str,
    /// One line for `--help` and the docs.
    pub summary: &'static str,
    /// An example `[[switch]]` table with every key, commented.
    pub example: &'static str,
    /// Check the settings and build the adapter. Must not touch the network.
    pub build: fn(&SwitchSettings) -> Result<Box<dyn Adapter>, SettingsError>,
    /// Decode a capture offline (`ctibridge decode`), for adapters whose switch sends
    /// something worth decoding (the simulator has no wire format).
    pub decode: Option<DecodeFn>,
}

/// The adapters this daemon knows, by name.
#[derive(Default, Clone)]
pub struct Registry {
    factories: BTreeMap<&'static str, AdapterFactory>,
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    pub fn register(&mut self, factory: AdapterFactory) -> &mut Self {
        self.factories.insert(factory.name, factory);
        self
    }

    pub fn get(&self, name: &str) -> Option<&AdapterFactory> {
        self.factories.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.factories.keys().copied()
    }

    /// Build the adapter a `[[switch]]` table names.
    pub fn build(&self, settings: &SwitchSettings) -> Result<Box<dyn Adapter>, SettingsError> {
        let factory = self.get(&settings.adapter).ok_or_else(|| {
            SettingsError::new(
                "adapter",
                format!(
                    "unknown adapter `{}`; known adapters: {}",
                    settings.adapter,
                    self.names().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        (factory.build)(settings)
    }
}

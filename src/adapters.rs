//! The adapters built into this binary, by `adapter = "…"` name.

use ctibridge_adapter::Registry;

pub fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register(ctibridge_ami::factory());
    registry.register(ctibridge_csta::factory());
    registry.register(ctibridge_sim::factory());
    registry.register(ctibridge_sip::factory());
    registry.register(ctibridge_smdr::factory());
    registry
}

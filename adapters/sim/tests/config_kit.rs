//! The shared configuration checks (ctibridge_adapter::config_kit) for this adapter.

use ctibridge_adapter::config_kit;

#[test]
fn the_documented_example_builds_and_an_unknown_key_is_named() {
    let factory = ctibridge_sim::factory();
    let tables = config_kit::example_builds(&factory).unwrap();
    assert!(tables >= 1);
    config_kit::unknown_key_is_named(&factory).unwrap();
}

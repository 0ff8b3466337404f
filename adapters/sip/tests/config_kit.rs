//! The shared configuration checks (ctibridge_adapter::config_kit, config_keys) for
//! this adapter.

use ctibridge_adapter::{config_keys, config_kit};

#[test]
fn the_documented_example_builds_and_an_unknown_key_is_named() {
    let factory = ctibridge_sip::factory();
    let tables = config_kit::example_builds(&factory).unwrap();
    assert!(tables >= 1);
    config_kit::unknown_key_is_named(&factory).unwrap();
}

/// The keys `SipConfig` reads, the `[[switch]]` keys documented in docs/adapters.md
/// and the keys of `EXAMPLE` are the same (the shared keys the daemon reads aside).
#[test]
fn the_struct_the_docs_and_the_example_name_the_same_keys() {
    let documented = config_keys::documented_keys(
        include_str!("../../../docs/adapters.md"),
        &["## The `sip` adapter", "### Keys"],
    );
    config_keys::compare(
        "sip",
        &config_keys::struct_keys::<ctibridge_sip::config::SipConfig>(),
        &documented,
        Some(&config_keys::example_keys(ctibridge_sip::config::EXAMPLE)),
        &config_keys::SHARED_SWITCH_KEYS,
    )
    .unwrap();
}

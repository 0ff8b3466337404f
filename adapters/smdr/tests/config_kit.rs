//! The shared configuration checks (ctibridge_adapter::config_kit) for this adapter.

use ctibridge_adapter::{config_keys, config_kit};

#[test]
fn the_documented_example_builds_and_an_unknown_key_is_named() {
    let factory = ctibridge_smdr::factory();
    let tables = config_kit::example_builds(&factory).unwrap();
    assert!(tables >= 1);
    config_kit::unknown_key_is_named(&factory).unwrap();
}

/// The keys `SmdrKeys` reads, the `[[switch]]` keys documented in docs/adapters.md
/// and the keys of `EXAMPLE` are the same (the shared keys the daemon reads aside).
#[test]
fn the_struct_the_docs_and_the_example_name_the_same_keys() {
    let documented = config_keys::documented_keys(
        include_str!("../../../docs/adapters.md"),
        &["## The `smdr` adapter", "### Keys"],
    );
    config_keys::compare(
        "smdr",
        &config_keys::struct_keys::<ctibridge_smdr::config::SmdrKeys>(),
        &documented,
        Some(&config_keys::example_keys(ctibridge_smdr::config::EXAMPLE)),
        &config_keys::SHARED_SWITCH_KEYS,
    )
    .unwrap();
}

//! The configuration file: any text is a config or an error naming the line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let registry = ctibridge::adapters::registry();
        if let Err(e) = ctibridge::config::load_str(text, &registry) {
            assert!(!e.message.is_empty());
        }
    }
});

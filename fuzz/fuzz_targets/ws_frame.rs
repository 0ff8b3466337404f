//! WebSocket client frames: any bytes a client sends as text get a frame or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ctibridge::parse_client_frame(text);
    }
});

//! SIP messages as a PBX (or anything else reaching our port) sends them: parsing,
//! stream framing, the uaCSTA body reader (CSTA XML in INFOs and 200s) and the
//! offline decoder must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = ctibridge_sip::message::Message::parse(data) {
        let _ = ctibridge_sip::csta_body::csta_body(&message);
    }
    let _ = ctibridge_sip::message::message_len(data);
    let _ = ctibridge_sip::decode::decode(&Default::default(), data);
});

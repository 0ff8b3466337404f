//! SIP messages as a PBX (or anything else reaching our port) sends them: parsing,
//! stream framing and the offline decoder must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ctibridge_sip::message::Message::parse(data);
    let _ = ctibridge_sip::message::message_len(data);
    let _ = ctibridge_sip::decode::decode(&Default::default(), data);
});

//! CSTA BER: any bytes, as a stream of length-prefixed APDUs split at any point, come
//! out as APDUs, skipped runs or a framing error (never a panic, never a loop); every
//! APDU reads into an element or an error in either phase, the element classifies,
//! and `ctibridge decode --format ber` takes the same bytes whole.
#![no_main]

use bytes::BytesMut;
use ctibridge_csta::ber::{self, framing::BerCodec, Phase};
use ctibridge_csta::framing::Decoded;
use ctibridge_csta::message::classify_element;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

fn read(apdu: &[u8], phase: Phase) {
    if let Ok(inbound) = ber::read(apdu, phase.module()) {
        let _ = ber::read::raw_details(&inbound.root);
        let _ = classify_element(inbound.root);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let phase = if selector & 1 == 0 { Phase::Two } else { Phase::Three };
    // The bytes as one APDU, in both phases.
    read(input, Phase::Two);
    read(input, Phase::Three);
    // The bytes as a stream, fed in two reads split where the selector says.
    let split = (selector as usize * 7) % (input.len() + 1);
    let mut codec = BerCodec::default();
    let mut buf = BytesMut::new();
    'stream: for chunk in [&input[..split], &input[split..]] {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(Decoded::Frame(frame))) => read(&frame.xml, phase),
                Ok(Some(Decoded::Skipped { .. })) => {}
                Ok(None) => break,
                // A framing error ends the stream, as it ends the link.
                Err(_) => break 'stream,
            }
        }
    }
    let _ = ber::decode::decode(phase, input);
});

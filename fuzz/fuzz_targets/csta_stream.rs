//! CSTA stream decoding: any bytes, in any framing, split at any point, come out as
//! frames and skipped runs (every item consumes input, so the loop ends), and every
//! frame classifies or fails with an error; nothing panics.
#![no_main]

use bytes::BytesMut;
use ctibridge_csta::framing::{Decoded, FrameCodec, Framing};
use ctibridge_csta::message::classify;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let framing = match selector % 3 {
        0 => Framing::Header,
        1 => Framing::Nul,
        _ => Framing::Bare,
    };
    // Feed the input in two reads, split where the selector says.
    let split = (selector as usize * 7) % (input.len() + 1);
    let mut codec = FrameCodec::new(framing);
    let mut buf = BytesMut::new();
    for chunk in [&input[..split], &input[split..]] {
        buf.extend_from_slice(chunk);
        while let Ok(Some(item)) = codec.decode(&mut buf) {
            if let Decoded::Frame(frame) = item {
                let _ = classify(&frame.xml);
            }
        }
    }
    while let Ok(Some(item)) = codec.decode_eof(&mut buf) {
        if let Decoded::Frame(frame) = item {
            let _ = classify(&frame.xml);
        }
    }
});

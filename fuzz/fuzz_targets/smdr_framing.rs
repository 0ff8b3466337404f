//! SMDR framing: any bytes, with every terminator style, never panic, and every
//! line stays within the record limit.
#![no_main]

use ctibridge_smdr::framing::{Framer, Terminator, MAX_RECORD};
use libfuzzer_sys::fuzz_target;

const STYLES: [Terminator; 7] = [
    Terminator::Auto,
    Terminator::Crlf,
    Terminator::Cr,
    Terminator::Lf,
    Terminator::Lfcr,
    Terminator::Nul,
    Terminator::StxEtx,
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mut framer = Framer::new(STYLES[usize::from(first) % STYLES.len()]);
    let split = rest.len() / 2;
    let mut frames = framer.push(&rest[..split]);
    frames.extend(framer.push(&rest[split..]));
    frames.extend(framer.finish());
    assert!(frames.iter().all(|f| f.text.len() <= MAX_RECORD * 4));
});

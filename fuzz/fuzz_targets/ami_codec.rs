//! The AMI reader and tracker on arbitrary bytes, fed in two pieces: no panic, and
//! a well-formed message after the garbage (and a blank line) is always read whole.
#![no_main]

use ctibridge_ami::bench::Pipeline;
use ctibridge_ami::codec::{Item, Parser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cut = data.first().map(|b| *b as usize).unwrap_or(0).min(data.len());
    let mut pipeline = Pipeline::new(true, &["1001".into(), "1002".into()], &[], &[]);
    pipeline.feed(&data[..cut]);
    pipeline.feed(&data[cut..]);

    let mut parser = Parser::new(false);
    parser.feed(data);
    parser.feed(b"\r\n\r\nEvent: Sentinel\r\nUniqueid: 1.1\r\n\r\n");
    let mut last = None;
    while let Some(item) = parser.next() {
        if let Item::Message(m) = item {
            last = m.event().map(String::from);
        }
    }
    assert_eq!(last.as_deref(), Some("Sentinel"));
});

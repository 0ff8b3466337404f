//! The `mitel-mivb-extended` SMDR format: any bytes, through framing and the parser, never panic.
#![no_main]

use ctibridge_smdr::format::Format;
use ctibridge_smdr::framing::Terminator;
use ctibridge_smdr::reader::Reader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let format = Format::named("mitel-mivb-extended").expect("a built-in format");
    let mut reader = Reader::new(format, Terminator::Auto, None, 64);
    let _ = reader.push(data);
    let _ = reader.finish();
});

//! The TOML-defined SMDR format: the first part of the input is the format's TOML,
//! the rest the capture; neither may make it panic.
#![no_main]

use ctibridge_smdr::format::custom::{Custom, CustomSpec};
use ctibridge_smdr::format::Format;
use ctibridge_smdr::framing::Terminator;
use ctibridge_smdr::reader::Reader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (spec, capture) = text.split_once("\n---\n").unwrap_or((&text, ""));
    let Ok(spec) = toml::from_str::<CustomSpec>(spec) else {
        return;
    };
    let Ok(custom) = Custom::new(spec) else {
        return;
    };
    let mut reader = Reader::new(Format::Custom(Box::new(custom)), Terminator::Auto, None, 64);
    let _ = reader.push(capture.as_bytes());
    let _ = reader.finish();
});

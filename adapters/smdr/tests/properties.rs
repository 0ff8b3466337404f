//! Property tests: no input makes the reader panic, and a good record after any
//! garbage still comes out.

use ctibridge_smdr::format::{Builtin, Format};
use ctibridge_smdr::framing::Terminator;
use ctibridge_smdr::reader::{Output, Reader};
use proptest::prelude::*;

const GOOD: &str = "2026/03/10 09:14:02,00:03:41,6,4155550123,I,2001,2001,,0,1000042,0,E2001,Anna,T9001,Line 1.1,0,0";

fn terminators() -> impl Strategy<Value = Terminator> {
    prop_oneof![
        Just(Terminator::Auto),
        Just(Terminator::Crlf),
        Just(Terminator::Cr),
        Just(Terminator::Lf),
        Just(Terminator::Lfcr),
        Just(Terminator::Nul),
        Just(Terminator::StxEtx),
    ]
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096), t in terminators(), split in 0usize..4096) {
        for builtin in Builtin::ALL {
            let mut reader = Reader::new(Format::Builtin(builtin), t, None, 100);
            let split = split.min(bytes.len());
            let _ = reader.push(&bytes[..split]);
            let _ = reader.push(&bytes[split..]);
            let _ = reader.finish();
        }
    }

    #[test]
    fn text_like_garbage_never_panics(line in "[ -~]{0,200}") {
        for builtin in Builtin::ALL {
            let mut reader = Reader::new(Format::Builtin(builtin), Terminator::Auto, None, 100);
            let _ = reader.push(line.as_bytes());
            let _ = reader.finish();
        }
    }

    #[test]
    fn a_good_record_after_garbage_parses(garbage in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut reader = Reader::new(Format::named("avaya-ipo").unwrap(), Terminator::Auto, None, 100);
        let mut input = garbage;
        input.extend_from_slice(b"\r\n");
        input.extend_from_slice(GOOD.as_bytes());
        input.extend_from_slice(b"\r\n");
        let outputs = reader.push(&input);
        let last = outputs.last().cloned();
        match last {
            Some(Output::Record(done)) => prop_assert_eq!(done.raw, GOOD),
            other => prop_assert!(false, "no record at the end: {:?}", other),
        }
    }
}

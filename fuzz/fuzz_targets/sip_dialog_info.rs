//! dialog-info+xml bodies: the parser and the monitor fed with whatever parses
//! must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = ctibridge_sip::dialog_info::parse(data) {
        let mut monitor = ctibridge_sip::monitor::Monitor::new("1001", 0);
        let _ = monitor.apply(&info);
        monitor.resubscribed();
        let _ = monitor.apply(&info);
        let _ = monitor.live_calls();
    }
});

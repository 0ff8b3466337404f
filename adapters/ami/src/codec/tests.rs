//! Framing tests: real forms, bad bytes, and splits at every position.

use super::*;

/// Every item of `input` fed in one piece, as text.
fn items(parser: &mut Parser, input: &[u8]) -> Vec<String> {
    parser.feed(input);
    let mut out = Vec::new();
    while let Some(item) = parser.next() {
        out.push(match item {
            Item::Banner(b) => format!("banner {b}"),
            Item::Message(m) => format!("msg {}", m.to_text().replace("\r\n", "|")),
            Item::Error(e) => format!("error {e}"),
        });
    }
    out
}

const LOGIN: &[u8] = b"Asterisk Call Manager/5.0.1\r\nResponse: Success\r\nActionID: 1\r\nMessage: Authentication accepted\r\n\r\nEvent: FullyBooted\r\nPrivilege: system,all\r\nUptime: 512\r\nLastReload: 512\r\nStatus: Fully Booted\r\n\r\n";

#[test]
fn banner_then_messages() {
    let got = items(&mut Parser::new(true), LOGIN);
    assert_eq!(got[0], "banner Asterisk Call Manager/5.0.1");
    assert_eq!(
        got[1],
        "msg Response: Success|ActionID: 1|Message: Authentication accepted|"
    );
    assert!(got[2].starts_with("msg Event: FullyBooted|"), "{got:?}");
    assert_eq!(got.len(), 3);
}

#[test]
fn every_split_gives_the_same_items() {
    let whole = items(&mut Parser::new(true), LOGIN);
    for cut in 0..LOGIN.len() {
        let mut p = Parser::new(true);
        let mut got = items(&mut p, &LOGIN[..cut]);
        got.extend(items(&mut p, &LOGIN[cut..]));
        assert_eq!(got, whole, "cut at {cut}");
    }
}

#[test]
fn lookup_is_case_insensitive_and_values_are_trimmed() {
    let mut p = Parser::new(false);
    p.feed(b"Event: Hangup\r\nUniqueID:   1700000001.17  \r\nCause-txt: Normal Clearing\r\n\r\n");
    let Some(Item::Message(m)) = p.next() else {
        panic!()
    };
    assert_eq!(m.get("Uniqueid"), Some("1700000001.17"));
    assert_eq!(m.get("cause-txt"), Some("Normal Clearing"));
    assert_eq!(m.get("Linkedid"), None);
}

#[test]
fn a_line_without_colon_is_named_and_the_message_kept() {
    let mut p = Parser::new(false);
    let got = items(
        &mut p,
        b"Event: Newchannel\r\nthis is garbage\r\nChannel: PJSIP/1001-00000001\r\n\r\nEvent: Ping\r\n\r\n",
    );
    assert_eq!(
        got[0],
        "error byte 19: line without `Key: Value` (no colon); line skipped"
    );
    assert_eq!(
        got[1],
        "msg Event: Newchannel|Channel: PJSIP/1001-00000001|"
    );
    assert_eq!(got[2], "msg Event: Ping|");
}

#[test]
fn a_megabyte_line_is_dropped_in_pieces_and_the_stream_goes_on() {
    let mut p = Parser::new(false);
    let mut got = items(&mut p, b"Event: VarSet\r\nValue: ");
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..16 {
        got.extend(items(&mut p, &chunk));
        assert!(
            p.buffered() <= 2 * MAX_LINE,
            "memory bounded: {}",
            p.buffered()
        );
    }
    got.extend(items(&mut p, b"\r\nUniqueid: 9\r\n\r\nEvent: Ping\r\n\r\n"));
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        got[0],
        format!("error byte 15: line longer than {MAX_LINE} bytes; line dropped")
    );
    assert_eq!(got[1], "msg Event: VarSet|Uniqueid: 9|");
    assert_eq!(got[2], "msg Event: Ping|");
}

#[test]
fn offsets_after_a_dropped_line_count_the_dropped_bytes() {
    let mut p = Parser::new(false);
    let mut input = b"Event: A\r\n".to_vec();
    input.extend(vec![b'y'; MAX_LINE + 10]);
    input.extend(b"\r\nbad line\r\n\r\n");
    let got = items(&mut p, &input);
    let bad_at = 10 + MAX_LINE + 10 + 2;
    assert_eq!(
        got[1],
        format!("error byte {bad_at}: line without `Key: Value` (no colon); line skipped")
    );
}

#[test]
fn invalid_utf8_values_do_not_lose_the_event() {
    let mut p = Parser::new(false);
    p.feed(b"Event: Newchannel\r\nCallerIDName: M\xfcller\r\nCallerIDNum: 0301234\r\n\r\n");
    let Some(Item::Message(m)) = p.next() else {
        panic!()
    };
    assert_eq!(m.get("CallerIDName"), None);
    assert_eq!(m.get_bytes("CallerIDName"), Some(&b"M\xfcller"[..]));
    assert_eq!(m.get("CallerIDNum"), Some("0301234"));
}

#[test]
fn bare_lf_and_extra_blank_lines_are_accepted() {
    let got = items(
        &mut Parser::new(false),
        b"\r\n\nEvent: A\nX: 1\n\n\r\nEvent: B\r\n\r\n",
    );
    assert_eq!(got, ["msg Event: A|X: 1|", "msg Event: B|"]);
}

#[test]
fn written_values_cannot_inject_a_second_action() {
    let mut out = Vec::new();
    write_message(
        &mut out,
        &[
            ("Action", "Originate"),
            ("Exten", "1\r\n\r\nAction: Hangup"),
        ],
    );
    let got = items(&mut Parser::new(false), &out);
    assert_eq!(got, ["msg Action: Originate|Exten: 1    Action: Hangup|"]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever precedes it, a well-formed message after a blank line is read
        /// whole, and nothing panics.
        #[test]
        fn garbage_never_desynchronises(garbage in proptest::collection::vec(any::<u8>(), 0..2000), cut in 0usize..200) {
            let mut p = Parser::new(false);
            let mut input = garbage.clone();
            input.extend_from_slice(b"\r\n\r\nEvent: Hangup\r\nUniqueid: 77.1\r\n\r\n");
            let cut = cut.min(input.len());
            let mut got = items(&mut p, &input[..cut]);
            got.extend(items(&mut p, &input[cut..]));
            prop_assert_eq!(got.last().map(String::as_str), Some("msg Event: Hangup|Uniqueid: 77.1|"));
        }
    }
}

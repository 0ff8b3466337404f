//! The click-to-dial state machine against answers written as PBXs send them.

use super::*;
use ctibridge_adapter::Command;
use tokio::sync::oneshot;

pub(super) fn ctx(udp: bool) -> DialContext {
    DialContext {
        local: Local {
            transport: if udp { "UDP" } else { "TCP" },
            addr: "192.0.2.10:5070".parse().unwrap(),
            user: "ctibridge".into(),
            domain: "pbx.example".into(),
        },
        t1: Duration::from_millis(500),
        udp,
        ring_limit: Duration::from_secs(10),
        refer_fallback: true,
    }
}

pub(super) fn dial() -> (Dial, oneshot::Receiver<Result<CommandOk, CommandError>>) {
    let (request, answer) = CommandRequest::new(Command::MakeCall {
        from: "1001".into(),
        to: "+442079460123".into(),
    });
    let to = destination_uri("+442079460123", "pbx.example").unwrap();
    (Dial::new(request, "1001", to, "pbx.example"), answer)
}

pub(super) fn parse(bytes: &[u8]) -> Message {
    Message::parse(bytes).unwrap()
}

/// The PBX's answer to `request`, with extra header lines.
pub(super) fn answer(request: &[u8], code: u16, extra: &[&str]) -> Message {
    let request = parse(request);
    let text = request.response(code, "ph0ne");
    let (head, _) = text.split_once("Content-Length").unwrap();
    let mut out = head.to_string();
    for line in extra {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    parse(out.as_bytes())
}

pub(super) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A NOTIFY of the REFER's implicit subscription, from the phone to us.
pub(super) fn notify(dial_invite: &[u8], frag: &str, state: &str) -> Message {
    let invite = parse(dial_invite);
    let body = format!("{frag}\r\n");
    let raw = format!(
        "NOTIFY sip:ctibridge@192.0.2.10:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKn1\r\n\
         From: <sip:1001@pbx.example>;tag=ph0ne\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 7 NOTIFY\r\n\
         Event: refer\r\nSubscription-State: {state}\r\nContent-Type: message/sipfrag;version=2.0\r\n\
         Content-Length: {}\r\n\r\n{body}",
        invite.header("from").unwrap(),
        invite.header("call-id").unwrap(),
        body.len()
    );
    parse(raw.as_bytes())
}

#[test]
fn dial_strings_and_uris() {
    assert_eq!(
        destination_uri("+44 20", "d").unwrap_err().code(),
        "invalid_destination"
    );
    let err = destination_uri("12<3", "d").unwrap_err().to_string();
    assert!(err.contains("position 2"), "{err}");
    assert_eq!(destination_uri("*72#", "d").unwrap(), "sip:*72#@d");
    assert_eq!(
        destination_uri("sip:alice@example.com", "d").unwrap(),
        "sip:alice@example.com"
    );
    assert_eq!(destination_uri("tel:+331", "d").unwrap(), "tel:+331");
    assert!(destination_uri("", "d").is_err());
}

#[tokio::test]
async fn challenge_answer_refer_report_and_leave() {
    let ctx = ctx(false);
    let mut creds = Some(Credentials::new("ctibridge", "s3cret"));
    let (mut dial, mut result) = dial();
    let now = Instant::now();
    let invite = dial.start(&ctx, &mut creds, now);
    let first = text(&invite);
    assert!(
        first.starts_with("INVITE sip:1001@pbx.example SIP/2.0\r\n"),
        "{first}"
    );
    assert!(first.contains("Call-Info: <sip:pbx.example>;answer-after=0"));
    assert!(first.contains("a=inactive") && first.contains("m=audio 9 "));

    // 401: the failure is acknowledged in its transaction and the INVITE sent again
    // with our answer to the challenge.
    let challenge = answer(
        &invite,
        401,
        &[
            r#"WWW-Authenticate: Digest realm="pbx.example", nonce="5f1e", algorithm=MD5, qop="auth""#,
        ],
    );
    assert!(dial.owns_response(&challenge));
    let out = dial.on_response(&challenge, &ctx, &mut creds, now);
    assert_eq!(out.len(), 2);
    let ack = parse(&out[0]);
    assert_eq!(ack.method(), Some("ACK"));
    assert_eq!(ack.branch(), parse(&invite).branch());
    assert_eq!(ack.header("cseq"), Some("1 ACK"));
    assert_eq!(ack.tag("to"), Some("ph0ne"));
    let invite2 = out[1].clone();
    let second = parse(&invite2);
    assert_eq!(second.header("cseq"), Some("2 INVITE"));
    assert!(second.header("authorization").is_some_and(
        |a| a.contains("nonce=\"5f1e\"") && a.contains("uri=\"sip:1001@pbx.example\"")
    ));
    assert_eq!(second.header("call-id"), parse(&invite).header("call-id"));

    // Ringing, then answered by the phone behind a proxy that records its route.
    assert!(dial
        .on_response(&answer(&invite2, 180, &[]), &ctx, &mut creds, now)
        .is_empty());
    let ok = answer(
        &invite2,
        200,
        &[
            "Contact: <sip:1001@192.0.2.77:5062;transport=tcp>",
            "Record-Route: <sip:192.0.2.1;lr>, <sip:192.0.2.2;lr>",
        ],
    );
    let out = dial.on_response(&ok, &ctx, &mut creds, now);
    assert_eq!(out.len(), 2);
    let ack = parse(&out[0]);
    assert!(text(&out[0]).starts_with("ACK sip:1001@192.0.2.77:5062;transport=tcp SIP/2.0"));
    assert_eq!(ack.header("cseq"), Some("2 ACK"));
    assert_ne!(
        ack.branch(),
        second.branch(),
        "a 2xx ACK is a new transaction"
    );
    let routes: Vec<&str> = ack.header_all("route").collect();
    assert_eq!(routes, ["<sip:192.0.2.2;lr>", "<sip:192.0.2.1;lr>"]);
    let refer_bytes = out[1].clone();
    let refer = parse(&refer_bytes);
    assert_eq!(refer.method(), Some("REFER"));
    assert_eq!(
        refer.header("refer-to"),
        Some("<sip:+442079460123@pbx.example>")
    );
    assert_eq!(refer.tag("to"), Some("ph0ne"));
    assert!(refer
        .header("authorization")
        .is_some_and(|a| a.contains("nc=00000002")));
    assert_eq!(dial.stage(), Stage::Referring);
    assert!(
        result.try_recv().is_err(),
        "no answer before the phone takes the REFER"
    );

    // The phone takes it; trying is no verdict yet.
    assert!(dial
        .on_response(&answer(&refer_bytes, 202, &[]), &ctx, &mut creds, now)
        .is_empty());
    assert!(result.try_recv().is_err(), "a 202 alone is no verdict");
    let trying = notify(&invite, "SIP/2.0 100 Trying", "active;expires=60");
    assert!(dial.owns_request(&trying));
    assert_eq!(
        dial.on_request(&trying, &ctx, &mut creds, now),
        (200, vec![])
    );
    assert!(result.try_recv().is_err(), "trying is no verdict");
    // Nothing else within the verdict window: the command is done.
    assert_eq!(dial.wake_at(), Some(now + REFER_VERDICT_WAIT));
    assert!(dial
        .on_timer(&ctx, &mut creds, now + REFER_VERDICT_WAIT)
        .is_empty());
    assert_eq!(result.try_recv().unwrap(), Ok(CommandOk::default()));

    // The final report makes us leave.
    let done = notify(&invite, "SIP/2.0 200 OK", "terminated;reason=noresource");
    let (code, out) = dial.on_request(&done, &ctx, &mut creds, now);
    assert_eq!(code, 200);
    let bye = parse(&out[0]);
    assert_eq!(bye.method(), Some("BYE"));
    assert_eq!(bye.header("cseq"), Some("4 BYE"));
    assert_eq!(dial.stage(), Stage::Leaving);
    dial.on_response(&answer(&out[0], 200, &[]), &ctx, &mut creds, now);
    assert!(dial.is_done());
}

#[tokio::test]
async fn a_refer_the_phone_cannot_take_is_an_error_and_the_phone_left() {
    let ctx = ctx(false);
    let mut creds = None;
    let (mut dial, mut result) = dial();
    let now = Instant::now();
    let invite = dial.start(&ctx, &mut creds, now);
    let out = dial.on_response(
        &answer(&invite, 200, &["Contact: <sip:1001@192.0.2.77>"]),
        &ctx,
        &mut creds,
        now,
    );
    // 488: something in the request, not a missing REFER (no fallback: see reinvite).
    let out = dial.on_response(&answer(&out[1], 488, &[]), &ctx, &mut creds, now);
    let err = result.try_recv().unwrap().unwrap_err();
    assert_eq!(err.code(), "not_supported");
    assert!(err.to_string().contains("488"), "{err}");
    assert_eq!(parse(&out[0]).method(), Some("BYE"));
}

#[tokio::test]
async fn busy_and_unknown_phones_are_named() {
    for (code, api) in [(486, "not_supported"), (404, "invalid_destination")] {
        let ctx = ctx(false);
        let (mut dial, mut result) = dial();
        let invite = dial.start(&ctx, &mut None, Instant::now());
        let out = dial.on_response(&answer(&invite, code, &[]), &ctx, &mut None, Instant::now());
        assert_eq!(parse(&out[0]).method(), Some("ACK"));
        let err = result.try_recv().unwrap().unwrap_err();
        assert_eq!(err.code(), api);
        assert!(err.to_string().contains("1001"), "{err}");
        assert!(dial.is_done());
    }
}

#[tokio::test]
async fn credentials_refused_twice_stop_the_dial() {
    let ctx = ctx(false);
    let mut creds = Some(Credentials::new("ctibridge", "wrong"));
    let (mut dial, mut result) = dial();
    let now = Instant::now();
    let challenge = [r#"WWW-Authenticate: Digest realm="r", nonce="n1", qop="auth""#];
    let invite = dial.start(&ctx, &mut creds, now);
    let out = dial.on_response(&answer(&invite, 401, &challenge), &ctx, &mut creds, now);
    let out = dial.on_response(&answer(&out[1], 401, &challenge), &ctx, &mut creds, now);
    assert_eq!(out.len(), 1, "only the ACK");
    let err = result.try_recv().unwrap().unwrap_err();
    assert!(err.to_string().contains("refused our credentials"), "{err}");
}

#[tokio::test]
async fn a_phone_that_rings_too_long_is_cancelled() {
    let ctx = ctx(true);
    let (mut dial, mut result) = dial();
    let start = Instant::now();
    let invite = dial.start(&ctx, &mut None, start);
    // Timer A: again after T1, then 2·T1.
    assert_eq!(dial.wake_at(), Some(start + Duration::from_millis(500)));
    let out = dial.on_timer(&ctx, &mut None, start + Duration::from_millis(500));
    assert_eq!(out, vec![invite.clone()]);
    assert_eq!(dial.wake_at(), Some(start + Duration::from_millis(1500)));
    // Ringing stops the retransmissions; the ring limit runs from there.
    let ringing_at = start + Duration::from_millis(600);
    dial.on_response(&answer(&invite, 180, &[]), &ctx, &mut None, ringing_at);
    assert_eq!(dial.wake_at(), Some(ringing_at + ctx.ring_limit));
    let out = dial.on_timer(&ctx, &mut None, ringing_at + ctx.ring_limit);
    let cancel = parse(&out[0]);
    assert_eq!(cancel.method(), Some("CANCEL"));
    assert_eq!(cancel.branch(), parse(&invite).branch());
    assert_eq!(cancel.header("cseq"), Some("1 CANCEL"));
    assert_eq!(result.try_recv().unwrap(), Err(CommandError::Timeout));
    assert_eq!(dial.stage(), Stage::Cancelling);
    // The phone's 487 is acknowledged and ends the dial.
    let later = ringing_at + ctx.ring_limit + Duration::from_millis(20);
    dial.on_response(&answer(&out[0], 200, &[]), &ctx, &mut None, later);
    let out = dial.on_response(&answer(&invite, 487, &[]), &ctx, &mut None, later);
    assert_eq!(parse(&out[0]).method(), Some("ACK"));
    assert!(dial.is_done());
}

#[tokio::test]
async fn the_pbx_hanging_up_first_ends_the_dial() {
    let ctx = ctx(false);
    let (mut dial, mut result) = dial();
    let now = Instant::now();
    let invite = dial.start(&ctx, &mut None, now);
    let out = dial.on_response(
        &answer(&invite, 200, &["Contact: <sip:1001@192.0.2.77>"]),
        &ctx,
        &mut None,
        now,
    );
    dial.on_response(&answer(&out[1], 202, &[]), &ctx, &mut None, now);
    assert!(result.try_recv().is_err(), "no verdict yet");
    let mut bye = notify(&invite, "", "active");
    bye.start = crate::message::StartLine::Request {
        method: "BYE".into(),
        uri: "sip:ctibridge@192.0.2.10:5070".into(),
    };
    assert_eq!(dial.on_request(&bye, &ctx, &mut None, now).0, 200);
    assert!(dial.is_done());
    assert!(
        result.try_recv().unwrap().is_ok(),
        "taken over, then let go"
    );
}

/// Whatever the PBX sends, in whatever order, with whatever header values, the
/// dial never panics and its command gets at most one answer (a oneshot).
mod arbitrary_answers {
    use super::*;
    use proptest::prelude::*;

    fn header_value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("<sip:1001@192.0.2.7>".to_string()),
            Just("<sip:a;lr>, <sip:b;lr>,".to_string()),
            Just("<<<>>>,,;tag=".to_string()),
            "\\PC{0,40}",
        ]
    }

    fn message() -> impl Strategy<Value = (Option<u16>, u8, String, String, Vec<u8>, bool)> {
        (
            prop_oneof![Just(None), (100u16..700).prop_map(Some)],
            0u8..6,
            header_value(),
            header_value(),
            prop_oneof![
                Just(b"SIP/2.0 200 OK\r\n".to_vec()),
                Just(b"SIP/2.0 1".to_vec()),
                proptest::collection::vec(any::<u8>(), 0..40),
            ],
            any::<bool>(),
        )
    }

    proptest! {
        #[test]
        fn never_panics(steps in proptest::collection::vec(message(), 1..10)) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            runtime.block_on(async {
                let ctx = ctx(true);
                let mut creds = Some(Credentials::new("u", "p"));
                let (mut dial, _answer) = dial();
                let start = Instant::now();
                let invite = parse(&dial.start(&ctx, &mut creds, start));
                let methods = ["INVITE", "REFER", "BYE", "CANCEL", "NOTIFY", "ACK"];
                for (i, (code, method, contact, route, body, same_branch)) in
                    steps.into_iter().enumerate()
                {
                    let now = start + Duration::from_millis(700 * i as u64);
                    // Mostly answers to what the dial has out, so every stage is reached.
                    let out = (same_branch && !dial.txs.is_empty())
                        .then(|| dial.txs[i % dial.txs.len()].clone());
                    let method = out.as_ref().map_or(methods[method as usize], |t| t.method);
                    let mut message = invite.clone();
                    message.start = match code {
                        Some(code) => crate::message::StartLine::Response {
                            code,
                            reason: "X".into(),
                        },
                        None => crate::message::StartLine::Request {
                            method: method.into(),
                            uri: contact.clone(),
                        },
                    };
                    message.headers.retain(|(n, _)| n != "via" && n != "cseq" && n != "to");
                    let branch = out.as_ref().map_or("z9hG4bKx", |t| t.branch.as_str());
                    message.headers.push(("via".into(), format!("SIP/2.0/UDP h;branch={branch}")));
                    message.headers.push(("cseq".into(), format!("{i} {method}")));
                    message.headers.push(("to".into(), format!("<sip:1001@d>;tag=t{contact}")));
                    message.headers.push(("contact".into(), contact));
                    message.headers.push(("record-route".into(), route));
                    message.headers.push(("www-authenticate".into(), "Digest realm=\"r\", nonce=\"n\"".into()));
                    message.body = body;
                    if message.code().is_some() {
                        dial.on_response(&message, &ctx, &mut creds, now);
                    } else {
                        dial.on_request(&message, &ctx, &mut creds, now);
                    }
                    if let Some(at) = dial.wake_at() {
                        dial.on_timer(&ctx, &mut creds, at.max(now));
                    }
                }
                dial.abandon();
            });
        }
    }
}

/// A capture from tests/captures/sip/ as the PBX would send it in this dial's
/// dialog: the identifiers a real PBX copies from our request (Call-ID, our tag, our
/// Via branch and CSeq for a response) are this dial's; everything else is as
/// captured.
pub(super) fn captured(name: &str, ours: &[u8]) -> Message {
    let text = std::fs::read_to_string(format!(
        "{}/../../tests/captures/sip/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let ours = parse(ours);
    let response = text.starts_with("SIP/2.0");
    let mut out = String::new();
    for line in text.split_inclusive("\r\n") {
        let (name, _) = line.split_once(':').unwrap_or(("", ""));
        let replaced = match name.to_ascii_lowercase().as_str() {
            "call-id" => Some(format!("Call-ID: {}\r\n", ours.header("call-id").unwrap())),
            "from" if response => Some(format!("From: {}\r\n", ours.header("from").unwrap())),
            "cseq" if response => Some(format!("CSeq: {}\r\n", ours.header("cseq").unwrap())),
            "via" if response => {
                let branch = ours.branch().unwrap();
                let (head, _) = line.split_once(";branch=").unwrap();
                Some(format!("{head};branch={branch}\r\n"))
            }
            "to" if !response => Some(format!("To: {}\r\n", ours.header("from").unwrap())),
            _ => None,
        };
        out.push_str(replaced.as_deref().unwrap_or(line));
    }
    parse(out.as_bytes())
}

/// A dial, its answer, and our INVITE and REFER.
pub(super) type Referring = (
    Dial,
    oneshot::Receiver<Result<CommandOk, CommandError>>,
    Vec<u8>,
    Vec<u8>,
);

/// Up to our REFER, the PBX answering the INVITE as Asterisk does.
pub(super) fn referring(ctx: &DialContext, now: Instant) -> Referring {
    let (mut dial, result) = dial();
    let invite = dial.start(ctx, &mut None, now);
    let ok = captured("asterisk-pjsip-invite-200.sip", &invite);
    assert_eq!(ok.code(), Some(200));
    let out = dial.on_response(&ok, ctx, &mut None, now);
    assert_eq!(out.len(), 2, "ACK and REFER");
    // Asterisk's Contact has no user part; in-dialog requests go there.
    assert!(text(&out[0]).starts_with("ACK sip:203.0.113.5:5060 SIP/2.0"));
    assert!(text(&out[1]).starts_with("REFER sip:203.0.113.5:5060 SIP/2.0"));
    assert_eq!(
        parse(&out[1]).tag("to"),
        Some("0c7d4a2e-91b3-4f6a-a8e2-5b61c0d9e3f4")
    );
    (dial, result, invite, out[1].clone())
}

#[tokio::test]
async fn asterisk_accepts_then_reports_an_unknown_number() {
    // res_pjsip_refer answers every REFER 202 and a NOTIFY `100 Trying` before it
    // looks the number up; an unknown one comes right after as a final NOTIFY 404.
    let ctx = ctx(true);
    let now = Instant::now();
    let (mut dial, mut result, invite, refer) = referring(&ctx, now);
    let accepted = captured("asterisk-pjsip-refer-202.sip", &refer);
    assert!(dial.owns_response(&accepted));
    assert!(dial.on_response(&accepted, &ctx, &mut None, now).is_empty());
    let trying = captured("asterisk-pjsip-notify-refer-trying.sip", &invite);
    assert!(dial.owns_request(&trying));
    assert_eq!(
        dial.on_request(&trying, &ctx, &mut None, now),
        (200, vec![])
    );
    assert!(result.try_recv().is_err());
    let failed = captured("asterisk-pjsip-notify-refer-404.sip", &invite);
    let (code, out) = dial.on_request(&failed, &ctx, &mut None, now);
    assert_eq!(code, 200);
    assert_eq!(parse(&out[0]).method(), Some("BYE"));
    let err = result.try_recv().unwrap().unwrap_err();
    assert_eq!(err.code(), "invalid_destination");
    let message = err.to_string();
    assert!(
        message.contains("+442079460123") && message.contains("404 Not Found"),
        "{message}"
    );
    // The window closing later changes nothing: only our BYE is sent again (UDP).
    let later = dial.on_timer(&ctx, &mut None, now + REFER_VERDICT_WAIT);
    assert!(later.iter().all(|m| m == &out[0]), "{later:?}");
}

#[tokio::test]
async fn asterisk_reports_ringing_then_answered() {
    let ctx = ctx(true);
    let now = Instant::now();
    let (mut dial, mut result, invite, refer) = referring(&ctx, now);
    let accepted = captured("asterisk-pjsip-refer-202.sip", &refer);
    dial.on_response(&accepted, &ctx, &mut None, now);
    let trying = captured("asterisk-pjsip-notify-refer-trying.sip", &invite);
    dial.on_request(&trying, &ctx, &mut None, now);
    let ringing = captured("asterisk-pjsip-notify-refer-ringing.sip", &invite);
    assert_eq!(
        dial.on_request(&ringing, &ctx, &mut None, now),
        (200, vec![])
    );
    assert_eq!(result.try_recv().unwrap(), Ok(CommandOk::default()));
    assert_eq!(
        dial.stage(),
        Stage::Transferring,
        "still waiting for the outcome"
    );
    let answered = captured("asterisk-pjsip-notify-refer-200.sip", &invite);
    let (_, out) = dial.on_request(&answered, &ctx, &mut None, now);
    let bye = parse(&out[0]);
    assert_eq!(bye.method(), Some("BYE"));
    assert!(text(&out[0]).starts_with("BYE sip:203.0.113.5:5060 SIP/2.0"));
}

#[tokio::test]
async fn asterisk_with_transfers_off_declines_the_refer_and_we_call_ourselves() {
    // `allow_transfer = no` on the endpoint: 603 to the REFER itself. The phone
    // stays; the fallback (reinvite) calls the destination.
    let ctx = ctx(true);
    let now = Instant::now();
    let (mut dial, mut result, _, refer) = referring(&ctx, now);
    let declined = captured("asterisk-pjsip-refer-603.sip", &refer);
    let out = dial.on_response(&declined, &ctx, &mut None, now);
    assert_eq!(out.len(), 1);
    assert!(text(&out[0]).starts_with("INVITE sip:+442079460123@pbx.example SIP/2.0"));
    assert_eq!(dial.stage(), Stage::Bridging);
    assert!(
        result.try_recv().is_err(),
        "no answer before the destination rings"
    );
}

#[tokio::test]
async fn a_refer_to_an_unknown_number_refused_outright_is_an_invalid_destination() {
    let ctx = ctx(false);
    let now = Instant::now();
    let (mut dial, mut result, _, refer) = referring(&ctx, now);
    let out = dial.on_response(&answer(&refer, 404, &[]), &ctx, &mut None, now);
    assert_eq!(parse(&out[0]).method(), Some("BYE"), "no fallback: {out:?}");
    assert_eq!(
        result.try_recv().unwrap().unwrap_err().code(),
        "invalid_destination"
    );
}

#[tokio::test]
async fn a_pbx_that_hangs_up_after_taking_the_refer_has_dialled() {
    let ctx = ctx(false);
    let now = Instant::now();
    let (mut dial, mut result, invite, refer) = referring(&ctx, now);
    dial.on_response(&answer(&refer, 202, &[]), &ctx, &mut None, now);
    let bye = {
        let invite = parse(&invite);
        let raw = format!(
            "BYE sip:ctibridge@192.0.2.10:5070 SIP/2.0\r\nVia: SIP/2.0/TCP 203.0.113.5:5060;rport;branch=z9hG4bKPjb1\r\n\
             From: <sip:1001@pbx.example>;tag=0c7d4a2e-91b3-4f6a-a8e2-5b61c0d9e3f4\r\nTo: {}\r\nCall-ID: {}\r\n\
             CSeq: 26117 BYE\r\nContent-Length: 0\r\n\r\n",
            invite.header("from").unwrap(),
            invite.header("call-id").unwrap()
        );
        parse(raw.as_bytes())
    };
    assert_eq!(dial.on_request(&bye, &ctx, &mut None, now), (200, vec![]));
    assert_eq!(result.try_recv().unwrap(), Ok(CommandOk::default()));
    assert!(dial.is_done());
}

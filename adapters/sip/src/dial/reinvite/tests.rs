//! The REFER fallback (RFC 3725 by re-INVITE) against answers written as the PBX
//! (Asterisk's forms from tests/captures/sip/) and phones send them.

use super::super::tests::{answer, captured, ctx, parse, referring, text, Referring};
use super::*;
use crate::dial::REFER_VERDICT_WAIT;
use ctibridge_adapter::SwitchEvent;

/// The phone's SDP answer to the destination's offer.
const PHONE_ANSWER: &str = "v=0\r\no=- 1826354 1826357 IN IP4 203.0.113.5\r\ns=Asterisk\r\n\
    c=IN IP4 203.0.113.5\r\nt=0 0\r\nm=audio 14872 RTP/AVP 0 101\r\n\
    a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

/// `answer` with an SDP body.
fn answer_sdp(request: &[u8], code: u16, sdp: &str) -> Message {
    let request = parse(request);
    let text = request.response_with(
        code,
        "ph0ne",
        &[("Content-Type", "application/sdp".to_string())],
        sdp.as_bytes(),
    );
    parse(text.as_bytes())
}

/// A request from the PBX in the dialog that `ours` (a request of ours) is in.
fn from_pbx(method: &str, ours: &[u8], to_tag: &str, cseq: u32) -> Message {
    let ours = parse(ours);
    let raw = format!(
        "{method} sip:ctibridge@192.0.2.10:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.5:5060;rport;branch=z9hG4bKPj{cseq}\r\n\
         From: {};tag={to_tag}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n",
        ours.header("to").unwrap().split(";tag=").next().unwrap(),
        ours.header("from").unwrap(),
        ours.header("call-id").unwrap(),
    );
    parse(raw.as_bytes())
}

/// The session id of our first offer to the phone.
fn session_of(invite: &[u8]) -> u32 {
    let text = text(invite);
    let origin = text.lines().find(|l| l.starts_with("o=")).unwrap();
    origin.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A dial whose REFER the phone refused with `refusal`: our INVITE to the destination.
fn bridging(ctx: &DialContext, now: Instant, refusal: &str) -> (Referring, Vec<u8>) {
    let (mut dial, result, invite, refer) = referring(ctx, now);
    let refused = captured(refusal, &refer);
    assert!(dial.owns_response(&refused));
    let out = dial.on_response(&refused, ctx, &mut None, now);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(dial.stage(), Stage::Bridging);
    let call = out[0].clone();
    ((dial, result, invite, refer), call)
}

/// Up to the phone joined: (dial, answer, invite, re-INVITE, call, our ACK to the
/// destination).
fn connected(ctx: &DialContext, now: Instant) -> (Referring, Vec<u8>, Vec<u8>) {
    let ((mut dial, result, invite, _), call) =
        bridging(ctx, now, "refer-405-allow-without-refer.sip");
    let offer = captured("asterisk-pjsip-invite-offer-200.sip", &call);
    let out = dial.on_response(&offer, ctx, &mut None, now);
    let reinvite = out[0].clone();
    let out = dial.on_response(
        &answer_sdp(&reinvite, 200, PHONE_ANSWER),
        ctx,
        &mut None,
        now,
    );
    assert_eq!(dial.stage(), Stage::Connected);
    ((dial, result, invite, reinvite), call, out[1].clone())
}

#[tokio::test]
async fn a_refused_refer_calls_the_destination_and_joins_the_phone() {
    let ctx = ctx(true);
    let now = Instant::now();
    let ((mut dial, mut result, invite, _), call) =
        bridging(&ctx, now, "refer-405-allow-without-refer.sip");
    // The destination as the Refer-To named it, a dialog of its own, no SDP.
    let sent = text(&call);
    assert!(
        sent.starts_with("INVITE sip:+442079460123@pbx.example SIP/2.0\r\n"),
        "{sent}"
    );
    let request = parse(&call);
    assert_eq!(
        request.header("to"),
        Some("<sip:+442079460123@pbx.example>")
    );
    assert_ne!(request.header("call-id"), parse(&invite).header("call-id"));
    assert_eq!(request.header("cseq"), Some("1 INVITE"));
    assert!(request.body.is_empty() && request.header("content-type").is_none());
    // The engine hears of the call from the dial (the monitor keeps our leg away).
    let originated = SwitchEvent::Originated {
        call_id: dial.call_id().to_string(),
        device: "1001".into(),
        called: Some("+442079460123".into()),
    };
    assert_eq!(dial.take_events(), vec![originated]);

    // Trying is nothing yet; ringing answers the command, as a REFER's report would.
    assert!(dial
        .on_response(&answer(&call, 100, &[]), &ctx, &mut None, now)
        .is_empty());
    assert!(result.try_recv().is_err());
    assert!(dial
        .on_response(&answer(&call, 180, &[]), &ctx, &mut None, now)
        .is_empty());
    let answer = result.try_recv().unwrap().unwrap();
    assert_eq!(
        answer.call_id.as_deref(),
        Some(dial.call_id()),
        "the call it reports"
    );
    assert_eq!(dial.wake_at(), Some(now + DESTINATION_RING_LIMIT));

    // Answered with its offer: the phone gets it in a re-INVITE of our dialog, with
    // our origin line, the next version of the session it knows.
    let offer = captured("asterisk-pjsip-invite-offer-200.sip", &call);
    assert!(dial.owns_response(&offer));
    let out = dial.on_response(&offer, &ctx, &mut None, now);
    assert_eq!(
        out.len(),
        1,
        "the destination's 2xx waits for the phone's answer"
    );
    let reinvite = parse(&out[0]);
    assert!(text(&out[0]).starts_with("INVITE sip:203.0.113.5:5060 SIP/2.0\r\n"));
    assert_eq!(reinvite.header("call-id"), parse(&invite).header("call-id"));
    assert_eq!(
        reinvite.tag("to"),
        Some("0c7d4a2e-91b3-4f6a-a8e2-5b61c0d9e3f4")
    );
    assert_eq!(reinvite.header("cseq"), Some("3 INVITE"));
    let body = String::from_utf8(reinvite.body.clone()).unwrap();
    let session = session_of(&invite);
    assert!(
        body.contains(&format!(
            "o=ctibridge {session} {} IN IP4 192.0.2.10\r\n",
            session + 1
        )),
        "{body}"
    );
    assert!(body.contains("c=IN IP4 203.0.113.5\r\nt=0 0\r\nm=audio 17234 RTP/AVP 0 8 101\r\n"));
    assert!(
        body.ends_with("a=sendrecv\r\n") && !body.contains("o=- "),
        "{body}"
    );
    assert_eq!(dial.stage(), Stage::Joining);
    // The destination repeats its 2xx meanwhile: no ACK yet, no answer to give.
    assert!(dial.on_response(&offer, &ctx, &mut None, now).is_empty());

    // The phone answers: ACK it, and ACK the destination with that answer.
    let reply = answer_sdp(&out[0], 200, PHONE_ANSWER);
    let out = dial.on_response(&reply, &ctx, &mut None, now);
    assert_eq!(out.len(), 2);
    let ack = parse(&out[0]);
    assert_eq!(ack.method(), Some("ACK"));
    assert_eq!(ack.header("cseq"), Some("3 ACK"));
    assert_eq!(ack.header("call-id"), reinvite.header("call-id"));
    assert!(text(&out[1]).starts_with("ACK sip:203.0.113.5:5060 SIP/2.0\r\n"));
    let ack_call = parse(&out[1]);
    assert_eq!(ack_call.header("call-id"), request.header("call-id"));
    assert_eq!(ack_call.header("cseq"), Some("1 ACK"));
    assert_eq!(
        ack_call.tag("to"),
        Some("e5b2c7a0-4d19-4f83-b6a1-0f92d3c8e7b4")
    );
    assert_eq!(ack_call.header("content-type"), Some("application/sdp"));
    assert_eq!(ack_call.body, PHONE_ANSWER.as_bytes());
    assert_eq!(dial.stage(), Stage::Connected);
    let established = SwitchEvent::Established {
        call_id: dial.call_id().to_string(),
        device: "1001".into(),
        calling: Some("1001".into()),
        called: Some("+442079460123".into()),
    };
    assert_eq!(dial.take_events(), vec![established]);
    // A repeated 2xx from the destination gets the same ACK again.
    assert_eq!(
        dial.on_response(&offer, &ctx, &mut None, now),
        vec![out[1].clone()]
    );
    // Nothing is due any more but retransmissions of nothing: the call just runs.
    assert_eq!(dial.wake_at(), None);
    assert!(dial
        .on_timer(&ctx, &mut None, now + REFER_VERDICT_WAIT * 100)
        .is_empty());
}

#[tokio::test]
async fn a_bye_from_either_side_is_passed_to_the_other() {
    for destination_leaves in [true, false] {
        let ctx = ctx(false);
        let now = Instant::now();
        let ((mut dial, _, _, reinvite), call, _) = connected(&ctx, now);
        let (bye, other) = if destination_leaves {
            let tag = "e5b2c7a0-4d19-4f83-b6a1-0f92d3c8e7b4";
            (from_pbx("BYE", &call, tag, 2), reinvite.clone())
        } else {
            let tag = "0c7d4a2e-91b3-4f6a-a8e2-5b61c0d9e3f4";
            (from_pbx("BYE", &reinvite, tag, 26118), call.clone())
        };
        assert!(dial.owns_request(&bye));
        let (code, out) = dial.on_request(&bye, &ctx, &mut None, now);
        assert_eq!(code, 200);
        assert_eq!(out.len(), 1);
        let ours = parse(&out[0]);
        assert_eq!(ours.method(), Some("BYE"));
        assert_eq!(ours.header("call-id"), parse(&other).header("call-id"));
        assert!(text(&out[0]).starts_with("BYE sip:203.0.113.5:5060 SIP/2.0"));
        let next = if destination_leaves { "4 BYE" } else { "2 BYE" };
        assert_eq!(ours.header("cseq"), Some(next));
        assert_eq!(dial.stage(), Stage::Leaving);
        let cause = if destination_leaves {
            "remote-bye"
        } else {
            "local-bye"
        };
        let events = dial.take_events();
        assert!(
            matches!(&events[..], [.., SwitchEvent::ConnectionCleared { cause: Some(c), .. }] if c == cause),
            "{events:?}"
        );
        dial.on_response(&answer(&out[0], 200, &[]), &ctx, &mut None, now);
        assert!(
            dial.is_done(),
            "destination left first: {destination_leaves}"
        );
    }
}

#[tokio::test]
async fn mid_call_offers_are_refused_refreshes_taken_and_the_call_goes_on() {
    let ctx = ctx(false);
    let now = Instant::now();
    let ((mut dial, _, _, reinvite), call, _) = connected(&ctx, now);
    let hold = from_pbx(
        "INVITE",
        &reinvite,
        "0c7d4a2e-91b3-4f6a-a8e2-5b61c0d9e3f4",
        26118,
    );
    assert_eq!(dial.on_request(&hold, &ctx, &mut None, now), (488, vec![]));
    let mut update = from_pbx("UPDATE", &call, "e5b2c7a0-4d19-4f83-b6a1-0f92d3c8e7b4", 2);
    // Without an offer (a session refresh, a connected-line update): fine.
    assert_eq!(
        dial.on_request(&update, &ctx, &mut None, now),
        (200, vec![])
    );
    update.body = PHONE_ANSWER.as_bytes().to_vec();
    assert_eq!(
        dial.on_request(&update, &ctx, &mut None, now),
        (488, vec![])
    );
    assert_eq!(dial.stage(), Stage::Connected);
}

#[tokio::test]
async fn busy_and_unknown_destinations_are_named_and_the_phone_left() {
    for (code, api, words) in [
        (486, "not_supported", "is busy"),
        (600, "not_supported", "is busy"),
        (404, "invalid_destination", "cannot reach"),
        (484, "invalid_destination", "cannot reach"),
        (503, "not_supported", "failed: 503"),
    ] {
        let ctx = ctx(false);
        let now = Instant::now();
        let ((mut dial, mut result, _, _), call) =
            bridging(&ctx, now, "pjsip-refer-500-unhandled.sip");
        let out = dial.on_response(&answer(&call, code, &[]), &ctx, &mut None, now);
        assert_eq!(out.len(), 2, "ACK and BYE");
        let ack = parse(&out[0]);
        assert_eq!(ack.method(), Some("ACK"));
        assert_eq!(
            ack.branch(),
            parse(&call).branch(),
            "in the INVITE's transaction"
        );
        assert_eq!(ack.header("cseq"), Some("1 ACK"));
        assert!(text(&out[0]).starts_with("ACK sip:+442079460123@pbx.example SIP/2.0"));
        let bye = parse(&out[1]);
        assert_eq!(bye.method(), Some("BYE"));
        assert_eq!(
            bye.header("call-id"),
            Some(dial.call_id()),
            "the phone's dialog"
        );
        let err = result.try_recv().unwrap().unwrap_err();
        assert_eq!(err.code(), api, "{code}");
        assert!(err.to_string().contains(words), "{err}");
        assert!(err.to_string().contains("+442079460123"), "{err}");
        let events = dial.take_events();
        assert!(
            matches!(&events[..], [SwitchEvent::Originated { .. }, SwitchEvent::Failed { cause: Some(c), .. }]
                if c.ends_with(&format!("({code})"))),
            "{events:?}"
        );
        dial.on_response(&answer(&out[1], 200, &[]), &ctx, &mut None, now);
        assert!(dial.is_done());
    }
}

#[tokio::test]
async fn the_pbx_challenging_our_call_gets_our_digest() {
    let ctx = ctx(false);
    let now = Instant::now();
    let mut creds = Some(Credentials::new("ctibridge", "s3cret"));
    let ((mut dial, _, _, _), call) = bridging(&ctx, now, "refer-405-allow-without-refer.sip");
    let challenge = [r#"Proxy-Authenticate: Digest realm="pbx.example", nonce="77ac", qop="auth""#];
    let out = dial.on_response(&answer(&call, 407, &challenge), &ctx, &mut creds, now);
    assert_eq!(out.len(), 2);
    assert_eq!(parse(&out[0]).method(), Some("ACK"));
    let again = parse(&out[1]);
    assert_eq!(again.header("cseq"), Some("2 INVITE"));
    assert_eq!(again.header("call-id"), parse(&call).header("call-id"));
    assert!(again.header("proxy-authorization").is_some_and(
        |a| a.contains("nonce=\"77ac\"") && a.contains("uri=\"sip:+442079460123@pbx.example\"")
    ));
    // Refused again: our credentials are wrong; the phone is left.
    let out = dial.on_response(&answer(&out[1], 407, &challenge), &ctx, &mut creds, now);
    assert_eq!(parse(&out[1]).method(), Some("BYE"));
}

#[tokio::test]
async fn glare_on_the_reinvite_waits_and_tries_again() {
    let ctx = ctx(false);
    let now = Instant::now();
    let ((mut dial, _, _, _), call) = bridging(&ctx, now, "refer-405-allow-without-refer.sip");
    let offer = captured("asterisk-pjsip-invite-offer-200.sip", &call);
    let reinvite = dial.on_response(&offer, &ctx, &mut None, now)[0].clone();
    // The phone sends its own re-INVITE while ours is out: 491 to it…
    let theirs = from_pbx(
        "INVITE",
        &reinvite,
        "0c7d4a2e-91b3-4f6a-a8e2-5b61c0d9e3f4",
        26118,
    );
    assert_eq!(
        dial.on_request(&theirs, &ctx, &mut None, now),
        (491, vec![])
    );
    // …and 491 to ours: acknowledged, and ours again after 2.1 to 4 s.
    let out = dial.on_response(&answer(&reinvite, 491, &[]), &ctx, &mut None, now);
    assert_eq!(out.len(), 1);
    assert_eq!(parse(&out[0]).header("cseq"), Some("3 ACK"));
    let at = dial.wake_at().unwrap();
    assert!(at >= now + Duration::from_millis(2100) && at < now + Duration::from_secs(4));
    assert!(dial
        .on_timer(&ctx, &mut None, at - Duration::from_millis(1))
        .is_empty());
    let out = dial.on_timer(&ctx, &mut None, at);
    let again = parse(&out[0]);
    assert_eq!(again.method(), Some("INVITE"));
    assert_eq!(again.header("cseq"), Some("4 INVITE"));
    assert_eq!(again.body, parse(&reinvite).body, "the same offer");
    let out = dial.on_response(&answer_sdp(&out[0], 200, PHONE_ANSWER), &ctx, &mut None, at);
    assert_eq!(out.len(), 2);
    assert_eq!(dial.stage(), Stage::Connected);
}

#[tokio::test]
async fn a_phone_that_refuses_the_offer_ends_both_calls() {
    let ctx = ctx(false);
    let now = Instant::now();
    let ((mut dial, _, _, _), call) = bridging(&ctx, now, "refer-405-allow-without-refer.sip");
    let offer = captured("asterisk-pjsip-invite-offer-200.sip", &call);
    let reinvite = dial.on_response(&offer, &ctx, &mut None, now)[0].clone();
    let out = dial.on_response(&answer(&reinvite, 488, &[]), &ctx, &mut None, now);
    let methods: Vec<_> = out
        .iter()
        .map(|m| parse(m).method().unwrap().to_string())
        .collect();
    assert_eq!(methods, ["ACK", "ACK", "BYE", "BYE"]);
    // The destination's offer is refused in its ACK: every stream at port 0.
    let refusal = String::from_utf8(parse(&out[1]).body.clone()).unwrap();
    assert!(refusal.contains("m=audio 0 RTP/AVP 0\r\n"), "{refusal}");
    assert_eq!(
        parse(&out[1]).header("call-id"),
        parse(&call).header("call-id")
    );
    assert_eq!(
        parse(&out[2]).header("call-id"),
        parse(&call).header("call-id")
    );
    assert_eq!(
        parse(&out[3]).header("call-id"),
        parse(&reinvite).header("call-id")
    );
    dial.on_response(&answer(&out[2], 200, &[]), &ctx, &mut None, now);
    assert!(!dial.is_done(), "one BYE still out");
    dial.on_response(&answer(&out[3], 200, &[]), &ctx, &mut None, now);
    assert!(dial.is_done());
}

#[tokio::test]
async fn a_destination_that_rings_too_long_is_cancelled() {
    let ctx = ctx(true);
    let start = Instant::now();
    let ((mut dial, mut result, _, _), call) =
        bridging(&ctx, start, "refer-405-allow-without-refer.sip");
    // Timer A on UDP until it answers.
    assert_eq!(
        dial.on_timer(&ctx, &mut None, start + ctx.t1),
        vec![call.clone()]
    );
    dial.on_response(&answer(&call, 180, &[]), &ctx, &mut None, start + ctx.t1);
    assert!(result.try_recv().unwrap().is_ok());
    let limit = start + ctx.t1 + DESTINATION_RING_LIMIT;
    assert_eq!(dial.wake_at(), Some(limit));
    let out = dial.on_timer(&ctx, &mut None, limit);
    let cancel = parse(&out[0]);
    assert_eq!(cancel.method(), Some("CANCEL"));
    assert_eq!(cancel.branch(), parse(&call).branch());
    assert_eq!(cancel.header("cseq"), Some("1 CANCEL"));
    assert!(text(&out[0]).starts_with("CANCEL sip:+442079460123@pbx.example SIP/2.0"));
    dial.on_response(&answer(&out[0], 200, &[]), &ctx, &mut None, limit);
    let out = dial.on_response(&answer(&call, 487, &[]), &ctx, &mut None, limit);
    let methods: Vec<_> = out
        .iter()
        .map(|m| parse(m).method().unwrap().to_string())
        .collect();
    assert_eq!(methods, ["ACK", "BYE"], "the phone is left too");
}

#[tokio::test]
async fn the_agent_hanging_up_while_the_destination_rings_cancels_it() {
    let ctx = ctx(false);
    let now = Instant::now();
    let ((mut dial, mut result, invite, _), call) =
        bridging(&ctx, now, "refer-405-allow-without-refer.sip");
    dial.on_response(&answer(&call, 100, &[]), &ctx, &mut None, now);
    let ok = captured("asterisk-pjsip-invite-200.sip", &invite);
    let bye = from_pbx("BYE", &invite, ok.tag("to").unwrap(), 26117);
    let (code, out) = dial.on_request(&bye, &ctx, &mut None, now);
    assert_eq!(code, 200);
    assert_eq!(parse(&out[0]).method(), Some("CANCEL"));
    assert_eq!(
        result.try_recv().unwrap().unwrap_err().code(),
        "not_supported"
    );
    dial.on_response(&answer(&out[0], 200, &[]), &ctx, &mut None, now);
    // The destination answered as the CANCEL crossed it: refused and left.
    let offer = captured("asterisk-pjsip-invite-offer-200.sip", &call);
    let out = dial.on_response(&offer, &ctx, &mut None, now);
    let methods: Vec<_> = out
        .iter()
        .map(|m| parse(m).method().unwrap().to_string())
        .collect();
    assert_eq!(methods, ["ACK", "BYE"]);
    assert!(String::from_utf8_lossy(&parse(&out[0]).body).contains("m=audio 0 "));
    dial.on_response(&answer(&out[1], 200, &[]), &ctx, &mut None, now);
    assert!(dial.is_done());
}

#[test]
fn which_refer_refusals_fall_back() {
    for code in [403, 405, 420, 501, 603] {
        assert!(refer_unavailable(code, "x"), "{code}");
    }
    assert!(refer_unavailable(500, "Unhandled by dialog usages"));
    for code in [400, 401, 404, 407, 481, 488, 500, 503, 604] {
        assert!(!refer_unavailable(code, "Server Internal Error"), "{code}");
    }
}

#[test]
fn offers_are_taken_over_only_when_they_are_sdp_with_media() {
    let local = ctx(false).local;
    assert!(reoffer(b"", 7, &local).is_none());
    assert!(reoffer(b"<xml/>", 7, &local).is_none());
    assert!(reoffer(b"v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n", 7, &local).is_none());
    let bare = b"v=0\ns=-\nm=audio 4000 RTP/AVP 0\n";
    assert!(
        reoffer(bare, 7, &local).is_none(),
        "no origin line to replace"
    );
    let answer = refusing_answer(
        b"v=0\r\nm=audio 4000 RTP/AVP 0 8\r\nm=video 4002 RTP/AVP 96\r\n",
        &local,
    );
    let answer = String::from_utf8(answer).unwrap();
    assert!(
        answer.contains("m=audio 0 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\n"),
        "{answer}"
    );
}

#[tokio::test]
async fn the_agent_hanging_up_before_the_destination_answered_at_all_waits_to_cancel() {
    let ctx = ctx(false);
    let now = Instant::now();
    let ((mut dial, _, invite, _), call) = bridging(&ctx, now, "refer-405-allow-without-refer.sip");
    let bye = from_pbx(
        "BYE",
        &invite,
        "0c7d4a2e-91b3-4f6a-a8e2-5b61c0d9e3f4",
        26117,
    );
    // No provisional answer yet: no CANCEL may go out (RFC 3261 §9.1)…
    assert_eq!(dial.on_request(&bye, &ctx, &mut None, now), (200, vec![]));
    // …until the first one; a second one sends no second CANCEL.
    let out = dial.on_response(&answer(&call, 100, &[]), &ctx, &mut None, now);
    assert_eq!(parse(&out[0]).method(), Some("CANCEL"));
    assert!(dial
        .on_response(&answer(&call, 180, &[]), &ctx, &mut None, now)
        .is_empty());
    dial.on_response(&answer(&out[0], 200, &[]), &ctx, &mut None, now);
    let out = dial.on_response(&answer(&call, 487, &[]), &ctx, &mut None, now);
    assert_eq!(out.len(), 1, "only the ACK: the phone is gone already");
    assert!(dial.is_done());
}

#[tokio::test]
async fn with_the_fallback_off_a_refused_refer_is_not_supported() {
    let ctx = DialContext {
        refer_fallback: false,
        ..ctx(false)
    };
    let now = Instant::now();
    let (mut dial, mut result, _, refer) = referring(&ctx, now);
    let declined = captured("asterisk-pjsip-refer-603.sip", &refer);
    let out = dial.on_response(&declined, &ctx, &mut None, now);
    assert_eq!(parse(&out[0]).method(), Some("BYE"), "{out:?}");
    let err = result.try_recv().unwrap().unwrap_err();
    assert_eq!(err.code(), "not_supported");
    let message = err.to_string();
    assert!(
        message.contains("603 Decline") && message.contains("refer_fallback"),
        "{message}"
    );
}

/// Arbitrary answers and requests once the fallback runs.
mod arbitrary_answers;

//! Whatever either side sends once the fallback runs, in whatever order and state,
//! the dial never panics, its command gets at most one answer, and it ends.

use super::*;
use proptest::prelude::*;

/// (status or request, method, to the destination's dialog, answering a
/// transaction of ours, SDP body, milliseconds later)
type Step = (Option<u16>, u8, bool, bool, bool, u64);

fn step() -> impl Strategy<Value = Step> {
    (
        prop_oneof![
            1 => Just(None),
            2 => prop_oneof![Just(180u16), Just(200), Just(487), Just(491)].prop_map(Some),
            1 => (100u16..700).prop_map(Some),
        ],
        0u8..5,
        any::<bool>(),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.7),
        // Mostly moments apart; now and then past a ring limit or timer B.
        prop_oneof![4 => 0u64..2_000, 1 => 0u64..70_000],
    )
}

proptest! {
    #[test]
    fn never_panics(steps in proptest::collection::vec(step(), 1..14)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let ctx = ctx(true);
            let mut creds = Some(Credentials::new("u", "p"));
            let mut now = Instant::now();
            let ((mut dial, _answer, invite, _), call) =
                bridging(&ctx, now, "refer-405-allow-without-refer.sip");
            let methods = ["BYE", "INVITE", "UPDATE", "ACK", "NOTIFY"];
            for (code, method, destination, ours, sdp, later) in steps {
                now += Duration::from_millis(later);
                let template = if destination { &call } else { &invite };
                let pending = ours.then(|| dial.txs.first().cloned()).flatten();
                let mut message = match (code, &pending) {
                    (Some(code), Some(tx)) if sdp => answer_sdp(&tx.bytes, code, PHONE_ANSWER),
                    (Some(code), Some(tx)) => answer(&tx.bytes, code, &[]),
                    (Some(code), None) => answer(template, code, &[]),
                    (None, _) => {
                        let tag = if destination { "e5b2c7a0" } else { "0c7d4a2e" };
                        from_pbx(methods[method as usize], template, tag, 9)
                    }
                };
                if sdp && code.is_none() {
                    message.body = PHONE_ANSWER.as_bytes().to_vec();
                }
                if message.code().is_some() {
                    dial.on_response(&message, &ctx, &mut creds, now);
                } else if dial.owns_request(&message) {
                    dial.on_request(&message, &ctx, &mut creds, now);
                }
                if let Some(at) = dial.wake_at() {
                    dial.on_timer(&ctx, &mut creds, at.max(now));
                }
            }
            // Left alone, every transaction runs out: the dial ends or just runs
            // the call (Connected has nothing due).
            for _ in 0..64 {
                match dial.wake_at() {
                    Some(at) => { dial.on_timer(&ctx, &mut creds, at); }
                    None => break,
                }
            }
            prop_assert!(dial.wake_at().is_none(), "{:?}", dial.stage());
        // Nothing due any more: the dial is over, or the call it joined runs.
        prop_assert!(
            matches!(dial.stage(), Stage::Done | Stage::Connected),
            "stuck in {:?}",
            dial.stage()
        );
            dial.abandon();
            Ok(())
        })?;
    }
}

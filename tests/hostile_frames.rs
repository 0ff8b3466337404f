//! End to end: 10,000 malformed or hostile WebSocket frames against the real daemon.
//! The rules (docs/protocol.md, "Frames"): a frame the daemon cannot use gets one
//! `error` frame, or a `res` error when it carries a usable `id`; the connection stays
//! open and the daemon keeps serving everyone. Only oversized frames (1009) and
//! authentication failures (4001) close a connection; neither is generated here.

mod common;

use std::collections::BTreeMap;

use common::*;
use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// A small deterministic generator (xorshift64*), so a failure replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

const METHODS: &[&str] = &[
    "call.dial",
    "call.answer",
    "call.hangup",
    "call.hold",
    "call.transfer",
    "call.conference",
    "call.dtmf",
    "agent.login",
    "agent.set_state",
    "supervisor.force_release",
    "report.agents",
    "crm.lookup",
    "sim.call",
    "call.teleport",
    "",
    "CALL.DIAL",
    "call.dial\u{0}",
    "__proto__",
];

/// Values of the wrong type, size or shape.
fn hostile_value(rng: &mut Rng) -> Value {
    match rng.below(14) {
        0 => json!(null),
        1 => json!(true),
        2 => json!(-1),
        3 => serde_json::from_str("123456789012345678901234567890").unwrap(),
        4 => json!(1.5e300),
        5 => json!(""),
        6 => json!("x".repeat(rng.below(5000))),
        7 => json!([1, "2", null]),
        8 => json!({"nested": {"deeper": [{}]}}),
        9 => json!("\u{202e}\u{feff}+1415\u{0}555"),
        10 => json!("+".repeat(40)),
        11 => json!("../../etc/passwd"),
        12 => json!("'; DROP TABLE contacts; --"),
        _ => json!(u64::MAX),
    }
}

/// Whether the frame is sent as text or binary.
enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

fn hostile_frame(rng: &mut Rng) -> Frame {
    let text = match rng.below(12) {
        // Not JSON at all, or JSON cut short.
        0 => {
            let len = 1 + rng.below(200);
            let bytes = rng.bytes(len);
            String::from_utf8_lossy(&bytes).into_owned()
        }
        1 => {
            let whole = json!({"type": "req", "id": "a", "method": "call.dial", "params": {"to": "1"}})
                .to_string();
            let cut = rng.below(whole.len());
            whole[..cut].to_string()
        }
        // JSON, but not an object.
        2 => rng
            .pick(&["[]", "1", "\"req\"", "null", "true", "[{\"type\":\"req\"}]", "1e999"])
            .to_string(),
        // Deep nesting, under the size limit.
        3 => {
            let depth = 200 + rng.below(12_000); // at most 60 KB, under the 64 KiB limit
            let open = rng.pick(&["[", "{\"a\":"]);
            format!(
                "{{\"type\":\"req\",\"id\":\"d\",\"method\":\"call.dial\",\"params\":{}1",
                open.repeat(depth)
            )
        }
        // Huge or odd numbers where ids and values go.
        4 => format!(
            "{{\"type\":\"req\",\"id\":{},\"method\":\"call.dial\",\"params\":{{\"to\":{}}}}}",
            rng.pick(&["1e999", "-0", "123456789012345678901234567890", "0.1", "-1", "NaN", "Infinity"]),
            rng.pick(&["1e999", "9007199254740993", "-5", "0x10", "[]"]),
        ),
        // Unknown or wrongly spelt types.
        5 => json!({"type": hostile_value(rng), "id": "t"}).to_string(),
        // Unknown methods and methods of the wrong type.
        6 => json!({"type": "req", "id": format!("m{}", rng.next()), "method": rng.pick(METHODS), "params": hostile_value(rng)})
            .to_string(),
        7 => json!({"type": "req", "id": "w", "method": hostile_value(rng), "params": {}}).to_string(),
        // Known methods with parameters of the wrong type, size or name.
        8 => {
            let method = rng.pick(METHODS);
            let key = rng.pick(&["to", "from", "call", "device", "digits", "agent", "state", "reason", "number", "mode", "topics", "bogus"]);
            json!({"type": "req", "id": "p", "method": method, "params": {key: hostile_value(rng)}})
                .to_string()
        }
        // Bad ids, unknown fields, a second hello.
        9 => json!({"type": "req", "id": hostile_value(rng), "method": "crm.lookup", "params": {"number": "1"}, "extra": 1})
            .to_string(),
        10 => json!({"type": "hello", "token": hostile_value(rng)}).to_string(),
        // Binary frames.
        _ => {
            let len = rng.below(1000);
            return Frame::Binary(rng.bytes(len));
        }
    };
    Frame::Text(text)
}

#[tokio::test]
async fn ten_thousand_hostile_frames_get_errors_and_nothing_breaks() {
    let dir = temp_dir("hostile");
    let port = free_port();
    let config = standard_config(
        port,
        &dir,
        "rate_limit_per_s = 100000\nrate_limit_burst = 100000",
    );
    let mut daemon = Daemon::start(&dir, port, &config).await;
    let (mut attacker, _) = Client::login(&daemon.url(), AGENT_1001).await;
    attacker.event("snapshot", |_| true).await;
    // A bystander on its own connection must keep getting its pops.
    let (mut bystander, _) = Client::login(&daemon.url(), AGENT_1002).await;
    bystander.event("snapshot", |_| true).await;

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for n in 0..10_000 {
        let frame = hostile_frame(&mut rng);
        let shown = match &frame {
            Frame::Text(text) => text.chars().take(200).collect::<String>(),
            Frame::Binary(bytes) => format!("binary frame of {} bytes", bytes.len()),
        };
        let message = match frame {
            Frame::Text(text) => Message::Text(text.into()),
            Frame::Binary(bytes) => Message::Binary(bytes.into()),
        };
        attacker.ws.send(message).await.unwrap();
        // Exactly one answer per frame, an error or a res; events are not expected on
        // this connection but would be skipped.
        let answer = loop {
            let frame = attacker.frame().await;
            if frame["type"] != "evt" {
                break frame;
            }
        };
        let code = match answer["type"].as_str() {
            Some("error") => answer["error"]["code"].as_str().map(str::to_string),
            Some("res") => Some(
                answer["error"]["code"]
                    .as_str()
                    .unwrap_or("ok (a valid request)")
                    .to_string(),
            ),
            _ => None,
        };
        let Some(code) = code else {
            panic!("frame {n} ({shown}) got {answer}");
        };
        assert!(
            answer["error"]["message"].as_str().is_some() || answer["type"] == "res",
            "frame {n} ({shown}): an error without a message: {answer}"
        );
        *codes.entry(code).or_default() += 1;
    }
    eprintln!("answers by code: {codes:?}");
    // Every kind of refusal was exercised, and nothing but documented codes came back.
    for code in ["invalid_message", "invalid_params", "unknown_method"] {
        assert!(codes.get(code).copied().unwrap_or(0) > 100, "{codes:?}");
    }
    let documented = [
        "invalid_message",
        "invalid_params",
        "unknown_method",
        "forbidden",
        "not_supported",
        "call_not_found",
        "invalid_destination",
        "ok (a valid request)",
    ];
    for code in codes.keys() {
        assert!(documented.contains(&code.as_str()), "{code}: {codes:?}");
    }

    // The attacker's connection still works, the bystander still gets pops, the daemon
    // is still the same process, and it still answers health checks.
    let res = attacker.req("crm.lookup", json!({"number": "1001"})).await;
    assert!(res.get("error").is_none(), "{res}");
    attacker
        .ok("sim.call", json!({"from": "+14155550123", "to": "1002"}))
        .await;
    bystander
        .event("call.offered", |d| d["device"] == "1002")
        .await;
    assert!(
        daemon.child.try_wait().unwrap().is_none(),
        "the daemon exited"
    );
    let (status, _) = http_get(daemon.port, "/healthz", &[]).await.unwrap();
    assert_eq!(status, 200);
}

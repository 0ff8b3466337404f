//! The AMI text of the bench's calls: an inbound call from a trunk into queue `8000`,
//! rung at one agent's PJSIP phone, answered, bridged and hung up, written event by
//! event as Asterisk 16 writes it on the manager port (`call` and `agent` classes,
//! no `Cdr`).
//!
//! The sequence follows the corpus (`tests/captures/ami/queue_ringall_*.ami`: header
//! names and order, the channel snapshot every channel event repeats, the `Dest*`
//! snapshot of dial and agent events) with the chatty events those captures leave
//! out but a live Asterisk 16 sends for such a call: `Newexten` for each dialplan
//! step, `VarSet` for each `Set()` and for the variables Asterisk sets itself
//! (app_queue's `MEMBER*` with `setinterfacevar`, the bridge's `BRIDGEPEER` /
//! `BRIDGEPVTCALLID`, chan_pjsip's four `RTPAUDIOQOS*` at hang-up), `NewConnectedLine`,
//! `DeviceStateChange`, `QueueMemberStatus`, `HangupRequest` and the bridge's
//! life cycle. The generator writes this text; it shares no code with the adapter's
//! codec, so the adapter reads what it would read from an Asterisk.
//!
//! A call is written in three parts, so the generator can interleave many calls as a
//! busy Asterisk does: [`Part::Arrive`] (the caller comes in, queues, the agent's
//! phone rings), [`Part::Answer`] (the agent answers and is bridged) and
//! [`Part::End`] (the agent hangs up, then the caller's channel).

use std::io::Write as _;

/// The queue every call goes through (the adapter is configured with it).
pub const QUEUE: &str = "8000";
/// The number callers dial.
const DID: &str = "8005550100";
/// The epoch second the Uniqueids start from, as Asterisk's `<epoch>.<sequence>`.
const EPOCH: u64 = 1_765_000_000;

/// One part of a call's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Arrive,
    Answer,
    End,
}

/// One call: who calls, which phone rings, and its ids.
pub struct Call<'a> {
    pub n: u64,
    pub caller: &'a str,
    pub extension: &'a str,
}

/// A channel's snapshot as every channel event repeats it.
struct Chan<'a> {
    name: &'a str,
    state: (u8, &'static str),
    cid: &'a str,
    connected: &'a str,
    context: &'static str,
    exten: &'a str,
    priority: u32,
    uniqueid: &'a str,
    linkedid: &'a str,
}

/// Writes events into a buffer; counts them.
pub struct Writer<'o> {
    out: &'o mut Vec<u8>,
    pub events: u64,
}

impl<'o> Writer<'o> {
    pub fn new(out: &'o mut Vec<u8>) -> Writer<'o> {
        Writer { out, events: 0 }
    }

    fn begin(&mut self, event: &str, privilege: &str) {
        self.events += 1;
        let _ = write!(self.out, "Event: {event}\r\nPrivilege: {privilege}\r\n");
    }

    fn end(&mut self) {
        self.out.extend_from_slice(b"\r\n");
    }

    fn line(&mut self, key: &str, value: impl std::fmt::Display) {
        let _ = write!(self.out, "{key}: {value}\r\n");
    }

    fn chan(&mut self, prefix: &str, c: &Chan<'_>) {
        let p = prefix;
        let _ = write!(
            self.out,
            "{p}Channel: {}\r\n{p}ChannelState: {}\r\n{p}ChannelStateDesc: {}\r\n\
             {p}CallerIDNum: {}\r\n{p}CallerIDName: <unknown>\r\n{p}ConnectedLineNum: {}\r\n\
             {p}ConnectedLineName: <unknown>\r\n{p}Language: en\r\n{p}AccountCode: \r\n\
             {p}Context: {}\r\n{p}Exten: {}\r\n{p}Priority: {}\r\n{p}Uniqueid: {}\r\n\
             {p}Linkedid: {}\r\n",
            c.name,
            c.state.0,
            c.state.1,
            c.cid,
            c.connected,
            c.context,
            c.exten,
            c.priority,
            c.uniqueid,
            c.linkedid
        );
    }

    /// An event about one channel with extra headers after its snapshot.
    fn on(&mut self, event: &str, privilege: &str, c: &Chan<'_>, extra: &[(&str, &str)]) {
        self.begin(event, privilege);
        self.chan("", c);
        for (k, v) in extra {
            self.line(k, v);
        }
        self.end();
    }

    /// An event about a channel and the one it dials (`Dest*`).
    fn pair(
        &mut self,
        event: &str,
        privilege: &str,
        c: &Chan<'_>,
        d: &Chan<'_>,
        extra: &[(&str, &str)],
    ) {
        self.begin(event, privilege);
        self.chan("", c);
        self.chan("Dest", d);
        for (k, v) in extra {
            self.line(k, v);
        }
        self.end();
    }

    fn newexten(&mut self, c: &Chan<'_>, app: &str, data: &str) {
        self.on(
            "Newexten",
            "dialplan,all",
            c,
            &[
                ("Extension", c.exten),
                ("Application", app),
                ("AppData", data),
            ],
        );
    }

    fn varset(&mut self, c: &Chan<'_>, variable: &str, value: &str) {
        self.on(
            "VarSet",
            "dialplan,all",
            c,
            &[("Variable", variable), ("Value", value)],
        );
    }

    fn device_state(&mut self, device: &str, state: &str) {
        self.begin("DeviceStateChange", "call,all");
        self.line("Device", device);
        self.line("State", state);
        self.end();
    }

    fn member_status(&mut self, interface: &str, status: &str, in_call: &str, calls: &str) {
        self.begin("QueueMemberStatus", "agent,all");
        for (k, v) in [
            ("Queue", QUEUE),
            ("MemberName", interface),
            ("Interface", interface),
            ("StateInterface", interface),
            ("Membership", "static"),
            ("Penalty", "0"),
            ("CallsTaken", calls),
            ("LastCall", "0"),
            ("LastPause", "0"),
            ("LoginTime", "1765000000"),
            ("InCall", in_call),
            ("Status", status),
            ("Paused", "0"),
            ("PausedReason", ""),
            ("Ringinuse", "0"),
            ("Wrapuptime", "0"),
        ] {
            self.line(k, v);
        }
        self.end();
    }

    fn bridge(&mut self, event: &str, id: &str, members: u8) {
        self.begin(event, "call,all");
        self.bridge_lines(id, members);
        self.end();
    }

    fn bridge_lines(&mut self, id: &str, members: u8) {
        let _ = write!(
            self.out,
            "BridgeUniqueid: {id}\r\nBridgeType: basic\r\nBridgeTechnology: simple_bridge\r\n\
             BridgeCreator: <unknown>\r\nBridgeName: <unknown>\r\nBridgeNumChannels: {members}\r\n\
             BridgeVideoSourceMode: none\r\n"
        );
    }

    fn bridge_chan(&mut self, event: &str, id: &str, members: u8, c: &Chan<'_>) {
        self.begin(event, "call,all");
        self.bridge_lines(id, members);
        self.chan("", c);
        self.end();
    }

    /// chan_pjsip's RTP statistics, set on a channel as it hangs up (after it left
    /// the bridge, so no `…BRIDGED` copies on a peer).
    fn rtp_qos(&mut self, c: &Chan<'_>, n: u64) {
        let jitter = format!("minrxjitter=0.000000;maxrxjitter=0.00{};avgrxjitter=0.000400;stdevrxjitter=0.000100;reported_minjitter=0.000000;reported_maxjitter=0.001000;reported_avgjitter=0.000500;reported_stdevjitter=0.000200;", n % 10);
        let loss = "minrxlost=0.000000;maxrxlost=0.000000;avgrxlost=0.000000;stdevrxlost=0.000000;reported_minlost=0.000000;reported_maxlost=0.000000;reported_avglost=0.000000;reported_stdevlost=0.000000;";
        let rtt = "minrtt=0.000300;maxrtt=0.001200;avgrtt=0.000700;stdevrtt=0.000200;";
        let qos = format!(
            "ssrc={};themssrc={};lp=0;rxjitter=0.000400;rxcount={};txjitter=0.000500;txcount={};rlp=0;rtt=0.000700;rxmes=4.400000;txmes=4.400000",
            (n * 7919) % 4_294_967_291,
            (n * 104_729) % 4_294_967_291,
            1500 + n % 500,
            1500 + n % 500
        );
        for (name, value) in [
            ("RTPAUDIOQOSJITTER", jitter.as_str()),
            ("RTPAUDIOQOSLOSS", loss),
            ("RTPAUDIOQOSRTT", rtt),
            ("RTPAUDIOQOS", qos.as_str()),
        ] {
            self.varset(c, name, value);
        }
    }
}

impl Call<'_> {
    fn ids(&self) -> Ids {
        // Two channels per call; Asterisk's sequence numbers run across all channels.
        let seq = 2 * self.n;
        Ids {
            caller_u: format!("{}.{}", EPOCH + self.n / 100, seq),
            agent_u: format!("{}.{}", EPOCH + self.n / 100, seq + 1),
            trunk: format!("PJSIP/carrier-{seq:08x}"),
            phone: format!("PJSIP/{}-{:08x}", self.extension, seq + 1),
            interface: format!("PJSIP/{}", self.extension),
            bridge: format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                self.n as u32,
                (self.n >> 32) as u16,
                self.n % 0xfff,
                (self.n * 7) % 0xfff,
                self.n.wrapping_mul(0x9e37_79b9)
            ),
            call_id: format!("{:016x}@192.0.2.10", self.n.wrapping_mul(0x2545_f491)),
        }
    }

    /// Write one part of the call.
    pub fn write(&self, part: Part, w: &mut Writer<'_>) {
        let ids = self.ids();
        let caller = |state, priority| Chan {
            name: &ids.trunk,
            state,
            cid: self.caller,
            connected: "<unknown>",
            context: "from-pstn",
            exten: DID,
            priority,
            uniqueid: &ids.caller_u,
            linkedid: &ids.caller_u,
        };
        let agent = |state, connected| Chan {
            name: &ids.phone,
            state,
            cid: self.extension,
            connected,
            context: "from-internal",
            exten: self.extension,
            priority: 1,
            uniqueid: &ids.agent_u,
            linkedid: &ids.caller_u,
        };
        const RING: (u8, &str) = (4, "Ring");
        const UP: (u8, &str) = (6, "Up");
        const DOWN: (u8, &str) = (0, "Down");
        const RINGING: (u8, &str) = (5, "Ringing");
        match part {
            Part::Arrive => {
                let c = caller(RING, 1);
                w.on("Newchannel", "call,all", &c, &[]);
                w.newexten(&c, "NoOp", "Inbound call");
                let c = caller(RING, 2);
                w.newexten(&c, "Set", &format!("__DID={DID}"));
                w.varset(&c, "__DID", DID);
                let c = caller(RING, 3);
                w.newexten(&c, "Answer", "");
                let c = caller(UP, 3);
                w.on("Newstate", "call,all", &c, &[]);
                let c = caller(UP, 4);
                w.newexten(&c, "Set", "__QUEUE_START=1765000000");
                w.varset(&c, "__QUEUE_START", "1765000000");
                let c = caller(UP, 5);
                w.newexten(&c, "Queue", &format!("{QUEUE},t"));
                w.on(
                    "QueueCallerJoin",
                    "agent,all",
                    &c,
                    &[("Queue", QUEUE), ("Position", "1"), ("Count", "1")],
                );
                let a = agent(DOWN, "<unknown>");
                w.on("Newchannel", "call,all", &a, &[]);
                w.pair(
                    "AgentCalled",
                    "agent,all",
                    &c,
                    &a,
                    &[
                        ("Queue", QUEUE),
                        ("MemberName", &ids.interface),
                        ("Interface", &ids.interface),
                    ],
                );
                w.pair(
                    "DialBegin",
                    "call,all",
                    &c,
                    &a,
                    &[("DialString", self.extension)],
                );
                let a = agent(DOWN, self.caller);
                w.on("NewConnectedLine", "call,all", &a, &[]);
                let a = agent(RINGING, self.caller);
                w.on("Newstate", "call,all", &a, &[]);
                w.device_state(&ids.interface, "RINGING");
                w.member_status(&ids.interface, "6", "0", "0");
            }
            Part::Answer => {
                let c = caller(UP, 5);
                let a = agent(UP, self.caller);
                w.on("Newstate", "call,all", &a, &[]);
                w.pair("DialEnd", "call,all", &c, &a, &[("DialStatus", "ANSWER")]);
                w.device_state(&ids.interface, "INUSE");
                w.member_status(&ids.interface, "2", "1", "0");
                let c = Chan {
                    connected: self.extension,
                    ..c
                };
                w.on("NewConnectedLine", "call,all", &c, &[]);
                for (name, value) in [
                    ("MEMBERINTERFACE", ids.interface.as_str()),
                    ("MEMBERNAME", ids.interface.as_str()),
                    ("MEMBERCALLS", "0"),
                    ("MEMBERLASTCALL", "0"),
                    ("MEMBERPENALTY", "0"),
                    ("MEMBERDYNAMIC", "0"),
                    ("MEMBERREALTIME", "0"),
                ] {
                    w.varset(&c, name, value);
                }
                w.on(
                    "QueueCallerLeave",
                    "agent,all",
                    &c,
                    &[("Queue", QUEUE), ("Position", "1"), ("Count", "0")],
                );
                w.bridge("BridgeCreate", &ids.bridge, 0);
                w.bridge_chan("BridgeEnter", &ids.bridge, 1, &c);
                w.bridge_chan("BridgeEnter", &ids.bridge, 2, &a);
                w.varset(&c, "BRIDGEPEER", &ids.phone);
                w.varset(&c, "BRIDGEPVTCALLID", &ids.call_id);
                w.varset(&a, "BRIDGEPEER", &ids.trunk);
                w.varset(&a, "BRIDGEPVTCALLID", &ids.call_id);
                w.pair(
                    "AgentConnect",
                    "agent,all",
                    &c,
                    &a,
                    &[
                        ("Queue", QUEUE),
                        ("MemberName", &ids.interface),
                        ("Interface", &ids.interface),
                        ("HoldTime", "3"),
                        ("RingTime", "2"),
                    ],
                );
            }
            Part::End => {
                let c = Chan {
                    connected: self.extension,
                    ..caller(UP, 5)
                };
                let a = agent(UP, self.caller);
                w.on("HangupRequest", "call,all", &a, &[("Cause", "16")]);
                w.bridge_chan("BridgeLeave", &ids.bridge, 1, &a);
                w.rtp_qos(&a, self.n);
                w.on(
                    "Hangup",
                    "call,all",
                    &a,
                    &[("Cause", "16"), ("Cause-txt", "Normal Clearing")],
                );
                w.device_state(&ids.interface, "NOT_INUSE");
                w.member_status(&ids.interface, "1", "0", "1");
                w.pair(
                    "AgentComplete",
                    "agent,all",
                    &c,
                    &a,
                    &[
                        ("Queue", QUEUE),
                        ("MemberName", &ids.interface),
                        ("Interface", &ids.interface),
                        ("HoldTime", "3"),
                        ("TalkTime", "95"),
                        ("Reason", "agent"),
                    ],
                );
                w.bridge_chan("BridgeLeave", &ids.bridge, 0, &c);
                w.bridge("BridgeDestroy", &ids.bridge, 0);
                let c = Chan { priority: 6, ..c };
                w.newexten(&c, "Hangup", "");
                w.rtp_qos(&c, self.n);
                w.on(
                    "Hangup",
                    "call,all",
                    &c,
                    &[("Cause", "16"), ("Cause-txt", "Normal Clearing")],
                );
            }
        }
    }
}

struct Ids {
    caller_u: String,
    agent_u: String,
    trunk: String,
    phone: String,
    interface: String,
    bridge: String,
    call_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole_call(n: u64) -> (String, u64) {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        let call = Call {
            n,
            caller: "+12125550100",
            extension: "20001",
        };
        for part in [Part::Arrive, Part::Answer, Part::End] {
            call.write(part, &mut w);
        }
        let events = w.events;
        (String::from_utf8(out).unwrap(), events)
    }

    #[test]
    fn a_call_is_well_formed_ami_with_its_own_ids() {
        let (text, events) = whole_call(7);
        // Every message ends with a blank line and starts with its Event header.
        let messages: Vec<&str> = text.split_terminator("\r\n\r\n").collect();
        assert_eq!(messages.len() as u64, events);
        // docs/performance.md describes this 56-event call.
        assert_eq!(events, 56);
        for m in &messages {
            assert!(m.starts_with("Event: "), "{m}");
            for line in m.split("\r\n") {
                assert!(line.contains(": "), "`{line}` in {m}");
            }
        }
        // The key events of a queue call, in order.
        let order: Vec<&str> = messages
            .iter()
            .map(|m| &m["Event: ".len()..m.find("\r\n").unwrap()])
            .filter(|e| {
                [
                    "QueueCallerJoin",
                    "DialBegin",
                    "DialEnd",
                    "BridgeEnter",
                    "Hangup",
                ]
                .contains(e)
            })
            .collect();
        assert_eq!(
            order,
            [
                "QueueCallerJoin",
                "DialBegin",
                "DialEnd",
                "BridgeEnter",
                "BridgeEnter",
                "Hangup",
                "Hangup"
            ]
        );
        assert!(text.contains("Uniqueid: 1765000000.14\r\n"));
        assert!(text.contains("Channel: PJSIP/20001-0000000f\r\n"));
        assert!(text.contains("CallerIDNum: +12125550100\r\n"));
        // Another call shares no Uniqueid with this one.
        let (other, _) = whole_call(8);
        assert!(!other.contains("Uniqueid: 1765000000.14\r\n"));
        assert!(!other.contains("Uniqueid: 1765000000.15\r\n"));
    }
}

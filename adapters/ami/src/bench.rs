//! Bytes in, events out: the AMI parse + track path without any I/O, for
//! throughput measurement (the `ami_throughput` example, a future `ctibridge
//! bench`) and for anything that wants to run the adapter's logic on a byte stream.

use ctibridge_adapter::SwitchEvent;

use crate::codec::{Item, Parser};
use crate::config::AgentConfig;
use crate::tracker::Tracker;

/// A parser and a tracker joined up.
#[derive(Debug)]
pub struct Pipeline {
    parser: Parser,
    tracker: Tracker,
    /// Events made so far; the caller drains it.
    pub events: Vec<SwitchEvent>,
    /// Messages read.
    pub messages: u64,
    /// Framing errors met (each names its offset in the codec's error).
    pub errors: u64,
}

impl Pipeline {
    /// `banner`: the stream starts with `Asterisk Call Manager/…`.
    pub fn new(
        banner: bool,
        devices: &[String],
        agents: &[AgentConfig],
        queues: &[String],
    ) -> Pipeline {
        Pipeline {
            parser: Parser::new(banner),
            tracker: Tracker::new(devices, agents, queues),
            events: Vec::with_capacity(1024),
            messages: 0,
            errors: 0,
        }
    }

    /// Feed bytes; returns how many messages they completed.
    pub fn feed(&mut self, bytes: &[u8]) -> u64 {
        self.parser.feed(bytes);
        let before = self.messages;
        while let Some(item) = self.parser.next() {
            match item {
                Item::Message(m) => {
                    self.messages += 1;
                    self.tracker.handle(&m, &mut self.events);
                }
                Item::Error(_) => self.errors += 1,
                Item::Banner(_) => {}
            }
        }
        self.messages - before
    }

    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }
}

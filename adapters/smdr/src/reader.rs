//! From bytes to finished records: framing → format → dedup → assembly, the path
//! every byte takes in the adapter and in `ctibridge decode` alike.
//!
//! A line the format cannot read becomes an [`Output::Issue`] with its position (line
//! number and byte offset since the link opened) and is skipped; the stream goes on.

use std::time::Instant;

use crate::dedup::Seen;
use crate::error::ParseError;
use crate::format::fields::Clock;
use crate::format::{Format, Line};
use crate::framing::{Frame, Framer, Terminator, MAX_RECORD};
use crate::record::{Assembled, Assembler};
use chrono::{DateTime, FixedOffset, Utc};

/// What a piece of input produced, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Record(Assembled),
    Issue(Issue),
}

/// A line that was skipped because it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub line: u64,
    pub offset: u64,
    pub error: ParseError,
    pub text: String,
}

impl Issue {
    /// `line 12 (byte 940)`.
    pub fn position(&self) -> String {
        format!("line {} (byte {})", self.line, self.offset)
    }
}

pub struct Reader {
    format: Format,
    terminator: Terminator,
    utc_offset: Option<FixedOffset>,
    framer: Framer,
    seen: Seen,
    assembler: Assembler,
    /// Record lines dropped as repeats, for logs and tests.
    pub repeats: u64,
    /// "Now" for dates printed without a year or a day; the real clock when `None`.
    pinned_now: Option<DateTime<Utc>>,
}

impl Reader {
    pub fn new(
        format: Format,
        terminator: Terminator,
        utc_offset: Option<FixedOffset>,
        dedup_window: usize,
    ) -> Self {
        Reader {
            format,
            terminator,
            utc_offset,
            framer: Framer::new(terminator),
            seen: Seen::new(dedup_window),
            assembler: Assembler::default(),
            repeats: 0,
            pinned_now: None,
        }
    }

    /// Read dates without a year (or without a day) as of `now` instead of the real
    /// clock: for captures whose expected output must not change with the date.
    pub fn pin_clock(&mut self, now: DateTime<Utc>) {
        self.pinned_now = Some(now);
    }

    /// A new connection: a half line from the old one is dropped and lines count
    /// from 1 again. Remembered records and unfinished calls are kept.
    pub fn reconnected(&mut self) {
        self.framer = Framer::new(self.terminator);
    }

    pub fn push(&mut self, bytes: &[u8]) -> Vec<Output> {
        let frames = self.framer.push(bytes);
        let now = Instant::now();
        let mut out: Vec<Output> = self
            .assembler
            .expired(now)
            .into_iter()
            .map(Output::Record)
            .collect();
        for frame in frames {
            self.frame(frame, now, &mut out);
        }
        out
    }

    /// The end of the input: the last line without terminator, and every call
    /// still waiting for more lines.
    pub fn finish(&mut self) -> Vec<Output> {
        let mut out = Vec::new();
        if let Some(frame) = self.framer.finish() {
            self.frame(frame, Instant::now(), &mut out);
        }
        out.extend(self.assembler.finish().into_iter().map(Output::Record));
        out
    }

    fn frame(&mut self, frame: Frame, now: Instant, out: &mut Vec<Output>) {
        let issue = |error| Issue {
            line: frame.line,
            offset: frame.offset,
            error,
            text: frame.text.chars().take(120).collect(),
        };
        if frame.overlong {
            out.push(Output::Issue(issue(ParseError::TooLong(MAX_RECORD))));
            return;
        }
        let mut clock = Clock::new(self.utc_offset);
        if let Some(now) = self.pinned_now {
            clock.now = now;
        }
        match self.format.parse(&frame.text, &clock) {
            Ok(Line::Skip) => {}
            Ok(Line::Record(parsed)) => {
                if !self.seen.first_time(&frame.text) {
                    self.repeats += 1;
                    return;
                }
                out.extend(
                    self.assembler
                        .push(parsed, &frame.text, now)
                        .into_iter()
                        .map(Output::Record),
                );
            }
            Err(error) => out.push(Output::Issue(issue(error))),
        }
    }
}

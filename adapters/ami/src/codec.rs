//! AMI message framing: the banner line, then messages of `Key: Value` lines ended
//! by CRLF, each message ended by an empty line.
//!
//! [`Parser`] is sans-I/O and allocation-free in the steady state: bytes go in with
//! [`Parser::feed`], and [`Parser::next`] hands out [`Message`]s that borrow their
//! header names and values from the parser's buffer (header spans live in one vector
//! reused for every message). A bad line is reported as a [`CodecError`] naming its
//! stream offset and skipped; the rest of its message is kept, so one mangled header
//! never loses an event and never shifts the framing of the next one. A line longer
//! than [`MAX_LINE`] (a runaway value, a peer that is not Asterisk) is dropped as it
//! arrives, so memory stays bounded whatever the peer sends. Bare LF line ends are
//! accepted as well as CRLF (some proxies rewrite them).

use std::ops::Range;

/// The longest line kept. Asterisk's own limit for a header is 1 KiB per value in
/// most events; a `Command` output or a long `VarSet` value stays well under this.
pub const MAX_LINE: usize = 64 * 1024;
/// The most headers one message may carry (CoreShowChannel has about 25).
pub const MAX_HEADERS: usize = 512;

/// A problem in the byte stream, with the stream offset (0-based, from the first
/// byte of the connection) of the line it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("byte {offset}: line without `Key: Value` (no colon); line skipped")]
    NoColon { offset: u64 },
    #[error("byte {offset}: header name is empty or not ASCII; line skipped")]
    BadKey { offset: u64 },
    #[error("byte {offset}: line longer than {limit} bytes; line dropped")]
    LineTooLong { offset: u64, limit: usize },
    #[error("byte {offset}: more than {limit} headers in one message; extra lines skipped")]
    TooManyHeaders { offset: u64, limit: usize },
}

impl CodecError {
    pub fn offset(&self) -> u64 {
        match self {
            CodecError::NoColon { offset }
            | CodecError::BadKey { offset }
            | CodecError::LineTooLong { offset, .. }
            | CodecError::TooManyHeaders { offset, .. } => *offset,
        }
    }
}

/// One item read from the stream.
#[derive(Debug)]
pub enum Item<'a> {
    /// The first line of a connection, e.g. `Asterisk Call Manager/5.0.1`.
    Banner(&'a str),
    Message(Message<'a>),
    Error(CodecError),
}

/// One AMI message (an event, a response, or an action in the fake's direction).
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    buf: &'a [u8],
    fields: &'a [Field],
    /// Stream offset of the message's first byte.
    pub offset: u64,
}

#[derive(Debug, Clone, Copy)]
struct Field {
    key: (u32, u32),
    value: (u32, u32),
}

impl<'a> Message<'a> {
    /// The first value of header `key` (ASCII case-insensitive, as Asterisk has
    /// spelt some names differently across versions: `Uniqueid`/`UniqueID`). `None`
    /// when absent or when the value is not UTF-8.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.get_bytes(key)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    pub fn get_bytes(&self, key: &str) -> Option<&'a [u8]> {
        let key = key.as_bytes();
        self.fields.iter().find_map(|f| {
            let k = &self.buf[f.key.0 as usize..f.key.1 as usize];
            k.eq_ignore_ascii_case(key)
                .then(|| &self.buf[f.value.0 as usize..f.value.1 as usize])
        })
    }

    /// Every header in order, values lossily shown (for logs and `decode`).
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, std::borrow::Cow<'a, str>)> + '_ {
        self.fields.iter().map(|f| {
            let k = &self.buf[f.key.0 as usize..f.key.1 as usize];
            let v = &self.buf[f.value.0 as usize..f.value.1 as usize];
            (
                std::str::from_utf8(k).unwrap_or(""),
                String::from_utf8_lossy(v),
            )
        })
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn event(&self) -> Option<&'a str> {
        self.get("Event")
    }

    pub fn response(&self) -> Option<&'a str> {
        self.get("Response")
    }

    pub fn action_id(&self) -> Option<&'a str> {
        self.get("ActionID")
    }

    /// The message as AMI text (CRLF lines, ending blank line), for `raw` and logs.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (k, v) in self.headers() {
            out.push_str(k);
            out.push_str(": ");
            out.push_str(&v);
            out.push_str("\r\n");
        }
        out
    }

    /// An owned copy, for messages kept past the next read (events during resync).
    pub fn to_owned(&self) -> OwnedMessage {
        OwnedMessage {
            fields: self
                .headers()
                .map(|(k, v)| (k.to_string(), v.into_owned()))
                .collect(),
        }
    }
}

/// A message that owns its text; [`OwnedMessage::with`] lends it as a [`Message`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedMessage {
    pub fields: Vec<(String, String)>,
}

/// Header lookup on a borrowed or an owned message.
pub trait Headers {
    fn header(&self, key: &str) -> Option<&str>;
}

impl Headers for Message<'_> {
    fn header(&self, key: &str) -> Option<&str> {
        self.get(key)
    }
}

impl Headers for OwnedMessage {
    fn header(&self, key: &str) -> Option<&str> {
        self.get(key)
    }
}

impl OwnedMessage {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    pub fn with<R>(&self, f: impl FnOnce(Message<'_>) -> R) -> R {
        let mut buf = Vec::new();
        let mut fields = Vec::with_capacity(self.fields.len());
        for (k, v) in &self.fields {
            let ks = buf.len() as u32;
            buf.extend_from_slice(k.as_bytes());
            let vs = buf.len() as u32;
            buf.extend_from_slice(v.as_bytes());
            fields.push(Field {
                key: (ks, vs),
                value: (vs, buf.len() as u32),
            });
        }
        f(Message {
            buf: &buf,
            fields: &fields,
            offset: 0,
        })
    }
}

/// The incremental reader. See the module documentation.
#[derive(Debug)]
pub struct Parser {
    buf: Vec<u8>,
    /// First byte of the message being read.
    start: usize,
    /// Where scanning resumes (the first byte of the next unread line).
    scan: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Bytes removed from the middle of `buf` (dropped long lines) before `scan`.
    dropped: u64,
    fields: Vec<Field>,
    banner_pending: bool,
    /// Inside a line longer than MAX_LINE: drop bytes up to its end.
    dropping_line: bool,
    /// The message being read hit MAX_HEADERS (reported once).
    overfull: bool,
    /// The last message handed out still owns `fields`; clear before reading on.
    clear_fields: bool,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new(true)
    }
}

impl Parser {
    /// `banner`: the first line of the stream is the `Asterisk Call Manager/…` banner
    /// (a client's view); false for a stream of messages only (a capture file cut
    /// after the banner, or the fake's view of actions).
    pub fn new(banner: bool) -> Parser {
        Parser {
            buf: Vec::with_capacity(16 * 1024),
            start: 0,
            scan: 0,
            base: 0,
            dropped: 0,
            fields: Vec::with_capacity(32),
            banner_pending: banner,
            dropping_line: false,
            overfull: false,
            clear_fields: false,
        }
    }

    /// Add bytes from the stream. Bytes of messages already handed out are released
    /// here (a [`Message`] borrows the parser, so none is alive now).
    pub fn feed(&mut self, bytes: &[u8]) {
        self.release();
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.base += self.start as u64;
            self.scan -= self.start;
            for f in &mut self.fields {
                let s = self.start as u32;
                f.key = (f.key.0 - s, f.key.1 - s);
                f.value = (f.value.0 - s, f.value.1 - s);
            }
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held for a message not yet complete.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    fn release(&mut self) {
        if self.clear_fields {
            self.fields.clear();
            self.clear_fields = false;
        }
    }

    fn offset_of(&self, index: usize) -> u64 {
        self.base + self.dropped + index as u64
    }

    /// The next complete item, or `None` until more bytes are fed.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Item<'_>> {
        self.release();
        loop {
            if self.dropping_line {
                match memchr::memchr(b'\n', &self.buf[self.scan..]) {
                    Some(i) => {
                        let end = self.scan + i + 1;
                        self.dropped += (end - self.scan) as u64;
                        self.buf.drain(self.scan..end);
                        self.dropping_line = false;
                    }
                    None => {
                        self.dropped += (self.buf.len() - self.scan) as u64;
                        self.buf.truncate(self.scan);
                        return None;
                    }
                }
                continue;
            }
            let Some(i) = memchr::memchr(b'\n', &self.buf[self.scan..]) else {
                if self.buf.len() - self.scan > MAX_LINE {
                    let offset = self.offset_of(self.scan);
                    self.dropping_line = true;
                    return Some(Item::Error(CodecError::LineTooLong {
                        offset,
                        limit: MAX_LINE,
                    }));
                }
                return None;
            };
            let line_start = self.scan;
            let nl = line_start + i;
            let mut line_end = nl;
            if line_end > line_start && self.buf[line_end - 1] == b'\r' {
                line_end -= 1;
            }
            self.scan = nl + 1;
            if line_end - line_start > MAX_LINE {
                return Some(Item::Error(CodecError::LineTooLong {
                    offset: self.offset_of(line_start),
                    limit: MAX_LINE,
                }));
            }
            if self.banner_pending {
                self.banner_pending = false;
                self.start = self.scan;
                let text = &self.buf[line_start..line_end];
                return Some(Item::Banner(std::str::from_utf8(text).unwrap_or("")));
            }
            if line_end == line_start {
                if self.fields.is_empty() {
                    // Blank lines between messages: nothing to hand out.
                    self.start = self.scan;
                    continue;
                }
                let offset = self.offset_of(self.start);
                self.start = self.scan;
                self.overfull = false;
                // The message borrows the spans; they are cleared on the next call.
                self.clear_fields = true;
                return Some(Item::Message(Message {
                    buf: &self.buf,
                    fields: &self.fields,
                    offset,
                }));
            }
            if self.fields.len() >= MAX_HEADERS {
                if !self.overfull {
                    self.overfull = true;
                    return Some(Item::Error(CodecError::TooManyHeaders {
                        offset: self.offset_of(line_start),
                        limit: MAX_HEADERS,
                    }));
                }
                continue;
            }
            let line = &self.buf[line_start..line_end];
            let Some(colon) = memchr::memchr(b':', line) else {
                return Some(Item::Error(CodecError::NoColon {
                    offset: self.offset_of(line_start),
                }));
            };
            let key = &line[..colon];
            if key.is_empty() || !key.iter().all(|b| b.is_ascii_graphic()) {
                return Some(Item::Error(CodecError::BadKey {
                    offset: self.offset_of(line_start),
                }));
            }
            let mut value_start = colon + 1;
            while value_start < line.len() && line[value_start] == b' ' {
                value_start += 1;
            }
            let mut value_end = line.len();
            while value_end > value_start && line[value_end - 1] == b' ' {
                value_end -= 1;
            }
            let at = |r: Range<usize>| ((line_start + r.start) as u32, (line_start + r.end) as u32);
            self.fields.push(Field {
                key: at(0..colon),
                value: at(value_start..value_end),
            });
        }
    }
}

/// Append one message (`Action: …` first) to `out` as AMI text. CR and LF inside a
/// value become spaces: a value can never end the message early or smuggle a
/// second action onto the link.
pub fn write_message(out: &mut Vec<u8>, fields: &[(&str, &str)]) {
    for (key, value) in fields {
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b": ");
        out.extend(
            value
                .bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests;

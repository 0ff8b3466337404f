//! Record framing: cutting a byte stream into record lines, with the noise real
//! ports carry.
//!
//! A switch ends its records with CR LF, CR, LF, LF CR or NUL, or wraps them in
//! STX…ETX; [`Terminator::Auto`] (the default) takes any of CR, LF, CR LF, LF CR and
//! ETX, so one setting works for nearly every switch. Printer-port output is noisy:
//! form feeds and page headers between pages, stray control bytes after a line
//! glitch, NUL padding, a half line when the link came up mid-record. So:
//! - a form feed ends the current line (a page break is never inside a record);
//! - other control bytes (and DEL) are dropped, except TAB, which CSV formats may use;
//! - bytes from 0x80 up are read as Latin-1, so no byte is ever rejected;
//! - a line longer than [`MAX_RECORD`] is reported as over-long and dropped up to the
//!   next terminator, so a port spewing garbage without terminators cannot grow memory.
//!
//! Lines are numbered by terminator (a CR LF pair counts once), from 1, since the
//! framer was made (the adapter makes one per connection), and carry the byte offset
//! of their first byte: that is the position logs and `ctibridge decode` report.

use serde::Deserialize;

/// The longest record line kept, in bytes.
pub const MAX_RECORD: usize = 2048;

const STX: u8 = 0x02;
const ETX: u8 = 0x03;
const FF: u8 = 0x0c;

/// How records end (`terminator = "…"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Terminator {
    /// CR, LF, CR LF, LF CR and ETX all end a record; STX starts one.
    #[default]
    Auto,
    Crlf,
    Cr,
    Lf,
    Lfcr,
    Nul,
    StxEtx,
}

impl Terminator {
    pub const NAMES: &'static str = "auto, crlf, cr, lf, lfcr, nul, stx-etx";
}

/// One record line cut from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The line, control bytes removed, trailing spaces trimmed.
    pub text: String,
    /// 1-based line number since the framer was made.
    pub line: u64,
    /// Byte offset of the line's first byte since the framer was made.
    pub offset: u64,
    /// The line was longer than [`MAX_RECORD`]; `text` holds its start only.
    pub overlong: bool,
}

/// Cuts records out of a byte stream that arrives in pieces of any size.
#[derive(Debug)]
pub struct Framer {
    terminator: Terminator,
    buf: Vec<u8>,
    /// Offset of the first kept byte of the line being collected.
    start: u64,
    /// Offset of the next byte fed.
    pos: u64,
    line: u64,
    overlong: bool,
    /// The first byte of a two-byte terminator (CR of CR LF, LF of LF CR) was seen.
    pending: Option<u8>,
    /// Inside STX…ETX (stx-etx framing).
    inside: bool,
}

impl Framer {
    pub fn new(terminator: Terminator) -> Self {
        Framer {
            terminator,
            buf: Vec::new(),
            start: 0,
            pos: 0,
            line: 0,
            overlong: false,
            pending: None,
            inside: false,
        }
    }

    /// Feed bytes; returns the lines they completed (blank lines are counted, not returned).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Frame> {
        let mut out = Vec::new();
        for &byte in bytes {
            self.byte(byte, &mut out);
            self.pos += 1;
        }
        out
    }

    /// The end of the input (a capture file): a last line without terminator counts.
    pub fn finish(&mut self) -> Option<Frame> {
        let mut out = Vec::new();
        if !self.buf.is_empty() || self.overlong {
            self.end_line(&mut out);
        }
        out.pop()
    }

    fn byte(&mut self, byte: u8, out: &mut Vec<Frame>) {
        use Terminator::*;
        // The second byte of a CR LF / LF CR pair ends nothing more.
        if let Some(first) = self.pending.take() {
            let pair = matches!((first, byte), (b'\r', b'\n') | (b'\n', b'\r'));
            match self.terminator {
                Auto if pair => return,
                Crlf if first == b'\r' && byte == b'\n' => return self.end_line(out),
                Lfcr if first == b'\n' && byte == b'\r' => return self.end_line(out),
                // A lone half of the pair is noise.
                _ => {}
            }
        }
        match (self.terminator, byte) {
            (Auto, b'\r' | b'\n') => {
                self.end_line(out);
                self.pending = Some(byte);
            }
            (Auto, ETX) | (Cr, b'\r') | (Lf, b'\n') | (Nul, 0) => self.end_line(out),
            (Crlf, b'\r') | (Lfcr, b'\n') => self.pending = Some(byte),
            (StxEtx | Auto, STX) => {
                // A new record starts: whatever came before it was not one.
                self.discard();
                self.inside = true;
            }
            (StxEtx, ETX) => {
                if self.inside {
                    self.end_line(out);
                }
                self.inside = false;
            }
            (StxEtx, _) if !self.inside => {}
            (_, FF) => self.end_line(out),
            (_, b'\t') => self.keep(byte),
            (_, 0..=0x1f | 0x7f) => {}
            _ => self.keep(byte),
        }
    }

    fn keep(&mut self, byte: u8) {
        if self.buf.is_empty() && !self.overlong {
            // Offsets point at the line's first kept byte, past terminators and noise.
            self.start = self.pos;
        }
        if self.buf.len() >= MAX_RECORD {
            self.overlong = true;
            return;
        }
        self.buf.push(byte);
    }

    fn discard(&mut self) {
        self.buf.clear();
        self.overlong = false;
    }

    fn end_line(&mut self, out: &mut Vec<Frame>) {
        self.line += 1;
        // Latin-1: every byte is a char, so nothing is ever rejected here.
        let text: String = self.buf.iter().map(|&b| char::from(b)).collect();
        let text = text.trim_end().to_string();
        if !text.trim().is_empty() || self.overlong {
            out.push(Frame {
                text,
                line: self.line,
                offset: self.start,
                overlong: self.overlong,
            });
        }
        self.discard();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(terminator: Terminator, input: &[u8]) -> Vec<String> {
        let mut framer = Framer::new(terminator);
        let mut out: Vec<String> = framer.push(input).into_iter().map(|f| f.text).collect();
        out.extend(framer.finish().map(|f| f.text));
        out
    }

    #[test]
    fn every_terminator_style() {
        let cases: [(Terminator, &[u8]); 12] = [
            (Terminator::Crlf, b"one\r\ntwo\r\n"),
            (Terminator::Cr, b"one\rtwo\r"),
            (Terminator::Lf, b"one\ntwo\n"),
            (Terminator::Lfcr, b"one\n\rtwo\n\r"),
            (Terminator::Nul, b"one\0two\0"),
            (Terminator::StxEtx, b"\x02one\x03\x02two\x03"),
            (Terminator::Auto, b"one\r\ntwo\r\n"),
            (Terminator::Auto, b"one\rtwo\r"),
            (Terminator::Auto, b"one\ntwo\n"),
            (Terminator::Auto, b"one\n\rtwo\n\r"),
            (Terminator::Auto, b"\x02one\x03\r\n\x02two\x03"),
            (Terminator::Auto, b"one\x0ctwo"),
        ];
        for (terminator, input) in cases {
            assert_eq!(
                lines(terminator, input),
                ["one", "two"],
                "{terminator:?} {input:?}"
            );
        }
    }

    #[test]
    fn lines_split_across_reads_are_joined() {
        let input = b"first record\r\nsecond record\r\n";
        for split in 0..input.len() {
            let mut framer = Framer::new(Terminator::Crlf);
            let mut got: Vec<Frame> = framer.push(&input[..split]);
            got.extend(framer.push(&input[split..]));
            let texts: Vec<_> = got.iter().map(|f| f.text.as_str()).collect();
            assert_eq!(texts, ["first record", "second record"], "split at {split}");
            assert_eq!(got[1].line, 2);
            assert_eq!(got[1].offset, 14);
        }
    }

    #[test]
    fn noise_is_dropped_and_lines_counted() {
        let mut framer = Framer::new(Terminator::Auto);
        let frames = framer.push(b"\x0c\x00PAGE 1\r\n\r\nre\x07cord\x7f one\r\n\x1b\x11two\r\n");
        let texts: Vec<_> = frames.iter().map(|f| (f.line, f.text.as_str())).collect();
        assert_eq!(texts, [(2, "PAGE 1"), (4, "record one"), (5, "two")]);
    }

    #[test]
    fn explicit_terminators_treat_other_line_ends_as_noise() {
        assert_eq!(lines(Terminator::Crlf, b"a\rb\nc\r\n"), ["abc"]);
        assert_eq!(lines(Terminator::Nul, b"a\r\nb\0"), ["ab"]);
        // Outside STX…ETX everything is dropped.
        assert_eq!(
            lines(Terminator::StxEtx, b"junk\x02rec\r\nord\x03junk"),
            ["record"]
        );
    }

    #[test]
    fn a_partial_line_before_stx_is_dropped() {
        assert_eq!(lines(Terminator::Auto, b"ord tail\x02whole\x03"), ["whole"]);
    }

    #[test]
    fn overlong_lines_are_cut_and_flagged() {
        let mut input = vec![b'x'; MAX_RECORD + 100];
        input.extend_from_slice(b"\nok\n");
        let mut framer = Framer::new(Terminator::Auto);
        let frames = framer.push(&input);
        assert_eq!(frames.len(), 2);
        assert!(frames[0].overlong);
        assert_eq!(frames[0].text.len(), MAX_RECORD);
        assert_eq!(frames[1].text, "ok");
        assert!(!frames[1].overlong);
    }

    #[test]
    fn latin1_bytes_are_kept() {
        assert_eq!(lines(Terminator::Lf, b"M\xfcller\n"), ["Müller"]);
    }
}

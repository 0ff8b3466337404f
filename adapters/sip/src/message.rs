//! SIP messages as the adapter reads and writes them: parsed with `rsip`, looked at
//! through [`Message`], which knows header names in both forms.
//!
//! rsip parses the start line, headers and body, but leaves the compact header
//! forms of RFC 3261 §7.3.3 (`i:` for Call-ID, `f:`, `t:`, `v:`, `o:` for Event,
//! `c:` for Content-Type, `l:`), which FreeSWITCH and others send, as unknown
//! headers; so [`Message`] reads every header by its canonical long name.

use std::fmt::Write as _;

use rsip::prelude::*;

/// The compact header forms (RFC 3261 §7.3.3, RFC 3265 `o`/`u`, RFC 3515 `r`/`b`,
/// RFC 4028 `x`).
const COMPACT: [(&str, &str); 15] = [
    ("i", "call-id"),
    ("m", "contact"),
    ("e", "content-encoding"),
    ("l", "content-length"),
    ("c", "content-type"),
    ("f", "from"),
    ("s", "subject"),
    ("k", "supported"),
    ("t", "to"),
    ("v", "via"),
    ("o", "event"),
    ("u", "allow-events"),
    ("r", "refer-to"),
    ("b", "referred-by"),
    ("x", "session-expires"),
];

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request { method: String, uri: String },
    Response { code: u16, reason: String },
}

/// One parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub start: StartLine,
    /// Headers in order, names in canonical lower-case long form, values as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why bytes are not a SIP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("not a SIP message: {0}")]
    Syntax(String),
    #[error("no {0} header")]
    Missing(&'static str),
    #[error("bad CSeq `{0}`")]
    BadCSeq(String),
}

impl Message {
    /// Parse one message (a datagram, or one message cut from a stream).
    pub fn parse(bytes: &[u8]) -> Result<Message, MessageError> {
        let parsed = rsip::SipMessage::try_from(bytes)
            .map_err(|e| MessageError::Syntax(first_line(&e.to_string())))?;
        let start = match &parsed {
            rsip::SipMessage::Request(request) => StartLine::Request {
                method: request.method.to_string(),
                uri: request.uri.to_string(),
            },
            rsip::SipMessage::Response(response) => StartLine::Response {
                code: response.status_code.code(),
                // rsip writes its own text for a known code; the phrase sent can say
                // more (pjsip's `500 Unhandled by dialog usages`), so it is kept.
                reason: sent_reason(bytes)
                    .map(|phrase| format!("{} {phrase}", response.status_code.code()))
                    .unwrap_or_else(|| response.status_code.to_string()),
            },
        };
        let headers = parsed
            .headers()
            .iter()
            .filter_map(|header| {
                let text = header.to_string();
                let (name, value) = text.split_once(':')?;
                Some((canonical(name.trim()), value.trim().to_string()))
            })
            .collect();
        let mut message = Message {
            start,
            headers,
            body: parsed.body().clone(),
        };
        // A datagram may carry padding after the body; Content-Length says where the
        // body ends (RFC 3261 §18.3).
        if let Some(len) = message
            .header("content-length")
            .and_then(|l| l.trim().parse::<usize>().ok())
        {
            message.body.truncate(len);
        }
        Ok(message)
    }

    /// The first value of header `name` (canonical long form, lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`, in order.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    pub fn code(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    pub fn call_id(&self) -> Result<&str, MessageError> {
        self.header("call-id")
            .ok_or(MessageError::Missing("Call-ID"))
    }

    /// CSeq number and method.
    pub fn cseq(&self) -> Result<(u32, &str), MessageError> {
        let value = self.header("cseq").ok_or(MessageError::Missing("CSeq"))?;
        let mut parts = value.split_whitespace();
        let number = parts
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| MessageError::BadCSeq(value.to_string()))?;
        let method = parts
            .next()
            .ok_or_else(|| MessageError::BadCSeq(value.to_string()))?;
        Ok((number, method))
    }

    /// The `tag` parameter of From or To.
    pub fn tag(&self, header: &str) -> Option<&str> {
        param(self.header(header)?, "tag")
    }

    /// The topmost Via's `branch`.
    pub fn branch(&self) -> Option<&str> {
        param(self.header("via")?, "branch")
    }

    /// The media type of the body, lower case, without parameters.
    pub fn content_type(&self) -> Option<String> {
        self.header("content-type")
            .map(|c| c.split(';').next().unwrap_or(c).trim().to_ascii_lowercase())
    }

    /// A `name=value` parameter of a header (`Subscription-State: active;expires=60`).
    pub fn header_param(&self, header: &str, name: &str) -> Option<&str> {
        param(self.header(header)?, name)
    }

    /// The response a UAS gives to this request: Via, From, To (with `to_tag` added
    /// when it has none), Call-ID and CSeq copied (RFC 3261 §8.2.6).
    pub fn response(&self, code: u16, to_tag: &str) -> String {
        self.response_with(code, to_tag, &[], b"")
    }

    /// [`Message::response`] with more headers and a body (uaCSTA answers a CSTA
    /// request from the server in the 200's body; a 200 to INVITE needs Contact).
    pub fn response_with(
        &self,
        code: u16,
        to_tag: &str,
        extra: &[(&str, String)],
        body: &[u8],
    ) -> String {
        let mut headers: Vec<rsip::Header> = Vec::new();
        for (name, value) in &self.headers {
            match name.as_str() {
                "via" => headers.push(rsip::headers::Via::new(value.clone()).into()),
                "from" => headers.push(rsip::headers::From::new(value.clone()).into()),
                "to" if param(value, "tag").is_none() => {
                    headers.push(rsip::headers::To::new(format!("{value};tag={to_tag}")).into())
                }
                "to" => headers.push(rsip::headers::To::new(value.clone()).into()),
                "call-id" => headers.push(rsip::headers::CallId::new(value.clone()).into()),
                "cseq" => headers.push(rsip::headers::CSeq::new(value.clone()).into()),
                _ => {}
            }
        }
        for (name, value) in extra {
            headers.push(rsip::Header::Other(name.to_string(), value.clone()));
        }
        headers.push(rsip::headers::ContentLength::from(body.len() as u32).into());
        let response = rsip::Response {
            status_code: rsip::StatusCode::from(code),
            version: rsip::Version::V2,
            headers: headers.into(),
            body: body.to_vec(),
        };
        response.to_string()
    }
}

/// Build a request: `headers` are (name, value) in order; Content-Length is added.
pub fn request(method: &str, uri: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    // rsip's Request would need a parsed Uri and typed headers for every value we
    // already hold as text; writing the text is simpler and exact.
    let mut text = format!("{method} {uri} SIP/2.0\r\n");
    for (name, value) in headers {
        let _ = write!(text, "{name}: {value}\r\n");
    }
    let _ = write!(text, "Content-Length: {}\r\n\r\n", body.len());
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A `;name=value` parameter of a header value (quotes removed).
pub fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    // Parameters follow the URI's closing `>` when there is one, so a `;tag` inside
    // the URI is not taken for the header's.
    let params = match value.rfind('>') {
        Some(end) => &value[end + 1..],
        None => value,
    };
    params.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"'))
    })
}

fn canonical(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    COMPACT
        .iter()
        .find(|(short, _)| *short == lower)
        .map(|(_, long)| long.to_string())
        .unwrap_or(lower)
}

/// The reason phrase of a status line as sent (`SIP/2.0 500 Unhandled by dialog
/// usages`), when there is one.
fn sent_reason(bytes: &[u8]) -> Option<String> {
    let end = bytes.iter().position(|b| *b == b'\r' || *b == b'\n')?;
    let line = std::str::from_utf8(&bytes[..end]).ok()?;
    let phrase = line.strip_prefix("SIP/2.0 ")?.get(4..)?.trim();
    (!phrase.is_empty()).then(|| phrase.to_string())
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text);
    line.chars().take(200).collect()
}

/// Where the first message in a TCP stream ends: after the blank line and the
/// Content-Length body. `None` when more bytes are needed. `Err` for a header block
/// without a usable Content-Length (mandatory on streams, RFC 3261 §18.3).
pub fn message_len(buf: &[u8]) -> Result<Option<usize>, MessageError> {
    const LIMIT: usize = 64 * 1024;
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > LIMIT {
            return Err(MessageError::Syntax(format!(
                "no end of headers in {LIMIT} bytes"
            )));
        }
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]);
    let mut length = None;
    for line in head.split("\r\n").skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            if canonical(name.trim()) == "content-length" {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let length = length.ok_or(MessageError::Missing("Content-Length"))?;
    if length > LIMIT {
        return Err(MessageError::Syntax(format!("body of {length} bytes")));
    }
    let total = head_end + 4 + length;
    Ok((buf.len() >= total).then_some(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../tests/captures/sip/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn compact_headers_are_read_by_their_long_names() {
        let m = Message::parse(&capture("freeswitch-notify-compact.sip")).unwrap();
        assert_eq!(m.method(), Some("NOTIFY"));
        assert_eq!(m.call_id().unwrap(), "2c9d4f71-5b3e-4e0a-8f61-0d3c7e2b9a15");
        assert_eq!(m.header("event"), Some("dialog"));
        assert_eq!(m.tag("from"), Some("Hr3Ue0aF7pB2K"));
        assert_eq!(
            m.content_type().as_deref(),
            Some("application/dialog-info+xml")
        );
        assert_eq!(m.cseq().unwrap(), (1058, "NOTIFY"));
        assert!(crate::dialog_info::parse(&m.body).is_ok());
    }

    #[test]
    fn kamailio_and_asterisk_notifies() {
        for name in ["kamailio-notify-early.sip", "asterisk-notify-ringing.sip"] {
            let m = Message::parse(&capture(name)).unwrap();
            assert!(m.header_param("subscription-state", "expires").is_some());
            assert!(crate::dialog_info::parse(&m.body).is_ok(), "{name}");
        }
    }

    #[test]
    fn responses_and_challenges() {
        let m = Message::parse(&capture("asterisk-401-subscribe.sip")).unwrap();
        assert_eq!(m.code(), Some(401));
        assert_eq!(m.header_all("www-authenticate").count(), 2);
        let m = Message::parse(&capture("asterisk-481-refresh.sip")).unwrap();
        assert_eq!(m.code(), Some(481));
        assert_eq!(m.cseq().unwrap(), (5, "SUBSCRIBE"));
        let m = Message::parse(&capture("asterisk-200-subscribe.sip")).unwrap();
        assert_eq!(m.header("expires"), Some("600"));
    }

    #[test]
    fn our_response_copies_the_transaction_headers() {
        let notify = Message::parse(&capture("kamailio-notify-early.sip")).unwrap();
        let ok = notify.response(200, "x");
        let parsed = Message::parse(ok.as_bytes()).unwrap();
        assert_eq!(parsed.code(), Some(200));
        assert_eq!(parsed.call_id().unwrap(), notify.call_id().unwrap());
        assert_eq!(parsed.branch(), notify.branch());
        assert_eq!(
            parsed.tag("to"),
            Some("f1d2c3b4"),
            "the existing tag is kept"
        );
        assert_eq!(parsed.cseq().unwrap(), (2, "NOTIFY"));
    }

    #[test]
    fn stream_framing_by_content_length() {
        let one = capture("kamailio-notify-early.sip");
        let mut two = one.clone();
        two.extend_from_slice(&capture("asterisk-481-refresh.sip"));
        assert_eq!(message_len(&two).unwrap(), Some(one.len()));
        assert_eq!(message_len(&one[..one.len() - 1]).unwrap(), None);
        assert_eq!(
            message_len(b"NOTIFY sip:a@b SIP/2.0\r\nVia: x\r\n\r\n"),
            Err(MessageError::Missing("Content-Length"))
        );
        let compact = capture("freeswitch-notify-compact.sip");
        assert_eq!(message_len(&compact).unwrap(), Some(compact.len()));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(Message::parse(b"\x00\x01garbage").is_err());
        assert!(Message::parse(b"").is_err());
    }

    #[test]
    fn params() {
        assert_eq!(param("<sip:a@b;tag=no>;tag=yes", "tag"), Some("yes"));
        assert_eq!(param("active;expires=60", "expires"), Some("60"));
        assert_eq!(param("<sip:a@b>", "tag"), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = Message::parse(&bytes);
            let _ = message_len(&bytes);
        }
    }
}

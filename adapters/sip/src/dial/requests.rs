//! What a click-to-dial sends and reads: the destination as a URI, the INVITE with
//! its auto-answer headers and media-less offer, REFER, BYE, CANCEL and both kinds of ACK (RFC 3261 §13,
//! §17.1.1.3), and what is read out of the PBX's answers (Contact, Record-Route,
//! sipfrag status, reason phrase) and what a failure means for the command.

use ctibridge_adapter::CommandError;

use tokio::time::Instant;

use super::{token, Dial, DialContext, Stage, Tx};
use crate::digest::Credentials;
use crate::message::{self, Message};
use crate::subscriptions::Local;

impl Dial {
    pub(super) fn invite(
        &mut self,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<u8> {
        let sdp = inactive_offer(&ctx.local, self.sdp_session);
        let uri = self.agent_uri.clone();
        let extra = vec![
            (
                "Call-Info",
                format!("<sip:{}>;answer-after=0", ctx.local.domain),
            ),
            (
                "Alert-Info",
                "<http://127.0.0.1/>;info=alert-autoanswer;delay=0".to_string(),
            ),
            ("Allow", "INVITE, ACK, CANCEL, BYE, NOTIFY, REFER".into()),
            ("Content-Type", "application/sdp".into()),
        ];
        let out = (ctx, credentials, now);
        let (branch, bytes) = self.send_new("INVITE", &uri, extra, sdp.as_bytes(), out);
        self.invite = Some((branch, self.cseq));
        bytes
    }

    pub(super) fn refer(
        &mut self,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<u8> {
        let uri = self.remote_target.clone();
        let extra = vec![
            ("Refer-To", format!("<{}>", self.destination)),
            (
                "Referred-By",
                format!("<sip:{}@{}>", ctx.local.user, ctx.local.domain),
            ),
        ];
        self.send_new("REFER", &uri, extra, b"", (ctx, credentials, now))
            .1
    }

    pub(super) fn bye(
        &mut self,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Vec<u8> {
        self.stage = Stage::Leaving;
        self.report_deadline = None;
        // The destination's transactions (the REFER fallback) run on.
        self.txs.retain(|t| t.method == "INVITE" || t.bridge);
        let uri = self.remote_target.clone();
        self.send_new("BYE", &uri, Vec::new(), b"", (ctx, credentials, now))
            .1
    }

    /// A new request in our dialog (the next CSeq), kept as a client transaction
    /// until its final answer: (branch, bytes to send).
    pub(super) fn send_new(
        &mut self,
        method: &'static str,
        uri: &str,
        extra: Vec<(&'static str, String)>,
        body: &[u8],
        (ctx, credentials, now): (&DialContext, &mut Option<Credentials>, Instant),
    ) -> (String, Vec<u8>) {
        self.cseq += 1;
        let (branch, bytes) = self.build(method, uri, extra, body, ctx, credentials);
        self.push_tx(branch.clone(), method, bytes.clone(), ctx, now);
        (branch, bytes)
    }

    /// CANCEL matches the INVITE: same branch, Request-URI, To (no tag) and CSeq
    /// number (RFC 3261 §9.1).
    pub(super) fn cancel(&mut self, ctx: &DialContext, now: Instant) -> Vec<u8> {
        let Some((branch, cseq)) = self.invite.clone() else {
            return Vec::new();
        };
        let to = format!("<{}>", self.agent_uri);
        let headers = self.opening(ctx, &branch, to, format!("{cseq} CANCEL"));
        let bytes = message::request("CANCEL", &self.agent_uri, &headers, b"");
        self.push_tx(branch, "CANCEL", bytes.clone(), ctx, now);
        bytes
    }

    /// The ACK of a non-2xx final answer: in the INVITE's transaction (RFC 3261
    /// §17.1.1.3), with the answer's To.
    pub(super) fn ack_for_failure(
        &self,
        response: &Message,
        tx: &Tx,
        ctx: &DialContext,
    ) -> Vec<u8> {
        let cseq = self.invite.as_ref().map_or(self.cseq, |(_, c)| *c);
        let to = response
            .header("to")
            .map_or_else(|| format!("<{}>", self.agent_uri), str::to_string);
        let mut headers = self.opening(ctx, &tx.branch, to, format!("{cseq} ACK"));
        headers.extend(self.route.iter().map(|r| ("Route", r.clone())));
        // The Request-URI of the INVITE answered: the phone's AOR for the first one,
        // its Contact for a re-INVITE (remote_target is the AOR until the 2xx).
        message::request("ACK", &self.remote_target, &headers, b"")
    }

    /// The ACK of a 2xx: a request of its own in the dialog (RFC 3261 §13.2.2.4).
    pub(super) fn ack_for_2xx(&self, ctx: &DialContext) -> Vec<u8> {
        let cseq = self.invite.as_ref().map_or(self.cseq, |(_, c)| *c);
        let branch = format!("z9hG4bK{}", token());
        let mut headers = self.opening(ctx, &branch, self.to(), format!("{cseq} ACK"));
        headers.extend(self.route.iter().map(|r| ("Route", r.clone())));
        message::request("ACK", &self.remote_target, &headers, b"")
    }

    /// The headers every request of ours opens with, in RFC 3261 §8.1.1's order.
    fn opening(
        &self,
        ctx: &DialContext,
        branch: &str,
        to: String,
        cseq: String,
    ) -> Vec<(&'static str, String)> {
        vec![
            via(ctx, branch),
            ("Max-Forwards", "70".to_string()),
            self.from(ctx),
            ("To", to),
            ("Call-ID", self.call_id.clone()),
            ("CSeq", cseq),
        ]
    }

    /// A request in our dialog: (branch, bytes).
    pub(super) fn build(
        &self,
        method: &str,
        uri: &str,
        extra: Vec<(&'static str, String)>,
        body: &[u8],
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
    ) -> (String, Vec<u8>) {
        let branch = format!("z9hG4bK{}", token());
        let cseq = format!("{} {method}", self.cseq);
        let opening = self.opening(ctx, &branch, self.to(), cseq);
        let request = InDialog {
            method,
            uri,
            route: &self.route,
            body,
        };
        let bytes = request.bytes(opening, extra, ctx, credentials);
        (branch, bytes)
    }

    pub(super) fn from(&self, ctx: &DialContext) -> (&'static str, String) {
        (
            "From",
            format!(
                "<sip:{}@{}>;tag={}",
                ctx.local.user, ctx.local.domain, self.from_tag
            ),
        )
    }

    pub(super) fn to(&self) -> String {
        match &self.to_tag {
            Some(tag) => format!("<{}>;tag={tag}", self.agent_uri),
            None => format!("<{}>", self.agent_uri),
        }
    }
}

/// A request in one of a dial's dialogs (ours with the phone, or the REFER
/// fallback's with the destination).
pub(super) struct InDialog<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub route: &'a [String],
    pub body: &'a [u8],
}

impl InDialog<'_> {
    /// Its bytes: the dialog's opening headers (Via … CSeq), our Contact, the route
    /// set, `extra`, our User-Agent and, where the credentials answer a challenge
    /// for this request, Authorization.
    pub(super) fn bytes(
        &self,
        mut headers: Vec<(&'static str, String)>,
        extra: Vec<(&'static str, String)>,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
    ) -> Vec<u8> {
        let request = (self.method, self.uri);
        closing_headers(
            &mut headers,
            &ctx.local,
            self.route,
            extra,
            credentials,
            request,
        );
        message::request(self.method, self.uri, &headers, self.body)
    }
}

/// What every request of ours in a dialog carries after its opening headers (Via …
/// CSeq), for the dial's legs and the uaCSTA dialog alike: our Contact, the route
/// set, `extra`, our User-Agent and, where the credentials answer a challenge for
/// this `(method, uri)`, Authorization.
pub(crate) fn closing_headers(
    headers: &mut Vec<(&'static str, String)>,
    local: &Local,
    route: &[String],
    extra: Vec<(&'static str, String)>,
    credentials: &mut Option<Credentials>,
    (method, uri): (&str, &str),
) {
    headers.push(("Contact", local.contact()));
    headers.extend(route.iter().map(|r| ("Route", r.clone())));
    headers.extend(extra);
    headers.push((
        "User-Agent",
        concat!("ctibridge/", env!("CARGO_PKG_VERSION")).to_string(),
    ));
    if let Some(header) = credentials
        .as_mut()
        .and_then(|c| c.authorization(method, uri))
    {
        headers.push(header);
    }
}

pub(super) fn via(ctx: &DialContext, branch: &str) -> (&'static str, String) {
    (
        "Via",
        format!(
            "SIP/2.0/{} {};branch={branch};rport",
            ctx.local.transport, ctx.local.addr
        ),
    )
}

/// An offer that carries no media: the agent's leg to us only exists until the
/// phone has taken the REFER (RFC 3725 §4: a controller without media of its own).
pub(super) fn inactive_offer(local: &Local, session: u32) -> String {
    let (kind, ip) = address(local);
    format!(
        "v=0\r\no=ctibridge {session} {session} IN {kind} {ip}\r\ns=ctibridge\r\n\
         c=IN {kind} {ip}\r\nt=0 0\r\nm=audio 9 RTP/AVP 0 8 101\r\n\
         a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=inactive\r\n"
    )
}

/// Our address as SDP writes it: (`IP4`/`IP6`, address).
pub(super) fn address(local: &Local) -> (&'static str, String) {
    match local.addr.ip() {
        std::net::IpAddr::V4(ip) => ("IP4", ip.to_string()),
        std::net::IpAddr::V6(ip) => ("IP6", ip.to_string()),
    }
}

/// The URI inside a Contact value (`"A" <sip:1001@10.0.0.5:5060>;expires=60`).
pub(crate) fn uri_of(contact: &str) -> Option<String> {
    let uri = match (contact.find('<'), contact.find('>')) {
        (Some(start), Some(end)) if start < end => &contact[start + 1..end],
        _ => contact.split(';').next()?.trim(),
    };
    (!uri.is_empty()).then(|| uri.to_string())
}

/// The route set of a UAC: the 2xx's Record-Route entries, last first (RFC 3261
/// §12.1.2). A header may hold several entries separated by commas.
pub(crate) fn route_set(response: &Message) -> Vec<String> {
    let mut entries = Vec::new();
    for value in response.header_all("record-route") {
        let mut rest = value;
        while let Some(start) = rest.find('<') {
            let Some(end) = rest[start..].find('>') else {
                break;
            };
            let entry_end = rest[start + end..]
                .find(',')
                .map_or(rest.len(), |c| start + end + c);
            entries.push(rest[start..entry_end].trim().to_string());
            rest = &rest[entry_end..];
        }
    }
    entries.reverse();
    entries
}

/// The status line of a `message/sipfrag` body (`SIP/2.0 180 Ringing`): its code
/// and reason phrase. pjsip (Asterisk) ends the line with CRLF, some phones send the
/// whole response's head; only the first line counts.
pub(super) fn sipfrag_status(body: &[u8]) -> Option<(u16, String)> {
    let text = std::str::from_utf8(body).ok()?;
    let line = text.lines().next()?.trim();
    let rest = line.strip_prefix("SIP/2.0 ")?;
    let code = rest.get(..3)?.parse().ok()?;
    Some((code, rest.get(3..).unwrap_or("").trim().to_string()))
}

/// What a failure reported for the REFER's new call (a sipfrag of 300 or more) means
/// for the command: the destination's status, not the agent's phone's.
pub(super) fn refer_outcome_error(destination: &str, code: u16, reason: &str) -> CommandError {
    match code {
        // The contract has no error of its own for a busy far end; the text says it.
        486 | 600 => CommandError::Rejected(format!("{destination} is busy ({code} {reason})")),
        404 | 410 | 484 | 604 => CommandError::InvalidDestination(format!(
            "the PBX cannot reach {destination} ({code} {reason})"
        )),
        _ => CommandError::Rejected(format!("the call to {destination} failed: {code} {reason}")),
    }
}

pub(crate) fn reason_of(response: &Message) -> String {
    match &response.start {
        message::StartLine::Response { reason, .. } => {
            // rsip writes the code in front of its own reason text.
            let reason = reason.trim();
            match reason.split_once(' ') {
                Some((code, text)) if code.chars().all(|c| c.is_ascii_digit()) => text.into(),
                _ => reason.into(),
            }
        }
        message::StartLine::Request { .. } => String::new(),
    }
}

/// `to` as a Refer-To URI: a SIP or tel URI as given, or `sip:NUMBER@domain` for a
/// dial string. What cannot be a dial string is refused, naming the character.
pub fn destination_uri(to: &str, domain: &str) -> Result<String, CommandError> {
    let to = to.trim();
    if to.starts_with("sip:") || to.starts_with("sips:") || to.starts_with("tel:") {
        if to.contains(['<', '>', '"', ' ', '\r', '\n']) {
            return Err(CommandError::InvalidDestination(format!(
                "`{to}` is not a usable URI"
            )));
        }
        return Ok(to.to_string());
    }
    if to.is_empty() || to.len() > 64 {
        return Err(CommandError::InvalidDestination(
            "the destination must be 1 to 64 characters".into(),
        ));
    }
    if let Some((at, bad)) = to
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || "+*#.-_".contains(*c)))
    {
        return Err(CommandError::InvalidDestination(format!(
            "`{to}` has `{bad}` at position {at}; a dial string has digits, letters, + * # . - _"
        )));
    }
    Ok(format!("sip:{to}@{domain}"))
}

/// What a failed INVITE to the agent's own phone means for the command.
pub(super) fn invite_error(device: &str, code: u16, reason: String) -> CommandError {
    match code {
        404 | 484 | 604 => CommandError::InvalidDestination(format!(
            "the PBX does not know the phone {device} ({code} {reason})"
        )),
        408 | 480 | 487 => CommandError::Timeout,
        _ => CommandError::Rejected(format!("the phone at {device} refused: {code} {reason}")),
    }
}

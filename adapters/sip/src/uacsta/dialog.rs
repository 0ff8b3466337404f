//! The SIP dialog that carries a uaCSTA session (ECMA TR/87 §7): our INVITE to the
//! CSTA server with a CSTA body, its ACKs, INFOs in the dialog, re-INVITEs that
//! refresh the session (RFC 4028 session timer) and BYE. Sans-I/O: the session
//! sends the bytes built here and feeds the server's answers back.
//!
//! Every request carries `Content-Disposition: signal;handling=required` with the
//! CSTA body: Microsoft's RCC gateways (OCS/Lync) refuse an INVITE or INFO without
//! it, and TR/87 servers accept it.

use crate::csta_body::CONTENT_TYPE;
use crate::dial::requests::{closing_headers, route_set, uri_of};
use crate::digest::{take_challenge, Credentials};
use crate::message::{self, Message};
use crate::subscriptions::Local;

/// The shortest session interval RFC 4028 §4 allows (Min-SE).
pub const MIN_SESSION_EXPIRES: u32 = 90;

/// How the server wants the session kept alive, from its 2xx to our INVITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAlive {
    /// A session timer with us as refresher: re-INVITE before it runs out.
    Refresh { seconds: u32 },
    /// No session timer for us to refresh (none granted, or the server refreshes):
    /// a CSTA SystemStatus INFO now and then shows the dialog is still there.
    Heartbeat,
}

/// A request built in the dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub branch: String,
    pub cseq: u32,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct CstaDialog {
    local: Local,
    /// The server's URI: the INVITE's Request-URI and our To.
    server_uri: String,
    call_id: String,
    from_tag: String,
    to_tag: Option<String>,
    cseq: u32,
    /// Where in-dialog requests go (the 2xx's Contact), through which proxies.
    remote_target: String,
    route: Vec<String>,
    session_expires: u32,
    /// 401/407s answered in a row without success.
    challenges: u8,
}

impl CstaDialog {
    /// A dialog yet to be opened (a new Call-ID and tag each run of the link).
    pub fn new(local: Local, server_uri: &str, session_expires: u32) -> CstaDialog {
        CstaDialog {
            local,
            server_uri: server_uri.to_string(),
            call_id: format!("{}@ctibridge", token()),
            from_tag: token(),
            to_tag: None,
            cseq: 0,
            remote_target: server_uri.to_string(),
            route: Vec::new(),
            session_expires: session_expires.max(MIN_SESSION_EXPIRES),
            challenges: 0,
        }
    }

    pub fn is_established(&self) -> bool {
        self.to_tag.is_some()
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Our Contact, for the answers to the server's requests.
    pub fn contact(&self) -> String {
        self.local.contact()
    }

    /// Ask for at least `min` seconds (a 422's Min-SE); false when that is what
    /// was asked already, so a server repeating itself is not asked forever.
    pub fn raise_session_expires(&mut self, min: u32) -> bool {
        if min <= self.session_expires {
            return false;
        }
        self.session_expires = min;
        true
    }

    /// The INVITE (the first, or a refresh once established) carrying `xml`.
    pub fn invite(&mut self, xml: &str, credentials: &mut Option<Credentials>) -> Built {
        let extra = vec![
            ("Supported", "timer".to_string()),
            (
                "Session-Expires",
                format!("{};refresher=uac", self.session_expires),
            ),
            ("Min-SE", MIN_SESSION_EXPIRES.to_string()),
            (
                "Allow",
                "INVITE, ACK, CANCEL, BYE, INFO, UPDATE, OPTIONS".to_string(),
            ),
        ];
        self.request("INVITE", extra, xml.as_bytes(), credentials)
    }

    /// An INFO carrying one CSTA document.
    pub fn info(&mut self, xml: &str, credentials: &mut Option<Credentials>) -> Built {
        self.request("INFO", Vec::new(), xml.as_bytes(), credentials)
    }

    pub fn bye(&mut self, credentials: &mut Option<Credentials>) -> Built {
        self.request("BYE", Vec::new(), b"", credentials)
    }

    /// A server's 2xx to an INVITE: the dialog is set up (the first time) and the
    /// session timer read. Returns the ACK to send and how to keep the session.
    pub fn on_invite_2xx(&mut self, response: &Message, cseq: u32) -> (Vec<u8>, KeepAlive) {
        self.challenges = 0;
        if self.to_tag.is_none() {
            self.to_tag = response.tag("to").map(str::to_string);
            if let Some(target) = response.header("contact").and_then(uri_of) {
                self.remote_target = target;
            }
            self.route = route_set(response);
        }
        let keep = match response.header("session-expires") {
            Some(value) => {
                let seconds = value
                    .split(';')
                    .next()
                    .and_then(|s| s.trim().parse::<u32>().ok());
                let refresher = message::param(value, "refresher");
                match (seconds, refresher) {
                    (Some(seconds), None | Some("uac")) if seconds > 0 => {
                        self.session_expires = seconds.max(MIN_SESSION_EXPIRES);
                        KeepAlive::Refresh { seconds }
                    }
                    _ => KeepAlive::Heartbeat,
                }
            }
            None => KeepAlive::Heartbeat,
        };
        (self.ack_2xx(cseq), keep)
    }

    /// The ACK of a 2xx: a request of its own in the dialog (RFC 3261 §13.2.2.4).
    fn ack_2xx(&self, cseq: u32) -> Vec<u8> {
        let branch = format!("z9hG4bK{}", token());
        let mut headers = self.opening(&branch, self.to(), format!("{cseq} ACK"));
        headers.extend(self.route.iter().map(|r| ("Route", r.clone())));
        message::request("ACK", &self.remote_target, &headers, b"")
    }

    /// The ACK of a non-2xx final answer to an INVITE: in its transaction
    /// (RFC 3261 §17.1.1.3), with the answer's To.
    pub fn ack_failure(&self, response: &Message, branch: &str, cseq: u32) -> Vec<u8> {
        let to = response
            .header("to")
            .map_or_else(|| self.to(), str::to_string);
        let uri = if self.is_established() {
            &self.remote_target
        } else {
            &self.server_uri
        };
        let mut headers = self.opening(branch, to, format!("{cseq} ACK"));
        headers.extend(self.route.iter().map(|r| ("Route", r.clone())));
        message::request("ACK", uri, &headers, b"")
    }

    /// A request from the server in this dialog (its INFO, BYE, re-INVITE)?
    pub fn owns(&self, request: &Message) -> bool {
        request.header("call-id") == Some(self.call_id.as_str())
            && request.tag("to") == Some(self.from_tag.as_str())
    }

    /// A request of ours went through: the next challenge is a new one, not a
    /// sign that the credentials are wrong.
    pub fn challenge_passed(&mut self) {
        self.challenges = 0;
    }

    /// Take a 401/407 to one of our requests: Ok when it can be answered (the
    /// request is then sent again), Err naming why not.
    pub fn challenged(
        &mut self,
        response: &Message,
        code: u16,
        credentials: &mut Option<Credentials>,
    ) -> Result<(), String> {
        take_challenge(
            response,
            code,
            credentials,
            &mut self.challenges,
            "the CSTA server",
        )
    }

    /// A new request in the dialog with the next CSeq.
    fn request(
        &mut self,
        method: &str,
        extra: Vec<(&'static str, String)>,
        body: &[u8],
        credentials: &mut Option<Credentials>,
    ) -> Built {
        self.cseq += 1;
        let branch = format!("z9hG4bK{}", token());
        let uri = if self.is_established() {
            self.remote_target.clone()
        } else {
            self.server_uri.clone()
        };
        let mut headers = self.opening(&branch, self.to(), format!("{} {method}", self.cseq));
        closing_headers(
            &mut headers,
            &self.local,
            &self.route,
            extra,
            credentials,
            (method, &uri),
        );
        if !body.is_empty() {
            headers.push(("Content-Disposition", "signal;handling=required".into()));
            headers.push(("Content-Type", CONTENT_TYPE.into()));
        }
        Built {
            branch,
            cseq: self.cseq,
            bytes: message::request(method, &uri, &headers, body),
        }
    }

    fn opening(&self, branch: &str, to: String, cseq: String) -> Vec<(&'static str, String)> {
        vec![
            (
                "Via",
                format!(
                    "SIP/2.0/{} {};branch={branch};rport",
                    self.local.transport, self.local.addr
                ),
            ),
            ("Max-Forwards", "70".to_string()),
            (
                "From",
                format!(
                    "<sip:{}@{}>;tag={}",
                    self.local.user, self.local.domain, self.from_tag
                ),
            ),
            ("To", to),
            ("Call-ID", self.call_id.clone()),
            ("CSeq", cseq),
        ]
    }

    fn to(&self) -> String {
        match &self.to_tag {
            Some(tag) => format!("<{}>;tag={tag}", self.server_uri),
            None => format!("<{}>", self.server_uri),
        }
    }
}

fn token() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialog() -> CstaDialog {
        let local = Local {
            transport: "UDP",
            addr: "10.0.0.9:5070".parse().unwrap(),
            user: "ctibridge".into(),
            domain: "pbx.example".into(),
        };
        CstaDialog::new(local, "sip:csta@pbx.example", 1800)
    }

    fn answer(to_invite: &Built, code: u16, extra: &str) -> Message {
        let request = Message::parse(&to_invite.bytes).unwrap();
        let mut text = request.response(code, "srv1");
        text = text.replacen("\r\n", &format!("\r\n{extra}"), 1);
        Message::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn the_invite_carries_the_csta_body_and_asks_for_a_session_timer() {
        let mut d = dialog();
        let invite = d.invite("<RequestSystemStatus/>", &mut None);
        let m = Message::parse(&invite.bytes).unwrap();
        assert_eq!(m.method(), Some("INVITE"));
        assert_eq!(m.content_type().as_deref(), Some("application/csta+xml"));
        assert_eq!(
            m.header("content-disposition"),
            Some("signal;handling=required")
        );
        assert_eq!(m.header("session-expires"), Some("1800;refresher=uac"));
        assert_eq!(m.cseq().unwrap(), (1, "INVITE"));
        assert!(!d.is_established());
    }

    #[test]
    fn the_2xx_sets_up_the_dialog_and_says_how_to_keep_it() {
        let mut d = dialog();
        let invite = d.invite("<RequestSystemStatus/>", &mut None);
        let ok = answer(
            &invite,
            200,
            "Contact: <sip:csta@10.0.0.7:5060;transport=udp>\r\nSession-Expires: 600;refresher=uac\r\n\
             Record-Route: <sip:proxy.example;lr>\r\n",
        );
        let (ack, keep) = d.on_invite_2xx(&ok, invite.cseq);
        assert_eq!(keep, KeepAlive::Refresh { seconds: 600 });
        let ack = Message::parse(&ack).unwrap();
        assert_eq!(ack.cseq().unwrap(), (1, "ACK"));
        assert_eq!(ack.tag("to"), Some("srv1"));
        assert_eq!(ack.header("route"), Some("<sip:proxy.example;lr>"));
        let info = Message::parse(&d.info("<MonitorStart/>", &mut None).bytes).unwrap();
        assert!(
            matches!(&info.start, message::StartLine::Request { uri, .. } if uri.starts_with("sip:csta@10.0.0.7:5060")),
            "{:?}",
            info.start
        );
        assert_eq!(info.cseq().unwrap(), (2, "INFO"));
        assert_eq!(info.tag("to"), Some("srv1"));

        let mut d = dialog();
        let invite = d.invite("<RequestSystemStatus/>", &mut None);
        let ok = answer(&invite, 200, "Session-Expires: 600;refresher=uas\r\n");
        assert_eq!(d.on_invite_2xx(&ok, invite.cseq).1, KeepAlive::Heartbeat);
    }

    #[test]
    fn a_challenge_is_answered_once() {
        let mut d = dialog();
        let mut credentials = Some(Credentials::new("ctibridge", "s3cret"));
        let invite = d.invite("<RequestSystemStatus/>", &mut credentials);
        let challenge = answer(
            &invite,
            401,
            "WWW-Authenticate: Digest realm=\"pbx\", nonce=\"n1\", qop=\"auth\"\r\n",
        );
        assert!(d.challenged(&challenge, 401, &mut credentials).is_ok());
        let again = Message::parse(&d.invite("<x/>", &mut credentials).bytes).unwrap();
        assert!(again
            .header("authorization")
            .unwrap()
            .contains("nonce=\"n1\""));
        assert!(d.challenged(&challenge, 401, &mut credentials).is_err());
        assert!(d.challenged(&challenge, 401, &mut None).is_err());
    }
}

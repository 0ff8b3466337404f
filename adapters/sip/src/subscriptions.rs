//! One dialog-event subscription per extension (RFC 6665): the SUBSCRIBE and its
//! refreshes, what each response means (2xx granted, 401/407 answer the
//! challenge, 423 ask for the PBX's minimum, 481 start a new subscription), and
//! the NOTIFYs that belong to it. Sans-I/O: the session sends what this builds.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

use crate::digest::{Challenge, Credentials};
use crate::message::{self, Message};

/// What every request we build needs to know about our side.
#[derive(Debug, Clone)]
pub struct Local {
    /// `UDP` or `TCP`, for Via.
    pub transport: &'static str,
    pub addr: SocketAddr,
    /// The user part of our From and Contact.
    pub user: String,
    pub domain: String,
}

impl Local {
    /// Open the transport to the PBX and say who we are on it: its address, the
    /// user part from `username` (default `ctibridge`), the configured domain.
    pub async fn connect(
        config: &crate::config::SipConfig,
    ) -> Result<(crate::transport::Transport, Local), crate::transport::TransportError> {
        let transport = crate::transport::Transport::open(config).await?;
        let local = Local {
            transport: config.transport.via_name(),
            addr: transport.local_addr()?,
            user: config
                .username
                .clone()
                .unwrap_or_else(|| "ctibridge".into()),
            domain: config.domain().to_string(),
        };
        Ok((transport, local))
    }

    pub(crate) fn contact(&self) -> String {
        let transport = match self.transport {
            "TCP" => ";transport=tcp",
            "TLS" => ";transport=tls",
            _ => "",
        };
        format!("<sip:{}@{}{transport}>", self.user, self.addr)
    }
}

/// Where one subscription stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// A SUBSCRIBE is out.
    Pending,
    /// Granted until the given time.
    Active,
    /// Refused; tried again at `retry_at`.
    Refused { reason: String, retry_at: Instant },
}

/// What a response to our SUBSCRIBE means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 1xx: keep waiting.
    Provisional,
    /// 2xx: granted for this long.
    Granted(Duration),
    /// Send the SUBSCRIBE again now (with credentials, a longer expiry, or as a new
    /// subscription after a 481).
    Resend,
    /// A new subscription replaced a lost one (481): the next full state resyncs.
    Restarted,
    /// Refused; try again later.
    Refused(String),
}

#[derive(Debug, Clone)]
pub struct Subscription {
    pub device: String,
    pub uri: String,
    call_id: String,
    from_tag: String,
    to_tag: Option<String>,
    cseq: u32,
    /// Expiry asked for; raised by a 423.
    expires: u32,
    pub state: State,
    pub refresh_at: Option<Instant>,
    /// Challenges answered in a row without success.
    challenges: u8,
}

impl Subscription {
    pub fn new(device: &str, domain: &str, expires: u32) -> Subscription {
        Subscription {
            device: device.to_string(),
            uri: format!("sip:{device}@{domain}"),
            call_id: String::new(),
            from_tag: String::new(),
            to_tag: None,
            cseq: 0,
            expires,
            state: State::Pending,
            refresh_at: None,
            challenges: 0,
        }
        .fresh()
    }

    /// A new subscription dialog (new Call-ID and tag).
    fn fresh(mut self) -> Subscription {
        self.call_id = format!("{}@ctibridge", random_token());
        self.from_tag = random_token();
        self.to_tag = None;
        self.cseq = 0;
        self.challenges = 0;
        self
    }

    pub fn restart(&mut self) {
        *self = self.clone().fresh();
        self.state = State::Pending;
        self.refresh_at = None;
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Build the next SUBSCRIBE (initial or refresh): (branch, bytes).
    pub fn request(
        &mut self,
        local: &Local,
        credentials: &mut Option<Credentials>,
    ) -> (String, Vec<u8>) {
        let expires = self.expires;
        self.request_for(local, credentials, expires)
    }

    /// The SUBSCRIBE with `Expires: 0` that ends an active subscription (on
    /// shutdown), so the PBX stops sending NOTIFYs to an address nobody reads.
    pub fn unsubscribe(
        &mut self,
        local: &Local,
        credentials: &mut Option<Credentials>,
    ) -> Option<Vec<u8>> {
        (self.state == State::Active).then(|| self.request_for(local, credentials, 0).1)
    }

    fn request_for(
        &mut self,
        local: &Local,
        credentials: &mut Option<Credentials>,
        expires: u32,
    ) -> (String, Vec<u8>) {
        self.cseq += 1;
        self.state = State::Pending;
        let branch = format!("z9hG4bK{}", random_token());
        let mut to = format!("<{}>", self.uri);
        if let Some(tag) = &self.to_tag {
            to.push_str(&format!(";tag={tag}"));
        }
        let mut headers = vec![
            (
                "Via",
                format!(
                    "SIP/2.0/{} {};branch={branch};rport",
                    local.transport, local.addr
                ),
            ),
            ("Max-Forwards", "70".to_string()),
            (
                "From",
                format!(
                    "<sip:{}@{}>;tag={}",
                    local.user, local.domain, self.from_tag
                ),
            ),
            ("To", to),
            ("Call-ID", self.call_id.clone()),
            ("CSeq", format!("{} SUBSCRIBE", self.cseq)),
            ("Contact", local.contact()),
            ("Event", "dialog".to_string()),
            ("Accept", "application/dialog-info+xml".to_string()),
            ("Expires", expires.to_string()),
            (
                "User-Agent",
                concat!("ctibridge/", env!("CARGO_PKG_VERSION")).to_string(),
            ),
        ];
        if let Some(credentials) = credentials {
            if let Some((name, value)) = credentials.authorization("SUBSCRIBE", &self.uri) {
                headers.push((name, value));
            }
        }
        (
            branch,
            message::request("SUBSCRIBE", &self.uri, &headers, b""),
        )
    }

    /// A final or provisional response to our SUBSCRIBE.
    pub fn on_response(
        &mut self,
        response: &Message,
        credentials: &mut Option<Credentials>,
        now: Instant,
    ) -> Outcome {
        let Some(code) = response.code() else {
            return Outcome::Provisional;
        };
        match code {
            100..=199 => Outcome::Provisional,
            200..=299 => {
                self.challenges = 0;
                if self.to_tag.is_none() {
                    self.to_tag = response.tag("to").map(str::to_string);
                }
                let granted = response
                    .header("expires")
                    .and_then(|e| e.trim().parse::<u32>().ok())
                    .unwrap_or(self.expires);
                if granted == 0 {
                    // Granted and ended at once: subscribe again after a while.
                    self.refused(now, "the PBX granted expires=0".into());
                    return Outcome::Refused("the PBX granted expires=0".into());
                }
                let granted = Duration::from_secs(granted.into());
                self.state = State::Active;
                self.refresh_at = Some(now + refresh_after(granted));
                Outcome::Granted(granted)
            }
            401 | 407 => {
                let proxy = code == 407;
                let header = if proxy {
                    "proxy-authenticate"
                } else {
                    "www-authenticate"
                };
                let Some(credentials) = credentials else {
                    let reason =
                        format!("{code}: the PBX wants credentials; set username and password");
                    self.refused(now, reason.clone());
                    return Outcome::Refused(reason);
                };
                self.challenges += 1;
                let stale = response.header_all(header).any(|v| {
                    v.to_ascii_lowercase()
                        .replace(' ', "")
                        .contains("stale=true")
                });
                if self.challenges > 1 && !stale {
                    let reason =
                        format!("{code}: the PBX refused our credentials for {}", self.uri);
                    self.refused(now, reason.clone());
                    return Outcome::Refused(reason);
                }
                match Challenge::choose(response.header_all(header), proxy, code) {
                    Ok(challenge) => {
                        credentials.challenged(challenge);
                        Outcome::Resend
                    }
                    Err(e) => {
                        let reason = format!("{code}: {e}");
                        self.refused(now, reason.clone());
                        Outcome::Refused(reason)
                    }
                }
            }
            423 => {
                let minimum = response
                    .header("min-expires")
                    .and_then(|m| m.trim().parse::<u32>().ok());
                match minimum {
                    Some(minimum) if minimum > self.expires => {
                        self.expires = minimum;
                        Outcome::Resend
                    }
                    _ => {
                        let reason = "423 without a usable Min-Expires".to_string();
                        self.refused(now, reason.clone());
                        Outcome::Refused(reason)
                    }
                }
            }
            481 => {
                self.restart();
                Outcome::Restarted
            }
            _ => {
                let reason = match response.start {
                    message::StartLine::Response { ref reason, .. } => format!("{code} {reason}"),
                    _ => code.to_string(),
                };
                let reason = reason
                    .trim_start_matches(&format!("{code} {code} "))
                    .to_string();
                self.refused(now, reason.clone());
                Outcome::Refused(reason)
            }
        }
    }

    fn refused(&mut self, now: Instant, reason: String) {
        self.refresh_at = None;
        self.state = State::Refused {
            reason,
            retry_at: now + Duration::from_secs(60),
        };
    }

    /// Does this NOTIFY belong to this subscription? (Its To tag is our From tag.)
    pub fn owns(&self, notify: &Message) -> bool {
        notify.header("call-id") == Some(self.call_id.as_str())
            && notify.tag("to").is_none_or(|tag| tag == self.from_tag)
    }

    /// A NOTIFY of this subscription arrived. Returns true when the PBX ended the
    /// subscription (`Subscription-State: terminated`) and it must be renewed.
    pub fn on_notify(&mut self, notify: &Message, now: Instant) -> bool {
        if self.to_tag.is_none() {
            self.to_tag = notify.tag("from").map(str::to_string);
        }
        let state = notify
            .header("subscription-state")
            .map(|s| s.split(';').next().unwrap_or(s).trim().to_ascii_lowercase());
        if state.as_deref() == Some("terminated") {
            let reason = notify
                .header_param("subscription-state", "reason")
                .unwrap_or("")
                .to_ascii_lowercase();
            self.restart();
            if matches!(reason.as_str(), "rejected" | "noresource" | "invariant") {
                self.refused(now, format!("the PBX ended the subscription ({reason})"));
            }
            return true;
        }
        // The PBX may shorten the subscription in any NOTIFY.
        if let Some(expires) = notify
            .header_param("subscription-state", "expires")
            .and_then(|e| e.parse::<u64>().ok())
        {
            let due = now + refresh_after(Duration::from_secs(expires));
            if self.refresh_at.is_none_or(|at| due < at) {
                self.refresh_at = Some(due);
            }
        }
        false
    }
}

/// When to refresh a subscription granted for `granted`: well before it runs out
/// (RFC 6665 §4.1.2.1), leaving time for a UDP transaction's retransmissions.
pub fn refresh_after(granted: Duration) -> Duration {
    if granted > Duration::from_secs(120) {
        granted - Duration::from_secs(60)
    } else {
        granted / 2
    }
}

fn random_token() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    fn local() -> Local {
        Local {
            transport: "UDP",
            addr: "192.0.2.10:5070".parse().unwrap(),
            user: "ctibridge".into(),
            domain: "pbx.example.net".into(),
        }
    }

    fn capture(name: &str) -> Message {
        let bytes = std::fs::read(format!(
            "{}/../../tests/captures/sip/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        Message::parse(&bytes).unwrap()
    }

    #[test]
    fn subscribe_has_event_accept_and_expires() {
        let mut s = Subscription::new("2210", "pbx.example.net", 3600);
        let (branch, bytes) = s.request(&local(), &mut None);
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.method(), Some("SUBSCRIBE"));
        assert_eq!(m.header("event"), Some("dialog"));
        assert_eq!(m.header("accept"), Some("application/dialog-info+xml"));
        assert_eq!(m.header("expires"), Some("3600"));
        assert_eq!(m.branch(), Some(branch.as_str()));
        assert_eq!(m.cseq().unwrap(), (1, "SUBSCRIBE"));
    }

    #[test]
    fn a_challenge_is_answered_with_the_preferred_algorithm_then_granted() {
        let now = Instant::now();
        let mut s = Subscription::new("2210", "pbx.example.net", 3600);
        let mut creds = Some(Credentials::new("ctibridge", "s3cret"));
        s.request(&local(), &mut creds);
        assert_eq!(
            s.on_response(&capture("asterisk-401-subscribe.sip"), &mut creds, now),
            Outcome::Resend
        );
        let (_, bytes) = s.request(&local(), &mut creds);
        let m = Message::parse(&bytes).unwrap();
        let auth = m.header("authorization").unwrap();
        assert!(
            auth.contains("algorithm=SHA-256") && auth.contains("nc=00000001"),
            "{auth}"
        );
        assert!(auth.contains("opaque=\"3c1d5e7f9a0b2c4d\""), "{auth}");
        assert_eq!(m.cseq().unwrap().0, 2);
        // The PBX grants 600 s of the 3600 asked for: refresh at 540 s.
        assert_eq!(
            s.on_response(&capture("asterisk-200-subscribe.sip"), &mut creds, now),
            Outcome::Granted(Duration::from_secs(600))
        );
        assert_eq!(s.refresh_at, Some(now + Duration::from_secs(540)));
        assert_eq!(s.state, State::Active);
        // A proxy challenge goes into Proxy-Authorization.
        let mut k = Subscription::new("4417", "voip.example.com", 3600);
        k.request(&local(), &mut creds);
        assert_eq!(
            k.on_response(&capture("kamailio-407-subscribe.sip"), &mut creds, now),
            Outcome::Resend
        );
        let (_, bytes) = k.request(&local(), &mut creds);
        assert!(Message::parse(&bytes)
            .unwrap()
            .header("proxy-authorization")
            .is_some());
    }

    #[test]
    fn a_second_challenge_means_wrong_credentials() {
        let now = Instant::now();
        let mut s = Subscription::new("2210", "pbx.example.net", 3600);
        let mut creds = Some(Credentials::new("ctibridge", "wrong"));
        let challenge = capture("asterisk-401-subscribe.sip");
        assert_eq!(s.on_response(&challenge, &mut creds, now), Outcome::Resend);
        assert!(
            matches!(s.on_response(&challenge, &mut creds, now), Outcome::Refused(r) if r.contains("refused our credentials"))
        );
        let mut none = None;
        assert!(
            matches!(s.on_response(&challenge, &mut none, now), Outcome::Refused(r) if r.contains("set username"))
        );
    }

    #[test]
    fn a_481_starts_a_new_subscription() {
        let now = Instant::now();
        let mut s = Subscription::new("2210", "pbx.example.net", 3600);
        let old = s.call_id().to_string();
        assert_eq!(
            s.on_response(&capture("asterisk-481-refresh.sip"), &mut None, now),
            Outcome::Restarted
        );
        assert_ne!(s.call_id(), old);
        let (_, bytes) = s.request(&local(), &mut None);
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.cseq().unwrap().0, 1);
        assert_eq!(m.tag("to"), None);
    }

    #[test]
    fn notify_shortens_and_terminated_renews() {
        let now = Instant::now();
        let mut s = Subscription::new("2210", "pbx.example.net", 3600);
        s.refresh_at = Some(now + Duration::from_secs(3540));
        let notify = capture("asterisk-notify-ringing.sip");
        assert!(!s.on_notify(&notify, now));
        assert_eq!(s.refresh_at, Some(now + Duration::from_secs(3581 - 60)));
        let ended = format!(
            "NOTIFY sip:x@y SIP/2.0\r\nCall-ID: {}\r\nCSeq: 3 NOTIFY\r\nSubscription-State: terminated;reason=timeout\r\nContent-Length: 0\r\n\r\n",
            s.call_id()
        );
        let old = s.call_id().to_string();
        assert!(s.on_notify(&Message::parse(ended.as_bytes()).unwrap(), now));
        assert_ne!(s.call_id(), old);
        assert_eq!(s.state, State::Pending);
    }

    #[test]
    fn unsubscribe_only_what_is_active() {
        let now = Instant::now();
        let mut s = Subscription::new("2210", "pbx.example.net", 3600);
        s.request(&local(), &mut None);
        assert!(
            s.unsubscribe(&local(), &mut None).is_none(),
            "nothing granted yet"
        );
        s.on_response(&capture("asterisk-200-subscribe.sip"), &mut None, now);
        let bytes = s.unsubscribe(&local(), &mut None).unwrap();
        let m = Message::parse(&bytes).unwrap();
        assert_eq!(m.header("expires"), Some("0"));
        assert_eq!(
            m.tag("to"),
            Some("a3f9b0e1-2c44-4e7a-b5c1-77d0e5a1c2f3"),
            "in the dialog"
        );
        assert_eq!(m.cseq().unwrap().0, 2);
    }

    #[test]
    fn refresh_times() {
        assert_eq!(
            refresh_after(Duration::from_secs(3600)),
            Duration::from_secs(3540)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(60)),
            Duration::from_secs(30)
        );
    }
}

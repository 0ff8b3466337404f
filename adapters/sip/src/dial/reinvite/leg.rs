//! Our own dialog with the destination in the REFER fallback: its identifiers,
//! route and transactions' keys, and the requests we send in it (INVITE without
//! SDP, ACK of its 2xx with our answer, ACK of a failure and CANCEL in the INVITE's
//! transaction, BYE).

use ctibridge_adapter::SwitchEvent;
use tokio::time::Instant;

use super::super::requests::{via, InDialog};
use super::super::{token, DialContext};
use crate::digest::Credentials;
use crate::message::{self, Message};

/// Our dialog with the destination.
#[derive(Debug)]
pub(in crate::dial) struct Bridge {
    pub(in crate::dial) call_id: String,
    pub(in crate::dial) from_tag: String,
    pub(in crate::dial) to_tag: Option<String>,
    pub(in crate::dial) cseq: u32,
    /// The destination: our INVITE's Request-URI and To.
    pub(in crate::dial) target: String,
    /// Where in-dialog requests go (the 2xx's Contact) and through which proxies.
    pub(in crate::dial) remote_target: String,
    pub(in crate::dial) route: Vec<String>,
    /// Our INVITE's branch and CSeq number.
    pub(in crate::dial) invite: Option<(String, u32)>,
    /// The destination's offer (its 2xx's body), until the phone has answered it.
    pub(in crate::dial) offer: Option<Vec<u8>>,
    /// Our ACK of the destination's 2xx, sent again when the 2xx is repeated.
    pub(in crate::dial) ack: Option<Vec<u8>>,
    /// 401/407s answered in a row.
    pub(in crate::dial) challenges: u8,
    /// We CANCELled our INVITE (rang too long, or the agent hung up).
    pub(in crate::dial) cancelled: bool,
    /// The phone met our re-INVITE with one of its own (491): when to try again.
    pub(in crate::dial) retry_at: Option<Instant>,
    /// What to report of the call: the monitor keeps our leg to the phone from
    /// the engine, so the call the agent asked for is reported from here.
    pub(in crate::dial) events: Vec<SwitchEvent>,
    /// Its end has been reported.
    pub(in crate::dial) ended: bool,
}

impl Bridge {
    pub(super) fn new(target: &str) -> Bridge {
        Bridge {
            call_id: format!("{}@ctibridge", token()),
            from_tag: token(),
            to_tag: None,
            cseq: 0,
            target: target.to_string(),
            remote_target: target.to_string(),
            route: Vec::new(),
            invite: None,
            offer: None,
            ack: None,
            challenges: 0,
            cancelled: false,
            retry_at: None,
            events: Vec::new(),
            ended: false,
        }
    }

    pub(in crate::dial) fn invite_branch(&self) -> Option<&str> {
        self.invite.as_ref().map(|(b, _)| b.as_str())
    }

    /// Is this request in our dialog with the destination?
    pub(in crate::dial) fn owns(&self, request: &Message) -> bool {
        request.header("call-id") == Some(self.call_id.as_str())
            && request.tag("to") == Some(self.from_tag.as_str())
    }

    pub(super) fn to(&self) -> String {
        match &self.to_tag {
            Some(tag) => format!("<{}>;tag={tag}", self.target),
            None => format!("<{}>", self.target),
        }
    }

    pub(super) fn opening(
        &self,
        ctx: &DialContext,
        branch: &str,
        to: String,
        cseq: String,
    ) -> Vec<(&'static str, String)> {
        let from = format!(
            "<sip:{}@{}>;tag={}",
            ctx.local.user, ctx.local.domain, self.from_tag
        );
        vec![
            via(ctx, branch),
            ("Max-Forwards", "70".to_string()),
            ("From", from),
            ("To", to),
            ("Call-ID", self.call_id.clone()),
            ("CSeq", cseq),
        ]
    }

    /// A new request in this dialog (the next CSeq): (branch, bytes).
    pub(super) fn build(
        &mut self,
        method: &str,
        extra: Vec<(&'static str, String)>,
        ctx: &DialContext,
        credentials: &mut Option<Credentials>,
    ) -> (String, Vec<u8>) {
        self.cseq += 1;
        let uri = if method == "INVITE" {
            self.target.clone()
        } else {
            self.remote_target.clone()
        };
        let branch = format!("z9hG4bK{}", token());
        let cseq = format!("{} {method}", self.cseq);
        let opening = self.opening(ctx, &branch, self.to(), cseq);
        let request = InDialog {
            method,
            uri: &uri,
            route: &self.route,
            body: b"",
        };
        let bytes = request.bytes(opening, extra, ctx, credentials);
        (branch, bytes)
    }

    /// The ACK of the destination's 2xx, carrying our answer to its offer.
    pub(super) fn ack_2xx(&self, ctx: &DialContext, answer: &[u8]) -> Vec<u8> {
        let cseq = self.invite.as_ref().map_or(self.cseq, |(_, c)| *c);
        let branch = format!("z9hG4bK{}", token());
        let mut headers = self.opening(ctx, &branch, self.to(), format!("{cseq} ACK"));
        headers.extend(self.route.iter().map(|r| ("Route", r.clone())));
        if !answer.is_empty() {
            headers.push(("Content-Type", "application/sdp".to_string()));
        }
        message::request("ACK", &self.remote_target, &headers, answer)
    }

    /// The ACK of a failure, in the INVITE's transaction, or the CANCEL of it.
    pub(super) fn in_invite_transaction(
        &self,
        ctx: &DialContext,
        method: &str,
        to: Option<&str>,
    ) -> Vec<u8> {
        let Some((branch, cseq)) = &self.invite else {
            return Vec::new();
        };
        let to = to.map_or_else(|| format!("<{}>", self.target), str::to_string);
        let headers = self.opening(ctx, branch, to, format!("{cseq} {method}"));
        message::request(method, &self.target, &headers, b"")
    }
}

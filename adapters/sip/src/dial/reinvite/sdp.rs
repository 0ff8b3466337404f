//! The SDP the REFER fallback writes: the destination's offer passed to the phone
//! under our origin line, and an answer refusing every stream for a call we leave
//! at once. Only the lines named are touched; the rest is passed as it came.

use super::super::requests::address;
use crate::subscriptions::Local;

pub(super) fn looks_like_sdp(body: &[u8]) -> bool {
    std::str::from_utf8(body).is_ok_and(|t| t.trim_start().starts_with("v=0"))
}

/// The destination's offer as ours to the phone: its media lines as they are (the
/// media flows between phone and destination), the origin line ours, the next
/// version of the session the phone has from our first INVITE (RFC 3264 §8). None
/// when `offer` is no SDP with media.
pub(super) fn reoffer(offer: &[u8], session: u32, local: &Local) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(offer).ok()?;
    if !looks_like_sdp(offer) || !text.lines().any(|l| l.starts_with("m=")) {
        return None;
    }
    let (kind, ip) = address(local);
    let mut out = String::new();
    let mut origin = false;
    for line in text.lines().map(|l| l.trim_end_matches('\r')) {
        if line.starts_with("o=") {
            origin = true;
            let version = u64::from(session) + 1;
            out.push_str(&format!(
                "o=ctibridge {session} {version} IN {kind} {ip}\r\n"
            ));
        } else if !line.is_empty() {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    origin.then(|| out.into_bytes())
}

/// An answer that refuses every stream of `offer` (port 0, RFC 3264 §6): what the
/// ACK of a 2xx carries when we leave the call at once.
pub(super) fn refusing_answer(offer: &[u8], local: &Local) -> Vec<u8> {
    let (kind, ip) = address(local);
    let session = rand::random::<u32>() >> 1;
    let mut out = format!(
        "v=0\r\no=ctibridge {session} {session} IN {kind} {ip}\r\ns=ctibridge\r\n\
         c=IN {kind} {ip}\r\nt=0 0\r\n"
    );
    let text = String::from_utf8_lossy(offer);
    for line in text.lines().filter_map(|l| l.strip_prefix("m=")) {
        let mut fields = line.split_whitespace();
        if let (Some(media), Some(_port), Some(proto), Some(format)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        {
            out.push_str(&format!("m={media} 0 {proto} {format}\r\n"));
        }
    }
    out.into_bytes()
}

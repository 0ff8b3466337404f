//! What a channel name says: the technology and the device (extension) it belongs
//! to, in the forms Asterisk 13–20 give them.
//!
//! `PJSIP/1001-0000002a`, `SIP/1001-00000013`, `IAX2/1001-4711` belong to `1001`
//! (the part after the technology, up to the last `-`, which Asterisk appends with
//! a sequence number). A queue member's Local channel as FreePBX makes it,
//! `Local/1001@from-queue-0000001c;1` (or `;2`), belongs to `1001` (the part before
//! `@`). A trunk channel `PJSIP/carrier-00000004` belongs to `carrier`, which is not
//! a monitored device and so never pops.

/// The parts of a channel name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelName<'a> {
    pub tech: &'a str,
    /// The peer / endpoint / extension.
    pub resource: &'a str,
    /// A Local channel (a dialplan leg, not a phone).
    pub local: bool,
}

/// Split a channel name; `None` for a name with no technology (`<unknown>`, empty).
pub fn parse(name: &str) -> Option<ChannelName<'_>> {
    let (tech, rest) = name.split_once('/')?;
    if tech.is_empty() || rest.is_empty() {
        return None;
    }
    let local = tech.eq_ignore_ascii_case("Local");
    let resource = if local {
        rest.split(['@', ';']).next().unwrap_or(rest)
    } else {
        // `PJSIP/1001-0000002a`; a name without the sequence (an interface such as
        // `PJSIP/1001` in a queue member) is the resource itself.
        let body = rest.split(';').next().unwrap_or(rest);
        match body.rfind('-') {
            Some(i) if i > 0 && body[i + 1..].bytes().all(|b| b.is_ascii_hexdigit()) => &body[..i],
            _ => body,
        }
    };
    (!resource.is_empty()).then_some(ChannelName {
        tech,
        resource,
        local,
    })
}

/// The device of a channel or interface name (see the module documentation).
pub fn device(name: &str) -> Option<&str> {
    parse(name).map(|c| c.resource)
}

/// A caller-id number worth reporting: Asterisk writes `<unknown>` or nothing when
/// it has none.
pub fn number(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty() && *v != "<unknown>" && *v != "unknown")
}

/// The number a dial string dials: `PJSIP/4155550123@carrier` → `4155550123`,
/// `SIP/carrier/004930123` → `004930123`, `1002` → `1002`.
pub fn dialled(dial_string: &str) -> &str {
    let s = dial_string.split(',').next().unwrap_or(dial_string);
    let s = s.rsplit('/').next().unwrap_or(s);
    s.split('@').next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_of_real_channel_names() {
        assert_eq!(device("PJSIP/1001-0000002a"), Some("1001"));
        assert_eq!(device("SIP/1001-00000013"), Some("1001"));
        assert_eq!(device("IAX2/1001-4711"), Some("1001"));
        assert_eq!(device("PJSIP/1001"), Some("1001"));
        assert_eq!(device("Local/1001@from-queue-0000001c;1"), Some("1001"));
        assert_eq!(device("Local/1001@from-queue/n"), Some("1001"));
        assert_eq!(device("PJSIP/my-carrier-00000004"), Some("my-carrier"));
        assert_eq!(device("DAHDI/i1/0301234-5"), Some("i1/0301234"));
        assert_eq!(device("<unknown>"), None);
        assert_eq!(device(""), None);
        assert!(parse("Local/1001@from-queue-0000001c;2").unwrap().local);
    }

    #[test]
    fn dial_strings() {
        assert_eq!(dialled("PJSIP/4155550123@carrier"), "4155550123");
        assert_eq!(dialled("SIP/carrier/004930123"), "004930123");
        assert_eq!(dialled("1002"), "1002");
        assert_eq!(dialled("PJSIP/1002,30,tT"), "1002");
    }
}

//! CSTA XML carried in SIP bodies (uaCSTA, ECMA TR/87): which messages carry one
//! (`Content-Type: application/csta+xml`), and the document inside, read with the
//! csta adapter's element tree and classified by its table (event, response,
//! error, the server's own request), so both adapters read CSTA the same way.

use ctibridge_csta::message::{classify_element, Message as Csta, MessageError};
use ctibridge_csta::xml::{Element, XmlError};

use crate::message::Message;

/// The media type of a CSTA body (RFC 6086 INFO packages and TR/87 use it alike).
pub const CONTENT_TYPE: &str = "application/csta+xml";

/// Why a SIP body is not a usable CSTA document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("body of type {0}, not application/csta+xml")]
    NotCsta(String),
    #[error("body without Content-Type")]
    NoContentType,
    /// The position is a byte offset into the body.
    #[error("CSTA body: {0}")]
    Xml(#[from] XmlError),
    #[error("CSTA body: {0}")]
    Unusable(String),
}

/// One CSTA document out of a SIP message: its root element (for the name and the
/// monitor cross-reference) and what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct CstaBody {
    pub name: String,
    pub cross_ref: Option<String>,
    pub message: Csta,
}

/// The CSTA document of a message; `Ok(None)` when the message has no body (a
/// keep-alive INFO, a 200 whose answer travels in an INFO of its own).
pub fn csta_body(message: &Message) -> Result<Option<CstaBody>, BodyError> {
    if message.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match message.content_type().as_deref() {
        Some(CONTENT_TYPE) => {}
        Some(other) => return Err(BodyError::NotCsta(other.to_string())),
        None => return Err(BodyError::NoContentType),
    }
    let root = Element::parse(&message.body)?;
    let name = root.name.clone();
    let cross_ref = root.child_text("monitorCrossRefID").map(String::from);
    let message = classify_element(root).map_err(|e| match e {
        MessageError::Xml(e) => BodyError::Xml(e),
        MessageError::Missing(e) => BodyError::Unusable(e.to_string()),
    })?;
    Ok(Some(CstaBody {
        name,
        cross_ref,
        message,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(content_type: &str, body: &str) -> Message {
        let text = format!(
            "INFO sip:ctibridge@10.0.0.9:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.7;branch=z9hG4bK1\r\n\
             From: <sip:csta@pbx>;tag=a\r\nTo: <sip:ctibridge@pbx>;tag=b\r\nCall-ID: c1\r\n\
             CSeq: 7 INFO\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        Message::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn an_event_with_its_monitor() {
        let body = csta_body(&info(
            "application/csta+xml",
            "<HeldEvent xmlns='x'><monitorCrossRefID>7</monitorCrossRefID>\
             <heldConnection><callID>5</callID><deviceID>1001</deviceID></heldConnection>\
             <holdingDevice><deviceIdentifier>1001</deviceIdentifier></holdingDevice></HeldEvent>",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(body.name, "HeldEvent");
        assert_eq!(body.cross_ref.as_deref(), Some("7"));
        assert!(matches!(body.message, Csta::Event(_)));
    }

    #[test]
    fn what_is_not_a_csta_document_says_why_and_where() {
        assert_eq!(
            csta_body(&info("application/sdp", "v=0\r\n")),
            Err(BodyError::NotCsta("application/sdp".into()))
        );
        let err = csta_body(&info(
            "application/csta+xml",
            "<HeldEvent><a></b></HeldEvent>",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("at byte"), "{err}");
        let err = csta_body(&info("application/csta+xml", "<HeldEvent/>")).unwrap_err();
        assert!(matches!(err, BodyError::Unusable(_)), "{err}");
        assert_eq!(csta_body(&info("application/csta+xml", "")), Ok(None));
    }
}

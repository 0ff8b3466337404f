//! What one CSTA document is: an event, a positive response to one of our requests,
//! an error response, or a request from the switch (its heartbeat, a route request).
//!
//! CSTA error values (ECMA-269 §9.3) are mapped to the API's stable codes here, in
//! one table, so every command reports the same kind of failure the same way.

use ctibridge_adapter::CommandError;

use crate::events::{map_event, Mapped, MissingField};
use crate::xml::{Element, XmlError};

/// A classified document.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Event(Box<Mapped>),
    /// A positive response (`…Response`, `…PosResponse`).
    Response(Element),
    /// `CSTAErrorCode` or a `…NegResponse`.
    Error(CstaError),
    /// The switch's `SystemStatus`: answer it or it drops the link.
    SystemStatus,
    /// The switch ended the application session (`StopApplicationSession` from the
    /// switch; on a BER link its RLRQ or ABRT), with its reason.
    SessionEnded(String),
    /// A document we have no use for (an event kind we do not map, a vendor message).
    Ignored(String),
}

/// A document that is well-formed but cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error(transparent)]
    Missing(#[from] MissingField),
}

/// An error the switch answered with: the category element and its value, e.g.
/// `operation` / `invalidCallID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CstaError {
    pub category: String,
    pub value: String,
}

impl std::fmt::Display for CstaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.category, self.value)
    }
}

impl CstaError {
    /// The API error this switch error means.
    pub fn to_command_error(&self) -> CommandError {
        let shown = self.to_string();
        match self.value.as_str() {
            "invalidCalledDevice"
            | "invalidDestination"
            | "invalidForwardingDestination"
            | "invalidCalledDeviceType"
            | "invalidNumberFormat" => CommandError::InvalidDestination(shown),
            "invalidCallID"
            | "invalidConnectionID"
            | "invalidConnectionIdentifier"
            | "invalidCallIdentifier"
            | "noActiveCall"
            | "noCallToAnswer"
            | "noHeldCall"
            | "noConnectionToClear"
            | "noCallToClear" => CommandError::CallNotFound(shown),
            "requestIncompatibleWithObject"
            | "serviceNotSupported"
            | "notSupportedCommand"
            | "unsupportedService"
            | "functionalityNotSupported" => CommandError::NotSupported(shown),
            _ => CommandError::Rejected(shown),
        }
    }
}

/// Parse and classify a document.
pub fn classify(xml: &[u8]) -> Result<Message, MessageError> {
    let root = Element::parse(xml)?;
    classify_element(root)
}

pub fn classify_element(root: Element) -> Result<Message, MessageError> {
    let name = root.name.as_str();
    if name == "CSTAErrorCode" || name.ends_with("NegResponse") {
        return Ok(Message::Error(error_of(&root)));
    }
    if name == "SystemStatus" {
        return Ok(Message::SystemStatus);
    }
    if name == "StopApplicationSession" {
        let reason = ["appEndReason", "definedEndReason"]
            .into_iter()
            .find_map(|n| root.find_text(n))
            .unwrap_or("no reason given");
        return Ok(Message::SessionEnded(reason.to_string()));
    }
    if name.ends_with("Response") {
        return Ok(Message::Response(root));
    }
    match map_event(&root)? {
        Some(event) => Ok(Message::Event(Box::new(event))),
        None => Ok(Message::Ignored(root.name)),
    }
}

/// The category and value of an error document. `CSTAErrorCode` holds one category
/// element whose text is the value; a negative response holds
/// `errorCode/definedError` (or the like).
fn error_of(root: &Element) -> CstaError {
    let leaf = |e: &Element| -> Option<(String, String)> {
        let mut node = e;
        loop {
            if !node.text.is_empty() {
                return Some((e.name.clone(), node.text.clone()));
            }
            node = node.children.first()?;
        }
    };
    root.children
        .iter()
        .filter(|c| c.name != "privateData" && c.name != "extensions")
        .find_map(leaf)
        .map(|(category, value)| CstaError { category, value })
        .unwrap_or_else(|| CstaError {
            category: root.name.clone(),
            value: "unspecified".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_to_api_errors() {
        let Message::Error(error) = classify(
            b"<CSTAErrorCode xmlns='x'><operation>invalidCalledDevice</operation></CSTAErrorCode>",
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(error.to_string(), "operation: invalidCalledDevice");
        assert!(matches!(
            error.to_command_error(),
            CommandError::InvalidDestination(_)
        ));
        let Message::Error(error) = classify(
            b"<CSTAErrorCode><stateIncompatibility>invalidObjectState</stateIncompatibility></CSTAErrorCode>",
        )
        .unwrap() else {
            panic!()
        };
        assert!(
            matches!(error.to_command_error(), CommandError::Rejected(m) if m.contains("invalidObjectState"))
        );
        let Message::Error(error) = classify(
            b"<StartApplicationSessionNegResponse><errorCode><definedError>invalidApplicationCorrelator</definedError></errorCode></StartApplicationSessionNegResponse>",
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(error.value, "invalidApplicationCorrelator");
    }

    #[test]
    fn responses_events_and_the_rest() {
        assert!(matches!(
            classify(b"<MonitorStartResponse><monitorCrossRefID>1</monitorCrossRefID></MonitorStartResponse>").unwrap(),
            Message::Response(e) if e.child_text("monitorCrossRefID") == Some("1")
        ));
        assert_eq!(
            classify(b"<SystemStatus><systemStatus>normal</systemStatus></SystemStatus>").unwrap(),
            Message::SystemStatus
        );
        // ECMA-323 lets the switch end the session itself.
        assert_eq!(
            classify(b"<StopApplicationSession><sessionID>s1</sessionID><sessionEndReason><definedEndReason>normal</definedEndReason></sessionEndReason></StopApplicationSession>").unwrap(),
            Message::SessionEnded("normal".into())
        );
        assert_eq!(
            classify(b"<CallInformationEvent/>").unwrap(),
            Message::Ignored("CallInformationEvent".into())
        );
        assert!(matches!(
            classify(b"<HeldEvent/>"),
            Err(MessageError::Missing(_))
        ));
        assert!(matches!(classify(b"<Held"), Err(MessageError::Xml(_))));
    }
}

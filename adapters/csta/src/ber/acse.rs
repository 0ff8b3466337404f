//! The ACSE association (ITU-T X.227, ISO 8650) that some switches want before any
//! CSTA operation on a BER link (`acse = true`): our AARQ, the switch's AARE, the
//! release (RLRQ/RLRE) and the abort (ABRT).
//!
//! It plays the part StartApplicationSession plays on an XML link, so it is read and
//! written as those elements: the request builders' `StartApplicationSession`
//! becomes the AARQ, an accepted AARE reads as `StartApplicationSessionPosResponse`
//! and a refused one as `StartApplicationSessionNegResponse` naming the diagnostic,
//! `StopApplicationSession` becomes an RLRQ and the RLRE its positive response. The
//! switch's own RLRQ or ABRT reads as a `StopApplicationSession` from the switch.
//! The session code is then the XML link's.
//!
//! What goes into the AARQ follows what clients of real switches send:
//! - the application context name, and nothing else when no credentials are set
//!   (an OmniPCX client's whole AARQ is `60 0a a1 08 06 06 2b 0c 00 81 34 01`, the
//!   context `1.3.12.0.180.1`);
//! - with a user name and password, a HiPath 4000 client's form:
//!   `sender-acse-requirements` with the authentication bit, and
//!   `calling-authentication-value [12]` as `external [2]` holding, in its
//!   single-ASN1-type, a `[0] SEQUENCE { name OCTET STRING, password OCTET STRING }`;
//!
//! The context defaults to `1.3.12.0.218` (ECMA-218's CSTA, as the HiPath 4000
//! client names it); `acse_context` sets another.

use rasn::types::ObjectIdentifier;

use super::node::{self, app, ctx, integer_octets, Node, NodeError, OCTET_STRING, OID};
use super::value::oid_text;
use crate::xml::Element;

/// The application context when `acse_context` is not set.
pub const DEFAULT_CONTEXT: &str = "1.3.12.0.218";

/// First octets of the ACSE APDUs: `[APPLICATION 0..4]`, constructed.
const AARQ: u8 = 0x60;
const AARE: u8 = 0x61;
const RLRQ: u8 = 0x62;
const RLRE: u8 = 0x63;
const ABRT: u8 = 0x64;

/// Whether an APDU is an ACSE one (rather than ROSE).
pub fn is_acse(apdu: &[u8]) -> bool {
    matches!(apdu.first(), Some(&(AARQ..=ABRT)))
}

/// The arcs of a dotted object identifier, or why it is none.
pub fn parse_context(text: &str) -> Result<Vec<u32>, String> {
    let arcs = text
        .split('.')
        .map(|arc| {
            arc.parse::<u32>()
                .map_err(|_| format!("`{arc}` in `{text}` is not a number"))
        })
        .collect::<Result<Vec<u32>, String>>()?;
    ObjectIdentifier::new(arcs.clone())
        .map(|_| arcs)
        .ok_or_else(|| format!("`{text}` is not an object identifier (like 1.3.12.0.218)"))
}

fn oid(arcs: &[u32]) -> Result<Node, String> {
    let id = ObjectIdentifier::new(arcs.to_vec())
        .ok_or_else(|| format!("{arcs:?} is not an object identifier"))?;
    let bytes = rasn::ber::encode(&id).map_err(|e| e.to_string())?;
    let mut nodes = node::parse(&bytes).map_err(|e| e.to_string())?;
    match nodes.pop() {
        Some(n) if n.is(OID) => Ok(n),
        _ => Err("an object identifier did not encode as one".into()),
    }
}

/// The ACSE APDU for a `StartApplicationSession`, `StopApplicationSession` or
/// `StopApplicationSessionPosResponse` element; `None` for other elements.
pub fn write(request: &Element, context: &[u32]) -> Option<Result<Vec<u8>, String>> {
    let apdu = match request.name.as_str() {
        "StartApplicationSession" => aarq(request, context),
        // RLRQ { reason [0] IMPLICIT Release-request-reason normal(0) }
        "StopApplicationSession" => Ok(Node::constructed(
            app(2),
            vec![Node::primitive(ctx(0), integer_octets(0))],
        )),
        // RLRE { reason [0] IMPLICIT Release-response-reason normal(0) }
        "StopApplicationSessionPosResponse" => Ok(Node::constructed(
            app(3),
            vec![Node::primitive(ctx(0), integer_octets(0))],
        )),
        _ => return None,
    };
    Some(apdu.and_then(|n| n.to_ber()))
}

/// `AARQ-apdu ::= [APPLICATION 0] IMPLICIT SEQUENCE { application-context-name [1],
/// sender-acse-requirements [10], calling-authentication-value [12], … }`.
fn aarq(request: &Element, context: &[u32]) -> Result<Node, String> {
    let login = request
        .child("applicationInfo")
        .and_then(|i| i.child("applicationSpecificInfo"))
        .and_then(|i| i.child("sessionLoginInfo"));
    let field = |name: &str| {
        login
            .and_then(|l| l.child_text(name))
            .filter(|s| !s.is_empty())
    };
    let mut fields = vec![Node::constructed(ctx(1), vec![oid(context)?])];
    let authentication = match (field("userName"), field("password")) {
        (Some(user), Some(password)) => Some(Node::constructed(
            ctx(2),
            vec![Node::constructed(
                ctx(0),
                vec![Node::constructed(
                    ctx(0),
                    vec![
                        Node::primitive(OCTET_STRING, user.as_bytes()),
                        Node::primitive(OCTET_STRING, password.as_bytes()),
                    ],
                )],
            )],
        )),
        _ => None,
    };
    if let Some(value) = authentication {
        // ACSE-requirements BIT STRING { authentication(0) }: 7 unused bits, bit 0 set.
        fields.push(Node::primitive(ctx(10), vec![0x07, 0x80]));
        fields.push(Node::constructed(ctx(12), vec![value]));
    }
    Ok(Node::constructed(app(0), fields))
}

/// An ACSE APDU from the switch, as an element.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub root: Element,
    /// The switch waits for our answer (its RLRQ wants an RLRE).
    pub wants_answer: bool,
}

/// The element an ACSE APDU from the switch stands for.
pub fn read(apdu: &[u8]) -> Result<Read, NodeError> {
    let at = |offset: usize, message: String| NodeError { offset, message };
    let nodes = node::parse(apdu)?;
    let [top] = nodes.as_slice() else {
        return Err(at(0, "an ACSE APDU is one value".into()));
    };
    let element = |name: &str, children: Vec<Element>| Element {
        name: name.into(),
        children,
        ..Element::default()
    };
    let (root, wants_answer) = match apdu[0] {
        AARE => (aare(top)?, false),
        RLRE => (element("StopApplicationSessionPosResponse", vec![]), false),
        RLRQ => (
            element(
                "StopApplicationSession",
                vec![reason_element("the switch released the association")],
            ),
            true,
        ),
        ABRT => (
            element(
                "StopApplicationSession",
                vec![reason_element(&abort_reason(top))],
            ),
            false,
        ),
        _ => {
            return Err(at(
                0,
                "an AARQ from the switch (only the application opens an association)".into(),
            ))
        }
    };
    Ok(Read { root, wants_answer })
}

/// `<sessionEndReason><appEndReason>…</appEndReason></sessionEndReason>`.
fn reason_element(text: &str) -> Element {
    Element {
        name: "sessionEndReason".into(),
        children: vec![Element {
            name: "appEndReason".into(),
            text: text.into(),
            ..Element::default()
        }],
        ..Element::default()
    }
}

/// `ABRT-apdu ::= [APPLICATION 4] IMPLICIT SEQUENCE { abort-source [0] IMPLICIT
/// ABRT-source { acse-service-user(0), acse-service-provider(1) }, … }`.
fn abort_reason(top: &Node) -> String {
    match top.child(ctx(0)).and_then(Node::integer) {
        Some(0) => "the switch aborted the association".into(),
        Some(1) => "the switch's ACSE provider aborted the association".into(),
        _ => "the association was aborted".into(),
    }
}

/// `AARE-apdu ::= [APPLICATION 1] IMPLICIT SEQUENCE { protocol-version [0],
/// application-context-name [1], result [2] Associate-result,
/// result-source-diagnostic [3] CHOICE { acse-service-user [1], acse-service-provider
/// [2] }, … }`.
fn aare(top: &Node) -> Result<Element, NodeError> {
    let result = top
        .child(ctx(2))
        .and_then(Node::integer)
        .ok_or_else(|| NodeError {
            offset: top.offset,
            message: "an AARE without its result [2]".into(),
        })?;
    let context = top
        .child(ctx(1))
        .and_then(|c| c.child(OID))
        .map(|o| oid_text(&o.octets()));
    if result == 0 {
        let mut children = Vec::new();
        if let Some(context) = context {
            children.push(Element {
                name: "applicationContext".into(),
                text: context,
                ..Element::default()
            });
        }
        return Ok(Element {
            name: "StartApplicationSessionPosResponse".into(),
            children,
            ..Element::default()
        });
    }
    let outcome = match result {
        1 => "rejected-permanent",
        2 => "rejected-transient",
        _ => "rejected",
    };
    let diagnostic = top.child(ctx(3)).and_then(|d| d.children().first());
    let why = match diagnostic {
        Some(d) if d.is(ctx(1)) => d.integer().map(|v| user_diagnostic(v).to_string()),
        Some(d) if d.is(ctx(2)) => d.integer().map(|v| provider_diagnostic(v).to_string()),
        _ => None,
    };
    let text = match why {
        Some(why) => format!("{outcome}: {why}"),
        None => outcome.to_string(),
    };
    Ok(Element {
        name: "StartApplicationSessionNegResponse".into(),
        children: vec![Element {
            name: "errorCode".into(),
            children: vec![Element {
                name: "definedError".into(),
                text,
                ..Element::default()
            }],
            ..Element::default()
        }],
        ..Element::default()
    })
}

/// X.227's `Associate-source-diagnostic.acse-service-user` values.
fn user_diagnostic(value: i64) -> &'static str {
    match value {
        0 => "null",
        1 => "no-reason-given",
        2 => "application-context-name-not-supported",
        3 => "calling-AP-title-not-recognized",
        4 => "calling-AP-invocation-identifier-not-recognized",
        5 => "calling-AE-qualifier-not-recognized",
        6 => "calling-AE-invocation-identifier-not-recognized",
        7 => "called-AP-title-not-recognized",
        8 => "called-AP-invocation-identifier-not-recognized",
        9 => "called-AE-qualifier-not-recognized",
        10 => "called-AE-invocation-identifier-not-recognized",
        11 => "authentication-mechanism-name-not-recognized",
        12 => "authentication-mechanism-name-required",
        13 => "authentication-failure",
        14 => "authentication-required",
        _ => "an unknown acse-service-user diagnostic",
    }
}

/// X.227's `Associate-source-diagnostic.acse-service-provider` values.
fn provider_diagnostic(value: i64) -> &'static str {
    match value {
        0 => "null",
        1 => "no-reason-given",
        2 => "no-common-acse-version",
        _ => "an unknown acse-service-provider diagnostic",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(user: Option<&str>, password: Option<&str>) -> Element {
        let requests = crate::requests::Requests {
            namespace: "http://www.ecma-international.org/standards/ecma-323/csta/ed3",
        };
        let xml = requests.start_session("ctibridge", user, password, 300);
        Element::parse(xml.as_bytes()).unwrap()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn a_bare_aarq_is_the_omnipcx_clients_to_the_byte() {
        let context = parse_context("1.3.12.0.180.1").unwrap();
        let apdu = write(&session(None, None), &context).unwrap().unwrap();
        assert_eq!(hex(&apdu), "600aa10806062b0c00813401");
        assert!(is_acse(&apdu));
    }

    #[test]
    fn credentials_go_in_the_hipath_form() {
        let context = parse_context(DEFAULT_CONTEXT).unwrap();
        let apdu = write(&session(Some("cti"), Some("s3cret")), &context)
            .unwrap()
            .unwrap();
        assert_eq!(
            hex(&apdu),
            concat!(
                "6022",
                "a10706052b0c00815a", // application-context-name 1.3.12.0.218
                "8a020780",           // sender-acse-requirements: authentication
                "ac13a211a00fa00d",   // calling-authentication-value, external, [0], [0]
                "0403637469",         // name "cti"
                "0406733363726574",   // password "s3cret"
            )
        );
        // No credentials, no authentication fields.
        let apdu = write(&session(None, None), &context).unwrap().unwrap();
        assert_eq!(hex(&apdu), "6009a10706052b0c00815a");
    }

    #[test]
    fn contexts_are_checked() {
        assert_eq!(
            parse_context("1.3.12.0.218").unwrap(),
            vec![1, 3, 12, 0, 218]
        );
        assert!(parse_context("1.3.x").unwrap_err().contains("`x`"));
        assert!(parse_context("7.1").is_err());
        assert!(parse_context("").is_err());
    }

    #[test]
    fn an_accepted_aare_is_the_positive_response() {
        // HiPath 4000's AARE shape: context, result 0, acse-service-user null.
        let aare = [
            0x61, 0x15, 0xa1, 0x07, 0x06, 0x05, 0x2b, 0x0c, 0x00, 0x81, 0x5a, 0xa2, 0x03, 0x02,
            0x01, 0x00, 0xa3, 0x05, 0xa1, 0x03, 0x02, 0x01, 0x00,
        ];
        let got = read(&aare).unwrap();
        assert_eq!(got.root.name, "StartApplicationSessionPosResponse");
        assert_eq!(
            got.root.child_text("applicationContext"),
            Some("1.3.12.0.218")
        );
    }

    #[test]
    fn a_refusal_names_its_diagnostic() {
        // rejected-permanent, acse-service-user authentication-failure (13).
        let aare = [
            0x61, 0x15, 0xa1, 0x07, 0x06, 0x05, 0x2b, 0x0c, 0x00, 0x81, 0x5a, 0xa2, 0x03, 0x02,
            0x01, 0x01, 0xa3, 0x05, 0xa1, 0x03, 0x02, 0x01, 0x0d,
        ];
        let got = read(&aare).unwrap();
        assert_eq!(got.root.name, "StartApplicationSessionNegResponse");
        assert_eq!(
            got.root.find_text("definedError"),
            Some("rejected-permanent: authentication-failure")
        );
        // No result at all: an error naming where.
        let err = read(&[0x61, 0x04, 0xa1, 0x02, 0x05, 0x00]).unwrap_err();
        assert!(err.message.contains("result"), "{err}");
    }

    #[test]
    fn release_and_abort() {
        assert_eq!(
            read(&[0x63, 0x03, 0x80, 0x01, 0x00]).unwrap().root.name,
            "StopApplicationSessionPosResponse"
        );
        let rlrq = read(&[0x62, 0x03, 0x80, 0x01, 0x00]).unwrap();
        assert_eq!(rlrq.root.name, "StopApplicationSession");
        assert!(rlrq.wants_answer);
        let abrt = read(&[0x64, 0x03, 0x80, 0x01, 0x00]).unwrap();
        assert_eq!(
            abrt.root.find_text("appEndReason"),
            Some("the switch aborted the association")
        );
        assert!(!abrt.wants_answer);
        let stop = Element {
            name: "StopApplicationSession".into(),
            ..Element::default()
        };
        assert_eq!(hex(&write(&stop, &[1, 3]).unwrap().unwrap()), "6203800100");
        // Truncated input is an error, never a panic.
        for cut in 0..5 {
            let _ = read(&[0x62, 0x03, 0x80, 0x01, 0x00][..cut]);
        }
    }
}

//! Phase III's routing dialogue (ECMA-285 §18) in BER: the client's
//! `routeRegister` (248), `routeSelectRequest` (33) and `routeEndRequest` (35)
//! read into requests, and the switch's `routeRequest` (31) and
//! `routeEndRequest` arguments written.
//!
//! A dialogue is named by `crossRefIdentifier RouteingCrossRefID
//! ([APPLICATION 24] IMPLICIT OCTET STRING)` and the registration by
//! `routeRegisterReqID` (an OCTET STRING, `[0] IMPLICIT` inside the dialogue's
//! arguments). The fake numbers both and sends the numbers as four big-endian
//! octets, as it does call ids.

use super::super::super::request::Request;
use super::super::super::shared::{Conn, CstaError};
use super::super::tlv::{cons, tlv, Reader};
use super::super::values::{self, ArgError};
use super::super::Op;
use super::{conn, error, named, read_device, CALLED, CALLING, SEQUENCE, SUBJECT};

const CROSS_REF: u8 = 0x58;
const REGISTER_IN_DIALOGUE: u8 = 0x80;
/// `routeSelected [1] DeviceID`, explicit.
const ROUTE_SELECTED: u8 = 0xa1;
/// `errorValue [1] ErrorValue`, explicit (ErrorValue is a CHOICE).
const ERROR_VALUE: u8 = 0xa1;
const OCTET_STRING: u8 = 0x04;

/// The client's routing request `op` from its argument's fields.
pub(super) fn request(op: Op, r: &mut Reader<'_>) -> Result<Request, ArgError> {
    Ok(match op {
        // RouteRegisterArgument { routeingDevice DeviceID OPTIONAL, … }
        Op::RouteRegister => Request::RouteRegister {
            device: r.optional(SEQUENCE)?.map(|t| read_device(&t)).transpose()?,
        },
        // RouteSelectRequestArgument { crossRefIdentifier, routeRegisterReqID
        // [0] OPTIONAL, routeSelected [1] DeviceID, … }
        Op::RouteSelect => {
            let (xref, reg) = dialogue(r)?;
            let selected = r.expect(ROUTE_SELECTED, "routeSelected")?.inner()?;
            Request::RouteSelect {
                reg,
                xref,
                selected: read_device(&selected)?,
            }
        }
        // RouteEndRequestArgument { crossRefIdentifier, routeRegisterReqID [0]
        // OPTIONAL, errorValue [1] OPTIONAL, … }
        Op::RouteEnd => {
            let (xref, reg) = dialogue(r)?;
            Request::RouteEnd { reg, xref }
        }
        _ => return Err(ArgError::Csta(CstaError::UNKNOWN_REQUEST)),
    })
}

/// `crossRefIdentifier, routeRegisterReqID [0] IMPLICIT OPTIONAL`, as the
/// numbers the fake gave them.
fn dialogue(r: &mut Reader<'_>) -> Result<(String, Option<String>), ArgError> {
    let xref = r.expect(CROSS_REF, "crossRefIdentifier")?.primitive()?;
    let reg = match r.optional(REGISTER_IN_DIALOGUE)? {
        Some(t) => Some(values::call_from_octets(t.primitive()?)),
        None => None,
    };
    Ok((values::call_from_octets(xref), reg))
}

fn number(n: u32) -> Vec<u8> {
    values::xref_octets(&n.to_string())
}

/// `RouteRegisterResult ::= SEQUENCE { routeRegisterReqID RouteRegisterReqID,
/// … }`.
pub(super) fn register_result(reg: u32) -> Vec<u8> {
    cons(SEQUENCE, &[tlv(OCTET_STRING, &number(reg))])
}

/// `RouteRequestArgument ::= SEQUENCE { crossRefIdentifier, routeRegisterReqID
/// [0], currentRoute CalledDeviceID, callingDevice CallingDeviceID,
/// routeingDevice SubjectDeviceID, routedCall ConnectionID, … }`; an unknown
/// caller is `notKnown`.
pub fn route_request_argument(
    reg: u32,
    xref: u32,
    route_point: &str,
    calling: &str,
    call: &str,
) -> Vec<u8> {
    cons(
        SEQUENCE,
        &[
            tlv(CROSS_REF, &number(xref)),
            tlv(REGISTER_IN_DIALOGUE, &number(reg)),
            named(CALLED, route_point),
            named(CALLING, calling),
            named(SUBJECT, route_point),
            conn(&Conn::new(call, route_point)),
        ],
    )
}

/// `RouteEndRequestArgument ::= SEQUENCE { crossRefIdentifier,
/// routeRegisterReqID [0], errorValue [1] ErrorValue OPTIONAL, … }`: the
/// error when the client's selection could not be used.
pub fn route_end_argument(reg: u32, xref: u32, failure: Option<CstaError>) -> Vec<u8> {
    let mut parts = vec![
        tlv(CROSS_REF, &number(xref)),
        tlv(REGISTER_IN_DIALOGUE, &number(reg)),
    ];
    if let Some(e) = failure {
        parts.push(cons(ERROR_VALUE, &[error(e)]));
    }
    cons(SEQUENCE, &parts)
}

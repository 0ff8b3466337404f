//! The client's request arguments that both phases lay out alike (the same
//! fields in the same order), read with each phase's own device and
//! connection identifier readers. Each phase module reads the rest.

use super::super::request::Request;
use super::super::shared::{Conn, CstaError};
use super::tlv::{BerError, Reader, Tlv};
use super::values::{self, ArgError};
use super::Op;

/// `ConnectionID ::= [APPLICATION 11] …` in both phases.
pub const CONNECTION_ID: u8 = 0x6b;

/// A phase's reading of device and connection identifiers.
pub trait Identifiers {
    fn device(t: &Tlv<'_>) -> Result<String, BerError>;
    fn conn(t: &Tlv<'_>) -> Result<Conn, BerError>;
}

fn conn<I: Identifiers>(r: &mut Reader<'_>, what: &str) -> Result<Conn, BerError> {
    I::conn(&r.required(what)?)
}

fn device<I: Identifiers>(r: &mut Reader<'_>, what: &str) -> Result<String, BerError> {
    I::device(&r.required(what)?)
}

/// `op`'s request from the argument's fields `r`, for the operations both
/// phases shape alike; `None` for the others.
pub fn common<I: Identifiers>(op: Op, r: &mut Reader<'_>) -> Result<Option<Request>, ArgError> {
    Ok(Some(match op {
        Op::AnswerCall => Request::AnswerCall(conn::<I>(r, "callToBeAnswered")?),
        Op::ClearCall => Request::ClearCall(conn::<I>(r, "callToBeCleared")?),
        Op::ClearConnection => Request::ClearConnection(conn::<I>(r, "connectionToBeCleared")?),
        Op::HoldCall => Request::HoldCall(conn::<I>(r, "callToBeHeld")?),
        Op::RetrieveCall => Request::RetrieveCall(conn::<I>(r, "callToBeRetrieved")?),
        Op::TransferCall => Request::TransferCall {
            held: conn::<I>(r, "heldCall")?,
            active: conn::<I>(r, "activeCall")?,
        },
        Op::ConferenceCall => Request::ConferenceCall {
            held: conn::<I>(r, "heldCall")?,
            active: conn::<I>(r, "activeCall")?,
        },
        Op::MakeCall => Request::MakeCall {
            calling: device::<I>(r, "callingDevice")?,
            called: device::<I>(r, "calledDirectoryNumber")?,
        },
        Op::MonitorStart => {
            let object = r.required("monitorObject")?;
            if object.tag.is(CONNECTION_ID) {
                // Call monitors are not among what the fake serves.
                return Err(ArgError::Csta(CstaError::Operation(
                    "invalidMonitorObjectType",
                )));
            }
            Request::MonitorStart {
                device: I::device(&object)?,
            }
        }
        Op::MonitorStop => Request::MonitorStop {
            xref: values::call_from_octets(
                r.expect(values::MONITOR_CROSS_REF_ID, "crossRefIdentifier")?
                    .primitive()?,
            ),
        },
        Op::SnapshotDevice => Request::SnapshotDevice {
            device: device::<I>(r, "snapshotObject")?,
        },
        _ => return Ok(None),
    }))
}

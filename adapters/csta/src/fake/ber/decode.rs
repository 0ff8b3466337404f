//! One APDU from the client, read into what the router acts on: an invoke
//! (with its request, or the CSTA error to answer), a result, error or
//! reject for the switch's own invokes, or an ACSE association request,
//! release or abort. What cannot be read becomes a [`Rejection`]: the ROSE
//! reject to send, with the reason and the byte it is about.
//!
//! ROSE is the same in both phases (X.219 in ECMA-218, X.880 in ECMA-285
//! encode alike): `invoke [1]`, `returnResult [2]`, `returnError [3]`,
//! `reject [4]`, each an implicit SEQUENCE starting with the invoke id.

use std::fmt;

use super::super::config::CstaPhase;
use super::super::request::Request;
use super::super::shared::CstaError;
use super::tlv::{oid_arcs, BerError, Reader, Tlv};
use super::values::ArgError;
use super::{op_of, phase2, phase3, Op};

/// What a well-formed APDU asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A CSTA operation: the request, or the error it earns.
    Invoke {
        invoke: i64,
        op: Op,
        request: Result<Request, CstaError>,
    },
    /// Answers to the switch's own invokes (its `systemStatus`).
    Result {
        invoke: i64,
    },
    Error {
        invoke: i64,
    },
    Reject {
        invoke: Option<i64>,
    },
    /// ACSE A-ASSOCIATE request.
    Associate(Aarq),
    /// ACSE A-RELEASE request.
    Release,
    /// ACSE A-ABORT.
    Abort,
}

/// What the fake reads of an AARQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aarq {
    /// `application-context-name`.
    pub context: Option<Vec<u32>>,
    /// The user name of a HiPath-style `external` authentication value.
    pub user: Option<String>,
    /// `calling-authentication-value`: its `charstring`, or the password of a
    /// HiPath-style `external [2]` value.
    pub password: Option<String>,
}

/// ROSE reject reasons (`GeneralProblem` and `InvokeProblem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Well-formed BER, but not a ROSE or ACSE APDU.
    UnrecognizedApdu,
    /// A ROSE APDU missing its invoke id or operation code.
    MistypedApdu,
    /// Not BER at all (bad length, trailing bytes, empty).
    BadlyStructuredApdu,
    UnrecognizedOperation,
    MistypedArgument,
}

impl Problem {
    /// `problem` CHOICE element: `general [0]` or `invoke [1]`, implicit.
    pub fn element(self) -> (u8, i64) {
        match self {
            Problem::UnrecognizedApdu => (0x80, 0),
            Problem::MistypedApdu => (0x80, 1),
            Problem::BadlyStructuredApdu => (0x80, 2),
            Problem::UnrecognizedOperation => (0x81, 1),
            Problem::MistypedArgument => (0x81, 2),
        }
    }
}

/// An APDU that is answered with a ROSE reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The invoke id, when it could be read.
    pub invoke: Option<i64>,
    pub problem: Problem,
    pub error: BerError,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.problem, self.error)
    }
}

fn reject(invoke: Option<i64>, problem: Problem) -> impl Fn(BerError) -> Rejection {
    move |error| Rejection {
        invoke,
        problem,
        error,
    }
}

/// Reads one APDU (the bytes after the length prefix).
pub fn incoming(phase: CstaPhase, apdu: &[u8]) -> Result<Incoming, Rejection> {
    let badly = reject(None, Problem::BadlyStructuredApdu);
    let mut outer = Reader::new(apdu);
    let top = outer
        .next()
        .map_err(&badly)?
        .ok_or_else(|| badly(BerError::at(0, "empty APDU")))?;
    outer.finish().map_err(&badly)?;
    let octet = apdu[0];
    let unrecognized = || {
        reject(None, Problem::UnrecognizedApdu)(BerError::at(
            0,
            format!("{} is not a ROSE or ACSE APDU", top.tag),
        ))
    };
    if !top.tag.constructed {
        return Err(unrecognized());
    }
    match octet {
        0xa1 => invoke(phase, &top),
        0xa2 | 0xa3 => {
            let invoke = invoke_id(&mut top.children().map_err(&badly)?)?;
            Ok(if octet == 0xa2 {
                Incoming::Result { invoke }
            } else {
                Incoming::Error { invoke }
            })
        }
        0xa4 => {
            let mut r = top.children().map_err(&badly)?;
            let first = r.next().map_err(&badly)?;
            let invoke = match first {
                Some(t) if t.tag.is(0x02) => {
                    Some(t.integer().map_err(reject(None, Problem::MistypedApdu))?)
                }
                _ => None,
            };
            Ok(Incoming::Reject { invoke })
        }
        0x60 => aarq(&top).map(Incoming::Associate),
        0x62 => Ok(Incoming::Release),
        0x64 => Ok(Incoming::Abort),
        _ => Err(unrecognized()),
    }
}

fn invoke_id(r: &mut Reader<'_>) -> Result<i64, Rejection> {
    let mistyped = reject(None, Problem::MistypedApdu);
    r.expect(0x02, "invokeID")
        .and_then(|t| t.integer())
        .map_err(mistyped)
}

fn invoke(phase: CstaPhase, top: &Tlv<'_>) -> Result<Incoming, Rejection> {
    let mut r = top
        .children()
        .map_err(reject(None, Problem::BadlyStructuredApdu))?;
    let invoke = invoke_id(&mut r)?;
    let mistyped = reject(Some(invoke), Problem::MistypedApdu);
    r.optional(0x80).map_err(&mistyped)?; // linkedID
    let code = r.required("operation code").map_err(&mistyped)?;
    if !code.tag.is(0x02) {
        // A global (object identifier) code names no CSTA operation.
        return Err(reject(Some(invoke), Problem::UnrecognizedOperation)(
            BerError::at(code.offset, format!("operation code {}", code.tag)),
        ));
    }
    let value = code.integer().map_err(&mistyped)?;
    let op = op_of(phase, value)
        .filter(|op| !op.switch_only())
        .ok_or_else(|| {
            reject(Some(invoke), Problem::UnrecognizedOperation)(BerError::at(
                code.offset,
                format!("operation {value} is not one this switch serves"),
            ))
        })?;
    let arg = r
        .next()
        .map_err(reject(Some(invoke), Problem::MistypedArgument))?;
    let read = match phase {
        CstaPhase::Two => phase2::request(op, arg),
        CstaPhase::Three => phase3::request(op, arg),
    };
    let request = match read {
        Ok(req) => Ok(req),
        Err(ArgError::Csta(e)) => Err(e),
        Err(ArgError::Mistyped(e)) => {
            return Err(reject(Some(invoke), Problem::MistypedArgument)(e));
        }
    };
    Ok(Incoming::Invoke {
        invoke,
        op,
        request,
    })
}

/// `AARQ-apdu ::= [APPLICATION 0] IMPLICIT SEQUENCE { …,
/// application-context-name [1], …, calling-authentication-value [12]
/// EXPLICIT Authentication-value, … }`.
fn aarq(top: &Tlv<'_>) -> Result<Aarq, Rejection> {
    let badly = reject(None, Problem::BadlyStructuredApdu);
    let mut r = top.children().map_err(&badly)?;
    let mut out = Aarq {
        context: None,
        user: None,
        password: None,
    };
    while let Some(field) = r.next().map_err(&badly)? {
        if field.tag.is(0xa1) {
            let oid = field.inner().map_err(&badly)?;
            out.context = Some(oid_arcs(&oid).map_err(&badly)?);
        } else if field.tag.is(0xac) {
            // Authentication-value CHOICE { charstring [0] IMPLICIT GraphicString, … }
            let value = field.inner().map_err(&badly)?;
            if value.tag.is(0x80) {
                out.password = Some(value.text().map_err(&badly)?);
            } else if value.tag.is(0xa2) {
                // external [2]: EXTERNAL's single-ASN1-type [0] holding the switch's
                // `[0] SEQUENCE { name OCTET STRING, password OCTET STRING }`.
                let login = value
                    .inner()
                    .and_then(|single| single.inner())
                    .map_err(&badly)?;
                let mut fields = login.children().map_err(&badly)?;
                let user = fields.required("a user name").map_err(&badly)?;
                let password = fields.required("a password").map_err(&badly)?;
                out.user = Some(user.text().map_err(&badly)?);
                out.password = Some(password.text().map_err(&badly)?);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// MonitorStart 1001 (Phase III), invoke 1.
    const MONITOR: [u8; 18] = [
        0xa1, 0x10, 0x02, 0x01, 0x01, 0x02, 0x01, 0x47, 0x30, 0x08, 0x30, 0x06, 0x80, 0x04, b'1',
        b'0', b'0', b'1',
    ];

    fn check(phase: CstaPhase, bytes: &[u8]) {
        if let Err(r) = incoming(phase, bytes) {
            assert!(r.error.offset <= bytes.len(), "{r} for {bytes:02x?}");
        }
    }

    #[test]
    fn reads_a_monitor_start() {
        let got = incoming(CstaPhase::Three, &MONITOR).unwrap();
        assert_eq!(
            got,
            Incoming::Invoke {
                invoke: 1,
                op: Op::MonitorStart,
                request: Ok(Request::MonitorStart {
                    device: "1001".into()
                }),
            }
        );
    }

    #[test]
    fn rejections_say_why_and_where() {
        let r = incoming(CstaPhase::Three, &MONITOR[..10]).unwrap_err();
        assert_eq!(
            (r.problem, r.invoke, r.error.offset),
            (Problem::BadlyStructuredApdu, None, 1)
        );
        let mut two = MONITOR.to_vec();
        two.extend_from_slice(&[0x05, 0x00]);
        let r = incoming(CstaPhase::Three, &two).unwrap_err();
        assert_eq!(
            (r.problem, r.error.offset),
            (Problem::BadlyStructuredApdu, 18)
        );
        // Phase II reads the Phase III DeviceID SEQUENCE as a device id: no.
        let r = incoming(CstaPhase::Two, &MONITOR).unwrap_err();
        assert_eq!((r.problem, r.invoke), (Problem::MistypedArgument, Some(1)));
    }

    #[test]
    fn other_identifier_forms_are_read() {
        // Phase III MonitorStart with deviceNumber [1] 1001.
        let apdu = [
            0xa1, 0x0e, 0x02, 0x01, 0x02, 0x02, 0x01, 0x47, 0x30, 0x06, 0x30, 0x04, 0x81, 0x02,
            0x03, 0xe9,
        ];
        let Ok(Incoming::Invoke { request, .. }) = incoming(CstaPhase::Three, &apdu) else {
            panic!("not read");
        };
        assert_eq!(
            request,
            Ok(Request::MonitorStart {
                device: "1001".into()
            })
        );
        // Phase II AnswerCall with the bare ConnectionID { call [2] 101, device [0] 1001 }.
        let apdu = [
            0xa1, 0x14, 0x02, 0x01, 0x05, 0x02, 0x01, 0x02, 0x6b, 0x0c, 0x82, 0x04, 0x00, 0x00,
            0x00, 0x65, 0x80, 0x04, b'1', b'0', b'0', b'1',
        ];
        let Ok(Incoming::Invoke { request, .. }) = incoming(CstaPhase::Two, &apdu) else {
            panic!("not read");
        };
        assert_eq!(
            request,
            Ok(Request::AnswerCall(super::super::super::shared::Conn::new(
                "101", "1001"
            )))
        );
    }

    proptest! {
        #[test]
        fn any_bytes_are_read_or_rejected(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            check(CstaPhase::Two, &bytes);
            check(CstaPhase::Three, &bytes);
        }

        #[test]
        fn damaged_invokes_are_read_or_rejected(at in 0usize..18, byte in any::<u8>(), cut in 0usize..19) {
            let mut apdu = MONITOR.to_vec();
            apdu[at] = byte;
            apdu.truncate(cut.max(at + 1));
            check(CstaPhase::Two, &apdu);
            check(CstaPhase::Three, &apdu);
        }
    }
}

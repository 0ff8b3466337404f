//! The ROSE envelope (ITU-T X.880, as ECMA-285 and ECMA-218 use it) as rasn types:
//! invoke, returnResult, returnError and reject, each with its invoke id. The CSTA
//! argument, result or error parameter inside stays an open value for the phase
//! tables to read.

use rasn::types::{Any, Integer, ObjectIdentifier};
use rasn::{AsnType, Decode, Decoder as _, Encode};

/// A ROSE APDU.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(choice)]
pub enum Rose {
    #[rasn(tag(context, 1))]
    Invoke(Invoke),
    #[rasn(tag(context, 2))]
    ReturnResult(ReturnResult),
    #[rasn(tag(context, 3))]
    ReturnError(ReturnError),
    #[rasn(tag(context, 4))]
    Reject(Reject),
}

/// An operation code: CSTA uses local (integer) codes.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(choice)]
pub enum Code {
    Local(Integer),
    Global(ObjectIdentifier),
}

impl Code {
    /// The local code, when it is one that fits.
    pub fn local(&self) -> Option<i64> {
        match self {
            Code::Local(value) => i64::try_from(value.clone()).ok(),
            Code::Global(_) => None,
        }
    }
}

#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
pub struct Invoke {
    pub invoke_id: Integer,
    #[rasn(tag(context, 0))]
    pub linked_id: Option<Integer>,
    pub opcode: Code,
    pub argument: Option<Any>,
}

#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
pub struct ReturnResult {
    pub invoke_id: Integer,
    pub result: Option<ResultPart>,
}

#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
pub struct ResultPart {
    pub opcode: Code,
    pub result: Option<Any>,
}

#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
pub struct ReturnError {
    pub invoke_id: Integer,
    pub errcode: Code,
    pub parameter: Option<Any>,
}

#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
pub struct Reject {
    pub invoke_id: RejectId,
    pub problem: Problem,
}

/// The invoke id of a reject: absent when the rejected APDU had none readable.
#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(choice)]
pub enum RejectId {
    Present(Integer),
    Absent(()),
}

#[derive(AsnType, Decode, Encode, Debug, Clone, PartialEq)]
#[rasn(choice)]
pub enum Problem {
    #[rasn(tag(context, 0))]
    General(Integer),
    #[rasn(tag(context, 1))]
    Invoke(Integer),
    #[rasn(tag(context, 2))]
    ReturnResult(Integer),
    #[rasn(tag(context, 3))]
    ReturnError(Integer),
}

/// X.880's `InvokeProblem` `unrecognizedOperation`.
pub const UNRECOGNIZED_OPERATION: i64 = 1;

/// A reject of the switch's invoke `invoke_id` for an operation we do not serve.
pub fn reject_unrecognized(invoke_id: i64) -> Result<Vec<u8>, String> {
    rasn::ber::encode(&Rose::Reject(Reject {
        invoke_id: RejectId::Present(invoke_id.into()),
        problem: Problem::Invoke(UNRECOGNIZED_OPERATION.into()),
    }))
    .map_err(|e| e.to_string())
}

impl Problem {
    /// The X.880 name of the problem.
    pub fn name(&self) -> String {
        let (names, value): (&[&str], &Integer) = match self {
            Problem::General(v) => (&["unrecognizedPDU", "mistypedPDU", "badlyStructuredPDU"], v),
            Problem::Invoke(v) => (
                &[
                    "duplicateInvocation",
                    "unrecognizedOperation",
                    "mistypedArgument",
                    "resourceLimitation",
                    "releaseInProgress",
                    "unrecognizedLinkedId",
                    "linkedResponseUnexpected",
                    "unexpectedLinkedOperation",
                ],
                v,
            ),
            Problem::ReturnResult(v) => (
                &[
                    "unrecognizedInvocation",
                    "resultResponseUnexpected",
                    "mistypedResult",
                ],
                v,
            ),
            Problem::ReturnError(v) => (
                &[
                    "unrecognizedInvocation",
                    "errorResponseUnexpected",
                    "unrecognizedError",
                    "unexpectedError",
                    "mistypedParameter",
                ],
                v,
            ),
        };
        usize::try_from(value.clone())
            .ok()
            .and_then(|i| names.get(i))
            .map(|n| n.to_string())
            .unwrap_or_else(|| format!("problem {value}"))
    }
}

/// An integer from the wire as ours, when it fits.
pub fn small(value: &Integer) -> Option<i64> {
    i64::try_from(value.clone()).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unserved_operation_is_rejected() {
        // reject [4] { invokeId 98, invokeProblem [1] unrecognizedOperation (1) }
        assert_eq!(
            reject_unrecognized(98).unwrap(),
            [0xa4, 0x06, 0x02, 0x01, 0x62, 0x81, 0x01, 0x01]
        );
    }

    use super::*;

    #[test]
    fn rose_apdus_from_x880_bytes() {
        // invoke { invokeId 1, opcode local 211, argument ENUMERATED normal(2) },
        // written by hand from X.880's definition.
        let bytes = [
            0xA1, 0x0A, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0xD3, 0x0A, 0x01, 0x02,
        ];
        let Rose::Invoke(invoke) = rasn::ber::decode::<Rose>(&bytes).unwrap() else {
            panic!("not an invoke")
        };
        assert_eq!(small(&invoke.invoke_id), Some(1));
        assert_eq!(invoke.opcode.local(), Some(211));
        assert_eq!(invoke.argument.unwrap().as_bytes(), [0x0A, 0x01, 0x02]);
        // returnResult { invokeId 1, { opcode 211, NULL } }
        let bytes = [
            0xA2, 0x0A, 0x02, 0x01, 0x01, 0x30, 0x05, 0x02, 0x01, 0x34, 0x05, 0x00,
        ];
        let Rose::ReturnResult(result) = rasn::ber::decode::<Rose>(&bytes).unwrap() else {
            panic!("not a result")
        };
        let part = result.result.unwrap();
        assert_eq!(part.opcode.local(), Some(52));
        assert_eq!(part.result.unwrap().as_bytes(), [0x05, 0x00]);
        // Written back the same way.
        let again = rasn::ber::encode(&Rose::ReturnResult(ReturnResult {
            invoke_id: 1.into(),
            result: Some(ResultPart {
                opcode: Code::Local(52.into()),
                result: Some(Any::new(vec![0x05, 0x00])),
            }),
        }))
        .unwrap();
        assert_eq!(again, bytes);
        // reject { invokeId 7, invoke problem mistypedArgument(2) }
        let bytes = [0xA4, 0x06, 0x02, 0x01, 0x07, 0x81, 0x01, 0x02];
        let Rose::Reject(reject) = rasn::ber::decode::<Rose>(&bytes).unwrap() else {
            panic!("not a reject")
        };
        assert_eq!(reject.invoke_id, RejectId::Present(7.into()));
        assert_eq!(reject.problem.name(), "mistypedArgument");
    }
}

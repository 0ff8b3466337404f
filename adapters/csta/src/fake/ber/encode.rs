//! What the switch sends on a BER link: ROSE envelopes (`invoke` for events,
//! the routing dialogue and its own `systemStatus`, `returnResult`, `returnError` with CSTA's
//! `universalFailure`, `reject`) around what the phase modules write, and
//! the ACSE answers (AARE, RLRE).

use std::time::SystemTime;

use super::super::config::{BerOptions, CstaPhase};
use super::super::model::{Event, PartyState};
use super::super::reply::Reply;
use super::super::shared::CstaError;
use super::decode::Rejection;
use super::tlv::{cons, int, oid_octets, tlv};
use super::values::{self, Extras};
use super::{code_of, phase2, phase3, Op};

/// How an association request ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AareOutcome {
    Accepted,
    /// The AARQ named another (or no) application context.
    ContextNotSupported,
    /// The authentication value was missing or wrong.
    AuthenticationFailure,
}

/// Writes APDUs in one phase with the configured extras on events.
#[derive(Debug, Clone)]
pub struct Encoder {
    phase: CstaPhase,
    options: BerOptions,
}

impl Encoder {
    pub fn new(options: &BerOptions) -> Self {
        Self {
            phase: options.phase,
            options: options.clone(),
        }
    }

    pub fn phase(&self) -> CstaPhase {
        self.phase
    }

    /// The ACSE application context this phase's associations name.
    pub fn application_context(&self) -> &'static [u32] {
        match self.phase {
            CstaPhase::Two => phase2::APPLICATION_CONTEXT,
            CstaPhase::Three => phase3::APPLICATION_CONTEXT,
        }
    }

    fn code(&self, op: Op) -> i64 {
        // Only operations read from this phase's table, or the event report
        // and system status every phase has, get here.
        code_of(self.phase, op).unwrap_or_default()
    }

    /// `returnResult` for the client's invoke of `op`; `None` when `reply`
    /// is not an answer this operation has in this phase.
    pub fn result(&self, invoke: i64, op: Op, reply: &Reply) -> Option<Vec<u8>> {
        let result = match self.phase {
            CstaPhase::Two => phase2::result(op, reply),
            CstaPhase::Three => phase3::result(op, reply),
        }?;
        Some(cons(
            0xa2,
            &[
                int(0x02, invoke),
                cons(0x30, &[int(0x02, self.code(op)), result]),
            ],
        ))
    }

    /// `returnError` with `universalFailure`.
    pub fn error(&self, invoke: i64, e: CstaError) -> Vec<u8> {
        let failure = match self.phase {
            CstaPhase::Two => phase2::error(e),
            CstaPhase::Three => phase3::error(e),
        };
        cons(
            0xa3,
            &[
                int(0x02, invoke),
                int(0x02, values::UNIVERSAL_FAILURE),
                failure,
            ],
        )
    }

    /// `reject`; the invoke id is `absent` (NULL) when it could not be read.
    pub fn reject(&self, rejection: &Rejection) -> Vec<u8> {
        let id = match rejection.invoke {
            Some(n) => int(0x02, n),
            None => tlv(0x05, &[]),
        };
        let (tag, value) = rejection.problem.element();
        cons(0xa4, &[id, int(tag, value)])
    }

    /// A `cSTAEventReport` invoke for the monitor `xref`; `None` when the
    /// phase has no such event.
    pub fn event(
        &self,
        invoke: i64,
        xref: u32,
        event: &Event,
        local: Option<PartyState>,
    ) -> Option<Vec<u8>> {
        let extras = Extras {
            timestamp: (self.options.timestamps && self.phase == CstaPhase::Three)
                .then(|| values::generalized_time(SystemTime::now())),
            private: self
                .options
                .private_data
                .as_ref()
                .map(|p| (p.manufacturer.clone(), p.data.clone())),
        };
        let info = match self.phase {
            CstaPhase::Two => phase2::event(event, local, &extras)?,
            CstaPhase::Three => phase3::event(event, local, &extras),
        };
        let argument = cons(
            0x30,
            &[
                tlv(
                    values::MONITOR_CROSS_REF_ID,
                    &values::xref_octets(&xref.to_string()),
                ),
                info,
            ],
        );
        Some(cons(
            0xa1,
            &[
                int(0x02, invoke),
                int(0x02, self.code(Op::EventReport)),
                argument,
            ],
        ))
    }

    /// The switch's `routeRequest` invoke for the dialogue `xref` of the
    /// registration `reg`; `None` in Phase II, whose routing the fake does not
    /// speak.
    pub fn route_request(
        &self,
        invoke: i64,
        (reg, xref): (u32, u32),
        route_point: &str,
        calling: &str,
        call: &str,
    ) -> Option<Vec<u8>> {
        let argument = match self.phase {
            CstaPhase::Two => return None,
            CstaPhase::Three => {
                phase3::route_request_argument(reg, xref, route_point, calling, call)
            }
        };
        Some(self.invoke(invoke, Op::RouteRequest, argument))
    }

    /// The switch's `routeEndRequest` invoke, with the error when the
    /// client's selection could not be used; `None` in Phase II.
    pub fn route_end(
        &self,
        invoke: i64,
        (reg, xref): (u32, u32),
        failure: Option<CstaError>,
    ) -> Option<Vec<u8>> {
        let argument = match self.phase {
            CstaPhase::Two => return None,
            CstaPhase::Three => phase3::route_end_argument(reg, xref, failure),
        };
        Some(self.invoke(invoke, Op::RouteEnd, argument))
    }

    fn invoke(&self, invoke: i64, op: Op, argument: Vec<u8>) -> Vec<u8> {
        cons(
            0xa1,
            &[int(0x02, invoke), int(0x02, self.code(op)), argument],
        )
    }

    /// The switch's own `systemStatus` invoke (status `normal`), its
    /// keep-alive.
    pub fn system_status(&self, invoke: i64) -> Vec<u8> {
        let argument = match self.phase {
            CstaPhase::Two => phase2::system_status_argument(),
            CstaPhase::Three => phase3::system_status_argument(),
        };
        cons(
            0xa1,
            &[
                int(0x02, invoke),
                int(0x02, self.code(Op::SystemStatus)),
                argument,
            ],
        )
    }

    /// `AARE-apdu ::= [APPLICATION 1] IMPLICIT SEQUENCE {
    /// application-context-name [1], result [2], result-source-diagnostic
    /// [3] }`, the diagnostic from the ACSE service user.
    pub fn aare(&self, outcome: AareOutcome) -> Vec<u8> {
        let (result, diagnostic) = match outcome {
            AareOutcome::Accepted => (0, 0),               // accepted, null
            AareOutcome::ContextNotSupported => (1, 2), // rejected-permanent, application-context-name-not-supported
            AareOutcome::AuthenticationFailure => (1, 13), // rejected-permanent, authentication-failure
        };
        let context = oid_octets(self.application_context()).unwrap_or_default();
        cons(
            0x61,
            &[
                cons(0xa1, &[tlv(0x06, &context)]),
                cons(0xa2, &[int(0x02, result)]),
                cons(0xa3, &[cons(0xa1, &[int(0x02, diagnostic)])]),
            ],
        )
    }

    /// `RLRE-apdu` with reason `normal`.
    pub fn rlre(&self) -> Vec<u8> {
        cons(0x63, &[int(0x80, 0)])
    }
}

//! CSTA Phase III (ECMA-285, the ASN.1 of ECMA-269): operation codes, event tags,
//! the fields read of each event, and the enumerations, in one table.
//!
//! Codes and tags are ECMA-285's (`cSTAEventReport` local 21, `systemStatus` 211,
//! `generateDigits` 232, `getAgentState` 304, `setAgentState` 312, the routing
//! dialogue 31–35 and `routeRegister` 248; CallControlEvents `delivered [4]`,
//! LogicalDeviceFeatureEvents `agentLoggedOn [1]`, …). Field names are ECMA-323's,
//! so the XML event mapping reads BER events (and routing invokes) unchanged.

use super::module::{field, ConnectionForm, Event, Events, Field, Invoked, Kind, Module, Names};
use super::node::{app, ctx, ENUMERATED, INTEGER, OCTET_STRING, SEQUENCE};
use rasn::types::Tag;

const CONN: &[Tag] = &[app(11)];
const SUBJECT: &[Tag] = &[app(3)];
const CALLING: &[Tag] = &[app(1)];
const CALLED: &[Tag] = &[app(2)];
const REDIRECTION: &[Tag] = &[app(4)];
const STATE: &[Tag] = &[app(14)];
const CAUSE: &[Tag] = &[ENUMERATED];
const RESULTING: &[Tag] = &[ctx(1), app(12)];
/// `secondaryOldCall [0] IMPLICIT ConnectionID OPTIONAL` of TransferedEvent and
/// ConferencedEvent (a plain ConnectionID is read there too).
const SECONDARY: Field = field("secondaryOldCall", &[ctx(0), app(11)], Kind::Connection);
/// `… [1] IMPLICIT ConnectionList` of the same two events (or a plain one).
const fn resulting(name: &'static str) -> Field {
    field(name, RESULTING, Kind::ConnectionList)
}
const EXTENSIONS: &[Tag] = &[app(30)];

const fn conn(name: &'static str) -> Field {
    field(name, CONN, Kind::Connection)
}
const fn subject(name: &'static str) -> Field {
    field(name, SUBJECT, Kind::Device)
}
const CALLING_DEVICE: Field = field("callingDevice", CALLING, Kind::Device);
const CALLED_DEVICE: Field = field("calledDevice", CALLED, Kind::Device);
const LAST_REDIRECTION: Field = field("lastRedirectionDevice", REDIRECTION, Kind::Device);
const LOCAL_STATE: Field = field("localConnectionInfo", STATE, Kind::ConnectionState);
const EVENT_CAUSE: Field = field("cause", CAUSE, Kind::Cause);
const EXT: Field = field("extensions", EXTENSIONS, Kind::Extensions);

/// AgentLoggedOnEvent and its siblings: `agentDevice SubjectDeviceID, agentID
/// AgentID OPTIONAL, acdGroup DeviceID OPTIONAL, …`; ECMA-285 tags agentID `[2]
/// IMPLICIT` in AgentLoggedOn/LoggedOffEvent (where `[3]` is the password) and
/// leaves it untagged in the others; `[0]` is read too.
const AGENT: &[Field] = &[
    subject("agentDevice"),
    field("agentID", &[ctx(2), ctx(0), OCTET_STRING], Kind::Text),
    field("acdGroup", &[SEQUENCE], Kind::Device),
    EVENT_CAUSE,
    EXT,
];

const EVENTS: &[(u32, u32, Event)] = &[
    (
        0,
        1,
        Event {
            name: "CallClearedEvent",
            fields: &[conn("clearedCall"), EVENT_CAUSE, EXT],
        },
    ),
    (
        0,
        2,
        Event {
            name: "ConferencedEvent",
            fields: &[
                conn("primaryOldCall"),
                SECONDARY,
                subject("conferencingDevice"),
                subject("addedParty"),
                resulting("conferenceConnections"),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        0,
        3,
        Event {
            name: "ConnectionClearedEvent",
            fields: &[
                conn("droppedConnection"),
                subject("releasingDevice"),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        0,
        4,
        Event {
            name: "DeliveredEvent",
            fields: &[
                conn("connection"),
                subject("alertingDevice"),
                CALLING_DEVICE,
                CALLED_DEVICE,
                LAST_REDIRECTION,
                conn("originatingNIDConnection"),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        0,
        6,
        Event {
            name: "DivertedEvent",
            fields: &[
                conn("connection"),
                subject("divertingDevice"),
                subject("newDestination"),
                CALLING_DEVICE,
                CALLED_DEVICE,
                LAST_REDIRECTION,
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        0,
        7,
        Event {
            name: "EstablishedEvent",
            fields: &[
                conn("establishedConnection"),
                subject("answeringDevice"),
                CALLING_DEVICE,
                CALLED_DEVICE,
                LAST_REDIRECTION,
                conn("originatingNIDConnection"),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        0,
        8,
        Event {
            name: "FailedEvent",
            fields: &[
                conn("failedConnection"),
                subject("failingDevice"),
                CALLING_DEVICE,
                CALLED_DEVICE,
                LAST_REDIRECTION,
                conn("originatingNIDConnection"),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        0,
        9,
        Event {
            name: "HeldEvent",
            fields: &[
                conn("heldConnection"),
                subject("holdingDevice"),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        0,
        13,
        Event {
            name: "OriginatedEvent",
            fields: &[
                conn("originatedConnection"),
                subject("callingDevice"),
                CALLED_DEVICE,
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        0,
        14,
        Event {
            name: "QueuedEvent",
            fields: &[
                conn("queuedConnection"),
                subject("queue"),
                CALLING_DEVICE,
                CALLED_DEVICE,
                LAST_REDIRECTION,
                field("numberQueued", &[INTEGER], Kind::Integer),
                field("callsInFront", &[INTEGER], Kind::Integer),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        0,
        15,
        Event {
            name: "RetrievedEvent",
            fields: &[
                conn("retrievedConnection"),
                subject("retrievingDevice"),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        0,
        16,
        Event {
            name: "ServiceInitiatedEvent",
            fields: &[
                conn("initiatedConnection"),
                subject("initiatingDevice"),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        0,
        17,
        Event {
            name: "TransferedEvent",
            fields: &[
                conn("primaryOldCall"),
                SECONDARY,
                subject("transferringDevice"),
                subject("transferredToDevice"),
                resulting("transferredConnections"),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        4,
        1,
        Event {
            name: "AgentLoggedOnEvent",
            fields: AGENT,
        },
    ),
    (
        4,
        2,
        Event {
            name: "AgentLoggedOffEvent",
            fields: AGENT,
        },
    ),
    (
        4,
        3,
        Event {
            name: "AgentNotReadyEvent",
            fields: AGENT,
        },
    ),
    (
        4,
        4,
        Event {
            name: "AgentReadyEvent",
            fields: AGENT,
        },
    ),
    (
        4,
        5,
        Event {
            name: "AgentWorkingAfterCallEvent",
            fields: AGENT,
        },
    ),
];

/// `RouteingCrossRefID ::= [APPLICATION 24] IMPLICIT OCTET STRING`, the route
/// dialogue; `routeRegisterReqID [0] IMPLICIT RouteRegisterReqID` (an OCTET
/// STRING), the registration it belongs to. Named as ECMA-323 names them.
const ROUTE_XREF: Field = field("routingCrossRefID", &[app(24)], Kind::Octets);
const ROUTE_REGISTER: Field = field("routeRegisterReqID", &[ctx(0)], Kind::Octets);

/// The switch's side of the routing dialogue (ECMA-285 §18): every one is
/// `ALWAYS RESPONDS FALSE`, so none is answered with a result. Fields not listed
/// (routeSelAlgorithm, priority, correlatorData, errorValue, …) are kept as
/// `unknownField`.
const INVOKED: &[Invoked] = &[
    Invoked {
        // RouteRequestArgument { crossRefIdentifier, routeRegisterReqID [0],
        // currentRoute CalledDeviceID, callingDevice, routeingDevice
        // SubjectDeviceID, routedCall ConnectionID, routeSelAlgorithm [1], …,
        // replyTimeout [3] IMPLICIT INTEGER, …, extensions }
        argument: Event {
            name: "RouteRequest",
            fields: &[
                ROUTE_XREF,
                ROUTE_REGISTER,
                field("currentRoute", CALLED, Kind::Device),
                CALLING_DEVICE,
                subject("routeingDevice"),
                conn("routedCall"),
                field("replyTimeout", &[ctx(3)], Kind::Integer),
                EXT,
            ],
        },
        answered: false,
    },
    Invoked {
        // ReRouteRequestArgument { crossRefIdentifier, routeRegisterReqID [0],
        // replyTimeout [1] IMPLICIT INTEGER, … }
        argument: Event {
            name: "ReRouteRequest",
            fields: &[ROUTE_XREF, ROUTE_REGISTER, EXT],
        },
        answered: false,
    },
    Invoked {
        // RouteUsedRequestArgument { crossRefIdentifier, routeRegisterReqID [0],
        // routeUsed CalledDeviceID, callingDevice, … }
        argument: Event {
            name: "RouteUsedRequest",
            fields: &[
                ROUTE_XREF,
                ROUTE_REGISTER,
                field("routeUsed", CALLED, Kind::Device),
                CALLING_DEVICE,
                EXT,
            ],
        },
        answered: false,
    },
    Invoked {
        // RouteEndRequestArgument { crossRefIdentifier, routeRegisterReqID [0],
        // errorValue [1] ErrorValue, correlatorData [2], extensions }
        argument: Event {
            name: "RouteEndRequest",
            fields: &[ROUTE_XREF, ROUTE_REGISTER, EXT],
        },
        answered: false,
    },
    Invoked {
        // RouteRegisterAbortArgument { routeRegisterReqID RouteRegisterReqID, … }
        argument: Event {
            name: "RouteRegisterAbort",
            fields: &[
                field("routeRegisterReqID", &[OCTET_STRING], Kind::Octets),
                EXT,
            ],
        },
        answered: false,
    },
];

/// EventCause (ECMA-285 / ECMA-269 §12.2.15).
const CAUSES: Names = &[
    (1, "activeParticipation"),
    (2, "alternate"),
    (3, "busy"),
    (4, "callBack"),
    (5, "callCancelled"),
    (6, "callForwardImmediate"),
    (7, "callForwardBusy"),
    (8, "callForwardNoAnswer"),
    (9, "callForward"),
    (10, "callNotAnswered"),
    (11, "callPickup"),
    (12, "campOn"),
    (13, "destNotObtainable"),
    (14, "doNotDisturb"),
    (15, "incompatibleDestination"),
    (16, "invalidAccountCode"),
    (17, "keyOperation"),
    (18, "lockout"),
    (19, "maintenance"),
    (20, "networkCongestion"),
    (21, "networkNotObtainable"),
    (22, "newCall"),
    (23, "noAvailableAgents"),
    (24, "override"),
    (25, "park"),
    (26, "overflow"),
    (27, "recall"),
    (28, "redirected"),
    (29, "reorderTone"),
    (30, "resourcesNotAvailable"),
    (31, "silentParticipation"),
    (32, "transfer"),
    (33, "trunksBusy"),
    (34, "voiceUnitInitiator"),
    (35, "blocked"),
    (36, "characterCountReached"),
    (37, "consultation"),
    (38, "distributed"),
    (39, "dTMFDigitDetected"),
    (40, "durationExceeded"),
    (41, "endOfMessageDetected"),
    (42, "enteringDistribution"),
    (43, "forcedPause"),
    (44, "makeCall"),
    (45, "messageSizeExceeded"),
    (46, "networkSignal"),
    (47, "nextMessage"),
    (48, "normalClearing"),
    (49, "noSpeechDetected"),
    (50, "numberChanged"),
    (51, "singleStepConference"),
    (52, "singleStepTransfer"),
    (53, "speechDetected"),
    (54, "switchingFunctionTerminated"),
    (55, "terminationCharacterReceived"),
    (56, "timeout"),
];

/// LocalConnectionState: `[APPLICATION 14] IMPLICIT ENUMERATED`.
pub const CONNECTION_STATES: Names = &[
    (0, "null"),
    (1, "initiated"),
    (2, "alerting"),
    (3, "connected"),
    (4, "hold"),
    (5, "queued"),
    (6, "fail"),
];

/// SystemStatus (the same values in both phases).
pub const SYSTEM_STATUS: Names = &[
    (0, "initializing"),
    (1, "enabled"),
    (2, "normal"),
    (3, "messagesLost"),
    (4, "disabled"),
    (5, "overloadImminent"),
    (6, "overloadReached"),
    (7, "overloadRelieved"),
];

/// UniversalFailure's categories (ECMA-285 §9.3).
const ERRORS: &[(u32, &str, Names)] = &[
    (0, "operation", OPERATION_ERRORS),
    (
        1,
        "security",
        &[
            (1, "generic"),
            (2, "sequenceNumberViolated"),
            (3, "timeStampViolated"),
            (4, "pACViolated"),
            (5, "sealViolated"),
        ],
    ),
    (2, "stateIncompatibility", STATE_ERRORS),
    (3, "systemResourceAvailability", RESOURCE_ERRORS),
    (4, "subscribedResourceAvailability", SUBSCRIBED_ERRORS),
    (
        5,
        "performanceManagement",
        &[(1, "generic"), (2, "performanceLimitExceeded")],
    ),
    (6, "privateDataInformation", &[]),
    (7, "unspecified", &[]),
];

pub const OPERATION_ERRORS: Names = &[
    (1, "generic"),
    (2, "requestIncompatibleWithObject"),
    (3, "valueOutOfRange"),
    (4, "objectNotKnown"),
    (5, "invalidCallingDevice"),
    (6, "invalidCalledDevice"),
    (7, "invalidForwardingDestination"),
    (8, "privilegeViolationOnSpecifiedDevice"),
    (9, "privilegeViolationOnCalledDevice"),
    (10, "privilegeViolationOnCallingDevice"),
    (11, "invalidCallIdentifier"),
    (12, "invalidDeviceIdentifier"),
    (13, "invalidConnectionIdentifier"),
    (14, "invalidDestination"),
    (15, "invalidFeature"),
    (16, "invalidAllocationState"),
    (17, "invalidCrossRefID"),
    (18, "invalidObjectType"),
    (19, "securityViolation"),
];

const STATE_ERRORS: Names = &[
    (1, "generic"),
    (2, "invalidObjectState"),
    (3, "invalidConnectionID"),
    (4, "noActiveCall"),
    (5, "noHeldCall"),
    (6, "noCallToClear"),
    (7, "noConnectionToClear"),
    (8, "noCallToAnswer"),
    (9, "noCallToComplete"),
];

pub const RESOURCE_ERRORS: Names = &[
    (1, "generic"),
    (2, "serviceBusy"),
    (3, "resourceBusy"),
    (4, "resourceOutOfService"),
    (5, "networkBusy"),
    (6, "networkOutOfService"),
    (7, "overallMonitorLimitExceeded"),
    (8, "conferenceMemberLimitExceeded"),
];

pub const SUBSCRIBED_ERRORS: Names = &[
    (1, "generic"),
    (2, "objectMonitorLimitExceeded"),
    (3, "externalTrunkLimitExceeded"),
    (4, "outstandingRequestLimitExceeded"),
];

pub static MODULE: Module = Module {
    title: "CSTA Phase III (ECMA-285)",
    operations: &[
        (2, "AnswerCall"),
        (4, "ClearCall"),
        (5, "ClearConnection"),
        (6, "ConferenceCall"),
        (7, "ConsultationCall"),
        (9, "HoldCall"),
        (10, "MakeCall"),
        (14, "RetrieveCall"),
        (16, "TransferCall"),
        (21, "CSTAEventReport"),
        (50, "SingleStepTransferCall"),
        // The routing dialogue kept Phase II's codes; the registration is new.
        (31, "RouteRequest"),
        (32, "ReRouteRequest"),
        (33, "RouteSelectRequest"),
        (34, "RouteUsedRequest"),
        (35, "RouteEndRequest"),
        (36, "RouteReject"),
        (71, "MonitorStart"),
        (73, "MonitorStop"),
        (74, "SnapshotDevice"),
        (75, "SnapshotCall"),
        (211, "SystemStatus"),
        (232, "GenerateDigits"),
        (248, "RouteRegister"),
        (249, "RouteRegisterAbort"),
        (250, "RouteRegisterCancel"),
        (304, "GetAgentState"),
        (312, "SetAgentState"),
    ],
    event_report: 21,
    events: Events::Tagged(EVENTS),
    causes: CAUSES,
    connection_states: CONNECTION_STATES,
    agent_states: &[
        (0, "agentNotReady"),
        (1, "agentNull"),
        (2, "agentReady"),
        (3, "agentBusy"),
        (4, "agentWorkingAfterCall"),
    ],
    requested_agent_states: &[
        (0, "loggedOn"),
        (1, "loggedOff"),
        (2, "notReady"),
        (3, "ready"),
        (4, "workingAfterCall"),
    ],
    connection: ConnectionForm::Three,
    errors: ERRORS,
    results: &[
        ("MakeCall", &["callingDevice"]),
        ("ConsultationCall", &["initiatedCall"]),
        ("TransferCall", &["transferredCall"]),
        ("SingleStepTransferCall", &["transferredCall"]),
        ("ConferenceCall", &["conferenceCall"]),
    ],
    system_status: SYSTEM_STATUS,
    carried_as: &[],
    invoked: INVOKED,
};

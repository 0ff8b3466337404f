//! CSTA Phase II (ECMA-217 services, ECMA-218 protocol): operation codes, event
//! numbers, the fields read of each event, and the enumerations, in one table.
//!
//! Phase II names its event by an `eventType` number (delivered 4, established 6,
//! loggedOn 201, …) beside an untagged `eventInfo`; its ConnectionID is an implicit
//! SEQUENCE `{ call [2], device }` and its DeviceID the bare CHOICE `{ dialingNumber
//! [0], deviceNumber [1] }`; `systemStatus` is operation 52 (Phase III moved it to
//! 211). Field names are ECMA-323's, as in Phase III, so one event mapping serves
//! both.

use super::module::{field, ConnectionForm, Event, Events, Field, Kind, Module, Names};
use super::node::{app, ctx, ENUMERATED, INTEGER, OCTET_STRING};
use super::phase3::{
    CONNECTION_STATES, OPERATION_ERRORS, RESOURCE_ERRORS, SUBSCRIBED_ERRORS, SYSTEM_STATUS,
};
use rasn::types::Tag;

const CONN: &[Tag] = &[app(11)];
const SUBJECT: &[Tag] = &[app(3)];
const CALLING: &[Tag] = &[app(1)];
const CALLED: &[Tag] = &[app(2)];
const REDIRECTION: &[Tag] = &[app(4)];
const STATE: &[Tag] = &[app(14)];
const CAUSE: &[Tag] = &[ENUMERATED];
const LIST: &[Tag] = &[app(12)];
/// CSTAPrivateData: `[APPLICATION 29] IMPLICIT SEQUENCE { manufacturer OBJECT
/// IDENTIFIER, data ANY }`.
const PRIVATE: &[Tag] = &[app(29)];

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
const EXT: Field = field("extensions", PRIVATE, Kind::Extensions);

/// LoggedOnEvent and its siblings: `agentDevice SubjectDeviceID, agentID AgentID
/// OPTIONAL, agentGroup AgentGroup OPTIONAL, …` (some switches tag agentID [10]).
const AGENT: &[Field] = &[
    subject("agentDevice"),
    field("agentID", &[OCTET_STRING, ctx(10)], Kind::Text),
    field("acdGroup", &[ctx(0), ctx(1)], Kind::Device),
    EVENT_CAUSE,
    EXT,
];

const EVENTS: &[(i64, Event)] = &[
    (
        1,
        Event {
            name: "CallClearedEvent",
            fields: &[conn("clearedCall"), LOCAL_STATE, EVENT_CAUSE, EXT],
        },
    ),
    (
        2,
        Event {
            name: "ConferencedEvent",
            fields: &[
                conn("primaryOldCall"),
                conn("secondaryOldCall"),
                subject("conferencingDevice"),
                subject("addedParty"),
                field("conferenceConnections", LIST, Kind::ConnectionList),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
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
        4,
        Event {
            name: "DeliveredEvent",
            fields: &[
                conn("connection"),
                subject("alertingDevice"),
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
        5,
        Event {
            name: "DivertedEvent",
            fields: &[
                conn("connection"),
                subject("divertingDevice"),
                field("newDestination", CALLED, Kind::Device),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        6,
        Event {
            name: "EstablishedEvent",
            fields: &[
                conn("establishedConnection"),
                subject("answeringDevice"),
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
        7,
        Event {
            name: "FailedEvent",
            fields: &[
                conn("failedConnection"),
                subject("failingDevice"),
                CALLED_DEVICE,
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        8,
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
        10,
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
        11,
        Event {
            name: "QueuedEvent",
            fields: &[
                conn("queuedConnection"),
                subject("queue"),
                CALLING_DEVICE,
                CALLED_DEVICE,
                LAST_REDIRECTION,
                field("numberQueued", &[INTEGER], Kind::Integer),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        12,
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
        13,
        Event {
            name: "ServiceInitiatedEvent",
            fields: &[conn("initiatedConnection"), LOCAL_STATE, EVENT_CAUSE, EXT],
        },
    ),
    (
        14,
        Event {
            name: "TransferedEvent",
            fields: &[
                conn("primaryOldCall"),
                conn("secondaryOldCall"),
                subject("transferringDevice"),
                subject("transferredToDevice"),
                field("transferredConnections", LIST, Kind::ConnectionList),
                LOCAL_STATE,
                EVENT_CAUSE,
                EXT,
            ],
        },
    ),
    (
        201,
        Event {
            name: "AgentLoggedOnEvent",
            fields: AGENT,
        },
    ),
    (
        202,
        Event {
            name: "AgentLoggedOffEvent",
            fields: AGENT,
        },
    ),
    (
        203,
        Event {
            name: "AgentNotReadyEvent",
            fields: AGENT,
        },
    ),
    (
        204,
        Event {
            name: "AgentReadyEvent",
            fields: AGENT,
        },
    ),
    (
        205,
        Event {
            name: "AgentWorkingAfterCallEvent",
            fields: AGENT,
        },
    ),
];

/// EventCause (ECMA-217): Phase III kept these values and renamed three.
const CAUSES: Names = &[
    (1, "activeMonitor"),
    (2, "alternate"),
    (3, "busy"),
    (4, "callBack"),
    (5, "callCancelled"),
    (6, "callForwardAlways"),
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
    (17, "keyConference"),
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
    (31, "silentMonitor"),
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

/// UniversalFailure of ECMA-218: categories tagged from [1].
const ERRORS: &[(u32, &str, Names)] = &[
    (1, "operation", OPERATION_ERRORS),
    (
        2,
        "stateIncompatibility",
        &[
            (1, "generic"),
            (2, "incorrectObjectState"),
            (3, "invalidConnectionID"),
            (4, "noActiveCall"),
            (5, "noHeldCall"),
            (6, "noCallToClear"),
            (7, "noConnectionToClear"),
            (8, "noCallToAnswer"),
            (9, "noCallToComplete"),
        ],
    ),
    (3, "systemResourceAvailability", RESOURCE_ERRORS),
    (4, "subscribedResourceAvailability", SUBSCRIBED_ERRORS),
    (
        5,
        "performanceManagement",
        &[(1, "generic"), (2, "performanceLimitExceeded")],
    ),
    (6, "unspecified", &[]),
];

pub static MODULE: Module = Module {
    title: "CSTA Phase II (ECMA-217/218)",
    operations: &[
        (2, "AnswerCall"),
        (4, "ClearCall"),
        (5, "ClearConnection"),
        (6, "ConferenceCall"),
        (7, "ConsultationCall"),
        (9, "HoldCall"),
        (10, "MakeCall"),
        (12, "QueryDevice"),
        (14, "RetrieveCall"),
        (15, "SetFeature"),
        (16, "TransferCall"),
        (21, "CSTAEventReport"),
        (31, "RouteRequest"),
        (32, "ReRouteRequest"),
        (33, "RouteSelectRequest"),
        (34, "RouteUsedRequest"),
        (35, "RouteEndRequest"),
        (51, "EscapeService"),
        (52, "SystemStatus"),
        (71, "MonitorStart"),
        (72, "ChangeMonitorFilter"),
        (73, "MonitorStop"),
        (74, "SnapshotDevice"),
        (75, "SnapshotCall"),
    ],
    event_report: 21,
    events: Events::Numbered(EVENTS),
    causes: CAUSES,
    connection_states: CONNECTION_STATES,
    // QueryDevice's `agentState [5] IMPLICIT AgentState ENUMERATED { logOut (0),
    // notReady (1), ready (2), workNotReady (3), workReady (4) }` (the MD110
    // Application Link module). workReady, after-call work finished, takes calls.
    agent_states: &[
        (0, "agentNull"),
        (1, "agentNotReady"),
        (2, "agentReady"),
        (3, "agentWorkingAfterCall"),
        (4, "agentReady"),
    ],
    // SetFeature's `requestedAgentState [3] AgentParameter`: the number is the
    // CHOICE tag (logOn [0], logOff [1], notReady [2], readyInfo [3],
    // workNotReady [4]).
    requested_agent_states: &[
        (0, "loggedOn"),
        (1, "loggedOff"),
        (2, "notReady"),
        (3, "ready"),
        (4, "workingAfterCall"),
    ],
    connection: ConnectionForm::Two,
    errors: ERRORS,
    results: &[
        ("MakeCall", &["callingDevice"]),
        ("ConsultationCall", &["initiatedCall"]),
        ("TransferCall", &["transferredCall"]),
        ("ConferenceCall", &["conferenceCall"]),
    ],
    system_status: SYSTEM_STATUS,
    carried_as: &[
        ("SetAgentState", "SetFeature"),
        ("GetAgentState", "QueryDevice"),
    ],
    // ECMA-218's routing arguments were not found in a public source: its
    // routing is not read (and `route_points` is refused with phase = 2).
    invoked: &[],
};

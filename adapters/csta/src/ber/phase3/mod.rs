//! CSTA Phase III (ECMA-285, the ASN.1 of ECMA-269): operation codes, event tags,
//! the fields read of each event, and the enumerations, in one table.
//!
//! Codes and tags are ECMA-285's (`cSTAEventReport` local 21, `systemStatus` 211,
//! `generateDigits` 232, `getAgentState` 304, `setAgentState` 312, the routing
//! dialogue 31–35 and `routeRegister` 248; CallControlEvents `delivered [4]`,
//! LogicalDeviceFeatureEvents `agentLoggedOn [1]`, …). Field names are ECMA-323's,
//! so the XML event mapping reads BER events (and routing invokes) unchanged.

mod enums;

use super::module::{field, ConnectionForm, Event, Events, Field, Invoked, Kind, Module};
use super::node::{app, ctx, ENUMERATED, INTEGER, OCTET_STRING, SEQUENCE};
use rasn::types::Tag;

use enums::{CAUSES, ERRORS};
pub use enums::{
    CONNECTION_STATES, OPERATION_ERRORS, RESOURCE_ERRORS, SUBSCRIBED_ERRORS, SYSTEM_STATUS,
};

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

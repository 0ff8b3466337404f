//! Phase III's enumerations: event causes, connection states, system status
//! and the UniversalFailure error values (ECMA-285), by their ECMA-323 names.

use crate::ber::module::Names;

/// EventCause (ECMA-285 / ECMA-269 §12.2.15).
pub const CAUSES: Names = &[
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
pub const ERRORS: &[(u32, &str, Names)] = &[
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

pub const STATE_ERRORS: Names = &[
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

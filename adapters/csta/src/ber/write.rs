//! Our requests as BER APDUs: the ECMA-323 element the request builders write
//! (`<MakeCall><callingDevice>1001</callingDevice>…`) becomes the phase's ASN.1
//! argument inside a ROSE invoke, and a `…Response` we send (to the switch's
//! SystemStatus) a returnResult. The routing dialogue's answers
//! (RouteSelectRequest, RouteEndRequest) are invokes of our own too: ROSE
//! operations that want no result, tied to the switch's RouteRequest by its
//! routingCrossRefID, not by invoke id.

use rasn::types::Any;

use super::module::{value_of, ConnectionForm, Module};
use super::node::{app, ctx, integer_octets, Node, ENUMERATED, IA5, NULL, SEQUENCE};
use super::rose::{Code, Invoke, ResultPart, ReturnResult, Rose};
use crate::xml::Element;

/// Why a request cannot be sent in this phase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("{service} is not a {title} service this adapter sends")]
    Unsupported {
        service: String,
        title: &'static str,
    },
    #[error("{0}")]
    Invalid(String),
    /// A call id that cannot be one of this link's (not the hex of its octets).
    #[error("call id `{0}` is not the hex octets of a BER call id")]
    CallId(String),
}

/// The APDU for `request` with `invoke_id`.
pub fn write(invoke_id: i64, request: &Element, module: &Module) -> Result<Vec<u8>, WriteError> {
    let unsupported = || WriteError::Unsupported {
        service: request.name.clone(),
        title: module.title,
    };
    let rose = if let Some(service) = request.name.strip_suffix("Response") {
        let code = module.code(service).ok_or_else(unsupported)?;
        // The only answers we give carry no data (SystemStatus: noData NULL).
        Rose::ReturnResult(ReturnResult {
            invoke_id: invoke_id.into(),
            result: Some(ResultPart {
                opcode: Code::Local(code.into()),
                result: Some(any(&Node::primitive(NULL, Vec::new()))?),
            }),
        })
    } else {
        let code = module.code(&request.name).ok_or_else(unsupported)?;
        let argument = argument(request, module)?.ok_or_else(unsupported)?;
        Rose::Invoke(Invoke {
            invoke_id: invoke_id.into(),
            linked_id: None,
            opcode: Code::Local(code.into()),
            argument: Some(any(&argument)?),
        })
    };
    rasn::ber::encode(&rose).map_err(|e| WriteError::Invalid(e.to_string()))
}

/// Whether this phase can send `service` at all.
pub fn can_send(service: &str, module: &Module) -> bool {
    let probe = Element {
        name: service.into(),
        ..Element::default()
    };
    module.code(service).is_some() && !matches!(argument(&probe, module), Ok(None))
}

fn any(node: &Node) -> Result<Any, WriteError> {
    node.to_ber().map(Any::new).map_err(WriteError::Invalid)
}

fn seq(children: Vec<Node>) -> Node {
    Node::constructed(SEQUENCE, children)
}

/// The argument of a service; `None` for services this adapter does not send.
fn argument(request: &Element, module: &Module) -> Result<Option<Node>, WriteError> {
    let form = module.connection;
    let text = |name: &str| request.child_text(name).unwrap_or_default();
    let conn = |name: &str| connection(request.child(name), form);
    Ok(Some(match request.name.as_str() {
        "MonitorStart" => {
            let object = request
                .child("monitorObject")
                .and_then(|o| o.child_text("deviceObject"))
                .unwrap_or_default();
            seq(vec![device(object, form)])
        }
        "SnapshotDevice" => seq(vec![device(text("snapshotObject"), form)]),
        // ECMA-285 `SnapshotCallArgument ::= SEQUENCE { snapshotObject ConnectionID,
        // … }`; Phase II's result names no caller, so it is not asked there.
        "SnapshotCall" if form == ConnectionForm::Three => seq(vec![conn("snapshotObject")?]),
        "GetAgentState" => match form {
            ConnectionForm::Three => seq(vec![device(text("device"), form)]),
            // QueryDevice { device DeviceID, feature QueryDeviceFeature agentState (5) }
            ConnectionForm::Two => seq(vec![
                device(text("device"), form),
                Node::primitive(ENUMERATED, integer_octets(5)),
            ]),
        },
        "SystemStatus" => {
            let status = value_of(module.system_status, text("systemStatus")).unwrap_or(2);
            let status = Node::primitive(ENUMERATED, integer_octets(status));
            match form {
                // Phase II: the bare SystemStatus (as OmniPCX clients send it).
                ConnectionForm::Two => status,
                // Phase III: SystemStatusArgument ::= SEQUENCE { systemStatus, … }.
                ConnectionForm::Three => seq(vec![status]),
            }
        }
        "MakeCall" => seq(vec![
            device(text("callingDevice"), form),
            called(text("calledDirectoryNumber"), form),
        ]),
        "AnswerCall" => seq(vec![conn("callToBeAnswered")?]),
        "ClearConnection" => seq(vec![conn("connectionToBeCleared")?]),
        "ClearCall" => seq(vec![conn("callToBeCleared")?]),
        "HoldCall" => seq(vec![conn("callToBeHeld")?]),
        "RetrieveCall" => seq(vec![conn("callToBeRetrieved")?]),
        "ConsultationCall" => match form {
            ConnectionForm::Two => seq(vec![
                conn("existingCall")?,
                called(text("consultedDevice"), form),
            ]),
            // ECMA-285: `existingCall [0] IMPLICIT ConnectionID, consultedDevice [1]
            // DeviceID`: the [0] takes the place of ConnectionID's [APPLICATION 11].
            ConnectionForm::Three => {
                let mut existing = conn("existingCall")?;
                existing.tag = ctx(0);
                seq(vec![
                    existing,
                    Node::constructed(ctx(1), vec![device(text("consultedDevice"), form)]),
                ])
            }
        },
        "TransferCall" | "ConferenceCall" => seq(vec![conn("heldCall")?, conn("activeCall")?]),
        // ECMA-285 §: SingleStepTransferCallArgument { activeCall, transferredTo
        // CalledDeviceID, … }; Phase II has no single-step transfer.
        "SingleStepTransferCall" if form == ConnectionForm::Three => seq(vec![
            conn("activeCall")?,
            called(text("transferredTo"), form),
        ]),
        "GenerateDigits" if form == ConnectionForm::Three => seq(vec![
            conn("connectionToSendDigits")?,
            Node::primitive(IA5, text("charactersToSend").as_bytes()),
        ]),
        "SetAgentState" if !module.requested_agent_states.is_empty() => {
            let state = text("requestedAgentState");
            let value = value_of(module.requested_agent_states, state)
                .ok_or_else(|| WriteError::Invalid(format!("no agent state `{state}`")))?;
            if form == ConnectionForm::Two {
                return Ok(Some(set_feature_agent_state(text("device"), value)));
            }
            let mut children = vec![
                device(text("device"), form),
                Node::primitive(ENUMERATED, integer_octets(value)),
            ];
            // ECMA-285 SetAgentStateArgument: `agentID [2] IMPLICIT AgentID OPTIONAL,
            // password [3] IMPLICIT AgentPassword OPTIONAL`.
            if let Some(agent) = request.child_text("agentID") {
                children.push(Node::primitive(ctx(2), agent.as_bytes()));
            }
            if let Some(password) = request.child_text("password") {
                children.push(Node::primitive(ctx(3), password.as_bytes()));
            }
            seq(children)
        }
        // ECMA-285 §18: RouteRegisterArgument { routeingDevice DeviceID OPTIONAL, … }.
        "RouteRegister" if form == ConnectionForm::Three => {
            seq(vec![device(text("routeingDevice"), form)])
        }
        // RouteSelectRequestArgument { crossRefIdentifier, routeRegisterReqID [0]
        // IMPLICIT OPTIONAL, routeSelected [1] DeviceID, … }: [1] is explicit (the
        // module has no default tagging).
        "RouteSelectRequest" if form == ConnectionForm::Three => {
            let mut children = route_dialogue(request)?;
            children.push(Node::constructed(
                ctx(1),
                vec![device(text("routeSelected"), form)],
            ));
            seq(children)
        }
        // RouteEndRequestArgument { crossRefIdentifier, routeRegisterReqID [0]
        // IMPLICIT OPTIONAL, errorValue [1] OPTIONAL, … }: ending the dialogue
        // because we have no route is not an error, so errorValue is left out.
        "RouteEndRequest" if form == ConnectionForm::Three => seq(route_dialogue(request)?),
        _ => return Ok(None),
    }))
}

/// Phase II's SetFeature for an agent state (the MD110 Application Link module):
/// `SEQUENCE { device DeviceID, feature SetDeviceFeature }` with `requestedAgentState
/// [3] AgentParameter`, whose CHOICE tag is the state: logOn [0] and logOff [1] an
/// (empty) `SEQUENCE { agentGroup OPTIONAL }`, the others NULL. It names no agent
/// id or password: the agent is the one at the device.
fn set_feature_agent_state(device_number: &str, state: i64) -> Node {
    let tag = ctx(u32::try_from(state).unwrap_or_default());
    let parameter = match state {
        0 | 1 => Node::constructed(tag, Vec::new()),
        _ => Node::primitive(tag, Vec::new()),
    };
    seq(vec![
        device(device_number, ConnectionForm::Two),
        Node::constructed(ctx(3), vec![parameter]),
    ])
}

/// `crossRefIdentifier RouteingCrossRefID ([APPLICATION 24] IMPLICIT OCTET
/// STRING), routeRegisterReqID [0] IMPLICIT OCTET STRING OPTIONAL`: the octets the
/// switch's RouteRequest carried, back from their hex. The probe of [`can_send`]
/// has neither; it only needs to know the service is written.
fn route_dialogue(request: &Element) -> Result<Vec<Node>, WriteError> {
    let octets = |name: &str| -> Result<Option<Vec<u8>>, WriteError> {
        match request.child_text(name).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(hex) => call_octets(hex).map(Some).map_err(|_| {
                WriteError::Invalid(format!(
                    "{name} `{hex}` is not the hex octets of the switch's identifier"
                ))
            }),
        }
    };
    let mut children = vec![Node::primitive(
        app(24),
        octets("routingCrossRefID")?.unwrap_or_default(),
    )];
    if let Some(register) = octets("routeRegisterReqID")? {
        children.push(Node::primitive(ctx(0), register));
    }
    Ok(children)
}

/// A DeviceID holding a dialling number: Phase II's bare CHOICE `dialingNumber
/// [0]`, Phase III's SEQUENCE around it.
fn device(number: &str, form: ConnectionForm) -> Node {
    let digits = Node::primitive(ctx(0), number.as_bytes());
    match form {
        ConnectionForm::Two => digits,
        ConnectionForm::Three => seq(vec![digits]),
    }
}

/// A called number: Phase II's CalledDeviceID (`[APPLICATION 2]` around the
/// device), Phase III's plain DeviceID.
fn called(number: &str, form: ConnectionForm) -> Node {
    match form {
        ConnectionForm::Two => Node::constructed(app(2), vec![device(number, form)]),
        ConnectionForm::Three => device(number, form),
    }
}

/// A ConnectionID from `<x><callID>0A1F</callID><deviceID>1001</deviceID></x>`.
fn connection(element: Option<&Element>, form: ConnectionForm) -> Result<Node, WriteError> {
    let element = element.ok_or_else(|| WriteError::Invalid("a connection is missing".into()))?;
    let call = element.child_text("callID").map(call_octets).transpose()?;
    let dev = element.child_text("deviceID");
    let neither = || {
        WriteError::Invalid(format!(
            "{} names neither a call nor a device",
            element.name
        ))
    };
    Ok(match form {
        ConnectionForm::Two => {
            if call.is_none() && dev.is_none() {
                return Err(neither());
            }
            let mut parts = Vec::new();
            if let Some(call) = call {
                parts.push(Node::primitive(ctx(2), call));
            }
            if let Some(dev) = dev {
                parts.push(device(dev, form));
            }
            Node::constructed(app(11), parts)
        }
        ConnectionForm::Three => {
            let call = call.map(|c| Node::primitive(ctx(0), c));
            let dev = dev.map(|d| Node::constructed(ctx(1), vec![device(d, form)]));
            let alternative = match (call, dev) {
                (Some(c), Some(d)) => seq(vec![c, d]),
                (Some(c), None) => c,
                (None, Some(d)) => d,
                (None, None) => return Err(neither()),
            };
            Node::constructed(app(11), vec![alternative])
        }
    })
}

/// A call id as the switch gave it: the hex we showed back to octets.
fn call_octets(text: &str) -> Result<Vec<u8>, WriteError> {
    let invalid = || WriteError::CallId(text.to_string());
    if !text.len().is_multiple_of(2) || text.is_empty() {
        return Err(invalid());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(invalid)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ber::Phase;

    fn element(xml: &str) -> Element {
        Element::parse(xml.as_bytes()).unwrap()
    }

    #[test]
    fn phase_two_requests_in_the_omnipcx_clients_shape() {
        let module = Phase::Two.module();
        // makeCall (10) { callingDevice dialingNumber "2101", calledDirectoryNumber
        // CalledDeviceID [APPLICATION 2] { dialingNumber "0611223344" } }, id 4.
        let apdu = write(
            4,
            &element("<MakeCall><callingDevice>2101</callingDevice><calledDirectoryNumber>0611223344</calledDirectoryNumber></MakeCall>"),
            module,
        )
        .unwrap();
        let mut want = vec![0xA1, 0x1C, 0x02, 0x01, 0x04, 0x02, 0x01, 0x0A, 0x30, 0x14];
        want.extend([0x80, 0x04]);
        want.extend(b"2101");
        want.extend([0x62, 0x0C, 0x80, 0x0A]);
        want.extend(b"0611223344");
        assert_eq!(apdu, want);
        // clearConnection (5) { ConnectionID { call [2] 012C, dialingNumber 2101 } }
        let apdu = write(
            9,
            &element("<ClearConnection><connectionToBeCleared><callID>012C</callID><deviceID>2101</deviceID></connectionToBeCleared></ClearConnection>"),
            module,
        )
        .unwrap();
        let mut want = vec![0xA1, 0x14, 0x02, 0x01, 0x09, 0x02, 0x01, 0x05, 0x30, 0x0C];
        want.extend([0x6B, 0x0A, 0x82, 0x02, 0x01, 0x2C, 0x80, 0x04]);
        want.extend(b"2101");
        assert_eq!(apdu, want);
        // Our keep-alive: systemStatus (52) with the bare ENUMERATED normal (2).
        let apdu = write(
            1,
            &element("<SystemStatus><systemStatus>normal</systemStatus></SystemStatus>"),
            module,
        )
        .unwrap();
        assert_eq!(
            apdu,
            [0xA1, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x34, 0x0A, 0x01, 0x02]
        );
    }

    #[test]
    fn phase_three_answers_and_requests() {
        let module = Phase::Three.module();
        // The answer to the switch's systemStatus (211): returnResult { id, { 211,
        // noData NULL } }.
        let apdu = write(300, &element("<SystemStatusResponse/>"), module).unwrap();
        assert_eq!(
            apdu,
            [0xA2, 0x0C, 0x02, 0x02, 0x01, 0x2C, 0x30, 0x06, 0x02, 0x02, 0x00, 0xD3, 0x05, 0x00]
        );
        // generateDigits (232) { connection callID only, charactersToSend "12#" }
        let apdu = write(
            2,
            &element("<GenerateDigits><connectionToSendDigits><callID>0A1F</callID></connectionToSendDigits><charactersToSend>12#</charactersToSend></GenerateDigits>"),
            module,
        )
        .unwrap();
        let want = [
            0xA1, 0x14, 0x02, 0x01, 0x02, 0x02, 0x02, 0x00, 0xE8, 0x30, 0x0B, 0x6B, 0x04, 0x80,
            0x02, 0x0A, 0x1F, 0x16, 0x03, b'1', b'2', b'#',
        ];
        assert_eq!(apdu, want);
        // setAgentState (312) { device, ready (3), agentID [0] "5001" }
        let apdu = write(
            3,
            &element("<SetAgentState><device>1002</device><requestedAgentState>ready</requestedAgentState><agentID>5001</agentID></SetAgentState>"),
            module,
        )
        .unwrap();
        let mut want = vec![
            0xA1, 0x1A, 0x02, 0x01, 0x03, 0x02, 0x02, 0x01, 0x38, 0x30, 0x11,
        ];
        want.extend([0x30, 0x06, 0x80, 0x04]);
        want.extend(b"1002");
        want.extend([0x0A, 0x01, 0x03, 0x82, 0x04]);
        want.extend(b"5001");
        assert_eq!(apdu, want);
    }

    #[test]
    fn phase_two_agent_states_go_through_set_feature_and_query_device() {
        let module = Phase::Two.module();
        // setFeature (15) { device "1002", requestedAgentState [3] { readyInfo [3] NULL } }
        let apdu = write(
            4,
            &element("<SetAgentState><device>1002</device><requestedAgentState>ready</requestedAgentState><agentID>1002</agentID></SetAgentState>"),
            module,
        )
        .unwrap();
        let mut want = vec![0xA1, 0x12, 0x02, 0x01, 0x04, 0x02, 0x01, 0x0F, 0x30, 0x0A];
        want.extend([0x80, 0x04]);
        want.extend(b"1002");
        want.extend([0xA3, 0x02, 0x83, 0x00]);
        assert_eq!(apdu, want);
        // Logging on: logOn [0] IMPLICIT SEQUENCE {} (no group named).
        let apdu = write(
            5,
            &element("<SetAgentState><device>1002</device><requestedAgentState>loggedOn</requestedAgentState></SetAgentState>"),
            module,
        )
        .unwrap();
        assert_eq!(apdu[apdu.len() - 4..], [0xA3, 0x02, 0xA0, 0x00]);
        // queryDevice (12) { device "1002", feature agentState (5) }
        let apdu = write(
            6,
            &element("<GetAgentState><device>1002</device></GetAgentState>"),
            module,
        )
        .unwrap();
        let mut want = vec![0xA1, 0x11, 0x02, 0x01, 0x06, 0x02, 0x01, 0x0C, 0x30, 0x09];
        want.extend([0x80, 0x04]);
        want.extend(b"1002");
        want.extend([0x0A, 0x01, 0x05]);
        assert_eq!(apdu, want);
    }

    #[test]
    fn a_call_snapshot_is_asked_in_phase_three_only() {
        // snapshotCall (75) { snapshotObject ConnectionID { callID [0] 0A1F } }
        let request = element(
            "<SnapshotCall><snapshotObject><callID>0A1F</callID></snapshotObject></SnapshotCall>",
        );
        let apdu = write(9, &request, Phase::Three.module()).unwrap();
        assert_eq!(
            apdu,
            [
                0xA1, 0x0E, 0x02, 0x01, 0x09, 0x02, 0x01, 0x4B, 0x30, 0x06, 0x6B, 0x04, 0x80, 0x02,
                0x0A, 0x1F
            ]
        );
        assert!(!can_send("SnapshotCall", Phase::Two.module()));
    }

    #[test]
    fn what_a_phase_cannot_carry_is_refused_not_guessed() {
        assert!(!can_send("SingleStepConferenceCall", Phase::Three.module()));
        for service in ["RouteRegister", "RouteSelectRequest", "RouteEndRequest"] {
            assert!(can_send(service, Phase::Three.module()), "{service}");
            assert!(!can_send(service, Phase::Two.module()), "{service}");
        }
        assert!(can_send("SingleStepTransferCall", Phase::Three.module()));
        assert!(!can_send("SingleStepTransferCall", Phase::Two.module()));
        assert!(!can_send("GenerateDigits", Phase::Two.module()));
        assert!(can_send("GenerateDigits", Phase::Three.module()));
        for service in ["SetAgentState", "GetAgentState"] {
            assert!(can_send(service, Phase::Two.module()), "{service}");
            assert!(can_send(service, Phase::Three.module()), "{service}");
        }
        assert!(can_send("MakeCall", Phase::Two.module()));
        let err = write(
            1,
            &element("<HoldCall><callToBeHeld><callID>XYZ</callID></callToBeHeld></HoldCall>"),
            Phase::Three.module(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not the hex octets"), "{err}");
    }
}

//! Our requests as BER APDUs: the ECMA-323 element the request builders write
//! (`<MakeCall><callingDevice>1001</callingDevice>…`) becomes the phase's ASN.1
//! argument inside a ROSE invoke, and a `…Response` we send (to the switch's
//! SystemStatus) a returnResult.

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
        "GetAgentState" if form == ConnectionForm::Three => seq(vec![device(text("device"), form)]),
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
        "ConsultationCall" => seq(vec![
            conn("existingCall")?,
            called(text("consultedDevice"), form),
        ]),
        "TransferCall" | "ConferenceCall" => seq(vec![conn("heldCall")?, conn("activeCall")?]),
        "GenerateDigits" if form == ConnectionForm::Three => seq(vec![
            conn("connectionToSendDigits")?,
            Node::primitive(IA5, text("charactersToSend").as_bytes()),
        ]),
        "SetAgentState" if !module.requested_agent_states.is_empty() => {
            let state = text("requestedAgentState");
            let value = value_of(module.requested_agent_states, state)
                .ok_or_else(|| WriteError::Invalid(format!("no agent state `{state}`")))?;
            let mut children = vec![
                device(text("device"), form),
                Node::primitive(ENUMERATED, integer_octets(value)),
            ];
            if let Some(agent) = request.child_text("agentID") {
                children.push(Node::primitive(ctx(0), agent.as_bytes()));
            }
            if let Some(password) = request.child_text("password") {
                children.push(Node::primitive(ctx(1), password.as_bytes()));
            }
            seq(children)
        }
        _ => return Ok(None),
    }))
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
    let invalid = || {
        WriteError::Invalid(format!(
            "call id `{text}` is not the hex octets of a BER call id"
        ))
    };
    if text.len() % 2 != 0 || text.is_empty() {
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

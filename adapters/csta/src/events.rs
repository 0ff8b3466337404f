//! ECMA-323 events to normalised [`SwitchEvent`]s.
//!
//! Field names follow ECMA-323 (ed. 3 to 6 agree on the ones used here). Where
//! vendors differ, the mapping takes the first of several places: a device is the
//! text of `deviceIdentifier` inside the field or the field's own text; an ACD group
//! is `privateData/…/acdGroup` or, for a distributed call, the last redirection
//! device; a not-ready reason is a `reasonCode` anywhere in the event. Devices given
//! as `notKnown`/`notRequired`/`restricted` count as absent. A device's text is read
//! with [`Address`] (`N<+4989…>;displayNumber=…`, `tel:…;phone-context=…`).
//!
//! A connection identifier is a choice in ECMA-269: a call id, a device id, or both.
//! OpenScape Voice sends some events with the device alone; such an event maps with
//! an empty `call_id`, which [`crate::correlate`] fills in.

use std::cell::RefCell;

use ctibridge_adapter::SwitchEvent;

use crate::address::Address;
use crate::xml::Element;

/// A mapped event and the facts its variant has no field for, by decode key: the
/// switch's `cause`, `calling` of an originated call, and the raw text of devices
/// the switch decorated (`device_raw`, `calling_raw`, `called_raw`).
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub event: CstaEvent,
    pub details: Vec<(&'static str, String)>,
}

/// A known event that lacks a field it cannot do without.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event} without {field}")]
pub struct MissingField {
    pub event: String,
    pub field: &'static str,
}

/// What an event element says.
#[derive(Debug, Clone, PartialEq)]
pub enum CstaEvent {
    Switch(SwitchEvent),
    /// A call's identity changed (transfer/conference with new connection ids): the
    /// switch's `new` call id is the call the engine knows as `old`.
    Renamed {
        event: SwitchEvent,
        renames: Vec<(String, String)>,
    },
    /// The switch ended a route dialogue (it routed the call or gave up).
    RouteEnd {
        route_id: String,
    },
}

/// Map an event document. `Ok(None)` for events we have no use for (call
/// information, do-not-disturb, …): they are not errors.
pub fn map_event(root: &Element) -> Result<Option<Mapped>, MissingField> {
    let m = Mapper {
        root,
        raw: RefCell::default(),
    };
    let Some(event) = m.map()? else {
        return Ok(None);
    };
    let mut details = Vec::new();
    if let Some(cause) = m.cause() {
        details.push(("cause", cause));
    }
    if root.name == "OriginatedEvent" {
        if let Some(calling) = m.device("callingDevice") {
            details.push(("calling", calling));
        }
    }
    for (field, raw) in m.raw.take() {
        let Some(key) = raw_key(&field) else { continue };
        if !details.iter().any(|(k, _)| *k == key) {
            details.push((key, raw));
        }
    }
    Ok(Some(Mapped { event, details }))
}

/// The decode key for the raw text of a device field.
fn raw_key(field: &str) -> Option<&'static str> {
    match field {
        "callingDevice" => Some("calling_raw"),
        "calledDevice" => Some("called_raw"),
        "alertingDevice" | "answeringDevice" | "initiatingDevice" | "holdingDevice"
        | "retrievingDevice" | "releasingDevice" | "failingDevice" | "divertingDevice"
        | "transferringDevice" | "conferencingDevice" | "queue" | "agentDevice" => {
            Some("device_raw")
        }
        _ => None,
    }
}

impl Mapper<'_> {
    fn map(&self) -> Result<Option<CstaEvent>, MissingField> {
        let m = self;
        let root = self.root;
        let event = match root.name.as_str() {
            "ServiceInitiatedEvent" => SwitchEvent::Originated {
                call_id: m.call_id("initiatedConnection")?,
                device: m.device_or_connection("initiatingDevice", "initiatedConnection")?,
                called: None,
            },
            "OriginatedEvent" => SwitchEvent::Originated {
                call_id: m.call_id("originatedConnection")?,
                device: m.device_or_connection("callingDevice", "originatedConnection")?,
                called: m.device("calledDevice"),
            },
            "DeliveredEvent" => SwitchEvent::Delivered {
                call_id: m.call_id("connection")?,
                device: m.device_or_connection("alertingDevice", "connection")?,
                calling: m.device("callingDevice"),
                called: m.device("calledDevice"),
                original_called: m.device("originalCalledDevice"),
                trunk: m
                    .device("networkCallingDevice")
                    .or_else(|| m.device("associatedCallingDevice")),
                queue: m.acd_group(),
                digits: m.user_data(),
            },
            "EstablishedEvent" => SwitchEvent::Established {
                call_id: m.call_id("establishedConnection")?,
                device: m.device_or_connection("answeringDevice", "establishedConnection")?,
                calling: m.device("callingDevice"),
                called: m.device("calledDevice"),
            },
            "HeldEvent" => SwitchEvent::Held {
                call_id: m.call_id("heldConnection")?,
                device: m.device_or_connection("holdingDevice", "heldConnection")?,
            },
            "RetrievedEvent" => SwitchEvent::Retrieved {
                call_id: m.call_id("retrievedConnection")?,
                device: m.device_or_connection("retrievingDevice", "retrievedConnection")?,
            },
            "ConnectionClearedEvent" => SwitchEvent::ConnectionCleared {
                call_id: m.call_id("droppedConnection")?,
                device: m
                    .connection_device("droppedConnection")
                    .or_else(|| m.device("releasingDevice"))
                    .ok_or_else(|| m.missing("releasingDevice"))?,
                cause: m.cause(),
            },
            "CallClearedEvent" => SwitchEvent::ConnectionCleared {
                // The whole call ended; the engine ends it when its last party goes, and a
                // cleared call has no party left that matters.
                call_id: m.call_id("clearedCall")?,
                device: m.connection_device("clearedCall").unwrap_or_default(),
                cause: m.cause(),
            },
            "FailedEvent" => SwitchEvent::Failed {
                call_id: m.call_id("failedConnection")?,
                device: m.device_or_connection("failingDevice", "failedConnection")?,
                cause: m.cause(),
            },
            "DivertedEvent" => SwitchEvent::Diverted {
                call_id: m.call_id("connection")?,
                device: m.device_or_connection("divertingDevice", "connection")?,
                to: m
                    .device("newDestination")
                    .ok_or_else(|| m.missing("newDestination"))?,
            },
            "QueuedEvent" => SwitchEvent::Queued {
                call_id: m.call_id("queuedConnection")?,
                queue: m
                    .device("queue")
                    .or_else(|| m.connection_device("queuedConnection"))
                    .ok_or_else(|| m.missing("queue"))?,
                calling: m.device("callingDevice"),
                called: m.device("calledDevice"),
                digits: m.user_data(),
            },
            // ECMA spells it with one r; some switches with two.
            "TransferedEvent" | "TransferredEvent" => {
                let primary = m.call_id("primaryOldCall")?;
                let secondary = m.optional_call_id("secondaryOldCall");
                let event = SwitchEvent::Transferred {
                    call_id: primary.clone(),
                    secondary_call_id: secondary.clone(),
                    device: m
                        .device("transferringDevice")
                        .ok_or_else(|| m.missing("transferringDevice"))?,
                    transferred_to: m
                        .device("transferredToDevice")
                        .ok_or_else(|| m.missing("transferredToDevice"))?,
                };
                return Ok(Some(m.renamed(event, &primary, "transferredConnections")));
            }
            "ConferencedEvent" => {
                let primary = m.call_id("primaryOldCall")?;
                let secondary = m.optional_call_id("secondaryOldCall");
                let event = SwitchEvent::Conferenced {
                    call_id: primary.clone(),
                    secondary_call_id: secondary.clone(),
                    device: m
                        .device("conferencingDevice")
                        .ok_or_else(|| m.missing("conferencingDevice"))?,
                    added: m
                        .device("addedParty")
                        .ok_or_else(|| m.missing("addedParty"))?,
                };
                return Ok(Some(m.renamed(event, &primary, "conferenceConnections")));
            }
            "AgentLoggedOnEvent" => SwitchEvent::LoggedOn {
                agent: m.agent()?,
                device: m.agent_device()?,
            },
            "AgentLoggedOffEvent" => SwitchEvent::LoggedOff {
                agent: m.agent()?,
                device: m.agent_device()?,
            },
            "AgentReadyEvent" => SwitchEvent::Ready {
                agent: m.agent()?,
                device: m.agent_device()?,
            },
            "AgentNotReadyEvent" => SwitchEvent::NotReady {
                agent: m.agent()?,
                device: m.agent_device()?,
                reason: root.find_text("reasonCode").map(String::from),
            },
            "AgentWorkingAfterCallEvent" => SwitchEvent::WorkNotReady {
                agent: m.agent()?,
                device: m.agent_device()?,
            },
            "RouteRequest" => SwitchEvent::RouteRequest {
                route_id: m.route_id()?,
                call_id: m.call_id("routedCall")?,
                calling: m.device("callingDevice"),
                called: m.device("currentRoute"),
            },
            "RouteEnd" | "RouteEndRequest" => {
                return Ok(Some(CstaEvent::RouteEnd {
                    route_id: m.route_id()?,
                }))
            }
            _ => return Ok(None),
        };
        Ok(Some(CstaEvent::Switch(event)))
    }
}

/// The id we give a route dialogue: the switch's register id and cross reference,
/// both needed to answer it.
pub fn route_id(register: &str, cross_ref: &str) -> String {
    format!("{register}:{cross_ref}")
}

struct Mapper<'a> {
    root: &'a Element,
    /// The text of every decorated device read so far, by field name.
    raw: RefCell<Vec<(String, String)>>,
}

impl Mapper<'_> {
    fn missing(&self, field: &'static str) -> MissingField {
        MissingField {
            event: self.root.name.clone(),
            field,
        }
    }

    /// The call id of a connection; empty when the switch named the connection by
    /// its device alone.
    fn call_id(&self, connection: &'static str) -> Result<String, MissingField> {
        let field = self
            .root
            .child(connection)
            .ok_or_else(|| self.missing(connection))?;
        if let Some(id) = field.find_text("callID") {
            return Ok(id.to_string());
        }
        match connection_device(field) {
            Some(_) => Ok(String::new()),
            None => Err(self.missing(connection)),
        }
    }

    fn optional_call_id(&self, connection: &str) -> Option<String> {
        self.root
            .child(connection)
            .and_then(|c| c.find_text("callID"))
            .map(String::from)
    }

    fn connection_device(&self, connection: &str) -> Option<String> {
        self.read(connection, connection_address(self.root.child(connection)?))
    }

    /// A device field: `<f><deviceIdentifier>1001</deviceIdentifier></f>` in events,
    /// `<f>1001</f>` in some switches' events and in requests.
    fn device(&self, field: &str) -> Option<String> {
        self.read(field, address_of(self.root.child(field)?))
    }

    fn read(&self, field: &str, address: Option<Address>) -> Option<String> {
        let address = address?;
        if address.is_decorated() {
            self.raw
                .borrow_mut()
                .push((field.to_string(), address.raw.clone()));
        }
        Some(address.number)
    }

    fn device_or_connection(
        &self,
        field: &'static str,
        connection: &'static str,
    ) -> Result<String, MissingField> {
        self.device(field)
            .or_else(|| self.connection_device(connection))
            .ok_or_else(|| self.missing(field))
    }

    fn cause(&self) -> Option<String> {
        self.root.child_text("cause").map(String::from)
    }

    fn acd_group(&self) -> Option<String> {
        if let Some(group) = self.root.find_text("acdGroup") {
            return Some(group.to_string());
        }
        match self.root.child_text("cause") {
            Some("distributed") | Some("enteringDistribution") => {
                self.device("lastRedirectionDevice")
            }
            _ => None,
        }
    }

    fn user_data(&self) -> Option<String> {
        let data = self.root.child("userData")?;
        let text = data.find_text("string").unwrap_or(&data.text);
        (!text.is_empty()).then(|| text.to_string())
    }

    fn agent(&self) -> Result<String, MissingField> {
        self.root
            .find_text("agentID")
            .map(String::from)
            .ok_or_else(|| self.missing("agentID"))
    }

    fn agent_device(&self) -> Result<String, MissingField> {
        self.device("agentDevice")
            .or_else(|| self.device("device"))
            .ok_or_else(|| self.missing("agentDevice"))
    }

    fn route_id(&self) -> Result<String, MissingField> {
        let register = self
            .root
            .find_text("routeRegisterReqID")
            .ok_or_else(|| self.missing("routeRegisterReqID"))?;
        let cross_ref = self
            .root
            .find_text("routingCrossRefID")
            .ok_or_else(|| self.missing("routingCrossRefID"))?;
        Ok(route_id(register, cross_ref))
    }

    /// A transfer or conference whose connection list gives the resulting call a
    /// new id: the engine keeps the primary call's identity, so the adapter must
    /// translate the new id back to it.
    fn renamed(&self, event: SwitchEvent, primary: &str, list: &str) -> CstaEvent {
        let mut renames = Vec::new();
        if let Some(list) = self.root.child(list) {
            let mut items = Vec::new();
            list.find_all("newConnection", &mut items);
            for new in items {
                // The surviving call may keep the primary's id, take the
                // secondary's, or get a new one; whichever it is, the switch now
                // calls the engine's (primary) call by it.
                if let Some(id) = new.find_text("callID") {
                    if id != primary
                        && !primary.is_empty()
                        && !renames.iter().any(|(n, _): &(String, String)| n == id)
                    {
                        renames.push((id.to_string(), primary.to_string()));
                    }
                }
            }
        }
        if renames.is_empty() {
            CstaEvent::Switch(event)
        } else {
            CstaEvent::Renamed { event, renames }
        }
    }
}

/// The device of a connection id (`deviceID`, possibly wrapped).
pub fn connection_device(connection: &Element) -> Option<String> {
    connection_address(connection).map(|a| a.number)
}

fn connection_address(connection: &Element) -> Option<Address> {
    address_of(connection.child("deviceID")?)
}

/// The device a field names, unless it says the device is unknown.
pub fn device_of(field: &Element) -> Option<String> {
    address_of(field).map(|a| a.number)
}

fn address_of(field: &Element) -> Option<Address> {
    if ["notKnown", "notRequired", "restricted", "notSpecified"]
        .iter()
        .any(|n| field.find(n).is_some())
    {
        return None;
    }
    let text = field
        .find_text("deviceIdentifier")
        .or_else(|| field.find_text("deviceID"))
        .or_else(|| field.find_text("numberDialed"))
        .unwrap_or(&field.text);
    Address::parse(text)
}

#[cfg(test)]
mod tests;

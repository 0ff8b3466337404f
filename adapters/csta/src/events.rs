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
mod tests {
    use super::*;

    fn map(xml: &str) -> CstaEvent {
        mapped(xml).event
    }

    fn mapped(xml: &str) -> Mapped {
        let root = Element::parse(xml.as_bytes()).unwrap();
        map_event(&root).unwrap().expect("a known event")
    }

    fn switch(xml: &str) -> SwitchEvent {
        match map(xml) {
            CstaEvent::Switch(e) => e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn delivered_gives_ani_dnis_and_group() {
        let event = switch(
            r#"<DeliveredEvent xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed3">
            <monitorCrossRefID>7</monitorCrossRefID>
            <connection><callID>101</callID><deviceID>1001</deviceID></connection>
            <alertingDevice><deviceIdentifier>1001</deviceIdentifier></alertingDevice>
            <callingDevice><deviceIdentifier>+14155550123</deviceIdentifier></callingDevice>
            <calledDevice><deviceIdentifier>8005550100</deviceIdentifier></calledDevice>
            <lastRedirectionDevice><deviceIdentifier>8000</deviceIdentifier></lastRedirectionDevice>
            <localConnectionInfo>alerting</localConnectionInfo><cause>distributed</cause>
            <userData><string>4711</string></userData>
            </DeliveredEvent>"#,
        );
        assert_eq!(
            event,
            SwitchEvent::Delivered {
                call_id: "101".into(),
                device: "1001".into(),
                calling: Some("+14155550123".into()),
                called: Some("8005550100".into()),
                original_called: None,
                trunk: None,
                queue: Some("8000".into()),
                digits: Some("4711".into()),
            }
        );
    }

    #[test]
    fn withheld_caller_is_absent_and_required_fields_are_named() {
        let event = switch(
            "<DeliveredEvent><connection><callID>5</callID><deviceID>1002</deviceID></connection>\
             <callingDevice><notKnown/></callingDevice></DeliveredEvent>",
        );
        assert!(
            matches!(event, SwitchEvent::Delivered { calling: None, ref device, .. } if device == "1002")
        );
        let root =
            Element::parse(b"<HeldEvent><holdingDevice>1001</holdingDevice></HeldEvent>").unwrap();
        let err = map_event(&root).unwrap_err();
        assert_eq!(err.to_string(), "HeldEvent without heldConnection");
    }

    #[test]
    fn transfer_with_a_new_call_id_is_renamed_to_the_primary() {
        let event = map(
            "<TransferedEvent><primaryOldCall><callID>101</callID><deviceID>1001</deviceID></primaryOldCall>\
             <secondaryOldCall><callID>102</callID><deviceID>1001</deviceID></secondaryOldCall>\
             <transferringDevice><deviceIdentifier>1001</deviceIdentifier></transferringDevice>\
             <transferredToDevice><deviceIdentifier>1002</deviceIdentifier></transferredToDevice>\
             <transferredConnections><connectionListItem><newConnection><callID>150</callID><deviceID>1002</deviceID></newConnection>\
             <oldConnection><callID>102</callID><deviceID>1002</deviceID></oldConnection></connectionListItem></transferredConnections>\
             </TransferedEvent>",
        );
        let CstaEvent::Renamed { event, renames } = event else {
            panic!("{event:?}")
        };
        assert_eq!(renames, [("150".to_string(), "101".to_string())]);
        assert_eq!(
            event,
            SwitchEvent::Transferred {
                call_id: "101".into(),
                secondary_call_id: Some("102".into()),
                device: "1001".into(),
                transferred_to: "1002".into()
            }
        );
    }

    #[test]
    fn agent_events_and_routes() {
        let event = switch(
            "<AgentNotReadyEvent><agentDevice><deviceIdentifier>1001</deviceIdentifier></agentDevice>\
             <agentID>5001</agentID><privateData><private><reasonCode>lunch</reasonCode></private></privateData></AgentNotReadyEvent>",
        );
        assert_eq!(
            event,
            SwitchEvent::NotReady {
                agent: "5001".into(),
                device: "1001".into(),
                reason: Some("lunch".into())
            }
        );
        let event = switch(
            "<RouteRequest><routeRegisterReqID>3</routeRegisterReqID><routingCrossRefID>77</routingCrossRefID>\
             <currentRoute>7000</currentRoute><callingDevice>4155550123</callingDevice>\
             <routedCall><callID>9</callID><deviceID>7000</deviceID></routedCall></RouteRequest>",
        );
        assert_eq!(
            event,
            SwitchEvent::RouteRequest {
                route_id: "3:77".into(),
                call_id: "9".into(),
                calling: Some("4155550123".into()),
                called: Some("7000".into())
            }
        );
    }

    #[test]
    fn unknown_events_are_ignored() {
        let root = Element::parse(b"<DoNotDisturbEvent><device>1001</device></DoNotDisturbEvent>")
            .unwrap();
        assert_eq!(map_event(&root), Ok(None));
    }

    #[test]
    fn a_connection_named_by_its_device_alone_maps_with_no_call_id() {
        let event = switch(
            "<DeliveredEvent><monitorCrossRefID>7</monitorCrossRefID>\
             <connection><deviceID>N&lt;+496975520417&gt;;displayNumber=20417</deviceID></connection>\
             <alertingDevice><deviceIdentifier>N&lt;+496975520417&gt;;displayNumber=20417</deviceIdentifier></alertingDevice>\
             <callingDevice><deviceIdentifier>N&lt;+4930812447309&gt;;noa=unknown</deviceIdentifier></callingDevice>\
             <cause>newCall</cause></DeliveredEvent>",
        );
        assert!(
            matches!(&event, SwitchEvent::Delivered { call_id, device, calling: Some(calling), .. }
                if call_id.is_empty() && device == "+496975520417" && calling == "+4930812447309"),
            "{event:?}"
        );
        let event = switch(
            "<ConnectionClearedEvent><droppedConnection><deviceID>1002</deviceID></droppedConnection>\
             <cause>normalClearing</cause></ConnectionClearedEvent>",
        );
        assert!(
            matches!(&event, SwitchEvent::ConnectionCleared { call_id, device, .. } if call_id.is_empty() && device == "1002")
        );
        // A connection with neither is still missing.
        let root = Element::parse(b"<EstablishedEvent><establishedConnection/></EstablishedEvent>")
            .unwrap();
        assert_eq!(
            map_event(&root).unwrap_err().to_string(),
            "EstablishedEvent without establishedConnection"
        );
    }

    #[test]
    fn cause_and_raw_devices_come_along_for_every_event() {
        for (xml, cause) in [
            ("<HeldEvent><heldConnection><callID>4</callID><deviceID>314</deviceID></heldConnection><holdingDevice><deviceIdentifier>314</deviceIdentifier></holdingDevice><cause>normal</cause></HeldEvent>", "normal"),
            ("<QueuedEvent><queuedConnection><callID>4</callID><deviceID>8000</deviceID></queuedConnection><queue><deviceIdentifier>8000</deviceIdentifier></queue><cause>enteringDistribution</cause></QueuedEvent>", "enteringDistribution"),
            ("<ServiceInitiatedEvent><initiatedConnection><callID>4</callID><deviceID>1001</deviceID></initiatedConnection><cause>makeCall</cause></ServiceInitiatedEvent>", "makeCall"),
            ("<TransferedEvent><primaryOldCall><callID>4</callID><deviceID>314</deviceID></primaryOldCall><transferringDevice><deviceIdentifier>314</deviceIdentifier></transferringDevice><transferredToDevice><deviceIdentifier>322</deviceIdentifier></transferredToDevice><cause>singleStepTransfer</cause></TransferedEvent>", "singleStepTransfer"),
        ] {
            let details = mapped(xml).details;
            assert!(details.contains(&("cause", cause.to_string())), "{xml}: {details:?}");
        }
        let mapped = mapped(
            "<OriginatedEvent><originatedConnection><callID>9</callID><deviceID>496975520410</deviceID></originatedConnection>\
             <callingDevice><deviceIdentifier>496975520410</deviceIdentifier></callingDevice>\
             <calledDevice><deviceIdentifier>N&lt;496975520433&gt;;displayNumber=496975520433;noa=nk</deviceIdentifier></calledDevice>\
             <cause>newCall</cause></OriginatedEvent>",
        );
        assert!(
            matches!(&mapped.event, CstaEvent::Switch(SwitchEvent::Originated { called: Some(c), .. }) if c == "496975520433")
        );
        assert!(mapped
            .details
            .contains(&("calling", "496975520410".to_string())));
        assert!(mapped.details.contains(&(
            "called_raw",
            "N<496975520433>;displayNumber=496975520433;noa=nk".to_string()
        )));
    }

    #[test]
    fn a_transfer_whose_survivor_keeps_the_consultation_id_renames_it() {
        let event = map(
            "<TransferedEvent><primaryOldCall><callID>101</callID><deviceID>1001</deviceID></primaryOldCall>\
             <secondaryOldCall><callID>102</callID><deviceID>1001</deviceID></secondaryOldCall>\
             <transferringDevice><deviceIdentifier>1001</deviceIdentifier></transferringDevice>\
             <transferredToDevice><deviceIdentifier>1002</deviceIdentifier></transferredToDevice>\
             <transferredConnections><connectionListItem><newConnection><callID>102</callID><deviceID>1002</deviceID></newConnection>\
             <oldConnection><callID>102</callID><deviceID>1002</deviceID></oldConnection></connectionListItem>\
             <connectionListItem><newConnection><callID>102</callID><deviceID>+14155550123</deviceID></newConnection>\
             <oldConnection><callID>101</callID><deviceID>+14155550123</deviceID></oldConnection></connectionListItem></transferredConnections>\
             </TransferedEvent>",
        );
        let CstaEvent::Renamed { renames, .. } = event else {
            panic!("{event:?}")
        };
        assert_eq!(renames, [("102".to_string(), "101".to_string())]);
    }
}

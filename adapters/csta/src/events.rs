//! ECMA-323 events to normalised [`SwitchEvent`]s.
//!
//! Field names follow ECMA-323 (ed. 3 to 6 agree on the ones used here). Where
//! vendors differ, the mapping takes the first of several places: a device is the
//! text of `deviceIdentifier` inside the field or the field's own text; an ACD group
//! is `privateData/…/acdGroup` or, for a distributed call, the last redirection
//! device; a not-ready reason is a `reasonCode` anywhere in the event. Devices given
//! as `notKnown`/`notRequired`/`restricted` count as absent.

use ctibridge_adapter::SwitchEvent;

use crate::xml::Element;

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
pub fn map_event(root: &Element) -> Result<Option<CstaEvent>, MissingField> {
    let m = Mapper { root };
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
            return Ok(Some(m.renamed(
                event,
                &primary,
                secondary.as_deref(),
                "transferredConnections",
            )));
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
            return Ok(Some(m.renamed(
                event,
                &primary,
                secondary.as_deref(),
                "conferenceConnections",
            )));
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

/// The id we give a route dialogue: the switch's register id and cross reference,
/// both needed to answer it.
pub fn route_id(register: &str, cross_ref: &str) -> String {
    format!("{register}:{cross_ref}")
}

struct Mapper<'a> {
    root: &'a Element,
}

impl Mapper<'_> {
    fn missing(&self, field: &'static str) -> MissingField {
        MissingField {
            event: self.root.name.clone(),
            field,
        }
    }

    fn call_id(&self, connection: &'static str) -> Result<String, MissingField> {
        self.optional_call_id(connection)
            .ok_or_else(|| self.missing(connection))
    }

    fn optional_call_id(&self, connection: &str) -> Option<String> {
        self.root
            .child(connection)
            .and_then(|c| c.find_text("callID"))
            .map(String::from)
    }

    fn connection_device(&self, connection: &str) -> Option<String> {
        connection_device(self.root.child(connection)?)
    }

    /// A device field: `<f><deviceIdentifier>1001</deviceIdentifier></f>` in events,
    /// `<f>1001</f>` in some switches' events and in requests.
    fn device(&self, field: &str) -> Option<String> {
        device_of(self.root.child(field)?)
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
    fn renamed(
        &self,
        event: SwitchEvent,
        primary: &str,
        secondary: Option<&str>,
        list: &str,
    ) -> CstaEvent {
        let mut renames = Vec::new();
        if let Some(list) = self.root.child(list) {
            let mut items = Vec::new();
            list.find_all("newConnection", &mut items);
            for new in items {
                if let Some(id) = new.find_text("callID") {
                    if id != primary
                        && Some(id) != secondary
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
    let device = connection.child("deviceID")?;
    device_of(device)
}

/// The device a field names, unless it says the device is unknown.
pub fn device_of(field: &Element) -> Option<String> {
    if ["notKnown", "notRequired", "restricted", "notSpecified"]
        .iter()
        .any(|n| field.find(n).is_some())
    {
        return None;
    }
    let text = field
        .find_text("deviceIdentifier")
        .or_else(|| field.find_text("deviceID"))
        .unwrap_or(&field.text);
    let text = text.trim();
    // Some switches send `N<1001>` or `tel:+1415…` forms.
    let text = text.strip_prefix("tel:").unwrap_or(text);
    let text = match (text.strip_prefix("N<"), text.ends_with('>')) {
        (Some(inner), true) => &inner[..inner.len() - 1],
        _ => text,
    };
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(xml: &str) -> CstaEvent {
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
}

//! The event mapping on documents shaped as switches send them.
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
    let root =
        Element::parse(b"<DoNotDisturbEvent><device>1001</device></DoNotDisturbEvent>").unwrap();
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
    let root =
        Element::parse(b"<EstablishedEvent><establishedConnection/></EstablishedEvent>").unwrap();
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

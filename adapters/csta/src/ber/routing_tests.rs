//! The routing dialogue over BER, byte by byte: the switch's RouteRequest and
//! RouteEndRequest read into the elements the XML link carries (and mapped by the
//! same event code), our RouteRegister / RouteSelectRequest / RouteEndRequest
//! written as ECMA-285 APDUs, and what Phase II refuses rather than guesses.
//!
//! The APDUs are written by hand from ECMA-285's ASN.1 (see
//! tests/captures/csta-ber/SOURCES.md), with our own numbers.

use ctibridge_adapter::SwitchEvent;

use super::{read, write, Phase, WriteError};
use crate::events::CstaEvent;
use crate::message::{classify_element, Message};
use crate::requests::Requests;
use crate::xml::Element;

/// `"A1 05 …"` to bytes.
fn bytes(hex: &str) -> Vec<u8> {
    hex.split_whitespace()
        .map(|pair| u8::from_str_radix(pair, 16).unwrap())
        .collect()
}

fn requests() -> Requests<'static> {
    Requests {
        namespace: "http://www.ecma-international.org/standards/ecma-323/csta/ed3",
    }
}

fn element(xml: &str) -> Element {
    Element::parse(xml.as_bytes()).unwrap()
}

/// invoke { 258, routeRequest (31), RouteRequestArgument { crossRefIdentifier
/// [APPLICATION 24] 0007, routeRegisterReqID [0] 03, currentRoute "7000",
/// callingDevice "5551234", routeingDevice "7000", routedCall { both { callID
/// 0A1F, deviceID "7000" } }, routeSelAlgorithm [1] normal, replyTimeout [3] 5 } }
const ROUTE_REQUEST: &str = "A1 49 02 02 01 02 02 01 1F 30 40 58 02 00 07 80 01 03
    62 08 30 06 80 04 37 30 30 30 61 0B 30 09 80 07 35 35 35 31 32 33 34
    63 08 30 06 80 04 37 30 30 30 6B 10 30 0E 80 02 0A 1F A1 08 30 06 80 04 37 30 30 30
    81 01 00 83 01 05";

#[test]
fn phase_three_route_request_reads_as_the_xml_links_element() {
    let inbound = read(&bytes(ROUTE_REQUEST), Phase::Three.module()).unwrap();
    assert_eq!(inbound.invoke_id, Some(258));
    // routeRequest is ALWAYS RESPONDS FALSE: our RouteSelectRequest answers it.
    assert!(!inbound.wants_answer);
    let root = &inbound.root;
    assert_eq!(root.name, "RouteRequest");
    assert_eq!(root.child_text("routingCrossRefID"), Some("0007"));
    assert_eq!(root.child_text("routeRegisterReqID"), Some("03"));
    assert_eq!(root.child_text("replyTimeout"), Some("5"));
    // routeSelAlgorithm is not read, but kept.
    assert!(root.children.iter().any(|c| c.name == "unknownField"));
    let Ok(Message::Event(mapped)) = classify_element(inbound.root) else {
        panic!("not an event")
    };
    let CstaEvent::Switch(event) = mapped.event else {
        panic!("not a switch event")
    };
    assert_eq!(
        event,
        SwitchEvent::RouteRequest {
            route_id: "03:0007".into(),
            call_id: "0A1F".into(),
            calling: Some("5551234".into()),
            called: Some("7000".into()),
        }
    );
}

#[test]
fn phase_three_route_end_from_the_switch_ends_the_dialogue() {
    // invoke { 259, routeEndRequest (35), { crossRefIdentifier 0007,
    // routeRegisterReqID 03, errorValue [1] { operation [0] invalidCrossRefID } } }
    let apdu = bytes("A1 17 02 02 01 03 02 01 23 30 0E 58 02 00 07 80 01 03 A1 05 A0 03 0A 01 11");
    let inbound = read(&apdu, Phase::Three.module()).unwrap();
    assert!(!inbound.wants_answer);
    assert_eq!(inbound.root.name, "RouteEndRequest");
    let Ok(Message::Event(mapped)) = classify_element(inbound.root) else {
        panic!("not an event")
    };
    let CstaEvent::RouteEnd { route_id } = mapped.event else {
        panic!("not a route end")
    };
    assert_eq!(route_id, "03:0007");
}

#[test]
fn phase_three_dialogue_answers_are_written_as_ecma_285_apdus() {
    let module = Phase::Three.module();
    let r = requests();
    // routeRegister (248) { routeingDevice DeviceID "7000" }, invoke 1.
    let apdu = write(1, &element(&r.route_register("7000")), module).unwrap();
    assert_eq!(
        apdu,
        bytes("A1 11 02 01 01 02 02 00 F8 30 08 30 06 80 04 37 30 30 30")
    );
    // routeSelectRequest (33) { crossRefIdentifier 0007, routeRegisterReqID 03,
    // routeSelected [1] { DeviceID "1002" } }, invoke 5.
    let select = r.route_select("03:0007", "1002").unwrap();
    assert!(select.no_response);
    let apdu = write(5, &element(&select.xml), module).unwrap();
    assert_eq!(
        apdu,
        bytes("A1 19 02 01 05 02 01 21 30 11 58 02 00 07 80 01 03 A1 08 30 06 80 04 31 30 30 32")
    );
    // routeEndRequest (35) { crossRefIdentifier 0007, routeRegisterReqID 03 }:
    // no errorValue for "no route chosen".
    let end = r.route_end("03:0007").unwrap();
    let apdu = write(6, &element(&end.xml), module).unwrap();
    assert_eq!(
        apdu,
        bytes("A1 0F 02 01 06 02 01 23 30 07 58 02 00 07 80 01 03")
    );
}

#[test]
fn the_switchs_identifiers_go_back_as_they_came() {
    // Round trip: the route id read from a RouteRequest gives the same octets
    // (any width, leading zero octets kept) in our RouteSelectRequest.
    let module = Phase::Three.module();
    let inbound = read(&bytes(ROUTE_REQUEST), module).unwrap();
    let Ok(Message::Event(mapped)) = classify_element(inbound.root) else {
        panic!("not an event")
    };
    let CstaEvent::Switch(SwitchEvent::RouteRequest { route_id, .. }) = mapped.event else {
        panic!("not a route request")
    };
    let select = requests().route_select(&route_id, "1002").unwrap();
    let apdu = write(9, &element(&select.xml), module).unwrap();
    // The argument starts with the switch's own bytes: 58 02 00 07 80 01 03.
    let at = apdu.iter().position(|b| *b == 0x58).unwrap();
    assert_eq!(
        &apdu[at..at + 7],
        &[0x58, 0x02, 0x00, 0x07, 0x80, 0x01, 0x03]
    );
    // The registration's answer names its routeRegisterReqID; read as a response.
    let result = read(
        &bytes("A2 0E 02 01 01 30 09 02 02 00 F8 30 03 04 01 03"),
        module,
    )
    .unwrap();
    assert_eq!(result.root.name, "RouteRegisterResponse");
    assert!(matches!(
        classify_element(result.root),
        Ok(Message::Response(_))
    ));
}

#[test]
fn bad_route_apdus_are_errors_with_their_position() {
    let module = Phase::Three.module();
    // routeRequest without its argument.
    let err = read(&bytes("A1 06 02 01 01 02 01 1F"), module).unwrap_err();
    assert!(err.message.contains("RouteRequest without"), "{err}");
    // routeRequest whose argument is an OCTET STRING, at byte 8.
    let err = read(&bytes("A1 09 02 01 01 02 01 1F 04 01 00"), module).unwrap_err();
    assert_eq!(err.offset, 8, "{err}");
    assert!(err.message.contains("SEQUENCE"), "{err}");
    // A route id that is not the switch's hex is refused before it is sent.
    let select = requests().route_select("03:xyz", "1002").unwrap();
    let err = write(1, &element(&select.xml), module).unwrap_err();
    assert!(
        matches!(err, WriteError::Invalid(ref m) if m.contains("routingCrossRefID")),
        "{err}"
    );
}

#[test]
fn phase_two_routing_is_refused_not_guessed() {
    let module = Phase::Two.module();
    let r = requests();
    for xml in [
        r.route_register("7000"),
        r.route_select("03:0007", "1002").unwrap().xml,
        r.route_end("03:0007").unwrap().xml,
    ] {
        let err = write(1, &element(&xml), module).unwrap_err();
        assert!(matches!(err, WriteError::Unsupported { .. }), "{err}");
    }
    // A Phase II RouteRequest (31) has no argument table: read by name only, it
    // maps to no route dialogue (its fields are missing), not to a wrong one.
    let inbound = read(&bytes(ROUTE_REQUEST), module).unwrap();
    assert_eq!(inbound.root.name, "RouteRequest");
    assert!(inbound.root.children.is_empty());
    assert!(classify_element(inbound.root).is_err());
}

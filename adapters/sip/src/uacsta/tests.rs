//! The uaCSTA forms real servers send (tests/captures/sip/, see SOURCES.md there)
//! through the code a session reads them with: the dialog, the CSTA body reader,
//! the event path to the engine and the error table.

use ctibridge_adapter::{CommandError, SwitchEvent};
use ctibridge_csta::dedup::MonitorCopies;
use ctibridge_csta::message::Message as Csta;

use super::dialog::{CstaDialog, KeepAlive};
use super::Carry;
use crate::csta_body::{csta_body, CstaBody};
use crate::digest::Credentials;
use crate::message::Message;
use crate::subscriptions::Local;

fn capture(name: &str) -> Message {
    let bytes = std::fs::read(format!(
        "{}/../../tests/captures/sip/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    Message::parse(&bytes).unwrap()
}

fn body(name: &str) -> CstaBody {
    csta_body(&capture(name)).unwrap().expect("a CSTA body")
}

fn dialog() -> CstaDialog {
    let local = Local {
        transport: "TCP",
        addr: "192.0.2.10:50712".parse().unwrap(),
        user: "ctibridge".into(),
        domain: "rcc.example.net".into(),
    };
    CstaDialog::new(local, "sip:cstagw@rcc.example.net", 1800)
}

#[test]
fn the_session_is_challenged_then_opened_with_a_session_timer() {
    let mut d = dialog();
    let mut credentials = Some(Credentials::new("ctibridge", "s3cret"));
    d.invite("<RequestSystemStatus/>", &mut credentials);
    let challenge = capture("rcc-invite-401.sip");
    assert_eq!(challenge.code(), Some(401));
    d.challenged(&challenge, 401, &mut credentials).unwrap();
    let again = d.invite("<RequestSystemStatus/>", &mut credentials);
    let again = Message::parse(&again.bytes).unwrap();
    assert!(again
        .header("authorization")
        .unwrap()
        .contains("realm=\"rcc.example.net\""));

    let ok = capture("rcc-200-invite.sip");
    let (ack, keep) = d.on_invite_2xx(&ok, 2);
    assert_eq!(keep, KeepAlive::Refresh { seconds: 900 });
    let ack = Message::parse(&ack).unwrap();
    assert_eq!(
        ack.header("route"),
        Some("<sip:203.0.113.41:5060;transport=tcp;lr>")
    );
    assert_eq!(ack.tag("to"), Some("c82f1e0b44"));
    let CstaBody {
        name,
        message: Csta::Response(root),
        ..
    } = body("rcc-200-invite.sip")
    else {
        panic!("not a response")
    };
    assert_eq!(name, "RequestSystemStatusResponse");
    assert_eq!(root.find_text("systemStatus"), Some("normal"));
}

#[test]
fn answers_travel_in_the_info_s_200() {
    let Csta::Response(monitor) = body("rcc-200-monitorstart.sip").message else {
        panic!("not a response")
    };
    assert_eq!(monitor.child_text("monitorCrossRefID"), Some("61d3a0f7"));
    let Csta::Response(made) = body("rcc-200-makecall.sip").message else {
        panic!("not a response")
    };
    let call = made
        .child("callingDevice")
        .and_then(|c| c.find_text("callID"));
    assert_eq!(call, Some("0_7a4c1105"));
    let Csta::Error(error) = body("uacsta-200-info-error.sip").message else {
        panic!("not an error")
    };
    assert!(matches!(
        error.to_command_error(),
        CommandError::CallNotFound(_)
    ));
}

#[test]
fn events_in_infos_reach_the_engine_as_the_csta_adapter_maps_them() {
    let mut carry = Carry::default();
    let mut copies = MonitorCopies::default();
    let mut events = Vec::new();
    for name in ["rcc-info-delivered.sip", "rcc-info-established.sip"] {
        let CstaBody {
            cross_ref,
            message: Csta::Event(mapped),
            ..
        } = body(name)
        else {
            panic!("{name} is not an event")
        };
        assert_eq!(cross_ref.as_deref(), Some("61d3a0f7"));
        events.extend(carry.for_engine(*mapped, cross_ref.as_deref(), &mut copies));
    }
    assert_eq!(
        events[0],
        SwitchEvent::Delivered {
            call_id: "0_7a4c02e9".into(),
            device: "2210".into(),
            calling: Some("+14155550123".into()),
            called: Some("2210".into()),
            original_called: None,
            trunk: None,
            queue: None,
            digits: None,
        }
    );
    assert!(
        matches!(&events[1], SwitchEvent::Established { call_id, device, .. } if call_id == "0_7a4c02e9" && device == "2210"),
        "{:?}",
        events[1]
    );
}

#[test]
fn the_server_s_requests_belong_to_our_dialog_only() {
    let d = dialog();
    let info = capture("rcc-info-delivered.sip");
    assert!(!d.owns(&info), "another dialog's INFO");
}

//! What uaCSTA keeps of the calls across runs of the link, and how a mapped CSTA
//! event becomes the one the engine gets: the csta adapter's correlator (calls the
//! server names by device alone), call-id translation after transfers, and the
//! one-event-per-occurrence filter for events seen through several monitors.

use ctibridge_adapter::{Command, SwitchEvent};
use ctibridge_csta::correlate::Correlator;
use ctibridge_csta::dedup::MonitorCopies;
use ctibridge_csta::events::{CstaEvent, Mapped};
use ctibridge_csta::ids::CallIds;

use crate::digest::Credentials;

/// State that outlives one CSTA session.
#[derive(Debug, Default)]
pub struct Carry {
    pub ids: CallIds,
    pub calls: Correlator,
    pub credentials: Option<Credentials>,
}

impl Carry {
    pub fn new(credentials: Option<Credentials>) -> Carry {
        Carry {
            credentials,
            ..Carry::default()
        }
    }

    /// The event the engine gets for a mapped CSTA event seen through monitor
    /// `cross_ref`; `None` for a copy already seen through another monitor, or a
    /// route dialogue's end (uaCSTA registers no routes).
    pub fn for_engine(
        &mut self,
        mapped: Mapped,
        cross_ref: Option<&str>,
        copies: &mut MonitorCopies,
    ) -> Option<SwitchEvent> {
        let (mut event, renames) = match mapped.event {
            CstaEvent::Switch(event) => (event, Vec::new()),
            CstaEvent::Renamed { event, renames } => (event, renames),
            CstaEvent::RouteEnd { .. } => return None,
        };
        for (switch_id, made_up) in self.calls.resolve(&mut event, &renames) {
            self.ids.rename(&switch_id, &made_up);
        }
        self.ids.event_to_engine(&mut event);
        // After translating: the event itself still names the calls as they were.
        for (new, old) in renames {
            self.ids.rename(&new, &old);
        }
        copies.is_new(&event, cross_ref).then_some(event)
    }

    /// A snapshot names the calls the server has: made-up ids it lists are named,
    /// and its ids are translated for the engine.
    pub fn snapshot_for_engine(&mut self, event: &mut SwitchEvent) {
        for (switch_id, made_up) in self.calls.resolve(event, &[]) {
            self.ids.rename(&switch_id, &made_up);
        }
        self.ids.event_to_engine(event);
    }

    pub fn command_to_switch(&self, command: &mut Command) {
        self.ids.command_to_switch(command);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctibridge_csta::events::map_event;
    use ctibridge_csta::xml::Element;

    fn mapped(xml: &str) -> Mapped {
        map_event(&Element::parse(xml.as_bytes()).unwrap())
            .unwrap()
            .unwrap()
    }

    const DELIVERED: &str = "<DeliveredEvent><connection><deviceID>1001</deviceID></connection>\
        <alertingDevice><deviceIdentifier>1001</deviceIdentifier></alertingDevice>\
        <callingDevice><deviceIdentifier>+14155550123</deviceIdentifier></callingDevice>\
        </DeliveredEvent>";

    #[test]
    fn a_call_named_by_device_alone_gets_an_id_and_copies_pass_once() {
        let mut carry = Carry::default();
        let mut copies = MonitorCopies::default();
        let event = carry
            .for_engine(mapped(DELIVERED), Some("1"), &mut copies)
            .unwrap();
        let Some(call_id) = event.call_id() else {
            panic!("{event:?}")
        };
        assert!(call_id.starts_with('~'), "{call_id}");
        assert_eq!(
            carry.for_engine(mapped(DELIVERED), Some("2"), &mut copies),
            None,
            "the same ring seen through a second monitor"
        );
    }
}

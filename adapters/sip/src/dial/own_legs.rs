//! Keeping our own legs to the agents' phones out of the engine: the dialog-event
//! monitor reports them like any call at the phone, but they are not calls the agent
//! has.

use ctibridge_adapter::SwitchEvent;

use super::Dial;

/// Our own leg to the agent's phone shows in the phone's dialog state like any call
/// ringing at it. It is not a call the agent has (the agent asked to call someone),
/// so its events are kept from the engine: no screen pop of "ctibridge". A dialog
/// ringing at a phone we are dialling is ours when it names our call-id (proxies that
/// pass it, Kamailio), our user as the caller, or no caller at all (Asterisk reports
/// no identities); every later event of that call is dropped with it. A dial has
/// one leg to the phone, so it claims one such dialog: a second call ringing at the
/// phone while the dial goes on (a call waiting during a call the REFER fallback
/// joined, which lasts as long as the call) is the agent's and pops.
#[derive(Debug, Default)]
pub struct OwnLegs {
    /// (the monitor's call id of our leg, the dial's Call-ID)
    calls: Vec<(String, String)>,
}

impl OwnLegs {
    /// True when `event` belongs to one of our legs and must not reach the engine.
    pub fn is_own(&mut self, event: &SwitchEvent, dials: &[Dial], user: &str) -> bool {
        if let SwitchEvent::Delivered {
            call_id,
            device,
            calling,
            ..
        } = event
        {
            let claimed = |d: &Dial| self.calls.iter().any(|(_, dial)| dial == d.call_id());
            let ours = dials.iter().find(|d| {
                !d.is_done()
                    && &d.device == device
                    && !claimed(d)
                    && (d.call_id() == call_id || calling.as_deref().is_none_or(|c| c == user))
            });
            if let Some(dial) = ours {
                self.calls
                    .push((call_id.clone(), dial.call_id().to_string()));
            }
            return ours.is_some();
        }
        let Some(call_id) = event.call_id() else {
            return false;
        };
        let Some(index) = self.calls.iter().position(|(c, _)| c == call_id) else {
            return false;
        };
        if matches!(event, SwitchEvent::ConnectionCleared { .. }) {
            self.calls.remove(index);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ctx, dial};
    use super::*;
    use tokio::time::Instant;

    #[tokio::test]
    async fn our_own_leg_to_the_phone_never_pops() {
        let ctx = ctx(false);
        let (mut dial, _result) = dial();
        dial.start(&ctx, &mut None, Instant::now());
        let mut own = OwnLegs::default();
        let ringing = |call: &str, calling: Option<&str>| SwitchEvent::Delivered {
            call_id: call.into(),
            device: "1001".into(),
            calling: calling.map(str::to_string),
            called: Some("1001".into()),
            original_called: None,
            trunk: None,
            queue: None,
            digits: None,
        };
        let dials = std::slice::from_ref(&dial);
        // Asterisk: no identity at all; Kamailio: our user as the caller.
        assert!(OwnLegs::default().is_own(&ringing("1001/a/1", None), dials, "ctibridge"));
        assert!(own.is_own(&ringing("k-77", Some("ctibridge")), dials, "ctibridge"));
        // The dial's one leg is claimed: a second call ringing without identity
        // (call waiting while the dial goes on) is the agent's.
        assert!(!own.is_own(&ringing("1001/a/2", None), dials, "ctibridge"));
        // Its later events go with it, up to its end.
        let answered = SwitchEvent::Established {
            call_id: "k-77".into(),
            device: "1001".into(),
            calling: Some("ctibridge".into()),
            called: Some("1001".into()),
        };
        assert!(own.is_own(&answered, dials, "ctibridge"));
        let cleared = SwitchEvent::ConnectionCleared {
            call_id: "k-77".into(),
            device: "1001".into(),
            cause: None,
        };
        assert!(own.is_own(&cleared, dials, "ctibridge"));
        assert!(
            !own.is_own(&cleared, dials, "ctibridge"),
            "forgotten once ended"
        );
        // A real caller, another phone, or no dial under way: popped as ever.
        assert!(!own.is_own(&ringing("c-1", Some("+14155550123")), dials, "ctibridge"));
        let mut elsewhere = ringing("c-2", None);
        if let SwitchEvent::Delivered { device, .. } = &mut elsewhere {
            *device = "1002".into();
        }
        assert!(!own.is_own(&elsewhere, dials, "ctibridge"));
        assert!(!own.is_own(&ringing("c-3", None), &[], "ctibridge"));
    }
}

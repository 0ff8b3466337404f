//! Call ids as the engine knows them versus as the switch uses them now.
//!
//! A transfer or conference may give the resulting call a new id on the switch
//! (ECMA-323 lists the new connections in the event). The engine keeps the original
//! call's identity, so the adapter translates: events carry the id the engine knows,
//! commands carry the id the switch uses now. The table is bounded; the oldest
//! renames go first (a call lives minutes, the table holds thousands).

use std::collections::{HashMap, VecDeque};

use ctibridge_adapter::{Command, SwitchEvent};

const CAPACITY: usize = 4096;

#[derive(Debug, Default)]
pub struct CallIds {
    /// switch id → engine id
    to_engine: HashMap<String, String>,
    /// engine id → the switch id it has now
    to_switch: HashMap<String, String>,
    order: VecDeque<String>,
}

impl CallIds {
    /// The switch now calls `engine_id`'s call `switch_id`.
    pub fn rename(&mut self, switch_id: &str, engine_id: &str) {
        // A rename of a renamed call keeps pointing at the first identity.
        let engine_id = self.engine(engine_id).to_string();
        if switch_id == engine_id {
            return;
        }
        self.to_engine
            .insert(switch_id.to_string(), engine_id.clone());
        self.to_switch.insert(engine_id, switch_id.to_string());
        self.order.push_back(switch_id.to_string());
        while self.order.len() > CAPACITY {
            if let Some(old) = self.order.pop_front() {
                if let Some(engine) = self.to_engine.remove(&old) {
                    if self.to_switch.get(&engine) == Some(&old) {
                        self.to_switch.remove(&engine);
                    }
                }
            }
        }
    }

    pub fn engine<'a>(&'a self, switch_id: &'a str) -> &'a str {
        self.to_engine
            .get(switch_id)
            .map_or(switch_id, |s| s.as_str())
    }

    pub fn switch<'a>(&'a self, engine_id: &'a str) -> &'a str {
        self.to_switch
            .get(engine_id)
            .map_or(engine_id, |s| s.as_str())
    }

    /// Translate the call ids of an event for the engine.
    pub fn event_to_engine(&self, event: &mut SwitchEvent) {
        use SwitchEvent::*;
        let fix = |id: &mut String| {
            let engine = self.engine(id).to_string();
            *id = engine;
        };
        match event {
            Delivered { call_id, .. }
            | Originated { call_id, .. }
            | Established { call_id, .. }
            | Held { call_id, .. }
            | Retrieved { call_id, .. }
            | Diverted { call_id, .. }
            | Queued { call_id, .. }
            | ConnectionCleared { call_id, .. }
            | Failed { call_id, .. }
            | RouteRequest { call_id, .. } => fix(call_id),
            Transferred {
                call_id,
                secondary_call_id,
                ..
            }
            | Conferenced {
                call_id,
                secondary_call_id,
                ..
            } => {
                fix(call_id);
                // When the switch kept the consultation call's id for the result,
                // that id already means the primary call; the engine must still be
                // told which call was merged.
                if let Some(secondary) = secondary_call_id {
                    if self.engine(secondary) != call_id {
                        fix(secondary);
                    }
                }
            }
            Snapshot(snapshot) => {
                for call in &mut snapshot.calls {
                    fix(&mut call.call_id);
                }
            }
            _ => {}
        }
    }

    /// Translate the call ids of a command for the switch.
    pub fn command_to_switch(&self, command: &mut Command) {
        let fix = |id: &mut String| {
            let switch = self.switch(id).to_string();
            *id = switch;
        };
        match command {
            Command::Answer { call_id, .. }
            | Command::Hangup { call_id, .. }
            | Command::Hold { call_id, .. }
            | Command::Retrieve { call_id, .. }
            | Command::Dtmf { call_id, .. }
            | Command::Monitor { call_id, .. }
            | Command::ForceRelease { call_id } => fix(call_id),
            Command::Transfer {
                call_id,
                consult_call_id,
                ..
            }
            | Command::Conference {
                call_id,
                consult_call_id,
                ..
            } => {
                fix(call_id);
                if let Some(consult) = consult_call_id {
                    fix(consult);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_translate_both_ways() {
        let mut ids = CallIds::default();
        ids.rename("150", "101");
        ids.rename("160", "150");
        assert_eq!(ids.engine("160"), "101");
        assert_eq!(ids.switch("101"), "160");
        let mut event = SwitchEvent::Held {
            call_id: "160".into(),
            device: "1002".into(),
        };
        ids.event_to_engine(&mut event);
        assert_eq!(event.call_id(), Some("101"));
        let mut command = Command::Hangup {
            call_id: "101".into(),
            device: "1002".into(),
        };
        ids.command_to_switch(&mut command);
        assert!(matches!(command, Command::Hangup { call_id, .. } if call_id == "160"));
        assert_eq!(ids.engine("999"), "999");
    }

    #[test]
    fn the_table_is_bounded() {
        let mut ids = CallIds::default();
        for i in 0..CAPACITY + 10 {
            ids.rename(&format!("s{i}"), &format!("e{i}"));
        }
        assert_eq!(ids.engine("s0"), "s0");
        assert_eq!(
            ids.engine(&format!("s{}", CAPACITY + 9)),
            format!("e{}", CAPACITY + 9)
        );
        assert!(ids.to_engine.len() <= CAPACITY);
    }
}

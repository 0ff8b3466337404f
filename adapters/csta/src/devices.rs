//! How the switch names phones. Most CSTA servers name them by extension. Avaya AES
//! (DMCC XML) names them by device ids an application must first ask for with
//! `GetDeviceId` (`1001` → `1001:CM1:0.0.0.0:0`), in requests and in events. The
//! engine always deals in extensions; with `device_ids = "avaya"` the adapter
//! translates both ways here.

use std::collections::HashMap;

use ctibridge_adapter::{Command, SwitchEvent};

/// The Avaya extension service namespace `GetDeviceId` lives in.
pub const AVAYA_NAMESPACE: &str = "http://www.avaya.com/csta";

#[derive(Debug, Default)]
pub struct DeviceNames {
    to_switch: HashMap<String, String>,
    to_engine: HashMap<String, String>,
}

impl DeviceNames {
    /// The switch calls extension `extension` `id`.
    pub fn learn(&mut self, extension: &str, id: &str) {
        self.to_switch.insert(extension.to_string(), id.to_string());
        self.to_engine.insert(id.to_string(), extension.to_string());
    }

    /// The switch's name for a device the engine names (unknown ones as given: an
    /// outside number is dialled as it is).
    pub fn switch(&self, device: &str) -> String {
        self.to_switch
            .get(device)
            .cloned()
            .unwrap_or_else(|| device.to_string())
    }

    /// The engine's name for a device the switch names: a known id's extension, or
    /// for any other DMCC-shaped id (`number:switch:address:instance`) its number.
    pub fn engine(&self, device: &str) -> String {
        if let Some(extension) = self.to_engine.get(device) {
            return extension.clone();
        }
        let parts: Vec<&str> = device.split(':').collect();
        match parts.as_slice() {
            [number, _, _, instance]
                if !number.is_empty() && instance.chars().all(|c| c.is_ascii_digit()) =>
            {
                number.to_string()
            }
            _ => device.to_string(),
        }
    }

    /// Rename every device an event names for the engine.
    pub fn event_to_engine(&self, event: &mut SwitchEvent) {
        use SwitchEvent::*;
        let one = |d: &mut String| *d = self.engine(d);
        let opt = |d: &mut Option<String>| {
            if let Some(d) = d {
                *d = self.engine(d);
            }
        };
        match event {
            Delivered {
                device,
                calling,
                called,
                original_called,
                queue,
                ..
            } => {
                one(device);
                opt(calling);
                opt(called);
                opt(original_called);
                opt(queue);
            }
            Originated { device, called, .. } => {
                one(device);
                opt(called);
            }
            Established {
                device,
                calling,
                called,
                ..
            } => {
                one(device);
                opt(calling);
                opt(called);
            }
            Held { device, .. }
            | Retrieved { device, .. }
            | ConnectionCleared { device, .. }
            | Failed { device, .. }
            | LoggedOn { device, .. }
            | LoggedOff { device, .. }
            | Ready { device, .. }
            | NotReady { device, .. }
            | WorkNotReady { device, .. } => one(device),
            Transferred {
                device,
                transferred_to,
                ..
            } => {
                one(device);
                one(transferred_to);
            }
            Conferenced { device, added, .. } => {
                one(device);
                one(added);
            }
            Diverted { device, to, .. } => {
                one(device);
                one(to);
            }
            Queued {
                queue,
                calling,
                called,
                ..
            } => {
                one(queue);
                opt(calling);
                opt(called);
            }
            RouteRequest {
                calling, called, ..
            } => {
                opt(calling);
                opt(called);
            }
            Snapshot(snapshot) => {
                for call in &mut snapshot.calls {
                    opt(&mut call.calling);
                    opt(&mut call.called);
                    opt(&mut call.queue);
                    for party in &mut call.parties {
                        one(&mut party.device);
                    }
                }
                for agent in &mut snapshot.agents {
                    one(&mut agent.device);
                }
            }
            CallRecord(_) | LinkUp | LinkDown { .. } => {}
        }
    }

    /// Rename every device a command names for the switch.
    pub fn command_to_switch(&self, command: &mut Command) {
        let one = |d: &mut String| *d = self.switch(d);
        let opt = |d: &mut Option<String>| {
            if let Some(d) = d {
                *d = self.switch(d);
            }
        };
        match command {
            Command::MakeCall { from, to } => {
                one(from);
                one(to);
            }
            Command::Answer { device, .. }
            | Command::Hangup { device, .. }
            | Command::Hold { device, .. }
            | Command::Retrieve { device, .. }
            | Command::Dtmf { device, .. }
            | Command::AgentLogin { device, .. }
            | Command::AgentLogout { device, .. }
            | Command::SetAgentState { device, .. } => one(device),
            Command::Transfer { device, to, .. } | Command::Conference { device, to, .. } => {
                one(device);
                opt(to);
            }
            Command::Monitor {
                device,
                supervisor_device,
                ..
            } => {
                one(device);
                one(supervisor_device);
            }
            Command::ForceRelease { .. }
            | Command::RouteSelect { .. }
            | Command::Snapshot
            | Command::SimulateInbound { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_and_device_ids_both_ways() {
        let mut names = DeviceNames::default();
        names.learn("1001", "1001:CM1:0.0.0.0:0");
        assert_eq!(names.switch("1001"), "1001:CM1:0.0.0.0:0");
        assert_eq!(names.switch("+14155550123"), "+14155550123");
        assert_eq!(names.engine("1001:CM1:0.0.0.0:0"), "1001");
        assert_eq!(names.engine("1002:CM1:10.0.0.7:1"), "1002");
        assert_eq!(names.engine("+14155550123"), "+14155550123");
        let mut event = SwitchEvent::Transferred {
            call_id: "1".into(),
            secondary_call_id: None,
            device: "1001:CM1:0.0.0.0:0".into(),
            transferred_to: "1002:CM1:0.0.0.0:0".into(),
        };
        names.event_to_engine(&mut event);
        assert!(
            matches!(&event, SwitchEvent::Transferred { device, transferred_to, .. } if device == "1001" && transferred_to == "1002")
        );
        let mut command = Command::Monitor {
            call_id: "1".into(),
            device: "1001".into(),
            supervisor_device: "2001".into(),
            mode: ctibridge_adapter::MonitorMode::Silent,
        };
        names.command_to_switch(&mut command);
        assert!(
            matches!(&command, Command::Monitor { device, supervisor_device, .. } if device == "1001:CM1:0.0.0.0:0" && supervisor_device == "2001")
        );
    }
}

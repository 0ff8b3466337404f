//! Reading the switch's current state after (re)connecting: SnapshotDevice for every
//! monitored device and GetAgentState for every agent phone, merged into one
//! [`Snapshot`] so the engine can drop calls that ended during an outage and adopt
//! ones that started.

use std::collections::BTreeMap;

use ctibridge_adapter::{
    AgentSnapshot, AgentState, PartySnapshot, PartyState, Snapshot, SnapshotCall,
};

use crate::events::device_of;
use crate::xml::Element;

/// Collects device snapshots into one.
#[derive(Debug, Default)]
pub struct SnapshotBuilder {
    calls: BTreeMap<String, SnapshotCall>,
    agents: Vec<AgentSnapshot>,
}

impl SnapshotBuilder {
    /// Add a `SnapshotDeviceResponse` for `device`.
    pub fn add_device(&mut self, device: &str, response: &Element) {
        let mut infos = Vec::new();
        response.find_all("snapshotDeviceResponseInfo", &mut infos);
        for info in infos {
            let Some(call_id) = info.find_text("callID") else {
                continue;
            };
            let state = info
                .find_text("localConnectionState")
                .or_else(|| info.find_text("localCallState"))
                .and_then(party_state);
            let Some(state) = state else {
                continue;
            };
            let call = self
                .calls
                .entry(call_id.to_string())
                .or_insert_with(|| SnapshotCall {
                    call_id: call_id.to_string(),
                    calling: None,
                    called: None,
                    queue: None,
                    parties: Vec::new(),
                });
            // ANI and DNIS are not in ECMA's snapshot; switches that give them put
            // them in private data or extensions.
            if call.calling.is_none() {
                call.calling = info.find("callingDevice").and_then(device_of);
            }
            if call.called.is_none() {
                call.called = info.find("calledDevice").and_then(device_of);
            }
            if state == PartyState::Queued {
                call.queue = Some(device.to_string());
            }
            if !call.parties.iter().any(|p| p.device == device) {
                call.parties.push(PartySnapshot {
                    device: device.to_string(),
                    state,
                });
            }
        }
    }

    /// The calls whose caller no snapshot named yet.
    pub fn calls_without_caller(&self) -> Vec<String> {
        self.calls
            .values()
            .filter(|c| c.calling.is_none())
            .map(|c| c.call_id.clone())
            .collect()
    }

    /// Add a `SnapshotCallResponse` for the switch's call `call_id`: its calling
    /// and called devices (ECMA-285's SnapshotCallResult carries them).
    pub fn add_call(&mut self, call_id: &str, response: &Element) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        if call.calling.is_none() {
            call.calling = response.find("callingDevice").and_then(device_of);
        }
        if call.called.is_none() {
            call.called = response.find("calledDevice").and_then(device_of);
        }
    }

    /// Add a `GetAgentStateResponse` for `device`.
    pub fn add_agents(&mut self, device: &str, response: &Element) {
        let mut entries = Vec::new();
        response.find_all("agentStateEntry", &mut entries);
        if entries.is_empty() {
            // Older editions answer with one agent's fields at the top level.
            entries.push(response);
        }
        for entry in entries {
            // CSTA Phase II's QueryDevice names the state alone: it is the agent's at
            // the device asked about, known by that device (no agent: agentNull).
            let Some(agent) = entry.find_text("agentID").or_else(|| {
                entry
                    .find_text("agentState")
                    .filter(|s| *s != "agentNull")
                    .map(|_| device)
            }) else {
                continue;
            };
            let logged_on = entry.find_text("loggedOnState") != Some("false");
            let state = match (logged_on, entry.find_text("agentState")) {
                (false, _) | (_, Some("agentNull")) => AgentState::LoggedOut,
                (_, Some("agentNotReady")) => AgentState::NotReady {
                    reason: entry.find_text("reasonCode").map(String::from),
                },
                (_, Some("agentWorkingAfterCall")) => AgentState::Acw,
                // Ready or busy on a call: the agent state is ready (the phone's state
                // comes from the call snapshot).
                _ => AgentState::Ready,
            };
            if self.agents.iter().any(|a| a.agent == agent) {
                continue;
            }
            self.agents.push(AgentSnapshot {
                agent: agent.to_string(),
                device: device.to_string(),
                state,
            });
        }
    }

    pub fn finish(self) -> Snapshot {
        Snapshot {
            calls: self.calls.into_values().collect(),
            agents: self.agents,
        }
    }
}

fn party_state(text: &str) -> Option<PartyState> {
    Some(match text {
        "alerting" => PartyState::Alerting,
        "connected" => PartyState::Connected,
        "hold" | "held" => PartyState::Held,
        "initiated" => PartyState::Initiated,
        "queued" => PartyState::Queued,
        // null, fail: no live connection.
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(call: &str, device: &str, state: &str, extra: &str) -> String {
        format!(
            "<snapshotDeviceResponseInfo><connectionIdentifier><callID>{call}</callID><deviceID>{device}</deviceID></connectionIdentifier>\
             <localCallState><compoundCallState><localConnectionState>{state}</localConnectionState></compoundCallState></localCallState>{extra}</snapshotDeviceResponseInfo>"
        )
    }

    #[test]
    fn devices_merge_into_calls() {
        let mut builder = SnapshotBuilder::default();
        let at_1001 = format!(
            "<SnapshotDeviceResponse><crossRefIDorSnapshotData><snapshotData>{}{}</snapshotData></crossRefIDorSnapshotData></SnapshotDeviceResponse>",
            info("101", "1001", "connected", "<privateData><private><callingDevice>+14155550123</callingDevice><calledDevice>8005550100</calledDevice></private></privateData>"),
            info("102", "1001", "null", "")
        );
        builder.add_device("1001", &Element::parse(at_1001.as_bytes()).unwrap());
        let at_8000 = format!(
            "<SnapshotDeviceResponse><snapshotData>{}</snapshotData></SnapshotDeviceResponse>",
            info("103", "8000", "queued", "")
        );
        builder.add_device("8000", &Element::parse(at_8000.as_bytes()).unwrap());
        let agents = "<GetAgentStateResponse><agentStateList><agentStateEntry><agentID>5001</agentID><loggedOnState>true</loggedOnState>\
            <agentInfo><agentInfoItem><agentState>agentNotReady</agentState></agentInfoItem></agentInfo>\
            <privateData><private><reasonCode>lunch</reasonCode></private></privateData></agentStateEntry></agentStateList></GetAgentStateResponse>";
        builder.add_agents("1001", &Element::parse(agents.as_bytes()).unwrap());
        let snapshot = builder.finish();
        assert_eq!(snapshot.calls.len(), 2);
        assert_eq!(snapshot.calls[0].call_id, "101");
        assert_eq!(snapshot.calls[0].calling.as_deref(), Some("+14155550123"));
        assert_eq!(snapshot.calls[0].parties[0].state, PartyState::Connected);
        assert_eq!(snapshot.calls[1].queue.as_deref(), Some("8000"));
        assert_eq!(
            snapshot.agents[0].state,
            AgentState::NotReady {
                reason: Some("lunch".into())
            }
        );
    }
}

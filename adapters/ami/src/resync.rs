//! After every (re)connect: rebuild the tracker from `CoreShowChannels` (one
//! CoreShowChannel per live channel) and `QueueStatus` (QueueParams, QueueMember,
//! QueueEntry), and make the adapter's [`Snapshot`].
//!
//! A call that survived the outage keeps what the tracker knew of it (caller, DNIS,
//! queue, which legs were popped), so it keeps its id and no leg pops twice; a call
//! whose channels are gone is left out of the snapshot, which ends it in the engine;
//! agents' membership and pause states come from the QueueMember items.

use std::collections::HashMap;

use ctibridge_adapter::{PartySnapshot, PartyState, Snapshot, SnapshotCall};

use crate::codec::OwnedMessage;
use crate::tracker::{channel, Call, Chan, Leg, LegState, Tracker};

fn leg_state(desc: &str, before: Option<LegState>) -> Option<LegState> {
    match desc {
        "Ringing" => Some(LegState::Alerting),
        "Up" => Some(match before {
            Some(LegState::Held) => LegState::Held,
            _ => LegState::Connected,
        }),
        "Ring" | "Dialing" | "Pre-ring" => Some(LegState::Initiated),
        _ => None,
    }
}

/// Rebuild `tracker` from the lists and return the snapshot.
pub fn rebuild(
    tracker: &mut Tracker,
    channels: &[OwnedMessage],
    queue_status: &[OwnedMessage],
) -> Snapshot {
    let old_calls = std::mem::take(&mut tracker.calls);
    let old_channels = std::mem::take(&mut tracker.channels);
    for item in channels {
        item.with(|m| {
            let (Some(u), Some(name)) = (m.get("Uniqueid"), m.get("Channel")) else {
                return;
            };
            let linkedid = m.get("Linkedid").unwrap_or(u);
            let parsed = channel::parse(name);
            let device = parsed
                .filter(|p| !p.local && tracker.is_monitored(p.resource))
                .map(|p| p.resource.to_string());
            let chan = Chan {
                name: name.to_string(),
                linkedid: linkedid.to_string(),
                device,
                local: parsed.is_some_and(|p| p.local),
                caller: channel::number(m.get("CallerIDNum")).map(String::from),
                exten: m
                    .get("Exten")
                    .filter(|e| !e.is_empty() && *e != "s")
                    .map(String::from),
                state: m.get("ChannelStateDesc").unwrap_or("").to_string(),
            };
            tracker.channels.insert(u.to_string(), chan);
        });
    }
    // Aliases of merged calls stay while the merged channels live.
    let live: std::collections::HashSet<String> = tracker
        .channels
        .values()
        .map(|c| c.linkedid.clone())
        .collect();
    tracker.alias.retain(|from, _| live.contains(from));
    let mut calls: HashMap<String, Call> = HashMap::new();
    let mut uniqueids: Vec<&String> = tracker.channels.keys().collect();
    uniqueids.sort();
    for u in uniqueids {
        let chan = &tracker.channels[u];
        let id = tracker.call_id(&chan.linkedid).to_string();
        let call = calls
            .entry(id.clone())
            .or_insert_with(|| match old_calls.get(&id) {
                Some(old) => Call {
                    legs: Vec::new(),
                    channels: 0,
                    queued: false,
                    ..old.clone()
                },
                None => Call {
                    origin: chan.linkedid.clone(),
                    ..Call::default()
                },
            });
        call.channels += 1;
        if *u == call.origin {
            call.caller = call.caller.clone().or(chan.caller.clone());
            call.dnis = call.dnis.clone().or(chan.exten.clone());
        }
        if let Some(device) = &chan.device {
            let before = old_calls
                .get(&id)
                .and_then(|c| c.legs.iter().find(|l| l.uniqueid == *u))
                .map(|l| l.state);
            if let Some(state) = leg_state(&chan.state, before) {
                if state == LegState::Connected {
                    call.answered = true;
                }
                if *u == call.origin && state == LegState::Connected {
                    call.originated = true;
                }
                call.legs.push(Leg {
                    device: device.clone(),
                    uniqueid: u.clone(),
                    state,
                });
            }
        }
    }
    drop(old_channels);
    let mut agents = Vec::new();
    let mut members = Vec::new();
    for item in queue_status {
        let event = item
            .fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Event"))
            .map(|(_, v)| v.as_str());
        match event {
            Some("QueueMember") => members.push(item),
            Some("QueueEntry") => item.with(|m| {
                let (Some(queue), Some(u)) =
                    (m.get("Queue"), m.get("Uniqueid").or(m.get("Channel")))
                else {
                    return;
                };
                let linkedid = tracker
                    .channels
                    .get(u)
                    .or_else(|| tracker.channels.values().find(|c| c.name == u))
                    .map(|c| c.linkedid.clone());
                if let Some(linkedid) = linkedid {
                    let id = tracker.call_id(&linkedid).to_string();
                    if let Some(call) = calls.get_mut(&id) {
                        call.queue = Some(queue.to_string());
                        call.queued = true;
                        if call.caller.is_none() {
                            call.caller = channel::number(m.get("CallerIDNum")).map(String::from);
                        }
                    }
                }
            }),
            _ => {}
        }
    }
    agents.extend(tracker.agents.resync(members.into_iter()));
    let mut out: Vec<SnapshotCall> = Vec::new();
    let mut ids: Vec<&String> = calls.keys().collect();
    ids.sort();
    for id in ids {
        let call = &calls[id];
        if call.legs.is_empty() && !call.queued {
            continue;
        }
        let mut parties: Vec<PartySnapshot> = call
            .legs
            .iter()
            .map(|l| PartySnapshot {
                device: l.device.clone(),
                state: match l.state {
                    LegState::Alerting | LegState::Pending => PartyState::Alerting,
                    LegState::Initiated => PartyState::Initiated,
                    LegState::Connected => PartyState::Connected,
                    LegState::Held => PartyState::Held,
                },
            })
            .collect();
        let origin_is_leg = call.legs.iter().any(|l| l.uniqueid == call.origin);
        if let (Some(caller), true, false) = (
            &call.caller,
            tracker.channels.contains_key(&call.origin),
            origin_is_leg,
        ) {
            parties.insert(
                0,
                PartySnapshot {
                    device: caller.clone(),
                    state: PartyState::Connected,
                },
            );
        }
        if call.queued && !call.answered {
            if let Some(queue) = &call.queue {
                parties.push(PartySnapshot {
                    device: queue.clone(),
                    state: PartyState::Queued,
                });
            }
        }
        out.push(SnapshotCall {
            call_id: id.clone(),
            calling: call.caller.clone(),
            called: call.dnis.clone(),
            queue: call.queue.clone(),
            parties,
        });
    }
    tracker.calls = calls;
    Snapshot { calls: out, agents }
}

//! Transfers: BlindTransfer, and AttendedTransfer with each `DestType`.
//!
//! Asterisk keeps each channel's Linkedid through a transfer, so after an attended
//! transfer the target's channels still carry the consultation call's Linkedid.
//! The tracker makes that Linkedid an alias of the customer's call, moves the
//! consultation legs over, and reports the merge (`secondary_call_id`), so the call
//! id and the original caller run through the transfer.

use ctibridge_adapter::SwitchEvent;

use super::{channel, LegState, Tracker};
use crate::codec::Message;

impl Tracker {
    fn id_of_channel(&self, uniqueid: Option<&str>, linkedid: Option<&str>) -> Option<String> {
        let linkedid =
            linkedid.or_else(|| self.channels.get(uniqueid?).map(|c| c.linkedid.as_str()))?;
        Some(self.call_id(linkedid).to_string())
    }

    /// Forget a leg that left by transferring (it gets no ConnectionCleared).
    fn drop_leg(&mut self, id: &str, uniqueid: &str) {
        if let Some(call) = self.calls.get_mut(id) {
            call.legs.retain(|l| l.uniqueid != uniqueid);
        }
    }

    pub(super) fn on_blind_transfer(&mut self, msg: &Message<'_>, out: &mut Vec<SwitchEvent>) {
        if msg.get("Result").is_some_and(|r| r != "Success") {
            return;
        }
        let Some(tu) = msg.get("TransfererUniqueid") else {
            return;
        };
        let Some(device) = self.channels.get(tu).and_then(|c| c.device.clone()) else {
            return;
        };
        let Some(id) = self.id_of_channel(Some(tu), msg.get("TransfererLinkedid")) else {
            return;
        };
        let to = msg.get("Extension").unwrap_or("").to_string();
        self.drop_leg(&id, tu);
        out.push(SwitchEvent::Transferred {
            call_id: id,
            secondary_call_id: None,
            device,
            transferred_to: to,
        });
    }

    pub(super) fn on_attended_transfer(&mut self, msg: &Message<'_>, out: &mut Vec<SwitchEvent>) {
        if msg.get("Result").is_some_and(|r| r != "Success") {
            return;
        }
        let dest_type = msg.get("DestType").unwrap_or("");
        if dest_type == "Fail" {
            return;
        }
        let ou = msg.get("OrigTransfererUniqueid");
        let su = msg.get("SecondTransfererUniqueid");
        let (Some(first), Some(second)) = (
            self.id_of_channel(ou, msg.get("OrigTransfererLinkedid")),
            self.id_of_channel(su, msg.get("SecondTransfererLinkedid")),
        ) else {
            return;
        };
        let transferer = [ou, su]
            .into_iter()
            .flatten()
            .find_map(|u| self.channels.get(u).and_then(|c| c.device.clone()));
        let Some(device) = transferer else { return };
        // The customer's call is the one whose caller is not the transferring phone.
        let first_is_customer = self
            .calls
            .get(&first)
            .is_some_and(|c| c.caller.as_deref() != Some(device.as_str()));
        let (primary, secondary) = if first_is_customer || first == second {
            (first, second)
        } else {
            (second, first)
        };
        // Who the customer ends up with.
        let target = msg
            .get("TransferTargetChannel")
            .and_then(channel::device)
            .map(String::from)
            .or_else(|| {
                let call = self.calls.get(&secondary)?;
                call.legs
                    .iter()
                    .find(|l| l.device != device)
                    .map(|l| l.device.clone())
            })
            .or_else(|| msg.get("DestApp").map(String::from))
            .or_else(|| {
                msg.get("SecondTransfererConnectedLineNum")
                    .map(String::from)
            })
            .unwrap_or_default();
        self.merge(&primary, &secondary);
        let threeway = dest_type == "Threeway";
        if !threeway {
            for u in [ou, su].into_iter().flatten() {
                self.drop_leg(&primary, u);
            }
        }
        let secondary_call_id = (primary != secondary).then_some(secondary);
        out.push(if threeway {
            SwitchEvent::Conferenced {
                call_id: primary,
                secondary_call_id,
                device,
                added: target,
            }
        } else {
            SwitchEvent::Transferred {
                call_id: primary,
                secondary_call_id,
                device,
                transferred_to: target,
            }
        });
    }

    /// `secondary`'s legs and channels become `primary`'s.
    fn merge(&mut self, primary: &str, secondary: &str) {
        if primary == secondary {
            return;
        }
        let Some(merged) = self.calls.remove(secondary) else {
            return;
        };
        self.alias
            .insert(secondary.to_string(), primary.to_string());
        for to in self.alias.values_mut() {
            if to == secondary {
                *to = primary.to_string();
            }
        }
        if let Some(call) = self.calls.get_mut(primary) {
            call.channels += merged.channels;
            for leg in merged.legs {
                if leg.state != LegState::Pending {
                    call.legs.push(leg);
                }
            }
            call.answered |= merged.answered;
        }
    }
}

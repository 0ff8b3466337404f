//! A mapped CSTA event as a `ctibridge decode` line, shared by the XML and the BER
//! decoders: its call named as the adapter would name it.

use ctibridge_adapter::{AdapterEvent, Decoded};

use crate::correlate::Correlator;
use crate::devices::DeviceNames;
use crate::events::{CstaEvent, Mapped};

/// A mapped event as a decode item, with its call named as the adapter would
/// (calls named only by device get their made-up id, shown as left out). Route
/// dialogue ends are not events.
pub(crate) fn described(
    mapped: Mapped,
    calls: &mut Correlator,
    names: &DeviceNames,
) -> Option<Decoded> {
    let (mut event, renames) = match mapped.event {
        CstaEvent::Switch(event) => (event, Vec::new()),
        CstaEvent::Renamed { event, renames } => (event, renames),
        CstaEvent::RouteEnd { .. } => return None,
    };
    let unnamed = event.call_id() == Some("");
    calls.resolve(&mut event, &renames);
    names.event_to_engine(&mut event);
    let mut keys: Vec<(String, Option<String>)> = mapped
        .details
        .into_iter()
        .map(|(k, v)| (k.to_string(), Some(v)))
        .collect();
    if unnamed {
        keys.push(("call_id".into(), None));
    }
    Some(Decoded::Described {
        event: AdapterEvent::from(event),
        keys,
    })
}

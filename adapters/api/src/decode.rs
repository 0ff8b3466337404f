//! What `ctibridge decode` asks of an adapter: turn a capture (a framed CSTA stream,
//! an SMDR printout, …) into the events the adapter would send the engine, without
//! any switch or network.
//!
//! Decoding is offline and total: every byte of the input ends up either in an event
//! or in a [`DecodeIssue`] that says where it was and what was wrong with it, so a
//! sysadmin can check a capture from a switch before pointing ctibridge at it.

use crate::event::AdapterEvent;

/// Options from the command line.
#[derive(Debug, Clone, Default)]
pub struct DecodeOptions {
    /// `--format`: the adapter's own notion (an SMDR format name or a format file, a
    /// CSTA framing, …). `None` means the adapter's default.
    pub format: Option<String>,
    /// `--phase`: the CSTA phase (2 or 3) of a BER capture (`--format ber`).
    /// `None` means the adapter's default.
    pub phase: Option<String>,
}

/// One part of the input that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeIssue {
    /// Where it was, in the adapter's terms: `line 12`, `frame 3 (bytes 512..610)`.
    pub position: String,
    pub message: String,
}

/// One item of a decoded capture, in input order. (Decoding is offline and items are
/// few; boxing the event would buy nothing.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    Event(AdapterEvent),
    /// An event with decode keys its variant has no field for: the switch's
    /// `cause` on a held or transferred call, the raw form of a device
    /// (`calling_raw`), or a key to leave out (`None`), such as a `call_id` the
    /// adapter made up because the switch named the call only by its device.
    Described {
        event: AdapterEvent,
        keys: Vec<(String, Option<String>)>,
    },
    Issue(DecodeIssue),
}

/// An adapter's decoder. `Err` is for options that cannot work at all (an unknown
/// format name); problems inside the input are [`Decoded::Issue`]s.
pub type DecodeFn = fn(&DecodeOptions, &[u8]) -> Result<Vec<Decoded>, String>;

//! CSTA as ASN.1 BER (`encoding = "ber"`): the older switches' link (Alcatel
//! OmniPCX Enterprise, Hicom/HiPath 4000, Ericsson MD110/MX-ONE), Phase II
//! (ECMA-217/218) or Phase III (ECMA-285).
//!
//! One adapter, two codecs: ECMA-323 is the XML rendering of ECMA-285's ASN.1 with
//! the same names, so this module turns each APDU into the element the XML link
//! would have carried ([`read`]) and each request element into an APDU
//! ([`write`]); the session, monitors, snapshot, call-id translation, correlation
//! and dedup are the XML link's.
//!
//! - [`node`]: BER values as a tree, read and written by rasn.
//! - [`rose`]: the ROSE envelope (invoke / returnResult / returnError / reject).
//! - [`module`]: what a phase's table holds; [`phase2`] and [`phase3`] the tables;
//!   [`phase`] which one a link uses.
//! - [`read`] and [`write`]: APDU to element, element to APDU; [`answer`]: the
//!   results and errors of our requests; [`value`]: the values both read.
//! - [`acse`]: the AARQ/AARE association some switches want first (`acse = true`).
//! - Routing (Phase III): the switch's RouteRequest / RouteEndRequest invokes are
//!   read through the table's `invoked` arguments, our RouteRegister /
//!   RouteSelectRequest / RouteEndRequest written by [`write`].
//! - [`framing`]: the 2-byte length before each APDU.
//! - [`decode`]: `ctibridge decode --adapter csta --format ber`.

pub mod acse;
pub mod answer;
pub mod decode;
pub mod framing;
pub mod module;
pub mod node;
pub mod phase;
pub mod phase2;
pub mod phase3;
pub mod read;
pub mod rose;
pub mod value;
pub mod write;

#[cfg(test)]
mod routing_tests;

pub use module::Module;
pub use phase::Phase;
pub use read::{read, ApduError, Inbound};
pub use write::{can_send, write, WriteError};

//! The `sip` adapter: SIP PBXs that expose the dialog event package (RFC 4235) for
//! their extensions (Asterisk/FreePBX, FreeSWITCH, Kamailio presence, hosted PBXs).
//!
//! Map of the crate:
//! - [`dialog_info`]: `application/dialog-info+xml` documents.
//! - [`monitor`]: one extension's dialog state and the normalised events it makes.
pub mod dialog_info;
pub mod monitor;
pub mod digest;
pub mod message;

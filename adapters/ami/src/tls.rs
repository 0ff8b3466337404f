//! `tls = true`: the manager port over TLS (Asterisk's `manager.conf` `tlsenable`, usually
//! port 5039). The client configuration and handshake are the adapter crate's, shared
//! with the other adapters that link over TLS.

pub use ctibridge_adapter::tls::{client_config, connect, ByteStream as AmiStream};

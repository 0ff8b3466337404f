//! The `sip` adapter: SIP PBXs that publish their extensions' calls through the
//! dialog event package (RFC 4235 over RFC 6665 subscriptions): Asterisk/FreePBX
//! (res_pjsip_exten_state), FreeSWITCH, Kamailio/OpenSIPS presence, hosted PBXs;
//! and, with `mode = "uacsta"`, servers that carry CSTA XML in a SIP session
//! (ECMA TR/87: Microsoft OCS/Lync remote call control gateways and the like).
//!
//! Map of the crate:
//! - [`config`]: the `[[switch]]` keys ([`SipConfig`]) and their example.
//! - [`message`]: SIP messages (parsed with rsip) by canonical header name,
//!   responses, requests, stream framing.
//! - [`digest`]: answering 401/407 challenges (RFC 8760 MD5/SHA-256, qop=auth).
//! - [`dial`]: click-to-dial by third-party call control (INVITE, then REFER).
//! - [`dialog_info`]: `application/dialog-info+xml` documents.
//! - [`csta_body`]: `application/csta+xml` bodies, read with the csta adapter's code.
//! - [`uacsta`]: one uaCSTA session (INVITE, INFOs, keep-alive, commands).
//! - [`monitor`]: one extension's dialog state and the normalised events it makes.
//! - [`subscriptions`]: one SUBSCRIBE dialog per extension, refreshes, 481.
//! - [`transaction`]: RFC 3261 retransmission (Timer E) and timeout (Timer F).
//! - [`transport`]: the UDP socket or TCP stream to the PBX.
//! - [`session`]: one run of the link in dialog mode.
//! - [`adapter`]: reconnect with backoff.
//! - [`decode`]: `ctibridge decode --adapter sip`.

pub mod adapter;
pub mod config;
pub mod csta_body;
pub mod decode;
pub mod dial;
pub mod dialog_info;
pub mod digest;
pub mod message;
pub mod monitor;
pub mod session;
pub mod subscriptions;
pub mod transaction;
pub mod transport;
pub mod uacsta;

use ctibridge_adapter::{Adapter, AdapterFactory, SettingsError, SwitchSettings};

pub use adapter::SipAdapter;
pub use config::SipConfig;

/// How the daemon builds a `sip` adapter from its `[[switch]]` table.
pub fn factory() -> AdapterFactory {
    AdapterFactory {
        name: "sip",
        summary: "SIP dialog events (RFC 4235) from Asterisk/FreePBX, FreeSWITCH, Kamailio and other SIP PBXs, or CSTA in SIP (uaCSTA, ECMA TR/87)",
        example: config::EXAMPLE,
        build,
        decode: Some(decode::decode),
    }
}

fn build(settings: &SwitchSettings) -> Result<Box<dyn Adapter>, SettingsError> {
    let config: SipConfig = settings.parse(&["request_timeout_s"])?;
    config.validate(&settings.devices)?;
    Ok(Box::new(SipAdapter::new(config, settings.devices.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctibridge_adapter::config_kit::switch_settings as settings;

    #[test]
    fn the_example_builds() {
        let adapter = (factory().build)(&settings(factory().example)).expect("example builds");
        assert!(adapter.capabilities().live_calls);
        assert_eq!(
            adapter.capabilities().commands,
            [ctibridge_adapter::CommandKind::MakeCall].into()
        );
    }

    #[test]
    fn uacsta_declares_the_phone_controls_and_no_agent_states() {
        let adapter = (factory().build)(&settings(
            "[[switch]]\nname='p'\nadapter='sip'\ndevices=['1001']\nmode='uacsta'\nhost='h'",
        ))
        .expect("builds");
        let capabilities = adapter.capabilities();
        assert_eq!(capabilities.commands, uacsta::SUPPORTED.into());
        assert!(capabilities.supports(ctibridge_adapter::CommandKind::Hold));
        assert!(!capabilities.agent_states);
    }

    #[test]
    fn a_misspelt_key_is_named() {
        let err = (factory().build)(&settings(
            "[[switch]]\nname='p'\nadapter='sip'\ndevices=['1001']\nmode='dialog'\nhost='h'\nexpirse=60",
        ))
        .err()
        .unwrap();
        assert_eq!(err.key.as_deref(), Some("expirse"));
    }
}

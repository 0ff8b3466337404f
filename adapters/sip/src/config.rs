//! The `sip` adapter's `[[switch]]` keys ([`SipConfig`]), their documented example,
//! and the checks that turn a table that cannot work into a [`SettingsError`]
//! naming the key.

use std::net::SocketAddr;
use std::time::Duration;

use ctibridge_adapter::duration::{millis, seconds};
use ctibridge_adapter::SettingsError;
use serde::Deserialize;

/// The `sip` adapter's keys. `devices` (the extensions to watch) is a shared key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    /// `dialog` (RFC 4235 dialog events) or `uacsta` (CSTA in SIP, ECMA TR/87).
    pub mode: Mode,
    /// The PBX (registrar/presence server) that takes our SUBSCRIBEs.
    pub host: String,
    /// Default 5060, or 5061 with `transport = "tls"`: read it through [`SipConfig::port`].
    #[serde(default, rename = "port")]
    pub port_key: Option<u16>,
    #[serde(default)]
    pub transport: Transport,
    /// With `transport = "tls"`: the PEM file of the CA that signed the PBX's
    /// certificate (PBXs mostly use their own CA); without it the Mozilla roots.
    #[serde(default)]
    pub tls_ca: Option<std::path::PathBuf>,
    /// Our bind address `ADDR:PORT` (default: any address, port 5060 on UDP and an
    /// ephemeral one on TCP). The PBX sends its NOTIFYs here, so it must be
    /// reachable from the PBX.
    #[serde(default)]
    pub local: Option<String>,
    /// The domain of the extensions' URIs (`sip:1001@domain`); default `host`.
    #[serde(default)]
    pub domain: Option<String>,
    /// `uacsta`: the CSTA server's SIP URI, the INVITE's target; read it through
    /// [`SipConfig::server_uri`] (default `sip:csta@DOMAIN`).
    #[serde(default)]
    pub server_uri: Option<String>,
    /// Requested subscription lifetime in seconds; refreshed before it runs out,
    /// sooner when the PBX grants less.
    #[serde(default = "default_expires")]
    pub expires: u32,
    /// Digest credentials for challenged requests (RFC 8760 MD5/SHA-256).
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// RFC 3261 timer T1 (round-trip estimate) in ms; UDP retransmissions start at
    /// T1 and double to 4 s, and a request unanswered for 64×T1 means the PBX is away.
    #[serde(rename = "timer_t1_ms", default = "default_t1", with = "millis")]
    pub timer_t1: Duration,
    #[serde(
        rename = "request_timeout_s",
        default = "default_request_timeout",
        with = "seconds"
    )]
    pub request_timeout: Duration,
    /// Backoff between attempts after the PBX stopped answering, doubling, with jitter.
    #[serde(
        rename = "reconnect_min_s",
        default = "default_reconnect_min",
        with = "seconds"
    )]
    pub reconnect_min: Duration,
    #[serde(
        rename = "reconnect_max_s",
        default = "default_reconnect_max",
        with = "seconds"
    )]
    pub reconnect_max: Duration,
    /// Click-to-dial where the phone or PBX refuses REFER: call the destination
    /// ourselves and join the phone to it by re-INVITE (RFC 3725), staying in the
    /// call's signalling path. Off: such a dial fails with `not_supported`.
    #[serde(default = "default_refer_fallback")]
    pub refer_fallback: bool,
}

/// The `mode = …` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Dialog,
    Uacsta,
}

/// The `transport = …` key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    #[default]
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    /// As written in Via headers.
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }
}

fn default_refer_fallback() -> bool {
    true
}
fn default_expires() -> u32 {
    3600
}
fn default_t1() -> Duration {
    Duration::from_millis(500)
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_reconnect_min() -> Duration {
    Duration::from_secs(1)
}
fn default_reconnect_max() -> Duration {
    Duration::from_secs(60)
}

impl SipConfig {
    /// Check what serde cannot.
    pub fn validate(&self, devices: &[String]) -> Result<(), SettingsError> {
        if let Some(uri) = &self.server_uri {
            if self.mode != Mode::Uacsta {
                return Err(SettingsError::new(
                    "server_uri",
                    "is set but mode is not \"uacsta\"",
                ));
            }
            let scheme = uri.starts_with("sip:") || uri.starts_with("sips:");
            if !scheme || uri.contains(['<', '>', '"', ' ', '\r', '\n']) {
                return Err(SettingsError::new(
                    "server_uri",
                    format!("server_uri = \"{uri}\" is not a SIP URI (e.g. \"sip:csta@10.0.0.7\")"),
                ));
            }
        }
        if self.transport == Transport::Tls {
            ctibridge_adapter::tls::client_config(self.tls_ca.as_deref())
                .map_err(|e| SettingsError::new("tls_ca", e))?;
        } else if self.tls_ca.is_some() {
            return Err(SettingsError::new(
                "tls_ca",
                "is set but transport is not \"tls\"",
            ));
        }
        if devices.is_empty() {
            return Err(SettingsError::new(
                "devices",
                "list the extensions to watch, e.g. devices = [\"1001\", \"1002\"]",
            ));
        }
        if self.host.trim().is_empty() {
            return Err(SettingsError::new("host", "host is empty"));
        }
        if let Some(local) = &self.local {
            local.parse::<SocketAddr>().map_err(|_| {
                SettingsError::new(
                    "local",
                    format!("local = \"{local}\" is not ADDR:PORT (e.g. \"0.0.0.0:5070\")"),
                )
            })?;
        }
        if !(60..=86_400).contains(&self.expires) {
            return Err(SettingsError::new(
                "expires",
                "expires must be between 60 and 86400 seconds",
            ));
        }
        if !(Duration::from_millis(10)..=Duration::from_secs(10)).contains(&self.timer_t1) {
            return Err(SettingsError::new(
                "timer_t1_ms",
                "timer_t1_ms must be between 10 and 10000",
            ));
        }
        if self.password.is_some() != self.username.is_some() {
            let key = if self.password.is_some() {
                "password"
            } else {
                "username"
            };
            return Err(SettingsError::new(key, "username and password go together"));
        }
        for (key, value) in [
            ("request_timeout_s", self.request_timeout),
            ("reconnect_min_s", self.reconnect_min),
            ("reconnect_max_s", self.reconnect_max),
        ] {
            if value > Duration::from_secs(3600) {
                return Err(SettingsError::new(
                    key,
                    format!("{key} must be between 0 and 3600 seconds"),
                ));
            }
        }
        Ok(())
    }

    /// The PBX's port: `port`, or the transport's standard one (RFC 3261 §19.1.2).
    pub fn port(&self) -> u16 {
        self.port_key.unwrap_or(match self.transport {
            Transport::Tls => 5061,
            Transport::Udp | Transport::Tcp => 5060,
        })
    }

    pub fn domain(&self) -> &str {
        self.domain.as_deref().unwrap_or(&self.host)
    }

    /// uaCSTA: the URI our INVITE goes to.
    pub fn server_uri(&self) -> String {
        self.server_uri
            .clone()
            .unwrap_or_else(|| format!("sip:csta@{}", self.domain()))
    }

    pub fn t1(&self) -> Duration {
        self.timer_t1
    }
}

/// An example `[[switch]]` table for the docs and `--help`.
pub const EXAMPLE: &str = r#"[[switch]]
name = "pbx1"
adapter = "sip"
mode = "dialog"                    # dialog (RFC 4235 dialog events) | uacsta (CSTA in SIP, ECMA TR/87)
host = "10.0.0.7"                  # the PBX that takes SUBSCRIBE for the extensions
port = 5060                        # default 5060, 5061 with tls
transport = "udp"                  # udp | tcp | tls
# tls_ca = "/etc/ctibridge/pbx-ca.pem"  # with tls: the CA that signed the PBX's certificate
local = "0.0.0.0:5070"             # where the PBX sends its NOTIFYs
# domain = "pbx.example.com"       # URIs are sip:EXT@domain; default: host
# server_uri = "sip:csta@10.0.0.7" # uacsta: the CSTA server's URI; default sip:csta@DOMAIN
devices = ["1001", "1002"]         # extensions to watch
# expires = 3600                   # subscription lifetime (uacsta: session interval) asked for
username = "ctibridge"             # digest credentials (MD5 or SHA-256)
password = "secret"
# timer_t1_ms = 500                # RFC 3261 T1; the PBX is away after 64×T1 unanswered
# reconnect_min_s = 1
# reconnect_max_s = 60
# refer_fallback = true            # REFER refused: call the destination and re-INVITE the phone
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SipConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn defaults() {
        let c = parse("mode='dialog'\nhost='pbx'").unwrap();
        assert_eq!(c.port(), 5060);
        let tls = parse("mode='dialog'\nhost='pbx'\ntransport='tls'").unwrap();
        assert_eq!(tls.port(), 5061);
        tls.validate(&["1001".into()]).unwrap();
        assert_eq!(c.transport, Transport::Udp);
        assert_eq!(c.expires, 3600);
        assert_eq!(c.domain(), "pbx");
        assert!(c.refer_fallback);
        c.validate(&["1001".into()]).unwrap();
        let u = parse("mode='uacsta'\nhost='pbx'\ndomain='example.com'").unwrap();
        u.validate(&["1001".into()]).unwrap();
        assert_eq!(u.server_uri(), "sip:csta@example.com");
    }

    #[test]
    fn what_cannot_work_is_named() {
        let devices = ["1001".to_string()];
        let check = |text: &str| parse(text).unwrap().validate(&devices).unwrap_err().key;
        assert_eq!(
            check("mode='dialog'\nhost='h'\nserver_uri='sip:csta@h'").as_deref(),
            Some("server_uri")
        );
        assert_eq!(
            check("mode='uacsta'\nhost='h'\nserver_uri='csta@h'").as_deref(),
            Some("server_uri")
        );
        assert_eq!(
            check("mode='dialog'\nhost='h'\ntransport='tls'\ntls_ca='/nonexistent/ca.pem'")
                .as_deref(),
            Some("tls_ca")
        );
        assert_eq!(
            check("mode='dialog'\nhost='h'\ntls_ca='/etc/ca.pem'").as_deref(),
            Some("tls_ca")
        );
        assert_eq!(
            check("mode='dialog'\nhost='h'\nlocal='x'").as_deref(),
            Some("local")
        );
        assert_eq!(
            check("mode='dialog'\nhost='h'\nexpires=5").as_deref(),
            Some("expires")
        );
        assert_eq!(
            check("mode='dialog'\nhost='h'\npassword='p'").as_deref(),
            Some("password")
        );
        assert!(parse("mode='dialog'\nhost='h'\nexpire=60").is_err());
        assert_eq!(
            parse("mode='dialog'\nhost='h'")
                .unwrap()
                .validate(&[])
                .unwrap_err()
                .key
                .as_deref(),
            Some("devices")
        );
    }
}

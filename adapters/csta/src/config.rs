//! The `csta` adapter's `[[switch]]` keys ([`CstaConfig`]), their documented example,
//! and the checks that turn a table that cannot work into a [`SettingsError`] naming
//! the key.

use std::net::SocketAddr;
use std::time::Duration;

use ctibridge_adapter::duration::{millis, seconds};
use ctibridge_adapter::SettingsError;
use serde::Deserialize;

use crate::framing::Framing;

/// ECMA-323 edition 3, which every CSTA XML switch in the field accepts.
pub const ED3_NAMESPACE: &str = "http://www.ecma-international.org/standards/ecma-323/csta/ed3";

/// The `csta` adapter's keys. `devices` (extensions and ACD groups to monitor) and
/// `request_timeout_s` are shared keys.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CstaConfig {
    /// The switch's CSTA server (with `port`), when ctibridge connects to it.
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    /// `ADDR:PORT` to listen on instead, for switches that connect to the application.
    #[serde(default)]
    pub listen: Option<String>,
    /// How messages are delimited: `header` (8-byte header, the default), `nul`, `bare`.
    #[serde(default)]
    pub framing: Framing,
    /// The XML namespace of our requests. Switches answer in their own; we read any.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Open an application session (StartApplicationSession) before monitoring.
    /// Default: when `username` is set.
    #[serde(default)]
    pub application_session: Option<bool>,
    /// The session's application id.
    #[serde(default = "default_application_id")]
    pub application_id: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Requested session duration; the timer is reset at half of what the switch grants.
    #[serde(default = "default_session_duration")]
    pub session_duration_s: u32,
    /// Send a SystemStatus this often and drop the link when one goes unanswered
    /// (0: never; the switch's own heartbeats are always answered).
    #[serde(
        rename = "heartbeat_s",
        default = "default_heartbeat",
        with = "seconds"
    )]
    pub heartbeat_every: Duration,
    /// The engine's limit on a command; pending requests are given up after it.
    #[serde(
        rename = "request_timeout_s",
        default = "default_request_timeout",
        with = "seconds"
    )]
    pub request_timeout: Duration,
    /// Backoff between connection attempts, doubling from min to max, with jitter.
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
    /// Routing devices (route points / VDNs) to register for: their RouteRequests
    /// come to ctibridge, which answers with a RouteSelect.
    #[serde(default)]
    pub route_points: Vec<String>,
    /// How long ctibridge may take to choose a route before it answers on its own
    /// (keep it under the switch's routing timer).
    #[serde(
        rename = "route_timeout_ms",
        default = "default_route_timeout",
        with = "millis"
    )]
    pub route_timeout: Duration,
    /// Where a call goes when no route was chosen in time. Without it, the route
    /// dialogue is ended and the switch uses its own default route.
    #[serde(default)]
    pub route_default: Option<String>,
    /// How the switch names phones: `extension` (the default) or `avaya` (Avaya AES
    /// DMCC device ids, asked for with GetDeviceId).
    #[serde(default)]
    pub device_ids: DeviceIds,
    /// With `device_ids = "avaya"`: the switch connection name administered on AES,
    /// and/or the CLAN/processor address.
    #[serde(default)]
    pub avaya_switch_name: Option<String>,
    #[serde(default)]
    pub avaya_switch_ip: Option<String>,
    /// How CSTA is written on the link: `xml` (ECMA-323, the default) or `ber`
    /// (ASN.1 BER APDUs after a 2-byte length, the older switches' CSTA).
    #[serde(default)]
    pub encoding: Encoding,
    /// With `encoding = "ber"`: the CSTA phase whose ASN.1 module the switch speaks,
    /// 2 (ECMA-217/218) or 3 (ECMA-285, the default).
    #[serde(default)]
    pub phase: Option<u8>,
    /// With `encoding = "ber"`: open an ACSE association (AARQ/AARE) first, with
    /// `username`/`password` as its authentication when set.
    #[serde(default)]
    pub acse: Option<bool>,
    /// With `acse = true`: the application context the AARQ names, a dotted object
    /// identifier (default `1.3.12.0.218`; OmniPCX clients send `1.3.12.0.180.1`).
    #[serde(default)]
    pub acse_context: Option<String>,
}

/// The `encoding = …` key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    #[default]
    Xml,
    Ber,
}

/// The `device_ids = …` key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceIds {
    #[default]
    Extension,
    Avaya,
}

fn default_namespace() -> String {
    ED3_NAMESPACE.to_string()
}
fn default_application_id() -> String {
    "ctibridge".to_string()
}
fn default_session_duration() -> u32 {
    180
}
fn default_heartbeat() -> Duration {
    Duration::from_secs(30)
}
fn default_request_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_reconnect_min() -> Duration {
    Duration::from_millis(500)
}
fn default_reconnect_max() -> Duration {
    Duration::from_secs(30)
}
fn default_route_timeout() -> Duration {
    Duration::from_millis(1500)
}

/// Where the link comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Connect { host: String, port: u16 },
    Listen(SocketAddr),
}

impl CstaConfig {
    /// Check what serde cannot: exactly one endpoint, sane durations, devices.
    pub fn validate(&self, devices: &[String]) -> Result<Endpoint, SettingsError> {
        if devices.is_empty() {
            return Err(SettingsError::new(
                "devices",
                "list the extensions and ACD groups to monitor, e.g. devices = [\"1001\", \"8000\"]",
            ));
        }
        for (key, value, max) in [
            ("heartbeat_s", self.heartbeat_every, 3600),
            ("request_timeout_s", self.request_timeout, 600),
            ("reconnect_min_s", self.reconnect_min, 3600),
            ("reconnect_max_s", self.reconnect_max, 3600),
        ] {
            if value > Duration::from_secs(max) {
                return Err(SettingsError::new(
                    key,
                    format!("{key} must be between 0 and {max} seconds"),
                ));
            }
        }
        if self.request_timeout.is_zero() {
            return Err(SettingsError::new(
                "request_timeout_s",
                "request_timeout_s must be more than 0",
            ));
        }
        if self.reconnect_max < self.reconnect_min || self.reconnect_max.is_zero() {
            return Err(SettingsError::new(
                "reconnect_max_s",
                "reconnect_max_s must be more than 0 and at least reconnect_min_s",
            ));
        }
        if self.session_duration_s == 0 {
            return Err(SettingsError::new(
                "session_duration_s",
                "session_duration_s must be more than 0",
            ));
        }
        if self.password.is_some() && self.username.is_none() {
            return Err(SettingsError::new("password", "password needs a username"));
        }
        if self.device_ids == DeviceIds::Avaya
            && self.avaya_switch_name.is_none()
            && self.avaya_switch_ip.is_none()
        {
            return Err(SettingsError::new(
                "device_ids",
                "device_ids = \"avaya\" needs avaya_switch_name (the switch connection on AES) or avaya_switch_ip",
            ));
        }
        if self.route_default.is_some() && self.route_points.is_empty() {
            return Err(SettingsError::new(
                "route_default",
                "route_default needs route_points to register for",
            ));
        }
        self.validate_encoding()?;
        match (&self.host, self.port, &self.listen) {
            (Some(host), Some(port), None) if !host.is_empty() && port > 0 => {
                Ok(Endpoint::Connect {
                    host: host.clone(),
                    port,
                })
            }
            (None, None, Some(listen)) => listen.parse().map(Endpoint::Listen).map_err(|_| {
                SettingsError::new(
                    "listen",
                    format!("listen = \"{listen}\" is not an ADDR:PORT (e.g. \"0.0.0.0:1040\")"),
                )
            }),
            (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => Err(SettingsError::new(
                "listen",
                "give either host and port (ctibridge connects) or listen (the switch connects), not both",
            )),
            (Some(_), None, None) => Err(SettingsError::new(
                "port",
                "host needs a port (the switch's CSTA port, e.g. 1040)",
            )),
            _ => Err(SettingsError::new(
                "host",
                "give host and port of the switch's CSTA server, or listen = \"ADDR:PORT\"",
            )),
        }
    }

    /// The BER keys, and what the BER link does not carry.
    fn validate_encoding(&self) -> Result<(), SettingsError> {
        if self.encoding == Encoding::Xml {
            for (key, set) in [
                ("phase", self.phase.is_some()),
                ("acse", self.acse.is_some()),
                ("acse_context", self.acse_context.is_some()),
            ] {
                if set {
                    return Err(SettingsError::new(
                        key,
                        format!("{key} applies to encoding = \"ber\" only"),
                    ));
                }
            }
            return Ok(());
        }
        if !matches!(self.phase, None | Some(2) | Some(3)) {
            return Err(SettingsError::new(
                "phase",
                "phase must be 2 (ECMA-217/218) or 3 (ECMA-285)",
            ));
        }
        let acse = self.acse == Some(true);
        if let Some(context) = &self.acse_context {
            if !acse {
                return Err(SettingsError::new(
                    "acse_context",
                    "acse_context names the context of an ACSE association: it needs acse = true",
                ));
            }
            crate::ber::acse::parse_context(context)
                .map_err(|why| SettingsError::new("acse_context", why))?;
        }
        let refused = [
            (
                "username",
                self.username.is_some() && !acse,
                "on a BER link username/password authenticate the ACSE association: they need acse = true",
            ),
            (
                "application_session",
                self.application_session.is_some(),
                "the application session is CSTA XML's; a BER link's counterpart is acse = true",
            ),
            (
                "route_points",
                // ECMA-285's routing is carried; ECMA-218's argument forms are not
                // (no public source gave them), so Phase II cannot route.
                !self.route_points.is_empty() && self.phase == Some(2),
                "routing (route_points) over BER is carried in Phase III only (phase = 3)",
            ),
            (
                "device_ids",
                self.device_ids == DeviceIds::Avaya,
                "Avaya device ids are CSTA XML (DMCC) only",
            ),
        ];
        for (key, set, why) in refused {
            if set {
                return Err(SettingsError::new(
                    key,
                    format!("{why}; with encoding = \"ber\" leave {key} out"),
                ));
            }
        }
        Ok(())
    }

    /// The CSTA phase of a BER link.
    pub fn ber_phase(&self) -> crate::ber::Phase {
        match self.phase {
            Some(2) => crate::ber::Phase::Two,
            _ => crate::ber::Phase::Three,
        }
    }

    /// Whether the link opens a session first: StartApplicationSession on XML, the
    /// ACSE association on BER.
    pub fn application_session(&self) -> bool {
        match self.encoding {
            Encoding::Xml => self.application_session.unwrap_or(self.username.is_some()),
            Encoding::Ber => self.acse == Some(true),
        }
    }

    /// The application context of a BER link's ACSE association.
    pub fn acse_context(&self) -> Vec<u32> {
        let text = self
            .acse_context
            .as_deref()
            .unwrap_or(crate::ber::acse::DEFAULT_CONTEXT);
        crate::ber::acse::parse_context(text).unwrap_or_else(|_| vec![1, 3, 12, 0, 218])
    }

    /// Our SystemStatus interval; none when `heartbeat_s = 0`.
    pub fn heartbeat(&self) -> Option<Duration> {
        (!self.heartbeat_every.is_zero()).then_some(self.heartbeat_every)
    }
}

/// The example `[[switch]]` table in the docs and `--help`.
pub const EXAMPLE: &str = r#"[[switch]]
name = "pbx1"
adapter = "csta"
# The switch's CSTA XML server (ctibridge connects)…
host = "10.0.0.5"
port = 1040
# …or where the switch connects to ctibridge instead of host and port.
# listen = "0.0.0.0:1040"
# Extensions and ACD groups to monitor.
devices = ["1001", "1002", "8000"]
# framing = "header"              # header (8-byte header, default) | nul | bare
# namespace = "http://www.ecma-international.org/standards/ecma-323/csta/ed3"
# Application session: on by default when a username is given.
# application_session = true
username = "ctibridge"
password = "secret"
# application_id = "ctibridge"
# session_duration_s = 180
# heartbeat_s = 30                # our SystemStatus; 0 = off
# request_timeout_s = 10
# reconnect_min_s = 0.5
# reconnect_max_s = 30
# Data-directed routing: register for these route points (VDNs)…
# route_points = ["7000"]
# …answer within this many ms, else send calls here (or leave it to the switch).
# route_timeout_ms = 1500
# route_default = "8000"
# Avaya AES (DMCC XML): phones by device id, asked for with GetDeviceId.
# device_ids = "avaya"             # extension (default) | avaya
# avaya_switch_name = "CM1"
# avaya_switch_ip = "10.0.0.6"
# Older switches (Alcatel OmniPCX, Hicom/HiPath 4000, MD110/MX-ONE): CSTA as ASN.1
# BER, each APDU after a 2-byte length; route_points with phase = 3 only.
# encoding = "ber"                 # xml (default) | ber
# phase = 3                        # 2 (ECMA-217/218) | 3 (ECMA-285, default)
# acse = false                     # an AARQ/AARE association first (username/password: its login)
# acse_context = "1.3.12.0.218"    # the AARQ's application context (OmniPCX: "1.3.12.0.180.1")
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<CstaConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn endpoints() {
        let config = parse("host = 'pbx'\nport = 1040").unwrap();
        assert_eq!(
            config.validate(&["1001".into()]).unwrap(),
            Endpoint::Connect {
                host: "pbx".into(),
                port: 1040
            }
        );
        let config = parse("listen = '0.0.0.0:1040'").unwrap();
        assert!(matches!(
            config.validate(&["1001".into()]),
            Ok(Endpoint::Listen(_))
        ));
        let config = parse("host = 'pbx'").unwrap();
        assert_eq!(
            config
                .validate(&["1001".into()])
                .unwrap_err()
                .key
                .as_deref(),
            Some("port")
        );
        let config = parse("host = 'pbx'\nport = 1\nlisten = '0.0.0.0:1'").unwrap();
        assert_eq!(
            config
                .validate(&["1001".into()])
                .unwrap_err()
                .key
                .as_deref(),
            Some("listen")
        );
        let config = parse("listen = 'pbx'").unwrap();
        assert!(config
            .validate(&["1001".into()])
            .unwrap_err()
            .message
            .contains("ADDR:PORT"));
        assert_eq!(
            parse("host='h'\nport=1")
                .unwrap()
                .validate(&[])
                .unwrap_err()
                .key
                .as_deref(),
            Some("devices")
        );
    }

    #[test]
    fn framing_and_session_defaults() {
        let config = parse("host='h'\nport=1\nframing='nul'\nusername='u'").unwrap();
        assert_eq!(config.framing, Framing::Nul);
        assert!(config.application_session());
        assert!(!parse("host='h'\nport=1").unwrap().application_session());
        assert!(parse("host='h'\nport=1\nframing='xml'").is_err());
    }

    #[test]
    fn ber_keys() {
        let ok = |text: &str| parse(text).unwrap().validate(&["1001".into()]);
        let key = |text: &str| ok(text).unwrap_err().key;
        let config = parse("host='h'\nport=1\nencoding='ber'\nphase=2").unwrap();
        assert!(config.validate(&["1001".into()]).is_ok());
        assert_eq!(config.ber_phase(), crate::ber::Phase::Two);
        assert_eq!(
            parse("host='h'\nport=1\nencoding='ber'")
                .unwrap()
                .ber_phase(),
            crate::ber::Phase::Three
        );
        assert_eq!(
            key("host='h'\nport=1\nencoding='ber'\nphase=4").as_deref(),
            Some("phase")
        );
        assert_eq!(key("host='h'\nport=1\nphase=2").as_deref(), Some("phase"));
        assert!(ok("host='h'\nport=1\nencoding='ber'\nacse=false").is_ok());
        let acse = parse("host='h'\nport=1\nencoding='ber'\nacse=true\nusername='u'\npassword='p'")
            .unwrap();
        assert!(acse.validate(&["1001".into()]).is_ok());
        assert!(acse.application_session());
        assert_eq!(acse.acse_context(), vec![1, 3, 12, 0, 218]);
        let oxe = "host='h'\nport=1\nencoding='ber'\nacse=true\nacse_context='1.3.12.0.180.1'";
        assert_eq!(
            parse(oxe).unwrap().acse_context(),
            vec![1, 3, 12, 0, 180, 1]
        );
        assert!(ok(oxe).is_ok());
        assert_eq!(
            key("host='h'\nport=1\nencoding='ber'\nacse=true\nacse_context='1.3.x'").as_deref(),
            Some("acse_context")
        );
        assert_eq!(
            key("host='h'\nport=1\nencoding='ber'\nacse_context='1.3.12'").as_deref(),
            Some("acse_context")
        );
        assert_eq!(
            key("host='h'\nport=1\nacse_context='1.3.12'").as_deref(),
            Some("acse_context")
        );
        assert_eq!(
            key("host='h'\nport=1\nencoding='ber'\nusername='u'").as_deref(),
            Some("username")
        );
        assert_eq!(
            key("host='h'\nport=1\nencoding='ber'\napplication_session=true").as_deref(),
            Some("application_session")
        );
        assert!(!parse("host='h'\nport=1\nencoding='ber'")
            .unwrap()
            .application_session());
        // Routing over BER: Phase III (the default) only.
        assert!(ok("host='h'\nport=1\nencoding='ber'\nroute_points=['7000']").is_ok());
        assert!(ok("host='h'\nport=1\nencoding='ber'\nphase=3\nroute_points=['7000']").is_ok());
        let err =
            ok("host='h'\nport=1\nencoding='ber'\nphase=2\nroute_points=['7000']").unwrap_err();
        assert_eq!(err.key.as_deref(), Some("route_points"));
        assert!(err.to_string().contains("Phase III only"), "{err}");
        assert!(parse("host='h'\nport=1\nencoding='asn1'").is_err());
    }

    #[test]
    fn avaya_device_ids_need_the_switch_connection() {
        let config = parse("host='h'\nport=1\ndevice_ids='avaya'").unwrap();
        let err = config.validate(&["1001".into()]).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("device_ids"));
        let config =
            parse("host='h'\nport=1\ndevice_ids='avaya'\navaya_switch_name='CM1'").unwrap();
        assert!(config.validate(&["1001".into()]).is_ok());
        assert!(parse("host='h'\nport=1\ndevice_ids='cisco'").is_err());
    }
}

//! The `smdr` adapter's `[[switch]]` keys ([`SmdrKeys`]), their checks, and the
//! documented [`EXAMPLE`].
//!
//! One of three links: `serial` (with `baud`, `data_bits`, `parity`, `stop_bits`,
//! `flow_control`), `host` + `port` (ctibridge connects to the switch, and may send
//! a `login` string first), or `listen` (the switch connects to ctibridge).

use chrono::FixedOffset;
use ctibridge_adapter::SettingsError;
use serde::Deserialize;

use crate::dedup::DEFAULT_WINDOW;
use crate::format::custom::{Custom, CustomSpec};
use crate::format::Format;
use crate::framing::Terminator;

/// A `[[switch]]` table with every key, kept valid by a test.
pub const EXAMPLE: &str = r#"[[switch]]
name = "pbx1-smdr"
adapter = "smdr"
devices = ["2001", "2002"]          # extensions, so records reach their agents
# The link: one of `serial`, `host` + `port`, or `listen`.
serial = "/dev/ttyUSB0"             # a stable name (/dev/serial/by-id/…) survives re-plugging
baud = 9600                         # 300 … 115200
data_bits = 8                       # 5, 6, 7 or 8
parity = "none"                     # none, odd, even
stop_bits = 1                       # 1 or 2
flow_control = "none"               # none, software (XON/XOFF), hardware (RTS/CTS)
# host = "10.0.0.5"                 # ctibridge connects (Mitel MiVB: port 1752)
# port = 1752
# login = "SMDR\r\n"                # sent after connecting, where the switch wants a handshake
# listen = "0.0.0.0:5100"           # the switch connects (Avaya IP Office SMDR)
format = "mitel-mivb"               # avaya-ipo, mitel-mivb, mitel-mivb-extended, mitel-sx200, axxess,
                                    # nec-flexible, panasonic-tda, panasonic-ta, asterisk-csv,
                                    # or a [switch.format] table
terminator = "auto"                 # auto, crlf, cr, lf, lfcr, nul, stx-etx
utc_offset = "local"                # the switch's clock: "local" (kept as printed) or "+01:00"
dedup_window = 50000                # record lines remembered to drop replays (0: off)
"#;

/// The keys as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmdrKeys {
    pub serial: Option<String>,
    pub baud: Option<u32>,
    pub data_bits: Option<u8>,
    pub parity: Option<Parity>,
    pub stop_bits: Option<u8>,
    pub flow_control: Option<FlowControl>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub login: Option<String>,
    pub listen: Option<String>,
    pub format: Option<toml::Value>,
    #[serde(default)]
    pub terminator: Terminator,
    pub utc_offset: Option<String>,
    pub dedup_window: Option<usize>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parity {
    #[default]
    None,
    Odd,
    Even,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowControl {
    #[default]
    None,
    Software,
    Hardware,
}

/// A serial port's line settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialLine {
    pub path: String,
    pub baud: u32,
    pub data_bits: u8,
    pub parity: Parity,
    pub stop_bits: u8,
    pub flow_control: FlowControl,
}

/// How the adapter reaches the switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Serial(SerialLine),
    Connect {
        host: String,
        port: u16,
        login: Option<String>,
    },
    Listen {
        addr: String,
    },
}

/// Checked settings.
#[derive(Debug, Clone)]
pub struct SmdrConfig {
    pub link: Link,
    pub format: Format,
    pub terminator: Terminator,
    /// `None`: record times stay the switch's local time (read in this machine's
    /// zone where an instant is needed).
    pub utc_offset: Option<FixedOffset>,
    pub dedup_window: usize,
}

impl SmdrKeys {
    pub fn check(self) -> Result<SmdrConfig, SettingsError> {
        let serial_keys = self.baud.is_some()
            || self.data_bits.is_some()
            || self.parity.is_some()
            || self.stop_bits.is_some()
            || self.flow_control.is_some();
        let link = match (self.serial, self.host, self.listen) {
            (Some(path), None, None) => {
                let baud = self.baud.unwrap_or(9600);
                if !(50..=4_000_000).contains(&baud) {
                    return Err(SettingsError::new(
                        "baud",
                        format!("baud {baud} is not a serial speed"),
                    ));
                }
                let data_bits = self.data_bits.unwrap_or(8);
                if !(5..=8).contains(&data_bits) {
                    return Err(SettingsError::new(
                        "data_bits",
                        "data_bits must be 5, 6, 7 or 8",
                    ));
                }
                let stop_bits = self.stop_bits.unwrap_or(1);
                if !(1..=2).contains(&stop_bits) {
                    return Err(SettingsError::new("stop_bits", "stop_bits must be 1 or 2"));
                }
                if self.port.is_some() || self.login.is_some() {
                    let key = if self.port.is_some() { "port" } else { "login" };
                    return Err(SettingsError::new(
                        key,
                        format!("`{key}` is for a TCP link, not `serial`"),
                    ));
                }
                Link::Serial(SerialLine {
                    path,
                    baud,
                    data_bits,
                    parity: self.parity.unwrap_or_default(),
                    stop_bits,
                    flow_control: self.flow_control.unwrap_or_default(),
                })
            }
            (None, Some(host), None) => {
                let port = self
                    .port
                    .filter(|p| *p != 0)
                    .ok_or_else(|| SettingsError::new("port", "`host` needs a `port` (1-65535)"))?;
                Link::Connect {
                    host,
                    port,
                    login: self.login,
                }
            }
            (None, None, Some(addr)) => {
                if addr.parse::<std::net::SocketAddr>().is_err() {
                    return Err(SettingsError::new(
                        "listen",
                        format!("listen = `{addr}` is not an ADDRESS:PORT"),
                    ));
                }
                if self.port.is_some() || self.login.is_some() {
                    let key = if self.port.is_some() { "port" } else { "login" };
                    return Err(SettingsError::new(
                        key,
                        format!("`{key}` is for `host`, not `listen`"),
                    ));
                }
                Link::Listen { addr }
            }
            (None, None, None) => {
                return Err(SettingsError::new(
                    "serial",
                    "an smdr switch needs one link: `serial`, `host` + `port`, or `listen`",
                ))
            }
            (serial, host, _) => {
                let key = if serial.is_some() && host.is_some() {
                    "host"
                } else {
                    "listen"
                };
                return Err(SettingsError::new(
                    key,
                    "give one link only: `serial`, `host` + `port`, or `listen`",
                ));
            }
        };
        if serial_keys && !matches!(link, Link::Serial(_)) {
            return Err(SettingsError::new(
                "baud",
                "serial line settings need `serial`",
            ));
        }
        let format = match self.format {
            None => return Err(SettingsError::new("format", "missing field `format`")),
            Some(toml::Value::String(name)) => {
                Format::named(&name).map_err(|e| SettingsError::new("format", e))?
            }
            Some(value @ toml::Value::Table(_)) => {
                let spec = CustomSpec::deserialize(value).map_err(|e| {
                    SettingsError::new("format", format!("[switch.format]: {}", e.message()))
                })?;
                Format::Custom(Box::new(Custom::new(spec).map_err(|e| {
                    SettingsError::new("format", format!("[switch.format]: {e}"))
                })?))
            }
            Some(_) => {
                return Err(SettingsError::new(
                    "format",
                    "format must be a built-in name or a [switch.format] table",
                ))
            }
        };
        let utc_offset = match self.utc_offset.as_deref() {
            None | Some("local") => None,
            Some(text) => Some(parse_offset(text).ok_or_else(|| {
                SettingsError::new(
                    "utc_offset",
                    format!("utc_offset `{text}` is not \"local\" or like \"+01:00\""),
                )
            })?),
        };
        Ok(SmdrConfig {
            link,
            format,
            terminator: self.terminator,
            utc_offset,
            dedup_window: self.dedup_window.unwrap_or(DEFAULT_WINDOW),
        })
    }
}

/// `+01:00`, `-05:30`, `Z`, `+0100`.
fn parse_offset(text: &str) -> Option<FixedOffset> {
    if text == "Z" || text == "UTC" {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match text.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..)?.parse().ok()?;
    if hours > 14 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<SmdrConfig, SettingsError> {
        let keys: SmdrKeys =
            toml::from_str(text).map_err(|e| SettingsError::new("?", e.to_string()))?;
        keys.check()
    }

    #[test]
    fn links() {
        let c = check("serial = '/dev/ttyS0'\nbaud = 1200\nparity = 'even'\nformat = 'axxess'")
            .unwrap();
        assert!(matches!(
            c.link,
            Link::Serial(SerialLine {
                baud: 1200,
                parity: Parity::Even,
                ..
            })
        ));
        let c = check("host = 'pbx'\nport = 1752\nlogin = 'x'\nformat = 'mitel-mivb'").unwrap();
        assert!(matches!(c.link, Link::Connect { port: 1752, .. }));
        let c = check("listen = '127.0.0.1:5100'\nformat = 'avaya-ipo'\nutc_offset = '+01:30'")
            .unwrap();
        assert_eq!(c.utc_offset, FixedOffset::east_opt(5400));
    }

    #[test]
    fn errors_name_the_key() {
        let key = |text: &str| check(text).err().and_then(|e| e.key).unwrap_or_default();
        assert_eq!(key("format = 'avaya-ipo'"), "serial");
        assert_eq!(
            key("serial = 'a'\nhost = 'b'\nformat = 'avaya-ipo'"),
            "host"
        );
        assert_eq!(key("host = 'b'\nformat = 'avaya-ipo'"), "port");
        assert_eq!(key("serial = 'a'\nformat = 'acme'"), "format");
        assert_eq!(key("serial = 'a'\nformat = 'axxess'\nbaud = 7"), "baud");
        assert_eq!(key("listen = 'x'\nformat = 'axxess'"), "listen");
        assert_eq!(
            key("listen = '0.0.0.0:1'\nformat = 'axxess'\nutc_offset = '+25:00'"),
            "utc_offset"
        );
        assert_eq!(
            key("host = 'h'\nport = 1\nbaud = 9600\nformat = 'axxess'"),
            "baud"
        );
        let err =
            check("serial = 'a'\n[format]\nkind = 'fixed'\n[format.fields]\nstart = { field = 1 }")
                .unwrap_err();
        assert!(err.message.contains("needs cols"), "{}", err.message);
    }
}

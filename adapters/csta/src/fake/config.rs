//! Configuration of the fake switch: wire options, link supervision, and
//! the devices, ACD groups, agents and route points it knows.

use std::net::SocketAddr;
use std::time::Duration;

pub use super::wire::Framing;

/// An ACD group (hunt group / skill queue) and the agents that serve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcdGroup {
    /// The group's device id, e.g. "8000".
    pub device: String,
    /// Agent ids (not extensions) that serve the group.
    pub agents: Vec<String>,
}

/// An ACD agent the switch knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeAgent {
    /// Agent id, e.g. "5001".
    pub agent: String,
    /// Log-on password.
    pub password: String,
}

/// A route point and where its calls go when no application selects a
/// route in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePoint {
    pub device: String,
    pub default_route: String,
}

/// Whose CSTA the fake speaks, where switches differ in form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dialect {
    /// ECMA-323 ed.3 as the standard writes it: every connection identifier has
    /// a call id and a device id; devices are plain numbers; a transfer or
    /// conference keeps the held call's id.
    #[default]
    Standard,
    /// Unify OpenScape Voice: the ed.4 namespace; `DeliveredEvent`,
    /// `EstablishedEvent` and `ConnectionClearedEvent` name their connection by
    /// its device alone, as `N<device>;displayNumber=device`; every
    /// `deviceIdentifier` is written `N<device>;displayNumber=device`; the call
    /// resulting from a transfer or conference gets a new call id. Requests may
    /// name a connection by its device alone.
    OpenScapeVoice,
}

/// What the fake speaks on its connections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Encoding {
    /// ECMA-323 XML documents, framed as [`FakeConfig::framing`] says.
    #[default]
    Xml,
    /// ASN.1 BER: ROSE APDUs, each after a 2-byte big-endian length.
    Ber(BerOptions),
}

/// Which CSTA protocol standard the BER encoding follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CstaPhase {
    /// ECMA-217/218 (Alcatel OmniPCX, HiPath 4000, MD110 CSTA links).
    Two,
    /// ECMA-269/285.
    Three,
}

/// The BER encoding's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BerOptions {
    pub phase: CstaPhase,
    /// The client must open an ACSE association (AARQ) before any CSTA
    /// operation; [`FakeConfig::credentials`]' password is then checked
    /// against the AARQ's authentication value.
    pub require_acse: bool,
    /// Manufacturer private data added to every event, as Alcatel and
    /// Siemens switches add theirs.
    pub private_data: Option<PrivateData>,
    /// Phase III: stamp every event with the time (the `security`
    /// timestamp of its `extensions`).
    pub timestamps: bool,
}

impl BerOptions {
    /// `phase` with no association required and nothing extra on events.
    pub fn new(phase: CstaPhase) -> Self {
        Self {
            phase,
            require_acse: false,
            private_data: None,
            timestamps: false,
        }
    }
}

/// A manufacturer's private data: its object identifier and opaque octets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateData {
    /// Object identifier arcs, e.g. `[1, 3, 12, 2, 1107, 3, 66, 7]`.
    pub manufacturer: Vec<u32>,
    pub data: Vec<u8>,
}

/// Which id the call a transfer or conference leaves has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinedCallId {
    /// The held (primary) call's.
    Held,
    /// A new one.
    New,
    /// The consultation (secondary) call's.
    Consultation,
}

/// Everything the fake switch is configured with. `Default` gives a small
/// call centre: extensions 1001–1003 and supervisor 2001, ACD group 8000
/// served by agents 5001 and 5002 (password 1234), route point 7000 that
/// defaults to 8000.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Listen address; `None` = 127.0.0.1 on a free port.
    pub listen: Option<SocketAddr>,
    /// XML (the default) or BER; with BER, `framing`, `prefix`, `dialect`
    /// and `avaya_switch` do not apply.
    pub encoding: Encoding,
    pub framing: Framing,
    /// Element prefix for everything the fake writes (`Some("csta")` gives
    /// `<csta:DeliveredEvent xmlns:csta="…">`); `None` = default namespace.
    pub prefix: Option<String>,
    /// `(user, password)` that `StartApplicationSession` must carry. When
    /// set, no other request is served before a session is started.
    pub credentials: Option<(String, String)>,
    /// Interval of the switch's own `SystemStatus` requests; `None` = none.
    pub heartbeat: Option<Duration>,
    /// Close the link once two heartbeats in a row go unanswered.
    pub heartbeat_strict: bool,
    /// Delay after which an external number answers an outgoing call;
    /// `None` = the far end never answers.
    pub far_end_answer_after: Option<Duration>,
    /// External numbers that are busy: calls to them fail (`FailedEvent`,
    /// cause `busy`) instead of ringing.
    pub busy_numbers: Vec<String>,
    pub extensions: Vec<String>,
    pub acd_groups: Vec<AcdGroup>,
    pub agents: Vec<FakeAgent>,
    pub route_points: Vec<RoutePoint>,
    /// How long a `RouteRequest` waits for `RouteSelectRequest` before the
    /// call takes the route point's default route.
    pub route_timeout: Duration,
    /// An agent whose ACD call ends goes to after-call work instead of
    /// straight back to ready.
    pub acw_after_call: bool,
    /// Avaya AES (DMCC) style: phones are addressed by device ids the client asks
    /// for with `GetDeviceId` (`1001:<switch>:0.0.0.0:0`), in requests and events.
    pub avaya_switch: Option<String>,
    /// Whose forms the fake writes (see [`Dialect`]).
    pub dialect: Dialect,
    /// Send agent events (logged on, ready, …) this long after the request's
    /// response, as a loaded switch may: the response alone must be enough.
    pub agent_events_after: Option<Duration>,
    /// The id of the call a transfer or conference leaves; `None` = the
    /// dialect's (`Held` in the standard one, `New` for OpenScape Voice).
    pub joined_call_id: Option<JoinedCallId>,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            listen: None,
            encoding: Encoding::Xml,
            framing: Framing::Header,
            prefix: None,
            credentials: None,
            heartbeat: None,
            heartbeat_strict: false,
            far_end_answer_after: Some(Duration::from_millis(200)),
            busy_numbers: Vec::new(),
            extensions: ["1001", "1002", "1003", "2001"].map(String::from).to_vec(),
            acd_groups: vec![AcdGroup {
                device: "8000".into(),
                agents: vec!["5001".into(), "5002".into()],
            }],
            agents: vec![
                FakeAgent {
                    agent: "5001".into(),
                    password: "1234".into(),
                },
                FakeAgent {
                    agent: "5002".into(),
                    password: "1234".into(),
                },
            ],
            route_points: vec![RoutePoint {
                device: "7000".into(),
                default_route: "8000".into(),
            }],
            route_timeout: Duration::from_secs(2),
            acw_after_call: false,
            avaya_switch: None,
            dialect: Dialect::Standard,
            agent_events_after: None,
            joined_call_id: None,
        }
    }
}

//! A fake CSTA switch on loopback, for tests: ECMA-323 (Phase III XML), or
//! ASN.1 BER in Phase II (ECMA-218) or Phase III (ECMA-285).
//!
//! It speaks the real wire protocol and keeps a small call model, and it
//! shares no code with the adapter: what the adapter gets right against it,
//! it gets right against the protocol, not against a shared misreading.
//!
//! This file owns the public handle [`FakeSwitch`]; the rest is split as:
//! `config` (what the switch is configured with), `wire` (framing),
//! `xml` (parsing by local name, writing with an optional prefix),
//! `request` (typed client requests), `message` (responses, errors, events),
//! `model` (calls; `model::agents` for agents and ACD queues,
//! `model::report` for what the model reports), `router` (the one task
//! that owns the state and the client link; `router::requests` serves
//! client requests, `router::routing` runs route dialogues, `router::ber`
//! serves BER links), `reply` (a served request's answer before it is
//! written), `ber` (the ASN.1 BER encoding, Phase II and III) and `session`
//! (one TCP connection).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use ctibridge_csta::fake::{FakeConfig, FakeSwitch};
//! let switch = FakeSwitch::start(FakeConfig::default()).await?;
//! // point the adapter at switch.addr(), then:
//! let call = switch.ring_with("+14155550123", "8000", "8005550100").await;
//! # let _ = call;
//! # Ok(())
//! # }
//! ```
//!
//! # Behaviour where ECMA leaves a choice
//!
//! * **Connections.** One client at a time. A new connection *replaces* the
//!   current one (the old socket is closed), as a switch does when the same
//!   application reconnects before noticing its old link died. While
//!   [`FakeSwitch::set_accepting`] is `false`, new connections are accepted
//!   by the OS and closed at once. The call model outlives connections;
//!   monitors, route registrations and the session belong to a connection.
//! * **Session messages** (`StartApplicationSession`,
//!   `ResetApplicationSessionTimer`, `StopApplicationSession` and their
//!   responses) use the ECMA-354 namespace
//!   `http://www.ecma-international.org/standards/ecma-354/appl_session`,
//!   as switches send them; everything else uses the ECMA-323 ed.3
//!   namespace. Clients must match local names only.
//! * **Session start failures** answer `StartApplicationSessionNegResponse`
//!   with `<errorCode><definedError>…</definedError></errorCode>`:
//!   `invalidApplicationInfo` for a wrong or missing user name or password,
//!   `requestedProtocolVersionNotSupported` when versions are listed and
//!   ed.3 is not among them. A requested duration of 0 means no expiry;
//!   a missing one means 180 s. A wrong `sessionID` in
//!   `ResetApplicationSessionTimer` gets
//!   `ResetApplicationSessionTimerNegResponse` with `invalidSessionID`.
//! * **Before a session** (only when [`FakeConfig::credentials`] is set),
//!   every request but `StartApplicationSession` gets `CSTAErrorCode`
//!   `<operation>generic</operation>`.
//! * **Errors.** An unknown request gets `<operation>invalidFeature</operation>`
//!   (ECMA-269: the service is not supported). A document that does not
//!   parse, or a request missing a mandatory field, gets
//!   `<operation>generic</operation>`. An unknown `monitorCrossRefID`,
//!   `routingCrossRefID` or `routeRegisterReqID` gets
//!   `<operation>invalidCrossRefID</operation>`; digits other than
//!   `0-9*#A-D` get `<operation>valueOutOfRange</operation>`.
//! * **Framing errors.** A header whose first two bytes are not zero (a
//!   length above 65535) or whose length is below 8 closes the connection.
//!   A frame whose invoke id is not four digits is skipped and logged: its
//!   length is sound, but there is no invoke id to answer. A document that
//!   does not parse is answered with an error when it had an invoke id
//!   (header framing), and only logged with NUL framing.
//! * **NUL framing.** Every request gets exactly one reply, in order, except
//!   the routing dialogue (below) and `SystemStatusResponse`. A
//!   `SystemStatusResponse` answers the oldest outstanding heartbeat.
//! * **Heartbeats** start when the connection is accepted, not at session
//!   start, with invoke ids 0001–9998 from the switch's own counter.
//! * **Monitors.** `MonitorStart` on an already monitored device returns
//!   the same `monitorCrossRefID`. Extensions, ACD groups and route points
//!   can be monitored; anything else is `invalidDeviceID`. Call events go
//!   to the monitors of every device in the call (plus a device that just
//!   left it, with `localConnectionInfo` `null`), once per monitor;
//!   `localConnectionInfo` is the monitored device's own state. A call
//!   leaving an ACD queue is reported (`DeliveredEvent`) to the group's
//!   monitor too.
//! * **Avaya DMCC mode** ([`FakeConfig::avaya_switch`]): `GetDeviceId` answers
//!   `<device>1001:<switch>:0.0.0.0:0</device>` for a known extension; device ids
//!   in requests are read as their extensions, and extensions in `deviceID` and
//!   `deviceIdentifier` fields go out as device ids.
//! * **OpenScape Voice mode** ([`FakeConfig::dialect`] =
//!   [`Dialect::OpenScapeVoice`]): the ed.4 namespace; Delivered, Established
//!   and ConnectionCleared events name their connection by the device alone
//!   (`<connection><deviceID>N&lt;1001&gt;;displayNumber=1001</deviceID>`), every
//!   `deviceIdentifier` is `N<…>;displayNumber=…`, and transfers and
//!   conferences give the resulting call a new id. A request's connection may
//!   carry the device alone; it means that device's call (the ringing one for
//!   `AnswerCall`, the held one for `RetrieveCall`, else the active one).
//! * **Vendor extensions** in `<privateData><private>…</private></privateData>`:
//!   `acdGroup` in `DeliveredEvent` for calls distributed by a group;
//!   `callingDevice`, `calledDevice` and (when there is one) `acdGroup` in
//!   each `snapshotDeviceResponseInfo`; `reasonCode` in `AgentNotReadyEvent`
//!   and in `GetAgentState` entries.
//! * **Transfer and conference** keep the held (primary) call's id (a new
//!   one in the OpenScape Voice dialect; [`FakeConfig::joined_call_id`]
//!   chooses); the
//!   connection lists give every connection of the resulting call with its
//!   old connection. The transferring device leaves without a separate
//!   `ConnectionClearedEvent`.
//! * **Calls.** An external number (`+?[0-9*#]+` that is not a configured
//!   device) rings (`DeliveredEvent` with the number as alerting device)
//!   and answers after [`FakeConfig::far_end_answer_after`]; numbers in
//!   [`FakeConfig::busy_numbers`] give `FailedEvent` cause `busy`. When a
//!   call is down to one connection, that one is cleared too.
//! * **Agents.** Log-on leaves the agent not ready. Delivering an ACD call
//!   makes the agent busy (`AgentBusyEvent`); when the call ends the agent
//!   goes back to ready (or after-call work with
//!   [`FakeConfig::acw_after_call`]) unless it chose another state during
//!   the call. Logging on while logged on, or at a device where another
//!   agent is, is `invalidAgentState`. `GetAgentState` on an extension with
//!   nobody logged on gives one entry with no `agentID`, `loggedOnState`
//!   false and `agentNull`; on an ACD group, one entry per serving agent.
//! * **Routing.** `RouteRequest` and `RouteEnd` are sent with invoke id 9999,
//!   like events. `RouteSelectRequest` and `RouteEndRequest` get no
//!   positive response (the `RouteEnd` confirms a selection); an unknown
//!   cross-reference id gets a `CSTAErrorCode`. `RouteEnd` carries
//!   `<errorValue><operation>generic</operation></errorValue>` after a
//!   timeout and `<operation>invalidCalledDevice</operation>` when the
//!   selected device cannot be reached; either way the call takes the
//!   default route. After `RouteEndRequest` it takes the default route
//!   with no `RouteEnd`. The move itself is reported as `DivertedEvent` at
//!   the route point, then `DeliveredEvent` (cause `redirected`).
//!
//! * **BER** ([`FakeConfig::encoding`] = [`Encoding::Ber`]): each APDU
//!   follows a 2-byte big-endian length, both ways; no other framing option
//!   applies, and the DMCC, OpenScape Voice and prefix options are XML only.
//!   The call model, monitors and errors are the XML fake's; what differs:
//!   * *Phases.* Phase III follows ECMA-285 (`systemStatus` is operation
//!     211, agent state is `setAgentState` 312 / `getAgentState` 304, digits
//!     `generateDigits` 232, `singleStepTransferCall` 50). Phase II follows
//!     ECMA-218 as the Alcatel OmniPCX, HiPath 4000 and MD110 links use it:
//!     bare `DeviceID` CHOICE, `ConnectionID` as an implicit SEQUENCE of
//!     `call [2]` and the device, `systemStatus` 52 with a bare value,
//!     events as `callEvent [0]` / `agentStateEvent [2]` choices with
//!     optional causes, errors tagged from `[1]`. Phase II agent states go
//!     through `setFeature` 15 (`requestedAgentState [3]`) and `queryDevice`
//!     12 (`agentState` 5), as in the MD110 Application Link module: with no
//!     agent id or password in the argument, logging on takes the agent whose
//!     id is the device's number and checks no password. Phase II serves no
//!     digits or single-step operations (`reject`, `unrecognizedOperation`);
//!     after-call work is reported as `workNotReady`; agent busy has no Phase
//!     II event and is not sent.
//!   * *Identifiers.* Devices go out as `dialingNumber`; requests may use
//!     any alternative (`deviceNumber` is read as its decimal digits).
//!     Call ids and monitor cross-reference ids are four big-endian octets
//!     (call 101 is `00 00 00 65`); a client's call id of up to eight octets
//!     is read as a big-endian number. An unknown calling device is
//!     `notKnown`, a missing redirection device `notRequired`.
//!   * *Routing* (Phase III only; Phase II rejects `routeRegister` as an
//!     unrecognized operation). `routeRegister` (248) is answered with
//!     `RouteRegisterResult { routeRegisterReqID }`; a call at a route point
//!     is offered with a `routeRequest` (31) invoke with the switch's own
//!     invoke id; `routeSelectRequest` (33) and `routeEndRequest` (35) get
//!     no result (ECMA-285's `ALWAYS RESPONDS FALSE`), only a `returnError`
//!     for an unknown dialogue; the switch ends each dialogue with its own
//!     `routeEndRequest`, with `errorValue [1]` where the XML `RouteEnd`
//!     has one. Cross references and registration ids are four big-endian
//!     octets, like call ids.
//!   * *Answers.* Every invoke but the routing dialogue's gets exactly one
//!     `returnResult`, `returnError` (`universalFailure`, error code 1) or
//!     `reject`, in order, before the events it causes (a result or error for an invoke
//!     id the switch did not send is ignored). Any answer to a keep-alive —
//!     result, error, or reject naming its invoke id — counts for
//!     [`FakeConfig::heartbeat_strict`]. Results with nothing to say are
//!     `noData` (NULL). A BER element that does not parse, or one that is
//!     not a ROSE or ACSE APDU, gets a `reject` with a general problem and
//!     an absent invoke id; an unknown operation `unrecognizedOperation`;
//!     an argument of the wrong shape `mistypedArgument`. The link stays
//!     up: the length prefix keeps the stream in step. Error values follow
//!     the XML fake's choices, mapped to each phase's numbers (Phase II has
//!     no agent errors: unknown agent or group is `objectNotKnown`, a
//!     wrong password `securityViolation`).
//!   * *Events* are `cSTAEventReport` (21) invokes with the switch's own
//!     invoke ids (1–9998, shared with its keep-alives), one per monitor.
//!     Phase III requires a cause on Held and Retrieved events, which the
//!     model does not give: they carry `normal`. The monitored agent's
//!     not-ready reason code is not sent (no standard field).
//!   * *Extras.* [`BerOptions::private_data`] adds the manufacturer's object
//!     identifier and octets to every event: in Phase II as `[APPLICATION
//!     29] { manufacturer, data }` at the event's end, in Phase III as the
//!     vendor alternative (`SEQUENCE { manufacturer, data OCTET STRING }`)
//!     of `extensions.privateData`. [`BerOptions::timestamps`] (Phase III)
//!     puts a `GeneralizedTime` in `extensions.security.timestamp`; Phase II
//!     events carry none.
//!   * *ACSE.* With [`BerOptions::require_acse`], every invoke before an
//!     accepted AARQ gets `returnError` `generic` (as XML requests before a
//!     session). An AARQ naming another application context than
//!     `1.3.12.0.218` (both phases, as a HiPath 4000 client names it) gets
//!     an AARE `rejected-permanent` / `application-context-name-not-supported`;
//!     with [`FakeConfig::credentials`] set, a `calling-authentication-value`
//!     other than the credentials gets `authentication-failure`: X.227's
//!     `charstring` holding the password, or the HiPath client's `external [2]`
//!     holding `[0] { name, password }` as OCTET STRINGs.
//!     An RLRQ is answered with an RLRE and drops the monitors; an ABRT
//!     closes the link. Without `require_acse` an AARQ is still answered.
//!
//! The control methods panic when the test asks for something impossible
//! (answering at a device where nothing rings, ringing an invalid number):
//! that is a bug in the test, reported where it happens.

mod ber;
mod config;
mod inbox;
mod message;
mod model;
mod reply;
mod request;
mod router;
mod session;
mod shared;
mod wire;
mod xml;

#[cfg(test)]
mod tests;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

pub use config::{
    AcdGroup, BerOptions, CstaPhase, Dialect, Encoding, FakeAgent, FakeConfig, Framing,
    JoinedCallId, PrivateData, RoutePoint,
};
pub use model::{AgentSnapshot, AgentState, CallSnapshot, PartySnapshot, PartyState};
pub use request::AgentRequest;

use router::{Job, NetMsg, Router};

/// Handle to a running fake switch. Clones share the switch; it stops when
/// the last handle is dropped.
#[derive(Clone)]
pub struct FakeSwitch {
    addr: SocketAddr,
    jobs: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for FakeSwitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeSwitch")
            .field("addr", &self.addr)
            .finish()
    }
}

impl FakeSwitch {
    /// Binds (127.0.0.1 on a free port unless [`FakeConfig::listen`] says
    /// otherwise) and starts serving. Must be called inside a Tokio runtime.
    pub async fn start(config: FakeConfig) -> io::Result<FakeSwitch> {
        let bind = config
            .listen
            .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let (jobs_tx, jobs_rx) = mpsc::unbounded_channel::<Job>();
        let (net_tx, net_rx) = mpsc::unbounded_channel::<NetMsg>();
        let accept_tx = net_tx.clone();
        let acceptor = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _peer)) => {
                        if accept_tx.send(NetMsg::Accepted(stream)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        // Out of descriptors and the like: back off, retry.
                        tracing::warn!(error = %e, "fake switch: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        });
        let router = Router::new(config, net_tx);
        tokio::spawn(async move {
            router.run(jobs_rx, net_rx).await;
            acceptor.abort();
        });
        Ok(FakeSwitch {
            addr,
            jobs: jobs_tx,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Router) -> T + Send + 'static,
    ) -> T {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |r| {
            let _ = tx.send(f(r));
        });
        if self.jobs.send(job).is_err() {
            panic!("fake switch has stopped");
        }
        rx.await.expect("fake switch has stopped")
    }

    /// External caller `from` dials `to` (DNIS = `to`). Returns the call id.
    ///
    /// An extension rings; an ACD group queues the call and hands it to the
    /// longest-ready agent; a route point starts a routing dialogue (see
    /// [`FakeSwitch::route`]). From an extension, this is a `MakeCall`.
    pub async fn ring(&self, from: &str, to: &str) -> String {
        self.ring_with(from, to, to).await
    }

    /// Like [`FakeSwitch::ring`] with a dialled number (DNIS) different
    /// from where the call arrives (e.g. a toll-free number to a group).
    pub async fn ring_with(&self, from: &str, to: &str, dnis: &str) -> String {
        let (f, t, d) = (from.to_owned(), to.to_owned(), dnis.to_owned());
        match self.with(move |r| r.ring(&f, &t, &d)).await {
            Ok(id) => id,
            Err(e) => panic!("fake switch: ring({from}, {to}) refused: {e:?}"),
        }
    }

    /// The person at `device` answers the call ringing there. Returns the
    /// call id.
    pub async fn answer(&self, device: &str) -> String {
        let d = device.to_owned();
        match self.with(move |r| r.answer(&d)).await {
            Ok(id) => id,
            Err(e) => panic!("fake switch: nothing to answer at {device}: {e:?}"),
        }
    }

    /// The person at `device` hangs up (its connected call, else any).
    /// Returns the call id.
    pub async fn hangup(&self, device: &str) -> String {
        let d = device.to_owned();
        match self.with(move |r| r.hangup(&d)).await {
            Ok(id) => id,
            Err(e) => panic!("fake switch: no call to hang up at {device}: {e:?}"),
        }
    }

    /// The agent changes state at the phone (no password needed): log on
    /// at `device`, ready, not ready, and so on. The client sees the agent
    /// events as if it had asked.
    pub async fn agent(&self, agent: &str, device: &str, request: AgentRequest) {
        let (a, d) = (agent.to_owned(), device.to_owned());
        if let Err(e) = self.with(move |r| r.agent(&a, &d, &request)).await {
            panic!("fake switch: agent {agent} at {device} refused: {e:?}");
        }
    }

    /// Closes the current client connection abruptly (both directions, no
    /// CSTA goodbye). Returns whether a client was connected.
    pub async fn drop_link(&self) -> bool {
        self.with(Router::drop_link).await
    }

    /// While `false`, new connections are closed as soon as they arrive.
    /// The current connection is left alone.
    pub async fn set_accepting(&self, accepting: bool) {
        self.with(move |r| r.set_accepting(accepting)).await;
    }

    /// A call from `from` arrives at `route_point`: the registered
    /// application gets a `RouteRequest` and has [`FakeConfig::route_timeout`]
    /// to select a route, else the call takes the default route. Returns
    /// the device the call went to.
    pub async fn route(&self, from: &str, route_point: &str) -> String {
        let (tx, rx) = oneshot::channel();
        let (f, p) = (from.to_owned(), route_point.to_owned());
        if let Err(e) = self.with(move |r| r.route(&f, &p, tx)).await {
            panic!("fake switch: route({from}, {route_point}) refused: {e:?}");
        }
        rx.await.expect("fake switch has stopped")
    }

    /// Writes raw bytes to the client, as they are. Returns whether a
    /// client was connected.
    pub async fn inject_raw(&self, bytes: impl Into<Vec<u8>>) -> bool {
        let bytes = bytes::Bytes::from(bytes.into());
        self.with(move |r| r.inject_raw(bytes)).await
    }

    /// Local names of every document received, in order (requests and the
    /// client's replies to the switch's own requests, e.g.
    /// `SystemStatusResponse`). Documents that did not parse are left out.
    /// On a BER link: the ECMA-323 name of each operation invoked (results
    /// are not listed) and `AARQ`, `RLRQ`, `ABRT` for ACSE; rejected APDUs
    /// are left out.
    pub async fn received(&self) -> Vec<String> {
        self.with(|r| r.received()).await
    }

    /// Digits sent with `GenerateDigits` on this call, concatenated.
    pub async fn digits(&self, call_id: &str) -> String {
        let c = call_id.to_owned();
        self.with(move |r| r.digits(&c)).await
    }

    /// The calls in progress, oldest first.
    pub async fn calls(&self) -> Vec<CallSnapshot> {
        self.with(|r| r.calls()).await
    }

    pub async fn agent_state(&self, agent: &str) -> Option<AgentSnapshot> {
        let a = agent.to_owned();
        self.with(move |r| r.agent_state(&a)).await
    }

    /// Connections accepted so far (refused ones not counted).
    pub async fn connections_accepted(&self) -> usize {
        self.with(|r| r.connections_accepted()).await
    }

    /// Devices monitored on the current connection.
    pub async fn monitored(&self) -> Vec<String> {
        self.with(|r| r.monitored()).await
    }

    /// Whether a client is connected.
    pub async fn is_connected(&self) -> bool {
        self.with(|r| r.is_connected()).await
    }

    /// Whether the current client has started an application session.
    pub async fn session_started(&self) -> bool {
        self.with(|r| r.session_started()).await
    }
}

//! Writing what the switch sends: responses, `CSTAErrorCode`, events (one
//! document per monitor), and the switch's own requests (`SystemStatus`,
//! `RouteRequest`, `RouteEnd`). Element order follows ECMA-323 ed.3.

use super::config::Dialect;
use super::model::{AgentEventKind, CallEvent, Event, PartyState};
use super::shared::Conn;
pub use super::shared::CstaError;
use super::xml::XmlOut;

/// ECMA-323 ed.3 namespace, on every CSTA message.
pub const CSTA_NS: &str = "http://www.ecma-international.org/standards/ecma-323/csta/ed3";
/// ECMA-323 ed.4, which OpenScape Voice uses.
pub const CSTA_ED4_NS: &str = "http://www.ecma-international.org/standards/ecma-323/csta/ed4";
/// ECMA-354 namespace, on the application-session messages (as real
/// switches send them; the client must match local names only anyway).
pub const ACSE_NS: &str = "http://www.ecma-international.org/standards/ecma-354/appl_session";

/// Writes documents with the configured element prefix, in the configured
/// dialect.
#[derive(Debug, Clone)]
pub struct Writer {
    prefix: Option<String>,
    dialect: Dialect,
}

impl Writer {
    pub fn new(prefix: Option<String>, dialect: Dialect) -> Self {
        Self { prefix, dialect }
    }

    /// A CSTA document with root `root`.
    pub fn csta(&self, root: &str, body: impl FnOnce(&mut XmlOut<'_>)) -> String {
        match self.dialect {
            Dialect::Standard => XmlOut::document(root, CSTA_NS, self.prefix.as_deref(), body),
            Dialect::OpenScapeVoice => osv_devices(&XmlOut::document(
                root,
                CSTA_ED4_NS,
                self.prefix.as_deref(),
                body,
            )),
        }
    }

    /// A connection as this dialect writes it in Delivered, Established and
    /// ConnectionCleared events: OpenScape Voice names it by the device alone.
    fn event_conn(&self, x: &mut XmlOut<'_>, name: &str, c: &Conn) {
        match self.dialect {
            Dialect::Standard => conn(x, name, c),
            Dialect::OpenScapeVoice => x.elem(name, |x| {
                x.leaf("deviceID", &format!("N<{0}>;displayNumber={0}", c.device))
            }),
        }
    }

    /// An application-session (ECMA-354) document.
    pub fn acse(&self, root: &str, body: impl FnOnce(&mut XmlOut<'_>)) -> String {
        XmlOut::document(root, ACSE_NS, self.prefix.as_deref(), body)
    }

    pub fn error(&self, error: CstaError) -> String {
        self.csta("CSTAErrorCode", |x| match error {
            CstaError::Operation(v) => x.leaf("operation", v),
            CstaError::State(v) => x.leaf("stateIncompatibility", v),
        })
    }

    /// The switch's heartbeat request.
    pub fn system_status(&self) -> String {
        self.csta("SystemStatus", |x| x.leaf("systemStatus", "normal"))
    }

    pub fn route_request(
        &self,
        reg: &str,
        xref: &str,
        route_point: &str,
        calling: &str,
        call: &str,
    ) -> String {
        self.csta("RouteRequest", |x| {
            x.leaf("routeRegisterReqID", reg);
            x.leaf("routingCrossRefID", xref);
            x.leaf("currentRoute", route_point);
            x.leaf("callingDevice", calling);
            conn(x, "routedCall", &Conn::new(call, route_point));
        })
    }

    pub fn route_end(&self, reg: &str, xref: &str, error: Option<CstaError>) -> String {
        self.csta("RouteEnd", |x| {
            x.leaf("routeRegisterReqID", reg);
            x.leaf("routingCrossRefID", xref);
            if let Some(e) = error {
                x.elem("errorValue", |x| match e {
                    CstaError::Operation(v) => x.leaf("operation", v),
                    CstaError::State(v) => x.leaf("stateIncompatibility", v),
                });
            }
        })
    }

    /// One event as reported to the monitor `xref`; `local` is the state
    /// of the monitored device's own connection in the call (`None` =
    /// `null`), ignored for agent events.
    pub fn event(&self, event: &Event, xref: &str, local: Option<PartyState>) -> String {
        match event {
            Event::Call(ev) => self.call_event(ev, xref, local),
            Event::Agent {
                kind,
                device,
                agent,
                reason,
            } => self.csta(kind.root(), |x| {
                x.leaf("monitorCrossRefID", xref);
                dev(x, "agentDevice", device);
                x.leaf("agentID", agent);
                if let (AgentEventKind::NotReady, Some(r)) = (kind, reason) {
                    private(x, |x| x.leaf("reasonCode", r));
                }
            }),
        }
    }

    fn call_event(&self, ev: &CallEvent, xref: &str, local: Option<PartyState>) -> String {
        let local = local.map_or("null", PartyState::as_csta);
        let tail = |x: &mut XmlOut<'_>, cause: Option<&str>| {
            x.leaf("localConnectionInfo", local);
            if let Some(c) = cause {
                x.leaf("cause", c);
            }
        };
        match ev {
            CallEvent::ServiceInitiated { conn: c, cause } => {
                self.csta("ServiceInitiatedEvent", |x| {
                    x.leaf("monitorCrossRefID", xref);
                    conn(x, "initiatedConnection", c);
                    dev(x, "initiatingDevice", &c.device);
                    tail(x, Some(cause));
                })
            }
            CallEvent::Originated {
                conn: c,
                calling,
                called,
                cause,
            } => self.csta("OriginatedEvent", |x| {
                x.leaf("monitorCrossRefID", xref);
                conn(x, "originatedConnection", c);
                dev(x, "callingDevice", calling);
                dev(x, "calledDevice", called);
                tail(x, Some(cause));
            }),
            CallEvent::Delivered {
                conn: c,
                calling,
                called,
                redirection,
                acd_group,
                cause,
            } => self.csta("DeliveredEvent", |x| {
                x.leaf("monitorCrossRefID", xref);
                self.event_conn(x, "connection", c);
                dev(x, "alertingDevice", &c.device);
                dev(x, "callingDevice", calling);
                dev(x, "calledDevice", called);
                opt_dev(x, "lastRedirectionDevice", redirection.as_deref());
                tail(x, Some(cause));
                if let Some(g) = acd_group {
                    private(x, |x| x.leaf("acdGroup", g));
                }
            }),
            CallEvent::Established {
                conn: c,
                calling,
                called,
                redirection,
                cause,
            } => self.csta("EstablishedEvent", |x| {
                x.leaf("monitorCrossRefID", xref);
                self.event_conn(x, "establishedConnection", c);
                dev(x, "answeringDevice", &c.device);
                dev(x, "callingDevice", calling);
                dev(x, "calledDevice", called);
                opt_dev(x, "lastRedirectionDevice", redirection.as_deref());
                tail(x, Some(cause));
            }),
            CallEvent::Held { conn: c, cause } => self.csta("HeldEvent", |x| {
                x.leaf("monitorCrossRefID", xref);
                conn(x, "heldConnection", c);
                dev(x, "holdingDevice", &c.device);
                tail(x, *cause);
            }),
            CallEvent::Retrieved { conn: c } => self.csta("RetrievedEvent", |x| {
                x.leaf("monitorCrossRefID", xref);
                conn(x, "retrievedConnection", c);
                dev(x, "retrievingDevice", &c.device);
                tail(x, None);
            }),
            CallEvent::Cleared { conn: c, cause } => self.csta("ConnectionClearedEvent", |x| {
                x.leaf("monitorCrossRefID", xref);
                self.event_conn(x, "droppedConnection", c);
                dev(x, "releasingDevice", &c.device);
                tail(x, Some(cause));
            }),
            CallEvent::Failed {
                conn: c,
                called,
                cause,
            } => self.csta("FailedEvent", |x| {
                x.leaf("monitorCrossRefID", xref);
                conn(x, "failedConnection", c);
                dev(x, "failingDevice", &c.device);
                dev(x, "calledDevice", called);
                tail(x, Some(cause));
            }),
            CallEvent::Diverted { conn: c, to, cause } => self.csta("DivertedEvent", |x| {
                x.leaf("monitorCrossRefID", xref);
                conn(x, "connection", c);
                dev(x, "divertingDevice", &c.device);
                dev(x, "newDestination", to);
                tail(x, Some(cause));
            }),
            CallEvent::Queued {
                conn: c,
                calling,
                called,
                number_queued,
                cause,
            } => self.csta("QueuedEvent", |x| {
                x.leaf("monitorCrossRefID", xref);
                conn(x, "queuedConnection", c);
                dev(x, "queue", &c.device);
                dev(x, "callingDevice", calling);
                dev(x, "calledDevice", called);
                x.leaf("numberQueued", &number_queued.to_string());
                tail(x, Some(cause));
            }),
            CallEvent::Transfered {
                primary,
                secondary,
                transferring,
                to,
                connections,
                cause,
            } => self.csta("TransferedEvent", |x| {
                x.leaf("monitorCrossRefID", xref);
                conn(x, "primaryOldCall", primary);
                if let Some(s) = secondary {
                    conn(x, "secondaryOldCall", s);
                }
                dev(x, "transferringDevice", transferring);
                dev(x, "transferredToDevice", to);
                connection_list(x, "transferredConnections", connections);
                tail(x, Some(cause));
            }),
            CallEvent::Conferenced {
                primary,
                secondary,
                conferencing,
                added,
                connections,
                cause,
            } => self.csta("ConferencedEvent", |x| {
                x.leaf("monitorCrossRefID", xref);
                conn(x, "primaryOldCall", primary);
                if let Some(s) = secondary {
                    conn(x, "secondaryOldCall", s);
                }
                dev(x, "conferencingDevice", conferencing);
                dev(x, "addedParty", added);
                connection_list(x, "conferenceConnections", connections);
                tail(x, Some(cause));
            }),
        }
    }
}

/// OpenScape Voice writes every device identifier `N<number>;displayNumber=…`.
fn osv_devices(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len() + 64);
    let mut rest = xml;
    while let Some(at) = rest.find("deviceIdentifier>") {
        let (head, tail) = rest.split_at(at + "deviceIdentifier>".len());
        out.push_str(head);
        // Only an opening tag (`<deviceIdentifier>` or `<p:deviceIdentifier>`).
        let opening = !head[..at].ends_with('/')
            && !head[..at]
                .rsplit('<')
                .next()
                .unwrap_or_default()
                .starts_with('/');
        let end = tail.find('<').unwrap_or(tail.len());
        let text = &tail[..end];
        if opening && !text.is_empty() && !text.starts_with("N&lt;") {
            out.push_str(&format!("N&lt;{text}&gt;;displayNumber={text}"));
        } else {
            out.push_str(text);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `<name><callID/><deviceID/></name>`
pub fn conn(x: &mut XmlOut<'_>, name: &str, c: &Conn) {
    x.elem(name, |x| {
        x.leaf("callID", &c.call);
        x.leaf("deviceID", &c.device);
    });
}

/// `<name><deviceIdentifier/></name>`
fn dev(x: &mut XmlOut<'_>, name: &str, device: &str) {
    x.elem(name, |x| x.leaf("deviceIdentifier", device));
}

/// A device that may be absent: `<notRequired/>` stands in for it.
fn opt_dev(x: &mut XmlOut<'_>, name: &str, device: Option<&str>) {
    match device {
        Some(d) => dev(x, name, d),
        None => x.elem(name, |x| x.empty("notRequired")),
    }
}

/// Vendor extension block `<privateData><private>…</private></privateData>`.
pub fn private(x: &mut XmlOut<'_>, body: impl FnOnce(&mut XmlOut<'_>)) {
    x.elem("privateData", |x| x.elem("private", body));
}

fn connection_list(x: &mut XmlOut<'_>, name: &str, items: &[(Conn, Option<Conn>)]) {
    x.elem(name, |x| {
        for (new, old) in items {
            x.elem("connectionListItem", |x| {
                conn(x, "newConnection", new);
                if let Some(o) = old {
                    conn(x, "oldConnection", o);
                }
            });
        }
    });
}

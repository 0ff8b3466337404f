//! What the router's inbox receives: frames and closings from the connection tasks,
//! new connections, and its own timers firing. Its own module so that the sessions
//! can send to the router without importing it.

use tokio::net::TcpStream;

use super::model::Notice;
use super::wire::InFrame;

/// Messages from the network side and from timers.
#[derive(Debug)]
pub enum NetMsg {
    Accepted(TcpStream),
    Frame { link: u64, frame: InFrame },
    Closed { link: u64, why: String },
    Timer(TimerMsg),
}

#[derive(Debug)]
pub enum TimerMsg {
    FarEndAnswer {
        call: String,
        device: String,
    },
    RouteTimeout {
        xref: u32,
    },
    SessionExpiry {
        link: u64,
        generation: u64,
    },
    Heartbeat {
        link: u64,
    },
    /// An agent event held back by [`FakeConfig::agent_events_after`].
    Notify(Notice),
}

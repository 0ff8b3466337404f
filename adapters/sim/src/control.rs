//! [`SimControl`]: the outside world's handle on a running simulator, for tests and
//! drivers. It places calls from outside and breaks the simulated link; everything
//! else goes through commands, as it would on a real switch.

use std::time::Duration;

use ctibridge_adapter::{CallRecord, CommandError};
use tokio::sync::{mpsc, oneshot};

/// What a [`SimControl`] asks of the simulator's actor.
pub(crate) enum Control {
    Inbound {
        from: String,
        to: String,
        digits: Option<String>,
        reply: oneshot::Sender<Result<String, CommandError>>,
    },
    DropLink {
        down_for: Duration,
        done: oneshot::Sender<()>,
    },
    Record {
        record: Box<CallRecord>,
        raw: String,
        done: oneshot::Sender<()>,
    },
}

/// How many control requests may wait for the actor.
pub(crate) const CONTROL_QUEUE: usize = 64;

/// A handle on one [`crate::SimAdapter`]'s switch, from [`crate::SimAdapter::with_control`].
/// Cheap to clone. Each call waits until the running adapter has acted on it (so
/// before the adapter's `run` has started, it waits for that).
#[derive(Debug, Clone)]
pub struct SimControl {
    tx: mpsc::Sender<Control>,
}

impl SimControl {
    pub(crate) fn new(tx: mpsc::Sender<Control>) -> Self {
        SimControl { tx }
    }

    /// An outside caller `from` dials `to` (an extension, an ACD group or a DNIS).
    /// A number the switch does not know is logged and ignored; use [`Self::inbound`]
    /// to see the outcome.
    pub async fn ring(&self, from: &str, to: &str) {
        if let Err(e) = self.inbound(from, to, None).await {
            tracing::warn!("simulated call from {from} to {to} not placed: {e}");
        }
    }

    /// An outside caller `from` dials `to` with IVR-collected `digits`. Returns the
    /// switch's call id once the call's first events are reported, or why the call
    /// could not be placed (`SwitchUnavailable` when the adapter has stopped). The
    /// outside world does not care whether the CTI link is up: during an outage the
    /// call is placed, only its events are lost.
    pub async fn inbound(
        &self,
        from: &str,
        to: &str,
        digits: Option<&str>,
    ) -> Result<String, CommandError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Control::Inbound {
                from: from.to_string(),
                to: to.to_string(),
                digits: digits.map(str::to_string),
                reply,
            })
            .await
            .map_err(|_| CommandError::SwitchUnavailable)?;
        answer.await.map_err(|_| CommandError::SwitchUnavailable)?
    }

    /// Break the CTI link for `down_for`: the adapter reports `LinkDown`, answers
    /// commands with `SwitchUnavailable`, and loses the events of whatever happens in
    /// the switch meanwhile (calls and timers go on); then it reports `LinkUp` and a
    /// `Snapshot`. Returns once the outage has begun. Breaking a broken link extends
    /// the outage.
    pub async fn drop_link(&self, down_for: Duration) {
        let (done, begun) = oneshot::channel();
        if self
            .tx
            .send(Control::DropLink { down_for, done })
            .await
            .is_ok()
        {
            let _ = begun.await;
        }
    }

    /// The switch prints a completed-call record (as a PBX with both a CTI link and
    /// an SMDR port would), reported as `CallRecord` with `raw` as its line. Lost
    /// while the link is down, like every event. Returns once it is reported.
    pub async fn record(&self, record: CallRecord, raw: &str) {
        let (done, reported) = oneshot::channel();
        let message = Control::Record {
            record: Box::new(record),
            raw: raw.to_string(),
            done,
        };
        if self.tx.send(message).await.is_ok() {
            let _ = reported.await;
        }
    }
}

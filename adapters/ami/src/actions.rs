//! Daemon commands → AMI actions, and Asterisk's answers → the API's results.
//!
//! Each command becomes one or more actions (QueueAdd to every queue, one PlayDTMF
//! per digit); the command succeeds when every action did. Channels are found in the
//! [`Tracker`]: a command about a call Asterisk never showed us is `call_not_found`
//! without asking Asterisk. Destinations are checked before anything is sent, since
//! Asterisk accepts an asynchronous Originate to any extension and only fails later.

use ctibridge_adapter::{
    AgentStateRequest, Command, CommandError, CommandKind, MonitorMode, SwitchEvent, TransferMode,
};

use crate::config::AmiConfig;
use crate::tracker::Tracker;

/// The commands this adapter carries out.
pub const SUPPORTED: [CommandKind; 12] = [
    CommandKind::MakeCall,
    CommandKind::Hangup,
    CommandKind::TransferBlind,
    CommandKind::TransferConsult,
    CommandKind::Dtmf,
    CommandKind::AgentLogin,
    CommandKind::AgentLogout,
    CommandKind::SetAgentState,
    CommandKind::Monitor,
    CommandKind::Whisper,
    CommandKind::Barge,
    CommandKind::ForceRelease,
];

/// One AMI action without its ActionID (the session adds it).
pub type Action = Vec<(&'static str, String)>;

/// What to do for a command.
#[derive(Debug)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Reported when every action succeeded (a Redirect is a blind transfer Asterisk
    /// itself does not announce as one).
    pub on_success: Vec<SwitchEvent>,
    /// Asterisk answers that mean "already so" and count as success.
    pub benign: &'static [&'static str],
}

fn plan(actions: Vec<Action>) -> Result<Plan, CommandError> {
    Ok(Plan {
        actions,
        on_success: Vec::new(),
        benign: &[],
    })
}

/// A number or extension Asterisk can dial: digits, `*`, `#`, a leading `+`.
fn dialable(to: &str) -> Result<&str, CommandError> {
    let digits = to.strip_prefix('+').unwrap_or(to);
    if !digits.is_empty()
        && digits.len() <= 40
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
    {
        Ok(to)
    } else {
        Err(CommandError::InvalidDestination(format!(
            "`{to}` is not a number Asterisk can dial"
        )))
    }
}

fn interface(config: &AmiConfig, tracker: &Tracker, agent_or_device: &str) -> String {
    tracker
        .agents
        .config(agent_or_device)
        .map(|a| a.interface())
        .or_else(|| {
            config
                .agents
                .iter()
                .find(|a| a.extension == agent_or_device)
                .map(|a| a.interface())
        })
        .unwrap_or_else(|| format!("PJSIP/{agent_or_device}"))
}

fn channel(tracker: &Tracker, call_id: &str, device: &str) -> Result<String, CommandError> {
    tracker
        .channel_of(call_id, device)
        .map(String::from)
        .ok_or_else(|| {
            CommandError::CallNotFound(format!("no channel of {device} in call {call_id}"))
        })
}

/// The actions for `command`, or why there are none.
pub fn plan_for(
    config: &AmiConfig,
    tracker: &Tracker,
    command: &Command,
) -> Result<Plan, CommandError> {
    let ctx = config.context.clone();
    match command {
        Command::MakeCall { from, to } => {
            let to = dialable(to)?;
            plan(vec![vec![
                ("Action", "Originate".into()),
                ("Channel", interface(config, tracker, from)),
                ("Exten", to.into()),
                ("Context", ctx),
                ("Priority", "1".into()),
                ("CallerID", from.clone()),
                ("Async", "true".into()),
            ]])
        }
        Command::Hangup { call_id, device } => plan(vec![vec![
            ("Action", "Hangup".into()),
            ("Channel", channel(tracker, call_id, device)?),
        ]]),
        Command::ForceRelease { call_id } => {
            let channels = tracker.channels_of(call_id);
            if channels.is_empty() {
                return Err(CommandError::CallNotFound(call_id.clone()));
            }
            plan(
                channels
                    .into_iter()
                    .map(|c| vec![("Action", "Hangup".into()), ("Channel", c)])
                    .collect(),
            )
        }
        Command::Transfer {
            call_id,
            device,
            mode,
            to,
            consult_call_id,
        } => match mode {
            TransferMode::Blind => {
                let to = dialable(to.as_deref().unwrap_or(""))?.to_string();
                // The agent's own channel must be in the call; the party that moves
                // is the caller's channel.
                channel(tracker, call_id, device)?;
                let caller = tracker.caller_channel(call_id).ok_or_else(|| {
                    CommandError::CallNotFound(format!("call {call_id} has no caller channel"))
                })?;
                Ok(Plan {
                    actions: vec![vec![
                        ("Action", "Redirect".into()),
                        ("Channel", caller.to_string()),
                        ("Exten", to.clone()),
                        ("Context", ctx),
                        ("Priority", "1".into()),
                    ]],
                    on_success: vec![SwitchEvent::Transferred {
                        call_id: call_id.clone(),
                        secondary_call_id: None,
                        device: device.clone(),
                        transferred_to: to,
                    }],
                    benign: &[],
                })
            }
            TransferMode::Consult => {
                let to = dialable(to.as_deref().unwrap_or(""))?;
                plan(vec![vec![
                    ("Action", "Atxfer".into()),
                    ("Channel", channel(tracker, call_id, device)?),
                    ("Exten", to.into()),
                    ("Context", ctx),
                ]])
            }
            // Asterisk completes an Atxfer when the transferring phone hangs up its
            // consultation leg.
            TransferMode::Complete => {
                let consult = consult_call_id.as_deref().unwrap_or(call_id);
                plan(vec![vec![
                    ("Action", "Hangup".into()),
                    ("Channel", channel(tracker, consult, device)?),
                ]])
            }
        },
        Command::Dtmf {
            call_id,
            device,
            digits,
        } => {
            let chan = channel(tracker, call_id, device)?;
            if digits.is_empty()
                || !digits
                    .chars()
                    .all(|c| c.is_ascii_digit() || "*#ABCDabcd".contains(c))
            {
                return Err(CommandError::Rejected(format!(
                    "`{digits}` are not DTMF digits"
                )));
            }
            plan(
                digits
                    .chars()
                    .map(|d| {
                        vec![
                            ("Action", "PlayDTMF".into()),
                            ("Channel", chan.clone()),
                            ("Digit", d.to_string()),
                        ]
                    })
                    .collect(),
            )
        }
        Command::AgentLogin { agent, .. } => {
            let iface = interface(config, tracker, agent);
            Ok(Plan {
                actions: config
                    .queues
                    .iter()
                    .map(|q| {
                        vec![
                            ("Action", "QueueAdd".into()),
                            ("Queue", q.clone()),
                            ("Interface", iface.clone()),
                            ("MemberName", agent.clone()),
                            ("Paused", "false".into()),
                        ]
                    })
                    .collect(),
                on_success: Vec::new(),
                benign: &["Already there"],
            })
        }
        Command::AgentLogout { agent, .. } => {
            let iface = interface(config, tracker, agent);
            Ok(Plan {
                actions: config
                    .queues
                    .iter()
                    .map(|q| {
                        vec![
                            ("Action", "QueueRemove".into()),
                            ("Queue", q.clone()),
                            ("Interface", iface.clone()),
                        ]
                    })
                    .collect(),
                on_success: Vec::new(),
                benign: &["Not there"],
            })
        }
        Command::SetAgentState { agent, state, .. } => {
            let iface = interface(config, tracker, agent);
            let mut action = vec![("Action", "QueuePause".into()), ("Interface", iface)];
            match state {
                AgentStateRequest::Ready => action.push(("Paused", "false".into())),
                AgentStateRequest::NotReady { reason } => {
                    action.push(("Paused", "true".into()));
                    if let Some(reason) = reason {
                        action.push(("Reason", reason.clone()));
                    }
                }
                AgentStateRequest::Acw => {
                    return Err(CommandError::NotSupported(
                        "Asterisk queues have no after-call-work state to set".into(),
                    ))
                }
            }
            plan(vec![action])
        }
        Command::Monitor {
            call_id,
            device,
            supervisor_device,
            mode,
        } => {
            let target = channel(tracker, call_id, device)?;
            // ChanSpy on the agent's channel: q quiet, w whisper to the agent, B barge.
            let options = match mode {
                MonitorMode::Silent => "q",
                MonitorMode::Whisper => "qw",
                MonitorMode::Barge => "qB",
            };
            let prefix = target
                .rsplit_once('-')
                .map(|(p, _)| p)
                .unwrap_or(&target)
                .to_string();
            plan(vec![vec![
                ("Action", "Originate".into()),
                ("Channel", interface(config, tracker, supervisor_device)),
                ("Application", "ChanSpy".into()),
                ("Data", format!("{prefix},{options}")),
                ("CallerID", format!("Monitor <{device}>")),
                ("Async", "true".into()),
            ]])
        }
        other => Err(CommandError::NotSupported(format!(
            "{:?} is not available over AMI",
            other.kind()
        ))),
    }
}

/// Asterisk's `Response: Error` message → the API's error.
pub fn error_of(message: &str) -> CommandError {
    let m = message.to_ascii_lowercase();
    if m.contains("no such channel")
        || m.contains("channel not found")
        || m.contains("channel does not exist")
    {
        CommandError::CallNotFound(message.into())
    } else if m.contains("extension does not exist")
        || m.contains("invalid") && m.contains("exten")
        || m.contains("extension not specified")
    {
        CommandError::InvalidDestination(message.into())
    } else if m.contains("permission denied")
        || m.contains("not allowed")
        || m.contains("invalid/unknown command")
    {
        CommandError::NotSupported(message.into())
    } else {
        CommandError::Rejected(message.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asterisk_errors_map_to_api_codes() {
        assert_eq!(error_of("No such channel").code(), "call_not_found");
        assert_eq!(
            error_of("Extension does not exist.").code(),
            "invalid_destination"
        );
        assert_eq!(error_of("Permission denied").code(), "not_supported");
        assert_eq!(
            error_of("Invalid/unknown command: Atxfer.").code(),
            "not_supported"
        );
        assert_eq!(error_of("Interface not found").code(), "not_supported");
    }

    #[test]
    fn destinations_are_checked_before_sending() {
        assert!(dialable("+14155550123").is_ok());
        assert!(dialable("*72").is_ok());
        assert!(matches!(
            dialable("not a number"),
            Err(CommandError::InvalidDestination(_))
        ));
        assert!(matches!(
            dialable("1;Action: Hangup"),
            Err(CommandError::InvalidDestination(_))
        ));
    }
}

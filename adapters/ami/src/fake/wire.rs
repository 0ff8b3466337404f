//! The fake's own AMI text: reading actions (split at the blank line, `Key: Value`
//! by the first colon) and writing responses and events with the headers Asterisk
//! 16–20 put in them. Deliberately simple and separate from the adapter's codec.

use super::Chan;

/// One action as the fake read it.
#[derive(Debug, Default)]
pub struct Action {
    fields: Vec<(String, String)>,
}

impl Action {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits the byte stream into actions.
#[derive(Default)]
pub struct Reader {
    text: String,
}

impl Reader {
    pub fn push(&mut self, bytes: &[u8]) {
        self.text.push_str(&String::from_utf8_lossy(bytes));
    }

    pub fn next(&mut self) -> Option<Action> {
        loop {
            let end = self.text.find("\r\n\r\n")?;
            let block: String = self.text.drain(..end + 4).collect();
            let fields: Vec<(String, String)> = block
                .split("\r\n")
                .filter_map(|line| {
                    let (k, v) = line.split_once(':')?;
                    Some((k.trim().to_string(), v.trim().to_string()))
                })
                .collect();
            if !fields.is_empty() {
                return Some(Action { fields });
            }
        }
    }
}

pub fn message(fields: &[(&str, String)]) -> Vec<u8> {
    let mut s = String::new();
    for (k, v) in fields {
        s.push_str(k);
        s.push_str(": ");
        s.push_str(v);
        s.push_str("\r\n");
    }
    s.push_str("\r\n");
    s.into_bytes()
}

fn respond(a: &Action, response: &str, extra: &[(&str, String)]) -> Vec<u8> {
    let mut fields = vec![("Response", response.to_string())];
    if let Some(id) = a.get("ActionID") {
        fields.push(("ActionID", id.to_string()));
    }
    fields.extend(extra.iter().cloned());
    message(&fields)
}

pub fn success(a: &Action, extra: &[(&str, String)]) -> Vec<u8> {
    respond(a, "Success", extra)
}

pub fn error(a: &Action, text: &str) -> Vec<u8> {
    respond(a, "Error", &[("Message", text.to_string())])
}

/// An event answering a list action (it carries the action's ActionID).
pub fn with_id(a: &Action, fields: &[(&str, String)]) -> Vec<u8> {
    let mut all = vec![fields[0].clone()];
    if let Some(id) = a.get("ActionID") {
        all.push(("ActionID", id.to_string()));
    }
    all.extend(fields[1..].iter().cloned());
    message(&all)
}

pub fn complete(event: &str, a: &Action, items: usize) -> Vec<u8> {
    with_id(
        a,
        &[
            ("Event", event.into()),
            ("EventList", "Complete".into()),
            ("ListItems", items.to_string()),
        ],
    )
}

fn state_code(state: &str) -> &'static str {
    match state {
        "Ring" => "4",
        "Ringing" => "5",
        "Up" => "6",
        _ => "0",
    }
}

fn snapshot(prefix: &str, c: &Chan) -> Vec<(String, String)> {
    [
        ("Channel", c.name.clone()),
        ("ChannelState", state_code(c.state).to_string()),
        ("ChannelStateDesc", c.state.to_string()),
        ("CallerIDNum", c.caller.clone()),
        ("CallerIDName", "<unknown>".into()),
        ("ConnectedLineNum", "<unknown>".into()),
        ("ConnectedLineName", "<unknown>".into()),
        ("Language", "en".into()),
        ("AccountCode", String::new()),
        ("Context", "from-internal".into()),
        ("Exten", c.exten.clone()),
        ("Priority", "1".into()),
        ("Uniqueid", c.uniqueid.clone()),
        ("Linkedid", c.linkedid.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (format!("{prefix}{k}"), v))
    .collect()
}

fn owned(fields: Vec<(String, String)>) -> Vec<u8> {
    let borrowed: Vec<(&str, String)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    message(&borrowed)
}

pub fn channel_event(event: &str, c: &Chan, extra: &[(&str, String)]) -> Vec<u8> {
    let mut fields = vec![
        ("Event".to_string(), event.to_string()),
        ("Privilege".into(), "call,all".into()),
    ];
    fields.extend(snapshot("", c));
    fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    owned(fields)
}

pub fn dial_event(event: &str, from: &Chan, to: &Chan, extra: &[(&str, String)]) -> Vec<u8> {
    let mut fields = vec![
        ("Event".to_string(), event.to_string()),
        ("Privilege".into(), "call,all".into()),
    ];
    fields.extend(snapshot("", from));
    fields.extend(snapshot("Dest", to));
    fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    owned(fields)
}

pub fn list_item(event: &str, a: &Action, c: &Chan) -> Vec<u8> {
    let mut fields = vec![("Event".to_string(), event.to_string())];
    if let Some(id) = a.get("ActionID") {
        fields.push(("ActionID".into(), id.to_string()));
    }
    fields.extend(snapshot("", c));
    fields.push((
        "Application".into(),
        if c.queue.is_some() {
            "Queue"
        } else {
            "AppDial"
        }
        .into(),
    ));
    fields.push(("ApplicationData".into(), String::new()));
    fields.push(("Duration".into(), "00:00:04".into()));
    fields.push(("BridgeId".into(), String::new()));
    owned(fields)
}

pub fn member_event(
    event: &str,
    queue: &str,
    interface: &str,
    name: &str,
    paused: bool,
    reason: &str,
) -> Vec<u8> {
    message(&[
        ("Event", event.into()),
        ("Privilege", "agent,all".into()),
        ("Queue", queue.into()),
        ("MemberName", name.into()),
        ("Interface", interface.into()),
        ("StateInterface", interface.into()),
        ("Membership", "dynamic".into()),
        ("Penalty", "0".into()),
        ("CallsTaken", "0".into()),
        ("LastCall", "0".into()),
        ("LastPause", "0".into()),
        ("LoginTime", "0".into()),
        ("InCall", "0".into()),
        ("Status", "1".into()),
        ("Paused", if paused { "1" } else { "0" }.into()),
        ("PausedReason", reason.into()),
        ("Ringinuse", "0".into()),
        ("Wrapuptime", "0".into()),
    ])
}

/// `PJSIP/1001-0000000a` → `1001`; `PJSIP/1001` → `1001`.
pub fn device(name: &str) -> &str {
    let rest = name.split_once('/').map(|(_, r)| r).unwrap_or(name);
    match rest.rfind('-') {
        Some(i) if rest[i + 1..].chars().all(|c| c.is_ascii_hexdigit()) && i > 0 => &rest[..i],
        _ => rest,
    }
}

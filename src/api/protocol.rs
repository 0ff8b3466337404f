//! The WebSocket protocol's frames (docs/protocol.md): parsing client frames into
//! typed requests with specific errors, and building server frames.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Principal;
use crate::engine::names::{EventName, Topic};
use crate::engine::request::{ApiError, ErrorCode, MethodCall};
use crate::hub::{Resume, Welcome};

/// A client frame, parsed.
#[derive(Debug, PartialEq)]
pub enum ClientFrame {
    Hello {
        token: String,
        resume: Option<Resume>,
    },
    Req {
        id: Value,
        method: Method,
    },
    /// A request whose method or params were wrong: answered with this error.
    BadReq {
        id: Value,
        error: ApiError,
    },
}

/// A method, parsed: most go to the engine; a few the connection answers itself.
#[derive(Debug, PartialEq)]
pub enum Method {
    Engine(MethodCall),
    Subscribe {
        topics: Vec<String>,
    },
    CrmLookup {
        number: String,
    },
    Report {
        kind: crate::reports::Kind,
        from: Option<String>,
        to: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HelloFrame {
    #[allow(dead_code)]
    r#type: String,
    token: String,
    #[serde(default)]
    resume: Option<ResumeFrame>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResumeFrame {
    session: String,
    seq: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeParams {
    #[serde(default)]
    topics: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportParams {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookupParams {
    number: String,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidMessage, message)
}

/// Parse one text frame.
pub fn parse(text: &str) -> Result<ClientFrame, ApiError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
    let Some(object) = value.as_object() else {
        return Err(invalid("a frame must be a JSON object"));
    };
    match object.get("type").and_then(Value::as_str) {
        Some("hello") => {
            let hello: HelloFrame = serde_json::from_value(value)
                .map_err(|e| invalid(format!("bad hello frame: {e}")))?;
            Ok(ClientFrame::Hello {
                token: hello.token,
                resume: hello.resume.map(|r| Resume {
                    session: r.session,
                    seq: r.seq,
                }),
            })
        }
        Some("req") => {
            let id = match object.get("id") {
                Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
                Some(_) => return Err(invalid("`id` must be a string or a number")),
                None => return Err(invalid("a req frame needs an `id`")),
            };
            for key in object.keys() {
                if !matches!(key.as_str(), "type" | "id" | "method" | "params") {
                    return Ok(ClientFrame::BadReq {
                        id,
                        error: invalid(format!("unknown field `{key}` in req frame")),
                    });
                }
            }
            let Some(method) = object.get("method").and_then(Value::as_str) else {
                return Ok(ClientFrame::BadReq {
                    id,
                    error: invalid("a req frame needs a string `method`"),
                });
            };
            let params = object.get("params").cloned().unwrap_or_else(|| json!({}));
            if !params.is_object() {
                return Ok(ClientFrame::BadReq {
                    id,
                    error: ApiError::invalid_params("`params` must be an object"),
                });
            }
            Ok(match parse_method(method, params) {
                Ok(method) => ClientFrame::Req { id, method },
                Err(error) => ClientFrame::BadReq { id, error },
            })
        }
        Some(other) => Err(invalid(format!(
            "unknown frame type `{other}` (expected hello or req)"
        ))),
        None => Err(invalid("a frame needs a string `type`")),
    }
}

fn params<T: DeserializeOwned>(method: &str, params: Value) -> Result<T, ApiError> {
    serde_json::from_value(params).map_err(|e| ApiError::invalid_params(format!("{method}: {e}")))
}

/// The methods (docs/protocol.md "Methods"); the tests check each is parsed.
#[cfg(test)]
pub const METHODS: [&str; 19] = [
    "subscribe",
    "call.dial",
    "call.answer",
    "call.hangup",
    "call.hold",
    "call.retrieve",
    "call.transfer",
    "call.conference",
    "call.dtmf",
    "agent.login",
    "agent.logout",
    "agent.set_state",
    "supervisor.monitor",
    "supervisor.barge",
    "supervisor.force_release",
    "crm.lookup",
    "sim.call",
    "report.agents",
    "report.queues",
];

fn parse_method(method: &str, p: Value) -> Result<Method, ApiError> {
    use MethodCall as M;
    let engine = |call: MethodCall| Ok(Method::Engine(call));
    match method {
        "subscribe" => Ok(Method::Subscribe {
            topics: params::<SubscribeParams>(method, p)?.topics,
        }),
        "crm.lookup" => Ok(Method::CrmLookup {
            number: params::<LookupParams>(method, p)?.number,
        }),
        "call.dial" => engine(M::Dial(params(method, p)?)),
        "call.answer" => engine(M::Answer(params(method, p)?)),
        "call.hangup" => engine(M::Hangup(params(method, p)?)),
        "call.hold" => engine(M::Hold(params(method, p)?)),
        "call.retrieve" => engine(M::Retrieve(params(method, p)?)),
        "call.transfer" => engine(M::Transfer(params(method, p)?)),
        "call.conference" => engine(M::Conference(params(method, p)?)),
        "call.dtmf" => engine(M::Dtmf(params(method, p)?)),
        "agent.login" => engine(M::AgentLogin(params(method, p)?)),
        "agent.logout" => engine(M::AgentLogout(params(method, p)?)),
        "agent.set_state" => engine(M::AgentSetState(params(method, p)?)),
        "supervisor.monitor" => engine(M::Monitor(params(method, p)?)),
        "supervisor.barge" => engine(M::Barge(params(method, p)?)),
        "supervisor.force_release" => engine(M::ForceRelease(params(method, p)?)),
        "sim.call" => engine(M::SimCall(params(method, p)?)),
        "report.agents" | "report.queues" => {
            let kind = if method == "report.agents" {
                crate::reports::Kind::Agents
            } else {
                crate::reports::Kind::Queues
            };
            let p: ReportParams = params(method, p)?;
            Ok(Method::Report {
                kind,
                from: p.from,
                to: p.to,
            })
        }
        other => Err(ApiError::new(
            ErrorCode::UnknownMethod,
            format!("unknown method `{other}`"),
        )),
    }
}

/// The `evt` frame of a published event, serialised once for every client.
pub fn evt(seq: u64, topic: &Topic, name: EventName, data: &Value) -> String {
    json!({
        "type": "evt",
        "seq": seq,
        "topic": topic.to_string(),
        "name": name,
        "ts": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

/// The `welcome` frame that opens a session.
pub fn welcome(welcome: &Welcome, principal: &Principal) -> String {
    json!({
        "type": "welcome",
        "session": welcome.session,
        "seq": welcome.seq,
        "resumed": welcome.resumed,
        "role": principal.role.as_str(),
        "agent": principal.agent,
        "devices": principal.extensions,
        "server": concat!("ctibridge/", env!("CARGO_PKG_VERSION")),
    })
    .to_string()
}

pub fn res_ok(id: &Value, result: Value) -> String {
    json!({"type": "res", "id": id, "result": result}).to_string()
}

pub fn res_err(id: &Value, error: &ApiError) -> String {
    json!({"type": "res", "id": id, "error": {"code": error.code, "message": error.message}})
        .to_string()
}

pub fn error_frame(error: &ApiError) -> String {
    json!({"type": "error", "error": {"code": error.code, "message": error.message}}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::request::CallParams;

    #[test]
    fn hello_with_resume() {
        let f = parse(r#"{"type":"hello","token":"t","resume":{"session":"s","seq":4}}"#).unwrap();
        assert_eq!(
            f,
            ClientFrame::Hello {
                token: "t".into(),
                resume: Some(Resume {
                    session: "s".into(),
                    seq: 4
                })
            }
        );
    }

    #[test]
    fn requests_parse_to_typed_methods() {
        let f = parse(r#"{"type":"req","id":"7","method":"call.answer","params":{"call":"c1"}}"#)
            .unwrap();
        assert_eq!(
            f,
            ClientFrame::Req {
                id: json!("7"),
                method: Method::Engine(MethodCall::Answer(CallParams {
                    call: "c1".into(),
                    device: None
                }))
            }
        );
    }

    #[test]
    fn specific_errors() {
        let code = |text: &str| match parse(text) {
            Err(e) => e.code.to_string(),
            Ok(ClientFrame::BadReq { error, .. }) => error.code.to_string(),
            Ok(other) => panic!("{other:?}"),
        };
        assert_eq!(code("{not json"), "invalid_message");
        assert_eq!(code("[1,2]"), "invalid_message");
        assert_eq!(code(r#"{"type":"nope"}"#), "invalid_message");
        assert_eq!(
            code(r#"{"type":"req","method":"call.dial"}"#),
            "invalid_message"
        );
        assert_eq!(
            code(r#"{"type":"req","id":1,"method":"call.fly"}"#),
            "unknown_method"
        );
        assert_eq!(
            code(r#"{"type":"req","id":1,"method":"call.dial","params":{}}"#),
            "invalid_params"
        );
        assert_eq!(
            code(r#"{"type":"req","id":1,"method":"call.dial","params":{"to":"1","bogus":1}}"#),
            "invalid_params"
        );
        assert_eq!(
            code(
                r#"{"type":"req","id":1,"method":"call.transfer","params":{"call":"c","mode":"sideways"}}"#
            ),
            "invalid_params"
        );
        assert_eq!(
            code(r#"{"type":"req","id":1,"method":"call.dial","params":[]}"#),
            "invalid_params"
        );
        assert_eq!(code(r#"{"type":"hello"}"#), "invalid_message");
    }

    #[test]
    fn every_listed_method_is_known() {
        for method in METHODS {
            let text = format!(r#"{{"type":"req","id":1,"method":"{method}","params":{{}}}}"#);
            if let Ok(ClientFrame::BadReq { error, .. }) = parse(&text) {
                assert_ne!(error.code, "unknown_method", "{method}");
            }
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text gets a frame or a specific error; never a panic.
        #[test]
        fn any_text_is_answered(text in ".{0,256}") {
            let _ = parse(&text);
        }

        /// Requests with any method and params are parsed or refused with a stable code.
        #[test]
        fn any_request_gets_a_stable_code(method in "[a-z._]{0,24}", key in "[a-z_]{0,10}", value in any::<i64>()) {
            let text = json!({"type": "req", "id": 1, "method": method, "params": {key: value}}).to_string();
            match parse(&text) {
                Ok(ClientFrame::BadReq { error, .. }) => prop_assert!(
                    ["invalid_message", "invalid_params", "unknown_method", "not_supported"].contains(&error.code.as_str())
                ),
                Ok(_) => {}
                Err(error) => prop_assert_eq!(error.code, "invalid_message"),
            }
        }
    }
}

//! One WebSocket connection: authenticate, subscribe, then serve requests and events.
//!
//! The connection is a thin task (as in rumqttd): it owns its socket and its queue,
//! asks the engine for everything stateful, and never holds state another client
//! depends on. A frame it cannot read gets an error and changes nothing.

use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::FuturesUnordered;
use futures_util::{Future, StreamExt};
use governor::{Quota, RateLimiter};
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::protocol::{self, ClientFrame, Method};
use super::AppState;
use crate::auth::Principal;
use crate::crm::{jobs, phone};
use crate::engine::names::Topic;
use crate::engine::request::{ApiError, ClientQueueSender, EngineRequest, ErrorCode};
use crate::hub::{HubInput, Resume};

/// Close codes (docs/protocol.md).
pub const CLOSE_UNAUTHENTICATED: u16 = 4001;
pub const CLOSE_TOO_SLOW: u16 = 4009;
pub const CLOSE_TOO_BIG: u16 = 1009;
pub const CLOSE_GOING_AWAY: u16 = 1001;
pub const CLOSE_POLICY: u16 = 1008;

/// Requests one connection may have waiting for an answer.
const MAX_IN_FLIGHT: usize = 64;

type Pending = Pin<Box<dyn Future<Output = (Value, Result<Value, ApiError>)> + Send>>;

async fn send_text(socket: &mut WebSocket, text: String) -> bool {
    socket.send(Message::Text(text.into())).await.is_ok()
}

async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(reason.to_string()),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// Is this receive error a message over the size limit?
fn too_big(error: axum::Error) -> bool {
    let inner = error.into_inner();
    matches!(
        inner.downcast_ref::<tokio_tungstenite::tungstenite::Error>(),
        Some(tokio_tungstenite::tungstenite::Error::Capacity(_))
    )
}

pub async fn serve(mut socket: WebSocket, state: Arc<AppState>) {
    state
        .metrics
        .connections_total
        .fetch_add(1, Ordering::Relaxed);
    let Some((principal, resume)) = authenticate(&mut socket, &state).await.ok().flatten() else {
        return;
    };
    let client = state.next_client.fetch_add(1, Ordering::Relaxed);
    let (queue_sender, mut queue) = ClientQueueSender::pair(state.server.client_queue);
    let (reply, welcome) = oneshot::channel();
    let subscribe = EngineRequest::Subscribe {
        client,
        principal: principal.clone(),
        resume,
        queue: queue_sender,
        reply,
    };
    if state.engine.send(subscribe).await.is_err() {
        return close(socket, CLOSE_GOING_AWAY, "shutting down").await;
    }
    let Ok(welcome) = welcome.await else {
        return close(socket, CLOSE_GOING_AWAY, "shutting down").await;
    };
    let frame = protocol::welcome(&welcome, &principal);
    tracing::debug!(client, token = %principal.token, resumed = welcome.resumed, "client subscribed");
    // Counted in `ctibridge_clients` from here until the connection task ends.
    let _counted = state.metrics.client_connected(principal.role);
    if send_text(&mut socket, frame).await {
        let outcome = session(&mut socket, &state, &principal, &mut queue).await;
        if let Some((code, reason)) = outcome {
            let _ = socket
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: Utf8Bytes::from(reason),
                })))
                .await;
        }
    }
    // Finish the close handshake (answer the client's close frame, flush ours).
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        futures_util::SinkExt::close(&mut socket),
    )
    .await;
    let _ = state.hub.send(HubInput::Unregister(client)).await;
}

/// Wait for a good `hello`. `Ok(None)` when the connection was closed.
async fn authenticate(
    socket: &mut WebSocket,
    state: &AppState,
) -> Result<Option<(Principal, Option<Resume>)>, ()> {
    let deadline = tokio::time::Instant::now() + state.server.auth_timeout;
    loop {
        let message = tokio::select! {
            message = socket.recv() => message,
            _ = tokio::time::sleep_until(deadline) => {
                state.metrics.auth_failures.fetch_add(1, Ordering::Relaxed);
                let error = ApiError::new(ErrorCode::Unauthenticated, format!("no hello within {} s", state.server.auth_timeout.as_secs_f64()));
                let _ = send_text(socket, protocol::error_frame(&error)).await;
                let _ = socket.send(Message::Close(Some(CloseFrame { code: CLOSE_UNAUTHENTICATED, reason: "authentication timeout".into() }))).await;
                return Ok(None);
            }
        };
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                let error = ApiError::new(
                    ErrorCode::InvalidMessage,
                    "binary frames are not supported; send JSON text",
                );
                let _ = send_text(socket, protocol::error_frame(&error)).await;
                continue;
            }
            Some(Ok(Message::Close(_))) | None => return Ok(None),
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                if too_big(e) {
                    let _ = socket
                        .send(Message::Close(Some(CloseFrame {
                            code: CLOSE_TOO_BIG,
                            reason: "message too big".into(),
                        })))
                        .await;
                }
                return Ok(None);
            }
        };
        match protocol::parse(&text) {
            Ok(ClientFrame::Hello { token, resume }) => match state.tokens.authenticate(&token) {
                Some(principal) => return Ok(Some((principal, resume))),
                None => {
                    state.metrics.auth_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::info!("connection closed: token rejected");
                    let error = ApiError::new(ErrorCode::Unauthenticated, "token rejected");
                    let _ = send_text(socket, protocol::error_frame(&error)).await;
                    let _ = socket
                        .send(Message::Close(Some(CloseFrame {
                            code: CLOSE_UNAUTHENTICATED,
                            reason: "token rejected".into(),
                        })))
                        .await;
                    return Ok(None);
                }
            },
            Ok(ClientFrame::Req { id, .. }) | Ok(ClientFrame::BadReq { id, .. }) => {
                let error =
                    ApiError::new(ErrorCode::Unauthenticated, "send hello with a token first");
                let _ = send_text(socket, protocol::res_err(&id, &error)).await;
            }
            Err(error) => {
                let _ = send_text(socket, protocol::error_frame(&error)).await;
            }
        }
    }
}

/// Serve an authenticated client until it leaves; returns the close to send, if any.
async fn session(
    socket: &mut WebSocket,
    state: &Arc<AppState>,
    principal: &Principal,
    queue: &mut crate::hub::ClientQueue,
) -> Option<(u16, String)> {
    let quota = Quota::per_second(
        NonZeroU32::new(state.server.rate_limit_per_s).unwrap_or(NonZeroU32::MIN),
    )
    .allow_burst(NonZeroU32::new(state.server.rate_limit_burst).unwrap_or(NonZeroU32::MIN));
    let limiter = RateLimiter::direct(quota);
    let mut pending: FuturesUnordered<Pending> = FuturesUnordered::new();
    let mut topics: Vec<String> = Vec::new();
    let ping_every = state.server.ping_every.max(Duration::from_secs(1));
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let mut last_heard = Instant::now();
    let max_lag = state.server.max_lag;
    loop {
        tokio::select! {
            message = socket.recv() => {
                last_heard = Instant::now();
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => {
                        let error = ApiError::new(ErrorCode::InvalidMessage, "binary frames are not supported; send JSON text");
                        if !send_text(socket, protocol::error_frame(&error)).await { return None; }
                        continue;
                    }
                    Some(Ok(Message::Close(_))) | None => return None,
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        return too_big(e).then(|| (CLOSE_TOO_BIG, format!("message over {} bytes", state.server.max_message_bytes)));
                    }
                };
                let reply = match protocol::parse(&text) {
                    Err(error) => protocol::error_frame(&error),
                    Ok(ClientFrame::Hello { .. }) => {
                        protocol::error_frame(&ApiError::new(ErrorCode::InvalidMessage, "already authenticated"))
                    }
                    Ok(ClientFrame::BadReq { id, error }) => {
                        state.metrics.request_errors.fetch_add(1, Ordering::Relaxed);
                        protocol::res_err(&id, &error)
                    }
                    Ok(ClientFrame::Req { id, method }) => {
                        if limiter.check().is_err() || pending.len() >= MAX_IN_FLIGHT {
                            state.metrics.rate_limited.fetch_add(1, Ordering::Relaxed);
                            let error = ApiError::new(ErrorCode::RateLimited, format!(
                                "more than {} requests per second (burst {}); slow down",
                                state.server.rate_limit_per_s, state.server.rate_limit_burst));
                            protocol::res_err(&id, &error)
                        } else {
                            match method {
                                Method::Subscribe { topics: wanted } => {
                                    topics = wanted;
                                    protocol::res_ok(&id, json!({ "topics": topics }))
                                }
                                Method::Report { kind, from, to } => {
                                    if !principal.may_supervise() {
                                        protocol::res_err(&id, &ApiError::forbidden("reports need a supervisor token"))
                                    } else {
                                        pending.push(Box::pin(report(state.clone(), id, kind, from, to)));
                                        continue;
                                    }
                                }
                                Method::CrmLookup { number } => {
                                    pending.push(Box::pin(crm_lookup(state.clone(), id, number)));
                                    continue;
                                }
                                Method::Engine(call) => {
                                    let (reply, answer) = oneshot::channel();
                                    let request = EngineRequest::Method { principal: principal.clone(), call, reply };
                                    if state.engine.send(request).await.is_err() {
                                        return Some((CLOSE_GOING_AWAY, "shutting down".into()));
                                    }
                                    pending.push(Box::pin(async move {
                                        let result = answer.await.unwrap_or_else(|_| Err(ApiError::new(ErrorCode::SwitchUnavailable, "the daemon is shutting down")));
                                        (id, result)
                                    }));
                                    continue;
                                }
                            }
                        }
                    }
                };
                if !send_text(socket, reply).await { return None; }
            }
            Some((id, result)) = pending.next(), if !pending.is_empty() => {
                let frame = match result {
                    Ok(result) => protocol::res_ok(&id, result),
                    Err(error) => protocol::res_err(&id, &error),
                };
                if !send_text(socket, frame).await { return None; }
            }
            event = queue.events.recv() => {
                if let Err(close) = forward(socket, state, queue, &topics, event, max_lag).await {
                    return close;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > ping_every * 3 {
                    return Some((CLOSE_POLICY, "no answer to pings".into()));
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() { return None; }
            }
            _ = state.shutdown.cancelled() => {
                return Some((CLOSE_GOING_AWAY, "shutting down".into()));
            }
        }
    }
}

/// Frames written before one flush: a client that is behind gets its backlog in
/// few system calls, and one that keeps up still gets each event at once.
const BATCH: usize = 64;

/// Send `first` and whatever else is already queued for the client, then flush once.
/// `Err(None)`: the socket is gone; `Err(Some(close))`: close the connection so.
async fn forward(
    socket: &mut WebSocket,
    state: &AppState,
    queue: &mut crate::hub::ClientQueue,
    topics: &[String],
    first: Option<crate::hub::Delivery>,
    max_lag: Duration,
) -> Result<(), Option<(u16, String)>> {
    let mut next = first;
    let mut written = 0;
    // One clock read per batch, not per frame: the lag limit is seconds, and a batch
    // is written in far less.
    let now = Instant::now();
    loop {
        if queue.overflowed.load(Ordering::Relaxed) {
            // What the hub had queued before it refused one is not sent either.
            let left = queue.events.len() + usize::from(next.is_some());
            state
                .metrics
                .frames_dropped
                .fetch_add(left as u64, Ordering::Relaxed);
            count_sent(state, written);
            return Err(Some((
                CLOSE_TOO_SLOW,
                format!(
                    "more than {} events queued: reconnect and resume",
                    state.server.client_queue
                ),
            )));
        }
        let Some(delivery) = next else {
            if written == 0 {
                return Err(Some((CLOSE_GOING_AWAY, "shutting down".into())));
            }
            break;
        };
        if now.saturating_duration_since(delivery.queued_at) > max_lag {
            state
                .metrics
                .slow_clients_closed
                .fetch_add(1, Ordering::Relaxed);
            let left = queue.events.len() + 1;
            state
                .metrics
                .frames_dropped
                .fetch_add(left as u64, Ordering::Relaxed);
            count_sent(state, written);
            return Err(Some((
                CLOSE_TOO_SLOW,
                format!(
                    "more than {} s behind: reconnect and resume",
                    state.server.max_lag.as_secs_f64()
                ),
            )));
        }
        let event = delivery.event;
        let wanted = topics.is_empty()
            || event.topic == Topic::SNAPSHOT
            || topics.iter().any(|t| topic_matches(t, &event.topic));
        if wanted {
            let message = Message::Text(event.frame.clone());
            if futures_util::SinkExt::feed(socket, message).await.is_err() {
                count_sent(state, written);
                return Err(None);
            }
            written += 1;
        }
        if written >= BATCH {
            break;
        }
        next = queue.events.try_recv().ok();
        if next.is_none() {
            break;
        }
    }
    count_sent(state, written);
    if written > 0 && futures_util::SinkExt::flush(socket).await.is_err() {
        return Err(None);
    }
    Ok(())
}

/// Count event frames handed to the socket: once per batch, not per frame.
fn count_sent(state: &AppState, written: usize) {
    if written > 0 {
        state
            .metrics
            .frames_sent
            .fetch_add(written as u64, Ordering::Relaxed);
    }
}

/// A `subscribe` topic: exact, or a prefix when it ends in `*` (`agent:*`).
fn topic_matches(pattern: &str, topic: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => topic.starts_with(prefix),
        None => topic == pattern,
    }
}

async fn report(
    state: Arc<AppState>,
    id: Value,
    kind: crate::reports::Kind,
    from: Option<String>,
    to: Option<String>,
) -> (Value, Result<Value, ApiError>) {
    let (from, to) = match crate::reports::period::period(from.as_deref(), to.as_deref()) {
        Ok(period) => period,
        Err(message) => return (id, Err(ApiError::invalid_params(message))),
    };
    let thresholds = state.reports;
    let result = jobs::with_conn(&state.pool, move |conn| {
        crate::reports::build(conn, kind, from, to, thresholds)
    })
    .await;
    let answer = result.map_err(|e| {
        tracing::warn!(error = %e, "report failed");
        ApiError::new(
            ErrorCode::NotSupported,
            "the database is unavailable for reports",
        )
    });
    (id, answer)
}

async fn crm_lookup(
    state: Arc<AppState>,
    id: Value,
    number: String,
) -> (Value, Result<Value, ApiError>) {
    if number.is_empty() || number.len() > 64 {
        return (
            id,
            Err(ApiError::invalid_params(
                "`number` must be 1 to 64 characters",
            )),
        );
    }
    let normalised = phone::normalise(&number, &state.country);
    if normalised.is_none() {
        return (
            id,
            Ok(json!({ "number": number, "e164": null, "matches": [] })),
        );
    }
    let callers = state.lookup.clone();
    let raw = number.clone();
    let started = Instant::now();
    let result = jobs::with_conn(&state.pool, move |conn| callers.contacts(conn, &raw)).await;
    state.metrics.lookup_duration.observe(started.elapsed());
    let answer = match result {
        Ok(matches) => Ok(json!({
            "number": number,
            "e164": normalised.map(|n| n.e164),
            "matches": matches,
        })),
        Err(e) => {
            tracing::warn!(error = %e, "crm.lookup failed");
            Err(ApiError::new(
                ErrorCode::NotSupported,
                "the CRM database is unavailable",
            ))
        }
    };
    (id, answer)
}

#[cfg(test)]
mod tests {
    use super::topic_matches;

    #[test]
    fn topics_match_exactly_or_by_star_prefix() {
        assert!(topic_matches("agent:1001", "agent:1001"));
        assert!(!topic_matches("agent:100", "agent:1001"));
        assert!(topic_matches("agent:*", "agent:1001"));
        assert!(topic_matches("*", "queue:8000"));
        assert!(!topic_matches("queue:*", "agent:1001"));
    }
}

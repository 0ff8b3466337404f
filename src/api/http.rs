//! The HTTP side: the WebSocket upgrade (with the Origin check), `/healthz`,
//! `/metrics`, and the agent page and wallboard compiled into the binary.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::serve::{ListenerExt, TapIo};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

use super::{ws, AppState};

pub const AGENT_PAGE: &str = include_str!("../../examples/web/agent.html");
pub const WALLBOARD_PAGE: &str = include_str!("../../examples/web/wallboard.html");
/// The browser client library both pages are built on; CRM pages may load it too.
pub const CLIENT_JS: &str = include_str!("../../examples/web/cti-client.js");

/// May a browser page from `origin` connect? Same-origin pages and the configured
/// allow-list may; clients that send no Origin (CRM back ends) are not browsers.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if allowed.iter().any(|a| a == origin || a == "*") {
        return true;
    }
    let authority = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|host| !authority.is_empty() && host.eq_ignore_ascii_case(authority))
}

/// Per-connection WebSocket buffers (docs/performance.md: idle connection memory).
pub const WS_READ_BUFFER: usize = 4 * 1024;
pub const WS_WRITE_BUFFER: usize = 8 * 1024;

/// Every accepted connection, plain or TLS, sends each frame as soon as it is written.
///
/// Without this, Nagle's algorithm holds a frame back while the one before it is
/// unacknowledged, and the client's delayed acknowledgement (up to 40 ms on Linux)
/// decides when it leaves: a screen pop that followed another frame within a few
/// milliseconds arrived up to 40 ms late (the bench's pop p99 was 18 ms with the
/// daemon's own part of it under 2.5 ms). The hub already writes whole frames, so
/// there is nothing for Nagle to coalesce.
pub fn send_at_once(stream: &mut TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY on a client connection");
    }
}

/// The plain port's listener: axum's own, with [`send_at_once`] on every connection.
pub fn plain_listener(tcp: TcpListener) -> TapIo<TcpListener, fn(&mut TcpStream)> {
    tcp.tap_io(send_at_once as fn(&mut TcpStream))
}

pub async fn websocket(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&headers, &state.server.allowed_origins) {
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .unwrap_or("?");
        tracing::info!(
            origin,
            "WebSocket refused: origin not in [server] allowed_origins"
        );
        return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
    }
    let max = state.server.max_message_bytes;
    upgrade
        .protocols([super::SUBPROTOCOL])
        .max_message_size(max)
        .max_frame_size(max)
        // tungstenite allocates its read buffer (128 KiB by default) when the
        // connection opens, which made an idle client cost ~140 KB. Clients send small
        // requests, so 4 KiB is plenty; a bigger message still arrives, in more reads.
        .read_buffer_size(WS_READ_BUFFER)
        // Frames are queued up to this size and written in one go; `ws` flushes after
        // each batch it drains from the client's queue.
        .write_buffer_size(WS_WRITE_BUFFER)
        .on_upgrade(move |socket| ws::serve(socket, state))
}

pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let links = state.metrics.links();
    let database_up = state.metrics.database_up.load(Ordering::Relaxed);
    let journal = state.metrics.journal_pending.load(Ordering::Relaxed);
    let all_up = links.iter().all(|(_, link)| link.up) && database_up;
    let body = json!({
        "status": if all_up { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "switches": links.iter().map(|(name, link)| json!({"name": name, "adapter": link.adapter, "up": link.up})).collect::<Vec<_>>(),
        "database": {"up": database_up, "journal_pending": journal},
        "clients": state.metrics.clients(),
        "calls_active": state.metrics.calls_active.load(Ordering::Relaxed),
        "seq": state.metrics.seq.load(Ordering::Relaxed),
    });
    let status = if all_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

pub async fn agent_page(State(state): State<Arc<AppState>>) -> Response {
    page(&state, AGENT_PAGE)
}

pub async fn wallboard_page(State(state): State<Arc<AppState>>) -> Response {
    page(&state, WALLBOARD_PAGE)
}

/// `/cti-client.js`: served in every mode (not only the demo), since it is a library.
pub async fn client_js() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/javascript; charset=utf-8",
        )],
        CLIENT_JS,
    )
        .into_response()
}

fn page(state: &AppState, html: &'static str) -> Response {
    if state.serve_pages {
        Html(html).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            "ctibridge: the WebSocket API is at /v1/ws; the example pages are served by `ctibridge demo`\n",
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        h
    }

    #[tokio::test]
    async fn plain_connections_send_each_frame_at_once() {
        use axum::serve::Listener;
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let mut listener = plain_listener(tcp);
        let (_client, (accepted, _)) = tokio::join!(
            async { TcpStream::connect(addr).await.unwrap() },
            listener.accept()
        );
        assert!(accepted.nodelay().unwrap(), "Nagle is still on");
    }

    #[test]
    fn origins() {
        let allowed = vec!["https://crm.example.com".to_string()];
        assert!(origin_allowed(&headers(None, "127.0.0.1:8765"), &allowed));
        assert!(origin_allowed(
            &headers(Some("https://crm.example.com"), "x:1"),
            &allowed
        ));
        assert!(origin_allowed(
            &headers(Some("http://127.0.0.1:8765"), "127.0.0.1:8765"),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(Some("https://evil.example"), "127.0.0.1:8765"),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(Some("null"), "127.0.0.1:8765"),
            &allowed
        ));
    }
}

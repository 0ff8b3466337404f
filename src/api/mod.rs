//! The API clients use: HTTP routes and the WebSocket protocol.
//!
//! - [`http`]: routes, the Origin check, health, metrics, the built-in pages.
//! - [`ws`]: one WebSocket connection's life.
//! - [`protocol`]: client frames in, server frames out.
//! - [`tls_listener`]: a TLS port's connections, handshaken off the accept loop.
//!
//! docs/asyncapi.yaml describes the WebSocket protocol; `asyncapi` (tests only) holds
//! it to this module's names.

#[cfg(test)]
mod asyncapi;
pub mod http;
pub mod protocol;
pub mod tls_listener;
pub mod ws;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::auth::TokenStore;
use crate::config::ServerConfig;
use crate::crm::db::Pool;
use crate::engine::request::EngineRequest;
use crate::hub::HubInput;
use crate::metrics::Metrics;

/// Where the WebSocket is served, and the subprotocol it selects.
pub const WS_PATH: &str = "/v1/ws";
pub const SUBPROTOCOL: &str = "cti.v1";

/// What every connection shares.
pub struct AppState {
    pub tokens: TokenStore,
    pub engine: mpsc::Sender<EngineRequest>,
    pub hub: mpsc::Sender<HubInput>,
    pub server: ServerConfig,
    pub metrics: Arc<Metrics>,
    pub pool: Pool,
    pub country: String,
    pub lookup: std::sync::Arc<crate::crm::lookup::CallerLookup>,
    pub reports: crate::reports::Thresholds,
    pub next_client: AtomicU64,
    pub serve_pages: bool,
    pub shutdown: CancellationToken,
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(WS_PATH, get(http::websocket))
        .route("/healthz", get(http::healthz))
        .route("/metrics", get(http::metrics))
        .route("/", get(http::agent_page))
        .route("/wallboard", get(http::wallboard_page))
        .route("/cti-client.js", get(http::client_js))
        .with_state(state)
}

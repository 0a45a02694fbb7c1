//! Realtime: the WebSocket at `/v1/realtime` and a project's Server-Sent Events. The protocol
//! logic lives in `crate::realtime::Session`; these modules only move frames and keep the
//! connection alive (pings, keep-alives, timeouts, close codes).
//!
//! - `ws.rs`: the upgrade, authentication (header or first message) and the closing handshake.
//! - `socket.rs`: one socket's loop and its transport side.
//! - `client.rs`: what a WebSocket client sends (subscribe, unsubscribe, ping, auth again).
//! - `sse.rs`: a project's event stream.
//!
//! This file has the routes and what both transports share: opening a session. The token a
//! session keeps re-checking comes from `http::auth::presented_session_token`.

pub mod client;
pub mod socket;
pub mod sse;
pub mod ws;

use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::realtime::Session;
use crate::realtime::frame::Dialect;
use crate::realtime::hub::TooManyConnections;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ws::connect_realtime))
        .routes(routes!(sse::stream_project_events))
}

fn too_many_connections() -> ApiError {
    ApiError::Status(
        StatusCode::TOO_MANY_REQUESTS,
        "too many realtime connections for this user",
    )
}

/// Opens a session speaking `dialect` if the user is under the connection limit: on this
/// instance (the hub), then across instances (a lease in Redis, when configured).
async fn open(
    state: &AppState,
    actor: crate::services::access::Actor,
    token: String,
    dialect: Dialect,
) -> Result<Session, TooManyConnections> {
    let (tenant_id, user_id) = (actor.tenant_id.clone(), actor.user_id.clone());
    let session = Session::open(
        state.cx.clone(),
        state.realtime.hub.clone(),
        state.realtime.settings.clone(),
        actor,
        token,
    )?;
    let max = state.realtime.settings.max_connections_per_user;
    let lease = state
        .limiter
        .connection_lease(&tenant_id, &user_id, max)
        .await?;
    Ok(session.holding(lease).speaking(dialect))
}

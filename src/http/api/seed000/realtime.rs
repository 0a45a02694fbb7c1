//! Seed 000's socket, `GET /api/realtime`: the v1 WebSocket protocol (`auth`, `subscribe`,
//! resume), with the seed's `task:created` `{id, projectId, title}` on `project/{id}` in place
//! of `task.created` (`realtime::frame::Dialect::Seed000`).

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::app::AppState;
use crate::http::api::realtime::ws;
use crate::http::auth::CurrentUser;
use crate::http::envelope::ErrorBody;
use crate::http::error::ApiError;
use crate::realtime::frame::Dialect;

/// Opens seed 000's realtime WebSocket.
///
/// The same protocol as `/v1/realtime` (authenticate by header or a first
/// `{"type":"auth","token":"…"}`, then `subscribe` to `project/{id}`, `task/{id}` or
/// `user/{id}`), except that on a project's channel a new task arrives as the seed emits it:
/// `{"type":"event","channel":"project/{id}","id":n,"event":"task:created","data":{"id","projectId","title"}}`.
/// Every other event is sent as on `/v1/realtime`.
#[utoipa::path(get, path = "/api/realtime", tag = "seed",
    security(("session" = []), ()),
    responses(
        (status = 101, description = "Switched to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 429, description = "Too many connections for this user", body = ErrorBody)))]
pub async fn seed_connect_realtime(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, ApiError>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    ws::upgrade(state, &headers, user, ws, Dialect::Seed000).await
}

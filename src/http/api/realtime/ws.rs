//! The WebSocket at `/v1/realtime`: the upgrade, authentication (from the header, or the first
//! message within the timeout) and the closing handshake. `socket.rs` runs the open socket.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use tokio::time::Instant;

use super::socket::{Ending, serve_socket};
use super::{open, too_many_connections};
use crate::app::AppState;
use crate::error::{AppError, AuthFailure};
use crate::http::auth::CurrentUser;
use crate::http::envelope::ErrorBody;
use crate::http::error::ApiError;
use crate::realtime::Session;
use crate::realtime::frame::{ClientMessage, Dialect};
use crate::realtime::session;

/// Close codes beyond the standard ones (RFC 6455 leaves 4000–4999 to applications).
pub(super) const CLOSE_UNAUTHENTICATED: u16 = 4001;
const CLOSE_TOO_MANY: u16 = 4029;
/// Policy violation: the client did not keep up.
pub(super) const CLOSE_SLOW: u16 = 1008;
/// How long a closing frame may take to go out before the socket is simply dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Opens a realtime WebSocket.
///
/// Authenticate with `Authorization: Bearer <session token>`, or (browsers) send
/// `{"type":"auth","token":"…"}` first, within `KANRI_REALTIME_AUTH_TIMEOUT_SECS`. Then send
/// `{"type":"subscribe","channel":"project/{id}"|"task/{id}"|"user/{id}","last_event_id":n?}`
/// and `{"type":"unsubscribe","channel":…}`. The server answers `subscribed`, `unsubscribed`,
/// `error` (with `channel` and `code`, e.g. `not_found`) and sends
/// `{"type":"event","channel","id","event","actor_id","created_at","data",…}`. Close codes:
/// 1008 `slow consumer`, 4001 authentication failed or session ended, 4029 too many
/// connections, 1001 no pong or server shutting down.
#[utoipa::path(get, path = "/v1/realtime", tag = "realtime",
    security(("session" = []), ()),
    responses(
        (status = 101, description = "Switched to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 429, description = "Too many connections for this user", body = ErrorBody)))]
pub async fn connect_realtime(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, ApiError>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    upgrade(state, &headers, user, ws, Dialect::V1).await
}

/// The upgrade behind `/v1/realtime` and the seeds' sockets, which differ only in `dialect`.
pub async fn upgrade(
    state: AppState,
    headers: &HeaderMap,
    user: Result<CurrentUser, ApiError>,
    ws: WebSocketUpgrade,
    dialect: Dialect,
) -> Result<Response, ApiError> {
    let settings = state.realtime.settings.clone();
    // Small buffers: the defaults (128 KiB each way, per socket) would dominate memory with
    // thousands of subscribers, and frames here are small; they grow when a frame needs it.
    let ws = ws
        .max_message_size(settings.max_message_bytes)
        .max_frame_size(settings.max_message_bytes)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let session = match user {
        Ok(user) => {
            let token = crate::http::auth::presented_session_token(headers).unwrap_or_default();
            let session = open(&state, user.actor(), token, dialect)
                .await
                .map_err(|_| too_many_connections())?;
            Some(session)
        }
        // No session in the upgrade: the client signs in with its first frame.
        Err(ApiError::App(AppError::Unauthenticated(
            AuthFailure::MissingAuth | AuthFailure::SessionRequired,
        ))) => None,
        Err(e) => return Err(e),
    };
    Ok(ws.on_upgrade(move |socket| run_socket(socket, state, session, dialect)))
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str, grace: Duration) {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }));
    if let Ok(Ok(())) = tokio::time::timeout(grace, socket.send(frame)).await {
        // Wait for the peer's close reply, discarding what it sent before: dropping a socket
        // with unread input resets the connection, and a reset can make the peer discard our
        // close frame before reading it.
        let drain = async { while let Some(Ok(_)) = socket.recv().await {} };
        let _ = tokio::time::timeout(CLOSE_GRACE, drain).await;
    }
}

/// Waits for the `auth` message of a client that sent no credential header.
async fn authenticate_first(
    socket: &mut WebSocket,
    state: &AppState,
    dialect: Dialect,
) -> Result<Session, (u16, &'static str)> {
    let deadline = Instant::now() + state.realtime.settings.auth_timeout;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.recv())
            .await
            .map_err(|_| (CLOSE_UNAUTHENTICATED, "authentication timeout"))?;
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            _ => return Err((CLOSE_UNAUTHENTICATED, "authentication required")),
        };
        let Ok(ClientMessage::Auth { token }) = ClientMessage::parse(&text) else {
            return Err((CLOSE_UNAUTHENTICATED, "authentication required"));
        };
        let actor = session::authenticate(&state.cx, &token)
            .await
            .map_err(|_| (CLOSE_UNAUTHENTICATED, "invalid token"))?;
        return open(state, actor, token, dialect)
            .await
            .map_err(|_| (CLOSE_TOO_MANY, "too many connections"));
    }
}

async fn run_socket(
    mut socket: WebSocket,
    state: AppState,
    session: Option<Session>,
    dialect: Dialect,
) {
    let mut session = match session {
        Some(s) => s,
        None => match authenticate_first(&mut socket, &state, dialect).await {
            Ok(s) => s,
            Err((code, reason)) => return close(&mut socket, code, reason, CLOSE_GRACE).await,
        },
    };
    let settings = state.realtime.settings.clone();
    let closing = state.realtime.closing.clone();
    let ending = serve_socket(&mut socket, &mut session, &settings, &closing).await;
    if let Ending::Close(code, reason) = ending {
        // A slow consumer's close frame queues behind what it has not read yet; it gets as
        // long as a pong may take to read that far and learn why it was dropped.
        let grace = if code == CLOSE_SLOW {
            settings.pong_timeout
        } else {
            CLOSE_GRACE
        };
        close(&mut socket, code, reason, grace).await;
    }
}

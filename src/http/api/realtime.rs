//! Realtime: the WebSocket at `/v1/realtime` and a project's Server-Sent Events. The protocol
//! logic lives in `crate::realtime::Session`; this module only moves frames and keeps the
//! connection alive (pings, keep-alives, timeouts, close codes).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval};
use tokio_util::sync::CancellationToken;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::{AppError, AuthFailure};
use crate::http::auth::CurrentUser;
use crate::http::envelope::ErrorBody;
use crate::http::error::ApiError;
use crate::http::extract::{Path, Query};
use crate::realtime::channel::{self, Channel};
use crate::realtime::frame::{self, ClientMessage};
use crate::realtime::session::{self, Closed, Flow, Out, Outbox};
use crate::realtime::{RealtimeSettings, Session};

/// Close codes beyond the standard ones (RFC 6455 leaves 4000–4999 to applications).
const CLOSE_UNAUTHENTICATED: u16 = 4001;
const CLOSE_TOO_MANY: u16 = 4029;
/// Policy violation: the client did not keep up.
const CLOSE_SLOW: u16 = 1008;
/// How long a closing frame may take to go out before the socket is simply dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// Frames buffered between an SSE session and its response body.
const SSE_BUFFER: usize = 16;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(connect_realtime))
        .routes(routes!(stream_project_events))
}

fn too_many_connections() -> ApiError {
    ApiError::Status(
        StatusCode::TOO_MANY_REQUESTS,
        "too many realtime connections for this user",
    )
}

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
        (status = 401, body = ErrorBody),
        (status = 429, description = "Too many connections for this user", body = ErrorBody)))]
pub async fn connect_realtime(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Result<CurrentUser, ApiError>,
    ws: WebSocketUpgrade,
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
            let token = bearer(&headers).unwrap_or_default();
            let session = open(&state, user.actor(), token).map_err(|_| too_many_connections())?;
            Some(session)
        }
        Err(ApiError::App(AppError::Unauthenticated(AuthFailure::MissingAuth))) => None,
        Err(e) => return Err(e),
    };
    Ok(ws.on_upgrade(move |socket| run_socket(socket, state, session)))
}

fn open(
    state: &AppState,
    actor: crate::services::access::Actor,
    token: String,
) -> Result<Session, crate::realtime::hub::TooManyConnections> {
    Session::open(
        state.cx.clone(),
        state.realtime.hub.clone(),
        state.realtime.settings.clone(),
        actor,
        token,
    )
}

/// The session token of a `Bearer` header that `CurrentUser` has accepted.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
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
        return open(state, actor, token).map_err(|_| (CLOSE_TOO_MANY, "too many connections"));
    }
}

/// The transport side of a WebSocket session.
struct SocketOut<'a> {
    socket: &'a mut WebSocket,
    slow: CancellationToken,
    write_timeout: Duration,
}

impl Outbox for SocketOut<'_> {
    async fn send(&mut self, out: Out) -> Result<(), Closed> {
        let message = match out {
            Out::Event(frame) => Message::Text(frame.text.clone()),
            Out::Control(value) => Message::Text(value.to_string().into()),
        };
        // A client that does not read blocks the write; it is dropped as slow either when the
        // hub finds its queue full or when one write takes longer than a pong may.
        tokio::select! {
            sent = tokio::time::timeout(self.write_timeout, self.socket.send(message)) => match sent {
                Ok(Ok(())) => Ok(()),
                Ok(Err(_)) => Err(Closed::Gone),
                Err(_) => Err(Closed::Slow),
            },
            () = self.slow.cancelled() => Err(Closed::Slow),
        }
    }
}

fn socket_out<'a>(
    socket: &'a mut WebSocket,
    slow: &CancellationToken,
    settings: &RealtimeSettings,
) -> SocketOut<'a> {
    SocketOut {
        socket,
        slow: slow.clone(),
        write_timeout: settings.pong_timeout,
    }
}

/// How a socket's loop ended: with a close frame to send, or with the peer already gone.
enum Ending {
    Close(u16, &'static str),
    Gone,
}

impl From<Closed> for Ending {
    fn from(c: Closed) -> Self {
        match c {
            Closed::Slow => Self::Close(CLOSE_SLOW, "slow consumer"),
            Closed::Gone => Self::Gone,
        }
    }
}

async fn run_socket(mut socket: WebSocket, state: AppState, session: Option<Session>) {
    let mut session = match session {
        Some(s) => s,
        None => match authenticate_first(&mut socket, &state).await {
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

async fn serve_socket(
    socket: &mut WebSocket,
    session: &mut Session,
    settings: &RealtimeSettings,
    closing: &CancellationToken,
) -> Ending {
    let slow = session.slow_token();
    let hello = Out::Control(frame::authenticated(session.user_id()));
    if let Err(c) = socket_out(socket, &slow, settings).send(hello).await {
        return c.into();
    }
    let mut ping = interval(settings.ping_interval);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ping.tick().await;
    let mut recheck = interval(settings.recheck_interval);
    recheck.tick().await;
    let mut awaiting_pong: Option<Instant> = None;
    loop {
        let step: Result<Flow, Closed> = tokio::select! {
            biased;
            () = closing.cancelled() => return Ending::Close(1001, "server shutting down"),
            () = slow.cancelled() => return Closed::Slow.into(),
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    handle_message(&mut socket_out(socket, &slow, settings), session, &text).await.map(|()| Flow::Continue)
                }
                Some(Ok(Message::Binary(_))) => {
                    let err = frame::error(None, "bad_message", "send JSON text frames");
                    socket_out(socket, &slow, settings).send(Out::Control(err)).await.map(|()| Flow::Continue)
                }
                Some(Ok(Message::Pong(_))) => {
                    awaiting_pong = None;
                    Ok(Flow::Continue)
                }
                // The WebSocket layer answers pings by itself.
                Some(Ok(Message::Ping(_))) => Ok(Flow::Continue),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Ending::Gone,
            },
            delivery = session.next() => match delivery {
                Some(d) => session.deliver(&mut socket_out(socket, &slow, settings), d).await,
                None => return Ending::Close(1011, "realtime unavailable"),
            },
            _ = ping.tick() => {
                if awaiting_pong.is_some_and(|sent| sent.elapsed() >= settings.pong_timeout) {
                    return Ending::Close(1001, "no pong");
                }
                if awaiting_pong.is_none() {
                    awaiting_pong = Some(Instant::now());
                }
                match tokio::time::timeout(settings.pong_timeout, socket.send(Message::Ping(Default::default()))).await {
                    Ok(Ok(())) => Ok(Flow::Continue),
                    Ok(Err(_)) => Err(Closed::Gone),
                    Err(_) => Err(Closed::Slow),
                }
            }
            _ = recheck.tick() => session.recheck(&mut socket_out(socket, &slow, settings)).await,
        };
        match step {
            Ok(Flow::Continue) => {}
            Ok(Flow::End(reason)) => return Ending::Close(CLOSE_UNAUTHENTICATED, reason),
            Err(c) => return c.into(),
        }
    }
}

async fn handle_message(
    out: &mut impl Outbox,
    session: &mut Session,
    text: &str,
) -> Result<(), Closed> {
    match ClientMessage::parse(text) {
        Ok(ClientMessage::Subscribe {
            channel,
            last_event_id,
        }) => session
            .subscribe(out, &channel, last_event_id)
            .await
            .map(drop),
        Ok(ClientMessage::Unsubscribe { channel }) => {
            let reply = if session.unsubscribe(&channel) {
                frame::unsubscribed(&channel)
            } else {
                frame::error(
                    Some(&channel),
                    "not_subscribed",
                    "not subscribed to this channel",
                )
            };
            out.send(Out::Control(reply)).await
        }
        Ok(ClientMessage::Auth { .. }) => {
            let err = frame::error(
                None,
                "already_authenticated",
                "this connection is authenticated",
            );
            out.send(Out::Control(err)).await
        }
        Ok(ClientMessage::Ping) => out.send(Out::Control(frame::pong())).await,
        Err(e) => {
            let err = frame::error(None, "bad_message", &e);
            out.send(Out::Control(err)).await
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EventsQuery {
    /// Resume after this event id (the `Last-Event-ID` header wins when both are sent).
    pub last_event_id: Option<i64>,
}

/// A project's events as Server-Sent Events.
///
/// Each event has `id:` (the activity id), `event:` (its name, e.g. `task.created`) and as
/// `data:` the same JSON frame the WebSocket sends. Reconnecting with `Last-Event-ID` (or
/// `?last_event_id=`) first replays what was missed. Keep-alive comments every
/// `KANRI_REALTIME_PING_SECS`. The stream ends after an `error` event when the caller loses
/// access, and ends without one for a client that does not keep up.
#[utoipa::path(get, path = "/v1/projects/{id}/events", tag = "realtime",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id"), EventsQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event id")),
    responses(
        (status = 200, description = "An event stream", content_type = "text/event-stream"),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "Too many connections for this user", body = ErrorBody)))]
pub async fn stream_project_events(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let last_event_id = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .ok_or_else(|| AppError::validation("Last-Event-ID", "must be an event id"))?,
        ),
        None => query.last_event_id,
    };
    let actor = user.actor();
    let channel = Channel::Project(id.clone());
    if Channel::parse(&channel.to_string()).is_none() {
        return Err(AppError::NotFound("project").into());
    }
    match channel::check(&state.cx, &actor, &channel).await {
        Ok(()) => {}
        Err(Ok(refusal)) if refusal.code == "forbidden" => {
            return Err(AppError::Forbidden("your role does not allow this").into());
        }
        Err(Ok(_)) => return Err(AppError::NotFound("project").into()),
        Err(Err(e)) => return Err(e.into()),
    }
    let token = bearer(&headers).unwrap_or_default();
    let session = open(&state, actor, token).map_err(|_| too_many_connections())?;
    let (tx, mut rx) = mpsc::channel(SSE_BUFFER);
    tokio::spawn(run_sse(
        session,
        tx,
        channel.to_string(),
        last_event_id,
        state.realtime.settings.clone(),
        state.realtime.closing.clone(),
    ));
    // The first frame (`subscribed`, or the error) comes once the live subscription exists,
    // so a client that has the response headers misses nothing written after them.
    let first = rx.recv().await;
    let rest = stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    let events = stream::iter(first.map(Ok::<_, Infallible>)).chain(rest);
    let keep_alive = KeepAlive::new().interval(state.realtime.settings.ping_interval);
    Ok(Sse::new(events).keep_alive(keep_alive).into_response())
}

/// The transport side of an SSE session.
struct SseOut {
    tx: mpsc::Sender<Event>,
    slow: CancellationToken,
}

impl Outbox for SseOut {
    async fn send(&mut self, out: Out) -> Result<(), Closed> {
        let event = match out {
            Out::Event(frame) => Event::default()
                .id(frame.id.to_string())
                .event(&frame.kind)
                .data(frame.text.as_str()),
            Out::Control(value) => {
                let name = value["type"].as_str().unwrap_or("message").to_string();
                Event::default().event(name).data(value.to_string())
            }
        };
        tokio::select! {
            sent = self.tx.send(event) => sent.map_err(|_| Closed::Gone),
            () = self.slow.cancelled() => Err(Closed::Slow),
        }
    }
}

async fn run_sse(
    mut session: Session,
    tx: mpsc::Sender<Event>,
    channel: String,
    last_event_id: Option<i64>,
    settings: std::sync::Arc<RealtimeSettings>,
    closing: CancellationToken,
) {
    let slow = session.slow_token();
    let mut out = SseOut {
        tx: tx.clone(),
        slow: slow.clone(),
    };
    match session.subscribe(&mut out, &channel, last_event_id).await {
        Ok(true) => {}
        Ok(false) | Err(_) => return,
    }
    let mut recheck = interval(settings.recheck_interval);
    recheck.tick().await;
    loop {
        let step = tokio::select! {
            biased;
            () = closing.cancelled() => return,
            () = slow.cancelled() => return,
            () = tx.closed() => return,
            delivery = session.next() => match delivery {
                Some(d) => session.deliver(&mut out, d).await,
                None => return,
            },
            _ = recheck.tick() => session.recheck(&mut out).await,
        };
        match step {
            Ok(Flow::Continue) if session.subscriptions() > 0 => {}
            Ok(Flow::Continue) => return,
            Ok(Flow::End(reason)) => {
                let _ = out
                    .send(Out::Control(frame::error(
                        Some(&channel),
                        "unauthenticated",
                        reason,
                    )))
                    .await;
                return;
            }
            Err(_) => return,
        }
    }
}

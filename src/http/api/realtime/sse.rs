//! A project's events as Server-Sent Events: access checked before the stream starts, then one
//! task per stream runs the session and feeds the response body.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::time::interval;
use tokio_util::sync::CancellationToken;
use utoipa::IntoParams;

use super::{open, too_many_connections};
use crate::app::AppState;
use crate::error::AppError;
use crate::http::auth::CurrentUser;
use crate::http::envelope::ErrorBody;
use crate::http::error::ApiError;
use crate::http::extract::{Path, Query};
use crate::realtime::channel::{self, Channel};
use crate::realtime::frame::{self, Dialect};
use crate::realtime::session::{Closed, Flow, Out, Outbox};
use crate::realtime::{RealtimeSettings, Session};

/// Frames buffered between an SSE session and its response body.
const SSE_BUFFER: usize = 16;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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
    let token = crate::http::auth::presented_session_token(&headers).unwrap_or_default();
    let session = open(&state, actor, token, Dialect::V1)
        .await
        .map_err(|_| too_many_connections())?;
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

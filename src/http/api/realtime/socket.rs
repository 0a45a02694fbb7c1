//! One open WebSocket: the loop that selects over client messages, the session's queue, the
//! ping timer and the re-check timer, and the transport side the session writes through.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use tokio::time::{Instant, MissedTickBehavior, interval};
use tokio_util::sync::CancellationToken;

use super::client::handle_message;
use super::ws::{CLOSE_SLOW, CLOSE_UNAUTHENTICATED};
use crate::realtime::frame;
use crate::realtime::session::{Closed, Flow, Out, Outbox};
use crate::realtime::{RealtimeSettings, Session};

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
pub(super) enum Ending {
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

pub(super) async fn serve_socket(
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

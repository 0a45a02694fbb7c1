//! What a WebSocket client sends once authenticated: `subscribe`, `unsubscribe`, `ping`, and
//! `auth` again (refused); anything else is a `bad_message` error frame.

use crate::realtime::Session;
use crate::realtime::frame::{self, ClientMessage};
use crate::realtime::session::{Closed, Out, Outbox};

pub(super) async fn handle_message(
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

//! One connection's subscriptions, shared by the WebSocket and SSE handlers: the access check
//! on subscribe, resume from the log without a gap or a duplicate at the seam, and the
//! re-checks that end subscriptions whose access is gone.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::RealtimeSettings;
use super::channel::{self, Channel};
use super::frame::{self, Dialect, EventFrame};
use super::hub::{Delivery, Hub, Registration, TooManyConnections};
use crate::db;
use crate::error::{AppError, AuthFailure};
use crate::rate_limit::ConnectionLease;
use crate::services::Ctx;
use crate::services::access::Actor;
use crate::services::accounts;

/// Rows read from the log per query while resuming.
const REPLAY_PAGE: i64 = 500;

/// Something for the client.
pub enum Out {
    Event(Arc<EventFrame>),
    Control(Value),
}

/// Why the transport could not take a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// The client is not reading fast enough.
    Slow,
    /// The client went away.
    Gone,
}

/// Where a session's frames go: a WebSocket, or an SSE stream.
pub trait Outbox: Send {
    fn send(&mut self, out: Out) -> impl Future<Output = Result<(), Closed>> + Send;
}

/// The session goes on, or must end (its credentials no longer work).
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    End(&'static str),
}

struct Subscription {
    /// The client has every event up to here: a resume's `last_event_id`, or the channel's
    /// newest event when it subscribed.
    floor: i64,
    /// Ids sent while resuming; the same events may also be waiting in the live queue.
    replayed: HashSet<i64>,
    replayed_max: i64,
}

pub struct Session {
    cx: Ctx,
    hub: Arc<Hub>,
    settings: Arc<RealtimeSettings>,
    actor: Actor,
    /// Kept to re-check that the session is still live (logout, deleted user).
    token: String,
    reg: Registration,
    subs: HashMap<Channel, Subscription>,
    /// This connection's place in its user's count across instances (with Redis).
    lease: Option<ConnectionLease>,
    /// The names and shapes its event frames use.
    dialect: Dialect,
}

impl Session {
    pub fn open(
        cx: Ctx,
        hub: Arc<Hub>,
        settings: Arc<RealtimeSettings>,
        actor: Actor,
        token: String,
    ) -> Result<Self, TooManyConnections> {
        let reg = hub.connect(&actor.tenant_id, &actor.user_id)?;
        Ok(Self {
            cx,
            hub,
            settings,
            actor,
            token,
            reg,
            subs: HashMap::new(),
            lease: None,
            dialect: Dialect::V1,
        })
    }

    /// Sends event frames in `dialect` (seed 000's socket names a task's creation its way).
    pub fn speaking(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Keeps `lease` for as long as the session lives.
    pub fn holding(mut self, lease: Option<ConnectionLease>) -> Self {
        self.lease = lease;
        self
    }

    pub fn user_id(&self) -> &str {
        &self.actor.user_id
    }

    pub fn subscriptions(&self) -> usize {
        self.subs.len()
    }

    /// The next delivery from the hub; `None` only if the hub is gone.
    pub async fn next(&mut self) -> Option<Delivery> {
        self.reg.rx.recv().await
    }

    /// Cancelled when the hub found this connection's queue full.
    pub fn slow_token(&self) -> CancellationToken {
        self.reg.slow.clone()
    }

    /// Checks access, registers the live subscription, acknowledges, and with `last_event_id`
    /// first sends every missed event. Returns whether the channel is now subscribed.
    pub async fn subscribe(
        &mut self,
        out: &mut impl Outbox,
        name: &str,
        last_event_id: Option<i64>,
    ) -> Result<bool, Closed> {
        let Some(channel) = Channel::parse(name) else {
            let msg = "channel must be project/{id}, task/{id} or user/{id}";
            out.send(control(frame::error(Some(name), "invalid_channel", msg)))
                .await?;
            return Ok(false);
        };
        if !self.subs.contains_key(&channel) && self.subs.len() >= self.settings.max_subscriptions {
            let msg = format!(
                "at most {} subscriptions per connection",
                self.settings.max_subscriptions
            );
            out.send(control(frame::error(
                Some(name),
                "too_many_subscriptions",
                &msg,
            )))
            .await?;
            return Ok(false);
        }
        match channel::check(&self.cx, &self.actor, &channel).await {
            Ok(()) => {}
            Err(Ok(refusal)) => {
                out.send(control(frame::error(
                    Some(name),
                    refusal.code,
                    &refusal.message,
                )))
                .await?;
                return Ok(false);
            }
            Err(Err(e)) => {
                tracing::error!(error = %e, "realtime access check failed");
                out.send(control(internal_error(Some(name)))).await?;
                return Ok(false);
            }
        }
        // Live first: anything committed from here on is queued, so reading the log next
        // leaves no gap; the ids read are remembered so the queued copies are skipped.
        self.hub.subscribe(self.reg.id, &channel);
        let floor = match last_event_id {
            Some(after) => after,
            // A fresh subscription starts at the channel's newest event: one committed before
            // the subscribe whose notification is still on its way is not news to the client.
            None => match self.newest(&channel).await {
                Ok(id) => id,
                Err(e) => {
                    tracing::error!(error = %e, "realtime subscribe failed");
                    self.drop_subscription(&channel);
                    out.send(control(internal_error(Some(name)))).await?;
                    return Ok(false);
                }
            },
        };
        self.subs.insert(
            channel.clone(),
            Subscription {
                floor,
                replayed: HashSet::new(),
                replayed_max: 0,
            },
        );
        if let Some(after) = last_event_id {
            match self.missed(&channel, after).await {
                Ok(n) if n > self.settings.resume_max => {
                    self.drop_subscription(&channel);
                    let msg = format!(
                        "more than {} events were missed; reload and subscribe without last_event_id",
                        self.settings.resume_max
                    );
                    out.send(control(frame::error(
                        Some(name),
                        "resume_unavailable",
                        &msg,
                    )))
                    .await?;
                    return Ok(false);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "realtime resume failed");
                    self.drop_subscription(&channel);
                    out.send(control(internal_error(Some(name)))).await?;
                    return Ok(false);
                }
            }
        }
        out.send(control(frame::subscribed(name))).await?;
        if let Some(after) = last_event_id
            && let Err(e) = self.replay(out, &channel, after).await?
        {
            tracing::error!(error = %e, "realtime replay failed");
            self.drop_subscription(&channel);
            out.send(control(internal_error(Some(name)))).await?;
            return Ok(false);
        }
        Ok(true)
    }

    async fn newest(&self, channel: &Channel) -> sqlx::Result<i64> {
        let (column, key) = channel.selector();
        db::activity::channel_max_id(self.cx.db.read(), &self.actor.tenant_id, column, key).await
    }

    async fn missed(&self, channel: &Channel, after: i64) -> sqlx::Result<i64> {
        let (column, key) = channel.selector();
        db::activity::channel_count_after(
            self.cx.db.read(),
            &self.actor.tenant_id,
            column,
            key,
            after,
            self.settings.resume_max.saturating_add(1),
        )
        .await
    }

    /// Sends the channel's events after `after` from the log, oldest first. Bounded: rows
    /// committed after the live subscription started also arrive through the queue, so
    /// reading stops after `resume_max` plus one page.
    async fn replay(
        &mut self,
        out: &mut impl Outbox,
        channel: &Channel,
        mut after: i64,
    ) -> Result<sqlx::Result<()>, Closed> {
        let (column, key) = channel.selector();
        let limit = self.settings.resume_max.saturating_add(REPLAY_PAGE);
        let mut sent = 0i64;
        while sent < limit {
            let rows = match db::activity::channel_after(
                self.cx.db.read(),
                &self.actor.tenant_id,
                column,
                key,
                after,
                REPLAY_PAGE,
            )
            .await
            {
                Ok(rows) => rows,
                Err(e) => return Ok(Err(e)),
            };
            let full_page = rows.len() as i64 == REPLAY_PAGE;
            for row in rows {
                after = row.id;
                sent += 1;
                if let Some(sub) = self.subs.get_mut(channel) {
                    sub.replayed.insert(row.id);
                    sub.replayed_max = sub.replayed_max.max(row.id);
                }
                let frame = Arc::new(EventFrame::new(&row, channel.clone()));
                out.send(Out::Event(frame.for_dialect(self.dialect)))
                    .await?;
            }
            if !full_page {
                break;
            }
        }
        Ok(Ok(()))
    }

    /// Removes a subscription; `false` when there was none.
    pub fn unsubscribe(&mut self, name: &str) -> bool {
        match Channel::parse(name) {
            Some(channel) if self.subs.contains_key(&channel) => {
                self.drop_subscription(&channel);
                true
            }
            _ => false,
        }
    }

    fn drop_subscription(&mut self, channel: &Channel) {
        self.subs.remove(channel);
        self.hub.unsubscribe(self.reg.id, channel);
    }

    /// Handles one delivery from the hub.
    pub async fn deliver(&mut self, out: &mut impl Outbox, d: Delivery) -> Result<Flow, Closed> {
        match d {
            Delivery::Event(frame) => {
                // Events still queued for a channel unsubscribed since are not for the client.
                let Some(sub) = self.subs.get_mut(&frame.channel) else {
                    return Ok(Flow::Continue);
                };
                if frame.id <= sub.floor || sub.replayed.contains(&frame.id) {
                    return Ok(Flow::Continue);
                }
                // Past the newest replayed id the queue holds only events committed after
                // the replay read them (NOTIFY and the tail are in commit order).
                if frame.id > sub.replayed_max && !sub.replayed.is_empty() {
                    sub.replayed = HashSet::new();
                }
                out.send(Out::Event(frame.for_dialect(self.dialect)))
                    .await?;
                Ok(Flow::Continue)
            }
            Delivery::Recheck => self.recheck(out).await,
        }
    }

    /// Checks the session and every subscription again; a subscription whose channel is no
    /// longer readable gets an error frame and ends. A database failure ends nothing.
    pub async fn recheck(&mut self, out: &mut impl Outbox) -> Result<Flow, Closed> {
        match accounts::authenticate(&self.cx, &self.token).await {
            Ok(_) => {}
            Err(AppError::Unauthenticated(AuthFailure::InvalidToken)) => {
                return Ok(Flow::End("session ended"));
            }
            Err(e) => {
                tracing::warn!(error = %e, "realtime session re-check failed");
                return Ok(Flow::Continue);
            }
        }
        let channels: Vec<Channel> = self.subs.keys().cloned().collect();
        for channel in channels {
            match channel::check(&self.cx, &self.actor, &channel).await {
                Ok(()) => {}
                Err(Ok(refusal)) => {
                    self.drop_subscription(&channel);
                    let name = channel.to_string();
                    let msg = format!("{}; the subscription has ended", refusal.message);
                    out.send(control(frame::error(Some(&name), refusal.code, &msg)))
                        .await?;
                }
                Err(Err(e)) => tracing::warn!(error = %e, "realtime access re-check failed"),
            }
        }
        Ok(Flow::Continue)
    }
}

/// Authenticates a token sent in an `auth` message, as `CurrentUser` does for a header.
pub async fn authenticate(cx: &Ctx, token: &str) -> Result<Actor, AppError> {
    let session = accounts::authenticate(cx, token).await?;
    Ok(Actor {
        tenant_id: session.tenant_id,
        user_id: session.user.id,
    })
}

fn control(v: Value) -> Out {
    Out::Control(v)
}

fn internal_error(channel: Option<&str>) -> Value {
    frame::error(channel, "internal_error", "internal server error")
}

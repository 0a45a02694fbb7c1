//! The wire format: event frames (serialised once per channel and shared by every subscriber),
//! control frames, and the messages a client sends.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::channel::Channel;
use crate::clock::to_rfc3339;
use crate::db::activity::FeedRow;

/// The seed's name for a task's creation on its project's channel.
pub const SEED000_TASK_CREATED: &str = "task:created";

/// Which names and shapes a connection's event frames use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dialect {
    /// Kanri's own (`/v1/realtime`): every event under its activity `kind`.
    #[default]
    V1,
    /// Seed 000's socket (`/api/realtime`): on `project/{id}`, a task's creation is the seed's
    /// `task:created` with exactly `{id, projectId, title}` (in place of `task.created`);
    /// every other event is as in `V1`.
    Seed000,
}

/// One event as sent on one channel.
#[derive(Debug)]
pub struct EventFrame {
    pub id: i64,
    pub channel: Channel,
    /// The event name, the activity `kind` (`task.created`, …).
    pub kind: String,
    /// The whole JSON frame.
    pub text: Utf8Bytes,
    /// The same event as seed 000 names it, where the seed has a name for it (`task:created`
    /// on a project channel); built with this frame, so it too is serialised once.
    seed000: Option<Arc<EventFrame>>,
}

impl EventFrame {
    pub fn new(row: &FeedRow, channel: Channel) -> Self {
        let data: Value = serde_json::from_str(&row.payload).unwrap_or(Value::Null);
        let seed000 = seed000_frame(row, &channel, &data).map(Arc::new);
        let frame = json!({
            "type": "event",
            "channel": channel.to_string(),
            "id": row.id,
            "event": row.kind,
            "actor_id": row.actor_id,
            "created_at": to_rfc3339(row.created_at),
            "workspace_id": row.workspace_id,
            "project_id": row.project_id,
            "subject": {"type": row.subject_type, "id": row.subject_id},
            "data": data,
        });
        Self {
            id: row.id,
            channel,
            kind: row.kind.clone(),
            text: Utf8Bytes::from(frame.to_string()),
            seed000,
        }
    }

    /// This event as a connection speaking `dialect` receives it.
    pub fn for_dialect(self: &Arc<Self>, dialect: Dialect) -> Arc<Self> {
        match (dialect, &self.seed000) {
            (Dialect::Seed000, Some(seed)) => seed.clone(),
            _ => self.clone(),
        }
    }
}

/// Seed 000's `sdk.socket.emit('task:created', { id, projectId, title }, `project/${projectId}`)`:
/// the frame keeps our `type`, `channel` and `id` (so a client can resume), and `data` is
/// exactly the seed's payload.
fn seed000_frame(row: &FeedRow, channel: &Channel, data: &Value) -> Option<EventFrame> {
    if !matches!(channel, Channel::Project(_)) || row.kind != "task.created" {
        return None;
    }
    let frame = json!({
        "type": "event",
        "channel": channel.to_string(),
        "id": row.id,
        "event": SEED000_TASK_CREATED,
        "data": {"id": data["id"], "projectId": data["projectId"], "title": data["title"]},
    });
    Some(EventFrame {
        id: row.id,
        channel: channel.clone(),
        kind: SEED000_TASK_CREATED.to_string(),
        text: Utf8Bytes::from(frame.to_string()),
        seed000: None,
    })
}

/// What a client may send.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    Auth {
        token: String,
    },
    Subscribe {
        channel: String,
        /// Resume: first send every event of the channel after this id.
        last_event_id: Option<i64>,
    },
    Unsubscribe {
        channel: String,
    },
    /// An application-level ping for clients that cannot see WebSocket pings.
    Ping,
}

impl ClientMessage {
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }
}

pub fn authenticated(user_id: &str) -> Value {
    json!({"type": "authenticated", "user_id": user_id})
}

pub fn subscribed(channel: &str) -> Value {
    json!({"type": "subscribed", "channel": channel})
}

pub fn unsubscribed(channel: &str) -> Value {
    json!({"type": "unsubscribed", "channel": channel})
}

pub fn pong() -> Value {
    json!({"type": "pong"})
}

/// An error about one channel (`channel` set: that subscription does not exist, or has
/// ended) or about the connection's last message.
pub fn error(channel: Option<&str>, code: &str, message: &str) -> Value {
    json!({"type": "error", "channel": channel, "code": code, "message": message})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_parse_and_unknown_shapes_are_refused() {
        assert_eq!(
            ClientMessage::parse(r#"{"type":"subscribe","channel":"project/p","last_event_id":7}"#),
            Ok(ClientMessage::Subscribe {
                channel: "project/p".into(),
                last_event_id: Some(7)
            })
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"auth","token":"abc"}"#),
            Ok(ClientMessage::Auth {
                token: "abc".into()
            })
        );
        assert!(ClientMessage::parse(r#"{"type":"subscribe"}"#).is_err());
        assert!(ClientMessage::parse(r#"{"type":"shout","channel":"x"}"#).is_err());
        assert!(ClientMessage::parse("not json").is_err());
    }

    /// A `task.created` feed row of task `k` in project `p`.
    fn task_created(id: i64, payload: &str) -> FeedRow {
        FeedRow {
            id,
            tenant_id: "t".into(),
            workspace_id: Some("w".into()),
            project_id: Some("p".into()),
            actor_id: Some("a".into()),
            kind: "task.created".into(),
            subject_type: "task".into(),
            subject_id: "k".into(),
            payload: payload.into(),
            task_id: Some("k".into()),
            user_id: None,
            created_at: 0,
        }
    }

    #[test]
    fn an_event_frame_carries_the_row_and_its_payload() {
        let row = task_created(42, r#"{"id":"k","projectId":"p","title":"T"}"#);
        let frame = EventFrame::new(&row, Channel::Project("p".into()));
        let v: Value = serde_json::from_str(&frame.text).unwrap();
        assert_eq!(v["type"], "event");
        assert_eq!(v["channel"], "project/p");
        assert_eq!(v["id"], 42);
        assert_eq!(v["event"], "task.created");
        assert_eq!(v["data"]["projectId"], "p");
        assert_eq!(v["created_at"], "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn seed000_sees_task_created_on_project_channels_only() {
        let row = task_created(
            7,
            r#"{"id":"k","projectId":"p","title":"T","status":"TODO"}"#,
        );
        let on_project = Arc::new(EventFrame::new(&row, Channel::Project("p".into())));
        assert_eq!(on_project.for_dialect(Dialect::V1).kind, "task.created");
        let seed = on_project.for_dialect(Dialect::Seed000);
        let v: Value = serde_json::from_str(&seed.text).unwrap();
        assert_eq!(
            v,
            json!({"type": "event", "channel": "project/p", "id": 7, "event": "task:created",
                "data": {"id": "k", "projectId": "p", "title": "T"}})
        );
        // The task's own channel has no seed name: the event is as v1 sends it.
        let on_task = Arc::new(EventFrame::new(&row, Channel::Task("k".into())));
        assert_eq!(on_task.for_dialect(Dialect::Seed000).kind, "task.created");
    }
}

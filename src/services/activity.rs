//! The activity log: every write appends one event in its own transaction.

use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::{now_ms, to_rfc3339};
use crate::db::activity::{ActivityRow, NewActivity};
use crate::db::{self, Db};
use crate::error::AppResult;
use crate::services::page;

/// What happened, to what, by whom.
pub struct Event<'a> {
    pub tenant_id: &'a str,
    pub workspace_id: &'a str,
    pub project_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    /// `task.created`, `member.removed`, …
    pub kind: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub payload: Value,
}

/// Appends `event` on `conn`, which should be the transaction making the change. The payload
/// is enriched with the current state of its subject (read on the same transaction), so a
/// realtime client needs no second request to show the change.
pub async fn record(conn: &mut sqlx::AnyConnection, mut event: Event<'_>) -> AppResult<i64> {
    enrich(conn, &mut event).await?;
    let task_id = concerned_task(&event).map(str::to_string);
    let user_id = concerned_user(&event).map(str::to_string);
    let payload = event.payload.to_string();
    let id = db::activity::append(
        &mut *conn,
        &NewActivity {
            tenant_id: event.tenant_id,
            workspace_id: event.workspace_id,
            project_id: event.project_id,
            actor_id: event.actor_id,
            kind: event.kind,
            subject_type: event.subject_type,
            subject_id: event.subject_id,
            payload: &payload,
            task_id: task_id.as_deref(),
            user_id: user_id.as_deref(),
            now: now_ms(),
        },
    )
    .await?;
    Ok(id)
}

/// The task an event concerns: its subject, or the task of a comment or attachment.
fn concerned_task<'e>(event: &'e Event<'_>) -> Option<&'e str> {
    if event.subject_type == "task" {
        return Some(event.subject_id);
    }
    event.payload.get("task_id").and_then(Value::as_str)
}

/// The user an event concerns: a member added, removed or changed, or a task's new assignee.
fn concerned_user<'e>(event: &'e Event<'_>) -> Option<&'e str> {
    if event.subject_type == "user" {
        return Some(event.subject_id);
    }
    if event.kind == "task.assigned" {
        return event.payload.get("assignee_id").and_then(Value::as_str);
    }
    None
}

/// Adds the subject's current fields under a key named after it (`comment`, `user`,
/// `project`); keys already in the payload stay as they are. Tasks already carry theirs.
async fn enrich(conn: &mut sqlx::AnyConnection, event: &mut Event<'_>) -> AppResult<()> {
    if !event.payload.is_object() || event.kind.ends_with(".deleted") {
        return Ok(());
    }
    let (key, value) = match event.subject_type {
        "comment" => {
            let Some(c) = db::comments::find(&mut *conn, event.tenant_id, event.subject_id).await?
            else {
                return Ok(());
            };
            let c = c.comment;
            (
                "comment",
                json!({
                    "id": c.id, "task_id": c.task_id, "content": c.content,
                    "author_id": c.author_id, "created_at": to_rfc3339(c.created_at),
                    "updated_at": to_rfc3339(c.updated_at),
                }),
            )
        }
        "user" => {
            let Some(u) = db::users::find(&mut *conn, event.tenant_id, event.subject_id).await?
            else {
                return Ok(());
            };
            (
                "user",
                json!({"id": u.id, "name": u.name, "image_url": u.image_url}),
            )
        }
        "project" => {
            let Some(p) = db::projects::find(&mut *conn, event.tenant_id, event.subject_id).await?
            else {
                return Ok(());
            };
            (
                "project",
                json!({
                    "id": p.id, "name": p.name, "description": p.description,
                    "status": p.status, "priority": p.priority,
                    "start_date": p.start_date.map(to_rfc3339),
                    "end_date": p.end_date.map(to_rfc3339),
                    "team_lead_id": p.team_lead_id,
                }),
            )
        }
        _ => return Ok(()),
    };
    if let Some(map) = event.payload.as_object_mut() {
        map.entry(key).or_insert(value);
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActivityEvent {
    pub id: i64,
    pub kind: String,
    pub actor_id: Option<String>,
    pub subject_type: String,
    pub subject_id: String,
    pub workspace_id: String,
    pub project_id: Option<String>,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub created_at: String,
}

impl From<ActivityRow> for ActivityEvent {
    fn from(row: ActivityRow) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            actor_id: row.actor_id,
            subject_type: row.subject_type,
            subject_id: row.subject_id,
            workspace_id: row.workspace_id,
            project_id: row.project_id,
            payload: serde_json::from_str(&row.payload).unwrap_or(Value::Null),
            created_at: to_rfc3339(row.created_at),
        }
    }
}

/// A page of a project's events after `after_id`, oldest first, and whether more follow.
pub async fn list_for_project(
    db: &Db,
    tenant_id: &str,
    project_id: &str,
    after_id: i64,
    limit: u32,
) -> AppResult<(Vec<ActivityEvent>, Option<i64>)> {
    let rows = db::activity::list_for_project(
        db.read(),
        tenant_id,
        project_id,
        after_id,
        page::fetch_size(limit),
    )
    .await?;
    let (rows, next) = page::split(rows, limit, |r| r.id);
    Ok((rows.into_iter().map(ActivityEvent::from).collect(), next))
}

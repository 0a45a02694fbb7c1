//! The activity log: every write appends one event in its own transaction.

use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::{now_ms, to_rfc3339};
use crate::db::activity::{ActivityRow, NewActivity};
use crate::db::{self};
use crate::domain::event::{DomainEvent, Subject};
use crate::error::AppResult;
use crate::services::Ctx;
use crate::services::page;

/// Appends `event`'s activity row on `conn`, the transaction making the change, and returns
/// its id. The payload is enriched with the current state of its subject (read on the same
/// transaction), so a realtime client needs no second request to show the change.
pub(crate) async fn append(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    actor_id: Option<&str>,
    event: &DomainEvent,
) -> AppResult<i64> {
    let kind = event.kind();
    let mut payload = event.payload();
    if !kind.removes_subject() {
        enrich(
            conn,
            tenant_id,
            kind.subject(),
            event.subject_id(),
            &mut payload,
        )
        .await?;
    }
    let payload = payload.to_string();
    let (workspace_id, project_id) = event.place();
    let id = db::activity::append(
        &mut *conn,
        &NewActivity {
            tenant_id,
            workspace_id,
            project_id,
            actor_id,
            kind: kind.as_str(),
            subject_type: kind.subject().as_str(),
            subject_id: event.subject_id(),
            payload: &payload,
            task_id: event.concerned_task(),
            user_id: event.concerned_user(),
            now: now_ms(),
        },
    )
    .await?;
    Ok(id)
}

/// Adds the subject's current fields under a key named after it (`comment`, `user`,
/// `project`); keys already in the payload stay as they are. Tasks already carry theirs.
async fn enrich(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    subject: Subject,
    subject_id: &str,
    payload: &mut Value,
) -> AppResult<()> {
    let value = match subject {
        Subject::Comment => db::comments::find(&mut *conn, tenant_id, subject_id)
            .await?
            .map(|c| {
                let c = c.comment;
                json!({
                    "id": c.id, "task_id": c.task_id, "content": c.content,
                    "author_id": c.author_id, "created_at": to_rfc3339(c.created_at),
                    "updated_at": to_rfc3339(c.updated_at),
                })
            }),
        Subject::User => db::users::find(&mut *conn, tenant_id, subject_id)
            .await?
            .map(|u| json!({"id": u.id, "name": u.name, "image_url": u.image_url})),
        Subject::Project => db::projects::find(&mut *conn, tenant_id, subject_id)
            .await?
            .map(|p| {
                json!({
                    "id": p.id, "name": p.name, "description": p.description,
                    "status": p.status, "priority": p.priority,
                    "start_date": p.start_date.map(to_rfc3339),
                    "end_date": p.end_date.map(to_rfc3339),
                    "team_lead_id": p.team_lead_id,
                })
            }),
        Subject::Task
        | Subject::Attachment
        | Subject::Invitation
        | Subject::Workspace
        | Subject::Role
        | Subject::Key => None,
    };
    if let (Some(value), Some(map)) = (value, payload.as_object_mut()) {
        map.entry(subject.as_str()).or_insert(value);
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
    /// `None` for tenant-level events (users, roles, keys, a deleted workspace).
    pub workspace_id: Option<String>,
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
    cx: &Ctx,
    tenant_id: &str,
    project_id: &str,
    after_id: i64,
    limit: u32,
) -> AppResult<(Vec<ActivityEvent>, Option<i64>)> {
    let rows = db::activity::list_for_project(
        cx.db.read(),
        tenant_id,
        project_id,
        after_id,
        page::fetch_size(limit),
    )
    .await?;
    let (rows, next) = page::split(rows, limit, |r| r.id);
    Ok((rows.into_iter().map(ActivityEvent::from).collect(), next))
}

/// A page of the tenant's events after `after_id`, oldest first: every change in every
/// workspace, and the tenant-level ones (users, roles, keys). For the secret key only.
pub async fn list_for_tenant(
    cx: &Ctx,
    tenant_id: &str,
    after_id: i64,
    limit: u32,
) -> AppResult<(Vec<ActivityEvent>, Option<i64>)> {
    let rows =
        db::activity::list_for_tenant(cx.db.read(), tenant_id, after_id, page::fetch_size(limit))
            .await?;
    let (rows, next) = page::split(rows, limit, |r| r.id);
    Ok((rows.into_iter().map(ActivityEvent::from).collect(), next))
}

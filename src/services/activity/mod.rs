//! The activity log: every write appends one event in its own transaction.

mod read;
pub use read::*;

use serde_json::{Value, json};

use crate::clock::{now_ms, to_rfc3339};
use crate::db::activity::NewActivity;
use crate::db::{self};
use crate::domain::event::{DomainEvent, Subject};
use crate::error::AppResult;

/// An appended activity row: its id, its (enriched) payload as JSON text and its time.
pub(crate) struct Appended {
    pub id: i64,
    pub payload: String,
    pub created_at: i64,
}

/// Appends `event`'s activity row on `conn`, the transaction making the change, and returns
/// its id, payload and time. The payload is enriched with the current state of its subject (read on the same
/// transaction), so a realtime client needs no second request to show the change.
pub(crate) async fn append(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    actor_id: Option<&str>,
    event: &DomainEvent,
) -> AppResult<Appended> {
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
    let now = now_ms();
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
            now,
        },
    )
    .await?;
    Ok(Appended {
        id,
        payload,
        created_at: now,
    })
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
        | Subject::TimeEntry
        | Subject::Label
        | Subject::Invitation
        | Subject::Workspace
        | Subject::Role
        | Subject::Key
        | Subject::Webhook
        | Subject::Plan
        | Subject::Subscription => None,
    };
    if let (Some(value), Some(map)) = (value, payload.as_object_mut()) {
        map.entry(subject.as_str()).or_insert(value);
    }
    Ok(())
}

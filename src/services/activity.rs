//! The activity log: every write appends one event in its own transaction.

use serde::Serialize;
use serde_json::Value;

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

/// Appends `event` on `conn`, which should be the transaction making the change.
pub async fn record(conn: &mut sqlx::AnyConnection, event: Event<'_>) -> AppResult<i64> {
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
            now: now_ms(),
        },
    )
    .await?;
    Ok(id)
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

//! Reading the event log: a project's activity and the tenant's audit log, oldest first.

use crate::clock::to_rfc3339;
use crate::db::activity::ActivityRow;
use crate::db::{self};
use crate::error::AppResult;
use crate::services::Ctx;
use crate::services::page;
use serde::Serialize;
use serde_json::Value;

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

/// A page of a task's events after `after_id`, oldest first (the caller checked access).
pub async fn list_for_task(
    cx: &Ctx,
    tenant_id: &str,
    task_id: &str,
    after_id: i64,
    limit: u32,
) -> AppResult<(Vec<ActivityEvent>, Option<i64>)> {
    let rows = db::activity::list_for_task(
        cx.db.read(),
        tenant_id,
        task_id,
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

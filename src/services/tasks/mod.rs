//! Tasks: create, read, partial update (with optimistic concurrency on request), move, delete,
//! bulk status change. Lists are `task_list`. The task as clients see it lives here; the
//! changes are in `write` (create, update, delete), `placement` (where a task goes on the
//! board, and when it counts as completed), `bulk` and `input` (what a client sends).

mod bulk;
mod input;
mod placement;
mod write;

pub use bulk::{MAX_BULK, bulk_status};
pub use input::TaskInput;
pub use write::{create, delete, update};

use serde::Serialize;

use crate::clock::to_rfc3339;
use crate::db;
use crate::db::tasks::{TaskDetail, TaskRow};
use crate::domain::enums::{Priority, TaskStatus, TaskType};
use crate::domain::event::{InProject, TaskFacts};
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::services::Ctx;
use crate::services::access::{self, Actor, ProjectAccess};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Assignee {
    pub id: String,
    pub name: String,
    pub email: String,
    pub image_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub description: Option<String>,
    pub status: TaskStatus,
    #[serde(rename = "type")]
    pub kind: TaskType,
    pub priority: Priority,
    pub assignee_id: Option<String>,
    pub assignee: Option<Assignee>,
    pub due_date: Option<String>,
    /// Opaque board-order key; tasks sort by it.
    pub position: String,
    pub created_by: Option<String>,
    pub completed_at: Option<String>,
    pub comments_count: i64,
    /// Files attached to the task (`GET /v1/tasks/{id}/attachments` lists them).
    pub attachments_count: i64,
    /// Increases with every change; send it back as `version` to update only if unchanged.
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<TaskDetail> for Task {
    fn from(d: TaskDetail) -> Self {
        let t = d.task;
        let assignee = match (&t.assignee_id, d.assignee_name, d.assignee_email) {
            (Some(id), Some(name), Some(email)) => Some(Assignee {
                id: id.clone(),
                name,
                email,
                image_url: d.assignee_image_url,
            }),
            _ => None,
        };
        Self {
            id: t.id,
            project_id: t.project_id,
            title: t.title,
            description: t.description,
            status: t.status,
            kind: t.kind,
            priority: t.priority,
            assignee_id: t.assignee_id,
            assignee,
            due_date: t.due_date.map(to_rfc3339),
            position: t.position,
            created_by: t.created_by,
            completed_at: t.completed_at.map(to_rfc3339),
            comments_count: d.comments_count,
            attachments_count: d.attachments_count,
            version: t.version,
            created_at: to_rfc3339(t.created_at),
            updated_at: to_rfc3339(t.updated_at),
        }
    }
}

pub(super) fn facts(t: &TaskRow) -> TaskFacts {
    TaskFacts {
        id: t.id.clone(),
        project_id: t.project_id.clone(),
        title: t.title.clone(),
        status: t.status,
        assignee_id: t.assignee_id.clone(),
        due_date: t.due_date,
    }
}

pub(super) fn in_project(access: &ProjectAccess) -> InProject {
    InProject {
        workspace_id: access.workspace.workspace_id.clone(),
        project_id: access.project_id.clone(),
    }
}

pub(super) async fn get_unchecked(cx: &Ctx, tenant_id: &str, task_id: &str) -> AppResult<Task> {
    db::tasks::find_detail(cx.db.read(), tenant_id, task_id)
        .await?
        .map(Task::from)
        .ok_or(AppError::NotFound("task"))
}

/// The project a task is in, and the caller's standing there. Not found when the caller may
/// not see it.
pub async fn task_access(
    cx: &Ctx,
    actor: &Actor,
    task_id: &str,
) -> AppResult<(TaskRow, ProjectAccess)> {
    let task = db::tasks::find(cx.db.read(), &actor.tenant_id, task_id)
        .await?
        .ok_or(AppError::NotFound("task"))?;
    let access = access::project_access(cx, actor, &task.project_id)
        .await
        .map_err(|e| e.not_found_as("task"))?;
    Ok((task, access))
}

/// A page of the task's activity (its changes, comments and attachments), oldest first.
pub async fn activity(
    cx: &Ctx,
    actor: &Actor,
    task_id: &str,
    after_id: i64,
    limit: u32,
) -> AppResult<(Vec<crate::services::activity::ActivityEvent>, Option<i64>)> {
    let (_, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::TASKS_READ)?;
    crate::services::activity::list_for_task(cx, &actor.tenant_id, task_id, after_id, limit).await
}

pub async fn get(cx: &Ctx, actor: &Actor, task_id: &str) -> AppResult<Task> {
    let (_, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::TASKS_READ)?;
    get_unchecked(cx, &actor.tenant_id, task_id).await
}

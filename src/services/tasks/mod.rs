//! Tasks: create, read, partial update (with optimistic concurrency on request), move, delete,
//! bulk status change. Lists are `task_list`. The task as clients see it lives here; the
//! changes are in `write` (create, update, delete), `placement` (where a task goes on the
//! board, and when it counts as completed), `bulk` and `input` (what a client sends).

mod bulk;
mod input;
mod placement;
mod recurrence;
pub mod relations;
mod subtasks;
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

/// A label as a task shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskLabel {
    pub id: String,
    pub name: String,
    pub color: String,
}

/// How far a task's subtasks have got.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct SubtaskProgress {
    pub total: i64,
    pub done: i64,
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
    /// The task this is a subtask of.
    pub parent_id: Option<String>,
    pub subtasks: SubtaskProgress,
    /// The workspace labels on the task, by name.
    pub labels: Vec<TaskLabel>,
    pub estimate_minutes: Option<i64>,
    /// Finished time entries' total (`GET /v1/tasks/{id}/time-entries`).
    pub time_spent_seconds: i64,
    /// The repeat rule (an RFC 5545 RRULE subset): completing the task creates the next one.
    pub recurrence: Option<String>,
    /// The occurrence that completing this one created.
    pub next_occurrence_id: Option<String>,
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
            parent_id: t.parent_id,
            subtasks: SubtaskProgress {
                total: d.subtasks_count,
                done: d.subtasks_done,
            },
            labels: Vec::new(),
            estimate_minutes: t.estimate_minutes,
            time_spent_seconds: d.time_spent_ms / 1000,
            recurrence: t.recurrence,
            next_occurrence_id: t.recurrence_next_id,
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

/// Where a change in the caller's project is filed.
pub(crate) fn in_project(access: &ProjectAccess) -> InProject {
    InProject {
        workspace_id: access.workspace.workspace_id.clone(),
        project_id: access.project_id.clone(),
    }
}

/// Tasks as clients see them: the rows with their labels, loaded in one query for the tasks
/// that have any.
pub(crate) async fn present<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    tenant_id: &str,
    details: Vec<TaskDetail>,
) -> AppResult<Vec<Task>> {
    let labelled: Vec<&str> = details
        .iter()
        .filter(|d| d.labels_count > 0)
        .map(|d| d.task.id.as_str())
        .collect();
    let mut labels = db::labels::of_tasks(ex, tenant_id, &labelled).await?;
    let mut tasks: Vec<Task> = details.into_iter().map(Task::from).collect();
    if !labels.is_empty() {
        for task in &mut tasks {
            task.labels = labels
                .extract_if(.., |l| l.task_id == task.id)
                .map(|l| TaskLabel {
                    id: l.id,
                    name: l.name,
                    color: l.color,
                })
                .collect();
        }
    }
    Ok(tasks)
}

/// One task as clients see it, from its detail.
pub(super) async fn present_detail<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    tenant_id: &str,
    detail: TaskDetail,
) -> AppResult<Task> {
    Ok(present(ex, tenant_id, vec![detail])
        .await?
        .pop()
        .expect("one in, one out"))
}

/// One task as clients see it, read on `conn`.
pub(super) async fn present_one(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    task_id: &str,
) -> AppResult<Task> {
    let detail = db::tasks::find_detail(&mut *conn, tenant_id, task_id)
        .await?
        .ok_or(AppError::NotFound("task"))?;
    present_detail(conn, tenant_id, detail).await
}

pub(super) async fn get_unchecked(cx: &Ctx, tenant_id: &str, task_id: &str) -> AppResult<Task> {
    let mut conn = cx.db.read().acquire().await?;
    present_one(&mut conn, tenant_id, task_id).await
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

/// One task, read once: its detail first, then the caller's access to its project (not found
/// either way when they may not see it).
pub async fn get(cx: &Ctx, actor: &Actor, task_id: &str) -> AppResult<Task> {
    let detail = db::tasks::find_detail(cx.db.read(), &actor.tenant_id, task_id)
        .await?
        .ok_or(AppError::NotFound("task"))?;
    let access = access::project_access(cx, actor, &detail.task.project_id)
        .await
        .map_err(|e| e.not_found_as("task"))?;
    access.require(permission::TASKS_READ)?;
    present_detail(cx.db.read(), &actor.tenant_id, detail).await
}

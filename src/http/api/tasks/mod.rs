//! Tasks: create in a project, read, update (partial, optionally at a version), delete, and
//! set the status of several at once.
//!
//! - `list.rs`: a project's task list, with its filters, sort and cursor.
//! - `comments.rs`: a task's comments.
//! - `activity.rs`: a task's activity.
//! - `relations.rs`: how a task relates to others.
//! - `time.rs`: time entries, timers and totals.

pub mod activity;
pub mod comments;
pub mod list;
pub mod relations;
pub mod time;

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Deleted, Success};
use crate::app::AppState;
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path, nullable};
use crate::services::tasks::{self, Task, TaskInput};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list_tasks, create_task))
        .routes(routes!(bulk_status))
        .routes(routes!(get_task, update_task, delete_task))
        .routes(routes!(comments::list_comments, comments::create_comment))
        .routes(routes!(activity::list_task_activity))
        .routes(routes!(comments::edit_comment, comments::delete_comment))
        .routes(routes!(relations::list_relations, relations::add_relation))
        .routes(routes!(relations::remove_relation))
        .routes(routes!(time::list_time_entries, time::log_time))
        .routes(routes!(time::start_timer))
        .routes(routes!(time::stop_timer))
        .routes(routes!(time::delete_time_entry))
        .routes(routes!(time::project_time))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTask {
    pub title: String,
    pub description: Option<String>,
    /// TODO (default), IN_PROGRESS or DONE; case-insensitive.
    #[schema(value_type = Option<crate::domain::enums::TaskStatus>)]
    pub status: Option<String>,
    /// TASK (default), BUG, FEATURE, IMPROVEMENT or OTHER.
    #[serde(rename = "type")]
    #[schema(value_type = Option<crate::domain::enums::TaskType>)]
    pub kind: Option<String>,
    /// LOW, MEDIUM (default) or HIGH.
    #[schema(value_type = Option<crate::domain::enums::Priority>)]
    pub priority: Option<String>,
    /// A project member's user id.
    pub assignee_id: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// Place after this task (default: at the end)…
    pub after_id: Option<String>,
    /// …or before this one.
    pub before_id: Option<String>,
    /// Make it a subtask of this task (same project).
    pub parent_id: Option<String>,
    /// The workspace labels it carries (at most 20).
    pub label_ids: Option<Vec<String>>,
    /// 0–1000000.
    pub estimate_minutes: Option<i64>,
    /// Repeat rule, an RFC 5545 RRULE subset: `FREQ=DAILY|WEEKLY|MONTHLY|YEARLY` with
    /// `INTERVAL`, `BYDAY` (weekly), `BYMONTHDAY` (monthly) and `UNTIL`.
    pub recurrence: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateTask {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[schema(value_type = Option<crate::domain::enums::TaskStatus>)]
    pub status: Option<String>,
    #[serde(rename = "type")]
    #[schema(value_type = Option<crate::domain::enums::TaskType>)]
    pub kind: Option<String>,
    #[schema(value_type = Option<crate::domain::enums::Priority>)]
    pub priority: Option<String>,
    /// `null` unassigns.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub assignee_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub due_date: Option<Option<String>>,
    /// Move right after this task…
    pub after_id: Option<String>,
    /// …or right before this one.
    pub before_id: Option<String>,
    /// Apply only if the task is still at this version (else 409 `version_conflict`).
    pub version: Option<i64>,
    /// `null` makes it a top-level task.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
    /// Replaces its labels.
    pub label_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub estimate_minutes: Option<Option<i64>>,
    /// `null` stops the repeat.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub recurrence: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkStatus {
    pub task_ids: Vec<String>,
    #[schema(value_type = crate::domain::enums::TaskStatus)]
    pub status: String,
}

#[utoipa::path(post, path = "/v1/projects/{id}/tasks", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id")),
    request_body = CreateTask,
    responses((status = 201, body = Success<Task>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_task(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(project_id): Path<String>,
    Json(body): Json<CreateTask>,
) -> ApiResult<Envelope<Task>> {
    let input = TaskInput {
        title: Some(&body.title),
        description: body.description.as_deref().map(Some),
        status: body.status.as_deref(),
        kind: body.kind.as_deref(),
        priority: body.priority.as_deref(),
        assignee_id: body.assignee_id.as_deref().map(Some),
        due_date: body.due_date.as_deref().map(Some),
        after_id: body.after_id.as_deref(),
        before_id: body.before_id.as_deref(),
        version: None,
        parent_id: body.parent_id.as_deref().map(Some),
        label_ids: body.label_ids.as_deref(),
        estimate_minutes: body.estimate_minutes.map(Some),
        recurrence: body.recurrence.as_deref().map(Some),
    };
    Ok(Envelope::created(
        tasks::create(&state.cx, &user.actor(), &project_id, input).await?,
    ))
}

#[utoipa::path(post, path = "/v1/projects/{id}/tasks/bulk-status", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id")),
    request_body = BulkStatus,
    responses((status = 200, description = "All updated, or none", body = Success<Vec<Task>>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bulk_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(project_id): Path<String>,
    Json(body): Json<BulkStatus>,
) -> ApiResult<Envelope<Vec<Task>>> {
    let updated = tasks::bulk_status(
        &state.cx,
        &user.actor(),
        &project_id,
        &body.task_ids,
        &body.status,
    )
    .await?;
    Ok(Envelope::ok(updated))
}

#[utoipa::path(get, path = "/v1/tasks/{id}", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, body = Success<Task>), (status = 404, body = ErrorBody)))]
pub async fn get_task(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Task>> {
    Ok(Envelope::ok(
        tasks::get(&state.cx, &user.actor(), &id).await?,
    ))
}

#[utoipa::path(patch, path = "/v1/tasks/{id}", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id")),
    request_body = UpdateTask,
    responses((status = 200, body = Success<Task>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "Version conflict", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_task(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<UpdateTask>,
) -> ApiResult<Envelope<Task>> {
    let input = TaskInput {
        title: body.title.as_deref(),
        description: body.description.as_ref().map(|d| d.as_deref()),
        status: body.status.as_deref(),
        kind: body.kind.as_deref(),
        priority: body.priority.as_deref(),
        assignee_id: body.assignee_id.as_ref().map(|a| a.as_deref()),
        due_date: body.due_date.as_ref().map(|d| d.as_deref()),
        after_id: body.after_id.as_deref(),
        before_id: body.before_id.as_deref(),
        version: body.version,
        parent_id: body.parent_id.as_ref().map(|p| p.as_deref()),
        label_ids: body.label_ids.as_deref(),
        estimate_minutes: body.estimate_minutes,
        recurrence: body.recurrence.as_ref().map(|r| r.as_deref()),
    };
    Ok(Envelope::ok(
        tasks::update(&state.cx, &user.actor(), &id, input).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/tasks/{id}", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, body = Success<Deleted>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_task(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Deleted>> {
    tasks::delete(&state.cx, &user.actor(), &id).await?;
    Ok(Envelope::ok(Deleted::new(id)))
}

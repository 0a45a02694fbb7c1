//! Tasks and their comments.

use axum::extract::State;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Deleted, Page, Success};
use crate::app::AppState;
use crate::cache::Lookup;
use crate::domain::permission;
use crate::error::AppError;
use crate::http::auth::CurrentUser;
use crate::http::cached;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path, Query, nullable};
use crate::http::pagination::PageParams;
use crate::services::comments::{self, Comment};
use crate::services::list_cache;
use crate::services::task_list::{self, ListQuery, TaskCursor};
use crate::services::tasks::{self, Task, TaskInput};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks, create_task))
        .routes(routes!(bulk_status))
        .routes(routes!(get_task, update_task, delete_task))
        .routes(routes!(list_comments, create_comment))
        .routes(routes!(edit_comment, delete_comment))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateTask {
    pub title: String,
    pub description: Option<String>,
    /// TODO (default), IN_PROGRESS or DONE; case-insensitive.
    pub status: Option<String>,
    /// TASK (default), BUG, FEATURE, IMPROVEMENT or OTHER.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// LOW, MEDIUM (default) or HIGH.
    pub priority: Option<String>,
    /// A project member's user id.
    pub assignee_id: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// Place after this task (default: at the end)…
    pub after_id: Option<String>,
    /// …or before this one.
    pub before_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateTask {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub status: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
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
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkStatus {
    pub task_ids: Vec<String>,
    pub status: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CommentBody {
    pub content: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct TaskListParams {
    /// Items per page, 1–100 (default 50).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// position (default), due_date, priority, created_at, updated_at; prefix `-` for descending.
    pub sort: Option<String>,
    pub status: Option<String>,
    pub assignee_id: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    pub priority: Option<String>,
    /// Tasks due before this time or date.
    pub due_before: Option<String>,
    pub due_after: Option<String>,
    /// Text the title or description contains (case-insensitive).
    pub q: Option<String>,
}

impl TaskListParams {
    pub fn query(&self) -> ListQuery<'_> {
        ListQuery {
            status: self.status.as_deref(),
            assignee_id: self.assignee_id.as_deref(),
            kind: self.kind.as_deref(),
            priority: self.priority.as_deref(),
            due_before: self.due_before.as_deref(),
            due_after: self.due_after.as_deref(),
            q: self.q.as_deref(),
            sort: self.sort.as_deref(),
        }
    }

    /// Adds every parameter that selects the page to a cache lookup (each as sent: two
    /// spellings of one query are two entries, never one entry for two queries).
    pub fn key_parts(&self, lookup: Lookup, limit: u32) -> Lookup {
        let Self {
            limit: _,
            cursor,
            sort,
            status,
            assignee_id,
            kind,
            priority,
            due_before,
            due_after,
            q,
        } = self;
        [
            cursor,
            sort,
            status,
            assignee_id,
            kind,
            priority,
            due_before,
            due_after,
            q,
        ]
        .into_iter()
        .fold(lookup.part(limit.to_string().as_str()), |l, p| {
            l.part(p.as_deref())
        })
    }

    pub fn page(&self) -> Result<(Option<TaskCursor>, u32), AppError> {
        let page = PageParams {
            limit: self.limit,
            cursor: None,
        };
        let cursor = self
            .cursor
            .as_deref()
            .map(|c| {
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice::<TaskCursor>(&bytes).ok())
                    .ok_or_else(|| AppError::validation("cursor", "is not a valid cursor"))
            })
            .transpose()?;
        Ok((cursor, page.limit()?))
    }
}

pub fn encode_task_cursor(cursor: &TaskCursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).expect("a cursor serialises"))
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
    };
    Ok(Envelope::created(
        tasks::create(&state.cx, &user.actor(), &project_id, input).await?,
    ))
}

#[utoipa::path(get, path = "/v1/projects/{id}/tasks", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id"), TaskListParams),
    responses((status = 200, body = Success<Page<Task>>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_tasks(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(project_id): Path<String>,
    Query(params): Query<TaskListParams>,
) -> ApiResult<Response> {
    let (actor, (cursor, limit)) = (user.actor(), params.page()?);
    let lookup = list_cache::task_list(
        &state.cx,
        &actor,
        &project_id,
        "v1-tasks",
        &[permission::TASKS_READ],
    )
    .await?;
    let lookup = params.key_parts(lookup, limit);
    let (data, source) = state
        .cx
        .cache
        .fetch(&lookup, || async {
            let (items, next) = task_list::list(
                &state.cx,
                &actor,
                &project_id,
                &params.query(),
                cursor,
                limit,
            )
            .await?;
            cached::to_json(&Page {
                items,
                next_cursor: next.as_ref().map(encode_task_cursor),
            })
        })
        .await?;
    Ok(cached::envelope(&data, source))
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

#[utoipa::path(get, path = "/v1/tasks/{id}/comments", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id"), PageParams),
    responses((status = 200, description = "Oldest first, with authors", body = Success<Page<Comment>>), (status = 404, body = ErrorBody)))]
pub async fn list_comments(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(task_id): Path<String>,
    Query(page): Query<PageParams>,
) -> ApiResult<Envelope<Page<Comment>>> {
    let (items, next) = comments::list(
        &state.cx,
        &user.actor(),
        &task_id,
        page.after()?.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(post, path = "/v1/tasks/{id}/comments", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id")),
    request_body = CommentBody,
    responses((status = 201, body = Success<Comment>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_comment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(task_id): Path<String>,
    Json(body): Json<CommentBody>,
) -> ApiResult<Envelope<Comment>> {
    Ok(Envelope::created(
        comments::create(&state.cx, &user.actor(), &task_id, &body.content).await?,
    ))
}

#[utoipa::path(patch, path = "/v1/comments/{id}", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Comment id")),
    request_body = CommentBody,
    responses((status = 200, body = Success<Comment>), (status = 403, description = "Not the author", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn edit_comment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<CommentBody>,
) -> ApiResult<Envelope<Comment>> {
    Ok(Envelope::ok(
        comments::edit(&state.cx, &user.actor(), &id, &body.content).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/comments/{id}", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Comment id")),
    responses((status = 200, body = Success<Deleted>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_comment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Deleted>> {
    comments::delete(&state.cx, &user.actor(), &id).await?;
    Ok(Envelope::ok(Deleted::new(id)))
}

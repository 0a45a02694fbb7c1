//! The seeds' project, task and comment routes, as thin adapters over the project, task and
//! comment services.
//!
//! - Seed 000 (`/api/create-project`, `/api/list-projects`, `/api/create-task`) has a
//!   single-user world: it maps to the caller's personal workspace, made on first use. Its
//!   answers are plain objects (`{success, project}` …) with epoch-millisecond times and
//!   camelCase keys, as the seed returns them.
//! - Seed 002 (`/api/projects…`, `/api/tasks/project/…`, `/api/comments/task/…`) uses
//!   workspaces as the tenant boundary and answers `{success, message?, data}`. Users are named
//!   by email.
//!
//! Errors keep our error envelope. The lists the seeds return whole are read page by page and
//! capped at [`SEED_LIST_CAP`] items.

use axum::Json as RawJson;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Success;
use crate::app::AppState;
use crate::clock::{parse_time, to_rfc3339};
use crate::domain::FieldError;
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::http::auth::CurrentUser;
use crate::http::cached;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path, nullable};
use crate::http::pagination::MAX_LIMIT;
use crate::services::Ctx;
use crate::services::access::Actor;
use crate::services::attachments;
use crate::services::comments::{self, Author, Comment};
use crate::services::list_cache;
use crate::services::members::UserRef;
use crate::services::projects::{self, Project, ProjectInput};
use crate::services::task_list::{self, ListQuery};
use crate::services::tasks::{self, Task, TaskInput};
use crate::services::workspaces;

/// The most items a whole-list seed route returns.
pub const SEED_LIST_CAP: usize = 1000;
/// Comments in one tasks-with-comments answer, across all its tasks (bounds its memory).
const COMMENTS_PER_RESPONSE: usize = 5_000;

pub fn routes() -> OpenApiRouter<AppState> {
    // Its body may carry a base64 attachment.
    let create_task = OpenApiRouter::new()
        .routes(routes!(seed_create_task))
        .layer(axum::extract::DefaultBodyLimit::max(
            super::attachments::SEED_CREATE_TASK_BODY,
        ));
    OpenApiRouter::new()
        .routes(routes!(seed_create_project))
        .routes(routes!(seed_list_projects))
        .merge(create_task)
        .routes(routes!(list_workspace_projects))
        .routes(routes!(create_workspace_project))
        .routes(routes!(update_workspace_project))
        .routes(routes!(add_workspace_project_member))
        .routes(routes!(list_project_tasks))
        .routes(routes!(list_task_comments))
}

// ---- seed 000 ----

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedCreateProject {
    /// At least 3 characters.
    pub name: Option<String>,
    pub description: Option<String>,
}

/// A created project as seed 000 answers it; `created_at` is epoch milliseconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeedProject {
    pub id: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedProjectCreated {
    pub success: bool,
    pub project: SeedProject,
}

/// A project row as seed 000 lists it; times are epoch milliseconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeedProjectRow {
    pub id: String,
    /// Who created the project (`null` if their account was deleted).
    pub user_id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedProjectList {
    pub success: bool,
    pub projects: Vec<SeedProjectRow>,
    /// Whether the list came from the cache (also in the `X-Cache` header).
    pub from_cache: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedCreateTask {
    #[serde(rename = "projectId")]
    pub project_id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// A project member's user id.
    #[serde(rename = "assignedTo")]
    pub assigned_to: Option<String>,
    #[serde(rename = "dueDate")]
    #[schema(schema_with = due_date_schema)]
    pub due_date: Option<Value>,
    /// A file to attach (at most 10 MiB, and at most `KANRI_MAX_UPLOAD_BYTES`).
    pub attachment: Option<SeedAttachment>,
}

/// The seed's inline file. Attached only when both `file_base64` and `filename` are given.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedAttachment {
    /// Standard base64, optionally as a `data:…;base64,` URL.
    pub file_base64: Option<String>,
    pub filename: Option<String>,
    /// Ignored: the type is sniffed from the bytes.
    pub content_type: Option<String>,
}

/// `dueDate` is a number or a string.
fn due_date_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([
            Type::Integer,
            Type::String,
            Type::Null,
        ]))
        .description(Some(
            "Epoch milliseconds, an RFC 3339 time or a `YYYY-MM-DD` date.",
        ))
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedTask {
    pub id: String,
    #[serde(rename = "projectId")]
    pub project_id: String,
    pub title: String,
    /// Lower-case, as the seed shows it (`todo`).
    pub status: String,
    /// The download link of the task's first attachment (needs a session), or `null`.
    #[serde(rename = "attachmentUrl")]
    pub attachment_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedTaskCreated {
    pub success: bool,
    pub task: SeedTask,
}

/// Epoch milliseconds of a time the services show as RFC 3339.
fn epoch_ms(field: &str, time: &str) -> AppResult<i64> {
    parse_time(field, time)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("unparsable {field} {time:?}")))
}

/// The seed's `dueDate`: epoch milliseconds or a time/date string, as the RFC 3339 text the
/// task service reads.
fn due_date(value: Option<&Value>) -> AppResult<Option<String>> {
    let invalid = || {
        AppError::from(FieldError::new(
            "dueDate",
            "must be epoch milliseconds, an RFC 3339 time or a YYYY-MM-DD date",
        ))
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let ms = n.as_i64().ok_or_else(invalid)?;
            chrono::DateTime::from_timestamp_millis(ms).ok_or_else(invalid)?;
            Ok(Some(to_rfc3339(ms)))
        }
        Some(Value::String(s)) => {
            let ms = parse_time("dueDate", s)?;
            Ok(Some(to_rfc3339(ms)))
        }
        Some(_) => Err(invalid()),
    }
}

#[utoipa::path(post, path = "/api/create-project", tag = "seed",
    security(("session" = [])),
    request_body = SeedCreateProject,
    responses(
        (status = 200, description = "Created in the caller's personal workspace", body = SeedProjectCreated),
        (status = 422, description = "Name missing or shorter than 3 characters", body = ErrorBody),
    ))]
pub async fn seed_create_project(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<SeedCreateProject>,
) -> ApiResult<RawJson<SeedProjectCreated>> {
    let actor = user.actor();
    let ws = workspaces::personal(&state.cx, &actor, &user.0.user.name).await?;
    let input = ProjectInput {
        name: body.name.as_deref(),
        description: body.description.as_deref().map(Some),
        min_name_chars: 3,
        ..ProjectInput::default()
    };
    let project = projects::create(&state.cx, &actor, &ws.id, input, &[]).await?;
    Ok(RawJson(SeedProjectCreated {
        success: true,
        project: SeedProject {
            created_at: epoch_ms("created_at", &project.created_at)?,
            id: project.id,
            user_id: actor.user_id,
            name: project.name,
            description: project.description,
        },
    }))
}

#[utoipa::path(get, path = "/api/list-projects", tag = "seed",
    security(("session" = [])),
    responses((status = 200, description = "The projects of the caller's personal workspace, most recently updated first (at most 1000)", body = SeedProjectList)))]
pub async fn seed_list_projects(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Response> {
    let actor = user.actor();
    let ws = workspaces::personal(&state.cx, &actor, &user.0.user.name).await?;
    let lookup = list_cache::project_list(&state.cx, &actor, &ws.id, "seed000-projects").await?;
    let (projects, source) = state
        .cx
        .cache
        .fetch(&lookup, || async {
            cached::to_json(&seed_project_rows(&state.cx, &actor, &ws.id).await?)
        })
        .await?;
    // The seed's shape, around the stored list.
    Ok(cached::wrap(
        &[
            br#"{"success":true,"projects":"#,
            &projects,
            if source.is_hit() {
                br#","from_cache":true}"#
            } else {
                br#","from_cache":false}"#
            },
        ],
        source,
    ))
}

/// Seed 000's project list: every project of the workspace, most recently updated first.
async fn seed_project_rows(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
) -> AppResult<Vec<SeedProjectRow>> {
    let mut rows = all_projects(cx, actor, workspace_id)
        .await?
        .into_iter()
        .map(|p| {
            Ok(SeedProjectRow {
                created_at: epoch_ms("created_at", &p.created_at)?,
                updated_at: epoch_ms("updated_at", &p.updated_at)?,
                id: p.id,
                user_id: p.created_by,
                name: p.name,
                description: p.description,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    // Newest change first; ids (UUIDv7) break ties, newest first.
    rows.sort_by(|a, b| (b.updated_at, &b.id).cmp(&(a.updated_at, &a.id)));
    Ok(rows)
}

#[utoipa::path(post, path = "/api/create-task", tag = "seed",
    security(("session" = [])),
    request_body = SeedCreateTask,
    responses(
        (status = 200, description = "Created at the end of the project's board", body = SeedTaskCreated),
        (status = 404, description = "No project the caller may create tasks in", body = ErrorBody),
        (status = 413, description = "The attachment is too large", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn seed_create_task(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<SeedCreateTask>,
) -> Result<RawJson<SeedTaskCreated>, super::attachments::UploadFailure> {
    let due = due_date(body.due_date.as_ref())?;
    // Decoded before the task exists, so a bad or oversized file creates nothing.
    let limit = state
        .config
        .storage
        .max_upload_bytes
        .min(super::attachments::SEED_ATTACHMENT_MAX_BYTES);
    let file = match &body.attachment {
        Some(SeedAttachment {
            file_base64: Some(data),
            filename: Some(name),
            ..
        }) => Some((seed_file(data, limit)?, name.as_str())),
        _ => None,
    };
    let input = TaskInput {
        title: body.title.as_deref(),
        description: body.description.as_deref().map(Some),
        assignee_id: body.assigned_to.as_deref().map(Some),
        due_date: due.as_deref().map(Some),
        ..TaskInput::default()
    };
    // The seed answers "Project not found or access denied" alike: a project the caller may
    // see but not add tasks to is not found here too.
    let task = tasks::create(&state.cx, &user.actor(), &body.project_id, input)
        .await
        .map_err(|e| match e {
            AppError::Forbidden(_) => AppError::NotFound("project"),
            e => e,
        })?;
    let files = super::attachments::files(&state);
    if let Some((bytes, name)) = file {
        let once = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes)]);
        attachments::upload_capped(files, &user.actor(), &task.id, Some(name), once, limit).await?;
    }
    let first = attachments::first_of_task(files, &user.actor(), &task.id).await?;
    Ok(RawJson(SeedTaskCreated {
        success: true,
        task: SeedTask {
            id: task.id,
            project_id: task.project_id,
            title: task.title,
            status: task.status.as_str().to_ascii_lowercase(),
            attachment_url: first.map(|a| a.download_url),
        },
    }))
}

/// The bytes of the seed's `file_base64` (a `data:` URL prefix is allowed), or 413 past
/// `limit`, checked on the encoded length before decoding.
fn seed_file(data: &str, limit: u64) -> Result<bytes::Bytes, super::attachments::UploadFailure> {
    use base64::Engine;
    let data = match data.split_once(";base64,") {
        Some((prefix, rest)) if prefix.starts_with("data:") => rest,
        _ => data,
    };
    let data: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if data.len() as u64 / 4 * 3 > limit + 3 {
        return Err(super::attachments::UploadFailure::TooLarge(limit));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|_| {
            AppError::from(FieldError::new(
                "attachment.file_base64",
                "is not valid base64",
            ))
        })?;
    if bytes.len() as u64 > limit {
        return Err(super::attachments::UploadFailure::TooLarge(limit));
    }
    Ok(bytes.into())
}

// ---- seed 002 ----

/// Seed 002's answer to a change: `{success, message, data}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Said<T: ToSchema> {
    pub success: bool,
    pub message: String,
    pub data: T,
}

fn said<T: ToSchema + Serialize>(status: StatusCode, message: &str, data: T) -> Response {
    (
        status,
        RawJson(Said {
            success: true,
            message: message.into(),
            data,
        }),
    )
        .into_response()
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedNewProject {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "workspaceId")]
    pub workspace_id: String,
    /// Email of the team lead (a workspace member); the creator when not given.
    pub team_lead: Option<String>,
    /// Emails of further members (workspace members).
    #[serde(default)]
    pub team_members: Vec<String>,
    /// PLANNING (default), ACTIVE, ON_HOLD, COMPLETED or CANCELLED; IN_PROGRESS means ACTIVE.
    pub status: Option<String>,
    /// LOW, MEDIUM (default) or HIGH.
    pub priority: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`.
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

/// A partial update: fields not sent stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedProjectChanges {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// IN_PROGRESS means ACTIVE.
    pub status: Option<String>,
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub start_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub end_date: Option<Option<String>>,
    /// Email of the new team lead (a workspace member); `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub team_lead: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedProjectMember {
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddedMember {
    #[serde(rename = "userId")]
    pub user_id: String,
}

/// A task with all its comments (each with its author), as seed 002 lists them.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskWithComments {
    #[serde(flatten)]
    pub task: Task,
    pub comments: Vec<Comment>,
}

/// A comment with the seed's `user` field: its author again (`null` for a deleted account).
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentWithUser {
    #[serde(flatten)]
    pub comment: Comment,
    pub user: Option<Author>,
}

/// Seed 002's PATCH example sends the project status `IN_PROGRESS`, which is not one of our
/// project statuses. This adapter, and only this one, reads it (in any case, with `-` or a
/// space for `_`) as `ACTIVE`; every other value goes to the service unchanged.
fn seed_status(status: Option<&str>) -> Option<&str> {
    status.map(|s| {
        if s.trim().to_ascii_uppercase().replace(['-', ' '], "_") == "IN_PROGRESS" {
            "ACTIVE"
        } else {
            s
        }
    })
}

#[utoipa::path(get, path = "/api/projects/workspace/{workspaceId}/projects", tag = "seed",
    security(("session" = [])),
    params(("workspaceId" = String, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "The workspace's projects the caller may see (at most 1000)", body = Success<Vec<Project>>),
        (status = 404, body = ErrorBody),
    ))]
pub async fn list_workspace_projects(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(workspace_id): Path<String>,
) -> ApiResult<Response> {
    let actor = user.actor();
    let lookup =
        list_cache::project_list(&state.cx, &actor, &workspace_id, "seed002-projects").await?;
    let (data, source) = state
        .cx
        .cache
        .fetch(&lookup, || async {
            cached::to_json(&all_projects(&state.cx, &actor, &workspace_id).await?)
        })
        .await?;
    Ok(cached::envelope(&data, source))
}

#[utoipa::path(post, path = "/api/projects", tag = "seed",
    security(("session" = [])),
    request_body = SeedNewProject,
    responses(
        (status = 201, description = "Project created successfully", body = Said<Project>),
        (status = 403, description = "Not an admin of the workspace", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
        (status = 422, description = "Bad field, or a lead or member who is not in the workspace", body = ErrorBody),
    ))]
pub async fn create_workspace_project(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<SeedNewProject>,
) -> ApiResult<Response> {
    let input = ProjectInput {
        name: body.name.as_deref(),
        description: body.description.as_deref().map(Some),
        status: seed_status(body.status.as_deref()),
        priority: body.priority.as_deref(),
        start_date: body.start_date.as_deref().map(Some),
        end_date: body.end_date.as_deref().map(Some),
        team_lead: body
            .team_lead
            .as_deref()
            .map(|email| Some(UserRef::Email(email))),
        archived: None,
        min_name_chars: 1,
    };
    let members: Vec<UserRef<'_>> = body
        .team_members
        .iter()
        .map(|email| UserRef::Email(email))
        .collect();
    let project = projects::create(
        &state.cx,
        &user.actor(),
        &body.workspace_id,
        input,
        &members,
    )
    .await?;
    Ok(said(
        StatusCode::CREATED,
        "Project created successfully",
        project,
    ))
}

#[utoipa::path(patch, path = "/api/projects/{projectId}", tag = "seed",
    security(("session" = [])),
    params(("projectId" = String, Path, description = "Project id")),
    request_body = SeedProjectChanges,
    responses(
        (status = 200, description = "Project updated successfully", body = Said<Project>),
        (status = 403, description = "Neither the team lead nor an admin", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn update_workspace_project(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(project_id): Path<String>,
    Json(body): Json<SeedProjectChanges>,
) -> ApiResult<Response> {
    let input = ProjectInput {
        name: body.name.as_deref(),
        description: body.description.as_ref().map(|d| d.as_deref()),
        status: seed_status(body.status.as_deref()),
        priority: body.priority.as_deref(),
        start_date: body.start_date.as_ref().map(|d| d.as_deref()),
        end_date: body.end_date.as_ref().map(|d| d.as_deref()),
        team_lead: body
            .team_lead
            .as_ref()
            .map(|l| l.as_deref().map(UserRef::Email)),
        archived: None,
        min_name_chars: 1,
    };
    let project = projects::update(&state.cx, &user.actor(), &project_id, input).await?;
    Ok(said(
        StatusCode::OK,
        "Project updated successfully",
        project,
    ))
}

#[utoipa::path(post, path = "/api/projects/{projectId}/add-member", tag = "seed",
    security(("session" = [])),
    params(("projectId" = String, Path, description = "Project id")),
    request_body = SeedProjectMember,
    responses(
        (status = 200, description = "Member added successfully", body = Said<AddedMember>),
        (status = 403, description = "Neither the team lead nor an admin", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already a member", body = ErrorBody),
        (status = 422, description = "No such user in the workspace", body = ErrorBody),
    ))]
pub async fn add_workspace_project_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(project_id): Path<String>,
    Json(body): Json<SeedProjectMember>,
) -> ApiResult<Response> {
    let member = projects::add_member(
        &state.cx,
        &user.actor(),
        &project_id,
        UserRef::Email(&body.email),
    )
    .await?;
    Ok(said(
        StatusCode::OK,
        "Member added successfully",
        AddedMember {
            user_id: member.user_id,
        },
    ))
}

#[utoipa::path(get, path = "/api/tasks/project/{projectId}/tasks", tag = "seed",
    security(("session" = [])),
    params(("projectId" = String, Path, description = "Project id")),
    responses(
        (status = 200, description = "The project's tasks in board order (at most 1000), each with assignee and comments", body = Success<Vec<TaskWithComments>>),
        (status = 404, body = ErrorBody),
    ))]
pub async fn list_project_tasks(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(project_id): Path<String>,
) -> ApiResult<Response> {
    let actor = user.actor();
    let lookup = list_cache::task_list(
        &state.cx,
        &actor,
        &project_id,
        "seed002-tasks",
        &[permission::TASKS_READ, permission::COMMENTS_READ],
    )
    .await?;
    let (data, source) = state
        .cx
        .cache
        .fetch(&lookup, || async {
            cached::to_json(&tasks_with_comments(&state.cx, &actor, &project_id).await?)
        })
        .await?;
    Ok(cached::envelope(&data, source))
}

/// Every task of the project (board order) with its comments, within the response's budgets.
async fn tasks_with_comments(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
) -> AppResult<Vec<TaskWithComments>> {
    let tasks = all_tasks(cx, actor, project_id).await?;
    let mut out = Vec::with_capacity(tasks.len());
    // One response holds at most this many comments in all; past it, tasks carry an empty list
    // (their `comments_count` still says how many there are).
    let mut budget = COMMENTS_PER_RESPONSE;
    for task in tasks {
        let cap = budget.min(SEED_LIST_CAP);
        let comments = match all_comments(cx, actor, &task.id, cap).await {
            Ok(comments) => comments,
            // Deleted since the list was read.
            Err(AppError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        budget -= comments.len();
        out.push(TaskWithComments { task, comments });
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/comments/task/{taskId}/comments", tag = "seed",
    security(("session" = [])),
    params(("taskId" = String, Path, description = "Task id")),
    responses(
        (status = 200, description = "The task's comments, oldest first (at most 1000), each with its author as `user`", body = Success<Vec<CommentWithUser>>),
        (status = 404, body = ErrorBody),
    ))]
pub async fn list_task_comments(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(task_id): Path<String>,
) -> ApiResult<Envelope<Vec<CommentWithUser>>> {
    let comments = all_comments(&state.cx, &user.actor(), &task_id, SEED_LIST_CAP).await?;
    Ok(Envelope::ok(
        comments
            .into_iter()
            .map(|comment| CommentWithUser {
                user: comment.author.clone(),
                comment,
            })
            .collect(),
    ))
}

// ---- whole lists, page by page ----

async fn all_projects(cx: &Ctx, actor: &Actor, workspace_id: &str) -> AppResult<Vec<Project>> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let (items, next) =
            projects::list(cx, actor, workspace_id, after.as_deref(), MAX_LIMIT).await?;
        all.extend(items);
        match next {
            Some(next) if all.len() < SEED_LIST_CAP => after = Some(next),
            _ => break,
        }
    }
    all.truncate(SEED_LIST_CAP);
    Ok(all)
}

async fn all_tasks(cx: &Ctx, actor: &Actor, project_id: &str) -> AppResult<Vec<Task>> {
    let query = ListQuery::default();
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let (items, next) =
            task_list::list(cx, actor, project_id, &query, cursor, MAX_LIMIT).await?;
        all.extend(items);
        match next {
            Some(next) if all.len() < SEED_LIST_CAP => cursor = Some(next),
            _ => break,
        }
    }
    all.truncate(SEED_LIST_CAP);
    Ok(all)
}

async fn all_comments(
    cx: &Ctx,
    actor: &Actor,
    task_id: &str,
    cap: usize,
) -> AppResult<Vec<Comment>> {
    let mut all = Vec::new();
    if cap == 0 {
        return Ok(all);
    }
    let mut after: Option<String> = None;
    loop {
        let (items, next) = comments::list(cx, actor, task_id, after.as_deref(), MAX_LIMIT).await?;
        all.extend(items);
        match next {
            Some(next) if all.len() < cap => after = Some(next),
            _ => break,
        }
    }
    all.truncate(cap);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_progress_means_active_in_any_case() {
        for s in ["IN_PROGRESS", "in_progress", "In-Progress", " in progress "] {
            assert_eq!(seed_status(Some(s)), Some("ACTIVE"), "{s}");
        }
        assert_eq!(seed_status(Some("on_hold")), Some("on_hold"));
        assert_eq!(seed_status(None), None);
    }

    #[test]
    fn due_dates_take_numbers_and_strings() {
        let ms = 1_769_878_800_000_i64;
        assert_eq!(
            due_date(Some(&Value::from(ms))).unwrap().as_deref(),
            Some("2026-01-31T17:00:00.000Z")
        );
        assert_eq!(
            due_date(Some(&Value::from("2026-01-31")))
                .unwrap()
                .as_deref(),
            Some("2026-01-31T00:00:00.000Z")
        );
        assert_eq!(due_date(Some(&Value::Null)).unwrap(), None);
        assert_eq!(due_date(None).unwrap(), None);
        for bad in [Value::from(1.5), Value::from(true), Value::from("soon")] {
            assert!(due_date(Some(&bad)).is_err(), "{bad}");
        }
    }
}

//! Time tracking: a task's entries (`/v1/tasks/{id}/time-entries`), its timer
//! (`/v1/tasks/{id}/timer/start|stop`), deleting an entry, and a project's totals.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::api::{Deleted, Success};
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path};
use crate::services::time_entries::{self, LogInput, ProjectTime, TaskTime, TimeEntry};

#[derive(Debug, Deserialize, ToSchema)]
pub struct LogTime {
    /// 1–604800 (a week).
    pub duration_seconds: i64,
    /// When the work started (RFC 3339; default: `duration_seconds` ago).
    pub started_at: Option<String>,
    pub note: Option<String>,
}

#[utoipa::path(get, path = "/v1/tasks/{id}/time-entries", tag = "time",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, description = "The total, the estimate and the newest 200 entries", body = Success<TaskTime>), (status = 404, body = ErrorBody)))]
pub async fn list_time_entries(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<TaskTime>> {
    Ok(Envelope::ok(
        time_entries::of_task(&state.cx, &user.actor(), &id).await?,
    ))
}

#[utoipa::path(post, path = "/v1/tasks/{id}/time-entries", tag = "time",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id")),
    request_body = LogTime,
    responses((status = 201, body = Success<TimeEntry>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn log_time(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<LogTime>,
) -> ApiResult<Envelope<TimeEntry>> {
    let input = LogInput {
        duration_seconds: body.duration_seconds,
        started_at: body.started_at.as_deref(),
        note: body.note.as_deref(),
    };
    Ok(Envelope::created(
        time_entries::log(&state.cx, &user.actor(), &id, input).await?,
    ))
}

#[utoipa::path(post, path = "/v1/tasks/{id}/timer/start", tag = "time",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses((status = 201, description = "The running entry", body = Success<TimeEntry>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`timer_running`: the caller has a timer running", body = ErrorBody)))]
pub async fn start_timer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<TimeEntry>> {
    Ok(Envelope::created(
        time_entries::start(&state.cx, &user.actor(), &id).await?,
    ))
}

#[utoipa::path(post, path = "/v1/tasks/{id}/timer/stop", tag = "time",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, description = "The finished entry", body = Success<TimeEntry>), (status = 403, body = ErrorBody), (status = 404, description = "No timer of the caller's runs on this task", body = ErrorBody)))]
pub async fn stop_timer(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<TimeEntry>> {
    Ok(Envelope::ok(
        time_entries::stop(&state.cx, &user.actor(), &id).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/time-entries/{id}", tag = "time",
    security(("session" = [])),
    params(("id" = String, Path, description = "Time entry id")),
    responses((status = 200, body = Success<Deleted>), (status = 403, description = "Another member's entry", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_time_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Deleted>> {
    time_entries::delete(&state.cx, &user.actor(), &id).await?;
    Ok(Envelope::ok(Deleted::new(id)))
}

#[utoipa::path(get, path = "/v1/projects/{id}/time", tag = "time",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id")),
    responses((status = 200, description = "Totals by member and by task", body = Success<ProjectTime>), (status = 404, body = ErrorBody)))]
pub async fn project_time(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<ProjectTime>> {
    Ok(Envelope::ok(
        time_entries::of_project(&state.cx, &user.actor(), &id).await?,
    ))
}

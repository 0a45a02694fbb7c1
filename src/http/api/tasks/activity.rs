//! A task's activity: `GET /v1/tasks/{id}/activity`, the events of the task, its comments and
//! its attachments, oldest first (what the console's task panel shows).

use axum::extract::State;

use crate::app::AppState;
use crate::http::api::projects::{ActivityParams, activity_page};
use crate::http::api::{Page, Success};
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Path, Query};
use crate::services::activity::ActivityEvent;
use crate::services::tasks;

#[utoipa::path(get, path = "/v1/tasks/{id}/activity", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id"), ActivityParams),
    responses((status = 200, description = "Events oldest first", body = Success<Page<ActivityEvent>>), (status = 404, body = ErrorBody)))]
pub async fn list_task_activity(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(params): Query<ActivityParams>,
) -> ApiResult<Envelope<Page<ActivityEvent>>> {
    let (after, limit) = params.page()?;
    let events = tasks::activity(&state.cx, &user.actor(), &id, after, limit).await?;
    Ok(activity_page(events))
}

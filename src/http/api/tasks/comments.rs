//! A task's comments: list and write under `/v1/tasks/{id}/comments`, edit and delete by id.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::api::{Deleted, Page, Success};
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path, Query};
use crate::http::pagination::PageParams;
use crate::services::comments::{self, Comment};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CommentBody {
    pub content: String,
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

//! An attachment's record: a task's list, one attachment's metadata, delete, and an expiring
//! signed link to the file.

use axum::extract::State;

use super::files;
use crate::app::AppState;
use crate::http::api::{Deleted, Page, Success};
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Path, Query};
use crate::http::pagination::PageParams;
use crate::services::attachments::{self, Attachment, SignedUrl};

#[utoipa::path(get, path = "/v1/tasks/{id}/attachments", tag = "attachments",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id"), PageParams),
    responses((status = 200, description = "Oldest first", body = Success<Page<Attachment>>), (status = 404, body = ErrorBody)))]
pub async fn list_attachments(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(task_id): Path<String>,
    Query(page): Query<PageParams>,
) -> ApiResult<Envelope<Page<Attachment>>> {
    let (items, next) = attachments::list(
        files(&state),
        &user.actor(),
        &task_id,
        page.after()?.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(get, path = "/v1/attachments/{id}", tag = "attachments",
    security(("session" = [])),
    params(("id" = String, Path, description = "Attachment id")),
    responses((status = 200, body = Success<Attachment>), (status = 404, body = ErrorBody)))]
pub async fn get_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Attachment>> {
    Ok(Envelope::ok(
        attachments::get(files(&state), &user.actor(), &id).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/attachments/{id}", tag = "attachments",
    security(("session" = [])),
    params(("id" = String, Path, description = "Attachment id")),
    responses((status = 200, body = Success<Deleted>), (status = 403, description = "Neither the uploader nor a workspace admin", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Deleted>> {
    attachments::delete(files(&state), &user.actor(), &id).await?;
    Ok(Envelope::ok(Deleted::new(id)))
}

#[utoipa::path(post, path = "/v1/attachments/{id}/url", tag = "attachments",
    security(("session" = [])),
    params(("id" = String, Path, description = "Attachment id")),
    responses((status = 200, description = "A link that works without a session until `expires_at` (KANRI_SIGNED_URL_TTL_SECS)", body = Success<SignedUrl>),
        (status = 404, body = ErrorBody), (status = 503, description = "No signing key configured", body = ErrorBody)))]
pub async fn create_signed_url(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<SignedUrl>> {
    Ok(Envelope::ok(
        attachments::signed_url(files(&state), &user.actor(), &id).await?,
    ))
}

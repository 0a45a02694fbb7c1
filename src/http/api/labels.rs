//! Workspace labels: `GET/POST /v1/workspaces/{id}/labels`, `PATCH/DELETE /v1/labels/{id}`.
//! Tasks take them through `label_ids`, and lists and search filter by `label_id`.

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
use crate::http::extract::{Json, Path};
use crate::services::labels::{self, Label};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_labels, create_label))
        .routes(routes!(update_label, delete_label))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewLabel {
    /// 1–50 characters, unique in the workspace ignoring case.
    pub name: String,
    /// `#rrggbb` (default a neutral grey).
    pub color: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LabelChanges {
    pub name: Option<String>,
    pub color: Option<String>,
}

#[utoipa::path(get, path = "/v1/workspaces/{id}/labels", tag = "labels",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    responses((status = 200, description = "By name", body = Success<Vec<Label>>), (status = 404, body = ErrorBody)))]
pub async fn list_labels(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(workspace_id): Path<String>,
) -> ApiResult<Envelope<Vec<Label>>> {
    Ok(Envelope::ok(
        labels::list(&state.cx, &user.actor(), &workspace_id).await?,
    ))
}

#[utoipa::path(post, path = "/v1/workspaces/{id}/labels", tag = "labels",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    request_body = NewLabel,
    responses((status = 201, body = Success<Label>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`label_exists` or `too_many_labels`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_label(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(workspace_id): Path<String>,
    Json(body): Json<NewLabel>,
) -> ApiResult<Envelope<Label>> {
    let label = labels::create(
        &state.cx,
        &user.actor(),
        &workspace_id,
        &body.name,
        body.color.as_deref(),
    )
    .await?;
    Ok(Envelope::created(label))
}

#[utoipa::path(patch, path = "/v1/labels/{id}", tag = "labels",
    security(("session" = [])),
    params(("id" = String, Path, description = "Label id")),
    request_body = LabelChanges,
    responses((status = 200, body = Success<Label>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`label_exists`", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_label(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<LabelChanges>,
) -> ApiResult<Envelope<Label>> {
    let label = labels::update(
        &state.cx,
        &user.actor(),
        &id,
        body.name.as_deref(),
        body.color.as_deref(),
    )
    .await?;
    Ok(Envelope::ok(label))
}

#[utoipa::path(delete, path = "/v1/labels/{id}", tag = "labels",
    security(("session" = [])),
    params(("id" = String, Path, description = "Label id")),
    responses((status = 200, description = "Deleted; its tasks lose it", body = Success<Deleted>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_label(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Deleted>> {
    labels::delete(&state.cx, &user.actor(), &id).await?;
    Ok(Envelope::ok(Deleted::new(id)))
}

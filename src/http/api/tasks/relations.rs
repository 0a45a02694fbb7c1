//! A task's relations to other tasks: `GET/POST /v1/tasks/{id}/relations`,
//! `DELETE /v1/tasks/{id}/relations/{relation_id}`.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::http::api::{Deleted, Success};
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path};
use crate::services::tasks::relations::{self, Relation};

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRelation {
    /// The other task (same workspace).
    pub task_id: String,
    /// How this task relates to it.
    #[schema(value_type = crate::domain::enums::RelationKind)]
    pub kind: String,
}

#[utoipa::path(get, path = "/v1/tasks/{id}/relations", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, description = "Oldest first, read from this task", body = Success<Vec<Relation>>), (status = 404, body = ErrorBody)))]
pub async fn list_relations(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Vec<Relation>>> {
    Ok(Envelope::ok(
        relations::list(&state.cx, &user.actor(), &id).await?,
    ))
}

#[utoipa::path(post, path = "/v1/tasks/{id}/relations", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id")),
    request_body = NewRelation,
    responses((status = 201, body = Success<Relation>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`relation_exists`", body = ErrorBody),
        (status = 422, description = "Unknown kind, the task itself, another workspace, or a blocking cycle", body = ErrorBody)))]
pub async fn add_relation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<NewRelation>,
) -> ApiResult<Envelope<Relation>> {
    Ok(Envelope::created(
        relations::add(&state.cx, &user.actor(), &id, &body.task_id, &body.kind).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/tasks/{id}/relations/{relation_id}", tag = "tasks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id"), ("relation_id" = String, Path, description = "Relation id")),
    responses((status = 200, body = Success<Deleted>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_relation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, relation_id)): Path<(String, String)>,
) -> ApiResult<Envelope<Deleted>> {
    relations::remove(&state.cx, &user.actor(), &id, &relation_id).await?;
    Ok(Envelope::ok(Deleted::new(relation_id)))
}

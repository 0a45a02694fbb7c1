//! A tenant's user administration, for server-side callers with the secret key.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Deleted, Page, Success};
use crate::app::AppState;
use crate::http::auth::SecretKey;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path, Query};
use crate::http::pagination::PageParams;
use crate::services::accounts::{self, NewUserInput, User};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, delete_user))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// Optional: a user without a password cannot sign in with one until it is set. 8 to
    /// 256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub password: Option<String>,
}

#[utoipa::path(get, path = "/v1/admin/users", tag = "admin",
    security(("secret_key" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of the tenant's users", body = Success<Page<User>>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Query(params): Query<PageParams>,
) -> ApiResult<Envelope<Page<User>>> {
    let (items, next) = accounts::list_users(
        &state.cx,
        &key.tenant_id,
        params.after()?.as_deref(),
        params.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(post, path = "/v1/admin/users", tag = "admin",
    security(("secret_key" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "User created", body = Success<User>),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Json(body): Json<CreateUserRequest>,
) -> ApiResult<Envelope<User>> {
    let input = NewUserInput {
        email: &body.email,
        name: &body.name,
        password: body.password.as_deref(),
    };
    let user = accounts::create_user(&state.cx, &state.passwords, &key.tenant_id, input).await?;
    Ok(Envelope::created(user))
}

#[utoipa::path(get, path = "/v1/admin/users/{id}", tag = "admin",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = Success<User>), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Envelope<User>> {
    Ok(Envelope::ok(
        accounts::get_user(&state.cx, &key.tenant_id, &id).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/admin/users/{id}", tag = "admin",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = Success<Deleted>), (status = 404, body = ErrorBody)))]
pub async fn delete_user(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Deleted>> {
    accounts::delete_user(&state.cx, &key.tenant_id, &id).await?;
    Ok(Envelope::ok(Deleted::new(id)))
}

//! Custom roles, `/v1/roles`.
//!
//! A custom role belongs to the tenant and applies in every one of its workspaces, so writing
//! one is tenant-wide policy, not one workspace's business: no workspace owner may change what
//! a role means in the other workspaces. Creating, changing and deleting roles therefore needs
//! the tenant's secret key (the product's server side). Reading them needs only to be a
//! signed-in user of the tenant (or the secret key), so members can see what a role grants.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Deleted, Page, Success};
use crate::app::AppState;
use crate::http::auth::{CurrentUser, SecretKey};
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query};
use crate::http::pagination::PageParams;
use crate::services::roles::{self, Role, RoleUpdate};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_roles, create_role))
        .routes(routes!(get_role, update_role, delete_role))
}

/// A reader of the tenant's roles: a signed-in user, or a caller with the secret key.
pub struct RoleReader {
    pub tenant_id: String,
}

impl FromRequestParts<AppState> for RoleReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match CurrentUser::from_request_parts(parts, state).await {
            Ok(user) => Ok(Self {
                tenant_id: user.0.tenant_id,
            }),
            // No session: a secret key will do; otherwise the session's failure stands.
            Err(session_error) => match SecretKey::from_request_parts(parts, state).await {
                Ok(SecretKey(key)) => Ok(Self {
                    tenant_id: key.tenant_id,
                }),
                Err(_) => Err(session_error),
            },
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRole {
    /// Unique in the tenant; 1–100 characters.
    pub name: String,
    /// 1–64 patterns: `*`, `resource:*` or `resource:action` (e.g. `tasks:read`).
    pub permissions: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateRole {
    pub name: Option<String>,
    pub permissions: Option<Vec<String>>,
}

#[utoipa::path(get, path = "/v1/roles", tag = "roles",
    security(("session" = []), ("secret_key" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "The tenant's custom roles", body = Success<Page<Role>>),
        (status = 401, body = ErrorBody),
    ))]
pub async fn list_roles(
    State(state): State<AppState>,
    reader: RoleReader,
    Query(page): Query<PageParams>,
) -> ApiResult<Envelope<Page<Role>>> {
    let (items, next) = roles::list(
        &state.cx,
        &reader.tenant_id,
        page.after()?.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(post, path = "/v1/roles", tag = "roles",
    security(("secret_key" = [])),
    request_body = CreateRole,
    responses(
        (status = 201, body = Success<Role>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a secret key", body = ErrorBody),
        (status = 409, description = "Name taken (`role_exists`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create_role(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Json(body): Json<CreateRole>,
) -> ApiResult<Envelope<Role>> {
    let role = roles::create(&state.cx, &key.tenant_id, &body.name, &body.permissions).await?;
    Ok(Envelope::created(role))
}

#[utoipa::path(get, path = "/v1/roles/{id}", tag = "roles",
    security(("session" = []), ("secret_key" = [])),
    params(("id" = String, Path, description = "Role id")),
    responses(
        (status = 200, body = Success<Role>),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn get_role(
    State(state): State<AppState>,
    reader: RoleReader,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Role>> {
    Ok(Envelope::ok(
        roles::get(&state.cx, &reader.tenant_id, &id).await?,
    ))
}

#[utoipa::path(patch, path = "/v1/roles/{id}", tag = "roles",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "Role id")),
    request_body = UpdateRole,
    responses(
        (status = 200, body = Success<Role>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Name taken (`role_exists`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn update_role(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path(id): Path<String>,
    Json(body): Json<UpdateRole>,
) -> ApiResult<Envelope<Role>> {
    let input = RoleUpdate {
        name: body.name.as_deref(),
        permissions: body.permissions.as_deref(),
    };
    Ok(Envelope::ok(
        roles::update(&state.cx, &key.tenant_id, &id, input).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/roles/{id}", tag = "roles",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "Role id")),
    responses(
        (status = 200, description = "Deleted; its members fall back to their built-in role", body = Success<Deleted>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn delete_role(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Deleted>> {
    roles::delete(&state.cx, &key.tenant_id, &id).await?;
    Ok(Envelope::ok(Deleted::new(id)))
}

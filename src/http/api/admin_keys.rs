//! A tenant's API keys, for its operator with the secret key: list (with last use), create (the
//! key shown once) and revoke.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Deleted, Page, Success};
use crate::app::AppState;
use crate::domain::KeyKind;
use crate::http::auth::SecretKey;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path, Query};
use crate::http::idempotency::NoStore;
use crate::http::pagination::PageParams;
use crate::services::tenants::{self, KeyInfo};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    pub kind: KeyKind,
    /// What the key is for (shown in listings), 1–100 characters.
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: String,
}

/// A new key: `api_key` is the only time the key itself is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    pub key: KeyInfo,
    pub api_key: String,
}

#[utoipa::path(get, path = "/v1/admin/keys", tag = "admin",
    security(("secret_key" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "The tenant's keys, oldest first, revoked ones included; never a key itself", body = Success<Page<KeyInfo>>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn list_keys(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Query(params): Query<PageParams>,
) -> ApiResult<Envelope<Page<KeyInfo>>> {
    let (items, next) = tenants::list_keys_page(
        &state.cx,
        &key.tenant_id,
        params.after()?.as_deref(),
        params.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(post, path = "/v1/admin/keys", tag = "admin",
    security(("secret_key" = [])),
    request_body = CreateKeyRequest,
    responses(
        (status = 201, description = "Created; `api_key` is shown this once", body = Success<CreatedKey>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create_key(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Json(body): Json<CreateKeyRequest>,
) -> ApiResult<(NoStore, Envelope<CreatedKey>)> {
    let (info, api_key) =
        tenants::create_key(&state.cx, &key.tenant_id, body.kind, &body.name).await?;
    Ok((
        NoStore,
        Envelope::created(CreatedKey {
            key: info,
            api_key: api_key.expose().to_string(),
        }),
    ))
}

#[utoipa::path(delete, path = "/v1/admin/keys/{id}", tag = "admin",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "Key id")),
    responses(
        (status = 200, description = "Revoked: requests with it and admin sessions made from it stop working at once", body = Success<Deleted>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "No unrevoked key of this tenant has this id", body = ErrorBody),
        (status = 409, description = "`last_secret_key`: the tenant's only unrevoked secret key", body = ErrorBody),
    ))]
pub async fn revoke_key(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Deleted>> {
    tenants::revoke_own_key(&state.cx, &key.tenant_id, &id).await?;
    Ok(Envelope::ok(Deleted::new(id)))
}

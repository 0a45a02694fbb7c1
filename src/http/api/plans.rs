//! Plans, `/v1/plans`: the tenant's catalogue, managed by its server with the secret key
//! (plans decide what every workspace may do, so no workspace member may write them).

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Deleted, Page, Success};
use crate::app::AppState;
use crate::domain::billing::Limits;
use crate::http::auth::SecretKey;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path, Query, nullable};
use crate::http::pagination::PageParams;
use crate::services::plans::{self, Plan, PlanInput};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plans, create_plan))
        .routes(routes!(get_plan, update_plan, delete_plan))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePlan {
    /// Unique in the tenant: 1–64 of `a-z 0-9 _ - .`.
    pub key: Option<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub features: Vec<String>,
    /// A limit left out (or `null`) is unlimited.
    #[serde(default)]
    pub limits: Limits,
    pub stripe_price_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdatePlan {
    pub key: Option<String>,
    pub name: Option<String>,
    pub features: Option<Vec<String>>,
    /// Replaces every limit: one left out is unlimited.
    pub limits: Option<Limits>,
    /// `null` removes the price.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub stripe_price_id: Option<Option<String>>,
}

#[utoipa::path(get, path = "/v1/plans", tag = "billing",
    security(("secret_key" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "The tenant's plans", body = Success<Page<Plan>>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn list_plans(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Query(page): Query<PageParams>,
) -> ApiResult<Envelope<Page<Plan>>> {
    let (items, next) = plans::list(
        &state.cx,
        &key.tenant_id,
        page.after()?.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(post, path = "/v1/plans", tag = "billing",
    security(("secret_key" = [])),
    request_body = CreatePlan,
    responses(
        (status = 201, body = Success<Plan>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a secret key", body = ErrorBody),
        (status = 409, description = "Key or Stripe price taken (`plan_exists`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create_plan(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Json(body): Json<CreatePlan>,
) -> ApiResult<Envelope<Plan>> {
    let input = PlanInput {
        key: body.key.as_deref(),
        name: body.name.as_deref(),
        features: Some(&body.features),
        limits: Some(body.limits),
        stripe_price_id: body.stripe_price_id.as_deref().map(Some),
    };
    let plan = plans::create(&state.cx, &key.tenant_id, input).await?;
    Ok(Envelope::created(plan))
}

#[utoipa::path(get, path = "/v1/plans/{id}", tag = "billing",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "Plan id")),
    responses(
        (status = 200, body = Success<Plan>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn get_plan(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Plan>> {
    Ok(Envelope::ok(
        plans::get(&state.cx, &key.tenant_id, &id).await?,
    ))
}

#[utoipa::path(patch, path = "/v1/plans/{id}", tag = "billing",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "Plan id")),
    request_body = UpdatePlan,
    responses(
        (status = 200, body = Success<Plan>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Key or Stripe price taken (`plan_exists`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn update_plan(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path(id): Path<String>,
    Json(body): Json<UpdatePlan>,
) -> ApiResult<Envelope<Plan>> {
    let input = PlanInput {
        key: body.key.as_deref(),
        name: body.name.as_deref(),
        features: body.features.as_deref(),
        limits: body.limits,
        stripe_price_id: body.stripe_price_id.as_ref().map(|p| p.as_deref()),
    };
    Ok(Envelope::ok(
        plans::update(&state.cx, &key.tenant_id, &id, input).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/plans/{id}", tag = "billing",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "Plan id")),
    responses(
        (status = 200, description = "Deleted", body = Success<Deleted>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Workspaces are subscribed to it, or it is the default plan (`plan_in_use`)", body = ErrorBody),
    ))]
pub async fn delete_plan(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Deleted>> {
    plans::delete(&state.cx, &key.tenant_id, &id).await?;
    Ok(Envelope::ok(Deleted::new(id)))
}

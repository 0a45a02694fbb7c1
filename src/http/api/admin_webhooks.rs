//! Every workspace's outgoing webhooks, for the tenant's operator with the secret key: the
//! endpoints, their delivery log, and a manual retry. (Members manage their workspace's under
//! `/v1/workspaces/{id}/webhooks`.)

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Page, Success};
use crate::app::AppState;
use crate::http::auth::SecretKey;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Path, Query};
use crate::http::pagination::PageParams;
use crate::services::webhooks::{self, Delivery, Endpoint, Manager};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_all_webhooks))
        .routes(routes!(list_deliveries_as_operator))
        .routes(routes!(retry_delivery_as_operator))
}

#[utoipa::path(get, path = "/v1/admin/webhooks", tag = "admin",
    security(("secret_key" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "Every endpoint in the tenant, oldest first", body = Success<Page<Endpoint>>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn list_all_webhooks(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Query(params): Query<PageParams>,
) -> ApiResult<Envelope<Page<Endpoint>>> {
    let (items, next) = webhooks::list_all(
        &state.cx,
        &key.tenant_id,
        params.after()?.as_deref(),
        params.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(get, path = "/v1/admin/webhooks/{id}/deliveries", tag = "admin",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "Webhook endpoint id"), PageParams),
    responses(
        (status = 200, description = "Newest first, each with its attempts", body = Success<Page<Delivery>>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn list_deliveries_as_operator(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult<Envelope<Page<Delivery>>> {
    let (items, next) = webhooks::list_deliveries(
        &state.cx,
        Manager::Operator {
            tenant_id: &key.tenant_id,
        },
        &id,
        params.after()?.as_deref(),
        params.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "admin",
    security(("secret_key" = [])),
    params(
        ("id" = String, Path, description = "Webhook endpoint id"),
        ("delivery_id" = String, Path, description = "Delivery id"),
    ),
    responses(
        (status = 200, description = "Queued to be sent again now, under the same `webhook-id`", body = Success<Delivery>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`webhook_disabled`", body = ErrorBody),
    ))]
pub async fn retry_delivery_as_operator(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<Envelope<Delivery>> {
    let operator = Manager::Operator {
        tenant_id: &key.tenant_id,
    };
    Ok(Envelope::ok(
        webhooks::retry_delivery(&state.cx, operator, &id, &delivery_id).await?,
    ))
}

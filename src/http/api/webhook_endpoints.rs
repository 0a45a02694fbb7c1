//! Outgoing webhooks: a workspace's endpoints, their secret rotation, delivery log, manual
//! retries and test messages. (`webhooks.rs` is the incoming identity-provider webhook.)

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Deleted, Page, Success};
use crate::app::AppState;
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path, Query};
use crate::http::idempotency::NoStore;
use crate::http::pagination::PageParams;
use crate::services::webhooks::{
    self, Delivery, Endpoint, EndpointUpdate, EndpointWithSecret, Manager, NewEndpoint,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_webhook_secret))
        .routes(routes!(list_webhook_deliveries))
        .routes(routes!(retry_webhook_delivery))
        .routes(routes!(test_webhook))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWebhook {
    /// http(s), without credentials, at most 2048 characters. An IP address in a blocked range
    /// (loopback, private, link-local, …) is refused unless `KANRI_WEBHOOK_ALLOWED_CIDRS`
    /// allows it.
    pub url: String,
    /// Event patterns: an event kind (`task.created`), a family (`task.*`) or `*`.
    pub events: Vec<String>,
    pub description: Option<String>,
    /// True when not given.
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateWebhook {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    /// Re-enabling restarts the 5-day failure clock.
    pub enabled: Option<bool>,
}

#[utoipa::path(post, path = "/v1/workspaces/{id}/webhooks", tag = "webhooks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Created; `secret` is shown this once", body = Success<EndpointWithSecret>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, description = "No signing key to encrypt secrets with", body = ErrorBody),
    ))]
pub async fn create_webhook(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<CreateWebhook>,
) -> ApiResult<(NoStore, Envelope<EndpointWithSecret>)> {
    let input = NewEndpoint {
        url: &body.url,
        events: &body.events,
        description: body.description.as_deref(),
        enabled: body.enabled,
    };
    let created = webhooks::create(&state.cx, &state.webhooks, &user.actor(), &id, input).await?;
    // The secret is shown this once: never kept for an Idempotency-Key replay.
    Ok((NoStore, Envelope::created(created)))
}

#[utoipa::path(get, path = "/v1/workspaces/{id}/webhooks", tag = "webhooks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id"), PageParams),
    responses(
        (status = 200, body = Success<Page<Endpoint>>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
) -> ApiResult<Envelope<Page<Endpoint>>> {
    let (items, next) = webhooks::list(
        &state.cx,
        &user.actor(),
        &id,
        page.after()?.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Webhook endpoint id")),
    responses(
        (status = 200, body = Success<Endpoint>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn get_webhook(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Endpoint>> {
    Ok(Envelope::ok(
        webhooks::get(&state.cx, &user.actor(), &id).await?,
    ))
}

#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Webhook endpoint id")),
    request_body = UpdateWebhook,
    responses(
        (status = 200, body = Success<Endpoint>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn update_webhook(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<UpdateWebhook>,
) -> ApiResult<Envelope<Endpoint>> {
    let input = EndpointUpdate {
        url: body.url.as_deref(),
        events: body.events.as_deref(),
        description: body.description.as_deref(),
        enabled: body.enabled,
    };
    Ok(Envelope::ok(
        webhooks::update(&state.cx, &state.webhooks, &user.actor(), &id, input).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Webhook endpoint id")),
    responses(
        (status = 200, description = "Deleted with its delivery log", body = Success<Deleted>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Deleted>> {
    webhooks::delete(&state.cx, &user.actor(), &id).await?;
    Ok(Envelope::ok(Deleted::new(id)))
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Webhook endpoint id")),
    responses(
        (status = 200, description = "The new secret, shown this once; the old one signs beside it for 24 hours", body = Success<EndpointWithSecret>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn rotate_webhook_secret(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<(NoStore, Envelope<EndpointWithSecret>)> {
    let rotated = webhooks::rotate_secret(&state.cx, &state.webhooks, &user.actor(), &id).await?;
    Ok((NoStore, Envelope::ok(rotated)))
}

#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Webhook endpoint id"), PageParams),
    responses(
        (status = 200, description = "Newest first, each with its attempts", body = Success<Page<Delivery>>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn list_webhook_deliveries(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
) -> ApiResult<Envelope<Page<Delivery>>> {
    let (items, next) = webhooks::list_deliveries(
        &state.cx,
        Manager::Member(&user.actor()),
        &id,
        page.after()?.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    security(("session" = [])),
    params(
        ("id" = String, Path, description = "Webhook endpoint id"),
        ("delivery_id" = String, Path, description = "Delivery id"),
    ),
    responses(
        (status = 200, description = "Queued to be sent again now, under the same `webhook-id`", body = Success<Delivery>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`webhook_disabled`", body = ErrorBody),
    ))]
pub async fn retry_webhook_delivery(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<Envelope<Delivery>> {
    Ok(Envelope::ok(
        webhooks::retry_delivery(&state.cx, Manager::Member(&user.actor()), &id, &delivery_id)
            .await?,
    ))
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/test", tag = "webhooks",
    security(("session" = [])),
    params(("id" = String, Path, description = "Webhook endpoint id")),
    responses(
        (status = 201, description = "A `webhook.test` message queued to this endpoint only", body = Success<Delivery>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`webhook_disabled`", body = ErrorBody),
    ))]
pub async fn test_webhook(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Delivery>> {
    Ok(Envelope::created(
        webhooks::send_test(&state.cx, Manager::Member(&user.actor()), &id).await?,
    ))
}

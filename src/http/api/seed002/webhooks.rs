//! Seed 002's Clerk webhook, `/api/webhooks/clerk`: the same deliveries and answers as
//! `/v1/webhooks/identity`, whose handler it calls.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;

use crate::app::AppState;
use crate::http::api::Success;
use crate::http::api::webhooks::{WebhookAck, WebhookResult, receive_identity_event};
use crate::http::auth::TenantContext;
use crate::http::envelope::ErrorBody;
use crate::services::identity::ClerkEvent;

/// The seed's Clerk webhook; the same as `/v1/webhooks/identity`.
#[utoipa::path(post, path = "/api/webhooks/clerk", tag = "webhooks",
    security((), ("secret_key" = [])),
    params(
        ("svix-id" = String, Header, description = "The message id; a repeated id is ignored"),
        ("svix-timestamp" = String, Header, description = "Unix seconds; at most five minutes off"),
        ("svix-signature" = String, Header, description = "Space-separated `v1,<base64 HMAC-SHA256>` entries"),
    ),
    request_body = ClerkEvent,
    responses(
        (status = 202, description = "Same as /v1/webhooks/identity", body = Success<WebhookAck>),
        (status = 200, description = "A replay or an ignored event type", body = Success<WebhookAck>),
        (status = 401, description = "Bad, missing or expired signature", body = ErrorBody),
        (status = 503, description = "Not configured", body = ErrorBody),
    ))]
pub async fn seed_clerk_webhook(
    state: State<AppState>,
    tenant: TenantContext,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> WebhookResult {
    receive_identity_event(state, tenant, headers, body).await
}

//! Identity-provider webhooks: Svix-signed Clerk events under `/v1/webhooks/identity` (the
//! seed's `/api/webhooks/clerk` is in `seed002/webhooks.rs`).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Success;
use crate::app::AppState;
use crate::clock::now_ms;
use crate::error::{AppError, AuthFailure};
use crate::http::auth::TenantContext;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::{ApiError, ApiResult};
use crate::services::identity::{self, ClerkEvent, Received, SignatureFailure, SvixHeaders};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive_identity_event))
}

/// The answer to a delivery the provider signed.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAck {
    /// The delivery's `svix-id`.
    pub event_id: String,
    /// `queued` (202), `replayed` (200: this id was received before) or `ignored` (200: an
    /// event type kanri does not apply).
    pub status: &'static str,
}

pub type WebhookResult = ApiResult<(StatusCode, Envelope<WebhookAck>)>;

fn invalid_signature(reason: SignatureFailure) -> ApiError {
    tracing::warn!(%reason, "rejected a webhook delivery");
    ApiError::App(AppError::Unauthenticated(AuthFailure::InvalidSignature))
}

fn svix_headers(headers: &HeaderMap) -> ApiResult<SvixHeaders<'_>> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| invalid_signature(SignatureFailure::MissingHeader))
    };
    Ok(SvixHeaders {
        id: get("svix-id")?,
        timestamp: get("svix-timestamp")?,
        signature: get("svix-signature")?,
    })
}

/// Verifies the delivery before reading its JSON, then records it and enqueues its job.
async fn receive(
    state: &AppState,
    tenant: &TenantContext,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> WebhookResult {
    let key = state
        .config
        .identity
        .webhook_key
        .as_ref()
        .ok_or(AppError::NotConfigured(
            "identity webhooks are not configured on this server",
        ))?;
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        status => ApiError::Status(status, "could not read the request body"),
    })?;
    let svix = svix_headers(headers)?;
    identity::verify(key, &svix, &body, now_ms()).map_err(invalid_signature)?;

    let event: ClerkEvent = serde_json::from_slice(&body).map_err(|e| {
        if e.is_data() {
            ApiError::InvalidBody(e.to_string())
        } else {
            ApiError::MalformedJson(e.to_string())
        }
    })?;
    let args = identity::sync_args(event, svix.id).map_err(ApiError::InvalidBody)?;
    let received = identity::receive(&state.cx, &tenant.tenant_id, svix.id, args).await?;
    let (status, word) = match received {
        // The unit of work that queued the job woke the workers.
        Received::Queued => (StatusCode::ACCEPTED, "queued"),
        Received::Replayed => (StatusCode::OK, "replayed"),
        Received::Ignored => (StatusCode::OK, "ignored"),
    };
    let ack = WebhookAck {
        event_id: svix.id.to_string(),
        status: word,
    };
    Ok((status, Envelope::ok(ack)))
}

/// Receives a Clerk (Svix-signed) event: `user.created`, `user.updated` and `user.deleted` are
/// applied to the user with that external id by a job; other types are acknowledged and
/// ignored. The signature (`svix-id`, `svix-timestamp`, `svix-signature`, signed with
/// `KANRI_IDENTITY_WEBHOOK_SECRET`) is checked before the body is read as JSON, and a timestamp
/// more than five minutes off is refused. A replayed `svix-id` gets 200 and does nothing.
///
/// Tenant: in single-tenant mode, the default tenant. In multi-tenant mode the provider must
/// send the tenant's key (`X-Api-Key: pk_live_…` or `sk_live_…`, set as a custom header on the
/// provider's webhook endpoint); without one the answer is `401 missing_auth`. The signing
/// secret is the server's, one for all tenants.
#[utoipa::path(post, path = "/v1/webhooks/identity", tag = "webhooks",
    security((), ("secret_key" = [])),
    params(
        ("svix-id" = String, Header, description = "The message id; a repeated id is ignored"),
        ("svix-timestamp" = String, Header, description = "Unix seconds; at most five minutes off"),
        ("svix-signature" = String, Header, description = "Space-separated `v1,<base64 HMAC-SHA256>` entries"),
    ),
    request_body = ClerkEvent,
    responses(
        (status = 202, description = "Verified, recorded and queued", body = Success<WebhookAck>),
        (status = 200, description = "Verified; a replay or an ignored event type", body = Success<WebhookAck>),
        (status = 401, description = "Bad, missing or expired signature (`invalid_signature`), or no tenant key in multi-tenant mode", body = ErrorBody),
        (status = 413, description = "Body over `KANRI_MAX_BODY_BYTES`", body = ErrorBody),
        (status = 422, description = "A user event whose data has the wrong shape", body = ErrorBody),
        (status = 503, description = "`KANRI_IDENTITY_WEBHOOK_SECRET` is not set (`not_configured`)", body = ErrorBody),
    ))]
pub async fn receive_identity_event(
    State(state): State<AppState>,
    tenant: TenantContext,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> WebhookResult {
    receive(&state, &tenant, &headers, body).await
}

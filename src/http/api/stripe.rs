//! Stripe billing webhooks, `/v1/webhooks/stripe`: verified over the raw body, recorded once
//! per event id, applied by the `billing:stripe` job (see `services::stripe` for how an event
//! finds its tenant).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Success;
use super::webhooks::{WebhookAck, WebhookResult};
use crate::app::AppState;
use crate::clock::now_ms;
use crate::error::AppError;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiError;
use crate::services::identity::Received;
use crate::services::stripe::{self, Receipt, SignatureFailure, StripeEvent};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive_stripe_event))
}

fn bad_signature(reason: SignatureFailure) -> ApiError {
    tracing::warn!(%reason, "rejected a Stripe delivery");
    ApiError::BadSignature
}

/// Receives a Stripe event. `checkout.session.completed`, `customer.subscription.created`,
/// `…updated`, `…deleted`, `invoice.paid` and `invoice.payment_failed` are applied to the
/// workspace's subscription by a job; other types are acknowledged and ignored. The
/// `Stripe-Signature` header (`t=…,v1=…`, HMAC-SHA256 with `KANRI_STRIPE_WEBHOOK_SECRET`) is
/// checked over the raw body before it is parsed, with 300 s tolerance. A replayed event id
/// gets 200 and does nothing; an event older (by `created`) than the newest applied changes
/// nothing.
///
/// The workspace comes from the signed body: `metadata.workspace_id` (or the Checkout
/// Session's `client_reference_id`), else the Stripe subscription or customer id an earlier
/// event linked; its tenant is the workspace's.
#[utoipa::path(post, path = "/v1/webhooks/stripe", tag = "webhooks",
    security(()),
    params(
        ("Stripe-Signature" = String, Header, description = "`t=<unix secs>,v1=<hex HMAC-SHA256 of \"t.body\">`, several `v1` allowed"),
    ),
    request_body(content = serde_json::Value, description = "A Stripe event object"),
    responses(
        (status = 202, description = "Verified, recorded and queued", body = Success<WebhookAck>),
        (status = 200, description = "Verified; a replay or a type kanri does not apply", body = Success<WebhookAck>),
        (status = 400, description = "Bad, missing or expired signature (`invalid_signature`), or not JSON", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "Not a Stripe event (no id, type, created or data.object)", body = ErrorBody),
        (status = 503, description = "`KANRI_STRIPE_WEBHOOK_SECRET` is not set (`not_configured`), or the event's workspace is not known yet (`unavailable`; not recorded, so Stripe delivers it again)", body = ErrorBody),
    ))]
pub async fn receive_stripe_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> WebhookResult {
    let secret =
        state
            .config
            .billing
            .stripe_webhook_secret
            .as_ref()
            .ok_or(AppError::NotConfigured(
                "Stripe webhooks are not configured on this server",
            ))?;
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        status => ApiError::Status(status, "could not read the request body"),
    })?;
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| bad_signature(SignatureFailure::MissingHeader))?;
    stripe::verify(secret.expose(), signature, &body, now_ms()).map_err(bad_signature)?;

    let event: StripeEvent = serde_json::from_slice(&body).map_err(|e| {
        if e.is_data() {
            ApiError::InvalidBody(e.to_string())
        } else {
            ApiError::MalformedJson(e.to_string())
        }
    })?;
    let received = match stripe::receive(&state.cx, &event).await? {
        Receipt::Done(received) => received,
        Receipt::NotLocated => {
            return Err(ApiError::Status(
                StatusCode::SERVICE_UNAVAILABLE,
                "the event's workspace is not known yet; deliver it again later",
            ));
        }
    };
    let (status, word) = match received {
        Received::Queued => (StatusCode::ACCEPTED, "queued"),
        Received::Replayed => (StatusCode::OK, "replayed"),
        Received::Ignored => (StatusCode::OK, "ignored"),
    };
    let ack = WebhookAck {
        event_id: event.id,
        status: word,
    };
    Ok((status, Envelope::ok(ack)))
}

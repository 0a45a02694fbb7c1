//! A workspace's subscription and usage: `/v1/workspaces/{id}/subscription`, `…/usage` and
//! `…/usage/records`. Members (and the tenant's server, with the secret key) read them; only
//! the secret key sets the subscription.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Success;
use crate::app::AppState;
use crate::http::auth::{CurrentUser, SecretKey};
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, Query, nullable};
use crate::services::subscriptions::{self, Reader, Subscription, SubscriptionInput};
use crate::services::usage::{self, Usage, UsageRecord};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_subscription, put_subscription))
        .routes(routes!(get_usage))
        .routes(routes!(list_usage_records))
}

/// A member's session, or else the tenant's secret key.
pub struct BillingReader(Reader);

impl FromRequestParts<AppState> for BillingReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match CurrentUser::from_request_parts(parts, state).await {
            Ok(user) => Ok(Self(Reader::Member(user.actor()))),
            Err(session_error) => match SecretKey::from_request_parts(parts, state).await {
                Ok(SecretKey(key)) => Ok(Self(Reader::Server {
                    tenant_id: key.tenant_id,
                })),
                Err(_) => Err(session_error),
            },
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PutSubscription {
    /// The plan by id…
    pub plan_id: Option<String>,
    /// …or by key (`free`, `pro`); left out, the plan stays.
    pub plan_key: Option<String>,
    /// `trialing`, `active`, `past_due` or `canceled`; left out, it stays.
    pub status: Option<String>,
    /// RFC 3339 time or YYYY-MM-DD; `null` clears it; left out, it stays.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub current_period_end: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecordsParams {
    /// First day, YYYY-MM-DD (default: 29 days before `to`).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD (default: today, UTC). At most 366 days from `from`.
    #[param(format = Date)]
    pub to: Option<String>,
}

#[utoipa::path(get, path = "/v1/workspaces/{id}/subscription", tag = "billing",
    security(("session" = []), ("secret_key" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "Plan, status, features, limits and period", body = Success<Subscription>),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn get_subscription(
    State(state): State<AppState>,
    BillingReader(reader): BillingReader,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Subscription>> {
    Ok(Envelope::ok(
        subscriptions::get(&state.cx, &reader, &id).await?,
    ))
}

#[utoipa::path(put, path = "/v1/workspaces/{id}/subscription", tag = "billing",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    request_body = PutSubscription,
    responses(
        (status = 200, description = "Set; a `subscription.updated` event is recorded", body = Success<Subscription>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not a secret key", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Bad status or date, or no such plan", body = ErrorBody),
    ))]
pub async fn put_subscription(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path(id): Path<String>,
    Json(body): Json<PutSubscription>,
) -> ApiResult<Envelope<Subscription>> {
    let input = SubscriptionInput {
        plan_id: body.plan_id.as_deref(),
        plan_key: body.plan_key.as_deref(),
        status: body.status.as_deref(),
        current_period_end: body.current_period_end.as_ref().map(|e| e.as_deref()),
    };
    Ok(Envelope::ok(
        subscriptions::put(&state.cx, &key.tenant_id, &id, input).await?,
    ))
}

#[utoipa::path(get, path = "/v1/workspaces/{id}/usage", tag = "billing",
    security(("session" = []), ("secret_key" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "`{used, limit}` per resource (`limit: null` = unlimited); API calls in the current period", body = Success<Usage>),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn get_usage(
    State(state): State<AppState>,
    BillingReader(reader): BillingReader,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Usage>> {
    Ok(Envelope::ok(usage::usage(&state.cx, &reader, &id).await?))
}

#[utoipa::path(get, path = "/v1/workspaces/{id}/usage/records", tag = "billing",
    security(("session" = []), ("secret_key" = [])),
    params(("id" = String, Path, description = "Workspace id"), RecordsParams),
    responses(
        (status = 200, description = "Daily API-call records, oldest first (days without calls left out)", body = Success<Vec<UsageRecord>>),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "Bad or reversed dates, or more than 366 days", body = ErrorBody),
    ))]
pub async fn list_usage_records(
    State(state): State<AppState>,
    BillingReader(reader): BillingReader,
    Path(id): Path<String>,
    Query(q): Query<RecordsParams>,
) -> ApiResult<Envelope<Vec<UsageRecord>>> {
    Ok(Envelope::ok(
        usage::records(&state.cx, &reader, &id, q.from.as_deref(), q.to.as_deref()).await?,
    ))
}

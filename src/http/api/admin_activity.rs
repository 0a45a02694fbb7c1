//! The tenant's audit log, for server-side callers with the secret key.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::projects::{ActivityParams, activity_page};
use super::{Page, Success};
use crate::app::AppState;
use crate::http::auth::SecretKey;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::Query;
use crate::services::activity::{self, ActivityEvent};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_tenant_activity))
}

#[utoipa::path(get, path = "/v1/admin/activity", tag = "admin",
    security(("secret_key" = [])),
    params(ActivityParams),
    responses(
        (status = 200, description = "Every event of the tenant, oldest first", body = Success<Page<ActivityEvent>>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn list_tenant_activity(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Query(params): Query<ActivityParams>,
) -> ApiResult<Envelope<Page<ActivityEvent>>> {
    let (after, limit) = params.page()?;
    let events = activity::list_for_tenant(&state.cx, &key.tenant_id, after, limit).await?;
    Ok(activity_page(events))
}

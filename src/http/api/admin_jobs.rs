//! A tenant's background jobs, for server-side callers with the secret key.

use std::sync::atomic::Ordering;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Page, Success};
use crate::app::AppState;
use crate::http::auth::SecretKey;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Path, Query};
use crate::http::pagination::PageParams;
use crate::services::jobs::{self, JobView};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(job_stats))
        .routes(routes!(retry_job))
        .routes(routes!(cancel_job))
        .routes(routes!(retry_dead_jobs))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobListParams {
    /// 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// queued, scheduled, running, succeeded, dead or cancelled.
    pub state: Option<String>,
    pub kind: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobStats {
    /// The tenant's jobs by state.
    pub depth: std::collections::BTreeMap<String, i64>,
    /// Its queued, scheduled, running and dead jobs by kind, then state.
    pub by_kind: std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>>,
    /// Outcomes recorded by this instance's workers since it started.
    pub outcomes: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Requeued {
    pub requeued: u64,
}

#[utoipa::path(get, path = "/v1/admin/jobs", tag = "admin",
    security(("secret_key" = [])),
    params(JobListParams),
    responses((status = 200, body = Success<Page<JobView>>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Query(params): Query<JobListParams>,
) -> ApiResult<Envelope<Page<JobView>>> {
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    let (items, next) = jobs::list(
        &state.cx,
        Some(&key.tenant_id),
        params.state.as_deref(),
        params.kind.as_deref(),
        page.after()?.as_deref(),
        jobs::JobOrder::OldestFirst,
        page.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(get, path = "/v1/admin/jobs/stats", tag = "admin",
    security(("secret_key" = [])),
    responses((status = 200, body = Success<JobStats>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn job_stats(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
) -> ApiResult<Envelope<JobStats>> {
    let depth = jobs::stats(&state.cx, Some(&key.tenant_id))
        .await?
        .into_iter()
        .collect();
    let by_kind = jobs::stats_by_kind(&state.cx, Some(&key.tenant_id)).await?;
    let o = &state.queue.outcomes;
    let outcomes = [
        ("succeeded", o.succeeded.load(Ordering::Relaxed)),
        ("retried", o.retried.load(Ordering::Relaxed)),
        ("dead", o.dead.load(Ordering::Relaxed)),
        ("released", o.released.load(Ordering::Relaxed)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Ok(Envelope::ok(JobStats {
        depth,
        by_kind,
        outcomes,
    }))
}

#[utoipa::path(post, path = "/v1/admin/jobs/{id}/retry", tag = "admin",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = Success<Requeued>), (status = 404, body = ErrorBody), (status = 409, description = "Not dead or cancelled", body = ErrorBody)))]
pub async fn retry_job(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Requeued>> {
    jobs::retry(&state.cx, Some(&key.tenant_id), &id).await?;
    state.queue.wake();
    Ok(Envelope::ok(Requeued { requeued: 1 }))
}

#[utoipa::path(post, path = "/v1/admin/jobs/{id}/cancel", tag = "admin",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = Success<super::Deleted>), (status = 404, body = ErrorBody), (status = 409, description = "Already started or finished", body = ErrorBody)))]
pub async fn cancel_job(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Envelope<super::Deleted>> {
    jobs::cancel(&state.cx, Some(&key.tenant_id), &id).await?;
    Ok(Envelope::ok(super::Deleted::new(id)))
}

#[utoipa::path(post, path = "/v1/admin/jobs/retry-dead", tag = "admin",
    security(("secret_key" = [])),
    responses((status = 200, body = Success<Requeued>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn retry_dead_jobs(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
) -> ApiResult<Envelope<Requeued>> {
    let requeued = jobs::retry_all_dead(&state.cx, Some(&key.tenant_id)).await?;
    state.queue.wake();
    Ok(Envelope::ok(Requeued { requeued }))
}

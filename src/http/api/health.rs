//! Liveness, readiness, the seeds' `/health` and `/`, and the OpenAPI document.

use axum::Json as RawJson;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Success;
use crate::app::AppState;
use crate::cache::CacheStats;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiError;
use crate::rate_limit::LimiterStats;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(health))
        .routes(routes!(root))
        .routes(routes!(openapi_json))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    pub status: &'static str,
    pub version: &'static str,
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Readiness: the database answers; the cache is reported but never makes us unready (without
/// it requests are slower, not broken).
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub status: &'static str,
    pub version: &'static str,
    pub cache: CacheStats,
    /// The rate limiter; `degraded` while Redis is configured but unreachable (limits are
    /// then counted per instance), which never makes the server unready.
    pub rate_limiter: LimiterStats,
}

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = Success<Status>)))]
pub async fn healthz() -> Envelope<Status> {
    Envelope::ok(Status {
        status: "ok",
        version: VERSION,
    })
}

#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "The database is reachable; the cache's backend, availability and counters since start", body = Success<Readiness>),
        (status = 503, description = "The database is not reachable", body = ErrorBody),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Envelope<Readiness>, ApiError> {
    match state.cx.db.ping().await {
        Ok(()) => Ok(Envelope::ok(Readiness {
            status: "ready",
            version: VERSION,
            cache: state.cx.cache.stats(),
            rate_limiter: state.limiter.stats(),
        })),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            Err(ApiError::Status(
                StatusCode::SERVICE_UNAVAILABLE,
                "database unreachable",
            ))
        }
    }
}

#[utoipa::path(get, path = "/health", tag = "seed",
    responses((status = 200, description = "Seed health check", body = Success<Status>)))]
pub async fn health() -> Envelope<Status> {
    healthz().await
}

/// The seed's root answer, `{"message": …}`, inside the envelope.
#[utoipa::path(get, path = "/", tag = "seed",
    responses((status = 200, description = "Server is running")))]
pub async fn root() -> Response {
    RawJson(json!({
        "success": true,
        "message": "Server is running successfully!",
        "data": {"name": "kanri", "version": VERSION},
    }))
    .into_response()
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "This OpenAPI 3.1 document")))]
pub async fn openapi_json(State(state): State<AppState>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        state.openapi.clone(),
    )
        .into_response()
}

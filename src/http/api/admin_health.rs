//! The operator's health page in one read: each part's engine and whether it answers, the
//! realtime connections of this instance, the tenant's jobs, and the key figures of
//! `/metrics`. The figures are the process's (every tenant's traffic on this instance), the
//! same numbers `/metrics` gives a scraper; nothing in them names a tenant or a user.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Success;
use crate::app::AppState;
use crate::cache::CacheStats;
use crate::config::{Engine, StorageUrl};
use crate::http::auth::SecretKey;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::rate_limit::LimiterStats;
use crate::services::jobs;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(admin_health))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub version: &'static str,
    pub database: DatabaseHealth,
    pub cache: CacheStats,
    pub rate_limiter: LimiterStats,
    pub storage: StorageHealth,
    pub mail: MailHealth,
    pub realtime: RealtimeHealth,
    /// The tenant's jobs by state.
    pub jobs: BTreeMap<String, i64>,
    /// Totals of the key series of `/metrics` over their labels, and `http_server_errors`
    /// (requests answered 5xx), since this instance started.
    pub metrics: BTreeMap<String, f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatabaseHealth {
    pub engine: Engine,
    pub reachable: bool,
    /// One round trip (`SELECT 1`), in milliseconds.
    pub latency_ms: f64,
    pub connections_in_use: u64,
    pub connections_idle: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StorageHealth {
    /// `local` or `s3`.
    pub backend: &'static str,
    pub reachable: bool,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MailHealth {
    /// `file`, `smtp` or `resend`.
    pub transport: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RealtimeHealth {
    /// WebSocket and SSE connections open on this instance.
    pub connections: usize,
}

#[utoipa::path(get, path = "/v1/admin/health", tag = "admin",
    security(("secret_key" = [])),
    responses(
        (status = 200, description = "Every part's state; a part that does not answer is reported, never an error", body = Success<Health>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn admin_health(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
) -> ApiResult<Envelope<Health>> {
    let started = Instant::now();
    let reachable = state.cx.db.ping().await.is_ok();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (connections_in_use, connections_idle) = state.cx.db.pool_connections();
    let storage_error = state.storage.probe().await.err().map(|e| e.to_string());
    let jobs = if reachable {
        jobs::stats(&state.cx, Some(&key.tenant_id))
            .await?
            .into_iter()
            .collect()
    } else {
        BTreeMap::new()
    };
    let metrics = crate::metrics::key_figures(&state.cx.db);
    Ok(Envelope::ok(Health {
        version: env!("CARGO_PKG_VERSION"),
        database: DatabaseHealth {
            engine: state.cx.db.engine(),
            reachable,
            latency_ms,
            connections_in_use,
            connections_idle,
        },
        cache: state.cx.cache.stats(),
        rate_limiter: state.limiter.stats(),
        storage: StorageHealth {
            backend: match state.config.storage.url() {
                StorageUrl::Local(_) => "local",
                StorageUrl::S3 { .. } => "s3",
            },
            reachable: storage_error.is_none(),
            error: storage_error,
        },
        mail: MailHealth {
            transport: state.config.mail.url().transport(),
        },
        realtime: RealtimeHealth {
            connections: state.realtime.hub.connections(),
        },
        jobs,
        metrics,
    }))
}

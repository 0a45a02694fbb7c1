//! The limit a tenant's requests are counted against.

use std::time::Duration;

use moka::future::Cache;

use crate::app::AppState;
use crate::services::plans;

/// How long a tenant's plan limit is trusted before it is read again: a plan change applies
/// within this on every instance, and a busy tenant costs one query per period, not one per
/// request.
pub const PLAN_LIMIT_TTL: Duration = Duration::from_secs(2);

/// Tenants' plan limits, read through [`plans::tenant_rate_limit`]; `None` = the server default.
#[derive(Clone)]
pub struct PlanLimits(Cache<String, Option<u32>>);

impl Default for PlanLimits {
    fn default() -> Self {
        Self(
            Cache::builder()
                .max_capacity(100_000)
                .time_to_live(PLAN_LIMIT_TTL)
                .build(),
        )
    }
}

/// Requests per minute for `tenant_id`: its default plan's `rate_limit_per_minute` when that
/// plan sets one, else `KANRI_RATE_LIMIT_PER_MINUTE`. If the plan cannot be read, the default
/// applies (and is not remembered): the limiter never fails a request.
pub async fn tenant_limit_per_minute(state: &AppState, tenant_id: &str) -> u32 {
    let default = state.config.rate_limit.per_minute;
    let from_plan = state
        .limiter
        .plan_limits()
        .0
        .try_get_with_by_ref(tenant_id, plans::tenant_rate_limit(&state.cx, tenant_id))
        .await;
    match from_plan {
        Ok(limit) => limit.unwrap_or(default),
        Err(error) => {
            tracing::warn!(%error, "could not read the tenant's plan limit; using the default");
            default
        }
    }
}

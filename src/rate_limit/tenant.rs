//! The limit a tenant's requests are counted against.

use crate::app::AppState;

/// Requests per minute for `tenant_id`: today the configured default
/// (`KANRI_RATE_LIMIT_PER_MINUTE`). This is the seam for plans: a tenant whose plan sets
/// `rate_limit_per_minute` gets that instead (look it up here, cached — it runs on every
/// request). The limiter takes the limit per call, so a changed plan applies at once.
pub async fn tenant_limit_per_minute(state: &AppState, _tenant_id: &str) -> u32 {
    state.config.rate_limit.per_minute
}

//! Daily API-call counts per workspace and the counts a quota compares with its limit.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

/// Adds `calls` to the workspace's row for `day`, creating it. Skips a workspace deleted
/// since the calls were counted (its row would have nothing to reference).
pub async fn add_api_calls<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
    day: &str,
    calls: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO usage_daily (workspace_id, day, tenant_id, api_calls)
         SELECT id, $3, tenant_id, $4 FROM workspaces WHERE id = $2 AND tenant_id = $1
         ON CONFLICT (workspace_id, day) DO UPDATE
         SET api_calls = usage_daily.api_calls + excluded.api_calls",
    )
    .bind(tenant_id)
    .bind(workspace_id)
    .bind(day)
    .bind(calls)
    .execute(ex)
    .await?;
    Ok(())
}

/// API calls recorded from day `from` to day `to`, both included.
pub async fn api_calls_between<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
    from: &str,
    to: &str,
) -> sqlx::Result<i64> {
    let sum: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(api_calls) AS BIGINT) FROM usage_daily
         WHERE tenant_id = $1 AND workspace_id = $2 AND day >= $3 AND day <= $4",
    )
    .bind(tenant_id)
    .bind(workspace_id)
    .bind(from)
    .bind(to)
    .fetch_one(ex)
    .await?;
    Ok(sum.unwrap_or(0))
}

#[derive(Debug, Clone, FromRow)]
pub struct DailyRow {
    pub day: String,
    pub api_calls: i64,
}

/// The daily rows from `from` to `to` (both included), oldest first.
pub async fn daily<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
    from: &str,
    to: &str,
) -> sqlx::Result<Vec<DailyRow>> {
    sqlx::query_as(
        "SELECT day, api_calls FROM usage_daily
         WHERE tenant_id = $1 AND workspace_id = $2 AND day >= $3 AND day <= $4
         ORDER BY day",
    )
    .bind(tenant_id)
    .bind(workspace_id)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await
}

/// Projects in the workspace (archived ones too: they keep their data).
pub async fn projects<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM projects WHERE tenant_id = $1 AND workspace_id = $2")
        .bind(tenant_id)
        .bind(workspace_id)
        .fetch_one(ex)
        .await
}

/// Members of the workspace.
pub async fn members<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM workspace_members WHERE tenant_id = $1 AND workspace_id = $2",
    )
    .bind(tenant_id)
    .bind(workspace_id)
    .fetch_one(ex)
    .await
}

//! A tenant's plans. Limits are nullable columns (`NULL` = unlimited); features a JSON array.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct PlanRow {
    pub id: String,
    pub tenant_id: String,
    pub key: String,
    pub name: String,
    /// A JSON array of strings.
    pub features: String,
    pub max_projects: Option<i64>,
    pub max_members: Option<i64>,
    pub max_storage_bytes: Option<i64>,
    pub max_api_calls_per_month: Option<i64>,
    pub rate_limit_per_minute: Option<i64>,
    pub stripe_price_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, tenant_id, key, name, features, max_projects, max_members, \
    max_storage_bytes, max_api_calls_per_month, rate_limit_per_minute, stripe_price_id, \
    created_at, updated_at";

/// Adds a plan; a key (or Stripe price) already used in the tenant is a unique violation.
pub async fn insert<'c>(ex: impl Executor<'c, Database = Any>, p: &PlanRow) -> sqlx::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO plans ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    )))
    .bind(&p.id)
    .bind(&p.tenant_id)
    .bind(&p.key)
    .bind(&p.name)
    .bind(&p.features)
    .bind(p.max_projects)
    .bind(p.max_members)
    .bind(p.max_storage_bytes)
    .bind(p.max_api_calls_per_month)
    .bind(p.rate_limit_per_minute)
    .bind(&p.stripe_price_id)
    .bind(p.created_at)
    .bind(p.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// Adds the tenant's default plan unless it has one (the `free` key is taken).
pub async fn insert_default<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
    tenant_id: &str,
    key: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO plans (id, tenant_id, key, name, features, created_at, updated_at)
         VALUES ($1, $2, $3, 'Free', '[]', $4, $4)
         ON CONFLICT (tenant_id, key) DO NOTHING",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(key)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<PlanRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM plans WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

pub async fn find_by_key<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    key: &str,
) -> sqlx::Result<Option<PlanRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM plans WHERE tenant_id = $1 AND key = $2"
    )))
    .bind(tenant_id)
    .bind(key)
    .fetch_optional(ex)
    .await
}

pub async fn find_by_price<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    stripe_price_id: &str,
) -> sqlx::Result<Option<PlanRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM plans WHERE tenant_id = $1 AND stripe_price_id = $2"
    )))
    .bind(tenant_id)
    .bind(stripe_price_id)
    .fetch_optional(ex)
    .await
}

/// A page of the tenant's plans in id order after `after_id`.
pub async fn list_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<PlanRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM plans WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    )))
    .bind(tenant_id)
    .bind(after_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Writes every field of `p` but its id, tenant and creation time; false when not found.
pub async fn update<'c>(ex: impl Executor<'c, Database = Any>, p: &PlanRow) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE plans SET key = $3, name = $4, features = $5, max_projects = $6,
                max_members = $7, max_storage_bytes = $8, max_api_calls_per_month = $9,
                rate_limit_per_minute = $10, stripe_price_id = $11, updated_at = $12
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(&p.tenant_id)
    .bind(&p.id)
    .bind(&p.key)
    .bind(&p.name)
    .bind(&p.features)
    .bind(p.max_projects)
    .bind(p.max_members)
    .bind(p.max_storage_bytes)
    .bind(p.max_api_calls_per_month)
    .bind(p.rate_limit_per_minute)
    .bind(&p.stripe_price_id)
    .bind(p.updated_at)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn delete<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM plans WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// How many workspaces are subscribed to the plan.
pub async fn subscriptions_using<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions WHERE tenant_id = $1 AND plan_id = $2")
        .bind(tenant_id)
        .bind(id)
        .fetch_one(ex)
        .await
}

/// The default plan's rate limit per minute (`None`: no plan or no limit).
pub async fn rate_limit_of<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    key: &str,
) -> sqlx::Result<Option<i64>> {
    let limit: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT rate_limit_per_minute FROM plans WHERE tenant_id = $1 AND key = $2",
    )
    .bind(tenant_id)
    .bind(key)
    .fetch_optional(ex)
    .await?;
    Ok(limit.flatten())
}

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub name: String,
    pub key_hint: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, tenant_id, kind, name, key_hint, created_at, last_used_at, revoked_at";

pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub key_hash: &'a str,
    pub key_hint: &'a str,
    pub now: i64,
}

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    k: &NewApiKey<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, kind, name, key_hash, key_hint, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(k.id)
    .bind(k.tenant_id)
    .bind(k.kind)
    .bind(k.name)
    .bind(k.key_hash)
    .bind(k.key_hint)
    .bind(k.now)
    .execute(ex)
    .await?;
    Ok(())
}

/// The unrevoked key with this hash.
pub async fn find_active_by_hash<'c>(
    ex: impl Executor<'c, Database = Any>,
    key_hash: &str,
) -> sqlx::Result<Option<ApiKeyRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
    )))
    .bind(key_hash)
    .fetch_optional(ex)
    .await
}

pub async fn list_for_tenant<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
) -> sqlx::Result<Vec<ApiKeyRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id"
    )))
    .bind(tenant_id)
    .fetch_all(ex)
    .await
}

/// A page of the tenant's keys, oldest first (ids are time-ordered).
pub async fn list_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<ApiKeyRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    )))
    .bind(tenant_id)
    .bind(after_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<ApiKeyRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// The tenant a key belongs to (an operator on the command line revokes by id alone).
pub async fn tenant_of<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT tenant_id FROM api_keys WHERE id = $1")
        .bind(id)
        .fetch_optional(ex)
        .await
}

/// How many unrevoked secret keys the tenant holds.
pub async fn count_active_secret<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1 AND kind = 'secret' AND revoked_at IS NULL",
    )
    .bind(tenant_id)
    .fetch_one(ex)
    .await
}

/// Revokes a key; returns false when the tenant has no unrevoked key with this id.
pub async fn revoke<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Moves `last_used_at` forward only, so a late flush never overwrites a newer time.
pub async fn touch_last_used<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
    used_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = $1
         WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
    )
    .bind(used_at)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}

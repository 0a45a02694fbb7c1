use sqlx::{Any, Executor, FromRow};

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

/// Revokes a key; returns false when no unrevoked key has this id.
/// The tenant a key belongs to (an operator revokes by id alone).
pub async fn tenant_of<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT tenant_id FROM api_keys WHERE id = $1")
        .bind(id)
        .fetch_optional(ex)
        .await
}

pub async fn revoke<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
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

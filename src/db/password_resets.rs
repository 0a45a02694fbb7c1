use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct ResetRow {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
}

pub struct NewReset<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    r: &NewReset<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO password_resets (id, tenant_id, user_id, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(r.id)
    .bind(r.tenant_id)
    .bind(r.user_id)
    .bind(r.token_hash)
    .bind(r.now)
    .bind(r.expires_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// Takes the unused, unexpired reset with this token hash: marks it used and returns it. A
/// second use finds nothing.
pub async fn take<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<ResetRow>> {
    sqlx::query_as(
        "UPDATE password_resets SET used_at = $1
         WHERE tenant_id = $2 AND token_hash = $3 AND used_at IS NULL AND expires_at > $1
         RETURNING id, tenant_id, user_id",
    )
    .bind(now)
    .bind(tenant_id)
    .bind(token_hash)
    .fetch_optional(ex)
    .await
}

/// Drops a user's unused tokens (a new one supersedes them, or the password was just set).
pub async fn delete_unused_for_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    user_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "DELETE FROM password_resets WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL",
    )
    .bind(tenant_id)
    .bind(user_id)
    .execute(ex)
    .await?;
    Ok(())
}

/// Deletes used and expired tokens; returns how many.
pub async fn purge<'c>(ex: impl Executor<'c, Database = Any>, now: i64) -> sqlx::Result<u64> {
    let done =
        sqlx::query("DELETE FROM password_resets WHERE used_at IS NOT NULL OR expires_at <= $1")
            .bind(now)
            .execute(ex)
            .await?;
    Ok(done.rows_affected())
}

/// Is there an unused, unexpired reset with this token hash?
pub async fn is_live<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM password_resets WHERE tenant_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(tenant_id)
    .bind(token_hash)
    .bind(now)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}

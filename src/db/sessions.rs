use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

use super::users::UserRow;

pub struct NewSession<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    s: &NewSession<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id, tenant_id, user_id, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(s.id)
    .bind(s.tenant_id)
    .bind(s.user_id)
    .bind(s.token_hash)
    .bind(s.created_at)
    .bind(s.expires_at)
    .execute(ex)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct SessionWithUser {
    pub session_id: String,
    pub expires_at: i64,
    #[sqlx(flatten)]
    pub user: UserRow,
}

/// The live (unexpired) session with this token hash, and its user.
pub async fn find_live<'c>(
    ex: impl Executor<'c, Database = Any>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<SessionWithUser>> {
    sqlx::query_as(
        "SELECT s.id AS session_id, s.expires_at,
                u.id, u.tenant_id, u.email, u.name, u.image_url, u.password_hash, u.external_id,
                u.created_at, u.updated_at
         FROM sessions s JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(ex)
    .await
}

pub async fn delete<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    session_id: &str,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(session_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Deletes sessions that expired before `now`; returns how many.
pub async fn delete_expired<'c>(
    ex: impl Executor<'c, Database = Any>,
    now: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

/// Ends every session of a user (after a password reset).
pub async fn delete_for_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    user_id: &str,
) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

//! `admin_sessions`: operator sessions of the console, each tied to the secret key or the
//! operator account it was exchanged for.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

pub struct NewAdminSession<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub key_id: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub token_hash: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    s: &NewAdminSession<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO admin_sessions (id, tenant_id, key_id, user_id, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(s.id)
    .bind(s.tenant_id)
    .bind(s.key_id)
    .bind(s.user_id)
    .bind(s.token_hash)
    .bind(s.created_at)
    .bind(s.expires_at)
    .execute(ex)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct LiveAdminSession {
    pub id: String,
    pub tenant_id: String,
    pub key_id: Option<String>,
    /// The operator account's normalised email, for a session made from one: checked against
    /// the configured operators on every use, so removing an address ends its sessions.
    pub user_email: Option<String>,
    pub expires_at: i64,
}

/// The unexpired session with this token hash whose key is still active or whose account
/// still exists.
pub async fn find_live<'c>(
    ex: impl Executor<'c, Database = Any>,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<LiveAdminSession>> {
    sqlx::query_as(
        "SELECT a.id, a.tenant_id, a.key_id, u.email_normalized AS user_email, a.expires_at
         FROM admin_sessions a
         LEFT JOIN api_keys k ON k.id = a.key_id AND k.tenant_id = a.tenant_id
         LEFT JOIN users u ON u.id = a.user_id AND u.tenant_id = a.tenant_id
         WHERE a.token_hash = $1 AND a.expires_at > $2
           AND ((a.key_id IS NOT NULL AND k.id IS NOT NULL AND k.revoked_at IS NULL)
             OR (a.user_id IS NOT NULL AND u.id IS NOT NULL))",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(ex)
    .await
}

pub async fn delete<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM admin_sessions WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Deletes sessions that expired before `now`; returns how many.
pub async fn delete_expired<'c>(
    ex: impl Executor<'c, Database = Any>,
    now: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

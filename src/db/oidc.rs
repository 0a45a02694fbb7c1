//! OIDC sign-ins under way and the provider subjects linked to users.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct PendingLogin {
    pub tenant_id: String,
    pub provider: String,
    pub nonce: String,
    pub verifier: String,
    pub return_to: Option<String>,
    pub expires_at: i64,
}

pub async fn insert_login<'c>(
    ex: impl Executor<'c, Database = Any>,
    state_hash: &str,
    p: &PendingLogin,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO oidc_logins (state_hash, tenant_id, provider, nonce, verifier, return_to, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(state_hash)
    .bind(&p.tenant_id)
    .bind(&p.provider)
    .bind(&p.nonce)
    .bind(&p.verifier)
    .bind(&p.return_to)
    .bind(p.expires_at)
    .execute(ex)
    .await
    .map(drop)
}

/// Takes the sign-in for this state out (so it is used once), if it is still live. One
/// statement: of two callbacks racing with one state, only one gets the row.
pub async fn take_login<'c>(
    ex: impl Executor<'c, Database = Any>,
    state_hash: &str,
    now: i64,
) -> sqlx::Result<Option<PendingLogin>> {
    let found: Option<PendingLogin> = sqlx::query_as(
        "DELETE FROM oidc_logins WHERE state_hash = $1
         RETURNING tenant_id, provider, nonce, verifier, return_to, expires_at",
    )
    .bind(state_hash)
    .fetch_optional(ex)
    .await?;
    Ok(found.filter(|l| l.expires_at > now))
}

pub async fn delete_expired_logins<'c>(
    ex: impl Executor<'c, Database = Any>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM oidc_logins WHERE expires_at <= $1")
        .bind(now)
        .execute(ex)
        .await
        .map(drop)
}

pub async fn linked_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    provider: &str,
    subject: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT user_id FROM oidc_identities WHERE tenant_id = $1 AND provider = $2 AND subject = $3",
    )
    .bind(tenant_id)
    .bind(provider)
    .bind(subject)
    .fetch_optional(ex)
    .await
}

pub async fn link<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    provider: &str,
    subject: &str,
    user_id: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO oidc_identities (tenant_id, provider, subject, user_id, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant_id)
    .bind(provider)
    .bind(subject)
    .bind(user_id)
    .bind(now)
    .execute(ex)
    .await
    .map(drop)
}

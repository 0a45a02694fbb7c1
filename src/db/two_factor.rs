//! Two-factor sign-in: each user's sealed TOTP secret and last accepted step
//! (`user_two_factor`), their recovery code hashes, and pending sign-in challenges.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct TwoFactorRow {
    pub secret_sealed: String,
    /// `None` while the enrolment waits for its first code.
    pub enabled_at: Option<i64>,
    pub last_step: Option<i64>,
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<TwoFactorRow>> {
    sqlx::query_as(
        "SELECT secret_sealed, enabled_at, last_step FROM user_two_factor
         WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(ex)
    .await
}

pub async fn is_enabled<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    user_id: &str,
) -> sqlx::Result<bool> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM user_two_factor
         WHERE tenant_id = $1 AND user_id = $2 AND enabled_at IS NOT NULL",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(ex)
    .await?;
    Ok(found.is_some())
}

/// Stores a new pending secret (replacing an earlier pending one), unless two-factor is
/// already enabled. Returns whether it was stored.
pub async fn start<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    user_id: &str,
    secret_sealed: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO user_two_factor (user_id, tenant_id, secret_sealed, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (user_id) DO UPDATE
            SET secret_sealed = excluded.secret_sealed, last_step = NULL,
                created_at = excluded.created_at, updated_at = excluded.updated_at
          WHERE user_two_factor.enabled_at IS NULL",
    )
    .bind(user_id)
    .bind(tenant_id)
    .bind(secret_sealed)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Enables the pending secret the first code was checked against, and records the code's
/// step. Nothing happens if the enrolment was restarted (another secret) or already enabled.
pub async fn enable<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    user_id: &str,
    secret_sealed: &str,
    step: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE user_two_factor SET enabled_at = $1, last_step = $2, updated_at = $1
         WHERE tenant_id = $3 AND user_id = $4 AND enabled_at IS NULL AND secret_sealed = $5",
    )
    .bind(now)
    .bind(step)
    .bind(tenant_id)
    .bind(user_id)
    .bind(secret_sealed)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes `step` as the last accepted one if it is after the stored one: the replay guard. Of
/// two concurrent uses of one code, only one UPDATE matches (Postgres re-checks the condition
/// after the first commits; SQLite has one writer).
pub async fn use_step<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    user_id: &str,
    step: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE user_two_factor SET last_step = $1, updated_at = $2
         WHERE tenant_id = $3 AND user_id = $4 AND enabled_at IS NOT NULL
           AND (last_step IS NULL OR last_step < $1)",
    )
    .bind(step)
    .bind(now)
    .bind(tenant_id)
    .bind(user_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the user's two-factor row, recovery codes and pending challenges. Returns whether
/// two-factor was enabled.
pub async fn delete_all(
    tx: &mut sqlx::AnyConnection,
    tenant_id: &str,
    user_id: &str,
) -> sqlx::Result<bool> {
    let enabled = is_enabled(&mut *tx, tenant_id, user_id).await?;
    for table in [
        "user_two_factor",
        "two_factor_recovery_codes",
        "two_factor_challenges",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE tenant_id = $1 AND user_id = $2"
        )))
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    }
    Ok(enabled)
}

/// Replaces the user's recovery codes with these hashes.
pub async fn replace_recovery_codes(
    tx: &mut sqlx::AnyConnection,
    tenant_id: &str,
    user_id: &str,
    hashes: &[String],
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM two_factor_recovery_codes WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO two_factor_recovery_codes (id, tenant_id, user_id, code_hash, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(crate::ids::new_id())
        .bind(tenant_id)
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Uses a recovery code up: deleted if it exists, so of two concurrent uses one succeeds.
pub async fn use_recovery_code<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    user_id: &str,
    code_hash: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM two_factor_recovery_codes
         WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(code_hash)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count_recovery_codes<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    user_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM two_factor_recovery_codes WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_one(ex)
    .await
}

pub struct NewChallenge<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn insert_challenge<'c>(
    ex: impl Executor<'c, Database = Any>,
    c: &NewChallenge<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO two_factor_challenges (id, tenant_id, user_id, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(c.id)
    .bind(c.tenant_id)
    .bind(c.user_id)
    .bind(c.token_hash)
    .bind(c.created_at)
    .bind(c.expires_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// The user a live challenge with this token hash belongs to.
pub async fn find_challenge<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT user_id FROM two_factor_challenges
         WHERE tenant_id = $1 AND token_hash = $2 AND expires_at > $3",
    )
    .bind(tenant_id)
    .bind(token_hash)
    .bind(now)
    .fetch_optional(ex)
    .await
}

/// Uses a live challenge up; false if it is gone (expired, or completed meanwhile).
pub async fn take_challenge<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    token_hash: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM two_factor_challenges
         WHERE tenant_id = $1 AND token_hash = $2 AND expires_at > $3",
    )
    .bind(tenant_id)
    .bind(token_hash)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends the user's pending sign-in challenges (their password was just replaced).
pub async fn delete_challenges_for_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    user_id: &str,
) -> sqlx::Result<u64> {
    let done =
        sqlx::query("DELETE FROM two_factor_challenges WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant_id)
            .bind(user_id)
            .execute(ex)
            .await?;
    Ok(done.rows_affected())
}

/// Deletes challenges that expired before `now`; returns how many.
pub async fn delete_expired_challenges<'c>(
    ex: impl Executor<'c, Database = Any>,
    now: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM two_factor_challenges WHERE expires_at <= $1")
        .bind(now)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

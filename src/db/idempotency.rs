use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct IdempotencyRow {
    pub request_hash: String,
    /// `None` while the first request is still running.
    pub status_code: Option<i64>,
    pub response: Option<String>,
    pub created_at: i64,
    /// Set in the transaction of the change the request made: it committed.
    pub committed_at: Option<i64>,
}

/// Claims `(scope, key)` for a request; false when it is already claimed.
pub async fn reserve<'c>(
    ex: impl Executor<'c, Database = Any>,
    scope: &str,
    key: &str,
    request_hash: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(scope)
    .bind(key)
    .bind(request_hash)
    .bind(now)
    .execute(ex)
    .await;
    match result {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    scope: &str,
    key: &str,
) -> sqlx::Result<Option<IdempotencyRow>> {
    sqlx::query_as(
        "SELECT request_hash, status_code, response, created_at, committed_at FROM idempotency_keys WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(ex)
    .await
}

/// Stores the first response for replay.
pub async fn complete<'c>(
    ex: impl Executor<'c, Database = Any>,
    scope: &str,
    key: &str,
    status_code: i64,
    response: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET status_code = $1, response = $2 WHERE scope = $3 AND key = $4",
    )
    .bind(status_code)
    .bind(response)
    .bind(scope)
    .bind(key)
    .execute(ex)
    .await?;
    Ok(())
}

/// Marks the claim committed, with the response when it is known; run on the transaction of
/// the change itself, so the change and this mark commit together or not at all.
pub async fn commit_in<'c>(
    ex: impl Executor<'c, Database = Any>,
    scope: &str,
    key: &str,
    answer: Option<(i64, &str)>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET committed_at = $1, status_code = $2, response = $3 WHERE scope = $4 AND key = $5",
    )
    .bind(now)
    .bind(answer.map(|(status, _)| status))
    .bind(answer.map(|(_, body)| body))
    .bind(scope)
    .bind(key)
    .execute(ex)
    .await?;
    Ok(())
}

/// Gives a claim back (the request failed, so a retry should run it again).
pub async fn release<'c>(
    ex: impl Executor<'c, Database = Any>,
    scope: &str,
    key: &str,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .execute(ex)
        .await?;
    Ok(())
}

/// Drops one claim if it is older than `before` (expired or abandoned by a crashed request).
pub async fn delete_if_older<'c>(
    ex: impl Executor<'c, Database = Any>,
    scope: &str,
    key: &str,
    before: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at < $3",
    )
    .bind(scope)
    .bind(key)
    .bind(before)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes stored responses older than `before`; returns how many.
pub async fn purge<'c>(ex: impl Executor<'c, Database = Any>, before: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(before)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

//! Webhook messages already received, so a replayed or retried delivery is applied once.

use sqlx::{Any, Executor};

/// Records a message id. Returns false when it was already recorded (a replay). Run it in the
/// transaction that enqueues the message's job, so a receipt always has its job.
pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    provider: &str,
    event_id: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO webhook_receipts (tenant_id, provider, event_id, received_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (provider, event_id) DO NOTHING",
    )
    .bind(tenant_id)
    .bind(provider)
    .bind(event_id)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes receipts older than `before`; returns how many. A receipt must outlive the
/// provider's retry schedule (Svix retries for about a day and a half).
pub async fn purge<'c>(ex: impl Executor<'c, Database = Any>, before: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM webhook_receipts WHERE received_at < $1")
        .bind(before)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

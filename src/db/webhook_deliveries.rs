//! Outgoing-webhook deliveries (one message to one endpoint) and their attempts.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct DeliveryRow {
    pub id: String,
    pub tenant_id: String,
    pub endpoint_id: String,
    pub event_id: Option<i64>,
    pub event_type: String,
    pub body: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, tenant_id, endpoint_id, event_id, event_type, body, status, attempts, \
     next_attempt_at, created_at, updated_at";

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    r: &DeliveryRow,
) -> sqlx::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO webhook_deliveries ({COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    )))
    .bind(&r.id)
    .bind(&r.tenant_id)
    .bind(&r.endpoint_id)
    .bind(r.event_id)
    .bind(&r.event_type)
    .bind(&r.body)
    .bind(&r.status)
    .bind(r.attempts)
    .bind(r.next_attempt_at)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<DeliveryRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// A page of an endpoint's deliveries, newest first, before `before_id`.
pub async fn list_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    endpoint_id: &str,
    before_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<DeliveryRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_deliveries
         WHERE tenant_id = $1 AND endpoint_id = $2 AND ($3 = '' OR id < $3)
         ORDER BY id DESC LIMIT $4"
    )))
    .bind(tenant_id)
    .bind(endpoint_id)
    .bind(before_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Claims attempt `attempts + 1` of a delivery for recording: only when no other attempt has
/// been recorded since it was read (`attempts` unchanged) and it is not already delivered. A
/// manual retry and a scheduled attempt racing each other then cannot overwrite `delivered`
/// or log the same attempt number twice. The row stays locked until the transaction ends.
pub async fn claim_attempt<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
    attempts: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET attempts = $1, updated_at = $2
         WHERE id = $3 AND attempts = $4 AND status <> 'delivered'",
    )
    .bind(attempts + 1)
    .bind(now)
    .bind(id)
    .bind(attempts)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Records where a delivery stands after an attempt (or a manual retry).
pub async fn set_status<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
    status: &str,
    attempts: i64,
    next_attempt_at: Option<i64>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3,
                updated_at = $4
         WHERE id = $5",
    )
    .bind(status)
    .bind(attempts)
    .bind(next_attempt_at)
    .bind(now)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct AttemptRow {
    pub id: String,
    pub delivery_id: String,
    pub attempt: i64,
    pub attempted_at: i64,
    pub status_code: Option<i64>,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub response_body: Option<String>,
}

pub async fn insert_attempt<'c>(
    ex: impl Executor<'c, Database = Any>,
    a: &AttemptRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO webhook_attempts (id, delivery_id, attempt, attempted_at, status_code,
                duration_ms, error, response_body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&a.id)
    .bind(&a.delivery_id)
    .bind(a.attempt)
    .bind(a.attempted_at)
    .bind(a.status_code)
    .bind(a.duration_ms)
    .bind(&a.error)
    .bind(&a.response_body)
    .execute(ex)
    .await?;
    Ok(())
}

/// The attempts of the given deliveries, in attempt order.
pub async fn attempts_of<'c>(
    ex: impl Executor<'c, Database = Any>,
    delivery_ids: &[String],
) -> sqlx::Result<Vec<AttemptRow>> {
    if delivery_ids.is_empty() {
        return Ok(Vec::new());
    }
    // Only placeholders are formatted in; the ids are bound.
    let marks = (1..=delivery_ids.len())
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT id, delivery_id, attempt, attempted_at, status_code, duration_ms, error,
                response_body
         FROM webhook_attempts WHERE delivery_id IN ({marks}) ORDER BY delivery_id, attempt"
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for id in delivery_ids {
        query = query.bind(id);
    }
    query.fetch_all(ex).await
}

/// Deletes finished deliveries (with their attempts) last changed before `before`.
pub async fn purge_finished<'c>(
    ex: impl Executor<'c, Database = Any>,
    before: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "DELETE FROM webhook_deliveries
         WHERE status IN ('delivered', 'failed') AND updated_at < $1",
    )
    .bind(before)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

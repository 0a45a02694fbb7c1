//! Archive imports queued over the API: state, progress and the outcome.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct ImportRow {
    pub id: String,
    pub tenant_id: String,
    pub state: String,
    pub remap_ids: i64,
    pub staging_key: String,
    pub progress: i64,
    pub total: i64,
    pub result: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, tenant_id, state, remap_ids, staging_key, progress, total, result, created_at, updated_at";

pub async fn insert<'c>(ex: impl Executor<'c, Database = Any>, r: &ImportRow) -> sqlx::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO imports ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )))
    .bind(&r.id)
    .bind(&r.tenant_id)
    .bind(&r.state)
    .bind(r.remap_ids)
    .bind(&r.staging_key)
    .bind(r.progress)
    .bind(r.total)
    .bind(&r.result)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(ex)
    .await
    .map(drop)
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<ImportRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM imports WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

pub async fn set_progress<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
    progress: i64,
    total: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE imports SET state = 'RUNNING', progress = $1, total = $2, updated_at = $3
         WHERE id = $4 AND state IN ('QUEUED', 'RUNNING')",
    )
    .bind(progress)
    .bind(total)
    .bind(now)
    .bind(id)
    .execute(ex)
    .await
    .map(drop)
}

/// Records the outcome: `DONE` with the summary or `FAILED` with the error, as JSON.
pub async fn finish<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
    state: &str,
    result: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE imports SET state = $1, result = $2, progress = CASE WHEN $1 = 'DONE' THEN total ELSE progress END,
         updated_at = $3 WHERE id = $4",
    )
    .bind(state)
    .bind(result)
    .bind(now)
    .bind(id)
    .execute(ex)
    .await
    .map(drop)
}

//! Workspace export requests: state, progress and the stored archive.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct ExportRow {
    pub id: String,
    pub tenant_id: String,
    pub workspace_id: String,
    pub requested_by: Option<String>,
    pub state: String,
    pub progress: i64,
    pub total: i64,
    pub storage_key: Option<String>,
    pub size_bytes: Option<i64>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, tenant_id, workspace_id, requested_by, state, progress, total, \
                       storage_key, size_bytes, error, created_at, updated_at";

pub async fn insert<'c>(ex: impl Executor<'c, Database = Any>, e: &ExportRow) -> sqlx::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO exports ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )))
    .bind(&e.id)
    .bind(&e.tenant_id)
    .bind(&e.workspace_id)
    .bind(&e.requested_by)
    .bind(&e.state)
    .bind(e.progress)
    .bind(e.total)
    .bind(&e.storage_key)
    .bind(e.size_bytes)
    .bind(&e.error)
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(ex)
    .await
    .map(drop)
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<ExportRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM exports WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// Moves the export to `state` with its progress.
pub async fn set_progress<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
    state: &str,
    progress: i64,
    total: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE exports SET state = $1, progress = $2, total = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(state)
    .bind(progress)
    .bind(total)
    .bind(now)
    .bind(id)
    .execute(ex)
    .await
    .map(drop)
}

pub async fn finish<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
    storage_key: &str,
    size_bytes: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE exports SET state = 'DONE', progress = total, storage_key = $1, size_bytes = $2,
         updated_at = $3 WHERE id = $4",
    )
    .bind(storage_key)
    .bind(size_bytes)
    .bind(now)
    .bind(id)
    .execute(ex)
    .await
    .map(drop)
}

pub async fn fail<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
    error: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE exports SET state = 'FAILED', error = $1, updated_at = $2 WHERE id = $3")
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(ex)
        .await
        .map(drop)
}

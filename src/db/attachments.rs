//! Attachment rows and the per-workspace byte counter (`workspace_usage`).
//!
//! A row whose `deleted_at` is set is waiting for the purge job to delete its stored object; no
//! read for a client returns it.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct AttachmentRow {
    pub id: String,
    pub tenant_id: String,
    pub workspace_id: String,
    pub project_id: String,
    pub task_id: String,
    pub uploaded_by: Option<String>,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub created_at: i64,
}

const COLUMNS: &str = "id, tenant_id, workspace_id, project_id, task_id, uploaded_by, filename, content_type, size_bytes, sha256, storage_key, created_at";

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    a: &AttachmentRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO attachments (id, tenant_id, workspace_id, project_id, task_id, uploaded_by, filename, content_type, size_bytes, sha256, storage_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&a.id)
    .bind(&a.tenant_id)
    .bind(&a.workspace_id)
    .bind(&a.project_id)
    .bind(&a.task_id)
    .bind(&a.uploaded_by)
    .bind(&a.filename)
    .bind(&a.content_type)
    .bind(a.size_bytes)
    .bind(&a.sha256)
    .bind(&a.storage_key)
    .bind(a.created_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// A live attachment of the tenant.
pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<AttachmentRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM attachments WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// A live attachment by id alone: only for a signed URL, whose signature names the id and so
/// stands in for the tenant check.
pub async fn find_signed<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<AttachmentRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM attachments WHERE id = $1 AND deleted_at IS NULL"
    )))
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// A page of a task's live attachments, oldest first (ids are time-ordered).
pub async fn list_for_task<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    task_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<AttachmentRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM attachments
         WHERE tenant_id = $1 AND task_id = $2 AND deleted_at IS NULL AND id > $3
         ORDER BY id LIMIT $4"
    )))
    .bind(tenant_id)
    .bind(task_id)
    .bind(after_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// What marking rows deleted freed, per workspace.
#[derive(Debug, Clone, FromRow)]
pub struct Freed {
    pub workspace_id: String,
    pub size_bytes: i64,
}

/// Marks one live attachment deleted; returns what it held, or `None` if it was not live.
pub async fn mark_deleted<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    now: i64,
) -> sqlx::Result<Option<Freed>> {
    sqlx::query_as(
        "UPDATE attachments SET deleted_at = $3
         WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL
         RETURNING workspace_id, size_bytes",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(now)
    .fetch_optional(ex)
    .await
}

/// Which live attachments `mark_deleted_under` marks: a task's or a whole project's.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Task(&'a str),
    Project(&'a str),
}

/// Marks every live attachment of a task or project deleted; returns what each held.
pub async fn mark_deleted_under<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    scope: Scope<'_>,
    now: i64,
) -> sqlx::Result<Vec<Freed>> {
    let (column, id) = match scope {
        Scope::Task(id) => ("task_id", id),
        Scope::Project(id) => ("project_id", id),
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE attachments SET deleted_at = $3
         WHERE tenant_id = $1 AND {column} = $2 AND deleted_at IS NULL
         RETURNING workspace_id, size_bytes"
    )))
    .bind(tenant_id)
    .bind(id)
    .bind(now)
    .fetch_all(ex)
    .await
}

/// Marks deleted the live attachments whose task no longer exists (a workspace deleted with its
/// projects, or any delete path that did not mark them); returns how many.
pub async fn mark_orphans<'c>(
    ex: impl Executor<'c, Database = Any>,
    now: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE attachments SET deleted_at = $1
         WHERE deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = attachments.task_id)",
    )
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

/// A marked row waiting for its object to be deleted.
#[derive(Debug, Clone, FromRow)]
pub struct Purgeable {
    pub id: String,
    pub storage_key: String,
}

/// Up to `limit` marked rows of a tenant, oldest mark first.
pub async fn purgeable<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<Purgeable>> {
    sqlx::query_as(
        "SELECT id, storage_key FROM attachments
         WHERE tenant_id = $1 AND deleted_at IS NOT NULL
         ORDER BY deleted_at, id LIMIT $2",
    )
    .bind(tenant_id)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Up to `limit` marked rows of any tenant, for housekeeping.
pub async fn purgeable_everywhere<'c>(
    ex: impl Executor<'c, Database = Any>,
    limit: i64,
) -> sqlx::Result<Vec<Purgeable>> {
    sqlx::query_as(
        "SELECT id, storage_key FROM attachments
         WHERE deleted_at IS NOT NULL
         ORDER BY deleted_at, id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Removes a marked row once its object is gone.
pub async fn delete_marked<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM attachments WHERE id = $1 AND deleted_at IS NOT NULL")
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Adds `delta` (negative to free) to a workspace's stored bytes.
pub async fn add_usage<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
    delta: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO workspace_usage (workspace_id, tenant_id, storage_bytes, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id) DO UPDATE
         SET storage_bytes = workspace_usage.storage_bytes + excluded.storage_bytes,
             updated_at = excluded.updated_at",
    )
    .bind(workspace_id)
    .bind(tenant_id)
    .bind(delta)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// The bytes a workspace stores (0 before its first upload).
pub async fn storage_bytes<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
) -> sqlx::Result<i64> {
    let bytes: Option<i64> = sqlx::query_scalar(
        "SELECT storage_bytes FROM workspace_usage WHERE tenant_id = $1 AND workspace_id = $2",
    )
    .bind(tenant_id)
    .bind(workspace_id)
    .fetch_optional(ex)
    .await?;
    Ok(bytes.unwrap_or(0))
}

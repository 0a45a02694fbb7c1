//! Relations between tasks (blocks, relates to, duplicates), stored one way round.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

use crate::domain::enums::{RelationKind, TaskStatus};

#[derive(Debug, Clone, FromRow)]
pub struct RelationRow {
    pub id: String,
    pub task_id: String,
    pub related_id: String,
    pub kind: RelationKind,
    pub created_by: Option<String>,
    pub created_at: i64,
}

/// A relation seen from one of its tasks, with the other task's headline fields.
#[derive(Debug, Clone, FromRow)]
pub struct RelationView {
    #[sqlx(flatten)]
    pub relation: RelationRow,
    pub other_id: String,
    pub other_title: String,
    pub other_status: TaskStatus,
    pub other_project_id: String,
}

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    r: &RelationRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO task_relations (id, tenant_id, task_id, related_id, kind, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&r.id)
    .bind(tenant_id)
    .bind(&r.task_id)
    .bind(&r.related_id)
    .bind(r.kind)
    .bind(&r.created_by)
    .bind(r.created_at)
    .execute(ex)
    .await
    .map(drop)
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<RelationRow>> {
    sqlx::query_as(
        "SELECT id, task_id, related_id, kind, created_by, created_at FROM task_relations
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// Whether `a` is already related to `b` with this stored kind; for RELATES_TO and DUPLICATES
/// a row either way counts (B blocking A is not the same as A blocking B: it is a loop).
pub async fn exists_between<'c>(
    ex: impl Executor<'c, Database = Any>,
    a: &str,
    b: &str,
    kind: RelationKind,
) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM task_relations
         WHERE kind = $3 AND ((task_id = $1 AND related_id = $2)
            OR (kind <> 'BLOCKS' AND task_id = $2 AND related_id = $1))",
    )
    .bind(a)
    .bind(b)
    .bind(kind)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}

/// The tasks `task_id` blocks, for walking the blocking graph.
pub async fn blocked_tasks<'c>(
    ex: impl Executor<'c, Database = Any>,
    task_id: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT related_id FROM task_relations WHERE task_id = $1 AND kind = 'BLOCKS'",
    )
    .bind(task_id)
    .fetch_all(ex)
    .await
}

/// Every relation of the task, from either end, oldest first.
pub async fn of_task<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    task_id: &str,
) -> sqlx::Result<Vec<RelationView>> {
    sqlx::query_as(
        "SELECT r.id, r.task_id, r.related_id, r.kind, r.created_by, r.created_at,
                o.id AS other_id, o.title AS other_title, o.status AS other_status,
                o.project_id AS other_project_id
         FROM task_relations r
         JOIN tasks o ON o.id = CASE WHEN r.task_id = $2 THEN r.related_id ELSE r.task_id END
         WHERE r.tenant_id = $1 AND (r.task_id = $2 OR r.related_id = $2)
         ORDER BY r.created_at, r.id",
    )
    .bind(tenant_id)
    .bind(task_id)
    .fetch_all(ex)
    .await
}

pub async fn delete<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM task_relations WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

//! Workspace labels and which tasks carry them.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct LabelRow {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub color: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A label on a task, for hydrating task reads.
#[derive(Debug, Clone, FromRow)]
pub struct TaskLabel {
    pub task_id: String,
    pub id: String,
    pub name: String,
    pub color: String,
}

const SELECT: &str = "SELECT id, workspace_id, name, color, created_at, updated_at FROM labels";

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    l: &LabelRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO labels (id, tenant_id, workspace_id, name, color, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&l.id)
    .bind(tenant_id)
    .bind(&l.workspace_id)
    .bind(&l.name)
    .bind(&l.color)
    .bind(l.created_at)
    .bind(l.updated_at)
    .execute(ex)
    .await
    .map(drop)
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<LabelRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// A workspace's labels by name. Workspaces hold at most `MAX_PER_WORKSPACE`.
pub async fn list<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
) -> sqlx::Result<Vec<LabelRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE tenant_id = $1 AND workspace_id = $2 ORDER BY LOWER(name), id"
    )))
    .bind(tenant_id)
    .bind(workspace_id)
    .fetch_all(ex)
    .await
}

pub async fn count<'c>(
    ex: impl Executor<'c, Database = Any>,
    workspace_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM labels WHERE workspace_id = $1")
        .bind(workspace_id)
        .fetch_one(ex)
        .await
}

pub async fn update<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    name: &str,
    color: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE labels SET name = $1, color = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5",
    )
    .bind(name)
    .bind(color)
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes the label; its tasks lose it by cascade.
pub async fn delete<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM labels WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// How many of `ids` are labels of the workspace (each counted once).
pub async fn count_in_workspace<'c>(
    ex: impl Executor<'c, Database = Any>,
    workspace_id: &str,
    ids: &[String],
) -> sqlx::Result<i64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "SELECT COUNT(*) FROM labels WHERE workspace_id = $1 AND id IN ({})",
        marks(2, ids.len())
    );
    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(workspace_id);
    for id in ids {
        q = q.bind(id.as_str());
    }
    q.fetch_one(ex).await
}

/// Replaces a task's labels with `ids` (already checked to be the workspace's).
pub async fn set_for_task(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    task_id: &str,
    ids: &[String],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM task_labels WHERE task_id = $1")
        .bind(task_id)
        .execute(&mut *conn)
        .await?;
    for id in ids {
        sqlx::query("INSERT INTO task_labels (task_id, label_id, tenant_id) VALUES ($1, $2, $3)")
            .bind(task_id)
            .bind(id)
            .bind(tenant_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The labels of the given tasks, by name.
pub async fn of_tasks<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    task_ids: &[&str],
) -> sqlx::Result<Vec<TaskLabel>> {
    if task_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT tl.task_id, l.id, l.name, l.color FROM task_labels tl
         JOIN labels l ON l.id = tl.label_id
         WHERE tl.tenant_id = $1 AND tl.task_id IN ({})
         ORDER BY LOWER(l.name), l.id",
        marks(2, task_ids.len())
    );
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tenant_id);
    for id in task_ids {
        q = q.bind(*id);
    }
    q.fetch_all(ex).await
}

/// `$from, $from+1, …` for `n` values.
fn marks(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ids of a task's labels.
pub async fn ids_of_task<'c>(
    ex: impl Executor<'c, Database = Any>,
    task_id: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT label_id FROM task_labels WHERE task_id = $1 ORDER BY label_id")
        .bind(task_id)
        .fetch_all(ex)
        .await
}

//! Time spent on tasks: logged entries and running timers.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct TimeEntryRow {
    pub id: String,
    pub task_id: String,
    pub project_id: String,
    pub user_id: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub note: Option<String>,
    pub created_at: i64,
}

/// Time per member or per task of a project.
#[derive(Debug, Clone, FromRow)]
pub struct Total {
    pub id: String,
    pub name: String,
    pub spent_ms: i64,
}

const SELECT: &str =
    "SELECT id, task_id, project_id, user_id, started_at, ended_at, note, created_at
    FROM time_entries";

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    e: &TimeEntryRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO time_entries (id, tenant_id, task_id, project_id, user_id, started_at, ended_at, note, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&e.id)
    .bind(tenant_id)
    .bind(&e.task_id)
    .bind(&e.project_id)
    .bind(&e.user_id)
    .bind(e.started_at)
    .bind(e.ended_at)
    .bind(&e.note)
    .bind(e.created_at)
    .execute(ex)
    .await
    .map(drop)
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<TimeEntryRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// The user's running timer, on any task.
pub async fn running<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<TimeEntryRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE tenant_id = $1 AND user_id = $2 AND ended_at IS NULL"
    )))
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(ex)
    .await
}

/// Stops a running timer; false when it was not running (stopped by a concurrent request).
pub async fn stop<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    ended_at: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE time_entries SET ended_at = $1
         WHERE tenant_id = $2 AND id = $3 AND ended_at IS NULL",
    )
    .bind(ended_at)
    .bind(tenant_id)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn delete<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM time_entries WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The task's newest `limit` entries, newest first.
pub async fn of_task<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    task_id: &str,
    limit: i64,
) -> sqlx::Result<Vec<TimeEntryRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE tenant_id = $1 AND task_id = $2 ORDER BY started_at DESC, id DESC LIMIT $3"
    )))
    .bind(tenant_id)
    .bind(task_id)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Finished time in the project per member (`by_member`) or per task (the 500 most).
pub async fn project_totals<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    project_id: &str,
    by_member: bool,
) -> sqlx::Result<Vec<Total>> {
    let sql = if by_member {
        "SELECT e.user_id AS id, u.name AS name,
                CAST(SUM(e.ended_at - e.started_at) AS BIGINT) AS spent_ms
         FROM time_entries e JOIN users u ON u.id = e.user_id
         WHERE e.tenant_id = $1 AND e.project_id = $2 AND e.ended_at IS NOT NULL
         GROUP BY e.user_id, u.name ORDER BY spent_ms DESC, e.user_id"
    } else {
        "SELECT e.task_id AS id, t.title AS name,
                CAST(SUM(e.ended_at - e.started_at) AS BIGINT) AS spent_ms
         FROM time_entries e JOIN tasks t ON t.id = e.task_id
         WHERE e.tenant_id = $1 AND e.project_id = $2 AND e.ended_at IS NOT NULL
         GROUP BY e.task_id, t.title ORDER BY spent_ms DESC, e.task_id LIMIT 500"
    };
    sqlx::query_as(sql)
        .bind(tenant_id)
        .bind(project_id)
        .fetch_all(ex)
        .await
}

/// The project's total estimate, in minutes, over its tasks that have one.
pub async fn project_estimate_minutes<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    project_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(estimate_minutes), 0) AS BIGINT) FROM tasks
         WHERE tenant_id = $1 AND project_id = $2",
    )
    .bind(tenant_id)
    .bind(project_id)
    .fetch_one(ex)
    .await
}

/// A task's finished time.
pub async fn task_spent_ms<'c>(
    ex: impl Executor<'c, Database = Any>,
    task_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(ended_at - started_at), 0) AS BIGINT) FROM time_entries
         WHERE task_id = $1 AND ended_at IS NOT NULL",
    )
    .bind(task_id)
    .fetch_one(ex)
    .await
}

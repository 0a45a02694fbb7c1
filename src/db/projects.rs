use crate::domain::enums::{Priority, ProjectStatus};
use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct ProjectRow {
    pub id: String,
    pub tenant_id: String,
    pub workspace_id: String,
    pub name: String,
    pub description: Option<String>,
    pub status: ProjectStatus,
    pub priority: Priority,
    pub start_date: Option<i64>,
    pub end_date: Option<i64>,
    pub team_lead_id: Option<String>,
    pub created_by: Option<String>,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, tenant_id, workspace_id, name, description, status, priority, start_date, end_date, team_lead_id, created_by, archived_at, created_at, updated_at";

pub async fn insert<'c>(ex: impl Executor<'c, Database = Any>, p: &ProjectRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO projects (id, tenant_id, workspace_id, name, description, status, priority, start_date, end_date,
                               team_lead_id, created_by, archived_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&p.id)
    .bind(&p.tenant_id)
    .bind(&p.workspace_id)
    .bind(&p.name)
    .bind(&p.description)
    .bind(p.status)
    .bind(p.priority)
    .bind(p.start_date)
    .bind(p.end_date)
    .bind(&p.team_lead_id)
    .bind(&p.created_by)
    .bind(p.archived_at)
    .bind(p.created_at)
    .bind(p.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<ProjectRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM projects WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// A page of a workspace's projects in id order. With `visible_to`, only the projects that
/// user belongs to or leads.
pub async fn list_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
    visible_to: Option<&str>,
    after_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<ProjectRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM projects p
         WHERE p.tenant_id = $1 AND p.workspace_id = $2 AND p.id > $3
           AND ($4 IS NULL OR p.team_lead_id = $4
                OR EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = p.id AND pm.user_id = $4))
         ORDER BY p.id LIMIT $5"
    )))
    .bind(tenant_id)
    .bind(workspace_id)
    .bind(after_id.unwrap_or(""))
    .bind(visible_to)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Takes the project row's write lock for the rest of the transaction (a portable no-op update).
pub async fn lock<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE projects SET updated_at = updated_at WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .execute(ex)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// The fields a PATCH may change. `None` leaves a field alone; for nullable fields,
/// `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct ProjectChanges {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<ProjectStatus>,
    pub priority: Option<Priority>,
    pub start_date: Option<Option<i64>>,
    pub end_date: Option<Option<i64>>,
    pub team_lead_id: Option<Option<String>>,
    pub archived_at: Option<Option<i64>>,
}

/// Writes only the given fields, so concurrent updates of different fields both survive.
pub async fn update<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    c: &ProjectChanges,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE projects SET
            name = COALESCE($1, name),
            description = CASE WHEN $2 = 1 THEN $3 ELSE description END,
            status = COALESCE($4, status),
            priority = COALESCE($5, priority),
            start_date = CASE WHEN $6 = 1 THEN $7 ELSE start_date END,
            end_date = CASE WHEN $8 = 1 THEN $9 ELSE end_date END,
            team_lead_id = CASE WHEN $10 = 1 THEN $11 ELSE team_lead_id END,
            archived_at = CASE WHEN $12 = 1 THEN $13 ELSE archived_at END,
            updated_at = $14
         WHERE tenant_id = $15 AND id = $16",
    )
    .bind(&c.name)
    .bind(i64::from(c.description.is_some()))
    .bind(c.description.clone().flatten())
    .bind(c.status)
    .bind(c.priority)
    .bind(i64::from(c.start_date.is_some()))
    .bind(c.start_date.flatten())
    .bind(i64::from(c.end_date.is_some()))
    .bind(c.end_date.flatten())
    .bind(i64::from(c.team_lead_id.is_some()))
    .bind(c.team_lead_id.clone().flatten())
    .bind(i64::from(c.archived_at.is_some()))
    .bind(c.archived_at.flatten())
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}

/// Deletes the project; tasks, comments, members and its activity go with it.
pub async fn delete<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM projects WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

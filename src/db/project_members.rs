use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct ProjectMemberRow {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub image_url: Option<String>,
    pub created_at: i64,
}

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    project_id: &str,
    user_id: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO project_members (project_id, user_id, tenant_id, created_at) VALUES ($1, $2, $3, $4)")
        .bind(project_id)
        .bind(user_id)
        .bind(tenant_id)
        .bind(now)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn delete<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    project_id: &str,
    user_id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM project_members WHERE tenant_id = $1 AND project_id = $2 AND user_id = $3",
    )
    .bind(tenant_id)
    .bind(project_id)
    .bind(user_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn is_member<'c>(
    ex: impl Executor<'c, Database = Any>,
    project_id: &str,
    user_id: &str,
) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM project_members WHERE project_id = $1 AND user_id = $2",
    )
    .bind(project_id)
    .bind(user_id)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}

/// A page of members with their public user fields, in user-id order.
pub async fn list_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    project_id: &str,
    after_user_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<ProjectMemberRow>> {
    sqlx::query_as(
        "SELECT pm.user_id, u.email, u.name, u.image_url, pm.created_at
         FROM project_members pm JOIN users u ON u.id = pm.user_id
         WHERE pm.tenant_id = $1 AND pm.project_id = $2 AND pm.user_id > $3
         ORDER BY pm.user_id LIMIT $4",
    )
    .bind(tenant_id)
    .bind(project_id)
    .bind(after_user_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

pub async fn find_with_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    project_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<ProjectMemberRow>> {
    sqlx::query_as(
        "SELECT pm.user_id, u.email, u.name, u.image_url, pm.created_at
         FROM project_members pm JOIN users u ON u.id = pm.user_id
         WHERE pm.tenant_id = $1 AND pm.project_id = $2 AND pm.user_id = $3",
    )
    .bind(tenant_id)
    .bind(project_id)
    .bind(user_id)
    .fetch_optional(ex)
    .await
}

use crate::domain::enums::WorkspaceRole;
use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct MemberRow {
    pub workspace_id: String,
    pub user_id: String,
    pub role: WorkspaceRole,
    pub custom_role_id: Option<String>,
    pub created_at: i64,
}

/// A member with the user's public fields, for listings.
#[derive(Debug, Clone, FromRow)]
pub struct MemberWithUser {
    pub user_id: String,
    pub role: WorkspaceRole,
    pub custom_role_id: Option<String>,
    pub created_at: i64,
    pub email: String,
    pub name: String,
    pub image_url: Option<String>,
}

pub struct NewMember<'a> {
    pub tenant_id: &'a str,
    pub workspace_id: &'a str,
    pub user_id: &'a str,
    pub role: WorkspaceRole,
    pub custom_role_id: Option<&'a str>,
    pub now: i64,
}

/// Adds a member. A concurrent or repeated add of the same user fails with a unique violation,
/// which callers map to a conflict.
pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    m: &NewMember<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO workspace_members (workspace_id, user_id, tenant_id, role, custom_role_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(m.workspace_id)
    .bind(m.user_id)
    .bind(m.tenant_id)
    .bind(m.role)
    .bind(m.custom_role_id)
    .bind(m.now)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<MemberRow>> {
    sqlx::query_as(
        "SELECT workspace_id, user_id, role, custom_role_id, created_at FROM workspace_members
         WHERE tenant_id = $1 AND workspace_id = $2 AND user_id = $3",
    )
    .bind(tenant_id)
    .bind(workspace_id)
    .bind(user_id)
    .fetch_optional(ex)
    .await
}

/// A page of members in user-id order after `after_user_id`.
pub async fn list_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
    after_user_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<MemberWithUser>> {
    sqlx::query_as(
        "SELECT m.user_id, m.role, m.custom_role_id, m.created_at, u.email, u.name, u.image_url
         FROM workspace_members m JOIN users u ON u.id = m.user_id
         WHERE m.tenant_id = $1 AND m.workspace_id = $2 AND m.user_id > $3
         ORDER BY m.user_id LIMIT $4",
    )
    .bind(tenant_id)
    .bind(workspace_id)
    .bind(after_user_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

pub async fn set_role<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
    user_id: &str,
    role: &str,
    custom_role_id: Option<&str>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE workspace_members SET role = $1, custom_role_id = $2
         WHERE tenant_id = $3 AND workspace_id = $4 AND user_id = $5",
    )
    .bind(role)
    .bind(custom_role_id)
    .bind(tenant_id)
    .bind(workspace_id)
    .bind(user_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes the member, and their project memberships in this workspace.
pub async fn delete(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    workspace_id: &str,
    user_id: &str,
) -> sqlx::Result<bool> {
    sqlx::query(
        "DELETE FROM project_members WHERE tenant_id = $1 AND user_id = $2
         AND project_id IN (SELECT id FROM projects WHERE workspace_id = $3)",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(workspace_id)
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query(
        "DELETE FROM workspace_members WHERE tenant_id = $1 AND workspace_id = $2 AND user_id = $3",
    )
    .bind(tenant_id)
    .bind(workspace_id)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn count_owners<'c>(
    ex: impl Executor<'c, Database = Any>,
    workspace_id: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM workspace_members WHERE workspace_id = $1 AND role = 'OWNER'",
    )
    .bind(workspace_id)
    .fetch_one(ex)
    .await
}

/// Where a user stands towards a project: its workspace, its lead, whether they are a project
/// member, and their workspace role. `None` when the project is not in this tenant or the user
/// is not in its workspace. One read, because every project-scoped request makes it.
#[derive(Debug, Clone, FromRow)]
pub struct ProjectStanding {
    pub workspace_id: String,
    pub team_lead_id: Option<String>,
    pub is_member: i64,
    pub role: WorkspaceRole,
    pub custom_role_id: Option<String>,
}

pub async fn project_standing<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    project_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<ProjectStanding>> {
    sqlx::query_as(
        "SELECT p.workspace_id, p.team_lead_id,
                (SELECT COUNT(*) FROM project_members pm WHERE pm.project_id = p.id AND pm.user_id = $3) AS is_member,
                m.role, m.custom_role_id
         FROM projects p
         JOIN workspace_members m
           ON m.tenant_id = p.tenant_id AND m.workspace_id = p.workspace_id AND m.user_id = $3
         WHERE p.tenant_id = $1 AND p.id = $2",
    )
    .bind(tenant_id)
    .bind(project_id)
    .bind(user_id)
    .fetch_optional(ex)
    .await
}

pub async fn find_with_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<MemberWithUser>> {
    sqlx::query_as(
        "SELECT m.user_id, m.role, m.custom_role_id, m.created_at, u.email, u.name, u.image_url
         FROM workspace_members m JOIN users u ON u.id = m.user_id
         WHERE m.tenant_id = $1 AND m.workspace_id = $2 AND m.user_id = $3",
    )
    .bind(tenant_id)
    .bind(workspace_id)
    .bind(user_id)
    .fetch_optional(ex)
    .await
}

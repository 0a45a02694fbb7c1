use crate::domain::enums::WorkspaceRole;
use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct WorkspaceRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub slug: String,
    pub image_url: Option<String>,
    pub owner_id: String,
    pub personal_of: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A workspace together with the caller's membership in it.
#[derive(Debug, Clone, FromRow)]
pub struct WorkspaceWithRole {
    #[sqlx(flatten)]
    pub workspace: WorkspaceRow,
    pub role: WorkspaceRole,
    pub custom_role_id: Option<String>,
}

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    w: &WorkspaceRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO workspaces (id, tenant_id, name, slug, image_url, owner_id, personal_of, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&w.id)
    .bind(&w.tenant_id)
    .bind(&w.name)
    .bind(&w.slug)
    .bind(&w.image_url)
    .bind(&w.owner_id)
    .bind(&w.personal_of)
    .bind(w.created_at)
    .bind(w.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<WorkspaceRow>> {
    sqlx::query_as(
        "SELECT id, tenant_id, name, slug, image_url, owner_id, personal_of, created_at, updated_at
         FROM workspaces WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// A page of every workspace in the tenant (the operator's view), oldest first.
pub async fn list_tenant_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<WorkspaceRow>> {
    sqlx::query_as(
        "SELECT id, tenant_id, name, slug, image_url, owner_id, personal_of, created_at, updated_at
         FROM workspaces WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(tenant_id)
    .bind(after_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

pub async fn find_personal<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    user_id: &str,
) -> sqlx::Result<Option<WorkspaceRow>> {
    sqlx::query_as(
        "SELECT id, tenant_id, name, slug, image_url, owner_id, personal_of, created_at, updated_at
         FROM workspaces WHERE tenant_id = $1 AND personal_of = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(ex)
    .await
}

/// The caller's workspaces with their role, in id order after `after_id`.
pub async fn list_for_user<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    user_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<WorkspaceWithRole>> {
    sqlx::query_as(
        "SELECT w.id, w.tenant_id, w.name, w.slug, w.image_url, w.owner_id, w.personal_of,
                w.created_at, w.updated_at, m.role, m.custom_role_id
         FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
         WHERE m.tenant_id = $1 AND m.user_id = $2 AND w.id > $3
         ORDER BY w.id LIMIT $4",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(after_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

pub struct WorkspaceChanges<'a> {
    pub name: Option<&'a str>,
    pub slug: Option<&'a str>,
    /// `Some(None)` clears the image.
    pub image_url: Option<Option<&'a str>>,
}

/// Applies only the fields that are given; the others keep their stored values.
pub async fn update<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    changes: &WorkspaceChanges<'_>,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE workspaces SET
            name = COALESCE($1, name),
            slug = COALESCE($2, slug),
            image_url = CASE WHEN $3 = 1 THEN $4 ELSE image_url END,
            updated_at = $5
         WHERE tenant_id = $6 AND id = $7",
    )
    .bind(changes.name)
    .bind(changes.slug)
    .bind(i64::from(changes.image_url.is_some()))
    .bind(changes.image_url.flatten())
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes the workspace; members, invitations, projects, tasks, comments and activity go with
/// it through foreign keys.
pub async fn delete<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM workspaces WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Takes the workspace row's write lock for the rest of the transaction (a no-op update is the
/// portable way), so membership rules such as "keep one owner" hold under concurrent changes.
pub async fn lock<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE workspaces SET updated_at = updated_at WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Workspaces of every tenant: `kanri demo` fills only an install that has none.
pub async fn count_all<'c>(db: impl Executor<'c, Database = Any>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM workspaces")
        .fetch_one(db)
        .await
}

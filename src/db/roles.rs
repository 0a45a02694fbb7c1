use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct RoleRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// A JSON array of permission patterns.
    pub permissions: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<RoleRow>> {
    sqlx::query_as(
        "SELECT id, tenant_id, name, permissions, created_at, updated_at FROM roles WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

const COLUMNS: &str = "id, tenant_id, name, permissions, created_at, updated_at";

/// Adds a role. A name already used in the tenant fails with a unique violation, which the
/// caller maps to a conflict.
pub async fn insert<'c>(ex: impl Executor<'c, Database = Any>, r: &RoleRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO roles (id, tenant_id, name, permissions, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&r.id)
    .bind(&r.tenant_id)
    .bind(&r.name)
    .bind(&r.permissions)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// A page of the tenant's roles in id (= creation) order after `after_id`.
pub async fn list_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<RoleRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM roles WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    )))
    .bind(tenant_id)
    .bind(after_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Applies only the fields that are given; returns false when there is no such role.
pub async fn update<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    name: Option<&str>,
    permissions: Option<&str>,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE roles SET name = COALESCE($1, name), permissions = COALESCE($2, permissions),
                updated_at = $3
         WHERE tenant_id = $4 AND id = $5",
    )
    .bind(name)
    .bind(permissions)
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes a role. Members and invitations that carried it fall back to their built-in role
/// (`custom_role_id` is `ON DELETE SET NULL`).
pub async fn delete<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM roles WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

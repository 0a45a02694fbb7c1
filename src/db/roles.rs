use sqlx::{Any, Executor, FromRow};

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

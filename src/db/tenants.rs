use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

pub const DEFAULT_TENANT_ID: &str = "default";

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    row: &TenantRow,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&row.id)
        .bind(&row.name)
        .bind(row.created_at)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
) -> sqlx::Result<Option<TenantRow>> {
    sqlx::query_as("SELECT id, name, created_at FROM tenants WHERE id = $1")
        .bind(id)
        .fetch_optional(ex)
        .await
}

pub async fn list<'c>(ex: impl Executor<'c, Database = Any>) -> sqlx::Result<Vec<TenantRow>> {
    sqlx::query_as("SELECT id, name, created_at FROM tenants ORDER BY created_at, id")
        .fetch_all(ex)
        .await
}

/// Takes the tenant row's write lock for the rest of the transaction (a portable no-op update),
/// so checks across the tenant's rows (its last secret key) cannot race.
pub async fn lock<'c>(ex: impl Executor<'c, Database = Any>, id: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE tenants SET name = name WHERE id = $1")
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

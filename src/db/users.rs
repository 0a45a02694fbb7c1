use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub name: String,
    pub image_url: Option<String>,
    pub password_hash: Option<String>,
    pub external_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, tenant_id, email, name, image_url, password_hash, external_id, created_at, updated_at";

pub struct NewUser<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub name: &'a str,
    pub password_hash: Option<&'a str>,
    pub now: i64,
}

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    u: &NewUser<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, email_normalized, name, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(u.id)
    .bind(u.tenant_id)
    .bind(u.email)
    .bind(u.email_normalized)
    .bind(u.name)
    .bind(u.password_hash)
    .bind(u.now)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find_by_email<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    email_normalized: &str,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE tenant_id = $1 AND email_normalized = $2"
    )))
    .bind(tenant_id)
    .bind(email_normalized)
    .fetch_optional(ex)
    .await
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// A page of a tenant's users in id (= creation) order, after `after_id` when given.
pub async fn list_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<UserRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    )))
    .bind(tenant_id)
    .bind(after_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

pub async fn set_password_hash<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    password_hash: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(password_hash)
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}

/// Deletes the user; sessions go with it through the foreign key. Returns whether it existed.
pub async fn delete<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM users WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn find_id_by_email<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    email_normalized: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT id FROM users WHERE tenant_id = $1 AND email_normalized = $2")
        .bind(tenant_id)
        .bind(email_normalized)
        .fetch_optional(ex)
        .await
}

pub async fn exists<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM users WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(ex)
            .await?;
    Ok(found.is_some())
}

pub async fn find_by_external_id<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    external_id: &str,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE tenant_id = $1 AND external_id = $2"
    )))
    .bind(tenant_id)
    .bind(external_id)
    .fetch_optional(ex)
    .await
}

/// A user's profile as an identity provider states it.
pub struct ExternalProfile<'a> {
    pub external_id: &'a str,
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub name: &'a str,
    pub image_url: Option<&'a str>,
    pub now: i64,
}

/// Creates a user known to an identity provider, without a password.
pub async fn insert_external<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
    tenant_id: &str,
    p: &ExternalProfile<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, email_normalized, name, image_url, external_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(p.email)
    .bind(p.email_normalized)
    .bind(p.name)
    .bind(p.image_url)
    .bind(p.external_id)
    .bind(p.now)
    .execute(ex)
    .await?;
    Ok(())
}

/// Writes the provider's profile onto user `id` and links it to the external id, unless the
/// user is linked to another external id meanwhile. Returns whether a row changed.
pub async fn apply_external_profile<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    p: &ExternalProfile<'_>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET email = $1, email_normalized = $2, name = $3, image_url = $4,
                external_id = $5, updated_at = $6
         WHERE tenant_id = $7 AND id = $8 AND (external_id IS NULL OR external_id = $5)",
    )
    .bind(p.email)
    .bind(p.email_normalized)
    .bind(p.name)
    .bind(p.image_url)
    .bind(p.external_id)
    .bind(p.now)
    .bind(tenant_id)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Removes a user's password, so they can sign in only through their identity provider (or
/// after a password reset to their verified address).
pub async fn clear_password<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET password_hash = NULL WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

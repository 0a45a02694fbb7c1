//! A workspace's outgoing-webhook endpoints. `secret` and `previous_secret` hold sealed
//! secrets (`webhooks::cipher`), never plain ones.

use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct EndpointRow {
    pub id: String,
    pub tenant_id: String,
    pub workspace_id: String,
    pub url: String,
    pub description: String,
    /// A JSON array of event patterns.
    pub events: String,
    pub enabled: i64,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<i64>,
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, tenant_id, workspace_id, url, description, events, enabled, secret, \
     previous_secret, previous_secret_until, failing_since, created_at, updated_at";

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    r: &EndpointRow,
) -> sqlx::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO webhook_endpoints ({COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    )))
    .bind(&r.id)
    .bind(&r.tenant_id)
    .bind(&r.workspace_id)
    .bind(&r.url)
    .bind(&r.description)
    .bind(&r.events)
    .bind(r.enabled)
    .bind(&r.secret)
    .bind(&r.previous_secret)
    .bind(r.previous_secret_until)
    .bind(r.failing_since)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<EndpointRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// A page of a workspace's endpoints in id (= creation) order after `after_id`.
pub async fn list_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<EndpointRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints
         WHERE tenant_id = $1 AND workspace_id = $2 AND id > $3 ORDER BY id LIMIT $4"
    )))
    .bind(tenant_id)
    .bind(workspace_id)
    .bind(after_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// A page of every endpoint in the tenant, whatever its workspace (the operator's view).
pub async fn list_tenant_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<EndpointRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3"
    )))
    .bind(tenant_id)
    .bind(after_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// The enabled endpoints of a workspace with their patterns: whom its events go to.
pub async fn subscribed<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    workspace_id: &str,
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT id, events FROM webhook_endpoints
         WHERE tenant_id = $1 AND workspace_id = $2 AND enabled = 1 ORDER BY id",
    )
    .bind(tenant_id)
    .bind(workspace_id)
    .fetch_all(ex)
    .await
}

/// The fields a PATCH may change; what is `None` stays.
pub struct EndpointChange<'a> {
    pub url: Option<&'a str>,
    pub description: Option<&'a str>,
    pub events: Option<&'a str>,
    pub enabled: Option<bool>,
}

/// Applies `change`; re-enabling starts the failure clock afresh. False when there is no such
/// endpoint.
pub async fn update<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    change: &EndpointChange<'_>,
    now: i64,
) -> sqlx::Result<bool> {
    let enabled = change.enabled.map(i64::from);
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET url = COALESCE($1, url),
                description = COALESCE($2, description), events = COALESCE($3, events),
                enabled = COALESCE($4, enabled),
                failing_since = CASE WHEN $5 = 1 THEN NULL ELSE failing_since END,
                updated_at = $6
         WHERE tenant_id = $7 AND id = $8",
    )
    .bind(change.url)
    .bind(change.description)
    .bind(change.events)
    .bind(enabled)
    .bind(enabled.unwrap_or(0))
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Installs a new sealed secret; the current one keeps signing until `previous_until`. One
/// statement reads and moves the current secret, so two rotations racing each other cannot
/// both keep the same (stale) secret as the previous one.
pub async fn rotate<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    secret: &str,
    previous_until: i64,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET previous_secret = secret, secret = $1,
                previous_secret_until = $2, updated_at = $3
         WHERE tenant_id = $4 AND id = $5",
    )
    .bind(secret)
    .bind(previous_until)
    .bind(now)
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
    let done = sqlx::query("DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Notes a failed attempt: starts the failure clock unless it runs. Returns since when the
/// endpoint has been failing.
pub async fn mark_failing<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    let since: Option<(Option<i64>,)> = sqlx::query_as(
        "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1)
         WHERE id = $2 RETURNING failing_since",
    )
    .bind(now)
    .bind(id)
    .fetch_optional(ex)
    .await?;
    Ok(since.and_then(|(s,)| s))
}

/// A success stops the failure clock.
pub async fn clear_failing<'c>(
    ex: impl Executor<'c, Database = Any>,
    id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhook_endpoints SET failing_since = NULL
         WHERE id = $1 AND failing_since IS NOT NULL",
    )
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}

/// Disables an enabled endpoint; false when it was not enabled (someone else got there first).
pub async fn disable<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET enabled = 0, updated_at = $1
         WHERE tenant_id = $2 AND id = $3 AND enabled = 1",
    )
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

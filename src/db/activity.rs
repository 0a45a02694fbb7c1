use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

use crate::config::Engine;

#[derive(Debug, Clone, FromRow)]
pub struct ActivityRow {
    pub id: i64,
    pub workspace_id: Option<String>,
    pub project_id: Option<String>,
    pub actor_id: Option<String>,
    pub kind: String,
    pub subject_type: String,
    pub subject_id: String,
    pub payload: String,
    pub created_at: i64,
}

pub struct NewActivity<'a> {
    pub tenant_id: &'a str,
    /// `None` for tenant-level events (users, roles, keys, a deleted workspace).
    pub workspace_id: Option<&'a str>,
    pub project_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub kind: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub payload: &'a str,
    /// The task the event concerns (its subject, or a comment's or attachment's task).
    pub task_id: Option<&'a str>,
    /// The user the event concerns (a member added or removed, an assignee).
    pub user_id: Option<&'a str>,
    pub now: i64,
}

/// Makes event ids follow commit order within a tenant: call it on the writing transaction
/// right before its events are appended, which is right before it commits. On Postgres an id
/// is drawn at insert, so two writers could commit in the other order than their ids and a
/// client resuming after the higher id would miss the lower one; a transaction-scoped advisory
/// lock per tenant makes the next writer wait until this one has committed. On SQLite the
/// write transaction (`BEGIN IMMEDIATE`) already holds the database's only write lock.
pub async fn order_commits(
    conn: &mut sqlx::AnyConnection,
    engine: Engine,
    tenant_id: &str,
) -> sqlx::Result<()> {
    match engine {
        Engine::Sqlite => Ok(()),
        Engine::Postgres => sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended('kanri.activity:' || $1, 0))",
        )
        .bind(tenant_id)
        .execute(conn)
        .await
        .map(drop),
    }
}

/// Appends an event and returns its id. Call it inside the transaction of the change it records.
pub async fn append<'c>(
    ex: impl Executor<'c, Database = Any>,
    a: &NewActivity<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO activity (tenant_id, workspace_id, project_id, actor_id, kind, subject_type, subject_id, payload, task_id, user_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(a.tenant_id)
    .bind(a.workspace_id)
    .bind(a.project_id)
    .bind(a.actor_id)
    .bind(a.kind)
    .bind(a.subject_type)
    .bind(a.subject_id)
    .bind(a.payload)
    .bind(a.task_id)
    .bind(a.user_id)
    .bind(a.now)
    .fetch_one(ex)
    .await
}

/// A project's events after `after_id`, oldest first.
pub async fn list_for_project<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    project_id: &str,
    after_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<ActivityRow>> {
    sqlx::query_as(
        "SELECT id, workspace_id, project_id, actor_id, kind, subject_type, subject_id, payload, created_at
         FROM activity WHERE tenant_id = $1 AND project_id = $2 AND id > $3 ORDER BY id LIMIT $4",
    )
    .bind(tenant_id)
    .bind(project_id)
    .bind(after_id)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// A task's events after `after_id`, oldest first: its own and its comments' and attachments'.
pub async fn list_for_task<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    task_id: &str,
    after_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<ActivityRow>> {
    sqlx::query_as(
        "SELECT id, workspace_id, project_id, actor_id, kind, subject_type, subject_id, payload, created_at
         FROM activity WHERE task_id = $1 AND tenant_id = $2 AND id > $3 ORDER BY id LIMIT $4",
    )
    .bind(task_id)
    .bind(tenant_id)
    .bind(after_id)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// A tenant's events after `after_id`, oldest first: its audit log.
pub async fn list_for_tenant<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    after_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<ActivityRow>> {
    sqlx::query_as(
        "SELECT id, workspace_id, project_id, actor_id, kind, subject_type, subject_id, payload, created_at
         FROM activity WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(tenant_id)
    .bind(after_id)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// An event as the realtime hub routes it: with its tenant and the task and user it concerns.
#[derive(Debug, Clone, FromRow)]
pub struct FeedRow {
    pub id: i64,
    pub tenant_id: String,
    pub workspace_id: Option<String>,
    pub project_id: Option<String>,
    pub actor_id: Option<String>,
    pub kind: String,
    pub subject_type: String,
    pub subject_id: String,
    pub payload: String,
    pub task_id: Option<String>,
    pub user_id: Option<String>,
    pub created_at: i64,
}

const FEED_COLUMNS: &str = "id, tenant_id, workspace_id, project_id, actor_id, kind, subject_type, subject_id, payload, task_id, user_id, created_at";

/// The newest event id, or 0 for an empty log.
pub async fn max_id<'c>(ex: impl Executor<'c, Database = Any>) -> sqlx::Result<i64> {
    let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM activity")
        .fetch_one(ex)
        .await?;
    Ok(id.unwrap_or(0))
}

/// Every tenant's events after `after_id`, oldest first: the hub's tail of the log.
pub async fn feed_after<'c>(
    ex: impl Executor<'c, Database = Any>,
    after_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<FeedRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FEED_COLUMNS} FROM activity WHERE id > $1 ORDER BY id LIMIT $2"
    )))
    .bind(after_id)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// The events with these ids (at most a few hundred), oldest first.
pub async fn feed_by_ids<'c>(
    ex: impl Executor<'c, Database = Any>,
    ids: &[i64],
) -> sqlx::Result<Vec<FeedRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // `Any` binds no arrays, so the list is one numbered placeholder per id.
    let params: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT {FEED_COLUMNS} FROM activity WHERE id IN ({}) ORDER BY id",
        params.join(", ")
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(ex).await
}

/// Which column selects a channel's events.
#[derive(Debug, Clone, Copy)]
pub enum ChannelColumn {
    Project,
    Task,
    User,
}

impl ChannelColumn {
    fn column(self) -> &'static str {
        match self {
            Self::Project => "project_id",
            Self::Task => "task_id",
            Self::User => "user_id",
        }
    }
}

/// A channel's events in one tenant after `after_id`, oldest first.
pub async fn channel_after<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    column: ChannelColumn,
    key: &str,
    after_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<FeedRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FEED_COLUMNS} FROM activity WHERE tenant_id = $1 AND {} = $2 AND id > $3 ORDER BY id LIMIT $4",
        column.column()
    )))
    .bind(tenant_id)
    .bind(key)
    .bind(after_id)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// The newest id of a channel's events in one tenant, or 0 when it has none. Within a tenant
/// ids follow commit order, so every event committed after this read has a higher id.
pub async fn channel_max_id<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    column: ChannelColumn,
    key: &str,
) -> sqlx::Result<i64> {
    let id: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT MAX(id) FROM activity WHERE tenant_id = $1 AND {} = $2",
        column.column()
    )))
    .bind(tenant_id)
    .bind(key)
    .fetch_one(ex)
    .await?;
    Ok(id.unwrap_or(0))
}

/// How many of a channel's events follow `after_id`, counting no further than `cap`.
pub async fn channel_count_after<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    column: ChannelColumn,
    key: &str,
    after_id: i64,
    cap: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM (SELECT id FROM activity WHERE tenant_id = $1 AND {} = $2 AND id > $3 LIMIT $4) AS recent",
        column.column()
    )))
    .bind(tenant_id)
    .bind(key)
    .bind(after_id)
    .bind(cap)
    .fetch_one(ex)
    .await
}

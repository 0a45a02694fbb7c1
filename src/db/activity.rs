use sqlx::{Any, Executor, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct ActivityRow {
    pub id: i64,
    pub workspace_id: String,
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
    pub workspace_id: &'a str,
    pub project_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub kind: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub payload: &'a str,
    pub now: i64,
}

/// Appends an event and returns its id. Call it inside the transaction of the change it records.
pub async fn append<'c>(
    ex: impl Executor<'c, Database = Any>,
    a: &NewActivity<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO activity (tenant_id, workspace_id, project_id, actor_id, kind, subject_type, subject_id, payload, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(a.tenant_id)
    .bind(a.workspace_id)
    .bind(a.project_id)
    .bind(a.actor_id)
    .bind(a.kind)
    .bind(a.subject_type)
    .bind(a.subject_id)
    .bind(a.payload)
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

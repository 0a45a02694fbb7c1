use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct CommentRow {
    pub id: String,
    pub task_id: String,
    pub author_id: Option<String>,
    pub content: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A comment with its author's public fields.
#[derive(Debug, Clone, FromRow)]
pub struct CommentWithAuthor {
    #[sqlx(flatten)]
    pub comment: CommentRow,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub author_image_url: Option<String>,
}

const SELECT: &str = "SELECT c.id, c.task_id, c.author_id, c.content, c.created_at, c.updated_at,
        u.name AS author_name, u.email AS author_email, u.image_url AS author_image_url
    FROM comments c LEFT JOIN users u ON u.id = c.author_id";

pub async fn insert<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    c: &CommentRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO comments (id, tenant_id, task_id, author_id, content, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&c.id)
    .bind(tenant_id)
    .bind(&c.task_id)
    .bind(&c.author_id)
    .bind(&c.content)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<CommentWithAuthor>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE c.tenant_id = $1 AND c.id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// A page of a task's comments, oldest first (ids are time-ordered).
pub async fn list_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    task_id: &str,
    after_id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<CommentWithAuthor>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE c.tenant_id = $1 AND c.task_id = $2 AND c.id > $3 ORDER BY c.id LIMIT $4"
    )))
    .bind(tenant_id)
    .bind(task_id)
    .bind(after_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// The comments of some tasks of one project in one query: at most `per_task` of each task,
/// oldest first, ordered by task. A task id outside the project matches nothing. The ids are
/// bound as parameters (`$4, $5, …`); only the placeholders are written into the text.
pub async fn list_for_tasks<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    project_id: &str,
    task_ids: &[&str],
    per_task: i64,
) -> sqlx::Result<Vec<CommentWithAuthor>> {
    if task_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = (4..4 + task_ids.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT c.id, c.task_id, c.author_id, c.content, c.created_at, c.updated_at,
                u.name AS author_name, u.email AS author_email, u.image_url AS author_image_url
         FROM (SELECT cm.id, cm.task_id, cm.author_id, cm.content, cm.created_at, cm.updated_at,
                      ROW_NUMBER() OVER (PARTITION BY cm.task_id ORDER BY cm.id) AS n
               FROM comments cm JOIN tasks t ON t.id = cm.task_id
               WHERE cm.tenant_id = $1 AND t.tenant_id = $1 AND t.project_id = $2
                 AND cm.task_id IN ({placeholders})) c
         LEFT JOIN users u ON u.id = c.author_id
         WHERE c.n <= $3
         ORDER BY c.task_id, c.id"
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .bind(project_id)
        .bind(per_task);
    for id in task_ids {
        query = query.bind(*id);
    }
    query.fetch_all(ex).await
}

pub async fn update_content<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    content: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE comments SET content = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(content)
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
    let done = sqlx::query("DELETE FROM comments WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

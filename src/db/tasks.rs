use crate::domain::enums::{Priority, TaskStatus, TaskType};
use sqlx::{Any, Executor};
use sqlx_macros::FromRow;

#[derive(Debug, Clone, FromRow)]
pub struct TaskRow {
    pub id: String,
    pub tenant_id: String,
    pub project_id: String,
    pub title: String,
    pub description: Option<String>,
    pub status: TaskStatus,
    #[sqlx(rename = "type")]
    pub kind: TaskType,
    pub priority: Priority,
    pub assignee_id: Option<String>,
    pub due_date: Option<i64>,
    pub position: String,
    pub created_by: Option<String>,
    pub completed_at: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The task this is a subtask of (same project).
    pub parent_id: Option<String>,
    pub estimate_minutes: Option<i64>,
    /// The canonical repeat rule (`domain::recurrence`).
    pub recurrence: Option<String>,
    /// The occurrence completing this one created.
    pub recurrence_next_id: Option<String>,
}

/// A task with what a reader needs next to it: the assignee's public fields and the number of
/// comments and attachments.
#[derive(Debug, Clone, FromRow)]
pub struct TaskDetail {
    #[sqlx(flatten)]
    pub task: TaskRow,
    pub assignee_name: Option<String>,
    pub assignee_email: Option<String>,
    pub assignee_image_url: Option<String>,
    pub comments_count: i64,
    pub attachments_count: i64,
    pub subtasks_count: i64,
    pub subtasks_done: i64,
    /// Whether labels need loading (`db::labels::of_tasks`): most tasks have none.
    pub labels_count: i64,
    /// Finished time entries' total.
    pub time_spent_ms: i64,
}

impl TaskDetail {
    /// The detail of a task nothing refers to yet (just inserted, no assignee): no comments,
    /// attachments, subtasks, labels or time.
    pub fn unreferenced(task: TaskRow) -> Self {
        Self {
            task,
            assignee_name: None,
            assignee_email: None,
            assignee_image_url: None,
            comments_count: 0,
            attachments_count: 0,
            subtasks_count: 0,
            subtasks_done: 0,
            labels_count: 0,
            time_spent_ms: 0,
        }
    }
}

/// The columns of a `TaskRow`, on the table aliased `t` (a macro, for `concat!`).
macro_rules! row_columns {
    () => {
        "t.id, t.tenant_id, t.project_id, t.title, t.description, t.status, t.type,
        t.priority, t.assignee_id, t.due_date, t.position, t.created_by, t.completed_at, t.version,
        t.created_at, t.updated_at, t.parent_id, t.estimate_minutes, t.recurrence,
        t.recurrence_next_id"
    };
}

pub(crate) const DETAIL_SELECT: &str = concat!(
    "SELECT ",
    row_columns!(),
    ",
        u.name AS assignee_name, u.email AS assignee_email, u.image_url AS assignee_image_url,
        (SELECT COUNT(*) FROM comments c WHERE c.task_id = t.id) AS comments_count,
        (SELECT COUNT(*) FROM attachments a WHERE a.task_id = t.id AND a.deleted_at IS NULL)
            AS attachments_count,
        (SELECT COUNT(*) FROM tasks s WHERE s.parent_id = t.id) AS subtasks_count,
        (SELECT COUNT(*) FROM tasks s WHERE s.parent_id = t.id AND s.status = 'DONE')
            AS subtasks_done,
        (SELECT COUNT(*) FROM task_labels tl WHERE tl.task_id = t.id) AS labels_count,
        (SELECT CAST(COALESCE(SUM(e.ended_at - e.started_at), 0) AS BIGINT) FROM time_entries e
            WHERE e.task_id = t.id AND e.ended_at IS NOT NULL) AS time_spent_ms
    FROM tasks t LEFT JOIN users u ON u.id = t.assignee_id"
);

pub async fn insert<'c>(ex: impl Executor<'c, Database = Any>, t: &TaskRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO tasks (id, tenant_id, project_id, title, description, status, type, priority, assignee_id,
                            due_date, position, created_by, completed_at, version, created_at, updated_at,
                            parent_id, estimate_minutes, recurrence, recurrence_next_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(&t.id)
    .bind(&t.tenant_id)
    .bind(&t.project_id)
    .bind(&t.title)
    .bind(&t.description)
    .bind(t.status)
    .bind(t.kind)
    .bind(t.priority)
    .bind(&t.assignee_id)
    .bind(t.due_date)
    .bind(&t.position)
    .bind(&t.created_by)
    .bind(t.completed_at)
    .bind(t.version)
    .bind(t.created_at)
    .bind(t.updated_at)
    .bind(&t.parent_id)
    .bind(t.estimate_minutes)
    .bind(&t.recurrence)
    .bind(&t.recurrence_next_id)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<TaskRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        row_columns!(),
        " FROM tasks t WHERE t.tenant_id = $1 AND t.id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

pub async fn find_detail<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<TaskDetail>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{DETAIL_SELECT} WHERE t.tenant_id = $1 AND t.id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// The highest position in the project, to append after.
pub async fn last_position<'c>(
    ex: impl Executor<'c, Database = Any>,
    project_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT MAX(position) FROM tasks WHERE project_id = $1")
        .bind(project_id)
        .fetch_one(ex)
        .await
}

/// The position of the task that follows `position` in the project, if any.
pub async fn next_position<'c>(
    ex: impl Executor<'c, Database = Any>,
    project_id: &str,
    position: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT MIN(position) FROM tasks WHERE project_id = $1 AND position > $2")
        .bind(project_id)
        .bind(position)
        .fetch_one(ex)
        .await
}

/// The position of the task that precedes `position` in the project, if any.
pub async fn previous_position<'c>(
    ex: impl Executor<'c, Database = Any>,
    project_id: &str,
    position: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT MAX(position) FROM tasks WHERE project_id = $1 AND position < $2")
        .bind(project_id)
        .bind(position)
        .fetch_one(ex)
        .await
}

/// A task's fields a PATCH may change; `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<TaskStatus>,
    pub kind: Option<TaskType>,
    pub priority: Option<Priority>,
    pub assignee_id: Option<Option<String>>,
    pub due_date: Option<Option<i64>>,
    pub position: Option<String>,
    pub completed_at: Option<Option<i64>>,
    pub parent_id: Option<Option<String>>,
    pub estimate_minutes: Option<Option<i64>>,
    pub recurrence: Option<Option<String>>,
}

/// Writes only the given fields and bumps the version. With `expected_version`, writes only if
/// the stored version still matches; returns whether a row was written.
pub async fn update<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    c: &TaskChanges,
    expected_version: Option<i64>,
    now: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE tasks SET
            title = COALESCE($1, title),
            description = CASE WHEN $2 = 1 THEN $3 ELSE description END,
            status = COALESCE($4, status),
            type = COALESCE($5, type),
            priority = COALESCE($6, priority),
            assignee_id = CASE WHEN $7 = 1 THEN $8 ELSE assignee_id END,
            due_date = CASE WHEN $9 = 1 THEN $10 ELSE due_date END,
            position = COALESCE($11, position),
            completed_at = CASE WHEN $12 = 1 THEN $13 ELSE completed_at END,
            parent_id = CASE WHEN $18 = 1 THEN $19 ELSE parent_id END,
            estimate_minutes = CASE WHEN $20 = 1 THEN $21 ELSE estimate_minutes END,
            recurrence = CASE WHEN $22 = 1 THEN $23 ELSE recurrence END,
            version = version + 1,
            updated_at = $14
         WHERE tenant_id = $15 AND id = $16 AND ($17 IS NULL OR version = $17)",
    )
    .bind(&c.title)
    .bind(i64::from(c.description.is_some()))
    .bind(c.description.clone().flatten())
    .bind(c.status)
    .bind(c.kind)
    .bind(c.priority)
    .bind(i64::from(c.assignee_id.is_some()))
    .bind(c.assignee_id.clone().flatten())
    .bind(i64::from(c.due_date.is_some()))
    .bind(c.due_date.flatten())
    .bind(&c.position)
    .bind(i64::from(c.completed_at.is_some()))
    .bind(c.completed_at.flatten())
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .bind(expected_version)
    .bind(i64::from(c.parent_id.is_some()))
    .bind(c.parent_id.clone().flatten())
    .bind(i64::from(c.estimate_minutes.is_some()))
    .bind(c.estimate_minutes.flatten())
    .bind(i64::from(c.recurrence.is_some()))
    .bind(c.recurrence.clone().flatten())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn delete<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM tasks WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// What a list may sort by. Each maps to a fixed SQL expression; nothing from the client is
/// ever spliced into SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Position,
    DueDate,
    Priority,
    CreatedAt,
    UpdatedAt,
}

impl SortField {
    fn expression(self, descending: bool) -> &'static str {
        match self {
            Self::Position => "t.position",
            // Tasks without a due date sort last, in either direction, on both engines.
            Self::DueDate if descending => "COALESCE(t.due_date, -9223372036854775807)",
            Self::DueDate => "COALESCE(t.due_date, 9223372036854775807)",
            Self::Priority => {
                "(CASE t.priority WHEN 'HIGH' THEN 0 WHEN 'MEDIUM' THEN 1 ELSE 2 END)"
            }
            Self::CreatedAt => "t.created_at",
            Self::UpdatedAt => "t.updated_at",
        }
    }

    /// The sort key of a row, as the cursor stores it.
    pub fn key_of(self, t: &TaskRow, descending: bool) -> SortKey {
        match self {
            Self::Position => SortKey::Text(t.position.clone()),
            Self::DueDate => {
                SortKey::Int(
                    t.due_date
                        .unwrap_or(if descending { i64::MIN + 1 } else { i64::MAX }),
                )
            }
            Self::Priority => SortKey::Int(match t.priority.as_str() {
                "HIGH" => 0,
                "MEDIUM" => 1,
                _ => 2,
            }),
            Self::CreatedAt => SortKey::Int(t.created_at),
            Self::UpdatedAt => SortKey::Int(t.updated_at),
        }
    }

    pub fn is_text(self) -> bool {
        self == Self::Position
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum SortKey {
    Int(i64),
    Text(String),
}

#[derive(Debug, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub assignee_id: Option<String>,
    pub kind: Option<TaskType>,
    pub priority: Option<Priority>,
    pub due_before: Option<i64>,
    pub due_after: Option<i64>,
    /// A lower-cased `LIKE` pattern, already escaped and wrapped in `%`.
    pub text_pattern: Option<String>,
    /// Tasks carrying this label.
    pub label_id: Option<String>,
    /// Subtasks of this task.
    pub parent_id: Option<String>,
}

/// One page of a project's tasks: filtered, sorted by `sort` then id, starting after the
/// `(key, id)` position of the previous page. Never counts the table.
#[allow(clippy::too_many_arguments)]
pub async fn list_page<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    project_id: &str,
    filter: &TaskFilter,
    sort: SortField,
    descending: bool,
    after: Option<(&SortKey, &str)>,
    limit: i64,
) -> sqlx::Result<Vec<TaskDetail>> {
    let key = sort.expression(descending);
    let (cmp, dir) = if descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let sql = format!(
        "{DETAIL_SELECT}
         WHERE t.tenant_id = $1 AND t.project_id = $2
           AND ($3 IS NULL OR t.status = $3)
           AND ($4 IS NULL OR t.assignee_id = $4)
           AND ($5 IS NULL OR t.type = $5)
           AND ($6 IS NULL OR t.priority = $6)
           AND ($7 IS NULL OR t.due_date < $7)
           AND ($8 IS NULL OR t.due_date > $8)
           AND ($9 IS NULL OR LOWER(t.title) LIKE $9 ESCAPE '\\' OR LOWER(COALESCE(t.description, '')) LIKE $9 ESCAPE '\\')
           AND ($14 IS NULL OR EXISTS (SELECT 1 FROM task_labels tl WHERE tl.task_id = t.id AND tl.label_id = $14))
           AND ($15 IS NULL OR t.parent_id = $15)
           AND ($10 = 0 OR {key} {cmp} $11 OR ({key} = $11 AND t.id {cmp} $12))
         ORDER BY {key} {dir}, t.id {dir}
         LIMIT $13"
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .bind(project_id)
        .bind(filter.status)
        .bind(&filter.assignee_id)
        .bind(filter.kind)
        .bind(filter.priority)
        .bind(filter.due_before)
        .bind(filter.due_after)
        .bind(&filter.text_pattern)
        .bind(i64::from(after.is_some()));
    query = match (after, sort.is_text()) {
        (Some((SortKey::Text(k), _)), true) => query.bind(k.clone()),
        (Some((SortKey::Int(k), _)), false) => query.bind(*k),
        (_, true) => query.bind(String::new()),
        (_, false) => query.bind(0_i64),
    };
    query
        .bind(after.map(|(_, id)| id.to_string()).unwrap_or_default())
        .bind(limit)
        .bind(&filter.label_id)
        .bind(&filter.parent_id)
        .fetch_all(ex)
        .await
}

/// Takes the task row's write lock for the rest of the transaction (a portable no-op update), so
/// a read-then-write on it (assignee, due date, completion) sees the latest committed row.
pub async fn lock<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE tasks SET version = version WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A task's parent (`Some(None)`: a top-level task; `None`: no such task).
pub async fn parent_of<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
) -> sqlx::Result<Option<Option<String>>> {
    sqlx::query_scalar("SELECT parent_id FROM tasks WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(ex)
        .await
}

/// Marks `id` as followed by the occurrence `next_id`, unless an occurrence was already
/// created from it: whoever gets `true` creates it, so it is created once.
pub async fn claim_next_occurrence<'c>(
    ex: impl Executor<'c, Database = Any>,
    tenant_id: &str,
    id: &str,
    next_id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE tasks SET recurrence_next_id = $1
         WHERE tenant_id = $2 AND id = $3 AND recurrence_next_id IS NULL AND recurrence IS NOT NULL",
    )
    .bind(next_id)
    .bind(tenant_id)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

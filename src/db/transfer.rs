//! The rows of one workspace, table by table, for export and import: which columns each table
//! has, which of them point at other rows, how a workspace's rows are found, and the generic
//! read and insert that move them as JSON. One SQL text per table serves both engines (TEXT and
//! epoch-ms INTEGER/BIGINT columns only).

use serde_json::{Map, Value};
use sqlx::{Any, AnyConnection, Executor, Row};

/// A column's stored type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
}

/// The id space a column's value belongs to, for matching and remapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Space {
    User,
    Workspace,
    Role,
    Project,
    Task,
    Label,
    Comment,
    Attachment,
    Relation,
    TimeEntry,
}

/// A column that points at another row.
#[derive(Debug, Clone, Copy)]
pub struct Ref {
    pub column: &'static str,
    pub space: Space,
    /// A reference to a row the archive does not hold is refused, not cleared.
    pub required: bool,
}

const fn req(column: &'static str, space: Space) -> Ref {
    Ref {
        column,
        space,
        required: true,
    }
}

const fn opt(column: &'static str, space: Space) -> Ref {
    Ref {
        column,
        space,
        required: false,
    }
}

/// One table of a workspace export.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    /// Every exported column, in file order (`tenant_id` is never exported: it is the target's).
    pub columns: &'static [(&'static str, Kind)],
    /// The space of the `id` column, when the table has one.
    pub id: Option<Space>,
    pub refs: &'static [Ref],
    /// The rows of workspace `$2` in tenant `$1`.
    scope: &'static str,
    order: &'static str,
}

impl Table {
    pub fn kind(&self, column: &str) -> Option<Kind> {
        self.columns
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, k)| *k)
    }
}

use Kind::{Int, Text};

const PROJECTS_OF: &str =
    "project_id IN (SELECT id FROM projects WHERE tenant_id = $1 AND workspace_id = $2)";
const TASKS_OF: &str = "task_id IN (SELECT t.id FROM tasks t JOIN projects p ON p.id = t.project_id \
     WHERE p.tenant_id = $1 AND p.workspace_id = $2)";

pub const WORKSPACES: Table = Table {
    name: "workspaces",
    columns: &[
        ("id", Text),
        ("name", Text),
        ("slug", Text),
        ("image_url", Text),
        ("owner_id", Text),
        ("created_at", Int),
        ("updated_at", Int),
    ],
    id: Some(Space::Workspace),
    refs: &[req("owner_id", Space::User)],
    scope: "tenant_id = $1 AND id = $2",
    order: "id",
};

pub const ROLES: Table = Table {
    name: "roles",
    columns: &[
        ("id", Text),
        ("name", Text),
        ("permissions", Text),
        ("created_at", Int),
        ("updated_at", Int),
    ],
    id: Some(Space::Role),
    refs: &[],
    scope: "tenant_id = $1 AND id IN (SELECT custom_role_id FROM workspace_members \
            WHERE tenant_id = $1 AND workspace_id = $2)",
    order: "id",
};

pub const USERS: Table = Table {
    name: "users",
    columns: &[
        ("id", Text),
        ("email", Text),
        ("name", Text),
        ("image_url", Text),
        ("created_at", Int),
    ],
    id: Some(Space::User),
    refs: &[],
    // Everyone a row of the workspace names (members, assignees, authors, …) who still exists.
    scope: "tenant_id = $1 AND (id IN (SELECT user_id FROM workspace_members WHERE workspace_id = $2) \
         OR id IN (SELECT owner_id FROM workspaces WHERE id = $2) \
         OR id IN (SELECT team_lead_id FROM projects WHERE workspace_id = $2) \
         OR id IN (SELECT created_by FROM projects WHERE workspace_id = $2) \
         OR id IN (SELECT user_id FROM project_members WHERE project_id IN (SELECT id FROM projects WHERE workspace_id = $2)) \
         OR id IN (SELECT t.assignee_id FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.workspace_id = $2) \
         OR id IN (SELECT t.created_by FROM tasks t JOIN projects p ON p.id = t.project_id WHERE p.workspace_id = $2) \
         OR id IN (SELECT c.author_id FROM comments c JOIN tasks t ON t.id = c.task_id JOIN projects p ON p.id = t.project_id WHERE p.workspace_id = $2) \
         OR id IN (SELECT uploaded_by FROM attachments WHERE workspace_id = $2 AND deleted_at IS NULL) \
         OR id IN (SELECT r.created_by FROM task_relations r JOIN tasks t ON t.id = r.task_id JOIN projects p ON p.id = t.project_id WHERE p.workspace_id = $2) \
         OR id IN (SELECT user_id FROM time_entries WHERE project_id IN (SELECT id FROM projects WHERE workspace_id = $2)))",
    order: "id",
};

pub const WORKSPACE_MEMBERS: Table = Table {
    name: "workspace_members",
    columns: &[
        ("workspace_id", Text),
        ("user_id", Text),
        ("role", Text),
        ("custom_role_id", Text),
        ("created_at", Int),
    ],
    id: None,
    refs: &[
        req("workspace_id", Space::Workspace),
        req("user_id", Space::User),
        opt("custom_role_id", Space::Role),
    ],
    scope: "tenant_id = $1 AND workspace_id = $2",
    order: "user_id",
};

pub const PROJECTS: Table = Table {
    name: "projects",
    columns: &[
        ("id", Text),
        ("workspace_id", Text),
        ("name", Text),
        ("description", Text),
        ("status", Text),
        ("priority", Text),
        ("start_date", Int),
        ("end_date", Int),
        ("team_lead_id", Text),
        ("created_by", Text),
        ("archived_at", Int),
        ("created_at", Int),
        ("updated_at", Int),
    ],
    id: Some(Space::Project),
    refs: &[
        req("workspace_id", Space::Workspace),
        opt("team_lead_id", Space::User),
        opt("created_by", Space::User),
    ],
    scope: "tenant_id = $1 AND workspace_id = $2",
    order: "id",
};

pub const PROJECT_MEMBERS: Table = Table {
    name: "project_members",
    columns: &[("project_id", Text), ("user_id", Text), ("created_at", Int)],
    id: None,
    refs: &[
        req("project_id", Space::Project),
        req("user_id", Space::User),
    ],
    scope: PROJECTS_OF,
    order: "project_id, user_id",
};

pub const LABELS: Table = Table {
    name: "labels",
    columns: &[
        ("id", Text),
        ("workspace_id", Text),
        ("name", Text),
        ("color", Text),
        ("created_at", Int),
        ("updated_at", Int),
    ],
    id: Some(Space::Label),
    refs: &[req("workspace_id", Space::Workspace)],
    scope: "tenant_id = $1 AND workspace_id = $2",
    order: "id",
};

pub const TASKS: Table = Table {
    name: "tasks",
    columns: &[
        ("id", Text),
        ("project_id", Text),
        ("title", Text),
        ("description", Text),
        ("status", Text),
        ("type", Text),
        ("priority", Text),
        ("assignee_id", Text),
        ("due_date", Int),
        ("position", Text),
        ("created_by", Text),
        ("completed_at", Int),
        ("version", Int),
        ("created_at", Int),
        ("updated_at", Int),
        ("parent_id", Text),
        ("estimate_minutes", Int),
        ("recurrence", Text),
        ("recurrence_next_id", Text),
    ],
    id: Some(Space::Task),
    refs: &[
        req("project_id", Space::Project),
        opt("assignee_id", Space::User),
        opt("created_by", Space::User),
        opt("parent_id", Space::Task),
        opt("recurrence_next_id", Space::Task),
    ],
    scope: PROJECTS_OF,
    order: "id",
};

pub const TASK_LABELS: Table = Table {
    name: "task_labels",
    columns: &[("task_id", Text), ("label_id", Text)],
    id: None,
    refs: &[req("task_id", Space::Task), req("label_id", Space::Label)],
    scope: TASKS_OF,
    order: "task_id, label_id",
};

pub const TASK_RELATIONS: Table = Table {
    name: "task_relations",
    columns: &[
        ("id", Text),
        ("task_id", Text),
        ("related_id", Text),
        ("kind", Text),
        ("created_by", Text),
        ("created_at", Int),
    ],
    id: Some(Space::Relation),
    refs: &[
        req("task_id", Space::Task),
        req("related_id", Space::Task),
        opt("created_by", Space::User),
    ],
    scope: TASKS_OF,
    order: "id",
};

pub const COMMENTS: Table = Table {
    name: "comments",
    columns: &[
        ("id", Text),
        ("task_id", Text),
        ("author_id", Text),
        ("content", Text),
        ("created_at", Int),
        ("updated_at", Int),
    ],
    id: Some(Space::Comment),
    refs: &[req("task_id", Space::Task), opt("author_id", Space::User)],
    scope: TASKS_OF,
    order: "id",
};

pub const ATTACHMENTS: Table = Table {
    name: "attachments",
    columns: &[
        ("id", Text),
        ("workspace_id", Text),
        ("project_id", Text),
        ("task_id", Text),
        ("uploaded_by", Text),
        ("filename", Text),
        ("content_type", Text),
        ("size_bytes", Int),
        ("sha256", Text),
        ("created_at", Int),
    ],
    id: Some(Space::Attachment),
    refs: &[
        req("workspace_id", Space::Workspace),
        req("project_id", Space::Project),
        req("task_id", Space::Task),
        opt("uploaded_by", Space::User),
    ],
    scope: "tenant_id = $1 AND workspace_id = $2 AND deleted_at IS NULL",
    order: "id",
};

pub const TIME_ENTRIES: Table = Table {
    name: "time_entries",
    columns: &[
        ("id", Text),
        ("task_id", Text),
        ("project_id", Text),
        ("user_id", Text),
        ("started_at", Int),
        ("ended_at", Int),
        ("note", Text),
        ("created_at", Int),
    ],
    id: Some(Space::TimeEntry),
    refs: &[
        req("task_id", Space::Task),
        req("project_id", Space::Project),
        req("user_id", Space::User),
    ],
    scope: PROJECTS_OF,
    order: "id",
};

/// The workspace's event log: exported for the record, never imported (its ids are this
/// instance's sequence, the realtime resume cursor; an import records its own event).
pub const ACTIVITY: Table = Table {
    name: "activity",
    columns: &[
        ("id", Int),
        ("project_id", Text),
        ("actor_id", Text),
        ("kind", Text),
        ("subject_type", Text),
        ("subject_id", Text),
        ("payload", Text),
        ("created_at", Int),
        ("task_id", Text),
        ("user_id", Text),
    ],
    id: None,
    refs: &[],
    scope: "tenant_id = $1 AND workspace_id = $2",
    order: "id",
};

/// Every table in an export, in the order an import inserts them (referenced rows first).
pub const EXPORTED: &[&Table] = &[
    &USERS,
    &ROLES,
    &WORKSPACES,
    &WORKSPACE_MEMBERS,
    &PROJECTS,
    &PROJECT_MEMBERS,
    &LABELS,
    &TASKS,
    &TASK_LABELS,
    &TASK_RELATIONS,
    &COMMENTS,
    &ATTACHMENTS,
    &TIME_ENTRIES,
    &ACTIVITY,
];

/// The tables an import writes through [`insert`] (users and roles are matched first, the
/// workspace row is written by the import itself).
pub const INSERTED: &[&Table] = &[
    &WORKSPACE_MEMBERS,
    &PROJECTS,
    &PROJECT_MEMBERS,
    &LABELS,
    &TASKS,
    &TASK_LABELS,
    &TASK_RELATIONS,
    &COMMENTS,
    &ATTACHMENTS,
    &TIME_ENTRIES,
];

pub type JsonRow = Map<String, Value>;

/// Every row of `table` in the workspace, as JSON objects in a fixed order.
pub async fn dump<'c>(
    ex: impl Executor<'c, Database = Any>,
    table: &Table,
    tenant_id: &str,
    workspace_id: &str,
) -> sqlx::Result<Vec<JsonRow>> {
    let columns: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
    let sql = format!(
        "SELECT {} FROM {} WHERE {} ORDER BY {}",
        columns.join(", "),
        table.name,
        table.scope,
        table.order
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(tenant_id)
        .bind(workspace_id)
        .fetch_all(ex)
        .await?;
    rows.iter()
        .map(|row| {
            let mut out = Map::new();
            for (i, (column, kind)) in table.columns.iter().enumerate() {
                let value = match kind {
                    Text => row.try_get::<Option<String>, _>(i)?.map(Value::from),
                    Int => row.try_get::<Option<i64>, _>(i)?.map(Value::from),
                };
                out.insert((*column).to_string(), value.unwrap_or(Value::Null));
            }
            Ok(out)
        })
        .collect()
}

/// Inserts one row of `table` (already checked against its columns) with `extra` text
/// columns the archive does not carry (`tenant_id`, an attachment's `storage_key`).
pub async fn insert(
    conn: &mut AnyConnection,
    table: &Table,
    row: &JsonRow,
    extra: &[(&str, &str)],
) -> sqlx::Result<()> {
    let mut names: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
    names.extend(extra.iter().map(|(c, _)| *c));
    let params: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        table.name,
        names.join(", "),
        params.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (column, kind) in table.columns {
        let value = row.get(*column).unwrap_or(&Value::Null);
        query = match kind {
            Text => query.bind(value.as_str().map(str::to_string)),
            Int => query.bind(value.as_i64()),
        };
    }
    for (_, value) in extra {
        query = query.bind(value.to_string());
    }
    query.execute(conn).await.map(drop)
}

/// Which of `ids` already exist as ids of `table` (in any tenant: ids are global keys).
pub async fn existing_ids(
    conn: &mut AnyConnection,
    table: &Table,
    ids: &[String],
) -> sqlx::Result<Vec<String>> {
    let mut found = Vec::new();
    for chunk in ids.chunks(500) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id FROM {} WHERE id IN ({}) ORDER BY id",
            table.name,
            params.join(", ")
        );
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id);
        }
        found.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(found)
}

/// The tenant a workspace belongs to (operators name a workspace by id alone).
pub async fn workspace_tenant<'c>(
    ex: impl Executor<'c, Database = Any>,
    workspace_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT tenant_id FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_optional(ex)
        .await
}

/// Is `slug` taken in the tenant?
pub async fn slug_taken(
    conn: &mut AnyConnection,
    tenant_id: &str,
    slug: &str,
) -> sqlx::Result<bool> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM workspaces WHERE tenant_id = $1 AND slug = $2")
            .bind(tenant_id)
            .bind(slug)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// Sets a task's parent after every task of the import exists.
pub async fn set_parent(
    conn: &mut AnyConnection,
    task_id: &str,
    parent_id: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE tasks SET parent_id = $1 WHERE id = $2")
        .bind(parent_id)
        .bind(task_id)
        .execute(conn)
        .await
        .map(drop)
}

/// A role of the tenant by name.
pub async fn role_by_name(
    conn: &mut AnyConnection,
    tenant_id: &str,
    name: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT id FROM roles WHERE tenant_id = $1 AND name = $2")
        .bind(tenant_id)
        .bind(name)
        .fetch_optional(conn)
        .await
}

/// The schema level: the newest migration applied.
pub async fn schema_level<'c>(ex: impl Executor<'c, Database = Any>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(ex)
        .await
}

/// True when the schema refused a row's values (a CHECK, NOT NULL or foreign key), so an
/// import names the row instead of failing as a server error.
pub fn is_refused_row(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e)
        if e.is_check_violation()
            || e.is_foreign_key_violation()
            || matches!(e.kind(), sqlx::error::ErrorKind::NotNullViolation))
}

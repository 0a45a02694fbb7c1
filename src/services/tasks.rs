//! Tasks: create, read, partial update (with optimistic concurrency on request), move, delete,
//! bulk status change and filtered, sorted, cursor-paged lists.

use serde::Serialize;

use crate::clock::{now_ms, parse_time, to_rfc3339};
use crate::db;
use crate::db::tasks::{TaskChanges, TaskDetail, TaskRow};
use crate::domain::enums::{Priority, TaskStatus, TaskType};
use crate::domain::event::{DomainEvent, InProject, TaskChange, TaskFacts};
use crate::domain::permission;
use crate::domain::task::{Title, parse_text, position_between};
use crate::domain::{FieldError, Validator};
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::access::{self, Actor, ProjectAccess};

pub const MAX_BULK: usize = 100;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Assignee {
    pub id: String,
    pub name: String,
    pub email: String,
    pub image_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub description: Option<String>,
    pub status: TaskStatus,
    #[serde(rename = "type")]
    pub kind: TaskType,
    pub priority: Priority,
    pub assignee_id: Option<String>,
    pub assignee: Option<Assignee>,
    pub due_date: Option<String>,
    /// Opaque board-order key; tasks sort by it.
    pub position: String,
    pub created_by: Option<String>,
    pub completed_at: Option<String>,
    pub comments_count: i64,
    /// Files attached to the task (`GET /v1/tasks/{id}/attachments` lists them).
    pub attachments_count: i64,
    /// Increases with every change; send it back as `version` to update only if unchanged.
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<TaskDetail> for Task {
    fn from(d: TaskDetail) -> Self {
        let t = d.task;
        let assignee = match (&t.assignee_id, d.assignee_name, d.assignee_email) {
            (Some(id), Some(name), Some(email)) => Some(Assignee {
                id: id.clone(),
                name,
                email,
                image_url: d.assignee_image_url,
            }),
            _ => None,
        };
        Self {
            id: t.id,
            project_id: t.project_id,
            title: t.title,
            description: t.description,
            status: t.status,
            kind: t.kind,
            priority: t.priority,
            assignee_id: t.assignee_id,
            assignee,
            due_date: t.due_date.map(to_rfc3339),
            position: t.position,
            created_by: t.created_by,
            completed_at: t.completed_at.map(to_rfc3339),
            comments_count: d.comments_count,
            attachments_count: d.attachments_count,
            version: t.version,
            created_at: to_rfc3339(t.created_at),
            updated_at: to_rfc3339(t.updated_at),
        }
    }
}

/// A task's fields as a client sends them. On create, `title` is required.
#[derive(Debug, Default)]
pub struct TaskInput<'a> {
    pub title: Option<&'a str>,
    pub description: Option<Option<&'a str>>,
    pub status: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub priority: Option<&'a str>,
    pub assignee_id: Option<Option<&'a str>>,
    pub due_date: Option<Option<&'a str>>,
    /// Place the task right after this task…
    pub after_id: Option<&'a str>,
    /// …or right before this one.
    pub before_id: Option<&'a str>,
    /// Update only if the stored version is still this one.
    pub version: Option<i64>,
}

fn parse_changes(input: &TaskInput<'_>) -> AppResult<TaskChanges> {
    let mut v = Validator::default();
    let title = input.title.map(|t| v.field(Title::parse("title", t)));
    let description = input
        .description
        .map(|d| d.map(|d| v.field(parse_text("description", d, false))));
    let status = input
        .status
        .map(|s| v.field(TaskStatus::parse("status", s)));
    let kind = input.kind.map(|k| v.field(TaskType::parse("type", k)));
    let priority = input
        .priority
        .map(|p| v.field(Priority::parse("priority", p)));
    let due = input
        .due_date
        .map(|d| d.map(|d| v.field(parse_time("due_date", d))));
    if input.after_id.is_some() && input.before_id.is_some() {
        v.field::<()>(Err(FieldError::new(
            "after_id",
            "give after_id or before_id, not both",
        )));
    }
    v.finish()?;
    Ok(TaskChanges {
        title: title.flatten().map(|t| t.as_str().to_string()),
        description: description.map(|d| d.and_then(Option::flatten)),
        status: status.flatten(),
        kind: kind.flatten(),
        priority: priority.flatten(),
        assignee_id: input.assignee_id.map(|a| a.map(str::to_string)),
        due_date: due.map(Option::flatten),
        position: None,
        completed_at: None,
    })
}

/// An assignee must be a member of the project.
async fn check_assignee(
    conn: &mut sqlx::AnyConnection,
    project_id: &str,
    assignee: Option<&str>,
) -> AppResult<()> {
    if let Some(user_id) = assignee
        && !db::project_members::is_member(&mut *conn, project_id, user_id).await?
    {
        return Err(FieldError::new("assignee_id", "must be a member of the project").into());
    }
    Ok(())
}

/// The position for a task placed after/before a neighbour, or at the end.
async fn place(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    project_id: &str,
    after_id: Option<&str>,
    before_id: Option<&str>,
) -> AppResult<String> {
    let (lower, upper) = match (after_id, before_id) {
        (Some(id), _) => {
            let lower = neighbour_position(conn, tenant_id, project_id, id, "after_id").await?;
            let upper = db::tasks::next_position(&mut *conn, project_id, &lower).await?;
            (Some(lower), upper)
        }
        (None, Some(id)) => {
            let upper = neighbour_position(conn, tenant_id, project_id, id, "before_id").await?;
            let lower = db::tasks::previous_position(&mut *conn, project_id, &upper).await?;
            (lower, Some(upper))
        }
        (None, None) => (
            db::tasks::last_position(&mut *conn, project_id).await?,
            None,
        ),
    };
    position_between(lower.as_deref(), upper.as_deref()).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "no position between {lower:?} and {upper:?}"
        ))
    })
}

async fn neighbour_position(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    project_id: &str,
    task_id: &str,
    field: &'static str,
) -> AppResult<String> {
    db::tasks::find(&mut *conn, tenant_id, task_id)
        .await?
        .filter(|t| t.project_id == project_id)
        .map(|t| t.position)
        .ok_or_else(|| FieldError::new(field, "is not a task of this project").into())
}

fn completed_at(status: Option<TaskStatus>, was_done: bool, now: i64) -> Option<Option<i64>> {
    match status {
        Some(TaskStatus::Done) if !was_done => Some(Some(now)),
        Some(s) if s != TaskStatus::Done && was_done => Some(None),
        _ => None,
    }
}

/// Creates a task. With an assignee other than the caller, the assignment email is enqueued in
/// the same transaction; with a due date, the reminder (sent `reminder_lead_ms` before it).
pub async fn create(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
    input: TaskInput<'_>,
) -> AppResult<Task> {
    let access = access::project_access(cx, actor, project_id).await?;
    access.require(permission::TASKS_CREATE)?;
    if input.title.is_none() {
        return Err(FieldError::new("title", "is required").into());
    }
    let changes = parse_changes(&input)?;
    let now = now_ms();
    let mut tx = cx.begin_as(actor).await?;
    // Serialises appends per project so two creates never take the same last position.
    db::projects::lock(&mut *tx, &actor.tenant_id, project_id).await?;
    let assignee = changes.assignee_id.clone().flatten();
    check_assignee(&mut tx, project_id, assignee.as_deref()).await?;
    let position = place(
        &mut tx,
        &actor.tenant_id,
        project_id,
        input.after_id,
        input.before_id,
    )
    .await?;
    let status = changes.status.unwrap_or(TaskStatus::Todo);
    let row = TaskRow {
        id: new_id(),
        tenant_id: actor.tenant_id.clone(),
        project_id: project_id.to_string(),
        title: changes.title.expect("checked above"),
        description: changes.description.flatten(),
        completed_at: (status == TaskStatus::Done).then_some(now),
        status,
        kind: changes.kind.unwrap_or(TaskType::Task),
        priority: changes.priority.unwrap_or(Priority::Medium),
        assignee_id: assignee,
        due_date: changes.due_date.flatten(),
        position,
        created_by: Some(actor.user_id.clone()),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    db::tasks::insert(&mut *tx, &row).await?;
    tx.record(DomainEvent::TaskCreated {
        at: in_project(&access),
        task: facts(&row),
    });
    tx.commit().await?;
    get_unchecked(cx, &actor.tenant_id, &row.id).await
}

fn facts(t: &TaskRow) -> TaskFacts {
    TaskFacts {
        id: t.id.clone(),
        project_id: t.project_id.clone(),
        title: t.title.clone(),
        status: t.status,
        assignee_id: t.assignee_id.clone(),
        due_date: t.due_date,
    }
}

fn in_project(access: &ProjectAccess) -> InProject {
    InProject {
        workspace_id: access.workspace.workspace_id.clone(),
        project_id: access.project_id.clone(),
    }
}

async fn get_unchecked(cx: &Ctx, tenant_id: &str, task_id: &str) -> AppResult<Task> {
    db::tasks::find_detail(cx.db.read(), tenant_id, task_id)
        .await?
        .map(Task::from)
        .ok_or(AppError::NotFound("task"))
}

/// The project a task is in, and the caller's standing there. Not found when the caller may
/// not see it.
pub async fn task_access(
    cx: &Ctx,
    actor: &Actor,
    task_id: &str,
) -> AppResult<(TaskRow, ProjectAccess)> {
    let task = db::tasks::find(cx.db.read(), &actor.tenant_id, task_id)
        .await?
        .ok_or(AppError::NotFound("task"))?;
    let access = access::project_access(cx, actor, &task.project_id)
        .await
        .map_err(|e| e.not_found_as("task"))?;
    Ok((task, access))
}

pub async fn get(cx: &Ctx, actor: &Actor, task_id: &str) -> AppResult<Task> {
    let (_, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::TASKS_READ)?;
    get_unchecked(cx, &actor.tenant_id, task_id).await
}

/// Partial update: only the sent fields are written, so concurrent edits of different fields
/// both survive; with `version`, the update applies only if nobody changed the task since.
pub async fn update(
    cx: &Ctx,
    actor: &Actor,
    task_id: &str,
    input: TaskInput<'_>,
) -> AppResult<Task> {
    let (_, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::TASKS_UPDATE)?;
    let mut changes = parse_changes(&input)?;
    let now = now_ms();
    let mut tx = cx.begin_as(actor).await?;
    // Lock before reading, so the assignment, due-date and completion decisions below are made
    // on the row this transaction will write (Postgres READ COMMITTED could see a stale one).
    if !db::tasks::lock(&mut *tx, &actor.tenant_id, task_id).await? {
        return Err(AppError::NotFound("task"));
    }
    let current = db::tasks::find(&mut *tx, &actor.tenant_id, task_id)
        .await?
        .ok_or(AppError::NotFound("task"))?;
    if let Some(Some(assignee)) = &changes.assignee_id {
        check_assignee(&mut tx, &current.project_id, Some(assignee)).await?;
    }
    if input.after_id.is_some() || input.before_id.is_some() {
        if input.after_id == Some(task_id) || input.before_id == Some(task_id) {
            return Err(FieldError::new("after_id", "cannot place a task next to itself").into());
        }
        db::projects::lock(&mut *tx, &actor.tenant_id, &current.project_id).await?;
        changes.position = Some(
            place(
                &mut tx,
                &actor.tenant_id,
                &current.project_id,
                input.after_id,
                input.before_id,
            )
            .await?,
        );
    }
    changes.completed_at = completed_at(changes.status, current.status == TaskStatus::Done, now);
    if !db::tasks::update(
        &mut *tx,
        &actor.tenant_id,
        task_id,
        &changes,
        input.version,
        now,
    )
    .await?
    {
        return Err(AppError::Conflict {
            code: "version_conflict",
            message: "the task was changed by someone else; reload it and try again".into(),
        });
    }
    let updated = db::tasks::find(&mut *tx, &actor.tenant_id, task_id)
        .await?
        .ok_or(AppError::NotFound("task"))?;
    let change = TaskChange {
        at: in_project(&access),
        task: facts(&updated),
        changes: changed_fields(&changes),
        previous_due_date: current.due_date,
    };
    tx.record(
        if changes.assignee_id.is_some() && updated.assignee_id != current.assignee_id {
            DomainEvent::TaskAssigned(change)
        } else if change.changes == ["position"] {
            DomainEvent::TaskMoved(change)
        } else {
            DomainEvent::TaskUpdated(change)
        },
    );
    tx.commit().await?;
    get_unchecked(cx, &actor.tenant_id, task_id).await
}

fn changed_fields(c: &TaskChanges) -> Vec<&'static str> {
    [
        ("title", c.title.is_some()),
        ("description", c.description.is_some()),
        ("status", c.status.is_some()),
        ("type", c.kind.is_some()),
        ("priority", c.priority.is_some()),
        ("assignee_id", c.assignee_id.is_some()),
        ("due_date", c.due_date.is_some()),
        ("position", c.position.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect()
}

pub async fn delete(cx: &Ctx, actor: &Actor, task_id: &str) -> AppResult<()> {
    let (task, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::TASKS_DELETE)?;
    let mut tx = cx.begin_as(actor).await?;
    db::tasks::delete(&mut *tx, &actor.tenant_id, task_id).await?;
    let files = crate::services::attachments::detach(
        &mut tx,
        &actor.tenant_id,
        db::attachments::Scope::Task(task_id),
    )
    .await?;
    tx.record(DomainEvent::TaskDeleted {
        at: in_project(&access),
        task_id: task.id,
        title: task.title,
        files,
    });
    tx.commit().await?;
    Ok(())
}

/// Sets one status on up to 100 tasks of a project, all or nothing.
pub async fn bulk_status(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
    task_ids: &[String],
    status: &str,
) -> AppResult<Vec<Task>> {
    let access = access::project_access(cx, actor, project_id).await?;
    access.require(permission::TASKS_UPDATE)?;
    let status = TaskStatus::parse("status", status)?;
    if task_ids.is_empty() || task_ids.len() > MAX_BULK {
        return Err(FieldError::new("task_ids", "must list 1–100 task ids").into());
    }
    let now = now_ms();
    let mut tx = cx.begin_as(actor).await?;
    for id in task_ids {
        db::tasks::lock(&mut *tx, &actor.tenant_id, id).await?;
        let task = db::tasks::find(&mut *tx, &actor.tenant_id, id)
            .await?
            .filter(|t| t.project_id == project_id)
            .ok_or_else(|| {
                AppError::from(FieldError::new(
                    "task_ids",
                    format!("{id} is not a task of this project"),
                ))
            })?;
        let changes = TaskChanges {
            status: Some(status),
            completed_at: completed_at(Some(status), task.status == TaskStatus::Done, now),
            ..TaskChanges::default()
        };
        db::tasks::update(&mut *tx, &actor.tenant_id, id, &changes, None, now).await?;
        // The event shows the task as it was, with its new status: a bulk change sends
        // nothing else, so nothing else moved.
        let mut task = facts(&task);
        task.status = status;
        tx.record(DomainEvent::TaskUpdated(TaskChange {
            at: in_project(&access),
            previous_due_date: task.due_date,
            task,
            changes: vec!["status"],
        }));
    }
    tx.commit().await?;
    let mut out = Vec::with_capacity(task_ids.len());
    for id in task_ids {
        out.push(get_unchecked(cx, &actor.tenant_id, id).await?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_follows_done() {
        assert_eq!(
            completed_at(Some(TaskStatus::Done), false, 5),
            Some(Some(5))
        );
        assert_eq!(completed_at(Some(TaskStatus::Done), true, 5), None);
        assert_eq!(completed_at(Some(TaskStatus::Todo), true, 5), Some(None));
        assert_eq!(completed_at(None, true, 5), None);
    }
}

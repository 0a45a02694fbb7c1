//! Creating, updating (and moving) and deleting one task, each in one unit of work that
//! records its event.

use super::input::{
    Parsed, TaskInput, changed_fields, check_assignee, check_labels, parse_changes,
};
use super::placement::{completed_at, place};
use super::subtasks::check_parent;
use super::{Task, facts, in_project, present_detail, present_one, recurrence, task_access};
use crate::clock::now_ms;
use crate::db;
use crate::db::tasks::{TaskDetail, TaskRow};
use crate::domain::FieldError;
use crate::domain::enums::{Priority, TaskStatus, TaskType};
use crate::domain::event::{DomainEvent, TaskChange};
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::access::{self, Actor};

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
    let Parsed { changes, labels } = parse_changes(&input)?;
    let now = now_ms();
    let mut tx = cx.begin_as(actor).await?;
    // Serialises appends per project so two creates never take the same last position.
    tx.lock_project(project_id).await?;
    let assignee = changes.assignee_id.clone().flatten();
    check_assignee(&mut tx, project_id, assignee.as_deref()).await?;
    let parent_id = changes.parent_id.clone().flatten();
    if let Some(parent) = &parent_id {
        check_parent(&mut tx, &actor.tenant_id, project_id, None, parent).await?;
    }
    if let Some(labels) = &labels {
        check_labels(&mut tx, &access.workspace.workspace_id, labels).await?;
    }
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
        parent_id,
        estimate_minutes: changes.estimate_minutes.flatten(),
        recurrence: changes.recurrence.flatten(),
        recurrence_next_id: None,
    };
    db::tasks::insert(&mut *tx, &row).await?;
    if let Some(labels) = &labels {
        db::labels::set_for_task(&mut tx, &actor.tenant_id, &row.id, labels).await?;
    }
    tx.record(DomainEvent::TaskCreated {
        at: in_project(&access),
        task: facts(&row),
    });
    if row.status == TaskStatus::Done {
        recurrence::follow(&mut tx, &access, &row, now).await?;
    }
    // The answer is kept with the change for a keyed retry. A plain new task is its row (no
    // one refers to it yet); one with an assignee, labels or a next occurrence is read back.
    let plain = row.assignee_id.is_none() && labels.is_none() && row.status != TaskStatus::Done;
    let task = if plain {
        Task::from(TaskDetail::unreferenced(row))
    } else {
        present_one(&mut tx, &actor.tenant_id, &row.id).await?
    };
    tx.created(&task)?;
    tx.commit().await?;
    Ok(task)
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
    let Parsed {
        mut changes,
        labels,
    } = parse_changes(&input)?;
    let now = now_ms();
    let mut tx = cx.begin_as(actor).await?;
    // Lock before reading, so the assignment, due-date and completion decisions below are made
    // on the row this transaction will write (Postgres READ COMMITTED could see a stale one).
    tx.lock_task(task_id).await?;
    let current = db::tasks::find(&mut *tx, &actor.tenant_id, task_id)
        .await?
        .ok_or(AppError::NotFound("task"))?;
    if let Some(Some(assignee)) = &changes.assignee_id {
        check_assignee(&mut tx, &current.project_id, Some(assignee)).await?;
    }
    if let Some(Some(parent)) = &changes.parent_id {
        // Parent changes in a project wait for each other, so two cannot close a loop.
        tx.lock_project(&current.project_id).await?;
        let project = current.project_id.as_str();
        check_parent(&mut tx, &actor.tenant_id, project, Some(task_id), parent).await?;
    }
    if let Some(labels) = &labels {
        check_labels(&mut tx, &access.workspace.workspace_id, labels).await?;
        db::labels::set_for_task(&mut tx, &actor.tenant_id, task_id, labels).await?;
    }
    if input.after_id.is_some() || input.before_id.is_some() {
        if input.after_id == Some(task_id) || input.before_id == Some(task_id) {
            return Err(FieldError::new("after_id", "cannot place a task next to itself").into());
        }
        tx.lock_project(&current.project_id).await?;
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
    let detail = db::tasks::find_detail(&mut *tx, &actor.tenant_id, task_id)
        .await?
        .ok_or(AppError::NotFound("task"))?;
    let updated = &detail.task;
    let change = TaskChange {
        at: in_project(&access),
        task: facts(updated),
        changes: changed_fields(&changes, labels.is_some()),
        previous_due_date: current.due_date,
    };
    let reassigned = changes.assignee_id.is_some() && updated.assignee_id != current.assignee_id;
    // The former assignee's channel hears that the task is no longer theirs.
    let unassigned = match current.assignee_id {
        Some(previous) if reassigned => Some(DomainEvent::TaskUnassigned {
            at: change.at.clone(),
            task: change.task.clone(),
            previous_assignee_id: previous,
        }),
        _ => None,
    };
    tx.record(if reassigned {
        DomainEvent::TaskAssigned(change)
    } else if change.changes == ["position"] {
        DomainEvent::TaskMoved(change)
    } else {
        DomainEvent::TaskUpdated(change)
    });
    if let Some(event) = unassigned {
        tx.record(event);
    }
    if current.status != TaskStatus::Done {
        recurrence::follow(&mut tx, &access, updated, now).await?;
    }
    // Answered from this transaction's read, unless completing it may have linked its next
    // occurrence.
    let task = if updated.status == TaskStatus::Done && updated.recurrence.is_some() {
        present_one(&mut tx, &actor.tenant_id, task_id).await?
    } else {
        present_detail(&mut *tx, &actor.tenant_id, detail).await?
    };
    tx.commit().await?;
    Ok(task)
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

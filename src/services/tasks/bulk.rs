//! One status for up to 100 tasks of a project, all or nothing.

use super::placement::completed_at;
use super::{Task, facts, get_unchecked, in_project, recurrence};
use crate::clock::now_ms;
use crate::db;
use crate::db::tasks::TaskChanges;
use crate::domain::FieldError;
use crate::domain::enums::TaskStatus;
use crate::domain::event::{DomainEvent, TaskChange};
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::services::Ctx;
use crate::services::access::{self, Actor};

pub const MAX_BULK: usize = 100;

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
        let was_done = task.status == TaskStatus::Done;
        // The event shows the task as it was, with its new status: a bulk change sends
        // nothing else, so nothing else moved.
        let mut done = task;
        done.status = status;
        let task = facts(&done);
        tx.record(DomainEvent::TaskUpdated(TaskChange {
            at: in_project(&access),
            previous_due_date: task.due_date,
            task,
            changes: vec!["status"],
        }));
        if !was_done {
            recurrence::follow(&mut tx, &access, &done, now).await?;
        }
    }
    tx.commit().await?;
    let mut out = Vec::with_capacity(task_ids.len());
    for id in task_ids {
        out.push(get_unchecked(cx, &actor.tenant_id, id).await?);
    }
    Ok(out)
}

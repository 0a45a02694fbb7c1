//! Completing a repeating task creates its next occurrence — once: the completed task records
//! the new one's id with a conditional update, and only the transaction that wrote it creates
//! the task (a second completion, a racing request or a retried job finds it set).

use chrono::{DateTime, Utc};

use super::placement::place;
use super::{facts, in_project};
use crate::db;
use crate::db::tasks::TaskRow;
use crate::domain::enums::TaskStatus;
use crate::domain::event::DomainEvent;
use crate::domain::recurrence::Recurrence;
use crate::error::AppResult;
use crate::ids::new_id;
use crate::services::access::ProjectAccess;
use crate::services::unit_of_work::UnitOfWork;

/// When `done` (just completed, as written in this transaction) repeats, creates its next
/// occurrence: same title, description, type, priority, labels, parent and estimate, due at
/// the rule's next date after its own due date (or after now, when it was done late or had
/// none), assigned to the same person if they are still on the project.
pub(super) async fn follow(
    tx: &mut UnitOfWork,
    access: &ProjectAccess,
    done: &TaskRow,
    now: i64,
) -> AppResult<()> {
    let Some(rule) = done.recurrence.as_deref() else {
        return Ok(());
    };
    if done.status != TaskStatus::Done || done.recurrence_next_id.is_some() {
        return Ok(());
    }
    let Ok(rule) = Recurrence::parse("recurrence", rule) else {
        tracing::warn!(task_id = %done.id, "stored recurrence no longer parses; not repeating");
        return Ok(());
    };
    let (Some(anchor), Some(now_at)) = (
        DateTime::<Utc>::from_timestamp_millis(done.due_date.unwrap_or(now)),
        DateTime::<Utc>::from_timestamp_millis(now),
    ) else {
        return Ok(());
    };
    let Some(due) = rule.next_after(anchor, now_at) else {
        return Ok(()); // The series has ended (UNTIL).
    };
    let tenant_id = done.tenant_id.as_str();
    let next_id = new_id();
    if !db::tasks::claim_next_occurrence(&mut **tx, tenant_id, &done.id, &next_id).await? {
        return Ok(());
    }
    tx.lock_project(&done.project_id).await?;
    let assignee = match &done.assignee_id {
        Some(user) if db::project_members::is_member(&mut **tx, &done.project_id, user).await? => {
            Some(user.clone())
        }
        _ => None,
    };
    let position = place(tx, tenant_id, &done.project_id, None, None).await?;
    let row = TaskRow {
        id: next_id,
        tenant_id: done.tenant_id.clone(),
        project_id: done.project_id.clone(),
        title: done.title.clone(),
        description: done.description.clone(),
        status: TaskStatus::Todo,
        kind: done.kind,
        priority: done.priority,
        assignee_id: assignee,
        due_date: Some(due.timestamp_millis()),
        position,
        created_by: done.created_by.clone(),
        completed_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
        parent_id: done.parent_id.clone(),
        estimate_minutes: done.estimate_minutes,
        recurrence: Some(rule.to_rule()),
        recurrence_next_id: None,
    };
    db::tasks::insert(&mut **tx, &row).await?;
    let labels = db::labels::ids_of_task(&mut **tx, &done.id).await?;
    db::labels::set_for_task(tx, tenant_id, &row.id, &labels).await?;
    tx.record(DomainEvent::TaskCreated {
        at: in_project(access),
        task: facts(&row),
    });
    Ok(())
}

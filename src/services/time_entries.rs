//! Time tracking: a member logs time spent on a task, or starts and stops a timer (one running
//! timer per person); tasks, projects and members show the totals. Only finished entries count.

use serde::Serialize;

use crate::clock::{now_ms, parse_time, to_rfc3339};
use crate::db::time_entries::{TimeEntryRow, Total};
use crate::db::{self, is_unique_violation};
use crate::domain::event::{DomainEvent, TimeEntryFacts};
use crate::domain::task::parse_text;
use crate::domain::{FieldError, Validator, permission};
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::access::{self, Actor, ProjectAccess};
use crate::services::tasks::{in_project, task_access};

/// The longest single logged entry: a week.
const MAX_ENTRY_SECONDS: i64 = 7 * 24 * 3600;
/// Entries a task's list shows (newest first).
const LIST_LIMIT: i64 = 200;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimeEntry {
    pub id: String,
    pub task_id: String,
    pub user_id: String,
    pub started_at: String,
    /// `null` while the timer runs.
    pub ended_at: Option<String>,
    /// `null` while the timer runs.
    pub duration_seconds: Option<i64>,
    pub running: bool,
    pub note: Option<String>,
    pub created_at: String,
}

impl From<TimeEntryRow> for TimeEntry {
    fn from(e: TimeEntryRow) -> Self {
        Self {
            duration_seconds: e.ended_at.map(|end| (end - e.started_at) / 1000),
            running: e.ended_at.is_none(),
            id: e.id,
            task_id: e.task_id,
            user_id: e.user_id,
            started_at: to_rfc3339(e.started_at),
            ended_at: e.ended_at.map(to_rfc3339),
            note: e.note,
            created_at: to_rfc3339(e.created_at),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskTime {
    /// Finished entries' total.
    pub total_seconds: i64,
    pub estimate_minutes: Option<i64>,
    /// The newest 200 entries, newest first.
    pub entries: Vec<TimeEntry>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimeTotal {
    pub id: String,
    /// The member's name or the task's title.
    pub name: String,
    pub seconds: i64,
}

impl From<Total> for TimeTotal {
    fn from(t: Total) -> Self {
        Self {
            id: t.id,
            name: t.name,
            seconds: t.spent_ms / 1000,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectTime {
    pub total_seconds: i64,
    /// The sum of the project's task estimates.
    pub estimate_minutes: i64,
    pub by_member: Vec<TimeTotal>,
    pub by_task: Vec<TimeTotal>,
}

fn facts(e: &TimeEntryRow) -> TimeEntryFacts {
    TimeEntryFacts {
        id: e.id.clone(),
        task_id: e.task_id.clone(),
        user_id: e.user_id.clone(),
        started_at: e.started_at,
        ended_at: e.ended_at,
    }
}

fn timer_running() -> AppError {
    AppError::Conflict {
        code: "timer_running",
        message: "you already have a timer running; stop it first".into(),
    }
}

/// What a client sends to log time.
#[derive(Debug, Default)]
pub struct LogInput<'a> {
    pub duration_seconds: i64,
    /// When the work started (default: `duration_seconds` ago).
    pub started_at: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Logs finished time on a task for the caller.
pub async fn log(
    cx: &Ctx,
    actor: &Actor,
    task_id: &str,
    input: LogInput<'_>,
) -> AppResult<TimeEntry> {
    let (task, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::TASKS_UPDATE)?;
    let now = now_ms();
    let mut v = Validator::default();
    if !(1..=MAX_ENTRY_SECONDS).contains(&input.duration_seconds) {
        v.field::<()>(Err(FieldError::new(
            "duration_seconds",
            "must be 1–604800 (a week)",
        )));
    }
    let started = input
        .started_at
        .and_then(|s| v.field(parse_time("started_at", s)))
        .unwrap_or(now - input.duration_seconds * 1000);
    if started > now {
        v.field::<()>(Err(FieldError::new(
            "started_at",
            "must not be in the future",
        )));
    }
    let note = input
        .note
        .and_then(|n| v.field(parse_text("note", n, false)))
        .flatten();
    v.finish()?;
    let row = TimeEntryRow {
        id: new_id(),
        task_id: task_id.to_string(),
        project_id: task.project_id,
        user_id: actor.user_id.clone(),
        started_at: started,
        ended_at: Some(started + input.duration_seconds * 1000),
        note,
        created_at: now,
    };
    insert(cx, actor, &access, row).await
}

/// Starts the caller's timer on a task (409 `timer_running` when one runs anywhere).
pub async fn start(cx: &Ctx, actor: &Actor, task_id: &str) -> AppResult<TimeEntry> {
    let (task, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::TASKS_UPDATE)?;
    let now = now_ms();
    let row = TimeEntryRow {
        id: new_id(),
        task_id: task_id.to_string(),
        project_id: task.project_id,
        user_id: actor.user_id.clone(),
        started_at: now,
        ended_at: None,
        note: None,
        created_at: now,
    };
    insert(cx, actor, &access, row).await
}

async fn insert(
    cx: &Ctx,
    actor: &Actor,
    access: &ProjectAccess,
    row: TimeEntryRow,
) -> AppResult<TimeEntry> {
    let mut tx = cx.begin_as(actor).await?;
    // The partial unique index on running timers is the check: one running per person.
    match db::time_entries::insert(&mut *tx, &actor.tenant_id, &row).await {
        Err(e) if is_unique_violation(&e) => return Err(timer_running()),
        other => other?,
    }
    tx.record(DomainEvent::TimeEntryCreated {
        at: in_project(access),
        entry: facts(&row),
    });
    let entry = TimeEntry::from(row);
    tx.created(&entry)?;
    tx.commit().await?;
    Ok(entry)
}

/// Stops the caller's running timer on the task.
pub async fn stop(cx: &Ctx, actor: &Actor, task_id: &str) -> AppResult<TimeEntry> {
    let (_, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::TASKS_UPDATE)?;
    let mut tx = cx.begin_as(actor).await?;
    let mut entry = db::time_entries::running(&mut *tx, &actor.tenant_id, &actor.user_id)
        .await?
        .filter(|e| e.task_id == task_id)
        .ok_or(AppError::NotFound("running timer"))?;
    let now = now_ms().max(entry.started_at);
    if !db::time_entries::stop(&mut *tx, &actor.tenant_id, &entry.id, now).await? {
        return Err(AppError::NotFound("running timer"));
    }
    entry.ended_at = Some(now);
    tx.record(DomainEvent::TimeEntryStopped {
        at: in_project(&access),
        entry: facts(&entry),
    });
    tx.commit().await?;
    Ok(TimeEntry::from(entry))
}

/// A task's time: its total, its estimate and its newest entries.
pub async fn of_task(cx: &Ctx, actor: &Actor, task_id: &str) -> AppResult<TaskTime> {
    let (task, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::TASKS_READ)?;
    let entries =
        db::time_entries::of_task(cx.db.read(), &actor.tenant_id, task_id, LIST_LIMIT).await?;
    let spent_ms = db::time_entries::task_spent_ms(cx.db.read(), task_id).await?;
    Ok(TaskTime {
        total_seconds: spent_ms / 1000,
        estimate_minutes: task.estimate_minutes,
        entries: entries.into_iter().map(TimeEntry::from).collect(),
    })
}

/// Deletes an entry: one's own, or anyone's with `members:manage`.
pub async fn delete(cx: &Ctx, actor: &Actor, entry_id: &str) -> AppResult<()> {
    let entry = db::time_entries::find(cx.db.read(), &actor.tenant_id, entry_id)
        .await?
        .ok_or(AppError::NotFound("time entry"))?;
    let (_, access) = task_access(cx, actor, &entry.task_id)
        .await
        .map_err(|e| e.not_found_as("time entry"))?;
    access.require(permission::TASKS_READ)?;
    if entry.user_id != actor.user_id {
        access.require(permission::MEMBERS_MANAGE)?;
    }
    let mut tx = cx.begin_as(actor).await?;
    if !db::time_entries::delete(&mut *tx, &actor.tenant_id, entry_id).await? {
        return Err(AppError::NotFound("time entry"));
    }
    tx.record(DomainEvent::TimeEntryDeleted {
        at: in_project(&access),
        entry: facts(&entry),
    });
    tx.commit().await
}

/// A project's time: the total, the estimates' sum, and the split by member and by task.
pub async fn of_project(cx: &Ctx, actor: &Actor, project_id: &str) -> AppResult<ProjectTime> {
    let access = access::project_access(cx, actor, project_id).await?;
    access.require(permission::TASKS_READ)?;
    let tenant = actor.tenant_id.as_str();
    let by_member =
        db::time_entries::project_totals(cx.db.read(), tenant, project_id, true).await?;
    let by_task = db::time_entries::project_totals(cx.db.read(), tenant, project_id, false).await?;
    let estimate_minutes =
        db::time_entries::project_estimate_minutes(cx.db.read(), tenant, project_id).await?;
    Ok(ProjectTime {
        total_seconds: by_member.iter().map(|t| t.spent_ms).sum::<i64>() / 1000,
        estimate_minutes,
        by_member: by_member.into_iter().map(TimeTotal::from).collect(),
        by_task: by_task.into_iter().map(TimeTotal::from).collect(),
    })
}

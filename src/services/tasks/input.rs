//! A task's fields as a client sends them, parsed into the changes to write.

use crate::clock::parse_time;
use crate::db;
use crate::db::tasks::TaskChanges;
use crate::domain::enums::{Priority, TaskStatus, TaskType};
use crate::domain::recurrence::Recurrence;
use crate::domain::task::{Title, parse_text};
use crate::domain::{FieldError, Validator};
use crate::error::AppResult;

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
    /// Make it a subtask of this task (same project); `Some(None)` makes it top-level.
    pub parent_id: Option<Option<&'a str>>,
    /// Replace its labels with these (the workspace's label ids).
    pub label_ids: Option<&'a [String]>,
    pub estimate_minutes: Option<Option<i64>>,
    /// An RRULE subset; `Some(None)` stops the repeat.
    pub recurrence: Option<Option<&'a str>>,
}

pub const MAX_LABELS_PER_TASK: usize = 20;
const MAX_ESTIMATE_MINUTES: i64 = 1_000_000;

/// What a client sent, checked: the row's changes and, when sent, the label set.
pub(super) struct Parsed {
    pub changes: TaskChanges,
    pub labels: Option<Vec<String>>,
}

pub(super) fn parse_changes(input: &TaskInput<'_>) -> AppResult<Parsed> {
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
    let estimate = input.estimate_minutes.map(|e| {
        e.and_then(|m| {
            v.field(
                (0..=MAX_ESTIMATE_MINUTES)
                    .contains(&m)
                    .then_some(m)
                    .ok_or_else(|| {
                        FieldError::new("estimate_minutes", "must be 0–1000000 minutes")
                    }),
            )
        })
    });
    let recurrence = input.recurrence.map(|r| {
        r.and_then(|r| v.field(Recurrence::parse("recurrence", r)))
            .map(|r| r.to_rule())
    });
    let labels = input.label_ids.map(|ids| {
        let mut ids: Vec<String> = ids.iter().map(|id| id.trim().to_string()).collect();
        ids.sort();
        ids.dedup();
        if ids.len() > MAX_LABELS_PER_TASK || ids.iter().any(|id| id.is_empty() || id.len() > 64) {
            v.field::<()>(Err(FieldError::new(
                "label_ids",
                "must list at most 20 label ids",
            )));
        }
        ids
    });
    if input.after_id.is_some() && input.before_id.is_some() {
        v.field::<()>(Err(FieldError::new(
            "after_id",
            "give after_id or before_id, not both",
        )));
    }
    v.finish()?;
    let changes = TaskChanges {
        title: title.flatten().map(|t| t.as_str().to_string()),
        description: description.map(|d| d.and_then(Option::flatten)),
        status: status.flatten(),
        kind: kind.flatten(),
        priority: priority.flatten(),
        assignee_id: input.assignee_id.map(|a| a.map(str::to_string)),
        due_date: due.map(Option::flatten),
        position: None,
        completed_at: None,
        parent_id: input.parent_id.map(|p| p.map(str::to_string)),
        estimate_minutes: estimate,
        recurrence,
    };
    Ok(Parsed { changes, labels })
}

pub(super) fn changed_fields(c: &TaskChanges, labels: bool) -> Vec<&'static str> {
    [
        ("title", c.title.is_some()),
        ("description", c.description.is_some()),
        ("status", c.status.is_some()),
        ("type", c.kind.is_some()),
        ("priority", c.priority.is_some()),
        ("assignee_id", c.assignee_id.is_some()),
        ("due_date", c.due_date.is_some()),
        ("position", c.position.is_some()),
        ("parent_id", c.parent_id.is_some()),
        ("labels", labels),
        ("estimate_minutes", c.estimate_minutes.is_some()),
        ("recurrence", c.recurrence.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect()
}

/// An assignee must be a member of the project.
pub(super) async fn check_assignee(
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

/// Labels must be the workspace's.
pub(super) async fn check_labels(
    conn: &mut sqlx::AnyConnection,
    workspace_id: &str,
    ids: &[String],
) -> AppResult<()> {
    let found = db::labels::count_in_workspace(&mut *conn, workspace_id, ids).await?;
    if usize::try_from(found).ok() != Some(ids.len()) {
        return Err(FieldError::new("label_ids", "must be labels of this workspace").into());
    }
    Ok(())
}

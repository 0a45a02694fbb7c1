//! Tasks read from an outside source (a CSV, a Trello board) and written into one project in
//! one unit of work: labels found by name (created when missing), assignees found by email
//! (they must be project members), board positions appended after the project's last task.

use std::collections::HashMap;

use crate::clock::now_ms;
use crate::db::labels::LabelRow;
use crate::db::tasks::TaskRow;
use crate::db::{self};
use crate::domain::enums::{Priority, TaskStatus, TaskType};
use crate::domain::label::{DEFAULT_COLOR, parse_name};
use crate::domain::task::position_between;
use crate::domain::{Email, FieldError};
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::unit_of_work::UnitOfWork;

/// One task to create, with where it came from (`line`: a CSV line, a Trello card's place).
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub origin: String,
    pub title: String,
    pub description: Option<String>,
    pub status: TaskStatus,
    pub priority: Priority,
    pub kind: TaskType,
    pub assignee: Option<Email>,
    pub due_date: Option<i64>,
    pub labels: Vec<String>,
    /// The index of an earlier draft this is a subtask of.
    pub parent: Option<usize>,
    pub comments: Vec<DraftComment>,
    pub created_at: Option<i64>,
}

impl Draft {
    pub fn new(origin: String, title: String) -> Self {
        Self {
            origin,
            title,
            description: None,
            status: TaskStatus::Todo,
            priority: Priority::Medium,
            kind: TaskType::Task,
            assignee: None,
            due_date: None,
            labels: Vec::new(),
            parent: None,
            comments: Vec::new(),
            created_at: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DraftComment {
    pub content: String,
    pub created_at: Option<i64>,
}

/// Where the drafts go.
pub struct Target<'a> {
    pub tenant_id: &'a str,
    pub workspace_id: &'a str,
    pub project_id: &'a str,
    pub created_by: Option<&'a str>,
}

/// What was written.
#[derive(Debug, Default)]
pub struct Written {
    pub task_ids: Vec<String>,
    pub labels_created: u64,
    pub comments: u64,
}

fn at(origin: &str, field: &str, message: impl Into<String>) -> AppError {
    AppError::Validation(vec![FieldError::new(
        &format!("{origin}, {field}"),
        message,
    )])
}

/// Writes `drafts` (in order) into the target project on `tx`; `colors` gives new labels
/// their colour by lower-case name.
pub async fn write(
    tx: &mut UnitOfWork,
    target: &Target<'_>,
    drafts: &[Draft],
    colors: &HashMap<String, String>,
) -> AppResult<Written> {
    let now = now_ms();
    let mut written = Written::default();
    let mut labels: HashMap<String, String> =
        db::labels::list(&mut **tx, target.tenant_id, target.workspace_id)
            .await?
            .into_iter()
            .map(|l| (l.name.to_lowercase(), l.id))
            .collect();
    let mut assignees: HashMap<String, String> = HashMap::new();
    tx.lock_project(target.project_id).await?;
    let mut position = db::tasks::last_position(&mut **tx, target.project_id).await?;
    for draft in drafts {
        let assignee_id = match &draft.assignee {
            None => None,
            Some(email) => match assignees.get(email.normalized()) {
                Some(id) => Some(id.clone()),
                None => {
                    let id = db::users::find_id_by_email(
                        &mut **tx,
                        target.tenant_id,
                        email.normalized(),
                    )
                    .await?;
                    let member = match &id {
                        Some(id) => {
                            db::project_members::is_member(&mut **tx, target.project_id, id).await?
                        }
                        None => false,
                    };
                    let Some(id) = id.filter(|_| member) else {
                        return Err(at(
                            &draft.origin,
                            "assignee",
                            format!("{} is not a member of the project", email.as_str()),
                        ));
                    };
                    assignees.insert(email.normalized().to_string(), id.clone());
                    Some(id)
                }
            },
        };
        let mut label_ids = Vec::new();
        for name in &draft.labels {
            let key = name.to_lowercase();
            let id = match labels.get(&key) {
                Some(id) => id.clone(),
                None => {
                    let name = parse_name("labels", name)
                        .map_err(|e| at(&draft.origin, "labels", e.message))?;
                    let row = LabelRow {
                        id: new_id(),
                        workspace_id: target.workspace_id.to_string(),
                        name,
                        color: colors
                            .get(&key)
                            .cloned()
                            .unwrap_or_else(|| DEFAULT_COLOR.into()),
                        created_at: now,
                        updated_at: now,
                    };
                    db::labels::insert(&mut **tx, target.tenant_id, &row).await?;
                    written.labels_created += 1;
                    labels.insert(key, row.id.clone());
                    row.id
                }
            };
            if !label_ids.contains(&id) {
                label_ids.push(id);
            }
        }
        let next = position_between(position.as_deref(), None)
            .ok_or_else(|| anyhow::anyhow!("no board position after {position:?}"))?;
        let created_at = draft.created_at.unwrap_or(now);
        let row = TaskRow {
            id: new_id(),
            tenant_id: target.tenant_id.to_string(),
            project_id: target.project_id.to_string(),
            title: draft.title.clone(),
            description: draft.description.clone(),
            status: draft.status,
            kind: draft.kind,
            priority: draft.priority,
            assignee_id,
            due_date: draft.due_date,
            position: next.clone(),
            created_by: target.created_by.map(str::to_string),
            completed_at: (draft.status == TaskStatus::Done).then_some(now),
            version: 1,
            created_at,
            updated_at: now,
            parent_id: draft.parent.and_then(|i| written.task_ids.get(i).cloned()),
            estimate_minutes: None,
            recurrence: None,
            recurrence_next_id: None,
        };
        position = Some(next);
        db::tasks::insert(&mut **tx, &row).await?;
        if !label_ids.is_empty() {
            db::labels::set_for_task(tx, target.tenant_id, &row.id, &label_ids).await?;
        }
        for comment in &draft.comments {
            let at = comment.created_at.unwrap_or(now);
            db::comments::insert(
                &mut **tx,
                target.tenant_id,
                &db::comments::CommentRow {
                    id: new_id(),
                    task_id: row.id.clone(),
                    author_id: None,
                    content: comment.content.clone(),
                    created_at: at,
                    updated_at: at,
                },
            )
            .await?;
            written.comments += 1;
        }
        crate::jobs::search::enqueue_embed(tx, target.tenant_id, &row.id).await?;
        written.task_ids.push(row.id);
    }
    Ok(written)
}

//! Task lists: filters, sorts and keyset cursors over a project's tasks.

use serde::{Deserialize, Serialize};

use crate::clock::parse_time;
use crate::db::tasks::{SortField, SortKey, TaskFilter};
use crate::db::{self};
use crate::domain::enums::{Priority, TaskStatus, TaskType};
use crate::domain::permission;
use crate::domain::{FieldError, Validator};
use crate::error::AppResult;
use crate::services::Ctx;
use crate::services::access::{self, Actor};
use crate::services::page;
use crate::services::tasks::{Task, present};

/// A list's sort: field and direction, from `position`, `-due_date`, `priority`, …
#[derive(Debug, Clone, Copy)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

impl Sort {
    pub fn parse(input: Option<&str>) -> Result<Self, FieldError> {
        let raw = input.unwrap_or("position").trim();
        let (descending, name) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let field = match name {
            "position" => SortField::Position,
            "due_date" => SortField::DueDate,
            "priority" => SortField::Priority,
            "created_at" | "created" => SortField::CreatedAt,
            "updated_at" | "updated" => SortField::UpdatedAt,
            _ => {
                return Err(FieldError::new(
                    "sort",
                    "must be one of position, due_date, priority, created_at, updated_at (prefix - for descending)",
                ));
            }
        };
        Ok(Self { field, descending })
    }
}

/// Where a page ends: the sort it belongs to, the last row's key and id.
#[derive(Debug, Serialize, Deserialize)]
pub struct TaskCursor {
    pub sort: String,
    pub key: SortKey,
    pub id: String,
}

#[derive(Debug, Default)]
pub struct ListQuery<'a> {
    pub status: Option<&'a str>,
    pub assignee_id: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub priority: Option<&'a str>,
    pub due_before: Option<&'a str>,
    pub due_after: Option<&'a str>,
    pub q: Option<&'a str>,
    pub sort: Option<&'a str>,
    pub label_id: Option<&'a str>,
    pub parent_id: Option<&'a str>,
}

fn like_pattern(q: &str) -> String {
    let escaped = q
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A page of a project's tasks and the cursor for the next one.
pub async fn list(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
    query: &ListQuery<'_>,
    cursor: Option<TaskCursor>,
    limit: u32,
) -> AppResult<(Vec<Task>, Option<TaskCursor>)> {
    let access = access::project_access(cx, actor, project_id).await?;
    access.require(permission::TASKS_READ)?;
    let mut v = Validator::default();
    let sort = v.field(Sort::parse(query.sort));
    let status = query
        .status
        .map(|s| v.field(TaskStatus::parse("status", s)));
    let kind = query.kind.map(|k| v.field(TaskType::parse("type", k)));
    let priority = query
        .priority
        .map(|p| v.field(Priority::parse("priority", p)));
    let due_before = query
        .due_before
        .map(|d| v.field(parse_time("due_before", d)));
    let due_after = query.due_after.map(|d| v.field(parse_time("due_after", d)));
    if query.q.is_some_and(|q| q.chars().count() > 200) {
        v.field::<()>(Err(FieldError::new("q", "must be at most 200 characters")));
    }
    v.finish()?;
    let sort = sort.expect("validated");
    let sort_name = query.sort.unwrap_or("position").trim().to_string();
    if let Some(c) = &cursor
        && (c.sort != sort_name || matches!(c.key, SortKey::Text(_)) != sort.field.is_text())
    {
        return Err(FieldError::new("cursor", "belongs to another sort order").into());
    }
    let filter = TaskFilter {
        status: status.flatten(),
        assignee_id: query.assignee_id.map(str::to_string),
        kind: kind.flatten(),
        priority: priority.flatten(),
        due_before: due_before.flatten(),
        due_after: due_after.flatten(),
        text_pattern: query.q.filter(|q| !q.trim().is_empty()).map(like_pattern),
        label_id: query.label_id.map(str::to_string),
        parent_id: query.parent_id.map(str::to_string),
    };
    let mut conn = cx.db.read().acquire().await?;
    let after = cursor.as_ref().map(|c| (&c.key, c.id.as_str()));
    let rows = db::tasks::list_page(
        &mut *conn,
        &actor.tenant_id,
        project_id,
        &filter,
        sort.field,
        sort.descending,
        after,
        page::fetch_size(limit),
    )
    .await?;
    let (rows, next) = page::split(rows, limit, |r| TaskCursor {
        sort: sort_name.clone(),
        key: sort.field.key_of(&r.task, sort.descending),
        id: r.task.id.clone(),
    });
    Ok((present(&mut *conn, &actor.tenant_id, rows).await?, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_parse() {
        assert!(Sort::parse(None).is_ok());
        assert!(Sort::parse(Some("-due_date")).unwrap().descending);
        assert!(Sort::parse(Some("title; DROP TABLE tasks")).is_err());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
        assert_eq!(like_pattern(" Login "), "%login%");
    }
}

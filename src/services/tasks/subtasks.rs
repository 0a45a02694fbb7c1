//! A subtask's parent: a task of the same project, never the task itself or one of its own
//! subtasks (no cycles), at most `MAX_DEPTH` levels deep.

use crate::db;
use crate::domain::FieldError;
use crate::error::AppResult;

const MAX_DEPTH: usize = 10;

/// Checks that `parent_id` may be the parent of `task_id` (`None` for a task being created).
pub(super) async fn check_parent(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    project_id: &str,
    task_id: Option<&str>,
    parent_id: &str,
) -> AppResult<()> {
    let refuse = |why: &str| -> AppResult<()> { Err(FieldError::new("parent_id", why).into()) };
    let parent = db::tasks::find(&mut *conn, tenant_id, parent_id).await?;
    if parent.as_ref().is_none_or(|p| p.project_id != project_id) {
        return refuse("is not a task of this project");
    }
    // Walk up from the new parent: meeting the task itself means a cycle.
    let mut depth = 1;
    let mut next = parent.and_then(|p| p.parent_id);
    if task_id == Some(parent_id) {
        return refuse("cannot be the task itself");
    }
    while let Some(ancestor) = next {
        if Some(ancestor.as_str()) == task_id {
            return refuse("is one of this task's subtasks (that would make a cycle)");
        }
        depth += 1;
        if depth >= MAX_DEPTH {
            return refuse("nests subtasks more than 10 levels deep");
        }
        next = db::tasks::parent_of(&mut *conn, tenant_id, &ancestor)
            .await?
            .flatten();
    }
    Ok(())
}

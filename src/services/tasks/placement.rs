//! Where a task goes on the board (fractional positions between neighbours), and when a
//! status change completes or reopens it.

use crate::db;
use crate::domain::FieldError;
use crate::domain::enums::TaskStatus;
use crate::domain::task::position_between;
use crate::error::{AppError, AppResult};

/// The position for a task placed after/before a neighbour, or at the end.
pub(super) async fn place(
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

pub(super) fn completed_at(
    status: Option<TaskStatus>,
    was_done: bool,
    now: i64,
) -> Option<Option<i64>> {
    match status {
        Some(TaskStatus::Done) if !was_done => Some(Some(now)),
        Some(s) if s != TaskStatus::Done && was_done => Some(None),
        _ => None,
    }
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

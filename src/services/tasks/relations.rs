//! Relations between tasks of one workspace: `BLOCKS`/`BLOCKED_BY`, `RELATES_TO`,
//! `DUPLICATES`/`DUPLICATED_BY`. Stored one way round (`RelationKind::stored`) and shown from
//! whichever task is asked about. A blocking chain may not loop back.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{in_project, task_access};
use crate::clock::{now_ms, to_rfc3339};
use crate::db;
use crate::db::task_relations::{RelationRow, RelationView};
use crate::domain::FieldError;
use crate::domain::enums::{RelationKind, TaskStatus};
use crate::domain::event::{DomainEvent, RelationFacts};
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::access::{self, Actor};

/// How many tasks a cycle check visits before refusing (a blocking graph that large is a
/// mistake, not a plan).
const MAX_WALK: usize = 5_000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RelatedTask {
    pub id: String,
    pub title: String,
    pub status: TaskStatus,
    pub project_id: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Relation {
    pub id: String,
    /// How this task relates to `task`, read from this task.
    pub kind: RelationKind,
    pub task: RelatedTask,
    pub created_by: Option<String>,
    pub created_at: String,
}

fn view(task_id: &str, v: RelationView) -> Relation {
    let r = v.relation;
    Relation {
        kind: if r.task_id == task_id {
            r.kind
        } else {
            r.kind.inverse()
        },
        id: r.id,
        task: RelatedTask {
            id: v.other_id,
            title: v.other_title,
            status: v.other_status,
            project_id: v.other_project_id,
        },
        created_by: r.created_by,
        created_at: to_rfc3339(r.created_at),
    }
}

/// The task's relations whose other task the caller may see, oldest first.
pub async fn list(cx: &Ctx, actor: &Actor, task_id: &str) -> AppResult<Vec<Relation>> {
    let (_, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::TASKS_READ)?;
    let rows = db::task_relations::of_task(cx.db.read(), &actor.tenant_id, task_id).await?;
    let mut visible: HashMap<String, bool> = HashMap::new();
    visible.insert(access.project_id.clone(), true);
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let project = row.other_project_id.clone();
        if !visible.contains_key(&project) {
            let sees = access::project_access(cx, actor, &project)
                .await
                .is_ok_and(|a| a.can(permission::TASKS_READ));
            visible.insert(project.clone(), sees);
        }
        if visible[&project] {
            out.push(view(task_id, row));
        }
    }
    Ok(out)
}

/// Relates `task_id` to `related_id` as `kind` (read from `task_id`).
pub async fn add(
    cx: &Ctx,
    actor: &Actor,
    task_id: &str,
    related_id: &str,
    kind: &str,
) -> AppResult<Relation> {
    let kind = RelationKind::parse("kind", kind)?;
    let (_, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::TASKS_UPDATE)?;
    if related_id == task_id {
        return Err(FieldError::new("task_id", "cannot relate a task to itself").into());
    }
    let (_, other) = task_access(cx, actor, related_id)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => FieldError::new("task_id", "is not a task you can see").into(),
            e => e,
        })?;
    other.require(permission::TASKS_READ)?;
    if other.workspace.workspace_id != access.workspace.workspace_id {
        return Err(FieldError::new("task_id", "is in another workspace").into());
    }
    let (stored, swapped) = kind.stored();
    let (from, to) = if swapped {
        (related_id, task_id)
    } else {
        (task_id, related_id)
    };
    let mut tx = cx.begin_as(actor).await?;
    let engine = tx.engine();
    // This tenant's writers wait from here to COMMIT, so two relations that would close a
    // loop between them cannot both pass the check below.
    db::activity::order_commits(&mut tx, engine, &actor.tenant_id).await?;
    if db::task_relations::exists_between(&mut *tx, from, to, stored).await? {
        return Err(AppError::Conflict {
            code: "relation_exists",
            message: "these tasks are already related that way".into(),
        });
    }
    if stored == RelationKind::Blocks && blocks_transitively(&mut tx, to, from).await? {
        return Err(FieldError::new(
            "task_id",
            "already blocks this task (directly or through others): that would make a cycle",
        )
        .into());
    }
    let row = RelationRow {
        id: new_id(),
        task_id: from.to_string(),
        related_id: to.to_string(),
        kind: stored,
        created_by: Some(actor.user_id.clone()),
        created_at: now_ms(),
    };
    db::task_relations::insert(&mut *tx, &actor.tenant_id, &row).await?;
    tx.record(DomainEvent::TaskRelationAdded {
        at: in_project(&access),
        relation: RelationFacts {
            id: row.id.clone(),
            task_id: task_id.to_string(),
            related_id: related_id.to_string(),
            kind,
        },
    });
    let created = db::task_relations::of_task(&mut *tx, &actor.tenant_id, task_id)
        .await?
        .into_iter()
        .find(|v| v.relation.id == row.id)
        .map(|v| view(task_id, v))
        .ok_or(AppError::NotFound("relation"))?;
    tx.created(&created)?;
    tx.commit().await?;
    Ok(created)
}

/// Whether `start` blocks `target`, directly or through a chain.
async fn blocks_transitively(
    conn: &mut sqlx::AnyConnection,
    start: &str,
    target: &str,
) -> AppResult<bool> {
    let mut seen = HashSet::from([start.to_string()]);
    let mut frontier = vec![start.to_string()];
    while let Some(task) = frontier.pop() {
        for blocked in db::task_relations::blocked_tasks(&mut *conn, &task).await? {
            if blocked == target {
                return Ok(true);
            }
            if seen.len() >= MAX_WALK {
                return Err(FieldError::new("task_id", "the blocking graph is too large").into());
            }
            if seen.insert(blocked.clone()) {
                frontier.push(blocked);
            }
        }
    }
    Ok(false)
}

/// Removes a relation of `task_id` (from either end).
pub async fn remove(cx: &Ctx, actor: &Actor, task_id: &str, relation_id: &str) -> AppResult<()> {
    let (_, access) = task_access(cx, actor, task_id).await?;
    access.require(permission::TASKS_UPDATE)?;
    let relation = db::task_relations::find(cx.db.read(), &actor.tenant_id, relation_id)
        .await?
        .filter(|r| r.task_id == task_id || r.related_id == task_id)
        .ok_or(AppError::NotFound("relation"))?;
    let mut tx = cx.begin_as(actor).await?;
    if !db::task_relations::delete(&mut *tx, &actor.tenant_id, relation_id).await? {
        return Err(AppError::NotFound("relation"));
    }
    let (kind, related_id) = if relation.task_id == task_id {
        (relation.kind, relation.related_id)
    } else {
        (relation.kind.inverse(), relation.task_id)
    };
    tx.record(DomainEvent::TaskRelationRemoved {
        at: in_project(&access),
        relation: RelationFacts {
            id: relation.id,
            task_id: task_id.to_string(),
            related_id,
            kind,
        },
    });
    tx.commit().await
}

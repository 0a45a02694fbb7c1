//! A project's members: listing, adding (workspace members only) and removing.

use super::*;
use crate::clock::{now_ms, to_rfc3339};
use crate::db::project_members::ProjectMemberRow;
use crate::db::{self, is_unique_violation};
use crate::domain::event::DomainEvent;
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::services::Ctx;
use crate::services::access::{self, Actor};
use crate::services::members::UserRef;
use crate::services::page;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectMember {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub image_url: Option<String>,
    pub added_at: String,
}

impl From<ProjectMemberRow> for ProjectMember {
    fn from(r: ProjectMemberRow) -> Self {
        Self {
            user_id: r.user_id,
            email: r.email,
            name: r.name,
            image_url: r.image_url,
            added_at: to_rfc3339(r.created_at),
        }
    }
}

pub async fn list_members(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
    after: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<ProjectMember>, Option<String>)> {
    access::project_access(cx, actor, project_id).await?;
    let rows = db::project_members::list_page(
        cx.db.read(),
        &actor.tenant_id,
        project_id,
        after,
        page::fetch_size(limit),
    )
    .await?;
    let (rows, next) = page::split(rows, limit, |r| r.user_id.clone());
    Ok((rows.into_iter().map(ProjectMember::from).collect(), next))
}

/// Adds a workspace member to the project (team lead or admin). Twice is a conflict.
pub async fn add_member(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
    user: UserRef<'_>,
) -> AppResult<ProjectMember> {
    let access = access::project_access(cx, actor, project_id).await?;
    access.require(permission::PROJECTS_MEMBERS)?;
    let user_id = workspace_member(cx, &access.workspace, &user, "user").await?;
    let mut tx = cx.begin_as(actor).await?;
    db::project_members::insert(&mut *tx, &actor.tenant_id, project_id, &user_id, now_ms())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                AppError::Conflict {
                    code: "already_member",
                    message: "this user is already a member of the project".into(),
                }
            } else {
                e.into()
            }
        })?;
    tx.record(DomainEvent::ProjectMemberAdded {
        at: at(&access),
        user_id: user_id.clone(),
    });
    tx.commit().await?;
    db::project_members::find_with_user(cx.db.read(), &actor.tenant_id, project_id, &user_id)
        .await?
        .map(ProjectMember::from)
        .ok_or(AppError::NotFound("member"))
}

pub async fn remove_member(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
    user_id: &str,
) -> AppResult<()> {
    let access = access::project_access(cx, actor, project_id).await?;
    access.require(permission::PROJECTS_MEMBERS)?;
    let mut tx = cx.begin_as(actor).await?;
    if !db::project_members::delete(&mut *tx, &actor.tenant_id, project_id, user_id).await? {
        return Err(AppError::NotFound("member"));
    }
    tx.record(DomainEvent::ProjectMemberRemoved {
        at: at(&access),
        user_id: user_id.to_string(),
    });
    tx.commit().await?;
    Ok(())
}

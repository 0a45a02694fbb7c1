//! Workspace members: list, add, change role, remove — with the rules on owners.

use serde::Serialize;

use crate::clock::{now_ms, to_rfc3339};
use crate::db::workspace_members::{MemberWithUser, NewMember};
use crate::db::{self, is_unique_violation};
use crate::domain::enums::WorkspaceRole;
use crate::domain::event::DomainEvent;
use crate::domain::permission;
use crate::domain::{Email, FieldError};
use crate::error::{AppError, AppResult};
use crate::services::Ctx;
use crate::services::access::{self, Actor, WorkspaceAccess};
use crate::services::page;
use crate::services::unit_of_work::UnitOfWork;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub image_url: Option<String>,
    pub role: WorkspaceRole,
    pub custom_role_id: Option<String>,
    pub joined_at: String,
}

impl From<MemberWithUser> for Member {
    fn from(m: MemberWithUser) -> Self {
        Self {
            user_id: m.user_id,
            email: m.email,
            name: m.name,
            image_url: m.image_url,
            role: m.role,
            custom_role_id: m.custom_role_id,
            joined_at: to_rfc3339(m.created_at),
        }
    }
}

/// Who to add: by email or by user id.
#[derive(Debug, Clone, Copy)]
pub enum UserRef<'a> {
    Email(&'a str),
    Id(&'a str),
}

/// Resolves a user of the caller's tenant; unknown (or another tenant's) is not found.
pub async fn resolve_user(cx: &Ctx, tenant_id: &str, user: &UserRef<'_>) -> AppResult<String> {
    let found = match user {
        UserRef::Email(email) => {
            let email = Email::parse("email", email)?;
            db::users::find_id_by_email(cx.db.read(), tenant_id, email.normalized()).await?
        }
        UserRef::Id(id) => db::users::exists(cx.db.read(), tenant_id, id)
            .await?
            .then(|| id.to_string()),
    };
    found.ok_or(AppError::NotFound("user"))
}

pub async fn list(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    after: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<Member>, Option<String>)> {
    access::workspace_access(cx, actor, workspace_id)
        .await?
        .require(permission::MEMBERS_READ)?;
    let rows = db::workspace_members::list_page(
        cx.db.read(),
        &actor.tenant_id,
        workspace_id,
        after,
        page::fetch_size(limit),
    )
    .await?;
    let (rows, next) = page::split(rows, limit, |r| r.user_id.clone());
    Ok((rows.into_iter().map(Member::from).collect(), next))
}

/// A custom role may be handed out only by someone who holds every permission it grants, so a
/// member allowed to manage members cannot give anyone (themselves included) more than they
/// have.
async fn check_custom_role_grantable(
    cx: &Ctx,
    access: &WorkspaceAccess,
    role_id: &str,
) -> AppResult<()> {
    let role = db::roles::find(cx.db.read(), &access.tenant_id, role_id)
        .await?
        .ok_or_else(|| AppError::from(FieldError::new("custom_role_id", "no such role")))?;
    let patterns: Vec<String> =
        serde_json::from_str(&role.permissions).map_err(anyhow::Error::from)?;
    let exceeds = permission::ALL
        .iter()
        .any(|p| permission::grants(&patterns, p) && !access.can(p));
    if exceeds {
        return Err(AppError::Forbidden("that role grants more than you hold"));
    }
    Ok(())
}

/// Nobody changes or removes a member who ranks above them.
fn check_target_rank(access: &WorkspaceAccess, target: WorkspaceRole) -> AppResult<()> {
    if target.rank() > access.role.rank() {
        return Err(AppError::Forbidden(
            "you cannot change a member who ranks above you",
        ));
    }
    Ok(())
}

/// Checks that `access` may hand out `role` (and the custom role, if any).
pub(crate) async fn check_grantable(
    cx: &Ctx,
    access: &WorkspaceAccess,
    role: WorkspaceRole,
    custom_role_id: Option<&str>,
) -> AppResult<()> {
    if role.rank() > access.role.rank() || (role == WorkspaceRole::Owner && !access.is_owner()) {
        return Err(AppError::Forbidden(
            "you cannot grant a role above your own",
        ));
    }
    if let Some(id) = custom_role_id {
        if role == WorkspaceRole::Owner {
            return Err(FieldError::new("custom_role_id", "cannot be combined with OWNER").into());
        }
        check_custom_role_grantable(cx, access, id).await?;
    }
    Ok(())
}

pub async fn add(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    user: UserRef<'_>,
    role: WorkspaceRole,
    custom_role_id: Option<&str>,
) -> AppResult<Member> {
    let access = access::workspace_access(cx, actor, workspace_id).await?;
    access.require(permission::MEMBERS_MANAGE)?;
    check_grantable(cx, &access, role, custom_role_id).await?;
    let user_id = resolve_user(cx, &actor.tenant_id, &user).await?;
    let mut tx = cx.begin_as(actor).await?;
    add_in(&mut tx, actor, workspace_id, &user_id, role, custom_role_id).await?;
    tx.commit().await?;
    find(cx, &actor.tenant_id, workspace_id, &user_id).await
}

/// Inserts a membership and records its event in `tx` (shared with invitation acceptance).
pub async fn add_in(
    tx: &mut UnitOfWork,
    actor: &Actor,
    workspace_id: &str,
    user_id: &str,
    role: WorkspaceRole,
    custom_role_id: Option<&str>,
) -> AppResult<()> {
    // Every way into a workspace (added, invitation accepted) comes through here.
    crate::services::quotas::reserve(
        tx,
        &actor.tenant_id,
        workspace_id,
        crate::domain::billing::Resource::Members,
        1,
    )
    .await?;
    db::workspace_members::insert(
        &mut **tx,
        &NewMember {
            tenant_id: &actor.tenant_id,
            workspace_id,
            user_id,
            role,
            custom_role_id,
            now: now_ms(),
        },
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::Conflict {
                code: "already_member",
                message: "this user is already a member".into(),
            }
        } else {
            e.into()
        }
    })?;
    tx.record(DomainEvent::MemberAdded {
        workspace_id: workspace_id.to_string(),
        user_id: user_id.to_string(),
        role,
    });
    Ok(())
}

async fn find(cx: &Ctx, tenant_id: &str, workspace_id: &str, user_id: &str) -> AppResult<Member> {
    db::workspace_members::find_with_user(cx.db.read(), tenant_id, workspace_id, user_id)
        .await?
        .map(Member::from)
        .ok_or(AppError::NotFound("member"))
}

fn last_owner() -> AppError {
    AppError::Conflict {
        code: "last_owner",
        message: "a workspace must keep at least one owner".into(),
    }
}

pub async fn change_role(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    user_id: &str,
    role: WorkspaceRole,
    custom_role_id: Option<&str>,
) -> AppResult<Member> {
    let access = access::workspace_access(cx, actor, workspace_id).await?;
    access.require(permission::MEMBERS_MANAGE)?;
    check_grantable(cx, &access, role, custom_role_id).await?;
    let mut tx = cx.begin_as(actor).await?;
    db::workspaces::lock(&mut *tx, &actor.tenant_id, workspace_id).await?;
    let target = db::workspace_members::find(&mut *tx, &actor.tenant_id, workspace_id, user_id)
        .await?
        .ok_or(AppError::NotFound("member"))?;
    let current = target.role;
    check_target_rank(&access, current)?;
    if current == WorkspaceRole::Owner && !access.is_owner() {
        return Err(AppError::Forbidden(
            "only an owner can change an owner's role",
        ));
    }
    if current == WorkspaceRole::Owner
        && role != WorkspaceRole::Owner
        && db::workspace_members::count_owners(&mut *tx, workspace_id).await? <= 1
    {
        return Err(last_owner());
    }
    db::workspace_members::set_role(
        &mut *tx,
        &actor.tenant_id,
        workspace_id,
        user_id,
        role.as_str(),
        custom_role_id,
    )
    .await?;
    tx.record(DomainEvent::MemberRoleChanged {
        workspace_id: workspace_id.to_string(),
        user_id: user_id.to_string(),
        from: current,
        to: role,
        custom_role_id: custom_role_id.map(str::to_string),
    });
    tx.commit().await?;
    find(cx, &actor.tenant_id, workspace_id, user_id).await
}

/// Removes a member (or lets a member leave). Admins cannot remove owners; the last owner can
/// neither leave nor be removed.
pub async fn remove(cx: &Ctx, actor: &Actor, workspace_id: &str, user_id: &str) -> AppResult<()> {
    let access = access::workspace_access(cx, actor, workspace_id).await?;
    let leaving = user_id == actor.user_id;
    if !leaving {
        access.require(permission::MEMBERS_MANAGE)?;
    }
    let mut tx = cx.begin_as(actor).await?;
    db::workspaces::lock(&mut *tx, &actor.tenant_id, workspace_id).await?;
    let target = db::workspace_members::find(&mut *tx, &actor.tenant_id, workspace_id, user_id)
        .await?
        .ok_or(AppError::NotFound("member"))?;
    let target_role = target.role;
    if !leaving {
        check_target_rank(&access, target_role)?;
    }
    if target_role == WorkspaceRole::Owner && !leaving && !access.is_owner() {
        return Err(AppError::Forbidden("only an owner can remove an owner"));
    }
    if target_role == WorkspaceRole::Owner
        && db::workspace_members::count_owners(&mut *tx, workspace_id).await? <= 1
    {
        return Err(last_owner());
    }
    db::workspace_members::delete(&mut tx, &actor.tenant_id, workspace_id, user_id).await?;
    let (workspace_id, user_id) = (workspace_id.to_string(), user_id.to_string());
    tx.record(if leaving {
        DomainEvent::MemberLeft {
            workspace_id,
            user_id,
            role: target_role,
        }
    } else {
        DomainEvent::MemberRemoved {
            workspace_id,
            user_id,
            role: target_role,
        }
    });
    tx.commit().await?;
    Ok(())
}

//! Who may do what: loads the caller's standing in a workspace or project and checks it
//! against the permission rules. Every route goes through these checks.
//!
//! A row the caller cannot see — another tenant's, a workspace they are not in, a project they
//! neither belong to nor may read — is reported as not found, never as forbidden.

use crate::db::{self};
use crate::domain::enums::WorkspaceRole;
use crate::domain::permission::{self, grants, role_grants};
use crate::error::{AppError, AppResult};
use crate::services::Ctx;

/// The caller: a user of a tenant.
#[derive(Debug, Clone)]
pub struct Actor {
    pub tenant_id: String,
    pub user_id: String,
}

/// The caller's standing in one workspace.
#[derive(Debug, Clone)]
pub struct WorkspaceAccess {
    pub tenant_id: String,
    pub workspace_id: String,
    pub user_id: String,
    pub role: WorkspaceRole,
    /// The patterns in force: a custom role's if one is assigned, else the built-in role's.
    pub patterns: Vec<String>,
}

impl WorkspaceAccess {
    pub fn can(&self, permission: &str) -> bool {
        grants(&self.patterns, permission)
    }

    /// Forbidden (403) when the member lacks `permission`.
    pub fn require(&self, permission: &str) -> AppResult<()> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden("your role does not allow this"))
        }
    }

    pub fn is_owner(&self) -> bool {
        self.role == WorkspaceRole::Owner
    }
}

/// The caller's standing in one project.
#[derive(Debug, Clone)]
pub struct ProjectAccess {
    pub workspace: WorkspaceAccess,
    pub project_id: String,
    pub is_member: bool,
    pub is_lead: bool,
}

impl ProjectAccess {
    /// Admins (anyone who may read all projects) see every project; others see the projects
    /// they belong to or lead.
    pub fn visible(&self) -> bool {
        self.is_member || self.is_lead || self.workspace.can(permission::PROJECTS_READ)
    }

    /// The team lead may update the project and manage its members whatever their role.
    pub fn can(&self, permission: &str) -> bool {
        let lead_power = self.is_lead
            && (permission == permission::PROJECTS_UPDATE
                || permission == permission::PROJECTS_MEMBERS);
        self.visible() && (lead_power || self.workspace.can(permission))
    }

    pub fn require(&self, permission: &str) -> AppResult<()> {
        if !self.visible() {
            Err(AppError::NotFound("project"))
        } else if self.can(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden("your role does not allow this"))
        }
    }
}

/// The caller's membership in a workspace; not found unless they are a member. This is the
/// one place a request's workspace is resolved (project access comes through here too), so it
/// is where the request counts as an API call of the workspace and where a workspace over its
/// monthly allowance is refused (`services::usage`).
pub async fn workspace_access(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
) -> AppResult<WorkspaceAccess> {
    let access = workspace_standing(cx, actor, workspace_id).await?;
    crate::services::usage::count_api_call(cx, &access).await?;
    Ok(access)
}

/// [`workspace_access`] without counting an API call: for billing reads (subscription, usage),
/// which a workspace over its allowance must still be able to make.
pub async fn workspace_standing(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
) -> AppResult<WorkspaceAccess> {
    let member =
        db::workspace_members::find(cx.db.read(), &actor.tenant_id, workspace_id, &actor.user_id)
            .await?
            .ok_or(AppError::NotFound("workspace"))?;
    standing_as(cx, actor, workspace_id, member.role, member.custom_role_id).await
}

/// A member's access from their role: the built-in role's grants, or a custom role's.
async fn standing_as(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    role: WorkspaceRole,
    custom_role_id: Option<String>,
) -> AppResult<WorkspaceAccess> {
    let patterns = match &custom_role_id {
        Some(role_id) if role != WorkspaceRole::Owner => {
            custom_patterns(cx, &actor.tenant_id, role_id)
                .await?
                .unwrap_or_else(|| owned(role_grants(role)))
        }
        _ => owned(role_grants(role)),
    };
    Ok(WorkspaceAccess {
        tenant_id: actor.tenant_id.clone(),
        workspace_id: workspace_id.to_string(),
        user_id: actor.user_id.clone(),
        role,
        patterns,
    })
}

/// The caller's standing in a project, found through its workspace. Not found when the project
/// does not exist in the caller's tenant, the caller is not in its workspace, or cannot see it.
pub async fn project_access(cx: &Ctx, actor: &Actor, project_id: &str) -> AppResult<ProjectAccess> {
    let standing = db::workspace_members::project_standing(
        cx.db.read(),
        &actor.tenant_id,
        project_id,
        &actor.user_id,
    )
    .await?
    .ok_or(AppError::NotFound("project"))?;
    let workspace = standing_as(
        cx,
        actor,
        &standing.workspace_id,
        standing.role,
        standing.custom_role_id,
    )
    .await?;
    crate::services::usage::count_api_call(cx, &workspace).await?;
    let access = ProjectAccess {
        workspace,
        project_id: project_id.to_string(),
        is_member: standing.is_member != 0,
        is_lead: standing.team_lead_id.as_deref() == Some(actor.user_id.as_str()),
    };
    if access.visible() {
        Ok(access)
    } else {
        Err(AppError::NotFound("project"))
    }
}

async fn custom_patterns(
    cx: &Ctx,
    tenant_id: &str,
    role_id: &str,
) -> AppResult<Option<Vec<String>>> {
    let Some(role) = db::roles::find(cx.db.read(), tenant_id, role_id).await? else {
        return Ok(None);
    };
    let patterns: Vec<String> =
        serde_json::from_str(&role.permissions).map_err(anyhow::Error::from)?;
    Ok(Some(patterns))
}

fn owned(patterns: &[&str]) -> Vec<String> {
    patterns.iter().map(|p| (*p).to_string()).collect()
}

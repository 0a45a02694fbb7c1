//! Projects in a workspace, their members, and who may see and change them.

mod members;
pub use members::*;

use serde::Serialize;

use crate::clock::{now_ms, parse_time, to_rfc3339};
use crate::db::projects::{ProjectChanges, ProjectRow};
use crate::db::{self};
use crate::domain::enums::{Priority, ProjectStatus};
use crate::domain::event::{DomainEvent, InProject};
use crate::domain::permission;
use crate::domain::workspace::Name;
use crate::domain::{FieldError, Validator};
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::access::{self, Actor, ProjectAccess, WorkspaceAccess};
use crate::services::activity;
use crate::services::members::{UserRef, resolve_user};
use crate::services::page;

const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// More members are added one by one after creation.
const MAX_MEMBERS_AT_CREATE: usize = 100;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Project {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub description: Option<String>,
    pub status: ProjectStatus,
    pub priority: Priority,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub team_lead_id: Option<String>,
    pub created_by: Option<String>,
    pub archived: bool,
    pub archived_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<ProjectRow> for Project {
    fn from(r: ProjectRow) -> Self {
        Self {
            id: r.id,
            workspace_id: r.workspace_id,
            name: r.name,
            description: r.description,
            status: r.status,
            priority: r.priority,
            start_date: r.start_date.map(to_rfc3339),
            end_date: r.end_date.map(to_rfc3339),
            team_lead_id: r.team_lead_id,
            created_by: r.created_by,
            archived: r.archived_at.is_some(),
            archived_at: r.archived_at.map(to_rfc3339),
            created_at: to_rfc3339(r.created_at),
            updated_at: to_rfc3339(r.updated_at),
        }
    }
}

/// A project's fields as sent by a client, all optional; `create` requires a name.
#[derive(Debug, Default)]
pub struct ProjectInput<'a> {
    pub name: Option<&'a str>,
    pub description: Option<Option<&'a str>>,
    pub status: Option<&'a str>,
    pub priority: Option<&'a str>,
    pub start_date: Option<Option<&'a str>>,
    pub end_date: Option<Option<&'a str>>,
    pub team_lead: Option<Option<UserRef<'a>>>,
    pub archived: Option<bool>,
    /// Minimum name length (the seed's projects need three characters).
    pub min_name_chars: usize,
}

fn parse_description(input: &str) -> Result<Option<String>, FieldError> {
    let trimmed = input.trim();
    if trimmed.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(FieldError::new(
            "description",
            "must be at most 10000 characters",
        ));
    }
    crate::domain::text::check("description", trimmed)?;
    Ok((!trimmed.is_empty()).then(|| trimmed.to_string()))
}

/// Parses everything but the team lead (which needs the database) into column changes.
fn parse_changes(input: &ProjectInput<'_>) -> AppResult<ProjectChanges> {
    let mut v = Validator::default();
    let name = input
        .name
        .map(|n| v.field(Name::parse_bounded("name", n, input.min_name_chars)));
    let description = input
        .description
        .map(|d| d.map(|d| v.field(parse_description(d))));
    let status = input
        .status
        .map(|s| v.field(ProjectStatus::parse("status", s)));
    let priority = input
        .priority
        .map(|p| v.field(Priority::parse("priority", p)));
    let start = input
        .start_date
        .map(|d| d.map(|d| v.field(parse_time("start_date", d))));
    let end = input
        .end_date
        .map(|d| d.map(|d| v.field(parse_time("end_date", d))));
    v.finish()?;
    Ok(ProjectChanges {
        name: name.flatten().map(|n| n.as_str().to_string()),
        description: description.map(|d| d.and_then(|d| d.flatten())),
        status: status.flatten(),
        priority: priority.flatten(),
        start_date: start.map(Option::flatten),
        end_date: end.map(Option::flatten),
        team_lead_id: None,
        archived_at: input.archived.map(|a| a.then(now_ms)),
    })
}

fn check_dates(start: Option<i64>, end: Option<i64>) -> AppResult<()> {
    match (start, end) {
        (Some(s), Some(e)) if e < s => {
            Err(FieldError::new("end_date", "must not be before start_date").into())
        }
        _ => Ok(()),
    }
}

/// A team lead or member must already belong to the workspace.
async fn workspace_member(
    cx: &Ctx,
    ws: &WorkspaceAccess,
    user: &UserRef<'_>,
    field: &str,
) -> AppResult<String> {
    let user_id = resolve_user(cx, &ws.tenant_id, user)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => FieldError::new(field, "no such user").into(),
            other => other,
        })?;
    if db::workspace_members::find(cx.db.read(), &ws.tenant_id, &ws.workspace_id, &user_id)
        .await?
        .is_none()
    {
        return Err(FieldError::new(field, "must be a member of the workspace").into());
    }
    Ok(user_id)
}

/// Creates a project. Admins only; the team lead (the creator when not given) and the listed
/// members must belong to the workspace, and the lead becomes a project member.
pub async fn create(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    input: ProjectInput<'_>,
    members: &[UserRef<'_>],
) -> AppResult<Project> {
    let ws = access::workspace_access(cx, actor, workspace_id).await?;
    ws.require(permission::PROJECTS_CREATE)?;
    if input.name.is_none() {
        return Err(FieldError::new("name", "is required").into());
    }
    let changes = parse_changes(&input)?;
    let start = changes.start_date.flatten();
    let end = changes.end_date.flatten();
    check_dates(start, end)?;
    let lead = match &input.team_lead {
        Some(Some(user)) => workspace_member(cx, &ws, user, "team_lead").await?,
        _ => actor.user_id.clone(),
    };
    if members.len() > MAX_MEMBERS_AT_CREATE {
        return Err(FieldError::new("members", "must list at most 100 users").into());
    }
    let mut member_ids = vec![lead.clone()];
    for user in members {
        let id = workspace_member(cx, &ws, user, "members").await?;
        if member_ids.contains(&id) && id != lead {
            return Err(FieldError::new("members", "lists a user twice").into());
        }
        if !member_ids.contains(&id) {
            member_ids.push(id);
        }
    }
    let now = now_ms();
    let row = ProjectRow {
        id: new_id(),
        tenant_id: actor.tenant_id.clone(),
        workspace_id: workspace_id.to_string(),
        name: changes.name.expect("checked above"),
        description: changes.description.flatten(),
        status: changes.status.unwrap_or(ProjectStatus::Planning),
        priority: changes.priority.unwrap_or(Priority::Medium),
        start_date: start,
        end_date: end,
        team_lead_id: Some(lead),
        created_by: Some(actor.user_id.clone()),
        archived_at: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = cx.begin_as(actor).await?;
    crate::services::quotas::reserve(
        &mut tx,
        &actor.tenant_id,
        workspace_id,
        crate::domain::billing::Resource::Projects,
        1,
    )
    .await?;
    db::projects::insert(&mut *tx, &row).await?;
    for user_id in &member_ids {
        db::project_members::insert(&mut *tx, &actor.tenant_id, &row.id, user_id, now).await?;
    }
    tx.record(DomainEvent::ProjectCreated {
        at: InProject {
            workspace_id: workspace_id.to_string(),
            project_id: row.id.clone(),
        },
        name: row.name.clone(),
        members: member_ids,
    });
    tx.commit().await?;
    Ok(row.into())
}

pub async fn get(cx: &Ctx, actor: &Actor, project_id: &str) -> AppResult<Project> {
    access::project_access(cx, actor, project_id).await?;
    load(cx, &actor.tenant_id, project_id).await
}

async fn load(cx: &Ctx, tenant_id: &str, project_id: &str) -> AppResult<Project> {
    db::projects::find(cx.db.read(), tenant_id, project_id)
        .await?
        .map(Project::from)
        .ok_or(AppError::NotFound("project"))
}

/// The workspace's projects the caller may see: all of them for admins, otherwise the ones
/// they belong to or lead.
pub async fn list(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    after: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<Project>, Option<String>)> {
    let ws = access::workspace_access(cx, actor, workspace_id).await?;
    let visible_to = (!ws.can(permission::PROJECTS_READ)).then_some(actor.user_id.as_str());
    let rows = db::projects::list_page(
        cx.db.read(),
        &actor.tenant_id,
        workspace_id,
        visible_to,
        after,
        page::fetch_size(limit),
    )
    .await?;
    let (rows, next) = page::split(rows, limit, |r| r.id.clone());
    Ok((rows.into_iter().map(Project::from).collect(), next))
}

/// Partial update by the team lead or an admin. Only the sent fields are written.
pub async fn update(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
    input: ProjectInput<'_>,
) -> AppResult<Project> {
    let access = access::project_access(cx, actor, project_id).await?;
    access.require(permission::PROJECTS_UPDATE)?;
    let mut changes = parse_changes(&input)?;
    changes.team_lead_id = match &input.team_lead {
        None => None,
        Some(None) => Some(None),
        Some(Some(user)) => Some(Some(
            workspace_member(cx, &access.workspace, user, "team_lead").await?,
        )),
    };
    let mut tx = cx.begin_as(actor).await?;
    tx.lock_project(project_id).await?;
    let current = db::projects::find(&mut *tx, &actor.tenant_id, project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    check_dates(
        changes.start_date.unwrap_or(current.start_date),
        changes.end_date.unwrap_or(current.end_date),
    )?;
    db::projects::update(&mut *tx, &actor.tenant_id, project_id, &changes, now_ms()).await?;
    if let Some(Some(lead)) = &changes.team_lead_id
        && !db::project_members::is_member(&mut *tx, project_id, lead).await?
    {
        db::project_members::insert(&mut *tx, &actor.tenant_id, project_id, lead, now_ms()).await?;
    }
    let at = InProject {
        workspace_id: current.workspace_id,
        project_id: project_id.to_string(),
    };
    let fields = changed_fields(&changes);
    tx.record(match input.archived {
        Some(true) => DomainEvent::ProjectArchived { at, fields },
        Some(false) => DomainEvent::ProjectUnarchived { at, fields },
        None => DomainEvent::ProjectUpdated { at, fields },
    });
    tx.commit().await?;
    load(cx, &actor.tenant_id, project_id).await
}

fn changed_fields(c: &ProjectChanges) -> Vec<&'static str> {
    [
        ("name", c.name.is_some()),
        ("description", c.description.is_some()),
        ("status", c.status.is_some()),
        ("priority", c.priority.is_some()),
        ("start_date", c.start_date.is_some()),
        ("end_date", c.end_date.is_some()),
        ("team_lead_id", c.team_lead_id.is_some()),
        ("archived", c.archived_at.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect()
}

/// Deletes the project with its tasks, comments, members and activity. Admins only.
pub async fn delete(cx: &Ctx, actor: &Actor, project_id: &str) -> AppResult<()> {
    let access = access::project_access(cx, actor, project_id).await?;
    access.require(permission::PROJECTS_DELETE)?;
    let mut tx = cx.begin_as(actor).await?;
    db::projects::delete(&mut *tx, &actor.tenant_id, project_id).await?;
    let files = crate::services::attachments::detach(
        &mut tx,
        &actor.tenant_id,
        db::attachments::Scope::Project(project_id),
    )
    .await?;
    tx.record(DomainEvent::ProjectDeleted {
        workspace_id: access.workspace.workspace_id.clone(),
        project_id: project_id.to_string(),
        files,
    });
    tx.commit().await?;
    Ok(())
}

/// A page of the project's activity, oldest first, after event `after_id`.
pub async fn activity(
    cx: &Ctx,
    actor: &Actor,
    project_id: &str,
    after_id: i64,
    limit: u32,
) -> AppResult<(Vec<activity::ActivityEvent>, Option<i64>)> {
    access::project_access(cx, actor, project_id).await?;
    activity::list_for_project(cx, &actor.tenant_id, project_id, after_id, limit).await
}

fn at(access: &ProjectAccess) -> InProject {
    InProject {
        workspace_id: access.workspace.workspace_id.clone(),
        project_id: access.project_id.clone(),
    }
}

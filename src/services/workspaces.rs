//! Workspaces (the seeds' organizations): create, read, update, delete, list mine.

use serde::Serialize;

use crate::clock::{now_ms, to_rfc3339};
use crate::db::workspace_members::NewMember;
use crate::db::workspaces::{WorkspaceChanges, WorkspaceRow, WorkspaceWithRole};
use crate::db::{self, is_unique_violation};
use crate::domain::enums::WorkspaceRole;
use crate::domain::event::DomainEvent;
use crate::domain::permission;
use crate::domain::secret_token::random_base62;
use crate::domain::workspace::{Name, Slug};
use crate::domain::{FieldError, Validator};
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::access::{self, Actor};
use crate::services::page;

const MAX_IMAGE_URL: usize = 2048;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub image_url: Option<String>,
    pub owner_id: String,
    pub created_at: String,
    pub updated_at: String,
    /// The caller's role here, when the workspace is shown to a member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<WorkspaceRole>,
    /// Bytes its attachments take; shown in a workspace's details (`GET /v1/workspaces/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_bytes: Option<i64>,
}

impl Workspace {
    fn from_row(row: WorkspaceRow, role: Option<WorkspaceRole>) -> Self {
        Self {
            id: row.id,
            name: row.name,
            slug: row.slug,
            image_url: row.image_url,
            owner_id: row.owner_id,
            created_at: to_rfc3339(row.created_at),
            updated_at: to_rfc3339(row.updated_at),
            role,
            storage_bytes: None,
        }
    }
}

impl From<WorkspaceWithRole> for Workspace {
    fn from(w: WorkspaceWithRole) -> Self {
        let role = w.role;
        Self::from_row(w.workspace, Some(role))
    }
}

pub struct NewWorkspace<'a> {
    pub name: &'a str,
    pub slug: Option<&'a str>,
    pub image_url: Option<&'a str>,
}

pub fn parse_image_url(field: &str, input: &str) -> Result<String, FieldError> {
    let trimmed = input.trim();
    let ok = trimmed.len() <= MAX_IMAGE_URL
        && url::Url::parse(trimmed).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    if ok {
        Ok(trimmed.to_string())
    } else {
        Err(FieldError::new(
            field,
            "must be an http(s) URL of at most 2048 characters",
        ))
    }
}

/// Creates a workspace owned by the caller. Without a slug, one is derived from the name and
/// made unique with a short suffix if needed; a slug that was asked for and is taken is a 409.
pub async fn create(cx: &Ctx, actor: &Actor, input: NewWorkspace<'_>) -> AppResult<Workspace> {
    let mut v = Validator::default();
    let name = v.field(Name::parse("name", input.name));
    let slug = input.slug.map(|s| v.field(Slug::parse("slug", s)));
    let image_url = input
        .image_url
        .map(|u| v.field(parse_image_url("image_url", u)));
    v.finish()?;
    let name = name.expect("validated");
    let requested = slug.flatten();
    let image_url = image_url.flatten();
    let base = requested
        .clone()
        .unwrap_or_else(|| Slug::from_name(name.as_str()));

    for attempt in 0..5 {
        let slug = if attempt == 0 {
            base.clone()
        } else {
            base.with_suffix(&random_base62(4).to_lowercase())
        };
        match insert_with_owner(
            cx,
            actor,
            name.as_str(),
            slug.as_str(),
            image_url.as_deref(),
            None,
        )
        .await
        {
            Err(AppError::Conflict { .. }) if requested.is_none() => continue,
            other => return other,
        }
    }
    Err(AppError::Conflict {
        code: "slug_taken",
        message: "could not find a free slug; choose one".into(),
    })
}

/// The caller's personal workspace (the seed's single-user world), made on first use.
pub async fn personal(cx: &Ctx, actor: &Actor, user_name: &str) -> AppResult<Workspace> {
    if let Some(row) =
        db::workspaces::find_personal(cx.db.read(), &actor.tenant_id, &actor.user_id).await?
    {
        return Ok(Workspace::from_row(row, Some(WorkspaceRole::Owner)));
    }
    let base = Slug::from_name(&format!(
        "personal {}",
        &actor.user_id[actor.user_id.len().saturating_sub(12)..]
    ));
    let name = format!("{user_name}'s workspace");
    for attempt in 0..5 {
        let slug = if attempt == 0 {
            base.clone()
        } else {
            base.with_suffix(&random_base62(4).to_lowercase())
        };
        match insert_with_owner(cx, actor, &name, slug.as_str(), None, Some(&actor.user_id)).await {
            Ok(w) => return Ok(w),
            // Either made concurrently by another request (use that one) or the slug belongs to
            // someone else's workspace (try another).
            Err(AppError::Conflict { .. }) => {
                if let Some(row) =
                    db::workspaces::find_personal(cx.db.read(), &actor.tenant_id, &actor.user_id)
                        .await?
                {
                    return Ok(Workspace::from_row(row, Some(WorkspaceRole::Owner)));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(AppError::Conflict {
        code: "slug_taken",
        message: "could not find a free slug for the personal workspace".into(),
    })
}

async fn insert_with_owner(
    cx: &Ctx,
    actor: &Actor,
    name: &str,
    slug: &str,
    image_url: Option<&str>,
    personal_of: Option<&str>,
) -> AppResult<Workspace> {
    let now = now_ms();
    let row = WorkspaceRow {
        id: new_id(),
        tenant_id: actor.tenant_id.clone(),
        name: name.to_string(),
        slug: slug.to_string(),
        image_url: image_url.map(str::to_string),
        owner_id: actor.user_id.clone(),
        personal_of: personal_of.map(str::to_string),
        created_at: now,
        updated_at: now,
    };
    let mut tx = cx.begin_as(actor).await?;
    db::workspaces::insert(&mut *tx, &row).await.map_err(|e| {
        if is_unique_violation(&e) {
            AppError::Conflict {
                code: "slug_taken",
                message: "a workspace with this slug already exists".into(),
            }
        } else {
            e.into()
        }
    })?;
    db::workspace_members::insert(
        &mut *tx,
        &NewMember {
            tenant_id: &actor.tenant_id,
            workspace_id: &row.id,
            user_id: &actor.user_id,
            role: WorkspaceRole::Owner,
            custom_role_id: None,
            now,
        },
    )
    .await?;
    crate::services::subscriptions::create_for_workspace(&mut tx, &actor.tenant_id, &row.id, now)
        .await?;
    tx.record(DomainEvent::WorkspaceCreated {
        workspace_id: row.id.clone(),
        name: row.name.clone(),
        slug: row.slug.clone(),
    });
    tx.commit().await?;
    Ok(Workspace::from_row(row, Some(WorkspaceRole::Owner)))
}

pub async fn get(cx: &Ctx, actor: &Actor, workspace_id: &str) -> AppResult<Workspace> {
    let access = access::workspace_access(cx, actor, workspace_id).await?;
    let row = db::workspaces::find(cx.db.read(), &actor.tenant_id, workspace_id)
        .await?
        .ok_or(AppError::NotFound("workspace"))?;
    let mut workspace = Workspace::from_row(row, Some(access.role));
    workspace.storage_bytes = Some(
        crate::services::attachments::storage_bytes(cx, &actor.tenant_id, workspace_id).await?,
    );
    Ok(workspace)
}

/// A page of every workspace in the tenant, for its operator.
pub async fn list_all(
    cx: &Ctx,
    tenant_id: &str,
    after_id: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<Workspace>, Option<String>)> {
    let rows = db::workspaces::list_tenant_page(
        cx.db.read(),
        tenant_id,
        after_id,
        page::fetch_size(limit),
    )
    .await?;
    let (rows, next) = page::split(rows, limit, |r| r.id.clone());
    Ok((
        rows.into_iter()
            .map(|r| Workspace::from_row(r, None))
            .collect(),
        next,
    ))
}

pub async fn list_mine(
    cx: &Ctx,
    actor: &Actor,
    after_id: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<Workspace>, Option<String>)> {
    let rows = db::workspaces::list_for_user(
        cx.db.read(),
        &actor.tenant_id,
        &actor.user_id,
        after_id,
        page::fetch_size(limit),
    )
    .await?;
    let (rows, next) = page::split(rows, limit, |r| r.workspace.id.clone());
    Ok((rows.into_iter().map(Workspace::from).collect(), next))
}

pub struct WorkspaceUpdate<'a> {
    pub name: Option<&'a str>,
    pub slug: Option<&'a str>,
    /// `Some(None)` clears the image.
    pub image_url: Option<Option<&'a str>>,
}

pub async fn update(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    input: WorkspaceUpdate<'_>,
) -> AppResult<Workspace> {
    let access = access::workspace_access(cx, actor, workspace_id).await?;
    access.require(permission::WORKSPACE_UPDATE)?;
    let mut v = Validator::default();
    let name = input.name.map(|n| v.field(Name::parse("name", n)));
    let slug = input.slug.map(|s| v.field(Slug::parse("slug", s)));
    let image_url = input
        .image_url
        .map(|u| u.map(|u| v.field(parse_image_url("image_url", u))));
    v.finish()?;
    let name = name.flatten();
    let slug = slug.flatten();
    let image_url: Option<Option<String>> = image_url.map(Option::flatten);
    let changes = WorkspaceChanges {
        name: name.as_ref().map(Name::as_str),
        slug: slug.as_ref().map(Slug::as_str),
        image_url: image_url.as_ref().map(|u| u.as_deref()),
    };
    let mut tx = cx.begin_as(actor).await?;
    db::workspaces::update(&mut *tx, &actor.tenant_id, workspace_id, &changes, now_ms())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                AppError::Conflict {
                    code: "slug_taken",
                    message: "a workspace with this slug already exists".into(),
                }
            } else {
                e.into()
            }
        })?;
    tx.record(DomainEvent::WorkspaceUpdated {
        workspace_id: workspace_id.to_string(),
        name: changes.name.map(str::to_string),
        slug: changes.slug.map(str::to_string),
    });
    let row = db::workspaces::find(&mut *tx, &actor.tenant_id, workspace_id)
        .await?
        .ok_or(AppError::NotFound("workspace"))?;
    tx.commit().await?;
    Ok(Workspace::from_row(row, Some(access.role)))
}

/// Deletes the workspace and everything in it. Owners only.
pub async fn delete(cx: &Ctx, actor: &Actor, workspace_id: &str) -> AppResult<()> {
    let access = access::workspace_access(cx, actor, workspace_id).await?;
    if !access.is_owner() {
        return Err(AppError::Forbidden(
            "only an owner can delete the workspace",
        ));
    }
    access.require(permission::WORKSPACE_DELETE)?;
    let mut tx = cx.begin_as(actor).await?;
    db::workspaces::delete(&mut *tx, &actor.tenant_id, workspace_id).await?;
    // Its files are swept by housekeeping (their rows went with the workspace).
    tx.record(DomainEvent::WorkspaceDeleted {
        workspace_id: workspace_id.to_string(),
    });
    tx.commit().await?;
    Ok(())
}

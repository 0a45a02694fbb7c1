//! Custom roles: a tenant's named permission sets (`["projects:*", "tasks:read"]`), assignable
//! to workspace members in place of their built-in role's permissions.
//!
//! Roles belong to the tenant, not to a workspace: one role is shared by every workspace of the
//! tenant, so changing it changes what members can do everywhere. That makes roles tenant-wide
//! policy, which only the tenant's server side (the secret key) may write; any signed-in user
//! of the tenant may read them, to see what a role assignment would mean.

use serde::Serialize;

use crate::clock::{now_ms, to_rfc3339};
use crate::db::roles::RoleRow;
use crate::db::{self, is_unique_violation};
use crate::domain::event::DomainEvent;
use crate::domain::permission::parse_patterns;
use crate::domain::{FieldError, Validator};
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::page;

const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Role {
    pub id: String,
    pub name: String,
    /// Permission patterns: `*`, `resource:*` or `resource:action`.
    pub permissions: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl TryFrom<RoleRow> for Role {
    type Error = AppError;

    fn try_from(row: RoleRow) -> AppResult<Self> {
        let permissions: Vec<String> =
            serde_json::from_str(&row.permissions).map_err(anyhow::Error::from)?;
        Ok(Self {
            id: row.id,
            name: row.name,
            permissions,
            created_at: to_rfc3339(row.created_at),
            updated_at: to_rfc3339(row.updated_at),
        })
    }
}

fn parse_name(field: &str, input: &str) -> Result<String, FieldError> {
    let name = input.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(FieldError::new(
            field,
            "must be 1–100 characters without control characters",
        ));
    }
    Ok(name.to_string())
}

/// The permissions as stored: a JSON array of normalised patterns.
fn parse_permissions(field: &str, input: &[String]) -> Result<String, FieldError> {
    let patterns = parse_patterns(field, input)?;
    Ok(serde_json::to_string(&patterns).expect("strings serialise"))
}

fn role_exists() -> AppError {
    AppError::Conflict {
        code: "role_exists",
        message: "a role with this name already exists".into(),
    }
}

fn map_unique(e: sqlx::Error) -> AppError {
    if is_unique_violation(&e) {
        role_exists()
    } else {
        e.into()
    }
}

pub async fn create(
    cx: &Ctx,
    tenant_id: &str,
    name: &str,
    permissions: &[String],
) -> AppResult<Role> {
    let mut v = Validator::default();
    let name = v.field(parse_name("name", name));
    let permissions = v.field(parse_permissions("permissions", permissions));
    v.finish()?;
    let now = now_ms();
    let row = RoleRow {
        id: new_id(),
        tenant_id: tenant_id.to_string(),
        name: name.expect("validated"),
        permissions: permissions.expect("validated"),
        created_at: now,
        updated_at: now,
    };
    let mut tx = cx.begin(tenant_id, None).await?;
    db::roles::insert(&mut *tx, &row)
        .await
        .map_err(map_unique)?;
    tx.record(DomainEvent::RoleCreated {
        role_id: row.id.clone(),
        name: row.name.clone(),
    });
    tx.commit().await?;
    Role::try_from(row)
}

pub async fn get(cx: &Ctx, tenant_id: &str, id: &str) -> AppResult<Role> {
    db::roles::find(cx.db.read(), tenant_id, id)
        .await?
        .ok_or(AppError::NotFound("role"))?
        .try_into()
}

pub async fn list(
    cx: &Ctx,
    tenant_id: &str,
    after_id: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<Role>, Option<String>)> {
    let rows =
        db::roles::list_page(cx.db.read(), tenant_id, after_id, page::fetch_size(limit)).await?;
    let (rows, next) = page::split(rows, limit, |r| r.id.clone());
    let roles = rows
        .into_iter()
        .map(Role::try_from)
        .collect::<AppResult<_>>()?;
    Ok((roles, next))
}

pub struct RoleUpdate<'a> {
    pub name: Option<&'a str>,
    pub permissions: Option<&'a [String]>,
}

/// Changes the name and/or the permissions; what is not given stays. Members holding the role
/// get the new permissions on their next request.
pub async fn update(cx: &Ctx, tenant_id: &str, id: &str, input: RoleUpdate<'_>) -> AppResult<Role> {
    let mut v = Validator::default();
    let name = input.name.map(|n| v.field(parse_name("name", n)));
    let permissions = input
        .permissions
        .map(|p| v.field(parse_permissions("permissions", p)));
    v.finish()?;
    let (name, permissions) = (name.flatten(), permissions.flatten());
    let mut tx = cx.begin(tenant_id, None).await?;
    let found = db::roles::update(
        &mut *tx,
        tenant_id,
        id,
        name.as_deref(),
        permissions.as_deref(),
        now_ms(),
    )
    .await
    .map_err(map_unique)?;
    if !found {
        return Err(AppError::NotFound("role"));
    }
    let row = db::roles::find(&mut *tx, tenant_id, id)
        .await?
        .ok_or(AppError::NotFound("role"))?;
    tx.record(DomainEvent::RoleUpdated {
        role_id: row.id.clone(),
        name: row.name.clone(),
    });
    tx.commit().await?;
    row.try_into()
}

/// Deletes the role; its members fall back to their built-in role.
pub async fn delete(cx: &Ctx, tenant_id: &str, id: &str) -> AppResult<()> {
    let mut tx = cx.begin(tenant_id, None).await?;
    if !db::roles::delete(&mut *tx, tenant_id, id).await? {
        return Err(AppError::NotFound("role"));
    }
    tx.record(DomainEvent::RoleDeleted {
        role_id: id.to_string(),
    });
    tx.commit().await?;
    Ok(())
}

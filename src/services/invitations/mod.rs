//! Invitations: a workspace invites an email address with a role; the user with that address
//! accepts (and becomes a member) or rejects; an admin may revoke it while it is pending. An
//! invitation expires after the configured time. Its token is minted by the email job and
//! sent only to the invited address; only its SHA-256 is stored, and accepting needs it.
//!
//! The invited user is matched by email alone (case-insensitively). To anyone else an
//! invitation does not exist: answering another person's invitation is a 404.

mod answer;
mod create;
pub use answer::*;
pub use create::*;

use serde::Serialize;

use crate::clock::{now_ms, to_rfc3339};
use crate::db::invitations::{InvitationRow, StatusFilter};
use crate::db::{self};
use crate::domain::FieldError;
use crate::domain::enums::{InvitationStatus, WorkspaceRole};
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::services::Ctx;
use crate::services::access::{self, Actor, WorkspaceAccess};
use crate::services::members::{self, Member};

pub const MAX_MESSAGE_CHARS: usize = 1000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub id: String,
    pub workspace_id: String,
    pub workspace_name: String,
    pub email: String,
    pub role: WorkspaceRole,
    pub custom_role_id: Option<String>,
    pub message: Option<String>,
    /// PENDING, ACCEPTED, REJECTED, REVOKED, or EXPIRED (pending past `expires_at`).
    pub status: InvitationStatus,
    pub invited_by: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub responded_at: Option<String>,
}

impl Invitation {
    fn from_row(row: InvitationRow, now: i64) -> Self {
        let status = effective_status(&row, now);
        Self {
            id: row.id,
            workspace_id: row.workspace_id,
            workspace_name: row.workspace_name,
            email: row.email,
            role: row.role,
            custom_role_id: row.custom_role_id,
            message: row.message,
            status,
            invited_by: row.invited_by,
            created_at: to_rfc3339(row.created_at),
            expires_at: to_rfc3339(row.expires_at),
            responded_at: row.responded_at.map(to_rfc3339),
        }
    }
}

/// An accepted invitation and the membership it made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub invitation: Invitation,
    pub member: Member,
}

fn effective_status(row: &InvitationRow, now: i64) -> InvitationStatus {
    let stored = row.status;
    if stored == InvitationStatus::Pending && row.expires_at <= now {
        InvitationStatus::Expired
    } else {
        stored
    }
}

fn not_pending() -> AppError {
    AppError::Conflict {
        code: "invitation_not_pending",
        message: "this invitation has already been answered or revoked".into(),
    }
}

fn expired() -> AppError {
    AppError::Conflict {
        code: "invitation_expired",
        message: "this invitation has expired".into(),
    }
}

/// Why an invitation cannot be answered now, if it cannot.
fn answerable(row: &InvitationRow, now: i64) -> AppResult<()> {
    match effective_status(row, now) {
        InvitationStatus::Pending => Ok(()),
        InvitationStatus::Expired => Err(expired()),
        _ => Err(not_pending()),
    }
}

fn parse_message(input: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(message) = input.map(str::trim).filter(|m| !m.is_empty()) else {
        return Ok(None);
    };
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(FieldError::new(
            "message",
            "must be at most 1000 characters",
        ));
    }
    crate::domain::text::check("message", message)?;
    Ok(Some(message.to_string()))
}

/// The inviter may hand out neither OWNER (owners are made by promotion, after joining) nor
/// anything a member manager could not grant directly.
async fn check_grantable(
    cx: &Ctx,
    access: &WorkspaceAccess,
    role: WorkspaceRole,
    custom_role_id: Option<&str>,
) -> AppResult<()> {
    if role == WorkspaceRole::Owner {
        return Err(FieldError::new(
            "role",
            "cannot invite as OWNER; promote the member after they join",
        )
        .into());
    }
    members::check_grantable(cx, access, role, custom_role_id).await
}

/// Which invitations a workspace list shows; `None` shows all.
pub fn parse_status_filter(input: Option<&str>) -> AppResult<Option<InvitationStatus>> {
    input
        .map(|s| InvitationStatus::parse("status", s).map_err(AppError::from))
        .transpose()
}

pub async fn list_for_workspace(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    status: Option<InvitationStatus>,
    after: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<Invitation>, Option<String>)> {
    access::workspace_access(cx, actor, workspace_id)
        .await?
        .require(permission::INVITATIONS_MANAGE)?;
    let filter = match status {
        None => StatusFilter::Any,
        Some(InvitationStatus::Pending) => StatusFilter::Pending,
        Some(InvitationStatus::Expired) => StatusFilter::Expired,
        Some(other) => StatusFilter::Stored(other.as_str()),
    };
    let now = now_ms();
    let rows = db::invitations::list_for_workspace(
        cx.db.read(),
        &actor.tenant_id,
        workspace_id,
        filter,
        now,
        after,
        crate::services::page::fetch_size(limit),
    )
    .await?;
    Ok(page(rows, limit, now))
}

/// The caller's own pending invitations, in every workspace of their tenant.
pub async fn list_mine(
    cx: &Ctx,
    actor: &Actor,
    after: Option<&str>,
    limit: u32,
) -> AppResult<(Vec<Invitation>, Option<String>)> {
    let email = caller_email(cx, actor).await?;
    let now = now_ms();
    let rows = db::invitations::list_pending_for_email(
        cx.db.read(),
        &actor.tenant_id,
        &email,
        now,
        after,
        crate::services::page::fetch_size(limit),
    )
    .await?;
    Ok(page(rows, limit, now))
}

fn page(rows: Vec<InvitationRow>, limit: u32, now: i64) -> (Vec<Invitation>, Option<String>) {
    let (rows, next) = crate::services::page::split(rows, limit, |r| r.id.clone());
    let items = rows
        .into_iter()
        .map(|r| Invitation::from_row(r, now))
        .collect();
    (items, next)
}

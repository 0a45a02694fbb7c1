//! Invitations: a workspace invites an email address with a role; the user with that address
//! accepts (and becomes a member) or rejects; an admin may revoke it while it is pending. An
//! invitation expires after the configured time. Its token is minted by the email job and
//! sent only to the invited address; only its SHA-256 is stored, and accepting needs it.
//!
//! The invited user is matched by email alone (case-insensitively). To anyone else an
//! invitation does not exist: answering another person's invitation is a 404.

use std::time::Duration;

use serde::Serialize;

use crate::clock::{now_ms, to_rfc3339};
use crate::db::invitations::{InvitationRow, NewInvitation, StatusFilter};
use crate::db::{self};
use crate::domain::enums::{InvitationStatus, WorkspaceRole};
use crate::domain::event::DomainEvent;
use crate::domain::permission;
use crate::domain::{Email, FieldError, SecretToken, Validator};
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
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

pub struct NewInvitationInput<'a> {
    pub email: &'a str,
    pub role: WorkspaceRole,
    pub custom_role_id: Option<&'a str>,
    pub message: Option<&'a str>,
}

/// Invites `email` to the workspace. Needs `invitations:manage`. Refused when the address
/// already belongs to a member or already has a pending, unexpired invitation here.
pub async fn create(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    input: NewInvitationInput<'_>,
    ttl: Duration,
) -> AppResult<Invitation> {
    let access = access::workspace_access(cx, actor, workspace_id).await?;
    access.require(permission::INVITATIONS_MANAGE)?;
    let mut v = Validator::default();
    let email = v.field(Email::parse("email", input.email));
    let message = v.field(parse_message(input.message));
    v.finish()?;
    let (email, message) = (email.expect("validated"), message.flatten());
    check_grantable(cx, &access, input.role, input.custom_role_id).await?;

    // A placeholder secret nobody sees; the email job mints the one it sends.
    let token = SecretToken::generate();
    let id = new_id();
    let now = now_ms();
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let mut tx = cx.begin_as(actor).await?;
    // Serialises invitations to this workspace, so two concurrent invitations of one address
    // cannot both pass the check below.
    db::workspaces::lock(&mut *tx, &actor.tenant_id, workspace_id).await?;
    if let Some(user_id) =
        db::users::find_id_by_email(&mut *tx, &actor.tenant_id, email.normalized()).await?
        && db::workspace_members::find(&mut *tx, &actor.tenant_id, workspace_id, &user_id)
            .await?
            .is_some()
    {
        return Err(AppError::Conflict {
            code: "already_member",
            message: "this user is already a member".into(),
        });
    }
    if db::invitations::pending_exists(
        &mut *tx,
        &actor.tenant_id,
        workspace_id,
        email.normalized(),
        now,
    )
    .await?
    {
        return Err(AppError::Conflict {
            code: "invitation_exists",
            message: "this address already has a pending invitation".into(),
        });
    }
    db::invitations::insert(
        &mut *tx,
        &NewInvitation {
            id: &id,
            tenant_id: &actor.tenant_id,
            workspace_id,
            email: email.as_str(),
            email_normalized: email.normalized(),
            role: input.role,
            custom_role_id: input.custom_role_id,
            message: message.as_deref(),
            token_hash: &token.hash(),
            invited_by: &actor.user_id,
            now,
            expires_at: now.saturating_add(ttl_ms),
        },
    )
    .await?;
    tx.record(DomainEvent::InvitationCreated {
        workspace_id: workspace_id.to_string(),
        invitation_id: id.clone(),
        email: email.as_str().to_string(),
        role: input.role,
    });
    let row = db::invitations::find(&mut *tx, &actor.tenant_id, &id)
        .await?
        .ok_or(AppError::NotFound("invitation"))?;
    tx.commit().await?;
    Ok(Invitation::from_row(row, now))
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

/// Revokes a pending invitation. Needs `invitations:manage` in its workspace; an invitation of
/// a workspace the caller is not in is not found.
pub async fn revoke(cx: &Ctx, actor: &Actor, id: &str) -> AppResult<Invitation> {
    let row = db::invitations::find(cx.db.read(), &actor.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound("invitation"))?;
    access::workspace_access(cx, actor, &row.workspace_id)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => AppError::NotFound("invitation"),
            other => other,
        })?
        .require(permission::INVITATIONS_MANAGE)?;
    let now = now_ms();
    if effective_status(&row, now) != InvitationStatus::Pending {
        return Err(not_pending());
    }
    let mut tx = cx.begin_as(actor).await?;
    if !db::invitations::respond(
        &mut *tx,
        &actor.tenant_id,
        id,
        InvitationStatus::Revoked.as_str(),
        now,
    )
    .await?
    {
        return Err(not_pending());
    }
    tx.record(DomainEvent::InvitationRevoked {
        workspace_id: row.workspace_id.clone(),
        invitation_id: id.to_string(),
        email: row.email.clone(),
    });
    let row = db::invitations::find(&mut *tx, &actor.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound("invitation"))?;
    tx.commit().await?;
    Ok(Invitation::from_row(row, now))
}

/// The caller's email, normalised as invitations store it.
async fn caller_email(cx: &Ctx, actor: &Actor) -> AppResult<String> {
    let user = db::users::find(cx.db.read(), &actor.tenant_id, &actor.user_id)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    Ok(user.email.trim().to_lowercase())
}

/// The invitation, if it is addressed to the caller and `token` is the one emailed to that
/// address; anything else is not found. The token is the proof of owning the address: sign-up
/// does not verify emails, so a matching address alone would let anyone who registers the
/// invitee's address first take the invitation.
async fn find_addressed_to_caller(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    email: &str,
    id: &str,
    token: &str,
) -> AppResult<InvitationRow> {
    let not_found = || AppError::NotFound("invitation");
    let token = SecretToken::parse(token.trim()).ok_or_else(not_found)?;
    if !db::invitations::token_matches(&mut *conn, &actor.tenant_id, id, &token.hash()).await? {
        return Err(not_found());
    }
    db::invitations::find(&mut *conn, &actor.tenant_id, id)
        .await?
        .filter(|row| row.email_normalized == email)
        .ok_or_else(not_found)
}

/// Accepts an invitation addressed to the caller: marks it accepted and adds the membership
/// with the invited role, in one transaction.
pub async fn accept(cx: &Ctx, actor: &Actor, id: &str, token: &str) -> AppResult<Accepted> {
    let email = caller_email(cx, actor).await?;
    let now = now_ms();
    let mut tx = cx.begin_as(actor).await?;
    let row = find_addressed_to_caller(&mut tx, actor, &email, id, token).await?;
    answerable(&row, now)?;
    if !db::invitations::respond(
        &mut *tx,
        &actor.tenant_id,
        id,
        InvitationStatus::Accepted.as_str(),
        now,
    )
    .await?
    {
        return Err(not_pending());
    }
    let role = row.role;
    members::add_in(
        &mut tx,
        actor,
        &row.workspace_id,
        &actor.user_id,
        role,
        row.custom_role_id.as_deref(),
    )
    .await?;
    tx.record(DomainEvent::InvitationAccepted {
        workspace_id: row.workspace_id.clone(),
        invitation_id: id.to_string(),
        role,
    });
    let row = db::invitations::find(&mut *tx, &actor.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound("invitation"))?;
    let member = db::workspace_members::find_with_user(
        &mut *tx,
        &actor.tenant_id,
        &row.workspace_id,
        &actor.user_id,
    )
    .await?
    .ok_or(AppError::NotFound("member"))?;
    tx.commit().await?;
    Ok(Accepted {
        invitation: Invitation::from_row(row, now),
        member: Member::from(member),
    })
}

/// Rejects an invitation addressed to the caller.
pub async fn reject(cx: &Ctx, actor: &Actor, id: &str, token: &str) -> AppResult<Invitation> {
    let email = caller_email(cx, actor).await?;
    let now = now_ms();
    let mut tx = cx.begin_as(actor).await?;
    let row = find_addressed_to_caller(&mut tx, actor, &email, id, token).await?;
    answerable(&row, now)?;
    if !db::invitations::respond(
        &mut *tx,
        &actor.tenant_id,
        id,
        InvitationStatus::Rejected.as_str(),
        now,
    )
    .await?
    {
        return Err(not_pending());
    }
    tx.record(DomainEvent::InvitationRejected {
        workspace_id: row.workspace_id.clone(),
        invitation_id: id.to_string(),
    });
    let row = db::invitations::find(&mut *tx, &actor.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound("invitation"))?;
    tx.commit().await?;
    Ok(Invitation::from_row(row, now))
}

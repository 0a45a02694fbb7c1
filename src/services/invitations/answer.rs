//! Revoking an invitation, and the invitee accepting or rejecting it with the emailed token.

use super::*;
use crate::clock::now_ms;
use crate::db::invitations::InvitationRow;
use crate::db::{self};
use crate::domain::SecretToken;
use crate::domain::enums::InvitationStatus;
use crate::domain::event::DomainEvent;
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::services::Ctx;
use crate::services::access::{self, Actor};
use crate::services::members::{self, Member};

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
pub(super) async fn caller_email(cx: &Ctx, actor: &Actor) -> AppResult<String> {
    let user = db::users::find(cx.db.read(), &actor.tenant_id, &actor.user_id)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    Ok(user.email.trim().to_lowercase())
}

/// The invitation, if it is addressed to the caller and `token` is the one emailed to that
/// address; anything else is not found. The token is the proof of owning the address: sign-up
/// does not verify emails, so a matching address alone would let anyone who registers the
/// invitee's address first take the invitation.
pub(super) async fn find_addressed_to_caller(
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

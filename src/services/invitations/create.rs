//! Inviting an address into a workspace, with its emailed token.

use super::*;
use crate::clock::now_ms;
use crate::db::invitations::NewInvitation;
use crate::db::{self};
use crate::domain::enums::WorkspaceRole;
use crate::domain::event::DomainEvent;
use crate::domain::permission;
use crate::domain::{Email, SecretToken, Validator};
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::access::{self, Actor};
use std::time::Duration;

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

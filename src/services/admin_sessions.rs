//! Operator sessions for the console: the tenant's secret key, presented once, is exchanged for
//! a short-lived token that stands in for it. The key never has to live in a browser, and
//! revoking it ends every session made from it. In single-tenant mode an account named in
//! `KANRI_OPERATOR_EMAILS` may exchange its own sign-in instead; taking the address off the
//! list, or deleting the account, ends its sessions.

use std::time::Duration;

use crate::clock::now_ms;
use crate::db::{self, admin_sessions::NewAdminSession};
use crate::domain::{KeyKind, SecretToken};
use crate::error::{AppError, AppResult, AuthFailure};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::services::accounts::SessionUser;
use crate::services::tenants::ResolvedKey;

/// Long enough for a sitting at the admin pages, short enough that a forgotten tab expires.
pub const ADMIN_SESSION_TTL: Duration = Duration::from_secs(30 * 60);

/// A new operator session: the token (shown once, as a cookie) and when it ends.
#[derive(Debug)]
pub struct AdminSignedIn {
    pub token: SecretToken,
    pub tenant_id: String,
    pub expires_at: i64,
}

/// Starts a session for a caller that has just presented its tenant's secret key.
pub async fn start(cx: &Ctx, key: &ResolvedKey) -> AppResult<AdminSignedIn> {
    let (KeyKind::Secret, Some(key_id)) = (key.kind, key.key_id.as_deref()) else {
        return Err(AppError::SecretKeyRequired);
    };
    insert(cx, &key.tenant_id, Some(key_id), None).await
}

/// Starts a session for a signed-in member of the default tenant whose address is one of the
/// configured operators (single-tenant mode; the list is empty otherwise). Anyone else is told
/// the secret key is required, as a member without the key always is.
pub async fn start_for_account(
    cx: &Ctx,
    operators: &[String],
    user: &SessionUser,
) -> AppResult<AdminSignedIn> {
    if user.tenant_id != db::tenants::DEFAULT_TENANT_ID || !is_operator(operators, &user.user.email)
    {
        return Err(AppError::SecretKeyRequired);
    }
    insert(cx, &user.tenant_id, None, Some(&user.user.id)).await
}

fn is_operator(operators: &[String], email: &str) -> bool {
    let email = email.to_lowercase();
    operators.contains(&email)
}

async fn insert(
    cx: &Ctx,
    tenant_id: &str,
    key_id: Option<&str>,
    user_id: Option<&str>,
) -> AppResult<AdminSignedIn> {
    let token = SecretToken::generate();
    let now = now_ms();
    let expires_at = now + ADMIN_SESSION_TTL.as_millis() as i64;
    db::admin_sessions::insert(
        cx.db.write(),
        &NewAdminSession {
            id: &new_id(),
            tenant_id,
            key_id,
            user_id,
            token_hash: &token.hash(),
            created_at: now,
            expires_at,
        },
    )
    .await?;
    Ok(AdminSignedIn {
        token,
        tenant_id: tenant_id.to_string(),
        expires_at,
    })
}

/// The tenant's operator an admin session stands for, if the session is live and what it was
/// made from still holds: its key unrevoked, or its account present and still an operator.
pub async fn authenticate(
    cx: &Ctx,
    operators: &[String],
    raw_token: &str,
) -> AppResult<ResolvedKey> {
    let invalid = || AppError::Unauthenticated(AuthFailure::InvalidToken);
    let token = SecretToken::parse(raw_token).ok_or_else(invalid)?;
    let found = db::admin_sessions::find_live(cx.db.read(), &token.hash(), now_ms())
        .await?
        .ok_or_else(invalid)?;
    if let Some(email) = &found.user_email
        && !is_operator(operators, email)
    {
        return Err(invalid());
    }
    Ok(ResolvedKey {
        key_id: found.key_id,
        tenant_id: found.tenant_id,
        kind: KeyKind::Secret,
    })
}

/// Ends the session with this token, if there is one.
pub async fn end(cx: &Ctx, raw_token: &str) -> AppResult<()> {
    let Some(token) = SecretToken::parse(raw_token) else {
        return Ok(());
    };
    if let Some(found) =
        db::admin_sessions::find_live(cx.db.read(), &token.hash(), now_ms()).await?
    {
        db::admin_sessions::delete(cx.db.write(), &found.tenant_id, &found.id).await?;
    }
    Ok(())
}

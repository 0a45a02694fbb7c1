//! Operator sessions for the console: the tenant's secret key, presented once, is exchanged for
//! a short-lived token that stands in for it. The key never has to live in a browser, and
//! revoking it ends every session made from it.

use std::time::Duration;

use crate::clock::now_ms;
use crate::db::{self, admin_sessions::NewAdminSession};
use crate::domain::{KeyKind, SecretToken};
use crate::error::{AppError, AppResult, AuthFailure};
use crate::ids::new_id;
use crate::services::Ctx;
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
    if key.kind != KeyKind::Secret {
        return Err(AppError::SecretKeyRequired);
    }
    let token = SecretToken::generate();
    let now = now_ms();
    let expires_at = now + ADMIN_SESSION_TTL.as_millis() as i64;
    db::admin_sessions::insert(
        cx.db.write(),
        &NewAdminSession {
            id: &new_id(),
            tenant_id: &key.tenant_id,
            key_id: &key.key_id,
            token_hash: &token.hash(),
            created_at: now,
            expires_at,
        },
    )
    .await?;
    Ok(AdminSignedIn {
        token,
        tenant_id: key.tenant_id.clone(),
        expires_at,
    })
}

/// The secret key an operator session stands for, if the session is live and its key is not
/// revoked.
pub async fn authenticate(cx: &Ctx, raw_token: &str) -> AppResult<ResolvedKey> {
    let invalid = || AppError::Unauthenticated(AuthFailure::InvalidToken);
    let token = SecretToken::parse(raw_token).ok_or_else(invalid)?;
    let found = db::admin_sessions::find_live(cx.db.read(), &token.hash(), now_ms())
        .await?
        .ok_or_else(invalid)?;
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

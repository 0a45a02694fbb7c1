//! The second step of a two-factor sign-in. A right password for such an account gets no
//! session but a challenge: an opaque token (stored as SHA-256), good for five minutes, which
//! `complete_sign_in` exchanges with a code for the session. The client never sends the
//! password twice, and a code is never checked for anyone whose password was not right.

use std::time::Duration;

use super::factor::{Factor, TwoFactorKeys, check_factor, code_attempt};
use crate::clock::now_ms;
use crate::db;
use crate::db::two_factor::NewChallenge;
use crate::domain::SecretToken;
use crate::error::{AppError, AppResult, AuthFailure};
use crate::ids::new_id;
use crate::rate_limit::Limiter;
use crate::services::Ctx;
use crate::services::accounts::{SignedIn, start_session};

pub const CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;

/// A pending two-factor sign-in. The token is shown to the client once.
#[derive(Debug)]
pub struct Challenge {
    pub token: SecretToken,
    pub expires_at: i64,
}

/// Records a challenge for a user whose password was just verified.
pub async fn issue_challenge(cx: &Ctx, tenant_id: &str, user_id: &str) -> AppResult<Challenge> {
    let token = SecretToken::generate();
    let now = now_ms();
    let expires_at = now + CHALLENGE_TTL_MS;
    db::two_factor::insert_challenge(
        cx.db.write(),
        &NewChallenge {
            id: &new_id(),
            tenant_id,
            user_id,
            token_hash: &token.hash(),
            created_at: now,
            expires_at,
        },
    )
    .await?;
    Ok(Challenge { token, expires_at })
}

fn invalid_challenge() -> AppError {
    AppError::Unauthenticated(AuthFailure::InvalidChallenge)
}

/// Exchanges a live challenge and a right code for a session; the challenge and the code are
/// used up in the session's transaction. A wrong code leaves the challenge for another try,
/// within the account's code limit.
pub async fn complete_sign_in(
    cx: &Ctx,
    keys: &TwoFactorKeys,
    limiter: &Limiter,
    tenant_id: &str,
    challenge: &str,
    factor: Factor,
    session_ttl: Duration,
) -> AppResult<SignedIn> {
    let token = SecretToken::parse(challenge.trim()).ok_or_else(invalid_challenge)?;
    let hash = token.hash();
    let user_id = db::two_factor::find_challenge(cx.db.write(), tenant_id, &hash, now_ms())
        .await?
        .ok_or_else(invalid_challenge)?;
    let attempt = code_attempt(limiter, tenant_id, &user_id).await?;
    let mut tx = cx.begin(tenant_id, Some(&user_id)).await?;
    let accepted = check_factor(&mut tx, keys, tenant_id, &user_id, &factor).await;
    attempt.settle(matches!(accepted, Ok(false))).await;
    if !accepted? {
        return Err(AppError::Unauthenticated(AuthFailure::InvalidTwoFactorCode));
    }
    if !db::two_factor::take_challenge(&mut *tx, tenant_id, &hash, now_ms()).await? {
        // Completed by a concurrent request, or expired meanwhile.
        return Err(invalid_challenge());
    }
    let user = db::users::find(&mut *tx, tenant_id, &user_id)
        .await?
        .ok_or_else(invalid_challenge)?;
    // A session is a credential, not data: no event (as for a password sign-in).
    let signed_in = start_session(&mut tx, user, session_ttl).await?;
    tx.commit().await?;
    Ok(signed_in)
}

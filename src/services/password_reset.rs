//! Password reset: a request always answers the same way (no account enumeration) and, for a
//! known address, enqueues the reset email; the email job mints the single-use token, so its
//! plaintext exists only in the email. Completing sets the password and ends every session and
//! pending two-factor challenge; two-factor sign-in itself stays on.

use crate::clock::now_ms;
use crate::db;
use crate::domain::event::DomainEvent;
use crate::domain::job::{JobKind, PasswordResetEmail};
use crate::domain::{Email, Password, SecretToken};
use crate::error::{AppError, AppResult};
use crate::jobs::NewJobSpec;
use crate::services::Ctx;
use crate::services::passwords::Passwords;

/// At most one reset email per address per window.
const RATE_WINDOW_MS: i64 = 10 * 60 * 1000;
pub const TOKEN_TTL_MS: i64 = 60 * 60 * 1000;

/// Enqueues a reset email for a known address; does nothing visible for an unknown or malformed
/// one. Repeated requests within the window enqueue nothing more (the job's dedupe key).
pub async fn request(cx: &Ctx, tenant_id: &str, email: &str) -> AppResult<()> {
    let Ok(email) = Email::parse("email", email) else {
        return Ok(());
    };
    let Some(user_id) =
        db::users::find_id_by_email(cx.db.read(), tenant_id, email.normalized()).await?
    else {
        return Ok(());
    };
    let window = now_ms() / RATE_WINDOW_MS;
    let name = PasswordResetEmail::NAME;
    let spec = NewJobSpec::of(
        tenant_id,
        &PasswordResetEmail {
            user_id: user_id.clone(),
        },
    )
    .dedupe(format!("{name}:{tenant_id}:{user_id}:{window}"));
    // Nothing changes yet (the job mints the token), so there is no event, only the job.
    let mut tx = cx.begin(tenant_id, None).await?;
    tx.enqueue(spec);
    tx.commit().await?;
    Ok(())
}

fn invalid_token() -> AppError {
    AppError::validation("token", "is invalid, expired or already used")
}

/// Sets a new password with a valid token, uses the token up, and ends every session of the user.
pub async fn complete(
    cx: &Ctx,
    passwords: &Passwords,
    tenant_id: &str,
    token: &str,
    password: &str,
) -> AppResult<()> {
    let password = Password::parse("password", password)?;
    let token = SecretToken::parse(token.trim()).ok_or_else(invalid_token)?;
    // Check the token before the (deliberately slow) hashing, so random tokens cannot occupy
    // the hashing permits that sign-ins need. It is taken for good in the transaction below.
    if !db::password_resets::is_live(cx.db.read(), tenant_id, &token.hash(), now_ms()).await? {
        return Err(invalid_token());
    }
    let hash = passwords.hash(password).await?;
    let now = now_ms();
    let mut tx = cx.begin(tenant_id, None).await?;
    let reset = db::password_resets::take(&mut *tx, tenant_id, &token.hash(), now)
        .await?
        .ok_or_else(invalid_token)?;
    db::users::set_password_hash(&mut *tx, tenant_id, &reset.user_id, &hash, now).await?;
    db::sessions::delete_for_user(&mut *tx, tenant_id, &reset.user_id).await?;
    // A two-factor challenge proved the old password: it goes too (two-factor stays on).
    db::two_factor::delete_challenges_for_user(&mut *tx, tenant_id, &reset.user_id).await?;
    db::password_resets::delete_unused_for_user(&mut *tx, tenant_id, &reset.user_id).await?;
    tx.record(DomainEvent::UserPasswordChanged {
        user_id: reset.user_id,
    });
    tx.commit().await?;
    Ok(())
}

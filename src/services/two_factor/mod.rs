//! TOTP two-factor sign-in: status, disabling, new recovery codes and the operator's reset
//! here; `enrollment.rs` starts an enrolment and confirms it with its first code (which hands
//! out the recovery codes); `factor.rs` checks a code (`Factor`, `TwoFactorKeys`);
//! `sign_in.rs` issues the challenge a password sign-in of such an account gets and completes
//! it with a code. The rules without I/O are in `domain::two_factor`.
//!
//! Every code check goes through the per-account limit (`Limiter::two_factor_attempt`, 5
//! wrong codes per 5 minutes), and uses the code up in the same transaction as what it
//! allows: a TOTP code moves the account's last accepted step forward (a conditional
//! UPDATE), a recovery code is deleted (a conditional DELETE).

mod enrollment;
mod factor;
mod sign_in;

pub use enrollment::{Enrollment, confirm, start_enrollment};
pub use factor::{Factor, TwoFactorKeys};
pub use sign_in::{Challenge, complete_sign_in, issue_challenge};

use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::{now_ms, to_rfc3339};
use crate::db;
use crate::domain::Password;
use crate::domain::event::DomainEvent;
use crate::domain::password::Verification;
use crate::domain::two_factor::{RECOVERY_CODE_COUNT, RecoveryCode};
use crate::error::{AppError, AppResult};
use crate::rate_limit::Limiter;
use crate::services::Ctx;
use crate::services::accounts::SessionUser;
use crate::services::passwords::Passwords;
use factor::{check_factor, code_attempt};

/// What the account's two-factor sign-in looks like now.
#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorStatus {
    /// Sign-in needs a code.
    pub enabled: bool,
    /// An enrolment was started and waits for its first code.
    pub pending: bool,
    pub enabled_at: Option<String>,
    /// Unused recovery codes.
    pub recovery_codes_remaining: i64,
}

/// Recovery codes, shown once: each signs in once in place of a TOTP code.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    #[schema(min_items = 10, max_items = 10)]
    pub recovery_codes: Vec<String>,
}

pub(super) fn already_enabled() -> AppError {
    AppError::Conflict {
        code: "two_factor_enabled",
        message: "two-factor sign-in is already enabled; disable it first".into(),
    }
}

fn not_enabled() -> AppError {
    AppError::Conflict {
        code: "two_factor_not_enabled",
        message: "two-factor sign-in is not enabled".into(),
    }
}

/// Ten fresh codes: the hashes to store and the text to show once.
pub(super) fn fresh_recovery_codes(user_id: &str) -> (Vec<String>, Vec<String>) {
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let code = RecoveryCode::generate();
            (code.hash(user_id), code.display())
        })
        .unzip()
}

pub async fn status(cx: &Ctx, tenant_id: &str, user_id: &str) -> AppResult<TwoFactorStatus> {
    let row = db::two_factor::find(cx.db.read(), tenant_id, user_id).await?;
    let remaining = db::two_factor::count_recovery_codes(cx.db.read(), tenant_id, user_id).await?;
    let enabled_at = row.as_ref().and_then(|r| r.enabled_at);
    Ok(TwoFactorStatus {
        enabled: enabled_at.is_some(),
        pending: row.is_some() && enabled_at.is_none(),
        enabled_at: enabled_at.map(to_rfc3339),
        recovery_codes_remaining: remaining,
    })
}

/// Checks a second factor for a signed-in user's own change, under the code limit, and runs
/// `change` in the same transaction when it is right.
async fn with_factor<T>(
    cx: &Ctx,
    keys: &TwoFactorKeys,
    limiter: &Limiter,
    session: &SessionUser,
    factor: &Factor,
    change: impl AsyncFnOnce(&mut crate::services::unit_of_work::UnitOfWork) -> AppResult<T>,
) -> AppResult<T> {
    let (tenant_id, user_id) = (&session.tenant_id, &session.user.id);
    if !db::two_factor::is_enabled(cx.db.write(), tenant_id, user_id).await? {
        return Err(not_enabled());
    }
    let attempt = code_attempt(limiter, tenant_id, user_id).await?;
    let mut tx = cx.begin(tenant_id, Some(user_id)).await?;
    let accepted = check_factor(&mut tx, keys, tenant_id, user_id, factor).await;
    attempt.settle(matches!(accepted, Ok(false))).await;
    if !accepted? {
        return Err(factor.wrong());
    }
    let out = change(&mut tx).await?;
    tx.commit().await?;
    Ok(out)
}

/// Turns two-factor sign-in off: needs the password (through the sign-in lockout) and a
/// current code or a recovery code, so neither a stolen session nor a stolen phone alone can.
pub async fn disable(
    cx: &Ctx,
    passwords: &Passwords,
    keys: &TwoFactorKeys,
    limiter: &Limiter,
    session: &SessionUser,
    password: &str,
    factor: Factor,
) -> AppResult<()> {
    let (tenant_id, user_id) = (&session.tenant_id, &session.user.id);
    if !db::two_factor::is_enabled(cx.db.write(), tenant_id, user_id).await? {
        return Err(not_enabled());
    }
    check_password(cx, passwords, limiter, session, password).await?;
    with_factor(cx, keys, limiter, session, &factor, async |tx| {
        db::two_factor::delete_all(tx, tenant_id, user_id).await?;
        tx.record(DomainEvent::UserTwoFactorDisabled {
            user_id: user_id.clone(),
        });
        Ok(())
    })
    .await
}

/// The user's own password, counted by the sign-in lockout like a sign-in.
async fn check_password(
    cx: &Ctx,
    passwords: &Passwords,
    limiter: &Limiter,
    session: &SessionUser,
    password: &str,
) -> AppResult<()> {
    let stored = db::users::find(cx.db.read(), &session.tenant_id, &session.user.id)
        .await?
        .and_then(|u| u.password_hash);
    let attempt = limiter
        .sign_in_attempt(&session.tenant_id, &session.user.email)
        .await
        .map_err(|retry_after| AppError::RateLimited { retry_after })?;
    let verified = match Password::for_login(password) {
        Some(candidate) => passwords.verify(candidate, stored).await,
        None => Ok(Verification::Mismatch),
    };
    let wrong = matches!(verified, Ok(Verification::Mismatch));
    attempt.settle(wrong).await;
    verified?;
    if wrong {
        return Err(AppError::validation("password", "is incorrect"));
    }
    Ok(())
}

/// Replaces every recovery code with ten new ones, with a current code (or a recovery code).
pub async fn regenerate_recovery_codes(
    cx: &Ctx,
    keys: &TwoFactorKeys,
    limiter: &Limiter,
    session: &SessionUser,
    factor: Factor,
) -> AppResult<RecoveryCodes> {
    let (tenant_id, user_id) = (&session.tenant_id, &session.user.id);
    let (hashes, shown) = fresh_recovery_codes(user_id);
    with_factor(cx, keys, limiter, session, &factor, async |tx| {
        db::two_factor::replace_recovery_codes(tx, tenant_id, user_id, &hashes, now_ms()).await?;
        tx.record(DomainEvent::UserRecoveryCodesRegenerated {
            user_id: user_id.clone(),
        });
        Ok(())
    })
    .await?;
    Ok(RecoveryCodes {
        recovery_codes: shown,
    })
}

/// The operator's reset for a user who lost both the app and the recovery codes. Returns
/// whether two-factor was enabled.
pub async fn reset(cx: &Ctx, tenant_id: &str, user_id: &str) -> AppResult<bool> {
    let mut tx = cx.begin(tenant_id, None).await?;
    if !db::users::exists(&mut *tx, tenant_id, user_id).await? {
        return Err(AppError::NotFound("user"));
    }
    let was_enabled = db::two_factor::delete_all(&mut tx, tenant_id, user_id).await?;
    if was_enabled {
        tx.record(DomainEvent::UserTwoFactorDisabled {
            user_id: user_id.to_string(),
        });
    }
    tx.commit().await?;
    Ok(was_enabled)
}

//! Enrolment: a pending secret, shown once with its otpauth URI, enabled by its first code,
//! which also hands out the recovery codes.

use serde::Serialize;
use utoipa::ToSchema;

use super::factor::{Factor, TwoFactorKeys, code_attempt, now_secs};
use super::{RecoveryCodes, already_enabled, fresh_recovery_codes};
use crate::clock::now_ms;
use crate::db;
use crate::domain::event::DomainEvent;
use crate::domain::two_factor::{self as rules, TotpCode, TotpSecret};
use crate::error::{AppError, AppResult};
use crate::rate_limit::Limiter;
use crate::services::Ctx;
use crate::services::accounts::SessionUser;

/// A started enrolment: what the authenticator app needs. Shown once; the secret is never
/// returned again.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enrollment {
    /// Base32, for typing into the app.
    pub secret: String,
    /// `otpauth://totp/Kanri:{email}?secret=…&issuer=Kanri&algorithm=SHA1&digits=6&period=30`,
    /// for a QR code.
    pub otpauth_uri: String,
    pub algorithm: &'static str,
    pub digits: u8,
    pub period: u64,
}

/// Starts (or restarts) an enrolment with a new secret. Nothing is active until `confirm`.
pub async fn start_enrollment(
    cx: &Ctx,
    keys: &TwoFactorKeys,
    session: &SessionUser,
) -> AppResult<Enrollment> {
    let (tenant_id, user_id) = (&session.tenant_id, &session.user.id);
    let secret = TotpSecret::generate();
    let sealed = keys.seal(tenant_id, user_id, &secret)?;
    // A pending secret is nobody's data yet: no event until it is confirmed.
    if !db::two_factor::start(cx.db.write(), tenant_id, user_id, &sealed, now_ms()).await? {
        return Err(already_enabled());
    }
    Ok(Enrollment {
        otpauth_uri: rules::otpauth_uri(&session.user.email, &secret),
        secret: secret.base32(),
        algorithm: "SHA1",
        digits: rules::DIGITS,
        period: rules::STEP_SECS,
    })
}

/// Enables the pending enrolment with its first code; returns the recovery codes.
pub async fn confirm(
    cx: &Ctx,
    keys: &TwoFactorKeys,
    limiter: &Limiter,
    session: &SessionUser,
    totp_code: &str,
) -> AppResult<RecoveryCodes> {
    let (tenant_id, user_id) = (&session.tenant_id, &session.user.id);
    let row = match db::two_factor::find(cx.db.write(), tenant_id, user_id).await? {
        Some(row) if row.enabled_at.is_some() => return Err(already_enabled()),
        Some(row) => row,
        None => {
            return Err(AppError::Conflict {
                code: "no_pending_enrollment",
                message: "start an enrolment first (POST /v1/auth/two-factor/enrollment)".into(),
            });
        }
    };
    let attempt = code_attempt(limiter, tenant_id, user_id).await?;
    let step = TotpCode::parse(totp_code).and_then(|code| {
        keys.open(tenant_id, user_id, &row.secret_sealed)?
            .accepted_step(&code, now_secs(), None)
    });
    attempt.settle(step.is_none()).await;
    let step = step.ok_or_else(|| Factor::Totp(None).wrong())?;
    let (hashes, shown) = fresh_recovery_codes(user_id);
    let now = now_ms();
    let mut tx = cx.begin(tenant_id, Some(user_id)).await?;
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    if !db::two_factor::enable(&mut *tx, tenant_id, user_id, &row.secret_sealed, step, now).await? {
        // Restarted (a new secret) or confirmed by a concurrent request meanwhile.
        return Err(AppError::Conflict {
            code: "enrollment_changed",
            message: "the enrolment changed meanwhile; check its status and start again".into(),
        });
    }
    db::two_factor::replace_recovery_codes(&mut tx, tenant_id, user_id, &hashes, now).await?;
    tx.record(DomainEvent::UserTwoFactorEnabled {
        user_id: user_id.clone(),
    });
    tx.commit().await?;
    Ok(RecoveryCodes {
        recovery_codes: shown,
    })
}

//! TOTP two-factor sign-in: enrolment (a pending secret, enabled by its first code, which
//! also hands out the recovery codes), status, disabling, new recovery codes, the operator's
//! reset, and (in `sign_in.rs`) the challenge a password sign-in of such an account gets and
//! its completion with a code. The rules without I/O are in `domain::two_factor`.
//!
//! Every code check goes through the per-account limit (`Limiter::two_factor_attempt`, 5
//! wrong codes per 5 minutes), and uses the code up in the same transaction as what it
//! allows: a TOTP code moves the account's last accepted step forward (a conditional
//! UPDATE), a recovery code is deleted (a conditional DELETE).

mod sign_in;

pub use sign_in::{Challenge, complete_sign_in, issue_challenge};

use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::{now_ms, to_rfc3339};
use crate::crypto::SealingCipher;
use crate::db;
use crate::domain::Password;
use crate::domain::event::DomainEvent;
use crate::domain::password::Verification;
use crate::domain::two_factor::{
    self as rules, RECOVERY_CODE_COUNT, RecoveryCode, TotpCode, TotpSecret,
};
use crate::error::{AppError, AppResult};
use crate::rate_limit::{Limiter, SignInAttempt};
use crate::services::Ctx;
use crate::services::accounts::SessionUser;
use crate::services::passwords::Passwords;
use crate::storage::signing::SigningKey;

/// The TOTP secrets' cipher: the shared sealing cipher under this purpose's key, or none
/// without a signing key (Postgres without `KANRI_SIGNING_KEY`), when enrolment is refused.
#[derive(Clone, Debug)]
pub struct TwoFactorKeys {
    cipher: Option<SealingCipher>,
}

impl TwoFactorKeys {
    pub fn new(signing_key: Option<&SigningKey>) -> Self {
        Self {
            cipher: signing_key.map(|k| SealingCipher::derived(k, b"kanri-totp-secrets-v1")),
        }
    }

    fn cipher(&self) -> AppResult<&SealingCipher> {
        self.cipher.as_ref().ok_or(AppError::NotConfigured(
            "two-factor sign-in needs KANRI_SIGNING_KEY to encrypt the TOTP secrets",
        ))
    }

    fn seal(&self, tenant_id: &str, user_id: &str, secret: &TotpSecret) -> AppResult<String> {
        Ok(self
            .cipher()?
            .seal(&owner(tenant_id, user_id), secret.bytes()))
    }

    /// The stored secret, or `None` when it cannot be opened (no key, or the key changed:
    /// then only recovery codes work, until the user enrols again).
    fn open(&self, tenant_id: &str, user_id: &str, sealed: &str) -> Option<TotpSecret> {
        let opened = self
            .cipher
            .as_ref()
            .and_then(|c| c.open(&owner(tenant_id, user_id), sealed))
            .and_then(TotpSecret::from_bytes);
        if opened.is_none() {
            tracing::warn!("a TOTP secret could not be opened (signing key missing or changed)");
        }
        opened
    }
}

/// The associated data a secret is sealed with: its row.
fn owner(tenant_id: &str, user_id: &str) -> String {
    format!("totp:{tenant_id}:{user_id}")
}

/// A second factor as sent: a TOTP code or a recovery code. A malformed one is kept as
/// `None`, which no check accepts (it counts as a wrong code).
#[derive(Debug)]
pub enum Factor {
    Totp(Option<TotpCode>),
    Recovery(Option<RecoveryCode>),
}

impl Factor {
    /// Exactly one of the two.
    pub fn parse(totp_code: Option<&str>, recovery_code: Option<&str>) -> AppResult<Self> {
        match (totp_code, recovery_code) {
            (Some(code), None) => Ok(Self::Totp(TotpCode::parse(code))),
            (None, Some(code)) => Ok(Self::Recovery(RecoveryCode::parse(code))),
            (Some(_), Some(_)) => Err(AppError::validation(
                "recovery_code",
                "send totp_code or recovery_code, not both",
            )),
            (None, None) => Err(AppError::validation(
                "totp_code",
                "a code from the authenticator app (or a recovery_code) is required",
            )),
        }
    }

    fn field(&self) -> &'static str {
        match self {
            Self::Totp(_) => "totp_code",
            Self::Recovery(_) => "recovery_code",
        }
    }

    /// The 422 a signed-in user gets for a wrong code.
    fn wrong(&self) -> AppError {
        AppError::validation(self.field(), "is wrong or was already used")
    }
}

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

/// Recovery codes, shown once: each signs in once in place of a TOTP code.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    #[schema(min_items = 10, max_items = 10)]
    pub recovery_codes: Vec<String>,
}

fn already_enabled() -> AppError {
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

fn now_secs() -> u64 {
    u64::try_from(now_ms() / 1000).unwrap_or(0)
}

async fn code_attempt(
    limiter: &Limiter,
    tenant_id: &str,
    user_id: &str,
) -> AppResult<SignInAttempt> {
    limiter
        .two_factor_attempt(tenant_id, user_id)
        .await
        .map_err(|retry_after| AppError::RateLimited { retry_after })
}

/// Checks `factor` for an enabled account inside `tx`, using it up when right. `Ok(false)`:
/// wrong, replayed, or not checkable (two-factor off, the secret unreadable).
async fn check_factor(
    tx: &mut sqlx::AnyConnection,
    keys: &TwoFactorKeys,
    tenant_id: &str,
    user_id: &str,
    factor: &Factor,
) -> AppResult<bool> {
    match factor {
        Factor::Totp(None) | Factor::Recovery(None) => Ok(false),
        Factor::Totp(Some(code)) => {
            let Some(row) = db::two_factor::find(&mut *tx, tenant_id, user_id).await? else {
                return Ok(false);
            };
            if row.enabled_at.is_none() {
                return Ok(false);
            }
            let Some(secret) = keys.open(tenant_id, user_id, &row.secret_sealed) else {
                return Ok(false);
            };
            let last = row.last_step.and_then(|s| u64::try_from(s).ok());
            let Some(step) = secret.accepted_step(code, now_secs(), last) else {
                return Ok(false);
            };
            let step = i64::try_from(step).unwrap_or(i64::MAX);
            Ok(db::two_factor::use_step(&mut *tx, tenant_id, user_id, step, now_ms()).await?)
        }
        Factor::Recovery(Some(code)) => Ok(db::two_factor::use_recovery_code(
            &mut *tx,
            tenant_id,
            user_id,
            &code.hash(user_id),
        )
        .await?),
    }
}

/// Ten fresh codes: the hashes to store and the text to show once.
fn fresh_recovery_codes(user_id: &str) -> (Vec<String>, Vec<String>) {
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

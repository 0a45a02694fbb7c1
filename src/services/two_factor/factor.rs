//! Checking a second factor: what the client sent (`Factor`), the sealed secret's cipher
//! (`TwoFactorKeys`), the per-account code limit, and the check itself, which uses a right
//! code up in the caller's transaction.

use crate::clock::now_ms;
use crate::crypto::SealingCipher;
use crate::db;
use crate::domain::two_factor::{RecoveryCode, TotpCode, TotpSecret};
use crate::error::{AppError, AppResult};
use crate::rate_limit::{Limiter, SignInAttempt};
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

    pub(super) fn seal(
        &self,
        tenant_id: &str,
        user_id: &str,
        secret: &TotpSecret,
    ) -> AppResult<String> {
        Ok(self
            .cipher()?
            .seal(&owner(tenant_id, user_id), secret.bytes()))
    }

    /// The stored secret, or `None` when it cannot be opened (no key, or the key changed:
    /// then only recovery codes work, until the user enrols again).
    pub(super) fn open(&self, tenant_id: &str, user_id: &str, sealed: &str) -> Option<TotpSecret> {
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
    pub(super) fn wrong(&self) -> AppError {
        AppError::validation(self.field(), "is wrong or was already used")
    }
}

pub(super) fn now_secs() -> u64 {
    u64::try_from(now_ms() / 1000).unwrap_or(0)
}

pub(super) async fn code_attempt(
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
pub(super) async fn check_factor(
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

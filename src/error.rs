//! The service layer's error: what went wrong in domain terms. The HTTP layer maps it to a
//! status and code in one place (`http::error`).

use crate::domain::FieldError;
use crate::domain::billing::QuotaExceeded;

/// Why a request could not be authenticated. Each has a stable `code` for clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Neither a key nor a session where one is required.
    MissingAuth,
    /// A key that is malformed, unknown or revoked.
    InvalidApiKey,
    /// A session token that is malformed, unknown, expired or from another tenant.
    InvalidToken,
    /// Wrong email or password; deliberately the same for both.
    InvalidCredentials,
    /// A signed webhook whose signature is missing, wrong or too old.
    InvalidSignature,
    /// A user route called with an API key and no session: the key is fine, a user is missing.
    SessionRequired,
    /// A two-factor sign-in's challenge that is malformed, unknown, used or expired.
    InvalidChallenge,
    /// A two-factor sign-in's code that is wrong or was already used.
    InvalidTwoFactorCode,
    /// An OpenID Connect sign-in the provider refused, or whose answer did not check out.
    SingleSignOnFailed,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("authentication failed: {0:?}")]
    Unauthenticated(AuthFailure),
    #[error("{0}")]
    Forbidden(&'static str),
    /// A secret-key route called with a session or a publishable key only.
    #[error("this route requires the tenant's secret API key")]
    SecretKeyRequired,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A create that would go over the workspace plan's limit for a resource.
    #[error("the plan's {} limit is reached", .0.resource.as_str())]
    QuotaExceeded(QuotaExceeded),
    /// A feature that needs configuration this server does not have.
    #[error("{0}")]
    NotConfigured(&'static str),
    /// Over a rate limit or locked out; the client may try again after `retry_after`.
    #[error("rate limited")]
    RateLimited { retry_after: std::time::Duration },
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// A `NotFound` of something looked up on the way renamed after what the caller asked for
    /// (a comment whose task is invisible is "comment not found"). Every other failure — a
    /// database error above all — passes through, so it is logged and answered as what it is.
    pub fn not_found_as(self, what: &'static str) -> Self {
        match self {
            Self::NotFound(_) => Self::NotFound(what),
            other => other,
        }
    }
}

impl From<QuotaExceeded> for AppError {
    fn from(e: QuotaExceeded) -> Self {
        Self::QuotaExceeded(e)
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Validation(errors)
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        Self::Validation(vec![error])
    }
}

pub type AppResult<T> = Result<T, AppError>;

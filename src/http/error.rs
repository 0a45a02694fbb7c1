//! The one error type at the HTTP boundary and its mapping to status, code and envelope.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::envelope::error_body;
use crate::error::{AppError, AuthFailure};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    App(#[from] AppError),
    /// The body was not valid JSON.
    #[error("invalid JSON: {0}")]
    MalformedJson(String),
    /// The body was JSON of the wrong shape (missing field, wrong type).
    #[error("invalid request body: {0}")]
    InvalidBody(String),
    #[error("invalid query string: {0}")]
    InvalidQuery(String),
    #[error("invalid path parameter: {0}")]
    InvalidPath(String),
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("route not found")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A signed delivery (Stripe) whose signature is missing, wrong or too old: 400, as the
    /// sender expects for a request it must not retry unchanged.
    #[error("the webhook signature is missing, invalid or expired")]
    BadSignature,
    /// A status produced outside our handlers (a tower layer), given the envelope here.
    #[error("{1}")]
    Status(StatusCode, &'static str),
    /// A right password for an account with two-factor sign-in: 401 `two_factor_required`,
    /// with the challenge to send back with a code in `details`.
    #[error(
        "this account signs in with a second factor: send the challenge with a totp_code or recovery_code to POST /v1/auth/login/two-factor"
    )]
    TwoFactorRequired {
        challenge: String,
        expires_at: String,
    },
}

impl ApiError {
    /// Its status, code and message, as the envelope shows them.
    pub(crate) fn parts(&self) -> (StatusCode, &'static str, String) {
        use StatusCode as S;
        match self {
            Self::App(app) => match app {
                AppError::Validation(_) => (
                    S::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "validation failed".into(),
                ),
                AppError::Unauthenticated(failure) => {
                    let (code, message) = auth_failure(*failure);
                    (S::UNAUTHORIZED, code, message.into())
                }
                AppError::Forbidden(message) => (S::FORBIDDEN, "forbidden", (*message).into()),
                AppError::SecretKeyRequired => (
                    S::FORBIDDEN,
                    "secret_key_required",
                    "this route requires the tenant's secret API key (X-Api-Key: sk_…)".into(),
                ),
                AppError::NotFound(what) => {
                    (S::NOT_FOUND, "not_found", format!("{what} not found"))
                }
                AppError::Conflict { code, message } => (S::CONFLICT, code, message.clone()),
                AppError::QuotaExceeded(_) => (S::FORBIDDEN, "quota_exceeded", app.to_string()),
                AppError::NotConfigured(message) => {
                    (S::SERVICE_UNAVAILABLE, "not_configured", (*message).into())
                }
                AppError::RateLimited { .. } => (
                    S::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "too many requests; try again later".into(),
                ),
                AppError::Database(_) | AppError::Internal(_) => (
                    S::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "internal server error".into(),
                ),
            },
            Self::MalformedJson(_) => (S::BAD_REQUEST, "invalid_json", self.to_string()),
            Self::InvalidBody(_) => (S::UNPROCESSABLE_ENTITY, "invalid_body", self.to_string()),
            Self::InvalidQuery(_) => (S::BAD_REQUEST, "invalid_query", self.to_string()),
            Self::InvalidPath(_) => (S::BAD_REQUEST, "invalid_path", self.to_string()),
            Self::BadSignature => (S::BAD_REQUEST, "invalid_signature", self.to_string()),
            Self::UnsupportedMediaType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                self.to_string(),
            ),
            Self::PayloadTooLarge => (S::PAYLOAD_TOO_LARGE, "payload_too_large", self.to_string()),
            Self::RouteNotFound => (S::NOT_FOUND, "not_found", self.to_string()),
            Self::MethodNotAllowed => (
                S::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                self.to_string(),
            ),
            Self::Status(status, message) => (*status, code_for_status(*status), (*message).into()),
            Self::TwoFactorRequired { .. } => {
                (S::UNAUTHORIZED, "two_factor_required", self.to_string())
            }
        }
    }
}

fn auth_failure(failure: AuthFailure) -> (&'static str, &'static str) {
    match failure {
        AuthFailure::MissingAuth => ("missing_auth", "an API key or session token is required"),
        AuthFailure::InvalidApiKey => ("invalid_api_key", "the API key is invalid or revoked"),
        AuthFailure::InvalidToken => ("invalid_token", "the session token is invalid or expired"),
        AuthFailure::InvalidCredentials => ("invalid_credentials", "invalid email or password"),
        AuthFailure::InvalidSignature => (
            "invalid_signature",
            "the webhook signature is missing, invalid or expired",
        ),
        AuthFailure::SessionRequired => (
            "session_required",
            "this route needs a signed-in user's session token; an API key alone is not enough",
        ),
        AuthFailure::InvalidChallenge => (
            "invalid_challenge",
            "the sign-in challenge is invalid or expired; sign in with the password again",
        ),
        AuthFailure::SingleSignOnFailed => (
            "sso_failed",
            "the identity provider did not sign you in; start again",
        ),
        AuthFailure::InvalidTwoFactorCode => (
            "invalid_two_factor_code",
            "the two-factor code is wrong or was already used",
        ),
    }
}

/// The code for a bare status from outside our handlers.
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "unprocessable_entity",
        429 => "rate_limited",
        503 => "unavailable",
        504 => "timeout",
        s if s >= 500 => "internal_error",
        _ => "error",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        if status.is_server_error() {
            // Logged once, here, inside the request span; the client sees only the opaque message.
            match &self {
                Self::App(AppError::Database(e)) => tracing::error!(error = %e, "database error"),
                Self::App(AppError::Internal(e)) => tracing::error!(error = ?e, "internal error"),
                other => tracing::error!(error = %other, "server error"),
            }
        }
        let mut body = match &self {
            Self::App(AppError::Validation(details)) => error_body(code, &message, details),
            _ => error_body(code, &message, &[]),
        };
        if let Self::TwoFactorRequired {
            challenge,
            expires_at,
        } = &self
        {
            body["details"] = serde_json::json!({
                "challenge": challenge,
                "challenge_expires_at": expires_at,
                "methods": ["totp", "recovery_code"],
            });
        }
        if let Self::App(AppError::QuotaExceeded(q)) = &self {
            body["details"] = serde_json::json!({
                "resource": q.resource.as_str(), "limit": q.limit, "used": q.used,
            });
        }
        let mut response = (status, body).into_response();
        if let Self::App(AppError::RateLimited { retry_after }) = &self {
            let secs = retry_after.as_micros().div_ceil(1_000_000).max(1);
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs as u64));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => Self::InvalidBody(e.body_text().replace(
                "Failed to deserialize the JSON body into the target type: ",
                "",
            )),
            JsonRejection::JsonSyntaxError(e) => Self::MalformedJson(
                e.body_text()
                    .replace("Failed to parse the request body as JSON: ", ""),
            ),
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::PayloadTooLarge
            }
            other => Self::Status(other.status(), "could not read the request body"),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::InvalidQuery(
            rejection
                .body_text()
                .replace("Failed to deserialize query string: ", ""),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::InvalidPath(rejection.body_text())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::App(AppError::Database(e))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

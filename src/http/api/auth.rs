//! Sign-up, sign-in, sign-out and "who am I", under `/v1/auth` (the seed's `/auth` paths are in
//! `seed001/auth.rs`).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Success;
use crate::app::AppState;
use crate::clock::to_rfc3339;
use crate::error::{AppError, AuthFailure};
use crate::http::auth::{CurrentUser, TenantContext};
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::services::accounts::{self, LoginOutcome, Registration, SignedIn, User};
use crate::services::password_reset;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(request_password_reset))
        .routes(routes!(complete_password_reset))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetRequest {
    /// Any text: the answer is the same 202 whatever it is, so it tells nothing about accounts.
    pub email: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetCompletion {
    /// The token from the reset email.
    pub token: String,
    /// 8 to 256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResetRequested {
    /// Always true: the answer never says whether the address has an account.
    pub requested: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordChanged {
    pub password_reset: bool,
}

#[utoipa::path(post, path = "/v1/auth/password-reset/request", tag = "auth",
    request_body = ResetRequest,
    responses((status = 202, description = "Accepted whether or not the address has an account", body = Success<ResetRequested>)))]
pub async fn request_password_reset(
    State(state): State<AppState>,
    tenant: TenantContext,
    Json(body): Json<ResetRequest>,
) -> ApiResult<(StatusCode, Envelope<ResetRequested>)> {
    password_reset::request(&state.cx, &tenant.tenant_id, &body.email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Envelope::ok(ResetRequested { requested: true }),
    ))
}

#[utoipa::path(post, path = "/v1/auth/password-reset/complete", tag = "auth",
    request_body = ResetCompletion,
    responses(
        (status = 200, description = "Password set; every session of the user ended", body = Success<PasswordChanged>),
        (status = 422, description = "Weak password, or a token that is invalid, expired or used", body = ErrorBody),
    ))]
pub async fn complete_password_reset(
    State(state): State<AppState>,
    tenant: TenantContext,
    Json(body): Json<ResetCompletion>,
) -> ApiResult<Envelope<PasswordChanged>> {
    password_reset::complete(
        &state.cx,
        &state.passwords,
        &tenant.tenant_id,
        &body.token,
        &body.password,
    )
    .await?;
    Ok(Envelope::ok(PasswordChanged {
        password_reset: true,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// 8 to 256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    pub user: User,
    /// The bearer token for `Authorization: Bearer …`. Shown once.
    pub token: String,
    pub expires_at: String,
}

impl From<SignedIn> for SessionResponse {
    fn from(s: SignedIn) -> Self {
        Self {
            user: s.user,
            token: s.token.expose().to_string(),
            expires_at: to_rfc3339(s.expires_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedOut {
    pub logged_out: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    pub tenant_id: String,
}

#[utoipa::path(post, path = "/v1/auth/register", tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account and session created", body = Success<SessionResponse>),
        (status = 409, description = "Email already registered", body = ErrorBody),
        (status = 422, description = "Invalid input", body = ErrorBody),
    ))]
pub async fn register(
    State(state): State<AppState>,
    tenant: TenantContext,
    Json(body): Json<RegisterRequest>,
) -> ApiResult<Envelope<SessionResponse>> {
    let signed_in = sign_up(&state, &tenant.tenant_id, &body).await?;
    Ok(Envelope::created(signed_in.into()))
}

#[utoipa::path(post, path = "/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = Success<SessionResponse>),
        (status = 401, description = "Invalid email or password (`invalid_credentials`); or a right password for an account with two-factor sign-in (`two_factor_required`): no session, but `details.challenge` to send with a code to `POST /v1/auth/login/two-factor`", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    tenant: TenantContext,
    Json(body): Json<LoginRequest>,
) -> ApiResult<Envelope<SessionResponse>> {
    let signed_in = sign_in(&state, &tenant.tenant_id, &body).await?;
    Ok(Envelope::ok(signed_in.into()))
}

/// Signs in with email and password, counting failures toward the account's lockout
/// (`rate_limit/lockout.rs`); locked-out accounts are refused before the password is looked at.
/// An account with two-factor sign-in gets `two_factor_required` and a challenge instead of a
/// session: every route that signs in with a password (v1, the seed's, the console's) comes
/// through here, so none can skip the second factor.
pub async fn sign_in(
    state: &AppState,
    tenant_id: &str,
    body: &LoginRequest,
) -> ApiResult<SignedIn> {
    let attempt = state
        .limiter
        .sign_in_attempt(tenant_id, &body.email)
        .await
        .map_err(|retry_after| AppError::RateLimited { retry_after })?;
    let signed_in = accounts::login(
        &state.cx,
        &state.passwords,
        tenant_id,
        &body.email,
        &body.password,
        state.config.auth.session_ttl,
    )
    .await;
    let failed = matches!(
        signed_in,
        Err(AppError::Unauthenticated(AuthFailure::InvalidCredentials))
    );
    attempt.settle(failed).await;
    match signed_in? {
        LoginOutcome::SignedIn(signed_in) => Ok(signed_in),
        LoginOutcome::TwoFactorRequired(challenge) => Err(ApiError::TwoFactorRequired {
            challenge: challenge.token.expose().to_string(),
            expires_at: to_rfc3339(challenge.expires_at),
        }),
    }
}

/// Creates the account and its first session.
pub async fn sign_up(
    state: &AppState,
    tenant_id: &str,
    body: &RegisterRequest,
) -> ApiResult<SignedIn> {
    let input = Registration {
        email: &body.email,
        password: &body.password,
        name: &body.name,
    };
    Ok(accounts::register(
        &state.cx,
        &state.passwords,
        tenant_id,
        input,
        state.config.auth.session_ttl,
    )
    .await?)
}

#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth",
    security(("session" = [])),
    responses(
        (status = 200, description = "The presented token is revoked", body = Success<LoggedOut>),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> ApiResult<Envelope<LoggedOut>> {
    accounts::logout(&state.cx, &session).await?;
    Ok(Envelope::ok(LoggedOut { logged_out: true }))
}

#[utoipa::path(get, path = "/v1/auth/me", tag = "auth",
    security(("session" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = Success<Me>),
        (status = 401, description = "No valid session", body = ErrorBody),
    ))]
pub async fn me(CurrentUser(session): CurrentUser) -> Envelope<Me> {
    Envelope::ok(Me {
        user: session.user,
        tenant_id: session.tenant_id,
    })
}

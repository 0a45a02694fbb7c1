//! TOTP two-factor sign-in under `/v1/auth`: the signed-in user's enrolment, status, disabling
//! and recovery codes; the sign-in's second step; and the operator's reset under
//! `/v1/admin/users/{id}/two-factor`. The rules are in `services::two_factor`.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Success;
use super::auth::SessionResponse;
use crate::app::AppState;
use crate::http::auth::{CurrentUser, SecretKey, TenantContext};
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path};
use crate::services::accounts::SignedIn;
use crate::services::two_factor::{self, Enrollment, Factor, RecoveryCodes, TwoFactorStatus};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_two_factor))
        .routes(routes!(start_enrollment))
        .routes(routes!(confirm_enrollment))
        .routes(routes!(disable_two_factor))
        .routes(routes!(regenerate_recovery_codes))
        .routes(routes!(login_two_factor))
        .routes(routes!(reset_two_factor))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ConfirmEnrollment {
    /// The six-digit code the authenticator app shows now (spaces and dashes are ignored).
    #[schema(example = "123456")]
    pub totp_code: String,
}

/// Exactly one of `totp_code` and `recovery_code`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SecondFactor {
    /// The six-digit code the authenticator app shows now.
    pub totp_code: Option<String>,
    /// One of the recovery codes (`abcd-efgh-ijkl-mnop`); each works once.
    pub recovery_code: Option<String>,
}

impl SecondFactor {
    fn factor(&self) -> Result<Factor, crate::error::AppError> {
        Factor::parse(self.totp_code.as_deref(), self.recovery_code.as_deref())
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DisableTwoFactor {
    /// The account's password.
    pub password: String,
    /// The six-digit code the authenticator app shows now; or `recovery_code`.
    pub totp_code: Option<String>,
    pub recovery_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TwoFactorLogin {
    /// `details.challenge` from the `two_factor_required` answer to the password sign-in.
    pub challenge: String,
    /// The six-digit code the authenticator app shows now; or `recovery_code`.
    pub totp_code: Option<String>,
    pub recovery_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorEnabled {
    pub enabled: bool,
    /// Shown once: each signs in once in place of a code. Keep them somewhere safe.
    #[schema(min_items = 10, max_items = 10)]
    pub recovery_codes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorDisabled {
    pub enabled: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorReset {
    pub user_id: String,
    /// Whether two-factor sign-in was on (and now is off).
    pub was_enabled: bool,
}

#[utoipa::path(get, path = "/v1/auth/two-factor", tag = "auth",
    security(("session" = [])),
    responses((status = 200, description = "The signed-in user's two-factor sign-in", body = Success<TwoFactorStatus>)))]
pub async fn get_two_factor(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> ApiResult<Envelope<TwoFactorStatus>> {
    let status = two_factor::status(&state.cx, &session.tenant_id, &session.user.id).await?;
    Ok(Envelope::ok(status))
}

#[utoipa::path(post, path = "/v1/auth/two-factor/enrollment", tag = "auth",
    security(("session" = [])),
    responses(
        (status = 201, description = "A new secret, pending until confirmed with a code; shown once", body = Success<Enrollment>),
        (status = 409, description = "Two-factor sign-in is already enabled (`two_factor_enabled`): disable it first", body = ErrorBody),
        (status = 503, description = "No signing key to encrypt the secret with (`not_configured`)", body = ErrorBody),
    ))]
pub async fn start_enrollment(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
) -> ApiResult<Envelope<Enrollment>> {
    let enrollment = two_factor::start_enrollment(&state.cx, &state.two_factor, &session).await?;
    Ok(Envelope::created(enrollment))
}

#[utoipa::path(post, path = "/v1/auth/two-factor/enrollment/confirm", tag = "auth",
    security(("session" = [])),
    request_body = ConfirmEnrollment,
    responses(
        (status = 200, description = "Enabled; the recovery codes, shown once", body = Success<TwoFactorEnabled>),
        (status = 409, description = "No pending enrolment (`no_pending_enrollment`), already enabled, or restarted meanwhile", body = ErrorBody),
        (status = 422, description = "A wrong code (`details[0].field` = `totp_code`)", body = ErrorBody),
        (status = 429, description = "Too many wrong codes for this account", body = ErrorBody),
    ))]
pub async fn confirm_enrollment(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Json(body): Json<ConfirmEnrollment>,
) -> ApiResult<Envelope<TwoFactorEnabled>> {
    let RecoveryCodes { recovery_codes } = two_factor::confirm(
        &state.cx,
        &state.two_factor,
        &state.limiter,
        &session,
        &body.totp_code,
    )
    .await?;
    Ok(Envelope::ok(TwoFactorEnabled {
        enabled: true,
        recovery_codes,
    }))
}

#[utoipa::path(post, path = "/v1/auth/two-factor/disable", tag = "auth",
    security(("session" = [])),
    request_body = DisableTwoFactor,
    responses(
        (status = 200, description = "Disabled: sign-in needs only the password again", body = Success<TwoFactorDisabled>),
        (status = 409, description = "Two-factor sign-in is not enabled (`two_factor_not_enabled`)", body = ErrorBody),
        (status = 422, description = "A wrong password or code (`details[0].field` names which)", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords or codes for this account", body = ErrorBody),
    ))]
pub async fn disable_two_factor(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Json(body): Json<DisableTwoFactor>,
) -> ApiResult<Envelope<TwoFactorDisabled>> {
    let factor = Factor::parse(body.totp_code.as_deref(), body.recovery_code.as_deref())?;
    two_factor::disable(
        &state.cx,
        &state.passwords,
        &state.two_factor,
        &state.limiter,
        &session,
        &body.password,
        factor,
    )
    .await?;
    Ok(Envelope::ok(TwoFactorDisabled { enabled: false }))
}

#[utoipa::path(post, path = "/v1/auth/two-factor/recovery-codes", tag = "auth",
    security(("session" = [])),
    request_body = SecondFactor,
    responses(
        (status = 200, description = "Ten new recovery codes, shown once; the old ones no longer work", body = Success<RecoveryCodes>),
        (status = 409, description = "Two-factor sign-in is not enabled", body = ErrorBody),
        (status = 422, description = "A wrong code", body = ErrorBody),
        (status = 429, description = "Too many wrong codes for this account", body = ErrorBody),
    ))]
pub async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    CurrentUser(session): CurrentUser,
    Json(body): Json<SecondFactor>,
) -> ApiResult<Envelope<RecoveryCodes>> {
    let codes = two_factor::regenerate_recovery_codes(
        &state.cx,
        &state.two_factor,
        &state.limiter,
        &session,
        body.factor()?,
    )
    .await?;
    Ok(Envelope::ok(codes))
}

#[utoipa::path(post, path = "/v1/auth/login/two-factor", tag = "auth",
    request_body = TwoFactorLogin,
    responses(
        (status = 200, description = "Signed in", body = Success<SessionResponse>),
        (status = 401, description = "A wrong or used code (`invalid_two_factor_code`; the challenge stays usable), or a challenge that is invalid, used or expired (`invalid_challenge`)", body = ErrorBody),
        (status = 429, description = "Too many wrong codes for this account", body = ErrorBody),
    ))]
pub async fn login_two_factor(
    State(state): State<AppState>,
    tenant: TenantContext,
    Json(body): Json<TwoFactorLogin>,
) -> ApiResult<Envelope<SessionResponse>> {
    let signed_in = complete_two_factor(&state, &tenant.tenant_id, &body).await?;
    Ok(Envelope::ok(signed_in.into()))
}

/// The sign-in's second step, for this route and the console's.
pub async fn complete_two_factor(
    state: &AppState,
    tenant_id: &str,
    body: &TwoFactorLogin,
) -> ApiResult<SignedIn> {
    let factor = Factor::parse(body.totp_code.as_deref(), body.recovery_code.as_deref())?;
    Ok(two_factor::complete_sign_in(
        &state.cx,
        &state.two_factor,
        &state.limiter,
        tenant_id,
        &body.challenge,
        factor,
        state.config.auth.session_ttl,
    )
    .await?)
}

#[utoipa::path(delete, path = "/v1/admin/users/{id}/two-factor", tag = "admin",
    security(("secret_key" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "Two-factor sign-in removed (for a user who lost the app and the recovery codes)", body = Success<TwoFactorReset>),
        (status = 404, body = ErrorBody),
    ))]
pub async fn reset_two_factor(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Path(id): Path<String>,
) -> ApiResult<Envelope<TwoFactorReset>> {
    let was_enabled = two_factor::reset(&state.cx, &key.tenant_id, &id).await?;
    Ok(Envelope::ok(TwoFactorReset {
        user_id: id,
        was_enabled,
    }))
}

//! Seed 001's `/auth/*` routes: the same bodies and answers as `/v1/auth/*`, so each handler
//! here only documents the seed's path and calls the v1 handler.

use axum::extract::State;
use axum::http::StatusCode;

use crate::app::AppState;
use crate::http::api::Success;
use crate::http::api::auth::{
    LoggedOut, LoginRequest, PasswordChanged, RegisterRequest, ResetCompletion, ResetRequest,
    ResetRequested, SessionResponse, complete_password_reset, login, logout, register,
    request_password_reset,
};
use crate::http::auth::{CurrentUser, TenantContext};
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, LenientJson};

#[utoipa::path(post, path = "/auth/register", tag = "seed",
    request_body = RegisterRequest,
    responses((status = 201, description = "Same as /v1/auth/register", body = Success<SessionResponse>),
        (status = 409, description = "Email already registered", body = ErrorBody)))]
pub async fn seed_register(
    state: State<AppState>,
    tenant: TenantContext,
    LenientJson(body): LenientJson<RegisterRequest>,
) -> ApiResult<Envelope<SessionResponse>> {
    register(state, tenant, Json(body)).await
}

#[utoipa::path(post, path = "/auth/login", tag = "seed",
    request_body = LoginRequest,
    responses((status = 200, description = "Same as /v1/auth/login", body = Success<SessionResponse>),
        (status = 401, description = "Invalid email or password", body = ErrorBody)))]
pub async fn seed_login(
    state: State<AppState>,
    tenant: TenantContext,
    LenientJson(body): LenientJson<LoginRequest>,
) -> ApiResult<Envelope<SessionResponse>> {
    login(state, tenant, Json(body)).await
}

#[utoipa::path(post, path = "/auth/logout", tag = "seed",
    security(("session" = [])),
    responses((status = 200, description = "Same as /v1/auth/logout", body = Success<LoggedOut>)))]
pub async fn seed_logout(
    state: State<AppState>,
    user: CurrentUser,
) -> ApiResult<Envelope<LoggedOut>> {
    logout(state, user).await
}

#[utoipa::path(post, path = "/auth/password-reset/request", tag = "seed",
    request_body = ResetRequest,
    responses((status = 202, description = "Same as /v1/auth/password-reset/request", body = Success<ResetRequested>)))]
pub async fn seed_request_password_reset(
    state: State<AppState>,
    tenant: TenantContext,
    LenientJson(body): LenientJson<ResetRequest>,
) -> ApiResult<(StatusCode, Envelope<ResetRequested>)> {
    request_password_reset(state, tenant, Json(body)).await
}

#[utoipa::path(post, path = "/auth/password-reset/complete", tag = "seed",
    request_body = ResetCompletion,
    responses((status = 200, description = "Same as /v1/auth/password-reset/complete", body = Success<PasswordChanged>)))]
pub async fn seed_complete_password_reset(
    state: State<AppState>,
    tenant: TenantContext,
    LenientJson(body): LenientJson<ResetCompletion>,
) -> ApiResult<Envelope<PasswordChanged>> {
    complete_password_reset(state, tenant, Json(body)).await
}

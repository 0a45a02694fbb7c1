//! The console's sign-in (with its two-factor step), sign-up and sign-out: the JSON API's own
//! rules, with the session put in an HttpOnly cookie instead of the response body. The page
//! gets the session's CSRF token to send back on writes; it never sees the session token.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::clock::to_rfc3339;
use crate::error::AppError;
use crate::http::api::auth::{self, LoginRequest, RegisterRequest};
use crate::http::api::two_factor::{self, TwoFactorLogin};
use crate::http::auth::{CurrentUser, SecretKey, TenantContext, presented_session_token};
use crate::http::cookie_session::{self, ADMIN_COOKIE, SESSION_COOKIE};
use crate::http::envelope::Envelope;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::services::accounts::{SignedIn, User};
use crate::services::{admin_sessions, tenants};

/// The signed-in member as the page knows them.
#[derive(Debug, Serialize)]
pub struct ConsoleSession {
    pub user: User,
    pub tenant_id: String,
    /// Send as `X-CSRF-Token` on every request that changes something.
    pub csrf_token: String,
}

#[derive(Debug, Serialize)]
pub struct AdminSession {
    pub tenant_id: String,
    pub csrf_token: Option<String>,
    pub expires_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SignedOut {
    pub signed_out: bool,
}

/// The tenant's secret key; or nothing, to use the signed-in member's own account when it is
/// a named operator (`KANRI_OPERATOR_EMAILS`, single-tenant mode).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSignIn {
    pub secret_key: Option<String>,
}

type WithCookie<T> = ApiResult<(HeaderMap, Envelope<T>)>;

fn secure(state: &AppState) -> bool {
    state.config.server.app_url.starts_with("https://")
}

fn cookie_header(value: HeaderValue) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(SET_COOKIE, value);
    headers
}

fn member_session(
    state: &AppState,
    signed_in: SignedIn,
    tenant_id: &str,
) -> (HeaderMap, ConsoleSession) {
    let token = signed_in.token.expose();
    let ttl = state.config.auth.session_ttl;
    let cookie = cookie_session::set(SESSION_COOKIE, token, ttl, secure(state));
    let session = ConsoleSession {
        user: signed_in.user,
        tenant_id: tenant_id.to_string(),
        csrf_token: cookie_session::csrf_token(token),
    };
    (cookie_header(cookie), session)
}

pub async fn sign_in(
    State(state): State<AppState>,
    tenant: TenantContext,
    Json(body): Json<LoginRequest>,
) -> WithCookie<ConsoleSession> {
    let signed_in = auth::sign_in(&state, &tenant.tenant_id, &body).await?;
    let (headers, session) = member_session(&state, signed_in, &tenant.tenant_id);
    Ok((headers, Envelope::ok(session)))
}

/// The second step for an account with two-factor sign-in: the challenge the first step's
/// `two_factor_required` carried, and a code.
pub async fn sign_in_two_factor(
    State(state): State<AppState>,
    tenant: TenantContext,
    Json(body): Json<TwoFactorLogin>,
) -> WithCookie<ConsoleSession> {
    let signed_in = two_factor::complete_two_factor(&state, &tenant.tenant_id, &body).await?;
    let (headers, session) = member_session(&state, signed_in, &tenant.tenant_id);
    Ok((headers, Envelope::ok(session)))
}

pub async fn register(
    State(state): State<AppState>,
    tenant: TenantContext,
    Json(body): Json<RegisterRequest>,
) -> WithCookie<ConsoleSession> {
    let signed_in = auth::sign_up(&state, &tenant.tenant_id, &body).await?;
    let (headers, session) = member_session(&state, signed_in, &tenant.tenant_id);
    Ok((headers, Envelope::created(session)))
}

/// Who is signed in. Nobody is an answer, not an error: the page asks on every load.
pub async fn current(
    user: Result<CurrentUser, ApiError>,
    headers: HeaderMap,
) -> ApiResult<Envelope<Option<ConsoleSession>>> {
    let user = match user {
        Ok(user) => user,
        Err(ApiError::App(AppError::Unauthenticated(_))) => return Ok(Envelope::ok(None)),
        Err(other) => return Err(other),
    };
    let token = presented_session_token(&headers).unwrap_or_default();
    Ok(Envelope::ok(Some(ConsoleSession {
        csrf_token: cookie_session::csrf_token(&token),
        tenant_id: user.0.tenant_id,
        user: user.0.user,
    })))
}

/// Ends the session when the request proves it is ours, and clears the cookie either way (an
/// expired one included). A wrong CSRF token is still refused.
pub async fn sign_out(
    State(state): State<AppState>,
    user: Result<CurrentUser, ApiError>,
) -> WithCookie<SignedOut> {
    match user {
        Ok(user) => crate::services::accounts::logout(&state.cx, &user.0).await?,
        Err(ApiError::App(AppError::Forbidden(message))) => {
            return Err(AppError::Forbidden(message).into());
        }
        Err(_) => {}
    }
    let cookie = cookie_session::clear(SESSION_COOKIE, secure(&state));
    Ok((
        cookie_header(cookie),
        Envelope::ok(SignedOut { signed_out: true }),
    ))
}

/// Exchanges the tenant's secret key, or a named operator's own sign-in, for an operator
/// session.
pub async fn admin_sign_in(
    State(state): State<AppState>,
    user: Result<CurrentUser, ApiError>,
    Json(body): Json<AdminSignIn>,
) -> WithCookie<AdminSession> {
    let started = match body.secret_key.as_deref() {
        Some(secret_key) => {
            let key = tenants::resolve_key(&state.cx, &state.key_usage, secret_key.trim()).await?;
            admin_sessions::start(&state.cx, &key).await?
        }
        None => {
            let user = user?;
            admin_sessions::start_for_account(
                &state.cx,
                &state.config.auth.operator_emails,
                &user.0,
            )
            .await?
        }
    };
    let token = started.token.expose();
    let cookie = cookie_session::set(
        ADMIN_COOKIE,
        token,
        admin_sessions::ADMIN_SESSION_TTL,
        secure(&state),
    );
    let session = AdminSession {
        tenant_id: started.tenant_id,
        csrf_token: Some(cookie_session::csrf_token(token)),
        expires_at: Some(to_rfc3339(started.expires_at)),
    };
    Ok((cookie_header(cookie), Envelope::ok(session)))
}

/// The operator session, if there is one (`null` otherwise).
pub async fn current_admin(
    key: Result<SecretKey, ApiError>,
    headers: HeaderMap,
) -> ApiResult<Envelope<Option<AdminSession>>> {
    let key = match key {
        Ok(key) => key,
        Err(ApiError::App(AppError::Unauthenticated(_) | AppError::SecretKeyRequired)) => {
            return Ok(Envelope::ok(None));
        }
        Err(other) => return Err(other),
    };
    let token = cookie_session::read(&headers, ADMIN_COOKIE);
    Ok(Envelope::ok(Some(AdminSession {
        tenant_id: key.0.tenant_id,
        csrf_token: token.as_deref().map(cookie_session::csrf_token),
        expires_at: None,
    })))
}

pub async fn admin_sign_out(
    State(state): State<AppState>,
    key: Result<SecretKey, ApiError>,
    headers: HeaderMap,
) -> WithCookie<SignedOut> {
    match key {
        Ok(_) => {
            if let Some(token) = cookie_session::read(&headers, ADMIN_COOKIE) {
                admin_sessions::end(&state.cx, &token).await?;
            }
        }
        Err(ApiError::App(AppError::Forbidden(message))) => {
            return Err(AppError::Forbidden(message).into());
        }
        Err(_) => {}
    }
    let cookie = cookie_session::clear(ADMIN_COOKIE, secure(&state));
    Ok((
        cookie_header(cookie),
        Envelope::ok(SignedOut { signed_out: true }),
    ))
}

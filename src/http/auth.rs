//! Who is calling: the tenant (from an API key, a session, or the default tenant in
//! single-tenant mode), and the signed-in user when there is one.
//!
//! Keys come in `X-Api-Key` or as `Authorization: Bearer sk_live_…`/`pk_live_…`; session tokens
//! come as `Authorization: Bearer <token>`.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::ApiError;
use super::rate_limit::charge_tenant;
use crate::app::AppState;
use crate::db::tenants::DEFAULT_TENANT_ID;
use crate::domain::{ApiKey, KeyKind};
use crate::error::{AppError, AuthFailure};
use crate::services::access::Actor;
use crate::services::accounts::{self, SessionUser};
use crate::services::tenants::{self, ResolvedKey};

const X_API_KEY: &str = "x-api-key";

fn reject(failure: AuthFailure) -> ApiError {
    ApiError::App(AppError::Unauthenticated(failure))
}

/// The raw credentials on a request, before any are checked.
#[derive(Debug, Default)]
struct Credentials {
    key: Option<String>,
    session: Option<String>,
}

impl Credentials {
    fn from_parts(parts: &Parts) -> Result<Self, ApiError> {
        let mut creds = Self::default();
        if let Some(value) = parts.headers.get(X_API_KEY) {
            let value = value
                .to_str()
                .map_err(|_| reject(AuthFailure::InvalidApiKey))?;
            creds.key = Some(value.trim().to_string());
        }
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let value = value
                .to_str()
                .map_err(|_| reject(AuthFailure::InvalidToken))?;
            let (scheme, credential) = value.trim().split_once(' ').unwrap_or((value, ""));
            if !scheme.eq_ignore_ascii_case("bearer") || credential.trim().is_empty() {
                return Err(reject(AuthFailure::InvalidToken));
            }
            let credential = credential.trim().to_string();
            if ApiKey::looks_like_key(&credential) {
                if creds.key.as_ref().is_some_and(|k| *k != credential) {
                    return Err(reject(AuthFailure::InvalidApiKey));
                }
                creds.key = Some(credential);
            } else {
                creds.session = Some(credential);
            }
        }
        Ok(creds)
    }

    /// Checks a session token sent on a route that does not use it: any invalid credential in a
    /// request is refused, even beside a valid one.
    async fn check_unused_session(
        &self,
        state: &AppState,
    ) -> Result<Option<SessionUser>, ApiError> {
        match &self.session {
            Some(token) => Ok(Some(accounts::authenticate(&state.cx, token).await?)),
            None => Ok(None),
        }
    }

    async fn resolve_key(&self, state: &AppState) -> Result<Option<ResolvedKey>, ApiError> {
        match &self.key {
            Some(raw) => Ok(Some(
                tenants::resolve_key(&state.cx, &state.key_usage, raw).await?,
            )),
            None => Ok(None),
        }
    }
}

/// The tenant a request acts in, for routes that need no user (sign-up, sign-in).
#[derive(Debug, Clone)]
pub struct TenantContext {
    pub tenant_id: String,
}

impl FromRequestParts<AppState> for TenantContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let creds = Credentials::from_parts(parts)?;
        let key = creds.resolve_key(state).await?;
        let session = creds.check_unused_session(state).await?;
        if let (Some(key), Some(session)) = (&key, &session)
            && key.tenant_id != session.tenant_id
        {
            return Err(reject(AuthFailure::InvalidToken));
        }
        let tenant_id = match key {
            Some(key) => key.tenant_id,
            None if state.config.auth.multi_tenant => return Err(reject(AuthFailure::MissingAuth)),
            None => DEFAULT_TENANT_ID.to_string(),
        };
        charge_tenant(parts, state, &tenant_id).await?;
        Ok(Self { tenant_id })
    }
}

/// A signed-in user. The session decides the tenant; a key sent alongside must agree.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub SessionUser);

impl CurrentUser {
    /// The caller as the services see it.
    pub fn actor(&self) -> Actor {
        Actor {
            tenant_id: self.0.tenant_id.clone(),
            user_id: self.0.user.id.clone(),
        }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let creds = Credentials::from_parts(parts)?;
        let key = creds.resolve_key(state).await?;
        let Some(token) = creds.session.as_deref() else {
            return Err(reject(match key {
                Some(_) => AuthFailure::SessionRequired,
                None => AuthFailure::MissingAuth,
            }));
        };
        let session = accounts::authenticate(&state.cx, token).await?;
        if key.is_some_and(|k| k.tenant_id != session.tenant_id) {
            return Err(reject(AuthFailure::InvalidToken));
        }
        charge_tenant(parts, state, &session.tenant_id).await?;
        Ok(Self(session))
    }
}

/// A server-side caller holding its tenant's secret key.
#[derive(Debug, Clone)]
pub struct SecretKey(pub ResolvedKey);

impl FromRequestParts<AppState> for SecretKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let creds = Credentials::from_parts(parts)?;
        let key = creds.resolve_key(state).await?;
        let session = creds.check_unused_session(state).await?;
        match (key, session) {
            (Some(key), session) if key.kind == KeyKind::Secret => {
                if session.is_some_and(|s| s.tenant_id != key.tenant_id) {
                    return Err(reject(AuthFailure::InvalidToken));
                }
                charge_tenant(parts, state, &key.tenant_id).await?;
                Ok(Self(key))
            }
            // Who the caller is, is known; what they hold is not enough for this route.
            (Some(_), _) | (None, Some(_)) => Err(ApiError::App(AppError::SecretKeyRequired)),
            (None, None) => Err(reject(AuthFailure::MissingAuth)),
        }
    }
}

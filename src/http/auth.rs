//! Who is calling: the tenant (from an API key, a session, or the default tenant in
//! single-tenant mode), and the signed-in user when there is one.
//!
//! Keys come in `X-Api-Key` or as `Authorization: Bearer sk_live_…`/`pk_live_…`; session tokens
//! come as `Authorization: Bearer <token>`. The web console's pages use cookies instead
//! (`cookie_session`): a member's session, and an operator's admin session standing for the
//! secret key. Cookies count only when no credential header is sent, and only from our own
//! origin with the CSRF token on writes.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};

use super::cookie_session::{self, ADMIN_COOKIE, SESSION_COOKIE};
use super::error::ApiError;
use super::rate_limit::charge_tenant;
use crate::app::AppState;
use crate::db::tenants::DEFAULT_TENANT_ID;
use crate::domain::{ApiKey, KeyKind};
use crate::error::{AppError, AuthFailure};
use crate::services::access::Actor;
use crate::services::accounts::{self, SessionUser};
use crate::services::admin_sessions;
use crate::services::external_jwt::{self, ExternalJwt};
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
    /// The session came from the console's cookie, not a header.
    session_from_cookie: bool,
    /// An operator's admin session (cookie), standing for the tenant's secret key.
    admin: Option<String>,
}

impl Credentials {
    fn from_parts(parts: &Parts, app_url: &str) -> Result<Self, ApiError> {
        let mut creds = Self::from_headers(parts)?;
        if creds.key.is_none() && creds.session.is_none() {
            creds.add_cookies(&parts.method, &parts.headers, app_url)?;
        }
        Ok(creds)
    }

    fn add_cookies(
        &mut self,
        method: &Method,
        headers: &HeaderMap,
        app_url: &str,
    ) -> Result<(), ApiError> {
        let session = cookie_session::read(headers, SESSION_COOKIE);
        let admin = cookie_session::read(headers, ADMIN_COOKIE);
        if session.is_none() && admin.is_none() {
            return Ok(());
        }
        if !same_origin(headers, app_url) {
            return Err(ApiError::App(AppError::Forbidden(
                "cross-site request refused",
            )));
        }
        // On a write, a cookie counts only with its own CSRF token: the admin pages send the
        // admin session's, the team pages the member session's. A write without any token uses
        // no cookie at all (signing in again over a stale cookie must work); a wrong token is
        // refused.
        let allowed = |token: &String| cookie_session::csrf_allows(method, headers, token);
        let (session, admin) = (session.filter(allowed), admin.filter(allowed));
        if session.is_none()
            && admin.is_none()
            && headers.contains_key(&cookie_session::CSRF_HEADER)
        {
            return Err(ApiError::App(AppError::Forbidden(
                "the X-CSRF-Token does not belong to this cookie session",
            )));
        }
        self.session_from_cookie = session.is_some();
        self.session = session;
        self.admin = admin;
        Ok(())
    }

    fn from_headers(parts: &Parts) -> Result<Self, ApiError> {
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
    /// A cookie is not something the caller chose to send here, so a stale one is ignored.
    async fn check_unused_session(
        &self,
        state: &AppState,
    ) -> Result<Option<SessionUser>, ApiError> {
        match &self.session {
            Some(_) if self.session_from_cookie => Ok(None),
            Some(token) => Ok(Some(accounts::authenticate(&state.cx, token).await?)),
            None => Ok(None),
        }
    }

    /// The header key, or else the operator's admin session standing for it.
    async fn resolve_key_or_admin(
        &self,
        state: &AppState,
    ) -> Result<Option<ResolvedKey>, ApiError> {
        match (&self.key, &self.admin) {
            (None, Some(token)) => Ok(Some(
                admin_sessions::authenticate(&state.cx, &state.config.auth.operator_emails, token)
                    .await?,
            )),
            _ => self.resolve_key(state).await,
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
        let creds = Credentials::from_parts(parts, &state.config.server.app_url)?;
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
        let creds = Credentials::from_parts(parts, &state.config.server.app_url)?;
        let key = creds.resolve_key(state).await?;
        let Some(token) = creds.session.as_deref() else {
            return Err(reject(match key {
                Some(_) => AuthFailure::SessionRequired,
                None => AuthFailure::MissingAuth,
            }));
        };
        let session = match &state.external_jwt {
            Some(verifier) if external_jwt::looks_like_jwt(token) => {
                external_session(state, verifier, token, key.as_ref()).await?
            }
            _ => accounts::authenticate(&state.cx, token).await?,
        };
        if key.is_some_and(|k| k.tenant_id != session.tenant_id) {
            return Err(reject(AuthFailure::InvalidToken));
        }
        charge_tenant(parts, state, &session.tenant_id).await?;
        Ok(Self(session))
    }
}

/// The user an outside provider's session token stands for: in the tenant of the key sent
/// beside it, or the default tenant in single-tenant mode.
async fn external_session(
    state: &AppState,
    verifier: &ExternalJwt,
    token: &str,
    key: Option<&ResolvedKey>,
) -> Result<SessionUser, ApiError> {
    let claims = verifier.verify(token).await.map_err(reject)?;
    let tenant_id = match key {
        Some(key) => key.tenant_id.clone(),
        None if !state.config.auth.multi_tenant => DEFAULT_TENANT_ID.to_string(),
        None => return Err(reject(AuthFailure::MissingAuth)),
    };
    Ok(
        accounts::authenticate_external(&state.cx, &tenant_id, &claims.sub, claims.sid.as_deref())
            .await?,
    )
}

/// A server-side caller holding its tenant's secret key.
#[derive(Debug, Clone)]
pub struct SecretKey(pub ResolvedKey);

impl FromRequestParts<AppState> for SecretKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let creds = Credentials::from_parts(parts, &state.config.server.app_url)?;
        let key = creds.resolve_key_or_admin(state).await?;
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

/// The session token a request presents, from its header or the console's cookie, for code that
/// keeps re-checking it after `CurrentUser` accepted it (an open WebSocket).
pub fn presented_session_token(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.trim().split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    cookie_session::read(headers, SESSION_COOKIE)
}

/// Whether a cookie-carrying request comes from our own pages: no `Origin` (a same-origin read
/// or a navigation), or one naming this host or the configured public URL. WebSocket handshakes
/// always send `Origin`, so another site's page cannot open a socket with a member's cookie.
fn same_origin(headers: &HeaderMap, app_url: &str) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin.eq_ignore_ascii_case(app_url.trim_end_matches('/')) {
        return true;
    }
    let origin_host = origin.split_once("://").map(|(_, host)| host);
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    matches!((origin_host, host), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_str(host).unwrap());
        if let Some(origin) = origin {
            headers.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        headers
    }

    #[test]
    fn cookies_count_only_from_our_own_origin() {
        let app = "https://kanri.example.com";
        assert!(same_origin(&with(None, "127.0.0.1:8080"), app));
        assert!(same_origin(
            &with(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"),
            app
        ));
        assert!(same_origin(
            &with(Some("https://kanri.example.com"), "10.0.0.5"),
            app
        ));
        assert!(!same_origin(
            &with(Some("https://evil.example"), "127.0.0.1:8080"),
            app
        ));
        assert!(!same_origin(&with(Some("null"), "127.0.0.1:8080"), app));
        assert!(!same_origin(
            &with(Some("http://127.0.0.1:8080.evil"), "127.0.0.1:8080"),
            app
        ));
    }

    #[test]
    fn the_presented_token_prefers_the_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "cookie",
            HeaderValue::from_static("kanri_session=fromcookie"),
        );
        assert_eq!(
            presented_session_token(&headers).as_deref(),
            Some("fromcookie")
        );
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer fromheader"));
        assert_eq!(
            presented_session_token(&headers).as_deref(),
            Some("fromheader")
        );
    }
}

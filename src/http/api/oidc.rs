//! OpenID Connect sign-in: `GET /v1/auth/oidc` (the providers a sign-in page can offer),
//! `GET /v1/auth/oidc/{provider}/start` (to the provider) and its stable callback
//! `GET /v1/auth/oidc/{provider}/callback`. A sign-in started with `return_to` (the console)
//! ends with the console's session cookie and a redirect there; without, with the session as
//! JSON, like `POST /v1/auth/login`.

use axum::extract::State;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Success;
use super::auth::SessionResponse;
use crate::app::AppState;
use crate::db::tenants::DEFAULT_TENANT_ID;
use crate::error::{AppError, AuthFailure};
use crate::http::cookie_session::{self, SESSION_COOKIE};
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Path, Query};
use crate::services::oidc::{Oidc, safe_return_to};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_providers))
        .routes(routes!(start))
        .routes(routes!(callback))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Provider {
    pub name: String,
    /// Send the browser here to sign in.
    pub start_url: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StartParams {
    /// A path on this server to land on after signing in, with the console's session cookie
    /// (e.g. `/app/`); without it the callback answers the session as JSON.
    pub return_to: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    /// The provider's refusal (`access_denied`, …).
    pub error: Option<String>,
    pub error_description: Option<String>,
}

fn provider<'a>(state: &'a AppState, name: &str) -> Result<&'a Oidc, AppError> {
    state
        .oidc
        .as_deref()
        .filter(|p| p.name() == name)
        .ok_or(AppError::NotFound("identity provider"))
}

fn callback_url(state: &AppState, name: &str) -> String {
    format!(
        "{}/v1/auth/oidc/{name}/callback",
        state.config.server.app_url
    )
}

#[utoipa::path(get, path = "/v1/auth/oidc", tag = "auth",
    responses((status = 200, description = "The configured OpenID Connect providers", body = Success<Vec<Provider>>)))]
pub async fn list_providers(State(state): State<AppState>) -> ApiResult<Envelope<Vec<Provider>>> {
    let providers = state
        .oidc
        .iter()
        .map(|p| Provider {
            name: p.name().to_string(),
            start_url: format!(
                "{}/v1/auth/oidc/{}/start",
                state.config.server.app_url,
                p.name()
            ),
        })
        .collect();
    Ok(Envelope::ok(providers))
}

#[utoipa::path(get, path = "/v1/auth/oidc/{provider}/start", tag = "auth",
    params(("provider" = String, Path, description = "Provider name"), StartParams),
    responses(
        (status = 302, description = "To the provider's sign-in page (authorization code flow with PKCE)"),
        (status = 404, description = "No such provider", body = ErrorBody),
        (status = 422, description = "`return_to` is not a path on this server", body = ErrorBody),
        (status = 503, description = "The provider's discovery document cannot be read", body = ErrorBody),
    ))]
pub async fn start(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<StartParams>,
) -> ApiResult<Response> {
    let oidc = provider(&state, &name)?;
    let return_to =
        match params.return_to.as_deref() {
            Some(value) => Some(safe_return_to(value).ok_or_else(|| {
                AppError::validation("return_to", "must be a path on this server")
            })?),
            None => None,
        };
    let url = oidc
        .start(
            &state.cx,
            DEFAULT_TENANT_ID,
            &callback_url(&state, &name),
            return_to,
        )
        .await?;
    Ok(redirect(&url, None))
}

#[utoipa::path(get, path = "/v1/auth/oidc/{provider}/callback", tag = "auth",
    params(("provider" = String, Path, description = "Provider name"), CallbackParams),
    responses(
        (status = 200, description = "Signed in (a sign-in started without `return_to`)", body = Success<SessionResponse>),
        (status = 303, description = "Signed in: the session cookie is set and the browser goes to `return_to`"),
        (status = 401, description = "`sso_failed`: refused by the provider, an unknown or used state, or an ID token that does not check out", body = ErrorBody),
        (status = 403, description = "The provider gave no verified email for a first sign-in", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
    ))]
pub async fn callback(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(params): Query<CallbackParams>,
) -> ApiResult<Response> {
    let oidc = provider(&state, &name)?;
    let failed = || AppError::Unauthenticated(AuthFailure::SingleSignOnFailed);
    if let Some(error) = &params.error {
        tracing::info!(%error, description = ?params.error_description, "the identity provider refused a sign-in");
        return Err(failed().into());
    }
    let (Some(code), Some(st)) = (&params.code, &params.state) else {
        return Err(failed().into());
    };
    let ttl = state.config.auth.session_ttl;
    let finished = oidc
        .finish(&state.cx, &callback_url(&state, &name), code, st, ttl)
        .await?;
    match finished.return_to {
        Some(to) => {
            let secure = state.config.server.app_url.starts_with("https://");
            let token = finished.signed_in.token.expose();
            let cookie = cookie_session::set(SESSION_COOKIE, token, ttl, secure);
            Ok(redirect(&to, Some(cookie)))
        }
        None => Ok(Envelope::ok(SessionResponse::from(finished.signed_in)).into_response()),
    }
}

/// A redirect: 302 to the provider, 303 (a GET) back to the app after signing in.
fn redirect(to: &str, cookie: Option<HeaderValue>) -> Response {
    let mut headers = HeaderMap::new();
    let status = if cookie.is_some() {
        StatusCode::SEE_OTHER
    } else {
        StatusCode::FOUND
    };
    if let Ok(location) = HeaderValue::from_str(to) {
        headers.insert(LOCATION, location);
    }
    if let Some(cookie) = cookie {
        headers.insert(SET_COOKIE, cookie);
    }
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    (status, headers).into_response()
}

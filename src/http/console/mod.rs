//! The web console under `/app/`: a no-build ES-module front end (`assets/console/`, compiled
//! in) over the same JSON API any client uses, signed in with HttpOnly cookies
//! (`http::cookie_session`). Not API operations, so routed beside the OpenAPI document.
//!
//! - `pages.rs`: which paths are pages (the shell answers 200), admin pages (404 unless an
//!   operator is signed in, the same 404 an unknown page gets) and the rest.
//! - `assets.rs`: the shell and its versioned scripts and styles.
//! - `session.rs`: sign-in, sign-up and sign-out that set and clear the cookies.

mod assets;
mod pages;
mod session;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{any, get, post};
use tower_http::compression::CompressionLayer;
use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;
use crate::http::cookie_session::{self, ADMIN_COOKIE};
use crate::http::error::ApiError;
use crate::services::admin_sessions;
use pages::Page;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/app", get(shell))
        .route("/app/", get(shell))
        .route("/app/{*path}", get(shell))
        .route("/app/assets/{version}/{file}", get(assets::serve))
        .route(
            "/app/api/session",
            get(session::current)
                .post(session::sign_in)
                .delete(session::sign_out),
        )
        .route(
            "/app/api/session/two-factor",
            post(session::sign_in_two_factor),
        )
        .route("/app/api/register", post(session::register))
        .route(
            "/app/api/admin-session",
            get(session::current_admin)
                .post(session::admin_sign_in)
                .delete(session::admin_sign_out),
        )
        .route(
            "/app/api/{*rest}",
            any(|| async { ApiError::RouteNotFound }),
        )
        .layer(CompressionLayer::new())
}

/// The page shell for every console path; the script draws the page the path names. Unknown
/// paths, and admin pages without an operator session, get the same shell with a 404.
async fn shell(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let status = match pages::classify(uri.path()) {
        Page::Team => StatusCode::OK,
        Page::Admin if is_operator(&state, &headers).await => StatusCode::OK,
        Page::Admin | Page::Unknown => StatusCode::NOT_FOUND,
    };
    assets::shell(status)
}

async fn is_operator(state: &AppState, headers: &HeaderMap) -> bool {
    match cookie_session::read(headers, ADMIN_COOKIE) {
        Some(token) => {
            admin_sessions::authenticate(&state.cx, &state.config.auth.operator_emails, &token)
                .await
                .is_ok()
        }
        None => false,
    }
}

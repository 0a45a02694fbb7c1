//! Seed 001's routes ("SaaS Backend Layer"): `/auth/*` and the organizations. Every one but
//! the user's organization list has the v1 request and answer, so its handler documents the
//! seed's path and calls the v1 handler.
//!
//! - `auth.rs`: register, login, logout, password reset.
//! - `organizations.rs`: organizations (workspaces), their invitations and members.

pub mod auth;
pub mod organizations;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::seed_register))
        .routes(routes!(auth::seed_login))
        .routes(routes!(auth::seed_logout))
        .routes(routes!(auth::seed_request_password_reset))
        .routes(routes!(auth::seed_complete_password_reset))
        .routes(routes!(organizations::create_organization))
        .routes(routes!(organizations::get_organization))
        .routes(routes!(organizations::list_user_organizations))
        .routes(routes!(organizations::invite_to_organization))
        .routes(routes!(organizations::accept_organization_invitation))
        .routes(routes!(organizations::remove_organization_member))
}

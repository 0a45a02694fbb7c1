//! Seed 002's routes (`/api/workspace…`, `/api/projects…`, `/api/tasks/project/…`,
//! `/api/comments/task/…`, `/api/webhooks/clerk`), as thin adapters over the workspace,
//! member, project, task and comment services.
//!
//! Workspaces are the tenant boundary and users are named by email. Answers are
//! `{success, data}`, or `{success, message, data}` ([`Said`]) for a change. Errors keep our
//! error envelope.
//!
//! - `workspaces.rs`: the caller's workspaces, and adding a member.
//! - `projects.rs`: a workspace's projects, create, update, add a member; `shapes.rs` has
//!   their bodies.
//! - `tasks.rs`: a project's tasks with their comments, and a task's comments.
//! - `webhooks.rs`: the Clerk webhook.

pub mod projects;
pub mod shapes;
pub mod tasks;
pub mod webhooks;
pub mod workspaces;

use axum::Json as RawJson;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(workspaces::list_seed_workspaces))
        .routes(routes!(workspaces::seed_add_member))
        .routes(routes!(projects::list_workspace_projects))
        .routes(routes!(projects::create_workspace_project))
        .routes(routes!(projects::update_workspace_project))
        .routes(routes!(projects::add_workspace_project_member))
        .routes(routes!(tasks::list_project_tasks))
        .routes(routes!(tasks::list_task_comments))
        .routes(routes!(webhooks::seed_clerk_webhook))
}

/// Seed 002's answer to a change: `{success, message, data}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Said<T: ToSchema> {
    pub success: bool,
    pub message: String,
    pub data: T,
}

pub fn said<T: ToSchema + Serialize>(status: StatusCode, message: &str, data: T) -> Response {
    (
        status,
        RawJson(Said {
            success: true,
            message: message.into(),
            data,
        }),
    )
        .into_response()
}

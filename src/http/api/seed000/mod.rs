//! Seed 000's routes (`/api/create-project`, `/api/list-projects`, `/api/create-task`,
//! `/api/search-tasks`, and the socket `/api/realtime`), as thin adapters over the project,
//! task, attachment, search and realtime services.
//!
//! The seed has a single-user world: it maps to the caller's personal workspace, made on first
//! use. Its answers are plain objects (`{success, project}` …) with epoch-millisecond times and
//! camelCase keys, as the seed returns them. Errors keep our error envelope.
//!
//! - `projects.rs`: create and list projects.
//! - `tasks.rs`: create a task, with its inline attachment; `fields.rs` reads the seed's
//!   `dueDate` and base64 file.
//! - `search.rs`: the cached task search.
//! - `realtime.rs`: the WebSocket that names a new task `task:created`, as the seed emits it.

pub mod fields;
pub mod projects;
pub mod realtime;
pub mod search;
pub mod tasks;

use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::attachments::SEED_CREATE_TASK_BODY;
use crate::app::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    // Its body may carry a base64 attachment.
    let create_task = OpenApiRouter::new()
        .routes(routes!(tasks::seed_create_task))
        .layer(DefaultBodyLimit::max(SEED_CREATE_TASK_BODY));
    OpenApiRouter::new()
        .routes(routes!(projects::seed_create_project))
        .routes(routes!(projects::seed_list_projects))
        .merge(create_task)
        .routes(routes!(search::seed_search_tasks))
        .routes(routes!(realtime::seed_connect_realtime))
}

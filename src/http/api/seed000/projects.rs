//! Seed 000's `POST /api/create-project` and `GET /api/list-projects` (cached, with
//! `from_cache`), in the caller's personal workspace.

use axum::Json as RawJson;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::clock::parse_time;
use crate::error::{AppError, AppResult};
use crate::http::api::seed_lists::all_projects;
use crate::http::auth::CurrentUser;
use crate::http::cached;
use crate::http::envelope::ErrorBody;
use crate::http::error::ApiResult;
use crate::http::extract::LenientJson;
use crate::services::Ctx;
use crate::services::access::Actor;
use crate::services::list_cache;
use crate::services::projects::{self, ProjectInput};
use crate::services::workspaces;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedCreateProject {
    /// At least 3 characters.
    pub name: Option<String>,
    pub description: Option<String>,
}

/// A created project as seed 000 answers it; `created_at` is epoch milliseconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeedProject {
    pub id: String,
    #[serde(rename = "userId")]
    pub user_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedProjectCreated {
    pub success: bool,
    pub project: SeedProject,
}

/// A project row as seed 000 lists it; times are epoch milliseconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeedProjectRow {
    pub id: String,
    /// Who created the project (`null` if their account was deleted).
    pub user_id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedProjectList {
    pub success: bool,
    pub projects: Vec<SeedProjectRow>,
    /// Whether the list came from the cache (also in the `X-Cache` header).
    pub from_cache: bool,
}

/// Epoch milliseconds of a time the services show as RFC 3339.
fn epoch_ms(field: &str, time: &str) -> AppResult<i64> {
    parse_time(field, time)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("unparsable {field} {time:?}")))
}

#[utoipa::path(post, path = "/api/create-project", tag = "seed",
    security(("session" = [])),
    request_body = SeedCreateProject,
    responses(
        (status = 200, description = "Created in the caller's personal workspace", body = SeedProjectCreated),
        (status = 422, description = "Name missing or shorter than 3 characters", body = ErrorBody),
    ))]
pub async fn seed_create_project(
    State(state): State<AppState>,
    user: CurrentUser,
    LenientJson(body): LenientJson<SeedCreateProject>,
) -> ApiResult<RawJson<SeedProjectCreated>> {
    let actor = user.actor();
    let ws = workspaces::personal(&state.cx, &actor, &user.0.user.name).await?;
    let input = ProjectInput {
        name: body.name.as_deref(),
        description: body.description.as_deref().map(Some),
        min_name_chars: 3,
        ..ProjectInput::default()
    };
    let project = projects::create(&state.cx, &actor, &ws.id, input, &[]).await?;
    Ok(RawJson(SeedProjectCreated {
        success: true,
        project: SeedProject {
            created_at: epoch_ms("created_at", &project.created_at)?,
            id: project.id,
            user_id: actor.user_id,
            name: project.name,
            description: project.description,
        },
    }))
}

#[utoipa::path(get, path = "/api/list-projects", tag = "seed",
    security(("session" = [])),
    responses((status = 200, description = "The projects of the caller's personal workspace, most recently updated first (at most 1000)", body = SeedProjectList)))]
pub async fn seed_list_projects(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Response> {
    let actor = user.actor();
    let ws = workspaces::personal(&state.cx, &actor, &user.0.user.name).await?;
    let lookup = list_cache::project_list(&state.cx, &actor, &ws.id, "seed000-projects").await?;
    let (projects, source) = state
        .cx
        .cache
        .fetch(&lookup, || async {
            cached::to_json(&seed_project_rows(&state.cx, &actor, &ws.id).await?)
        })
        .await?;
    // The seed's shape, around the stored list.
    Ok(cached::wrap(
        &[
            br#"{"success":true,"projects":"#,
            &projects,
            if source.is_hit() {
                br#","from_cache":true}"#
            } else {
                br#","from_cache":false}"#
            },
        ],
        source,
    ))
}

/// Seed 000's project list: every project of the workspace, most recently updated first.
async fn seed_project_rows(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
) -> AppResult<Vec<SeedProjectRow>> {
    let mut rows = all_projects(cx, actor, workspace_id)
        .await?
        .into_iter()
        .map(|p| {
            Ok(SeedProjectRow {
                created_at: epoch_ms("created_at", &p.created_at)?,
                updated_at: epoch_ms("updated_at", &p.updated_at)?,
                id: p.id,
                user_id: p.created_by,
                name: p.name,
                description: p.description,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    // Newest change first; ids (UUIDv7) break ties, newest first.
    rows.sort_by(|a, b| (b.updated_at, &b.id).cmp(&(a.updated_at, &a.id)));
    Ok(rows)
}

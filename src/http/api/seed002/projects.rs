//! Seed 002's project routes: a workspace's projects (cached), create, update (by the team
//! lead or an admin) and add a member, with users named by email.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::shapes::{
    AddedMember, SeedNewProject, SeedProjectChanges, SeedProjectMember, seed_status,
};
use super::{Said, said};
use crate::app::AppState;
use crate::http::api::Success;
use crate::http::api::seed_lists::all_projects;
use crate::http::auth::CurrentUser;
use crate::http::cached;
use crate::http::envelope::ErrorBody;
use crate::http::error::ApiResult;
use crate::http::extract::{LenientJson, Path};
use crate::services::list_cache;
use crate::services::members::UserRef;
use crate::services::projects::{self, Project, ProjectInput};

#[utoipa::path(get, path = "/api/projects/workspace/{workspaceId}/projects", tag = "seed",
    security(("session" = [])),
    params(("workspaceId" = String, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "The workspace's projects the caller may see (at most 1000)", body = Success<Vec<Project>>),
        (status = 404, body = ErrorBody),
    ))]
pub async fn list_workspace_projects(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(workspace_id): Path<String>,
) -> ApiResult<Response> {
    let actor = user.actor();
    let lookup =
        list_cache::project_list(&state.cx, &actor, &workspace_id, "seed002-projects").await?;
    let (data, source) = state
        .cx
        .cache
        .fetch(&lookup, || async {
            cached::to_json(&all_projects(&state.cx, &actor, &workspace_id).await?)
        })
        .await?;
    Ok(cached::envelope(&data, source))
}

#[utoipa::path(post, path = "/api/projects", tag = "seed",
    security(("session" = [])),
    request_body = SeedNewProject,
    responses(
        (status = 201, description = "Project created successfully", body = Said<Project>),
        (status = 403, description = "Not an admin of the workspace", body = ErrorBody),
        (status = 404, description = "No such workspace", body = ErrorBody),
        (status = 422, description = "Bad field, or a lead or member who is not in the workspace", body = ErrorBody),
    ))]
pub async fn create_workspace_project(
    State(state): State<AppState>,
    user: CurrentUser,
    LenientJson(body): LenientJson<SeedNewProject>,
) -> ApiResult<Response> {
    let input = ProjectInput {
        name: body.name.as_deref(),
        description: body.description.as_deref().map(Some),
        status: seed_status(body.status.as_deref()),
        priority: body.priority.as_deref(),
        start_date: body.start_date.as_deref().map(Some),
        end_date: body.end_date.as_deref().map(Some),
        team_lead: body
            .team_lead
            .as_deref()
            .map(|email| Some(UserRef::Email(email))),
        archived: None,
        min_name_chars: 1,
    };
    let members: Vec<UserRef<'_>> = body
        .team_members
        .iter()
        .map(|email| UserRef::Email(email))
        .collect();
    let project = projects::create(
        &state.cx,
        &user.actor(),
        &body.workspace_id,
        input,
        &members,
    )
    .await?;
    Ok(said(
        StatusCode::CREATED,
        "Project created successfully",
        project,
    ))
}

#[utoipa::path(patch, path = "/api/projects/{projectId}", tag = "seed",
    security(("session" = [])),
    params(("projectId" = String, Path, description = "Project id")),
    request_body = SeedProjectChanges,
    responses(
        (status = 200, description = "Project updated successfully", body = Said<Project>),
        (status = 403, description = "Neither the team lead nor an admin", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn update_workspace_project(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(project_id): Path<String>,
    LenientJson(body): LenientJson<SeedProjectChanges>,
) -> ApiResult<Response> {
    let input = ProjectInput {
        name: body.name.as_deref(),
        description: body.description.as_ref().map(|d| d.as_deref()),
        status: seed_status(body.status.as_deref()),
        priority: body.priority.as_deref(),
        start_date: body.start_date.as_ref().map(|d| d.as_deref()),
        end_date: body.end_date.as_ref().map(|d| d.as_deref()),
        team_lead: body
            .team_lead
            .as_ref()
            .map(|l| l.as_deref().map(UserRef::Email)),
        archived: None,
        min_name_chars: 1,
    };
    let project = projects::update(&state.cx, &user.actor(), &project_id, input).await?;
    Ok(said(
        StatusCode::OK,
        "Project updated successfully",
        project,
    ))
}

#[utoipa::path(post, path = "/api/projects/{projectId}/add-member", tag = "seed",
    security(("session" = [])),
    params(("projectId" = String, Path, description = "Project id")),
    request_body = SeedProjectMember,
    responses(
        (status = 200, description = "Member added successfully", body = Said<AddedMember>),
        (status = 403, description = "Neither the team lead nor an admin", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already a member", body = ErrorBody),
        (status = 422, description = "No such user in the workspace", body = ErrorBody),
    ))]
pub async fn add_workspace_project_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(project_id): Path<String>,
    LenientJson(body): LenientJson<SeedProjectMember>,
) -> ApiResult<Response> {
    let member = projects::add_member(
        &state.cx,
        &user.actor(),
        &project_id,
        UserRef::Email(&body.email),
    )
    .await?;
    Ok(said(
        StatusCode::OK,
        "Member added successfully",
        AddedMember {
            user_id: member.user_id,
        },
    ))
}

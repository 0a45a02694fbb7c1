//! Projects, their members and their activity log.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::workspaces::user_ref;
use super::{Deleted, Page, Success};
use crate::app::AppState;
use crate::error::AppError;
use crate::http::auth::CurrentUser;
use crate::http::cached;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path, Query, nullable};
use crate::http::pagination::{PageParams, encode_cursor};
use crate::services::activity::ActivityEvent;
use crate::services::list_cache;
use crate::services::members::UserRef;
use crate::services::projects::{self, Project, ProjectInput, ProjectMember};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, update_project, delete_project))
        .routes(routes!(list_project_members, add_project_member))
        .routes(routes!(remove_project_member))
        .routes(routes!(list_activity))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateProject {
    pub name: String,
    pub description: Option<String>,
    /// PLANNING (default), ACTIVE, ON_HOLD, COMPLETED or CANCELLED.
    #[schema(value_type = Option<crate::domain::enums::ProjectStatus>)]
    pub status: Option<String>,
    /// LOW, MEDIUM (default) or HIGH.
    #[schema(value_type = Option<crate::domain::enums::Priority>)]
    pub priority: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`.
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    /// User id of the team lead (a workspace member); the creator when not given.
    pub team_lead: Option<String>,
    /// User ids of further members (workspace members, no duplicates).
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateProject {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[schema(value_type = Option<crate::domain::enums::ProjectStatus>)]
    pub status: Option<String>,
    #[schema(value_type = Option<crate::domain::enums::Priority>)]
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub start_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub end_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub team_lead: Option<Option<String>>,
    pub archived: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddProjectMember {
    pub email: Option<String>,
    pub user_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityParams {
    /// Events per page, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl ActivityParams {
    /// The event id to continue after (0 for the first page) and the page size.
    pub fn page(self) -> Result<(i64, u32), AppError> {
        let page = PageParams {
            limit: self.limit,
            cursor: self.cursor,
        };
        let after = match page.after()? {
            Some(c) => c
                .parse::<i64>()
                .map_err(|_| AppError::validation("cursor", "is not a valid cursor"))?,
            None => 0,
        };
        Ok((after, page.limit()?))
    }
}

/// A page of events, with the cursor of the next one.
pub fn activity_page(
    (items, next): (Vec<ActivityEvent>, Option<i64>),
) -> Envelope<Page<ActivityEvent>> {
    Envelope::ok(Page {
        items,
        next_cursor: next.map(|n| encode_cursor(&n.to_string())),
    })
}

#[utoipa::path(post, path = "/v1/workspaces/{id}/projects", tag = "projects",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    request_body = CreateProject,
    responses((status = 201, body = Success<Project>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_project(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(workspace_id): Path<String>,
    Json(body): Json<CreateProject>,
) -> ApiResult<Envelope<Project>> {
    let input = ProjectInput {
        name: Some(&body.name),
        description: body.description.as_deref().map(Some),
        status: body.status.as_deref(),
        priority: body.priority.as_deref(),
        start_date: body.start_date.as_deref().map(Some),
        end_date: body.end_date.as_deref().map(Some),
        team_lead: body.team_lead.as_deref().map(|id| Some(UserRef::Id(id))),
        archived: None,
        min_name_chars: 1,
    };
    let members: Vec<UserRef<'_>> = body.members.iter().map(|id| UserRef::Id(id)).collect();
    let project =
        projects::create(&state.cx, &user.actor(), &workspace_id, input, &members).await?;
    Ok(Envelope::created(project))
}

#[utoipa::path(get, path = "/v1/workspaces/{id}/projects", tag = "projects",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id"), PageParams),
    responses((status = 200, description = "Projects the caller may see (served from the cache when `X-Cache: hit`)", body = Success<Page<Project>>), (status = 404, body = ErrorBody)))]
pub async fn list_projects(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(workspace_id): Path<String>,
    Query(page): Query<PageParams>,
) -> ApiResult<Response> {
    let (actor, after, limit) = (user.actor(), page.after()?, page.limit()?);
    let lookup = list_cache::project_list(&state.cx, &actor, &workspace_id, "v1-projects")
        .await?
        .part(after.as_deref())
        .part(limit.to_string().as_str());
    let (data, source) = state
        .cx
        .cache
        .fetch(&lookup, || async {
            let (items, next) =
                projects::list(&state.cx, &actor, &workspace_id, after.as_deref(), limit).await?;
            cached::to_json(&Page::after(items, next))
        })
        .await?;
    Ok(cached::envelope(&data, source))
}

#[utoipa::path(get, path = "/v1/projects/{id}", tag = "projects",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id")),
    responses((status = 200, body = Success<Project>), (status = 404, body = ErrorBody)))]
pub async fn get_project(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Project>> {
    Ok(Envelope::ok(
        projects::get(&state.cx, &user.actor(), &id).await?,
    ))
}

#[utoipa::path(patch, path = "/v1/projects/{id}", tag = "projects",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id")),
    request_body = UpdateProject,
    responses((status = 200, body = Success<Project>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_project(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<UpdateProject>,
) -> ApiResult<Envelope<Project>> {
    let input = ProjectInput {
        name: body.name.as_deref(),
        description: body.description.as_ref().map(|d| d.as_deref()),
        status: body.status.as_deref(),
        priority: body.priority.as_deref(),
        start_date: body.start_date.as_ref().map(|d| d.as_deref()),
        end_date: body.end_date.as_ref().map(|d| d.as_deref()),
        team_lead: body
            .team_lead
            .as_ref()
            .map(|l| l.as_deref().map(UserRef::Id)),
        archived: body.archived,
        min_name_chars: 1,
    };
    Ok(Envelope::ok(
        projects::update(&state.cx, &user.actor(), &id, input).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/projects/{id}", tag = "projects",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id")),
    responses((status = 200, description = "Deleted with its tasks, comments and activity", body = Success<Deleted>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_project(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Deleted>> {
    projects::delete(&state.cx, &user.actor(), &id).await?;
    Ok(Envelope::ok(Deleted::new(id)))
}

#[utoipa::path(get, path = "/v1/projects/{id}/members", tag = "projects",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id"), PageParams),
    responses((status = 200, body = Success<Page<ProjectMember>>), (status = 404, body = ErrorBody)))]
pub async fn list_project_members(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
) -> ApiResult<Envelope<Page<ProjectMember>>> {
    let (items, next) = projects::list_members(
        &state.cx,
        &user.actor(),
        &id,
        page.after()?.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(post, path = "/v1/projects/{id}/members", tag = "projects",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id")),
    request_body = AddProjectMember,
    responses((status = 201, body = Success<ProjectMember>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_project_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<AddProjectMember>,
) -> ApiResult<Envelope<ProjectMember>> {
    let target = user_ref(body.email.as_deref(), body.user_id.as_deref())?;
    Ok(Envelope::created(
        projects::add_member(&state.cx, &user.actor(), &id, target).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/projects/{id}/members/{user_id}", tag = "projects",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id"), ("user_id" = String, Path, description = "Member's user id")),
    responses((status = 200, body = Success<Deleted>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_project_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<Envelope<Deleted>> {
    projects::remove_member(&state.cx, &user.actor(), &id, &user_id).await?;
    Ok(Envelope::ok(Deleted::new(user_id)))
}

#[utoipa::path(get, path = "/v1/projects/{id}/activity", tag = "projects",
    security(("session" = [])),
    params(("id" = String, Path, description = "Project id"), ActivityParams),
    responses((status = 200, description = "Events oldest first", body = Success<Page<ActivityEvent>>), (status = 404, body = ErrorBody)))]
pub async fn list_activity(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(params): Query<ActivityParams>,
) -> ApiResult<Envelope<Page<ActivityEvent>>> {
    let (after, limit) = params.page()?;
    let events = projects::activity(&state.cx, &user.actor(), &id, after, limit).await?;
    Ok(activity_page(events))
}

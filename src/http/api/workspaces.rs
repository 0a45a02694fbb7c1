//! Workspaces and their members.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Deleted, Page, Success};
use crate::app::AppState;
use crate::domain::enums::WorkspaceRole;
use crate::error::AppError;
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path, Query, nullable};
use crate::http::pagination::PageParams;
use crate::services::members::{self, Member, UserRef};
use crate::services::workspaces::{self, NewWorkspace, Workspace, WorkspaceUpdate};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(get_workspace, update_workspace, delete_workspace))
        .routes(routes!(list_members, add_member))
        .routes(routes!(change_member_role, remove_member))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWorkspace {
    pub name: String,
    /// Derived from the name when not given.
    pub slug: Option<String>,
    pub image_url: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateWorkspace {
    pub name: Option<String>,
    pub slug: Option<String>,
    /// `null` clears the image.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub image_url: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddMember {
    /// The user to add, by email…
    pub email: Option<String>,
    /// …or by id.
    pub user_id: Option<String>,
    /// OWNER, ADMIN, MEMBER or VIEWER (case-insensitive); MEMBER when not given.
    #[schema(value_type = Option<crate::domain::enums::WorkspaceRole>)]
    pub role: Option<String>,
    pub custom_role_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangeRole {
    #[schema(value_type = crate::domain::enums::WorkspaceRole)]
    pub role: String,
    pub custom_role_id: Option<String>,
}

/// Parses an optional role, defaulting to MEMBER.
pub fn parse_role(role: Option<&str>) -> Result<WorkspaceRole, AppError> {
    role.map_or(Ok(WorkspaceRole::Member), |r| {
        Ok(WorkspaceRole::parse("role", r)?)
    })
}

/// `{email}` or `{user_id}`, exactly one.
pub fn user_ref<'a>(
    email: Option<&'a str>,
    user_id: Option<&'a str>,
) -> Result<UserRef<'a>, AppError> {
    match (email, user_id) {
        (Some(email), None) => Ok(UserRef::Email(email)),
        (None, Some(id)) => Ok(UserRef::Id(id)),
        _ => Err(AppError::validation(
            "email",
            "give exactly one of email or user_id",
        )),
    }
}

#[utoipa::path(post, path = "/v1/workspaces", tag = "workspaces",
    security(("session" = [])),
    request_body = CreateWorkspace,
    responses(
        (status = 201, description = "Created; the caller is its owner", body = Success<Workspace>),
        (status = 409, description = "Slug taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create_workspace(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<CreateWorkspace>,
) -> ApiResult<Envelope<Workspace>> {
    let input = NewWorkspace {
        name: &body.name,
        slug: body.slug.as_deref(),
        image_url: body.image_url.as_deref(),
    };
    Ok(Envelope::created(
        workspaces::create(&state.cx, &user.actor(), input).await?,
    ))
}

#[utoipa::path(get, path = "/v1/workspaces", tag = "workspaces",
    security(("session" = [])),
    params(PageParams),
    responses((status = 200, description = "The caller's workspaces with their role", body = Success<Page<Workspace>>)))]
pub async fn list_workspaces(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(page): Query<PageParams>,
) -> ApiResult<Envelope<Page<Workspace>>> {
    let (items, next) = workspaces::list_mine(
        &state.cx,
        &user.actor(),
        page.after()?.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(get, path = "/v1/workspaces/{id}", tag = "workspaces",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    responses((status = 200, body = Success<Workspace>), (status = 404, body = ErrorBody)))]
pub async fn get_workspace(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Workspace>> {
    Ok(Envelope::ok(
        workspaces::get(&state.cx, &user.actor(), &id).await?,
    ))
}

#[utoipa::path(patch, path = "/v1/workspaces/{id}", tag = "workspaces",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    request_body = UpdateWorkspace,
    responses((status = 200, body = Success<Workspace>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Another workspace has this slug", body = ErrorBody)))]
pub async fn update_workspace(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<UpdateWorkspace>,
) -> ApiResult<Envelope<Workspace>> {
    let input = WorkspaceUpdate {
        name: body.name.as_deref(),
        slug: body.slug.as_deref(),
        image_url: body.image_url.as_ref().map(|u| u.as_deref()),
    };
    Ok(Envelope::ok(
        workspaces::update(&state.cx, &user.actor(), &id, input).await?,
    ))
}

#[utoipa::path(delete, path = "/v1/workspaces/{id}", tag = "workspaces",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    responses((status = 200, description = "Deleted with everything in it", body = Success<Deleted>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_workspace(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Deleted>> {
    workspaces::delete(&state.cx, &user.actor(), &id).await?;
    Ok(Envelope::ok(Deleted::new(id)))
}

#[utoipa::path(get, path = "/v1/workspaces/{id}/members", tag = "workspaces",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id"), PageParams),
    responses((status = 200, body = Success<Page<Member>>), (status = 404, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
) -> ApiResult<Envelope<Page<Member>>> {
    let (items, next) = members::list(
        &state.cx,
        &user.actor(),
        &id,
        page.after()?.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(post, path = "/v1/workspaces/{id}/members", tag = "workspaces",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    request_body = AddMember,
    responses(
        (status = 201, body = Success<Member>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Already a member", body = ErrorBody),
    ))]
pub async fn add_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<AddMember>,
) -> ApiResult<Envelope<Member>> {
    let target = user_ref(body.email.as_deref(), body.user_id.as_deref())?;
    let role = parse_role(body.role.as_deref())?;
    let member = members::add(
        &state.cx,
        &user.actor(),
        &id,
        target,
        role,
        body.custom_role_id.as_deref(),
    )
    .await?;
    Ok(Envelope::created(member))
}

#[utoipa::path(patch, path = "/v1/workspaces/{id}/members/{user_id}", tag = "workspaces",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id"), ("user_id" = String, Path, description = "Member's user id")),
    request_body = ChangeRole,
    responses(
        (status = 200, body = Success<Member>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Would leave no owner", body = ErrorBody),
    ))]
pub async fn change_member_role(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, user_id)): Path<(String, String)>,
    Json(body): Json<ChangeRole>,
) -> ApiResult<Envelope<Member>> {
    let role = WorkspaceRole::parse("role", &body.role).map_err(AppError::from)?;
    let member = members::change_role(
        &state.cx,
        &user.actor(),
        &id,
        &user_id,
        role,
        body.custom_role_id.as_deref(),
    )
    .await?;
    Ok(Envelope::ok(member))
}

#[utoipa::path(delete, path = "/v1/workspaces/{id}/members/{user_id}", tag = "workspaces",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id"), ("user_id" = String, Path, description = "Member's user id; your own to leave")),
    responses(
        (status = 200, body = Success<Deleted>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Would leave no owner", body = ErrorBody),
    ))]
pub async fn remove_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<Envelope<Deleted>> {
    members::remove(&state.cx, &user.actor(), &id, &user_id).await?;
    Ok(Envelope::ok(Deleted::new(user_id)))
}

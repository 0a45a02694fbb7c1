//! Seed 001's organization routes. An organization is a workspace, and these paths take and
//! answer the v1 shapes in the `{success, data}` envelope, so each handler here only documents
//! the seed's path and calls the v1 handler that serves it. Only the user's organization list
//! is the seed's own: the whole list, for the caller's own id.

use std::borrow::Cow;

use axum::extract::State;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

use crate::app::AppState;
use crate::error::AppError;
use crate::http::api::invitations::{
    CreateInvitation, InvitationAnswer, accept_invitation, create_invitation,
};
use crate::http::api::seed_lists::all_workspaces;
use crate::http::api::workspaces::{
    CreateWorkspace, create_workspace, get_workspace, remove_member,
};
use crate::http::api::{Deleted, Success};
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, LenientJson, Path};
use crate::services::invitations::{Accepted, Invitation};
use crate::services::workspaces::Workspace;

/// The body of `POST /organizations` in the OpenAPI document: [`CreateWorkspace`]'s schema
/// under the seed's name. The handler reads a `CreateWorkspace`.
pub struct CreateOrganization;

impl PartialSchema for CreateOrganization {
    fn schema() -> RefOr<Schema> {
        CreateWorkspace::schema()
    }
}

impl ToSchema for CreateOrganization {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CreateOrganization")
    }
}

#[utoipa::path(post, path = "/organizations", tag = "seed",
    security(("session" = [])),
    request_body = CreateOrganization,
    responses(
        (status = 201, description = "Created; the caller is its owner", body = Success<Workspace>),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn create_organization(
    state: State<AppState>,
    user: CurrentUser,
    LenientJson(body): LenientJson<CreateWorkspace>,
) -> ApiResult<Envelope<Workspace>> {
    create_workspace(state, user, Json(body)).await
}

#[utoipa::path(get, path = "/organizations/{id}", tag = "seed",
    security(("session" = [])),
    params(("id" = String, Path, description = "Organization (workspace) id")),
    responses((status = 200, body = Success<Workspace>), (status = 404, body = ErrorBody)))]
pub async fn get_organization(
    state: State<AppState>,
    user: CurrentUser,
    id: Path<String>,
) -> ApiResult<Envelope<Workspace>> {
    get_workspace(state, user, id).await
}

#[utoipa::path(get, path = "/users/{userId}/organizations", tag = "seed",
    security(("session" = [])),
    params(("userId" = String, Path, description = "Must be the caller's own id")),
    responses(
        (status = 200, description = "All of the caller's organizations, with their role", body = Success<Vec<Workspace>>),
        (status = 403, description = "Another user's id", body = ErrorBody),
    ))]
pub async fn list_user_organizations(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(user_id): Path<String>,
) -> ApiResult<Envelope<Vec<Workspace>>> {
    let actor = user.actor();
    if user_id != actor.user_id {
        return Err(AppError::Forbidden("you can only list your own organizations").into());
    }
    Ok(Envelope::ok(all_workspaces(&state.cx, &actor).await?))
}

#[utoipa::path(post, path = "/organizations/{id}/invitations", tag = "seed",
    security(("session" = [])),
    params(("id" = String, Path, description = "Organization (workspace) id")),
    request_body = CreateInvitation,
    responses(
        (status = 201, description = "Created; the invited address receives the accept link by email", body = Success<Invitation>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn invite_to_organization(
    state: State<AppState>,
    user: CurrentUser,
    id: Path<String>,
    LenientJson(body): LenientJson<CreateInvitation>,
) -> ApiResult<Envelope<Invitation>> {
    create_invitation(state, user, id, Json(body)).await
}

#[utoipa::path(post, path = "/invitations/{id}/accept", tag = "seed",
    security(("session" = [])),
    params(("id" = String, Path, description = "Invitation id")),
    request_body = InvitationAnswer,
    responses(
        (status = 200, description = "Accepted; the caller is now a member", body = Success<Accepted>),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
    ))]
pub async fn accept_organization_invitation(
    state: State<AppState>,
    user: CurrentUser,
    id: Path<String>,
    LenientJson(body): LenientJson<InvitationAnswer>,
) -> ApiResult<Envelope<Accepted>> {
    accept_invitation(state, user, id, Json(body)).await
}

#[utoipa::path(delete, path = "/organizations/{id}/members/{userId}", tag = "seed",
    security(("session" = [])),
    params(
        ("id" = String, Path, description = "Organization (workspace) id"),
        ("userId" = String, Path, description = "Member's user id; your own to leave"),
    ),
    responses(
        (status = 200, body = Success<Deleted>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Would leave no owner", body = ErrorBody),
    ))]
pub async fn remove_organization_member(
    state: State<AppState>,
    user: CurrentUser,
    ids: Path<(String, String)>,
) -> ApiResult<Envelope<Deleted>> {
    remove_member(state, user, ids).await
}

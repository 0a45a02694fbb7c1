//! Seed 001's organization routes, as thin adapters over the workspace, member and invitation
//! services. An organization is a workspace; answers use the `{success, data}` envelope.

use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::AppError;
use crate::http::api::invitations::{CreateInvitation, InvitationAnswer, create_in};
use crate::http::api::seed_lists::all_workspaces;
use crate::http::api::{Deleted, Success};
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path};
use crate::services::invitations::{self, Accepted, Invitation};
use crate::services::members;
use crate::services::workspaces::{self, NewWorkspace, Workspace};

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateOrganization {
    pub name: String,
    /// Derived from the name when not given.
    pub slug: Option<String>,
    pub image_url: Option<String>,
}

#[utoipa::path(post, path = "/organizations", tag = "seed",
    security(("session" = [])),
    request_body = CreateOrganization,
    responses(
        (status = 201, description = "Created; the caller is its owner", body = Success<Workspace>),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn create_organization(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<CreateOrganization>,
) -> ApiResult<Envelope<Workspace>> {
    let input = NewWorkspace {
        name: &body.name,
        slug: body.slug.as_deref(),
        image_url: body.image_url.as_deref(),
    };
    Ok(Envelope::created(
        workspaces::create(&state.db, &user.actor(), input).await?,
    ))
}

#[utoipa::path(get, path = "/organizations/{id}", tag = "seed",
    security(("session" = [])),
    params(("id" = String, Path, description = "Organization (workspace) id")),
    responses((status = 200, body = Success<Workspace>), (status = 404, body = ErrorBody)))]
pub async fn get_organization(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Workspace>> {
    Ok(Envelope::ok(
        workspaces::get(&state.db, &user.actor(), &id).await?,
    ))
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
    Ok(Envelope::ok(all_workspaces(&state.db, &actor).await?))
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
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<CreateInvitation>,
) -> ApiResult<Envelope<Invitation>> {
    Ok(Envelope::created(
        create_in(&state, &user, &id, &body).await?,
    ))
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
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<InvitationAnswer>,
) -> ApiResult<Envelope<Accepted>> {
    Ok(Envelope::ok(
        invitations::accept(&state.db, &user.actor(), &id, &body.token).await?,
    ))
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
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<Envelope<Deleted>> {
    members::remove(&state.db, &user.actor(), &id, &user_id).await?;
    Ok(Envelope::ok(Deleted::new(user_id)))
}

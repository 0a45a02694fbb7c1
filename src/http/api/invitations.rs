//! Invitations: created and listed under their workspace, revoked, accepted and rejected by id,
//! and the signed-in user's own pending ones.

use axum::extract::State;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::workspaces::parse_role;
use super::{Page, Success};
use crate::app::AppState;
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::{Json, Path, Query};
use crate::http::pagination::PageParams;
use crate::services::invitations::{self, Accepted, Invitation, NewInvitationInput};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitations, create_invitation))
        .routes(routes!(list_my_invitations))
        .routes(routes!(revoke_invitation))
        .routes(routes!(accept_invitation))
        .routes(routes!(reject_invitation))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateInvitation {
    pub email: String,
    /// ADMIN, MEMBER or VIEWER (case-insensitive), at most the inviter's own; MEMBER when not
    /// given. OWNER cannot be invited.
    pub role: Option<String>,
    pub custom_role_id: Option<String>,
    /// At most 1000 characters.
    pub message: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationFilter {
    /// PENDING, ACCEPTED, REJECTED, REVOKED or EXPIRED; all when not given.
    pub status: Option<String>,
}

#[utoipa::path(post, path = "/v1/workspaces/{id}/invitations", tag = "invitations",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id")),
    request_body = CreateInvitation,
    responses(
        (status = 201, description = "Created; the invited address receives the accept link by email", body = Success<Invitation>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`already_member` or `invitation_exists`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create_invitation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<CreateInvitation>,
) -> ApiResult<Envelope<Invitation>> {
    let input = NewInvitationInput {
        email: &body.email,
        role: parse_role(body.role.as_deref())?,
        custom_role_id: body.custom_role_id.as_deref(),
        message: body.message.as_deref(),
    };
    let invitation = invitations::create(
        &state.cx,
        &user.actor(),
        &id,
        input,
        state.config.auth.invitation_ttl,
    )
    .await?;
    Ok(Envelope::created(invitation))
}

#[utoipa::path(get, path = "/v1/workspaces/{id}/invitations", tag = "invitations",
    security(("session" = [])),
    params(("id" = String, Path, description = "Workspace id"), PageParams, InvitationFilter),
    responses(
        (status = 200, body = Success<Page<Invitation>>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn list_invitations(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(page): Query<PageParams>,
    Query(filter): Query<InvitationFilter>,
) -> ApiResult<Envelope<Page<Invitation>>> {
    let status = invitations::parse_status_filter(filter.status.as_deref())?;
    let (items, next) = invitations::list_for_workspace(
        &state.cx,
        &user.actor(),
        &id,
        status,
        page.after()?.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(get, path = "/v1/invitations", tag = "invitations",
    security(("session" = [])),
    params(PageParams),
    responses((status = 200, description = "The caller's pending invitations, in every workspace", body = Success<Page<Invitation>>)))]
pub async fn list_my_invitations(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(page): Query<PageParams>,
) -> ApiResult<Envelope<Page<Invitation>>> {
    let (items, next) = invitations::list_mine(
        &state.cx,
        &user.actor(),
        page.after()?.as_deref(),
        page.limit()?,
    )
    .await?;
    Ok(Envelope::ok(Page::after(items, next)))
}

#[utoipa::path(delete, path = "/v1/invitations/{id}", tag = "invitations",
    security(("session" = [])),
    params(("id" = String, Path, description = "Invitation id")),
    responses(
        (status = 200, description = "Revoked", body = Success<Invitation>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`invitation_not_pending`", body = ErrorBody),
    ))]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Envelope<Invitation>> {
    Ok(Envelope::ok(
        invitations::revoke(&state.cx, &user.actor(), &id).await?,
    ))
}

#[utoipa::path(post, path = "/v1/invitations/{id}/accept", tag = "invitations",
    security(("session" = [])),
    params(("id" = String, Path, description = "Invitation id")),
    request_body = InvitationAnswer,
    responses(
        (status = 200, description = "Accepted; the caller is now a member", body = Success<Accepted>),
        (status = 404, description = "No such invitation for the caller's email and token", body = ErrorBody),
        (status = 409, description = "`invitation_not_pending`, `invitation_expired` or `already_member`", body = ErrorBody),
    ))]
pub async fn accept_invitation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<InvitationAnswer>,
) -> ApiResult<Envelope<Accepted>> {
    Ok(Envelope::ok(
        invitations::accept(&state.cx, &user.actor(), &id, &body.token).await?,
    ))
}

/// The answer to an invitation carries the token from the invitation email: it proves the
/// caller owns the invited address.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InvitationAnswer {
    pub token: String,
}

#[utoipa::path(post, path = "/v1/invitations/{id}/reject", tag = "invitations",
    security(("session" = [])),
    params(("id" = String, Path, description = "Invitation id")),
    request_body = InvitationAnswer,
    responses(
        (status = 200, description = "Rejected", body = Success<Invitation>),
        (status = 404, description = "No such invitation for the caller's email and token", body = ErrorBody),
        (status = 409, description = "`invitation_not_pending` or `invitation_expired`", body = ErrorBody),
    ))]
pub async fn reject_invitation(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<InvitationAnswer>,
) -> ApiResult<Envelope<Invitation>> {
    Ok(Envelope::ok(
        invitations::reject(&state.cx, &user.actor(), &id, &body.token).await?,
    ))
}

//! Seed 002's workspace routes: `GET /api/workspace` (every workspace of the caller, as a plain
//! array) and `POST /api/workspace/add-member` (adds an existing user directly; admins only),
//! which answers `{success, message, data}` like the seed.

use axum::Json as RawJson;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::FieldError;
use crate::error::AppError;
use crate::http::api::Success;
use crate::http::api::seed_lists::all_workspaces;
use crate::http::api::workspaces::parse_role;
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::LenientJson;
use crate::services::invitations::MAX_MESSAGE_CHARS;
use crate::services::members::{self, Member, UserRef};
use crate::services::workspaces::Workspace;

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedAddMember {
    pub email: String,
    /// ADMIN or MEMBER (also VIEWER; case-insensitive); MEMBER when not given.
    pub role: Option<String>,
    #[serde(rename = "workspaceId")]
    pub workspace_id: String,
    /// Accepted for the seed's clients (at most 1000 characters); a direct add sends no mail.
    pub message: Option<String>,
}

/// The seed's success answer with a top-level message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberAdded {
    pub success: bool,
    pub message: String,
    pub data: Member,
}

#[utoipa::path(get, path = "/api/workspace", tag = "seed",
    security(("session" = [])),
    responses((status = 200, description = "Every workspace the caller belongs to", body = Success<Vec<Workspace>>)))]
pub async fn list_seed_workspaces(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Envelope<Vec<Workspace>>> {
    Ok(Envelope::ok(
        all_workspaces(&state.cx, &user.actor()).await?,
    ))
}

#[utoipa::path(post, path = "/api/workspace/add-member", tag = "seed",
    security(("session" = [])),
    request_body = SeedAddMember,
    responses(
        (status = 200, description = "Member added", body = MemberAdded),
        (status = 403, description = "Not an admin of the workspace", body = ErrorBody),
        (status = 404, description = "No such workspace or user", body = ErrorBody),
        (status = 409, description = "Already a member", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn seed_add_member(
    State(state): State<AppState>,
    user: CurrentUser,
    LenientJson(body): LenientJson<SeedAddMember>,
) -> ApiResult<Response> {
    if body
        .message
        .as_deref()
        .is_some_and(|m| m.trim().chars().count() > MAX_MESSAGE_CHARS)
    {
        return Err(AppError::from(FieldError::new(
            "message",
            "must be at most 1000 characters",
        ))
        .into());
    }
    let role = parse_role(body.role.as_deref())?;
    let member = members::add(
        &state.cx,
        &user.actor(),
        &body.workspace_id,
        UserRef::Email(&body.email),
        role,
        None,
    )
    .await?;
    Ok(RawJson(MemberAdded {
        success: true,
        message: "Member added successfully".into(),
        data: member,
    })
    .into_response())
}

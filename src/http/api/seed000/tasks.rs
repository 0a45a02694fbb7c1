//! Seed 000's `POST /api/create-task`: a task at the end of the project's board, with the
//! seed's inline base64 attachment stored as the task's first attachment.

use axum::Json as RawJson;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::fields::{due_date, due_date_schema, seed_file};
use crate::app::AppState;
use crate::error::AppError;
use crate::http::api::attachments::{SEED_ATTACHMENT_MAX_BYTES, UploadFailure, files};
use crate::http::auth::CurrentUser;
use crate::http::envelope::ErrorBody;
use crate::http::extract::LenientJson;
use crate::services::attachments;
use crate::services::tasks::{self, TaskInput};

#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedCreateTask {
    #[serde(rename = "projectId")]
    pub project_id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// A project member's user id.
    #[serde(rename = "assignedTo")]
    pub assigned_to: Option<String>,
    #[serde(rename = "dueDate")]
    #[schema(schema_with = due_date_schema)]
    pub due_date: Option<Value>,
    /// A file to attach (at most 10 MiB, and at most `KANRI_MAX_UPLOAD_BYTES`).
    pub attachment: Option<SeedAttachment>,
}

/// The seed's inline file. Attached only when both `file_base64` and `filename` are given.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SeedAttachment {
    /// Standard base64, optionally as a `data:…;base64,` URL.
    pub file_base64: Option<String>,
    pub filename: Option<String>,
    /// Ignored: the type is sniffed from the bytes.
    pub content_type: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedTask {
    pub id: String,
    #[serde(rename = "projectId")]
    pub project_id: String,
    pub title: String,
    /// Lower-case, as the seed shows it (`todo`).
    pub status: String,
    /// A link to the task's first attachment that opens without a session, like the seed's
    /// storage URL (signed, valid for ten years or until the file is deleted; the session
    /// link `/v1/attachments/{id}/download` on a server without a signing key), or `null`.
    #[serde(rename = "attachmentUrl")]
    pub attachment_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeedTaskCreated {
    pub success: bool,
    pub task: SeedTask,
}

#[utoipa::path(post, path = "/api/create-task", tag = "seed",
    security(("session" = [])),
    request_body = SeedCreateTask,
    responses(
        (status = 200, description = "Created at the end of the project's board", body = SeedTaskCreated),
        (status = 404, description = "No project the caller may create tasks in", body = ErrorBody),
        (status = 413, description = "The attachment is too large", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn seed_create_task(
    State(state): State<AppState>,
    user: CurrentUser,
    LenientJson(body): LenientJson<SeedCreateTask>,
) -> Result<RawJson<SeedTaskCreated>, UploadFailure> {
    let due = due_date(body.due_date.as_ref())?;
    // Decoded before the task exists, so a bad or oversized file creates nothing.
    let limit = state
        .config
        .storage
        .max_upload_bytes
        .min(SEED_ATTACHMENT_MAX_BYTES);
    let file = match &body.attachment {
        Some(SeedAttachment {
            file_base64: Some(data),
            filename: Some(name),
            ..
        }) => Some((seed_file(data, limit)?, name.as_str())),
        _ => None,
    };
    let input = TaskInput {
        title: body.title.as_deref(),
        description: body.description.as_deref().map(Some),
        assignee_id: body.assigned_to.as_deref().map(Some),
        due_date: due.as_deref().map(Some),
        ..TaskInput::default()
    };
    // The seed answers "Project not found or access denied" alike: a project the caller may
    // see but not add tasks to is not found here too.
    let task = tasks::create(&state.cx, &user.actor(), &body.project_id, input)
        .await
        .map_err(|e| match e {
            AppError::Forbidden(_) => AppError::NotFound("project"),
            e => e,
        })?;
    let files = files(&state);
    if let Some((bytes, name)) = file {
        let once = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes)]);
        attachments::upload_capped(files, &user.actor(), &task.id, Some(name), once, limit).await?;
    }
    let first = attachments::first_of_task(files, &user.actor(), &task.id).await?;
    Ok(RawJson(SeedTaskCreated {
        success: true,
        task: SeedTask {
            id: task.id,
            project_id: task.project_id,
            title: task.title,
            status: task.status.as_str().to_ascii_lowercase(),
            attachment_url: first.map(|a| attachments::lasting_url(files, &a)),
        },
    }))
}

//! `POST /v1/tasks/{id}/attachments`: the file of a multipart form, streamed to storage and
//! counted against `KANRI_MAX_UPLOAD_BYTES` as it arrives.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_LENGTH;
use futures_util::TryStreamExt;
use utoipa::ToSchema;

use super::{MULTIPART_OVERHEAD, UploadFailure, files};
use crate::app::AppState;
use crate::error::AppError;
use crate::http::api::Success;
use crate::http::auth::CurrentUser;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiError;
use crate::http::extract::Path;
use crate::services::attachments::{self, Attachment, UploadError};

/// Fields read before the `file` field; more is not a form we sent.
const MAX_FIELDS: usize = 16;

/// The form the upload reads. Only documents it: the handler streams the `file` field to
/// storage instead of decoding the form into this.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file's bytes, with its name in the part's `filename`; its type is sniffed from the
    /// bytes. Other fields are ignored.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(post, path = "/v1/tasks/{id}/attachments", tag = "attachments",
    security(("session" = [])),
    params(("id" = String, Path, description = "Task id")),
    request_body(content = UploadForm, content_type = "multipart/form-data", description = "The file in a field named `file`"),
    responses((status = 201, body = Success<Attachment>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, description = "Larger than KANRI_MAX_UPLOAD_BYTES", body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(task_id): Path<String>,
    request: Request,
) -> Result<Envelope<Attachment>, UploadFailure> {
    let limit = state.config.storage.max_upload_bytes;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit + MULTIPART_OVERHEAD) {
        return Err(UploadFailure::TooLarge(limit));
    }
    let request = request.map(|body| {
        Body::new(http_body_util::Limited::new(
            body,
            usize::try_from(limit + MULTIPART_OVERHEAD).unwrap_or(usize::MAX),
        ))
    });
    let mut multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|_| {
            ApiError::Status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected Content-Type: multipart/form-data",
            )
        })?;
    // The body as a whole outgrew the limit (fields besides the file): also a 413.
    let overflow = Arc::new(AtomicBool::new(false));
    for _ in 0..MAX_FIELDS {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(UploadFailure::TooLarge(limit));
            }
            Err(e) => return Err(AppError::validation("file", e.body_text()).into()),
        };
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().map(str::to_string);
        let seen = overflow.clone();
        let body = field.map_err(move |e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                seen.store(true, Ordering::Relaxed);
            }
            e.body_text()
        });
        let actor = user.actor();
        let result =
            attachments::upload(files(&state), &actor, &task_id, filename.as_deref(), body).await;
        return match result {
            Ok(attachment) => Ok(Envelope::created(attachment)),
            Err(_) if overflow.load(Ordering::Relaxed) => Err(UploadFailure::TooLarge(limit)),
            Err(UploadError::TooLarge(limit)) => {
                drain(&mut multipart).await;
                Err(UploadFailure::TooLarge(limit))
            }
            Err(e) => Err(e.into()),
        };
    }
    Err(AppError::validation(
        "file",
        "is required: send the file in a multipart field named `file`",
    )
    .into())
}

/// Reads what is left of a refused upload (at most the body limit), so the client, still
/// sending, reads our 413 instead of a reset connection.
async fn drain(multipart: &mut Multipart) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}
